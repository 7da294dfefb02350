#!/usr/bin/env bash
# The outer figures (issue 16): memory and calls of outermost calls only, a
# call nested inside a call of the same function adding nothing.  On the
# mem target in every debug variant: recurse() is called as recurse(20)
# and recurse(5), a call at depth d growing RSS by d pages, so its memory
# is 225 pages over 25 calls and its outer figures 25 pages over 2 calls;
# every other exact function recurses nowhere, its outer figures equal to
# its memory and calls.  The same numbers in the table (--columns=outer),
# JSON, CSV, and in 'iprofmem report' of a record.
. "$(dirname "$0")/lib.sh"

OUTER_HEAD='Memory (MB)   Calls  Outer (MB)  Outer calls  File:Line:Function'

# outer_expect FUNC OPT: "PAGES CALLS OUTER_PAGES OUTER_CALLS".
outer_expect() {
	local pc
	pc=$(mem_expect "$1" "$2")
	case $1 in
	recurse)	echo "$pc 25 2" ;;
	*)		echo "$pc $pc" ;;
	esac
}

# csv_fields KEY FILE: "memory_bytes calls outer_bytes outer_calls" of the
# row of KEY (file:line:function) in a CSV file.
csv_fields() {
	awk -F, -v k="$1" '$2 ":" $3 ":" $4 == k { print $5, $7, $11, $12 }' "$2"
}

for v in $DEBUG_VARIANTS; do
	bin=$TGT/mem.$v
	opt=${v%%-*}

	tc "outer.$v: CSV outer_bytes, outer_calls exact"
	if need_file "$bin"; then
		run_ip --format=csv --record="$WORK/rec" -- "$bin" "$MARK"
		expect_exit 0
		cp "$ERR" "$WORK/csv"
		[ "$(head -n1 "$WORK/csv")" = "pid,file,line,function,memory_bytes,memory_mb,calls,total_calls,self_bytes,peak_bytes,outer_bytes,outer_calls" ] ||
			fail "CSV header '$(head -n1 "$WORK/csv")'"
		for f in $MEM_FUNCS_blocks $MEM_FUNCS_recursion $MEM_FUNCS_tail \
			 $MEM_FUNCS_multiret $MEM_FUNCS_release $MEM_FUNCS_run; do
			set -- $(outer_expect "$f" "$opt")
			want="$(($1 * 4096)) $2 $(($3 * 4096)) $4"
			got=$(csv_fields "$(mem_key "$f")" "$WORK/csv")
			[ "$got" = "$want" ] || fail "$f: '$got', want '$want'"
		done
		[ ${#TC_ERRS[@]} -ne 0 ] && note_file "$WORK/csv"
	fi
	tc_end

	tc "outer.$v: table --columns=outer, the recurse row"
	if need_file "$WORK/rec"; then
		run_ip report --columns=outer "$WORK/rec"
		expect_exit 0
		[ "$(head -n1 "$ERR")" = "$OUTER_HEAD" ] || fail "header '$(head -n1 "$ERR")'"
		want="$(mb_field 225)  $(printf '%7d' 25)  $(mb_field 25)  $(printf '%11d' 2)  $(mem_key recurse)"
		grep -qxF -- "$want" "$ERR" || { fail "no line '$want'"; note_file "$ERR"; }
	fi
	tc_end

	tc "outer.$v: JSON and the record's CSV agree with the live CSV"
	if need_file "$WORK/rec"; then
		run_ip report --format=csv "$WORK/rec"
		cmp -s "$ERR" "$WORK/csv" || fail "the record's CSV differs from the live one"
		run_ip report --format=json "$WORK/rec"
		python3 - "$ERR" "$(mem_key recurse)" >"$WORK/py" 2>&1 <<'EOF' || { fail "JSON: $(head -n1 "$WORK/py")"; }
import json, sys
doc = json.load(open(sys.argv[1]))
fs = [f for f in doc["processes"][0]["functions"]
      if "%s:%d:%s" % (f["file"], f["line"], f["name"]) == sys.argv[2]]
assert len(fs) == 1, "no recurse function"
f = fs[0]
got = (f["memory_bytes"], f["calls"], f["outer_bytes"], f["outer_calls"])
assert got == (225 * 4096, 25, 25 * 4096, 2), "recurse: %r" % (got,)
EOF
	fi
	tc_end
	rm -f "$WORK/rec"
done

[ $N_FAILED -eq 0 ]

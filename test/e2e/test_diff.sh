#!/usr/bin/env bash
# iprofmem diff and budgets, on records of two versions of one program
# (test/targets/regress/regress.c built as regress.v1 and regress.v2, whose
# pages per function are known; v2 moves every function below steady down
# with a #line directive, as an edit above them would):
#  - the diff table, exact, on stderr and with -o; CSV, JSON; --min, --top;
#  - functions matched by file and name though their lines moved; a
#    rename and functions in one version only, with the other side blank;
#  - a record diffed against a second run of the same version: all +0;
#  - --fail-above and --budget (report and diff): passing (0) and failing
#    (3, one line per function, exact);
#  - malformed budget files: one line naming file and line, status 125;
#  - -f --per-process records: a table per process pair, labelled;
#  - what diff refuses: one file, a non-record, views it has not.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"	# need_python

SRC=$SRCDIR/regress/regress.c
V1=$TGT/regress.v1
V2=$TGT/regress.v2
FUNCS=$WORK/funcs
printf '%s\n' steady grows shrinks old_name new_name only_v1 only_v2 idle >"$FUNCS"

# line FUNC VERSION: FUNC's declaration line in that version.  In v2 the
# line after '#line 300' is 300.
line() {
	local l d
	l=$(grep -n -m1 "^$1(" "$SRC" | cut -d: -f1)
	d=$(grep -n -m1 '^#line 300$' "$SRC" | cut -d: -f1)
	if [ "$2" = v2 ] && [ "$l" -gt "$d" ]; then
		l=$((300 + l - d - 1))
	fi
	printf '%s' "$l"
}
# key FUNC VERSION [SOURCE]: its key, SOURCE the source file's path.
key() { printf '%s:%s:%s' "${3:-$SRC}" "$(line "$1" "$2")" "$1"; }

# The functions: NAME V1_PAGES V1_CALLS V2_PAGES V2_CALLS ('-': absent),
# in the diff's order (ascending change).
DIFF_TABLE="old_name 5 1 - -
shrinks 6 1 2 1
only_v1 2 1 - -
steady 3 1 3 1
new_name - - 5 1
only_v2 - - 7 1
grows 4 2 20 2"

DHEAD='   Old (MB)    Calls     New (MB)    Calls   Change (MB)  File:Line:Function'
DRULE=$(printf '%*s' ${#DHEAD} '' | tr ' ' -)

# diff_row OP OC NP NC KEY: the exact row ('-' for a blank side).
diff_row() {
	awk -v op="$1" -v oc="$2" -v np="$3" -v nc="$4" -v k="$5" 'BEGIN {
		if (op == "-") printf "%11s  %7s", "", ""; else printf "%11.4g  %7d", op / 256, oc
		printf "  "
		if (np == "-") printf "%11s  %7s", "", ""; else printf "%11.4g  %7d", np / 256, nc
		printf "  %+12.4g  %s\n", ((np == "-" ? 0 : np) - (op == "-" ? 0 : op)) / 256, k
	}'
}

# want_diff [NAME...]: the expected table of DIFF_TABLE's rows (those
# named, when names are given).  NEW_SRC: the new build's source path.
NEW_SRC=$SRC
want_diff() {
	local f op oc np nc k
	echo "$DHEAD"
	echo "$DRULE"
	while read -r f op oc np nc; do
		[ $# -gt 0 ] && [[ " $* " != *" $f "* ]] && continue
		if [ "$np" = - ]; then k=$(key "$f" v1); else k=$(key "$f" v2 "$NEW_SRC"); fi
		diff_row "$op" "$oc" "$np" "$nc" "$k"
	done <<<"$DIFF_TABLE"
	echo "$DRULE"
	echo "$DHEAD"
}

# expect_file_is FILE TEXT WHAT
expect_file_is() {
	if [ "$(cat "$1")" != "$2" ]; then
		fail "$3 differs"
		note "$(diff <(printf '%s\n' "$2") "$1" | head -n 20)"
	fi
}

D=$WORK/rec
mkdir -p "$D"

tc "regress v1 and v2: --record writes both records, exit 0"
ok=0
if need_file "$V1" "$V2"; then
	run_ip --funcs="$FUNCS" -o "$D/t1" --record="$D/v1" -- "$V1" "$MARK"
	expect_exit 0
	r1=$RC
	run_ip --funcs="$FUNCS" -o "$D/t2" --record="$D/v2" -- "$V2" "$MARK"
	expect_exit 0
	run_ip --funcs="$FUNCS" -o "$D/t1b" --record="$D/v1b" -- "$V1" "$MARK"
	expect_exit 0
	[ "$r1" = 0 ] && [ "$RC" = 0 ] && [ -s "$D/v1" ] && [ -s "$D/v2" ] && [ -s "$D/v1b" ] && ok=1
fi
tc_end

tc "diff v1 v2: the exact table on stderr; moved lines matched, rename two rows, blank sides"
if [ $ok = 1 ]; then
	run_ip diff "$D/v1" "$D/v2"
	expect_exit 0
	[ -s "$OUT" ] && fail "stdout not empty"
	expect_file_is "$ERR" "$(want_diff)" "the diff"
fi
tc_end

tc "diff v1 v2-tree (v2 built in another directory): matched by base name, the same table"
if [ $ok = 1 ] && need_file "$TGT/regress.v2-tree"; then
	run_ip --funcs="$FUNCS" -o "$D/t3" --record="$D/v2t" -- "$TGT/regress.v2-tree" "$MARK"
	expect_exit 0
	run_ip diff "$D/v1" "$D/v2t"
	expect_exit 0
	# the key names the source where it was built (build/targets), not
	# the copy of the targets the suite runs
	NEW_SRC=$TOP/build/targets/regress-tree/regress.c
	expect_file_is "$ERR" "$(want_diff)" "the diff across trees"
	NEW_SRC=$SRC
fi
tc_end

tc "diff -o FILE v1 v2: the same table in FILE, nothing on stderr"
if [ $ok = 1 ]; then
	run_ip diff -o "$D/diff" "$D/v1" "$D/v2"
	expect_exit 0
	[ -s "$ERR" ] && fail "stderr: '$(head -n1 "$ERR")'"
	expect_file_is "$D/diff" "$(want_diff)" "the diff in FILE"
fi
tc_end

tc "diff --min=0.02 / --top=2 / --min=0.02 --top=1: the rows above, the last ones"
if [ $ok = 1 ]; then
	run_ip diff --min=0.02 "$D/v1" "$D/v2"
	expect_exit 0
	expect_file_is "$ERR" "$(want_diff only_v2 grows)" "--min=0.02"
	run_ip diff --top=2 "$D/v1" "$D/v2"
	expect_file_is "$ERR" "$(want_diff only_v2 grows)" "--top=2"
	run_ip diff --top=1 --min=0.02 "$D/v1" "$D/v2"
	expect_file_is "$ERR" "$(want_diff grows)" "--top=1 --min=0.02"
	run_ip diff --min=1 "$D/v1" "$D/v2"
	expect_file_is "$ERR" "$(printf '%s\n%s\n%s\n%s\n%s' "$DHEAD" "$DRULE" \
		"No function's memory changed by more than 1 MB." "$DRULE" "$DHEAD")" "--min=1"
fi
tc_end

tc "diff --format=csv: one exact line per function"
if [ $ok = 1 ]; then
	run_ip diff --format=csv "$D/v1" "$D/v2"
	expect_exit 0
	want=$(echo "old_pid,new_pid,file,line,function,old_memory_bytes,old_calls,new_memory_bytes,new_calls,change_bytes,change_mb"
		while read -r f op oc np nc; do
			if [ "$np" = - ]; then l=$(line "$f" v1); else l=$(line "$f" v2); fi
			awk -v f="$f" -v l="$l" -v s="$SRC" -v op="$op" -v oc="$oc" -v np="$np" -v nc="$nc" 'BEGIN {
				printf "0,0,%s,%s,%s,", s, l, f
				if (op == "-") printf ",,"; else printf "%d,%d,", op * 4096, oc
				if (np == "-") printf ",,"; else printf "%d,%d,", np * 4096, nc
				c = (np == "-" ? 0 : np) - (op == "-" ? 0 : op)
				printf "%d,%.6f\n", c * 4096, c / 256 }'
		done <<<"$DIFF_TABLE")
	expect_file_is "$ERR" "$want" "the CSV"
fi
tc_end

tc "diff --format=json: valid, every function with old, new (null when absent) and change"
if [ $ok = 1 ] && need_python; then
	run_ip diff --format=json -o "$D/json" "$D/v1" "$D/v2"
	expect_exit 0
	got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "iprofmem-diff" and d["version"] == 1
(p,) = d["processes"]
assert p["old_pid"] == 0 and p["new_pid"] == 0
for f in p["functions"]:
    side = lambda s: "- -" if s is None else "%d %d" % (s["memory_bytes"] // 4096, s["calls"])
    assert f["file"] == sys.argv[2]
    print(f["name"], side(f["old"]), side(f["new"]), f["line"], f["change_bytes"] // 4096)' "$D/json" "$SRC" 2>&1)
	want=$(while read -r f op oc np nc; do
		if [ "$np" = - ]; then l=$(line "$f" v1); else l=$(line "$f" v2); fi
		echo "$f $op $oc $np $nc $l $(( ${np/-/0} - ${op/-/0} ))"
	done <<<"$DIFF_TABLE")
	[ "$got" = "$want" ] || { fail "the JSON's functions differ"; note "$got"; }
fi
tc_end

tc "diff v1 v1 (two runs of one version): every change +0; --fail-above=0 passes"
if [ $ok = 1 ]; then
	run_ip diff --fail-above=0 "$D/v1" "$D/v1b"
	expect_exit 0
	want=$(echo "$DHEAD"; echo "$DRULE"
		for f in steady grows shrinks old_name only_v1; do	# ties: by line
			case $f in
			only_v1) p=2 c=1 ;; steady) p=3 c=1 ;; grows) p=4 c=2 ;;
			old_name) p=5 c=1 ;; shrinks) p=6 c=1 ;;
			esac
			diff_row $p $c $p $c "$(key $f v1)"
		done
		echo "$DRULE"; echo "$DHEAD")
	expect_file_is "$ERR" "$want" "the diff of one version"
fi
tc_end

# --------------------------------------------------------------- budgets

tc "diff --fail-above=0.05: grows (+0.0625 MB) fails, one line, exit 3, table written"
if [ $ok = 1 ]; then
	run_ip diff --fail-above=0.05 -o "$D/fa" "$D/v1" "$D/v2"
	expect_exit 3
	expect_file_is "$ERR" "iprofmem: over budget: $(key grows v2) grew by 0.0625 MB, more than --fail-above=0.05 by 0.0125 MB" "stderr"
	expect_file_is "$D/fa" "$(want_diff)" "the diff in FILE"
fi
tc_end

tc "diff --fail-above=0.02: two functions fail, a line each, after the table"
if [ $ok = 1 ]; then
	run_ip diff --fail-above=0.02 "$D/v1" "$D/v2"
	expect_exit 3
	# new_name grew 0.01953 MB: not above 0.02; only_v2 and grows are
	expect_file_is "$ERR" "$(want_diff)
iprofmem: over budget: $(key only_v2 v2) grew by 0.02734 MB, more than --fail-above=0.02 by 0.007344 MB
iprofmem: over budget: $(key grows v2) grew by 0.0625 MB, more than --fail-above=0.02 by 0.0425 MB" "stderr"
fi
tc_end

tc "diff --fail-above=0.0625 (exactly the growth): passes, exit 0"
if [ $ok = 1 ]; then
	run_ip diff --fail-above=0.0625 -o "$D/fa2" "$D/v1" "$D/v2"
	expect_exit 0
	[ -s "$ERR" ] && fail "stderr: '$(head -n1 "$ERR")'"
fi
tc_end

B=$WORK/budgets
mkdir -p "$B"
cat >"$B/pass" <<'EOF'
# per-function ceilings, MB (v2: grows uses 0.078125)
grows      0.08   # 20 pages
regress.c:only_*   0.03
*          0.05
EOF
cat >"$B/fail" <<'EOF'
# the first line that matches counts
grows      0.07
regress.c:only_*   0.02
*          1
EOF

tc "report --budget: within budget exits 0; over budget exits 3, a line per function"
if [ $ok = 1 ]; then
	run_ip report --budget="$B/pass" -o "$D/rb" "$D/v2"
	expect_exit 0
	[ -s "$ERR" ] && fail "stderr with a passing budget: '$(head -n1 "$ERR")'"
	cmp -s "$D/rb" "$D/t2" || fail "the table with --budget is not the run's"
	run_ip report --budget="$B/fail" -o "$D/rb2" "$D/v2"
	expect_exit 3
	cmp -s "$D/rb2" "$D/t2" || fail "the table with a failing --budget is not the run's"
	expect_file_is "$ERR" "iprofmem: over budget: $(key only_v2 v2) used 0.02734 MB, more than its budget of 0.02 MB ($B/fail:3) by 0.007344 MB
iprofmem: over budget: $(key grows v2) used 0.07812 MB, more than its budget of 0.07 MB ($B/fail:2) by 0.008125 MB" "stderr"
	run_ip report --budget="$B/fail" -o "$D/rb3" "$D/v1"
	expect_exit 0
	[ -s "$ERR" ] && fail "v1 is within the failing budget, yet: '$(head -n1 "$ERR")'"
fi
tc_end

tc "diff --budget: the new record's functions; with --fail-above both kinds of lines"
if [ $ok = 1 ]; then
	run_ip diff --budget="$B/pass" -o "$D/db" "$D/v1" "$D/v2"
	expect_exit 0
	[ -s "$ERR" ] && fail "stderr with a passing budget: '$(head -n1 "$ERR")'"
	run_ip diff --budget="$B/fail" --fail-above=0.05 -o "$D/db2" "$D/v1" "$D/v2"
	expect_exit 3
	expect_file_is "$ERR" "iprofmem: over budget: $(key only_v2 v2) used 0.02734 MB, more than its budget of 0.02 MB ($B/fail:3) by 0.007344 MB
iprofmem: over budget: $(key grows v2) used 0.07812 MB, more than its budget of 0.07 MB ($B/fail:2) by 0.008125 MB
iprofmem: over budget: $(key grows v2) grew by 0.0625 MB, more than --fail-above=0.05 by 0.0125 MB" "stderr"
	expect_file_is "$D/db2" "$(want_diff)" "the diff in FILE"
	run_ip diff --budget="$B/fail" "$D/v2" "$D/v1"
	expect_exit 0
fi
tc_end

tc "a budget line that applies to no function: a warning, the status unchanged"
if [ $ok = 1 ]; then
	printf 'grows 1\nno_such_fn 1\n' >"$B/typo"
	run_ip report --budget="$B/typo" -o "$D/rt" "$D/v2"
	expect_exit 0
	expect_file_is "$ERR" "iprofmem: warning: $B/typo:2: 'no_such_fn' applies to no function" "stderr"
fi
tc_end

# malformed NAME CONTENT WANT_MESSAGE: report and diff both refuse it with
# that one line and status 125, write no table, read no record.
malformed() {
	printf '%b' "$2" >"$B/$1"
	for mode in report diff; do
		rm -f "$D/none"
		if [ $mode = report ]; then
			run_ip report --budget="$B/$1" -o "$D/none" "$D/v2"
		else
			run_ip diff --budget="$B/$1" -o "$D/none" "$D/v1" "$D/v2"
		fi
		expect_exit 125
		expect_one_error_line
		expect_file_is "$ERR" "iprofmem: $B/$1:$3" "$mode: the message"
		[ -e "$D/none" ] && fail "$mode: a table was written"
		[ -s "$OUT" ] && fail "$mode: stdout not empty"
	done
}

tc "malformed budget files: one line naming file and line, exit 125"
if [ $ok = 1 ]; then
	malformed nomb '# c\ngrows 1\n\nshrinks\n' "4: no budget after the pattern (shrinks); a line is PATTERN MB"
	malformed badmb 'grows 1MB\n' "1: '1MB' is not a number of megabytes; a line is PATTERN MB"
	malformed neg 'grows -2\n' "1: '-2' is not a number of megabytes; a line is PATTERN MB"
	malformed three '  grows 1 2 # x\n' "1: '1 2' is not a number of megabytes; a line is PATTERN MB"
	malformed glob 'x 1\nfoo[ 1\n' "2: an unbalanced '[' in the pattern (foo[); an entry is NAME, GLOB, MODULE:GLOB or FILE.c:GLOB"
	malformed quals 'a:b:c 3\n' "1: more than one ':' qualifier (a:b:c); an entry is NAME, GLOB, MODULE:GLOB or FILE.c:GLOB"
	malformed nul 'grows 1\nx\0y 2\n' "2: a NUL byte: not a budget file"
	run_ip report --budget="$B/absent" "$D/v2"
	expect_exit 125
	expect_one_error_line
	expect_file_is "$ERR" "iprofmem: $B/absent: No such file or directory" "a missing budget file"
fi
tc_end

# ---------------------------------------------------- -f --per-process

tc "-f --per-process records of v1 and v2 fork: a labelled diff per process, exact"
if need_file "$V1" "$V2"; then
	run_ip -f --per-process --funcs="$FUNCS" -o "$D/pp1" --record="$D/pv1" -- "$V1" fork "$MARK"
	expect_exit 0
	run_ip -f --per-process --funcs="$FUNCS" -o "$D/pp2" --record="$D/pv2" -- "$V2" fork "$MARK"
	expect_exit 0
	mapfile -t p1 < <(grep -P '^process\t' "$D/pv1" | cut -f2)
	mapfile -t p2 < <(grep -P '^process\t' "$D/pv2" | cut -f2)
	if [ ${#p1[@]} -ne 2 ] || [ ${#p2[@]} -ne 2 ]; then
		fail "processes in the records: ${#p1[@]} and ${#p2[@]}, want 2 and 2"
	else
		run_ip diff -o "$D/pdiff" "$D/pv1" "$D/pv2"
		expect_exit 0
		want=$(echo "PID ${p1[0]} -> ${p2[0]}: $V2 fork $MARK"; want_diff
			echo; echo "PID ${p1[1]} -> ${p2[1]}: $V2 fork $MARK"; want_diff)
		expect_file_is "$D/pdiff" "$want" "the per-process diff"
		run_ip diff --fail-above=0.05 -o "$D/pdiff2" "$D/pv1" "$D/pv2"
		expect_exit 3
		expect_file_is "$ERR" "iprofmem: over budget: $(key grows v2) grew by 0.0625 MB, more than --fail-above=0.05 by 0.0125 MB (PID ${p2[0]})
iprofmem: over budget: $(key grows v2) grew by 0.0625 MB, more than --fail-above=0.05 by 0.0125 MB (PID ${p2[1]})" "stderr"
		run_ip diff --format=csv "$D/pv1" "$D/pv2"
		n=$(grep -c "^${p1[1]},${p2[1]},$SRC," "$ERR")
		[ "$n" = 7 ] || fail "CSV: $n rows of the second pair, want 7"
	fi
fi
tc_end

tc "a single record against a per-process one: paired in order, the rest with a blank side"
if [ $ok = 1 ] && [ -s "$D/pv2" ]; then
	run_ip diff "$D/v1" "$D/pv2"
	expect_exit 0
	p=$(grep -P '^process\t' "$D/pv2" | cut -f2 | tail -n1)
	grep -q -x "PID 0 -> ${p2[0]}: $V2 fork $MARK" "$ERR" || fail "no 'PID 0 -> ${p2[0]}' label"
	grep -q -x "PID none -> $p: $V2 fork $MARK" "$ERR" || fail "no 'PID none -> $p' label"
fi
tc_end

# ------------------------------------------------------------- refusals

# refused WANT_MESSAGE ARGS...: iprofmem ARGS exits 125 with that line.
refused() {
	local want=$1
	shift
	run_ip "$@"
	expect_exit 125
	expect_one_error_line
	expect_file_is "$ERR" "$want" "'$*'"
}

tc "diff refuses one file, three, a non-record, --tree, tracing options; --budget while tracing"
if [ $ok = 1 ]; then
	refused "iprofmem: iprofmem diff takes two record files: OLD NEW (see iprofmem --help)" diff "$D/v1"
	refused "iprofmem: iprofmem diff takes two record files: OLD NEW (see iprofmem --help)" diff "$D/v1" "$D/v1" "$D/v2"
	refused "iprofmem: $FUNCS: not an iprofmem record file; give one that --record wrote" diff "$D/v1" "$FUNCS"
	refused "iprofmem: --tree is not a view of 'iprofmem diff' (it takes -o, --format, --min, --top) (see iprofmem --help)" diff --tree "$D/v1" "$D/v2"
	refused "iprofmem: --folded is not a view of 'iprofmem diff' (it takes -o, --format, --min, --top) (see iprofmem --help)" diff --folded=x "$D/v1" "$D/v2"
	refused "iprofmem: --follow-forks is for tracing, not for 'iprofmem diff' (see iprofmem --help)" diff -f "$D/v1" "$D/v2"
	refused "iprofmem: --fail-above is for 'iprofmem diff' (see iprofmem --help)" report --fail-above=1 "$D/v1"
	refused "iprofmem: --fail-above: 'x' is not a non-negative number of megabytes (see iprofmem --help)" diff --fail-above=x "$D/v1" "$D/v2"
	refused "iprofmem: --budget is for 'iprofmem report' and 'iprofmem diff' (on records) (see iprofmem --help)" --budget="$B/pass" -- "$V1" "$MARK"
fi
tc_end

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# --format=pprof, read by the real `go tool pprof` (Debian's golang-go), on
# the views target (test/targets/views/views.c), whose pages per function
# and per call path are exact.  One traced run writes the profile and a
# record; the JSON of that record is the table's figures in bytes.  Then:
#   - the file is gzip (magic, gzip -t) and pprof reads it;
#   - -top: each function's cum bytes are the table's Memory, its flat
#     calls the table's Calls, for every row and no other function; the
#     designed pages and calls for the exact functions;
#   - -traces: the memory stacks and values are the folded stacks, line
#     for line; the exact call paths have their designed self pages and
#     calls;
#   - the mapping is the program's path and its GNU build ID (readelf),
#     with -p the attached process's executable;
#   - -f --per-process: each sample has its process's pid label, and each
#     process's figures are exact (pprof -tagfocus=pid=N);
#   - 'iprofmem report --format=pprof RECORD': the same -top and -traces,
#     the mapping (-raw) the live one: the record keeps the program's path
#     and build ID; the same bytes twice over;
#   - 'iprofmem diff --format=pprof OLD NEW' on records of regress.v1 and
#     regress.v2 (test/targets/regress): -top's cum bytes are the diff's
#     change per function, its flat calls the new calls less the old, a
#     shrinking function negative, a function in one record only with its
#     sign; -traces: each stack's value is its self memory in NEW's folded
#     stacks less OLD's; the mapping is NEW's program;
#   - --format=pprof without -o, and an unknown format, are refused (125)
#     before the program runs.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"
. "$E2E_DIR/attach_lib.sh"

# pprof's own scratch files (it keeps fetched profiles under $HOME/pprof)
export HOME=$WORK PPROF_TMPDIR=$WORK
GO=$(command -v go || true)

# need_go: go is there, or the case fails saying how to get it.
need_go() {
	[ -n "$GO" ] && return 0
	fail "go is missing (golang-go): run 'make deps' (as root)"
	return 1
}

# pprof ARGS...: go tool pprof with no node dropped; stdout only.
pprof() {
	"$GO" tool pprof -nodefraction=0 -edgefraction=0 -nodecount=100000 "$@" 2>"$WORK/pprof.err"
}

# top_rows FILE: "NAME FLAT CUM" per row of a -top report (bytes: no unit).
top_rows() {
	awk 'go { n = $6; for (i = 7; i <= NF; i++) n = n " " $i
		  f = $1; c = $4; sub(/B$/, "", f); sub(/B$/, "", c); print n, f, c }
	     /^ +flat +flat%/ { go = 1 }' "$1" | sort
}

# trace_lines FILE: a -traces report as folded stacks, "main;run;leaf VALUE",
# sorted.
trace_lines() {
	awk '/^-+\+-+$/ { if (stack != "") print stack, val; stack = ""; go = 1; next }
	     !go { next }
	     stack == "" { val = $1; sub(/B$/, "", val); stack = $2; next }
	     { stack = $1 ";" stack }' "$1" | sort
}

# json_rows JSON: "NAME MEMORY_BYTES CALLS" per function, sorted.
json_rows() {
	python3 -c '
import json, sys
for f in json.load(open(sys.argv[1]))["processes"][0]["functions"]:
    print(f["name"], f["memory_bytes"], f["calls"])' "$1" | sort
}

for v in $VIEWS_VARIANTS; do
	bin=$TGT/views.$v
	D=$WORK/$v
	mkdir -p "$D"
	R=$D/rec P=$D/prof.pb.gz

	tc "views.$v: --format=pprof -o, --record, --folded in one run (exit 0, quiet, gzip)"
	ok=0
	if need_file "$bin" && need_python && need_go; then
		run_ip --format=pprof -o "$P" --record="$R" --folded="$D/folded" -- "$bin" "$MARK"
		expect_quiet_ok
		if [ -s "$P" ] && [ -s "$R" ]; then
			ok=1
			[ "$(head -c2 "$P" | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "no gzip magic"
			gzip -t "$P" 2>/dev/null || fail "gzip -t fails"
		else
			fail "the profile or the record is missing"
		fi
		run_report --format=json -o "$D/json" "$R"
		expect_quiet_ok
		json_rows "$D/json" >"$D/json.rows"
	fi
	tc_end
	if [ $ok != 1 ]; then
		tc "views.$v: go tool pprof"; fail "no profile to read"; tc_end
		continue
	fi

	tc "views.$v: pprof -top: cum bytes = Memory, flat calls = Calls, every row, exact"
	if pprof -top -unit=B "$P" >"$D/top.mem" && pprof -top -sample_index=calls "$P" >"$D/top.calls"; then
		grep -qx 'Type: memory' "$D/top.mem" || fail "default sample type is not memory"
		grep -qx 'Type: calls' "$D/top.calls" || fail "no calls sample type"
		join <(top_rows "$D/top.mem" | awk '{ print $1, $3 }') \
			<(top_rows "$D/top.calls" | awk '{ print $1, $2 }') >"$D/pprof.rows"
		if ! cmp -s "$D/json.rows" "$D/pprof.rows"; then
			fail "pprof's NAME CUM-BYTES FLAT-CALLS differ from the table's NAME MEMORY CALLS"
			note "$(diff "$D/json.rows" "$D/pprof.rows")"
		fi
		for f in $VIEWS_EXACT; do
			want="$f $(($(views_expect "$f" pages) * 4096)) $(views_expect "$f" calls)"
			grep -qx "$want" "$D/pprof.rows" || fail "want '$want', got '$(grep "^$f " "$D/pprof.rows")'"
		done
	else
		fail "go tool pprof -top failed"; note_file "$WORK/pprof.err"
	fi
	tc_end

	tc "views.$v: pprof -traces: memory stacks = the folded stacks, exact paths' self and calls"
	if pprof -traces -unit=B "$P" >"$D/traces.mem" && pprof -traces -sample_index=calls "$P" >"$D/traces.calls"; then
		trace_lines "$D/traces.mem" | awk '$2 != 0' >"$D/traces.folded"
		if ! cmp -s <(sort "$D/folded") "$D/traces.folded"; then
			fail "memory traces differ from the folded stacks"
			note "$(diff <(sort "$D/folded") "$D/traces.folded")"
		fi
		trace_lines "$D/traces.calls" >"$D/traces.calls.lines"
		while read -r stack pages calls total self peak; do
			grep -qx "$stack $((self * 4096))" "$D/traces.folded" ||
				fail "$stack: self memory not $((self * 4096))"
			grep -qx "$stack $calls" "$D/traces.calls.lines" ||
				fail "$stack: calls not $calls"
		done <<<"$VIEWS_PATH_TABLE"
		grep -q ';mark ' "$D/traces.calls.lines" && fail "a trace for mark, which grew nothing"
	else
		fail "go tool pprof -traces failed"; note_file "$WORK/pprof.err"
	fi
	tc_end

	tc "views.$v: the mapping is the program's path and its build ID"
	id=$(readelf -n "$bin" | awk '/Build ID:/ { print $3 }')
	pprof -raw "$P" >"$D/raw"
	m=$(sed -n '/^Mappings/,$p' "$D/raw" | sed -n 2p)
	[ -n "$id" ] || fail "readelf finds no build ID in $bin"
	[ "$m" = "1: 0x0/0x0/0x0 $(realpath "$bin") $id [FN][FL][LN]" ] ||
		fail "mapping '$m', want the program's path, build ID $id, [FN][FL][LN]"
	grep -qx "Build ID: $id" "$D/top.mem" || fail "-top shows no 'Build ID: $id'"
	tc_end

	tc "views.$v: report --format=pprof RECORD: the same -top, -traces and mapping, the same bytes twice"
	run_report --format=pprof -o "$D/rep.pb.gz" "$R"
	expect_quiet_ok
	run_report --format=pprof -o "$D/rep2.pb.gz" "$R"
	expect_quiet_ok
	cmp -s "$D/rep.pb.gz" "$D/rep2.pb.gz" || fail "two reports of one record differ"
	if pprof -top -unit=B "$D/rep.pb.gz" >"$D/rtop" && pprof -traces -unit=B "$D/rep.pb.gz" >"$D/rtraces" &&
		pprof -raw "$D/rep.pb.gz" >"$D/rraw"; then
		diff "$D/top.mem" "$D/rtop" >/dev/null ||
			fail "-top (File:, Build ID: included) differs from the live profile's"
		diff "$D/traces.mem" "$D/rtraces" >/dev/null ||
			fail "-traces differs from the live profile's"
		rm=$(sed -n '/^Mappings/,$p' "$D/rraw" | sed -n 2p)
		[ "$rm" = "$m" ] || fail "the record's mapping '$rm', the live one '$m'"
	else
		fail "go tool pprof failed on the report's profile"; note_file "$WORK/pprof.err"
	fi
	tc_end
done

# ------------------------------------------------------------ diff --format=pprof

# calls_rows FILE: "NAME FLAT" per row of a -top report.
calls_rows() { top_rows "$1" | awk '{ print $1, $2 }'; }

# folded_diff OLD NEW: "STACK NEW-OLD" for each stack of two folded files
# whose self memory changed, sorted.
folded_diff() {
	awk 'FNR == NR { v[$1] -= $2; next } { v[$1] += $2 }
	     END { for (k in v) if (v[k] != 0) print k, v[k] }' "$1" "$2" | sort
}

D=$WORK/diff
mkdir -p "$D"
V1=$TGT/regress.v1 V2=$TGT/regress.v2
tc "diff --format=pprof regress v1 v2: -top cum = the diff's change, flat calls = new - old calls"
ok=0
if need_file "$V1" "$V2" && need_go; then
	run_ip --record="$D/v1" --folded="$D/v1.folded" -o /dev/null -- "$V1" "$MARK"
	expect_exit 0
	run_ip --record="$D/v2" --folded="$D/v2.folded" -o /dev/null -- "$V2" "$MARK"
	expect_exit 0
	run_ip diff --format=pprof -o "$D/d.pb.gz" "$D/v1" "$D/v2"
	expect_quiet_ok
	run_ip diff --format=csv -o "$D/d.csv" "$D/v1" "$D/v2"
	expect_quiet_ok
	if pprof -top -unit=B "$D/d.pb.gz" >"$D/top.mem" &&
		pprof -top -sample_index=calls "$D/d.pb.gz" >"$D/top.calls"; then
		ok=1
	else
		fail "go tool pprof -top failed"; note_file "$WORK/pprof.err"
	fi
fi
if [ $ok = 1 ]; then
	# the diff's rows: NAME CHANGE-BYTES NEW-CALLS-LESS-OLD (blank: 0)
	awk -F, 'NR > 1 { print $5, $10, $9 - $7 }' "$D/d.csv" | sort >"$D/want"
	# pprof's: every row of the table, 0 0 for a function no sample holds
	join -a1 -e 0 -o 0,2.2 <(cut -d' ' -f1 "$D/want") \
		<(top_rows "$D/top.mem" | awk '{ print $1, $3 }') >"$D/cum"
	join -a1 -e 0 -o 0,1.2,2.2 "$D/cum" <(calls_rows "$D/top.calls") >"$D/got"
	if ! cmp -s "$D/want" "$D/got"; then
		fail "pprof's NAME CUM FLAT-CALLS differ from the diff's NAME CHANGE CALLS-CHANGE"
		note "$(diff "$D/want" "$D/got")"
	fi
	# no function the diff does not show
	extra=$(top_rows "$D/top.mem" | cut -d' ' -f1 | grep -v -x -F -f <(cut -d' ' -f1 "$D/want"))
	[ -z "$extra" ] || fail "pprof shows functions the diff has not: $extra"
	# the designed figures (regress.c's pages), not only agreement
	for w in "shrinks $((-4 * 4096)) 0" "only_v1 $((-2 * 4096)) -1" \
		 "only_v2 $((7 * 4096)) 1" "grows $((16 * 4096)) 0" "steady 0 0"; do
		grep -qx "$w" "$D/got" || fail "want '$w', got '$(grep "^${w%% *} " "$D/got")'"
	done
	grep -qx 'Type: memory' "$D/top.mem" || fail "default sample type is not memory"
	grep -qx 'Type: calls' "$D/top.calls" || fail "no calls sample type"
fi
tc_end

tc "diff --format=pprof: -traces = NEW's folded stacks less OLD's; the mapping is NEW's program"
if [ $ok = 1 ]; then
	if pprof -traces -unit=B "$D/d.pb.gz" >"$D/traces" && pprof -raw "$D/d.pb.gz" >"$D/raw"; then
		trace_lines "$D/traces" | awk '$2 != 0' >"$D/traces.lines"
		folded_diff "$D/v1.folded" "$D/v2.folded" >"$D/folded.diff"
		if ! cmp -s "$D/folded.diff" "$D/traces.lines"; then
			fail "-traces differ from the folded stacks' difference"
			note "$(diff "$D/folded.diff" "$D/traces.lines")"
		fi
		grep -q ' -' "$D/traces.lines" || fail "no negative stack"
		id=$(readelf -n "$V2" | awk '/Build ID:/ { print $3 }')
		m=$(sed -n '/^Mappings/,$p' "$D/raw" | sed -n 2p)
		[ "$m" = "1: 0x0/0x0/0x0 $(realpath "$V2") $id [FN][FL][LN]" ] ||
			fail "mapping '$m', want $(realpath "$V2") $id"
	else
		fail "go tool pprof -traces failed"; note_file "$WORK/pprof.err"
	fi
fi
tc_end

tc "diff --format=pprof without -o: 125, one line"
if need_file "$D/v1"; then
	run_ip diff --format=pprof "$D/v1" "$D/v1"
	expect_exit 125
	expect_one_error_line
fi
tc_end

tc "-f --per-process: a pid label per sample; each process's functions exact (-tagfocus)"
bin=$TGT/views.O2-pie
D=$WORK/pp
mkdir -p "$D"
if need_file "$bin" && need_go; then
	run_ip -f --per-process --format=pprof -o "$D/p.gz" -- sh -c "'$bin' '$MARK'; '$bin' '$MARK'"
	expect_exit 0
	"$GO" tool pprof -tags "$D/p.gz" 2>/dev/null >"$D/tags"
	pids=$(awk '/^ +pid: / { go = 1; next } go && /\): [0-9]+$/ { print $NF } /^$/ { go = 0 }' "$D/tags")
	[ "$(echo "$pids" | grep -c .)" -eq 2 ] || { fail "not 2 pid labels"; note_file "$D/tags"; }
	for pid in $pids; do
		pprof -top -unit=B -tagfocus=pid="$pid" "$D/p.gz" >"$D/top.$pid"
		top_rows "$D/top.$pid" >"$D/rows.$pid"
		for f in $VIEWS_EXACT; do
			want="$f $(($(views_expect "$f" pages) * 4096))"
			got=$(awk -v f="$f" '$1 == f { print $1, $3 }' "$D/rows.$pid")
			[ "$got" = "$want" ] || fail "pid $pid: want '$want' (cum), got '$got'"
		done
	done
fi
tc_end

tc "-p PID --format=pprof: the mapping is the attached process's executable and build ID"
bin=$TGT/attach_idle.O2-pie
if need_file "$bin" && need_go; then
	tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" sleep "$WORK/ready" "$WORK/progress" 1500
	if tgt_ready "$WORK/ready"; then
		run_ip -p "$TPID" --duration=0.2 --format=pprof -o "$WORK/attach.pb.gz"
		expect_exit 0
		id=$(readelf -n "$bin" | awk '/Build ID:/ { print $3 }')
		m=$(pprof -raw "$WORK/attach.pb.gz" | sed -n '/^Mappings/,$p' | sed -n 2p)
		[ "$m" = "1: 0x0/0x0/0x0 $(realpath "$bin") $id [FN][FL][LN]" ] ||
			fail "mapping '$m', want $(realpath "$bin") $id"
	fi
	tgt_finish
fi
tc_end

tc "--format=pprof without -o, --format=xml: 125, one line, the program does not run"
bin=$TGT/views.O2-pie
if need_file "$bin"; then
	rm -f "$WORK/ran"
	run_ip --format=pprof -- sh -c ": >'$WORK/ran'"
	expect_exit 125
	expect_one_error_line
	[ "$(head -n1 "$ERR")" = "iprofmem: --format=pprof writes a binary file: give it with -o FILE (see iprofmem --help)" ] ||
		fail "error '$(head -n1 "$ERR")'"
	[ -e "$WORK/ran" ] && fail "the program ran"
	run_report --format=pprof "$WORK/no-such-record"
	expect_exit 125
	expect_one_error_line
	run_ip --format=xml -o "$WORK/x" -- sh -c ": >'$WORK/ran'"
	expect_exit 125
	[ "$(cat "$ERR")" = "iprofmem: --format: 'xml' is not one of table, json, csv, pprof (see iprofmem --help)" ] ||
		fail "error '$(head -n1 "$ERR")'"
	[ -e "$WORK/ran" ] && fail "the program ran"
fi
tc_end

exit $((N_FAILED > 0))

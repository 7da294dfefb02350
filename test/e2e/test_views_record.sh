#!/usr/bin/env bash
# Record files and 'iprofmem report': a traced run with --record=R writes
# R next to its own views; 'iprofmem report [VIEW] R' must then print each
# view byte for byte as that same run did (the table, --tree, --columns,
# JSON, CSV, --top, --min, folded stacks, flame graph, timeline), for the
# views target and for mem (recursion, tail calls); with -f --per-process
# the record holds every process and the report prints the same tables.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"

# expect_record_layout FILE: "iprofmem-record 2" first, "end" last, lines
# of tab-separated items in between.
expect_record_layout() {
	local bad
	[ "$(head -n1 "$1")" = "iprofmem-record 2" ] || fail "first line '$(head -n1 "$1")', want 'iprofmem-record 2'"
	[ "$(tail -n1 "$1")" = "end" ] || fail "last line '$(tail -n1 "$1")', want 'end'"
	[ -n "$(tail -c1 "$1")" ] && fail "no newline after 'end'"
	bad=$(sed '1d;$d' "$1" | grep -v -n -P '^[a-z]+(\t[^\t\n]*)+$' | head -n1)
	[ -z "$bad" ] || fail "not a line of tab-separated items: '$bad'"
	grep -q -P '^process\t' "$1" || fail "no process item"
}

# report_same LIVE_STDERR LIVE_OUT REC VIEW...: 'iprofmem report VIEW REC'
# prints LIVE_OUT on stderr, and writes it with -o too; every view file
# the live run wrote (the --folded=, --flamegraph=, --timeline= among VIEW)
# is written again, byte for byte, and stderr is LIVE_STDERR.
report_same() {
	local live_err=$1 live_out=$2 rec=$3 a files=() args=()
	shift 3
	for a in "$@"; do
		case $a in
		--folded=* | --flamegraph=* | --timeline=*)
			files+=("${a#*=}")
			args+=("${a%%=*}=${a#*=}.rep") ;;
		*) args+=("$a") ;;
		esac
	done
	run_report "${args[@]}" "$rec"
	expect_exit 0
	[ -s "$OUT" ] && fail "stdout not empty"
	if [ -n "$live_out" ]; then
		expect_same "$live_out" "$ERR" "the report on stderr"
		run_report "${args[@]}" -o "$WORK/rep.out" "$rec"
		expect_exit 0
		expect_same "$live_out" "$WORK/rep.out" "the report with -o"
		[ -s "$ERR" ] && fail "stderr not empty with -o: '$(head -n1 "$ERR")'"
	else
		expect_same "$live_err" "$ERR" "stderr"
	fi
	for a in "${files[@]}"; do
		expect_same "$a" "$a.rep" "${a##*/} from the record"
	done
}

# ---------------------------------------------- views: everything in one run

bin=$TGT/views.O2-pie
D=$WORK/all
mkdir -p "$D"
R=$D/rec

tc "views.O2-pie: one run writes the table, record, folded, flame graph, timeline"
ok=0
if need_file "$bin"; then
	run_ip -o "$D/table" --record="$R" --folded="$D/folded" --flamegraph="$D/flame.svg" \
		--timeline="$D/timeline.svg" -- "$bin" "$MARK"
	expect_quiet_ok
	for f in table rec folded flame.svg timeline.svg; do
		[ -s "$D/$f" ] || fail "$f missing or empty"
	done
	expect_table "$D/table" && expect_row "$(views_key run)" 42 1
	[ ${#TC_ERRS[@]} -eq 0 ] && ok=1
fi
tc_end

tc "views.O2-pie: record: 'iprofmem-record 2', tab-separated items, 'end'"
if [ $ok = 1 ]; then
	expect_record_layout "$R"
	grep -q -P "^func\t.*\t\Q$VIEWS_SRC\E\t$(views_line leaf)\tleaf$" "$R" || fail "no func item for leaf"
else
	fail "no record"
fi
tc_end

tc "views.O2-pie: report R is the live table, byte for byte"
[ $ok = 1 ] && report_same "" "$D/table" "$R"
tc_end

tc "views.O2-pie: report --folded/--flamegraph/--timeline R: the live files, byte for byte"
[ $ok = 1 ] && report_same "$D/table" "" "$R" --folded="$D/folded" --flamegraph="$D/flame.svg" --timeline="$D/timeline.svg"
tc_end

tc "views.O2-pie: a report twice from one record: the same bytes"
if [ $ok = 1 ]; then
	run_report --format=json --folded="$D/f1" "$R"
	cp "$ERR" "$D/j1"
	run_report --format=json --folded="$D/f2" "$R"
	expect_same "$D/j1" "$ERR" "JSON"
	expect_same "$D/f1" "$D/f2" "folded"
fi
tc_end

# ----------------------------------------- views: each view, in its own run

# One traced run per view: VIEW -o LIVE --record=R [files]; then the report.
n=0
for view in "--tree" "--tree --min=0.02" "--columns=self,peak,total-calls" \
	"--columns=total-calls" "--format=json" "--format=csv" "--top=3" \
	"--top=2 --columns=peak,self" "--min=0.02" "--format=json --top=4"; do
	n=$((n + 1))
	D=$WORK/view$n
	mkdir -p "$D"
	# shellcheck disable=SC2206
	v=($view)
	extra=()
	case $view in
	--top=3) extra=(--timeline="$D/timeline.svg" --flamegraph="$D/flame.svg") ;;
	--tree) extra=(--folded="$D/folded") ;;
	esac
	tc "views.O2-pie: report $view R is the live run's, byte for byte"
	if need_file "$bin"; then
		run_ip "${v[@]}" "${extra[@]}" -o "$D/live" --record="$D/rec" -- "$bin" "$MARK"
		expect_quiet_ok
		if [ $RC -eq 0 ] && [ -s "$D/live" ] && [ -s "$D/rec" ]; then
			report_same "" "$D/live" "$D/rec" "${v[@]}" "${extra[@]}"
		else
			fail "the live run wrote no view or no record"
		fi
	fi
	tc_end
done

# ------------------------------------------- mem: recursion and tail calls

bin=$TGT/mem.O2-pie
D=$WORK/mem
mkdir -p "$D"
tc "mem.O2-pie: report [--tree|--folded|--flamegraph|--timeline] R: the live run's"
if need_file "$bin"; then
	run_ip -o "$D/table" --record="$D/rec" --folded="$D/folded" --flamegraph="$D/flame.svg" \
		--timeline="$D/timeline.svg" -- "$bin" "$MARK"
	expect_quiet_ok
	report_same "$D/table" "$D/table" "$D/rec"
	report_same "$D/table" "" "$D/rec" --folded="$D/folded" --flamegraph="$D/flame.svg" --timeline="$D/timeline.svg"
	expect_record_layout "$D/rec"
	run_ip --tree --columns=self -o "$D/tree" --record="$D/rec2" -- "$bin" "$MARK"
	expect_exit 0
	report_same "" "$D/tree" "$D/rec2" --tree --columns=self
fi
tc_end

# ------------------------------------------ -f --per-process: two processes

bin=$TGT/views.O2-pie
D=$WORK/pp
mkdir -p "$D"
tc "views.O2-pie fork -f --per-process: two tables, rows exact in both"
ok=0
if need_file "$bin"; then
	run_ip -f --per-process -o "$D/tables" --record="$D/rec" --folded="$D/folded" \
		--flamegraph="$D/flame.svg" --timeline="$D/timeline.svg" -- "$bin" fork "$MARK"
	expect_quiet_ok
	split_tables "$D/tables"
	if [ -n "$PT_PROBLEM" ] || [ "$PT_N" -ne 2 ]; then
		fail "${PT_PROBLEM:-$PT_N tables, want 2}"
		note_file "$D/tables"
	else
		ok=1
		for i in 0 1; do
			[ "${PT_CMD[i]}" = "$bin fork $MARK" ] || fail "table $i: command line '${PT_CMD[i]}'"
			expect_table "${PT_FILE[i]}" || continue
			# spike and run are not exact in the child (see views.c)
			for f in sometimes poll_loop alloc_small alloc_big leaf; do
				expect_row "$(views_key "$f")" "$(views_expect "$f" pages)" "$(views_expect "$f" calls)"
			done
			if [ $i = 0 ]; then
				expect_row "$(views_key run)" 42 1
				expect_row "$(views_key spike)" 4 1
			fi
		done
	fi
fi
tc_end

tc "views.O2-pie fork -f --per-process: the record holds both processes"
if [ $ok = 1 ]; then
	expect_record_layout "$D/rec"
	grep -P '^process\t' "$D/rec" >"$D/procs"
	printf 'process\t%s\t%s\n' "${PT_PID[0]}" "${PT_CMD[0]}" "${PT_PID[1]}" "${PT_CMD[1]}" >"$D/procs.want"
	expect_same "$D/procs.want" "$D/procs" "process items"
else
	fail "no run"
fi
tc_end

tc "views.O2-pie fork -f --per-process: report R prints the same tables and files"
if [ $ok = 1 ]; then
	report_same "" "$D/tables" "$D/rec"
	report_same "$D/tables" "" "$D/rec" --folded="$D/folded" --flamegraph="$D/flame.svg" --timeline="$D/timeline.svg"
else
	fail "no run"
fi
tc_end

tc "views.O2-pie fork -f --per-process --format=json: report's JSON is the live one, 2 processes"
if need_file "$bin" && need_python; then
	run_ip -f --per-process --format=json -o "$D/json" --record="$D/rec2" -- "$bin" fork "$MARK"
	expect_quiet_ok
	report_same "" "$D/json" "$D/rec2" --format=json
	if views_py json "$D/json" --procs 2; then
		python3 -c 'import json,sys
for p in json.load(open(sys.argv[1]))["processes"]: print("process\t%d\t%s" % (p["pid"], p["cmdline"]))' "$D/json" >"$D/jprocs"
		grep -P '^process\t' "$D/rec2" >"$D/procs"
		expect_same "$D/procs" "$D/jprocs" "JSON pids and command lines"
	fi
fi
tc_end

tc "views.O2-pie fork -f (one table): report R is the same; rows sum both processes"
if need_file "$bin"; then
	run_ip -f -o "$D/merged" --record="$D/rec3" -- "$bin" fork "$MARK"
	expect_quiet_ok
	report_same "" "$D/merged" "$D/rec3"
	[ "$(grep -c -P '^process\t' "$D/rec3")" -eq 1 ] || fail "$(grep -c -P '^process\t' "$D/rec3") process items, want 1 (merged)"
	if expect_only_table "$D/merged"; then
		for f in sometimes poll_loop alloc_small alloc_big leaf; do
			expect_row "$(views_key "$f")" $((2 * $(views_expect "$f" pages))) $((2 * $(views_expect "$f" calls)))
		done
	fi
fi
tc_end

# ------------------------- without call paths: the table of a run that keeps them

# A run that prints nothing that needs call paths keeps one node per
# function (report_set_flat): its rows must be exact, every column, as
# the record's above are (views), and its table the one that a run which
# keeps every path (--record) prints (mem: recursion and tail calls; the
# two rows that vary with ASLR masked).
bin=$TGT/views.O2-pie
D=$WORK/flat
mkdir -p "$D"
for cols in "" "self,peak,total"; do
	tc "views.O2-pie ${cols:+--columns=$cols }without call paths: every row exact"
	if need_file "$bin"; then
		opt=()
		[ -n "$cols" ] && opt=(--columns="${cols/total/total-calls}")
		run_ip "${opt[@]}" -o "$D/table" -- "$bin" "$MARK"
		expect_quiet_ok
		if expect_framed "$D/table" "$(col_header "$cols")" "$(col_dashes "$cols")"; then
			for f in $VIEWS_EXACT; do
				expect_line "$FRAMED_ROWS" "$(col_row "$cols" "$f")" "row"
			done
		fi
	fi
	tc_end
done

tc "views.O2-pie fork -f --per-process --columns=peak without call paths: both tables exact"
if need_file "$bin"; then
	run_ip -f --per-process --columns=peak -o "$D/pp" -- "$bin" fork "$MARK"
	expect_quiet_ok
	# (the functions the fork mode runs alike in both processes, as above)
	for f in sometimes poll_loop alloc_small alloc_big leaf; do
		n=$(grep -c -F -x -- "$(col_row peak "$f")" "$D/pp")
		[ "$n" = 2 ] || fail "$f: $n exact rows, want 2 (one per process)"
	done
fi
tc_end

for v in O2-pie O0-nopie; do
	bin=$TGT/mem.$v
	tc "mem.$v: the table without call paths is the one with them"
	if need_file "$bin"; then
		run_ip -o "$D/mem-flat" -- "$bin" "$MARK"
		expect_quiet_ok
		run_ip -o "$D/mem-paths" --record="$D/mem-rec" -- "$bin" "$MARK"
		expect_quiet_ok
		if [ -s "$D/mem-flat" ] && [ -s "$D/mem-paths" ]; then
			mask_inexact "$D/mem-flat" >"$D/mem-flat.m"
			mask_inexact "$D/mem-paths" >"$D/mem-paths.m"
			expect_same "$D/mem-paths.m" "$D/mem-flat.m" "the table without call paths"
			[ "$(grep -c -v -e '^-' -e '^Memory' "$D/mem-flat")" -ge 5 ] || fail "fewer than 5 rows"
		else
			fail "a run wrote no table"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

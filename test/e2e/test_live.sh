#!/usr/bin/env bash
# --interval: the live view while tracing (test/targets/regress/regress.c
# "serve SECS": tick() touches one page every 50 ms, 20 calls a second):
#  - launch mode, stderr not a terminal: a heading line (date, time,
#    seconds traced, RSS) before each view so far, appended; tick's calls
#    never go down; then the final table, exact, as without --interval,
#    and the program's exit status;
#  - -p with --duration and -o FILE: FILE holds a table while the trace
#    still runs, replaced whole each time (no temporary file left); the
#    final table there at the end; nothing on stderr; the process runs on;
#  - -p without -o: the headings carry the process's RSS;
#  - --format=csv: each view in CSV;
#  - on a terminal (script(1)): the screen cleared and redrawn;
#  - bad values and misplaced uses: one line, 125.
. "$(dirname "$0")/lib.sh"

SRC=$SRCDIR/regress/regress.c
V1=$TGT/regress.v1
TICK_KEY=$SRC:$(grep -n -m1 '^tick(' "$SRC" | cut -d: -f1):tick
# (no RSS when the process is gone: a view written as it exits)
HEADING='^iprofmem: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}, [0-9]+\.[0-9] s traced(, RSS [0-9.e+]+ MB)?$'
TARGETS=()
trap 'for p in "${TARGETS[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$WORK"' EXIT

# tick_calls FILE: the calls of every tick row in FILE, one per line.
tick_calls() { grep -F "  $TICK_KEY" "$1" | cut -c12-20 | tr -d ' '; }

# nondecreasing: stdin's numbers never go down.
nondecreasing() { awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad }'; }

tc "launch --interval=0.25: headed views so far on stderr, then the exact final table"
if need_file "$V1"; then
	run_ip --interval=0.25 -e tick -- "$V1" serve 1.5 "$MARK"
	expect_exit 0
	n=$(grep -c -E "$HEADING" "$ERR")
	[ "$n" -ge 3 ] || fail "$n heading lines, want at least 3 in 1.5 s"
	[ "$(grep -c -E '^iprofmem: ' "$ERR")" = "$n" ] || fail "an 'iprofmem: ' line that is not a heading"
	# every heading is followed by a whole table
	awk -v re="$HEADING" -v h="$HEADER" '$0 ~ re { getline; if ($0 != h) bad = 1 } END { exit bad }' "$ERR" ||
		fail "a heading not followed by the table's header"
	calls=$(tick_calls "$ERR")
	nondecreasing <<<"$calls" || fail "tick's calls went down: $(echo $calls)"
	[ "$(tail -n1 <<<"$calls")" = 30 ] || fail "final tick calls $(tail -n1 <<<"$calls"), want 30"
	# the last five lines: the final table, exact
	tail -n 5 "$ERR" >"$WORK/final"
	printf '%s\n%s\n%s\n%s\n%s\n' "$HEADER" "$DASHES" "$(row_text 30 30 "$TICK_KEY")" "$DASHES" "$HEADER" >"$WORK/final.want"
	cmp -s "$WORK/final" "$WORK/final.want" || { fail "the final table is not exact"; note_file "$WORK/final"; }
	[ -s "$OUT" ] && fail "stdout not empty"
fi
tc_end

tc "launch --interval --format=csv: each view in CSV, after its heading"
if need_file "$V1"; then
	# 0.2 s: two views come even when the start-up takes half the run
	# (0.3 s gave one on a loaded machine)
	run_ip --interval=0.2 --format=csv -e tick -- "$V1" serve 1 "$MARK"
	expect_exit 0
	n=$(grep -c -E "$HEADING" "$ERR")
	h=$(grep -c '^pid,file,line,function,' "$ERR")
	[ "$n" -ge 2 ] || fail "$n headings, want at least 2"
	[ "$h" = $((n + 1)) ] || fail "$h CSV headers for $n views and the final one"
	l=${TICK_KEY%:tick}
	[ "$(tail -n1 "$ERR")" = "0,$SRC,${l##*:},tick,81920,0.078125,20,20,81920,4096,81920,20" ] ||
		fail "final CSV row '$(tail -n1 "$ERR")'"
fi
tc_end

# start_target SECS: regress.v1 serve SECS in the background; TP is its PID.
start_target() {
	"$V1" serve "$1" "$WORK/attach-target" >/dev/null 2>&1 </dev/null &
	TP=$!
	TARGETS+=("$TP")
	sleep 0.2
}

tc "-p --duration=2 --interval=0.3 -o FILE: FILE holds the table while tracing, replaced whole"
if need_file "$V1"; then
	start_target 6
	D=$WORK/pdir
	mkdir -p "$D"
	start_ip -p "$TP" --duration=2 --interval=0.3 -e tick -o "$D/live"
	seen=() early=0
	for i in 1 2 3 4 5 6; do
		sleep 0.25
		kill -0 "$BG_PID" 2>/dev/null || break
		[ -e "$D/live" ] || continue
		early=1
		parse_table "$D/live"
		[ "$TBL_FOUND" = 1 ] && [ -z "$TBL_PROBLEM" ] || { fail "FILE mid-trace is not one whole table"; note_file "$D/live"; break; }
		seen+=("$(tick_calls "$D/live")")
	done
	finish_ip
	expect_exit 0
	[ $early = 1 ] || fail "FILE did not appear while iprofmem ran"
	[ ${#seen[@]} -ge 2 ] || fail "${#seen[@]} views seen while tracing, want at least 2"
	printf '%s\n' "${seen[@]}" "$(tick_calls "$D/live")" | nondecreasing || fail "tick's calls went down: ${seen[*]}"
	expect_only_table "$D/live" && find_row "$TICK_KEY"
	c=$(row_calls "$ROW")
	[ "$c" -ge 20 ] && [ "$c" -le 45 ] || fail "final tick calls $c, want about 40 (2 s at 20/s)"
	[ -s "$ERR" ] && fail "stderr: '$(head -n1 "$ERR")'"
	[ "$(ls -A "$D")" = live ] || fail "files left beside FILE: $(ls -A "$D" | tr '\n' ' ')"
	kill -0 "$TP" 2>/dev/null || fail "the process did not run on"
	wait "$TP"
	[ $? = 0 ] || fail "the process's exit status is not 0"
fi
tc_end

# 3 s for at least 2 views at 0.3 s: room for a slow attach on a loaded
# machine (1.2 s once gave one view under make check)
tc "-p --duration=3 --interval=0.3: headings on stderr carry the RSS, then the final table"
if need_file "$V1"; then
	start_target 8
	rss=$(awk '{ print $2 * 4096 / 1048576 }' "/proc/$TP/statm")
	run_ip -p "$TP" --duration=3 --interval=0.3 -e tick
	expect_exit 0
	n=$(grep -c -E "$HEADING" "$ERR")
	[ "$n" -ge 2 ] || fail "$n headings, want at least 2"
	got=$(grep -m1 -E "$HEADING" "$ERR" | sed 's/.*RSS \([0-9.e+]*\) MB$/\1/')
	# the process's RSS as the kernel counts it: while probed, with the
	# probes' own pages (a 1 MiB ring, 512 KiB of stacks, the stubs)
	awk -v a="$got" -v b="$rss" 'BEGIN { exit !(a >= b * 0.9 && a <= b * 1.5 + 3) }' ||
		fail "heading RSS $got MB, the process has $rss MB"
	tail -n 5 "$ERR" | head -n1 | grep -qx "$HEADER" || fail "the final table is not last"
	kill -KILL "$TP" 2>/dev/null
	wait "$TP" 2>/dev/null
fi
tc_end

tc "on a terminal: the view redrawn in place (screen cleared, heading first)"
if ! command -v script >/dev/null 2>&1; then
	echo "SKIP $TC_NAME: script(1) is missing"
	TC_NAME=
elif need_file "$V1"; then
	# no timed expectation (a loaded ASan run once drew 1 view in the
	# 1 s the program served): it serves until two redraws are on the
	# terminal, then is ended by SIGTERM, and the final table follows
	redraws() {
		local n
		n=$(grep -c $'\033\\[H\033\\[2Jiprofmem: ' "$WORK/tty" 2>/dev/null)
		echo "${n:-0}"
	}
	timeout 90 script -qec "$IPROFMEM --interval=0.3 -e tick -- $V1 serve 80 $MARK" /dev/null >"$WORK/tty" 2>&1 &
	sp=$!
	for _ in $(seq 1200); do
		[ "$(redraws)" -ge 2 ] && break
		sleep 0.05
	done
	pkill -TERM -f -- "^[^ ]*/regress\.v1 serve 80 $MARK"
	wait "$sp"
	RC=$?
	expect_exit $((128 + 15))
	n=$(redraws)
	[ "$n" -ge 2 ] || fail "$n redraws, want at least 2"
	tr -d '\r' <"$WORK/tty" | tail -n 5 | head -n1 | grep -qx "$HEADER" || fail "the final table is not last"
fi
[ -n "$TC_NAME" ] && tc_end

tc "--interval refused: 0, -1, x; with report and diff; one line, 125"
for v in 0 -1 x; do
	run_ip --interval="$v" -- "$V1"
	expect_exit 125
	expect_one_error_line
	grep -qxF "iprofmem: --interval: '$v' is not a positive number of seconds (see iprofmem --help)" "$ERR" || fail "message for '$v': '$(head -n1 "$ERR")'"
done
run_ip report --interval=1 "$WORK/none"
expect_exit 125
grep -qxF "iprofmem: --interval is for tracing, not for 'iprofmem report' (see iprofmem --help)" "$ERR" || fail "report: '$(head -n1 "$ERR")'"
run_ip diff --interval=1 "$WORK/a" "$WORK/b"
expect_exit 125
grep -qxF "iprofmem: --interval is for tracing, not for 'iprofmem diff' (see iprofmem --help)" "$ERR" || fail "diff: '$(head -n1 "$ERR")'"
tc_end

[ $N_FAILED -eq 0 ]

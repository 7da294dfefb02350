#!/usr/bin/env bash
# The status line (issue 16): on a terminal, iprofmem draws on stderr, from
# its first second on and a few times a second, "iprofmem: M:SS traced, N
# calls, R calls/s, S events by stops", each time from the left margin after erasing the line
# (\r ESC[K ... \r), and erases it (\r ESC[K) before the table; -q turns it
# off, and it is never drawn when stderr is not a terminal (every other
# test: stderr is only the table).  After 10 s at over 100,000 calls a
# second, one hint line names the most called function and how to leave it
# out, on a line of its own.  The terminal is a pty from script(1); the program is
# bench/empty.c, N calls of one empty function.
. "$(dirname "$0")/lib.sh"

EMPTY=$WORK/empty
ESC=$'\033'

# on_tty ARGS...: iprofmem ARGS on a pty; its output in $WORK/tty, with
# each \r made a line break.
on_tty() {
	local cmd="$IPROFMEM" a
	for a in "$@"; do cmd="$cmd $(printf '%q' "$a")"; done
	rm -f "$WORK"/san.*
	{ timeout -k 5 "$E2E_TIMEOUT" script -qfec "$cmd" "$WORK/typescript" \
		</dev/null >/dev/null; } 2>/dev/null
	RC=$?
	check_sanitizer "$WORK/typescript"
	tr '\r' '\n' <"$WORK/typescript" >"$WORK/tty"
}

tc "statusline: script(1) and a compiler to build the program"
command -v script >/dev/null || fail "no script(1) (util-linux)"
${CC:-cc} -O0 -g -fcf-protection=none -o "$EMPTY" bench/empty.c 2>"$WORK/cc.log" ||
	{ fail "cannot build bench/empty.c"; note_file "$WORK/cc.log"; }
tc_end

# calls_for SECS: how many calls of empty() take about SECS seconds,
# from the pace of a run long enough that its start-up does not count (a
# probed call costs under 0.1 us with the fault gate, over 1 without,
# more under ASan; an int3 one tens of us)
calls_for() {
	if [ -z "${PACE_NS-}" ]; then
		local n=10000000 t0 t1
		[ "${IPROFMEM_ENGINE:-auto}" = int3 ] && n=50000
		t0=$(date +%s%N)
		"$IPROFMEM" -q -o /dev/null "$EMPTY" "$n" 2>/dev/null
		t1=$(date +%s%N)
		PACE_NS=$(( (t1 - t0) / n + 1 ))
	fi
	local c=$(( $1 * 1000000000 / PACE_NS ))
	[ $c -lt 100000 ] && c=100000
	[ $c -gt 2000000000 ] && c=2000000000
	echo $c
}

tc "statusline: drawn on a terminal, erased before the table"
# long enough for the line to be drawn (from the first second on)
on_tty "$EMPTY" "$(calls_for 3)"
[ "$RC" -eq 0 ] || fail "exit status $RC"
n=$(grep -c -E "^${ESC}\[Kiprofmem: [0-9]+:[0-5][0-9] traced, [0-9,]+ calls, [0-9,]+ calls/s, [0-9,]+ events by stops$" "$WORK/tty")
[ "$n" -ge 1 ] || fail "no status line"
# the table's first line comes right after the erasure, its last alone
[ "$(grep -c -x -F "$ESC[K$HEADER" "$WORK/tty")" -eq 1 ] &&
	[ "$(grep -c -x -F "$HEADER" "$WORK/tty")" -eq 1 ] ||
	fail "the table does not start right after the line's erasure"
[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/tty"
tc_end

tc "statusline: -q: none"
on_tty -q "$EMPTY" 60000
[ "$RC" -eq 0 ] || fail "exit status $RC"
grep -q "calls/s" "$WORK/tty" && fail "a status line"
grep -q "$ESC" "$WORK/tty" && fail "an escape sequence"
tc_end

tc "statusline: not a terminal: none"
run_ip "$EMPTY" 60000
expect_exit 0
expect_only_table "$ERR"
tc_end

# The hint needs 10 s at over 100,000 calls a second: known from the
# status lines themselves, as a loaded machine may not get there, and the
# int3 engine, a stop per event, never does.
if [ "${IPROFMEM_ENGINE:-auto}" = int3 ]; then
	echo "SKIP ${TAG}statusline: the hint: the int3 engine (IPROFMEM_ENGINE=int3) does not trace 100,000 calls a second"
	exit $((N_FAILED > 0))
fi
# about 20 s of calls: the hint needs status lines 10 s apart, from the
# first second on
calls=$(calls_for 20)
[ $calls -lt 15000000 ] && calls=15000000
on_tty "$EMPTY" "$calls"
reached=$(awk -v esc="$ESC" '
	index($0, esc "[Kiprofmem: ") == 1 && / traced, / {
		split($2, t, ":"); s = t[1] * 60 + t[2]
		c = $4; gsub(",", "", c)
		at[s] = c
	}
	END {
		for (s in at) if (s - 10 in at && at[s] - at[s - 10] > 1000000) ok = 1
		print ok + 0
	}' "$WORK/tty")
if [ "$reached" = 1 ]; then
	tc "statusline: one hint after 10 s at over 100,000 calls a second"
	n=$(grep -c "^${ESC}\[Kiprofmem: hint: over 100,000 calls a second for 10 s; the most called: empty ([0-9]* calls); to leave them out: -x 'empty'$" "$WORK/tty")
	[ "$n" -eq 1 ] || { fail "$n hint lines, want 1"; note_file "$WORK/tty"; }
	tc_end
else
	echo "SKIP ${TAG}statusline: the hint: this machine did not trace 100,000 calls a second for 10 s"
fi

[ $N_FAILED -eq 0 ]

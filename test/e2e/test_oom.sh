#!/usr/bin/env bash
# Out of memory inside iprofmem (issue 15: every fatal error unwinds): the
# shim build/targets/failmalloc.so, preloaded into iprofmem only, makes
# malloc/calloc/realloc fail after N successful calls.  Whatever N, iprofmem
# must end with a non-zero status and an "iprofmem: " message (or 0 and a
# table if no allocation failed), and the program must run on untraced:
# no tracer, every code byte as in the file (no int3 left), and the end
# with its normal output and exit status.
#
# The N values are not constants: a first run with the shim counting only
# (IPROFMEM_FAIL_LOG) gives the number of allocations before each phase
# (the first PTRACE_SEIZE, the first write of the tracee's code, the first
# PTRACE_CONT after it, the PTRACE_INTERRUPT that starts the detach, the
# first PTRACE_DETACH, the exit), and N is picked inside each phase, so the
# cases keep hitting the same phases while the engine changes:
#   -p, attach_idle burst (deterministic counts):
#     symbol loading    (seize + write) / 2
#     before the int3s  write - 1: the last allocation before they go in
#     int3s in          write: the first allocation after
#     detach            interrupt + 1, detach (between the two, or the
#                       first allocation after the first PTRACE_DETACH)
#     report            exit - 1
#   -p, attach_churn (threads born while attached: allocations while
#     tracing): a third and two thirds of the way from cont to interrupt
#   launch mode, attach_idle ticks: seize / 2 (before the program is
#     started or seized), symbol loading, write - 1, write, exit - 1
#   launch mode, attach_churn: a third, a half and two thirds of the way
#     from cont to exit
# A phase with no allocation at all (an engine that allocates nothing
# while tracing) gives a SKIP line instead of its cases.
# Each case's name gives N.  Under ASan (its own malloc) the cases SKIP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"
# the out-of-memory detach allocates nothing and runs nothing in the
# process: the probes' rings stay there, turned off (man page)
RINGS_LEFT_OK=1

SHIM=$TGT/failmalloc.so
IDLE=$TGT/attach_idle.O2-pie
CHURN=$TGT/attach_churn.O2-pie
LOG=$WORK/fail.log

if nm -D "$IPROFMEM" 2>/dev/null | grep -q __asan_init; then
	echo "SKIP ${TAG}oom: iprofmem is built with ASan, whose allocator the shim cannot replace"
	exit 0
fi
tc "oom: shim and targets"
need_file "$SHIM" "$IDLE" "$CHURN"
tc_end
[ $N_FAILED -eq 0 ] || exit 1

# ev NAME: the count logged for event NAME ("" if none).
ev() { awk -v e="$1" '$1 == e { print $2; exit }' "$LOG" 2>/dev/null; }

# shim_start N ARGS...: iprofmem ARGS in the background with the shim,
# failing after N allocations ("" = never), logging to $LOG.
shim_start() {
	local n=$1
	shift
	rm -f "$LOG" "$WORK"/san.*
	start_bg "$OUT" "$ERR" env LD_PRELOAD="$SHIM" IPROFMEM_FAIL_AFTER="$n" \
		IPROFMEM_FAIL_LOG="$LOG" "$IPROFMEM" "$@"
}

# shim_finish: waits for it (RC), and judges how it ended: a failed
# allocation -> non-zero, not by a signal, with an "iprofmem: " message;
# none -> WANT_RC and a table.
WANT_RC=0
# RAN_ON_RC: launch mode, where the program runs on untraced after the
# failure and iprofmem passes its exit status through: that status too.
RAN_ON_RC=
shim_finish() {
	finish_bg
	RC=$BG_RC
	[ $RC -eq 124 ] && fail "iprofmem timed out"
	check_sanitizer "$ERR"
	if [ -n "$(ev fail)" ]; then
		if [ $RC -eq 0 ] && [ "$RAN_ON_RC" != 0 ]; then
			fail "allocation $(ev fail) failed, yet iprofmem exited 0"
		elif [ $RC -gt 128 ] && [ $RC -ne 124 ]; then
			fail "iprofmem died of signal $((RC - 128)) after allocation $(ev fail) failed"
		fi
		grep -q '^iprofmem: ' "$ERR" || fail "no 'iprofmem: ' message after allocation $(ev fail) failed"
	else
		[ $RC -eq "$WANT_RC" ] || fail "no allocation failed, exit status $RC, want $WANT_RC"
		expect_table "$ERR" >/dev/null
	fi
	[ ${#TC_ERRS[@]} -eq 0 ] || { note "events: $(tr '\n' ' ' <"$LOG" 2>/dev/null)"; note_file "$ERR"; }
}

# bp_or_gone PID BIN FUNC: FUNC's entry is armed, or iprofmem ended.
bp_or_gone() {
	armed "$1" "$2" "$3" || ! kill -0 "$BG_PID" 2>/dev/null
}

# ip_pid: iprofmem's PID (the child of the env/timeout job), "" if gone.
ip_pid() {
	local c
	for c in $(pgrep -P "$BG_PID"); do
		[ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$IPROFMEM" ] && { echo "$c"; return; }
		for c in $(pgrep -P "$c"); do
			[ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$IPROFMEM" ] && { echo "$c"; return; }
		done
	done
}

# ---------------------------------------------------- -p on attach_idle

# idle_run N: attach_idle burst; iprofmem -p with the shim; a burst (3
# traced calls) while it may be attached, SIGINT; then the target checked
# and let go on: a second burst, SIGUSR2, "attach_idle: 2 bursts of 3",
# exit 0.  Sets TPID.
idle_run() {
	local n=$1 ip
	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$IDLE" burst "$WORK/ready" "$WORK/progress" 3
	tgt_ready "$WORK/ready" || return 1
	shim_start "$n" -p "$TPID"
	wait_for 10 bp_or_gone "$TPID" "$IDLE" burst_touch || fail "no breakpoint, iprofmem still running"
	kill -USR1 "$TPID"
	wait_line "$WORK/progress" '^burst 1$' 10 "$TPID"
	ip=$(ip_pid)
	[ -n "$ip" ] && kill -INT "$ip"
	shim_finish
	if alive "$TPID"; then
		unharmed "$TPID" "$IDLE" burst_touch last_work
		kill -USR1 "$TPID"
		wait_line "$WORK/progress" '^burst 2$' 10 "$TPID"
		kill -USR2 "$TPID"
	else
		fail "the target is gone"
	fi
	tgt_finish
	[ "$TRC" = 0 ] || fail "the target exited $TRC (133: SIGTRAP on a leftover int3)"
	grep -qx 'attach_idle: 2 bursts of 3' "$WORK/tgt.out" ||
		fail "target output: '$(head -c 200 "$WORK/tgt.out")'"
}

tc "oom: -p attach_idle, counting run (no failure)"
idle_run ""
for e in seize write cont interrupt detach exit; do
	[ -n "$(ev $e)" ] || fail "no '$e' event logged"
done
cp "$LOG" "$WORK/idle.log"
note "events: $(tr '\n' ' ' <"$LOG")"
tc_end
LOG_IDLE=$WORK/idle.log
ei() { awk -v e="$1" '$1 == e { print $2; exit }' "$LOG_IDLE"; }

if [ -n "$(ei exit)" ]; then
	S=$(ei seize) W=$(ei write) I=$(ei interrupt) D=$(ei detach) E=$(ei exit)
	for spec in "symbol loading:$(((S + W) / 2))" "before the int3s go in:$((W - 1))" \
		"just after the int3s went in:$W" "stopping to detach:$((I + 1))" \
		"detaching:$D" "the report:$((E - 1))"; do
		n=${spec##*:}
		tc "oom: -p attach_idle, malloc fails at $n (${spec%:*}): message, target unharmed"
		[ "$n" -ge 0 ] && idle_run "$n"
		tc_end
	done
fi

# ---------------------------------------------------- -p on attach_churn

CHURN_REF=
# churn_run N: attach_churn; iprofmem -p --duration=1 with the shim; then
# the target checked, SIGUSR1, its normal output and exit 0.
churn_run() {
	local n=$1
	rm -f "$WORK/ready"
	tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$CHURN" "$WORK/ready"
	tgt_ready "$WORK/ready" || return 1
	shim_start "$n" -p "$TPID" --duration=1
	shim_finish
	if alive "$TPID"; then
		unharmed "$TPID" "$CHURN" leaf
		kill -USR1 "$TPID"
	else
		fail "the target is gone"
	fi
	tgt_finish
	[ "$TRC" = 0 ] || fail "the target exited $TRC (133: SIGTRAP on a leftover int3)"
	[ -z "$CHURN_REF" ] || cmp -s "$WORK/tgt.out" "$CHURN_REF" ||
		fail "target output: '$(head -c 200 "$WORK/tgt.out")'"
}

tc "oom: -p attach_churn, counting run (no failure)"
churn_run ""
grep -q '^attach_churn: every thread computed the right value' "$WORK/tgt.out" ||
	fail "target output: '$(head -c 200 "$WORK/tgt.out")'"
cp "$WORK/tgt.out" "$WORK/churn.ref"
CHURN_REF=$WORK/churn.ref
C=$(ev cont) I=$(ev interrupt)
note "events: $(tr '\n' ' ' <"$LOG")"
[ -n "$C" ] && [ -n "$I" ] || fail "no 'cont' or 'interrupt' event"
tc_end
if [ -n "$C" ] && [ -n "$I" ] && [ $((I - C)) -ge 3 ]; then
	for n in $((C + (I - C) / 3)) $((C + 2 * (I - C) / 3)); do
		tc "oom: -p attach_churn, malloc fails at $n (while tracing threads being born): message, target unharmed"
		churn_run "$n"
		tc_end
	done
else
	echo "SKIP ${TAG}oom: -p attach_churn while tracing: $((${I:-0} - ${C:-0})) allocations while tracing, nothing to fail there"
fi

# ---------------------------------------------------------- launch mode

# wait_gone REGEX: until no process's command line matches it (10 s).
wait_gone() { wait_for 10 eval '! pgrep -f -- "$1" >/dev/null'; }

# launch_idle N: iprofmem -- attach_idle ticks 20 10 3; the program's own
# output ("attach_idle: 20 ticks") must come, whatever N, once the program
# was started (a "seize" event); with no failure, exit status 3.
launch_idle() {
	local n=$1
	shim_start "$n" -- "$IDLE" ticks 20 10 3 "$MARK"
	WANT_RC=3
	shim_finish
	WANT_RC=0
	wait_for 10 eval '! pgrep -f -- "$MARK" >/dev/null' || fail "the program did not end"
	if [ -n "$(ev seize)" ]; then
		grep -qx 'attach_idle: 20 ticks' "$OUT" || fail "the program's output: '$(head -c 200 "$OUT")'"
	fi
	check_no_leftover
}

tc "oom: launch attach_idle, counting run (no failure)"
launch_idle ""
cp "$LOG" "$WORK/launch.log"
note "events: $(tr '\n' ' ' <"$LOG")"
[ -n "$(ev exit)" ] || fail "no 'exit' event"
tc_end
LOG_IDLE=$WORK/launch.log
if [ -n "$(ei exit)" ]; then
	S=$(ei seize) W=$(ei write) E=$(ei exit)
	for spec in "before the program is seized:$((S / 2))" "symbol loading:$(((S + W) / 2))" \
		"before the int3s go in:$((W - 1))" "just after the int3s went in:$W" \
		"the report:$((E - 1))"; do
		n=${spec##*:}
		tc "oom: launch attach_idle, malloc fails at $n (${spec%:*}): message, the program runs to its end"
		launch_idle "$n"
		tc_end
	done
fi

# launch_churn N: iprofmem -- attach_churn READY; SIGUSR1 to the program
# after 0.5 s; its normal output whatever N; with no failure, exit 0.
launch_churn() {
	local n=$1 tp
	rm -f "$WORK/ready"
	shim_start "$n" -- "$CHURN" "$WORK/ready" "$MARK"
	if wait_for 10 test -s "$WORK/ready"; then
		tp=$(cut -d' ' -f1 "$WORK/ready")
		sleep 0.5
		kill -USR1 "$tp"
	else
		fail "the program never got ready"
	fi
	RAN_ON_RC=0
	shim_finish
	RAN_ON_RC=
	wait_for 10 eval '! pgrep -f -- "$MARK" >/dev/null' || fail "the program did not end"
	[ -z "$CHURN_REF" ] || cmp -s "$OUT" "$CHURN_REF" ||
		fail "the program's output: '$(head -c 200 "$OUT")'"
	check_no_leftover
}

tc "oom: launch attach_churn, counting run (no failure)"
launch_churn ""
C=$(ev cont) E=$(ev exit)
note "events: $(tr '\n' ' ' <"$LOG")"
[ -n "$C" ] && [ -n "$E" ] || fail "no 'cont' or 'exit' event"
tc_end
if [ -n "$C" ] && [ -n "$E" ] && [ $((E - C)) -ge 3 ]; then
	# several points: which thread event the failure hits is a race
	# (a new thread's first stop waited for but not yet in the table;
	# an interrupt reported before the SIGTRAP of an int3 just run)
	for n in $((C + (E - C) / 3)) $((C + (E - C) / 3 + 1)) $((C + (E - C) / 2)) \
		$((C + 2 * (E - C) / 3)); do
		tc "oom: launch attach_churn, malloc fails at $n (while tracing threads being born): message, the program runs to its end"
		launch_churn "$n"
		tc_end
	done
else
	echo "SKIP ${TAG}oom: launch attach_churn while tracing: $((${E:-0} - ${C:-0})) allocations after cont, nothing to fail there"
fi

[ $N_FAILED -eq 0 ]

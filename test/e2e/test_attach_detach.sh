#!/usr/bin/env bash
# After a detach the process goes on exactly as if never traced
# (test/targets/attach_idle.c; every mode has a second thread blocked in a
# read on a pipe of its own, which must read the right bytes at the end):
#  - blocked in read() on a FIFO when attached and still after the detach:
#    the read returns the line the test writes after the detach;
#  - the line comes while attached: the read returns it, and the table
#    holds exactly the calls made after it (after_read 3 pages, 3 calls),
#    none for reader(), whose call began before the attach;
#  - in nanosleep(): it returns 0, not early, and not much late;
#  - stopped (SIGSTOP) when attached: still stopped after the detach, every
#    thread, and it goes on at SIGCONT;
#  - stopped (SIGSTOP) while attached: stopped after the detach too;
# and after each detach: no tracer, every code byte of the executable as
# in the file (entries of several functions named), not stopped unless it
# was; stdout and exit status as an untraced run with the same steps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

SYS_READ=0
SYS_CLOCK_NANOSLEEP=230
SYS_RT_SIGTIMEDWAIT=128
CHECKED="reader after_read nap burst_touch last_work helper_main main"

# start_idle MODE OUTFILE ARGS...: attach_idle MODE in the background;
# TPID once ready (empty on failure, with the target ended).
start_idle() {
	local mode=$1 o=$2
	shift 2
	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$o" "$o.err" "$bin" "$mode" "$WORK/ready" "$WORK/progress" "$@"
	tgt_ready "$WORK/ready" || { tgt_kill; TPID=; return 1; }
}

# the FIFO: the test holds it open read-write, so that the target's open
# for reading does not wait and a write never blocks
mkfifo "$WORK/fifo"
exec {FIFO}<>"$WORK/fifo"

# pipe_run WHO: attach_idle pipe, the line written once it waits in read();
# WHO=plain: untraced; WHO=after: a --duration attach before the line;
# WHO=during: the line written while attached, SIGINT once it was read.
pipe_run() {
	local o=$WORK/$1.out
	start_idle pipe "$o" "$WORK/fifo" || return
	wait_for 5 in_syscall "$TPID" $SYS_READ || fail "not in read() (/proc/$TPID/syscall: $(cut -d' ' -f1 "/proc/$TPID/syscall"))"
	case $1 in
	after)
		run_ip --duration=0.3 -p "$TPID"
		expect_exit 0
		expect_only_table "$ERR" && [ $TBL_EMPTY = 1 ] || fail "want the no-row table"
		unharmed "$TPID" "$bin" $CHECKED
		in_syscall "$TPID" $SYS_READ || fail "no longer in read() after the detach"
		[ -s "$WORK/progress" ] && fail "read() returned before the line came"
		;;
	during)
		start_ip -p "$TPID"
		wait_bp "$TPID" "$bin" after_read || { ip_abort; finish_ip; tgt_kill; return; }
		;;
	esac
	echo "hello 42" >&$FIFO
	wait_line "$WORK/progress" '^read$'
	if [ "$1" = during ]; then
		kill -INT "$IP_PID"
		finish_ip
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_exact_rows attach_idle after_read:3:3
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		unharmed "$TPID" "$bin" $CHECKED
	fi
	kill -USR1 "$TPID"
	tgt_finish
}

# same_as_plain NAME: the target's stdout and exit status ($WORK/NAME.out,
# TRC) are those of the untraced run ($WORK/plain.out, PRC).
same_as_plain() {
	[ "$TRC" = "$PRC" ] || fail "target exit status $TRC, untraced $PRC"
	if ! cmp -s "$WORK/$1.out" "$WORK/plain.out"; then
		fail "target stdout differs from the untraced run"
		note "$(diff "$WORK/plain.out" "$WORK/$1.out" | head -n 10)"
	fi
}

for v in O2-pie O0-nopie-cet; do
	bin=$TGT/attach_idle.$v
	[ -e "$bin" ] || { tc "attach_idle.$v: built"; need_file "$bin"; tc_end; continue; }

	tc "attach_idle.$v: untraced: read on a FIFO"
	pipe_run plain
	PRC=$TRC
	grep -qx "attach_idle: read 'hello 42'" "$WORK/plain.out" || fail "untraced: $(head -c 100 "$WORK/plain.out")"
	tc_end

	tc "attach_idle.$v: attached and detached while blocked in read(): the read returns the line written after"
	pipe_run after
	same_as_plain after
	tc_end

	tc "attach_idle.$v: the line comes while attached: only the calls after it (after_read 3 x 1 page)"
	pipe_run during
	same_as_plain during
	tc_end

	tc "attach_idle.$v: attached and detached in nanosleep(1000 ms): returns 0, not early, not 1 s late"
	if start_idle sleep "$WORK/sleep.out" 1000; then
		wait_for 5 in_syscall "$TPID" $SYS_CLOCK_NANOSLEEP ||
			fail "not in clock_nanosleep (/proc/$TPID/syscall: $(cut -d' ' -f1 "/proc/$TPID/syscall"))"
		run_ip --duration=0.3 -p "$TPID"
		expect_exit 0
		expect_only_table "$ERR" && [ $TBL_EMPTY = 1 ] || fail "want the no-row table"
		unharmed "$TPID" "$bin" $CHECKED
		tgt_finish
		[ "$TRC" = 0 ] || fail "target exit status $TRC"
		grep -qx 'attach_idle: nanosleep returned 0, not early' "$WORK/sleep.out" ||
			fail "target: $(head -c 100 "$WORK/sleep.out")"
		ms=$(awk '$1 == "slept" { print $2 }' "$WORK/progress")
		[ -n "$ms" ] && [ "$ms" -ge 1000 ] && [ "$ms" -lt 2000 ] || fail "slept '$ms' ms, want 1000..1999"
	fi
	tc_end

	# burst_seq WHO: attach_idle burst 4: SIGSTOP, [attach, detach], the
	# checks of a stopped process, SIGCONT, SIGUSR1 (a burst), SIGUSR2.
	burst_seq() {
		start_idle burst "$WORK/$1.out" 4 || return
		wait_for 5 in_syscall "$TPID" $SYS_RT_SIGTIMEDWAIT || fail "not in sigtimedwait"
		kill -STOP "$TPID"
		wait_for 5 all_threads_state "$TPID" '^T$' || fail "not stopped by SIGSTOP"
		case $1 in
		stopped)
			run_ip --duration=0.3 -p "$TPID"
			expect_exit 0
			expect_only_table "$ERR" && [ $TBL_EMPTY = 1 ] || fail "want the no-row table"
			untraced "$TPID"
			code_intact "$TPID" "$bin" $CHECKED
			all_threads_state "$TPID" '^T$' || fail "not every thread stopped right after the detach"
			sleep 0.2
			all_threads_state "$TPID" '^T$' || fail "not every thread stopped 0.2 s after the detach"
			[ -s "$WORK/progress" ] && fail "it ran while it should be stopped"
			;;
		esac
		kill -CONT "$TPID"
		wait_for 5 all_threads_state "$TPID" '^[RS]$' || fail "not running after SIGCONT"
		kill -USR1 "$TPID"
		wait_line "$WORK/progress" '^burst 1$'
		[ "$1" = plain ] || unharmed "$TPID" "$bin" $CHECKED
		kill -USR2 "$TPID"
		tgt_finish
	}

	tc "attach_idle.$v: untraced: SIGSTOP, SIGCONT, a burst"
	burst_seq plain
	PRC=$TRC
	grep -qx 'attach_idle: 1 bursts of 4' "$WORK/plain.out" || fail "untraced: $(head -c 100 "$WORK/plain.out")"
	tc_end

	tc "attach_idle.$v: stopped (SIGSTOP) when attached: stays stopped after the detach, runs on at SIGCONT"
	burst_seq stopped
	same_as_plain stopped
	tc_end

	tc "attach_idle.$v: SIGSTOP while attached: stopped after the detach, runs on at SIGCONT"
	if start_idle burst "$WORK/stopin.out" 4; then
		start_ip -p "$TPID"
		if wait_bp "$TPID" "$bin" burst_touch; then
			kill -STOP "$TPID"
			wait_for 5 all_threads_state "$TPID" '^[tT]$' || fail "not stopped by SIGSTOP while traced"
			sleep 0.1
			kill -INT "$IP_PID"
		else
			ip_abort
		fi
		finish_ip
		expect_exit 0
		expect_only_table "$ERR" && [ $TBL_EMPTY = 1 ] || fail "want the no-row table"
		untraced "$TPID"
		code_intact "$TPID" "$bin" $CHECKED
		sleep 0.2
		all_threads_state "$TPID" '^T$' ||
			fail "not stopped 0.2 s after the detach (states: $(cat /proc/"$TPID"/task/*/stat 2>/dev/null | awk '{ printf "%s ", $3 }'))"
		[ -s "$WORK/progress" ] && fail "it ran while it should be stopped"
		kill -CONT "$TPID"
		wait_for 5 all_threads_state "$TPID" '^[RS]$' || fail "not running after SIGCONT"
		kill -USR1 "$TPID"
		wait_line "$WORK/progress" '^burst 1$'
		unharmed "$TPID" "$bin" $CHECKED
		kill -USR2 "$TPID"
		tgt_finish
		same_as_plain stopin
	fi
	tc_end
done

exec {FIFO}>&-
[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Signals and traced frames (test/targets/sig.c):
#  - handlers that call traced functions while traced frames are live, on
#    the thread's stack and on an alternate stack: every row exact;
#  - a SIGCHLD storm (50 children, a handler that reaps): counts, output
#    and exit status as untraced; the parent's rows exact, with -f the
#    children's too; -f --per-process: a table per process;
#  - SIGSTOP / SIGTSTP, then SIGCONT, sent to the tracee by the test: it is
#    stopped meanwhile (/proc/PID/status: T, or t under ptrace), iprofmem is
#    not; then it runs on (its SIGCONT handler too) and ends as untraced;
#  - SIGSTOP then SIGCONT in pairs from the program's exec on, while
#    iprofmem sets it up (test/targets/attach_idle.c ticks): a SIGSTOP
#    taken while the program ran iprofmem's injected system calls must not
#    outlast the SIGCONT after it; the program ends as untraced;
#  - SIGKILL or SIGTERM sent to the tracee: exit 128+N, the table of what
#    returned before; SIGTERM or SIGHUP sent to iprofmem: passed on to the
#    program, which dies of it as it would untraced.
# No process is left behind.
. "$(dirname "$0")/lib.sh"

SIG_LOOSE="warm_handler warm_chld on ready setup main"
k() { src_key sig "$1"; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/sig.$v
	tc "sig.$v handler: traced calls in handlers over live frames, exact"
	if need_file "$bin"; then
		run_plain "$bin" handler /dev/null "$MARK"
		run_ip -- "$bin" handler /dev/null "$MARK"
		expect_same_as_plain
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_sorted
			expect_row "$(k handler_work)" 6 6
			expect_row "$(k on_usr1)" 6 3
			expect_row "$(k inner)" 12 3
			expect_row "$(k outer)" 15 3
			expect_row "$(k alt_work)" 2 2
			expect_row "$(k on_usr2)" 4 2
			expect_row "$(k alt_outer)" 6 2
			expect_rows_only sig handler_work on_usr1 inner outer alt_work on_usr2 alt_outer $SIG_LOOSE
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

for v in O0-pie O0-nopie-cet O2-pie O2-nopie-cet; do
	bin=$TGT/sig.$v
	for f in "" -f; do
		tc "sig.$v storm${f:+ $f}: 50 children reaped as untraced, rows exact"
		if need_file "$bin"; then
			run_plain "$bin" storm /dev/null "$MARK"
			run_ip $f -- "$bin" storm /dev/null "$MARK"
			expect_same_as_plain
			expect_exit 0
			grep -q '^sig: 50 children reaped, exit statuses sum to 147, 0 odd ends$' "$OUT" ||
				fail "stdout: '$(head -n1 "$OUT")'"
			if expect_only_table "$ERR"; then
				expect_sorted
				expect_row "$(k storm_parent_work)" 50 50
				expect_no_row "$(k on_chld)"
				if [ -n "$f" ]; then
					expect_row "$(k storm_child)" 50 50
				else
					expect_no_row "$(k storm_child)"
				fi
				expect_rows_only sig storm_parent_work storm_child storm $SIG_LOOSE
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
		fi
		tc_end
	done
done

bin=$TGT/sig.O2-pie
# 52 processes: the leader, setup()'s warm-up child (nothing traced grows
# in it: the no-row table), the 50 children of the storm.
tc "sig.O2-pie storm -f --per-process: 52 tables, each child's row exact"
if need_file "$bin"; then
	run_ip -f --per-process -- "$bin" storm /dev/null "$MARK"
	expect_exit 0
	split_tables "$ERR"
	[ -z "$PT_PROBLEM" ] || fail "$PT_PROBLEM"
	[ ${#PT_OTHER[@]} -eq 0 ] || fail "lines before the first table: '${PT_OTHER[0]}'"
	[ "$PT_N" = 52 ] || fail "$PT_N tables, want 52"
	for ((i = 0; i < PT_N; i++)); do
		[ "${PT_CMD[i]}" = "$bin storm /dev/null $MARK" ] || fail "table $((i + 1)): command line '${PT_CMD[i]}'"
		[ $i -gt 0 ] && [ "${PT_PID[i]}" = "${PT_PID[0]}" ] && fail "table $((i + 1)): the leader's PID again"
		expect_only_table "${PT_FILE[i]}" || break
		if [ $i = 0 ]; then
			expect_row "$(k storm_parent_work)" 50 50
			expect_rows_only sig storm_parent_work storm $SIG_LOOSE
		elif [ $i = 1 ]; then
			[ "$TBL_EMPTY" = 1 ] || fail "warm-up child: rows '${ROWS[0]}'"
		else
			expect_row "$(k storm_child)" 1 1
			expect_rows_only sig storm_child
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || break
	done
	n=$(printf '%s\n' "${PT_PID[@]}" | sort -u | wc -l)
	[ "$n" = "$PT_N" ] || fail "$PT_N tables but $n PIDs"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# wait_state PID REGEX: waits (5 s at most) until PID's state matches.
wait_state() {
	local i s
	for ((i = 0; i < 500; i++)); do
		s=$(proc_state "$1")
		[[ $s =~ $2 ]] && return 0
		sleep 0.01
	done
	return 1
}

# stop_cont WHO SIG OUTFILE ERRFILE COMMAND...: runs COMMAND in the
# background, stops the program (READY's PID) with SIG once it is ready,
# checks it stays stopped (and, traced, that iprofmem does not), sends
# SIGCONT.  WHO: plain or traced.  BG_RC: the exit status.
stop_cont() {
	local who=$1 sig=$2 o=$3 e=$4 rf=$WORK/ready
	shift 4
	rm -f "$rf"
	start_bg "$o" "$e" "$@"
	if wait_ready "$rf"; then
		kill -s "$sig" "$READY_PID"
		if ! wait_state "$READY_PID" '^[Tt]$'; then
			fail "$who: not stopped after SIG$sig (state $(proc_state "$READY_PID"))"
		else
			sleep 0.2
			[[ $(proc_state "$READY_PID") =~ ^[Tt]$ ]] || fail "$who: did not stay stopped (state $(proc_state "$READY_PID"))"
			if [ "$who" = traced ]; then
				[[ $(proc_state "$READY_PPID") =~ ^[RS]$ ]] || fail "iprofmem in state $(proc_state "$READY_PPID") while the program is stopped"
			fi
		fi
		kill -s CONT "$READY_PID"
	fi
	finish_bg
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/sig.$v
	for s in STOP TSTP; do
		tc "sig.$v: SIG$s then SIGCONT from outside, runs on as untraced"
		if need_file "$bin"; then
			stop_cont plain "$s" "$POUT" "$PERR" "$bin" stop "$WORK/ready" "$MARK"
			PRC=$BG_RC
			rm -f "$WORK"/san.*
			stop_cont traced "$s" "$OUT" "$ERR" "$IPROFMEM" -- "$bin" stop "$WORK/ready" "$MARK"
			RC=$BG_RC
			[ $RC -eq 124 ] && fail "iprofmem timed out after ${E2E_TIMEOUT}s"
			check_sanitizer "$ERR"
			check_no_leftover
			expect_same_as_plain
			expect_exit 0
			grep -q '^sig: continued$' "$OUT" || fail "no 'continued' line"
			if expect_only_table "$ERR"; then
				expect_sorted
				expect_row "$(k pre_stop)" 3 3
				expect_row "$(k post_cont)" 8 4
				expect_row "$(k on_cont)" 1 1
				expect_rows_only sig pre_stop post_cont on_cont $SIG_LOOSE
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
		fi
		tc_end
	done
done

# start_pairs OUTFILE ERRFILE IPROFMEM -- BIN ARGS...: runs the command in
# the background and, from the moment the program has exec'd, for a
# random 0 to 10 ms, sends it SIGSTOP, then SIGCONT 0.3 to 1 ms later,
# over and over.  They fall in iprofmem's set-up, while it injects system
# calls into the program: a SIGSTOP taken from the program then is
# iprofmem's to give back, and must not outlast the SIGCONT sent after
# it.  The program runs on as untraced; one still stopped 10 s later
# fails (and gets a last SIGCONT).  PAIRS: how many pairs were sent.
# BG_RC: the exit status.
start_pairs() {
	local o=$1 e=$2 bin=$5 c i t0=0 t end=0
	shift 2
	PAIRS=0
	start_bg "$o" "$e" "$@"
	find_exec "$BG_PID" "$bin"
	c=$FOUND
	if [ -z "$c" ]; then
		fail "the program was not seen running"
	else
		t0=${EPOCHREALTIME/./}
		end=$((t0 + RANDOM % 10000))
		while kill -s STOP "$c" 2>/dev/null; do
			t=$((${EPOCHREALTIME/./} + 300 + RANDOM % 700))
			while ((${EPOCHREALTIME/./} < t)); do :; done
			kill -s CONT "$c"
			PAIRS=$((PAIRS + 1))
			((${EPOCHREALTIME/./} < end)) || break
		done
		for ((i = 0; i < 1000; i++)); do
			kill -0 "$BG_PID" 2>/dev/null || break
			sleep 0.01
		done
		if kill -0 "$BG_PID" 2>/dev/null; then
			fail "still running 10 s after the last SIGCONT (program state $(proc_state "$c"))"
			kill -s CONT "$c" 2>/dev/null
		fi
	fi
	finish_bg
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/attach_idle.$v
	tc "attach_idle.$v: SIGSTOP and SIGCONT in pairs from its exec on, runs on as untraced"
	if need_file "$bin"; then
		run_plain "$bin" ticks 4 10 0 "$MARK"
		for ((round = 0; round < 8; round++)); do
			rm -f "$WORK"/san.*
			start_pairs "$OUT" "$ERR" "$IPROFMEM" -- "$bin" ticks 4 10 0 "$MARK"
			RC=$BG_RC
			[ $RC -eq 124 ] && fail "iprofmem timed out after ${E2E_TIMEOUT}s"
			[ $PAIRS -gt 0 ] || fail "no SIGSTOP could be sent"
			check_sanitizer "$ERR"
			check_no_leftover
			expect_same_as_plain
			if expect_only_table "$ERR"; then
				expect_row "$(src_key attach_idle tick)" 4 4
			fi
			if [ ${#TC_ERRS[@]} -ne 0 ]; then
				note "round $round, $PAIRS pairs"
				note_file "$ERR"
				break
			fi
		done
	fi
	tc_end
done

# kill_run WHO SIG OUTFILE ERRFILE COMMAND...: COMMAND in the background;
# once the program is ready, SIG goes to WHO: "program" (READY's PID) or
# "iprofmem" (its parent).  BG_RC: the exit status.
kill_run() {
	local who=$1 sig=$2 o=$3 e=$4 rf=$WORK/ready
	shift 4
	rm -f "$rf"
	start_bg "$o" "$e" "$@"
	if wait_ready "$rf"; then
		if [ "$who" = iprofmem ]; then
			kill -s "$sig" "$READY_PPID"
		else
			kill -s "$sig" "$READY_PID"
		fi
	fi
	finish_bg
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/sig.$v
	for c in program:KILL:9 program:TERM:15 iprofmem:TERM:15 iprofmem:HUP:1; do
		who=${c%%:*} s=${c#*:} n=${s#*:} s=${s%:*}
		tc "sig.$v: SIG$s to ${who/program/the program}, exit $((128 + n)), rows before"
		if need_file "$bin"; then
			kill_run program "$s" "$POUT" "$PERR" "$bin" wait "$WORK/ready" "$MARK"
			PRC=$BG_RC
			rm -f "$WORK"/san.*
			kill_run "$who" "$s" "$OUT" "$ERR" "$IPROFMEM" -- "$bin" wait "$WORK/ready" "$MARK"
			RC=$BG_RC
			[ $RC -eq 124 ] && fail "iprofmem timed out after ${E2E_TIMEOUT}s"
			check_sanitizer "$ERR"
			check_no_leftover
			expect_same_as_plain
			expect_exit $((128 + n))
			if expect_only_table "$ERR"; then
				expect_sorted
				expect_row "$(k pre_stop)" 3 3
				expect_no_row "$(k wait_forever)"
				expect_no_row "$(k main)"
				expect_rows_only sig pre_stop $SIG_LOOSE
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
		fi
		tc_end
	done
done

[ $N_FAILED -eq 0 ]

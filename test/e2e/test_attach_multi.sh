#!/usr/bin/env bash
# Attaching to two processes at once (test/targets/attach_idle.c burst:
# A makes 3 calls of burst_touch per SIGUSR1, B makes 5; 1 page each):
#  - --per-process -p A --pid=B: two tables on stderr, in that order, each
#    headed "PID n: command line" with the process's own command line,
#    A's exactly burst_touch 3 pages 3 calls, B's 5 and 5;
#  - -p B,A without --per-process: one table, the sum: 8 pages, 8 calls;
# both end with SIGINT to iprofmem, exit 0; both processes unharmed and
# ending with their untraced output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

CHECKED="burst_touch last_work helper_main main"

# start_two: A (3) and B (5) running; sets A_PID B_PID A_JOB B_JOB, or
# returns 1.
start_two() {
	rm -f "$WORK"/ready.[ab] "$WORK"/progress.[ab]
	tgt_start "$WORK/a.out" "$WORK/a.err" "$bin" burst "$WORK/ready.a" "$WORK/progress.a" 3
	A_JOB=$TJOB
	tgt_ready "$WORK/ready.a" || { tgt_kill; return 1; }
	A_PID=$TPID
	tgt_start "$WORK/b.out" "$WORK/b.err" "$bin" burst "$WORK/ready.b" "$WORK/progress.b" 5
	B_JOB=$TJOB
	tgt_ready "$WORK/ready.b" || { tgt_kill; TJOB=$A_JOB; tgt_kill; return 1; }
	B_PID=$TPID
}

# burst_both: one burst in each, traced or not.
burst_both() {
	kill -USR1 "$A_PID" "$B_PID"
	wait_line "$WORK/progress.a" "^burst $1\$"
	wait_line "$WORK/progress.b" "^burst $1\$"
}

# end_two: both unharmed, a second burst untraced, then their end.
end_two() {
	unharmed "$A_PID" "$bin" $CHECKED
	unharmed "$B_PID" "$bin" $CHECKED
	burst_both 2
	kill -USR2 "$A_PID" "$B_PID"
	TJOB=$A_JOB
	tgt_finish
	[ "$TRC" = 0 ] || fail "A: exit status $TRC"
	grep -qx 'attach_idle: 2 bursts of 3' "$WORK/a.out" || fail "A: $(head -c 100 "$WORK/a.out")"
	TJOB=$B_JOB
	tgt_finish
	[ "$TRC" = 0 ] || fail "B: exit status $TRC"
	grep -qx 'attach_idle: 2 bursts of 5' "$WORK/b.out" || fail "B: $(head -c 100 "$WORK/b.out")"
}

# attach_two ARGS...: iprofmem ARGS attached to both, one burst in each,
# SIGINT.
attach_two() {
	start_ip "$@"
	if wait_bp "$A_PID" "$bin" burst_touch && wait_bp "$B_PID" "$bin" burst_touch; then
		[ "$(tracer_of "$A_PID")" = "$IP_PID" ] || fail "A and B have different tracers"
		burst_both 1
		kill -INT "$IP_PID"
	else
		ip_abort
	fi
	finish_ip
	expect_exit 0
}

for v in O2-pie O0-nopie; do
	bin=$TGT/attach_idle.$v
	[ -e "$bin" ] || { tc "attach_idle.$v: built"; need_file "$bin"; tc_end; continue; }
	key=$(src_key attach_idle burst_touch)

	tc "attach_idle.$v: --per-process -p A --pid=B: a table per process, in that order, with its header"
	if start_two; then
		a_cmd=$(cmdline_of "$A_PID") b_cmd=$(cmdline_of "$B_PID")
		attach_two --per-process -p "$A_PID" --pid="$B_PID"
		split_tables "$ERR"
		if [ -n "$PT_PROBLEM" ] || [ "$PT_N" != 2 ]; then
			fail "${PT_PROBLEM:-$PT_N tables, want 2}"
			note_file "$ERR"
		else
			[ ${#PT_OTHER[@]} -eq 0 ] || fail "stderr before the first table: '${PT_OTHER[0]}'"
			[ "${PT_PID[0]}" = "$A_PID" ] || fail "first table for PID ${PT_PID[0]}, want A ($A_PID)"
			[ "${PT_PID[1]}" = "$B_PID" ] || fail "second table for PID ${PT_PID[1]}, want B ($B_PID)"
			[ "${PT_CMD[0]}" = "$a_cmd" ] || fail "first header '${PT_CMD[0]}', want '$a_cmd'"
			[ "${PT_CMD[1]}" = "$b_cmd" ] || fail "second header '${PT_CMD[1]}', want '$b_cmd'"
			for i in 0 1; do
				n=$((i == 0 ? 3 : 5))
				if expect_only_table "${PT_FILE[i]}"; then
					expect_exact_rows attach_idle "burst_touch:$n:$n"
				fi
			done
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		end_two
	fi
	tc_end

	tc "attach_idle.$v: -p B,A: one table, the sum of both"
	if start_two; then
		attach_two -p "$B_PID,$A_PID"
		if expect_only_table "$ERR"; then
			expect_exact_rows attach_idle burst_touch:8:8
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		end_two
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

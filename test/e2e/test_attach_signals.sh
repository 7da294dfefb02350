#!/usr/bin/env bash
# What ends an attach (test/targets/attach_idle.c burst 4: each SIGUSR1 to
# it makes 4 calls of burst_touch, 1 page each; SIGUSR2 makes 2 calls of
# last_work and ends it):
#  - SIGINT, SIGTERM, SIGHUP to iprofmem, after one burst while attached:
#    exit 0, stderr only the table, exactly burst_touch 4 pages 4 calls;
#  - --duration=0.5 (no signal): the same, after at least 0.5 s;
#  - the process ending while attached (SIGUSR2 to it): the same table
#    plus last_work 2 pages 2 calls, exit 0;
# and the process unharmed: no tracer, every code byte as in the file, a
# second burst after the detach, and in the end the stdout and exit status
# of an untraced run with the same steps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

CHECKED="burst_touch last_work helper_main main"

# burst_run NAME HOW: attach_idle burst 4 with stdout in $WORK/NAME.out.
# HOW: plain (untraced), INT|TERM|HUP (that signal to iprofmem after a
# burst), duration (--duration=0.5), exit (SIGUSR2 while attached).
burst_run() {
	local name=$1 how=$2 t0
	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$WORK/$name.out" "$WORK/$name.err" "$bin" burst "$WORK/ready" "$WORK/progress" 4
	tgt_ready "$WORK/ready" || { tgt_kill; return; }
	if [ "$how" != plain ]; then
		t0=$(now_s)
		if [ "$how" = duration ]; then
			start_ip --duration=0.5 -p "$TPID"
		else
			start_ip -p "$TPID"
		fi
		wait_bp "$TPID" "$bin" burst_touch || { ip_abort; finish_ip; tgt_kill; return; }
	fi
	kill -USR1 "$TPID"
	wait_line "$WORK/progress" '^burst 1$'
	case $how in
	INT | TERM | HUP)
		kill -s "$how" "$IP_PID"
		finish_ip
		;;
	duration)
		finish_ip
		t0=$(elapsed_since "$t0")
		awk -v t="$t0" 'BEGIN { exit !(t >= 0.5 && t < 10) }' ||
			fail "iprofmem --duration=0.5 ran $t0 s"
		;;
	exit)
		kill -USR2 "$TPID"
		tgt_finish
		finish_ip
		;;
	esac
	if [ "$how" != plain ]; then
		expect_exit 0
		if expect_only_table "$ERR"; then
			if [ "$how" = exit ]; then
				expect_exact_rows attach_idle burst_touch:4:4 last_work:2:2
			else
				expect_exact_rows attach_idle burst_touch:4:4
			fi
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	[ "$how" = exit ] && return
	[ "$how" = plain ] || unharmed "$TPID" "$bin" $CHECKED
	kill -USR1 "$TPID"
	wait_line "$WORK/progress" '^burst 2$'
	kill -USR2 "$TPID"
	tgt_finish
}

# same_as_plain NAME: the target's stdout and exit status ($WORK/NAME.out,
# TRC) are those of the untraced run with the same steps.
same_as_plain() {
	[ "$TRC" = "$2" ] || fail "target exit status $TRC, untraced $2"
	if ! cmp -s "$WORK/$1.out" "$WORK/$3.out"; then
		fail "target stdout differs from the untraced run"
		note "$(diff "$WORK/$3.out" "$WORK/$1.out" | head -n 10)"
	fi
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/attach_idle.$v
	[ -e "$bin" ] || { tc "attach_idle.$v: built"; need_file "$bin"; tc_end; continue; }

	tc "attach_idle.$v: untraced: two bursts"
	burst_run plain2 plain
	PRC2=$TRC
	grep -qx 'attach_idle: 2 bursts of 4' "$WORK/plain2.out" || fail "untraced: $(head -c 100 "$WORK/plain2.out")"
	tc_end

	for s in INT TERM HUP; do
		tc "attach_idle.$v: SIG$s to iprofmem ends the attach: table, exit 0, process unharmed"
		burst_run "sig$s" "$s"
		same_as_plain "sig$s" "$PRC2" plain2
		tc_end
	done

	tc "attach_idle.$v: --duration=0.5 ends the attach: table, exit 0, process unharmed"
	burst_run duration duration
	same_as_plain duration "$PRC2" plain2
	tc_end

	tc "attach_idle.$v: untraced: one burst, then the end"
	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$WORK/plain1.out" "$WORK/plain1.err" "$bin" burst "$WORK/ready" "$WORK/progress" 4
	if tgt_ready "$WORK/ready"; then
		kill -USR1 "$TPID"
		wait_line "$WORK/progress" '^burst 1$'
		kill -USR2 "$TPID"
	fi
	tgt_finish
	PRC1=$TRC
	grep -qx 'attach_idle: 1 bursts of 4' "$WORK/plain1.out" || fail "untraced: $(head -c 100 "$WORK/plain1.out")"
	tc_end

	tc "attach_idle.$v: the process ends while attached: table, exit 0"
	burst_run exit exit
	same_as_plain exit "$PRC1" plain1
	tc_end
done

[ $N_FAILED -eq 0 ]

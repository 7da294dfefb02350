#!/usr/bin/env bash
# Attach mode on a process whose threads are created by slow clones
# (test/targets/attach_slowclone.c: each clone copies 1,000 inherited perf
# events, about a millisecond).  A creator seized inside its clone makes
# a child that the kernel does not trace and that /proc/PID/task lists only
# once the clone ends: iprofmem must find it after the quiesce, or it runs
# untraced into the breakpoints and the process dies of SIGTRAP.
# `iprofmem --duration=0.05 -p PID` ATTACHES times in a row; after each:
#  - iprofmem exits 0, stderr holds only a well-formed table;
#  - the process is alive, no thread of it has a tracer, every code byte
#    is the file's;
# and at the end the process prints the same output and exits with the
# same status as an untraced run.  Before the fix, about 1 attach in 20
# killed it (int3 engine; 3 of 53 in one run).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

ATTACHES=20

for v in O2-nopie O0-pie-cet; do
	bin=$TGT/attach_slowclone.$v
	[ -e "$bin" ] || { tc "attach_slowclone.$v: built"; need_file "$bin"; tc_end; continue; }

	# untraced, READY or its end (77: perf events refused) awaited here:
	# wait_ready would count that end as a failure
	rm -f "$WORK/ready"
	tgt_start "$WORK/plain.out" "$WORK/plain.err" "$bin" "$WORK/ready"
	for ((i = 0; i < 1000; i++)); do
		[ -s "$WORK/ready" ] || ! kill -0 "$TJOB" 2>/dev/null && break
		sleep 0.01
	done
	if [ -s "$WORK/ready" ]; then
		kill -USR1 "$(cut -d' ' -f1 "$WORK/ready")"
		tgt_finish
	elif kill -0 "$TJOB" 2>/dev/null; then
		tgt_kill
		TRC=timeout
	else
		tgt_finish
	fi
	PRC=$TRC
	if [ "$PRC" = 77 ]; then
		echo "SKIP ${TAG}attach_slowclone.$v: $(head -c 200 "$WORK/plain.err")"
		continue
	fi
	tc "attach_slowclone.$v: untraced run"
	[ "$PRC" = 0 ] || fail "untraced run: exit status $PRC; $(head -c 200 "$WORK/plain.err")"
	tc_end

	rm -f "$WORK/ready"
	tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$bin" "$WORK/ready"
	tc "attach_slowclone.$v: starts"
	tgt_ready "$WORK/ready"
	tc_end
	[ -n "$TPID" ] || { tgt_kill; continue; }

	tc "attach_slowclone.$v: $ATTACHES attaches (--duration=0.05) while slow clones make threads"
	for ((k = 1; k <= ATTACHES; k++)); do
		run_ip --duration=0.05 -p "$TPID"
		[ "$RC" = 0 ] || fail "attach $k: exit status $RC"
		expect_only_table "$ERR" || note_file "$ERR"
		unharmed "$TPID" "$bin" tick worker creator main
		[ ${#TC_ERRS[@]} -eq 0 ] || { note "at attach $k of $ATTACHES"; break; }
	done
	tc_end

	tc "attach_slowclone.$v: after the attaches ends as untraced (same stdout, exit status)"
	tgt_ends_as_untraced
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Attach mode, 20 times in a row on one working multi-threaded process
# (test/targets/attach_work.c: churn threads calling a traced function all
# the time, a worker that makes batches of page-touching calls while
# traced).  Each cycle: `iprofmem -p PID`, wait until the worker saw the
# breakpoints and did batch k of n = 20 + k calls, SIGINT to iprofmem (in
# even cycles twice at once, as timeout(1) sends it: to its command, then
# to its process group; one request, whose detach waits for every thread
# and takes each out of the probe code, a signal in between or not).
# Checks per cycle:
#  - iprofmem exits 0 and stderr holds only the table, whose only row is
#    batch_touch with exactly n pages and n calls (the calls the target
#    made in the window: no call lost, none invented, no mix() row, no row
#    for functions whose calls began before the attach);
#  - after the detach the worker sees its code as before (it says so),
#    no thread has a tracer, every code byte is the file's, it runs on;
# and at the end the process prints the same output and exits with the
# same status as an untraced run (every round of its checksum agreed).
# Attach after attach, the process keeps what the first one left: its
# address space is as large after the last detach as after the first, and
# its anonymous code mappings (the slots' and stubs' areas) are the same
# ones (each attach uses the areas of the one before again).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

CYCLES=20

for v in O2-pie-cet O0-nopie; do
	bin=$TGT/attach_work.$v
	[ -e "$bin" ] || { tc "attach_work.$v: built"; need_file "$bin"; tc_end; continue; }

	# the untraced run: the same program, no attach
	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$WORK/plain.out" "$WORK/plain.err" "$bin" "$WORK/ready" "$WORK/progress"
	tc "attach_work.$v: untraced run"
	if tgt_ready "$WORK/ready"; then
		kill -USR1 "$TPID"
		tgt_finish
	else
		tgt_kill
	fi
	[ "$TRC" = 0 ] || fail "untraced run: exit status $TRC"
	grep -q 'every round agreed' "$WORK/plain.out" || fail "untraced run: $(head -c 100 "$WORK/plain.out")"
	tc_end
	PRC=$TRC

	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$bin" "$WORK/ready" "$WORK/progress"
	tc "attach_work.$v: starts"
	tgt_ready "$WORK/ready"
	tc_end
	[ -n "$TPID" ] || { tgt_kill; continue; }

	t0=$(now_s) nf0=$N_FAILED
	for ((k = 1; k <= CYCLES; k++)); do
		n=$((20 + k))
		tc "attach_work.$v: attach $k/$CYCLES: batch_touch exactly $n calls, $n pages; detached cleanly"
		start_ip -p "$TPID"
		if wait_line "$WORK/progress" "^batch $k $n\$" 10 "$TPID"; then
			ip=$(tracer_of "$TPID")
			if [ -z "$ip" ] || [ "$ip" = 0 ]; then
				fail "batch $k done, but the process has no tracer"
			else
				kill -INT "$ip"
				((k % 2)) || kill -INT "$ip"
			fi
		else
			ip_abort
		fi
		finish_ip
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_exact_rows attach_work "batch_touch:$n:$n"
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		wait_line "$WORK/progress" "^detached $k\$" 5 "$TPID"
		unharmed "$TPID" "$bin" batch_touch mix checksum churn_main worker_main main
		tc_end
		left=$(left_behind "$TPID")
		[ $k -gt 1 ] || first_left=$left
		# a process that is gone or stuck makes every later cycle fail
		alive "$TPID" && [ $N_FAILED -eq "$nf0" ] || break
	done
	t=$(elapsed_since "$t0")

	tc "attach_work.$v: after $CYCLES attaches the process maps what it did after the first"
	[ $k -gt $CYCLES ] || fail "stopped at cycle $k"
	if [ "$left" != "$first_left" ]; then
		fail "what the attaches left grew"
		note "after the first: $first_left"
		note "after the last:  $left"
	fi
	tc_end

	tc "attach_work.$v: after $CYCLES attaches ends as untraced (same stdout, exit status)"
	[ $k -gt $CYCLES ] || fail "stopped at cycle $k"
	kill -USR1 "$TPID" 2>/dev/null
	tgt_finish
	[ "$TRC" = "$PRC" ] || fail "exit status $TRC, untraced $PRC$([ "$TRC" = 133 ] && echo " (SIGTRAP)")"
	if ! cmp -s "$WORK/tgt.out" "$WORK/plain.out"; then
		fail "stdout differs from the untraced run"
		note "$(diff "$WORK/plain.out" "$WORK/tgt.out" | head -n 10)"
	fi
	if [ $k -gt $CYCLES ]; then
		grep -q "^attach_work: $CYCLES batches\$" "$WORK/tgt.err" ||
			fail "the target did not count $CYCLES batches: $(grep batches "$WORK/tgt.err")"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Attach mode on a process whose threads keep being born and dying, each
# calling traced functions (test/targets/attach_churn.c: waves of threads,
# some joined, some detached, some creating a thread of their own).
# `iprofmem --duration=0.3 -p PID` several times in a row; after each:
#  - iprofmem exits 0 by itself, stderr holds only a well-formed table
#    whose rows are attach_churn's functions, with their DWARF keys;
#  - the process is alive (no thread died of SIGTRAP), no thread of it
#    has a tracer, every code byte is the file's (no int3 left);
# and at the end the process prints the same output and exits with the
# same status as an untraced run (every thread computed the right value).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

CYCLES=5
FUNCS="leaf work check grandchild child wave"

for v in O2-nopie O0-pie-cet; do
	bin=$TGT/attach_churn.$v
	[ -e "$bin" ] || { tc "attach_churn.$v: built"; need_file "$bin"; tc_end; continue; }

	tc "attach_churn.$v: untraced run"
	rm -f "$WORK/ready"
	tgt_start "$WORK/plain.out" "$WORK/plain.err" "$bin" "$WORK/ready"
	if tgt_ready "$WORK/ready"; then
		kill -USR1 "$TPID"
		tgt_finish
	else
		tgt_kill
	fi
	PRC=$TRC
	[ "$PRC" = 0 ] || fail "untraced run: exit status $PRC"
	tc_end

	rm -f "$WORK/ready"
	tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$bin" "$WORK/ready"
	tc "attach_churn.$v: starts"
	tgt_ready "$WORK/ready"
	tc_end
	[ -n "$TPID" ] || { tgt_kill; continue; }

	nf0=$N_FAILED
	for ((k = 1; k <= CYCLES; k++)); do
		tc "attach_churn.$v: --duration=0.3 attach $k/$CYCLES while threads come and go"
		run_ip --duration=0.3 -p "$TPID"
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_rows_only attach_churn $FUNCS
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		unharmed "$TPID" "$bin" leaf work check child grandchild wave main
		tc_end
		alive "$TPID" && [ $N_FAILED -eq $nf0 ] || break
		sleep 0.05	# untraced for a while
	done

	tc "attach_churn.$v: after $CYCLES attaches ends as untraced (same stdout, exit status)"
	[ $k -gt $CYCLES ] || fail "stopped after attach $k"
	tgt_ends_as_untraced
	tc_end
done

[ $N_FAILED -eq 0 ]

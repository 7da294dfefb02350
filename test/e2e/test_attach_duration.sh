#!/usr/bin/env bash
# --duration in launch mode (test/targets/attach_idle.c ticks COUNT MS
# STATUS: COUNT calls of tick(), 1 page each, MS ms apart, then exit
# STATUS).  The untraced run of each program runs at the same time as the
# traced one.
#  - `iprofmem --duration=0.5 -o FILE PROGRAM` on a 2 s program: after
#    0.5 s no thread of it has a tracer and its code is the file's while it
#    runs on; the table is in FILE then, before the program ends; iprofmem
#    waits for the program and exits with its status (7); stdout as
#    untraced; tick's row has as many pages as calls, at least 1 and fewer
#    than COUNT;
#  - the same with the table on stderr (exit status 3);
#  - --duration longer than the program: an ordinary run, exact rows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

LOOSE="setup warm_stack"

# find_prog: sets prog to the PID of the traced program ($bin with $MARK).
find_prog() {
	local p
	for p in $(pgrep -f -- "$MARK"); do
		[ "$(readlink "/proc/$p/exe")" = "$bin" ] && { prog=$p; return 0; }
	done
	return 1
}

# is_untraced PID: no tracer (or no process).
is_untraced() { [ "$(tracer_of "$1")" = 0 ] || ! alive "$1"; }

# plain_start ARGS... / plain_finish: the untraced run of $bin ARGS, in the
# background; PRC and $POUT as run_plain sets them.
plain_start() { tgt_start "$POUT" "$PERR" "$bin" "$@"; }
plain_finish() { tgt_finish; PRC=$TRC; }

# tick_row_ok COUNT: tick's row: pages == calls, 1 <= calls < COUNT; no
# other row but setup's and warm_stack's.
tick_row_ok() {
	local c p
	find_row "$(src_key attach_idle tick)"
	if [ "$ROW_COUNT" != 1 ]; then
		fail "want one row for tick, got $ROW_COUNT"
	else
		c=$(row_calls "$ROW")
		p=$(awk -v m="$(row_mb "$ROW")" 'BEGIN { printf "%d", m * 256 + 0.5 }')
		[ "$c" -ge 1 ] && [ "$c" -lt "$1" ] || fail "tick: $c calls, want 1..$(($1 - 1)) (traced for a part of the run only)"
		[ "$p" = "$c" ] || fail "tick: $p pages for $c calls"
	fi
	expect_rows_only attach_idle tick $LOOSE
}

# ------------------------------------------------------------ -o FILE

v=O2-nopie-cet
bin=$TGT/attach_idle.$v
if need_file "$bin"; then
	plain_start ticks 200 10 7
	rm -f "$WORK/table"
	t0=$(now_s)
	start_ip --duration=0.5 -o "$WORK/table" -- "$bin" ticks 200 10 7 "$MARK"

	tc "attach_idle.$v: --duration=0.5 on a 2 s program: untraced after 0.5 s, runs on, code as in the file"
	prog=
	wait_for 5 find_prog || fail "the program did not start"
	if [ -n "$prog" ]; then
		if wait_for 10 is_untraced "$prog"; then
			t=$(elapsed_since "$t0")
			awk -v t="$t" 'BEGIN { exit !(t >= 0.5) }' || fail "untraced after $t s, before 0.5 s"
			if alive "$prog"; then
				untraced "$prog"
				code_intact "$prog" "$bin" tick main setup
			else
				fail "the program had ended when it was untraced (at $t s)"
			fi
		else
			fail "still traced after 10 s"
		fi
	fi
	tc_end

	tc "attach_idle.$v: --duration=0.5 -o FILE on a 2 s program: the table is written then, while the program runs on"
	# the table complete, and the program alive after that: the table
	# came before its end
	while :; do
		if [ "$(grep -c -x -F -- "$HEADER" "$WORK/table" 2>/dev/null)" = 2 ]; then
			[ -n "$prog" ] && alive "$prog" ||
				fail "the table came only when the program ended (after $(elapsed_since "$t0") s)"
			break
		fi
		if [ -z "$prog" ] || ! alive "$prog"; then
			fail "no table in the -o file until the program ended (after $(elapsed_since "$t0") s)"
			break
		fi
		sleep 0.01
	done
	tc_end

	tc "attach_idle.$v: --duration=0.5 -o FILE on a 2 s program: its exit status (7), stdout as untraced, tick's row"
	finish_ip
	t=$(elapsed_since "$t0")
	plain_finish
	expect_same_as_plain
	expect_exit 7
	awk -v t="$t" 'BEGIN { exit !(t >= 2) }' || fail "iprofmem ended after $t s, before the program"
	[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
	if expect_only_table "$WORK/table"; then
		tick_row_ok 200
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/table"
	fi
	tc_end
else
	tc "attach_idle.$v: built"; need_file "$bin"; tc_end
fi

# -------------------------------------------------------------- stderr

v=O0-pie
bin=$TGT/attach_idle.$v
tc "attach_idle.$v: --duration=0.3 on a 0.6 s program, table on stderr, exit status 3"
if need_file "$bin"; then
	plain_start ticks 60 10 3
	run_ip --duration=0.3 "$bin" ticks 60 10 3 "$MARK"
	plain_finish
	expect_same_as_plain
	expect_exit 3
	if expect_only_table "$ERR"; then
		tick_row_ok 60
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
fi
tc_end

# ----------------------------------------------- longer than the program

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/attach_idle.$v
	tc "attach_idle.$v: --duration=30 on a short program: an ordinary run, exact rows"
	if need_file "$bin"; then
		run_plain "$bin" ticks 5 1 0 "$MARK"
		run_ip --duration=30 "$bin" ticks 5 1 0 "$MARK"
		expect_same_as_plain
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_row "$(src_key attach_idle tick)" 5 5
			expect_rows_only attach_idle tick $LOOSE mode_ticks main
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

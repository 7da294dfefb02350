#!/usr/bin/env bash
# An untraced signal handler on an alternate stack above the interrupted
# one calls a traced function (test/targets/altabove.c): that entry looks,
# by the stack-pointer rule, like a call after a longjmp out of the
# interrupted calls.  Their frames are parked, not dropped, and their
# returns bring them back: every call counts, with the handler's page
# (before, inner and outer had no row at all).  Exact rows, every
# variant; the traced program's stdout and exit status are the untraced
# ones.
. "$(dirname "$0")/lib.sh"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/altabove.$v
	tc "altabove.$v: calls interrupted by a handler above them return, exact rows"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		[ "$PRC" -eq 0 ] || fail "the untraced run exited $PRC"
		run_ip -e outer -e inner -e in_handler -- "$bin" "$MARK"
		expect_exit 0
		expect_same_as_plain
		if expect_only_table "$ERR"; then
			expect_sorted
			expect_row "$(src_key altabove in_handler)" 4 4
			expect_row "$(src_key altabove inner)" 9 3
			expect_row "$(src_key altabove outer)" 12 3
			expect_rows_only altabove in_handler inner outer
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# longjmp out of two traced functions: no row for them (they never
# returned); exact rows for the calls that did return, including one made at
# the same stack depth as an abandoned call and calls made after the jumps.
. "$(dirname "$0")/lib.sh"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/jump.$v
	tc "jump.$v: longjmp heals the shadow stack, exact rows"
	if need_file "$bin"; then
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_sorted
			expect_row "$(src_key jump same_depth)" 5 5
			expect_row "$(src_key jump catcher)" 25 5
			expect_row "$(src_key jump after_jump)" 9 3
			expect_row "$(src_key jump scenario_jump)" 35 1
			expect_no_row "$(src_key jump deep_mid)"
			expect_no_row "$(src_key jump deep_jump)"
			expect_rows_only jump same_depth catcher after_jump scenario_jump setup main
			for f in setup main; do
				find_row "$(src_key jump "$f")"
				[ "$ROW_COUNT" = 1 ] && [ "$(row_calls "$ROW")" = 1 ] || fail "want one row for $f with Calls 1"
			done
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# fork, vfork and posix_spawn from the traced process: every child ends as it
# does untraced (no SIGTRAP from an inherited breakpoint), the parent's calls
# before and after are exact, the children's calls have no row (children are
# not followed), and stdout and exit status are those of the untraced run.
. "$(dirname "$0")/lib.sh"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/forks.$v
	tc "forks.$v: children end as untraced, parent rows exact"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip -- "$bin" "$MARK"
		expect_exit "$PRC"
		[ "$PRC" -eq 0 ] || fail "untraced run exits $PRC"
		if ! cmp -s "$OUT" "$POUT"; then
			fail "stdout differs from the untraced run"
			note "$(diff "$POUT" "$OUT" | head -n 20)"
		fi
		if expect_only_table "$ERR"; then
			expect_sorted
			expect_row "$(src_key forks before_fork)" 20 10
			expect_row "$(src_key forks after_fork)" 10 10
			expect_no_row "$(src_key forks in_child)"
			expect_no_row "$(src_key forks vfork_child)"
			expect_rows_only forks before_fork after_fork setup main report
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Traced functions in other threads: exact rows while one thread runs at a
# time; with two threads at once every call still counts (RSS is per
# process, so the sum only has bounds).  Exit 0, nothing but the table.
. "$(dirname "$0")/lib.sh"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/threads.$v
	tc "threads.$v: rows of work done in threads"
	if need_file "$bin"; then
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_sorted
			expect_row "$(src_key threads thread_work)" 100 50
			expect_row "$(src_key threads main_work)" 10 10
			find_row "$(src_key threads conc_work)"
			if [ "$ROW_COUNT" != 1 ]; then
				fail "want one row for conc_work"
			else
				[ "$(row_calls "$ROW")" = 200 ] || fail "conc_work: $(row_calls "$ROW") calls, want 200"
				# each call grows RSS by its own page at least; the calls of
				# one thread do not overlap, so each thread's sum is at most
				# what the whole process grew by then (200 pages + slack).
				awk -v m="$(row_mb "$ROW")" 'BEGIN { p = m * 256; exit !(p >= 199.5 && p <= 432) }' ||
					fail "conc_work: $(row_mb "$ROW") MB, want 200..432 pages"
			fi
			find_row "$(src_key threads thread_main)"
			[ "$ROW_COUNT" = 1 ] && [ "$(row_calls "$ROW")" = 1 ] || fail "want one row for thread_main with Calls 1"
			find_row "$(src_key threads conc_main)"
			[ "$ROW_COUNT" = 1 ] && [ "$(row_calls "$ROW")" = 2 ] || fail "want one row for conc_main with Calls 2"
			expect_rows_only threads thread_work main_work conc_work thread_main conc_main warm_stack start setup main
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# No breakpoint is ever lifted (test/targets/spin_threads.c): 8 threads at
# once each call spin_touch() K times, every call touching one new page.  A
# tracer that lifts a breakpoint to step over it lets other threads run past
# the site untraced; here every call must count: exactly 8*K calls, and at
# least 8*K pages (RSS is per process, a call also sees the other threads'
# pages).  K is small here (SPIN_K, default 2000); `make bench` runs the
# full size (bench/threads.sh).
. "$(dirname "$0")/lib.sh"

K=${SPIN_K:-2000}
T=8

for v in O0-pie O0-nopie-cet O2-pie O2-nopie-cet; do
	bin=$TGT/spin_threads.$v
	tc "spin_threads.$v: $T threads x $K calls, every call counted"
	if need_file "$bin"; then
		run_ip -- "$bin" "$K" "$T" "$MARK"
		expect_exit 0
		[ "$(cat "$OUT")" = "spin_threads: $T threads x $K calls = $((T * K)) calls" ] ||
			fail "stdout: '$(head -n1 "$OUT")'"
		if expect_only_table "$ERR"; then
			expect_sorted
			find_row "$(src_key spin_threads spin_touch)"
			if [ "$ROW_COUNT" != 1 ]; then
				fail "want one row for spin_touch, got $ROW_COUNT"
			else
				[ "$(row_calls "$ROW")" = $((T * K)) ] ||
					fail "spin_touch: $(row_calls "$ROW") calls, want $((T * K))"
				awk -v m="$(row_mb "$ROW")" -v p=$((T * K)) 'BEGIN { exit !(m * 256 >= p - 0.5) }' ||
					fail "spin_touch: $(row_mb "$ROW") MB, want at least $((T * K)) pages"
			fi
			expect_rows_only spin_threads spin_touch spin_main setup main
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

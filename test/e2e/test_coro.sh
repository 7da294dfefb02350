#!/usr/bin/env bash
# Coroutines (test/targets/coro.c): two ucontext coroutines switch stacks
# in the middle of traced calls.  A call left by a switch is not over: its
# frame is parked, and comes back when its coroutine does (the return
# finds it), so every call is counted and its memory is exact, whichever
# coroutine's stack lies higher (up, down), with a switch inside a nested
# traced call (deep), when the coroutines come back over another caller
# than the one they left (moved), and when another thread resumes them
# and their calls return there (threads: the frame moves over from the
# thread that entered it).  Before, such calls vanished (a call entered
# on a higher stack ended every frame below it; a return had only its own
# thread's frames).  Every
# variant; the traced program's stdout and exit status are the untraced
# ones.
. "$(dirname "$0")/lib.sh"

# coro_expect SHAPE FUNC: "PAGES CALLS" (test/targets/coro.c's table), or
# "-" for no row.
coro_expect() {
	case $2 in
	co_touch)	echo "8 8" ;;
	step)		[ "$1" = deep ] && echo "12 6" || echo - ;;
	work)		echo "12 2" ;;
	body | co_entry) echo "14 2" ;;
	sched)		case $1 in moved | threads) echo - ;; *) echo "8 1" ;; esac ;;
	start_all)	[ "$1" = moved ] && echo "2 1" || echo - ;;
	resume_all)	[ "$1" = moved ] && echo "6 1" || echo - ;;
	run_round)	[ "$1" = threads ] && echo "8 4" || echo - ;;
	helper)		[ "$1" = threads ] && echo "8 1" || echo - ;;
	esac
}

FUNCS="co_touch step work body co_entry sched start_all resume_all run_round helper"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/coro.$v
	for order in up down; do
		for shape in flat deep moved threads; do
			tc "coro.$v $order $shape: calls across switches of stacks, exact rows"
			if need_file "$bin"; then
				run_plain "$bin" "$order" "$shape" "$MARK"
				[ "$PRC" -eq 0 ] || fail "the untraced run exited $PRC"
				run_ip -- "$bin" "$order" "$shape" "$MARK"
				expect_exit 0
				expect_same_as_plain
				if expect_only_table "$ERR"; then
					expect_sorted
					for f in $FUNCS; do
						want=$(coro_expect "$shape" "$f")
						if [ "$want" = - ]; then
							expect_no_row "$(src_key coro "$f")"
						else
							# shellcheck disable=SC2086
							expect_row "$(src_key coro "$f")" $want
						fi
					done
					# not exact: setup, main, and what
					# makes helper (-O0: take_turns)
					expect_rows_only coro $FUNCS setup main take_turns
					for f in setup main take_turns; do
						find_row "$(src_key coro "$f")"
						[ "$ROW_COUNT" = 0 ] && [ $f = take_turns ] && continue
						[ "$ROW_COUNT" = 1 ] && [ "$(row_calls "$ROW")" = 1 ] || fail "want one row for $f with Calls 1"
					done
				fi
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
			tc_end
		done
	done
done

[ $N_FAILED -eq 0 ]

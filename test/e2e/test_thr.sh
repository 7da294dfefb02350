#!/usr/bin/env bash
# Threads that start, end and exec (test/targets/thr.c), one at a time so
# every sum is exact:
#  - a new thread's start routine is traced from its first instruction: its
#    own row, exact calls and pages, and so are its callees';
#  - a thread that calls pthread_exit inside traced callees: no row for the
#    frames it abandoned, the calls that returned before and the main
#    thread's later calls exact;
#  - a thread that is not the leader execs the program: the calls of the old
#    image and of the new one are both exact, in the same table;
#  - a thread that is not the leader dies of SIGSEGV: exit 139, the table of
#    what returned before.
# Stdout and exit status are those of the untraced run; no process is left.
. "$(dirname "$0")/lib.sh"

# Rows that may appear, not exact (warm-up, plumbing, setup, main).
THR_LOOSE="warm_start warm_exit setup start_thread_on main"

# thr_run V MODE: run thr.V MODE untraced and traced; 0 if there is a table.
thr_run() {
	local bin=$TGT/thr.$1
	need_file "$bin" || return 1
	run_plain "$bin" "$2" "$MARK"
	run_ip -- "$bin" "$2" "$MARK"
	expect_same_as_plain
	expect_only_table "$ERR" || return 1
	expect_sorted
}

for v in $DEBUG_VARIANTS; do
	k() { src_key thr "$1"; }

	tc "thr.$v start: start routines traced from their first instruction"
	if thr_run "$v" start; then
		expect_exit 0
		expect_row "$(k thread_start)" 9 3
		expect_row "$(k thread_leaf)" 8 8
		expect_row "$(k thread_nested)" 10 2
		expect_row "$(k main_after)" 4 4
		expect_rows_only thr thread_start thread_leaf thread_nested main_after $THR_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "thr.$v exit: pthread_exit in traced callees, no row for them"
	if thr_run "$v" exit; then
		expect_exit 0
		expect_row "$(k leaf_ok)" 3 3
		expect_row "$(k main_after)" 4 4
		for f in exiting_main exit_mid quit_thread warm_exit; do
			expect_no_row "$(k "$f")"
		done
		expect_rows_only thr leaf_ok main_after $THR_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "thr.$v exec: exec from a second thread, new image traced"
	if thr_run "$v" exec; then
		expect_exit 0
		grep -q '^thr: after exec, 7 pages$' "$OUT" || fail "the exec'd image did not run"
		expect_row "$(k pre_exec)" 10 5
		expect_row "$(k post_exec)" 7 7
		expect_no_row "$(k exec_thread)"
		expect_no_row "$(k do_exec)"
		expect_rows_only thr pre_exec post_exec $THR_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "thr.$v segv: SIGSEGV in a second thread, exit 139, rows before"
	if thr_run "$v" segv; then
		expect_exit 139
		expect_row "$(k crash_work)" 6 3
		expect_row "$(k main_after)" 4 4
		for f in segv_thread crash main; do
			expect_no_row "$(k "$f")"
		done
		expect_rows_only thr crash_work main_after $THR_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

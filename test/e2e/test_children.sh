#!/usr/bin/env bash
# Child processes (test/targets/kids.c): fork, vfork (exit), vfork + exec,
# clone(2) without CLONE_VM with SIGCHLD and with SIGUSR1 as exit signal.
#  - without -f: every child runs to its normal end and exit status (the
#    target prints them: no SIGTRAP death); the parent's rows exact; the
#    vfork child's calls (it shares the memory, traced as a thread until
#    its exec) count in the same table; no row for the other children;
#  - with -f: every child's rows too, exact, in the same table;
#  - -f --per-process: one table per process in creation order, each headed
#    "PID <pid>: <command line at its last exec>" (PIDs as the target saw
#    them), a blank line between two, each table's rows exact.
# Stdout and exit status are those of the untraced run; no process is left.
. "$(dirname "$0")/lib.sh"

# Rows that may appear, not exact: the functions that make the children
# (their calls see the vfork child's pages, fork's own), setup, main.
KIDS_LOOSE="do_fork do_vfork do_vfork_exec do_clone report note_pid setup main"
# Functions that run only in a child that is not followed.
KIDS_CHILD_ONLY="fork_child_work execd_work clone_child_work clone_sig_child_work"

k() { src_key kids "$1"; }

# kids_run V ARGS...: kids.V all untraced and traced (iprofmem ARGS).
kids_run() {
	local bin=$TGT/kids.$1
	shift
	need_file "$bin" || return 1
	run_plain "$bin" all "$MARK"
	run_ip "$@" -- "$bin" all "$MARK"
	expect_same_as_plain
	expect_exit 0
	[ "$PRC" -eq 0 ] || fail "untraced run exits $PRC"
	[ "$(grep -c 'child exited' "$OUT")" = 5 ] || fail "not five children that exited"
	grep -q '^SIGUSR1 received 1 times$' "$OUT" || fail "SIGUSR1 (the clone child's exit signal) not received once"
}

# parent_rows: the rows of the parent, and the vfork child's when $1 = 1.
parent_rows() {
	expect_row "$(k parent_work)" 10 5
	expect_row "$(k parent_after)" 5 5
	expect_no_row "$(k on_usr1)"
	if [ "$1" = 1 ]; then
		expect_row "$(k vfork_child_work)" 2 1
		expect_row "$(k vfork_exec_work)" 1 1
	fi
}

for v in $DEBUG_VARIANTS; do
	tc "kids.$v: children not followed end normally, parent rows exact"
	if kids_run "$v" && expect_only_table "$ERR"; then
		expect_sorted
		parent_rows 1
		for f in $KIDS_CHILD_ONLY; do expect_no_row "$(k "$f")"; done
		expect_rows_only kids parent_work parent_after vfork_child_work vfork_exec_work $KIDS_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "kids.$v -f: every child's rows exact in the same table"
	if kids_run "$v" -f && expect_only_table "$ERR"; then
		expect_sorted
		parent_rows 1
		expect_row "$(k fork_child_work)" 6 2
		expect_row "$(k execd_work)" 6 3
		expect_row "$(k clone_child_work)" 5 5
		expect_row "$(k clone_sig_child_work)" 4 2
		expect_rows_only kids parent_work parent_after vfork_child_work vfork_exec_work \
			$KIDS_CHILD_ONLY $KIDS_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "kids.$v -f --per-process: six tables, PID headers, rows exact"
	export KIDS_PIDS=$WORK/pids
	rm -f "$KIDS_PIDS"
	if kids_run "$v" -f --per-process; then
		split_tables "$ERR"
		mapfile -t want <"$KIDS_PIDS"	# "role pid", in creation order
		[ -z "$PT_PROBLEM" ] || fail "$PT_PROBLEM"
		[ ${#PT_OTHER[@]} -eq 0 ] || fail "lines before the first table: '${PT_OTHER[0]}'"
		[ "$PT_N" = 6 ] || fail "$PT_N tables, want 6"
		[ ${#want[@]} = 6 ] || fail "the target noted ${#want[@]} processes, want 6"
		bin=$TGT/kids.$v
		for ((i = 0; i < PT_N && i < ${#want[@]}; i++)); do
			role=${want[i]% *} pid=${want[i]#* }
			cmd="$bin all $MARK"
			[ "$role" = vexec ] && cmd="$bin execd $MARK"
			[ "${PT_PID[i]}" = "$pid" ] || fail "table $((i + 1)): PID ${PT_PID[i]}, want $pid ($role)"
			[ "${PT_CMD[i]}" = "$cmd" ] || fail "table $((i + 1)) ($role): command line '${PT_CMD[i]}', want '$cmd'"
			expect_only_table "${PT_FILE[i]}" || continue
			expect_sorted
			case $role in
			leader)
				parent_rows 0
				expect_rows_only kids parent_work parent_after $KIDS_LOOSE ;;
			fork)
				expect_row "$(k fork_child_work)" 6 2
				expect_rows_only kids fork_child_work ;;
			vfork)
				expect_row "$(k vfork_child_work)" 2 1
				expect_rows_only kids vfork_child_work ;;
			vexec)
				expect_row "$(k vfork_exec_work)" 1 1
				expect_row "$(k execd_work)" 6 3
				expect_rows_only kids vfork_exec_work execd_work setup main ;;
			clone)
				expect_row "$(k clone_child_work)" 5 5
				expect_rows_only kids clone_child_work ;;
			clonesig)
				expect_row "$(k clone_sig_child_work)" 4 2
				expect_rows_only kids clone_sig_child_work ;;
			*)
				fail "unknown role '$role' in $KIDS_PIDS" ;;
			esac
		done
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	unset KIDS_PIDS
	tc_end
done

[ $N_FAILED -eq 0 ]

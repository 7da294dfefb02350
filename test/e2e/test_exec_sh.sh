#!/usr/bin/env bash
# exec in a traced process loads the new image's functions: with -f,
# `sh -c 'TARGET ARGS'` and `sh -c 'TARGET ARGS; true'` (the shell forks,
# the child execs) trace TARGET exactly.  sh is dash here, without DWARF:
# iprofmem says so in one warning line and traces dash's symbol-table
# functions; their rows (key DASH:0:NAME) are not checked, only that the
# rest are TARGET's, exact.  With --per-process: the shell's table, then
# TARGET's, headed by TARGET's own command line (that of its last exec).
. "$(dirname "$0")/lib.sh"

SH=$(realpath /bin/sh)

# drop_sh_rows: ROWS without the shell's (SH:0:NAME) rows.
drop_sh_rows() {
	local r keep=()
	for r in "${ROWS[@]}"; do
		case $(row_key "$r") in "$SH:0:"*) ;; *) keep+=("$r") ;; esac
	done
	ROWS=("${keep[@]}")
}

# one_sh_warning FILE: exactly one warning line, about the shell.
one_sh_warning() {
	local n
	n=$(grep -c '^iprofmem: warning:' "$1")
	[ "$n" = 1 ] || fail "$n warning lines, want 1 (about $SH)"
	grep '^iprofmem: warning:' "$1" | grep -q -F "$SH" || fail "the warning does not name $SH"
}

# mem_exact OPT: mem's rows in ROWS, as test_mem.sh checks them.
mem_exact() {
	local g
	for g in $MEM_GROUPS; do mem_check_group "$g" "$1"; done
	mem_check_rest
}

for v in O0-pie O2-pie O2-nopie-cet; do
	bin=$TGT/mem.$v
	opt=${v%%-*}
	for tail in "" "; true"; do
		script="$bin $MARK$tail"
		tc "exec: -f sh -c 'mem.$v MARK$tail' traces mem exactly"
		if need_file "$bin"; then
			run_plain sh -c "$script"
			run_ip -f -- sh -c "$script"
			expect_same_as_plain
			expect_exit 0
			if expect_table "$ERR"; then
				one_sh_warning "$ERR"
				[ ${#OTHER[@]} -eq 1 ] || fail "${#OTHER[@]} lines besides the table, want the warning only"
				drop_sh_rows
				expect_sorted
				mem_exact "$opt"
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
		fi
		tc_end
	done

	script="$bin $MARK; true"
	tc "exec: -f --per-process sh -c 'mem.$v MARK; true': sh's table, then mem's"
	if need_file "$bin"; then
		run_ip -f --per-process -- sh -c "$script"
		expect_exit 0
		split_tables "$ERR"
		[ -z "$PT_PROBLEM" ] || fail "$PT_PROBLEM"
		[ "$PT_N" = 2 ] || fail "$PT_N tables, want 2"
		if [ ${#PT_OTHER[@]} -ne 1 ]; then
			fail "${#PT_OTHER[@]} lines before the tables, want the warning only"
		else
			printf '%s\n' "${PT_OTHER[@]}" >"$WORK/other"
			one_sh_warning "$WORK/other"
		fi
		if [ "$PT_N" = 2 ]; then
			[ "${PT_CMD[0]}" = "sh -c $script" ] || fail "first table: command line '${PT_CMD[0]}'"
			[ "${PT_CMD[1]}" = "$bin $MARK" ] || fail "second table: command line '${PT_CMD[1]}', want mem's"
			[ "${PT_PID[0]}" -lt "${PT_PID[1]}" ] 2>/dev/null || note "PIDs ${PT_PID[0]} then ${PT_PID[1]} (wrapped?)"
			if expect_only_table "${PT_FILE[0]}"; then
				n=${#ROWS[@]}
				drop_sh_rows
				[ ${#ROWS[@]} = 0 ] || fail "the shell's table has $((${#ROWS[@]})) rows of the target's (of $n)"
			fi
			if expect_only_table "${PT_FILE[1]}"; then
				expect_sorted
				mem_exact "$opt"
			fi
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# A followed child that itself makes children: kids under sh, all followed.
for v in O0-pie O2-pie-cet; do
	bin=$TGT/kids.$v
	script="$bin all $MARK; true"
	tc "exec: -f sh -c 'kids.$v all MARK; true': grandchildren's rows exact"
	if need_file "$bin"; then
		run_plain sh -c "$script"
		run_ip -f -- sh -c "$script"
		expect_same_as_plain
		expect_exit 0
		if expect_table "$ERR"; then
			one_sh_warning "$ERR"
			drop_sh_rows
			expect_sorted
			k() { src_key kids "$1"; }
			expect_row "$(k parent_work)" 10 5
			expect_row "$(k parent_after)" 5 5
			expect_row "$(k vfork_child_work)" 2 1
			expect_row "$(k vfork_exec_work)" 1 1
			expect_row "$(k fork_child_work)" 6 2
			expect_row "$(k execd_work)" 6 3
			expect_row "$(k clone_child_work)" 5 5
			expect_row "$(k clone_sig_child_work)" 4 2
			expect_rows_only kids parent_work parent_after vfork_child_work vfork_exec_work \
				fork_child_work execd_work clone_child_work clone_sig_child_work \
				do_fork do_vfork do_vfork_exec do_clone report note_pid setup main
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

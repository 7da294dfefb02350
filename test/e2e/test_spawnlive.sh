#!/usr/bin/env bash
# A parent that goes on calling while the child it made by a vfork-style
# clone (posix_spawn, vfork) still lives (test/targets/spawnlive.c; found
# on gawk's popen and system, and ninja's posix_spawn).  The child runs the
# parent's probes with the parent's thread key until it execs; after that
# each of the parent's calls is the parent's: work 8 calls in the parent's
# table, none in the child's, with -f --per-process as without -f.
. "$(dirname "$0")/lib.sh"

k() { src_key spawnlive "$1"; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/spawnlive.$v
	for how in spawn vfork; do
		tc "spawnlive.$v $how: the parent's calls after the child's exec are its own"
		if need_file "$bin"; then
			run_plain "$bin" $how "$MARK"
			run_ip -- "$bin" $how "$MARK"
			expect_same_as_plain
			expect_exit 0
			grep -qx 'child exited 0' "$OUT" || fail "the child did not exit 0"
			if expect_only_table "$ERR"; then
				expect_row "$(k work)" 8 8
				expect_no_row "$(k child_work)"
				expect_rows_only spawnlive work start_child setup main
			fi
		fi
		tc_end

		tc "spawnlive.$v $how -f --per-process: work in the parent's table only"
		if need_file "$bin"; then
			run_ip -f --per-process -- "$bin" $how "$MARK"
			expect_exit 0
			split_tables "$ERR"
			[ -z "$PT_PROBLEM" ] || fail "$PT_PROBLEM"
			[ "$PT_N" = 2 ] || fail "$PT_N tables, want 2"
			if [ "$PT_N" = 2 ]; then
				[ "${PT_CMD[0]}" = "$bin $how $MARK" ] || fail "first table's command '${PT_CMD[0]}'"
				[ "${PT_CMD[1]}" = "$bin child $MARK" ] || fail "second table's command '${PT_CMD[1]}'"
				if expect_only_table "${PT_FILE[0]}"; then
					expect_row "$(k work)" 8 8
					expect_no_row "$(k child_work)"
					expect_rows_only spawnlive work start_child setup main
				fi
				if expect_only_table "${PT_FILE[1]}"; then
					expect_row "$(k child_work)" 2 1
					expect_no_row "$(k work)"
					expect_no_row "$(k start_child)"
					expect_rows_only spawnlive child_work setup main
				fi
			fi
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		tc_end
	done
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# An executable without DWARF: one "iprofmem: warning:" line that hints at
# -g, then the table of its symbol-table functions keyed
# /abs/path/of/binary:0:name, with the same exact numbers.
. "$(dirname "$0")/lib.sh"

# Start-up functions of the C runtime, in the symbol table too.
CRT="_init _fini _start frame_dummy register_tm_clones deregister_tm_clones __do_global_dtors_aux"

for v in $NODEBUG_VARIANTS; do
	bin=$TGT/mem.$v
	rel=$(realpath -s --relative-to=. "$bin")	# on purpose: keys are absolute
	opt=${v%%-*}
	tc "nodebug: mem.$v warns once, keys ABSOLUTE_PATH:0:NAME, exact rows"
	if need_file "$bin"; then
		run_ip -- "$rel" "$MARK"
		expect_exit 0
		if expect_table "$ERR"; then
			n=$(grep -c '^iprofmem: warning:' "$ERR")
			[ "$n" -eq 1 ] || fail "$n warning lines, want 1"
			grep '^iprofmem: warning:' "$ERR" | grep -q -e '-g' || fail "the warning does not hint at -g"
			[ ${#OTHER[@]} -eq 1 ] || { fail "${#OTHER[@]} lines besides the table, want the warning only"; note_file "$ERR"; }
			expect_sorted
			MEM_KEYS=$(realpath "$bin")
			for r in "${ROWS[@]}"; do
				case $(row_key "$r") in
				"$MEM_KEYS:0:"*) ;;
				*) fail "key not $MEM_KEYS:0:NAME: '$r'" ;;
				esac
			done
			if [ "$opt" = O2 ]; then
				# gcc split classify's cold path into classify.cold, a
				# symbol of its own: a range of classify, not a function
				# (the jump there is no tail call), so classify has all
				# 9 pages in 5 calls, and classify.cold no row.
				expect_row "$(mem_key classify)" 9 5
				expect_no_row "$(mem_key classify.cold)"
				MEM_FUNCS_multiret=scenario_multi_ret
				CRT_EXTRA="$CRT classify"
			else
				MEM_FUNCS_multiret="classify scenario_multi_ret"
				CRT_EXTRA=$CRT
			fi
			for g in $MEM_GROUPS; do mem_check_group "$g" "$opt"; done
			# setup and main are in the table like with DWARF; start-up
			# functions of the C runtime may be too.
			mem_check_rest $CRT_EXTRA
			MEM_KEYS=dwarf
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

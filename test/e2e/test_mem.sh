#!/usr/bin/env bash
# The mem target in every debug variant: exact rows (pages and calls) for a
# function called many times, its caller, recursion, a tail call, several
# returns with a cold path, memory given back; no row for what grows nothing;
# ascending order; nothing but the table on stderr; exit status 0.
. "$(dirname "$0")/lib.sh"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/mem.$v
	opt=${v%%-*}

	tc "mem.$v: runs (exit 0, no stdout, stderr only the table)"
	if need_file "$bin"; then
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		[ -s "$OUT" ] && fail "stdout not empty: '$(head -c 80 "$OUT")'"
		expect_only_table "$ERR"
	else
		TBL_FOUND=0
	fi
	tc_end
	cp "$ERR" "$WORK/table.$v" 2>/dev/null

	if [ "$TBL_FOUND" != 1 ]; then
		for g in sorted $MEM_GROUPS rest; do
			tc "mem.$v: $g"; fail "no table to check"; tc_end
		done
		continue
	fi

	tc "mem.$v: sorted ascending"
	expect_sorted
	tc_end

	# The table goes with the first failure of this variant only.
	shown=0
	for g in $MEM_GROUPS rest; do
		if [ "$g" = rest ]; then
			tc "mem.$v: setup/main rows, no other row"
			mem_check_rest
		else
			tc "mem.$v: $g rows exact"
			mem_check_group "$g" "$opt"
		fi
		if [ ${#TC_ERRS[@]} -ne 0 ] && [ $shown = 0 ]; then
			note_file "$WORK/table.$v"
			shown=1
		fi
		tc_end
	done
done

# The same table twice in a row (but for setup's and main's sizes, which
# depend on ASLR): nothing else depends on the run.
tc "mem.O2-pie: two runs give the same table"
if need_file "$TGT/mem.O2-pie"; then
	run_ip -- "$TGT/mem.O2-pie" "$MARK"
	cp "$ERR" "$WORK/again1"
	run_ip -- "$TGT/mem.O2-pie" "$MARK"
	if ! diff <(mask_inexact "$WORK/again1") <(mask_inexact "$ERR") >"$WORK/diff"; then
		fail "tables differ"
		note_file "$WORK/diff"
	fi
fi
tc_end

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Traced functions whose stack pointer stands just above the bottom of a
# stack page, the page below never used (test/targets/stackedge.c): an
# entry, a ret and an indirect jmp there.  No engine may make that page
# resident: the program's own count of its resident stack pages is the
# untraced one, and on_stack's row is exact (the pages its call's
# return addresses make resident).  The default engine's probes run on the
# threads' control blocks (--stats says so), so they write no byte of the
# program's stack.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
k() { src_key stackedge "$1"; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/stackedge.$v
	tc "stackedge.$v: at the bottom of a stack page, not a byte below the stack pointer is written"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		grep -qx 'stackedge: leaf 1 page, hop 1 page' "$POUT" ||
			fail "untraced: $(cat "$POUT")"
		run_ip --stats -- "$bin" "$MARK"
		expect_exit 0
		expect_same_as_plain
		grep -v '^iprofmem: stats: ' "$ERR" >"$WORK/table"
		if expect_only_table "$WORK/table"; then
			expect_row "$(k on_stack)" 2 2
			expect_no_row "$(k leaf)"
			expect_no_row "$(k hop)"
		fi
		stacks=$(sed -n -E "s/^iprofmem: stats: probe stacks: ([0-9]+) processes on their threads' control blocks, ([0-9]+) on the program's stack$/\1 \2/p" "$ERR")
		if [ "$ENGINE" = int3 ]; then
			[ "$stacks" = "0 0" ] || fail "probe stacks '$stacks', want '0 0'"
		else
			[ "$stacks" = "1 0" ] || fail "probe stacks '$stacks', want '1 0' (control blocks, program's stack)"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

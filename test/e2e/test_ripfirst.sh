#!/usr/bin/env bash
# Functions whose first instruction is rip-relative with an operand-size
# prefix (test/targets/ripfirst.c; xz's lzma_sha256_init begins with
# movdqa): traced, their displaced instruction run to the same effect,
# exact rows, where they were left out before.
. "$(dirname "$0")/lib.sh"

k() { src_key ripfirst "$1"; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/ripfirst.$v
	tc "ripfirst.$v: a prefixed rip-relative first instruction is traced, exact rows"
	if need_file "$bin"; then
		run_ip -- "$bin" 8
		expect_exit 0
		grep -qx 'ripfirst: 16 calls, 0 wrong' "$OUT" ||
			{ fail "the program saw wrong results"; note_file "$OUT"; }
		if expect_only_table "$ERR"; then
			expect_row "$(k copy16)" 8 8
			expect_row "$(k is_mark)" 8 8
			expect_rows_only ripfirst copy16 is_mark main
		fi
		grep -q 'cannot be replayed' "$ERR" && fail "a function left out: $(grep -m1 'cannot be replayed' "$ERR")"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

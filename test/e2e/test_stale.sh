#!/usr/bin/env bash
# A probe's event is read after the fact, when the stack word that tells a
# signal handler from a call after a longjmp may hold anything: the tracer
# must not follow it into the program's memory (test/targets/stale.c, from
# lz4 -dc, where such a read made a page of a freed buffer resident and
# moved rows by a page from run to run).  The page the stale word points
# to stays out of the program's memory; jumper (left by its longjmp) and
# probe_me (touches nothing) have no row.
. "$(dirname "$0")/lib.sh"

for v in $DEBUG_VARIANTS; do
	bin=$TGT/stale.$v
	tc "stale.$v: a stale stack word read after the fact makes no page resident"
	if need_file "$bin"; then
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		grep -qx 'stale page resident: no' "$OUT" ||
			{ fail "the program's page was made resident"; note_file "$OUT"; }
		if expect_only_table "$ERR"; then
			expect_no_row "$(src_key stale jumper)"
			expect_no_row "$(src_key stale probe_me)"
			expect_rows_only stale setup main
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Functions of one instruction, whose entry is also their return: a lone
# ret and a lone jmp to another function, as -O2 makes a hook that does
# nothing and a wrapper that tail-calls (test/targets/oneinsn.c; found on
# expat's nop handlers and gawk's gawk_fwrite, each an int3 stop per
# call).  Exact rows; the events are two per call under both engines
# (--stats); under the default engine none is an int3 stop.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
k() { src_key oneinsn "$1"; }
stat_field() { sed -n -E "s/^iprofmem: stats: $1.*/\\1/p" "$ERR" | head -n 1; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/oneinsn.$v
	tc "oneinsn.$v: an entry that is its function's return, exact rows and events"
	if need_file "$bin"; then
		run_ip --stats -- "$bin" "$MARK"
		expect_exit 0
		grep -qx 'oneinsn: done' "$OUT" || fail "the program did not finish"
		events=$(stat_field 'events ([0-9]+) ')
		int3=$(stat_field 'events [0-9]+ \(probe [0-9]+, int3 ([0-9]+)')
		[ "$events" = 82 ] || fail "events '$events', not 82"
		[ "$ENGINE" != int3 ] && [ "$int3" != 0 ] && fail "$int3 events by int3 stops"
		grep -v '^iprofmem: stats: ' "$ERR" >"$WORK/table"
		if expect_only_table "$WORK/table"; then
			expect_row "$(k touch_pages)" 28 16
			expect_row "$(k forward)" 16 8
			expect_row "$(k spring)" 12 8
			expect_no_row "$(k hook)"
			expect_rows_only oneinsn touch_pages forward spring main
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

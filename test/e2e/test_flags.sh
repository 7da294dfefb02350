#!/usr/bin/env bash
# Every flag survives a traced entry and a traced return (probe engine:
# the fast path keeps the flags with lahf/seto and sahf, the whole path
# with pushfq/popfq; int3 engine: the kernel's).  test/targets/flags.c
# passes values in CF, PF, AF, ZF, SF, OF and DF into and out of naked
# functions and counts what comes back wrong; the program's output is the
# untraced one, and under the default engine every site is a probe.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
ROUNDS=100
WANT="flags: $ROUNDS rounds, $((ROUNDS * 256)) checks, 0 wrong"

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/flags.$v
	tc "flags.$v: every flag as it was, at entries and returns"
	if need_file "$bin"; then
		run_plain "$bin" "$ROUNDS"
		run_ip --stats -- "$bin" "$ROUNDS"
		expect_exit 0
		expect_same_as_plain
		[ "$(cat "$OUT")" = "$WANT" ] || fail "output '$(cat "$OUT")', not '$WANT'"
		probe=$(sed -n -E 's/^iprofmem: stats: events [0-9]+ \(probe ([0-9]+),.*/\1/p' "$ERR")
		sites=$(grep '^iprofmem: stats: sites: ' "$ERR")
		if [ "$ENGINE" = int3 ]; then
			[ "$probe" = 0 ] || fail "the int3 engine took '$probe' events by probes"
		else
			# 4 calls per combination, 2 events each
			[ "${probe:-0}" -ge $((ROUNDS * 128 * 8)) ] ||
				fail "only '$probe' events by probes"
			grep -q 'entries [0-9]* probe, 0 int3; returns [0-9]* probe, 0 int3' <<<"$sites" ||
				fail "a site is not a probe: $sites"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

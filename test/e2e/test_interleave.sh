#!/usr/bin/env bash
# Probe events and int3 stops of one thread, interleaved with a backlog
# (test/targets/interleave.c), in every variant: the default engine lets a
# thread go from a breakpoint at once and takes the event after the ring's
# records that came before it, and sees a ret that only its function's one
# call returns to (pair: "call grow_one; ret") at grow_one's return; the
# rows must come out exact, as the int3 engine's do:
#  - grow_one 120 pages in 120 calls, pair 40 in 40, twice 80 in 40 (its
#    ret keeps an int3: two calls of grow_one), round_ 120 in 40, run 120
#    in 1;
#  - no row for spin and tiny (touch nothing), and their calls counted
#    exactly, from --record: spin 240000, tiny 80 (a one-byte function);
#  - under the default engine, --stats says int3 events were queued behind
#    the ring, that one ret was seen at its callee's return, and that most
#    events went through probes;
#  - the program's stdout and exit status are the untraced ones.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
ALL_VARIANTS="$DEBUG_VARIANTS $NODEBUG_VARIANTS"

# record_calls FILE FUNC: total calls of FUNC over every call path of a
# --record FILE (its "func ID FILE LINE NAME" and "node ID PARENT FUNC
# BYTES CALLS TOTAL ..." lines).
record_calls() {
	awk -F'\t' -v f="$2" '
		$1 == "func" && $5 == f { id[$2] = 1 }
		$1 == "node" && ($4 in id) { n += $7 }
		END { print n + 0 }' "$1"
}

for v in $ALL_VARIANTS; do
	tc "interleave.$v: exact rows with probes and int3 stops interleaved"
	bin=$TGT/interleave.$v
	if need_file "$bin"; then
		case $v in
		*nodebug) key() { printf '%s:0:%s' "$bin" "$1"; } ;;
		*) key() { src_key interleave "$1"; } ;;
		esac
		run_plain "$bin" "$MARK"
		run_ip --stats --record="$WORK/rec" -- "$bin" "$MARK"
		expect_same_as_plain
		expect_exit 0
		parse_table "$ERR"
		expect_row "$(key grow_one)" 120 120
		expect_row "$(key pair)" 40 40
		expect_row "$(key twice)" 80 40
		expect_row "$(key round_)" 120 40
		expect_row "$(key run)" 120 1
		expect_no_row "$(key spin)"
		expect_no_row "$(key tiny)"
		n=$(record_calls "$WORK/rec" spin)
		[ "$n" = 240000 ] || fail "spin: $n calls in the record, want 240000"
		n=$(record_calls "$WORK/rec" tiny)
		[ "$n" = 80 ] || fail "tiny: $n calls in the record, want 80"
		q=$(sed -n -E 's/^iprofmem: stats: events .*int3 events queued behind the ring ([0-9]+)\).*/\1/p' "$ERR")
		p=$(sed -n -E 's/^iprofmem: stats: events [0-9]+ \(probe ([0-9]+),.*/\1/p' "$ERR")
		f=$(sed -n -E "s/^iprofmem: stats: sites: .* ([0-9]+) seen at their callee's return.*/\1/p" "$ERR")
		if [ "$ENGINE" = int3 ]; then
			[ "$q" = 0 ] || fail "the int3 engine queued '$q' events"
			[ "$f" = 0 ] || fail "the int3 engine took '$f' rets at their callee's return"
		else
			[ "${q:-0}" -gt 0 ] || fail "no int3 event was queued behind the ring"
			[ "${p:-0}" -gt 400000 ] || fail "only '$p' events by probes"
			[ "$f" = 1 ] || fail "'$f' rets seen at their callee's return, want 1 (pair's)"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

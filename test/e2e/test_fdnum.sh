#!/usr/bin/env bash
# The program's descriptors have the numbers they have untraced
# (test/targets/fdnum.c; found on redis): the probe's statm descriptor is
# kept out of the low numbers, when it is first opened and when the probe
# opens it again after the program closed it.  The program's output (the
# numbers it got) and exit status are the untraced ones, with and without
# -f; opener's rows exact (its calls with -f).  A child let go (no -f)
# keeps neither the statm descriptor nor the event ring (found on
# redis-server --daemonize yes, whose daemon kept both for its life).
. "$(dirname "$0")/lib.sh"

k() { src_key fdnum "$1"; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/fdnum.$v
	for f in "" -f; do
		tc "fdnum.$v${f:+ $f}: the program's descriptors are numbered as untraced"
		if need_file "$bin"; then
			run_plain "$bin" "$MARK"
			run_ip $f -- "$bin" "$MARK"
			# a followed child has probes, hence a statm and a ring
			[ -z "$f" ] && expect_same_as_plain
			expect_exit 0
			grep -q '^fds 3 3 6, ' "$OUT" || { fail "descriptors moved"; note_file "$OUT"; }
			[ -z "$f" ] && ! grep -qx 'fds 3 3 6, left in the child 0' "$OUT" &&
				{ fail "the child let go keeps iprofmem's descriptor or ring"; note_file "$OUT"; }
			if expect_only_table "$ERR"; then
				if [ -n "$f" ]; then
					# the child faults libc's code in again
					find_row "$(k opener)"
					[ "$ROW_COUNT" = 1 ] && [ "$(row_calls "$ROW")" = 3 ] ||
						fail "want one row for opener with Calls 3"
				else
					expect_row "$(k opener)" 2 2
				fi
				expect_rows_only fdnum opener left setup main
			fi
		fi
		tc_end
	done
done

# --stats counts the probe's reopen (the program closed its descriptor)
# though the process has ended: the counters live in the event ring's
# header, which iprofmem maps too, not in the program's memory (they
# read 0 for every launched program before)
ENGINE=${IPROFMEM_ENGINE:-auto}
bin=$TGT/fdnum.O2-pie
for f in "" -f; do
	tc "fdnum.O2-pie${f:+ $f} --stats: the probe's reopen is counted after the program's end"
	if need_file "$bin"; then
		run_ip --stats $f -- "$bin" "$MARK"
		expect_exit 0
		n=$(sed -n -E 's/^iprofmem: stats: statm reads .* reopened ([0-9]+);.*/\1/p' "$ERR")
		want=1
		[ "$ENGINE" = int3 ] && want=0	# no probe, iprofmem reads statm
		[ "$n" = "$want" ] || { fail "reopened '$n', want $want"; note_file "$ERR"; }
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

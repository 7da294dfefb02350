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
		n=$(sed -n -E 's/^iprofmem: stats: statm reads .* reopened ([0-9]+),.*/\1/p' "$ERR")
		want=1
		[ "$ENGINE" = int3 ] && want=0	# no probe, iprofmem reads statm
		[ "$n" = "$want" ] || { fail "reopened '$n', want $want"; note_file "$ERR"; }
	fi
	tc_end
done

# A program that runs as another user than iprofmem (root launching a
# daemon that drops its uid): the descriptor still goes out of its way,
# though prlimit on that process needs CAP_SYS_RESOURCE, which a root in
# a container may lack (this machine's does): the limit comes from
# /proc/PID/limits then.  --stats names the program's user when the
# kernel refuses it the fault gate's perf events.
if [ "$(id -u)" != 0 ]; then
	echo "SKIP ${TAG}fdnum: as another user: running the program as nobody needs root"
else
	tc "fdnum.O2-pie as nobody, iprofmem root: descriptors numbered as untraced; the gate's refusal names the user"
	# a copy nobody can run, whatever the checkout's mode
	if need_file "$bin" && share_copy "$bin"; then
		asnobody=(setpriv --reuid=65534 --regid=65534 --clear-groups "$SHARED/${bin##*/}")
		run_plain "${asnobody[@]}" "$MARK"
		run_ip --stats -- "${asnobody[@]}" "$MARK"
		expect_exit 0
		expect_same_as_plain
		grep -q '^fds 3 3 6, ' "$OUT" || { fail "descriptors moved"; note_file "$OUT"; }
		par=$(cat /proc/sys/kernel/perf_event_paranoid)
		if [ "$ENGINE" != int3 ] && [ "$par" -gt 1 ]; then
			grep -qx "iprofmem: stats: fault gate: off: perf events refused to the program's user (uid 65534, not root; perf_event_paranoid is $par)" "$ERR" ||
				{ fail "the gate's line does not name the program's user"; note_file "$ERR"; }
		fi
	fi
	tc_end
fi

[ $N_FAILED -eq 0 ]

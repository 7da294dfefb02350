#!/usr/bin/env bash
# A seccomp filter that the program installs while traced, after the
# probes' set-up, refusing the pread64 they read statm with
# (test/targets/latefilter.c): by EPERM, or by SIGSYS (SECCOMP_RET_TRAP),
# which killed the program under probes before.  The program runs as
# untraced (output, exit status), touch's row is exact (the probes stop
# for their RSS), and --stats counts the trapped calls.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
WARN_RE='^iprofmem: warning: process [0-9]+: its probes cannot read /proc/self/statm \(out of its reach after a chroot, or refused by a seccomp filter\): they stop for the RSS, as int3 sites do$'
k() { src_key latefilter "$1"; }

for v in $DEBUG_VARIANTS; do
	bin=$TGT/latefilter.$v
	for mode in errno trap; do
		tc "latefilter.$v $mode: a filter installed while traced: as untraced, touch's row exact"
		if need_file "$bin"; then
			run_plain "$bin" "$mode" "$MARK"
			run_ip --stats -- "$bin" "$mode" "$MARK"
			expect_exit 0
			expect_same_as_plain
			if expect_table "$ERR"; then
				for l in "${OTHER[@]}"; do
					case $l in "iprofmem: stats: "*) continue ;; esac
					if [ "$ENGINE" = int3 ] || ! grep -qE "$WARN_RE" <<<"$l"; then
						fail "stderr: '$l'"
						break
					fi
				done
				expect_row "$(k touch)" 28 3
				expect_rows_only latefilter touch install setup main
			fi
			n=$(sed -n -E 's/^iprofmem: stats: statm reads .* refused by seccomp ([0-9]+);.*/\1/p' "$ERR")
			if [ "$ENGINE" = int3 ] || [ "$mode" = errno ]; then
				[ "$n" = 0 ] || fail "refused by seccomp '$n', want 0"
			else
				[ -n "$n" ] && [ "$n" -ge 1 ] || fail "refused by seccomp '$n', want 1 or more"
			fi
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		tc_end
	done
done

# A filter that kills outright (SECCOMP_RET_KILL_PROCESS): under probes
# the program dies of SIGSYS at the next statm read, and iprofmem says
# to use --engine=int3, under which it runs as untraced, rows exact.
bin=$TGT/latefilter.O2-pie
tc "latefilter.O2-pie kill: under probes a warning names --engine=int3; under int3 as untraced"
if need_file "$bin"; then
	run_plain "$bin" kill "$MARK"
	run_ip -- "$bin" kill "$MARK"
	if [ "$ENGINE" = int3 ]; then
		expect_exit 0
		expect_same_as_plain
		expect_only_table "$ERR" && expect_row "$(k touch)" 28 3
	else
		expect_exit $((128 + 31))
		grep -qE '^iprofmem: warning: process [0-9]+ was killed by SIGSYS: if it is not killed untraced, a seccomp filter of its own killed a probe.s system call; trace it with --engine=int3$' "$ERR" ||
			{ fail "no warning naming --engine=int3"; note_file "$ERR"; }
		run_ip --engine=int3 -- "$bin" kill "$MARK"
		expect_exit 0
		expect_same_as_plain
		expect_only_table "$ERR" && expect_row "$(k touch)" 28 3
	fi
fi
tc_end

[ $N_FAILED -eq 0 ]

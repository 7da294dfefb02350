#!/usr/bin/env bash
# The default engine's fallbacks (issue 11), each with a correct table and
# the reason named in --stats (test/targets/sandbox.c):
#  - a program under a seccomp filter of its own (installed, then exec):
#    the int3 engine traces that image, saying so in one warning;
#    --engine=probe refuses it (125);
#  - perf events refused (perf_event_paranoid 3, as an ordinary user): no
#    fault gate, every probe reads statm, and no system-call watch; as
#    root both are on.  The
#    setting is the machine's: it is restored whatever happens.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
PARANOID=/proc/sys/kernel/perf_event_paranoid

# rows_exact BIN: the measured functions' rows, from $ERR
rows_exact() {
	if expect_table "$ERR"; then
		expect_row "$(src_key sandbox grow_three)" 3 1
		expect_row "$(src_key sandbox grow_one)" 2 2
	fi
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/sandbox.$v
	tc "fallbacks: sandbox.$v under its own seccomp filter: int3 engine, rows exact, named"
	if need_file "$bin"; then
		run_ip --stats "$bin"
		expect_exit 0
		grep -qx "filter: on" "$OUT" || fail "the filter is not on in the traced image"
		rows_exact
		if [ "$ENGINE" != int3 ]; then
			grep -qx "iprofmem: stats: no probes: the program runs under a seccomp filter" "$ERR" ||
				fail "--stats does not name the seccomp filter"
			[ "$(grep -c "^iprofmem: warning: process [0-9]*: no probes (the program runs under a seccomp filter): the int3 engine traces it, a ptrace stop per event$" "$ERR")" = 1 ] ||
				fail "not one warning naming the seccomp filter"
		else
			grep -q "warning" "$ERR" && fail "a warning with --engine=int3"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "fallbacks: --engine=probe under a seccomp filter: exit 125, naming it"
bin=$TGT/sandbox.O2-pie
if need_file "$bin"; then
	run_ip --engine=probe "$bin"
	expect_exit 125
	grep -q "^iprofmem: --engine=probe: no probes in process [0-9]*: the program runs under a seccomp filter$" "$ERR" ||
		fail "no message naming the seccomp filter"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# ---- perf events refused

if [ "$(id -u)" != 0 ]; then
	echo "SKIP ${TAG}fallbacks: perf events refused: setting perf_event_paranoid needs root"
elif [ ! -w "$PARANOID" ]; then
	echo "SKIP ${TAG}fallbacks: perf events refused: $PARANOID is not writable here"
else
	old=$(cat "$PARANOID")
	trap 'echo "$old" >"$PARANOID"; lib_cleanup' EXIT
	# paranoid3_nobody ARGS...: the shared copy of iprofmem with ARGS as
	# nobody, perf_event_paranoid 3 meanwhile; RC, $OUT, $ERR; a
	# sanitizer's report fails the case
	paranoid3_nobody() {
		local d=$SHARED/nobody f
		echo 3 >"$PARANOID"
		mkdir -p "$d" && chmod 777 "$d"
		{ timeout -k 5 "$E2E_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
			env ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$d/san" \
			"$SHARED/${IPROFMEM##*/}" "$@" </dev/null >"$OUT" 2>"$ERR"; } 2>/dev/null
		RC=$?
		echo "$old" >"$PARANOID"
		for f in "$d"/san.*; do
			[ -e "$f" ] && { fail "sanitizer report: $(head -n1 "$f")"; note_file "$f"; }
		done
		return 0
	}
	bin=$TGT/sandbox.O2-pie
	tc "fallbacks: perf_event_paranoid 3, as nobody: no fault gate, named; rows exact"
	if need_file "$bin" && share_copy "$IPROFMEM" "$bin"; then
		paranoid3_nobody --stats "$SHARED/${bin##*/}" plain
		expect_exit 0
		rows_exact
		if [ "$ENGINE" != int3 ]; then
			grep -qx "iprofmem: stats: fault gate: off: perf_event_paranoid is 3 (kernel events need 1 or less, or root)" "$ERR" ||
				fail "--stats does not name perf_event_paranoid"
			grep -q "gate skipped 0," "$ERR" || fail "statm reads were skipped without a gate"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	# The system-call watch needs perf events too: without it, a filter
	# installed by a syscall instruction of the program's own is seen
	# only when it traps a probe's call (test_latefilter.sh: rawtrap).
	lbin=$TGT/latefilter.O2-pie
	tc "fallbacks: perf_event_paranoid 3, as nobody: no system-call watch, named; a raw filter's trap is a failed call"
	if need_file "$lbin" && share_copy "$IPROFMEM" "$lbin"; then
		run_plain "$lbin" rawtrap "$MARK"
		paranoid3_nobody --stats "$SHARED/${lbin##*/}" rawtrap "$MARK"
		expect_exit 0
		expect_same_as_plain
		expect_table "$ERR" && expect_row "$(src_key latefilter touch)" 28 3
		if [ "$ENGINE" != int3 ]; then
			grep -qx "iprofmem: stats: system-call watch: off: perf_event_paranoid is 3 (kernel events need 1 or less, or root)" "$ERR" ||
				fail "--stats does not name perf_event_paranoid for the system-call watch"
			grep -qE '^iprofmem: warning: process [0-9]+: its probes cannot read /proc/self/statm' "$ERR" ||
				fail "no warning that the probes stop for the RSS"
			n=$(sed -n -E 's/^iprofmem: stats: statm reads .* refused by seccomp ([0-9]+);.*/\1/p' "$ERR")
			[ -n "$n" ] && [ "$n" -ge 1 ] || fail "refused by seccomp '$n', want 1 or more"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "fallbacks: perf_event_paranoid 3, as root: the fault gate is on; rows exact"
	if need_file "$bin"; then
		echo 3 >"$PARANOID"
		run_ip --stats "$bin" plain
		echo "$old" >"$PARANOID"
		expect_exit 0
		rows_exact
		if [ "$ENGINE" != int3 ]; then
			grep -q "^iprofmem: stats: fault gate: on " "$ERR" || fail "no fault gate as root"
			grep -q "^iprofmem: stats: system-call watch: on in 1 process " "$ERR" ||
				fail "no system-call watch as root"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
	[ "$(cat "$PARANOID")" = "$old" ] || echo "$old" >"$PARANOID"
fi

[ $N_FAILED -eq 0 ]

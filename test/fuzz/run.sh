#!/usr/bin/env bash
# The runner `make fuzz` calls, from the top directory: each target's
# libFuzzer binary (build/fuzz/bin/fuzz_TARGET) for FUZZ_TIME seconds, one
# at a time, on a working corpus in build/fuzz/corpus/TARGET seeded from
# test/fuzz/corpus/TARGET and test/fuzz/regress/TARGET.  A run stops at its
# first crash (leak, timeout, out-of-memory), whose input is left in
# build/fuzz/crashes/TARGET/: fix it, then keep the input under
# test/fuzz/regress/TARGET/ so that `make check` replays it for ever.
# Prints per target the executions run and the crashes found, then a
# summary table; exits 1 when anything crashed.
#
# Usage: test/fuzz/run.sh TARGET...
# Environment: FUZZ_TIME seconds per target (default 60); FUZZ_ARGS more
# libFuzzer options.

set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 2

FUZZ_TIME=${FUZZ_TIME:-60}
OUT=build/fuzz
summary=() total_crashes=0

# max_len: the ELF seeds are some 10 KB; text inputs need far less.
max_len() {
	case $1 in
	elf) echo 32768 ;;
	*) echo 8192 ;;
	esac
}

# fuzz_one TARGET: one bounded run; appends to summary.
fuzz_one() {
	local t=$1 bin=$OUT/bin/fuzz_$1 corpus=$OUT/corpus/$1
	local art=$OUT/crashes/$1 log=$OUT/log/$1.log execs crashes found
	mkdir -p "$corpus" "$art" "$OUT/log"
	local before
	before=$(ls "$art" | wc -l)
	echo "fuzz: $t for ${FUZZ_TIME}s (log: $log)"
	# -timeout: every input runs in well under a second, but on a shared
	# machine (a load of 30 on 2 cores) one once sat 15 s without the CPU
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$FUZZ_TIME" -print_final_stats=1 \
		-max_len="$(max_len "$t")" -timeout=60 -rss_limit_mb=2048 \
		-artifact_prefix="$art/" ${FUZZ_ARGS:-} \
		"$corpus" "test/fuzz/corpus/$t" "test/fuzz/regress/$t" \
		>"$log" 2>&1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	crashes=$(( $(ls "$art" | wc -l) - before ))
	found=$(ls -t "$art" | head -n "$crashes" | tr '\n' ' ')
	if [ -z "$execs" ]; then
		# no final statistics: it died before reporting them
		execs=?
		[ "$crashes" -gt 0 ] || crashes=1
		found="(see $log)"
	fi
	echo "fuzz: $t: $execs executions, $crashes crashes${found:+: $found}"
	if [ "$crashes" -gt 0 ]; then
		grep -m3 -E 'ERROR: |runtime error:|SUMMARY:' "$log" | sed 's/^/#   /'
	fi
	total_crashes=$((total_crashes + crashes))
	summary+=("$(printf '%-8s %8s %12s %8s' "$t" "$FUZZ_TIME" "$execs" "$crashes")")
}

for t in "$@"; do
	if [ ! -x "$OUT/bin/fuzz_$t" ]; then
		echo "fuzz: $OUT/bin/fuzz_$t is missing (make fuzz-build)"
		exit 2
	fi
	fuzz_one "$t"
done

echo
printf '%-8s %8s %12s %8s\n' target seconds executions crashes
printf '%s\n' "${summary[@]}"
[ "$total_crashes" -eq 0 ]

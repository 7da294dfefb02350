#!/usr/bin/env bash
# The test runner `make check` calls, from the top directory:
#   1. every cmocka unit test binary, build/unit/test_* and build-asan/unit/test_*
#      (TAP output: one PASS/FAIL/SKIP line per test);
#   2. every fuzz harness, built with gcc's ASan+UBSan and a replay main()
#      (build-asan/fuzz/replay_*), on its seed corpus and on its regression
#      inputs (test/fuzz/corpus/TARGET, test/fuzz/regress/TARGET): one line
#      each;
#   3. test/e2e/check_targets.sh once (the targets are what the tests assume);
#   4. every test/e2e/test_*.sh against ./iprofmem (its default engine,
#      probes), again with IPROFMEM_ENGINE=int3 (names prefixed "int3:"),
#      then against the ASan+UBSan build build-asan/iprofmem (names
#      prefixed "asan:"), except
#   5. test/e2e/test_valgrind.sh, once, against ./iprofmem only: it runs that
#      binary under valgrind memcheck, which an ASan build cannot run under.
# The e2e tests run copies of the two binaries and of the targets, made in a
# directory only its owner can enter, as a checkout in a home directory (0700
# on Debian 12) or in `mktemp -d` is: a test that runs something as another
# user must copy what it runs where that user can reach it (share_copy in
# test/e2e/lib.sh), and one that does not fails here, wherever the checkout.
# Each test case prints one line "PASS name", "FAIL name: reason" or
# "SKIP name: reason" (details follow as "#" lines); the run ends with one line
# "N passed, N failed, N skipped" and exits 1 if anything failed.
#
# Usage: test/run.sh [E2E_SCRIPT...]   (default: every test/e2e/test_*.sh)
# Environment: RUN_UNIT=0 skips the unit tests, RUN_FUZZ=0 the fuzz input
# replays, RUN_INT3=0 the int3 engine's pass, RUN_ASAN=0 the ASan build, IPROFMEM / IPROFMEM_ASAN name the two
# binaries, E2E_TARGETS the targets' directory (default build/targets).

set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2

IPROFMEM=${IPROFMEM:-./iprofmem}
IPROFMEM_ASAN=${IPROFMEM_ASAN:-build-asan/iprofmem}
RUN_UNIT=${RUN_UNIT:-1}
RUN_FUZZ=${RUN_FUZZ:-1}
RUN_ASAN=${RUN_ASAN:-1}
RUN_INT3=${RUN_INT3:-1}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}

passed=0 failed=0 skipped=0
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/iprofmem-run.XXXXXX") || exit 2
trap 'rm -rf "$SCRATCH"' EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
failure() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# count LINE: tallies a result line printed by someone else.
count() {
	case $1 in
	"PASS "*) passed=$((passed + 1)) ;;
	"FAIL "*) failed=$((failed + 1)) ;;
	"SKIP "*) skipped=$((skipped + 1)) ;;
	esac
}

# sanitizer_report DIR ERRFILE: prints the first line of an ASan/UBSan/LSan
# report, from the log files in DIR or from ERRFILE; nothing if none.
sanitizer_report() {
	local f
	for f in "$1"/san.*; do
		[ -e "$f" ] || continue
		grep -m1 -E 'ERROR|runtime error|SUMMARY' "$f" || head -n1 "$f"
		return
	done
	grep -m1 -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$2"
}

# --------------------------------------------------------------- unit tests

# run_unit BIN TAG: one cmocka binary, one result line per TAP result line.
run_unit() {
	local bin=$1 tag=$2 name=${1##*/} san=$SCRATCH/unit.$RANDOM
	local out=$san.out err=$san.err rc line n=0 nfail=0 plan=0 report
	mkdir -p "$san"
	# (the braces take bash's own "Aborted" notice off the output)
	{ CMOCKA_MESSAGE_OUTPUT=TAP \
	  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$san/san" \
	  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/san" \
		timeout -k 5 "$UNIT_TIMEOUT" "$bin" </dev/null >"$out" 2>"$err"; } 2>/dev/null
	rc=$?
	while IFS= read -r line; do
		case $line in
		[0-9]*..[0-9]*)
			plan=$((plan + ${line#*..})) ;;
		"ok "*"# SKIP"* | "not ok "*"# SKIP"*)
			n=$((n + 1)); echo "SKIP $tag$name/${line##*# SKIP }: skipped by the test"
			skipped=$((skipped + 1)) ;;
		"ok "*)
			n=$((n + 1)); pass "$tag$name/${line#ok * - }" ;;
		"not ok "*)
			n=$((n + 1)); nfail=$((nfail + 1))
			failure "$tag$name/${line#not ok * - }" "assertion failed" ;;
		"#"*)
			[ $nfail -gt 0 ] && echo "$line" ;;
		esac
	done <"$out"
	report=$(sanitizer_report "$san" "$err")
	if [ -n "$report" ]; then
		failure "$tag$name" "sanitizer report: $report"
	elif [ $rc -eq 124 ]; then
		failure "$tag$name" "timed out after ${UNIT_TIMEOUT}s"
	elif [ $n -eq 0 ]; then
		failure "$tag$name" "exit status $rc and no TAP result line"
		sed -n '1,10s/^/# /p' "$err"
	elif [ $n -lt $plan ]; then
		failure "$tag$name" "$n of $plan results, then exit status $rc"
		sed -n '1,10s/^/# /p' "$err"
	elif [ $rc -ne 0 ] && [ $nfail -eq 0 ]; then
		failure "$tag$name" "exit status $rc with every test ok"
		sed -n '1,10s/^/# /p' "$err"
	fi
}

if [ "$RUN_UNIT" = 1 ]; then
	for dir in build/unit build-asan/unit; do
		[ "$dir" = build-asan/unit ] && [ "$RUN_ASAN" != 1 ] && continue
		tag=unit:
		[ "$dir" = build-asan/unit ] && tag=asan:unit:
		found=0
		for bin in "$dir"/test_*; do
			[ -f "$bin" ] && [ -x "$bin" ] || continue
			found=1
			run_unit "$bin" "$tag"
		done
		[ $found = 1 ] || failure "${tag%:}" "no test binary in $dir (make unit-tests)"
	done
fi

# ------------------------------------------------------- fuzz input replays

# run_replay BIN DIR NAME: every input of DIR through one replay binary.
run_replay() {
	local bin=$1 dir=$2 name=$3 san=$SCRATCH/fuzz.$RANDOM rc out report
	mkdir -p "$san"
	{ ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$san/san" \
	  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/san" \
		timeout -k 5 "$UNIT_TIMEOUT" "$bin" "$dir" \
		</dev/null >"$san.out" 2>"$san.err"; } 2>/dev/null
	rc=$?
	out=$(tail -n1 "$san.out")
	report=$(sanitizer_report "$san" "$san.err")
	if [ -n "$report" ]; then
		failure "$name" "sanitizer report: $report"
	elif [ $rc -eq 124 ]; then
		failure "$name" "timed out after ${UNIT_TIMEOUT}s"
	elif [ $rc -ne 0 ] || [ "${out% inputs replayed}" = "$out" ]; then
		failure "$name" "exit status $rc"
		sed -n '1,10s/^/# /p' "$san.err"
	else
		pass "$name (${out%% *} inputs)"
	fi
}

if [ "$RUN_FUZZ" = 1 ]; then
	found=0
	for bin in build-asan/fuzz/replay_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		found=1
		t=${bin##*/replay_}
		for set in corpus regress; do
			run_replay "$bin" "test/fuzz/$set/$t" "asan:fuzz:$t/$set"
		done
	done
	[ $found = 1 ] || failure asan:fuzz "no replay binary in build-asan/fuzz (make fuzz-replay)"
fi

# ---------------------------------------------------------------- e2e tests

# run_script SCRIPT TAG [VAR=VALUE...]: one e2e script, its lines passed on.
run_script() {
	local script=$1 tag=$2 line rc=0 nres=0 nfail=0
	shift 2
	while IFS= read -r line; do
		case $line in
		"__RC__ "*) rc=${line#__RC__ }; continue ;;
		"FAIL "*) nfail=$((nfail + 1)) ;;
		esac
		case $line in "PASS "* | "FAIL "* | "SKIP "*) nres=$((nres + 1)) ;; esac
		echo "$line"
		count "$line"
	done < <(env "$@" E2E_TAG="$tag" bash "$script" 2>&1; echo "__RC__ $?")
	if [ $nres -eq 0 ]; then
		failure "$tag${script##*/}" "exit status $rc and no result line"
	elif [ "$rc" -ne 0 ] && [ $nfail -eq 0 ]; then
		failure "$tag${script##*/}" "exit status $rc after its tests passed"
	fi
}

if [ $# -gt 0 ]; then
	scripts=("$@")
else
	scripts=(test/e2e/test_*.sh)
fi

# private_copy FILE NAME: FILE copied to $PRIVATE/NAME (a directory: with
# its contents and times); prints the copy's path.
PRIVATE=$SCRATCH/private	# mode 0700, from mktemp -d
private_copy() {
	mkdir -p "$(dirname "$PRIVATE/$2")" &&
		cp -a -- "$1" "$PRIVATE/$2" &&
		printf '%s\n' "$PRIVATE/$2"
}

TARGETS=${E2E_TARGETS:-build/targets}
if [ ! -x "$TARGETS/mem.O0-pie" ]; then
	failure e2e "$TARGETS is missing or incomplete (make e2e-targets)"
elif ! E2E_TARGETS=$(private_copy "$TARGETS" targets); then
	failure e2e "cannot copy $TARGETS to $PRIVATE"
else
	export E2E_TARGETS
	run_script test/e2e/check_targets.sh ""
	# the default engine (probes), the int3 engine (the reference, the
	# same binary with IPROFMEM_ENGINE=int3), and the ASan build
	builds=("$IPROFMEM::auto")
	[ "$RUN_INT3" = 1 ] && builds+=("$IPROFMEM:int3::int3")
	[ "$RUN_ASAN" = 1 ] && builds+=("$IPROFMEM_ASAN:asan::auto")
	normal=
	for b in "${builds[@]}"; do
		engine=${b##*:} b=${b%:*}
		bin=${b%%:*} tag=${b#*:}
		if [ ! -x "$bin" ]; then
			failure "${tag}e2e" "$bin is missing (make all asan)"
			continue
		fi
		sub=${tag%:}
		if [ "$engine" = int3 ] && [ -n "$normal" ]; then
			bin=$normal
		elif ! bin=$(private_copy "$bin" "${sub:-normal}/iprofmem"); then
			failure "${tag}e2e" "cannot copy ${b%%:*} to $PRIVATE"
			continue
		fi
		[ -z "$tag" ] && normal=$bin
		# the int3 engine stops the program at every event: a hang guard
		# three times as long (interleave's 480,000 stops took 50 s to
		# over 60 on this VM's slow days)
		limit=${E2E_TIMEOUT:-60}
		[ "$engine" = int3 ] && limit=$((limit * 3))
		for s in "${scripts[@]}"; do
			case $s in */test_valgrind.sh) continue ;; esac
			run_script "$s" "$tag" IPROFMEM="$bin" IPROFMEM_ENGINE="$engine" E2E_TIMEOUT="$limit"
		done
	done
	for s in "${scripts[@]}"; do
		case $s in */test_valgrind.sh) [ -n "$normal" ] && run_script "$s" "" IPROFMEM="$normal" ;; esac
	done
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

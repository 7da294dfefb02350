#!/usr/bin/env bash
# make bench: cost of one traced call of an empty function under iprofmem,
# against bench/reftrace (the least a ptrace tracer can do per event: one
# stop, GETREGS, a statm pread, emulation, SETREGS, CONT).
#
# Environment:
#   BENCH_N         calls of empty() per run (default 200000)
#   BENCH_REPS      runs per configuration; the median is reported (default 3)
#   BENCH_DIR       where empty and reftrace are built (default build/bench)
#   IPROFMEM        the binary under test (default ./iprofmem)
#   BENCH_CPU       CPU that every run is pinned to (default 0); 'none' leaves
#                   scheduling to the kernel.  Pinned, tracer and tracee hand off
#                   on one CPU: on this VM ~12 us/event and ~1% run-to-run
#                   spread, against ~50 us and ~10% unpinned (cross-CPU wakeups),
#                   which would drown a 10% goal in noise.
#   BENCH_REF_ONLY  1: measure untraced and reftrace only, skip iprofmem
#   BENCH_STRICT    1: exit 1 when the goal is not met
set -u
cd "$(dirname "$0")/.." || exit 1

N=${BENCH_N:-200000}
REPS=${BENCH_REPS:-3}
DIR=${BENCH_DIR:-build/bench}
IPROFMEM=${IPROFMEM:-./iprofmem}
REF_ONLY=${BENCH_REF_ONLY:-0}
STRICT=${BENCH_STRICT:-0}
CPU=${BENCH_CPU:-0}
GOAL=1.10
TARGET=$DIR/empty
REFTRACE=$DIR/reftrace

fail() { echo "bench: $*" >&2; exit 1; }

[[ $N =~ ^[1-9][0-9]*$ ]] || fail "BENCH_N must be a positive integer, got '$N'"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || fail "BENCH_REPS must be a positive integer, got '$REPS'"
for f in "$TARGET" "$REFTRACE"; do
	[ -x "$f" ] || fail "$f is missing: run 'make bench' (or make $f)"
done
if [ "$REF_ONLY" != 1 ] && [ ! -x "$IPROFMEM" ]; then
	fail "$IPROFMEM is missing or not executable: build it first ('make all'), or set IPROFMEM=path (BENCH_REF_ONLY=1 skips it)"
fi

PIN=()
if [ "$CPU" != none ]; then
	command -v taskset >/dev/null || fail "taskset not found (util-linux); set BENCH_CPU=none to run unpinned"
	[[ $CPU =~ ^[0-9]+$ ]] || fail "BENCH_CPU must be a CPU number or 'none', got '$CPU'"
	PIN=(taskset -c "$CPU")
	"${PIN[@]}" true 2>/dev/null || fail "cannot pin to CPU $CPU"
fi

# Sites of empty(): link-time addresses; reftrace adds the PIE load bias.
ENTRY=$(nm "$TARGET" | awk '$3 == "empty" { print $1 }')
RETS=$(objdump -d --no-show-raw-insn "$TARGET" |
	awk '/^[0-9a-f]+ <empty>:/ { f = 1; next } f && /^$/ { exit }
	     f && $2 ~ /^ret/ { sub(":", "", $1); print $1 }')
[ -n "$ENTRY" ] || fail "no symbol 'empty' in $TARGET"
[ "$(echo "$RETS" | wc -w)" = 1 ] || fail "want exactly one ret in empty(), found: '$RETS'"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

now_ns() { date +%s%N; }

# once NAME CMD...: run CMD once, append its wall time (ns) to $TMP/NAME.ns.
# Stops the benchmark when CMD fails, showing the end of its stderr.
once() {
	local name=$1 t0 t1 rc
	shift
	t0=$(now_ns)
	"${PIN[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	t1=$(now_ns)
	if [ $rc -ne 0 ]; then
		echo "bench: $name run failed (exit status $rc): $*" >&2
		tail -n 20 "$TMP/$name.err" >&2
		exit 1
	fi
	echo $((t1 - t0)) >>"$TMP/$name.ns"
}

median() { sort -n "$1" | awk -v r="$REPS" 'NR == int((r + 1) / 2) { print; exit }'; }
samples() { awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 / 1e9 }' "$1"; }

echo "bench: $N calls of empty() per run, $REPS runs each, CPU: $CPU (this takes a while)" >&2
# Interleaved, so that a slow phase of the machine hits every configuration.
for ((rep = 0; rep < REPS; rep++)); do
	once untraced "$TARGET" "$N"
	once reftrace "$REFTRACE" -e $((2 * N)) "$ENTRY" "$RETS" "$TARGET" "$N"
	[ "$REF_ONLY" != 1 ] && once iprofmem "$IPROFMEM" -- "$TARGET" "$N"
done
REF_SEEN=$(sed -n 's/^reftrace: \([0-9]*\) events.*/\1/p' "$TMP/reftrace.err")

row() { # NAME EVENTS_PER_CALL
	local m
	m=$(median "$TMP/$1.ns")
	awk -v name="$1" -v ns="$m" -v n="$N" -v epc="$2" -v runs="$(samples "$TMP/$1.ns")" 'BEGIN {
		percall = ns / 1e3 / n
		ev = epc ? sprintf("%9.3f", percall / epc) : sprintf("%9s", "-")
		printf "%-9s %10.3f %10.3f %s   %s\n", name, ns / 1e9, percall, ev, runs
	}'
}

echo
echo "iprofmem bench: N=$N calls of empty(), 2 events per traced call, median of $REPS, CPU: $CPU"
printf '%-9s %10s %10s %9s   %s\n' "" "total s" "us/call" "us/event" "runs (s)"
row untraced 0
row reftrace 2
[ "$REF_ONLY" != 1 ] && row iprofmem 2
echo "(untraced: process start-up dominates; reftrace saw $REF_SEEN events, expected $((2 * N)))"

if [ "$REF_ONLY" = 1 ]; then
	echo "iprofmem skipped (BENCH_REF_ONLY=1): no ratio"
	exit 0
fi
RATIO=$(awk -v a="$(median "$TMP/iprofmem.ns")" -v b="$(median "$TMP/reftrace.ns")" \
	'BEGIN { printf "%.3f", a / b }')
MET=$(awk -v r="$RATIO" -v g="$GOAL" 'BEGIN { print (r <= g) ? "met" : "NOT met" }')
echo "ratio: iprofmem / (2 x reftrace per event) = $RATIO"
echo "goal: ratio <= $GOAL   ($MET)"
[ "$STRICT" = 1 ] && [ "$MET" != met ] && exit 1
exit 0

#!/usr/bin/env bash
# make bench, third stage: iprofmem's own memory is bounded by the number
# of functions and threads, not by the length of the run.  It traces
# N1 (default 1,000,000) and then N2 (default 10,000,000) calls of empty()
# (bench/empty.c: the count is its argument) and reports its peak RSS for
# each, and their ratio: bounded memory makes it about 1.
#
# The peak is GNU time's %M, the ru_maxrss that wait4 returns for
# iprofmem: the larger of iprofmem's own peak and that of the children it
# waited for, the tracee.  The tracee's own peak is printed too (measured
# untraced): while it is below iprofmem's figure, that figure is iprofmem's.
#
# Environment:
#   BENCH_MEM_N1, BENCH_MEM_N2   the two call counts
#   BENCH_CPU       CPU every run is pinned to (default 0; 'none': unpinned)
#   BENCH_DIR       where empty is built (default build/bench)
#   IPROFMEM        the binary under test (default ./iprofmem)
#   BENCH_STRICT    1: exit 1 when the ratio exceeds 1.10
# 10 M calls are 20 M traps: 4 to 6 minutes pinned on a 2-core VM.
set -u
cd "$(dirname "$0")/.." || exit 1

N1=${BENCH_MEM_N1:-1000000}
N2=${BENCH_MEM_N2:-10000000}
DIR=${BENCH_DIR:-build/bench}
IPROFMEM=${IPROFMEM:-./iprofmem}
CPU=${BENCH_CPU:-0}
STRICT=${BENCH_STRICT:-0}
GOAL=1.10
TARGET=$DIR/empty
TIME=/usr/bin/time

fail() { echo "bench memory: $*" >&2; exit 1; }

for n in "$N1" "$N2"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || fail "BENCH_MEM_N1/N2 must be positive integers, got '$n'"
done
[ -x "$TARGET" ] || fail "$TARGET is missing: run 'make bench'"
[ -x "$IPROFMEM" ] || fail "$IPROFMEM is missing or not executable: build it first ('make all')"
[ -x "$TIME" ] || fail "$TIME is missing: install GNU time ('make deps')"
PIN=()
if [ "$CPU" != none ]; then
	[[ $CPU =~ ^[0-9]+$ ]] || fail "BENCH_CPU must be a CPU number or 'none', got '$CPU'"
	PIN=(taskset -c "$CPU")
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# peak_kb NAME CMD...: runs CMD (pinned), prints its peak RSS in KiB and
# leaves its wall time in seconds in $TMP/NAME.s.
peak_kb() {
	local name=$1
	shift
	"${PIN[@]}" "$TIME" -f '%M %e' -o "$TMP/$name.time" "$@" >/dev/null 2>"$TMP/$name.err" ||
		{ tail -n 5 "$TMP/$name.err" >&2; fail "$name run failed: $*"; }
	cut -d' ' -f2 "$TMP/$name.time" >"$TMP/$name.s"
	cut -d' ' -f1 "$TMP/$name.time"
}

# traced N: iprofmem's peak over a run of N calls (the table is not
# looked at: empty() grows nothing, so it has no row).
traced() {
	peak_kb "ip$1" "$IPROFMEM" -o "$TMP/ip$1.table" -- "$TARGET" "$1"
}

echo "bench memory: iprofmem's peak RSS at $N1 and $N2 traced calls of empty(), CPU: $CPU (this takes a while)" >&2
TRACEE=$(peak_kb tracee "$TARGET" "$N2")
K1=$(traced "$N1")
K2=$(traced "$N2")

echo
echo "iprofmem memory bench: peak RSS of iprofmem (KiB) by traced calls of empty(), CPU: $CPU"
printf '  %-10s calls  %8s KiB   (%s s)\n' "$N1" "$K1" "$(cat "$TMP/ip$N1.s")"
printf '  %-10s calls  %8s KiB   (%s s)\n' "$N2" "$K2" "$(cat "$TMP/ip$N2.s")"
echo "  (the tracee alone, untraced: $TRACEE KiB)"
RATIO=$(awk -v a="$K2" -v b="$K1" 'BEGIN { printf "%.3f", a / b }')
MET=$(awk -v r="$RATIO" -v g="$GOAL" 'BEGIN { print (r <= g) ? "met" : "NOT met" }')
echo "ratio: peak at $N2 / peak at $N1 = $RATIO"
echo "goal: ratio <= $GOAL, memory bounded by the run's functions and threads, not its length   ($MET)"
[ "$STRICT" = 1 ] && [ "$MET" != met ] && exit 1
exit 0

#!/usr/bin/env bash
# make bench, second stage: no breakpoint is ever lifted, at full size.
# T threads (default 8) call spin_touch() K times each (default 100000) at
# the same time, every call touching one new page (test/targets/spin_threads.c).
# A tracer that lifts a breakpoint to step over it lets other threads pass
# the site untraced.  The verdict is on the count alone: PASS when
# spin_touch's row has exactly T*K calls and at least T*K pages; the time is
# printed for information, never judged.
#
# Environment:
#   BENCH_SPIN_K    calls per thread (default 100000)
#   BENCH_SPIN_T    threads (default 8)
#   BENCH_DIR       where spin_threads is built (default build/bench)
#   IPROFMEM        the binary under test (default ./iprofmem)
# Exit status: 0 PASS, 1 FAIL or could not run.
set -u
cd "$(dirname "$0")/.." || exit 1

K=${BENCH_SPIN_K:-100000}
T=${BENCH_SPIN_T:-8}
DIR=${BENCH_DIR:-build/bench}
IPROFMEM=${IPROFMEM:-./iprofmem}
BIN=$DIR/spin_threads
SRC=test/targets/spin_threads.c

fail() { echo "bench threads: $*" >&2; exit 1; }

[[ $K =~ ^[1-9][0-9]*$ ]] || fail "BENCH_SPIN_K must be a positive integer, got '$K'"
[[ $T =~ ^[1-9][0-9]*$ ]] && [ "$T" -le 64 ] || fail "BENCH_SPIN_T must be 1..64, got '$T'"
[ -x "$BIN" ] || fail "$BIN is missing: run 'make bench' (or make $BIN)"
[ -x "$IPROFMEM" ] || fail "$IPROFMEM is missing or not executable: build it first ('make all')"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "bench threads: $T threads x $K calls of spin_touch(), at once (this takes a while)" >&2
t0=$(date +%s%N)
"$IPROFMEM" -o "$TMP/table" -- "$BIN" "$K" "$T" >"$TMP/out" 2>"$TMP/err"
rc=$?
t1=$(date +%s%N)
if [ $rc -ne 0 ]; then
	echo "bench threads: iprofmem exited $rc" >&2
	tail -n 20 "$TMP/err" >&2
	exit 1
fi

# The row: "%10.4g  %7d  KEY"; the key ends with ":spin_touch".
row=$(grep -E ':spin_touch$' "$TMP/table")
[ "$(printf '%s\n' "$row" | grep -c .)" = 1 ] || { cat "$TMP/table" >&2; fail "want one row for spin_touch"; }
calls=$(printf '%d' "${row:12:7}")
mb=${row:0:10}
want=$((T * K))
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
per=$(awk -v a="$t0" -v b="$t1" -v n="$want" 'BEGIN { printf "%.2f", (b - a) / 1e3 / n }')
pages_ok=$(awk -v m="$mb" -v p="$want" 'BEGIN { print (m * 256 >= p - 0.5) ? 1 : 0 }')

echo
echo "iprofmem threads bench: $T threads x $K calls of spin_touch(), one new page each"
printf '  calls counted  %d (want exactly %d)\n' "$calls" "$want"
printf '  memory         %s MB (want at least %s MB)\n' "$(echo $mb)" \
	"$(awk -v p="$want" 'BEGIN { printf "%.4g", p / 256 }')"
printf '  time           %s s (%s us per traced call, for information)\n' "$secs" "$per"
if [ "$calls" = "$want" ] && [ "$pages_ok" = 1 ]; then
	echo "PASS threads: every call counted"
	exit 0
fi
[ "$calls" = "$want" ] || echo "FAIL threads: $calls calls counted, want $want (calls passed untraced)"
[ "$pages_ok" = 1 ] || echo "FAIL threads: $(echo $mb) MB, below $want pages"
exit 1

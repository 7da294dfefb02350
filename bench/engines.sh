#!/usr/bin/env bash
# make bench, fourth stage: the speed goals of issue 11 (the probe engine)
# as figures and ratios from one run.  Nothing here passes or fails on
# time: each goal is printed beside its figure, "met" or "not met", for
# the reader; the exit status is 0 whenever the figures could be taken.
#
#  (a) Per traced call of small functions that touch no page
#      (bench/small.c, -O2 -g, without and with CET): an empty function
#      with a frame, the 5-byte getter, a leaf without a frame, a caller of
#      both, and all four.  us per traced call = (T(N) - T(0)) / calls,
#      T(0) the same configuration's run with no call (start-up, symbols,
#      exit), so start-up is not charged to the calls.  Untraced, int3
#      engine, default engine (and the fault gate off, when --help shows an
#      option for it), uftrace -P . (its calls counted by uftrace report: it
#      skips functions too short to patch, such as the getter).  Beside
#      the gate-off figure, its floor on this machine: two statm reads per
#      call, timed by bench/statmcost.c in the same run.
#  (b) A real program: python3.11d (python3.11-dbg, -g, 11,000 functions)
#      running bench/pyload.py, every function traced: wall time untraced,
#      under heaptrack, uftrace -P ., the default engine, and the int3
#      engine on a shorter run (--duration: the first BENCH_INT3_SECS
#      seconds, then the script goes on untraced), scaled by its call count
#      (the sum of total_calls over a --record's call paths, which counts
#      every returned call, growing or not).  Untraced, heaptrack and the
#      default engine run in turn, rep by rep, so that the machine's drift
#      in speed (2x within minutes here) falls on all three alike; beside
#      the ratios, the host's steal over those runs (/proc/stat).  Then
#      the default engine's start-up: its set-up of every function of
#      python3.11d (the "set-up" of --stats), and beside it the whole
#      traced run of `python3.11d -c pass`.
#  (c) Coverage: the share of executed events that went through probes,
#      from --stats ("probe N", "int3 N"), on python3.11d, on small, and on
#      a C program built -O2 -g that the project did not write: Lua 5.4
#      (test/e2e/real_programs.sh builds it from Debian's source, cached
#      under build/real) running test/e2e/real/work.lua 20000.
#  (d) The same table on python3.11d (-S -I -c pass, PYTHONHASHSEED=0,
#      setarch -R, one CPU): the default engine's twice, then the int3
#      engine's against it; identical, or the rows that differ.
#
# Until the probe engine lands, --engine is not in `iprofmem --help`: then
# only today's engine (int3) is measured and every default-engine figure
# says "n/a (default engine not there yet)".
#
# Environment:
#   BENCH_SMALL_N       calls per function, default engine (default 1000000)
#   BENCH_INT3_DIV      the int3 engine makes N / this many (default 50)
#   BENCH_SLOW_SECS     a configuration whose N-call run would take longer
#                       (from a short calibration run) gets fewer calls
#                       (default 5)
#   BENCH_PY_CAP        the default engine's run of python3.11d is stopped
#                       (SIGTERM) after this many seconds (default 60): a
#                       slow engine is then measured by one run
#   BENCH_ENGINES_REPS  runs per figure, the median is printed (default 3)
#   BENCH_PY_ROUNDS     bench/pyload.py's rounds (default 8: ~10 M calls,
#                       0.06 s untraced, half of it the interpreter's start-up)
#   BENCH_INT3_SECS     seconds of the int3 engine on python3.11d (default 15)
#   BENCH_GATE_OFF      iprofmem options that turn the fault gate off
#                       (default: guessed from --help; empty: no such row)
#   BENCH_ENGINES_CPU   CPU every run is pinned to (default none: as a user
#                       runs them; the probe engine's drain runs beside)
#   BENCH_DIR           where small and small-cet are built (build/bench)
#   IPROFMEM            the binary under test (default ./iprofmem)
#   BENCH_PYTHON        the interpreter (default python3.11d)
#   BENCH_SAME          0: skip (d), the tables compared
#   BENCH_SAME_CPU      the CPU (d) pins its runs to (default 0)
# About 4 minutes here, and 2 more for (d); the caps keep (b) near 5
# minutes when the default engine is slow.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1

N=${BENCH_SMALL_N:-1000000}
DIV=${BENCH_INT3_DIV:-50}
SLOW=${BENCH_SLOW_SECS:-5}
PY_CAP=${BENCH_PY_CAP:-60}
SU_CAP=20
REPS=${BENCH_ENGINES_REPS:-3}
ROUNDS=${BENCH_PY_ROUNDS:-8}
INT3_SECS=${BENCH_INT3_SECS:-15}
CPU=${BENCH_ENGINES_CPU:-none}
DIR=${BENCH_DIR:-build/bench}
IPROFMEM=${IPROFMEM:-./iprofmem}
PY=${BENCH_PYTHON:-python3.11d}
PYLOAD=bench/pyload.py
TIMEOUT=600

fail() { echo "bench engines: $*" >&2; exit 1; }

for v in "$N" "$DIV" "$SLOW" "$REPS" "$ROUNDS" "$INT3_SECS" "$PY_CAP"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || fail "BENCH_SMALL_N, BENCH_INT3_DIV, BENCH_SLOW_SECS, BENCH_ENGINES_REPS, BENCH_PY_ROUNDS, BENCH_INT3_SECS, BENCH_PY_CAP: positive integers, got '$v'"
done
for f in "$DIR/small" "$DIR/small-cet"; do
	[ -x "$f" ] || fail "$f is missing: run 'make bench' (or make $f)"
done
[ -x "$IPROFMEM" ] || fail "$IPROFMEM is missing or not executable: build it first ('make all')"
PIN=()
if [ "$CPU" != none ]; then
	[[ $CPU =~ ^[0-9]+$ ]] || fail "BENCH_ENGINES_CPU must be a CPU number or 'none', got '$CPU'"
	PIN=(taskset -c "$CPU")
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ------------------------------------------------------------- what is there

HELP=$("$IPROFMEM" --help 2>&1)
HAS_ENGINE=0 HAS_STATS=0
grep -q -e '--engine' <<<"$HELP" && HAS_ENGINE=1
grep -q -e '--stats' <<<"$HELP" && HAS_STATS=1
NOT_YET="n/a (default engine not there yet)"

# The default engine: no option, and no IPROFMEM_ENGINE to change it.
IP_DEFAULT=(env -u IPROFMEM_ENGINE "$IPROFMEM")
IP_INT3=(env -u IPROFMEM_ENGINE "$IPROFMEM")
[ $HAS_ENGINE = 1 ] && IP_INT3+=(--engine=int3)

# The fault gate off: an option --help shows, if any (the name is the
# lead's to choose: these are guesses; BENCH_GATE_OFF overrides).
if [ -n "${BENCH_GATE_OFF+set}" ]; then
	GATE_OFF=$BENCH_GATE_OFF
elif grep -q -e '--no-fault-gate' <<<"$HELP"; then
	GATE_OFF=--no-fault-gate
elif grep -q -e '--fault-gate=' <<<"$HELP"; then
	GATE_OFF=--fault-gate=off
elif grep -q -e '--gate=' <<<"$HELP"; then
	GATE_OFF=--gate=off
else
	GATE_OFF=
fi
[ $HAS_ENGINE = 1 ] || GATE_OFF=

have() { command -v "$1" >/dev/null 2>&1; }
HAS_UFTRACE=0 HAS_HEAPTRACK=0 HAS_PY=0
have uftrace && HAS_UFTRACE=1
have heaptrack && HAS_HEAPTRACK=1
have "$PY" && HAS_PY=1

# ------------------------------------------------------------------ helpers

now_ns() { date +%s%N; }

# timed NAME CMD...: runs CMD once (pinned, under a timeout), appends its
# wall time in ns to $TMP/NAME.ns; stdout and stderr in $TMP/NAME.out,
# .err.  A failed run is noted in $TMP/NAME.failed and returns 1: the
# figure then says so, the other figures go on.
timed() {
	local name=$1 t0 t1 rc
	shift
	t0=$(now_ns)
	{ timeout -k 5 "$TIMEOUT" "${PIN[@]}" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err"; } 2>/dev/null
	rc=$?
	t1=$(now_ns)
	if [ $rc -ne 0 ]; then
		echo "exit status $rc" >"$TMP/$name.failed"
		echo "bench engines: $name failed (exit status $rc): $*" >&2
		tail -n 5 "$TMP/$name.err" | sed 's/^/  /' >&2
		return 1
	fi
	echo $((t1 - t0)) >>"$TMP/$name.ns"
}

# timed_cap SECS NAME CMD...: timed, but after SECS seconds CMD's process
# group gets SIGTERM (iprofmem forwards it to the program, which dies of
# it; the table and record are still written): then $TMP/NAME.cut says so
# and the time counts, as a lower bound.  Not --duration: the default
# engine leaves probes out of a program that goes on after it.
timed_cap() {
	local secs=$1 name=$2 t0 t1 rc
	shift 2
	t0=$(now_ns)
	{ timeout -k 10 -s TERM "$secs" "${PIN[@]}" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err"; } 2>/dev/null
	rc=$?
	t1=$(now_ns)
	if [ $rc -eq 124 ]; then
		: >"$TMP/$name.cut"
	elif [ $rc -ne 0 ]; then
		echo "exit status $rc" >"$TMP/$name.failed"
		echo "bench engines: $name failed (exit status $rc): $*" >&2
		tail -n 5 "$TMP/$name.err" | sed 's/^/  /' >&2
		return 1
	fi
	echo $((t1 - t0)) >>"$TMP/$name.ns"
}

# median_s NAME: the median of NAME's runs, in seconds; "" if none.
median_s() {
	[ -s "$TMP/$1.ns" ] || return 0
	sort -n "$TMP/$1.ns" | awk '{ v[NR] = $1 } END { printf "%.4f", v[int((NR + 1) / 2)] / 1e9 }'
}

# The hypervisor's share of this VM's CPU time (steal, /proc/stat) since
# a cpu_snap: the default engine keeps both CPUs busy (the program and
# iprofmem's drain) where heaptrack keeps one, so a host that takes CPUs
# away slows it more; printed beside the ratios it moves.
cpu_snap() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t; exit }' /proc/stat 2>/dev/null; }
steal_since() { # SNAP
	local s0 t0 s1 t1
	read -r s0 t0 <<<"$1"
	read -r s1 t1 < <(cpu_snap)
	[ -n "${t1:-}" ] && [ -n "${t0:-}" ] &&
		awk -v ds=$((s1 - s0)) -v dt=$((t1 - t0)) 'BEGIN { if (dt > 0) printf "%.1f", 100 * ds / dt }'
}

# fig VALUE FORMAT: VALUE formatted, or "-" when empty.
fig() { if [ -n "$1" ]; then awk -v v="$1" -v f="$2" 'BEGIN { printf f, v }'; else printf -- -; fi; }

# ratio A B: A / B with 2 decimals, "" when either is missing or B is 0.
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'
}

# verdict VALUE OP GOAL: "met" or "not met" (OP: le or ge), "n/a" if no value.
verdict() {
	[ -n "$1" ] || { echo "n/a"; return; }
	awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
		ok = (op == "le") ? (v + 0 <= g + 0) : (v + 0 >= g + 0)
		print ok ? "met" : "not met" }'
}

# record_calls FILE: the calls a --record saw return (every call path's
# total_calls), "" if FILE is missing.
record_calls() {
	[ -s "$1" ] || return 0
	awk -F'\t' '$1 == "node" { s += $7 } END { printf "%d", s }' "$1"
}

# stats_share FILE: "PROBE INT3" from the --stats lines on stderr in FILE,
# parsed loosely: a line with both "probe N" and "int3 N", the first that
# speaks of events if any (another may count sites); "" if none.
stats_share() {
	[ -s "$1" ] || return 0
	awk 'function num(re, skip,   v) {
		if (!match($0, re)) return ""
		v = substr($0, RSTART + skip, RLENGTH - skip); gsub(/[^0-9]/, "", v); return v
	}
	tolower($0) ~ /stat/ {
		p = num("probe[^0-9,;)]*[0-9]+", 5); i = num("int3[^0-9,;)]*[0-9]+", 4)
		if (p == "" || i == "") next
		if (tolower($0) ~ /event/) { print p, i; found = 1; exit }
		if (first == "") first = p " " i
	}
	END { if (!found && first != "") print first }' "$1"
}

# share "P I": the probe share in percent, or "".
share() {
	[ -n "$1" ] || return 0
	awk -v p="${1% *}" -v i="${1#* }" 'BEGIN { if (p + i > 0) printf "%.1f", 100 * p / (p + i) }'
}

echo "bench engines: default engine: $([ $HAS_ENGINE = 1 ] && echo present || echo 'not there yet (int3 only)'), --stats: $([ $HAS_STATS = 1 ] && echo yes || echo no), uftrace: $([ $HAS_UFTRACE = 1 ] && echo yes || echo no), heaptrack: $([ $HAS_HEAPTRACK = 1 ] && echo yes || echo no), $PY: $([ $HAS_PY = 1 ] && echo yes || echo no) (this takes a while)" >&2

# ---------------------------------------------- (a) small functions, per call

MODES="frame get leaf both all"
# traced calls of the four small functions in MODE x N
mode_calls() {
	case $1 in
	both) echo $((3 * $2)) ;;
	all) echo $((6 * $2)) ;;
	*) echo "$2" ;;
	esac
}

# calibrate CONF CMD...: a run of `small all` with N / DIV calls, from
# which CONF's N is chosen: N, or fewer when 6 N calls would take more than
# SLOW seconds.  Sets CONF_N.
calibrate() {
	local conf=$1 n0=$((N / DIV)) t0 tn per
	shift
	[ $n0 -ge 1000 ] || n0=1000
	timed "cal-$conf-0" "$@" "$BIN" all 0 || { CONF_N=$n0; return; }
	timed "cal-$conf" "$@" "$BIN" all $n0 || { CONF_N=$n0; return; }
	t0=$(median_s "cal-$conf-0") tn=$(median_s "cal-$conf")
	per=$(awk -v a="$tn" -v b="$t0" -v c=$((6 * n0)) 'BEGIN { p = (a - b) / c; print (p > 1e-9) ? p : 1e-9 }')
	CONF_N=$(awk -v p="$per" -v s="$SLOW" -v n="$N" -v lo="$n0" 'BEGIN {
		m = int(s / (6 * p)); if (m > n) m = n; if (m < lo) m = lo; print m }')
}

# uftrace_calls DIR: calls of the four small functions uftrace recorded.
uftrace_calls() {
	uftrace report -d "$1" 2>/dev/null |
		awk '$NF ~ /^(frame|get|leaf|both)$/ { s += $(NF - 1) } END { printf "%d", s }'
}

# small_conf CONF LABEL CMD...: runs every mode REPS times with CONF_N calls
# and the no-call baseline, and prints the row.
small_conf() {
	local conf=$1 label=$2 m rep n base t c per out=""
	shift 2
	n=$CONF_N
	for ((rep = 0; rep < REPS; rep++)); do
		rm -rf "$TMP/uft"
		timed "$conf-base" "$@" "$BIN" all 0
		for m in $MODES; do
			rm -rf "$TMP/uft"
			timed "$conf-$m" "$@" "$BIN" "$m" "$n" && [ $rep = 0 ] &&
				[ -d "$TMP/uft" ] && uftrace_calls "$TMP/uft" >"$TMP/$conf-$m.calls"
		done
	done
	rm -rf "$TMP/uft"
	base=$(median_s "$conf-base")
	for m in $MODES; do
		t=$(median_s "$conf-$m")
		c=$(mode_calls "$m" "$n")
		[ -e "$TMP/$conf-$m.calls" ] && c=$(cat "$TMP/$conf-$m.calls" 2>/dev/null || echo 0)
		per=
		if [ -n "$t" ] && [ -n "$base" ] && [ "${c:-0}" -gt 0 ]; then
			per=$(awk -v a="$t" -v b="$base" -v c="$c" 'BEGIN { printf "%.4f", (a - b) * 1e6 / c }')
		fi
		echo "$per" >"$TMP/$conf-$m.per"
		if [ -e "$TMP/$conf-$m.failed" ]; then
			out="$out $(printf '%9s' failed)"
		elif [ "${c:-0}" -eq 0 ]; then
			out="$out $(printf '%9s' skipped)"
		else
			out="$out $(printf '%9s' "$(fig "$per" '%.3f')")"
		fi
	done
	printf '  %-22s %9s%s\n' "$label" "$n" "$out"
}

small_na() { # LABEL REASON
	printf '  %-22s %s\n' "$1" "$2"
}

small_table() { # VARIANT
	local v=$1 m
	BIN=$DIR/$v
	echo
	echo "(a) us per traced call of small functions, $BIN (-O2 -g$([ "$v" = small-cet ] && echo ', CET')), median of $REPS, CPU: $CPU"
	printf '  %-22s %9s' "" "N"
	for m in $MODES; do printf ' %9s' "$m"; done
	echo
	CONF_N=$N
	small_conf "$v-untraced" "untraced" env
	if [ $HAS_ENGINE = 1 ]; then
		calibrate "$v-default" "${IP_DEFAULT[@]}" -o /dev/null --
		small_conf "$v-default" "default engine" "${IP_DEFAULT[@]}" -o /dev/null --
		if [ -n "$GATE_OFF" ]; then
			calibrate "$v-gateoff" "${IP_DEFAULT[@]}" $GATE_OFF -o /dev/null --
			small_conf "$v-gateoff" "default, gate off" "${IP_DEFAULT[@]}" $GATE_OFF -o /dev/null --
		else
			small_na "default, gate off" "n/a (no fault-gate option in --help; BENCH_GATE_OFF=OPTIONS names one)"
		fi
	else
		small_na "default engine" "$NOT_YET"
	fi
	CONF_N=$((N / DIV))
	[ $CONF_N -ge 1000 ] || CONF_N=1000
	small_conf "$v-int3" "int3 engine" "${IP_INT3[@]}" -o /dev/null --
	if [ $HAS_UFTRACE = 1 ]; then
		CONF_N=$N
		# its calls: those uftrace report counts (it leaves out functions
		# too short to patch)
		small_conf "$v-uftrace" "uftrace -P ." uftrace record -d "$TMP/uft" -P .
	else
		small_na "uftrace -P ." "n/a (not installed: apt-get install uftrace)"
	fi
	echo "  ratios, mode all: int3 / default = $(fig "$(ratio "$(cat "$TMP/$v-int3-all.per")" "$(cat "$TMP/$v-default-all.per" 2>/dev/null)")" '%sx'), default / uftrace = $(fig "$(ratio "$(cat "$TMP/$v-default-all.per" 2>/dev/null)" "$(cat "$TMP/$v-uftrace-all.per" 2>/dev/null)")" '%sx')"
}

small_table small
small_table small-cet
DEF_ALL=$(cat "$TMP/small-default-all.per" 2>/dev/null)
GATE_ALL=$(cat "$TMP/small-gateoff-all.per" 2>/dev/null)
echo "  goal: default engine <= 0.5 us per traced call (mode all, no CET: $(fig "$DEF_ALL" '%.3f') us, $(verdict "$DEF_ALL" le 0.5))"
echo "  goal: gate off <= 3 us per traced call ($(fig "$GATE_ALL" '%.3f') us, $(verdict "$GATE_ALL" le 3))"
# The floor under that figure on this machine: two statm reads per call
# (the entry's, the return's), measured now (bench/statmcost.c).
if [ -x "$DIR/statmcost" ] && read -r _ ST_NS _ SC_NS < <("${PIN[@]}" "$DIR/statmcost"); then
	FLOOR=$(awk -v s="$ST_NS" 'BEGIN { printf "%.3f", 2 * s / 1000 }')
	OWN=
	[ -n "$GATE_ALL" ] && OWN=$(awk -v g="$GATE_ALL" -v f="$FLOOR" 'BEGIN { printf "%.3f", g - f }')
	echo "  floor here: a statm read $(awk -v s="$ST_NS" 'BEGIN { printf "%.3f", s / 1000 }') us (a system call that does nothing $(awk -v s="$SC_NS" 'BEGIN { printf "%.3f", s / 1000 }') us): two per call $FLOOR us; gate off beyond that $(fig "$OWN" '%.3f') us"
else
	echo "  floor here: n/a ($DIR/statmcost missing: make $DIR/statmcost)"
fi

# ---------------------------------------------------- (b) a real program

echo
if [ $HAS_PY = 0 ]; then
	echo "(b) python3.11d: n/a ($PY not found: apt-get install python3.11-dbg, or 'make deps')"
else
	PYCMD=("$PY" "$PYLOAD" "$ROUNDS")
	echo "bench engines: $PY $PYLOAD $ROUNDS, every function traced" >&2
	if [ $HAS_UFTRACE = 1 ]; then
		# once: it writes about 700 MB of trace here
		rm -rf "$TMP/uft"
		timed py-uftrace uftrace record -d "$TMP/uft" -P . "${PYCMD[@]}"
		rm -rf "$TMP/uft"
	fi
	STATS=()
	[ $HAS_STATS = 1 ] && STATS=(--stats)
	FULL_CALLS= DEF_NOTE= DEF_CUT=0 DEF_REPS=0
	if [ $HAS_ENGINE = 1 ]; then
		# First the calls of the whole script, and --stats, in a run
		# stopped after PY_CAP seconds: a slow engine is measured by
		# this run alone, a fast one by REPS runs without the record
		# (whose writing is no part of tracing).
		timed_cap "$PY_CAP" py-count "${IP_DEFAULT[@]}" "${STATS[@]}" \
			--record="$TMP/py-default.rec" -o /dev/null -- "${PYCMD[@]}"
		FULL_CALLS=$(record_calls "$TMP/py-default.rec")
		COUNT_S=$(median_s py-count)
		if [ -e "$TMP/py-count.cut" ]; then
			DEF_CUT=1
			DEF_NOTE="at least: stopped after $PY_CAP s, the calls returned by then"
			cp "$TMP/py-count.ns" "$TMP/py-default.ns"
		elif [ -n "$COUNT_S" ] && awk -v t="$COUNT_S" -v c="$PY_CAP" -v r="$REPS" 'BEGIN { exit !(t * r > c) }'; then
			DEF_NOTE="1 run, with --record"
			cp "$TMP/py-count.ns" "$TMP/py-default.ns"
		else
			DEF_REPS=1
		fi
	fi
	PY_SNAP=$(cpu_snap)
	# untraced, heaptrack and the default engine in turn, rep by rep:
	# this machine's speed drifts by as much as 2x within minutes, and a
	# ratio of medians taken minutes apart would measure the drift
	for ((rep = 0; rep < REPS; rep++)); do
		timed py-untraced "${PYCMD[@]}"
		if [ $HAS_HEAPTRACK = 1 ]; then
			rm -f "$TMP"/ht.*
			timed py-heaptrack heaptrack -o "$TMP/ht" "${PYCMD[@]}"
			rm -f "$TMP"/ht.*
		fi
		if [ $DEF_REPS = 1 ]; then
			timed py-default "${IP_DEFAULT[@]}" -o "$TMP/py-default.table" -- "${PYCMD[@]}"
		fi
	done
	PY_STEAL=$(steal_since "$PY_SNAP")
	timed py-int3 "${IP_INT3[@]}" --duration="$INT3_SECS" --record="$TMP/py-int3.rec" \
		-o /dev/null -- "${PYCMD[@]}"
	INT3_CALLS=$(record_calls "$TMP/py-int3.rec")
	# its wall time includes start-up, the record and the untraced rest
	# of the script: an upper bound of the int3 engine's cost per call
	INT3_PER=
	[ -n "$INT3_CALLS" ] && [ "$INT3_CALLS" -gt 0 ] && [ -n "$(median_s py-int3)" ] &&
		INT3_PER=$(awk -v t="$(median_s py-int3)" -v c="$INT3_CALLS" 'BEGIN { printf "%.3f", t * 1e6 / c }')
	INT3_FULL=
	[ -n "$INT3_PER" ] && [ -n "$FULL_CALLS" ] && [ $DEF_CUT = 0 ] &&
		INT3_FULL=$(awk -v p="$INT3_PER" -v c="$FULL_CALLS" 'BEGIN { printf "%.1f", p * c / 1e6 }')
	UNTR=$(median_s py-untraced) HT=$(median_s py-heaptrack) DEF=$(median_s py-default) UFT=$(median_s py-uftrace)
	DEF_PER=
	[ -n "$DEF" ] && [ -n "$FULL_CALLS" ] && [ "$FULL_CALLS" -gt 0 ] &&
		DEF_PER=$(awk -v t="$DEF" -v c="$FULL_CALLS" 'BEGIN { printf "%.4f", t * 1e6 / c }')

	echo "(b) $PY $PYLOAD $ROUNDS, every function traced, wall time (median of $REPS; uftrace and int3: 1 run)"
	printf '  %-34s %10s %10s %12s\n' "" "seconds" "x untraced" "us per call"
	pyrow() { # LABEL SECONDS NOTE [PER]
		printf '  %-34s %10s %10s %12s  %s\n' "$1" "$(fig "$2" '%.3f')" "$(fig "$(ratio "$2" "$UNTR")" '%s')" "$(fig "${4-}" '%.3f')" "$3"
	}
	pyrow untraced "$UNTR" ""
	if [ $HAS_HEAPTRACK = 1 ]; then pyrow heaptrack "$HT" ""
	else pyrow heaptrack "" "n/a (not installed: apt-get install heaptrack)"; fi
	if [ $HAS_UFTRACE = 1 ]; then pyrow "uftrace -P ." "$UFT" "(no memory reading)"
	else pyrow "uftrace -P ." "" "n/a (not installed: apt-get install uftrace)"; fi
	if [ $HAS_ENGINE = 1 ]; then pyrow "default engine" "$DEF" "$FULL_CALLS calls${DEF_NOTE:+, $DEF_NOTE}" "$DEF_PER"
	else pyrow "default engine" "" "$NOT_YET"; fi
	pyrow "int3 engine, first ${INT3_SECS} s" "$(median_s py-int3)" "$INT3_CALLS calls" "$INT3_PER"
	pyrow "int3 engine, whole script (scaled)" "$INT3_FULL" "$([ -n "$INT3_FULL" ] || echo "n/a: needs the whole script's call count (from a default engine's whole run)")"
	R_HT=$(ratio "$DEF" "$HT")
	R_INT3=$(ratio "$INT3_PER" "$DEF_PER")
	GE=
	[ $DEF_CUT = 1 ] && GE=">= "
	echo "  ratios: default / heaptrack = $GE$(fig "$R_HT" '%sx'), int3 / default per call = $(fig "$R_INT3" '%sx'), default / uftrace = $GE$(fig "$(ratio "$DEF" "$UFT")" '%sx')"
	echo "  goal: default <= 3x heaptrack ($(verdict "$R_HT" le 3)); default >= 100x faster than int3 ($(verdict "$R_INT3" ge 100))"
	echo "  host: steal $(fig "$PY_STEAL" '%s %%') of this machine's CPU time during these runs (/proc/stat; the default engine uses both CPUs, heaptrack one)"

	# start-up: iprofmem's own set-up for every function of the
	# interpreter (reading its symbols, injecting, writing the probes and
	# int3s), from --stats; beside it the whole traced run of a trivial
	# script (which makes millions of calls), stopped after SU_CAP
	# seconds; past 5 s, once is enough
	SU= SU_NOTE= SU_WHOLE=
	: >"$TMP/py-setup.s"
	for ((rep = 0; rep < REPS; rep++)); do
		timed py-symbols "$IPROFMEM" --list-funcs -- "$PY" -c pass
		if [ $HAS_ENGINE = 1 ] && [ -z "$SU_NOTE" ]; then
			timed_cap "$SU_CAP" py-startup "${IP_DEFAULT[@]}" --stats -o /dev/null -- "$PY" -c pass
			sed -n 's/^iprofmem: stats: set-up \([0-9.]*\) s.*/\1/p' "$TMP/py-startup.err" >>"$TMP/py-setup.s"
			SU_WHOLE=$(median_s py-startup)
			[ -n "$SU_WHOLE" ] && awk -v t="$SU_WHOLE" 'BEGIN { exit !(t > 5) }' && SU_NOTE=" (1 run)"
			[ -e "$TMP/py-startup.cut" ] && SU_NOTE=" (at least: stopped after $SU_CAP s)"
		fi
	done
	[ -s "$TMP/py-setup.s" ] && SU=$(sort -n "$TMP/py-setup.s" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }')
	echo "  start-up, set-up of every function (--stats): default engine $([ $HAS_ENGINE = 1 ] && fig "$SU" '%.3f s' || echo "$NOT_YET");" \
		"symbols alone (--list-funcs, whole run) $(fig "$(median_s py-symbols)" '%.3f s');" \
		"$PY -c pass traced whole $(fig "$SU_WHOLE" '%.3f s')$SU_NOTE"
	echo "  goal: default engine start-up < 1.5 s ($(verdict "$SU" le 1.499))"
fi

# ------------------------------------------------------------- (c) coverage

echo
echo "(c) coverage: share of executed events that went through probes (--stats)"
if [ $HAS_ENGINE = 0 ]; then
	echo "  $NOT_YET"
elif [ $HAS_STATS = 0 ]; then
	echo "  n/a (no --stats in --help)"
else
	timed cov-small "${IP_DEFAULT[@]}" --stats -o /dev/null -- "$DIR/small" all $((N / DIV))
	covs=("python3.11d:$TMP/py-count.err" "small (-O2 -g, mode all):$TMP/cov-small.err")
	# a real C program built -O2 -g: Lua 5.4, as the engine tests build
	# it (test/e2e/real_programs.sh), on their workload made longer
	LUA=$(nice test/e2e/real_programs.sh lua 2>&1)
	if [[ $LUA == "lua /"* ]]; then
		timed cov-lua "${IP_DEFAULT[@]}" --stats -o /dev/null -- "${LUA#lua }" test/e2e/real/work.lua 20000 bench
		covs+=("lua 5.4 (-O2 -g):$TMP/cov-lua.err")
	else
		printf '  %-26s n/a (%s)\n' "lua 5.4 (-O2 -g)" "${LUA#lua }"
	fi
	for c in "${covs[@]}"; do
		s=$(stats_share "${c#*:}")
		if [ -n "$s" ]; then
			p=$(share "$s")
			printf '  %-26s probe %s, int3 %s: %s%% (goal >= 95%%: %s)\n' "${c%%:*}" "${s% *}" "${s#* }" "$p" "$(verdict "$p" ge 95)"
			grep -i 'stat' "${c#*:}" | head -n 12 | sed 's/^/      /'
		else
			printf '  %-26s n/a (no "probe N ... int3 N" stats line)\n' "${c%%:*}"
		fi
	done
fi
# ------------------------------------------------ (d) the same table twice

# A real program's tables, byte for byte: python3.11d (every function
# traced) running `-S -I -c pass` (about 2.8 million calls: 2 minutes or
# more under the int3 engine here), with PYTHONHASHSEED=0 (a random hash
# seed moves its allocations from run to run), under `setarch -R` on one
# CPU, as the engine tests run theirs: the default engine twice (is its
# table the same run to run?), then the int3 engine (the same as the
# default engine's?), each difference shown.  Not in make check for its
# time (and for python3.11-dbg).  BENCH_SAME=0 skips it.
#
# Meanwhile a helper keeps the program's files (the interpreter and the
# libraries ldd names) mapped and locked in memory (test/e2e/hold_files.py).  Where the kernel
# pages out the page cache that no process maps and that has been cold
# for a while (this VM runs DAMON, kdamond, with such a scheme: pageout,
# paddr, unmapped file pages idle for 60 s), a run that takes minutes, as
# the int3 engine's does, finds some of its file pages gone by the time it
# first reads them: the major fault's fault-around then maps fewer of the
# neighbours, and rows that first read the program's own data come out a
# few pages smaller (unicode_isalnum: 24, 27 and 29 pages in three int3
# runs, 32 in every default run and in the int3 run beside the helper).
echo
echo "(d) the same table: $PY -S -I -c pass, every function traced, PYTHONHASHSEED=0, setarch -R, one CPU"
SAME_NA=
[ $HAS_ENGINE = 1 ] || SAME_NA=$NOT_YET
[ -n "$SAME_NA" ] || [ $HAS_PY = 1 ] || SAME_NA="n/a ($PY not installed: apt-get install python3.11-dbg)"
[ -n "$SAME_NA" ] || [ "${BENCH_SAME:-1}" != 0 ] || SAME_NA="skipped (BENCH_SAME=0)"
if [ -n "$SAME_NA" ]; then
	echo "  $SAME_NA"
else
	# same_run NAME [OPTIONS...]: the table in $TMP/same-NAME.table
	same_run() {
		local name=$1
		shift
		timeout -k 5 900 setarch "$(uname -m)" -R taskset -c "${BENCH_SAME_CPU:-0}" \
			env -i PATH="$PATH" LC_ALL=C PYTHONHASHSEED=0 "$IPROFMEM" "$@" \
			-o "$TMP/same-$name.table" -- "$PY" -S -I -c pass \
			</dev/null >/dev/null 2>"$TMP/same-$name.err" && return 0
		echo "  $name: the run failed:"
		tail -n 3 "$TMP/same-$name.err" | sed 's/^/    /'
		return 1
	}
	# same_cmp LABEL A B: identical, or how many rows differ, and the first
	same_cmp() {
		if cmp -s "$TMP/same-$2.table" "$TMP/same-$3.table"; then
			echo "  $1: identical ($(($(wc -l <"$TMP/same-$2.table") - 4)) rows)"
		else
			echo "  $1: DIFFERENT, $(diff "$TMP/same-$2.table" "$TMP/same-$3.table" | grep -c '^>') rows of $(($(wc -l <"$TMP/same-$3.table") - 4)) (< $2, > $3):"
			diff "$TMP/same-$2.table" "$TMP/same-$3.table" | head -n 12 | sed 's/^/    /'
		fi
	}
	# the helper (test/e2e/hold_files.py, run by the interpreter itself):
	# the files mapped and mlocked (this VM's DAMON evicts idle file
	# pages, and an evicted code page moves a page between rows) until
	# this script is gone
	"$PY" -S -I test/e2e/hold_files.py --libs "$(command -v "$PY")" </dev/null >"$TMP/same-holder.out" 2>&1 &
	SAME_HOLDER=$!
	for _ in $(seq 100); do grep -q held "$TMP/same-holder.out" 2>/dev/null && break; sleep 0.1; done
	echo "  (files kept in the page cache meanwhile: $(sed -n 's/^held: //p' "$TMP/same-holder.out" | grep . || echo "no, the helper failed"))"
	if same_run default && same_run default2; then
		same_cmp "default engine, run twice" default default2
		if t0=$(now_ns) && same_run int3 --engine=int3; then
			same_cmp "int3 engine ($(awk -v t=$(($(now_ns) - t0)) 'BEGIN { printf "%.0f", t / 1e9 }') s) against the default engine" int3 default
		fi
	fi
	kill "$SAME_HOLDER" 2>/dev/null
	wait "$SAME_HOLDER" 2>/dev/null
fi
exit 0

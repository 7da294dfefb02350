#!/usr/bin/env bash
# make stress: iprofmem at sizes the tests do not reach, each stage checked
# against what is known exactly (what the target reports, or arithmetic),
# never against the clock: the time of each stage is printed, not judged.
#
#   threads    64 threads x 10,000 calls of spin_touch() at once
#              (test/targets/spin_threads.c): every call counted
#   recursion  descend() 100,000 levels deep on a 256 MiB stack
#              (bench/stress/recurse.c): every level counted, the sum of
#              its inclusive deltas exact to the page
#   forks      200 children forked at once under -f --per-process
#              (bench/stress/forker.c): each child's table exact, every
#              child exits 0 (none killed by SIGTRAP), none left stopped;
#              and again without -f: the children run untraced, exit 0;
#              and 40 runs with --duration ending the trace mid-forks
#   signals    10,000 SIGUSR1 sent by a thread to one deep in traced calls,
#              handled by a traced handler (test/targets/sigstorm.c): the
#              handler's, the interrupted functions' counts exact, the
#              output as untraced
#   altstack   the same with the handler on an alternate signal stack above
#              the interrupted frames (sigaltstack, SA_ONSTACK)
#   attach     100 attach/detach cycles (-p, then SIGINT) on a busy
#              multi-threaded process (test/targets/attach_work.c): each
#              window's table exact, no tracer left, the process as large
#              and with as many code areas after the last detach as after
#              the first, and in the end the same output and exit status
#              as an untraced run
#   attach64   100 cycles of -p --duration=0.05 on attach_work built with
#              64 churn threads: every run exits 0, no tracer left, and in
#              the end the same output and exit status as untraced
#   stops      100 launches of attach_idle ticks (20 ticks of 1 page, 20 ms
#              apart: the program outlives the SIGSTOP by far, even on a
#              loaded machine, where a stop sent as it exits is dropped
#              by the kernel), each sent a SIGSTOP at a random moment of
#              its first 30 ms, iprofmem's set-up included (injected
#              system calls: a stop that comes while one runs must not be
#              lost): every one stopped 0.1 s later, then SIGCONT, exits
#              0 with its output, tick's row 20 pages in 20 calls
#   stopcont   the same launches, a SIGSTOP in the first 10 ms, then
#              SIGCONT 0.2 to 2 ms later, often still in the set-up: a stop taken during an
#              injected system call must not outlast it; every program
#              ends by itself, as untraced, tick's row exact
#   tailchain  a chain of 1,000,000 tail calls sharing one stack frame
#              (ping and pong jmp to each other, bench/stress/tailchain.c;
#              issue 15): the chain kept whole up to 1024 frames, then
#              folded, the counts exact for that rule (a tail call into a
#              traced function leaves the caller's frame open); iprofmem's
#              peak RSS (GNU time %M) at most twice that of a 10,000-step
#              chain
#
# Each stage prints its figures and one line "PASS stress STAGE: ..." or
# "FAIL stress STAGE: ..."; the script exits 1 if any stage failed.  About
# 8 minutes on a 2-core VM (measured at affcf7c: threads 6 s, recursion
# 2 s, forks 32 s, signals 19 s and altstack 44 s (the sender's
# handshake), attach 28 s, attach64 187 s (stopping 65 threads at each
# attach and detach), stops 62 s (100 launches of a 400 ms program),
# tailchain under 1 s; stopcont, measured when it was added, 50 s).
#
# Environment (make passes command-line variables on):
#   STRESS_STAGES   stages to run (default: all, in the order above)
#   STRESS_THREADS, STRESS_CALLS   threads stage (default 64, 10000)
#   STRESS_DEPTH    recursion depth (default 100000)
#   STRESS_FORKS    children (default 200)
#   STRESS_SIGNALS  signals (default 10000)
#   STRESS_CYCLES   attach cycles (default 100, at most 100)
#   STRESS_STOPS    stops and stopcont launches (default 100 each)
#   STRESS_TAILSTEPS  tail calls in the chain (default 1000000)
#   STRESS_DIR      where the targets are built (default build/stress)
#   STRESS_HANG     seconds after which a run counts as hung (default 900;
#                   a hang guard, not a time limit)
#   IPROFMEM        the binary under test (default ./iprofmem)
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1

STAGES=${STRESS_STAGES:-threads recursion forks signals altstack attach attach64 stops stopcont tailchain}
THREADS=${STRESS_THREADS:-64}
CALLS=${STRESS_CALLS:-10000}
DEPTH=${STRESS_DEPTH:-100000}
FORKS=${STRESS_FORKS:-200}
SIGNALS=${STRESS_SIGNALS:-10000}
CYCLES=${STRESS_CYCLES:-100}
STOPS=${STRESS_STOPS:-100}
TAILSTEPS=${STRESS_TAILSTEPS:-1000000}
DIR=${STRESS_DIR:-build/stress}
HANG=${STRESS_HANG:-900}
IPROFMEM=${IPROFMEM:-./iprofmem}
ATTACH_BIN=build/targets/attach_work.O2-pie-cet
IDLE_BIN=build/targets/attach_idle.O2-pie
SIGSTORM=build/targets/sigstorm.O0-pie
PAGE=4096

die() { echo "stress: $*" >&2; exit 1; }
. test/e2e/proctree.sh

for v in THREADS CALLS DEPTH FORKS SIGNALS CYCLES STOPS TAILSTEPS HANG; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "STRESS_$v must be a positive integer, got '${!v}'"
done
[ "$THREADS" -le 64 ] || die "STRESS_THREADS must be at most 64 (spin_threads' limit)"
# attach_work's region holds 8192 pages; cycle k touches 20 + k of them
[ "$CYCLES" -le 100 ] || die "STRESS_CYCLES must be at most 100 (attach_work's region)"
[ -x "$IPROFMEM" ] || die "$IPROFMEM is missing: build it first ('make all')"
for f in "$DIR/spin_threads" "$DIR/recurse" "$DIR/forker" "$DIR/attach_work64" "$DIR/tailchain" "$SIGSTORM" "$ATTACH_BIN" "$IDLE_BIN"; do
	[ -x "$f" ] || die "$f is missing: run 'make stress'"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/iprofmem-stress.XXXXXX") || exit 1
# Every target gets this as its last (ignored) argument, so a process left
# behind (stopped, or still running) can be found by its command line.
MARK=$TMP/marker
cleanup() {
	local p
	for p in $(pgrep -f -- "$MARK"); do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# ------------------------------------------------------------ verdicts

NFAIL=0
ERRS=()
T0=0
stage_begin() { # TITLE
	ERRS=()
	T0=$(now_ns)
	echo
	echo "stress $1"
}
bad() { ERRS+=("$1"); }
# stage_end NAME WHAT: the time, then the verdict line.
stage_end() {
	local e msg
	printf '  time            %s s\n' "$(awk -v a="$T0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
	if [ ${#ERRS[@]} -eq 0 ]; then
		echo "PASS stress $1: $2"
		return
	fi
	msg=${ERRS[0]}
	for e in "${ERRS[@]:1}"; do msg="$msg; $e"; done
	echo "FAIL stress $1: $msg"
	NFAIL=$((NFAIL + 1))
}

# run_ip OUT ERR ARGS...: iprofmem under the hang guard (RUN_HANG seconds
# if set, else HANG); RC its status.  RUN_PRE: words before ARGS (with
# IPROFMEM set to a wrapper such as GNU time).
RC=0
RUN_PRE=()
run_ip() {
	local o=$1 e=$2 h=${RUN_HANG:-$HANG}
	shift 2
	{ timeout -k 5 "$h" "$IPROFMEM" "${RUN_PRE[@]}" "$@" </dev/null >"$o" 2>"$e"; } 2>/dev/null
	RC=$?
	[ $RC -eq 124 ] && bad "iprofmem still running after ${h}s (hung?)"
	if [ $RC -ne 0 ]; then
		bad "iprofmem exited $RC"
		sed -n '1,10s/^/  # /p' "$e"
	fi
}

# no_leftover: no process with the marker survives a stage (a child left
# stopped, a tracee never let go).  Waits 2 s for exits in flight.
no_leftover() {
	local pids i
	for ((i = 0; i < 20; i++)); do
		pids=$(pgrep -f -- "$MARK") || return 0
		sleep 0.1
	done
	bad "process left behind: $(ps -o pid=,stat=,args= -p "$(echo $pids | tr ' ' ,)" |
		tr -s ' ' | cut -c1-80 | head -n 3 | tr '\n' '|')"
	for i in $pids; do kill -CONT "$i" 2>/dev/null; kill -KILL "$i" 2>/dev/null; done
}

# csv_get CSV PID FUNC: sets ROW to "bytes calls total_calls self_bytes"
# of the one row of FUNC (for PID; 0 in a single report) and returns 0;
# complains and returns 1 when there is not exactly one.
ROW=
csv_get() {
	local n
	ROW=$(awk -F, -v p="$2" -v f="$3" 'NR > 1 && $1 == p && $4 == f { print $5, $7, $8, $9 }' "$1")
	n=$(printf '%s' "$ROW" | grep -c .)
	[ "$n" = 1 ] && return 0
	printf '  %-15s %s rows (want exactly 1)\n' "$3" "$n"
	bad "$n rows for $3, want 1"
	return 1
}

# want WHAT GOT EXPECTED: one figure line, and a complaint if they differ.
want() {
	printf '  %-15s %s (want exactly %s)\n' "$1" "$2" "$3"
	[ "$2" = "$3" ] || bad "$1: $2, want $3"
}

# ------------------------------------------------------------ stages

stage_threads() {
	local want_calls=$((THREADS * CALLS)) said bytes calls total
	stage_begin "threads: $THREADS threads x $CALLS calls of spin_touch() at once, one new page each"
	run_ip "$TMP/out" "$TMP/err" --format=csv --columns=total-calls -o "$TMP/t.csv" \
		-- "$DIR/spin_threads" "$CALLS" "$THREADS" "$MARK"
	said=$(sed -n 's/^spin_threads: .* = \([0-9]*\) calls$/\1/p' "$TMP/out")
	want "target says" "${said:-nothing}" "$want_calls"
	if csv_get "$TMP/t.csv" 0 spin_touch; then
		read -r bytes calls total _ <<<"$ROW"
		want "calls counted" "$calls" "$want_calls"
		want "total calls" "$total" "$want_calls"
		printf '  %-15s %s pages (want at least %s)\n' memory $((bytes / PAGE)) "$want_calls"
		[ $((bytes / PAGE)) -ge "$want_calls" ] || bad "memory below one page per call"
	fi
	no_leftover
	stage_end threads "every one of $want_calls calls counted"
}

stage_recursion() {
	local bytes calls total self said
	stage_begin "recursion: descend() $DEPTH levels deep, one new page per level"
	run_ip "$TMP/out" "$TMP/err" --format=csv --columns=total-calls,self -o "$TMP/r.csv" \
		-- "$DIR/recurse" "$DEPTH" 256 "$MARK"
	said=$(sed -n 's/^recurse: [0-9]* levels, deepest reached \([0-9]*\),.*/\1/p' "$TMP/out")
	want "target reached" "${said:-nothing}" "$DEPTH"
	if csv_get "$TMP/r.csv" 0 descend; then
		read -r bytes calls total self <<<"$ROW"
		want "calls counted" "$calls" "$DEPTH"
		want "total calls" "$total" "$DEPTH"
		# level i sees DEPTH - i + 1 pages: the sum is DEPTH(DEPTH+1)/2
		want "pages (sum)" $((bytes / PAGE)) $((DEPTH * (DEPTH + 1) / 2))
		want "self pages" $((self / PAGE)) "$DEPTH"
	fi
	if csv_get "$TMP/r.csv" 0 deep_main; then
		read -r bytes calls _ _ <<<"$ROW"
		want "deep_main" "$((bytes / PAGE)) pages, $calls call" "$DEPTH pages, 1 call"
	fi
	no_leftover
	stage_end recursion "all $DEPTH levels counted, every sum exact"
}

stage_forks() {
	local plain pids p n bad_tables=0 others row
	stage_begin "forks: $FORKS children forked at once under -f --per-process, 8 calls of child_touch() each; then without -f, and cut by --duration"
	"$DIR/forker" "$FORKS" 8 "$MARK" >"$TMP/plain.out" 2>/dev/null
	plain=$?
	run_ip "$TMP/out" "$TMP/err" -f --per-process --format=csv -o "$TMP/f.csv" \
		-- "$DIR/forker" "$FORKS" 8 "$MARK"
	sed -n '1,3s/^/  target: /p' "$TMP/out"
	cmp -s "$TMP/out" "$TMP/plain.out" || bad "stdout differs from the untraced run: $(head -c 200 "$TMP/out")"
	[ "$RC" = "$plain" ] || bad "exit status $RC, untraced $plain"
	pids=$(sed -n 's/^forker: child [0-9]* pid \([0-9]*\)$/\1/p' "$TMP/err")
	n=$(echo $pids | wc -w)
	want "children" "$n" "$FORKS"
	for p in $pids; do
		# exactly child_touch 8 pages 8 calls, child_main 8 pages 1 call
		row=$(awk -F, -v p="$p" 'NR > 1 && $1 == p { print $4, $5, $7 }' "$TMP/f.csv" | sort | tr '\n' ' ')
		[ "$row" = "child_main 32768 1 child_touch 32768 8 " ] || {
			bad_tables=$((bad_tables + 1))
			[ $bad_tables -le 3 ] && echo "  # pid $p: $row"
		}
	done
	want "inexact tables" "$bad_tables" 0
	others=$(awk -F, 'NR > 1 { print $1 }' "$TMP/f.csv" | sort -u | grep -vxF -f <(echo $pids | tr ' ' '\n') | wc -l)
	printf '  %-15s %s (the parent: want at most 1)\n' "other pids" "$others"
	[ "$others" -le 1 ] || bad "$others processes in the tables that are not children"
	no_leftover
	# without -f: the children run untraced, their inherited breakpoints
	# removed (else they die of SIGTRAP, which the parent would report)
	run_ip "$TMP/out" "$TMP/err" --format=csv -o "$TMP/f.csv" \
		-- "$DIR/forker" "$FORKS" 8 "$MARK"
	sed -n '1,3s/^/  without -f: /p' "$TMP/out"
	cmp -s "$TMP/out" "$TMP/plain.out" || bad "without -f: stdout differs from the untraced run: $(head -c 200 "$TMP/out")"
	[ "$RC" = "$plain" ] || bad "without -f: exit status $RC, untraced $plain"
	n=$(awk -F, 'NR > 1 && $4 ~ /^child_/' "$TMP/f.csv" | wc -l)
	want "child rows" "$n" 0
	no_leftover
	# --duration ending the trace (SIGALRM to iprofmem) while children
	# are being forked, with and without -f: 20 runs each, from 1 to 20 ms
	n=0
	for f in "" -f; do
		for ((i = 1; i <= 20; i++)); do
			# (a run takes a second: a minute means a child left stopped)
			RUN_HANG=60 run_ip "$TMP/out" "$TMP/err" $f --duration=0.0$(printf '%02d' $i) \
				-o /dev/null -- "$DIR/forker" "$FORKS" 8 "$MARK"
			cmp -s "$TMP/out" "$TMP/plain.out" && [ "$RC" = "$plain" ] && continue
			n=$((n + 1))
			[ $n -le 3 ] && echo "  # ${f:-no -f}, --duration=0.0$(printf '%02d' $i): exit $RC, $(head -c 200 "$TMP/out" | tr '\n' '|')"
		done
	done
	want "--duration cut" "$n runs of 40 unlike untraced" "0 runs of 40 unlike untraced"
	no_leftover
	stage_end forks "every child's table exact, every child exited 0"
}

# stage_signals [stack|altstack]: the handler on the thread's stack or on
# an alternate one.
stage_signals() {
	local mode=${1:-stack} name=signals size plain bytes calls total inner_calls hit
	[ "$mode" = altstack ] && name=altstack
	stage_begin "$name: $SIGNALS SIGUSR1 to a thread in traced calls, traced handler on the $mode"
	size=$(nm -S "$SIGSTORM" | awk '$4 == "inner" { print $2 }')
	[ -n "$size" ] || die "no symbol inner in $SIGSTORM"
	"$SIGSTORM" "$SIGNALS" "$size" "$mode" "$MARK" >"$TMP/plain.out" 2>/dev/null
	plain=$?
	run_ip "$TMP/out" "$TMP/err" --format=csv --columns=total-calls -o "$TMP/s.csv" \
		-- "$SIGSTORM" "$SIGNALS" "$size" "$mode" "$MARK"
	sed -n '1,3s/^/  target: /p' "$TMP/out" "$TMP/err"
	cmp -s "$TMP/out" "$TMP/plain.out" || bad "stdout differs from the untraced run: $(head -c 200 "$TMP/out")"
	[ "$RC" = "$plain" ] || bad "exit status $RC, untraced $plain"
	read -r inner_calls hit < <(sed -n 's/^sigstorm: inner calls \([0-9]*\), interrupted \([0-9]*\)$/\1 \2/p' "$TMP/err")
	if csv_get "$TMP/s.csv" 0 on_usr1; then
		read -r bytes calls total _ <<<"$ROW"
		want "on_usr1" "$((bytes / PAGE)) pages, $calls calls, $total in all" \
			"$SIGNALS pages, $SIGNALS calls, $SIGNALS in all"
	fi
	if csv_get "$TMP/s.csv" 0 work; then
		read -r bytes calls _ _ <<<"$ROW"
		want "work" "$((bytes / PAGE)) pages, $calls call" "$SIGNALS pages, 1 call"
	fi
	if csv_get "$TMP/s.csv" 0 inner; then
		read -r bytes calls total _ <<<"$ROW"
		want "inner" "$((bytes / PAGE)) pages, $calls calls, $total in all" \
			"${hit:-?} pages, ${hit:-?} calls, ${inner_calls:-?} in all"
	fi
	no_leftover
	stage_end "$name" "$SIGNALS signals, handler and interrupted calls exact"
}

# wait_line FILE REGEX PID: until a line of FILE matches, or PID is gone,
# or the hang guard.
wait_line() {
	local i
	for ((i = 0; i < HANG * 100; i++)); do
		grep -q -E -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# start_work TAG [COMMAND...]: COMMAND (default attach_work) in the
# background, its READY file $TMP/ready; WPID once it is ready.
WJOB= WPID=
start_work() {
	local i tag=$1
	shift
	[ $# -gt 0 ] || set -- "$ATTACH_BIN" "$TMP/ready" "$TMP/progress"
	rm -f "$TMP/ready" "$TMP/progress"
	"$@" "$MARK" </dev/null >"$TMP/$tag.out" 2>"$TMP/$tag.err" &
	WJOB=$!
	WPID=
	for ((i = 0; i < 1000; i++)); do
		[ -s "$TMP/ready" ] && WPID=$(cut -d' ' -f1 "$TMP/ready") && return 0
		sleep 0.01
	done
	bad "attach_work was not ready after 10 s"
	return 1
}

# tracers PID: the TracerPid of every thread of PID that has one.
tracers() {
	awk '$1 == "TracerPid:" && $2 != 0 { print $2 }' /proc/"$1"/task/*/status 2>/dev/null
}

stage_attach() {
	local k n ip rc row plain_rc work_rc bad_cycles=0 done_cycles=0 t
	local first= left=
	stage_begin "attach: $CYCLES attach/detach cycles on attach_work (3 churn threads + a worker)"
	start_work plain && { kill -USR1 "$WPID"; wait "$WJOB"; }
	plain_rc=$?
	start_work traced || { kill -KILL "$WJOB"; stage_end attach "no target"; return; }
	for ((k = 1; k <= CYCLES; k++)); do
		n=$((20 + k))
		# under the hang guard; timeout passes SIGINT on to iprofmem
		timeout -k 5 "$HANG" "$IPROFMEM" -p "$WPID" --format=csv -o "$TMP/a.csv" \
			</dev/null >"$TMP/a.out" 2>"$TMP/a.err" &
		ip=$!
		if wait_line "$TMP/progress" "^batch $k $n\$" "$WPID"; then
			kill -INT "$ip"
		else
			bad "cycle $k: no batch (target gone or hung)"
			kill -TERM "$ip"
		fi
		wait "$ip"
		rc=$?
		row=$(awk -F, 'NR > 1 { print $4, $5, $7 }' "$TMP/a.csv" 2>/dev/null | tr '\n' ' ')
		if [ $rc -ne 0 ] || [ "$row" != "batch_touch $((n * PAGE)) $n " ] || [ -s "$TMP/a.err" ]; then
			bad_cycles=$((bad_cycles + 1))
			echo "  # cycle $k: exit $rc, rows '$row' (want 'batch_touch $((n * PAGE)) $n'), stderr: $(head -c 200 "$TMP/a.err")"
		fi
		if ! wait_line "$TMP/progress" "^detached $k\$" "$WPID"; then
			bad "cycle $k: the target did not see its code restored"
			break
		fi
		t=$(tracers "$WPID")
		[ -z "$t" ] || { bad "cycle $k: still traced by $t"; break; }
		done_cycles=$k
		rm -f "$TMP/a.csv"
		# what the attaches left mapped: the size and the anonymous
		# code mappings, after the last as after the first
		left=$(awk '$1 == "VmSize:" { print $2 " kB" }' "/proc/$WPID/status")
		left="$left, $(awk '$2 ~ /x/ && NF == 5' "/proc/$WPID/maps" | wc -l) code areas"
		[ $k -gt 1 ] || first=$left
	done
	kill -USR1 "$WPID"
	wait "$WJOB"
	work_rc=$?
	want "cycles done" "$done_cycles" "$CYCLES"
	want "inexact tables" "$bad_cycles" 0
	want "left mapped" "$left" "$first"
	sed -n '1s/^/  target: /p' "$TMP/traced.out"
	grep -q "^attach_work: $done_cycles batches\$" "$TMP/traced.err" ||
		bad "the target counted: $(grep batches "$TMP/traced.err")"
	cmp -s "$TMP/traced.out" "$TMP/plain.out" || bad "stdout differs from the untraced run"
	[ "$work_rc" = "$plain_rc" ] || bad "exit status $work_rc, untraced $plain_rc"
	no_leftover
	stage_end attach "every window exact, output and status as untraced"
}

# attach64: --duration windows on 64 threads that keep calling a traced
# function; a window may end in the middle of a batch, so none is exact:
# the verdict is on every run ending well, no tracer left, and the output.
stage_attach64() {
	local k rc t plain_rc work_rc bad_runs=0 done_cycles=0 counted=0
	stage_begin "attach64: $CYCLES attach/detach cycles (--duration=0.05) on attach_work, 64 churn threads + a worker"
	start_work plain64 "$DIR/attach_work64" "$TMP/ready" "$TMP/progress" && { kill -USR1 "$WPID"; wait "$WJOB"; }
	plain_rc=$?
	start_work busy64 "$DIR/attach_work64" "$TMP/ready" "$TMP/progress" ||
		{ kill -KILL "$WJOB"; stage_end attach64 "no target"; return; }
	for ((k = 1; k <= CYCLES; k++)); do
		rm -f "$TMP/b.csv"
		run_quiet_ip -p "$WPID" --duration=0.05 --format=csv --columns=total-calls -o "$TMP/b.csv"
		rc=$?
		if [ $rc -ne 0 ] || [ -s "$TMP/b.err" ] || [ ! -s "$TMP/b.csv" ]; then
			bad_runs=$((bad_runs + 1))
			echo "  # cycle $k: exit $rc, stderr: $(head -c 200 "$TMP/b.err")"
		fi
		awk -F, 'NR > 1 && $4 == "batch_touch" { f = 1 } END { exit !f }' "$TMP/b.csv" 2>/dev/null &&
			counted=$((counted + 1))
		t=$(tracers "$WPID")
		[ -z "$t" ] || { bad "cycle $k: still traced by $t"; break; }
		kill -0 "$WPID" 2>/dev/null || { bad "cycle $k: the target is gone"; break; }
		done_cycles=$k
	done
	kill -USR1 "$WPID"
	wait "$WJOB"
	work_rc=$?
	want "cycles done" "$done_cycles" "$CYCLES"
	want "failed runs" "$bad_runs" 0
	printf '  %-15s %s of %s windows (for information)\n' "batch_touch in" "$counted" "$done_cycles"
	sed -n 's/^/  target: /p' "$TMP/busy64.out" "$TMP/busy64.err"
	cmp -s "$TMP/busy64.out" "$TMP/plain64.out" || bad "stdout differs from the untraced run: $(head -c 200 "$TMP/busy64.out")"
	[ "$work_rc" = "$plain_rc" ] || bad "exit status $work_rc, untraced $plain_rc"
	no_leftover
	stage_end attach64 "every run ended well, output and status as untraced"
}

# tailchain: ping(n) and pong(n) jmp to each other n times in one stack
# frame; the last call touches one page and returns for all of them.  The
# shadow stack keeps a chain whole up to 1024 frames (THREAD_CHAIN_MAX,
# tracer/thread.h), then folds it: each pong entry ends the ping frame
# above the pong one, which goes on.  So, for an even STEPS >= 1024, the
# 1025 frames open at the end see the page (513 ping, 512 pong), every
# ping call is counted, and pong's re-entries are not new calls.  Judged
# on those exact counts and on iprofmem's peak RSS, which must not grow
# with the chain: at most twice a short chain's.
TIME=/usr/bin/time
CHAIN_MAX=1024
# chain_run STEPS: iprofmem on tailchain STEPS under GNU time; the CSV in
# $TMP/tc.STEPS.csv, the peak RSS (KiB) in PEAK; checks the counts.
PEAK=
chain_run() {
	local steps=$1 said f
	run_ip "$TMP/out" "$TMP/err" --format=csv --columns=total-calls -o "$TMP/tc.$steps.csv" \
		-- "$DIR/tailchain" "$steps" "$MARK"
	PEAK=$(cat "$TMP/time" 2>/dev/null)
	said=$(cat "$TMP/out")
	want "target ($steps)" "$said" "tailchain: $steps steps, the last in $( [ $((steps % 2)) = 0 ] && echo ping || echo pong)"
	[ $((steps % 2)) = 0 ] && [ "$steps" -ge $CHAIN_MAX ] ||
		die "tailchain: STEPS must be even and at least $CHAIN_MAX"
	for f in ping:$((CHAIN_MAX / 2 + 1)):$((steps / 2 + 1)) \
		 pong:$((CHAIN_MAX / 2)):$((CHAIN_MAX / 2)) chain_main:1:1; do
		IFS=: read -r name n all <<<"$f"
		if csv_get "$TMP/tc.$steps.csv" 0 "$name"; then
			read -r bytes calls total _ <<<"$ROW"
			want "$name ($steps)" "$((bytes / PAGE)) pages, $calls calls, $total in all" \
				"$n pages, $n calls, $all in all"
		fi
	done
}

stage_tailchain() {
	local small=10000 peak_small
	stage_begin "tailchain: $TAILSTEPS tail calls in one stack frame (ping <-> pong), one page touched at the end"
	objdump -d --no-show-raw-insn "$DIR/tailchain" | awk '$2 == "<ping>:" { p = 1; next } p && /^$/ { exit } p' |
		grep -q 'jmp .*<pong>' || bad "ping has no jmp pong: not a tail-call chain"
	[ -x "$TIME" ] || die "$TIME is missing: install GNU time ('make deps')"
	IPROFMEM_REAL=$IPROFMEM
	IPROFMEM="$TIME"
	RUN_PRE=(-f %M -o "$TMP/time" "$IPROFMEM_REAL")
	chain_run "$small"
	peak_small=$PEAK
	chain_run "$TAILSTEPS"
	IPROFMEM=$IPROFMEM_REAL
	RUN_PRE=()
	printf '  %-15s %s KiB at %s steps, %s KiB at %s (want at most twice)\n' "peak RSS" \
		"${peak_small:-?}" "$small" "${PEAK:-?}" "$TAILSTEPS"
	if [ -z "$peak_small" ] || [ -z "$PEAK" ]; then
		bad "no peak RSS from $TIME"
	elif [ "$PEAK" -gt $((2 * peak_small)) ]; then
		bad "peak RSS $PEAK KiB at $TAILSTEPS steps, more than twice $peak_small KiB at $small"
	fi
	no_leftover
	stage_end tailchain "exact counts of a folded chain, memory bounded"
}

# launch_idle MS K: attach_idle ticks under iprofmem in the background
# (IP, output in $TMP/s.*), found once exec'd (C, find_exec: early in
# iprofmem's set-up), then, a random 0 to MS ms later, a SIGSTOP.  False
# (counted in GONE) when the program was not seen, or had ended.
launch_idle() {
	local t
	timeout -k 5 "$HANG" "$IPROFMEM" --format=csv -o "$TMP/s.csv" -- \
		"$IDLE_BIN" ticks 20 20 0 "$MARK" </dev/null >"$TMP/s.out" 2>"$TMP/s.err" &
	IP=$!
	find_exec "$IP" "$IDLE_BIN"
	C=$FOUND
	if [ -n "$C" ]; then
		t=$((${EPOCHREALTIME/./} + RANDOM % ($1 * 1000)))
		while ((${EPOCHREALTIME/./} < t)); do :; done
		kill -STOP "$C" 2>/dev/null && return 0
		echo "  # launch $2: the program ended before its SIGSTOP"
	fi
	GONE=$((GONE + 1))
	wait "$IP"
	return 1
}

# idle_ended K: wait for launch K's iprofmem; counted in WRONG unless it
# and the program ended as untraced, tick's row exact.
idle_ended() {
	local rc row
	wait "$IP"
	rc=$?
	row=$(grep -c ',tick,81920,[0-9.]*,20,20,' "$TMP/s.csv" 2>/dev/null)
	if [ $rc -ne 0 ] || [ "$(cat "$TMP/s.out")" != "attach_idle: 20 ticks" ] ||
		[ -s "$TMP/s.err" ] || [ "$row" != 1 ]; then
		WRONG=$((WRONG + 1))
		echo "  # launch $1: exit $rc, stdout '$(head -c 100 "$TMP/s.out")', stderr '$(head -c 200 "$TMP/s.err")', tick rows '$row'"
	fi
}

# stage_stops: a SIGSTOP at a random moment of each launch's start, while
# iprofmem sets the process up (it injects system calls into a stopped
# thread: a SIGSTOP, which no mask holds, may come then).  The program
# must stop as untraced, and go on at SIGCONT.
stage_stops() {
	local k st lost=0
	GONE=0 WRONG=0
	stage_begin "stops: $STOPS launches of attach_idle ticks, each sent a SIGSTOP in its first 30 ms"
	for ((k = 1; k <= STOPS; k++)); do
		launch_idle 30 "$k" || continue
		sleep 0.1
		st=$(awk '{ print $3 }' "/proc/$C/stat" 2>/dev/null)
		case $st in
		T | t) ;;
		*) lost=$((lost + 1)); echo "  # launch $k: state '$st' 0.1 s after SIGSTOP" ;;
		esac
		kill -CONT "$C" 2>/dev/null
		idle_ended "$k"
	done
	printf '  stops lost      %d of %d\n' "$lost" "$STOPS"
	[ $lost -eq 0 ] || bad "$lost stops lost"
	[ $GONE -eq 0 ] || bad "$GONE launches whose program was not seen, or had ended before its SIGSTOP"
	[ $WRONG -eq 0 ] || bad "$WRONG launches ended wrong"
	stage_end stops "every launch stopped at its SIGSTOP, then ended as untraced, tick's row exact"
}

# stage_stopcont: a SIGSTOP in the first 10 ms, then a SIGCONT 0.2 to 2
# ms after it, often still in iprofmem's set-up: a stop taken from the
# program during an injected system call must not outlast that SIGCONT
# (given back after it, it would stop the program for good).  The
# program must end by itself (20 ticks of 20 ms: 10 s later means it
# stayed stopped).
stage_stopcont() {
	local k i t stuck=0
	GONE=0 WRONG=0
	stage_begin "stopcont: $STOPS launches of attach_idle ticks, each sent SIGSTOP in its first 10 ms, then SIGCONT"
	for ((k = 1; k <= STOPS; k++)); do
		launch_idle 10 "$k" || continue
		t=$((${EPOCHREALTIME/./} + 200 + RANDOM % 1800))
		while ((${EPOCHREALTIME/./} < t)); do :; done
		kill -CONT "$C" 2>/dev/null
		for ((i = 0; i < 1000; i++)); do
			kill -0 "$IP" 2>/dev/null || break
			sleep 0.01
		done
		if kill -0 "$IP" 2>/dev/null; then
			stuck=$((stuck + 1))
			echo "  # launch $k: still running 10 s after its SIGCONT (program state '$(awk '{ print $3 }' "/proc/$C/stat" 2>/dev/null)')"
			kill -CONT "$C" 2>/dev/null
		fi
		idle_ended "$k"
	done
	printf '  left stopped    %d of %d\n' "$stuck" "$STOPS"
	[ $stuck -eq 0 ] || bad "$stuck programs left stopped after their SIGCONT"
	[ $GONE -eq 0 ] || bad "$GONE launches whose program was not seen, or had ended before its SIGSTOP"
	[ $WRONG -eq 0 ] || bad "$WRONG launches ended wrong"
	stage_end stopcont "every launch went on at its SIGCONT and ended as untraced, tick's row exact"
}

# run_quiet_ip ARGS...: iprofmem under the hang guard, stdout and stderr
# in $TMP/b.out and $TMP/b.err; returns its status.
run_quiet_ip() {
	{ timeout -k 5 "$HANG" "$IPROFMEM" "$@" </dev/null >"$TMP/b.out" 2>"$TMP/b.err"; } 2>/dev/null
}

for s in $STAGES; do
	case $s in
	threads | recursion | forks | signals | attach | attach64 | stops | stopcont | tailchain) "stage_$s" ;;
	altstack) stage_signals altstack ;;
	*) die "unknown stage '$s' (threads recursion forks signals altstack attach attach64 stops stopcont tailchain)" ;;
	esac
done
echo
if [ $NFAIL -eq 0 ]; then
	echo "stress: every stage passed"
	exit 0
fi
echo "stress: $NFAIL stage(s) failed"
exit 1

# Shared helpers for the end-to-end tests, sourced by test/e2e/test_*.sh and
# test/e2e/check_targets.sh.  Not a test itself.
#
# Environment:
#   IPROFMEM      the binary under test (default ./iprofmem; a relative path
#                 is taken from the top directory)
#   E2E_TAG       prefix of every test name, e.g. "asan:" (default none)
#   E2E_TARGETS   directory of the built targets (default build/targets)
#   E2E_TIMEOUT   seconds one iprofmem run may take (default 60; test/run.sh
#                 gives the int3 engine's pass three times as long)
#
# A test case:
#   tc "name"; ...checks that call fail "reason"...; tc_end
# prints exactly one line "PASS name" or "FAIL name: reason; reason...",
# followed on failure by detail lines starting with "#".

set -u
export LC_ALL=C

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TOP=$(cd "$E2E_DIR/../.." && pwd -P)
cd "$TOP" || exit 2

IPROFMEM=${IPROFMEM:-./iprofmem}
case $IPROFMEM in /*) ;; *) IPROFMEM=$TOP/${IPROFMEM#./} ;; esac
TGT=${E2E_TARGETS:-$TOP/build/targets}
TAG=${E2E_TAG:-}
E2E_TIMEOUT=${E2E_TIMEOUT:-60}
SRCDIR=$TOP/test/targets
. "$E2E_DIR/proctree.sh"

HEADER='Memory (MB)   Calls  File:Line:Function'
DASHES='---------------------------------------'
NO_ROW='No traced call increased memory.'

DEBUG_VARIANTS="O0-pie O0-nopie O0-pie-cet O0-nopie-cet O2-pie O2-nopie O2-pie-cet O2-nopie-cet"
NODEBUG_VARIANTS="O0-pie-nodebug O2-pie-nodebug"
CXX_VARIANTS="O0-pie O0-pie-cet O2-pie O2-pie-cet"	# the C++ targets (*.cc)

# Scratch space; its path is also the marker passed to every traced program
# so leftover processes can be found by their command line.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/iprofmem-e2e.XXXXXX") || exit 2
MARK=$WORK/marker
SHARED=		# see shared_dir
lib_cleanup() { rm -rf "$WORK" ${SHARED:+"$SHARED"}; }
trap lib_cleanup EXIT
ulimit -c 0	# targets that die of SIGABRT/SIGSEGV leave no core files

# Sanitizer reports of an ASan/UBSan iprofmem go to files, apart from the
# tracee's stderr; a normal build ignores these variables, and so do the
# (uninstrumented) targets.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$WORK/san"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$WORK/san"

# ---------------------------------------------------------------- test cases

TC_NAME=
TC_ERRS=()
TC_NOTES=()
N_FAILED=0

tc() {
	TC_NAME=$TAG$1
	TC_ERRS=()
	TC_NOTES=()
}

fail() { TC_ERRS+=("$1"); }
note() {
	local l
	while IFS= read -r l; do TC_NOTES+=("$l"); done <<<"$1"
}

# note_file FILE: the first lines of FILE as details.
note_file() {
	local l n=0
	while IFS= read -r l && [ $n -lt 40 ]; do
		TC_NOTES+=("  $l")
		n=$((n + 1))
	done <"$1"
}

tc_end() {
	if [ ${#TC_ERRS[@]} -eq 0 ]; then
		echo "PASS $TC_NAME"
	else
		local msg=${TC_ERRS[0]} e
		for e in "${TC_ERRS[@]:1}"; do msg="$msg; $e"; done
		echo "FAIL $TC_NAME: $msg"
		for e in "${TC_NOTES[@]}"; do echo "# $e"; done
		N_FAILED=$((N_FAILED + 1))
	fi
}

# -------------------------------------------------------------- running things

# run_ip [--in FILE] ARGS...: run iprofmem under a timeout.
# Sets RC; stdout in $OUT, stderr in $ERR.  Records in the current test case
# a timeout, a sanitizer report and a process left behind.
OUT=$WORK/out
ERR=$WORK/err
RC=0
run_ip() {
	local in=/dev/null
	if [ "${1-}" = --in ]; then in=$2; shift 2; fi
	rm -f "$WORK"/san.*
	# (the braces keep bash's "Killed"-style notices off the output)
	{ timeout -k 5 "$E2E_TIMEOUT" "$IPROFMEM" "$@" <"$in" >"$OUT" 2>"$ERR"; } 2>/dev/null
	RC=$?
	[ $RC -eq 124 ] && fail "iprofmem timed out after ${E2E_TIMEOUT}s"
	check_sanitizer "$ERR"
	check_no_leftover
	return 0
}

# run_plain [--in FILE] PROGRAM ARGS...: the same program untraced.
# Sets PRC; stdout in $POUT, stderr in $PERR.
POUT=$WORK/pout
PERR=$WORK/perr
PRC=0
run_plain() {
	local in=/dev/null
	if [ "${1-}" = --in ]; then in=$2; shift 2; fi
	{ timeout -k 5 "$E2E_TIMEOUT" "$@" <"$in" >"$POUT" 2>"$PERR"; } 2>/dev/null
	PRC=$?
	return 0
}

# expect_same_as_plain: the traced run (RC, $OUT) ended like the untraced
# one (PRC, $POUT): same exit status, same stdout.
expect_same_as_plain() {
	[ "$RC" -eq "$PRC" ] || fail "exit status $RC traced, $PRC untraced"
	if ! cmp -s "$OUT" "$POUT"; then
		fail "stdout differs from the untraced run"
		note "$(diff "$POUT" "$OUT" | head -n 20)"
	fi
}

# start_bg OUTFILE ERRFILE COMMAND...: COMMAND in the background under the
# timeout, stdin /dev/null; BG_PID is the process to wait for (finish_bg).
BG_PID=
start_bg() {
	local o=$1 e=$2
	shift 2
	{ timeout -k 5 "$E2E_TIMEOUT" "$@" </dev/null >"$o" 2>"$e"; } 2>/dev/null &
	BG_PID=$!
}

# finish_bg: waits for it; BG_RC is its exit status.
BG_RC=0
finish_bg() {
	wait "$BG_PID"
	BG_RC=$?
}

# start_ip ARGS... / finish_ip: run_ip in two halves, for a test that acts
# on the program while it runs.  finish_ip sets RC and checks what run_ip
# checks.
start_ip() {
	rm -f "$WORK"/san.*
	start_bg "$OUT" "$ERR" "$IPROFMEM" "$@"
}
finish_ip() {
	finish_bg
	RC=$BG_RC
	[ $RC -eq 124 ] && fail "iprofmem timed out after ${E2E_TIMEOUT}s"
	check_sanitizer "$ERR"
	check_no_leftover
	return 0
}

# wait_ready FILE: waits (10 s at most) until a target wrote its "PID PPID"
# line to FILE; sets READY_PID and READY_PPID.  Fails the test case and
# returns 1 when it does not come, or when $BG_PID ended before.
READY_PID= READY_PPID=
wait_ready() {
	local i line
	READY_PID= READY_PPID=
	for ((i = 0; i < 1000; i++)); do
		if [ -s "$1" ] && line=$(cat "$1") && [[ $line =~ ^[0-9]+\ [0-9]+$ ]]; then
			READY_PID=${line% *} READY_PPID=${line#* }
			return 0
		fi
		if [ -n "$BG_PID" ] && ! kill -0 "$BG_PID" 2>/dev/null; then
			fail "the program ended before it was ready"
			return 1
		fi
		sleep 0.01
	done
	fail "the program was not ready after 10 s"
	return 1
}

# proc_state PID: the State letter of /proc/PID/status (R, S, T, t, Z...).
proc_state() {
	awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# check_sanitizer FILE: an ASan/UBSan/LSan report, in a log file or in FILE.
check_sanitizer() {
	local f
	for f in "$WORK"/san.*; do
		[ -e "$f" ] || continue
		fail "sanitizer report from iprofmem: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$f" || head -n1 "$f")"
		note_file "$f"
		rm -f "$f"
	done
	if grep -q -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer' "$1"; then
		fail "sanitizer report on stderr"
		note_file "$1"
	fi
}

# check_no_leftover: no process whose command line holds $MARK (a tracee or
# an iprofmem child) may survive the run.  Waits up to 2 s for exits in
# flight, then reports, and ends them: they are ours.
check_no_leftover() {
	local pids i
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		pids=$(pgrep -f -- "$MARK") || return 0
		sleep 0.1
	done
	fail "process left behind: $(ps -o pid=,stat=,args= -p "$(echo $pids | tr ' ' ,)" | tr -s ' ' | head -n 3 | tr '\n' '|')"
	for i in $pids; do kill -KILL "$i" 2>/dev/null; done
}

# ------------------------------------------------- running as another user
# A test that runs something as another user (nobody) cannot run it from the
# checkout, nor from $WORK or $TMPDIR: any of them may sit in a directory
# only its owner enters (a home directory is 0700 on Debian 12, so is
# mktemp -d; test/run.sh runs the binaries under test from such a place, so
# that a test that forgets this fails in every run, not only in some
# users').  It copies what that user needs into SHARED instead.

# shared_dir: makes SHARED, a directory of this script's own that every user
# can enter, under /tmp ($TMPDIR may be private too); removed at exit.
shared_dir() {
	[ -n "$SHARED" ] && return 0
	SHARED=$(mktemp -d /tmp/iprofmem-shared.XXXXXX) || return 1
	chmod 755 "$SHARED"
}

# share_copy FILE...: copies of FILE... in SHARED, readable and executable
# by everyone; prints nothing, fails the current case if it cannot.
share_copy() {
	local f
	shared_dir || { fail "cannot make a directory in /tmp"; return 1; }
	for f in "$@"; do
		if ! cp -- "$f" "$SHARED/" || ! chmod 755 "$SHARED/${f##*/}"; then
			fail "cannot copy $f to $SHARED"
			return 1
		fi
	done
}

# as_nobody COMMAND...: COMMAND as user and group nobody (65534), without
# supplementary groups.  Root only.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# need_file PATH...: fail the current case for every missing file.
need_file() {
	local f ok=0
	for f in "$@"; do
		[ -e "$f" ] || { fail "missing $f (run 'make e2e-targets')"; ok=1; }
	done
	return $ok
}

# ------------------------------------------------------------ reading a table

# parse_table FILE: finds the one table in FILE.
# Sets TBL_FOUND (0/1), TBL_EMPTY (the no-row message), ROWS (row lines),
# OTHER (lines of FILE outside the table), TBL_PROBLEM (why it is malformed).
parse_table() {
	local -a lines
	local i n start=-1 end=-1
	mapfile -t lines <"$1"
	n=${#lines[@]}
	TBL_FOUND=0 TBL_EMPTY=0 TBL_PROBLEM= ROWS=() OTHER=()
	for ((i = 0; i + 1 < n; i++)); do
		if [ "${lines[i]}" = "$HEADER" ] && [ "${lines[i+1]}" = "$DASHES" ]; then
			start=$i
			break
		fi
	done
	if [ $start -lt 0 ]; then
		TBL_PROBLEM="no table (header line + dashes) found"
		OTHER=("${lines[@]}")
		return
	fi
	for ((i = start + 2; i < n; i++)); do
		if [ "${lines[i]}" = "$DASHES" ]; then end=$i; break; fi
		ROWS+=("${lines[i]}")
	done
	if [ $end -lt 0 ] || [ "${lines[end+1]-}" != "$HEADER" ]; then
		TBL_PROBLEM="table not closed by dashes + header line"
		return
	fi
	TBL_FOUND=1
	OTHER=("${lines[@]:0:start}" "${lines[@]:end+2}")
	if [ ${#ROWS[@]} -eq 1 ] && [ "${ROWS[0]}" = "$NO_ROW" ]; then
		TBL_EMPTY=1
		ROWS=()
		return
	fi
	for i in "${ROWS[@]}"; do
		if ! row_well_formed "$i"; then
			TBL_PROBLEM="malformed row: '$i'"
			return
		fi
	done
	if [ ${#ROWS[@]} -eq 0 ]; then
		TBL_PROBLEM="no rows and no '$NO_ROW' line"
	fi
}

# split_tables FILE: the --per-process output in FILE: tables, each after
# a line "PID <pid>: <command line>", a blank line between two.  Sets
# PT_N (how many), PT_PID[i], PT_CMD[i], PT_FILE[i] (a file holding the
# i-th table, for parse_table), PT_OTHER (lines before the first PID line:
# warnings) and PT_PROBLEM (why the layout is wrong).
split_tables() {
	local -a lines
	local i n cur=-1 want_blank=0 l
	mapfile -t lines <"$1"
	n=${#lines[@]}
	PT_N=0 PT_PID=() PT_CMD=() PT_FILE=() PT_OTHER=() PT_PROBLEM=
	rm -f "$WORK"/ptable.*
	for ((i = 0; i < n; i++)); do
		l=${lines[i]}
		if [[ $l =~ ^PID\ ([0-9]+):\ (.*)$ ]]; then
			if [ $cur -ge 0 ] && [ "${lines[i-1]}" != "" ]; then
				[ -n "$PT_PROBLEM" ] || PT_PROBLEM="no blank line before '$l'"
			fi
			cur=$PT_N
			PT_PID[cur]=${BASH_REMATCH[1]}
			PT_CMD[cur]=${BASH_REMATCH[2]}
			PT_FILE[cur]=$WORK/ptable.$cur
			: >"${PT_FILE[cur]}"
			PT_N=$((PT_N + 1))
		elif [ $cur -lt 0 ]; then
			PT_OTHER+=("$l")
		elif [ "$l" = "" ] && [ "${lines[i+1]-}" != "" ] && [[ ${lines[i+1]-} == "PID "* ]]; then
			:	# the blank line between two tables
		else
			printf '%s\n' "$l" >>"${PT_FILE[cur]}"
		fi
	done
	[ $PT_N -gt 0 ] || PT_PROBLEM="no 'PID <pid>: <command line>' line"
}

# row_well_formed LINE: "%10.4g  %7d  KEY" with a positive MB and calls.
row_well_formed() {
	local r=$1
	[ ${#r} -gt 21 ] || return 1
	[[ ${r:0:10} =~ ^\ *[0-9][0-9.e+-]*$ ]] || return 1
	[ "${r:10:2}" = "  " ] || return 1
	[[ ${r:12:7} =~ ^\ *[1-9][0-9]*$ ]] || return 1
	[ "${r:19:2}" = "  " ] || return 1
	[[ ${r:21} =~ ^[^\ ].*:[0-9]+:[^:](.*[^:])?$ ]] || return 1
	awk -v m="${r:0:10}" 'BEGIN { exit !(m + 0 > 0) }'
}

row_key() { printf '%s' "${1:21}"; }
row_calls() { printf '%d' "${1:12:7}"; }
row_mb() { printf '%s' "${1:0:10}"; }

# find_row KEY: sets ROW to the row with that key ("" if none) and ROW_COUNT
# to how many rows have it.
find_row() {
	local r
	ROW= ROW_COUNT=0
	for r in "${ROWS[@]}"; do
		if [ "${r:21}" = "$1" ]; then
			ROW=$r
			ROW_COUNT=$((ROW_COUNT + 1))
		fi
	done
}

# expect_table FILE: fail unless FILE holds one well-formed table.
expect_table() {
	parse_table "$1"
	if [ $TBL_FOUND -ne 1 ] || [ -n "$TBL_PROBLEM" ]; then
		fail "${TBL_PROBLEM:-no table}"
		note_file "$1"
		return 1
	fi
	return 0
}

# expect_only_table FILE: the table and nothing else in FILE.
expect_only_table() {
	expect_table "$1" || return 1
	if [ ${#OTHER[@]} -ne 0 ]; then
		fail "stderr has ${#OTHER[@]} line(s) besides the table: '${OTHER[0]}'"
		note_file "$1"
		return 1
	fi
}

# expect_sorted: rows ascending by their MB column.
expect_sorted() {
	local bad
	bad=$(printf '%s\n' "${ROWS[@]}" | awk '
		{ m = substr($0, 1, 10) + 0 }
		NR > 1 && m < prev { print "row " NR " (" $0 ") below the row before"; exit }
		{ prev = m }')
	[ -z "$bad" ] || { fail "not ascending: $bad"; note_file "$ERR"; }
}

# mask_inexact FILE: FILE with the MB column of mem's setup and main rows
# blanked: those two depend on where the stack and libc landed (ASLR) and
# vary from run to run; every other row is exact.
mask_inexact() {
	sed -E 's/^.{10}(  .{7}  .*:(setup|main))$/  (varies)\1/' "$1"
}

# ----------------------------------------------------------- expected values

# mb_field PAGES: the %10.4g MB column for PAGES pages of 4096 bytes.
mb_field() { awk -v p="$1" 'BEGIN { printf "%10.4g", p * 4096 / 1048576 }'; }

# row_text PAGES CALLS KEY: the exact row line.
row_text() { printf '%s  %7d  %s' "$(mb_field "$1")" "$2" "$3"; }

# decl_line SOURCE FUNC: the line where FUNC's name starts a line, which is
# the style of the targets, and what DW_AT_decl_line holds.
decl_line() {
	local l
	l=$(grep -n -m1 "^$2(" "$1" | cut -d: -f1)
	printf '%s' "${l:-0}"
}

# src_key TARGET FUNC: key of FUNC of test/targets/TARGET.c (or .cc).
src_key() {
	local src=$SRCDIR/$1.c
	[ -e "$src" ] || src=$SRCDIR/$1.cc
	printf '%s:%s:%s' "$src" "$(decl_line "$src" "$2")" "$2"
}

# expect_row KEY PAGES CALLS: that row, exactly once.
expect_row() {
	local want
	want=$(row_text "$2" "$3" "$1")
	find_row "$1"
	if [ $ROW_COUNT -eq 0 ]; then
		fail "no row for ${1##*:} (want '$want')"
	elif [ $ROW_COUNT -gt 1 ]; then
		fail "$ROW_COUNT rows for ${1##*:}"
	elif [ "$ROW" != "$want" ]; then
		fail "${1##*:}: got '$ROW', want '$want'"
	fi
}

# expect_no_row KEY
expect_no_row() {
	find_row "$1"
	[ $ROW_COUNT -eq 0 ] || fail "unexpected row for ${1##*:}: '$ROW'"
}

# expect_rows_only TARGET FUNC...: every row is one of TARGET's FUNCs (with
# its DWARF key), and no key appears twice.
expect_rows_only() {
	local t=$1 r k n
	shift
	for r in "${ROWS[@]}"; do
		k=$(row_key "$r")
		case " $* " in
		*" ${k##*:} "*) [ "$k" = "$(src_key "$t" "${k##*:}")" ] || fail "unexpected key '$k'" ;;
		*) fail "unexpected row '$r'" ;;
		esac
	done
	n=$(printf '%s\n' "${ROWS[@]}" | cut -c22- | sort | uniq -d | head -n1)
	[ -z "$n" ] || fail "key in two rows: $n"
}

# expect_exit WANT: iprofmem's exit status.
expect_exit() {
	[ "$RC" -eq "$1" ] || fail "exit status $RC, want $1"
}

# expect_one_error_line: stderr is exactly one line starting "iprofmem: ".
expect_one_error_line() {
	local n
	n=$(awk 'END { print NR }' "$ERR")
	if [ "$n" -ne 1 ] || ! head -n1 "$ERR" | grep -q '^iprofmem: '; then
		fail "stderr is not exactly one 'iprofmem: ' line ($n lines)"
		note_file "$ERR"
	elif [ -n "$(tail -c1 "$ERR")" ]; then
		fail "error line does not end with a newline"
	fi
}

# ------------------------------------------------- the mem target's numbers
# Mirrors the table in test/targets/mem.c: pages and calls per function.

MEM_KEYS=dwarf		# dwarf: source file:decl line; or a binary's path
mem_key() {
	if [ "$MEM_KEYS" = dwarf ]; then src_key mem "$1"; else printf '%s:0:%s' "$MEM_KEYS" "$1"; fi
}

# Functions whose rows are exact, by scenario.
MEM_GROUPS="blocks recursion tail multiret release run"
MEM_FUNCS_blocks="touch_block block_loop"
MEM_FUNCS_recursion="recurse scenario_recursion"
MEM_FUNCS_tail="tail_target tail_caller scenario_tail"
MEM_FUNCS_multiret="classify scenario_multi_ret"
MEM_FUNCS_release="release_some scenario_release"
MEM_FUNCS_run="run"
# Functions that must have no row (they grow nothing, or never return).
MEM_NO_ROW="no_touch rare_path release_all die_abrt die_segv die_signal"
# Functions with a row whose size is not known to the page.
MEM_INEXACT="setup main"

# mem_expect FUNC OPT: "PAGES CALLS" of FUNC; OPT is O0 or O2.
mem_expect() {
	case $1 in
	touch_block)		echo "600 200" ;;	# 3 pages x 200 calls
	block_loop)		echo "601 1" ;;		# own page + 600
	recurse)		echo "225 25" ;;	# 20*21/2 + 5*6/2, calls at depth >= 1
	scenario_recursion)	echo "25 1" ;;
	tail_target)		echo "20 10" ;;		# 2 pages x 10
	tail_caller)		# 1 + 2 pages x 10: at -O2 too, where it
				# jumps to tail_target, traced (a tail call
				# keeps the caller's frame open)
				echo "30 10" ;;
	scenario_tail)		echo "31 1" ;;
	classify)		echo "9 5" ;;		# 1+2+3+1+2 pages, 5 paths touch
	scenario_multi_ret)	echo "11 1" ;;
	release_some)		echo "2 1" ;;		# 3 touched, 1 given back
	scenario_release)	echo "3 1" ;;
	run)			echo "671 1" ;;
	*)			echo "? ?" ;;
	esac
}

# mem_check_group GROUP OPT: the exact rows of one scenario, in ROWS.
mem_check_group() {
	local f pc var=MEM_FUNCS_$1
	for f in ${!var}; do
		pc=$(mem_expect "$f" "$2")
		expect_row "$(mem_key "$f")" ${pc% *} ${pc#* }
	done
	case $1 in
	blocks)		expect_no_row "$(mem_key no_touch)" ;;
	multiret)	expect_no_row "$(mem_key rare_path)" ;;
	release)	expect_no_row "$(mem_key release_all)" ;;
	esac
}

# mem_check_rest [EXTRA_ALLOWED...]: the rows not checked exactly: setup and
# main once each with Calls 1 (main: only if it returned, i.e. when
# MEM_MAIN_RETURNS=1) and main >= run; none of MEM_NO_ROW; nothing else.
MEM_MAIN_RETURNS=1
mem_check_rest() {
	local f r k known=" " run_mb main_mb
	for f in $MEM_NO_ROW; do expect_no_row "$(mem_key "$f")"; done
	for f in $MEM_GROUPS; do
		local var=MEM_FUNCS_$f
		known="$known${!var} "
	done
	known="$known$MEM_NO_ROW $*"
	find_row "$(mem_key setup)"
	if [ $ROW_COUNT -ne 1 ] || [ "$(row_calls "$ROW")" -ne 1 ]; then
		fail "want one row for setup with Calls 1, got $ROW_COUNT: '$ROW'"
	fi
	find_row "$(mem_key run)"
	run_mb=$(row_mb "$ROW")
	find_row "$(mem_key main)"
	if [ "$MEM_MAIN_RETURNS" = 1 ]; then
		if [ $ROW_COUNT -ne 1 ] || [ "$(row_calls "$ROW")" -ne 1 ]; then
			fail "want one row for main with Calls 1, got $ROW_COUNT: '$ROW'"
		elif ! awk -v a="$(row_mb "$ROW")" -v b="$run_mb" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
			fail "main ($(row_mb "$ROW")) below run ($run_mb): not inclusive"
		fi
	elif [ $ROW_COUNT -ne 0 ]; then
		fail "row for main, which never returned: '$ROW'"
	fi
	for r in "${ROWS[@]}"; do
		k=$(row_key "$r")
		case " $known $MEM_INEXACT " in
		*" ${k##*:} "*) [ "$k" = "$(mem_key "${k##*:}")" ] || fail "unexpected key '$k'" ;;
		*) fail "unexpected row '$r'" ;;
		esac
	done
	for f in $known $MEM_INEXACT; do
		find_row "$(mem_key "$f")"
		[ $ROW_COUNT -le 1 ] || fail "$ROW_COUNT rows for $f"
	done
}

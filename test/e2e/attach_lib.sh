# Helpers of the attach-mode tests (test/e2e/test_attach*.sh), sourced
# after lib.sh.  Not a test itself.
#
# A target that iprofmem attaches to runs on between and after iprofmem
# runs, so it carries its own marker, $AMARK-N- (tgt_start adds it), not
# $MARK: the leftover check of every iprofmem run (check_no_leftover) must
# not take it for a leftover.  tgt_finish checks that nothing with the
# target's marker survives its end, and the script's exit ends any
# process with $AMARK or $MARK that remains.

AMARK=$WORK/attach-target
trap 'attach_cleanup; lib_cleanup' EXIT

# attach_cleanup: ends (SIGKILL, after a SIGCONT for stopped ones) every
# process left with $AMARK or $MARK in its command line.  Ours.
attach_cleanup() {
	local p
	for p in $(pgrep -f -- "$AMARK") $(pgrep -f -- "$MARK"); do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
}

# ------------------------------------------------------------- the target

# tgt_start OUTFILE ERRFILE COMMAND...: a target in the background under
# the timeout, stdin /dev/null, with a marker of its own as last argument
# ($AMARK-N-).  TJOB is the job to wait for (tgt_finish).
TJOB=
declare -A TMARKS
N_TARGETS=0
tgt_start() {
	local o=$1 e=$2 m
	shift 2
	N_TARGETS=$((N_TARGETS + 1))
	m=$AMARK-$N_TARGETS-
	{ timeout -k 5 "$E2E_TIMEOUT" "$@" "$m" </dev/null >"$o" 2>"$e"; } 2>/dev/null &
	TJOB=$!
	TMARKS[$TJOB]=$m
}

# tgt_ready FILE: waits for the target's READY file; TPID is the PID in it
# (READY_PID, READY_PPID as wait_ready sets them).  Returns 1 on failure.
TPID=
tgt_ready() {
	BG_PID=$TJOB
	TPID=
	wait_ready "$1" || return 1
	TPID=$READY_PID
}

# tgt_finish: waits for the target TJOB; TRC is its exit status.  Fails
# the test case if a process with its marker is still there 2 s later
# (a child it left), and ends it.
TRC=0
tgt_finish() {
	local i pids m=${TMARKS[$TJOB]}
	{ wait "$TJOB"; } 2>/dev/null
	TRC=$?
	[ "$TRC" -eq 124 ] && fail "the target timed out after ${E2E_TIMEOUT}s"
	for ((i = 0; i < 20; i++)); do
		pids=$(pgrep -f -- "$m") || return 0
		sleep 0.1
	done
	fail "target process left behind: $(ps -o pid=,stat=,args= -p "$(echo $pids | tr ' ' ,)" | tr -s ' ' | head -n 3 | tr '\n' '|')"
	for i in $pids; do kill -CONT "$i" 2>/dev/null; kill -KILL "$i" 2>/dev/null; done
}

# tgt_kill: ends the target TJOB at once (after a failure that leaves it
# stuck).
tgt_kill() {
	local p
	for p in $(pgrep -f -- "${TMARKS[$TJOB]}"); do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	{ wait "$TJOB"; } 2>/dev/null
}

# tgt_ends_as_untraced: SIGUSR1 to the target TPID, which then ends; its
# exit status must be PRC and its stdout ($WORK/tgt.out) the untraced
# run's ($WORK/plain.out).
tgt_ends_as_untraced() {
	kill -USR1 "$TPID" 2>/dev/null
	tgt_finish
	[ "$TRC" = "$PRC" ] || fail "exit status $TRC, untraced $PRC$([ "$TRC" = 133 ] && echo ' (SIGTRAP)')"
	if ! cmp -s "$WORK/tgt.out" "$WORK/plain.out"; then
		fail "stdout differs from the untraced run"
		note "$(diff "$WORK/plain.out" "$WORK/tgt.out" | head -n 10)"
	fi
}

# ip_abort: after a failure, ends the iprofmem that start_ip started
# (SIGTERM to its timeout, which passes it on), so finish_ip returns.
ip_abort() {
	local c
	for c in $(pgrep -P "$BG_PID"); do kill -TERM "$c" 2>/dev/null; done
}

# wait_line FILE REGEX [SECONDS [PID]]: waits (10 s by default) until a
# line of FILE matches REGEX (grep -E), or PID (if given) is gone.  Fails
# the test case and returns 1 when it does not come.
wait_line() {
	local i n=$((${3:-10} * 100))
	for ((i = 0; i < n; i++)); do
		grep -q -E -- "$2" "$1" 2>/dev/null && return 0
		if [ -n "${4-}" ] && ! alive "$4"; then
			fail "process $4 ended before a line /$2/ in ${1##*/}"
			return 1
		fi
		sleep 0.01
	done
	fail "no line /$2/ in ${1##*/} after ${3:-10} s"
	return 1
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (polls every 10 ms);
# returns 1 when it does not within SECONDS.
wait_for() {
	local i n=$(($1 * 100))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

# alive PID: PID runs (or sleeps, or is stopped), not a zombie.
alive() {
	local s
	s=$(proc_state "$1")
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

# in_syscall PID NR: PID's main thread waits in system call number NR.
in_syscall() {
	local s
	s=$(cat "/proc/$1/syscall" 2>/dev/null) || return 1
	[ "${s%% *}" = "$2" ]
}

# all_threads_state PID REGEX: every thread of PID is in a state matching
# REGEX (anchored by the caller).
all_threads_state() {
	local t s n=0
	for t in /proc/"$1"/task/*; do
		s=$(awk '$1 == "State:" { print $2 }' "$t/status" 2>/dev/null) || return 1
		[[ $s =~ $2 ]] || return 1
		n=$((n + 1))
	done
	[ $n -gt 0 ]
}

# cmdline_of PID: /proc/PID/cmdline, its arguments joined by spaces.
cmdline_of() {
	tr '\0' ' ' <"/proc/$1/cmdline" | sed 's/ $//'
}

# tracer_of PID: the TracerPid of PID's main thread (0: none).
tracer_of() {
	awk '$1 == "TracerPid:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# ------------------------------------------------------ code in the target

# elf_info BIN: the executable PT_LOAD segment of BIN and its symbol
# table, cached in $WORK.  Sets SEG_OFF, SEG_VADDR, SEG_SIZE (numbers) and
# SYMS (a file of "NAME VALUE_HEX SIZE VALUE" lines, functions only).
elf_info() {
	local bin=$1 key=${1//\//_}
	local f=$WORK/elf.$key
	if [ ! -s "$f" ]; then
		# LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
		readelf -lW "$bin" | awk '$1 == "LOAD" && ($8 == "E" || $7 ~ /E/) { print $2, $3, $5; exit }' >"$f"
		readelf -sW "$bin" | awk '$4 == "FUNC" && $2 !~ /^0+$/ { print $8, $2, $3 }' |
			sort -u | while read -r name v size; do
				echo "$name $v $size $((16#$v))"
			done >"$f.syms"
	fi
	read -r SEG_OFF SEG_VADDR SEG_SIZE <"$f"
	SEGF=$f.seg	# the segment's bytes (code_intact)
	SEG_OFF=$((SEG_OFF)) SEG_VADDR=$((SEG_VADDR)) SEG_SIZE=$((SEG_SIZE))
	SYMS=$f.syms
}

# func_off BIN FUNC: the file offset of FUNC's first byte ("" if none).
func_off() {
	local v
	elf_info "$1"
	v=$(awk -v f="$2" '$1 == f { print $2; exit }' "$SYMS")
	[ -n "$v" ] || return 1
	printf '%d' $((16#$v - SEG_VADDR + SEG_OFF))
}

# runtime_addr PID OFF: the address where file offset OFF of PID's
# executable is mapped ("" if it is not).
runtime_addr() {
	local exe range perms off dev inode path lo hi
	exe=$(readlink "/proc/$1/exe") || return 1
	while read -r range perms off dev inode path; do
		[ "$path" = "$exe" ] || continue
		lo=$((16#${range%-*})) hi=$((16#${range#*-})) off=$((16#$off))
		if [ "$2" -ge "$off" ] && [ "$2" -lt $((off + hi - lo)) ]; then
			printf '%d' $((lo + $2 - off))
			return 0
		fi
	done <"/proc/$1/maps"
	return 1
}

# mem_hex PID ADDR N / file_hex FILE OFF N: N bytes as hex, no spaces.
mem_hex() {
	dd if="/proc/$1/mem" bs=65536 iflag=skip_bytes,count_bytes skip="$2" count="$3" \
		status=none 2>/dev/null | od -An -v -tx1 | tr -d ' \n'
}
file_hex() {
	dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$2" count="$3" \
		status=none 2>/dev/null | od -An -v -tx1 | tr -d ' \n'
}

# first_byte PID BIN FUNC: FUNC's first byte in PID's memory, as hex.
first_byte() {
	local off addr
	off=$(func_off "$2" "$3") || return 1
	addr=$(runtime_addr "$1" "$off") || return 1
	mem_hex "$1" "$addr" 1
}

# armed PID BIN FUNC: FUNC's entry in PID is traced: an int3 there, or a
# probe's jmp (e9), either after an endbr64 if FUNC starts with one.  Sets
# ARMED_BYTES to the first 5 bytes (hex).
armed() {
	local off addr
	ARMED_BYTES=
	off=$(func_off "$2" "$3") || return 1
	addr=$(runtime_addr "$1" "$off") || return 1
	ARMED_BYTES=$(mem_hex "$1" "$addr" 5)
	case $ARMED_BYTES in
	cc* | e9* | f30f1efacc | f30f1efae9) return 0 ;;
	esac
	return 1
}

# wait_bp PID BIN FUNC: waits (10 s) until FUNC's entry in PID is armed
# (an int3 or a probe's jmp): iprofmem put its sites in place, with every
# thread stopped, so from now on every call is traced.  Sets IP_PID to
# PID's tracer.  Fails the test case and returns 1 when it does not come.
IP_PID=
wait_bp() {
	local i b
	IP_PID=
	for ((i = 0; i < 1000; i++)); do
		b=
		armed "$1" "$2" "$3" && b=cc
		[ -n "$b" ] || b=$ARMED_BYTES
		if [ "$b" = cc ]; then
			IP_PID=$(tracer_of "$1")
			if [ -z "$IP_PID" ] || [ "$IP_PID" = 0 ]; then
				fail "int3 at $3 but $1 has no tracer"
				return 1
			fi
			return 0
		fi
		if ! alive "$1"; then
			fail "process $1 ended while waiting for the breakpoints"
			return 1
		fi
		sleep 0.01
	done
	fail "no breakpoint at $3 after 10 s (first byte '$b')"
	return 1
}

# code_intact PID BIN [FUNC...]: PID's executable code is byte for byte
# the file's: the whole executable segment, so no int3 is left anywhere,
# FUNCs' entries included (a failure names each FUNC whose first 16 bytes
# differ, and the function of the first byte that differs).
code_intact() {
	local pid=$1 bin=$2 f off base n m want
	shift 2
	elf_info "$bin"
	base=$(runtime_addr "$pid" "$SEG_OFF") || { fail "code of $pid not found in its maps"; return 1; }
	[ -s "$SEGF" ] || dd if="$bin" of="$SEGF" bs=65536 iflag=skip_bytes,count_bytes \
		skip="$SEG_OFF" count="$SEG_SIZE" status=none
	dd if="/proc/$pid/mem" of="$WORK/code.mem" bs=65536 iflag=skip_bytes,count_bytes \
		skip="$base" count="$SEG_SIZE" status=none 2>/dev/null
	if [ ! -s "$WORK/code.mem" ]; then
		fail "cannot read the code of process $pid"
		return 1
	fi
	cmp -s "$WORK/code.mem" "$SEGF" && return 0
	for f in "$@"; do
		off=$(func_off "$bin" "$f") || { fail "no symbol $f in ${bin##*/}"; continue; }
		m=$(file_hex "$WORK/code.mem" $((off - SEG_OFF)) 16)
		want=$(file_hex "$SEGF" $((off - SEG_OFF)) 16)
		[ "$m" = "$want" ] || fail "$f starts with $m in process $pid, $want in the file"
	done
	n=$(cmp -l "$WORK/code.mem" "$SEGF" | awk 'NR == 1 { at = $1 - 1; m = $2; f = $3 } END { print NR, at, m, f }')
	read -r n m f want <<<"$n"
	fail "code of process $pid differs from ${bin##*/}: $n byte(s), the first in $(func_at $((SEG_VADDR + m))) ($(printf '%x' $((8#$f))), file $(printf '%x' $((8#$want))))"
	return 1
}

# func_at VADDR: "FUNC+0xN" for an address of $SYMS's binary.
func_at() {
	awk -v a="$1" '{ v = $4 + 0 } v <= a && a < v + $3 { printf "%s+0x%x", $1, a - v; found = 1; exit }
		END { if (!found) printf "0x%x", a }' "$SYMS"
}

# untraced PID: no thread of PID has a tracer.
untraced() {
	local bad
	bad=$(awk '$1 == "TracerPid:" && $2 != 0 { split(FILENAME, p, "/"); print "thread " p[5] " by " $2; exit }' \
		/proc/"$1"/task/*/status 2>/dev/null)
	[ -z "$bad" ] || { fail "process $1 still traced: $bad"; return 1; }
}

# unharmed PID BIN [FUNC...]: after a detach: no tracer, every code byte
# as in the file, not stopped, not a zombie, none of the probes' costs
# left (their event ring, the fault gate's perf rings).
unharmed() {
	local s
	if ! alive "$1"; then
		fail "process $1 is gone"
		return 1
	fi
	untraced "$1"
	code_intact "$@"
	# (the out-of-memory detach leaves them, turned off: RINGS_LEFT_OK=1)
	s=$(grep -c -E 'iprofmem-ring|anon_inode:\[perf_event\]' "/proc/$1/maps" 2>/dev/null)
	[ "${s:-0}" = 0 ] || [ "${RINGS_LEFT_OK:-0}" = 1 ] ||
		fail "process $1 still maps $s of the probes' rings after the detach"
	s=$(proc_state "$1")
	[[ $s =~ ^[RSD]$ ]] || fail "process $1 in state '$s' after the detach"
}

# left_behind PID: the process's address space size and its anonymous
# code mappings, on one line (what attaches leave mapped shows there).
left_behind() {
	local vm
	vm=$(awk '$1 == "VmSize:" { print $2 }' "/proc/$1/status" 2>/dev/null)
	printf 'VmSize %s kB; code %s\n' "$vm" \
		"$(awk '$2 ~ /x/ && NF == 5 { printf "%s ", $1 }' "/proc/$1/maps" 2>/dev/null)"
}

# ----------------------------------------------------------- the table

# expect_exact_rows TARGET FUNC:PAGES:CALLS...: the table in ROWS has
# exactly these rows (keys of test/targets/TARGET.c) and no other.
expect_exact_rows() {
	local t=$1 spec f names=
	shift
	for spec in "$@"; do
		f=${spec%%:*}
		names="$names $f"
		spec=${spec#*:}
		expect_row "$(src_key "$t" "$f")" "${spec%:*}" "${spec#*:}"
	done
	if [ $# -eq 0 ]; then
		[ ${#ROWS[@]} -eq 0 ] || fail "want no row, got ${#ROWS[@]}: '${ROWS[0]}'"
	else
		expect_rows_only "$t" $names
	fi
}

# elapsed_since T0: seconds (with fractions) since T0 (from now_s).
now_s() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }

#!/usr/bin/env bash
# The rows of the man page's DIAGNOSTICS table that the other scripts do not
# test (test_errors.sh: PROGRAM missing, a directory, not executable, not
# ELF, bad options; test_attach_errors.sh: no such PID, a zombie, a thread,
# another user's, already traced by iprofmem, bad -p and --duration;
# test_select_errors.sh: funcs files missing, unreadable, with a NUL byte,
# a malformed entry, a selection matching nothing; test_views_errors.sh:
# record files truncated, corrupt, newer, not records, outputs in a missing
# directory).  Here: an ELF for another architecture, a 32-bit one, a
# corrupt or truncated ELF header, a relocatable object; corrupt or
# truncated DWARF (a warning, and the symbol table instead); neither debug
# info nor symbols; a process traced by strace; an output file that is
# read-only or in a directory where nothing can be created; a funcs file of
# binary bytes, of too many entries, or of 50 MB of comments.
#
# Each refusal: the documented exit status, stderr exactly the one line
# given, stdout empty, the program not run, nothing left behind (no
# process, no output file, no temporary file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

D=$WORK/diag
mkdir -p "$D"
MEM=$TGT/mem.O0-pie
RAN=$D/ran
# A program that leaves a mark when it runs (sh execs nothing here, but
# imports exec: iprofmem lets it run).
PROG=(/bin/sh -c ': >"$1"' sh "$RAN" "$MARK")

# expect_line WANT: exactly that one line on stderr ("*" in WANT: a glob).
expect_line() {
	expect_one_error_line
	# shellcheck disable=SC2053
	[[ $(head -n1 "$ERR") == $1 ]] || fail "stderr '$(head -n1 "$ERR")', want '$1'"
}

# refused NAME STATUS MESSAGE ARGS...: iprofmem ARGS ends with STATUS and
# the one line "iprofmem: MESSAGE", stdout empty, nothing run.
refused() {
	local name=$1 want=$2 msg=$3
	shift 3
	tc "diagnostics: $name -> $want"
	rm -f "$RAN"
	run_ip "$@"
	expect_exit "$want"
	expect_line "iprofmem: $msg"
	[ -s "$OUT" ] && fail "stdout: '$(head -c 60 "$OUT")'"
	[ -e "$RAN" ] && fail "the program ran"
	tc_end
}

# patch FILE OFFSET HEXBYTES: overwrite bytes of FILE ("b7 00").
patch() {
	local b s=
	for b in $3; do s="$s\\x$b"; done
	# shellcheck disable=SC2059
	printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# le64 N: N as 8 little-endian hex bytes.
le64() { printf '%016x' "$1" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'; }

# section FILE NAME: "INDEX OFFSET SIZE" of section NAME (decimal).
section() {
	local idx name off size
	read -r idx name _ _ off size _ < <(readelf -SW "$1" |
		sed 's/^ *\[ *\([0-9]*\)\]/\1/' | awk -v n="$2" '$2 == n')
	echo "$idx $((16#$off)) $((16#$size))"
}

NEEDED=("$MEM" "$TGT/diag_hello.m32" "$TGT/diag_hello.o" "$TGT/sel_malloc.O2-pie" "$TGT/attach_idle.O0-pie")
if ! need_file "${NEEDED[@]}"; then
	tc "diagnostics: targets"; need_file "${NEEDED[@]}"; tc_end
	exit 1
fi

# ------------------------------------------- PROGRAM that cannot run: 126

# (test_errors.sh runs these in more variants; here, the exact words.)
refused "PROGRAM missing" 127 "$D/nothing: No such file or directory; check the path" \
	-- "$D/nothing" "$MARK"
refused "PROGRAM not in PATH" 127 "iprofmem-diag-nothing-$$: command not found in PATH; give its path" \
	-- "iprofmem-diag-nothing-$$" "$MARK"
refused "a directory" 126 "$D: is a directory; give the program's file" -- "$D" "$MARK"
printf 'echo ran >"%s"\n' "$RAN" >"$D/script"
refused "not executable" 126 "$D/script: not executable (Permission denied); make it executable (chmod +x)" \
	-- "$D/script" "$MARK"
chmod 755 "$D/script"
refused "not ELF, no #!" 126 "$D/script: neither an ELF executable nor a '#!' script; give the compiled program" \
	-- "$D/script" "$MARK"
printf '#!/nonexistent/sh\necho ran >"%s"\n' "$RAN" >"$D/badinterp"
chmod 755 "$D/badinterp"
refused "a script whose interpreter is missing" 127 \
	"$D/badinterp: bad interpreter '/nonexistent/sh': No such file or directory; fix the script's '#!' line" \
	-- "$D/badinterp" "$MARK"

cp "$MEM" "$D/aarch64"
patch "$D/aarch64" 18 "b7 00"			# e_machine = EM_AARCH64
refused "an ELF for another architecture (aarch64)" 126 \
	"$D/aarch64: an ELF for ARM aarch64, not x86-64: iprofmem traces x86-64 programs only; rebuild it for x86-64" \
	-- "$D/aarch64" "$MARK"

# A kernel without IA-32 emulation (ia32_emulation=0, or a host that runs
# 64-bit user code only, as some virtual machines' do) refuses to exec
# the 32-bit target with ENOEXEC, which the shell reports as 126: then
# the cases that run it are skipped; iprofmem's refusals still run.
M32_SKIP=
"$TGT/diag_hello.m32" >/dev/null 2>&1
[ $? = 126 ] && M32_SKIP="this kernel runs no 32-bit program (no IA-32 emulation: exec gives ENOEXEC)"

if [ -n "$M32_SKIP" ]; then
	echo "SKIP diagnostics: the 32-bit target is a real program the kernel runs: $M32_SKIP"
else
	tc "diagnostics: the 32-bit target is a real program the kernel runs"
	run_plain "$TGT/diag_hello.m32"
	[ "$PRC" = 0 ] && [ "$(cat "$POUT")" = hello ] || fail "exit status $PRC, stdout '$(head -c 60 "$POUT")'"
	tc_end
fi
refused "a 32-bit ELF (gcc -m32)" 126 \
	"$TGT/diag_hello.m32: a 32-bit ELF for Intel 80386: iprofmem traces 64-bit x86-64 programs only; rebuild it for x86-64 (without -m32)" \
	-- "$TGT/diag_hello.m32" "$MARK"
refused "a 32-bit ELF, --list-funcs" 126 \
	"$TGT/diag_hello.m32: a 32-bit ELF for Intel 80386: iprofmem traces 64-bit x86-64 programs only; rebuild it for x86-64 (without -m32)" \
	--list-funcs "$TGT/diag_hello.m32" "$MARK"

if [ -n "$M32_SKIP" ]; then
	echo "SKIP diagnostics: -f, a child that execs a 32-bit program: $M32_SKIP"
	echo "SKIP diagnostics: -p a 32-bit process: $M32_SKIP"
else
tc "diagnostics: -f, a child that execs a 32-bit program: let go with a warning, it runs"
run_ip -f -- /bin/sh -c "$TGT/diag_hello.m32; echo status \$?" "$MARK"
expect_exit 0
[ "$(cat "$OUT")" = "hello
status 0" ] || fail "stdout: '$(tr '\n' '|' <"$OUT")'"
grep -q "^iprofmem: warning: process [0-9]* runs a 32-bit program ($TGT/diag_hello.m32): not traced$" "$ERR" ||
	{ fail "no warning line"; note_file "$ERR"; }
tc_end

tc "diagnostics: -p a 32-bit process -> 1, before it is stopped; it runs on untraced"
rm -f "$D/ready32"
tgt_start "$D/m32.out" "$D/m32.err" "$TGT/diag_hello.m32" "$D/ready32"
if tgt_ready "$D/ready32"; then
	run_ip -p "$TPID"
	expect_exit 1
	expect_line "iprofmem: cannot attach to $TPID: $TGT/diag_hello.m32: a 32-bit ELF for Intel 80386: iprofmem traces 64-bit x86-64 programs only; rebuild it for x86-64 (without -m32)"
	[ -s "$OUT" ] && fail "stdout: '$(head -c 60 "$OUT")'"
	untraced "$TPID"
	[[ $(proc_state "$TPID") =~ ^[RS]$ ]] || fail "state '$(proc_state "$TPID")'"
	kill -USR1 "$TPID"
	tgt_finish
	[ "$TRC" = 0 ] && [ "$(cat "$D/m32.out")" = hello ] || fail "the process: exit status $TRC, stdout '$(head -c 60 "$D/m32.out")'"
else
	tgt_kill
fi
tc_end
fi

cp "$MEM" "$D/phoff"
patch "$D/phoff" 32 "$(le64 $((1 << 40)))"	# e_phoff far past the end
refused "a corrupt ELF header (e_phoff past the end)" 126 \
	"$D/phoff: corrupt ELF header (program headers past the end of the file); the file is damaged: rebuild or reinstall it" \
	-- "$D/phoff" "$MARK"
cp "$MEM" "$D/class"
patch "$D/class" 4 "07"				# EI_CLASS: neither 32 nor 64
refused "a corrupt ELF header (EI_CLASS 7)" 126 \
	"$D/class: corrupt ELF header (invalid class or byte order); the file is damaged: rebuild or reinstall it" \
	-- "$D/class" "$MARK"
head -c $(($(stat -c %s "$MEM") / 2)) "$MEM" >"$D/half"
chmod 755 "$D/half"
refused "a truncated ELF file (cut in half)" 126 \
	"$D/half: corrupt ELF header (section headers past the end of the file: truncated); the file is damaged: rebuild or reinstall it" \
	-- "$D/half" "$MARK"
refused "a relocatable object (.o) with the exec bit" 126 \
	"$TGT/diag_hello.o: an ELF relocatable object (.o), not an executable; give the linked program" \
	-- "$TGT/diag_hello.o" "$MARK"

# ------------------------------- corrupt DWARF: a warning, then a profile

read -r info_idx info_off info_size <<<"$(section "$MEM" .debug_info)"
read -r _ abbrev_off abbrev_size <<<"$(section "$MEM" .debug_abbrev)"
shoff=$(readelf -hW "$MEM" | awk '/Start of section headers/ { print $5 }')
# ff FILE OFF SIZE: SIZE bytes 0xff at OFF.
ff() { head -c "$3" /dev/zero | tr '\0' '\377' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
cp "$MEM" "$D/dwarf.garbage"; ff "$D/dwarf.garbage" "$info_off" "$info_size"
cp "$MEM" "$D/dwarf.abbrev"; ff "$D/dwarf.abbrev" "$abbrev_off" "$abbrev_size"
# truncated: .debug_info's sh_size halved, so its unit runs past its end
cp "$MEM" "$D/dwarf.truncated"
patch "$D/dwarf.truncated" $((shoff + info_idx * 64 + 32)) "$(le64 $((info_size / 2)))"

for c in garbage abbrev truncated; do
	bin=$D/dwarf.$c
	tc "diagnostics: corrupt DWARF ($c): one warning, the symbol table's functions traced exactly"
	run_ip -o "$D/table" -- "$bin" "$MARK"
	run_plain "$bin" "$MARK"
	expect_same_as_plain
	expect_line "iprofmem: warning: $bin: corrupt DWARF debug info (*): the functions it does not describe are traced from the symbol table; rebuild it with -g"
	if expect_table "$D/table"; then
		MEM_KEYS=$bin
		for g in blocks recursion multiret release; do mem_check_group "$g" O0; done
		MEM_KEYS=dwarf
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$D/table"
	fi
	tc_end
done

# ----------------------------------- neither debug info nor symbols: 125

strip --strip-all -o "$D/stripped" "$TGT/sel_malloc.O2-pie"
NOSYM="$D/stripped has neither debug info nor a symbol table: nothing to trace; rebuild it with -g (or select library functions with -e MODULE:GLOB)"
refused "neither debug info nor symbols" 125 "$NOSYM" -- "$D/stripped" "$MARK"
refused "neither debug info nor symbols, --list-funcs" 125 "$NOSYM" --list-funcs "$D/stripped" "$MARK"

tc "diagnostics: -p a process with neither debug info nor symbols -> 1, unharmed"
strip --strip-all -o "$D/idle.stripped" "$TGT/attach_idle.O0-pie"
rm -f "$D/ready.s" "$D/progress.s"
tgt_start "$D/s.out" "$D/s.err" "$D/idle.stripped" burst "$D/ready.s" "$D/progress.s" 2
if tgt_ready "$D/ready.s"; then
	run_ip -p "$TPID"
	expect_exit 1
	expect_line "iprofmem: cannot attach to $TPID: $D/idle.stripped has neither debug info nor a symbol table: nothing to trace; rebuild it with -g (or select library functions with -e MODULE:GLOB)"
	[ -s "$OUT" ] && fail "stdout: '$(head -c 60 "$OUT")'"
	unharmed "$TPID" "$D/idle.stripped"
	kill -USR2 "$TPID"
	tgt_finish
	[ "$TRC" = 0 ] || fail "the process: exit status $TRC"
else
	tgt_kill
fi
tc_end

tc "diagnostics: neither debug info nor symbols, -e libc.so.6:malloc: traced"
run_ip -o "$D/table" -e libc.so.6:malloc -- "$D/stripped" "$MARK"
expect_exit 0
[ "$(cat "$OUT")" = "sel_malloc: 7 blocks" ] || fail "stdout '$(head -c 60 "$OUT")'"
[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
if expect_table "$D/table"; then
	[ ${#ROWS[@]} -eq 1 ] && [[ ${ROWS[0]} == *":malloc" ]] && [ "$(row_calls "${ROWS[0]}")" = 7 ] ||
		{ fail "want one malloc row with 7 calls"; note_file "$D/table"; }
fi
tc_end

# -------------------------------------- a process traced by strace: 1

# traced_by PID TRACER: PID's TracerPid is TRACER (0: none).
traced_by() { [ "$(tracer_of "$1")" = "$2" ]; }

bin=$TGT/attach_idle.O0-pie
tc "diagnostics: -p a process strace traces -> 1, naming strace; unharmed after"
rm -f "$D/ready" "$D/progress"
tgt_start "$D/tgt.out" "$D/tgt.err" "$bin" burst "$D/ready" "$D/progress" 2
if tgt_ready "$D/ready"; then
	strace -q -p "$TPID" -o /dev/null &
	st=$!
	if wait_for 10 traced_by "$TPID" "$st"; then
		run_ip -p "$TPID"
		expect_exit 1
		expect_line "iprofmem: cannot attach to $TPID: it is already traced by process $st (strace -q -p $TPID -o /dev/null); detach that tracer first"
		[ -s "$OUT" ] && fail "stdout: '$(head -c 60 "$OUT")'"
		[ "$(tracer_of "$TPID")" = "$st" ] || fail "strace no longer traces it"
	else
		fail "strace did not attach"
	fi
	kill -INT "$st"
	wait "$st"
	wait_for 10 traced_by "$TPID" 0 || fail "still traced after strace left"
	unharmed "$TPID" "$bin" burst_touch last_work main
	kill -USR1 "$TPID"
	wait_line "$D/progress" '^burst 1$'
	kill -USR2 "$TPID"
	tgt_finish
	[ "$TRC" = 0 ] || fail "the target's exit status $TRC"
	grep -qx 'attach_idle: 1 bursts of 2' "$D/tgt.out" || fail "the target's stdout: $(head -c 100 "$D/tgt.out")"
else
	tgt_kill
fi
tc_end

# ---------------------------------------------------- output files: 125

# expect_untouched FILE CONTENT: FILE still holds CONTENT; no FILE.XXXXXX.
expect_untouched() {
	local g
	[ "$(cat "$1")" = "$2" ] || fail "${1##*/} was changed"
	for g in "$1".??????; do [ -e "$g" ] && fail "${g##*/} left behind"; done
}

printf 'old\n' >"$D/ro"
chmod 444 "$D/ro"
for o in -o --record --folded; do
	if [ "$o" = -o ]; then a=(-o "$D/ro"); else a=("$o=$D/ro"); fi
	refused "$o a read-only file" 125 \
		"$D/ro: cannot write: the file is read-only; make it writable (chmod u+w) or choose another file" \
		"${a[@]}" -- "${PROG[@]}"
	tc "diagnostics: $o a read-only file: the file untouched"
	expect_untouched "$D/ro" old
	tc_end
done
refused "-o a file in a directory where nothing can be created (/proc)" 125 \
	"/proc/iprofmem-diag-$$: cannot write in /proc: *; choose another file" \
	-o "/proc/iprofmem-diag-$$" -- "${PROG[@]}"

# ------------------------------------------------------ funcs files: 125

printf 'touch_block\nru\377n\n' >"$D/latin1"
refused "a funcs file with bytes that are not UTF-8" 125 \
	"$D/latin1: not a text file (bytes that are not UTF-8 on line 2); give a list of functions, one per line" \
	--funcs="$D/latin1" -- "${PROG[@]}"
printf '# colours\n\033[0mtouch_block\n' >"$D/escape"
refused "a funcs file with a control character" 125 \
	"$D/escape: not a text file (a control character on line 2); give a list of functions, one per line" \
	--funcs="$D/escape" -- "${PROG[@]}"

awk 'BEGIN { for (i = 0; i < 1000000; i++) print "func_" i }' >"$D/million"
refused "a funcs file of a million entries" 125 \
	"$D/million:100001: more than 100000 entries (func_100000); select with globs instead" \
	--funcs="$D/million" -- "${PROG[@]}"

tc "diagnostics: 15 entries that match nothing: ten named, one line for the rest"
{ awk 'BEGIN { for (i = 0; i < 15; i++) print "no_such_" i }'; echo touch_block; } >"$D/unmatched"
run_ip --list-funcs --funcs="$D/unmatched" -- "$MEM" "$MARK"
expect_exit 0
[ "$(grep -c "^iprofmem: warning: $D/unmatched:[0-9]*: 'no_such_[0-9]*' matches no function$" "$ERR")" = 10 ] ||
	{ fail "not ten named"; note_file "$ERR"; }
grep -qx 'iprofmem: warning: \.\.\. and 5 more entries match no function' "$ERR" ||
	{ fail "no summary line"; note_file "$ERR"; }
[ "$(wc -l <"$ERR")" = 11 ] || fail "$(wc -l <"$ERR") stderr lines, want 11"
tc_end

tc "diagnostics: a funcs file of 100000 entries (the limit) is accepted"
awk 'BEGIN { for (i = 0; i < 100000; i++) print "touch_block" }' >"$D/limit"
run_ip --list-funcs --funcs="$D/limit" -- "$MEM" "$MARK"
expect_exit 0
[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
[ "$(grep -c ':touch_block$' "$OUT")" = 1 ] || { fail "touch_block not listed once"; note_file "$OUT"; }
tc_end

tc "diagnostics: a funcs file of 50 MB of comments and one entry: traced"
awk 'BEGIN { c = sprintf("# %77s", "x"); for (i = 0; i < 655360; i++) print c; print "touch_block" }' >"$D/big"
run_ip -o "$D/table" --funcs="$D/big" -- "$MEM" "$MARK"
[ "$(stat -c %s "$D/big")" -ge 52428800 ] || fail "the file is only $(stat -c %s "$D/big") bytes"
expect_exit 0
[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
if expect_table "$D/table"; then
	expect_row "$(src_key mem touch_block)" 600 200
	[ ${#ROWS[@]} -eq 1 ] || fail "${#ROWS[@]} rows, want 1"
fi
tc_end

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Bad input: each ends with the documented exit status (127 not found, 126
# cannot execute, 125 iprofmem's own error), exactly one stderr line starting
# "iprofmem: ", the program not run, and no process left behind.
. "$(dirname "$0")/lib.sh"

status=$TGT/status.O0-pie
mkdir -p "$WORK/adir"
cp "$status" "$WORK/noexec" 2>/dev/null && chmod 644 "$WORK/noexec"
# Not ELF, no #!: the kernel says ENOEXEC.  A shell fallback (execvp's)
# would run it and create $WORK/ran.
printf 'echo ran >"%s/ran"\n' "$WORK" >"$WORK/script"
chmod 755 "$WORK/script"
: >"$WORK/empty"
chmod 755 "$WORK/empty"
printf '\177ELF garbage, not a real ELF header\n' >"$WORK/badelf"
chmod 755 "$WORK/badelf"

# bad_input NAME WANT_STATUS ARGS...: one case.
bad_input() {
	local name=$1 want=$2
	shift 2
	tc "errors: $name -> $want"
	run_ip "$@"
	expect_exit "$want"
	expect_one_error_line
	[ -s "$OUT" ] && fail "something ran: stdout '$(head -c 60 "$OUT")'"
	[ -e "$WORK/ran" ] && { fail "the file was run by a shell"; rm -f "$WORK/ran"; }
	tc_end
}

bad_input "missing program (path)"	127 -- "$WORK/no-such-program" "$MARK"
bad_input "missing program (PATH search)" 127 -- "iprofmem-e2e-no-such-program-$$" "$MARK"
bad_input "a directory"			126 -- "$WORK/adir" "$MARK"
bad_input "a file without exec permission" 126 -- "$WORK/noexec" 0 "$MARK"
bad_input "a text file with exec bit, no #!" 126 -- "$WORK/script" "$MARK"
bad_input "an empty file with exec bit"	126 -- "$WORK/empty" "$MARK"
bad_input "a broken ELF with exec bit"	126 -- "$WORK/badelf" "$MARK"
bad_input "unknown long option"		125 --no-such-option "$status" 0 "$MARK"
bad_input "unknown short option"	125 -Z "$status" 0 "$MARK"
bad_input "-o without its argument"	125 -o
bad_input "--output without its argument" 125 --output
bad_input "--min without its argument"	125 --min
bad_input "--min=abc"			125 --min=abc "$status" 0 "$MARK"
bad_input "--min=1x"			125 --min=1x "$status" 0 "$MARK"
bad_input "--min= (empty)"		125 --min= "$status" 0 "$MARK"
bad_input "--min=-1"			125 --min=-1 "$status" 0 "$MARK"
bad_input "--min=nan"			125 --min=nan "$status" 0 "$MARK"
bad_input "--rss-source=bogus"		125 --rss-source=bogus "$status" 0 "$MARK"
bad_input "no PROGRAM"			125
bad_input "only --"			125 --

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Bad selections: a funcs file that is missing, unreadable, a directory,
# binary (a NUL byte), or holds a malformed entry (empty pattern, nothing
# before ':', an unbalanced '[', white space inside) or a line over 4096
# characters; the same entries given with -e; --strict with an entry that
# matches nothing; a selection that matches nothing (also in a binary
# without DWARF, or stripped of every symbol).  Each is exit status 125,
# one stderr line "iprofmem: ..." that names the file and line (or -e),
# the program not run, no process left behind.  An empty funcs file, or
# one of comments only, is no error: the default set.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/select_lib.sh"

BIN=$TGT/sel_prog.O2-pie-cet
RAN=$WORK/ran.main

# bad_sel NAME WANT_LINE ARGS...: one case: iprofmem ARGS -- sel_prog ...
# exits 125 with the one line WANT_LINE (a glob if it holds a '*'), and
# sel_prog did not run.
bad_sel() {
	local name=$1 want=$2
	shift 2
	tc "select errors: $name -> 125, one line"
	if need_file "$BIN"; then
		rm -f "$RAN"
		run_ip "$@" -- "$BIN" all "main=$RAN" "$MARK"
		expect_exit 125
		expect_one_error_line
		# shellcheck disable=SC2053
		[[ $(head -n1 "$ERR") == $want ]] || fail "stderr '$(head -n1 "$ERR")', want '$want'"
		expect_no_run "$RAN"
	fi
	tc_end
}

F=$WORK/f
mkdir -p "$WORK/adir"

bad_sel "missing funcs file" "iprofmem: $WORK/no-such-funcs: No such file or directory; check the --funcs file" \
	--funcs="$WORK/no-such-funcs"
bad_sel "a directory as funcs file" "iprofmem: $WORK/adir: *" --funcs="$WORK/adir"
printf 'grow_small\n' >"$F.good"
bad_sel "a good funcs file, then a missing one" "iprofmem: $WORK/missing: No such file or directory; check the --funcs file" \
	--funcs="$F.good" --funcs="$WORK/missing"

# Unreadable: a file of mode 000 is, to anyone but root.  As root
# everything is readable, so iprofmem runs as nobody, from copies nobody can
# reach (see share_copy in lib.sh).
if [ "$(id -u)" != 0 ]; then
	printf 'grow_small\n' >"$F.noread"
	chmod 000 "$F.noread"
	bad_sel "unreadable funcs file (mode 000)" "iprofmem: $F.noread: Permission denied; check the --funcs file" \
		--funcs="$F.noread"
fi
tc "select errors: unreadable funcs file (as nobody) -> 125, one line"
if [ "$(id -u)" != 0 ]; then
	TC_NAME=	# (done above)
elif ! command -v setpriv >/dev/null; then
	echo "SKIP ${TAG}select errors: unreadable funcs file (as nobody): root needs setpriv to be nobody"
	TC_NAME=
elif need_file "$BIN" "$TGT/libselshared.so" && share_copy "$IPROFMEM" "$BIN" "$TGT/libselshared.so"; then
	ip=$SHARED/${IPROFMEM##*/} bin=$SHARED/${BIN##*/}
	d=$SHARED/nobody	# nobody's to write in (san logs; the run marker)
	mkdir -p "$d"
	chmod 777 "$d"
	printf 'grow_small\n' >"$d/funcs"
	chmod 000 "$d/funcs"
	if as_nobody test -x "$ip" && as_nobody test -r "$bin"; then
		RAN_N=$d/ran
		{ timeout -k 5 "$E2E_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
			env ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$d/san" \
			"$ip" --funcs="$d/funcs" -- "$bin" all "main=$RAN_N" "$MARK" \
			</dev/null >"$OUT" 2>"$ERR"; } 2>/dev/null
		RC=$?
		check_sanitizer "$ERR"
		check_no_leftover
		for f in "$d"/san.*; do
			[ -e "$f" ] && { fail "sanitizer report: $(head -n1 "$f")"; note_file "$f"; }
		done
		expect_exit 125
		expect_one_error_line
		[ "$(head -n1 "$ERR")" = "iprofmem: $d/funcs: Permission denied; check the --funcs file" ] ||
			fail "stderr '$(head -n1 "$ERR")', want 'iprofmem: $d/funcs: Permission denied; check the --funcs file'"
		expect_no_run "$RAN_N"
	else
		fail "nobody cannot run $ip or read $bin"
	fi
fi
[ -n "$TC_NAME" ] && tc_end

{ head -c 1000 /dev/urandom; printf 'x\0y\n'; } >"$F.bin"
bad_sel "binary funcs file (random bytes, a NUL)" "iprofmem: $F.bin: not a text file*" --funcs="$F.bin"
printf 'grow_small\n# fine so far\nrun\0grow\n' >"$F.nul"
bad_sel "text with a NUL byte on line 3" "iprofmem: $F.nul: not a text file*" --funcs="$F.nul"

n=0
for e in 'libc.so.6:' ':foo' 'foo[' 'a b' 'part.c:' 'lib[c.so:malloc'; do
	n=$((n + 1))
	printf '# malformed entry on line 4\ngrow_small\n\n%s\n' "$e" >"$F.bad$n"
	bad_sel "funcs file entry '$e'" "iprofmem: $F.bad$n:4: * ($e); an entry is *" --funcs="$F.bad$n"
	bad_sel "-e '$e'" "iprofmem: -e '$e': *" -e grow_small -e "$e"
done
bad_sel "-e '' (empty)" "iprofmem: -e '': *" -e ''

{ echo grow_small; printf '%4097s\n' x; } >"$F.long"
bad_sel "a line of 4097 characters" "iprofmem: $F.long:2: line too long*" --funcs="$F.long"

tc "select errors: a comment line of exactly 4096 characters is fine"
{ printf '#%4095s\n' x; echo grow_small; } >"$F.4096"
if sel_run O0-pie all --funcs="$F.4096"; then
	expect_other
	sel_check_rows all "prog.c:grow_small"
fi
tc_end

# --- --strict

printf 'grow_small\n\n# two entries, one bad\nno_such_function_xyz\n' >"$F.strict"
bad_sel "--strict, funcs file entry matching nothing" \
	"iprofmem: $F.strict:4: 'no_such_function_xyz' matches no function" --strict --funcs="$F.strict"
bad_sel "--strict, -e entry matching nothing" \
	"iprofmem: -e 'nope_xyz' matches no function" --strict -e grow_small -e 'nope_xyz'

# --- a selection that matches nothing: the error, and nothing else

# nomatch NAME BIN ARGS...: exit 125 with the line "no function matches
# the selection", nothing run; then, as its own case, that this line is
# the only one on stderr.
nomatch() {
	local name=$1 bin=$2
	shift 2
	tc "select errors: $name -> 125, 'no function matches the selection', not run"
	if need_file "$bin"; then
		rm -f "$RAN"
		run_ip "$@" -- "$bin" all "main=$RAN" "$MARK"
		expect_exit 125
		grep -qx 'iprofmem: no function matches the selection; see what there is with --list-funcs' "$ERR" ||
			{ fail "no line 'iprofmem: no function matches the selection; see...'"; note_file "$ERR"; }
		expect_no_run "$RAN"
	fi
	tc_end
	tc "select errors: $name -> stderr is that one line"
	if need_file "$bin"; then
		expect_one_error_line
	fi
	tc_end
}

nomatch "-e no_such_function_xyz" "$BIN" -e no_such_function_xyz
printf '# nothing here\nnope_one\n  nope_two*  # no\n' >"$F.none"
nomatch "a funcs file whose entries all match nothing" "$BIN" --funcs="$F.none"
nomatch "-e foo on a binary without DWARF" "$TGT/sel_malloc.O2-pie-nodebug" -e foo
if [ -e "$TGT/sel_malloc.O2-pie" ]; then
	strip --strip-all -o "$WORK/stripped" "$TGT/sel_malloc.O2-pie"
fi
nomatch "-e foo on a binary stripped of all symbols" "$WORK/stripped" -e foo

# --- empty, or comments only: the default set, no error

: >"$F.empty"
printf '# nothing but comments\n\n   # and blank lines\n\t\n#grow_small\n' >"$F.comments"
for f in empty comments; do
	tc "select errors: a funcs file with $( [ $f = empty ] && echo 'nothing in it' || echo 'only comments'): the default set"
	if sel_run O2-nopie all --funcs="$F.$f"; then
		expect_other
		sel_check_rows all "$SEL_EXE_IDS" "$SEL_INEXACT" "$SEL_MAYBE"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "select errors: only comments plus -e grow_big: grow_big only"
if sel_run O2-nopie all --funcs="$F.comments" -e grow_big; then
	expect_other
	sel_check_rows all "prog.c:grow_big"
fi
tc_end

[ $N_FAILED -eq 0 ]

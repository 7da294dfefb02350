#!/usr/bin/env bash
# Output options: -o/--output write the very table stderr would show, and
# replace an older file; through symbolic links they replace the file at
# their end (a dangling link: the file it names), and -o /dev/stdout writes
# the open stdout, never /dev/stdout itself; an unwritable -o is error 125;
# --min hides the rows at or below it (boundary included); every
# --rss-source gives the exact rows; a run where nothing grows prints the
# no-row table; -h and -V.
. "$(dirname "$0")/lib.sh"

bin=$TGT/mem.O2-pie


tc "output: stderr table of mem.O2-pie (reference)"
if need_file "$bin"; then
	run_ip -- "$bin" "$MARK"
	expect_exit 0
	expect_only_table "$ERR"
	cp "$ERR" "$WORK/ref"
fi
tc_end

for form in "-o FILE" "--output=FILE" "-oFILE" "--output FILE"; do
	tc "output: $form holds exactly the stderr table, stderr empty"
	if [ -s "$WORK/ref" ]; then
		f=$WORK/table
		printf '%0500d\n' 0 >"$f"	# an old, longer file: must be replaced
		case $form in
		"-o FILE")	  run_ip -o "$f" -- "$bin" "$MARK" ;;
		"--output=FILE")  run_ip --output="$f" -- "$bin" "$MARK" ;;
		"-oFILE")	  run_ip -o"$f" -- "$bin" "$MARK" ;;
		"--output FILE")  run_ip --output "$f" -- "$bin" "$MARK" ;;
		esac
		expect_exit 0
		[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
		if ! diff <(mask_inexact "$WORK/ref") <(mask_inexact "$f") >"$WORK/diff"; then
			fail "file differs from the stderr table"
			note_file "$WORK/diff"
		fi
	else
		fail "no reference table"
	fi
	tc_end
done

for f in "$WORK/no/such/dir/table" "$WORK"; do
	what="in a missing directory"
	[ "$f" = "$WORK" ] && what="a directory"
	tc "output: -o FILE $what (unwritable) is error 125, one line"
	if need_file "$bin"; then
		run_ip -o "$f" -- "$bin" "$MARK"
		expect_exit 125
		expect_one_error_line
	fi
	tc_end
done

# -o onto a symbolic link: the file at the end of the links gets the table
# (replaced through a temporary file in its own directory), the links stay
# links, and nothing is left beside either.  Link texts are relative, read
# from the link's directory (the tests run from the top directory).
# expect_link LINK TEXT: LINK is still a symbolic link whose text is TEXT.
expect_link() {
	if [ ! -L "$1" ]; then
		fail "${1##*/} is no longer a symbolic link"
	elif [ "$(readlink "$1")" != "$2" ]; then
		fail "${1##*/} now points to '$(readlink "$1")', want '$2'"
	fi
}
# expect_ref_table FILE: FILE holds exactly the reference table.
expect_ref_table() {
	if [ ! -f "$1" ]; then
		fail "no file ${1#"$WORK"/}"
	elif ! diff <(mask_inexact "$WORK/ref") <(mask_inexact "$1") >"$WORK/diff"; then
		fail "${1#"$WORK"/} differs from the stderr table"
		note_file "$WORK/diff"
	fi
}
# expect_no_temp DIR...: no temporary file (NAME.XXXXXX) left in DIR.
expect_no_temp() {
	local d left
	for d in "$@"; do
		left=$(find "$d" -maxdepth 1 -name '*.??????' -print -quit)
		[ -z "$left" ] || fail "temporary file left: ${left#"$WORK"/}"
	done
}

for chain in 1 2; do
	tc "output: -o onto a chain of $chain symbolic link(s) writes the file at its end, links stay"
	d=$WORK/links$chain
	if [ -s "$WORK/ref" ] && mkdir -p "$d/data"; then
		printf '%0500d\n' 0 >"$d/data/table"
		ln -s data/table "$d/l1"
		[ $chain = 2 ] && ln -s l1 "$d/l2"
		run_ip -o "$d/l$chain" -- "$bin" "$MARK"
		expect_exit 0
		[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
		expect_link "$d/l1" data/table
		[ $chain = 2 ] && expect_link "$d/l2" l1
		expect_ref_table "$d/data/table"
		expect_no_temp "$d" "$d/data"
	else
		fail "no reference table"
	fi
	tc_end
done

tc "output: -o onto a dangling symbolic link creates the file it names, link stays"
d=$WORK/dangling
if [ -s "$WORK/ref" ] && mkdir -p "$d/data"; then
	ln -s data/new "$d/link"
	run_ip -o "$d/link" -- "$bin" "$MARK"
	expect_exit 0
	[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
	expect_link "$d/link" data/new
	expect_ref_table "$d/data/new"
	expect_no_temp "$d" "$d/data"
else
	fail "no reference table"
fi
tc_end

tc "output: -o onto a symbolic link into a missing directory is error 125, naming the link"
d=$WORK/dangling
if need_file "$bin" && mkdir -p "$d"; then
	ln -s no/such/dir/table "$d/nowhere"
	run_ip -o "$d/nowhere" -- "$bin" "$MARK"
	expect_exit 125
	expect_one_error_line
	grep -qF -- "$d/nowhere" "$ERR" || fail "the error does not name $d/nowhere"
	expect_link "$d/nowhere" no/such/dir/table
	[ -e "$d/no" ] && fail "created $d/no"
fi
tc_end

# A file that is replaced keeps its mode (and, where the user may give
# them, its owner and group: root here); a new file gets the umask's mode.
tc "output: -o onto an existing file keeps its mode; a new file gets the umask's"
d=$WORK/modes
if [ -s "$WORK/ref" ] && mkdir -p "$d"; then
	printf 'old\n' >"$d/kept"
	chmod 0604 "$d/kept"
	run_ip -o "$d/kept" -- "$bin" "$MARK"
	expect_exit 0
	expect_ref_table "$d/kept"
	m=$(stat -c %a "$d/kept")
	[ "$m" = 604 ] || fail "the replaced file's mode is $m, not 604"
	(umask 027 && exec timeout -k 5 "$E2E_TIMEOUT" "$IPROFMEM" -o "$d/new" -- "$bin" "$MARK" >/dev/null 2>&1)
	m=$(stat -c %a "$d/new" 2>/dev/null)
	[ "$m" = 640 ] || fail "a new file under umask 027 has mode '$m', not 640"
	expect_no_temp "$d"
else
	fail "no reference table"
fi
tc_end

if [ "$(id -u)" != 0 ]; then
	echo "SKIP ${TAG}output: -o onto a file of another user: giving a file to another user needs root (uid $(id -u))"
else
	tc "output: -o onto a file of another user, as root: owner, group and mode kept"
	d=$WORK/modes
	if [ -s "$WORK/ref" ] && mkdir -p "$d"; then
		printf 'old\n' >"$d/theirs"
		chown 65534:65534 "$d/theirs" && chmod 0640 "$d/theirs"
		run_ip -o "$d/theirs" -- "$bin" "$MARK"
		expect_exit 0
		expect_ref_table "$d/theirs"
		o=$(stat -c '%u:%g %a' "$d/theirs")
		[ "$o" = "65534:65534 640" ] || fail "the replaced file is $o, not 65534:65534 640"
	else
		fail "no reference table"
	fi
	tc_end
fi

# -o /dev/stdout with stdout redirected to a regular file: the table goes
# to that open file, appended like any write to stdout, and /dev/stdout (a
# link to /proc/self/fd/1, a magic link) stays what it is.  Were it ever
# replaced, it is put back, and the case fails.
# expect_dev_stdout TEXT: /dev/stdout is still the link TEXT.
expect_dev_stdout() {
	if [ ! -L /dev/stdout ] || [ "$(readlink /dev/stdout)" != "$1" ]; then
		fail "/dev/stdout was replaced"
		[ "$(id -u)" = 0 ] && ln -sfn "$1" /dev/stdout
	fi
}
stdout_link=$(readlink /dev/stdout)
for redir in ">" ">>"; do
	tc "output: -o /dev/stdout with stdout $redir a file: the table is in the file, /dev/stdout intact"
	if [ -z "$stdout_link" ]; then
		fail "/dev/stdout is not a symbolic link here"
	elif [ -s "$WORK/ref" ]; then
		if [ "$redir" = ">" ]; then
			run_ip -o /dev/stdout -- "$bin" "$MARK"
			f=$OUT
		else
			# what the file held stays, the table comes after it
			f=$WORK/stdout.txt
			echo "an earlier line" >"$f"
			rm -f "$WORK"/san.*
			{ timeout -k 5 "$E2E_TIMEOUT" "$IPROFMEM" -o /dev/stdout -- "$bin" "$MARK" \
				</dev/null >>"$f" 2>"$ERR"; } 2>/dev/null
			RC=$?
			check_sanitizer "$ERR"
			check_no_leftover
		fi
		expect_dev_stdout "$stdout_link"
		expect_exit 0
		[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
		if [ "$redir" = ">>" ]; then
			[ "$(head -n1 "$f")" = "an earlier line" ] || fail "the earlier line is gone"
			tail -n +2 "$f" >"$WORK/stdout.table"
			f=$WORK/stdout.table
		fi
		expect_ref_table "$f"
	else
		fail "no reference table"
	fi
	tc_end
done

# --min=MB: rows whose sum is at or below MB are hidden.  9 pages is exactly
# classify's sum (0.03515625 MB, exact in binary); 2.5 MB is 640 pages,
# between block_loop (601) and run (671).
for min in 0.03515625:9 2.5:640 0:0 0.0:0 3e-2:7.68; do
	mb=${min%:*} pages=${min#*:}
	tc "output: --min=$mb hides the rows at or below $pages pages"
	if [ -s "$WORK/ref" ]; then
		run_ip --min="$mb" -- "$bin" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			for g in $MEM_GROUPS; do
				var=MEM_FUNCS_$g
				for fn in ${!var}; do
					pc=$(mem_expect "$fn" O2)
					if awk -v p="${pc% *}" -v m="$pages" 'BEGIN { exit !(p > m) }'; then
						expect_row "$(mem_key "$fn")" ${pc% *} ${pc#* }
					else
						expect_no_row "$(mem_key "$fn")"
					fi
				done
			done
			# What is shown is the reference table's rows, unchanged.
			mask_inexact "$WORK/ref" >"$WORK/ref.masked"
			while IFS= read -r r; do
				grep -qxF -- "$r" "$WORK/ref.masked" || fail "row not in the full table: '$r'"
			done < <(mask_inexact "$ERR")
			if [ "$pages" = 0 ] && ! diff <(mask_inexact "$WORK/ref") <(mask_inexact "$ERR") >/dev/null; then
				fail "--min=$mb differs from no --min"
			fi
		fi
	else
		fail "no reference table"
	fi
	tc_end
done

tc "output: --min above every row: no row, the no-row line"
if need_file "$bin"; then
	run_ip --min=100000 -- "$bin" "$MARK"
	expect_exit 0
	if expect_only_table "$ERR"; then
		[ ${#ROWS[@]} -eq 0 ] || fail "${#ROWS[@]} rows shown"
		[ "$TBL_EMPTY" = 1 ] || fail "no '$NO_ROW' line"
	fi
fi
tc_end

for src in statm status smaps; do
	tc "output: --rss-source=$src gives the exact rows"
	if need_file "$bin"; then
		run_ip --rss-source="$src" -- "$bin" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_sorted
			for g in $MEM_GROUPS; do mem_check_group "$g" O2; done
			mem_check_rest
		fi
	fi
	tc_end
done

for v in $DEBUG_VARIANTS; do
	tc "output: quiet.$v (nothing grows): the no-row table, exit 0"
	if need_file "$TGT/quiet.$v"; then
		run_ip -- "$TGT/quiet.$v" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			[ "$TBL_EMPTY" = 1 ] || { fail "rows: '${ROWS[0]}'"; note_file "$ERR"; }
		fi
	fi
	tc_end
done

for opt in -h --help; do
	tc "output: $opt prints the usage on stdout, exit 0"
	run_ip "$opt"
	expect_exit 0
	grep -q '^Usage: iprofmem ' "$OUT" || fail "no 'Usage: iprofmem' line on stdout"
	for o in --output --min --rss-source --help --version; do
		grep -q -e "$o" "$OUT" || fail "usage does not name $o"
	done
	[ -s "$ERR" ] && fail "stderr not empty"
	tc_end
done

for opt in -V --version; do
	tc "output: $opt prints 'iprofmem VERSION' on stdout, exit 0"
	run_ip "$opt"
	expect_exit 0
	grep -q -E '^iprofmem [0-9]+\.[0-9]+' "$OUT" || fail "stdout: '$(head -n1 "$OUT")'"
	[ -s "$ERR" ] && fail "stderr not empty"
	tc_end
done

[ $N_FAILED -eq 0 ]

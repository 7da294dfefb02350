#!/usr/bin/env bash
# What must fail, and how: 'iprofmem report' on a record that is truncated,
# corrupt, of a newer version, not a record, missing or a directory (exit
# 125, exactly one line "iprofmem: FILE: message" on stderr, no output
# file); tracing options given to report, bad view options (with report and
# with a program: then the program must not run); output files in a
# directory that does not exist (125 before the program runs); and a write
# that fails half-way (a file size limit): 125, and nothing left with the
# target's name or its temporary FILE.XXXXXX, an older FILE left intact.
# Last, an output file that is a FIFO (a pipe to flamegraph.pl, say) stays
# a FIFO, and its reader gets the view.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"

bin=$TGT/views.O2-pie
D=$WORK/bad
mkdir -p "$D"
R=$D/rec

# expect_error_line WANT: exit 125, stdout empty, stderr exactly one line,
# equal to WANT (or, when WANT ends with "*", starting with it).
expect_error_line() {
	expect_exit 125
	expect_one_error_line
	[ -s "$OUT" ] && fail "stdout not empty: '$(head -c 80 "$OUT")'"
	case $1 in
	*"*") [[ $(head -n1 "$ERR") == "${1%\*}"* ]] || fail "error '$(head -n1 "$ERR")', want '${1%\*}...'" ;;
	*) [ "$(head -n1 "$ERR")" = "$1" ] || fail "error '$(head -n1 "$ERR")', want '$1'" ;;
	esac
}

# expect_absent FILE...: neither FILE nor a temporary FILE.XXXXXX exists.
expect_absent() {
	local f g
	for f in "$@"; do
		for g in "$f" "$f".??????; do
			[ -e "$g" ] || [ -L "$g" ] || continue
			fail "${g#"$WORK"/} exists"
		done
	done
}

tc "views.O2-pie: a record to spoil"
ok=0
if need_file "$bin"; then
	run_ip --record="$R" -o "$D/table" -- "$bin" "$MARK"
	expect_quiet_ok
	[ -s "$R" ] && [ "$(tail -n1 "$R")" = end ] && ok=1
	[ $ok = 1 ] || fail "no record"
fi
tc_end

# ---------------------------------------------------------- bad record files

# bad_record NAME MESSAGE: 'report BAD' and 'report --format=json
# --folded=X BAD' both fail with "iprofmem: BAD: MESSAGE", writing nothing.
bad_record() {
	local f=$D/$1
	run_report "$f"
	expect_error_line "iprofmem: $f: $2"
	run_report --format=json -o "$D/out.json" --folded="$D/out.folded" --flamegraph="$D/out.svg" "$f"
	expect_error_line "iprofmem: $f: $2"
	expect_absent "$D/out.json" "$D/out.folded" "$D/out.svg"
}

if [ $ok = 1 ]; then
	nline=$(grep -n -P '^node\t' "$R" | sed -n 3p | cut -d: -f1)
	sline=$(grep -n -P '^sample\t' "$R" | sed -n 2p | cut -d: -f1)
	# set_field LINE FIELD VALUE: R with that field of that line replaced.
	set_field() { awk -v l="$1" -v f="$2" -v v="$3" 'BEGIN { FS = OFS = "\t" } NR == l { $f = v } 1' "$R"; }
fi

tc "report: a truncated record (last line cut, cut in the middle, header only)"
if [ $ok = 1 ]; then
	head -n -1 "$R" >"$D/cut1"
	head -c $(($(wc -c <"$R") / 2)) "$R" >"$D/cut2"
	head -n 1 "$R" >"$D/cut3"
	for f in cut1 cut2 cut3; do bad_record $f "truncated record file (no end line): the recording did not finish; record again"; done
else
	fail "no record"
fi
tc_end

tc "report: a corrupt record: 'corrupt record file: line N: ...' with the right N"
if [ $ok = 1 ]; then
	set_field "$nline" 5 "17x2" >"$D/bad.num"	# bytes of a node
	set_field "$nline" 4 999 >"$D/bad.func"		# no such function
	set_field "$nline" 3 999 >"$D/bad.parent"	# no such parent node
	set_field "$sline" 3 "zz" >"$D/bad.sample"	# RSS of a sample
	awk -v l="$nline" 'BEGIN { FS = OFS = "\t" } NR == l { NF = 4 } 1' "$R" >"$D/bad.short"
	for f in bad.num bad.func bad.parent bad.short; do
		bad_record $f "corrupt record file: line $nline: *"
	done
	bad_record bad.sample "corrupt record file: line $sline: *"
	{ cat "$R"; printf 'node\t1\n'; } >"$D/bad.after"
	bad_record bad.after "corrupt record file: line $(($(wc -l <"$R") + 1)): *"
else
	fail "no record"
fi
tc_end

tc "report: a record of a newer version (3, 10)"
if [ $ok = 1 ]; then
	sed '1s/.*/iprofmem-record 3/' "$R" >"$D/v3"
	sed '1s/.*/iprofmem-record 10/' "$R" >"$D/v10"
	bad_record v3 "version 3 is newer than this iprofmem reads (2); read it with a newer iprofmem"
	bad_record v10 "version 10 is newer than this iprofmem reads (2); read it with a newer iprofmem"
else
	fail "no record"
fi
tc_end

tc "report: not a record (text, empty, an ELF file)"
printf 'Memory (MB)   Calls  File:Line:Function\nhello\n' >"$D/text"
: >"$D/empty"
bad_record text "not an iprofmem record file; give one that --record wrote"
bad_record empty "not an iprofmem record file; give one that --record wrote"
if need_file "$bin"; then
	run_report "$bin"
	expect_error_line "iprofmem: $bin: not an iprofmem record file; give one that --record wrote"
fi
tc_end

tc "report: a missing record file, a directory"
bad_record missing "No such file or directory"
mkdir -p "$D/adir"
bad_record adir "*"
tc_end

# ------------------------------------------------------------ usage errors

tc "report: tracing options are usage errors (125, one line naming the option)"
if [ $ok = 1 ]; then
	echo run >"$D/funcs"
	for args in "-p 1:--pid" "--pid=1:--pid" "--funcs=$D/nofile:--funcs" "--funcs=$D/funcs:--funcs" \
		"-e run:--func" "-f:--follow-forks" "--per-process:--per-process" "--record=$D/r2:--record" \
		"--duration=1:--duration" "--rss-source=smaps:--rss-source" "--list-funcs:--list-funcs"; do
		opt=${args##*:}
		# shellcheck disable=SC2086
		run_report ${args%:*} "$R"
		expect_exit 125
		expect_one_error_line
		grep -q -e "$opt" "$ERR" || fail "'report ${args%:*}': '$(head -n1 "$ERR")' does not name $opt"
	done
	expect_absent "$D/r2"
	run_report
	expect_exit 125; expect_one_error_line
	run_report "$R" "$R"
	expect_exit 125; expect_one_error_line
else
	fail "no record"
fi
tc_end

BAD_VIEWS=(--format=xml --format= --columns=bogus --columns= --columns=self,bogus
	--top=0 --top=x --top=-1 --top= --top=3x --min=-1 --min=x)

tc "report: bad view options (--format=xml, --columns=bogus, --top=0, --top=x...): 125, one line"
if [ $ok = 1 ]; then
	for a in "${BAD_VIEWS[@]}"; do
		run_report "$a" --folded="$D/v.folded" "$R"
		[ $RC -eq 125 ] || fail "$a: exit status $RC, want 125"
		n=$(awk 'END { print NR }' "$ERR")
		[ "$n" -eq 1 ] || fail "$a: $n lines on stderr"
	done
	expect_absent "$D/v.folded"
else
	fail "no record"
fi
tc_end

# A program that leaves a mark when it runs.
RAN=$D/ran
PROG=(/bin/sh -c ': >"$1"' sh "$RAN" "$MARK")

tc "tracing: bad view options: 125, one line, the program does not run"
rm -f "$RAN"
for a in "${BAD_VIEWS[@]}"; do
	run_ip "$a" --record="$D/v.rec" -- "${PROG[@]}"
	[ $RC -eq 125 ] || fail "$a: exit status $RC, want 125"
	n=$(awk 'END { print NR }' "$ERR")
	[ "$n" -eq 1 ] || fail "$a: $n lines on stderr"
	[ -e "$RAN" ] && { fail "$a: the program ran"; rm -f "$RAN"; }
done
expect_absent "$D/v.rec"
tc_end

# ---------------------------------------------- output in a missing directory

tc "tracing: an output file in a missing directory: 125 before the program runs"
rm -f "$RAN"
for o in --output -o --record --folded --flamegraph --timeline; do
	if [ "$o" = -o ]; then
		run_ip -o "$D/nodir/out" -- "${PROG[@]}"
	else
		run_ip "$o=$D/nodir/out" -- "${PROG[@]}"
	fi
	expect_exit 125
	expect_one_error_line
	grep -q -F "$D/nodir" "$ERR" || fail "$o: the error does not name the file: '$(head -n1 "$ERR")'"
	[ -e "$RAN" ] && { fail "$o: the program ran"; rm -f "$RAN"; }
done
# the others given too, valid: none of them is written
run_ip -o "$D/t.out" --record="$D/t.rec" --folded="$D/t.folded" --timeline="$D/nodir/tl.svg" -- "${PROG[@]}"
expect_exit 125
[ -e "$RAN" ] && fail "with several outputs: the program ran"
expect_absent "$D/t.out" "$D/t.rec" "$D/t.folded"
[ -e "$D/nodir" ] && fail "$D/nodir was created"
# an output file that is a directory
run_ip --folded="$D" -- "${PROG[@]}"
expect_exit 125
expect_one_error_line
[ -e "$RAN" ] && fail "--folded=DIRECTORY: the program ran"
tc_end

tc "report: an output file in a missing directory: 125, one line, nothing else"
if [ $ok = 1 ]; then
	for o in --output --folded --flamegraph --timeline; do
		run_report "$o=$D/nodir/out" "$R"
		expect_error_line "iprofmem: $D/nodir/out: *"
	done
	run_report --folded="$D/r.folded" --timeline="$D/nodir/out" -o "$D/r.out" "$R"
	expect_error_line "iprofmem: $D/nodir/out: *"
	expect_absent "$D/r.out" "$D/r.folded"
else
	fail "no record"
fi
tc_end

# ---------------------------------------------------- a write that fails

# run_limited ARGS...: run_ip under a file size limit of 0 with SIGXFSZ
# ignored, so that every write to a regular file fails (EFBIG); stdout and
# stderr go through a pipe, which the limit does not concern.
# (ulimit -f 0 forbids the probe engine's ring too, a memfd that must be
# given a size: the int3 engine, which needs no file, traces.)
run_limited() {
	rm -f "$WORK"/san.*
	{ ( trap '' XFSZ; ulimit -f 0
	    IPROFMEM_ENGINE=int3 exec timeout -k 5 "$E2E_TIMEOUT" "$IPROFMEM" "$@" </dev/null ) 2>&1 | cat >"$ERR"; } 2>/dev/null
	RC=${PIPESTATUS[0]}
	: >"$OUT"
	[ $RC -eq 124 ] && fail "iprofmem timed out after ${E2E_TIMEOUT}s"
	check_sanitizer "$ERR"
	check_no_leftover
}

# expect_write_failed FILE: 125 and one "iprofmem: FILE: ..." line.
expect_write_failed() {
	expect_exit 125
	[ "$(grep -c '^iprofmem: ' "$ERR")" -eq 1 ] || fail "$(grep -c '^iprofmem: ' "$ERR") 'iprofmem:' lines, want 1"
	grep -q -F "iprofmem: $1: " "$ERR" || fail "no error line naming $1: '$(grep -m1 '^iprofmem' "$ERR")'"
}

tc "report: a write that fails: 125, no FILE nor FILE.XXXXXX left, an old FILE intact"
if [ $ok = 1 ]; then
	mkdir -p "$D/w"
	for o in --output --folded --flamegraph --timeline; do
		run_limited report "$o=$D/w/new" "$R"
		expect_write_failed "$D/w/new"
		expect_absent "$D/w/new"
		printf 'old\n' >"$D/w/old"
		run_limited report --format=json "$o=$D/w/old" "$R"
		expect_write_failed "$D/w/old"
		[ "$(cat "$D/w/old")" = old ] || fail "$o: the old file was replaced or changed"
		expect_absent "$D/w/old".??????
		rm -f "$D/w/old"
	done
	left=$(ls -A "$D/w")
	[ -z "$left" ] || fail "left in the directory: $left"
else
	fail "no record"
fi
tc_end

tc "tracing: a write that fails at the end (-o, --record, --folded): 125, nothing left"
if need_file "$bin"; then
	mkdir -p "$D/wl"
	for o in --output --record --folded --flamegraph; do
		run_limited "$o=$D/wl/out" -- "$bin" "$MARK"
		expect_write_failed "$D/wl/out"
		expect_absent "$D/wl/out"
	done
	left=$(ls -A "$D/wl")
	[ -z "$left" ] || fail "left in the directory: $left"
fi
tc_end

# ------------------------------------------------------ a FIFO as output

# A FIFO (a pipe to flamegraph.pl, or /dev/stdout) is never replaced by a
# regular file: iprofmem writes the view into it (or refuses, 125 and one
# line, leaving it alone).
tc "report --folded=FIFO, -o FIFO: the reader gets the view; the FIFO stays a FIFO"
if [ $ok = 1 ]; then
	run_report --folded="$D/want.folded" -o "$D/want.table" "$R"
	for o in --folded -o; do
		fifo=$D/fifo
		rm -f "$fifo" "$D/fifo.got"
		mkfifo "$fifo"
		timeout 20 cat "$fifo" >"$D/fifo.got" &
		reader=$!
		if [ "$o" = -o ]; then
			run_report -o "$fifo" "$R"
			want=$D/want.table
		else
			run_report --folded="$fifo" "$R"
			want=$D/want.folded
		fi
		if [ ! -p "$fifo" ]; then
			fail "$o FIFO: exit status $RC, and the FIFO was replaced by a $(stat -c %F "$fifo" 2>/dev/null || echo 'missing file')"
		elif [ $RC -eq 0 ]; then
			wait "$reader"
			reader=
			expect_same "$want" "$D/fifo.got" "$o FIFO: what the reader got"
		elif [ $RC -eq 125 ]; then
			expect_one_error_line
		else
			fail "$o FIFO: exit status $RC"
		fi
		if [ -n "$reader" ]; then
			kill "$reader" 2>/dev/null
			wait "$reader" 2>/dev/null
		fi
		rm -f "$fifo"
	done
else
	fail "no record"
fi
tc_end

[ $N_FAILED -eq 0 ]

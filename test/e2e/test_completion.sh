#!/usr/bin/env bash
# The bash completion script (completion/iprofmem): loaded into a fresh
# bash, asked to complete command lines the way bash asks it (COMP_WORDS
# split at '=' as readline does, COMP_CWORD the word under the cursor), and
# the completions it offers compared, exactly, with what they must be:
# options (tracing and view; view only after 'report'), the values of
# --engine, --format, --rss-source and --columns (a comma list, items not
# repeated), process IDs after -p (also after a comma), files after
# --funcs, --record and -o, programs from PATH where PROGRAM goes (after
# '--', or as the first operand), and files for PROGRAM's own arguments.
# Each case runs without bash-completion, and again with it loaded (then
# the arguments of PROGRAM go through its _command_offset).
# Last, every option of iprofmem --help is offered (also for the ASan
# build, which runs only that case).
. "$(dirname "$0")/lib.sh"

COMPLETION=$TOP/completion/iprofmem
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

mkdir -p "$WORK/bin" "$WORK/files"
for p in myprog_a myprog_b; do
	printf '#!/bin/sh\n' >"$WORK/bin/$p"
	chmod +x "$WORK/bin/$p"
done
: >"$WORK/files/funcs.txt"
: >"$WORK/files/fx.rec"
mkdir "$WORK/files/fdir"
F=$WORK/files

# comp WORD...: what the completion offers for the command line of these
# words (the last one is being completed; "" for a new word), one per line,
# sorted, on stdout.  MODE=plain or MODE=bc (bash-completion loaded first).
MODE=plain
comp() {
	env PATH="$WORK/bin:$PATH" bash --norc --noprofile -c '
		bc=$1 script=$2; shift 2
		if [ -n "$bc" ]; then . "$bc" || exit 3; fi
		. "$script" || exit 3
		complete -p iprofmem >/dev/null || exit 4
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_iprofmem iprofmem "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
		for w in "${COMPREPLY[@]}"; do printf "%s\n" "$w"; done
	' bash "$([ "$MODE" = bc ] && echo "$BASH_COMPLETION")" "$COMPLETION" "$@" | sort
}

# expect_comp WANT WORD...: the completions of WORD... are WANT (words
# separated by spaces; "" for none), exactly.
expect_comp() {
	local want=$1 got
	shift
	want=$(printf '%s\n' $want | sed '/^$/d' | sort)
	got=$(comp "$@")
	[ "$got" = "$want" ] ||
		fail "'$(printf '%s ' "$@")': got '$(echo $got)', want '$(echo $want)'"
}

# The process IDs there are now, as the completion lists them.
pids() { ls /proc | grep -E '^[0-9]+$' | sed "s/^/$1/" | sort; }

modes=plain
if [ -r "$BASH_COMPLETION" ]; then modes="plain bc"; fi
[ -n "$TAG" ] && modes=	# the script is the same for every build: once

for MODE in $modes; do
	m=$MODE
	[ $m = bc ] && m="with bash-completion"

	tc "completion ($m): options: --fo, --t, -, only view options after 'report'"
	expect_comp "--folded= --follow-forks --format=" iprofmem --fo
	expect_comp "--timeline= --top= --tree" iprofmem --top 5 --t
	expect_comp "--rss-source= --record=" iprofmem --r
	expect_comp "--engine=" iprofmem --en
	expect_comp "-o --output= --format= --tree --columns= --min= --top= --folded= --flamegraph= --timeline= --budget= -h --help -V --version -p --pid= --duration= --funcs= -e --func= -x --exclude= --all-modules --strict --list-funcs -f --follow-forks --per-process --rss-source= --memory= --engine= --fault-gate= --stats --record= --interval= -q --quiet" iprofmem -
	expect_comp "-o --output= --format= --tree --columns= --min= --top= --folded= --flamegraph= --timeline= --budget= -h --help -V --version" iprofmem report -
	expect_comp "-o --output= --format= --tree --columns= --min= --top= --folded= --flamegraph= --timeline= --budget= --fail-above= -h --help -V --version" iprofmem diff -
	expect_comp "" iprofmem report --r
	tc_end

	tc "completion ($m): values of --format, --engine, --rss-source (--opt VALUE and --opt=VALUE)"
	expect_comp "table json csv pprof" iprofmem --format ""
	expect_comp "table json csv pprof" iprofmem --format = ""
	expect_comp "pprof" iprofmem --format = p
	expect_comp "json" iprofmem report --format j
	expect_comp "auto probe int3" iprofmem --engine ""
	expect_comp "int3" iprofmem --engine = i
	expect_comp "auto off" iprofmem --fault-gate ""
	expect_comp "off" iprofmem --fault-gate = o
	expect_comp "statm status smaps" iprofmem --rss-source ""
	expect_comp "statm status" iprofmem --rss-source = stat
	expect_comp "" iprofmem --top ""
	tc_end

	tc "completion ($m): --columns: a comma list, items not repeated"
	expect_comp "self peak total-calls outer" iprofmem --columns ""
	expect_comp "peak" iprofmem --columns = pe
	expect_comp "self,peak self,total-calls self,outer" iprofmem --columns self,
	expect_comp "self,total-calls,peak self,total-calls,outer" iprofmem --columns = self,total-calls,
	expect_comp "all anon file" iprofmem --memory ""
	tc_end

	tc "completion ($m): process IDs after -p and --pid, also after a comma"
	before=$(pids "")
	got=$(comp iprofmem -p "")
	after=$(pids "")
	# processes come and go: those there before and after were there during
	missing=$(comm -23 <(comm -12 <(echo "$before") <(echo "$after")) <(echo "$got"))
	[ -z "$missing" ] || fail "-p: PIDs not offered: $(echo $missing | head -c 80)"
	echo "$got" | grep -qvE '^[0-9]+$' && fail "-p: something else than a PID: $(echo "$got" | grep -vE '^[0-9]+$' | head -n1)"
	echo "$got" | grep -qx 1 || fail "-p: PID 1 not offered"
	got=$(comp iprofmem --pid = 1)
	echo "$got" | grep -qx 1 || fail "--pid=1: 1 not offered"
	echo "$got" | grep -qvE '^1[0-9]*$' && fail "--pid=1: '$(echo "$got" | grep -vE '^1[0-9]*$' | head -n1)' offered"
	got=$(comp iprofmem -p 1,)
	echo "$got" | grep -qx "1,$$" || fail "-p 1,: '1,$$' not offered"
	echo "$got" | grep -qvE '^1,[0-9]+$' && fail "-p 1,: '$(echo "$got" | grep -vE '^1,[0-9]+$' | head -n1)' offered"
	tc_end

	tc "completion ($m): files after --funcs, --record, -o, --output=, and the record of 'report'"
	expect_comp "$F/funcs.txt $F/fx.rec $F/fdir" iprofmem --funcs "$F/f"
	expect_comp "$F/fx.rec" iprofmem --record = "$F/fx"
	expect_comp "$F/fx.rec" iprofmem -o "$F/fx"
	expect_comp "$F/funcs.txt" iprofmem --output = "$F/fu"
	expect_comp "$F/fx.rec" iprofmem report --tree "$F/fx"
	tc_end

	tc "completion ($m): programs where PROGRAM goes, then PROGRAM's arguments as files"
	expect_comp "myprog_a myprog_b" iprofmem -- myp
	expect_comp "myprog_a myprog_b" iprofmem --tree -o out myp
	expect_comp "myprog_a myprog_b" iprofmem --format = csv myp
	expect_comp "myprog_a myprog_b" iprofmem myp
	comp iprofmem rep | grep -qx report || fail "'iprofmem rep': 'report' not offered"
	expect_comp "$F/fx.rec" iprofmem -- "$F/fx"
	expect_comp "$F/funcs.txt" iprofmem -- myprog_a "$F/fu"
	expect_comp "$F/funcs.txt" iprofmem -f myprog_a --format "$F/fu"
	tc_end
done

tc "completion: every option of iprofmem --help is offered"
all=$( (MODE=plain comp iprofmem -; MODE=plain comp iprofmem diff -) | sort -u)
# the option lines: "  -p, --pid=PID[,PID]   attach..." gives -p and --pid=
for o in $("$IPROFMEM" --help | awk '/^  +-/ { for (i = 1; i <= NF && $i ~ /^-/; i++) print $i }' |
		sed -e 's/,$//' -e 's/=.*/=/' | sort -u); do
	echo "$all" | grep -qx -- "$o" || fail "$o not offered"
done
tc_end

exit $((N_FAILED > 0))

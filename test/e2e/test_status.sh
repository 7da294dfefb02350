#!/usr/bin/env bash
# Tracing changes nothing the program does: stdout, stdin, arguments (even
# ones that look like iprofmem options), environment, a handled signal, its
# own stderr, a forked child, an exec, and the exit status (by exit() or by returning
# from main) are those of the untraced run.
. "$(dirname "$0")/lib.sh"

# Some input, big enough to cross a few reads, small enough to stay fast
# (every byte is a traced call).
seq 1 700 | tr '\n' ' ' | head -c 2500 >"$WORK/input"
export IPROFMEM_E2E="value with spaces"

# same_as_plain ARGS...: traced and untraced stdout and exit status agree.
same_as_plain() {
	local prog=$1; shift
	run_plain --in "$WORK/input" "$prog" "$@"
	run_ip --in "$WORK/input" -- "$prog" "$@"
	[ "$RC" -eq "$PRC" ] || fail "exit status $RC traced, $PRC untraced"
	if ! cmp -s "$OUT" "$POUT"; then
		fail "stdout differs from the untraced run"
		note "$(diff "$POUT" "$OUT" | head -n 20)"
	fi
}

for v in $DEBUG_VARIANTS O2-pie-nodebug; do
	bin=$TGT/status.$v

	tc "status.$v: stdout, stdin, args, env, SIGUSR1, exit(42) as untraced"
	if need_file "$bin"; then
		same_as_plain "$bin" 42 "a b" "" -o "$WORK/x" --min=3 -- stdin usr1 env "$MARK"
		[ "$PRC" -eq 42 ] || fail "untraced exit $PRC, want 42"
		grep -q '^usr1 handled 3 times$' "$OUT" || fail "SIGUSR1 not handled 3 times"
		grep -q '^stdin: 2500 bytes' "$OUT" || fail "stdin not read whole"
		expect_table "$ERR"
		[ -e "$WORK/x" ] && fail "program's '-o FILE' argument was taken by iprofmem"
	fi
	tc_end

	tc "status.$v: return 7 from main as untraced"
	if need_file "$bin"; then
		same_as_plain "$bin" r7 "$MARK"
		[ "$RC" -eq 7 ] || fail "exit $RC, want 7"
	fi
	tc_end

	tc "status.$v: exec of itself runs and exits 3 as untraced"
	if need_file "$bin"; then
		same_as_plain "$bin" 0 usr1 exec usr1 env "$MARK"
		[ "$RC" -eq 3 ] || fail "exit $RC, want 3"
		[ "$(grep -c '^usr1 handled 3 times$' "$OUT")" = 2 ] || fail "SIGUSR1 not handled before and after exec"
	fi
	tc_end

	tc "status.$v: forked child runs and exits 7 as untraced"
	if need_file "$bin"; then
		same_as_plain "$bin" 0 fork "$MARK"
		grep -q '^child exited 7$' "$OUT" || fail "child: $(grep child "$OUT")"
	fi
	tc_end
done

bin=$TGT/status.O2-pie
tc "status.O2-pie: exit 0 as untraced"
if need_file "$bin"; then
	same_as_plain "$bin" 0 "$MARK"
	expect_exit 0
fi
tc_end

tc "status.O2-pie: PROGRAM without a slash is searched in PATH"
if need_file "$bin"; then
	PATH="$TGT:$PATH" run_plain status.O2-pie 4 "$MARK"
	PATH="$TGT:$PATH" run_ip status.O2-pie 4 "$MARK"
	expect_exit 4
	cmp -s "$OUT" "$POUT" || { fail "stdout differs from the untraced run"; note "$(diff "$POUT" "$OUT" | head)"; }
	expect_table "$ERR"
fi
tc_end

tc "status.O2-pie: options after PROGRAM belong to PROGRAM (no --)"
if need_file "$bin"; then
	run_plain "$bin" 0 -o "$WORK/y" --min=abc -V --help "$MARK"
	run_ip "$bin" 0 -o "$WORK/y" --min=abc -V --help "$MARK"
	expect_exit 0
	cmp -s "$OUT" "$POUT" || { fail "stdout differs from the untraced run"; note "$(diff "$POUT" "$OUT" | head)"; }
	[ -e "$WORK/y" ] && fail "iprofmem wrote the program's -o FILE"
	expect_table "$ERR"
fi
tc_end

tc "status.O2-pie: -o FILE leaves the program's stderr alone"
if need_file "$bin"; then
	run_ip -o "$WORK/t" -- "$bin" 5 stderr "$MARK"
	expect_exit 5
	[ "$(cat "$ERR")" = "status: a line on stderr" ] || { fail "stderr is not the program's one line"; note_file "$ERR"; }
	[ -f "$WORK/t" ] && expect_only_table "$WORK/t"
	[ -f "$WORK/t" ] || fail "no $WORK/t"
fi
tc_end

[ $N_FAILED -eq 0 ]

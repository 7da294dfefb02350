#!/usr/bin/env bash
# A thread made by a raw clone without CLONE_SETTLS shares its creator's
# thread pointer, by which the probes tell threads apart (and on whose
# control block they run, in a glibc program): test/targets/sharedtp.c.
#  - launched: with probes, iprofmem says so in one warning, naming
#    --engine=int3; the int3 engine has nothing to say;
#  - a process made by clone(CLONE_VM | SIGCHLD), which ptrace reports as
#    a fork, shares the memory, breakpoints and probes: with -f or not, it
#    is traced as one more thread (before, without -f, letting it go took
#    the parent's breakpoints and probes out of the shared memory);
#  - attached to a process that has such a thread: the default engine
#    refuses probes for it, in one warning, and the int3 engine traces it.
# Either way the table is exact (grow: 3 pages, 1 call) and the program
# ends as untraced.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/attach_lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
printf 'grow\n' >"$WORK/funcs"

# warnings FILE REGEX: how many lines of FILE match.
warnings() { grep -c -E -- "$2" "$1"; }

# launched MODE [-f]: sharedtp MODE run untraced, then traced (--funcs:
# grow): the same output, one warning with probes (none with the int3
# engine), grow's row exact.
launched() {
	local mode=$1 n
	shift
	run_plain "$bin" "$mode" "$MARK"
	grep -qx 'sharedtp: 3 pages, thread ran' "$POUT" || fail "untraced: $(cat "$POUT")"
	run_ip "$@" --funcs="$WORK/funcs" -- "$bin" "$mode" "$MARK"
	expect_exit 0
	expect_same_as_plain
	n=$(warnings "$ERR" '^iprofmem: warning: process [0-9]+: thread [0-9]+ was made without a thread pointer of its own .*--engine=int3$')
	if [ "$ENGINE" = int3 ]; then
		[ "$n" = 0 ] || fail "int3 engine: $n warnings, want none"
	else
		[ "$n" = 1 ] || fail "$n warnings about the thread pointer, want 1"
	fi
	grep -v '^iprofmem: warning: ' "$ERR" >"$WORK/table"
	expect_only_table "$WORK/table" && expect_exact_rows sharedtp grow:3:1
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/sharedtp.$v
	tc "sharedtp.$v launched: one warning with probes, the table exact"
	need_file "$bin" && launched launch
	tc_end

	for f in "" -f; do
		tc "sharedtp.$v process${f:+ $f}: a process sharing the memory (CLONE_VM, reported as a fork) is one more thread"
		need_file "$bin" && launched process $f
		tc_end
	done

	tc "sharedtp.$v attached: no probes for it (one warning), the int3 engine's table exact"
	if need_file "$bin"; then
		rm -f "$WORK/ready" "$WORK/go"
		tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" attach "$WORK/ready" "$WORK/go"
		if tgt_ready "$WORK/ready"; then
			start_ip --funcs="$WORK/funcs" -p "$TPID"
			wait_bp "$TPID" "$bin" grow || ip_abort
			touch "$WORK/go"
			finish_ip
			expect_exit 0
			tgt_finish
			[ "$TRC" = 0 ] || fail "the target ended with $TRC"
			grep -qx 'sharedtp: 3 pages, thread ran' "$WORK/t.out" ||
				fail "target: $(head -c 200 "$WORK/t.out")"
			n=$(warnings "$ERR" "^iprofmem: warning: process $TPID: no probes \\(two of its threads share one thread pointer")
			if [ "$ENGINE" = int3 ]; then
				[ "$n" = 0 ] || fail "int3 engine: $n warnings, want none"
			else
				[ "$n" = 1 ] || fail "$n warnings refusing probes, want 1"
			fi
			grep -v '^iprofmem: warning: ' "$ERR" >"$WORK/table"
			expect_only_table "$WORK/table" && expect_exact_rows sharedtp grow:3:1
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		else
			tgt_kill
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

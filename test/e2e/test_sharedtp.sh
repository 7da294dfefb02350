#!/usr/bin/env bash
# A thread made by a raw clone without CLONE_SETTLS shares its creator's
# thread pointer, by which the probes tell threads apart (and on whose
# control block they run, in a glibc program): test/targets/sharedtp.c.
#  - launched: with probes, iprofmem goes over to the int3 engine before
#    the thread runs and says so in one warning; the int3 engine has
#    nothing to say;
#  - both threads running traced code at once ("busy"), the switch made
#    inside a traced call: every call counted (--stats), every row exact,
#    the tables of both engines the same, the program unharmed (before
#    the switch, the two threads shared one probe stack and crashed it);
#  - a process made by clone(CLONE_VM | SIGCHLD), which ptrace reports as
#    a fork, shares the memory, breakpoints and probes: with -f or not, it
#    is traced as one more thread (before, without -f, letting it go took
#    the parent's breakpoints and probes out of the shared memory);
#  - made while a vfork child of the process runs ("vfork": its parent
#    cannot stop until the child exits, so the switch waits, the thread
#    held): the rows exact, the program unharmed;
#  - attached to a process that has such a thread: the default engine
#    refuses probes for it, in one warning, and the int3 engine traces it;
#  - attached to a process that makes one later ("late"): the switch as
#    when launched, busy's rows exact, the program unharmed;
#  - busy's case with a thread pointer of the thread's own that does not
#    point to itself, as Go's runtime makes them ("foreign"): the probes
#    take the word at %fs:0 for the key without rdfsbase, and run at %fs
#    in a glibc program, so the switch as for busy, said so (before: the
#    probes wrote into the thread's block and the program died).
# Either way the table is exact (grow: 3 pages, 1 call) and the program
# ends as untraced.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/attach_lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
printf 'grow\n' >"$WORK/funcs"
printf 'grow\ntick\nkid_grow\nspawn\nwatch\n' >"$WORK/funcs5"
printf 'grow\nkid_grow\nspawn\n' >"$WORK/funcs3"

# warnings FILE REGEX: how many lines of FILE match.
warnings() { grep -c -E -- "$2" "$1"; }
SWITCHED='^iprofmem: warning: process [0-9]+: thread [0-9]+ was made without a thread pointer of its own \(clone without CLONE_SETTLS\), by which the probes tell threads: the int3 engine traces the process from now on$'
FOREIGN='^iprofmem: warning: process [0-9]+: thread [0-9]+ was made with a thread pointer that does not point to itself \(a TLS layout of the runtime.s own, as Go.s\), by which the probes tell threads: the int3 engine traces the process from now on$'

# switch_said [REGEX]: in $ERR, one warning of the switch (REGEX, else
# $SWITCHED) with probes, none with the int3 engine.
switch_said() {
	local n
	n=$(warnings "$ERR" "${1:-$SWITCHED}")
	if [ "$ENGINE" = int3 ]; then
		[ "$n" = 0 ] || fail "int3 engine: $n warnings, want none"
	else
		[ "$n" = 1 ] || fail "$n warnings about the thread pointer, want 1"
	fi
}

# busy_result [REGEX]: busy's run (--stats) in $ERR: 2 * 2000 ticks and
# 4 calls, 8008 events; with probes, the switch said once (switch_said
# REGEX) and counted in --stats; the rows exact by construction, under
# both engines.
busy_result() {
	grep -q '^iprofmem: stats: events 8008 (' "$ERR" ||
		fail "want 8008 events: $(grep '^iprofmem: stats: events' "$ERR")"
	switch_said "$@"
	if [ "$ENGINE" = int3 ]; then
		! grep -q '^iprofmem: stats: went over' "$ERR" ||
			fail "int3 engine: a switch in --stats"
	else
		grep -qx 'iprofmem: stats: went over to the int3 engine mid-run: 1 process (a thread the probes could not tell by its thread pointer); the sites above are as first armed' "$ERR" ||
			fail "no switch in --stats"
	fi
	grep -v '^iprofmem: \(warning\|stats\): ' "$ERR" >"$WORK/table"
	expect_only_table "$WORK/table" &&
		expect_exact_rows sharedtp spawn:4:1 watch:2:1 kid_grow:2:1 grow:3:1
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
}

# busy [MODE REGEX]: both threads in traced code at once (see
# sharedtp.c), launched; MODE foreign: the thread's pointer its own but
# not pointing to itself, the switch said as REGEX.
busy() {
	local mode=${1:-busy}
	run_plain "$bin" "$mode"
	grep -qx 'sharedtp: 3 pages, thread ran, 4000 ticks' "$POUT" ||
		fail "untraced: $(cat "$POUT")"
	run_ip --stats --funcs="$WORK/funcs5" -- "$bin" "$mode"
	expect_exit 0
	expect_same_as_plain
	busy_result "${@:2}"
}

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
	switch_said
	grep -v '^iprofmem: warning: ' "$ERR" >"$WORK/table"
	expect_only_table "$WORK/table" && expect_exact_rows sharedtp grow:3:1
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
}

# in_vfork: the thread made while a vfork child runs (see sharedtp.c):
# 3 calls, 6 events, the switch said once, the rows exact.
in_vfork() {
	run_plain "$bin" vfork
	grep -qx 'sharedtp: 3 pages, thread ran' "$POUT" || fail "untraced: $(cat "$POUT")"
	run_ip --stats --funcs="$WORK/funcs3" -- "$bin" vfork
	expect_exit 0
	expect_same_as_plain
	grep -q '^iprofmem: stats: events 6 (' "$ERR" ||
		fail "want 6 events: $(grep '^iprofmem: stats: events' "$ERR")"
	switch_said
	grep -v '^iprofmem: \(warning\|stats\): ' "$ERR" >"$WORK/table"
	expect_only_table "$WORK/table" &&
		expect_exact_rows sharedtp spawn:4:1 kid_grow:2:1 grow:3:1
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
}

# attached MODE OUT FUNC IPROFMEM-ARGS...: sharedtp MODE READY GO started,
# iprofmem attached (-p) once it is ready, GO given once FUNC is armed;
# both end, iprofmem with 0, the target with 0 and the line OUT.  Returns
# 1, the target killed, when it never got ready.
attached() {
	local mode=$1 out=$2 func=$3
	shift 3
	rm -f "$WORK/ready" "$WORK/go"
	tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" "$mode" "$WORK/ready" "$WORK/go"
	if ! tgt_ready "$WORK/ready"; then
		tgt_kill
		return 1
	fi
	start_ip "$@" -p "$TPID"
	wait_bp "$TPID" "$bin" "$func" || ip_abort
	touch "$WORK/go"
	finish_ip
	expect_exit 0
	tgt_finish
	[ "$TRC" = 0 ] || fail "the target ended with $TRC"
	grep -qx "$out" "$WORK/t.out" ||
		fail "target: $(head -c 200 "$WORK/t.out")"
}

# late: busy's case, attached before the thread is made.
late() {
	attached late 'sharedtp: 3 pages, thread ran, 4000 ticks' spawn \
		--stats --funcs="$WORK/funcs5" && busy_result
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/sharedtp.$v
	tc "sharedtp.$v launched: the int3 engine from the clone on, said once; the table exact"
	need_file "$bin" && launched launch
	tc_end

	tc "sharedtp.$v busy: both threads traced at once, the switch inside a traced call: every call, every row exact"
	need_file "$bin" && busy
	tc_end

	tc "sharedtp.$v foreign: busy with a thread pointer not pointing to itself (Go's threads): the switch, every call, every row exact"
	need_file "$bin" && busy foreign "$FOREIGN"
	tc_end

	for f in "" -f; do
		tc "sharedtp.$v process${f:+ $f}: a process sharing the memory (CLONE_VM, reported as a fork) is one more thread"
		need_file "$bin" && launched process $f
		tc_end
	done

	tc "sharedtp.$v vfork: the thread made while a vfork child runs: the switch waits for it, every row exact"
	need_file "$bin" && in_vfork
	tc_end

	tc "sharedtp.$v attached, the thread made later: the switch as launched, every row exact"
	need_file "$bin" && late
	tc_end

	tc "sharedtp.$v attached: no probes for it (one warning), the int3 engine's table exact"
	if need_file "$bin" &&
		attached attach 'sharedtp: 3 pages, thread ran' grow --funcs="$WORK/funcs"; then
		n=$(warnings "$ERR" "^iprofmem: warning: process $TPID: no probes \\(two of its threads share one thread pointer")
		if [ "$ENGINE" = int3 ]; then
			[ "$n" = 0 ] || fail "int3 engine: $n warnings, want none"
		else
			[ "$n" = 1 ] || fail "$n warnings refusing probes, want 1"
		fi
		grep -v '^iprofmem: warning: ' "$ERR" >"$WORK/table"
		expect_only_table "$WORK/table" && expect_exact_rows sharedtp grow:3:1
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

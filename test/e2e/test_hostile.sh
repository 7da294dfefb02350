#!/usr/bin/env bash
# Hostile programs (test/targets/hostile.c): code rewritten where a
# breakpoint sits, a traced page moved or replaced, page protections
# changed, a jump into the middle of a traced function, a corrupt stack
# pointer at an entry, a return and an out-of-line instruction, SIGTRAPs of
# the program's own.  In every build variant, traced:
#  - the program prints what it prints untraced and exits the same way
#    (the faults land at the same instructions, with the same addresses;
#    its SIGTRAP handler sees every SIGTRAP with its si_code);
#  - iprofmem prints only the table, whose rows for the calls that ran as
#    calls are exact;
# and with --duration detaching in the middle (selfmod, remap, mprotect),
# the detach leaves the program's own code as the program made it.
. "$(dirname "$0")/lib.sh"

# hostile_key FUNC: the row key in this variant.
hostile_key() {
	case $v in
	*nodebug) printf '%s:0:%s' "$bin" "$1" ;;
	*) src_key hostile "$1" ;;
	esac
}

# expect_rows "FUNC PAGES CALLS"... ("FUNC -": no row for FUNC)
expect_rows() {
	local spec
	for spec in "$@"; do
		set -- $spec
		if [ "$2" = - ]; then
			expect_no_row "$(hostile_key "$1")"
		else
			expect_row "$(hostile_key "$1")" "$2" "$3"
		fi
	done
}

# expect_table_rows ROWSPEC...: stderr is the table (and, without DWARF,
# the warning that says so), sorted, with those rows.
expect_table_rows() {
	case $v in
	*nodebug) grep -v 'has no DWARF debug info' "$ERR" >"$WORK/err.t" ;;
	*) cp "$ERR" "$WORK/err.t" ;;
	esac
	if expect_only_table "$WORK/err.t"; then
		expect_sorted
		expect_rows "$@"
	fi
}

# scenario NAME ROWSPEC...: traced run against the untraced one.
scenario() {
	local s=$1
	shift
	tc "hostile.$v: $s"
	if need_file "$bin"; then
		run_plain "$bin" "$s" "$MARK"
		run_ip -- "$bin" "$s" "$MARK"
		expect_same_as_plain
		expect_table_rows "$@"
		! declare -F "also_$s" >/dev/null || "also_$s"
	fi
	tc_end
}

# What some scenarios say on stdout, besides being the same as untraced.
also_badsp() {
	[ "$(grep -c 'SIGSEGV at the right instruction: yes, address: right' "$OUT")" = 3 ] ||
		fail "the faults are not where they are untraced"
}
also_sigtrap() {
	grep -qx 'SIGTRAP handled 104 times, every si_code as sent: yes' "$OUT" ||
		fail "stdout: $(tr '\n' '|' <"$OUT")"
}
also_sigtrap-die() {
	expect_exit 133
}

# detached NAME ROWSPEC...: --duration lets go of it after its hostile
# step; it checks its code once it is no longer traced.
detached() {
	local s=$1 state=$WORK/state
	shift
	tc "hostile.$v: $s, detached in the middle"
	if need_file "$bin"; then
		rm -f "$state"
		run_plain "$bin" "$s" detach "$state" "$MARK"
		run_ip --duration=0.5 -- "$bin" "$s" detach "$state" "$MARK"
		expect_same_as_plain
		[ "$(cat "$state" 2>/dev/null)" = traced ] ||
			fail "the program was not traced when it reached its wait"
		grep -q 'code is mine\|is not an int3' "$OUT" ||
			fail "the program did not check its code"
		expect_table_rows "$@"
	fi
	tc_end
}

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/hostile.$v
	scenario selfmod "patched 5 5"
	scenario remap "moved_touch 5 5" "gone_touch 2 2"
	scenario mprotect "prot_touch 5 5"
	# left by a jump, the function is no row; the faulting calls neither
	scenario midjump "mid_target 4 2" "mid_jumper -"
	scenario badsp "sp_fine 3 3" "sp_target -" "ret_corrupt -" "ool_target -"
	scenario sigtrap "touch_one 104 104" "on_trap 104 104" "trap_loop 100 1"
	scenario sigtrap-die
	detached selfmod "patched 3 3"
	detached remap "moved_touch 3 3" "gone_touch 2 2"
	detached mprotect "prot_touch 3 3"
done

# A program that makes itself not dumpable, traced by an unprivileged user
# (no CAP_SYS_PTRACE): the tracer still reads and writes its stack.  Root
# runs iprofmem as nobody, from copies nobody can reach (see share_copy in
# lib.sh); any other user is unprivileged already.
for v in O0-pie O2-pie-cet; do
	tc "hostile.$v: nodump, traced by an unprivileged user"
	if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
		echo "SKIP ${TAG}hostile.$v: nodump, traced by an unprivileged user: root needs setpriv to be one"
		continue
	fi
	if need_file "$TGT/hostile.$v"; then
		bin=$TGT/hostile.$v ip=$IPROFMEM run_as=
		if [ "$(id -u)" = 0 ]; then
			share_copy "$bin" "$ip" || { tc_end; continue; }
			bin=$SHARED/hostile.$v ip=$SHARED/${IPROFMEM##*/}
			run_as="setpriv --reuid=65534 --regid=65534 --clear-groups"
		fi
		run_plain "$bin" nodump "$MARK"
		# shellcheck disable=SC2086
		{ timeout -k 5 "$E2E_TIMEOUT" $run_as "$ip" -- "$bin" nodump "$MARK" \
			</dev/null >"$OUT" 2>"$ERR"; } 2>/dev/null
		RC=$?
		check_no_leftover
		expect_same_as_plain
		if expect_only_table "$ERR"; then
			v=${v%-nodebug} expect_row "$(src_key hostile sp_fine)" 3 3
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

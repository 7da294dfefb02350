#!/usr/bin/env bash
# Threads without a thread pointer (test/targets/notls/*.c): without
# user-mode rdfsbase the probes take the word at %fs:0 for a thread's key,
# and a thread whose fs base is 0 runs traced code only because iprofmem
# gives it a dummy thread pointer at set-up.  Two such programs:
# static_ifunc, static with glibc, whose IFUNC resolver (traced) runs
# before the TLS set-up; nolibc, -nostdlib -static, fs base 0 for the
# whole run.  First the premise, untraced (the resolver sees fs base 0;
# nolibc has no TLS segment and no libc).  Then, for each: the exact rows
# with -o FILE and on stderr, nothing else, the program's stdout and exit
# status as untraced; --stats: every call's entry and return seen, and
# with the default engine nearly all of them by probes (no fallback to
# int3 for these threads); both engines' tables byte for byte
# (engines_lib.sh), but for static_ifunc's main's Memory: its printf
# faults in the static libc's code with fault-around over the page
# cache, and its target says it is not exact (once, in a full run's ASan
# pass, 29 pages under int3 and 30 under the default engine; not seen
# again in 276 paired runs).  nolibc's main row is compared too.
# nolibc_fs is nolibc whose _start sets a thread pointer that does not
# point to itself (as Go's runtime does): the probes' key is then the
# word there, and an int3 site's event (sys3 has one) must get the same
# key, or sys3's call (4 pages made resident by mlock) has no row.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/engines_lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
TARGETS="static_ifunc nolibc nolibc_fs"
# The source a target's functions are in, where it is not the target's.
SRC_nolibc_fs=nolibc

# Mirrors the tables in the targets' sources: FUNC:PAGES:CALLS, exact.
ROWS_static_ifunc="pick_resolver:3:1 work_impl:7:1 grow:6:3 run:13:1"
ROWS_nolibc="touch:8:8 grow:8:2 run:8:1"
ROWS_nolibc_fs="$ROWS_nolibc sys3:4:1"
# Traced functions that grow nothing: no row.
NO_ROW_static_ifunc=
NO_ROW_nolibc="sys3 sys6 say"
NO_ROW_nolibc_fs="sys6 say"
# Traced calls in a run (each an entry and a return event): the rows'
# calls, main, and the calls that grow nothing.
CALLS_static_ifunc=7
CALLS_nolibc=15
CALLS_nolibc_fs=16

# notls_check T: the rows in ROWS (from parse_table) are T's: the exact
# ones, no row for what grows nothing, main once with Calls 1 and at
# least run's memory (inclusive; its size is not exact), nothing else.
notls_check() {
	local t=$1 e f pages calls var run_mb src
	var=SRC_$t
	src=notls/${!var:-$t}
	var=ROWS_$t
	for e in ${!var}; do
		f=${e%%:*} pages=${e#*:} calls=${pages#*:} pages=${pages%%:*}
		expect_row "$(src_key "$src" "$f")" "$pages" "$calls"
	done
	var=NO_ROW_$t
	for f in ${!var}; do expect_no_row "$(src_key "$src" "$f")"; done
	find_row "$(src_key "$src" run)"
	run_mb=$(row_mb "$ROW")
	find_row "$(src_key "$src" main)"
	if [ $ROW_COUNT -ne 1 ] || [ "$(row_calls "$ROW")" -ne 1 ]; then
		fail "want one row for main with Calls 1, got $ROW_COUNT: '$ROW'"
	elif ! awk -v a="$(row_mb "$ROW")" -v b="$run_mb" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
		fail "main ($(row_mb "$ROW")) below run ($run_mb): not inclusive"
	fi
	var=ROWS_$t
	expect_rows_only "$src" $(for e in ${!var}; do printf '%s ' "${e%%:*}"; done) main
	expect_sorted
}

# ------------------------------------------------------------- the premise

tc "notls: static_ifunc untraced: its resolver runs with fs base 0"
bin=$TGT/notls/static_ifunc
if need_file "$bin"; then
	run_plain "$bin" fsbase "$MARK"
	[ $PRC -eq 0 ] || fail "exit status $PRC"
	grep -qx 'fs base in the resolver: 0' "$POUT" ||
		fail "not the case this test is for: '$(tail -n1 "$POUT")'"
	readelf -lW "$bin" | grep -q ' INTERP ' && fail "not static: it has an INTERP"
fi
tc_end

tc "notls: nolibc: static, no TLS segment, no libc"
bin=$TGT/notls/nolibc
if need_file "$bin"; then
	readelf -lW "$bin" >"$WORK/phdrs"
	grep -qE '^ *(TLS|INTERP|DYNAMIC) ' "$WORK/phdrs" &&
		fail "has a TLS, INTERP or DYNAMIC segment"
	readelf -sW "$bin" | grep -qE ' (__libc_start_main|__libc_setup_tls)$' &&
		fail "has libc's start"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/phdrs"
fi
tc_end

# ------------------------------------------------------------ each target

for t in $TARGETS; do
	bin=$TGT/notls/$t

	tc "notls: $t -o FILE: exact rows, output and exit status as untraced"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip -o "$WORK/table.$t" -- "$bin" "$MARK"
		expect_same_as_plain
		[ -s "$ERR" ] && { fail "stderr not empty"; note_file "$ERR"; }
		if expect_only_table "$WORK/table.$t"; then
			notls_check "$t"
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/table.$t"
		fi
	fi
	tc_end

	tc "notls: $t: the table on stderr, the same rows"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip -- "$bin" "$MARK"
		expect_same_as_plain
		if expect_only_table "$ERR"; then
			notls_check "$t"
			if [ -s "$WORK/table.$t" ] &&
			   ! diff <(mask_inexact "$WORK/table.$t") <(mask_inexact "$ERR") >"$WORK/diff"; then
				fail "not the -o FILE table"
				note_file "$WORK/diff"
			fi
		fi
	fi
	tc_end

	tc "notls: $t --stats: every event seen; by probes, but with --engine=int3"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip --stats -o "$WORK/stats.$t" -- "$bin" "$MARK"
		expect_same_as_plain
		line=$(grep -m1 '^iprofmem: stats: events ' "$ERR")
		read -r events probe int3 < <(sed -n -E \
			's/^iprofmem: stats: events ([0-9]+) \(probe ([0-9]+), int3 ([0-9]+),.*/\1 \2 \3/p' <<<"$line")
		var=CALLS_$t
		if [ -z "${events:-}" ]; then
			fail "no well-formed events line"
		else
			[ "$events" -eq $((2 * ${!var})) ] ||
				fail "events $events, not $((2 * ${!var})) (${!var} calls)"
			[ $((probe + int3)) -eq "$events" ] || fail "probe $probe + int3 $int3 is not the events"
			if [ "$ENGINE" = int3 ]; then
				[ "$probe" -eq 0 ] || fail "the int3 engine took $probe events by probes"
			elif [ "$int3" -gt 2 ] && [ "$probe" -lt $((events - 2)) ]; then
				fail "only $probe of $events events by probes ($int3 by int3 stops)"
			fi
		fi
		if expect_only_table "$WORK/stats.$t"; then
			notls_check "$t"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
	events= probe= int3=

	ENGINES_MASK=
	[ "$t" = static_ifunc ] && ENGINES_MASK=main
	engines_case "engines: notls/$t" -- "$bin" "$MARK"
	ENGINES_MASK=
done

[ $N_FAILED -eq 0 ]

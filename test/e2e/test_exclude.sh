#!/usr/bin/env bash
# -x, --exclude=PATTERN and "!ENTRY" lines of funcs files (issue 16): the
# functions an exclusion matches are left out of the default set, or of what
# the other entries select, in any order; the other rows stay exact (an
# untraced callee's pages still count for its traced caller: block_loop
# keeps its 601 pages without touch_block).  An exclusion that leaves out
# nothing is a warning, an error with --strict; --list-funcs lists the
# result.  On the mem target, with and without DWARF.
. "$(dirname "$0")/lib.sh"

VARIANTS="O0-pie O2-pie O2-nopie-cet"

# listed BIN ARGS...: the function names --list-funcs prints, sorted.
listed() {
	local bin=$1
	shift
	run_ip --list-funcs "$@" -- "$bin"
	expect_exit 0
	tail -n +2 "$OUT" | sed 's/.*://' | sort
}

for v in $VARIANTS; do
	bin=$TGT/mem.$v
	opt=${v%%-*}

	tc "exclude.$v: -x touch_block: no row for it, the others exact"
	if need_file "$bin"; then
		run_ip -x touch_block -- "$bin" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_no_row "$(mem_key touch_block)"
			for g in recursion tail multiret release run; do
				mem_check_group "$g" "$opt"
			done
			expect_row "$(mem_key block_loop)" 601 1
			[ ${#TC_ERRS[@]} -ne 0 ] && note_file "$ERR"
		fi
	fi
	tc_end

	tc "exclude.$v: funcs file with !ENTRY lines, and -x, in any order"
	if need_file "$bin"; then
		printf '%s\n' '!scenario_tail   # not this one' 'scenario_*' \
			'recurse' '!recurse' 'touch_block' >"$WORK/funcs"
		run_ip -x scenario_release --funcs="$WORK/funcs" -- "$bin" "$MARK"
		expect_exit 0
		if expect_only_table "$ERR"; then
			expect_rows_only mem scenario_recursion scenario_multi_ret touch_block
			for f in scenario_recursion scenario_multi_ret touch_block; do
				pc=$(mem_expect "$f" "$opt")
				expect_row "$(mem_key "$f")" ${pc% *} ${pc#* }
			done
		fi
	fi
	tc_end

	tc "exclude.$v: --list-funcs lists the default set less the exclusions"
	if need_file "$bin"; then
		listed "$bin" >"$WORK/all"
		listed "$bin" -x 'touch_*' -x 'r*' >"$WORK/some"
		want=$(grep -v -e '^touch_' -e '^r' "$WORK/all")
		[ "$(cat "$WORK/some")" = "$want" ] ||
			fail "listed: $(tr '\n' ' ' <"$WORK/some")"
		grep -qx touch_block "$WORK/all" && grep -qx recurse "$WORK/all" ||
			fail "the default set lacks touch_block or recurse"
	fi
	tc_end
done

tc "exclude: without DWARF, -x applies to the symbol table"
bin=$TGT/mem.O2-pie-nodebug
if need_file "$bin"; then
	listed "$bin" >"$WORK/all"
	listed "$bin" -x touch_block -x 'release_*' >"$WORK/some"
	want=$(grep -v -e '^touch_block$' -e '^release_' "$WORK/all")
	[ "$(cat "$WORK/some")" = "$want" ] ||
		fail "listed: $(tr '\n' ' ' <"$WORK/some")"
	grep -qx touch_block "$WORK/all" || fail "the symbol table lacks touch_block"
fi
tc_end

tc "exclude: an exclusion that leaves out nothing is a warning"
bin=$TGT/mem.O2-pie
if need_file "$bin"; then
	printf '%s\n' 'touch_block' '!nothing_here' >"$WORK/funcs"
	run_ip -x no_such_function -x 'libc.so.6:malloc' --funcs="$WORK/funcs" -- "$bin" "$MARK"
	expect_exit 0
	expect_table "$ERR"
	printf '%s\n' "iprofmem: warning: -x 'no_such_function' matches no function" \
		"iprofmem: warning: -x 'libc.so.6:malloc' matches no function" \
		"iprofmem: warning: $WORK/funcs:2: '!nothing_here' matches no function" |
		sort >"$WORK/want"
	printf '%s\n' "${OTHER[@]}" | sort >"$WORK/got"
	cmp -s "$WORK/want" "$WORK/got" || { fail "warnings differ"; note_file "$WORK/got"; }
fi
tc_end

tc "exclude: --strict makes it an error (125), nothing run"
if need_file "$bin"; then
	run_ip --strict -x no_such_function -- "$bin" "$MARK"
	expect_exit 125
	grep -q "no_such_function" "$ERR" || { fail "no message naming the entry"; note_file "$ERR"; }
	parse_table "$ERR"
	[ "$TBL_FOUND" = 0 ] || fail "a table was printed"
fi
tc_end

tc "exclude: a malformed -x is a usage error (125)"
if need_file "$bin"; then
	run_ip -x 'a[' -- "$bin" "$MARK"
	expect_exit 125
	expect_one_error_line
	grep -qF "iprofmem: -x 'a[': an unbalanced '[' in the pattern" "$ERR" ||
		fail "message '$(head -n1 "$ERR")'"
fi
tc_end

[ $N_FAILED -eq 0 ]

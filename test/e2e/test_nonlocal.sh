#!/usr/bin/env bash
# Non-local exits out of traced frames: the frames left never returned, so
# no row; what did return (including what runs on the way out: an atexit
# handler, a destructor during C++ unwinding, a catch block's callees) has
# its exact row.
#  - siglongjmp out of a signal handler, longjmp out of a SA_NODEFER
#    handler (test/targets/sig.c jump; plain longjmp: test_jump.sh);
#  - exit() called from a traced callee, with an atexit handler: exit
#    status 5 as untraced; abort() from a traced callee: 134 as untraced;
#  - C++ exceptions (test/targets/cxx_exc.cc) thrown through traced frames
#    and caught several levels up, through a destructor and a rethrow;
#  - C++ keys: namespace and class qualified names (GUIDE, section 1).
# Stdout and exit status are those of the untraced run; no process is left.
. "$(dirname "$0")/lib.sh"

SIG_LOOSE="warm_handler warm_chld on ready setup main"
k() { src_key sig "$1"; }

# nl_run BIN ARGS...: untraced, then traced; 0 if there is a table.
nl_run() {
	need_file "$1" || return 1
	run_plain "$@" "$MARK"
	run_ip -- "$@" "$MARK"
	expect_same_as_plain
	expect_only_table "$ERR" || return 1
	expect_sorted
}

for v in $DEBUG_VARIANTS; do
	bin=$TGT/sig.$v

	tc "sig.$v jump: siglongjmp/longjmp out of handlers, exact rows"
	if nl_run "$bin" jump /dev/null; then
		expect_exit 0
		expect_row "$(k jump_outer)" 24 4
		expect_row "$(k after_jump)" 7 7
		expect_row "$(k jump2_outer)" 12 3
		for f in jump_mid jump_deep on_jump jump2_deep on_jump2; do
			expect_no_row "$(k "$f")"
		done
		expect_rows_only sig jump_outer after_jump jump2_outer $SIG_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "sig.$v exit: exit(5) from a traced callee, atexit handler's row"
	if nl_run "$bin" exit /dev/null; then
		expect_exit 5
		expect_row "$(k before_exit)" 4 2
		expect_row "$(k at_exit_work)" 2 1
		for f in finish quit main; do expect_no_row "$(k "$f")"; done
		expect_rows_only sig before_exit at_exit_work $SIG_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "sig.$v abort: abort() from a traced callee, exit 134"
	if nl_run "$bin" abort /dev/null; then
		expect_exit 134
		expect_row "$(k before_exit)" 4 2
		for f in abort_mid do_abort main; do expect_no_row "$(k "$f")"; done
		expect_rows_only sig before_exit $SIG_LOOSE
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# ------------------------------------------------------------ C++

CXX_SRC=$SRCDIR/cxx_exc.cc

# cxx_plain_rows: ROWS with every name unqualified (exc::Guard::~Guard ->
# ~Guard), so that the unwinding checks do not depend on the naming one.
cxx_plain_rows() {
	local r i
	for i in "${!ROWS[@]}"; do
		r=${ROWS[i]}
		if [[ $r =~ ^(.{21}.*:[0-9]+:)(.*::)?([^:]+)$ ]]; then
			ROWS[i]=${BASH_REMATCH[1]}${BASH_REMATCH[3]}
		fi
	done
}

# ck FUNC [DECL]: the unqualified key of FUNC, its line that of ^DECL(.
ck() { printf '%s:%s:%s' "$CXX_SRC" "$(decl_line "$CXX_SRC" "${2:-$1}")" "$1"; }

for v in $CXX_VARIANTS; do
	bin=$TGT/cxx_exc.$v
	tc "cxx_exc.$v: exceptions through traced frames, exact rows"
	if nl_run "$bin"; then
		expect_exit 0
		cxx_plain_rows
		expect_row "$(ck guard_work)" 3 3
		expect_row "$(ck '~Guard' 'Guard::~Guard')" 3 3
		expect_row "$(ck after_catch)" 3 3
		expect_row "$(ck catcher)" 24 3
		expect_row "$(ck local_catch)" 4 2
		expect_row "$(ck run)" 28 1
		for f in thrower mid2 rethrow_mid mid1; do expect_no_row "$(ck "$f")"; done
		for r in "${ROWS[@]}"; do
			key=$(row_key "$r")
			case ${key##*:} in
			guard_work | '~Guard' | after_catch | catcher | local_catch | run) ;;
			warm_throw | warm_catch | '~WarmGuard' | setup | main)
				[[ $key == "$CXX_SRC:"* ]] || fail "key not in cxx_exc.cc: '$key'" ;;
			*)	fail "unexpected row '$r'" ;;
			esac
		done
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "cxx_exc.O2-pie: keys are qualified names (exc::NAME, exc::Guard::~Guard)"
bin=$TGT/cxx_exc.O2-pie
if need_file "$bin"; then
	run_ip -- "$bin" "$MARK"
	expect_exit 0
	if expect_only_table "$ERR"; then
		for f in guard_work after_catch catcher local_catch run; do
			find_row "$CXX_SRC:$(decl_line "$CXX_SRC" "$f"):exc::$f"
			[ "$ROW_COUNT" = 1 ] || fail "no row keyed ...:exc::$f"
		done
		find_row "$CXX_SRC:$(decl_line "$CXX_SRC" 'Guard::~Guard'):exc::Guard::~Guard"
		[ "$ROW_COUNT" = 1 ] || fail "no row keyed ...:exc::Guard::~Guard"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
fi
tc_end

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# C++ names (sel_cxx.cc): the overloads ns::f(int) and ns::f(double), at two
# lines, are two rows keyed FILE:LINE:ns::f; the template ns::twice,
# instantiated for int and long, gives ns::twice<int> and ns::twice<long
# int>; the method Box::grow gives ns::Box::grow.  No mangled name (_Z...)
# anywhere.  -e 'ns::*' selects exactly these (and Box::size, which grows
# nothing), 'ns::f' both overloads, 'ns::Box::*' the methods, and a FILE
# qualifier combines with a C++ name.  The static inline helper is inlined
# at -O2: no out-of-line instance, so no row; at -O0 it has its own.
. "$(dirname "$0")/lib.sh"

SRC=$SRCDIR/sel_cxx.cc

# cxx_key SOURCE_LINE_START NAME: key of the function whose definition
# line starts with SOURCE_LINE_START (the return type is on the line
# before, the style of the targets).
cxx_key() {
	local l
	l=$(grep -n -m1 -F -- "$1" "$SRC" | cut -d: -f1)
	printf '%s:%s:%s' "$SRC" "${l:-0}" "$2"
}

# Expected rows: "START|NAME|PAGES|CALLS" (0 0: no row).
NS_ROWS="f(int n)|ns::f|3|2
f(double d)|ns::f|4|1
twice(T x)|ns::twice<int>|2|2
twice(T x)|ns::twice<long int>|3|3
Box::grow(long k)|ns::Box::grow|5|2
Box::size() const|ns::Box::size|0|0"
run_pc=23	# run: 2 own pages, the rest its callees'

# expect_rows_of LINES: the rows that LINES ("START|NAME|PAGES|CALLS")
# describe, exactly; adds their keys to KEYS.
KEYS=" "
expect_rows_of() {
	local start name pages calls k
	while IFS='|' read -r start name pages calls; do
		k=$(cxx_key "$start" "$name")
		KEYS="$KEYS$k "
		if [ "$pages" = 0 ]; then
			expect_no_row "$k"
		else
			expect_row "$k" "$pages" "$calls"
		fi
	done <<<"$1"
}

# expect_only_keys [INEXACT_KEY...]: every row's key is in KEYS or is one
# of the inexact ones (each once, Calls 1) or warm_image's (setup's
# callback, which may fault a page in); no key twice.
expect_only_keys() {
	local r k
	KEYS="$KEYS$(cxx_key 'warm_image(struct' warm_image) "
	for k in "$@"; do
		find_row "$k"
		[ $ROW_COUNT -eq 1 ] && [ "$(row_calls "$ROW")" -eq 1 ] ||
			fail "want one row for ${k##*:} with Calls 1, got $ROW_COUNT: '$ROW'"
		KEYS="$KEYS$k "
	done
	for r in "${ROWS[@]}"; do
		case $KEYS in *" $(row_key "$r") "*) ;; *) fail "unexpected row '$r'" ;; esac
	done
	k=$(printf '%s\n' "${ROWS[@]}" | cut -c22- | sort | uniq -d | head -n1)
	[ -z "$k" ] || fail "key in two rows: $k"
}

expect_unmangled() {
	if grep -q '_Z' "$1"; then
		fail "a mangled name: '$(grep -m1 '_Z' "$1")'"
		note_file "$1"
	fi
}

# cxx_run VARIANT ARGS...: iprofmem ARGS -- sel_cxx.VARIANT, and untraced.
cxx_run() {
	local bin=$TGT/sel_cxx.$1
	shift
	need_file "$bin" || return 1
	run_plain "$bin" "$MARK"
	[ "$PRC" -eq 0 ] || fail "sel_cxx exits $PRC untraced (its own check failed)"
	run_ip "$@" -- "$bin" "$MARK"
	expect_same_as_plain
	expect_only_table "$ERR"
}

tc "cxx: targets: helper is inlined at -O2 (no symbol) and out of line at -O0"
for v in $CXX_VARIANTS; do
	bin=$TGT/sel_cxx.$v
	need_file "$bin" || continue
	n=$(nm -C "$bin" | grep -c ' helper(long)$')
	case $v in
	O0*) [ "$n" -eq 1 ] || fail "sel_cxx.$v: no out-of-line helper(long)" ;;
	*)   [ "$n" -eq 0 ] || fail "sel_cxx.$v: helper(long) not inlined" ;;
	esac
	for f in 'ns::f(int)' 'ns::f(double)' 'int ns::twice<int>(int)' \
		'long ns::twice<long>(long)' 'ns::Box::grow(long)'; do
		nm -C "$bin" | grep -q -F " $f" || fail "sel_cxx.$v: no symbol $f"
	done
done
tc_end

for v in $CXX_VARIANTS; do
	tc "cxx: sel_cxx.$v default set: qualified names, overloads and instances apart, exact"
	if cxx_run "$v"; then
		KEYS=" "
		expect_rows_of "$NS_ROWS"
		expect_row "$(cxx_key 'run(void)' run)" $run_pc 1
		KEYS="$KEYS$(cxx_key 'run(void)' run) "
		case $v in
		O0*) expect_row "$(cxx_key 'helper(long n)' helper)" 4 2
		     KEYS="$KEYS$(cxx_key 'helper(long n)' helper) " ;;
		*)   find_row "$(cxx_key 'helper(long n)' helper)"
		     [ $ROW_COUNT -eq 0 ] || fail "a row for the inlined helper: '$ROW'" ;;
		esac
		expect_only_keys "$(cxx_key 'setup(void)' setup)" "$(cxx_key 'main(void)' main)"
		expect_unmangled "$ERR"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

for v in O0-pie O2-pie-cet; do
	tc "cxx: sel_cxx.$v -e 'ns::*': the namespace's functions only"
	if cxx_run "$v" -e 'ns::*'; then
		KEYS=" "
		expect_rows_of "$NS_ROWS"
		expect_only_keys
		expect_unmangled "$ERR"
	fi
	tc_end
done

tc "cxx: -e ns::f selects both overloads (two rows, two lines)"
if cxx_run O2-pie -e 'ns::f'; then
	KEYS=" "
	expect_rows_of "$(grep '|ns::f|' <<<"$NS_ROWS")"
	expect_only_keys
fi
tc_end

tc "cxx: -e 'ns::Box::*' and -e 'sel_cxx.cc:ns::twice<*': methods and instances"
if cxx_run O2-pie -e 'ns::Box::*' -e 'sel_cxx.cc:ns::twice<*'; then
	KEYS=" "
	expect_rows_of "$(grep -E '\|ns::(Box|twice)' <<<"$NS_ROWS")"
	expect_only_keys
fi
tc_end

tc "cxx: -e 'ns::twice<long int>' is one instance"
if cxx_run O0-pie-cet -e 'ns::twice<long?int>'; then
	KEYS=" "
	expect_rows_of "$(grep '|ns::twice<long int>|' <<<"$NS_ROWS")"
	expect_only_keys
fi
tc_end

tc "cxx: --list-funcs -e 'ns::*': the 6 functions, qualified, not mangled"
bin=$TGT/sel_cxx.O2-pie
if need_file "$bin"; then
	run_ip --list-funcs -e 'ns::*' -- "$bin" "$MARK"
	expect_exit 0
	# the key: what follows the entry, returns, probes and module columns
	tail -n +2 "$OUT" | cut -c39- | sed 's/^[^ ]*  //' | sort >"$WORK/listed"
	while IFS='|' read -r start name pages calls; do
		cxx_key "$start" "$name"
		echo
	done <<<"$NS_ROWS" | sort >"$WORK/want"
	diff "$WORK/want" "$WORK/listed" >"$WORK/diff" || { fail "listed keys differ"; note_file "$WORK/diff"; }
	expect_unmangled "$OUT"
fi
tc_end

# Without DWARF the names come from the symbol table, where C++ names are
# mangled; the keys still use the qualified names.
tc "cxx: sel_cxx.O2-pie without DWARF: no mangled name in the table"
bin=$TGT/sel_cxx.O2-pie
if need_file "$bin"; then
	objcopy --strip-debug "$bin" "$WORK/sel_cxx.nodebug"
	run_plain "$WORK/sel_cxx.nodebug" "$MARK"
	run_ip -- "$WORK/sel_cxx.nodebug" "$MARK"
	expect_same_as_plain
	if expect_table "$ERR"; then
		expect_unmangled "$ERR"
		# (with or without its parameter list)
		printf '%s\n' "${ROWS[@]}" | cut -c22- | grep -q -F "$WORK/sel_cxx.nodebug:0:ns::Box::grow" ||
			fail "no row keyed $WORK/sel_cxx.nodebug:0:ns::Box::grow..."
	fi
fi
tc_end

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Tail calls (issue 15), on test/targets/tailcall.c and tailcall_cxx.cc in
# every variant:
#  - a tail call into a traced function leaves the caller's frame open
#    until the callee returns: the caller's row includes the callee's
#    pages, so the exact rows are the same at -O0 (real calls) and -O2
#    (jumps): direct (jmp f), through a table (jmp *(%rax,%rdx,8)), an
#    entry that is jmp *mem, a chain a -> b -> c, mutual recursion, a C++
#    virtual call and a method's call in tail position;
#  - a switch's jump table (an indirect jmp inside the function) does not
#    end the frame;
#  - a tail call into an untraced function (-e leaves it out, or libc) ends
#    the caller's frame at the jump: there -O0 (a call) and -O2 differ;
#  - every function appears in --list-funcs, and -e selects the jmp *mem
#    entry;
#  - the traced program's stdout and exit status are those of the
#    untraced run.
# One case per scenario and variant, so the output says which shape works.
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------ expected rows
# Mirrors the table in test/targets/tailcall.c.

TC_SCENARIOS="direct dispatch first switch handoff chain mutual run"
TC_FUNCS_direct="direct_leaf grow scenario_direct"
TC_FUNCS_dispatch="op_one op_two dispatch scenario_dispatch"
TC_FUNCS_first="first_leaf first scenario_first"
TC_FUNCS_switch="pick scenario_switch"
TC_FUNCS_handoff="helper hand_off scenario_untraced"
TC_FUNCS_chain="chain_c chain_b chain_a scenario_chain"
TC_FUNCS_mutual="is_even is_odd scenario_mutual"
TC_FUNCS_run="run"
TC_LOOSE="setup main warm_image"	# rows not exact (start-up pages)

# tc_expect FUNC: "PAGES CALLS", every function traced, -O0 and -O2.
tc_expect() {
	case $1 in
	direct_leaf)		echo "12 4" ;;	# 3 pages x 4
	grow)			echo "16 4" ;;	# (1 + 3) x 4
	scenario_direct)	echo "16 1" ;;
	op_one)			echo "6 2" ;;	# 2 + 4
	op_two)			echo "16 2" ;;	# 6 + 10
	dispatch)		echo "22 4" ;;
	scenario_dispatch)	echo "22 1" ;;
	first_leaf)		echo "6 3" ;;	# 1 + 2 + 3
	first)			echo "6 3" ;;
	scenario_first)		echo "6 1" ;;
	pick)			echo "18 6" ;;	# 1+2+3+1+2+3 + 6 x 1 after
	scenario_switch)	echo "18 1" ;;
	helper)			echo "6 3" ;;	# 2 x 3
	hand_off)		echo "9 3" ;;	# (1 + 2) x 3
	scenario_untraced)	echo "9 1" ;;
	chain_c)		echo "6 2" ;;	# 3 x 2
	chain_b)		echo "10 2" ;;	# (2 + 3) x 2
	chain_a)		echo "12 2" ;;	# (1 + 2 + 3) x 2
	scenario_chain)		echo "12 1" ;;
	is_even)		echo "30 5" ;;	# 10 + 8 + 6 + 4 + 2
	is_odd)			echo "25 5" ;;	# 9 + 7 + 5 + 3 + 1
	scenario_mutual)	echo "10 1" ;;
	run)			echo "93 1" ;;
	*)			echo "? ?" ;;
	esac
}

# KEYS=dwarf: source:line:name; else the binary's path (no DWARF).
KEYS=dwarf
key() {
	if [ "$KEYS" = dwarf ]; then src_key tailcall "$1"; else printf '%s:0:%s' "$KEYS" "$1"; fi
}

# tc_rows_only FUNC...: every row is one of FUNCs or TC_LOOSE (those once,
# Calls 1), with the right key, no key twice.
tc_rows_only() {
	local r k f
	for r in "${ROWS[@]}"; do
		k=$(row_key "$r")
		case " $* $TC_LOOSE " in
		*" ${k##*:} "*) [ "$k" = "$(key "${k##*:}")" ] || fail "unexpected key '$k'" ;;
		*) fail "unexpected row '$r'" ;;
		esac
	done
	for f in $TC_LOOSE; do
		find_row "$(key "$f")"
		[ $ROW_COUNT -eq 0 ] || [ "$(row_calls "$ROW")" = 1 ] || fail "want at most one row for $f, Calls 1: '$ROW'"
	done
	k=$(printf '%s\n' "${ROWS[@]}" | cut -c22- | sort | uniq -d | head -n1)
	[ -z "$k" ] || fail "key in two rows: $k"
}

# tc_traced BIN ARGS...: the program untraced, then under iprofmem ARGS
# (options first, then "--", then BIN); 0 if there is one good table.
# IP_OPTS: options for iprofmem.
IP_OPTS=()
tc_traced() {
	local bin=$1
	shift
	need_file "$bin" || return 1
	run_plain "$bin" "$@" "$MARK"
	run_ip "${IP_OPTS[@]}" -- "$bin" "$@" "$MARK"
	expect_same_as_plain
	[ "$PRC" -eq 0 ] || fail "the untraced run exited $PRC"
	if [ "$KEYS" = dwarf ]; then
		expect_only_table "$ERR" || return 1
	else
		# no DWARF: the one warning that says so, then the table
		expect_table "$ERR" || return 1
		local l
		for l in "${OTHER[@]}"; do
			[[ $l == "iprofmem: warning: "*"has no DWARF debug info"* ]] ||
				fail "stderr has a line besides the table: '$l'"
		done
	fi
	expect_sorted
}

# tc_exact_rows FILE: the rows of FILE whose function is exact (not in
# TC_LOOSE), "MB CALLS NAME" with the key reduced to the name, sorted: what
# two builds of the same source must agree on.
tc_exact_rows() {
	parse_table "$1"
	printf '%s\n' "${ROWS[@]}" | awk -v loose=" $TC_LOOSE " '
		NF == 0 { next }
		{ k = substr($0, 22); n = k; sub(/.*:/, "", n) }
		index(loose, " " n " ") == 0 { print substr($0, 1, 19) "  " n }' | sort -k3
}

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/tailcall.$v
	opt=${v%%-*}
	KEYS=dwarf
	[[ $v == *nodebug ]] && KEYS=$bin

	# One run, one case per scenario.
	IP_OPTS=()
	ok=0
	tc "tailcall.$v: runs as untraced, one table"
	tc_traced "$bin" && ok=1
	if [ $ok = 1 ]; then
		all=""
		for s in $TC_SCENARIOS; do var=TC_FUNCS_$s; all="$all ${!var}"; done
		tc_rows_only $all
		cp "$ERR" "$WORK/table.$v"
	fi
	tc_end
	for s in $TC_SCENARIOS; do
		var=TC_FUNCS_$s
		tc "tailcall.$v $s: exact rows ($opt)"
		if [ $ok = 1 ]; then
			parse_table "$WORK/table.$v"
			for f in ${!var}; do
				pc=$(tc_expect "$f")
				expect_row "$(key "$f")" ${pc% *} ${pc#* }
			done
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/table.$v"
		else
			fail "no table"
		fi
		tc_end
	done

	# A tail call into a function the selection leaves out ends the frame.
	tc "tailcall.$v: -e hand_off, helper untraced: the jmp ends hand_off's frame"
	IP_OPTS=(-e hand_off)
	if tc_traced "$bin"; then
		if [ "$opt" = O2 ]; then
			expect_row "$(key hand_off)" 3 3	# its own page only
		else
			expect_row "$(key hand_off)" 9 3	# a real call to helper
		fi
		[ ${#ROWS[@]} -eq 1 ] || fail "${#ROWS[@]} rows, want only hand_off's"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	# The same with a funcs file that also selects the caller's caller:
	# its call to hand_off is a real call, so its row is whole.
	tc "tailcall.$v: --funcs {hand_off, scenario_untraced}: the jmp ends hand_off's frame only"
	printf '# helper left out\nhand_off\nscenario_untraced\n' >"$WORK/funcs"
	IP_OPTS=(--funcs="$WORK/funcs")
	if tc_traced "$bin"; then
		if [ "$opt" = O2 ]; then
			expect_row "$(key hand_off)" 3 3
		else
			expect_row "$(key hand_off)" 9 3
		fi
		expect_row "$(key scenario_untraced)" 9 1
		[ ${#ROWS[@]} -eq 2 ] || fail "${#ROWS[@]} rows, want 2"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	# Into libc: the same.
	tc "tailcall.$v libc: jmp memset ends to_libc's frame"
	IP_OPTS=()
	if tc_traced "$bin" libc; then
		if [ "$opt" = O2 ]; then
			expect_row "$(key to_libc)" 3 3
		else
			expect_row "$(key to_libc)" 9 3	# (1 + 2 by memset) x 3
		fi
		expect_row "$(key scenario_libc)" 9 1
		tc_rows_only to_libc scenario_libc
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	# The jmp *mem entry can be selected by name, alone (its callee
	# untraced: at -O2 its frame ends at the jump, so no row) and with its
	# callee (the row of the scenario).
	tc "tailcall.$v: -e first selects the jmp *mem entry"
	IP_OPTS=(-e first)
	if tc_traced "$bin"; then
		if [ "$opt" = O2 ]; then
			[ $TBL_EMPTY = 1 ] || fail "want no row (first_leaf untraced), got ${#ROWS[@]}"
		else
			expect_row "$(key first)" 6 3
			[ ${#ROWS[@]} -eq 1 ] || fail "${#ROWS[@]} rows, want only first's"
		fi
	else
		note_file "$ERR"
	fi
	tc_end
	tc "tailcall.$v: -e first -e first_leaf: exact rows"
	IP_OPTS=(-e first -e first_leaf)
	if tc_traced "$bin"; then
		expect_row "$(key first)" 6 3
		expect_row "$(key first_leaf)" 6 3
		[ ${#ROWS[@]} -eq 2 ] || fail "${#ROWS[@]} rows, want 2"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	else
		note_file "$ERR"
	fi
	tc_end

	# Nothing selected is dropped silently.
	tc "tailcall.$v: --list-funcs lists every function"
	run_ip --list-funcs -- "$bin" "$MARK"
	expect_exit 0
	for s in $TC_SCENARIOS; do
		var=TC_FUNCS_$s
		for f in ${!var} to_libc scenario_libc; do
			grep -q -E "(^|[ :])$f([ (]|\$)" "$OUT" "$ERR" || fail "$f not listed"
		done
	done
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$OUT"
	tc_end
done

# -O0 and -O2 of the same source: the same exact rows.
for p in pie nopie pie-cet nopie-cet pie-nodebug; do
	tc "tailcall: O0-$p and O2-$p tables agree on every exact row"
	if [ -e "$WORK/table.O0-$p" ] && [ -e "$WORK/table.O2-$p" ]; then
		tc_exact_rows "$WORK/table.O0-$p" >"$WORK/rows.O0"
		tc_exact_rows "$WORK/table.O2-$p" >"$WORK/rows.O2"
		[ -s "$WORK/rows.O0" ] || fail "no exact row at -O0"
		if ! cmp -s "$WORK/rows.O0" "$WORK/rows.O2"; then
			fail "the tables differ"
			note "$(diff "$WORK/rows.O0" "$WORK/rows.O2" | grep '^[<>]' | sed 's/^</O0:/; s/^>/O2:/')"
		fi
	else
		fail "a table is missing (see tailcall.O0-$p, tailcall.O2-$p)"
	fi
	tc_end
done

# ------------------------------------------------------------ C++

CXX_SRC=$SRCDIR/tailcall_cxx.cc
# cxk NAME [DECL]: key of tcx::NAME, its line that of ^DECL( (default NAME).
cxk() { printf '%s:%s:tcx::%s' "$CXX_SRC" "$(decl_line "$CXX_SRC" "${2:-$1}")" "$1"; }
CXX_EXACT="touch_pages Square::grow Circle::grow grow_any chain_first run"

cxx_expect() {
	case $1 in
	touch_pages)	echo "19 5" ;;	# 3 x 3 + 2 x 5
	Square::grow)	echo "19 5" ;;	# all touch_pages' (jmp touch_pages)
	Circle::grow)	echo "12 3" ;;	# 2 x 2 x 3
	grow_any)	echo "31 8" ;;	# 3 x (3 + 4) + 2 x 5 (jmp *vtable)
	chain_first)	echo "12 2" ;;	# (1 + 5) x 2
	run)		echo "33 1" ;;	# 21 + 12
	esac
}

for v in $CXX_VARIANTS; do
	bin=$TGT/tailcall_cxx.$v
	tc "tailcall_cxx.$v: virtual and method tail calls, exact rows (${v%%-*})"
	IP_OPTS=()
	if tc_traced "$bin"; then
		for f in $CXX_EXACT; do
			pc=$(cxx_expect "$f")
			expect_row "$(cxk "$f")" ${pc% *} ${pc#* }
		done
		for r in "${ROWS[@]}"; do
			k=$(row_key "$r")
			case $k in
			"$CXX_SRC":*:tcx::*)
				case " $CXX_EXACT " in *" ${k#*:*:tcx::} "*) ;; *) fail "unexpected row '$r'" ;; esac ;;
			"$CXX_SRC":*:setup | "$CXX_SRC":*:main | "$CXX_SRC":*:warm_image) ;;
			*) fail "unexpected row '$r'" ;;
			esac
		done
		cp "$ERR" "$WORK/cxx.$v"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

for p in pie pie-cet; do
	tc "tailcall_cxx: O0-$p and O2-$p tables agree on every exact row"
	if [ -e "$WORK/cxx.O0-$p" ] && [ -e "$WORK/cxx.O2-$p" ]; then
		for o in O0 O2; do
			parse_table "$WORK/cxx.$o-$p"
			printf '%s\n' "${ROWS[@]}" | grep ':tcx::' | sort >"$WORK/rows.$o"
		done
		[ -s "$WORK/rows.O0" ] || fail "no exact row at -O0"
		if ! cmp -s "$WORK/rows.O0" "$WORK/rows.O2"; then
			fail "the tables differ"
			note "$(diff "$WORK/rows.O0" "$WORK/rows.O2" | grep '^[<>]' | sed 's/^</O0:/; s/^>/O2:/')"
		fi
	else
		fail "a table is missing"
	fi
	tc_end
done

# At -O2 the tail calls through a pointer (dispatch's table, first's jmp
# *mem) are indirect jmps leaving their function: the default engine's
# stub probes them (the target in a record before the return's), with no
# int3 stop: one event per entry and return.  The int3 engine's stops
# (its statm reads) are not its events: 6 more at pick's switch jump,
# which stays in the function, and (without an endbr64 first) 3 fewer at
# first's entry, a jmp *mem that is both its entry and its return (two
# events at one stop).
for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	case $v in O2-*) ;; *) continue ;; esac
	bin=$TGT/tailcall.$v
	tc "tailcall.$v: indirect tail calls, events by probes (--stats)"
	if need_file "$bin"; then
		run_ip --stats -- "$bin" "$MARK"
		expect_exit 0
		events=$(sed -n -E 's/^iprofmem: stats: events ([0-9]+) .*/\1/p' "$ERR")
		int3=$(sed -n -E 's/^iprofmem: stats: events [0-9]+ \(probe [0-9]+, int3 ([0-9]+).*/\1/p' "$ERR")
		case $v in *nodebug) want=125 ;; *) want=124 ;; esac
		if [ "${IPROFMEM_ENGINE:-auto}" = int3 ]; then
			[ "$int3" = "$want" ] || fail "$int3 events by int3 stops, not $want"
			stops=$(sed -n -E 's/^iprofmem: stats: statm reads .*int3 stops ([0-9]+)\).*/\1/p' "$ERR")
			case $v in *-cet*) dual=0 ;; *) dual=3 ;; esac
			[ "$stops" = $((want + 6 - dual)) ] ||
				fail "statm read at '$stops' int3 stops, not $((want + 6 - dual))"
		elif [ "$int3" != 0 ]; then
			fail "$int3 events by int3 stops"
		fi
		[ "$events" = "$want" ] || fail "events '$events', not $want"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

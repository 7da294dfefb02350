#!/usr/bin/env bash
# The targets are what the other tests assume, checked without iprofmem (run
# once, not per iprofmem build):
#  - mem's own untraced self-check: RSS grows by exactly the designed pages
#    around every measured function (so a wrong table is iprofmem's fault);
#  - the code shapes each variant must have (objdump): a real jmp tail call
#    and several rets and a cold part with its own ret at -O2, entries that
#    are neither endbr64 nor push at -O2 without CET, endbr64 entries with
#    CET, real recursion, no tail call into libc, PIE or not, DWARF or not;
#  - the declaration lines the tests compute are those in the DWARF.
. "$(dirname "$0")/lib.sh"

# Tests read function lines from the sources: the binaries must be theirs.
tc "targets: built from the current sources (else: make e2e-targets)"
for src in "$SRCDIR"/*.c "$SRCDIR"/*.cc; do
	[ -e "$src" ] || continue
	t=${src##*/}; t=${t%.*}
	[ "$t" = failmalloc ] && continue	# a shared object (test_oom.sh)
	variants="$DEBUG_VARIANTS $NODEBUG_VARIANTS"
	[[ $src == *.cc ]] && variants=$CXX_VARIANTS
	for v in $variants; do
		if [ ! -e "$TGT/$t.$v" ]; then
			fail "missing $t.$v"
		elif [ "$src" -nt "$TGT/$t.$v" ]; then
			fail "$t.$v older than $t.c"
			break
		fi
	done
done
tc_end

MEASURED="touch_block no_touch block_loop recurse scenario_recursion tail_target
tail_caller scenario_tail rare_path classify scenario_multi_ret release_some
release_all scenario_release run setup"

# disasm BIN: objdump -d, one file per binary.
disasm() {
	local f=$WORK/dis.${1##*/}
	[ -s "$f" ] || objdump -d --no-show-raw-insn "$1" >"$f"
	DIS=$f
}

# fn_insns FUNC: the instructions of FUNC in $DIS, one per line, without
# addresses ("mov    0x2899(%rip),%rcx ...").
fn_insns() {
	awk -v f="<$1>:" '
		$2 == f { p = 1; next }
		p && /^$/ { exit }
		p { sub(/^ *[0-9a-f]+:\t/, ""); print }' "$DIS"
}

first_insn() { fn_insns "$1" | head -n1 | awk '{ print $1 }'; }
second_insn() { fn_insns "$1" | sed -n 2p | awk '{ print $1 }'; }

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/mem.$v
	opt=${v%%-*}

	tc "targets: mem.$v selfcheck (untraced RSS deltas as designed)"
	if need_file "$bin"; then
		timeout 30 "$bin" selfcheck >"$WORK/self" 2>&1
		rc=$?
		if [ $rc -ne 0 ] || ! grep -qx 'selfcheck passed' "$WORK/self"; then
			fail "exit $rc; $(grep -m1 MISMATCH "$WORK/self")"
			note_file "$WORK/self"
		fi
	fi
	tc_end

	tc "targets: mem.$v code shape"
	if need_file "$bin"; then
		disasm "$bin"
		case $v in
		*-nopie*) readelf -h "$bin" | grep -q 'Type: *EXEC' || fail "not a non-PIE executable" ;;
		*)        readelf -h "$bin" | grep -q 'Type: *DYN' || fail "not PIE" ;;
		esac
		if [[ $v == *nodebug ]]; then
			readelf -S -W "$bin" | grep -q ' \.debug' && fail "has .debug sections"
			readelf -s -W "$bin" | grep -q ' FUNC .* touch_block$' || fail "no symbol touch_block"
		else
			readelf -S -W "$bin" | grep -q ' \.debug_info' || fail "no .debug_info"
		fi
		for f in $MEASURED; do
			i=$(first_insn "$f")
			[ -n "$i" ] || { fail "no function $f"; continue; }
			case $v in
			*-cet*) [ "$i" = endbr64 ] || fail "$f starts with $i, not endbr64" ;;
			*)      [ "$i" != endbr64 ] || fail "$f starts with endbr64 without CET" ;;
			esac
		done
		fn_insns recurse | grep -q 'call .*<recurse>' || fail "recurse does not call itself"
		for f in release_some release_all; do
			fn_insns "$f" | grep -q 'jmp .*<madvise' && fail "$f tail-calls madvise"
		done
		fn_insns run | grep -q 'jmp .*<scenario' && fail "run tail-calls a scenario"
		if [ "$opt" = O2 ]; then
			fn_insns tail_caller | grep -q 'jmp .*<tail_target>' ||
				fail "tail_caller has no jmp tail_target"
			fn_insns tail_caller | grep -q 'call' && fail "tail_caller calls"
			n=$(fn_insns classify | grep -c -E '^(rep |bnd )?ret')
			[ "$n" -ge 2 ] || fail "classify has $n ret, want >= 2"
			fn_insns classify.cold | grep -q -E '^(rep |bnd )?ret' ||
				fail "no classify.cold with a ret"
			fn_insns classify | grep -q -E 'j[a-z]+ .*<classify\.cold>' ||
				fail "classify does not jump to classify.cold"
			if [[ $v != *-cet* ]]; then
				# Entries the tracer must run out of line: rip-relative mov, test.
				fn_insns touch_block | head -n1 | grep -q '^mov .*(%rip)' ||
					fail "touch_block starts with $(first_insn touch_block), not a rip-relative mov"
				[ "$(first_insn classify)" = test ] ||
					fail "classify starts with $(first_insn classify), not test"
				[ "$(first_insn recurse)" = mov ] ||
					fail "recurse starts with $(first_insn recurse), not mov"
				[ "$(first_insn run)" = sub ] ||
					fail "run starts with $(first_insn run), not sub"
			else
				s=$(second_insn touch_block)
				[ "$s" = mov ] || fail "touch_block: endbr64 then $s, not mov"
			fi
		else
			fn_insns tail_caller | grep -q 'call .*<tail_target>' ||
				fail "tail_caller does not call tail_target at -O0"
			for f in $MEASURED; do
				i=$(fn_insns "$f" | grep -v endbr64 | head -n1)
				[[ $i == "push   %rbp" ]] || fail "$f: entry '$i' at -O0"
			done
		fi
	fi
	tc_end
done

# The tests find a function's line with `grep ^NAME(`; it must be the DWARF's.
tc "targets: decl lines computed by the tests match DW_AT_decl_line"
bin=$TGT/mem.O0-pie
if need_file "$bin"; then
	readelf --debug-dump=info "$bin" 2>/dev/null | awk '
		/DW_TAG_/ { sub_ = ($0 ~ /DW_TAG_subprogram/); name = ""; line = "" }
		sub_ && /DW_AT_name/ { name = $NF }
		sub_ && /DW_AT_decl_line/ { line = $NF; if (name != "") print name, line + 0 }
	' >"$WORK/decl"
	[ -s "$WORK/decl" ] || fail "no subprogram in the DWARF"
	n=0
	while read -r name line; do
		want=$(decl_line "$SRCDIR/mem.c" "$name")
		[ "$want" = 0 ] && continue	# static inline helpers, not in a row
		n=$((n + 1))
		[ "$want" = "$line" ] || fail "$name: DWARF line $line, grep line $want"
	done <"$WORK/decl"
	[ $n -ge 15 ] || fail "only $n functions compared"
	comp=$(readelf --debug-dump=info "$bin" | grep -m1 DW_AT_comp_dir | awk '{ print $NF }')
	[ "$comp" = "$TOP" ] || note "DW_AT_comp_dir $comp, tests expect $TOP"
fi
tc_end

# The same for the targets of the threads, children and signals tests.
for t in thr kids sig spin_threads cxx_exc tailcall tailcall_cxx; do
	tc "targets: $t decl lines computed by the tests match DW_AT_decl_line"
	src=$SRCDIR/$t.c
	[ -e "$src" ] || src=$SRCDIR/$t.cc
	bin=$TGT/$t.O0-pie
	if need_file "$bin"; then
		readelf --debug-dump=info "$bin" 2>/dev/null | awk '
			/DW_TAG_/ { sub_ = ($0 ~ /DW_TAG_subprogram/); name = ""; line = ""; file = "" }
			sub_ && /DW_AT_name/ { name = $NF }
			sub_ && /DW_AT_decl_file/ { file = $NF }
			sub_ && /DW_AT_decl_line/ { line = $NF; if (name != "" && file == 1) print name, line + 0 }
		' >"$WORK/decl"
		n=0
		while read -r name line; do
			want=$(decl_line "$src" "$name")
			[ "$want" = 0 ] && continue	# not in the tests' style
			n=$((n + 1))
			[ "$want" = "$line" ] || fail "$name: DWARF line $line, grep line $want"
		done <"$WORK/decl"
		[ $n -ge 3 ] || fail "only $n functions compared"
	fi
	tc_end
done

tc "targets: cxx_exc code shape (real calls between the throw and the catch)"
for v in $CXX_VARIANTS; do
	bin=$TGT/cxx_exc.$v
	need_file "$bin" || continue
	disasm "$bin"
	# mangled names: exc::catcher(long) is _ZN3exc7catcherEl
	for pair in "7catcher 4mid1" "4mid1 11rethrow_mid" "11rethrow_mid 4mid2" "4mid2 7thrower"; do
		f=_ZN3exc${pair% *}El callee=_ZN3exc${pair#* }El
		fn_insns "$f" | grep -q "call .*<$callee>" || fail "$v: $f does not call $callee"
	done
	# at -O2 the throw is in thrower's cold part
	{ fn_insns _ZN3exc7throwerEl; fn_insns _ZN3exc7throwerEl.cold; } |
		grep -q 'call .*<__cxa_throw' || fail "$v: exc::thrower does not call __cxa_throw"
done
tc_end

for v in $DEBUG_VARIANTS; do
	tc "targets: jump.$v code shape (real calls around the longjmp)"
	bin=$TGT/jump.$v
	if need_file "$bin"; then
		disasm "$bin"
		fn_insns deep_mid | grep -q 'call .*<deep_jump>' || fail "deep_mid does not call deep_jump"
		fn_insns catcher | grep -q 'call .*<deep_mid>' || fail "catcher does not call deep_mid"
		fn_insns catcher | grep -q 'call .*<same_depth>' || fail "catcher does not call same_depth"
		fn_insns catcher | grep -q 'call .*<_*setjmp' || fail "catcher does not call setjmp"
	fi
	tc_end
done

# tailcall (test_tailcall.sh): at -O2 each caller reaches its callee by the
# jump it is named for, at -O0 by a call; a compiler that stops making one
# of these jumps would turn a tail-call test into a plain-call one.
# "FUNC REGEX": a jmp FUNC must have at -O2 (and then no call).
TC_O2_JUMPS=(
	"grow jmp .*<direct_leaf>"
	"dispatch jmp +\\*(0x[0-9a-f]+)?\\(%?[a-z0-9]*,%r[a-z0-9]+,8\\)"
	"first jmp +\\*0x[0-9a-f]+\\(%rip\\) .*<first_ops>"
	"hand_off jmp .*<helper>"
	"chain_a jmp .*<chain_b>"
	"chain_b jmp .*<chain_c>"
	"is_even jmp .*<is_odd>"
	"is_odd jmp .*<is_even>"
	"to_libc jmp .*<memset"
)
# "FUNC REGEX": the call FUNC must have at -O0 instead.
TC_O0_CALLS=(
	"grow call .*<direct_leaf>"
	"dispatch call +\\*%r"
	"first call +\\*%r"
	"hand_off call .*<helper>"
	"chain_a call .*<chain_b>"
	"chain_b call .*<chain_c>"
	"is_even call .*<is_odd>"
	"is_odd call .*<is_even>"
	"to_libc call .*<memset"
)
# tailcall_selfcheck BIN: its own untraced measure of each call's RSS
# delta, as designed (so a wrong row is iprofmem's fault).
tailcall_selfcheck() {
	timeout 30 "$1" selfcheck >"$WORK/self" 2>&1
	local rc=$?
	if [ $rc -ne 0 ] || ! grep -qx 'selfcheck passed' "$WORK/self"; then
		fail "${1##*/} selfcheck: exit $rc; $(grep -m1 MISMATCH "$WORK/self")"
		note_file "$WORK/self"
	fi
}

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	tc "targets: tailcall.$v selfcheck (untraced RSS deltas as designed)"
	need_file "$TGT/tailcall.$v" && tailcall_selfcheck "$TGT/tailcall.$v"
	tc_end
	tc "targets: tailcall.$v code shape (the tail jumps the tests are about)"
	bin=$TGT/tailcall.$v
	if need_file "$bin"; then
		disasm "$bin"
		if [ "${v%%-*}" = O2 ]; then
			for e in "${TC_O2_JUMPS[@]}"; do
				f=${e%% *}
				fn_insns "$f" | grep -q -E "^${e#* }" || fail "$f has no '${e#* }'"
				fn_insns "$f" | grep -q '^call' && fail "$f calls"
			done
			# jmp *mem as the entry (after endbr64 with CET)
			i=$(fn_insns first | grep -v '^endbr64' | head -n1)
			[[ $i == "jmp "*"(%rip)"* ]] || fail "first's entry is '$i', not jmp *mem"
			# the switch: a jump table, jumping inside pick
			fn_insns pick | grep -q -E '^(notrack )?jmp +\*' || fail "pick has no jump table (jmp *)"
			fn_insns dispatch | grep -q -E '^(rep |bnd )?ret' && fail "dispatch has a ret"
		else
			for e in "${TC_O0_CALLS[@]}"; do
				f=${e%% *}
				fn_insns "$f" | grep -q -E "^${e#* }" || fail "$f has no '${e#* }' at -O0"
				fn_insns "$f" | grep -E '^jmp ' | grep -q -v "<$f+" && fail "$f jumps out at -O0"
			done
		fi
	fi
	tc_end
done

tc "targets: tailcall_cxx selfcheck and code shape (virtual and method tail calls)"
for v in $CXX_VARIANTS; do
	bin=$TGT/tailcall_cxx.$v
	need_file "$bin" || continue
	tailcall_selfcheck "$bin"
	disasm "$bin"
	sq=_ZN3tcx6Square4growEl any=_ZN3tcx8grow_anyEPNS_5ShapeEl
	cf=_ZN3tcx11chain_firstEPNS_5ShapeEl tp=_ZN3tcx11touch_pagesEl
	if [ "${v%%-*}" = O2 ]; then
		fn_insns $sq | grep -q "^jmp .*<$tp>" || fail "$v: Square::grow has no jmp touch_pages"
		fn_insns $any | grep -q -E '^jmp +\*\(%r[a-z0-9]+\)' || fail "$v: grow_any has no jmp *(%reg)"
		fn_insns $cf | grep -q "^jmp .*<$any>" || fail "$v: chain_first has no jmp grow_any"
		for f in $sq $any $cf; do
			fn_insns $f | grep -q '^call' && fail "$v: $f calls"
		done
	else
		fn_insns $sq | grep -q "^call .*<$tp>" || fail "$v: Square::grow does not call touch_pages"
		fn_insns $any | grep -q -E '^call +\*%r' || fail "$v: grow_any has no call *%reg"
		fn_insns $cf | grep -q "^call .*<$any>" || fail "$v: chain_first does not call grow_any"
	fi
done
tc_end

[ $N_FAILED -eq 0 ]

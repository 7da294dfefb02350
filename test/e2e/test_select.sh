#!/usr/bin/env bash
# Choosing what to trace in the executable (sel_prog, two source files):
# --funcs files with exact names, globs, FILE.c: qualifiers, comments and
# blank lines; several --funcs files plus -e; the rows of the selected
# functions are exact (inclusive: a selected caller counts the pages of its
# callees, selected or not) and no other function has a row; the program's
# stdout and exit status are those of the untraced run.  An entry that
# matches nothing is a warning naming its file and line, and the run goes
# on; --strict with every entry matching changes nothing.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/select_lib.sh"

F=$WORK/funcs

# --- the targets are what these tests assume (test/targets/sel/*)

tc "select: targets: sel_prog, its library and plugin built from the current sources"
for fs in "$SEL_LIB:shared.c sel.h" "$SEL_PLUGIN:plugin.c sel.h" \
	$(for b in $SEL_VARIANTS; do echo "$TGT/sel_prog.$b:prog.c:part.c:sel.h"; done); do
	f=${fs%%:*} srcs=${fs#*:}
	need_file "$f" || continue
	for src in ${srcs//:/ }; do
		[ "$SEL_SRC/$src" -nt "$f" ] && fail "${f##*/} older than $src"
	done
done
tc_end

tc "select: targets: the decl lines the tests compute are DW_AT_decl_line"
n=0
for b in "$TGT/sel_prog.O0-pie" "$SEL_LIB" "$SEL_PLUGIN"; do
	need_file "$b" || continue
	while read -r cu name line; do
		want=$(decl_line "$TOP/$cu" "$name")
		[ "$want" = 0 ] && continue
		n=$((n + 1))
		[ "$want" = "$line" ] || fail "$cu: $name: DWARF line $line, grep line $want"
	done < <(readelf --debug-dump=info "$b" 2>/dev/null | awk '
		/DW_TAG_compile_unit/ { cu_hdr = 1; sub_ = 0; next }
		/DW_TAG_/ { cu_hdr = 0; sub_ = ($0 ~ /DW_TAG_subprogram/); name = ""; file = "" }
		cu_hdr && /DW_AT_name/ { cu = $NF }
		sub_ && /DW_AT_name/ { name = $NF }
		sub_ && /DW_AT_decl_file/ { file = $NF }
		sub_ && /DW_AT_decl_line/ { if (name != "" && file == 1) print cu, name, $NF + 0 }')
done
[ $n -ge 25 ] || fail "only $n functions compared"
tc_end

tc "select: targets: sel_prog's calls are real calls (no inlining, no tail call)"
for b in $SEL_VARIANTS; do
	f=$TGT/sel_prog.$b
	need_file "$f" || continue
	objdump -d --no-show-raw-insn "$f" >"$WORK/dis"
	for pair in run_grow:grow_small run_grow:grow_big run_part:part_alloc run_part:part_nested \
		run_twins:twin run_twins:part_twin run_lib:lib_fill@plt run_lib:lib_outer@plt; do
		awk -v f="<${pair%%:*}>:" '$2 == f { p = 1; next } p && /^$/ { exit } p' "$WORK/dis" |
			grep -q "call .*<${pair#*:}>" || fail "sel_prog.$b: ${pair%%:*} does not call ${pair#*:}"
	done
done
tc_end

# --- exact names, comments, blank lines: every variant

cat >"$F.names" <<'EOF'
# functions of sel_prog, by exact name

grow_small
	run_grow	# grow_big, which it calls, is not selected
   # an indented comment, then a blank line with spaces
   
part_nested  
EOF
for v in $SEL_VARIANTS; do
	tc "select: sel_prog.$v --funcs: exact names, comments, blank lines"
	if sel_run "$v" all --funcs="$F.names"; then
		expect_other
		sel_check_rows all "prog.c:grow_small prog.c:run_grow part.c:part_nested"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# --- globs: *, ?, [...]; a glob whose functions grow nothing

tc "select: sel_prog.O2-pie-cet -e globs (grow_*, run_[gp]*, *_nest?d, keep_*)"
if sel_run O2-pie-cet all -e 'grow_*' -e 'run_[gp]*' -e '*_nest?d' -e 'keep_*'; then
	expect_other
	sel_check_rows all "prog.c:grow_small prog.c:grow_big prog.c:run_grow prog.c:run_part
		prog.c:run_plugin part.c:part_nested prog.c:keep_flat"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

tc "select: sel_prog.O0-pie --funcs globs over every function (*) is the default set"
printf '*\n' >"$F.star"
if sel_run O0-pie all --funcs="$F.star"; then
	expect_other
	sel_check_rows all "$SEL_EXE_IDS" "$SEL_INEXACT" "$SEL_MAYBE"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# --- FILE.c: qualifiers: part.c's functions, and the two static twin()s

printf '# only what part.c declares\npart.c:*\n' >"$F.part"
for v in O0-pie O2-nopie; do
	tc "select: sel_prog.$v --funcs part.c:* selects part.c's functions only"
	if sel_run "$v" all --funcs="$F.part"; then
		expect_other
		sel_check_rows all "$SEL_PART_IDS"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "select: -e prog.c:twin and -e part.c:twin pick one of two static twin()s"
if sel_run O2-pie-cet all -e 'prog.c:twin'; then
	expect_other
	sel_check_rows all "prog.c:twin"
fi
if sel_run O2-pie-cet all -e 'part.c:twin'; then
	expect_other
	sel_check_rows all "part.c:twin"
fi
tc_end

tc "select: -e twin selects both static twin()s, two rows"
if sel_run O2-pie-cet all -e twin; then
	expect_other
	sel_check_rows all "prog.c:twin part.c:twin"
fi
tc_end

tc "select: FILE qualifiers with a glob and with a directory (p*.c:twin, sel/part.c:part_*)"
if sel_run O0-pie all -e 'p*.c:twin' -e 'sel/part.c:part_*'; then
	expect_other
	sel_check_rows all "prog.c:twin part.c:twin part.c:part_alloc part.c:part_nested
		part.c:part_idle part.c:part_twin"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# --- several --funcs files plus -e; an entry given twice counts once

printf 'grow_small\n' >"$F.a"
printf 'part.c:part_alloc   # a qualified one\n\nlibsel*:lib_fill\ngrow_small\n' >"$F.b"
for v in O0-pie O2-pie-cet; do
	tc "select: sel_prog.$v two --funcs files plus -e add up; a function listed twice has one row"
	if sel_run "$v" all --funcs="$F.a" -e run_lib --funcs="$F.b" -e grow_small; then
		expect_other
		sel_check_rows all "prog.c:grow_small part.c:part_alloc shared.c:lib_fill prog.c:run_lib"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# --- inclusive deltas: selected callers, unselected callees

for id in prog.c:run_part prog.c:run_lib prog.c:run_twins prog.c:run_plugin; do
	tc "select: -e ${id#*:} alone: its exact row includes its untraced callees' pages"
	if sel_run O2-nopie all -e "${id#*:}"; then
		expect_other
		sel_check_rows all "$id"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "select: unqualified entries are the executable's only (lib_* matches nothing)"
if sel_run O0-pie all -e grow_big -e 'lib_*'; then
	expect_other "iprofmem: warning: -e 'lib_*' matches no function"
	sel_check_rows all "prog.c:grow_big"
fi
tc_end

# --- entries that match nothing: warnings, the run goes on

printf '# one good, one bad\ngrow_small\n\nno_such_function_xyz   # line 4\nrun_grow\n' >"$F.warn"
for v in O0-pie O2-pie-cet; do
	tc "select: sel_prog.$v a funcs file entry that matches nothing: warning FILE:LINE, exact rows"
	if sel_run "$v" all --funcs="$F.warn"; then
		expect_other "iprofmem: warning: $F.warn:4: 'no_such_function_xyz' matches no function"
		sel_check_rows all "prog.c:grow_small prog.c:run_grow"
	fi
	tc_end
done

tc "select: an -e entry that matches nothing: warning -e 'ENTRY', exact rows"
if sel_run O2-nopie all -e 'nothing_like_this*' -e part_alloc; then
	expect_other "iprofmem: warning: -e 'nothing_like_this*' matches no function"
	sel_check_rows all "part.c:part_alloc"
fi
tc_end

tc "select: two funcs files, a bad entry in each: one warning per entry, in order"
printf 'grow_big\nnope_one\n' >"$F.w1"
printf '\n\npart.c:nope_two\n' >"$F.w2"
if sel_run O0-pie all --funcs="$F.w1" --funcs="$F.w2"; then
	expect_other "iprofmem: warning: $F.w1:2: 'nope_one' matches no function" \
		"iprofmem: warning: $F.w2:3: 'part.c:nope_two' matches no function"
	sel_check_rows all "prog.c:grow_big"
fi
tc_end

tc "select: --strict with every entry matching: no message, exact rows"
if sel_run O2-pie-cet all --strict --funcs="$F.names" -e 'libselshared.so:lib_outer'; then
	expect_other
	sel_check_rows all "prog.c:grow_small prog.c:run_grow part.c:part_nested shared.c:lib_outer"
fi
tc_end

[ $N_FAILED -eq 0 ]

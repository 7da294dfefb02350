#!/usr/bin/env bash
# A function whose DWARF gives its file and not its line (no
# DW_AT_decl_line, as Go's compiler before 1.21 writes every function):
# iprofmem keys it by the line its code starts at in the unit's line
# table, not line 0 (before: .../noline_fn.S:0:grow_noline; go1.19's
# main.grow was main.go:0).  test/targets/noline/: main.c calls
# grow_noline from noline_fn.S, whose unit is written by hand; it makes
# exactly 3 pages resident in its one call.
. "$(dirname "$0")/lib.sh"

bin=$TGT/noline
src=$SRCDIR/noline/noline_fn.S
# the .loc line at the function's entry, marked in the source
line=$(grep -n 'ENTRY-LINE \*/$' "$src" | cut -d: -f1)
key=$src:$line:grow_noline

# fn_attrs BIN: the attribute names of grow_noline's DIE with code (the
# hand-written one; main.c's unit has a declaration of it), one a line.
fn_attrs() {
	readelf --debug-dump=info "$1" 2>/dev/null | awk '
		/^ *<[0-9]+><[0-9a-f]+>: Abbrev Number/ {
			if (name == "grow_noline" && code) printf "%s", attrs
			name = ""; code = 0; attrs = ""; next
		}
		$2 ~ /^DW_AT_/ {
			attrs = attrs $2 "\n"
			if ($2 == "DW_AT_name") name = $NF
			if ($2 == "DW_AT_low_pc") code = 1
		}
		END { if (name == "grow_noline" && code) printf "%s", attrs }'
}

tc "noline: the premise: grow_noline's DIE has a decl_file and no decl_line; its entry line is marked"
if need_file "$bin"; then
	fn_attrs "$bin" >"$WORK/attrs"
	grep -qx DW_AT_decl_file "$WORK/attrs" || fail "no DW_AT_decl_file: $(tr '\n' ' ' <"$WORK/attrs")"
	grep -qx DW_AT_decl_line "$WORK/attrs" && fail "it has a DW_AT_decl_line"
	[ -n "$line" ] && [ "$line" -gt 1 ] || fail "no ENTRY-LINE mark in $src"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/attrs"
fi
tc_end

tc "noline: --list-funcs names grow_noline by its entry's line"
if need_file "$bin"; then
	run_ip --list-funcs "$bin"
	expect_exit 0
	grep -qE " $(printf '%s' "$key" | sed 's/[.[\*^$/]/\\&/g')\$" "$OUT" ||
		fail "no '$key' in the list: $(grep grow_noline "$OUT")"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$OUT"
fi
tc_end

tc "noline: traced, grow_noline's row keyed by that line, exact: 3 pages, 1 call"
if need_file "$bin"; then
	run_plain "$bin"
	run_ip -e grow_noline -- "$bin"
	expect_exit 0
	expect_same_as_plain
	if expect_only_table "$ERR"; then
		expect_row "$key" 3 1
		[ ${#ROWS[@]} -eq 1 ] || fail "${#ROWS[@]} rows, want 1"
	fi
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

[ $N_FAILED -eq 0 ]

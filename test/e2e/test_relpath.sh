#!/usr/bin/env bash
# Keys of a program whose DWARF holds a relative compilation directory, as
# distributions build (-fdebug-prefix-map=$PWD=.; python3.11d from Debian's
# python3.11-dbg has comp_dir ./build-debug and names ../Programs/python.c;
# libc6-dbg's malloc.c has ./malloc): no absolute path can be made, so the
# key holds the path the line table records, the file's directory entry
# joined to its name (entry 0 is the compilation directory itself), and
# nothing more.  mem built four ways (test/targets/relpath.mk): every row
# of the table exact, keyed by that relative path, as in test_mem.sh.
. "$(dirname "$0")/lib.sh"

# mem_key FUNC: FUNC's key in the current target (REL_FILE:line:FUNC).
REL_FILE=
mem_key() {
	printf '%s:%s:%s' "$REL_FILE" "$(decl_line "$SRCDIR/mem.c" "$1")" "$1"
}

# dwarf_attr BIN ATTR: the first CU's attribute, as readelf shows it.
dwarf_attr() {
	readelf --debug-dump=info "$1" 2>/dev/null | awk -v a="$2" '$2 == a { print $NF; exit }'
}

# relpath VARIANT COMP_DIR FILE: the target built with COMP_DIR, its rows
# keyed FILE:line:name.
relpath() {
	local v=$1 comp=$2 g
	local bin=$TGT/relpath_mem.$v
	REL_FILE=$3
	tc "relpath_mem.$v (comp_dir $comp): keys $REL_FILE:LINE:NAME, rows exact"
	if need_file "$bin"; then
		# the target is what this test is about, or it proves nothing
		[ "$(dwarf_attr "$bin" DW_AT_comp_dir)" = "$comp" ] ||
			fail "built with DW_AT_comp_dir '$(dwarf_attr "$bin" DW_AT_comp_dir)', want '$comp' (make e2e-targets)"
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		[ -s "$OUT" ] && fail "stdout not empty: '$(head -c 80 "$OUT")'"
		if expect_only_table "$ERR"; then
			expect_sorted
			for g in $MEM_GROUPS; do mem_check_group "$g" O0; done
			mem_check_rest
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
}

relpath top . test/targets/mem.c
relpath sub ./build/targets ../../test/targets/mem.c
relpath here ./test/targets test/targets/mem.c
relpath here-dwarf4 ./test/targets test/targets/mem.c

[ $N_FAILED -eq 0 ]

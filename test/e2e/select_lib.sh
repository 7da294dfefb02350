# Helpers of the selection tests (test/e2e/test_select*.sh), sourced after
# lib.sh.  Not a test itself (run.sh runs test_*.sh only).
#
# sel_prog (test/targets/sel/prog.c) is an executable of two source files,
# prog.c and part.c, with a shared library (shared.c) and a plugin
# (plugin.c).  A function is named by an id FILE:NAME, FILE one of those
# four (the two static twin() functions are prog.c:twin and part.c:twin).

SEL_SRC=$SRCDIR/sel
SEL_VARIANTS="O0-pie O2-pie-cet O2-nopie"
SEL_LIB=$TGT/libselshared.so
SEL_PLUGIN=$TGT/sel_plugin.so

# Mirrors the table in test/targets/sel/prog.c: id, pages, calls (0 0: no
# row).  Without the plugin (mode noplugin), the plugin.c rows and
# run_plugin's are 0 0.
SEL_TABLE="
prog.c:grow_small	5	5
prog.c:grow_big		8	2
prog.c:keep_flat	0	0
prog.c:run_grow		14	1
part.c:part_alloc	8	4
part.c:part_nested	3	1
part.c:part_idle	0	0
prog.c:run_part		11	1
prog.c:twin		1	1
part.c:twin		2	1
part.c:part_twin	2	1
prog.c:run_twins	3	1
shared.c:lib_ctor	2	1
shared.c:lib_fill	8	3
shared.c:lib_outer	3	1
shared.c:lib_quiet	0	0
prog.c:run_lib		10	1
plugin.c:plug_ctor	6	3
plugin.c:plug_a		18	9
plugin.c:plug_b		15	3
plugin.c:plug_idle	0	0
prog.c:run_plugin	30	3
"
# Ids by module and source file.
sel_ids() {
	local pat=$1
	printf '%s\n' "$SEL_TABLE" | awk -v p="$pat" 'NF == 3 && $1 ~ p { print $1 }' | tr '\n' ' '
}
SEL_PROG_IDS=$(sel_ids '^prog\.c:')
SEL_PART_IDS=$(sel_ids '^part\.c:')
SEL_EXE_IDS="$SEL_PROG_IDS $SEL_PART_IDS"
SEL_LIB_IDS=$(sel_ids '^shared\.c:')
SEL_PLUGIN_IDS=$(sel_ids '^plugin\.c:')
SEL_ALL_IDS="$SEL_EXE_IDS $SEL_LIB_IDS $SEL_PLUGIN_IDS"
# Functions of the executable whose rows are not exact (setup, main), and
# static ones, which -O2 may inline, whose rows are not checked.
SEL_INEXACT="prog.c:setup prog.c:main"
SEL_MAYBE="prog.c:plugin_rounds prog.c:plugin_sym prog.c:warm_image"

# sel_key ID: the key of a function, FILE:LINE:NAME.
sel_key() {
	local src=$SEL_SRC/${1%%:*} name=${1#*:}
	printf '%s:%s:%s' "$src" "$(decl_line "$src" "$name")" "$name"
}

# sel_expect ID MODE: "PAGES CALLS" (MODE noplugin: none for the plugin).
sel_expect() {
	if [ "${2-}" = noplugin ]; then
		case $1 in plugin.c:* | prog.c:run_plugin) echo "0 0"; return ;; esac
	fi
	printf '%s\n' "$SEL_TABLE" | awk -v id="$1" '$1 == id { print $2, $3; f = 1 } END { if (!f) print "? ?" }'
}

# sel_check_rows MODE "SELECTED IDS" ["INEXACT IDS" ["MAYBE IDS" [OTHERS]]]:
# the rows in ROWS are exactly those of the selected ids that grow, each
# with its exact pages and calls; each inexact id has one row with Calls 1;
# a maybe id may have a row; OTHERS=others allows rows whose key is not in
# test/targets (the C library's).  Nothing else.
sel_check_rows() {
	local mode=$1 sel=$2 inexact=${3-} maybe=${4-} others=${5-} id pc r k keys=" "
	for id in $sel; do
		pc=$(sel_expect "$id" "$mode")
		keys="$keys$(sel_key "$id") "
		if [ "$pc" = "0 0" ]; then
			expect_no_row "$(sel_key "$id")"
		else
			expect_row "$(sel_key "$id")" ${pc% *} ${pc#* }
		fi
	done
	for id in $inexact; do
		keys="$keys$(sel_key "$id") "
		find_row "$(sel_key "$id")"
		if [ $ROW_COUNT -ne 1 ] || [ "$(row_calls "$ROW")" -ne 1 ]; then
			fail "want one row for ${id#*:} with Calls 1, got $ROW_COUNT: '$ROW'"
		fi
	done
	for id in $maybe; do keys="$keys$(sel_key "$id") "; done
	for r in "${ROWS[@]}"; do
		k=$(row_key "$r")
		case $keys in *" $k "*) continue ;; esac
		if [ "$others" = others ] && [[ $k != "$SRCDIR/"* ]]; then
			continue
		fi
		fail "unexpected row '$r'"
	done
	k=$(printf '%s\n' "${ROWS[@]}" | cut -c22- | sort | uniq -d | head -n1)
	[ -z "$k" ] || fail "key in two rows: $k"
}

# sel_run VARIANT MODE ARGS...: iprofmem ARGS -- sel_prog.VARIANT MODE
# $MARK (MODE: all, noplugin or exit7), and the same untraced; checks the
# exit status and stdout against the untraced run's and that stderr holds
# a table (parsed into ROWS).  Returns 1 (and the case has failed) when
# there is no table to check.
sel_run() {
	local v=$1 mode=$2 bin=$TGT/sel_prog.$1
	shift 2
	need_file "$bin" "$SEL_LIB" "$SEL_PLUGIN" || return 1
	run_plain "$bin" "$mode" "$MARK"
	[ "$PRC" -eq "$([ "$mode" = exit7 ] && echo 7 || echo 0)" ] ||
		fail "sel_prog.$v $mode exits $PRC untraced (its own check failed)"
	run_ip "$@" -- "$bin" "$mode" "$MARK"
	expect_same_as_plain
	expect_table "$ERR"
}

# expect_other LINE...: the lines of stderr outside the table are exactly
# these, in this order.
expect_other() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(printf '%s\n' "${OTHER[@]}")
	[ $# -eq 0 ] && want=
	[ ${#OTHER[@]} -eq 0 ] && got=
	if [ "$want" != "$got" ]; then
		fail "stderr besides the table: '$(echo "$got" | head -n 3 | tr '\n' '|')', want '$(echo "$want" | tr '\n' '|')'"
		note_file "$ERR"
	fi
}

# expect_last_line LINE: LINE is the last line of stderr, after the table.
expect_last_line() {
	local last
	last=$(tail -n 1 "$ERR")
	[ "$last" = "$1" ] || fail "last stderr line '$last', want '$1'"
}

# expect_no_run MARKFILE: nothing of the program ran (no stdout, no file).
expect_no_run() {
	[ -s "$OUT" ] && fail "the program ran: stdout '$(head -c 60 "$OUT")'"
	[ -e "$1" ] && { fail "the program ran: it created its marker file"; rm -f "$1"; }
	return 0
}

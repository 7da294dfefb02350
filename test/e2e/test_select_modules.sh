#!/usr/bin/env bash
# Shared objects: sel_prog's library, linked at start-up (libselshared.so,
# rpath $ORIGIN), selected with MODULE:GLOB, its constructor (which runs
# before main) included; --all-modules without entries traces it and the
# C library too; the plugin sel_plugin.so, dlopen'ed three times with a
# dlclose after each round (the second time at another address), selected
# with MODULE:GLOB: its constructor and its functions have exact rows over
# the three rounds.  A module-qualified entry whose module is never loaded
# is a warning at the end (not at start-up); the program's stdout and exit
# status are those of the untraced run.  A plugin host (sel_cycle) loads
# the plugin 200 times: rows exact, and what iprofmem maps for it is used
# again from load to load.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/select_lib.sh"

# --- the library linked at start-up

for v in $SEL_VARIANTS; do
	tc "modules: sel_prog.$v -e 'libsel*:*': the library's exact rows, constructor included"
	if sel_run "$v" all -e 'libsel*:*'; then
		expect_other
		sel_check_rows all "$SEL_LIB_IDS"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "modules: -e 'libselshared.so:lib_f*' -e 'libsel*:lib_outer' (module globs and exact)"
if sel_run O2-pie-cet all -e 'libselshared.so:lib_f*' -e 'libsel*:lib_outer'; then
	expect_other
	sel_check_rows all "shared.c:lib_fill shared.c:lib_outer"
fi
tc_end

for v in O0-pie O2-nopie; do
	tc "modules: sel_prog.$v --all-modules, no entry: executable, library and plugin exact; libc allowed"
	if sel_run "$v" all --all-modules; then
		expect_other
		sel_check_rows all "$SEL_ALL_IDS" "$SEL_INEXACT" "$SEL_MAYBE" others
		# the C library has DWARF (libc6-dbg): its functions are traced too
		n=0
		for r in "${ROWS[@]}"; do [[ $(row_key "$r") == "$SRCDIR/"* ]] || n=$((n + 1)); done
		[ $n -gt 0 ] || fail "no row of another module (the C library's)"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "modules: --all-modules with unqualified entries reaches the library and the plugin"
if sel_run O2-pie-cet all --all-modules -e 'lib_*' -e 'plug_?' -e run_lib; then
	# plug_? has no match when the start-up objects are loaded: a warning
	# then is allowed (the plugin comes later), nothing else.
	for l in "${OTHER[@]}"; do
		[ "$l" = "iprofmem: warning: -e 'plug_?' matches no function" ] || fail "unexpected stderr line '$l'"
	done
	sel_check_rows all "$SEL_LIB_IDS plugin.c:plug_a plugin.c:plug_b prog.c:run_lib"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# --- the plugin: dlopen, dlclose, dlopen again (elsewhere), three rounds

for v in $SEL_VARIANTS; do
	tc "modules: sel_prog.$v -e 'sel_plugin.so:*': exact rows over 3 dlopen/dlclose rounds"
	if sel_run "$v" all -e 'sel_plugin.so:*'; then
		expect_other
		sel_check_rows all "$SEL_PLUGIN_IDS"
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

tc "modules: plugin by module glob and by path tail (sel_plug*:plug_?, targets/sel_plugin.so:plug_b)"
if sel_run O2-nopie all -e 'sel_plug*:plug_?' -e 'targets/sel_plugin.so:plug_b'; then
	expect_other
	sel_check_rows all "plugin.c:plug_a plugin.c:plug_b"
fi
tc_end

tc "modules: plugin and executable together: run_plugin, plug_b, lib_fill, grow_big"
if sel_run O2-pie-cet all -e run_plugin -e 'sel_plugin.so:plug_b' -e 'libsel*:lib_fill' -e grow_big; then
	expect_other
	sel_check_rows all "prog.c:run_plugin plugin.c:plug_b shared.c:lib_fill prog.c:grow_big"
fi
tc_end

tc "modules: every module at once (funcs file): the whole table exact, exit status 7 kept"
printf '*\nlibselshared.so:*\n# and the plugin\nsel_plugin.so:*\n' >"$WORK/funcs.all"
if sel_run O0-pie exit7 --funcs="$WORK/funcs.all"; then
	expect_exit 7
	expect_other
	sel_check_rows all "$SEL_ALL_IDS" "$SEL_INEXACT" "$SEL_MAYBE"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

tc "modules: two runs with the plugin give the same rows"
if sel_run O2-nopie all -e 'sel_plugin.so:plug_*' -e 'libsel*:*' -e 'grow_*'; then
	cp "$ERR" "$WORK/first"
	if sel_run O2-nopie all -e 'sel_plugin.so:plug_*' -e 'libsel*:*' -e 'grow_*'; then
		diff "$WORK/first" "$ERR" >"$WORK/diff" || { fail "tables differ"; note_file "$WORK/diff"; }
	fi
fi
tc_end

# --- a module that is never loaded

tc "modules: plugin entry, plugin never loaded (noplugin): warning at the end only"
printf 'grow_small\n\nsel_plugin.so:plug_*   # line 3\n' >"$WORK/funcs.plug"
if sel_run O0-pie noplugin --funcs="$WORK/funcs.plug"; then
	expect_other "iprofmem: warning: $WORK/funcs.plug:3: 'sel_plugin.so:plug_*': no such module was loaded"
	expect_last_line "iprofmem: warning: $WORK/funcs.plug:3: 'sel_plugin.so:plug_*': no such module was loaded"
	sel_check_rows noplugin "prog.c:grow_small $SEL_PLUGIN_IDS"
fi
tc_end

tc "modules: the same entry with the plugin loaded: no warning"
if sel_run O0-pie all --funcs="$WORK/funcs.plug"; then
	expect_other
	sel_check_rows all "prog.c:grow_small $SEL_PLUGIN_IDS"
fi
tc_end

tc "modules: -e 'libnever*:foo' (no such module): warning at the end, with -e"
if sel_run O2-pie-cet all -e 'libnever*:foo' -e part_nested; then
	expect_other "iprofmem: warning: -e 'libnever*:foo': no such module was loaded"
	expect_last_line "iprofmem: warning: -e 'libnever*:foo': no such module was loaded"
	sel_check_rows all "part.c:part_nested"
fi
tc_end

tc "modules: only a plugin entry, plugin never loaded: runs, no-row table, warning at the end"
if sel_run O2-nopie noplugin -e 'sel_plugin.so:plug_a'; then
	expect_other "iprofmem: warning: -e 'sel_plugin.so:plug_a': no such module was loaded"
	[ "$TBL_EMPTY" = 1 ] || fail "rows, want the no-row table"
fi
tc_end

# --- a plugin host: the same plugin loaded 200 times (sel_cycle)

# What iprofmem maps for a module (probe stubs, out-of-line slots) waits,
# after the dlclose, for the next module loaded within its reach: the
# program's mappings grow as they do untraced (by at most 2 more: the
# plugin may take turns between two places), where they grew by one per
# round before; the rows stay exact.  With "moved" the plugin lands at a
# new place each round (a page of address space kept where it was): the
# areas of its earlier places serve the new ones, where the areas used to
# wait for a load at their own place (then: 130 more than untraced).
for v in O0-nopie O2-pie-cet; do
	for mode in "" moved; do
	bin=$TGT/sel_cycle.$v
	tc "modules: sel_cycle.$v${mode:+ $mode}: 200 dlopen/dlclose rounds of one plugin, exact rows, mappings bounded"
	if need_file "$bin"; then
		run_plain "$bin" 200 $mode
		run_ip -e 'sel_plugin.so:*' -- "$bin" 200 $mode
		expect_exit 0
		cycle_re='^sel_cycle: 200 rounds, ([0-9]+) mappings after the first, ([0-9]+) at the end, ([0-9]+) places$'
		if [[ $(cat "$POUT") =~ $cycle_re ]]; then
			plain_growth=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
			if [[ $(cat "$OUT") =~ $cycle_re ]]; then
				growth=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
				places=${BASH_REMATCH[3]}
				[ $growth -le $((plain_growth + 2)) ] ||
					fail "mappings grew by $growth over the rounds traced, by $plain_growth untraced"
				# the scenario itself: a new place nearly every round
				[ -z "$mode" ] || [ "$places" -ge 150 ] ||
					fail "the plugin was loaded at $places places only: the test moves it no more"
			else
				fail "traced output: $(head -c 200 "$OUT")"
			fi
		else
			fail "untraced output: $(head -c 200 "$POUT")"
		fi
		if expect_only_table "$ERR"; then
			expect_row "$(src_key sel/plugin plug_a)" 400 200
			expect_row "$(src_key sel/plugin plug_ctor)" 400 200
			expect_rows_only sel/plugin plug_a plug_ctor
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
	done
done

# --- the plugin loaded while the program runs threads (sel_cycle threads)

# One thread spins, one waits in read(2), main loads the plugin 200 times.
# The probes go into each load with every thread stopped, where the plugin
# got int3s before: every event by a probe, none by a stop.  Selected alone,
# the plugin is the process's first module with sites, so the probes are
# set up then, threads and all (fault gate off: see --stats); with main's
# setup selected too, they are there from the exec, fault gate on.  The
# stopped threads go on as untraced: the spinner ends, read(2) returns
# its byte (the program checks both).
ENGINE=${IPROFMEM_ENGINE:-auto}
for v in O0-nopie O2-pie-cet; do
	for sel in plugin-only with-setup; do
	bin=$TGT/sel_cycle.$v
	tc "modules: sel_cycle.$v threads, $sel: 200 loads among running threads, exact rows, every event by a probe"
	if need_file "$bin"; then
		extra=()
		[ $sel = with-setup ] && extra=(-e setup)
		run_ip --stats -e 'sel_plugin.so:*' "${extra[@]}" -- "$bin" 200 threads
		expect_exit 0
		grep -q -E '^sel_cycle: 200 rounds, [0-9]+ mappings after the first, [0-9]+ at the end, 1 places$' "$OUT" ||
			fail "traced output: $(head -c 200 "$OUT")"
		want=800
		[ $sel = with-setup ] && want=802
		line=$(grep '^iprofmem: stats: events ' "$ERR")
		read -r ev pr i3 < <(sed -E 's/.*events ([0-9]+) \(probe ([0-9]+), int3 ([0-9]+),.*/\1 \2 \3/' <<<"$line")
		[ "$ev" = $want ] || fail "events '$ev', not $want ($line)"
		if [ "$ENGINE" = int3 ]; then
			[ "$pr" = 0 ] || fail "the int3 engine took $pr events by probes"
		else
			[ "$i3" = 0 ] || fail "$i3 events by int3 stops, none wanted ($line)"
		fi
		if expect_table "$ERR"; then
			expect_row "$(src_key sel/plugin plug_a)" 400 200
			expect_row "$(src_key sel/plugin plug_ctor)" 400 200
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
	done
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# --list-funcs: stdout is the header line, then one line per selected
# function, "%#18llx  %7zu  %7s  MODULE  KEY" (entry address, return
# sites, sites probed/sites, module path, key); stderr is empty; exit status 0; none of the
# program's code ran, nor its library's constructor (each would create a
# marker file), and iprofmem did not resume the program once it had listed
# it (strace shows that).  The listed set is the selection: the default
# set (every DWARF function of the executable) or the entries' matches in
# the objects loaded at start-up (not the plugin, dlopen'ed later); a
# traced run with the same selection has rows only for listed functions
# (and the plugin's).  The entries are the functions' addresses (symbol
# value plus the load bias); at -O0 the return sites are the function's
# ret instructions.  A selection that matches nothing is error 125, with
# nothing on stdout.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/select_lib.sh"

LIST_HEADER='             Entry  Returns   Probes  Module  File:Line:Function'
RAN_MAIN=$WORK/ran.main
RAN_LIB=$WORK/ran.lib

# list_run VARIANT ARGS...: iprofmem --list-funcs ARGS -- sel_prog.VARIANT
# with the marker arguments; checks exit 0, empty stderr, the header, that
# main did not run, and the format of every line; writes KEY<TAB>MODULE
# <TAB>ADDRESS<TAB>RETURNS lines to $WORK/listed.  With LIST_CHECK_LIB=0,
# not whether the library's constructor ran (with the default set that is
# a race: see the strace cases below).
LIST_CHECK_LIB=1
list_run() {
	local v=$1 bin=$TGT/sel_prog.$1 bad
	shift
	need_file "$bin" "$SEL_LIB" || return 1
	rm -f "$RAN_MAIN" "$RAN_LIB"
	run_ip --list-funcs "$@" -- "$bin" all "main=$RAN_MAIN" "lib=$RAN_LIB" "$MARK"
	expect_exit 0
	[ -s "$ERR" ] && { fail "stderr not empty: '$(head -n1 "$ERR")'"; note_file "$ERR"; }
	[ -e "$RAN_MAIN" ] && fail "main() ran"
	[ "$LIST_CHECK_LIB" = 1 ] && [ -e "$RAN_LIB" ] && fail "the library's constructor ran"
	grep -q '^sel_prog:' "$OUT" && fail "the program ran to its end"
	[ "$(head -n1 "$OUT")" = "$LIST_HEADER" ] || fail "first line '$(head -n1 "$OUT")', not the header"
	# (awk, not a shell loop: --all-modules lists thousands of lines)
	: >"$WORK/listed"
	bad=$(awk -v listed="$WORK/listed" '
		NR == 1 { printf "" >listed; next }
		{
			a = substr($0, 1, 18); r = substr($0, 21, 7); pr = substr($0, 30, 7)
			rest = substr($0, 39)
			sep = index(rest, "  ")
			mod = substr(rest, 1, sep - 1); key = substr(rest, sep + 2)
			if (length($0) < 41 || a !~ /^ *0x[0-9a-f]+$/ || substr($0, 19, 2) != "  " ||
			    r !~ /^ *[0-9]+$/ || substr($0, 28, 2) != "  " ||
			    pr !~ /^ *[0-9]+\/[0-9]+$/ || substr($0, 37, 2) != "  " || sep < 2 ||
			    mod !~ /^\/[^ ]+$/ || key !~ /^[^ ].*:[0-9]+:[^:]/) {
				print "malformed line " NR ": \047" $0 "\047"; exit
			}
			gsub(/ /, "", a); gsub(/ /, "", r)
			printf "%s\t%s\t%s\t%s\n", key, mod, a, r >listed
		}' "$OUT")
	[ -z "$bad" ] || { fail "$bad"; note_file "$OUT"; }
	return 0
}

# expect_listed_keys KEY...: the listed keys are exactly these.
expect_listed_keys() {
	if [ $# -eq 0 ]; then : >"$WORK/want"; else printf '%s\n' "$@" | sort >"$WORK/want"; fi
	cut -f1 "$WORK/listed" | sort >"$WORK/got"
	if ! diff "$WORK/want" "$WORK/got" >"$WORK/diff"; then
		fail "listed keys differ from the selection (< wanted, > listed)"
		note_file "$WORK/diff"
	fi
}

# sel_default_keys VARIANT: the default set of sel_prog.VARIANT: the
# functions of prog.c and part.c that have an out-of-line instance.
sel_default_keys() {
	local id syms
	syms=" $(nm "$TGT/sel_prog.$1" | awk '$2 ~ /^[tT]$/ { print $3 }' | tr '\n' ' ') "
	for id in $SEL_EXE_IDS $SEL_INEXACT $SEL_MAYBE; do
		case $syms in *" ${id#*:} "*) sel_key "$id"; echo ;; esac
	done
}

for v in $SEL_VARIANTS; do
	bin=$TGT/sel_prog.$v
	tc "list: sel_prog.$v default set: header, one well-formed line per function, main not run, exit 0"
	if LIST_CHECK_LIB=0 list_run "$v"; then
		mapfile -t want < <(sel_default_keys "$v")
		[ ${#want[@]} -ge 17 ] || fail "only ${#want[@]} functions expected: nm failed?"
		expect_listed_keys "${want[@]}"
		cut -f2 "$WORK/listed" | sort -u >"$WORK/mods"
		[ "$(cat "$WORK/mods")" = "$(realpath "$bin")" ] ||
			fail "modules '$(tr '\n' ' ' <"$WORK/mods")', want $(realpath "$bin") only"
		cp "$WORK/listed" "$WORK/listed.$v"
	fi
	tc_end

	tc "list: sel_prog.$v entries are the symbols' addresses plus one page-aligned bias"
	if [ -s "$WORK/listed.$v" ]; then
		nm "$bin" | awk '$2 ~ /^[tT]$/ { print $1, $3 }' >"$WORK/nm"
		bias= bad=
		while IFS=$'\t' read -r key mod addr rets; do
			name=${key##*:} ok=0
			vals=$(awk -v n="$name" '$2 == n { print $1 }' "$WORK/nm")
			[ -n "$vals" ] || { bad="no symbol $name"; break; }
			if [ -z "$bias" ]; then
				bias=$((addr - 0x$(echo "$vals" | head -n1)))
				[ $((bias % 4096)) -eq 0 ] || { bad="bias $bias not page-aligned"; break; }
				[[ $v == *nopie* ]] && [ $bias -ne 0 ] && { bad="non-PIE, bias $bias"; break; }
			fi
			for val in $vals; do [ $((addr - bias)) -eq $((0x$val)) ] && ok=1; done
			[ $ok = 1 ] || { bad="$name at $addr: not its symbol plus the bias"; break; }
		done <"$WORK/listed.$v"
		[ -z "$bad" ] || fail "$bad"
	else
		fail "no list to check"
	fi
	tc_end
done

tc "list: sel_prog.O0-pie Returns is the number of ret instructions (-O0: no tail calls)"
bin=$TGT/sel_prog.O0-pie
if [ -s "$WORK/listed.O0-pie" ]; then
	objdump -d --no-show-raw-insn "$bin" | awk '
		/^[0-9a-f]+ <.*>:$/ { a = $1; next }
		/^ +[0-9a-f]+:\t((repz|bnd) )?ret/ { n[a] = n[a] + 1 }
		END { for (x in n) print x, n[x] }' >"$WORK/rets"
	nm "$bin" | awk '$2 ~ /^[tT]$/ { print $1, $3 }' >"$WORK/nm"
	bias= n=0
	while IFS=$'\t' read -r key mod addr rets; do
		name=${key##*:} n=$((n + 1))
		vals=$(awk -v n="$name" '$2 == n { print $1 }' "$WORK/nm")
		[ -n "$bias" ] || bias=$((addr - 0x$(echo "$vals" | head -n1)))
		off=$(printf '%016x' $((addr - bias)))
		want=$(awk -v a="$off" '$1 == a { print $2 }' "$WORK/rets")
		[ "$rets" = "${want:-0}" ] || fail "$name: $rets return sites listed, objdump has ${want:-0} ret"
	done <"$WORK/listed.O0-pie"
	[ $n -ge 17 ] || fail "only $n functions compared"
else
	fail "no list to check"
fi
tc_end

# --- a selection: listed = selected among the start-up objects; a traced
# run has rows for listed functions (and the plugin's) only.

printf 'grow_*\npart.c:*\n\nlibsel*:lib_[fo]*\nsel_plugin.so:*   # loaded later: not listed\n' >"$WORK/funcs"
for v in O0-pie O2-pie-cet; do
	tc "list: sel_prog.$v a selection: exactly its functions, each in its module"
	if list_run "$v" --funcs="$WORK/funcs" -e run_lib; then
		ids="prog.c:grow_small prog.c:grow_big $SEL_PART_IDS shared.c:lib_fill shared.c:lib_outer prog.c:run_lib"
		keys=()
		for id in $ids; do keys+=("$(sel_key "$id")"); done
		expect_listed_keys "${keys[@]}"
		awk -F'\t' -v exe="$(realpath "$TGT/sel_prog.$v")" -v lib="$(realpath "$SEL_LIB")" '
			$1 ~ /\/shared\.c:/ && $2 != lib || $1 !~ /\/shared\.c:/ && $2 != exe { print; exit }
		' "$WORK/listed" >"$WORK/badmod"
		[ -s "$WORK/badmod" ] && fail "wrong module: '$(cat "$WORK/badmod")'"
		cp "$WORK/listed" "$WORK/sel.listed"
	fi
	tc_end

	tc "list: sel_prog.$v the traced run of that selection: rows of listed functions (and the plugin's), exact"
	if [ -s "$WORK/sel.listed" ] && sel_run "$v" all --funcs="$WORK/funcs" -e run_lib; then
		expect_other
		sel_check_rows all "$ids $SEL_PLUGIN_IDS"
		for r in "${ROWS[@]}"; do
			k=$(row_key "$r")
			[[ $k == "$SEL_SRC/plugin.c:"* ]] && continue
			cut -f1 "$WORK/sel.listed" | grep -qxF -- "$k" || fail "row for a function not listed: '$r'"
		done
	fi
	rm -f "$WORK/sel.listed"
	tc_end
done

tc "list: only the plugin selected (not loaded at start-up): the header alone, exit 0"
if list_run O2-nopie -e 'sel_plugin.so:plug_*'; then
	expect_listed_keys
fi
tc_end

tc "list: --all-modules: the library and the C library listed too"
if list_run O0-pie --all-modules; then
	cut -f2 "$WORK/listed" | sort -u >"$WORK/mods"
	for m in "$(realpath "$TGT/sel_prog.O0-pie")" "$(realpath "$SEL_LIB")" \
		"$(realpath /usr/lib/x86_64-linux-gnu/libc.so.6)"; do
		grep -qxF "$m" "$WORK/mods" || fail "no function of $m listed"
	done
	for id in $SEL_EXE_IDS $SEL_LIB_IDS; do
		cut -f1 "$WORK/listed" | grep -qxF "$(sel_key "$id")" || fail "${id#*:} not listed"
	done
	grep -q "$SEL_SRC/plugin.c" "$WORK/listed" && fail "the plugin's functions listed"
fi
tc_end

# Nothing of the program may run, not even a library's constructor, which
# runs before main and is not traced unless selected.  Whether the library
# created its marker file is a race (the program would have to get there
# before iprofmem kills it); what decides it is whether iprofmem resumed
# the program once its functions were listed.  strace shows that: the last
# ptrace request before the kill(PID, SIGKILL) must not be a resumption.
for sel in "default set:" "-e grow_small:-e grow_small" "--all-modules:--all-modules"; do
	name=${sel%%:*} args=${sel#*:}
	tc "list: $name the program is not resumed once listed (no PTRACE_CONT before its SIGKILL)"
	bin=$TGT/sel_prog.O0-pie
	if ! command -v strace >/dev/null; then
		echo "SKIP $TAG${TC_NAME#"$TAG"}: needs strace"
		continue
	fi
	if need_file "$bin"; then
		rm -f "$RAN_MAIN" "$RAN_LIB"
		# (LeakSanitizer cannot work under a tracer: no leak check here)
		# shellcheck disable=SC2086
		{ ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:log_path=$WORK/san" \
		  timeout -k 5 "$E2E_TIMEOUT" strace -o "$WORK/strace" -e trace=ptrace,kill,wait4 \
			"$IPROFMEM" --list-funcs $args -- "$bin" all "main=$RAN_MAIN" "lib=$RAN_LIB" "$MARK" \
			</dev/null >"$OUT" 2>"$ERR"; } 2>/dev/null
		RC=$?
		check_sanitizer "$ERR"
		check_no_leftover
		expect_exit 0
		[ -e "$RAN_MAIN" ] && fail "main() ran"
		# only what follows the exec event counts: before it, the
		# launch itself resumes the child on its way to exec
		last=$(awk '/^kill\([0-9]+, SIGKILL\)/ { print exec ? prev : "no exec"; found = 1; exit }
			/PTRACE_EVENT_EXEC/ { exec = 1; prev = "" }
			exec && /^ptrace\(/ { prev = $0 }
			END { if (!found) print "no kill" }' "$WORK/strace")
		case $last in
		"no kill") fail "no kill(PID, SIGKILL) in the strace log" ;;
		"no exec") fail "no exec event before the kill in the strace log" ;;
		*PTRACE_CONT* | *PTRACE_SYSCALL* | *PTRACE_LISTEN* | *PTRACE_DETACH*)
			fail "resumed before the kill: '$last'"
			[ -e "$RAN_LIB" ] && note "(and this time the library's constructor ran)" ;;
		esac
	fi
	tc_end
done

tc "list: a selection that matches nothing: exit 125, the error, nothing ran"
bin=$TGT/sel_prog.O0-pie
if need_file "$bin"; then
	rm -f "$RAN_MAIN" "$RAN_LIB"
	run_ip --list-funcs -e no_such_function_xyz -- "$bin" all "main=$RAN_MAIN" "lib=$RAN_LIB" "$MARK"
	expect_exit 125
	grep -qx 'iprofmem: no function matches the selection; see what there is with --list-funcs' "$ERR" || { fail "no error line"; note_file "$ERR"; }
	[ -e "$RAN_MAIN" ] && fail "main() ran"
	[ -e "$RAN_LIB" ] && fail "the library's constructor ran"
	cp "$OUT" "$WORK/nomatch.out"
fi
tc_end

tc "list: a selection that matches nothing: nothing on stdout (no header)"
if [ -e "$WORK/nomatch.out" ]; then
	[ -s "$WORK/nomatch.out" ] && fail "stdout: '$(head -n1 "$WORK/nomatch.out")'"
else
	fail "no run to check"
fi
tc_end

[ $N_FAILED -eq 0 ]

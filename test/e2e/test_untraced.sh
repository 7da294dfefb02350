#!/usr/bin/env bash
# Nothing selected is dropped silently (issue 15): raw_getpid starts with
# `syscall`, which the tracer can neither emulate nor run out of line.
# --list-funcs lists it with the reason; a run counts it in one warning
# and traces the rest exactly; selected by name, it is named, and a
# selection of it alone is an error that says so.
. "$(dirname "$0")/lib.sh"

for v in O0-pie O2-pie O2-nopie; do
	bin=$TGT/untraced.$v
	key=$(src_key untraced raw_getpid)
	tc "untraced.$v: --list-funcs lists raw_getpid, not traced, with the reason"
	if need_file "$bin"; then
		run_ip --list-funcs -- "$bin" "$MARK"
		expect_exit 0
		line=$(grep -F "  $key" "$OUT")
		case $line in
		*"  -  "*"$key  (not traced: its first instruction cannot be replayed)") ;;
		*) fail "raw_getpid's line: '$line'"; note_file "$OUT" ;;
		esac
		line=$(grep -F "$(src_key untraced grow)" "$OUT")
		case $line in *'not traced'*) fail "grow is listed as not traced" ;; esac
		# its sites: an entry and its returns; the entry at least probed
		# unless int3 is asked
		read -r _ rets probes _ <<<"$line"
		[ "${probes#*/}" = $((rets + 1)) ] || fail "grow's probes '$probes', not of its $((rets + 1)) sites"
		if [ "${IPROFMEM_ENGINE:-auto}" = int3 ]; then
			[ "${probes%/*}" = 0 ] || fail "grow's probes '$probes' with the int3 engine"
		else
			[ "${probes%/*}" -ge 1 ] 2>/dev/null || fail "grow's probes '$probes': its entry is not probed"
		fi
	fi
	tc_end

	tc "untraced.$v: one warning counts it, the rest is exact, the program as untraced"
	if need_file "$bin"; then
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		[ "$(cat "$OUT")" = "untraced: pid ok" ] || fail "the program's output: '$(head -c 200 "$OUT")'"
		if expect_table "$ERR"; then
			[ ${#OTHER[@]} -eq 1 ] || { fail "${#OTHER[@]} lines besides the table, want 1"; note_file "$ERR"; }
			case ${OTHER[0]-} in
			"iprofmem: warning: $(realpath "$bin"): 1 function cannot be traced (--list-funcs says which and why)") ;;
			*) fail "the warning: '${OTHER[0]-}'" ;;
			esac
			expect_row "$(src_key untraced grow)" 5 1
			expect_no_row "$key"
		fi
	fi
	tc_end

	tc "untraced.$v: -e raw_getpid -e grow: raw_getpid named, grow traced"
	if need_file "$bin"; then
		run_ip -e raw_getpid -e grow -- "$bin" "$MARK"
		expect_exit 0
		grep -qx 'iprofmem: warning: raw_getpid: cannot be traced: its first instruction cannot be replayed' "$ERR" ||
			{ fail "no warning naming raw_getpid"; note_file "$ERR"; }
		expect_table "$ERR" >/dev/null && expect_row "$(src_key untraced grow)" 5 1
	fi
	tc_end

	tc "untraced.$v: -e raw_getpid alone: named, then an error, exit 125"
	if need_file "$bin"; then
		run_ip -e raw_getpid -- "$bin" "$MARK"
		expect_exit 125
		grep -qx 'iprofmem: warning: raw_getpid: cannot be traced: its first instruction cannot be replayed' "$ERR" ||
			fail "no warning naming raw_getpid"
		grep -qx 'iprofmem: no selected function can be traced' "$ERR" ||
			{ fail "no error line"; note_file "$ERR"; }
	fi
	tc_end
done

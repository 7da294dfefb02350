#!/usr/bin/env bash
# Functions too short for a probe's jmp, another function right after them
# (test/targets/shortfn.c: one `ret`, `movb $1,(%rdi); ret`, `xor
# %eax,%eax; ret`): their entries and rets are int3 sites, and the default
# engine gives each a stub of its own and re-aims their direct calls at
# it.  Exact rows and events under both engines (--stats): 2056 events,
# under the default engine 38 of them int3 (the calls through pointers,
# and far_call's, alone on a page with no site) and 3 short functions with
# every direct call of them on a page of their sites (objdump counts them)
# re-aimed; the program's output
# and exit status are the untraced ones.  Attached with -p and detached,
# the calls re-aimed are put back: its code is the file's again.
# --list-funcs marks each short function with a re-aimed call 0/2* under
# the default engine (objdump finds its calls), none under the int3 one.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/attach_lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
stat_field() { sed -n -E "s/^iprofmem: stats: $1.*/\\1/p" "$ERR" | head -n 1; }

# reaimable_calls BIN [FUNC]: the direct calls of sf_ret, sf_touch and
# sf_zero (or of FUNC alone) whose 5 bytes lie on the pages of the sf_*
# functions (the only sites).
reaimable_calls() {
	local pages=" " a n=0 f=${2:-sf_(ret|touch|zero)}
	for a in $(nm "$1" | awk '$3 ~ /^sf_/ { print $1 }'); do
		pages="$pages$((16#$a / 4096)) "
	done
	for a in $(objdump -d --no-show-raw-insn "$1" |
		sed -n -E "s/^ *([0-9a-f]+):\tcall +[0-9a-f]+ <$f>\$/\1/p"); do
		[[ $pages == *" $((16#$a / 4096)) "* ]] &&
			[[ $pages == *" $(((16#$a + 4) / 4096)) "* ]] && n=$((n + 1))
	done
	echo "$n"
}

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/shortfn.$v
	tc "shortfn.$v: short functions, their direct calls re-aimed, exact rows and events"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip --stats -e 'sf_*' -- "$bin" "$MARK"
		expect_exit 0
		expect_same_as_plain
		grep -qx 'shortfn: 1015 12' "$OUT" || fail "output '$(head -c 100 "$OUT")'"
		events=$(stat_field 'events ([0-9]+) ')
		int3=$(stat_field 'events [0-9]+ \(probe [0-9]+, int3 ([0-9]+)')
		short=$(stat_field 'sites: .*short functions with a stub of their own ([0-9]+ \(their direct calls re-aimed [0-9]+\))')
		[ "$events" = 2056 ] || fail "events '$events', not 2056"
		if [ "$ENGINE" = int3 ]; then
			[ "$int3" = 2056 ] || fail "int3 events '$int3', not 2056"
		else
			[ "$int3" = 38 ] || fail "int3 events '$int3', not 38 (the calls through pointers and far_call's)"
			# every direct call of them in main (and in loop, which
			# -O2 may inline), not far_call's
			calls=$(reaimable_calls "$bin")
			[ "$calls" -ge 5 ] || fail "only $calls direct calls found by objdump"
			[ "$short" = "3 (their direct calls re-aimed $calls)" ] ||
				fail "short functions '$short', not '3 (their direct calls re-aimed $calls)'"
		fi
		grep -v '^iprofmem: stats: ' "$ERR" >"$WORK/table"
		if expect_only_table "$WORK/table"; then
			expect_row "$bin:0:sf_touch" 12 12
			[ "$(grep -c ':sf_' "$WORK/table")" = 1 ] || fail "rows other than sf_touch's"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

for v in O0-pie O2-nopie O2-pie-cet; do
	bin=$TGT/shortfn.$v
	tc "shortfn.$v: -p and detach: traced, then its code is the file's again, running"
	if need_file "$bin"; then
		rm -f "$WORK/ready"
		tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" loop "$WORK/ready"
		if tgt_ready "$WORK/ready"; then
			run_ip --stats --duration=1 -e 'sf_*' -o "$WORK/table" -p "$TPID"
			expect_exit 0
			if [ "$ENGINE" != int3 ]; then
				short=$(stat_field 'sites: .*short functions with a stub of their own ([0-9]+) ')
				[ "$short" = 3 ] || fail "short functions '$short', not 3"
			fi
			events=$(stat_field 'events ([0-9]+) ')
			[ "${events:-0}" -gt 100 ] || fail "events '$events' in 1 s of calls every ms"
			unharmed "$TPID" "$bin" sf_ret sf_touch main
			sleep 0.1
			alive "$TPID" || fail "the program ended after the detach"
			[ -s "$WORK/t.err" ] && fail "the program wrote on stderr: $(head -c 200 "$WORK/t.err")"
		fi
		tgt_kill
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# --list-funcs: a short function whose direct calls were re-aimed at its
# stub is marked 0/2* (its sites keep their int3s); the int3 engine marks
# none.  The functions that objdump shows a re-aimable call of.
for v in O0-pie O2-pie O2-nopie-cet; do
	bin=$TGT/shortfn.$v
	tc "shortfn.$v: --list-funcs marks the short functions with a stub"
	if need_file "$bin"; then
		run_ip --list-funcs -e 'sf_*' -- "$bin"
		expect_exit 0
		for f in sf_ret sf_touch sf_zero; do
			line=$(grep -E ":$f\$" "$OUT")
			probes=$(awk '{ print $3 }' <<<"$line")
			want=0/2
			[ "$ENGINE" != int3 ] && [ "$(reaimable_calls "$bin" "$f")" -gt 0 ] &&
				want='0/2*'
			[ "$probes" = "$want" ] || fail "$f: probes '$probes', not '$want' (line '$line')"
		done
		probes=$(grep -E ':sf_end$' "$OUT" | awk '{ print $3 }')
		[[ $probes == */* && $probes != *'*' ]] || fail "sf_end: probes '$probes', a stub mark on a function with windows"
		[ ${#TC_ERRS[@]} -eq 0 ] || { note_file "$OUT"; note_file "$ERR"; }
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# The areas an attach leaves (the probes' stubs and control block, the
# int3 engine's out-of-line slots) are used again by the next attach,
# except an area into which a signal frame may still return.
#
# 1. attach_idle (burst mode), attached 4 times with `--stats`: after the
#    first detach, no attach maps anything more (the process's size and
#    its anonymous code mappings stay as the first left them), each
#    window's table is exact, and every attach patches as many sites with
#    probes as the first did (a non-PIE executable keeps its room).
# 2. stubframe (test/targets/stubframe.c): during attach 1 (--funcs:
#    faulty) a load that a probe's jmp displaced into its stub faults, and
#    the handler, whose frame returns into the stub, waits.  iprofmem
#    detaches, attaches again with another selection (--funcs: marker,
#    whose stub would be where faulty's was) and detaches; then the
#    handler returns.  With the default
#    engine the second attach must map a new area and leave the old one
#    as it is; the program ends as untraced (the load done in the stub,
#    faulty returned 0).
# 3. attach_idle forkburst launched under iprofmem without -f: the forked
#    child is let go with its copy of iprofmem's areas, which an attach to
#    that child uses again (before, their tags stayed "live" and the
#    attach mapped new ones); the window is exact.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/attach_lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}

# probes_of FILE: "ENTRIES RETURNS" patched with probes (--stats).
probes_of() {
	sed -n 's/^iprofmem: stats: sites: entries \([0-9]*\) probe, [0-9]* int3; returns \([0-9]*\) probe.*/\1 \2/p' "$1"
}

# ------------------------------------------------------------ 1. reuse
for v in O0-nopie O2-pie-cet; do
	bin=$TGT/attach_idle.$v
	tc "attach_idle.$v: 4 attaches: the later ones map nothing more, same probes, exact windows"
	if need_file "$bin"; then
		rm -f "$WORK/ready" "$WORK/progress"
		tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" burst "$WORK/ready" "$WORK/progress" 3
		if tgt_ready "$WORK/ready"; then
			first= first_probes=
			for k in 1 2 3 4; do
				start_ip --stats -p "$TPID"
				if wait_bp "$TPID" "$bin" burst_touch; then
					kill -USR1 "$TPID"
					wait_line "$WORK/progress" "^burst $k\$" 10 "$TPID"
					kill -INT "$IP_PID"
				else
					ip_abort
				fi
				finish_ip
				expect_exit 0
				grep -v '^iprofmem: stats: ' "$ERR" > "$WORK/table.$k"
				expect_only_table "$WORK/table.$k" &&
					expect_exact_rows attach_idle "burst_touch:3:3"
				untraced "$TPID"
				left=$(left_behind "$TPID")
				probes=$(probes_of "$ERR")
				if [ $k = 1 ]; then
					first=$left first_probes=$probes
					[ "$ENGINE" = int3 ] || [ "${probes%% *}" -gt 0 ] 2>/dev/null ||
						fail "attach 1 patched no entry with a probe: '$probes'"
				else
					[ "$left" = "$first" ] ||
						fail "attach $k left more: '$left', after the first '$first'"
					[ "$probes" = "$first_probes" ] ||
						fail "attach $k: probes (entries returns) '$probes', the first '$first_probes'"
				fi
				[ ${#TC_ERRS[@]} -eq 0 ] || { note_file "$ERR"; break; }
			done
			kill -USR2 "$TPID"
			tgt_finish
			[ "$TRC" = 0 ] || fail "the target ended with $TRC"
			grep -q '^attach_idle: 4 bursts of 3$' "$WORK/t.out" ||
				fail "target: $(head -c 200 "$WORK/t.out")"
		else
			tgt_kill
		fi
	fi
	tc_end
done

# ------------------------------------------------------- 2. frame kept
for v in O0-pie O2-nopie-cet; do
	bin=$TGT/stubframe.$v
	tc "stubframe.$v: untraced run"
	if need_file "$bin"; then
		rm -f "$WORK/ready" "$WORK/progress" "$WORK/go".*
		touch "$WORK/go.1" "$WORK/go.2"
		tgt_start "$WORK/plain.out" "$WORK/plain.err" "$bin" "$WORK/ready" "$WORK/progress" "$WORK/go"
		tgt_ready "$WORK/ready" || tgt_kill
		tgt_finish
		[ "$TRC" = 0 ] || fail "exit status $TRC"
		grep -q '^stubframe: faulty returned 0 after 1 fault$' "$WORK/plain.out" ||
			fail "untraced: $(head -c 200 "$WORK/plain.out")"
	fi
	tc_end

	tc "stubframe.$v: a frame returns into a stub after two attaches; the second maps an area of its own"
	if need_file "$bin"; then
		rm -f "$WORK/ready" "$WORK/progress" "$WORK/go".*
		tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" "$WORK/ready" "$WORK/progress" "$WORK/go"
		if tgt_ready "$WORK/ready"; then
			printf 'faulty\n' > "$WORK/funcs1"
			printf 'marker\n' > "$WORK/funcs2"
			start_ip --stats --funcs="$WORK/funcs1" -p "$TPID"
			if wait_line "$WORK/progress" '^in handler$' 10 "$TPID"; then
				kill -INT "$(tracer_of "$TPID")"
			else
				ip_abort
			fi
			finish_ip
			expect_exit 0
			probes=$(probes_of "$ERR")
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			code1=$(left_behind "$TPID")
			code1=${code1#*code }
			run_ip --duration=0.3 --funcs="$WORK/funcs2" -p "$TPID"
			expect_exit 0
			code2=$(left_behind "$TPID")
			code2=${code2#*code }
			if [ "$ENGINE" = int3 ]; then
				# no stub: the slots' area is used again
				[ "$code2" = "$code1" ] || fail "int3 engine: a new area: '$code1' then '$code2'"
			else
				[ "${probes%% *}" -gt 0 ] 2>/dev/null ||
					fail "attach 1 patched no entry with a probe: '$probes'"
				for r in $code1; do
					case " $code2 " in
					*" $r "*) ;;
					*) fail "the area $r of attach 1 is gone or changed: '$code2'" ;;
					esac
				done
				[ "$(wc -w <<< "$code2")" -gt "$(wc -w <<< "$code1")" ] ||
					fail "attach 2 mapped no area of its own: '$code1' then '$code2'"
			fi
			touch "$WORK/go.2"
			tgt_finish
			[ "$TRC" = 0 ] || fail "the target ended with $TRC$([ "$TRC" = 139 ] && echo " (SIGSEGV)")"
			cmp -s "$WORK/t.out" "$WORK/plain.out" ||
				fail "stdout: $(head -c 200 "$WORK/t.out"), untraced: $(head -c 200 "$WORK/plain.out")"
		else
			tgt_kill
		fi
	fi
	tc_end
done

# ----------------------------------------------- 3. a let-go fork child
for v in O0-pie O2-nopie-cet; do
	bin=$TGT/attach_idle.$v
	tc "attach_idle.$v forkburst: a child let go keeps areas that an attach to it uses again"
	if need_file "$bin"; then
		rm -f "$WORK/ready" "$WORK/progress"
		tgt_start "$WORK/t.out" "$WORK/t.err" "$IPROFMEM" -o "$WORK/launch.txt" -- "$bin" forkburst "$WORK/ready" "$WORK/progress" 3
		if tgt_ready "$WORK/ready"; then
			before=$(left_behind "$TPID")
			start_ip --stats -p "$TPID"
			if wait_bp "$TPID" "$bin" burst_touch; then
				kill -USR1 "$TPID"
				wait_line "$WORK/progress" '^burst 1$' 10 "$TPID"
				kill -INT "$IP_PID"
			else
				ip_abort
			fi
			finish_ip
			expect_exit 0
			grep -v '^iprofmem: stats: ' "$ERR" > "$WORK/table"
			expect_only_table "$WORK/table" &&
				expect_exact_rows attach_idle "burst_touch:3:3"
			untraced "$TPID"
			after=$(left_behind "$TPID")
			[ "$after" = "$before" ] ||
				fail "the attach mapped more: '$before' before, '$after' after"
			probes=$(probes_of "$ERR")
			[ "$ENGINE" = int3 ] || [ "${probes%% *}" -gt 0 ] 2>/dev/null ||
				fail "the attach patched no entry with a probe: '$probes'"
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			kill -USR2 "$TPID"
			tgt_finish
			[ "$TRC" = 0 ] || fail "the launch ended with $TRC: $(head -c 300 "$WORK/t.err")"
			grep -q '^attach_idle: 1 bursts of 3$' "$WORK/t.out" &&
				grep -q '^attach_idle: the child exited with 0$' "$WORK/t.out" ||
				fail "target: $(head -c 200 "$WORK/t.out")"
		else
			tgt_kill
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# -p on a program whose code in memory is not its file's (it patched
# itself, or a tracer that was killed left an int3): that function is not
# traced, with one warning, and its bytes are left as they are; the
# others are traced as usual.  The arming reads every site in runs
# (tracer/memio.c): the check must still see a single changed byte.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/attach_lib.sh"

for v in O0-pie O2-nopie; do
	bin=$TGT/attach_idle.$v
	tc "attach_idle.$v: a function changed in memory is not traced and kept as it is"
	if need_file "$bin"; then
		rm -f "$WORK/ready" "$WORK/progress"
		tgt_start "$WORK/t.out" "$WORK/t.err" "$bin" sleep "$WORK/ready" "$WORK/progress" 2000
		if tgt_ready "$WORK/ready"; then
			addr=
			off=$(func_off "$bin" setup) && addr=$(runtime_addr "$TPID" "$off")
			if [ -z "$addr" ]; then
				fail "no address for setup"
			else
				orig=$(mem_hex "$TPID" "$addr" 1)
				printf '\xcc' | dd of="/proc/$TPID/mem" bs=1 seek="$addr" \
					oflag=seek_bytes conv=notrunc status=none
				[ "$(mem_hex "$TPID" "$addr" 1)" = cc ] || fail "cannot change setup's first byte"
				run_ip --duration=1 -o "$WORK/table" -p "$TPID"
				expect_exit 0
				[ "$(grep -c "the code of 1 function in process $TPID is not the file's" "$ERR")" = 1 ] ||
					fail "want one warning for setup"
				[ "$(mem_hex "$TPID" "$addr" 1)" = cc ] || fail "setup's changed byte was not left as it was"
				grep -q 'main' "$WORK/table" 2>/dev/null || grep -q 'No traced call' "$WORK/table" ||
					fail "no table"
				# its own byte back, for the program's end
				printf "\\x$orig" | dd of="/proc/$TPID/mem" bs=1 seek="$addr" \
					oflag=seek_bytes conv=notrunc status=none
			fi
			tgt_finish
			[ "$TRC" = 0 ] || fail "the target ended with $TRC"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

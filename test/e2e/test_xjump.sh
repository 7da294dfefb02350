#!/usr/bin/env bash
# A function that another one jumps into past its first instruction, as
# glibc's mempcpy ends in a jmp to memcpy+3 (test/targets/xjump.c).  The
# default engine's entry window of xj_sum would take the instruction the
# jump lands on: the program died of SIGSEGV, SIGILL or SIGTRAP (sort,
# md5sum, find... with -e 'libc.so.6:*').  Now that window is left out
# (its site an int3) whether or not the jumping function is traced: the
# program's output and exit status are the untraced ones, rows exact.
# xj_hidden's jump into xj_sum2 comes after bytes that are no instruction
# and hide it from a sweep that decodes on from the next byte (the
# program died of SIGSEGV with xj_sum2 traced): from such a byte on, every
# byte is read as an instruction's start.
. "$(dirname "$0")/lib.sh"

k() { src_key xjump "$1"; }

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/xjump.$v
	for sel in all xj_sum xj_sum2; do
		tc "xjump.$v: a jump into xj_sum past its first instruction, $sel traced"
		if need_file "$bin"; then
			opts=()
			[ $sel = all ] || opts=(-e "$sel" -e grow)
			run_plain "$bin" "$MARK"
			run_ip "${opts[@]}" -- "$bin" "$MARK"
			expect_exit 0
			expect_same_as_plain
			grep -qx 'xjump: 3 3 3 3' "$OUT" || fail "output '$(head -c 100 "$OUT")'"
			case $v in
			*nodebug)	# the symbol table's keys, beside a warning
				expect_table "$ERR" && expect_row "$bin:0:grow" 12 4 ;;
			*)
				if expect_only_table "$ERR"; then
					expect_row "$(k grow)" 12 4
					expect_no_row "$(k xj_sum)"
					expect_no_row "$(k xj_twice)"
					expect_no_row "$(k xj_sum2)"
					expect_no_row "$(k xj_hidden)"
					if [ $sel = all ]; then
						expect_rows_only xjump grow main
					else
						expect_rows_only xjump grow
					fi
				fi
				;;
			esac
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		tc_end
	done
done

[ $N_FAILED -eq 0 ]

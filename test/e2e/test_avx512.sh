#!/usr/bin/env bash
# VEX and EVEX instructions that capstone 4 does not decode (AVX-512's
# kmovq, kortestq, an EVEX vpbroadcastb), as in glibc's __strstr_avx512,
# __memchr_evex and 38 more (test/targets/avx512.c).  The return-site
# sweep went on one byte later, inside such an instruction, and took a
# byte of it for a ret: the int3 written there broke the instruction, and
# the program died of SIGILL or SIGSEGV under either engine (bzip2 with
# --all-modules, in strstr).  Now their length is read from the encoding:
# av_mask has exactly its two returns, the program runs as untraced, rows
# exact; and glibc's strstr variants, traced, give exactly the 8 events
# of main's 4 calls.
. "$(dirname "$0")/lib.sh"

k() { src_key avx512 "$1"; }

events() { sed -n -E 's/^iprofmem: stats: events ([0-9]+) .*/\1/p' "$ERR"; }

for v in $DEBUG_VARIANTS $NODEBUG_VARIANTS; do
	bin=$TGT/avx512.$v
	tc "avx512.$v: AVX-512 instructions in a traced function"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip -- "$bin" "$MARK"
		expect_exit 0
		expect_same_as_plain
		grep -qx 'avx512: 3 3 3 3' "$OUT" || fail "output '$(head -c 100 "$OUT")'"
		case $v in
		*nodebug)	# the symbol table's keys, beside a warning
			expect_table "$ERR" && expect_row "$bin:0:grow" 12 4 ;;
		*)
			if expect_only_table "$ERR"; then
				expect_row "$(k grow)" 12 4
				expect_no_row "$(k av_mask)"
				expect_rows_only avx512 grow main
			fi
			;;
		esac
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end

	tc "avx512.$v: --list-funcs counts av_mask's two returns"
	if need_file "$bin"; then
		run_ip --list-funcs -e av_mask -- "$bin"
		expect_exit 0
		line=$(grep -E '[: ]av_mask$' "$OUT")
		returns=$(awk '{ print $2 }' <<<"$line")
		[ "$returns" = 2 ] || fail "returns '$returns', not 2 (line '$line')"
		[ ${#TC_ERRS[@]} -eq 0 ] || { note_file "$OUT"; note_file "$ERR"; }
	fi
	tc_end
done

# glibc's own: strstr is __strstr_avx512 where the CPU has AVX-512BW and
# BMI2, another variant elsewhere; main calls it 4 times, grow 4 times.
for v in O0-pie O2-nopie-cet O2-pie-nodebug; do
	bin=$TGT/avx512.$v
	tc "avx512.$v: glibc's strstr variants traced"
	if need_file "$bin"; then
		run_plain "$bin" "$MARK"
		run_ip --stats -e 'libc.so.6:__strstr_*' -e grow -- "$bin" "$MARK"
		expect_exit 0
		expect_same_as_plain
		grep -qx 'avx512: 3 3 3 3' "$OUT" || fail "output '$(head -c 100 "$OUT")'"
		n=$(events)
		[ "$n" = 16 ] || fail "events '$n', not 16"
		if expect_table "$ERR"; then
			case $v in
			*nodebug) expect_row "$bin:0:grow" 12 4 ;;
			*) expect_row "$(k grow)" 12 4 ;;
			esac
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# --memory=all|anon|file (issue 16): the part of RSS that counts, read from
# each --rss-source.  On the kinds target (test/targets/kinds.c), in every
# debug variant: a function that runs 256 KiB of code never run before
# (file pages), one that maps and reads a 32-page file (file pages), one
# that writes 50 anonymous pages, and their caller, each row exact for each
# choice, and no row where the call grew nothing of that part.
. "$(dirname "$0")/lib.sh"

# kinds_expect FUNC PART: "PAGES" or "-" (no row), as in kinds.c.
kinds_expect() {
	case $1:$2 in
	run_code:all | run_code:file)		echo 64 ;;
	read_file:all | read_file:file)		echo 32 ;;
	alloc_pages:all | alloc_pages:anon)	echo 50 ;;
	run:all)	echo 146 ;;
	run:anon)	echo 50 ;;
	run:file)	echo 96 ;;
	*)		echo - ;;
	esac
}

for v in $DEBUG_VARIANTS; do
	bin=$TGT/kinds.$v
	for src in statm status smaps; do
		for part in all anon file; do
			tc "memory.$v: --rss-source=$src --memory=$part: exact rows"
			if need_file "$bin"; then
				run_ip --rss-source=$src --memory=$part -- "$bin" "$MARK"
				expect_exit 0
				if expect_only_table "$ERR"; then
					for f in run_code read_file alloc_pages run; do
						p=$(kinds_expect $f $part)
						if [ "$p" = - ]; then
							expect_no_row "$(src_key kinds $f)"
						else
							expect_row "$(src_key kinds $f)" "$p" 1
						fi
					done
					expect_rows_only kinds run_code read_file alloc_pages run setup make_file main
					[ ${#TC_ERRS[@]} -ne 0 ] && note_file "$ERR"
				fi
			fi
			tc_end
		done
	done
done

tc "memory: the option's order does not matter (--memory before --rss-source)"
bin=$TGT/kinds.O2-pie
if need_file "$bin"; then
	run_ip --memory=anon --rss-source=smaps -- "$bin" "$MARK"
	expect_exit 0
	expect_table "$ERR" && expect_row "$(src_key kinds run)" 50 1
fi
tc_end

tc "memory: a bad --memory is a usage error (125)"
if need_file "$bin"; then
	run_ip --memory=heap -- "$bin" "$MARK"
	expect_exit 125
	expect_one_error_line
	grep -qF "iprofmem: --memory: 'heap' is not one of all, anon, file (see iprofmem --help)" "$ERR" ||
		fail "message '$(head -n1 "$ERR")'"
fi
tc_end

[ $N_FAILED -eq 0 ]

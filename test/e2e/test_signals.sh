#!/usr/bin/env bash
# A tracee killed by a signal: iprofmem exits 128+N after printing the table
# of every call that returned before (exact rows), with no row for main or
# the function that died, and leaves no process behind.
. "$(dirname "$0")/lib.sh"

MEM_MAIN_RETURNS=0
for v in O0-pie O0-nopie-cet O2-pie O2-nopie-cet; do
	bin=$TGT/mem.$v
	opt=${v%%-*}
	for s in abrt:6 segv:11 term:15 kill:9; do
		mode=${s%:*} sig=${s#*:}
		tc "mem.$v $mode: exit $((128 + sig)), table of the calls that returned"
		if need_file "$bin"; then
			run_ip -- "$bin" "$mode" "$MARK"
			expect_exit $((128 + sig))
			if expect_only_table "$ERR"; then
				expect_sorted
				for g in $MEM_GROUPS; do mem_check_group "$g" "$opt"; done
				mem_check_rest
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
		fi
		tc_end
	done
done

[ $N_FAILED -eq 0 ]

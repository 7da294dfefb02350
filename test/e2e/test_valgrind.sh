#!/usr/bin/env bash
# iprofmem itself under valgrind memcheck (the tracees run natively:
# --trace-children=no), in launch mode (one process, threads, -f with
# forks, libc functions selected), on its error paths and --list-funcs,
# in attach mode (one attach/detach cycle on a multi-threaded process) and
# as `iprofmem report RECORD`.  Each case: no memcheck error,
# nothing definitely, indirectly or possibly lost, and the output as exact
# as without valgrind.
#
# test/run.sh runs this script once, against the normal build (-O2 -g):
# the ASan build cannot run under valgrind, and its own leak checker
# already covers it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

VG_EXIT=97		# memcheck's status when it found an error or a leak
IPROFMEM_REAL=$IPROFMEM
E2E_TIMEOUT=$((E2E_TIMEOUT * 3))	# valgrind slows iprofmem down ~20x

# run_ip and start_ip run $IPROFMEM: a wrapper that runs the real one
# under memcheck, its report in $WORK/vg.PID (PID: iprofmem's, as valgrind
# execs in place, so the wrapper's PID is the tracer's).
IPROFMEM=$WORK/vg-iprofmem
cat >"$IPROFMEM" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --trace-children=no --child-silent-after-fork=yes \\
	--leak-check=full --show-leak-kinds=definite,indirect,possible \\
	--errors-for-leak-kinds=definite,indirect,possible \\
	--error-exitcode=$VG_EXIT --log-file="$WORK/vg.%p" "$IPROFMEM_REAL" "\$@"
EOF
chmod +x "$IPROFMEM"

# expect_clean: exactly one memcheck report since the last vg_reset, with
# no error and nothing lost.
vg_reset() { rm -f "$WORK"/vg.*; }
expect_clean() {
	local f n=0
	for f in "$WORK"/vg.*; do
		[ -e "$f" ] || continue
		grep -q 'ERROR SUMMARY:' "$f" || continue
		n=$((n + 1))
		grep -q 'ERROR SUMMARY: 0 errors' "$f" ||
			fail "memcheck: $(grep -m1 -o 'ERROR SUMMARY: [0-9]* errors' "$f")"
		if ! grep -q 'All heap blocks were freed' "$f"; then
			local k
			for k in definitely indirectly possibly; do
				grep -q "$k lost: 0 bytes in 0 blocks" "$f" ||
					fail "memcheck: $(grep -m1 -o "$k lost: .*" "$f")"
			done
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$f"
	done
	[ $n -eq 1 ] || fail "$n memcheck reports, want 1 (valgrind missing? 'make deps')"
	[ "$RC" -ne $VG_EXIT ] || fail "exit status $VG_EXIT: memcheck found something"
}

command -v valgrind >/dev/null || { tc "valgrind: installed"; fail "no valgrind: run 'make deps'"; tc_end; exit 1; }

# ---------------------------------------------------------- launch mode

tc "valgrind: launch mem.O2-pie: no error, no leak, every row exact"
if need_file "$TGT/mem.O2-pie"; then
	vg_reset
	run_ip -- "$TGT/mem.O2-pie" "$MARK"
	expect_exit 0
	expect_clean
	if expect_only_table "$ERR"; then
		for g in $MEM_GROUPS; do mem_check_group "$g" O2; done
		mem_check_rest
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
fi
tc_end

tc "valgrind: launch threads.O2-pie-cet: no error, no leak, thread rows exact"
if need_file "$TGT/threads.O2-pie-cet"; then
	vg_reset
	run_ip -- "$TGT/threads.O2-pie-cet" "$MARK"
	expect_exit 0
	expect_clean
	if expect_only_table "$ERR"; then
		expect_row "$(src_key threads thread_work)" 100 50
		expect_row "$(src_key threads main_work)" 10 10
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
fi
tc_end

tc "valgrind: launch -f --per-process forks.O2-pie: no error, no leak, ends as untraced"
if need_file "$TGT/forks.O2-pie"; then
	vg_reset
	run_plain "$TGT/forks.O2-pie" "$MARK"
	run_ip -f --per-process --tree -- "$TGT/forks.O2-pie" "$MARK"
	expect_same_as_plain
	expect_clean
	grep -q '^PID [0-9]*: ' "$ERR" || { fail "no per-process table"; note_file "$ERR"; }
fi
tc_end

tc "valgrind: libc's malloc selected (its DWARF from libc6-dbg): no error, no leak"
if need_file "$TGT/sel_malloc.O2-pie"; then
	vg_reset
	run_ip -e 'libc.so.6:malloc' -e 'libc.so.6:free' -- "$TGT/sel_malloc.O2-pie" "$MARK"
	expect_exit 0
	expect_clean
	expect_table "$ERR" && { grep -q ':malloc$' "$ERR" || fail "no row for malloc"; }
fi
tc_end

# iprofmem's own errors: each path frees what it took before exiting
for c in "125 --bogus" "127 -- $WORK/no-such-program" "1 -p 999999999" \
	 "0 --list-funcs --all-modules -- $TGT/mem.O0-pie"; do
	want=${c%% *}
	# shellcheck disable=SC2086  # the case is a list of arguments
	set -- ${c#* }
	name=${*//$WORK\//}
	tc "valgrind: iprofmem ${name//$TGT\//}: exit $want, no error, no leak"
	vg_reset
	run_ip "$@"
	expect_exit "$want"
	expect_clean
	tc_end
done

# ---------------------------------------------------------- attach mode

tc "valgrind: attach/detach attach_work.O2-pie-cet: no error, no leak, batch exact"
bin=$TGT/attach_work.O2-pie-cet
if need_file "$bin"; then
	rm -f "$WORK/ready" "$WORK/progress"
	tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$bin" "$WORK/ready" "$WORK/progress"
	if tgt_ready "$WORK/ready"; then
		vg_reset
		start_ip -p "$TPID"
		if wait_line "$WORK/progress" "^batch 1 21\$" 60 "$TPID"; then
			ip=$(tracer_of "$TPID")	# valgrind runs iprofmem in place
			if [ -z "$ip" ] || [ "$ip" = 0 ]; then
				fail "batch 1 done, but the process has no tracer"
				ip_abort
			else
				kill -INT "$ip"
			fi
		else
			ip_abort
		fi
		finish_ip
		expect_exit 0
		expect_clean
		if expect_only_table "$ERR"; then
			expect_row "$(src_key attach_work batch_touch)" 21 21
			expect_rows_only attach_work batch_touch
		fi
		wait_line "$WORK/progress" "^detached 1\$" 10 "$TPID"
		kill -USR1 "$TPID" 2>/dev/null
	fi
	tgt_finish
	[ "$TRC" = 0 ] || fail "the target exited $TRC"
	grep -q 'every round agreed' "$WORK/tgt.out" || fail "target: $(head -c 100 "$WORK/tgt.out")"
fi
tc_end

# ---------------------------------------------------------- report RECORD

tc "valgrind: report RECORD in every view: no error, no leak, same output as without"
if need_file "$TGT/mem.O2-pie"; then
	{ timeout -k 5 "$E2E_TIMEOUT" "$IPROFMEM_REAL" --record="$WORK/rec" -o /dev/null \
		-- "$TGT/mem.O2-pie" "$MARK" >/dev/null 2>&1; } 2>/dev/null
	[ -s "$WORK/rec" ] || fail "no record written"
	for view in "" --tree "--format=json" "--format=csv" "--columns=self,peak,total-calls --top=5"; do
		# shellcheck disable=SC2086  # the view is a list of options
		{ timeout -k 5 "$E2E_TIMEOUT" "$IPROFMEM_REAL" report $view "$WORK/rec" \
			>"$WORK/want.out" 2>"$WORK/want.err"; } 2>/dev/null
		vg_reset
		# shellcheck disable=SC2086
		run_ip report $view "$WORK/rec"
		expect_exit 0
		expect_clean
		cmp -s "$OUT" "$WORK/want.out" && cmp -s "$ERR" "$WORK/want.err" ||
			fail "report $view: output differs from the run without valgrind"
	done
	# the SVG, folded and pprof writers too
	vg_reset
	run_ip report --flamegraph="$WORK/f.svg" --timeline="$WORK/t.svg" \
		--folded="$WORK/f.folded" --format=pprof -o "$WORK/p.pb.gz" "$WORK/rec"
	expect_exit 0
	expect_clean
	[ -s "$WORK/f.svg" ] && [ -s "$WORK/t.svg" ] && [ -s "$WORK/f.folded" ] &&
		[ -s "$WORK/p.pb.gz" ] ||
		fail "report --flamegraph --timeline --folded --format=pprof: a file is missing"
fi
tc_end

[ $N_FAILED -eq 0 ]

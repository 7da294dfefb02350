#!/usr/bin/env bash
# Signals delivered to a thread deep in traced calls, handled by a traced
# handler on the thread's stack and on an alternate signal stack mapped
# above it (test/targets/sigstorm.c; `make stress` runs 10,000 of them).
# Checks: the same stdout and exit status as untraced; the handler's row,
# N pages in N calls; work()'s, N pages in its one call (the handlers'
# pages count for the calls they interrupted); inner()'s, exactly the
# calls the target saw interrupted.  A shadow stack that took a handler
# entered above the interrupted frames for a return past them lost the
# rows of work() and inner().
. "$(dirname "$0")/lib.sh"

N=300

for v in O0-pie O0-nopie; do
	bin=$TGT/sigstorm.$v
	for mode in stack altstack; do
		tc "sigstorm.$v: $N signals, handler on the $mode: rows exact, output as untraced"
		if need_file "$bin"; then
			size=$(nm -S "$bin" | awk '$4 == "inner" { print $2 }')
			run_plain "$bin" "$N" "$size" "$mode" "$MARK"
			run_ip -o "$WORK/table" -- "$bin" "$N" "$size" "$mode" "$MARK"
			expect_same_as_plain
			hit=$(sed -n 's/^sigstorm: inner calls [0-9]*, interrupted \([0-9]*\)$/\1/p' "$ERR")
			[ -n "$hit" ] || fail "the target did not say how many inner() calls it saw interrupted"
			if expect_table "$WORK/table"; then
				expect_row "$(src_key sigstorm on_usr1)" $N $N
				expect_row "$(src_key sigstorm work)" $N 1
				if [ "${hit:-0}" -gt 0 ]; then
					expect_row "$(src_key sigstorm inner)" "$hit" "$hit"
				else
					expect_no_row "$(src_key sigstorm inner)"
				fi
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/table"
			fi
		fi
		tc_end
	done
done

# -O2: inner() is a leaf whose ret is a window of its own, and work()
# returns through `add $8,%rsp; ret`: the signals land in their stubs too
# (a signal between a ret probe's push and its call once left the stack
# pointer 8 bytes low: the program died at work()'s return).  inner()'s
# row is not exact here (its entry may run out of line: sigstorm.c).
N2=1000
for v in O2-pie O2-nopie-cet; do
	bin=$TGT/sigstorm.$v
	tc "sigstorm.$v: $N2 signals, handler on the stack: rows of on_usr1 and work exact, output as untraced"
	if need_file "$bin"; then
		size=$(nm -S "$bin" | awk '$4 == "inner" { print $2 }')
		run_plain "$bin" "$N2" "$size" stack "$MARK"
		run_ip -o "$WORK/table" -- "$bin" "$N2" "$size" stack "$MARK"
		expect_same_as_plain
		if expect_table "$WORK/table"; then
			expect_row "$(src_key sigstorm on_usr1)" $N2 $N2
			expect_row "$(src_key sigstorm work)" $N2 1
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/table"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

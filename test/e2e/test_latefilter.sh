#!/usr/bin/env bash
# A seccomp filter that the program installs while traced, after the
# probes' set-up, refusing the pread64 they read statm with
# (test/targets/latefilter.c).  Through libc's prctl or syscall (modes
# errno, trap, kill, sys), iprofmem's watch sees it coming: one warning,
# the probes make no more system calls (they stop for the RSS), and the
# program runs as untraced, touch's row exact, even under a filter that
# kills.  By a syscall instruction of its own (rawtrap, rawkill), the
# system-call watch (perf events on seccomp's and prctl's returns) sees
# it at the next probe, before the probe's own call: the same.  Where
# perf events are refused (as an ordinary user; test_fallbacks.sh runs
# that case as root too), the SIGSYS of a probe's call becomes a failed
# call, --stats counts it, and the probes stop for the RSS from then on;
# a filter that kills kills, and iprofmem names --engine=int3.  As root
# the system-call watch must be on.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
WARN_RE='^iprofmem: warning: process [0-9]+: its probes cannot read /proc/self/statm \(out of its reach after a chroot, or refused by a seccomp filter\): they stop for the RSS, as int3 sites do$'
NOSYS_RE='^iprofmem: warning: process [0-9]+ installs a seccomp filter: its probes make no more system calls, and stop for the RSS when it may have changed$'
k() { src_key latefilter "$1"; }
# stat N: the number after "N " in the stats' statm line
stat_n() { sed -n -E "s/^iprofmem: stats: statm reads .* $1 ([0-9]+)[,;].*/\1/p" "$ERR"; }
# swatch: WATCHED=1 if --stats in $ERR says the system-call watch was on
# (as root under the probes it must be), else 0; its stops and filters
# seen in SW_SEEN
swatch() {
	SW_SEEN=$(sed -n -E 's/^iprofmem: stats: system-call watch: on in 1 process .*; ([0-9]+) stops, ([0-9]+) filters seen$/\1 \2/p' "$ERR")
	WATCHED=0
	if [ -n "$SW_SEEN" ]; then
		WATCHED=1
	elif [ "$ENGINE" != int3 ] && [ "$(id -u)" = 0 ]; then
		fail "the system-call watch is not on as root: $(grep 'system-call watch' "$ERR")"
	fi
}

for v in $DEBUG_VARIANTS; do
	bin=$TGT/latefilter.$v
	for mode in errno trap kill sys rawtrap; do
		tc "latefilter.$v $mode: a filter installed while traced: as untraced, touch's row exact"
		if need_file "$bin"; then
			case $mode in
			raw*) want_re=$WARN_RE ;;
			*) want_re=$NOSYS_RE ;;
			esac
			run_plain "$bin" "$mode" "$MARK"
			run_ip --stats -- "$bin" "$mode" "$MARK"
			expect_exit 0
			expect_same_as_plain
			swatch
			[ $WATCHED = 1 ] && want_re=$NOSYS_RE
			if [ $WATCHED = 1 ]; then
				# raw: seen by that watch alone, at the probe
				# after the call, and after prctl(NO_NEW_PRIVS)
				# too where a traced call comes between (-O0's
				# raw_seccomp: two stops).  Through libc: by the
				# offset-table watch first, then no stop.
				case $mode in
				raw*) [ "$SW_SEEN" = "1 1" ] || [ "$SW_SEEN" = "2 1" ] ;;
				*) [ "$SW_SEEN" = "0 0" ] ;;
				esac ||
					fail "system-call watch: '$SW_SEEN' stops and filters seen"
			fi
			if expect_table "$ERR"; then
				seen=0
				for l in "${OTHER[@]}"; do
					case $l in "iprofmem: stats: "*) continue ;; esac
					if [ "$ENGINE" = int3 ] || ! grep -qE "$want_re" <<<"$l"; then
						fail "stderr: '$l'"
						break
					fi
					seen=1
				done
				[ "$ENGINE" = int3 ] || [ $seen = 1 ] || fail "no warning matching $want_re"
				expect_row "$(k touch)" 28 3
				expect_rows_only latefilter touch install setup main
			fi
			n=$(stat_n 'refused by seccomp')
			stops=$(stat_n 'read at a stop')
			if [ "$ENGINE" != int3 ] && [ "$mode" = rawtrap ] && [ $WATCHED = 0 ]; then
				[ -n "$n" ] && [ "$n" -ge 1 ] || fail "refused by seccomp '$n', want 1 or more"
			else
				[ "$n" = 0 ] || fail "refused by seccomp '$n', want 0"
			fi
			# the watch: the program's entries for prctl and
			# syscall, pointed at its stubs at the first RSS read
			w=$(sed -n -E 's/^iprofmem: stats: seccomp watch: ([0-9]+) entries of prctl and syscall, set up at ([0-9]+) stops$/\1 \2/p' "$ERR")
			if [ "$ENGINE" = int3 ]; then
				[ "$w" = "0 0" ] || fail "seccomp watch '$w', want '0 0'"
			else
				[ "$w" = "2 1" ] || fail "seccomp watch '$w', want '2 1' (entries, stops)"
			fi
			# touch(4, 8) and touch(12, 16) change the RSS: their
			# probes read it at a stop after the filter
			if [ "$ENGINE" = int3 ]; then
				[ "$stops" = 0 ] || fail "read at a stop '$stops', want 0"
			else
				[ -n "$stops" ] && [ "$stops" -ge 2 ] || fail "read at a stop '$stops', want 2 or more"
			fi
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
		tc_end
	done
done

# A child forked after the filter has it too: nothing may be injected
# into it.  Not followed, it runs as untraced; followed (-f), its probed
# sites are given back to it, untraced, with a warning (under int3 its
# touch is counted).
bin=$TGT/latefilter.O2-pie
CHILD_RE='^iprofmem: warning: process [0-9]+ has its parent.s seccomp filter: its probed sites are not traced \(--engine=int3 traces them\)$'
for f in "" -f; do
	tc "latefilter.O2-pie forkkill ${f:-(no -f)}: a child forked under the filter runs as untraced"
	if need_file "$bin"; then
		run_plain "$bin" forkkill "$MARK"
		run_ip $f -- "$bin" forkkill "$MARK"
		expect_exit 0
		expect_same_as_plain
		if expect_table "$ERR"; then
			want=2
			[ "$ENGINE" = int3 ] && want=0
			[ "$ENGINE" != int3 ] && [ -z "$f" ] && want=1
			[ ${#OTHER[@]} = $want ] || fail "$want warnings wanted, got: ${OTHER[*]}"
			[ $want = 0 ] || grep -qE "$NOSYS_RE" "$ERR" || fail "no warning that the process installs a filter"
			[ $want = 2 ] && ! grep -qE "$CHILD_RE" "$ERR" && fail "no warning about the child"
			if [ "$ENGINE" = int3 ] && [ -n "$f" ]; then
				expect_row "$(k touch)" 32 4
			else
				expect_row "$(k touch)" 28 3
			fi
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# A fork before any probe read the RSS (--funcs names touch only, so
# main's calls are not events): the watch is set up in neither process
# yet.  The child installs a killing filter, then calls touch: followed,
# its probes must ask for the watch as its parent's would, see the
# filter there, and stop for the RSS rather than read statm (a kill);
# not followed, it runs as untraced.
printf 'touch\n' >"$WORK/touch.funcs"
for f in "" -f; do
	tc "latefilter.O2-pie forkfirst ${f:-(no -f)}: a child that installs a filter before any event runs as untraced"
	if need_file "$bin"; then
		run_plain "$bin" forkfirst "$MARK"
		run_ip $f --funcs="$WORK/touch.funcs" -- "$bin" forkfirst "$MARK"
		expect_exit 0
		expect_same_as_plain
		if expect_table "$ERR"; then
			want=2
			[ "$ENGINE" = int3 ] && want=0
			[ "$ENGINE" != int3 ] && [ -z "$f" ] && want=1
			[ ${#OTHER[@]} = $want ] || fail "$want warnings wanted, got: ${OTHER[*]}"
			for l in "${OTHER[@]}"; do
				grep -qE "$NOSYS_RE" <<<"$l" || fail "stderr: '$l'"
			done
			if [ -n "$f" ]; then
				expect_row "$(k touch)" 32 4
			else
				expect_row "$(k touch)" 28 3
			fi
			expect_rows_only latefilter touch
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# busy: the watch rewrites the entries of prctl and syscall while a
# thread of the program calls them (--funcs names touch only: the first
# event comes with the thread running).  It does so by a store of the
# stopped thread, one aligned word; a read-only page (-z now, RELRO) is
# made writable for it and read-only again; under -z lazy it is writable
# already.  Every call of the thread returns as untraced, the program's
# own mappings end as untraced (printed by it), and the watch sees the
# filter that comes after: one warning, touch's row exact.
for v in $DEBUG_VARIANTS O2-pie-lazy; do
	bin=$TGT/latefilter.$v
	tc "latefilter.$v busy: the watch's entries rewritten while a thread calls them"
	if need_file "$bin"; then
		run_plain "$bin" busy "$MARK"
		run_ip --stats --funcs="$WORK/touch.funcs" -- "$bin" busy "$MARK"
		expect_exit 0
		expect_same_as_plain
		grep -q '^latefilter: the thread.s calls all returned$' "$OUT" ||
			fail "the thread's calls did not all return"
		[ "$(grep -c '^latefilter: maps ' "$OUT")" -ge 2 ] ||
			fail "fewer than two mappings of its file printed"
		if expect_table "$ERR"; then
			warned=0
			for l in "${OTHER[@]}"; do
				case $l in "iprofmem: stats: "*) continue ;; esac
				if [ "$ENGINE" != int3 ] && grep -qE "$NOSYS_RE" <<<"$l"; then
					warned=$((warned + 1))
				else
					fail "stderr: '$l'"
				fi
			done
			[ "$ENGINE" = int3 ] || [ $warned = 1 ] || fail "$warned warnings that it installs a filter, want 1"
			expect_row "$(k touch)" 28 3
			expect_rows_only latefilter touch
		fi
		w=$(sed -n -E 's/^iprofmem: stats: seccomp watch: ([0-9]+) entries of prctl and syscall, set up at ([0-9]+) stops$/\1 \2/p' "$ERR")
		if [ "$ENGINE" = int3 ]; then
			[ "$w" = "0 0" ] || fail "seccomp watch '$w', want '0 0'"
		else
			[ "$w" = "2 1" ] || fail "seccomp watch '$w', want '2 1' (entries, stops)"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

# A raw filter that kills outright (SECCOMP_RET_KILL_PROCESS by a
# syscall instruction): seen by the system-call watch, the program runs
# as untraced (the loop above); without that watch, under probes the
# program dies of SIGSYS at the next statm read, and iprofmem says to use
# --engine=int3, under which it runs as untraced, rows exact.
bin=$TGT/latefilter.O2-pie
tc "latefilter.O2-pie rawkill: watched or under int3 as untraced; unwatched, a warning names --engine=int3"
if need_file "$bin"; then
	run_plain "$bin" rawkill "$MARK"
	if [ "$ENGINE" = int3 ]; then
		run_ip -- "$bin" rawkill "$MARK"
		expect_exit 0
		expect_same_as_plain
		expect_only_table "$ERR" && expect_row "$(k touch)" 28 3
	else
		run_ip --stats -- "$bin" rawkill "$MARK"
		swatch
	fi
	if [ "$ENGINE" != int3 ] && [ $WATCHED = 1 ]; then
		expect_exit 0
		expect_same_as_plain
		[ "$SW_SEEN" = "1 1" ] || fail "system-call watch: '$SW_SEEN' stops and filters seen, want '1 1'"
		[ "$(grep -cE "$NOSYS_RE" "$ERR")" = 1 ] || fail "not one warning that it installs a filter"
		if expect_table "$ERR"; then
			for l in "${OTHER[@]}"; do
				case $l in "iprofmem: stats: "*) continue ;; esac
				grep -qE "$NOSYS_RE" <<<"$l" || fail "stderr: '$l'"
			done
			expect_row "$(k touch)" 28 3
		fi
	elif [ "$ENGINE" != int3 ]; then
		expect_exit $((128 + 31))
		grep -qE '^iprofmem: warning: process [0-9]+ was killed by SIGSYS: if it is not killed untraced, a seccomp filter of its own killed a probe.s system call; trace it with --engine=int3$' "$ERR" ||
			{ fail "no warning naming --engine=int3"; note_file "$ERR"; }
		run_ip --engine=int3 -- "$bin" rawkill "$MARK"
		expect_exit 0
		expect_same_as_plain
		expect_only_table "$ERR" && expect_row "$(k touch)" 28 3
	fi
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# rawtsync: a thread installs the killing filter for every thread
# (SECCOMP_FILTER_FLAG_TSYNC) by a syscall instruction, and is joined;
# the main thread's next probe sees its call and makes no more system
# calls of its own: the program runs as untraced.  Unwatched, the kill
# at the next statm read, as for rawkill.
for v in O0-pie O2-pie; do
	bin=$TGT/latefilter.$v
	tc "latefilter.$v rawtsync: another thread's raw filter for all threads, seen by the system-call watch"
	if need_file "$bin"; then
		run_plain "$bin" rawtsync "$MARK"
		run_ip --stats -- "$bin" rawtsync "$MARK"
		swatch
		if [ "$ENGINE" = int3 ] || [ $WATCHED = 1 ]; then
			expect_exit 0
			expect_same_as_plain
			if [ $WATCHED = 1 ]; then
				case $SW_SEEN in
				"1 1" | "2 1") ;;
				*) fail "system-call watch: '$SW_SEEN' stops and filters seen" ;;
				esac
				[ "$(grep -cE "$NOSYS_RE" "$ERR")" = 1 ] || fail "not one warning that it installs a filter"
			fi
			if expect_table "$ERR"; then
				for l in "${OTHER[@]}"; do
					case $l in "iprofmem: stats: "*) continue ;; esac
					[ "$ENGINE" != int3 ] && grep -qE "$NOSYS_RE" <<<"$l" && continue
					fail "stderr: '$l'"
				done
				expect_row "$(k touch)" 28 3
				expect_rows_only latefilter touch install install_thread setup main
			fi
		else
			expect_exit $((128 + 31))
			grep -qE '^iprofmem: warning: process [0-9]+ was killed by SIGSYS: .* trace it with --engine=int3$' "$ERR" ||
				fail "no warning naming --engine=int3"
		fi
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

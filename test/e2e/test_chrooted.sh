#!/usr/bin/env bash
# A program that chroots and closes its descriptors, as daemons do at
# start-up (test/targets/chrooted.c): the probe's statm descriptor is gone
# and /proc/self/statm is out of the program's reach.  Its probes then
# stop for iprofmem to read the RSS from outside, as the int3 engine does
# (before, they recorded none and the rows vanished: touch had 1 call).
# touch's row is exact, with and without -f (the forked child, chrooted
# from birth, gets no descriptor either; a vfork child not followed stops
# on its parent's probes); the program's output and exit
# status are the untraced ones; stderr has the table and, under probes,
# one warning per such process.  Not root, the program makes a user
# namespace of its own to chroot in.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
EMPTY=$WORK/empty
mkdir -p "$EMPTY"
WARN_RE='^iprofmem: warning: process [0-9]+: its probes cannot read /proc/self/statm \(out of its reach after a chroot, or refused by a seccomp filter\): they stop for the RSS, as int3 sites do$'
k() { src_key chrooted "$1"; }

bin=$TGT/chrooted.O2-pie
if [ -x "$bin" ] && run_plain "$bin" "$EMPTY" "$MARK" && [ "$PRC" = 77 ]; then
	echo "SKIP ${TAG}chrooted: $(sed -n 's/^chrooted: //p' "$POUT")"
	exit 0
fi

for v in $DEBUG_VARIANTS; do
	bin=$TGT/chrooted.$v
	for f in "" -f; do
		tc "chrooted.$v${f:+ $f}: chrooted, its descriptors closed: touch's rows exact"
		if need_file "$bin"; then
			run_plain "$bin" "$EMPTY" "$MARK"
			run_ip $f -- "$bin" "$EMPTY" "$MARK"
			expect_exit 0
			expect_same_as_plain
			if expect_table "$ERR"; then
				for l in "${OTHER[@]}"; do
					if [ "$ENGINE" = int3 ] || ! grep -qE "$WARN_RE" <<<"$l"; then
						fail "stderr: '$l'"
						note_file "$ERR"
						break
					fi
				done
				if [ -z "$f" ]; then
					expect_row "$(k touch)" 20 4
				else
					# the child's 16 pages, and code it may fault in again
					find_row "$(k touch)"
					[ "$ROW_COUNT" = 1 ] && [ "$(row_calls "$ROW")" = 5 ] &&
						awk -v m="$(row_mb "$ROW")" 'BEGIN { exit !(m * 256 + 0.5 >= 36) }' ||
						fail "want one row for touch with 5 calls and 36 pages or more: '$ROW'"
				fi
				expect_rows_only chrooted touch setup main
			fi
		fi
		tc_end
	done
done

tc "chrooted.O2-pie --stats: the probes' RSS read at stops is counted"
bin=$TGT/chrooted.O2-pie
if need_file "$bin"; then
	run_ip --stats -- "$bin" "$EMPTY" "$MARK"
	expect_exit 0
	n=$(sed -n -E 's/^iprofmem: stats: statm reads .* read at a stop ([0-9]+),.*/\1/p' "$ERR")
	if [ "$ENGINE" = int3 ]; then
		[ "$n" = 0 ] || fail "read at a stop '$n' under int3, want 0"
	else
		# touch(4, 8), the fork, touch(28, 4) make RSS change after
		# the chroot: the events after each read statm
		[ -n "$n" ] && [ "$n" -ge 2 ] || fail "read at a stop '$n', want 2 or more"
		[ "$(grep -cE "$WARN_RE" "$ERR")" = 1 ] || fail "want one warning"
	fi
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# -p on a daemon already chrooted, its descriptors closed: the probes'
# set-up cannot open statm either; they are set up without it and stop
# for their RSS (with the fault gate, only when it may have changed),
# where before the int3 engine took the whole process.  serve_one
# touches one new page per call: its row's memory is its calls' pages
# exactly.  The daemon runs on after the detach and ends as untraced.
tc "chrooted.O2-pie serve: -p on a chrooted daemon: probes, serve_one exact, unharmed"
bin=$TGT/chrooted.O2-pie
if need_file "$bin"; then
	# its own marker: run_ip takes whatever holds $MARK for its leftovers
	dmark=$WORK/daemon
	start_bg "$WORK/serve.out" "$WORK/serve.err" "$bin" "$EMPTY" serve "$dmark"
	for _ in $(seq 500); do grep -q serving "$WORK/serve.out" && break; sleep 0.01; done
	# the daemon, not the timeout that runs it
	tp=$(pgrep -f -- "^[^ ]*/chrooted\.O2-pie [^ ]* serve $dmark" | head -n 1)
	if [ -z "$tp" ] || ! grep -q serving "$WORK/serve.out"; then
		fail "the daemon did not start"
	else
		run_ip --stats --duration=0.5 -p "$tp"
		expect_exit 0
		if [ "$ENGINE" != int3 ]; then
			probe=$(sed -n -E 's/^iprofmem: stats: events [0-9]+ \(probe ([0-9]+),.*/\1/p' "$ERR")
			[ -n "$probe" ] && [ "$probe" -gt 0 ] || fail "no event by probes ($probe)"
		fi
		expect_table "$ERR" && find_row "$(k serve_one)"
		calls=$(row_calls "${ROW:-}")
		if [ "${ROW_COUNT:-0}" != 1 ] || [ "${calls:-0}" -lt 10 ]; then
			fail "want one row for serve_one with 10 calls or more: '$ROW'"
		else
			[ "$ROW" = "$(row_text "$calls" "$calls" "$(k serve_one)")" ] ||
				fail "serve_one: '$ROW', not one page per call"
		fi
	fi
	pkill -TERM -f -- "^[^ ]*/chrooted\.O2-pie [^ ]* serve $dmark"
	finish_bg
	[ "$BG_RC" = 0 ] || fail "the daemon's exit status $BG_RC, not 0"
	grep -qx 'chrooted: served' "$WORK/serve.out" || fail "the daemon did not end as untraced"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

[ $N_FAILED -eq 0 ]

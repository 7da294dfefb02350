#!/usr/bin/env bash
# --stats (issue 11): one summary on stderr at the end, before the table:
# events by source, sites by kind and engine, statm reads, the set-up's
# time.  The program is bench/empty.c: main calls one empty function N
# times, so the events are exactly 2N + 2 whatever the engine, and the
# sites are main's and empty's: two entries and their returns.  Then an
# attach (-p, test/targets/attach_idle.c): the sites are probes there too.
. "$(dirname "$0")/lib.sh"

EMPTY=$WORK/empty
ENGINE=${IPROFMEM_ENGINE:-auto}

tc "stats: a compiler to build the program"
${CC:-cc} -O0 -g -fcf-protection=none -o "$EMPTY" bench/empty.c 2>"$WORK/cc.log" ||
	{ fail "cannot build bench/empty.c"; note_file "$WORK/cc.log"; }
tc_end

# stat_field REGEX: the first capture of REGEX (sed -E) on the stats lines
stat_field() { sed -n -E "s/^iprofmem: stats: $1.*/\\1/p" "$WORK/err" | head -n 1; }

for n in 0 1000; do
	tc "stats: $n calls: exact events, by source"
	run_ip --stats "$EMPTY" "$n"
	expect_exit 0
	[ "$(grep -c '^iprofmem: stats: ' "$WORK/err")" -ge 4 ] || fail "fewer than 4 stats lines"
	events=$(stat_field 'events ([0-9]+) ')
	probe=$(stat_field 'events [0-9]+ \(probe ([0-9]+),')
	int3=$(stat_field 'events [0-9]+ \(probe [0-9]+, int3 ([0-9]+)')
	[ "$events" = $((2 * n + 2)) ] || fail "events '$events', not $((2 * n + 2))"
	[ -n "$probe" ] && [ -n "$int3" ] && [ $((probe + int3)) = "$events" ] ||
		fail "probe '$probe' + int3 '$int3' is not the events"
	if [ "$ENGINE" = int3 ]; then
		[ "$probe" = 0 ] || fail "the int3 engine took $probe events by probes"
	else
		# empty()'s entry and ret are probed: its calls cost no stop
		[ "$int3" -le 2 ] || fail "$int3 events by int3 stops"
	fi
	reads=$(stat_field 'statm reads ([0-9]+) ')
	gated=$(stat_field 'statm reads [0-9]+ .* gate skipped ([0-9]+)')
	[ -n "$reads" ] && [ $((reads + ${gated:-0})) = "$events" ] ||
		fail "statm reads '$reads' and skipped '${gated:-0}' are not the events"
	tc_end
done

# -e main keeps the dynamic linker's rendezvous breakpoint (a selection by
# name may match a library loaded later): its stops are no site's events,
# though they read statm
tc "stats: -e main: the events are main's two, not the dynamic linker's stops"
run_ip --stats -e main "$EMPTY" 10
expect_exit 0
events=$(stat_field 'events ([0-9]+) ')
int3=$(stat_field 'events [0-9]+ \(probe [0-9]+, int3 ([0-9]+)')
reads=$(stat_field 'statm reads ([0-9]+) ')
[ "$events" = 2 ] || fail "events '$events', not 2 (main's entry and return)"
[ "$ENGINE" = int3 ] && [ "$int3" != 2 ] && fail "int3 events '$int3', not 2"
[ -n "$reads" ] && [ "$reads" -ge 2 ] || fail "statm reads '$reads', fewer than the events"
[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/err"
tc_end

tc "stats: sites by kind add up to main's and empty's"
run_ip --stats "$EMPTY" 10
expect_exit 0
line=$(grep '^iprofmem: stats: sites: ' "$WORK/err")
read -r ep ei rp ri < <(sed -E 's/.*entries ([0-9]+) probe, ([0-9]+) int3; returns ([0-9]+) probe, ([0-9]+) int3.*/\1 \2 \3 \4/' <<<"$line")
[ "$((ep + ei))" = 2 ] || fail "entries: $ep probe + $ei int3, not 2 ($line)"
[ "$((rp + ri))" -ge 2 ] || fail "returns: $rp probe + $ri int3, fewer than 2 ($line)"
[ "$ENGINE" = int3 ] && [ "$((ep + rp))" != 0 ] && fail "the int3 engine patched $((ep + rp)) sites"
grep -q -E '^iprofmem: stats: set-up [0-9]+\.[0-9]{3} s: symbols [0-9]+\.[0-9]{3} s, arming [0-9]+\.[0-9]{3} s \(1 modules\)$' "$WORK/err" ||
	fail "no well-formed set-up line"
[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$WORK/err"
tc_end

tc "stats: -p: the sites are probes there too, and the fault gate says its state"
bin=$TGT/attach_idle.O2-pie
if need_file "$bin"; then
	"$bin" ticks 300 10 0 >/dev/null 2>&1 &
	tp=$!
	sleep 0.3
	run_ip --stats --duration=0.5 -p "$tp"
	expect_exit 0
	line=$(grep '^iprofmem: stats: sites: ' "$ERR")
	ep=$(sed -E 's/.*entries ([0-9]+) probe.*/\1/' <<<"$line")
	if [ "$ENGINE" = int3 ]; then
		[ "$ep" = 0 ] || fail "the int3 engine patched $ep entries"
	else
		[ "${ep:-0}" -gt 0 ] || fail "no entry probed under -p ($line)"
		grep -q -E '^iprofmem: stats: fault gate: (on|off: .+)' "$ERR" ||
			fail "no fault gate line"
	fi
	kill "$tp" 2>/dev/null
	wait "$tp" 2>/dev/null
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

# two processes attached at once, one with threads already running (an
# inherited perf event would miss them: no gate there): the line says
# both, and why the one is off
tc "stats: -p A,B: the fault gate line counts each process's gate"
idle=$TGT/attach_idle.O2-pie
if need_file "$idle"; then
	"$idle" ticks 300 10 0 >/dev/null 2>&1 &
	ta=$!
	rm -f "$WORK/ready"
	# sleep mode: a helper thread waits in read() from the start
	"$idle" sleep "$WORK/ready" "$WORK/progress" 5000 >/dev/null 2>&1 &
	tb=$!
	for _ in $(seq 100); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
	sleep 0.3
	run_ip --stats --duration=0.5 -p "$ta,$tb"
	expect_exit 0
	gate=$(grep '^iprofmem: stats: fault gate: ' "$ERR")
	if [ "$ENGINE" = int3 ]; then
		[ -z "$gate" ] || fail "a fault gate line without probes: $gate"
	else
		case $gate in
		*"fault gate: on in 1 process (kmem:rss_stat, "*" CPUs), off in 1: the process ran threads before its probes were set up") ;;
		# no gate anywhere (not root, perf_event_paranoid 2): the
		# first process's reason
		*"fault gate: off: "?*) [ "$(id -u)" != 0 ] || fail "root, and no gate: $gate" ;;
		*) fail "fault gate line: '$gate'" ;;
		esac
	fi
	kill "$ta" "$tb" 2>/dev/null
	wait "$ta" "$tb" 2>/dev/null
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

tc "stats: without --stats, none"
run_ip "$EMPTY" 10
expect_exit 0
grep -q 'stats:' "$WORK/err" && fail "stats lines without --stats"
tc_end

[ $N_FAILED -eq 0 ]

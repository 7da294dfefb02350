#!/usr/bin/env bash
# The tracepoints' keeper (tracer/probes.c, keep_tracepoints): when the
# default engine opens perf events on tracepoints in the program, a
# process named iprofmem-keeper holds one disabled event of each, so that
# the program's exit is not the tracepoints' last close (which waits for
# two RCU grace periods each).  While iprofmem traces shortfn's loop: the
# keeper is there, found by the pipe it shares with iprofmem; it holds one
# perf event per tracepoint opened (--stats: gate and system-call watch
# on: three) and that pipe's read end, nothing else (no terminal, none of
# the user's files); it is not iprofmem's child, it leads a session of its
# own, and its command line is its name, not the user's arguments (tests
# find programs by them); iprofmem itself keeps no perf event.  Once
# iprofmem has ended, the keeper ends too.  The int3 engine opens no perf
# event and starts no keeper.
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}

# pipe_of PID: the pipes among PID's descriptors, one "pipe:[N]" a line.
pipe_of() { ls -l "/proc/$1/fd" 2>/dev/null | sed -n -E 's/.* -> (pipe:\[[0-9]+\])$/\1/p' | sort -u; }

# keeper_of PID: the keeper whose pipe iprofmem PID holds, if any.
keeper_of() {
	local k p ours
	ours=$(pipe_of "$1")
	[ -n "$ours" ] || return 0
	for k in $(pgrep -x iprofmem-keeper); do
		for p in $(pipe_of "$k"); do
			grep -qxF "$p" <<<"$ours" && { echo "$k"; return 0; }
		done
	done
}

field() { awk -v f="$2" '{ sub(/.*\) /, ""); print $(f - 2) }' "/proc/$1/stat" 2>/dev/null; }

bin=$TGT/shortfn.O2-pie
# (the int3 engine's pass has the last case only: it opens no perf event)
[ "$ENGINE" = int3 ] ||
tc "keeper: one disabled event per tracepoint, in no child of iprofmem's, gone after it"
if [ "$ENGINE" = int3 ]; then
	:
elif [ "$(id -u)" != 0 ] &&
     [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -gt 1 ]; then
	echo "SKIP $TC_NAME: perf events on tracepoints need root here (perf_event_paranoid $(cat /proc/sys/kernel/perf_event_paranoid))"
	TC_NAME=
elif need_file "$bin"; then
	rm -f "$WORK/ready"
	start_ip --stats -e 'sf_*' -- "$bin" loop "$WORK/ready" "$MARK"
	if wait_ready "$WORK/ready"; then
		ip=$READY_PPID
		k=$(keeper_of "$ip")
		if [ -z "$k" ]; then
			fail "no iprofmem-keeper holds a pipe of iprofmem's (keepers: $(pgrep -x iprofmem-keeper | tr '\n' ' '))"
		else
			fds=$(ls -l "/proc/$k/fd" | sed -n -E 's/.* -> //p' | sort | uniq -c | tr -s ' ' | tr '\n' ',')
			[ "$fds" = " 3 anon_inode:[perf_event], 1 $(pipe_of "$k")," ] ||
				fail "the keeper's descriptors: '$fds', not 3 perf events and its pipe"
			[ "$(tr '\0' ' ' <"/proc/$k/cmdline" | sed 's/ *$//')" = iprofmem-keeper ] ||
				fail "the keeper's command line: '$(tr '\0' ' ' <"/proc/$k/cmdline" | head -c 100)'"
			[ "$(field "$k" 4)" != "$ip" ] || fail "the keeper is iprofmem's child"
			[ "$(field "$k" 6)" = "$k" ] || fail "the keeper leads no session of its own (session $(field "$k" 6))"
			if ls -l "/proc/$ip/fd" | grep -q 'perf_event'; then
				fail "iprofmem keeps a perf event itself"
			fi
		fi
		kill -TERM "$READY_PID"
		finish_ip
		expect_exit 143
		grep -qx 'iprofmem: stats: fault gate: on (kmem:rss_stat, [0-9]* CPUs)' "$ERR" ||
			fail "fault gate not on: $(grep 'fault gate' "$ERR")"
		grep -q '^iprofmem: stats: system-call watch: on in 1 process' "$ERR" ||
			fail "system-call watch not on: $(grep 'system-call watch' "$ERR")"
		if [ -n "$k" ]; then
			for ((i = 0; i < 100; i++)); do
				s=$(proc_state "$k")
				{ [ -z "$s" ] || [ "$s" = Z ]; } && break
				sleep 0.1
			done
			[ -z "$s" ] || [ "$s" = Z ] || fail "the keeper still runs 10 s after iprofmem (state $s)"
		fi
	else
		kill -TERM "$BG_PID" 2>/dev/null
		finish_ip
	fi
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
[ -z "$TC_NAME" ] || tc_end

tc "keeper: none under --engine=int3"
if need_file "$bin"; then
	rm -f "$WORK/ready"
	start_ip --engine=int3 -e 'sf_*' -- "$bin" loop "$WORK/ready" "$MARK"
	if wait_ready "$WORK/ready"; then
		k=$(keeper_of "$READY_PPID")
		[ -z "$k" ] || fail "iprofmem-keeper $k under the int3 engine"
		ls -l "/proc/$READY_PPID/fd" | grep -q 'perf_event' && fail "a perf event under the int3 engine"
		kill -TERM "$READY_PID"
	else
		kill -TERM "$BG_PID" 2>/dev/null
	fi
	finish_ip
fi
tc_end

[ $N_FAILED -eq 0 ]

#!/usr/bin/env bash
# Attach mode's errors: each ends with exactly one stderr line, the exact
# documented message, the documented exit status (1: a process that cannot
# be attached; 125: a usage error), nothing on stdout, and every process
# involved unharmed (no tracer, every code byte as in the file, running,
# and in the end the output it would have had anyway).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/attach_lib.sh"

bin=$TGT/attach_idle.O0-pie
CHECKED="burst_touch last_work helper_main main"

# expect_error STATUS MESSAGE: iprofmem's run (RC, $OUT, $ERR).
expect_error() {
	expect_exit "$1"
	expect_one_error_line
	[ "$(head -n1 "$ERR")" = "iprofmem: $2" ] ||
		fail "message '$(head -n1 "$ERR")', want 'iprofmem: $2'"
	[ -s "$OUT" ] && fail "stdout: '$(head -c 60 "$OUT")'"
}

# still_fine: the burst target $TPID has not been touched.
still_fine() { unharmed "$TPID" "$bin" $CHECKED; }

if ! need_file "$bin"; then
	tc "attach errors: targets"; need_file "$bin"; tc_end
	exit 1
fi

# One target for the cases that need a live process.
rm -f "$WORK/ready" "$WORK/progress"
tgt_start "$WORK/tgt.out" "$WORK/tgt.err" "$bin" burst "$WORK/ready" "$WORK/progress" 3
tc "attach errors: the target starts"
tgt_ready "$WORK/ready"
tc_end
T_JOB=$TJOB T_PID=$TPID
[ -n "$T_PID" ] || exit 1

# ---------------------------------------------------- cannot attach: 1

tc "attach errors: -p a PID that does not exist -> 1"
sleep 0 &
gone=$!
wait "$gone"
if [ -e "/proc/$gone" ]; then
	fail "PID $gone was reused at once; cannot test"
else
	run_ip -p "$gone"
	expect_error 1 "cannot attach to $gone: no such process; check the PID"
fi
still_fine
tc_end

tc "attach errors: -p a zombie -> 1, its parent unharmed"
rm -f "$WORK/zready"
tgt_start "$WORK/zombie.out" "$WORK/zombie.err" "$bin" zombie "$WORK/zready" "$WORK/zprogress"
if tgt_ready "$WORK/zready"; then
	z=$READY_PID zp=$READY_PPID
	[ "$(proc_state "$z")" = Z ] || fail "$z is not a zombie: $(proc_state "$z")"
	run_ip -p "$z"
	expect_error 1 "cannot attach to $z: it is a zombie (it has exited and waits for its parent): nothing is left to trace"
	untraced "$zp"
	code_intact "$zp" "$bin" main
	[ "$(proc_state "$z")" = Z ] || fail "the zombie is gone before its parent reaped it"
	kill -USR1 "$zp"
	tgt_finish
	[ "$TRC" = 0 ] || fail "zombie's parent: exit status $TRC"
	grep -qx 'attach_idle: reaped the child, exit status 0' "$WORK/zombie.out" ||
		fail "zombie's parent: $(head -c 100 "$WORK/zombie.out")"
else
	tgt_kill
fi
TJOB=$T_JOB TPID=$T_PID
tc_end

tc "attach errors: -p a thread ID -> 1, naming the process"
tid=$(ls "/proc/$T_PID/task" | grep -v -x "$T_PID" | head -n1)
if [ -z "$tid" ]; then
	fail "the target has no second thread"
else
	run_ip -p "$tid"
	expect_error 1 "cannot attach to $tid: it is a thread; give the process ID ($T_PID)"
fi
still_fine
tc_end

# shell_ip SCRIPT: `bash -c SCRIPT iprofmem PIDFILE` under the timeout,
# like run_ip; $0 in SCRIPT is iprofmem, $1 a file for bash's PID.
shell_ip() {
	rm -f "$WORK"/san.* "$WORK/shpid"
	{ timeout -k 5 "$E2E_TIMEOUT" bash -c "$1" "$IPROFMEM" "$WORK/shpid" \
		</dev/null >"$OUT" 2>"$ERR"; } 2>/dev/null
	RC=$?
	[ $RC -eq 124 ] && fail "timed out after ${E2E_TIMEOUT}s"
	check_sanitizer "$ERR"
	check_no_leftover
}

tc "attach errors: -p its own parent (bash -c 'iprofmem -p \$\$') -> 1"
shell_ip 'echo $$ >"$1"; "$0" -p $$; exit $?'
expect_error 1 "cannot attach to $(cat "$WORK/shpid"): that is iprofmem's parent, which waits for iprofmem"
tc_end

tc "attach errors: -p itself (bash -c 'exec iprofmem -p \$\$') -> 1"
shell_ip 'echo $$ >"$1"; exec "$0" -p $$'
expect_error 1 "cannot attach to $(cat "$WORK/shpid"): that is iprofmem itself"
tc_end

tc "attach errors: -p a process another iprofmem traces -> 1, naming it; the other goes on"
rm -f "$WORK"/san.*
start_bg "$WORK/first.out" "$WORK/first.err" "$IPROFMEM" -p "$T_PID"
first_job=$BG_PID
if wait_bp "$T_PID" "$bin" burst_touch; then
	first=$IP_PID
	first_cmd=$(cmdline_of "$first")
	run_ip -p "$T_PID"
	expect_error 1 "cannot attach to $T_PID: it is already traced by process $first ($first_cmd); detach that tracer first"
	[ "$(tracer_of "$T_PID")" = "$first" ] || fail "the first iprofmem no longer traces it"
	armed "$T_PID" "$bin" burst_touch || fail "the first iprofmem's breakpoint (or probe) is gone"
	# the first one still counts, and ends cleanly
	kill -USR1 "$T_PID"
	wait_line "$WORK/progress" '^burst 1$'
	kill -INT "$first"
else
	for c in $(pgrep -P "$first_job"); do kill -TERM "$c"; done
fi
BG_PID=$first_job
finish_bg
[ "$BG_RC" = 0 ] || fail "the first iprofmem: exit status $BG_RC"
check_sanitizer "$WORK/first.err"
parse_table "$WORK/first.err"
if [ $TBL_FOUND = 1 ] && [ -z "$TBL_PROBLEM" ] && [ ${#OTHER[@]} -eq 0 ]; then
	expect_exact_rows attach_idle burst_touch:3:3
else
	fail "the first iprofmem: ${TBL_PROBLEM:-no table alone}"
	note_file "$WORK/first.err"
fi
still_fine
tc_end

tc "attach errors: -p A,B with B traced by another: 1, naming B; A left unharmed"
rm -f "$WORK/ready2" "$WORK/progress2"
tgt_start "$WORK/b.out" "$WORK/b.err" "$bin" burst "$WORK/ready2" "$WORK/progress2" 3
if tgt_ready "$WORK/ready2"; then
	b=$TPID b_job=$TJOB
	rm -f "$WORK"/san.*
	start_bg "$WORK/first.out" "$WORK/first.err" "$IPROFMEM" -p "$b"
	first_job=$BG_PID
	if wait_bp "$b" "$bin" burst_touch; then
		first=$IP_PID
		run_ip -p "$T_PID,$b"
		expect_error 1 "cannot attach to $b: it is already traced by process $first ($(cmdline_of "$first")); detach that tracer first"
		kill -INT "$first"
	else
		for c in $(pgrep -P "$first_job"); do kill -TERM "$c"; done
	fi
	BG_PID=$first_job
	finish_bg
	[ "$BG_RC" = 0 ] || fail "the other iprofmem: exit status $BG_RC"
	check_sanitizer "$WORK/first.err"
	still_fine
	unharmed "$b" "$bin" $CHECKED
	kill -USR2 "$b"
	TJOB=$b_job
	tgt_finish
	[ "$TRC" = 0 ] || fail "B: exit status $TRC"
else
	tgt_kill
fi
TJOB=$T_JOB TPID=$T_PID
tc_end

# Root runs iprofmem as nobody (from a copy nobody can reach: see
# share_copy in lib.sh) against the target; any other user tries init,
# which is root's.
if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
	echo "SKIP ${TAG}attach errors: -p a process of another user: root needs setpriv to be another user"
elif [ "$(id -u)" = 0 ]; then
	tc "attach errors: -p a process of another user (iprofmem run as nobody) -> 1"
	if share_copy "$IPROFMEM"; then
		rm -f "$WORK"/san.*
		{ timeout -k 5 "$E2E_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$SHARED/${IPROFMEM##*/}" -p "$T_PID" </dev/null >"$OUT" 2>"$ERR"; } 2>/dev/null
		RC=$?
		check_sanitizer "$ERR"
		expect_error 1 "cannot attach to $T_PID: it belongs to uid 0; run iprofmem as that user or as root"
	fi
	still_fine
	tc_end
elif [ "$(stat -c %u /proc/1 2>/dev/null)" != 0 ]; then
	echo "SKIP ${TAG}attach errors: -p a process of another user: not root, and init is not root's either"
else
	tc "attach errors: -p a process of another user (init, as uid $(id -u)) -> 1"
	run_ip -p 1
	expect_error 1 "cannot attach to 1: it belongs to uid 0; run iprofmem as that user or as root"
	still_fine
	tc_end
fi

# ------------------------------------------------------ usage errors: 125

usage_error() {
	local name=$1
	shift
	tc "attach errors: $name -> 125"
	run_ip "$@"
	expect_exit 125
	expect_one_error_line
	[ -s "$OUT" ] && fail "stdout: '$(head -c 60 "$OUT")'"
	still_fine
	tc_end
}

usage_error "-p abc"			-p abc
usage_error "-p 12, (empty PID after the comma)" -p 12,
usage_error "-p ,PID"			-p ",$T_PID"
usage_error "-p 0"			-p 0
usage_error "-p -5"			-p -5
usage_error "-p PID,abc (nothing attached)" -p "$T_PID,abc"
usage_error "--pid= (empty)"		--pid=
usage_error "-p without its argument"	-p
usage_error "-p PID with a PROGRAM"	-p "$T_PID" "$bin" ticks 1 0 0 "$MARK"
usage_error "--duration=0"		--duration=0 -p "$T_PID"
usage_error "--duration=-1"		--duration=-1 -p "$T_PID"
usage_error "--duration=x"		--duration=x -p "$T_PID"
usage_error "--duration= (empty)"	--duration= -p "$T_PID"
usage_error "--duration=1x"		--duration=1x -p "$T_PID"
usage_error "--duration=nan"		--duration=nan -p "$T_PID"
usage_error "--duration=0 with a PROGRAM" --duration=0 "$bin" ticks 1 0 0 "$MARK"

tc "attach errors: the target (attached once, by the first iprofmem) ends as untraced"
kill -USR1 "$T_PID"
wait_line "$WORK/progress" '^burst 2$'
kill -USR2 "$T_PID"
TJOB=$T_JOB
tgt_finish
[ "$TRC" = 0 ] || fail "exit status $TRC"
grep -qx 'attach_idle: 2 bursts of 3' "$WORK/tgt.out" || fail "stdout: $(head -c 100 "$WORK/tgt.out")"
tc_end

[ $N_FAILED -eq 0 ]

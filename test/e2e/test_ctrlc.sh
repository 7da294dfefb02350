#!/usr/bin/env bash
# The terminal's signals in launch mode.  `iprofmem PROGRAM` runs as a job
# of its own (bash job control: its own process group), with SIGINT and
# SIGQUIT at their default action, as from an interactive shell, and the
# test signals the whole process group, as the terminal does:
#  - Ctrl-C, PROGRAM with a SIGINT handler that prints and exit(3)s:
#    iprofmem prints the table and exits 3, stdout as untraced;
#  - Ctrl-C, PROGRAM without a handler: the table, exit 130; Ctrl-\ : 131;
#  - SIGINT ignored when the job started: ignored by PROGRAM traced too, so
#    that SIGTERM, sent after it, ends the run: the table, exit 143;
#  - Ctrl-Z then fg (SIGTSTP then SIGCONT to the group): both stop, both go
#    on, the program's SIGCONT handler runs, it ends as untraced.
# Rows exact for what returned before (test/targets/sig.c int, nohandler,
# stop); no process left behind.
. "$(dirname "$0")/lib.sh"

# A shell started in the background by a non-interactive shell, nohup and
# some CI runners hand their children SIGINT and SIGQUIT ignored, an ignored
# signal stays ignored across exec, and job control does not undo it: each
# job resets them itself (coreutils env, 8.31 and later).  Without that
# env, and with either ignored here, the cases that need them cannot run:
# NO_DEFAULT says why.
DEFAULT_SIGS=(env --default-signal=INT,QUIT)
NO_DEFAULT=
if ! env --default-signal=INT,QUIT true 2>/dev/null; then
	DEFAULT_SIGS=()
	ign=$(awk '$1 == "SigIgn:" { print $2 }' /proc/self/status)
	(( 0x${ign:-0} & 0x6 )) &&
		NO_DEFAULT="SIGINT or SIGQUIT ignored since this shell started (SigIgn $ign), and env has no --default-signal to reset them"
fi

SIG_LOOSE="warm_handler warm_chld on ready setup main"
k() { src_key sig "$1"; }

# group_start OUTFILE ERRFILE COMMAND...: COMMAND as a job, under JOB_ENV
# (a command that sets its signal dispositions): GRP is its PID and
# process group.  A watchdog kills the group after E2E_TIMEOUT.
GRP=
JOB_ENV=("${DEFAULT_SIGS[@]}")
group_start() {
	local o=$1 e=$2
	shift 2
	rm -f "$WORK/timedout"
	set -m
	"${JOB_ENV[@]}" "$@" </dev/null >"$o" 2>"$e" &
	GRP=$!
	set +m
	BG_PID=$GRP	# for wait_ready
	(
		for ((i = 0; i < E2E_TIMEOUT * 10; i++)); do
			sleep 0.1
			kill -0 "$GRP" 2>/dev/null || exit 0
		done
		: >"$WORK/timedout"
		kill -KILL -- -"$GRP"
	) 2>/dev/null &
	WATCHDOG=$!
}

# group_finish: waits for the job; GRP_RC is its exit status.
GRP_RC=0
group_finish() {
	# (the braces keep bash's "Quit"-style job notices off the output)
	{ wait "$GRP"; } 2>/dev/null
	GRP_RC=$?
	kill "$WATCHDOG" 2>/dev/null
	wait "$WATCHDOG" 2>/dev/null
	[ -e "$WORK/timedout" ] && fail "timed out after ${E2E_TIMEOUT}s"
}

# in_group PID: PID is in the job's process group (the terminal would
# signal it).
in_group() {
	local pg
	pg=$(ps -o pgid= -p "$1" | tr -d ' ')
	[ "$pg" = "$GRP" ] || fail "PID $1 in process group '$pg', not the job's $GRP"
}

# wait_state PID REGEX: waits (5 s at most) until PID's state matches.
wait_state() {
	local i s
	for ((i = 0; i < 500; i++)); do
		s=$(proc_state "$1")
		[[ $s =~ $2 ]] && return 0
		sleep 0.01
	done
	return 1
}

# group_signal WHO SIGS OUTFILE ERRFILE COMMAND...: COMMAND as a job; once
# the program is ready, each of SIGS (comma-separated) to the whole group.
# With SIGS "TSTP,CONT", checks the stop in between.  Sets GRP_RC.
group_signal() {
	local who=$1 sigs=$2 o=$3 e=$4 rf=$WORK/ready s
	shift 4
	rm -f "$rf"
	group_start "$o" "$e" "$@"
	if wait_ready "$rf"; then
		in_group "$READY_PID"
		for s in ${sigs//,/ }; do
			kill -s "$s" -- -"$GRP"
			if [ "$s" = TSTP ]; then
				wait_state "$READY_PID" '^[Tt]$' ||
					fail "$who: program not stopped by SIGTSTP (state $(proc_state "$READY_PID"))"
				if [ "$who" = traced ]; then
					wait_state "$READY_PPID" '^T$' ||
						fail "iprofmem not stopped by SIGTSTP (state $(proc_state "$READY_PPID"))"
				fi
				sleep 0.2
				[[ $(proc_state "$READY_PID") =~ ^[Tt]$ ]] || fail "$who: program did not stay stopped"
			fi
		done
	else
		kill -KILL -- -"$GRP" 2>/dev/null
	fi
	group_finish
}

# traced_and_plain MODE SIGS: the untraced run and the traced one.
traced_and_plain() {
	group_signal plain "$2" "$POUT" "$PERR" "$bin" "$1" "$WORK/ready" "$MARK"
	PRC=$GRP_RC
	rm -f "$WORK"/san.*
	group_signal traced "$2" "$OUT" "$ERR" "$IPROFMEM" "$bin" "$1" "$WORK/ready" "$MARK"
	RC=$GRP_RC
	check_sanitizer "$ERR"
	check_no_leftover
	expect_same_as_plain
}

for v in O0-pie O2-nopie-cet; do
	bin=$TGT/sig.$v

	tc "sig.$v: Ctrl-C (SIGINT to the group), handler exits 3: table, exit 3"
	if need_file "$bin"; then
		traced_and_plain int INT
		expect_exit 3
		grep -q '^sig: interrupted, exit 3$' "$OUT" || fail "the handler did not run"
		if expect_only_table "$ERR"; then
			expect_row "$(k pre_stop)" 3 3
			for f in on_int wait_forever main; do expect_no_row "$(k "$f")"; done
			expect_rows_only sig pre_stop $SIG_LOOSE
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end

	for c in INT:2 QUIT:3; do
		s=${c%:*} n=${c#*:}
		tc "sig.$v: SIG$s to the group, no handler: table, exit $((128 + n))"
		if [ -n "$NO_DEFAULT" ]; then
			echo "SKIP $TC_NAME: $NO_DEFAULT"
			continue
		fi
		if need_file "$bin"; then
			traced_and_plain nohandler "$s"
			expect_exit $((128 + n))
			if expect_only_table "$ERR"; then
				expect_row "$(k pre_stop)" 3 3
				for f in wait_forever main; do expect_no_row "$(k "$f")"; done
				expect_rows_only sig pre_stop $SIG_LOOSE
				[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
			fi
		fi
		tc_end
	done

	# An ignored SIGINT is the program's as it would be untraced, though
	# iprofmem itself catches it: SIGTERM ends both runs, not SIGINT.
	tc "sig.$v: SIGINT ignored from the start, then SIGTERM to the group: ignored traced too; table, exit 143"
	if [ ${#DEFAULT_SIGS[@]} -eq 0 ]; then
		TC_NAME=
		echo "SKIP ${TAG}sig.$v: SIGINT ignored from the start: env has no --ignore-signal"
	elif need_file "$bin"; then
		JOB_ENV=(env --default-signal=QUIT --ignore-signal=INT)
		traced_and_plain nohandler INT,TERM
		JOB_ENV=("${DEFAULT_SIGS[@]}")
		expect_exit 143
		if expect_only_table "$ERR"; then
			expect_row "$(k pre_stop)" 3 3
			for f in wait_forever main; do expect_no_row "$(k "$f")"; done
			expect_rows_only sig pre_stop $SIG_LOOSE
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	[ -n "$TC_NAME" ] && tc_end

	tc "sig.$v: Ctrl-Z then fg (SIGTSTP, SIGCONT to the group): runs on"
	if need_file "$bin"; then
		traced_and_plain stop TSTP,CONT
		expect_exit 0
		grep -q '^sig: continued$' "$OUT" || fail "no 'continued' line"
		if expect_only_table "$ERR"; then
			expect_row "$(k pre_stop)" 3 3
			expect_row "$(k post_cont)" 8 4
			expect_row "$(k on_cont)" 1 1
			expect_rows_only sig pre_stop post_cont on_cont $SIG_LOOSE
			[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
		fi
	fi
	tc_end
done

[ $N_FAILED -eq 0 ]

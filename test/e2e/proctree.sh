# find_exec ROOT BIN: sets FOUND to the PID of a process among ROOT's
# descendants (ROOT included) whose argv[0] is BIN, once one is there;
# empty if ROOT ended first.  It reads /proc without a fork, so that a
# program launched under iprofmem is seen within microseconds of its exec,
# early in iprofmem's set-up.  Sourced by test/e2e/lib.sh and
# bench/stress.sh; not a test itself.
find_exec() {
	local p kids more arg0
	FOUND=
	while [ -z "$FOUND" ] && kill -0 "$1" 2>/dev/null; do
		kids=$1
		while [ -n "$kids" ] && [ -z "$FOUND" ]; do
			more=
			for p in $kids; do
				arg0= kids=
				read -r -d '' arg0 2>/dev/null <"/proc/$p/cmdline"
				[ "$arg0" = "$2" ] && FOUND=$p && break
				# no newline at its end: read says false
				read -r kids 2>/dev/null <"/proc/$p/task/$p/children"
				more+=" $kids"
			done
			kids=$more
		done
	done
}

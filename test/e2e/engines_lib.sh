# Helpers of the engine comparison tests (test/e2e/test_engines*.sh),
# sourced after lib.sh.  Not a test itself.
#
# Issue 11: the int3 engine (--engine=int3, today's) and the default one
# (in-process probes where safe, int3 elsewhere) must give byte-identical
# tables, under `setarch -R` (no ASLR: the rows of setup and main, which
# depend on where the stack and libc land, are then the same run after
# run) and on one CPU.  Both runs get the same environment, without
# IPROFMEM_ENGINE, so that "default" is the real default.
#
# Environment:
#   E2E_ENGINE_SELFTEST=1   before the default engine exists: compare
#                           today's engine with itself (the test's own
#                           determinism) instead of printing SKIP lines
#   E2E_ENGINE_CPU          the CPU both runs are pinned to (default 0)

ENGINE_CPU=${E2E_ENGINE_CPU:-0}

# HAS_ENGINE: 1 when iprofmem --help knows --engine (the probe engine is in).
HAS_ENGINE=0
"$IPROFMEM" --help 2>&1 | grep -q -e '--engine' && HAS_ENGINE=1
ENGINE_SKIP="the default engine is not built yet (no --engine in iprofmem --help)"
INT3_OPTS=()
[ $HAS_ENGINE = 1 ] && INT3_OPTS=(--engine=int3)
DEFAULT_OPTS=()

# Compare today's engine with itself when asked (see above).
if [ $HAS_ENGINE = 0 ] && [ "${E2E_ENGINE_SELFTEST:-0}" = 1 ]; then
	HAS_ENGINE=1
	ENGINE_SKIP=
fi

# run_ip runs $IPROFMEM: this wrapper puts the same personality, CPU and
# environment around both engines' runs (and around the untraced run).
PINNED=$WORK/pinned
cat >"$PINNED" <<EOF
#!/bin/sh
exec setarch "\$(uname -m)" -R taskset -c $ENGINE_CPU env -i PATH="\$PATH" LC_ALL=C \${ASAN_OPTIONS:+ASAN_OPTIONS="\$ASAN_OPTIONS"} \${UBSAN_OPTIONS:+UBSAN_OPTIONS="\$UBSAN_OPTIONS"} \${LSAN_OPTIONS:+LSAN_OPTIONS="\$LSAN_OPTIONS"} "\$@"
EOF
chmod +x "$PINNED"
REAL_IPROFMEM=$IPROFMEM

# engines_case NAME TABLE_OPTS... -- PROGRAM ARGS...: one test case: the
# program untraced, then under each engine with -o; fails unless the two
# table files are byte-identical, and each traced run's stdout and exit
# status are the untraced run's.  TABLE_OPTS go to both iprofmem runs;
# the program's stdin is $ENGINES_IN (default /dev/null).
# Prints a SKIP line instead when the default engine is not there.
ENGINES_IN=/dev/null
engines_case() {
	local name=$1 opts=() prog rc_int3
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	prog=$1
	if [ $HAS_ENGINE = 0 ]; then
		echo "SKIP $TAG$name: $ENGINE_SKIP"
		return
	fi
	tc "$name"
	if need_file "$prog"; then
		run_plain --in "$ENGINES_IN" "$PINNED" "$@"
		IPROFMEM="$PINNED"
		run_ip --in "$ENGINES_IN" "$REAL_IPROFMEM" "${INT3_OPTS[@]}" "${opts[@]}" -o "$WORK/table.int3" -- "$@"
		expect_same_as_plain
		cp "$ERR" "$WORK/err.int3"
		rc_int3=$RC
		run_ip --in "$ENGINES_IN" "$REAL_IPROFMEM" "${DEFAULT_OPTS[@]}" "${opts[@]}" -o "$WORK/table.default" -- "$@"
		IPROFMEM=$REAL_IPROFMEM
		expect_same_as_plain
		[ "$RC" -eq "$rc_int3" ] || fail "exit status $rc_int3 under int3, $RC under the default engine"
		if engines_cmp "$WORK/table.int3" "$WORK/table.default" quiet; then
			:
		elif engines_raced "$WORK/table.int3" "$WORK/table.default"; then
			# a second pair, which must be identical (see ENGINES_RACE)
			echo "# $TAG$name: only rows of ENGINES_RACE ($ENGINES_RACE) differ, a second pair must be identical:"
			diff "$WORK/table.int3" "$WORK/table.default" | head -n 8 | sed 's/^/#   /'
			IPROFMEM="$PINNED"
			run_ip --in "$ENGINES_IN" "$REAL_IPROFMEM" "${INT3_OPTS[@]}" "${opts[@]}" -o "$WORK/table.int3" -- "$@"
			run_ip --in "$ENGINES_IN" "$REAL_IPROFMEM" "${DEFAULT_OPTS[@]}" "${opts[@]}" -o "$WORK/table.default" -- "$@"
			IPROFMEM=$REAL_IPROFMEM
			engines_cmp "$WORK/table.int3" "$WORK/table.default"
		else
			engines_cmp "$WORK/table.int3" "$WORK/table.default"
		fi
	fi
	tc_end
}

# ENGINES_RACE: an extended regex of the functions whose rows may differ
# by a few pages between two runs of the same engine, for what happened
# to the page cache in between.  main's printf faults in libc's code
# pages, and the kernel's fault-around maps only those neighbours of a
# faulting page that are in the page cache, up to date and not locked at
# that instant: one that another process's fault holds locked, or one
# evicted since the last run (this VM runs DAMON with a scheme that pages
# out file pages no process maps once idle for 60 s: libc's printf paths
# between two tests) is mapped later by a fault of its own, or never.
# Measured: untraced.O2-nopie-cet under build-asan/iprofmem, 400 runs
# beside two loops running the same program on the other CPU: main 0.4062
# MB in 399, 0.3906 in one (an int3 run); in a CI run, once in about ten
# (and sel_cxx.O2-pie's main once).  When a pair differs in those rows
# alone, the case runs a second pair, which must be identical: an
# engine's real difference is there every time.
ENGINES_RACE=main

# engines_raced A B: do the two tables differ only in the Memory column
# of ENGINES_RACE's rows (same rows, same calls, same order otherwise)?
engines_raced() {
	local strip="s/^.{10}(  .{7}  .*:($ENGINES_RACE))\$/  (raced)\1/"
	[ -n "$ENGINES_RACE" ] && [ -s "$1" ] && [ -s "$2" ] || return 1
	[ "$(sed -E "$strip" "$1" | sort)" = "$(sed -E "$strip" "$2" | sort)" ]
}

# engines_cmp INT3_TABLE DEFAULT_TABLE: the two files byte for byte, but
# for the Memory column of the rows of the functions ENGINES_MASK names
# (an extended regex, e.g. "setup|main"): rows that vary between two runs
# of the same engine, which must still be there in both, with their Calls.
# With a third argument "quiet": returns 1 on a difference, failing nothing.
ENGINES_MASK=
engines_cmp() {
	local a=$1 b=$2 quiet=${3:-}
	if [ ! -s "$a" ] || [ ! -s "$b" ]; then
		[ "$quiet" = quiet ] && return 1
		fail "no table written ($(wc -c <"$a" 2>/dev/null || echo missing) bytes under int3, $(wc -c <"$b" 2>/dev/null || echo missing) under the default engine)"
		note_file "$ERR"
		return 1
	fi
	# (masked sizes decide where those rows sort, and so where others do:
	# then the rows are compared as a set)
	if [ -n "$ENGINES_MASK" ]; then
		sed -E "s/^.{10}(  .{7}  .*:($ENGINES_MASK))\$/  (varies)\1/" "$a" | sort >"$a.masked"
		sed -E "s/^.{10}(  .{7}  .*:($ENGINES_MASK))\$/  (varies)\1/" "$b" | sort >"$b.masked"
		a=$a.masked b=$b.masked
	fi
	cmp -s "$a" "$b" && return 0
	[ "$quiet" = quiet ] && return 1
	fail "the tables differ (< int3, > default engine)"
	note "$(diff "$a" "$b" | head -n 30)"
	return 1
}

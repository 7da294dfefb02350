#!/usr/bin/env bash
# The seccomp watch through lazy-binding entries of the offset tables
# (test/targets/dlfilter.c, built here without -z now): a filter that
# kills on pread64, installed by the program's own prctl (PIE and not),
# or by a library's loaded with dlopen after the start.  The watch sees
# the program's at once and the library's once the dynamic linker's
# rendezvous says it came (armed whenever probes may be used, whatever the
# selection): one warning, the program runs as untraced, touch's row
# exact.  (Before, the library's call was not seen without --all-modules:
# the program died of SIGSYS at the next statm read.)
. "$(dirname "$0")/lib.sh"

ENGINE=${IPROFMEM_ENGINE:-auto}
NOSYS_RE='^iprofmem: warning: process [0-9]+ installs a seccomp filter: its probes make no more system calls, and stop for the RSS when it may have changed$'
KILLED_RE='^iprofmem: warning: process [0-9]+ was killed by SIGSYS: if it is not killed untraced, a seccomp filter of its own killed a probe.s system call; trace it with --engine=int3$'
SRC=$SRCDIR/dlfilter.c
LIB=$WORK/libdlfilter.so
key=$(src_key dlfilter touch)
# watch: "ENTRIES STOPS" from the stats
watch() { sed -n -E 's/^iprofmem: stats: seccomp watch: ([0-9]+) entries of prctl and syscall, set up at ([0-9]+) stops$/\1 \2/p' "$ERR"; }

tc "dlfilter: a compiler to build the program and the library, lazily bound"
for pie in pie nopie; do
	flags="-fPIE -pie"
	[ $pie = nopie ] && flags="-fno-pie -no-pie"
	${CC:-cc} -O1 -g -Wl,-z,lazy $flags -o "$WORK/dlfilter.$pie" "$SRC" 2>"$WORK/cc.log" ||
		{ fail "cannot build the $pie program"; note_file "$WORK/cc.log"; }
done
${CC:-cc} -O1 -g -Wl,-z,lazy -shared -fPIC -DDLFILTER_LIB -o "$LIB" "$SRC" 2>"$WORK/cc.log" ||
	{ fail "cannot build the library"; note_file "$WORK/cc.log"; }
tc_end

# only_warning RE: stderr is the stats, the table and one line matching RE
only_warning() {
	local seen=0 l
	expect_table "$ERR" || return 0
	for l in "${OTHER[@]}"; do
		case $l in "iprofmem: stats: "*) continue ;; esac
		if grep -qE "$1" <<<"$l"; then seen=1; else fail "stderr: '$l'"; fi
	done
	[ $seen = 1 ] || fail "no warning matching $1"
}

for pie in pie nopie; do
	bin=$WORK/dlfilter.$pie
	tc "dlfilter.$pie main: the program's own lazily bound prctl is watched"
	if need_file "$bin"; then
		run_plain "$bin" main "$LIB" "$MARK"
		run_ip --stats -- "$bin" main "$LIB" "$MARK"
		expect_exit 0
		expect_same_as_plain
		if [ "$ENGINE" = int3 ]; then
			expect_table "$ERR"
			[ "$(watch)" = "0 0" ] || fail "seccomp watch '$(watch)', want '0 0'"
		else
			only_warning "$NOSYS_RE"
			[ "$(watch)" = "1 1" ] || fail "seccomp watch '$(watch)', want '1 1' (entries, stops)"
		fi
		expect_row "$key" 10 2
		[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
	fi
	tc_end
done

bin=$WORK/dlfilter.pie
tc "dlfilter.pie lib --all-modules: a library's call is watched once it is relocated"
if need_file "$bin"; then
	run_plain "$bin" lib "$LIB" "$MARK"
	run_ip --stats --all-modules -- "$bin" lib "$LIB" "$MARK"
	expect_exit 0
	expect_same_as_plain
	if [ "$ENGINE" = int3 ]; then
		expect_table "$ERR"
	else
		only_warning "$NOSYS_RE"
		w=$(watch)
		[ "${w% *}" = 2 ] || fail "seccomp watch '$w': want 2 entries (the program's, the library's)"
		[ "${w#* }" -ge 2 ] || fail "seccomp watch '$w': want 2 stops or more (the start, the dlopen)"
	fi
	expect_row "$key" 12 3
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

tc "dlfilter.pie lib: watched with the default selection too (the rendezvous is armed for the probes)"
if need_file "$bin"; then
	run_plain "$bin" lib "$LIB" "$MARK"
	run_ip --stats -- "$bin" lib "$LIB" "$MARK"
	expect_exit 0
	expect_same_as_plain
	if [ "$ENGINE" = int3 ]; then
		expect_table "$ERR"
		[ "$(watch)" = "0 0" ] || fail "seccomp watch '$(watch)', want '0 0'"
	else
		only_warning "$NOSYS_RE"
		w=$(watch)
		[ "${w% *}" = 2 ] || fail "seccomp watch '$w': want 2 entries (the program's, the library's)"
		[ "${w#* }" -ge 2 ] || fail "seccomp watch '$w': want 2 stops or more (the start, the dlopen)"
	fi
	expect_row "$key" 12 3
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$ERR"
fi
tc_end

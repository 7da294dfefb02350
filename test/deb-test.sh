#!/usr/bin/env bash
# make deb-test: the .deb that `make deb` left in build/deb/, installed on
# a clean Debian 12 (bookworm) system, and the package's own tests
# (debian/tests, autopkgtest style) run there against the installed
# /usr/bin/iprofmem.  The issue asks for "the package installed with dpkg -i
# on a clean machine"; a chroot made by debootstrap is that machine:
#   1. build/deb-test/base: debootstrap --variant=minbase, then the tests'
#      own Depends (debian/tests/control, the package aside), built once
#      and kept (a second run starts here, in seconds);
#   2. build/deb-test/root: a fresh copy of it for each run, so that no
#      run sees what an earlier one installed (removed after a pass, left
#      for a look after a failure);
#   3. dpkg -i of the .deb (which leaves it unconfigured: libdw1, libelf1,
#      libcapstone4, libprotobuf-c1 are missing), then apt-get -f install,
#      which must fetch them and configure the package;
#   4. every test of debian/tests/control, as root in the chroot (ptrace
#      needs nothing more), with /proc mounted there (the tracer reads
#      /proc/PID/...); without allow-stderr, output on stderr fails it, as
#      autopkgtest does.
# The mirror is this machine's own (/etc/apt/sources.list*), unless
# DEB_TEST_MIRROR names one.  Needs root (debootstrap, chroot, mount) and
# installs debootstrap through apt-get when missing.  Prints a PASS or FAIL
# line per step and a last line "deb-test: PASS" or "deb-test: FAIL: ...",
# and exits 1 on failure.  /proc and /dev are unmounted from the chroot
# whatever happens.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2

SUITE=bookworm
CACHE=build/deb-test
BASE=$CACHE/base
ROOT=$CACHE/root
LOG=$CACHE/log
MOUNTED=()

say() { echo "deb-test: $*"; }
pass() { echo "PASS $*"; }
# die WHAT: the last line, the log's tail, exit 1 (the trap unmounts).
die() {
	echo "FAIL $*"
	[ -s "$LOG" ] && sed 's/^/# /' "$LOG" | tail -n 30
	say "FAIL: $*"
	exit 1
}

unmount_all() {
	local i
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null ||
			echo "deb-test: could not unmount ${MOUNTED[i]}" >&2
	done
	MOUNTED=()
}
trap unmount_all EXIT
trap 'die "interrupted"' INT TERM HUP

# mount_in DIR: /proc and /dev (bind) mounted in the chroot DIR.
mount_in() {
	mkdir -p "$1/proc" "$1/dev"
	mount -t proc proc "$1/proc" || die "cannot mount /proc in $1"
	MOUNTED+=("$1/proc")
	mount --bind /dev "$1/dev" || die "cannot bind /dev in $1"
	MOUNTED+=("$1/dev")
}

# in_root DIR CMD...: CMD in the chroot, noninteractive, a plain PATH.
in_root() {
	local dir=$1
	shift
	chroot "$dir" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive HOME=/root \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
}

# The first Debian (not security) mirror this machine's apt uses.
host_mirror() {
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++)
			if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk 'tolower($1) == "uris:" && $2 !~ /security/ { print $2; exit }')
	echo "${m:-http://deb.debian.org/debian}"
}

# field FILE NAME: the value of a deb822 field (the first stanza's;
# continuation lines joined).
field() {
	awk -v f="$2" 'tolower($0) ~ "^" tolower(f) ":" { sub(/^[^:]*:[ \t]*/, ""); v = $0; go = 1; next }
		go && /^[ \t]/ { v = v " " $0; next } { go = 0 }
		END { print v }' "$1"
}

# The tests' Depends but the package itself (and "@"), one per line.
test_depends() {
	field debian/tests/control Depends | tr ',' '\n' |
		sed 's/([^)]*)//; s/^[ \t]*//; s/[ \t]*$//' |
		grep -v -x -e '' -e '@' -e iprofmem
}

[ "$(id -u)" = 0 ] || { say "FAIL: needs root (debootstrap, chroot, mount): sudo make deb-test"; exit 1; }
mkdir -p "$CACHE"
: >"$LOG"

deb=$(ls build/deb/iprofmem_*_amd64.deb 2>/dev/null | tail -n 1)
[ -n "$deb" ] || die "no build/deb/iprofmem_*_amd64.deb: run make deb first"
say "package $deb"

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap (apt-get)"
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; } \
		>>"$LOG" 2>&1 || die "cannot install debootstrap"
fi

# ---- 1. the base system, built once
if [ -f "$BASE/.deb-test-base" ]; then
	pass "base: $BASE (cached; rm -rf it to rebuild)"
else
	mirror=${DEB_TEST_MIRROR:-$(host_mirror)}
	say "debootstrap --variant=minbase $SUITE from $mirror (once; a few minutes)"
	rm -rf "$BASE.tmp" "$BASE"
	debootstrap --variant=minbase "$SUITE" "$BASE.tmp" "$mirror" >>"$LOG" 2>&1 ||
		die "debootstrap failed"
	cp /etc/resolv.conf "$BASE.tmp/etc/resolv.conf"
	deps=$(test_depends | tr '\n' ' ')
	mount_in "$BASE.tmp"
	say "installing the tests' Depends in the base: $deps"
	# shellcheck disable=SC2086
	{ in_root "$BASE.tmp" apt-get update -q &&
	  in_root "$BASE.tmp" apt-get install -y -q --no-install-recommends $deps &&
	  in_root "$BASE.tmp" apt-get clean; } >>"$LOG" 2>&1 ||
		die "cannot install $deps in the base"
	unmount_all
	echo "$SUITE minbase from $mirror, with: $deps" >"$BASE.tmp/.deb-test-base"
	mv "$BASE.tmp" "$BASE"
	pass "base: $BASE built"
fi

# ---- 2. a clean copy
rm -rf "$ROOT"
cp -a "$BASE" "$ROOT" || die "cannot copy $BASE to $ROOT"
in_root "$ROOT" dpkg-query -W iprofmem >/dev/null 2>&1 && die "iprofmem is already in the base"
pass "root: a fresh copy of the base, no iprofmem in it"
mount_in "$ROOT"

# ---- 3. dpkg -i, then apt-get -f install for the libraries
cp "$deb" "$ROOT/tmp/" || die "cannot copy the package"
name=${deb##*/}
if in_root "$ROOT" dpkg -i "/tmp/$name" >>"$LOG" 2>&1; then
	say "dpkg -i: installed with nothing missing"
else
	say "dpkg -i: dependencies missing (expected on a clean system): apt-get -f install"
fi
{ in_root "$ROOT" apt-get update -q &&
  in_root "$ROOT" apt-get -f install -y -q --no-install-recommends; } >>"$LOG" 2>&1 ||
	die "apt-get -f install failed"
status=$(in_root "$ROOT" dpkg-query -W -f='${Status} ${Version}' iprofmem 2>&1)
case $status in
"install ok installed "*) ;;
*) die "iprofmem not installed after apt-get -f install: $status" ;;
esac
missing=$(in_root "$ROOT" ldd /usr/bin/iprofmem 2>&1 | grep 'not found')
[ -z "$missing" ] || die "libraries missing: $missing"
pass "dpkg -i $name, apt-get -f install: $status ($(in_root "$ROOT" \
	dpkg-query -W -f='${Depends}' iprofmem | tr -s ' '))"

# ---- 4. the package's tests
tests=$(field debian/tests/control Tests)
restrictions=$(field debian/tests/control Restrictions)
[ -n "$tests" ] || die "debian/tests/control names no test"
mkdir -p "$ROOT/tmp/debian-tests"
cp debian/tests/* "$ROOT/tmp/debian-tests/"
failed=0
for t in $tests; do
	t=${t%,}
	out=$CACHE/$t.out err=$CACHE/$t.err
	mkdir -p "$ROOT/tmp/adt-$t"
	chmod +x "$ROOT/tmp/debian-tests/$t"
	rc=0
	in_root "$ROOT" AUTOPKGTEST_TMP="/tmp/adt-$t" timeout 300 \
		"/tmp/debian-tests/$t" >"$out" 2>"$err" </dev/null || rc=$?
	sed 's/^/# /' "$out"
	if [ $rc -ne 0 ]; then
		echo "FAIL debian/tests/$t: exit status $rc"
		sed 's/^/# stderr: /' "$err"
		failed=$((failed + 1))
	elif [ -s "$err" ] && [[ $restrictions != *allow-stderr* ]]; then
		echo "FAIL debian/tests/$t: output on stderr (no allow-stderr)"
		sed 's/^/# stderr: /' "$err"
		failed=$((failed + 1))
	else
		pass "debian/tests/$t (the installed /usr/bin/iprofmem, in the chroot)"
	fi
done
unmount_all
[ $failed -eq 0 ] || { say "FAIL: $failed of the package's tests failed (the root is left in $ROOT)"; exit 1; }
rm -rf "$ROOT"
say "PASS"

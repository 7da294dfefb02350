#!/usr/bin/env bash
# Real programs built from their Debian sources with -O2 -g, for the engine
# comparison (test/e2e/test_engines_real.sh, issue 11): programs the
# project did not write, with the code shapes of real C.
#
#   build/real/bin/lua        Lua 5.4 (source package lua5.4), the
#                             interpreter `lua` with its whole library in
#                             the executable; the string hash seed fixed
#                             (-Dluai_makeseed(L)=0) so that a run is
#                             reproducible, as with PYTHONHASHSEED
#   build/real/bin/minigzip   zlib's test/minigzip.c (source package zlib)
#                             linked with zlib built from the same source,
#                             statically: deflate and inflate in the
#                             executable, with their DWARF
#   build/real/bin/lz4        the lz4 command (source package lz4) built
#                             -O3 -march=x86-64-v4: AVX-512 code
#
# The sources come from Debian's archive through apt-get itself, with a
# deb-src list and a state directory of its own under build/real/apt (the
# system's apt configuration is left alone): apt checks each file against
# the signed Sources index.  Only the upstream tarballs are used (Debian's
# patches are about the build and packaging).  Builds are cached: a program
# is rebuilt only when its stamp (sources, flags, compiler) changed.
#
# Usage: test/e2e/real_programs.sh [NAME...]   (default: lua minigzip; also lz4)
# Prints one line per program: "NAME PATH" when it is there, or
# "NAME unavailable: REASON"; exits 0 when every one is there, else 1.
# Environment: REAL_DIR (default build/real), REAL_SUITE (default
# bookworm), REAL_MIRROR (default the system's Debian mirror), CC.
set -u
export LC_ALL=C
cd "$(dirname "$0")/../.." || exit 2

REAL_DIR=${REAL_DIR:-build/real}
SUITE=${REAL_SUITE:-bookworm}
CC=${CC:-cc}
CFLAGS_REAL="-O2 -g"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$REAL_DIR"/src "$REAL_DIR"/bin "$REAL_DIR"/build || exit 2
REAL_DIR=$(cd "$REAL_DIR" && pwd -P)
LOG=$REAL_DIR/log

# the Debian mirror the system's own sources name
mirror() {
	local m
	[ -n "${REAL_MIRROR:-}" ] && { echo "$REAL_MIRROR"; return; }
	m=$(grep -h -o -E '(https?://[^ ]*/debian)/?( |$)' /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v security | head -n1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}

APT=$REAL_DIR/apt
APT_OPTS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/none"
	  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
	  -o "APT::Sandbox::User=root" -q)

# fetch SRCPKG GLOB: the upstream tarball of source package SRCPKG in
# $REAL_DIR/src (fetched once); prints its path.
fetch() {
	local pkg=$1 glob=$2 f
	for f in "$REAL_DIR"/src/$glob; do
		[ -s "$f" ] && { echo "$f"; return 0; }
	done
	command -v apt-get >/dev/null || { echo "apt-get not found" >&2; return 1; }
	[ -r "$KEYRING" ] || { echo "$KEYRING missing (debian-archive-keyring)" >&2; return 1; }
	mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/none"
	echo "deb-src [signed-by=$KEYRING] $(mirror) $SUITE main" >"$APT/sources.list"
	if [ ! -s "$APT/updated" ]; then
		apt-get "${APT_OPTS[@]}" update >>"$LOG" 2>&1 ||
			{ echo "apt-get update of the deb-src list failed (see $LOG)" >&2; return 1; }
		compgen -G "$APT/lists/*_Sources*" >/dev/null ||
			{ echo "no Sources index from $(mirror): $(grep -E '^(E|W|Err):' "$LOG" | head -n1) (see $LOG)" >&2; return 1; }
		date >"$APT/updated"
	fi
	(cd "$REAL_DIR/src" && apt-get "${APT_OPTS[@]}" source --download-only "$pkg") >>"$LOG" 2>&1 ||
		{ echo "apt-get source $pkg failed: $(grep -E '^(E|W|Err):' "$LOG" | tail -n1) (see $LOG)" >&2; return 1; }
	for f in "$REAL_DIR"/src/$glob; do
		[ -s "$f" ] && { echo "$f"; return 0; }
	done
	echo "no $glob among $pkg's source files" >&2
	return 1
}

# stamp_ok NAME TEXT: the program is built and was built from TEXT.
stamp_ok() {
	[ -x "$REAL_DIR/bin/$1" ] && [ -s "$REAL_DIR/bin/$1.stamp" ] &&
		[ "$(cat "$REAL_DIR/bin/$1.stamp")" = "$2" ]
}

# unpack TARBALL DIR: a fresh copy of the tarball's tree in DIR.
unpack() {
	rm -rf "$2" && mkdir -p "$2" &&
		tar -xf "$1" -C "$2" --strip-components=1
}

build_lua() {
	local tb d stamp
	tb=$(fetch lua5.4 'lua5.4_*.orig.tar.*') || return 1
	stamp="$(basename "$tb") $CC $CFLAGS_REAL seed0"
	stamp_ok lua "$stamp" && return 0
	d=$REAL_DIR/build/lua
	unpack "$tb" "$d" || { echo "cannot unpack $tb" >&2; return 1; }
	# upstream's own makefile: -O2 -Wall -Wextra, no readline
	nice make -C "$d/src" -j2 lua CC="$CC" MYCFLAGS="-g '-Dluai_makeseed(L)=0'" \
		SYSCFLAGS="-DLUA_USE_LINUX" SYSLIBS="-Wl,-E -ldl" >>"$LOG" 2>&1 ||
		{ echo "building lua failed (see $LOG)" >&2; return 1; }
	cp "$d/src/lua" "$REAL_DIR/bin/lua" && echo "$stamp" >"$REAL_DIR/bin/lua.stamp"
}

build_minigzip() {
	local tb d stamp
	tb=$(fetch zlib 'zlib_*.orig.tar.*') || return 1
	stamp="$(basename "$tb") $CC $CFLAGS_REAL static"
	stamp_ok minigzip "$stamp" && return 0
	d=$REAL_DIR/build/zlib
	unpack "$tb" "$d" || { echo "cannot unpack $tb" >&2; return 1; }
	(cd "$d" && CC="$CC" CFLAGS="$CFLAGS_REAL" ./configure --static &&
		nice make -j2 minigzip) >>"$LOG" 2>&1 ||
		{ echo "building zlib's minigzip failed (see $LOG)" >&2; return 1; }
	cp "$d/minigzip" "$REAL_DIR/bin/minigzip" && echo "$stamp" >"$REAL_DIR/bin/minigzip.stamp"
}

# lz4 built for x86-64-v4 (AVX-512): gcc -O3 vectorizes its loops into
# EVEX instructions that capstone 4 does not decode (symbols/disasm.c,
# vex_decode); runs only where the CPU has AVX-512.  The command-line
# program with the library's sources in the executable (upstream's
# makefile); single-threaded in this version.
build_lz4() {
	local tb d stamp flags="-O3 -g -march=x86-64-v4"
	tb=$(fetch lz4 'lz4_*.orig.tar.*') || return 1
	stamp="$(basename "$tb") $CC $flags"
	stamp_ok lz4 "$stamp" && return 0
	d=$REAL_DIR/build/lz4
	unpack "$tb" "$d" || { echo "cannot unpack $tb" >&2; return 1; }
	nice make -C "$d/programs" -j2 lz4 CC="$CC" CFLAGS="$flags" >>"$LOG" 2>&1 ||
		{ echo "building lz4 failed (see $LOG)" >&2; return 1; }
	cp "$d/programs/lz4" "$REAL_DIR/bin/lz4" && echo "$stamp" >"$REAL_DIR/bin/lz4.stamp"
}

rc=0
for name in "${@:-lua minigzip}"; do
	for n in $name; do
		case $n in
		lua | minigzip | lz4) ;;
		*) echo "$n unavailable: unknown program (lua, minigzip, lz4)"; rc=1; continue ;;
		esac
		if why=$("build_$n" 2>&1 >/dev/null) && [ -x "$REAL_DIR/bin/$n" ]; then
			echo "$n $REAL_DIR/bin/$n"
		else
			echo "$n unavailable: ${why:-build failed}" | head -n1
			rc=1
		fi
	done
done
exit $rc

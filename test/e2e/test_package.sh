#!/usr/bin/env bash
# What the Debian package installs, without building it (make deb does,
# with dpkg-buildpackage and lintian): `make install DESTDIR=... PREFIX=/usr`
# puts the binary, the man page and the bash completion where debian/rules
# takes them, and the package's own test (debian/tests/smoke, autopkgtest
# style) passes on that tree: a small program's row exact, its exit status
# passed through, a pprof profile, the completion of --format.  make
# install copies ./iprofmem; the binary under test ($IPROFMEM, the ASan
# build too) then replaces it in the tree.
. "$(dirname "$0")/lib.sh"

R=$WORK/root
tc "make install DESTDIR PREFIX=/usr: binary, man page, bash completion"
if make -s -o all install DESTDIR="$R" PREFIX=/usr >"$WORK/install.log" 2>&1; then
	for f in usr/bin/iprofmem usr/share/man/man1/iprofmem.1 \
		usr/share/bash-completion/completions/iprofmem; do
		[ -f "$R/$f" ] || fail "no /$f"
	done
	[ -x "$R/usr/bin/iprofmem" ] || fail "/usr/bin/iprofmem not executable"
	cmp -s completion/iprofmem "$R/usr/share/bash-completion/completions/iprofmem" ||
		fail "the installed completion is not completion/iprofmem"
	cp "$IPROFMEM" "$R/usr/bin/iprofmem" || fail "cannot copy $IPROFMEM"
else
	fail "make install failed"; note_file "$WORK/install.log"
fi
tc_end

# groff with every warning: a stray byte or an unknown request in the
# source is lost or garbled on the page (a form feed for \fR was)
if ! command -v groff >/dev/null; then
	echo "SKIP ${TAG}man page: groff reads it without a warning: no groff here (Debian's groff-base)"
else
	tc "man page: groff reads it without a warning"
	groff -man -ww -z man/iprofmem.1 >"$WORK/groff.log" 2>&1 || fail "groff failed"
	[ -s "$WORK/groff.log" ] && { fail "groff warns"; note_file "$WORK/groff.log"; }
	grep -q -P '[\x00-\x08\x0b-\x1f\x7f]' man/iprofmem.1 README.md &&
		fail "a control character in the man page or the README"
	tc_end
fi

tc "debian/tests/smoke on the installed tree"
# the package compresses the man page; the smoke test looks for that
gzip -9n "$R/usr/share/man/man1/iprofmem.1" 2>/dev/null
mkdir -p "$WORK/smoke"
if ROOT=$R AUTOPKGTEST_TMP=$WORK/smoke timeout 60 sh debian/tests/smoke >"$WORK/smoke.log" 2>&1; then
	[ "$(grep -c '^PASS' "$WORK/smoke.log")" -eq 3 ] || { fail "not 3 PASS lines"; note_file "$WORK/smoke.log"; }
else
	fail "debian/tests/smoke failed"; note_file "$WORK/smoke.log"
fi
check_sanitizer "$WORK/smoke.log"
tc_end

exit $((N_FAILED > 0))

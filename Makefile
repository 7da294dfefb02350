# iprofmem: a memory profiler for native Linux programs.
#   make demo    install missing build packages, build, profile the example
#   make check   install missing test packages, build and run every test
#                (normal and ASan+UBSan builds, and a run under valgrind memcheck)
#   make bench   per-event cost against a minimal reference tracer, and
#                iprofmem's peak RSS at 1 M and 10 M traced calls (~10 min)
#   make stress  threads, deep recursion, forks, signals, attach cycles at
#                full size, each judged on exact counts (~2 min)
#   make fuzz    libFuzzer (clang) on every parser, FUZZ_TIME seconds each
#                (test/fuzz/fuzz.mk); `make check` replays its inputs
#   make deb     the Debian package (debian/) in build/deb/, checked by lintian
#   make deb-test that package installed (dpkg -i) in a clean Debian 12 chroot
#                (debootstrap, cached in build/deb-test/), its debian/tests run
#                there; as root, not part of make check

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wno-missing-field-initializers
PKGS    := libdw libelf capstone libprotobuf-c zlib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libstdc++ for its C++ demangler (__cxa_demangle), for C++ symbol names
LIBS       = -lstdc++
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) -I. -Ibuild/gen $(PKG_CFLAGS) -DIPROFMEM_VERSION='"$(VERSION)"' -MMD -MP

SRCS := iprofmem.c \
	symbols/symbols.c symbols/linefiles.c symbols/disasm.c symbols/quickdec.c symbols/select.c symbols/buildid.c \
	tracer/tracer.c tracer/thread.c tracer/bptable.c tracer/arch_x86_64.c \
	tracer/rss.c tracer/memio.c tracer/image.c tracer/process.c tracer/launch.c tracer/attach.c tracer/trapguard.c tracer/areas.c \
	tracer/probes.c tracer/stub_x86_64.c symbols/patch.c probe/ring.c \
	report/report.c report/rows.c report/paths.c report/print.c report/table.c \
	report/tree.c report/json.c report/csv.c report/escape.c report/svg.c \
	report/folded.c report/flame.c report/timeline.c report/record.c \
	report/record_load.c report/pprof.c report/diff.c report/budget.c \
	report/progress.c util.c output.c procfs.c live.c status.c

# Debian packages, by what needs them.  g++ brings the libstdc++ that -lstdc++
# links; make itself must be there to read this; protobuf-c and zlib: the
# pprof writer, its C code generated from report/profile.proto by protoc-c.
BUILD_PKGS := libdw-dev libelf-dev libcapstone-dev pkg-config gcc g++ make \
	      libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
# make check: cmocka (unit tests), libc6-dbg (libc's debug info: the tests
# that trace libc), chromium and python3 (the SVG views rendered, JSON/CSV
# parsed), strace (a second tracer), gcc-multilib (a 32-bit program),
# valgrind (iprofmem under memcheck), golang-go (go tool pprof reads our
# profiles), bash-completion (the completion's tests)
TEST_PKGS  := $(BUILD_PKGS) libcmocka-dev libc6-dbg chromium python3 strace gcc-multilib valgrind \
	      golang-go bash-completion
# make bench: GNU time (the tracer's peak RSS); make fuzz: clang (libFuzzer)
BENCH_PKGS := $(BUILD_PKGS) time
FUZZ_PKGS  := $(BUILD_PKGS) clang
DEPS_PKGS  := $(sort $(TEST_PKGS) $(BENCH_PKGS) $(FUZZ_PKGS))

.PHONY: all deps deps-build deps-test deps-bench demo check check-unit check-asan bench stress install uninstall clean asan deb deb-test

all: deps-ok iprofmem

# install_missing WHAT,PACKAGES: installs the missing PACKAGES as root (apt-get);
# anyone else is told which to install, and the goal fails.
define install_missing
	@missing=""; for p in $(2); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps ($(1)): all present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps ($(1)): installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "deps ($(1)): missing$$missing; as root: apt-get install$$missing"; exit 1; fi
endef

# deps: everything, for every goal; the others what their goal needs:
# deps-build for make all and make demo, deps-test for make check,
# deps-bench for make bench.
deps:
	$(call install_missing,all,$(DEPS_PKGS))
deps-build:
	$(call install_missing,build,$(BUILD_PKGS))
deps-test:
	$(call install_missing,make check,$(TEST_PKGS))
deps-bench:
	$(call install_missing,make bench,$(BENCH_PKGS))

# deps-ok: fail early with a readable message instead of a wall of compiler errors.
deps-ok:
	@pkg-config --exists $(PKGS) 2>/dev/null || { \
		echo "iprofmem needs libdw, libelf, capstone, protobuf-c and zlib: run 'make deps-build' (as root)"; exit 1; }
.PHONY: deps-ok

# The pprof writer's message code, generated from report/profile.proto by
# protoc-c and compiled with its own flags (generated code, not ours to
# make -Wshadow clean).
PROTO_C   := build/gen/profile.pb-c.c
PROTO_H   := build/gen/profile.pb-c.h
GEN_CFLAGS = -std=gnu11 -Wall $(CPPFLAGS) $(CFLAGS) -Ibuild/gen $(PKG_CFLAGS)

# iprofmem's own objects are optimised across files: the drain's path for
# each event goes through tracer/, report/ and probe/, in calls small
# enough to inline (a twentieth of the instructions of a traced
# python3.11d run).  LTO= turns it off.
LTO ?= -flto=auto

OBJS := $(SRCS:%.c=build/%.o) build/gen/profile.pb-c.o
ASAN_OBJS := $(SRCS:%.c=build-asan/%.o) build-asan/gen/profile.pb-c.o
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LTO) -c -o $@ $<

build-asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

$(PROTO_C): report/profile.proto
	@mkdir -p $(dir $@)
	protoc-c --proto_path=report --c_out=$(dir $@) report/profile.proto
$(PROTO_H): $(PROTO_C)

build/gen/profile.pb-c.o: $(PROTO_C) $(PROTO_H)
	$(CC) $(GEN_CFLAGS) $(LTO) -c -o $@ $<

build-asan/gen/profile.pb-c.o: $(PROTO_C) $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(GEN_CFLAGS) -O1 $(SAN) -c -o $@ $<

# before its first build, when no .d file lists the generated header yet
build/report/pprof.o build-asan/report/pprof.o: $(PROTO_H)

# The probe blob: the code iprofmem writes into a probed program
# (probe/probe.h), built freestanding and position-independent, linked at
# 0 and embedded as a C array (probe/blob.sh checks it has no data and no
# relocations).
PROBE_BLOB_CFLAGS := -std=gnu11 -O2 -fPIC -fvisibility=hidden -ffreestanding \
	-fno-stack-protector -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fno-jump-tables -fcf-protection=none -fno-builtin $(WARN) -I.
PROBE_BLOB_OBJS := build/probe/blob/entry.o build/probe/blob/probe.o build/probe/blob/ring.o
build/probe/blob/entry.o: probe/probe_x86_64.S
	@mkdir -p $(@D)
	$(CC) -c -o $@ $<
build/probe/blob/%.o: probe/%.c probe/probe.h probe/ring.h probe/syscall.h
	@mkdir -p $(@D)
	$(CC) $(PROBE_BLOB_CFLAGS) -c -o $@ $<
build/gen/probe_blob.h: $(PROBE_BLOB_OBJS) probe/blob.ld probe/blob.sh
	@mkdir -p $(@D)
	ld -T probe/blob.ld -o build/probe/blob.elf $(PROBE_BLOB_OBJS)
	sh probe/blob.sh build/probe/blob.elf $@
build/tracer/probes.o build-asan/tracer/probes.o: build/gen/probe_blob.h

iprofmem: $(OBJS)
	$(CC) $(CFLAGS) $(LTO) $(WARN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

build-asan/iprofmem: $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LIBS)

asan: deps-ok build-asan/iprofmem

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)

# Example program for `make demo`.
build/examples/records: examples/records.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O0 -g $(WARN) -o $@ $<

# deps first, in its own make (see check in test/test.mk)
demo: deps-build
	$(MAKE) all build/examples/records
	./iprofmem -- build/examples/records

include test/test.mk
include bench/bench.mk
include test/fuzz/fuzz.mk

# bash-completion loads completions/iprofmem on first use of the command
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 iprofmem $(DESTDIR)$(PREFIX)/bin/iprofmem
	install -m 644 man/iprofmem.1 $(DESTDIR)$(PREFIX)/share/man/man1/iprofmem.1
	install -m 644 completion/iprofmem $(DESTDIR)$(BASHCOMPDIR)/iprofmem

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/iprofmem $(DESTDIR)$(PREFIX)/share/man/man1/iprofmem.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/iprofmem

# deb: dpkg-buildpackage -us -uc -b on a copy of the source (the tracked
# files, or the tree without its builds) in build/deb/iprofmem-VERSION, so
# that the package's own `make clean` leaves this tree's build alone; the
# .deb, .buildinfo and .changes land in build/deb/.  lintian must report no
# error.
DEB_SRC := build/deb/iprofmem-$(VERSION)
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null && \
	command -v lintian >/dev/null || { \
		echo "make deb needs dpkg-dev, debhelper and lintian: apt-get install dpkg-dev debhelper lintian"; exit 1; }
	@head -n1 debian/changelog | grep -q '($(VERSION))' || { \
		echo "debian/changelog is not at version $(VERSION)"; exit 1; }
	rm -rf build/deb && mkdir -p $(DEB_SRC)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z | tar --null -T - -cf - | tar -xf - -C $(DEB_SRC); \
	else \
		tar --exclude=./build --exclude=./build-asan --exclude=./iprofmem -cf - . | tar -xf - -C $(DEB_SRC); \
	fi
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error build/deb/iprofmem_$(VERSION)_*.changes
	@ls build/deb/*.deb

# deb-test: the package on a clean machine, as the issue asks: test/deb-test.sh
# installs it with dpkg -i and apt-get -f install in a minbase bookworm chroot
# (built once by debootstrap from this machine's mirror, kept in
# build/deb-test/base, copied fresh for each run) and runs debian/tests there.
deb-test: deb
	bash test/deb-test.sh

clean:
	rm -rf build build-asan iprofmem

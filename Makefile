# iprofmem: a memory profiler for native Linux programs.
#   make demo    install missing packages, build, profile the example program
#   make check   build and run every test (normal and ASan+UBSan builds, and
#                a run under valgrind memcheck)
#   make bench   per-event cost against a minimal reference tracer, and
#                iprofmem's peak RSS at 1 M and 10 M traced calls (~10 min)
#   make stress  threads, deep recursion, forks, signals, attach cycles at
#                full size, each judged on exact counts (~2 min)
#   make fuzz    libFuzzer (clang) on every parser, FUZZ_TIME seconds each
#                (test/fuzz/fuzz.mk); `make check` replays its inputs
#   make deb     the Debian package (debian/) in build/deb/, checked by lintian

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
	symbols/symbols.c symbols/disasm.c symbols/select.c symbols/buildid.c \
	tracer/tracer.c tracer/thread.c tracer/bptable.c tracer/arch_x86_64.c \
	tracer/rss.c tracer/memio.c tracer/image.c tracer/process.c tracer/launch.c tracer/attach.c tracer/trapguard.c \
	report/report.c report/rows.c report/paths.c report/print.c report/table.c \
	report/tree.c report/json.c report/csv.c report/escape.c report/svg.c \
	report/folded.c report/flame.c report/timeline.c report/record.c \
	report/record_load.c report/pprof.c report/diff.c report/budget.c \
	report/progress.c util.c output.c procfs.c live.c status.c

DEPS_PKGS := libdw-dev libelf-dev libcapstone-dev libcmocka-dev pkg-config libc6-dbg chromium python3 strace gcc-multilib clang valgrind time
DEPS_PKGS += libprotobuf-c-dev protobuf-c-compiler zlib1g-dev golang-go

.PHONY: all deps demo check check-unit check-asan bench stress install uninstall clean asan deb

all: deps-ok iprofmem

# deps: install the build dependencies when one is missing.
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "deps: missing$$missing; run as root: apt-get install$$missing"; exit 1; fi

# deps-ok: fail early with a readable message instead of a wall of compiler errors.
deps-ok:
	@pkg-config --exists $(PKGS) 2>/dev/null || { \
		echo "iprofmem needs libdw, libelf, capstone, protobuf-c and zlib: run 'make deps' (as root)"; exit 1; }
.PHONY: deps-ok

# The pprof writer's message code, generated from report/profile.proto by
# protoc-c and compiled with its own flags (generated code, not ours to
# make -Wshadow clean).
PROTO_C   := build/gen/profile.pb-c.c
PROTO_H   := build/gen/profile.pb-c.h
GEN_CFLAGS = -std=gnu11 -Wall $(CPPFLAGS) $(CFLAGS) -Ibuild/gen $(PKG_CFLAGS)

OBJS := $(SRCS:%.c=build/%.o) build/gen/profile.pb-c.o
ASAN_OBJS := $(SRCS:%.c=build-asan/%.o) build-asan/gen/profile.pb-c.o
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build-asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

$(PROTO_C): report/profile.proto
	@mkdir -p $(dir $@)
	protoc-c --proto_path=report --c_out=$(dir $@) report/profile.proto
$(PROTO_H): $(PROTO_C)

build/gen/profile.pb-c.o: $(PROTO_C) $(PROTO_H)
	$(CC) $(GEN_CFLAGS) -c -o $@ $<

build-asan/gen/profile.pb-c.o: $(PROTO_C) $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(GEN_CFLAGS) -O1 $(SAN) -c -o $@ $<

# before its first build, when no .d file lists the generated header yet
build/report/pprof.o build-asan/report/pprof.o: $(PROTO_H)

iprofmem: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

build-asan/iprofmem: $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LIBS)

asan: deps-ok build-asan/iprofmem

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)

# Example program for `make demo`.
build/examples/records: examples/records.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O0 -g $(WARN) -o $@ $<

demo: deps
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

clean:
	rm -rf build build-asan iprofmem

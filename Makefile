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

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wno-missing-field-initializers
PKGS    := libdw libelf capstone
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libstdc++ for its C++ demangler (__cxa_demangle), for C++ symbol names
LIBS       = -lstdc++
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS) -DIPROFMEM_VERSION='"$(VERSION)"' -MMD -MP

SRCS := iprofmem.c \
	symbols/symbols.c symbols/disasm.c symbols/select.c \
	tracer/tracer.c tracer/thread.c tracer/bptable.c tracer/arch_x86_64.c \
	tracer/rss.c tracer/memio.c tracer/image.c tracer/process.c tracer/launch.c tracer/attach.c tracer/trapguard.c \
	report/report.c report/rows.c report/paths.c report/print.c report/table.c \
	report/tree.c report/json.c report/csv.c report/escape.c report/svg.c \
	report/folded.c report/flame.c report/timeline.c report/record.c \
	report/record_load.c util.c output.c procfs.c

# Debian packages, by what needs them.  g++ brings the libstdc++ that -lstdc++
# links; make itself must be there to read this.
BUILD_PKGS := libdw-dev libelf-dev libcapstone-dev pkg-config gcc g++ make
# make check: cmocka (unit tests), libc6-dbg (libc's debug info: the tests
# that trace libc), chromium and python3 (the SVG views rendered, JSON/CSV
# parsed), strace (a second tracer), gcc-multilib (a 32-bit program),
# valgrind (iprofmem under memcheck)
TEST_PKGS  := $(BUILD_PKGS) libcmocka-dev libc6-dbg chromium python3 strace gcc-multilib valgrind
# make bench: GNU time (the tracer's peak RSS); make fuzz: clang (libFuzzer)
BENCH_PKGS := $(BUILD_PKGS) time
FUZZ_PKGS  := $(BUILD_PKGS) clang
DEPS_PKGS  := $(sort $(TEST_PKGS) $(BENCH_PKGS) $(FUZZ_PKGS))

.PHONY: all deps deps-build deps-test deps-bench demo check check-unit check-asan bench stress install uninstall clean asan

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
		echo "iprofmem needs libdw, libelf and capstone: run 'make deps-build' (as root)"; exit 1; }
.PHONY: deps-ok

OBJS := $(SRCS:%.c=build/%.o)
ASAN_OBJS := $(SRCS:%.c=build-asan/%.o)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build-asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

iprofmem: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LIBS)

build-asan/iprofmem: $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LIBS)

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

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 iprofmem $(DESTDIR)$(PREFIX)/bin/iprofmem
	install -m 644 man/iprofmem.1 $(DESTDIR)$(PREFIX)/share/man/man1/iprofmem.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/iprofmem $(DESTDIR)$(PREFIX)/share/man/man1/iprofmem.1

clean:
	rm -rf build build-asan iprofmem

# Fuzzing, included by the Makefile.
#   make fuzz             build each harness with clang's libFuzzer and run it
#                         for FUZZ_TIME seconds (default 60), one at a time;
#                         prints executions and crashes per target
#                         (FUZZ_TARGETS="elf proc": only those)
#   make fuzz-replay      build the replay binaries `make check` runs: each
#                         harness with gcc, ASan+UBSan and test/fuzz/replay.c
#                         as main(), to pass every corpus and regression
#                         input through it once (no clang needed)
#   make fuzz-seeds       rebuild the ELF seeds from test/fuzz/seeds/
# Targets: funcs (symbols/select.c), record (report/record_load.c and the
# views, pprof and the pprof diff included), budget (report/budget.c and report/diff.c), proc (tracer/rss.c, procfs.c, and libdwfl's reading of
# /proc/PID/maps), elf (symbols/symbols.c, linefiles.c, disasm.c
# through libdwfl), ring (probe/ring.c's consumer, on memory the traced
# program can scribble on), patch (symbols/patch.c's windows, on any
# bytes), thread (tracer/thread.c's shadow stacks, on any events).
# Seed corpora: test/fuzz/corpus/TARGET; inputs that once failed:
# test/fuzz/regress/TARGET; the growing corpus and the crash artifacts of a
# run: build/fuzz/.

FUZZ_ALL     := funcs record budget proc elf ring patch thread
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_TIME    ?= 60
FUZZ_CC      ?= clang
FUZZ_MK      := $(lastword $(MAKEFILE_LIST))

FUZZ_COMMON := test/fuzz/fuzz_file.c
FUZZ_SRC_funcs  := test/fuzz/fuzz_funcs.c symbols/select.c
FUZZ_SRC_record := test/fuzz/fuzz_record.c report/report.c report/rows.c \
	report/paths.c report/print.c report/table.c report/tree.c \
	report/json.c report/csv.c report/escape.c report/svg.c \
	report/folded.c report/flame.c report/timeline.c report/record.c \
	report/record_load.c report/progress.c report/pprof.c report/diff.c \
	$(PROTO_C)
FUZZ_SRC_budget := test/fuzz/fuzz_budget.c report/budget.c report/diff.c \
	report/report.c report/rows.c report/paths.c report/print.c \
	report/table.c report/tree.c report/json.c report/csv.c \
	report/escape.c report/progress.c symbols/select.c
FUZZ_SRC_proc   := test/fuzz/fuzz_proc.c tracer/rss.c procfs.c
FUZZ_SRC_elf    := test/fuzz/fuzz_elf.c symbols/symbols.c symbols/linefiles.c symbols/disasm.c symbols/quickdec.c \
	symbols/select.c util.c procfs.c
FUZZ_SRC_ring   := test/fuzz/fuzz_ring.c probe/ring.c
FUZZ_SRC_patch  := test/fuzz/fuzz_patch.c symbols/patch.c symbols/disasm.c symbols/quickdec.c
FUZZ_SRC_thread := test/fuzz/fuzz_thread.c tracer/thread.c util.c
FUZZ_LIBS_record = -lm $(shell pkg-config --libs libprotobuf-c zlib 2>/dev/null)
FUZZ_LIBS_budget = -lm
FUZZ_LIBS_proc   = $(PKG_LIBS)
FUZZ_LIBS_elf    = $(PKG_LIBS) -lstdc++
FUZZ_LIBS_patch  = $(PKG_LIBS)

FUZZ_BINS   := $(FUZZ_TARGETS:%=build/fuzz/bin/fuzz_%)
REPLAY_BINS := $(FUZZ_ALL:%=build-asan/fuzz/replay_%)
FUZZ_CFLAGS  = $(filter-out -MMD -MP,$(ALL_CFLAGS))
FUZZ_HDRS   := $(wildcard test/fuzz/*.h symbols/*.h report/*.h tracer/rss.h tracer/thread.h procfs.h util.h probe/*.h)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-seeds fuzz-clang-ok
fuzz: deps-ok fuzz-clang-ok fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) bash test/fuzz/run.sh $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)
fuzz-replay: $(REPLAY_BINS)

fuzz-clang-ok:
	@command -v $(FUZZ_CC) >/dev/null || { \
		echo "make fuzz needs clang (libFuzzer): run 'make deps' (as root)"; exit 1; }

# One compiler run per binary, as for the unit tests: the prerequisites
# list the headers.  $(1): the target.
define FUZZ_RULES
build/fuzz/bin/fuzz_$(1): $$(FUZZ_SRC_$(1)) $$(FUZZ_COMMON) $$(FUZZ_HDRS) $$(FUZZ_MK)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $$@ $$(filter %.c,$$^) $$(FUZZ_LIBS_$(1))

build-asan/fuzz/replay_$(1): $$(FUZZ_SRC_$(1)) $$(FUZZ_COMMON) test/fuzz/replay.c $$(FUZZ_HDRS) $$(FUZZ_MK)
	@mkdir -p $$(@D)
	$$(CC) $$(FUZZ_CFLAGS) -O1 $$(SAN) -o $$@ $$(filter %.c,$$^) $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_RULES,$(t))))

# Small on purpose (each under 30 KB: -z noseparate-code drops the page
# padding); the fuzzer mutates every byte of them.
FUZZ_SEED_LD := -Wl,-z,noseparate-code
fuzz-seeds:
	gcc -O0 -g $(FUZZ_SEED_LD) -o test/fuzz/corpus/elf/tiny.O0 test/fuzz/seeds/tiny.c
	gcc -O2 -g $(FUZZ_SEED_LD) -o test/fuzz/corpus/elf/tiny.O2 test/fuzz/seeds/tiny.c
	gcc -O2 -g0 $(FUZZ_SEED_LD) -o test/fuzz/corpus/elf/tiny.nodebug test/fuzz/seeds/tiny.c
	gcc -O2 -g -c -o test/fuzz/corpus/elf/tiny.O2-rel test/fuzz/seeds/tiny.c
	gcc -O0 -gdwarf-4 -no-pie -fcf-protection=full $(FUZZ_SEED_LD) \
		-o test/fuzz/corpus/elf/tiny.dwarf4-nopie-cet test/fuzz/seeds/tiny.c
	g++ -O2 -g $(FUZZ_SEED_LD) -o test/fuzz/corpus/elf/tiny_cxx.O2 test/fuzz/seeds/tiny_cxx.cc

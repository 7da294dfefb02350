# Unit tests (cmocka), included by test/test.mk.
#   make unit-tests   build them, normal and ASan+UBSan
# Each test links the source of the module it tests and nothing else, so a
# module's tests build even while the rest of the program does not.
# $(UNIT_TESTS) lists the binaries, for whoever runs them.

UNIT_NAMES         := test_report test_disasm test_select test_procfs \
                      test_thread test_arch test_ring test_patch test_stub \
                      test_pprof test_memio test_linefiles
UNIT_TESTS         := $(UNIT_NAMES:%=build/unit/%) $(UNIT_NAMES:%=build-asan/unit/%)
UNIT_CMOCKA_CFLAGS  = $(shell pkg-config --cflags cmocka 2>/dev/null)
UNIT_CMOCKA_LIBS    = $(shell pkg-config --libs cmocka 2>/dev/null)
UNIT_CS_LIBS        = $(shell pkg-config --libs capstone 2>/dev/null)
# One compiler run per binary: -MMD would name its .d files after temporary
# objects, so each binary lists its headers as prerequisites instead.
UNIT_CFLAGS         = $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(UNIT_CMOCKA_CFLAGS)
UNIT_LIBS           = -lm

.PHONY: unit-tests
unit-tests: $(UNIT_TESTS)

build/unit/test_report build-asan/unit/test_report: \
		test/unit/test_report.c test/unit/test_report_util.c \
		test/unit/test_report_views.c test/unit/test_report_svg.c \
		test/unit/test_report_record.c test/unit/test_report.h \
		report/report.c report/rows.c report/paths.c report/print.c \
		report/table.c report/tree.c report/json.c report/csv.c \
		report/escape.c report/svg.c report/folded.c report/flame.c \
		report/timeline.c report/record.c report/record_load.c \
		report/diff.c report/budget.c symbols/select.c report/progress.c \
		report/report.h report/internal.h symbols/select.h \
		test/unit/test_report_diff.c
build/unit/test_disasm build-asan/unit/test_disasm: \
		test/unit/test_disasm.c symbols/disasm.c symbols/quickdec.c symbols/disasm.h
build/unit/test_disasm build-asan/unit/test_disasm: UNIT_LIBS += $(UNIT_CS_LIBS)
build/unit/test_patch build-asan/unit/test_patch: \
		test/unit/test_patch.c symbols/patch.c symbols/patch.h \
		symbols/disasm.c symbols/quickdec.c symbols/disasm.h
build/unit/test_patch build-asan/unit/test_patch: UNIT_LIBS += $(UNIT_CS_LIBS)
build/unit/test_stub build-asan/unit/test_stub: \
		test/unit/test_stub.c tracer/stub_x86_64.c tracer/stub.h \
		symbols/patch.c symbols/patch.h symbols/disasm.c symbols/quickdec.c symbols/disasm.h
build/unit/test_stub build-asan/unit/test_stub: UNIT_LIBS += $(UNIT_CS_LIBS)
build/unit/test_linefiles build-asan/unit/test_linefiles: \
		test/unit/test_linefiles.c symbols/linefiles.c symbols/linefiles.h
build/unit/test_select build-asan/unit/test_select: \
		test/unit/test_select.c symbols/select.c symbols/select.h
build/unit/test_procfs build-asan/unit/test_procfs: \
		test/unit/test_procfs.c procfs.c procfs.h tracer/rss.c tracer/rss.h
build/unit/test_thread build-asan/unit/test_thread: \
		test/unit/test_thread.c tracer/thread.c tracer/thread.h util.c util.h
build/unit/test_arch build-asan/unit/test_arch: \
		test/unit/test_arch.c tracer/arch_x86_64.c tracer/arch.h \
		tracer/memio.c tracer/memio.h symbols/disasm.c symbols/quickdec.c symbols/disasm.h
build/unit/test_arch build-asan/unit/test_arch: UNIT_LIBS += $(UNIT_CS_LIBS)
build/unit/test_memio build-asan/unit/test_memio: \
		test/unit/test_memio.c tracer/memio.c tracer/memio.h
build/unit/test_ring build-asan/unit/test_ring: \
		test/unit/test_ring.c probe/ring.c probe/ring.h \
		build/probe/ring.freestanding.o
build/unit/test_ring build-asan/unit/test_ring: UNIT_LIBS += -pthread
# the pprof writer, its generated protobuf-c code, and the report it reads
build/unit/test_pprof build-asan/unit/test_pprof: \
		test/unit/test_pprof.c test/unit/test_report_util.c \
		test/unit/test_report.h report/pprof.c $(PROTO_C) $(PROTO_H) \
		report/report.c report/rows.c report/paths.c report/print.c \
		report/table.c report/tree.c report/json.c report/csv.c \
		report/escape.c report/svg.c report/progress.c report/diff.c \
		report/report.h report/internal.h
build/unit/test_pprof build-asan/unit/test_pprof: \
		UNIT_LIBS += $(shell pkg-config --libs libprotobuf-c zlib 2>/dev/null)
$(UNIT_TESTS): test/unit/unit.mk

build/unit/%:
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $(filter %.c,$^) $(UNIT_CMOCKA_LIBS) $(UNIT_LIBS)

build-asan/unit/%:
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -O1 $(SAN) -o $@ $(filter %.c,$^) $(UNIT_CMOCKA_LIBS) $(UNIT_LIBS)

# The producer side runs inside the traced program, where there is no libc:
# probe/ring.c must build freestanding and need no symbol from outside.
build/probe/ring.freestanding.o: probe/ring.c probe/ring.h probe/syscall.h test/unit/unit.mk
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -ffreestanding -fno-stack-protector -fPIC $(WARN) -I. -c -o $@ $<
	@if nm -u $@ | grep -q .; then \
		echo "$@ needs symbols from outside:"; nm -u $@; rm -f $@; exit 1; fi

# Unit tests (cmocka), included by test/test.mk.
#   make unit-tests   build them, normal and ASan+UBSan
# Each test links the source of the module it tests and nothing else, so a
# module's tests build even while the rest of the program does not.
# $(UNIT_TESTS) lists the binaries, for whoever runs them.

UNIT_NAMES         := test_report test_disasm test_select test_procfs
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
		report/progress.c \
		report/report.h report/internal.h
build/unit/test_disasm build-asan/unit/test_disasm: \
		test/unit/test_disasm.c symbols/disasm.c symbols/disasm.h
build/unit/test_disasm build-asan/unit/test_disasm: UNIT_LIBS += $(UNIT_CS_LIBS)
build/unit/test_select build-asan/unit/test_select: \
		test/unit/test_select.c symbols/select.c symbols/select.h
build/unit/test_procfs build-asan/unit/test_procfs: \
		test/unit/test_procfs.c procfs.c procfs.h tracer/rss.c tracer/rss.h
$(UNIT_TESTS): test/unit/unit.mk

build/unit/%:
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $(filter %.c,$^) $(UNIT_CMOCKA_LIBS) $(UNIT_LIBS)

build-asan/unit/%:
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -O1 $(SAN) -o $@ $(filter %.c,$^) $(UNIT_CMOCKA_LIBS) $(UNIT_LIBS)

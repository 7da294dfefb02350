# The targets of the selection tests (test/e2e/test_select*.sh) that are
# more than one source file, included by targets.mk (whose variables and
# flags it uses).  The one-file ones, test/targets/sel_*.c and sel_*.cc,
# are built like every other target by targets.mk itself.
#
#   build/targets/libselshared.so   test/targets/sel/shared.c, -O2 -g,
#                                   CET entries (endbr64)
#   build/targets/sel_plugin.so     test/targets/sel/plugin.c, -O0 -g
#   build/targets/sel_prog.VARIANT  test/targets/sel/prog.c + part.c, -g,
#                                   linked with libselshared.so, rpath
#                                   $ORIGIN (where the plugin is too);
#                                   VARIANT in $(SEL_VARIANTS)
#   build/targets/sel_cycle.VARIANT test/targets/sel/cycle.c, -g: loads
#                                   sel_plugin.so again and again;
#                                   VARIANT in $(SEL_CYCLE_VARIANTS)
#
# $(SEL_BINS) lists them; e2e-targets builds them.

SEL_SRCDIR   := $(TGT_SRCDIR)/sel
SEL_MK       := $(lastword $(MAKEFILE_LIST))
SEL_HDR      := $(SEL_SRCDIR)/sel.h
SEL_LIB      := $(TGT_OUTDIR)/libselshared.so
SEL_PLUGIN   := $(TGT_OUTDIR)/sel_plugin.so
SEL_VARIANTS := O0-pie O2-pie-cet O2-nopie
SEL_PROGS    := $(SEL_VARIANTS:%=$(TGT_OUTDIR)/sel_prog.%)
SEL_CYCLE_VARIANTS := O0-nopie O2-pie-cet
SEL_CYCLES   := $(SEL_CYCLE_VARIANTS:%=$(TGT_OUTDIR)/sel_cycle.%)
SEL_BINS     := $(SEL_LIB) $(SEL_PLUGIN) $(SEL_PROGS) $(SEL_CYCLES)

TGT_BINS += $(SEL_BINS)

e2e-targets: $(SEL_BINS)

SEL_SOFLAGS := -std=gnu11 -Wall -Wextra -g -fPIC -shared -Wl,-z,now

$(SEL_LIB): $(SEL_SRCDIR)/shared.c $(SEL_HDR) $(SEL_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(SEL_SOFLAGS) -O2 $(TGT_cet) -Wl,-soname,libselshared.so -o $@ $<

$(SEL_PLUGIN): $(SEL_SRCDIR)/plugin.c $(SEL_HDR) $(SEL_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(SEL_SOFLAGS) -O0 $(TGT_nocet) -o $@ $<

# SEL_PROG_RULE(variant, flags)
define SEL_PROG_RULE
$(TGT_OUTDIR)/sel_prog.$(1): $(SEL_SRCDIR)/prog.c $(SEL_SRCDIR)/part.c $(SEL_HDR) $(SEL_LIB) $(SEL_MK)
	@mkdir -p $$(@D)
	$$(TGT_CC) $$(TGT_CFLAGS) -g $(2) -o $$@ $(SEL_SRCDIR)/prog.c $(SEL_SRCDIR)/part.c \
		-L$(TGT_OUTDIR) -lselshared -ldl '-Wl,-rpath,$$$$ORIGIN'
endef

$(eval $(call SEL_PROG_RULE,O0-pie,$(TGT_O0) $(TGT_pie) $(TGT_nocet)))
$(eval $(call SEL_PROG_RULE,O2-pie-cet,$(TGT_O2) $(TGT_pie) $(TGT_cet)))
$(eval $(call SEL_PROG_RULE,O2-nopie,$(TGT_O2) $(TGT_nopie) $(TGT_nocet)))

# SEL_CYCLE_RULE(variant, flags)
define SEL_CYCLE_RULE
$(TGT_OUTDIR)/sel_cycle.$(1): $(SEL_SRCDIR)/cycle.c $(SEL_HDR) $(SEL_PLUGIN) $(SEL_MK)
	@mkdir -p $$(@D)
	$$(TGT_CC) $$(TGT_CFLAGS) -g $(2) -o $$@ $(SEL_SRCDIR)/cycle.c -ldl -pthread '-Wl,-rpath,$$$$ORIGIN'
endef

$(eval $(call SEL_CYCLE_RULE,O0-nopie,$(TGT_O0) $(TGT_nopie) $(TGT_nocet)))
$(eval $(call SEL_CYCLE_RULE,O2-pie-cet,$(TGT_O2) $(TGT_pie) $(TGT_cet)))

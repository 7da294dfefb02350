# The regress target (test/targets/regress/regress.c): one source built as
# two versions of a program, for 'iprofmem diff' and budgets
# (test/e2e/test_diff.sh).  Included at the end of test/targets/targets.mk;
# its own directory keeps the generic ten-variant rules away from it.
#
#   build/targets/regress.v1   -O2, PIE
#   build/targets/regress.v2   the same with -DV2: a function leaks more
#   build/targets/regress.v2-tree  regress.v2 built from a copy of the
#                              source in another directory, as a second
#                              checkout would be

REGRESS_MK   := $(lastword $(MAKEFILE_LIST))
REGRESS_SRC  := $(TGT_SRCDIR)/regress/regress.c
REGRESS_BINS := $(TGT_OUTDIR)/regress.v1 $(TGT_OUTDIR)/regress.v2 \
		$(TGT_OUTDIR)/regress.v2-tree

TGT_BINS += $(REGRESS_BINS)
e2e-targets: $(REGRESS_BINS)

$(TGT_OUTDIR)/regress.v1: $(REGRESS_SRC) $(REGRESS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_pie) $(TGT_nocet) -o $@ $<

$(TGT_OUTDIR)/regress.v2: $(REGRESS_SRC) $(REGRESS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_pie) $(TGT_nocet) -DV2 -o $@ $<

$(TGT_OUTDIR)/regress-tree/regress.c: $(REGRESS_SRC)
	@mkdir -p $(@D)
	cp $< $@

$(TGT_OUTDIR)/regress.v2-tree: $(TGT_OUTDIR)/regress-tree/regress.c $(REGRESS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_pie) $(TGT_nocet) -DV2 -o $@ $<

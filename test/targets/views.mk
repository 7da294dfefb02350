# The views target (test/targets/views/views.c): a small call tree known to
# the page, for the views and record-file tests (test/e2e/test_views*.sh).
# Included at the end of test/targets/targets.mk; its source sits in a
# directory of its own so that the generic rules there, which build every
# test/targets/*.c in ten variants, leave it alone: three variants suffice.
#
#   build/targets/views.O0-pie        -O0, PIE, no CET
#   build/targets/views.O2-pie        -O2, PIE, no CET
#   build/targets/views.O2-nopie-cet  -O2, not PIE, -fcf-protection=full

VIEWS_MK       := $(lastword $(MAKEFILE_LIST))
VIEWS_SRC      := $(TGT_SRCDIR)/views/views.c
VIEWS_VARIANTS := O0-pie O2-pie O2-nopie-cet
VIEWS_BINS     := $(VIEWS_VARIANTS:%=$(TGT_OUTDIR)/views.%)

TGT_BINS += $(VIEWS_BINS)
e2e-targets: $(VIEWS_BINS)

$(TGT_OUTDIR)/views.O0-pie: $(VIEWS_SRC) $(VIEWS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O0) $(TGT_pie) $(TGT_nocet) -o $@ $<

$(TGT_OUTDIR)/views.O2-pie: $(VIEWS_SRC) $(VIEWS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_pie) $(TGT_nocet) -o $@ $<

$(TGT_OUTDIR)/views.O2-nopie-cet: $(VIEWS_SRC) $(VIEWS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_nopie) $(TGT_cet) -o $@ $<

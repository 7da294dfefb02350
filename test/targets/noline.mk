# The target whose DWARF names a function without its line
# (test/targets/noline/: main.c and noline_fn.S, whose unit is written by
# hand), for test/e2e/test_noline.sh.  Included at the end of
# test/targets/targets.mk; the sources sit in a directory of their own so
# that the generic rules leave them alone.  The .S is given by its
# absolute path: its __FILE__ is the unit's name and the line table's
# file, as a compiler's absolute source name would be.
#
#   build/targets/noline   -O2, PIE, main.c with gcc's DWARF

NOLINE_MK  := $(lastword $(MAKEFILE_LIST))
NOLINE_SRC := $(TGT_SRCDIR)/noline/main.c $(TGT_SRCDIR)/noline/noline_fn.S
NOLINE_BIN := $(TGT_OUTDIR)/noline

TGT_BINS += $(NOLINE_BIN)
e2e-targets: $(NOLINE_BIN)

$(NOLINE_BIN): $(NOLINE_SRC) $(NOLINE_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_pie) $(TGT_nocet) -o $@ \
		$(TGT_SRCDIR)/noline/main.c $(abspath $(TGT_SRCDIR)/noline/noline_fn.S)

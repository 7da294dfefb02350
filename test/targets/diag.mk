# The bad-input targets (test/targets/diag/hello.c), for
# test/e2e/test_diagnostics.sh: files iprofmem must refuse with a clear
# message.  Included at the end of test/targets/targets.mk; the source sits
# in a directory of its own so that the generic rules leave it alone.
#
#   build/targets/diag_hello.m32   a 32-bit i386 executable (gcc-multilib),
#                                  which the kernel runs and iprofmem cannot
#                                  trace
#   build/targets/diag_hello.o     a relocatable object, made executable

DIAG_MK   := $(lastword $(MAKEFILE_LIST))
DIAG_SRC  := $(TGT_SRCDIR)/diag/hello.c
DIAG_BINS := $(TGT_OUTDIR)/diag_hello.m32 $(TGT_OUTDIR)/diag_hello.o

TGT_BINS += $(DIAG_BINS)
e2e-targets: $(DIAG_BINS)

$(TGT_OUTDIR)/diag_hello.m32: $(DIAG_SRC) $(DIAG_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -m32 -g -O0 -o $@ $<

$(TGT_OUTDIR)/diag_hello.o: $(DIAG_SRC) $(DIAG_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g -O0 -c -o $@ $<
	chmod 755 $@

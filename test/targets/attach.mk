# The attach-mode targets (test/targets/attach_*.c) are threaded: link them
# with -pthread.  They are built in every variant by targets.mk's wildcard,
# like the others; `make -f test/targets/targets.mk attach-targets` builds
# only them.
ATTACH_TGT_BINS := $(filter $(TGT_OUTDIR)/attach_%,$(TGT_BINS))

$(TGT_OUTDIR)/attach_%: TGT_CFLAGS += -pthread

.PHONY: attach-targets
attach-targets: $(ATTACH_TGT_BINS)

$(ATTACH_TGT_BINS): $(TGT_SRCDIR)/attach.mk

# The targets without a thread pointer (test/targets/notls/*.c), for
# test/e2e/test_notls.sh: programs whose thread runs traced code with fs
# base 0, which the probes survive only through the dummy thread pointers
# iprofmem gives such threads.  Included at the end of
# test/targets/targets.mk; the sources sit in a directory of their own so
# that the generic rules there leave them alone: one variant each, -O2, not
# PIE, no CET, static.
#
#   build/targets/notls/static_ifunc   glibc, -static: its IFUNC resolver
#                                      (traced) runs before the TLS set-up
#   build/targets/notls/nolibc         -nostdlib -static, its own _start and
#                                      raw syscalls: no TLS ever
#   build/targets/notls/nolibc_fs      the same, its thread pointer set by
#                                      _start to a block that does not
#                                      point to itself (as Go's are)

NOTLS_MK     := $(lastword $(MAKEFILE_LIST))
NOTLS_SRCDIR := $(TGT_SRCDIR)/notls
NOTLS_OUTDIR := $(TGT_OUTDIR)/notls
NOTLS_BINS   := $(NOTLS_OUTDIR)/static_ifunc $(NOTLS_OUTDIR)/nolibc \
		$(NOTLS_OUTDIR)/nolibc_fs
# (no stack protector: its canary is read at %fs:0x28, and fs base is 0)
NOTLS_CFLAGS := $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_nopie) $(TGT_nocet) \
		-fno-stack-protector -static

TGT_BINS += $(NOTLS_BINS)
e2e-targets: $(NOTLS_BINS)

$(NOTLS_OUTDIR)/static_ifunc: $(NOTLS_SRCDIR)/static_ifunc.c $(NOTLS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(NOTLS_CFLAGS) -o $@ $<

$(NOTLS_OUTDIR)/nolibc: $(NOTLS_SRCDIR)/nolibc.c $(NOTLS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(NOTLS_CFLAGS) -nostdlib -ffreestanding -fno-builtin -o $@ $<

$(NOTLS_OUTDIR)/nolibc_fs: $(NOTLS_SRCDIR)/nolibc_fs.c $(NOTLS_SRCDIR)/nolibc.c $(NOTLS_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(NOTLS_CFLAGS) -nostdlib -ffreestanding -fno-builtin -o $@ $<

# The malloc-failing shim (test/targets/failmalloc.c) that test_oom.sh
# preloads into iprofmem: a shared object, not a program, so targets.mk's
# wildcard leaves it out (TGT_NAMES) and this builds it.
FAILMALLOC_SO := $(TGT_OUTDIR)/failmalloc.so

$(FAILMALLOC_SO): $(TGT_SRCDIR)/failmalloc.c $(TGT_SRCDIR)/failmalloc.mk
	@mkdir -p $(@D)
	$(TGT_CC) -std=gnu11 -Wall -Wextra -O2 -g -fPIC -shared -o $@ $< -ldl

TGT_BINS += $(FAILMALLOC_SO)
e2e-targets: $(FAILMALLOC_SO)

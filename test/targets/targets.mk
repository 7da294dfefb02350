# End-to-end test targets: small programs with known memory behaviour
# (test/targets/*.c), each built in every variant into build/targets/:
#
#   NAME.{O0,O2}-{pie,nopie}[-cet]   -g, -Wl,-z,now; -cet adds
#                                    -fcf-protection=full (endbr64 entries),
#                                    the others get -fcf-protection=none
#   NAME.{O0,O2}-pie-nodebug         -g0 and .debug* stripped, symbol table
#                                    kept: the no-DWARF fallback
#   NAME.O2-pie-lazy                 for TGT_LAZY_NAMES only: -Wl,-z,lazy,
#                                    lazy binding, its functions' offset
#                                    table entries left writable (the
#                                    others' are read-only: -z now, RELRO)
#
# C++ targets (test/targets/*.cc, g++) in fewer variants, PIE only:
#
#   NAME.{O0,O2}-pie[-cet]           same flags as the C ones
#
#   make e2e-targets                            (via test/test.mk)
#   make -f test/targets/targets.mk e2e-targets (alone)
# $(TGT_BINS) lists every binary.

TGT_MK      := $(lastword $(MAKEFILE_LIST))
TGT_SRCDIR  := test/targets
TGT_OUTDIR  := build/targets
# (failmalloc.c is a preloaded shim, not a program: failmalloc.mk)
TGT_NAMES   := $(filter-out failmalloc,$(sort $(basename $(notdir $(wildcard $(TGT_SRCDIR)/*.c)))))
TGT_CXX_NAMES := $(sort $(basename $(notdir $(wildcard $(TGT_SRCDIR)/*.cc))))

TGT_CC      ?= $(CC)
TGT_OBJCOPY ?= objcopy
TGT_CFLAGS  := -std=gnu11 -Wall -Wextra -Wl,-z,now
TGT_CXX     ?= $(CXX)
TGT_CXXFLAGS := -std=gnu++17 -Wall -Wextra -Wl,-z,now
TGT_O0      := -O0
TGT_O2      := -O2
TGT_pie     := -fPIE -pie
TGT_nopie   := -fno-pie -no-pie
TGT_nocet   := -fcf-protection=none
TGT_cet     := -fcf-protection=full

TGT_DEBUG_VARIANTS   := O0-pie O0-nopie O0-pie-cet O0-nopie-cet \
                        O2-pie O2-nopie O2-pie-cet O2-nopie-cet
TGT_NODEBUG_VARIANTS := O0-pie-nodebug O2-pie-nodebug
TGT_VARIANTS         := $(TGT_DEBUG_VARIANTS) $(TGT_NODEBUG_VARIANTS)
TGT_CXX_VARIANTS     := O0-pie O0-pie-cet O2-pie O2-pie-cet
TGT_LAZY_NAMES := latefilter
TGT_BINS := $(foreach n,$(TGT_NAMES),$(foreach v,$(TGT_VARIANTS),$(TGT_OUTDIR)/$(n).$(v))) \
            $(foreach n,$(TGT_LAZY_NAMES),$(TGT_OUTDIR)/$(n).O2-pie-lazy) \
            $(foreach n,$(TGT_CXX_NAMES),$(foreach v,$(TGT_CXX_VARIANTS),$(TGT_OUTDIR)/$(n).$(v)))

.PHONY: e2e-targets
e2e-targets: $(TGT_BINS)

# the READY file of the attach tests' targets
$(foreach n,attach_churn attach_slowclone attach_work,\
  $(foreach v,$(TGT_VARIANTS),$(TGT_OUTDIR)/$(n).$(v))): $(TGT_SRCDIR)/ready.h

# TGT_RULE(variant, flags): a pattern rule for one debug variant.
define TGT_RULE
$(TGT_OUTDIR)/%.$(1): $(TGT_SRCDIR)/%.c $(TGT_MK)
	@mkdir -p $$(@D)
	$$(TGT_CC) $$(TGT_CFLAGS) -g $(2) -o $$@ $$<
endef

# opt x pie x cet; "-cet" variants carry the suffix, the others do not.
$(foreach o,O0 O2,$(foreach p,pie nopie,\
	$(eval $(call TGT_RULE,$(o)-$(p),$(TGT_$(o)) $(TGT_$(p)) $(TGT_nocet)))\
	$(eval $(call TGT_RULE,$(o)-$(p)-cet,$(TGT_$(o)) $(TGT_$(p)) $(TGT_cet)))))

# No DWARF at all: -g0, and --strip-debug in case a start file brought some.
define TGT_NODEBUG_RULE
$(TGT_OUTDIR)/%.$(1)-pie-nodebug: $(TGT_SRCDIR)/%.c $(TGT_MK)
	@mkdir -p $$(@D)
	$$(TGT_CC) $$(TGT_CFLAGS) -g0 $(TGT_$(1)) $(TGT_pie) $(TGT_nocet) -o $$@ $$<
	$$(TGT_OBJCOPY) --strip-debug $$@
endef

$(foreach o,O0 O2,$(eval $(call TGT_NODEBUG_RULE,$(o))))

# Lazy binding (the last -z wins over TGT_CFLAGS' -z now).
$(TGT_OUTDIR)/%.O2-pie-lazy: $(TGT_SRCDIR)/%.c $(TGT_MK)
	@mkdir -p $(@D)
	$(TGT_CC) $(TGT_CFLAGS) -g $(TGT_O2) $(TGT_pie) $(TGT_nocet) -Wl,-z,lazy -o $@ $<

# The C++ ones: the same variant names, from NAME.cc.
define TGT_CXX_RULE
$(TGT_OUTDIR)/%.$(1): $(TGT_SRCDIR)/%.cc $(TGT_MK)
	@mkdir -p $$(@D)
	$$(TGT_CXX) $$(TGT_CXXFLAGS) -g $(2) -o $$@ $$<
endef

$(foreach o,O0 O2,\
	$(eval $(call TGT_CXX_RULE,$(o)-pie,$(TGT_$(o)) $(TGT_pie) $(TGT_nocet)))\
	$(eval $(call TGT_CXX_RULE,$(o)-pie-cet,$(TGT_$(o)) $(TGT_pie) $(TGT_cet))))

# Attach mode targets: extra flags.
include $(TGT_SRCDIR)/attach.mk
include test/targets/select.mk
# The views target: its own fragment.
include $(dir $(TGT_MK))views.mk
# The bad-input targets: their own fragment.
include $(dir $(TGT_MK))diag.mk
# The malloc-failing shim test_oom.sh preloads into iprofmem.
include $(dir $(TGT_MK))failmalloc.mk
# The two versions of the regress target (iprofmem diff): their own fragment.
include $(dir $(TGT_MK))regress.mk
# The targets with a relative compilation directory: their own fragment.
include $(dir $(TGT_MK))relpath.mk
# The programs without a thread pointer: their own fragment.
include $(dir $(TGT_MK))notls.mk
# The function whose DWARF has no line: its own fragment.
include $(dir $(TGT_MK))noline.mk

# The mem target built as distributions build (Debian maps the build tree
# to "." with -fdebug-prefix-map), so that its DWARF holds a relative
# compilation directory, for test/e2e/test_relpath.sh.  Included at the end
# of test/targets/targets.mk; -O0 PIE without CET, as mem.O0-pie.
#
#   build/targets/relpath_mem.top      built from the top directory:
#                                      comp_dir ".", name test/targets/mem.c
#   build/targets/relpath_mem.sub      built from build/targets, as Debian
#                                      builds python3.11d from build-debug:
#                                      comp_dir "./build/targets", name
#                                      ../../test/targets/mem.c
#   build/targets/relpath_mem.here     built from test/targets, as glibc
#                                      builds malloc.c: comp_dir
#                                      "./test/targets", name mem.c
#   build/targets/relpath_mem.here-dwarf4   the same in DWARF 4, whose line
#                                      table leaves the compilation
#                                      directory (entry 0) implicit

RELPATH_MK     := $(lastword $(MAKEFILE_LIST))
RELPATH_BINS   := $(addprefix $(TGT_OUTDIR)/relpath_mem.,top sub here here-dwarf4)
RELPATH_CFLAGS := $(TGT_CFLAGS) -g $(TGT_O0) $(TGT_pie) $(TGT_nocet) \
		  -fdebug-prefix-map=$(CURDIR)=.

# gcc takes the compilation directory from $PWD when that names the current
# one: through a symbolic link it would not start with $(CURDIR), which
# getcwd gives, and nothing would be mapped.
RELPATH_CC     := env -u PWD $(TGT_CC)

TGT_BINS += $(RELPATH_BINS)
e2e-targets: $(RELPATH_BINS)

$(TGT_OUTDIR)/relpath_mem.top: $(TGT_SRCDIR)/mem.c $(RELPATH_MK)
	@mkdir -p $(@D)
	$(RELPATH_CC) $(RELPATH_CFLAGS) -o $@ $<

# (TGT_OUTDIR is build/targets: two levels down)
$(TGT_OUTDIR)/relpath_mem.sub: $(TGT_SRCDIR)/mem.c $(RELPATH_MK)
	@mkdir -p $(@D)
	cd $(TGT_OUTDIR) && $(RELPATH_CC) $(RELPATH_CFLAGS) -o $(CURDIR)/$@ ../../$<

$(TGT_OUTDIR)/relpath_mem.here: $(TGT_SRCDIR)/mem.c $(RELPATH_MK)
	@mkdir -p $(@D)
	cd $(TGT_SRCDIR) && $(RELPATH_CC) $(RELPATH_CFLAGS) -o $(CURDIR)/$@ mem.c

$(TGT_OUTDIR)/relpath_mem.here-dwarf4: $(TGT_SRCDIR)/mem.c $(RELPATH_MK)
	@mkdir -p $(@D)
	cd $(TGT_SRCDIR) && $(RELPATH_CC) $(RELPATH_CFLAGS) -gdwarf-4 -o $(CURDIR)/$@ mem.c

# make check: every test, against the normal and the ASan+UBSan builds, in one
# run that ends with one line "N passed, N failed, N skipped".
include test/unit/unit.mk
include test/targets/targets.mk

# deps first, in its own make: the pkg-config flags of this one were read
# before the packages were there.
check: deps-test
	$(MAKE) check-run

check-run: deps-ok iprofmem build-asan/iprofmem unit-tests fuzz-replay e2e-targets
	bash test/run.sh

.PHONY: check check-run

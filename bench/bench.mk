# make bench: per-event cost of iprofmem against bench/reftrace (see bench/run.sh),
# then 8 threads x 100,000 traced calls at once, every one counted (see
# bench/threads.sh), then iprofmem's own peak RSS while it traces 1 M and
# 10 M calls of empty() and their ratio, about 1 since its memory is bounded
# by the functions and threads, not by the run's length (bench/memory.sh),
# then the engines side by side (issue 11, bench/engines.sh): us per traced
# call of small functions, python3.11d fully traced against heaptrack and
# uftrace, start-up, the probes' share of events, and python3.11d's table
# under both engines (562 s on 2026-12-03, the int3 engine's runs most of
# it).  The 10 M-call run is 20 M traps: 4 to 6 minutes pinned, so the
# whole of `make bench` takes some 20 minutes here.  Knobs (command line or environment):
#   make bench BENCH_N=50000 BENCH_REPS=5 BENCH_CPU=none BENCH_SPIN_K=100000
#   make bench BENCH_MEM_N1=1000000 BENCH_MEM_N2=10000000
#   make bench BENCH_SMALL_N=1000000 BENCH_ENGINES_REPS=3 BENCH_INT3_SECS=15
#
# make stress: iprofmem at sizes the tests do not reach, each stage judged on
# exact counts, never on time (see bench/stress.sh): 64 threads x 10,000
# calls, recursion 100,000 deep, 200 forks under -f, 10,000 signals into
# traced calls (also on a sigaltstack), 100 attach/detach cycles (on 4
# threads, exact; on 64), 100 launches sent a SIGSTOP during the set-up,
# 100 sent SIGSTOP then SIGCONT during it, a chain of 1,000,000 tail calls
# in one frame.  About 8 minutes here; exits 1 if a stage fails.  Knobs (see the script):
#   make stress STRESS_STAGES="threads signals" STRESS_DEPTH=200000

# bench/engines.sh's real program (python3.11d, with its debug info) and
# the tools it is timed against; without them it prints n/a.  Added to the
# Makefile's lists of what make deps (and deps-bench, where there is one)
# installs.
BENCH_ENGINES_PKGS := python3.11-dbg heaptrack uftrace
BENCH_PKGS += $(BENCH_ENGINES_PKGS)
DEPS_PKGS  += $(BENCH_ENGINES_PKGS)

BENCH_DIR      := build/bench
BENCH_TARGET   := $(BENCH_DIR)/empty
BENCH_REFTRACE := $(BENCH_DIR)/reftrace
BENCH_SPIN     := $(BENCH_DIR)/spin_threads
BENCH_SMALL    := $(BENCH_DIR)/small
BENCH_STATM    := $(BENCH_DIR)/statmcost
# empty() must start with `push %rbp` and end with `ret`: -O0, no endbr64.
BENCH_TARGET_CFLAGS := -std=gnu11 -O0 -g -fcf-protection=none $(WARN)
BENCH_REF_CFLAGS    := -std=gnu11 -O2 -g $(WARN)
BENCH_SMALL_CFLAGS  := -std=gnu11 -O2 -g $(WARN)

$(BENCH_TARGET): bench/empty.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_TARGET_CFLAGS) -o $@ $<

$(BENCH_REFTRACE): bench/reftrace.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_REF_CFLAGS) -o $@ $<

# bench/engines.sh's small functions (issue 11): -O2 -g as programs ship,
# without CET and with it (each function then starts with endbr64).
$(BENCH_SMALL): bench/small.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_SMALL_CFLAGS) -fcf-protection=none -o $@ $<

$(BENCH_SMALL)-cet: bench/small.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_SMALL_CFLAGS) -fcf-protection=full -o $@ $<

# what a statm read costs here: the floor under the gate-off figure
$(BENCH_STATM): bench/statmcost.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_REF_CFLAGS) -o $@ $<

$(BENCH_SPIN): test/targets/spin_threads.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_REF_CFLAGS) -o $@ $<

STRESS_DIR  := build/stress
STRESS_BINS := $(STRESS_DIR)/spin_threads $(STRESS_DIR)/recurse $(STRESS_DIR)/forker \
	       $(STRESS_DIR)/attach_work64 $(STRESS_DIR)/tailchain
STRESS_CFLAGS := -std=gnu11 -O2 -g $(WARN) -pthread

$(STRESS_DIR)/spin_threads: test/targets/spin_threads.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(STRESS_CFLAGS) -o $@ $<

# attach_work with 64 churn threads instead of 3
$(STRESS_DIR)/attach_work64: test/targets/attach_work.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(STRESS_CFLAGS) -DCHURN=64 -o $@ $<

$(STRESS_DIR)/%: bench/stress/%.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(STRESS_CFLAGS) -o $@ $<

# Command-line variables (BENCH_N, BENCH_REPS, BENCH_CPU...) reach run.sh
# through the environment, as make exports them.  The packages first, in a
# make of their own (see check in test/test.mk).
bench: deps-bench
	$(MAKE) bench-run

bench-run: all $(BENCH_TARGET) $(BENCH_REFTRACE) $(BENCH_SPIN) $(BENCH_SMALL) $(BENCH_SMALL)-cet $(BENCH_STATM)
	BENCH_DIR=$(BENCH_DIR) bench/run.sh
	BENCH_DIR=$(BENCH_DIR) bench/threads.sh
	BENCH_DIR=$(BENCH_DIR) bench/memory.sh
	BENCH_DIR=$(BENCH_DIR) bench/engines.sh

# The signal and attach stages' targets are e2e targets (test/targets/):
# sigstorm built -O0 without CET, so that inner() starts with an emulated
# `push %rbp` (see test/targets/sigstorm.c).
stress: all $(STRESS_BINS) build/targets/sigstorm.O0-pie build/targets/attach_work.O2-pie-cet build/targets/attach_idle.O2-pie
	STRESS_DIR=$(STRESS_DIR) bench/stress.sh

.PHONY: stress bench-run

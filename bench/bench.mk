# make bench: per-event cost of iprofmem against bench/reftrace (see bench/run.sh),
# then 8 threads x 100,000 traced calls at once, every one counted (see
# bench/threads.sh).  Included by the top-level Makefile.  Knobs (command
# line or environment):
#   make bench BENCH_N=50000 BENCH_REPS=5 BENCH_CPU=none BENCH_SPIN_K=100000

BENCH_DIR      := build/bench
BENCH_TARGET   := $(BENCH_DIR)/empty
BENCH_REFTRACE := $(BENCH_DIR)/reftrace
BENCH_SPIN     := $(BENCH_DIR)/spin_threads
# empty() must start with `push %rbp` and end with `ret`: -O0, no endbr64.
BENCH_TARGET_CFLAGS := -std=gnu11 -O0 -g -fcf-protection=none $(WARN)
BENCH_REF_CFLAGS    := -std=gnu11 -O2 -g $(WARN)

$(BENCH_TARGET): bench/empty.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_TARGET_CFLAGS) -o $@ $<

$(BENCH_REFTRACE): bench/reftrace.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_REF_CFLAGS) -o $@ $<

$(BENCH_SPIN): test/targets/spin_threads.c bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_REF_CFLAGS) -o $@ $<

# Command-line variables (BENCH_N, BENCH_REPS, BENCH_CPU...) reach run.sh
# through the environment, as make exports them.
bench: all $(BENCH_TARGET) $(BENCH_REFTRACE) $(BENCH_SPIN)
	BENCH_DIR=$(BENCH_DIR) bench/run.sh
	BENCH_DIR=$(BENCH_DIR) bench/threads.sh

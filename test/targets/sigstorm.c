/*
 * sigstorm: N signals (default 10000) delivered to a thread that is deep
 * in traced calls, each handled by a traced handler, on the thread's own
 * stack or (MODE altstack) on an alternate signal stack.
 *
 * A victim thread calls work(), which calls inner() again and again until
 * N signals were handled.  The main thread sends SIGUSR1 to the victim N
 * times with tgkill, one at a time: it waits until the handler ran before
 * sending the next, and until the inner() call the last one interrupted
 * (if any) has returned, so that no two signals land in the same inner()
 * call.  on_usr1() writes one byte into the next untouched page of a
 * region and notes whether it interrupted inner(): the interrupted rip
 * lies strictly inside inner's code (past its first byte, which holds the
 * entry breakpoint, up to its end: INNER_SIZE, from `nm -S`).  In the
 * -O0 variants without CET (O0-pie, O0-nopie), inner() starts with
 * `push %rbp`, which iprofmem emulates: between its entry trap and its
 * return trap the thread's rip is inside inner's code, and nowhere else
 * (in other variants its first instruction may run out of line, and I is
 * not what the table says).
 *
 * With altstack, the handler runs on a sigaltstack mapped before the
 * victim's stack, so at a higher address: the handler's frame sits above
 * the frames it interrupted, which a shadow stack matched by stack pointer
 * alone would take for returned.
 *
 * Nothing else grows RSS while work() runs: the stacks (the alternate one
 * is populated), the code of both threads, libc's signal return path (a
 * SIGUSR2 is handled first) and the sender's libc calls were all used
 * before; the victim does not exit until work() returned.  So the table
 * is exact:
 *   on_usr1   N pages   N calls
 *   work      N pages   1 call
 *   inner     I pages   I calls, and S calls in all (--columns=total-calls)
 * where I (signals that interrupted inner) and S (inner calls) are printed
 * on stderr, as they depend on timing.
 *
 * Usage: sigstorm N INNER_SIZE stack|altstack [IGNORED...]  (INNER_SIZE: hex)
 * Stdout (deterministic): "sigstorm: N signals handled during work(),
 * N pages, on the MODE"; exit 0.  Stderr: "sigstorm: inner calls S,
 * interrupted I".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE		4096L
#define STACK_WARM	(64 * 1024)
#define SPIN		2000		/* a few microseconds of work per inner() */
#define ALTSTACK_SIZE	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static long nsignals = 10000;
static uintptr_t inner_lo, inner_hi;
static char *region, *altstack;
static pid_t victim_tid;

static atomic_long handled;	/* SIGUSR1 handler runs */
static atomic_long seq;		/* inner() calls begun */
static atomic_long seq_at_signal;
static atomic_int victim_ready, warmed, in_work;
static long interrupted;	/* handler runs that interrupted inner() */
static volatile char sink;

MEASURED void
inner(void)
{
	atomic_fetch_add(&seq, 1);
	for (volatile int i = 0; i < SPIN; i++)
		;
}

MEASURED void
work(void)
{
	atomic_store(&in_work, 1);
	while (atomic_load(&handled) < nsignals)
		inner();
	NO_TAIL_CALL();
}

MEASURED void
on_usr1(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t rip = (uintptr_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
	long n = atomic_load(&handled);

	(void)sig;
	(void)si;
	region[n * PAGE] = 1;
	if (rip > inner_lo && rip < inner_hi)
		interrupted++;
	atomic_store(&seq_at_signal, atomic_load(&seq));
	atomic_store(&handled, n + 1);
}

MEASURED void
on_usr2(int sig)
{
	(void)sig;
	atomic_store(&warmed, 1);
}

static void
send_to_victim(int sig)
{
	if (syscall(SYS_tgkill, getpid(), victim_tid, sig) != 0) {
		perror("sigstorm: tgkill");
		exit(99);
	}
}

MEASURED void
warm_stack(void)
{
	volatile char stack[STACK_WARM];

	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

MEASURED void *
victim_main(void *arg)
{
	(void)arg;
	if (altstack) {
		stack_t ss = { .ss_sp = altstack, .ss_size = ALTSTACK_SIZE };

		if (sigaltstack(&ss, NULL)) {
			perror("sigstorm: sigaltstack");
			exit(99);
		}
	}
	warm_stack();
	victim_tid = gettid();
	atomic_store(&victim_ready, 1);
	while (!atomic_load(&warmed))	/* libc's paths, resident before work() */
		sched_yield();
	work();
	NO_TAIL_CALL();		/* exits (its stack given back) after work() */
	return NULL;
}

MEASURED void
storm(void)
{
	while (!atomic_load(&in_work))
		sched_yield();
	for (long i = 0; i < nsignals; i++) {
		/* the inner() call the last signal landed in has returned
		 * once the one after it has begun */
		if (i > 0)
			while (atomic_load(&seq) < atomic_load(&seq_at_signal) + 2)
				sched_yield();
		send_to_victim(SIGUSR1);
		while (atomic_load(&handled) <= i)
			sched_yield();
	}
	NO_TAIL_CALL();
}

static void *
map_or_die(size_t size, int flags)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED) {
		perror("sigstorm: mmap");
		exit(99);
	}
	return p;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	unsigned long inner_size;
	pthread_t t;

	if (argc < 4 || (nsignals = atol(argv[1])) < 1 ||
	    !(inner_size = strtoul(argv[2], NULL, 16)) ||
	    (strcmp(argv[3], "stack") && strcmp(argv[3], "altstack"))) {
		fprintf(stderr, "usage: sigstorm N INNER_SIZE stack|altstack\n");
		return 2;
	}
	inner_lo = (uintptr_t)inner;
	inner_hi = inner_lo + inner_size;
	/* mapped before the victim's stack, so above it */
	if (!strcmp(argv[3], "altstack"))
		altstack = map_or_die(ALTSTACK_SIZE, MAP_POPULATE);
	region = map_or_die(nsignals * PAGE, 0);
	if (madvise(region, nsignals * PAGE, MADV_NOHUGEPAGE)) {
		perror("sigstorm: madvise");
		return 99;
	}
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | (altstack ? SA_ONSTACK : 0);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_RESTART | (altstack ? SA_ONSTACK : 0);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	if (pthread_create(&t, NULL, victim_main, NULL)) {
		fprintf(stderr, "sigstorm: pthread_create failed\n");
		return 99;
	}
	while (!atomic_load(&victim_ready))
		sched_yield();
	send_to_victim(SIGUSR2);
	storm();		/* once the victim is in work() */
	pthread_join(t, NULL);
	fprintf(stderr, "sigstorm: inner calls %ld, interrupted %ld\n",
		atomic_load(&seq), interrupted);
	printf("sigstorm: %ld signals handled during work(), %ld pages, on the %s\n",
	       atomic_load(&handled), atomic_load(&handled), argv[3]);
	return 0;
}

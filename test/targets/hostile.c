/*
 * hostile: programs that do to their own code and stack what a tracer would
 * rather they did not.  iprofmem must not crash or hang, must not change
 * what the program does, and must report exactly the calls that ran as
 * calls.  Every scenario prints what it saw; test/e2e/test_hostile.sh
 * compares a traced run with an untraced one and checks the rows below.
 *
 * Usage: hostile SCENARIO [detach STATEFILE] [IGNORED...]
 *   selfmod   patched() is called 3 times, then overwrites its own entry
 *             (where the breakpoint sits) with "mov $42,%eax; ret" and is
 *             called once (returns 42, runs no traced code), then puts its
 *             saved bytes back and is called 2 more times.
 *   remap     moved_touch()'s page is copied to anonymous memory that is
 *             mremap'd over the original (as programs that move their text
 *             to huge pages do): called 3 times before, 2 after;
 *             gone_touch()'s page is unmapped after 2 calls and replaced
 *             by an anonymous page of `ret` instructions, called once.
 *   mprotect  prot_touch()'s page is made writable, then read-only and
 *             not executable (PROT_NONE), then executable again: called
 *             2 + 1 + 2 times, and once while PROT_NONE (SIGSEGV, caught).
 *   midjump   mid_target() called 2 times properly (2 pages each); then
 *             mid_jumper() jumps into its middle 3 times (1 page each).
 *   badsp     functions entered, or returning, with a stack pointer in a
 *             PROT_NONE page (SIGSEGV, caught on an alternate stack, where
 *             the faulting instruction is checked), and an out-of-line
 *             instruction that faults; exact rows for the calls around.
 *   sigtrap   SIGTRAP by raise() (the handler raises it once more, so it
 *             is pending as the handler's traced calls trap), kill(), an
 *             int3 of its own and 100 from another thread while traced
 *             frames are live: the handler sees each (with the right
 *             si_code) and calls trapped().
 *   sigtrap-die
 *             raise(SIGTRAP) with the default action: dies of it.
 *   nodump    makes itself not dumpable, then calls sp_fine() 3 times.
 *
 * With "detach STATEFILE" (selfmod, remap, mprotect), the program stops
 * after the hostile step until it is no longer traced (iprofmem
 * --duration), writing "traced" to STATEFILE if it was, then checks that
 * the detach left its code as it had made it: the patched entry is still
 * its own, the page of `ret`s still all `ret`s, the moved and protected
 * pages without int3s; and calls the functions again.
 *
 * Expected rows (pages of 4096 bytes, each touch_one() call touches one):
 *
 *   scenario   function       pages  calls  (detach: pages calls)
 *   selfmod    patched            5      5   3 3
 *   remap      moved_touch        5      5   3 3
 *              gone_touch         2      2   2 2
 *   mprotect   prot_touch         5      5   3 3
 *   midjump    mid_target         4      2
 *              mid_jumper         -      -   (left by a jump)
 *   badsp      sp_target          -      -   (faults at its entry)
 *              ret_corrupt        -      -   (faults at its ret)
 *              ool_target         -      -   (faults at its entry)
 *              sp_fine            3      3
 *   nodump     sp_fine            3      3
 *   sigtrap    trapped          104    104
 *              trap_loop        100      1   (the handler ran inside)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")
/* A function alone in its page(s): hostile steps act on whole pages. */
#define PAGE_ALONE(sec) \
	__attribute__((naked, noinline, used, aligned(4096), section(sec)))
/* Its body: calls touch_one(), and fills the page. */
#define PAGE_OF_TOUCH \
	"push %rbp\n\t" \
	"mov %rsp, %rbp\n\t" \
	"call touch_one\n\t" \
	"pop %rbp\n\t" \
	"ret\n\t" \
	".balign 4096, 0xcc\n\t"

static volatile char *region;
static long next_page;
volatile long sink;

MEASURED void
touch_one(void)
{
	region[(next_page++) * PAGE] = 1;
}

static void
die(const char *what)
{
	perror(what);
	exit(99);
}

static uintptr_t
page_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(PAGE - 1);
}

static void
protect(const void *fn, int prot)
{
	if (mprotect((void *)page_of(fn), PAGE, prot) != 0)
		die("mprotect");
}

static int
traced(void)
{
	char line[256];
	int pid = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

static int
is_int3(void (*fn)(void))
{
	return *(volatile uint8_t *)(uintptr_t)fn == 0xcc;
}

/* Detach mode: wait (10 s at most) until the tracer has let go. */
static const char *state_file;

static void
wait_detached(void)
{
	FILE *f;

	if (!state_file)
		return;
	if (traced()) {
		f = fopen(state_file, "we");
		if (!f)
			die(state_file);
		fputs("traced\n", f);
		fclose(f);
	}
	for (int i = 0; traced(); i++) {
		if (i == 1000) {
			fprintf(stderr, "hostile: still traced after 10 s\n");
			exit(3);
		}
		usleep(10000);
	}
}

/* ------------------------------------------------------------ selfmod */

MEASURED long
patched(void)
{
	touch_one();
	return 7;
}

static void
scenario_selfmod(void)
{
	static const uint8_t ret42[] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 };
	uint8_t saved[sizeof(ret42)];
	uint8_t *code = (uint8_t *)(uintptr_t)patched;

	for (int i = 0; i < 3; i++)
		sink += patched();
	memcpy(saved, code, sizeof(saved));	/* int3 and all, if traced */
	protect(code, PROT_READ | PROT_WRITE | PROT_EXEC);
	memcpy(code, ret42, sizeof(ret42));
	protect(code, PROT_READ | PROT_EXEC);
	printf("patched() returns %ld\n", patched());
	if (state_file) {
		wait_detached();
		printf("after the detach, patched() returns %ld, its code is "
		       "%s\n", patched(),
		       memcmp(code, ret42, sizeof(ret42)) ? "changed" : "mine");
		return;
	}
	protect(code, PROT_READ | PROT_WRITE | PROT_EXEC);
	memcpy(code, saved, sizeof(saved));
	protect(code, PROT_READ | PROT_EXEC);
	for (int i = 0; i < 2; i++)
		printf("restored patched() returns %ld\n", patched());
}

/* -------------------------------------------------------------- remap */

MEASURED void
moved_touch(void)
{
	touch_one();
	NO_TAIL_CALL();
}

PAGE_ALONE(".text.hostile_gone") void
gone_touch(void)
{
	__asm__ volatile(PAGE_OF_TOUCH);
}

/* The page holding fn, moved to a copy of itself (same bytes, now
 * anonymous memory) at the same address. */
static void
move_page(const void *fn)
{
	void *copy = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (copy == MAP_FAILED)
		die("mmap");
	memcpy(copy, (void *)page_of(fn), PAGE);
	if (mprotect(copy, PAGE, PROT_READ | PROT_EXEC) != 0 ||
	    mremap(copy, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
		   (void *)page_of(fn)) == MAP_FAILED)
		die("mremap");
}

static int
all_ret(const uint8_t *p)
{
	for (long i = 0; i < PAGE; i++)
		if (p[i] != 0xc3)
			return 0;
	return 1;
}

static void
scenario_remap(void)
{
	uint8_t *gone = (uint8_t *)(uintptr_t)gone_touch;

	for (int i = 0; i < 3; i++)
		moved_touch();
	for (int i = 0; i < 2; i++)
		gone_touch();
	move_page((void *)(uintptr_t)moved_touch);
	if (munmap(gone, PAGE) != 0 ||
	    mmap(gone, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != gone)
		die("munmap/mmap");
	memset(gone, 0xc3, PAGE);
	gone_touch();				/* a ret now */
	wait_detached();
	for (int i = 0; i < 2; i++)
		moved_touch();
	if (state_file)		/* traced, it is: the breakpoint */
		printf("moved page: entry byte %s an int3\n",
		       is_int3(moved_touch) ? "is" : "is not");
	printf("replaced page: %s\n", all_ret(gone) ? "all ret" : "changed");
}

/* ----------------------------------------------------------- mprotect */

static sigjmp_buf fault_env;
static volatile uintptr_t fault_pc, fault_addr;

static void
on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	fault_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	fault_addr = (uintptr_t)si->si_addr;
	siglongjmp(fault_env, 1);
}

static void
catch_faults(void)
{
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };

	memset(altstack, 0, sizeof(altstack));
	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGSEGV, &sa, NULL) != 0)
		die("sigaltstack/sigaction");
}

PAGE_ALONE(".text.hostile_prot") void
prot_touch(void)
{
	__asm__ volatile(PAGE_OF_TOUCH);
}

static void
scenario_mprotect(void)
{
	catch_faults();
	protect(prot_touch, PROT_READ | PROT_WRITE | PROT_EXEC);
	for (int i = 0; i < 2; i++)
		prot_touch();
	protect(prot_touch, PROT_READ | PROT_EXEC);
	prot_touch();
	protect(prot_touch, PROT_NONE);
	if (sigsetjmp(fault_env, 1) == 0) {
		prot_touch();
		printf("PROT_NONE code ran\n");
	} else {
		printf("PROT_NONE code: SIGSEGV at its entry: %s\n",
		       fault_pc == (uintptr_t)prot_touch ? "yes" : "no");
	}
	wait_detached();
	protect(prot_touch, PROT_READ | PROT_EXEC);
	for (int i = 0; i < 2; i++)
		prot_touch();
	if (state_file)
		printf("protected page: entry byte %s an int3\n",
		       is_int3(prot_touch) ? "is" : "is not");
}

/* ------------------------------------------------------------ midjump */

__attribute__((naked, noinline, used)) void
mid_target(void)
{
	__asm__ volatile("push %rbp\n\t"
			 "mov %rsp, %rbp\n\t"
			 "call touch_one\n\t"
			 ".globl hostile_mid\n"
			 "hostile_mid:\n\t"
			 "call touch_one\n\t"
			 "pop %rbp\n\t"
			 "ret\n\t");
}

/* Sets up the frame mid_target has at hostile_mid, and jumps there. */
__attribute__((naked, noinline, used)) void
mid_jumper(void)
{
	__asm__ volatile("push %rbp\n\t"
			 "mov %rsp, %rbp\n\t"
			 "jmp hostile_mid\n\t");
}

static void
scenario_midjump(void)
{
	for (int i = 0; i < 2; i++)
		mid_target();
	for (int i = 0; i < 3; i++)
		mid_jumper();
	printf("midjump: %ld pages touched\n", next_page);
}

/* -------------------------------------------------------------- badsp */

__attribute__((naked, noinline, used)) void
sp_target(void)
{
	/* (with CET, an endbr64 comes first) */
	__asm__ volatile(".globl hostile_sp_push\n"
			 "hostile_sp_push:\n\t"
			 "push %rbp\n\t"
			 "mov %rsp, %rbp\n\t"
			 "call touch_one\n\t"
			 "pop %rbp\n\t"
			 "ret\n\t");
}

/* sp_target entered with the stack pointer in the argument. */
__attribute__((naked, noinline, used)) void
sp_corrupt_call(void *sp)
{
	(void)sp;
	__asm__ volatile("mov %rdi, %rsp\n\t"
			 "jmp sp_target\n\t");
}

/* Returns with the stack pointer in the argument. */
__attribute__((naked, noinline, used)) void
ret_corrupt(void *sp)
{
	(void)sp;
	__asm__ volatile("push %rbp\n\t"
			 "mov %rsp, %rbp\n\t"
			 "mov %rdi, %rsp\n\t"
			 ".globl hostile_bad_ret\n"
			 "hostile_bad_ret:\n\t"
			 "ret\n\t");
}

/* Starts with an instruction that runs out of line, and faults. */
__attribute__((naked, noinline, used)) long
ool_target(long *p)
{
	(void)p;
	__asm__ volatile(".globl hostile_ool_load\n"
			 "hostile_ool_load:\n\t"
			 "mov (%rdi), %rax\n\t"
			 "ret\n\t");
}

MEASURED void
sp_fine(void)
{
	touch_one();
	NO_TAIL_CALL();
}

extern const char hostile_bad_ret[], hostile_mid[], hostile_sp_push[],
	hostile_ool_load[];

static void
expect_fault(const char *what, uintptr_t pc, uintptr_t addr)
{
	printf("%s: SIGSEGV at the right instruction: %s, address: %s\n", what,
	       fault_pc == pc ? "yes" : "no", fault_addr == addr ? "right" : "wrong");
}

static void
scenario_badsp(void)
{
	char *guard = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	char *bad = guard + PAGE / 2;

	if (guard == MAP_FAILED)
		die("mmap");
	catch_faults();
	sp_fine();
	if (sigsetjmp(fault_env, 1) == 0)
		sp_corrupt_call(bad);
	else
		expect_fault("entry with a bad stack", (uintptr_t)hostile_sp_push,
			     (uintptr_t)(bad - 8));
	sp_fine();
	if (sigsetjmp(fault_env, 1) == 0)
		ret_corrupt(bad);
	else
		expect_fault("return with a bad stack",
			     (uintptr_t)hostile_bad_ret, (uintptr_t)bad);
	if (sigsetjmp(fault_env, 1) == 0)
		sink = ool_target((long *)bad);
	else
		expect_fault("faulting first instruction",
			     (uintptr_t)hostile_ool_load, (uintptr_t)bad);
	sp_fine();
}

/* ------------------------------------------------------------- nodump */

/* Not dumpable: a tracer without CAP_SYS_PTRACE may no longer use
 * process_vm_readv/writev on it (its /proc/PID/mem, opened before, still
 * works). */
static void
scenario_nodump(void)
{
	if (prctl(PR_SET_DUMPABLE, 0) != 0)
		die("prctl");
	for (int i = 0; i < 3; i++)
		sp_fine();
}

/* ------------------------------------------------------------ sigtrap */

#define REMOTE_TRAPS 100
#define LOCAL_TRAPS 4		/* raise (handled twice), kill, int3 */

static volatile int traps, codes_ok = 1;
static volatile int expect_code, reraise;
static volatile uintptr_t trap_pc;
static pid_t main_tid;

MEASURED void
trapped(void)
{
	touch_one();
	NO_TAIL_CALL();
}

static void
on_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	if (si->si_code != expect_code)
		codes_ok = 0;
	trap_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	if (reraise) {
		/* blocked here: pending as the handler runs on through
		 * traced code, delivered once it returns */
		reraise = 0;
		raise(SIGTRAP);
	}
	trapped();
	traps++;
}

static volatile int sender_ready, go, acked;

static void *
trap_sender(void *arg)
{
	volatile char warm[16 * 1024];

	(void)arg;
	/* its stack and the code it runs are resident before the measured
	 * part: the pages of this thread are not trap_loop()'s */
	for (size_t i = 0; i < sizeof(warm); i += 64)
		warm[i] = 0;
	syscall(SYS_gettid);
	sched_yield();
	sender_ready = 1;
	while (!go)
		sched_yield();
	for (int i = 0; i < REMOTE_TRAPS; i++) {
		int before = acked;

		syscall(SYS_tgkill, getpid(), main_tid, SIGTRAP);
		while (acked == before)
			sched_yield();
	}
	return NULL;
}

/* A traced frame stays live while the other thread's traps arrive: the
 * handler's pages are its pages too.  The next trap is sent once the
 * handler has returned (acked): a SIGTRAP that arrives in the instant a
 * breakpoint traps merges with it (see BUGS in the man page). */
MEASURED void
trap_loop(void)
{
	/* acked first: a sender that read it before its first store would
	 * send the second trap before the first was handled, and two
	 * SIGTRAPs pending merge into one (a hang, seen under load) */
	acked = traps;
	go = 1;
	while (traps < LOCAL_TRAPS + REMOTE_TRAPS)
		acked = traps;
	acked = traps;
}

extern const char hostile_after_int3[];

static void
scenario_sigtrap(void)
{
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) != 0)
		die("sigaction");
	expect_code = SI_TKILL;
	reraise = 1;
	raise(SIGTRAP);
	expect_code = SI_USER;
	kill(getpid(), SIGTRAP);
	expect_code = SI_KERNEL;
	__asm__ volatile("int3\n\t"
			 ".globl hostile_after_int3\n"
			 "hostile_after_int3:\n\t");
	printf("own int3: handler saw the pc after it: %s\n",
	       trap_pc == (uintptr_t)hostile_after_int3 ? "yes" : "no");
	expect_code = SI_TKILL;
	main_tid = (pid_t)syscall(SYS_gettid);
	if (pthread_create(&t, NULL, trap_sender, NULL) != 0)
		die("pthread_create");
	while (!sender_ready)
		sched_yield();
	trap_loop();
	pthread_join(t, NULL);
	printf("SIGTRAP handled %d times, every si_code as sent: %s\n", traps,
	       codes_ok ? "yes" : "no");
}

/* -------------------------------------------------------------- setup */

static void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE))
		die("hostile: mmap/madvise");
	region = p;
	next_page = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
}

int
main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	if (argc > 3 && strcmp(argv[2], "detach") == 0)
		state_file = argv[3];
	setup();
	if (strcmp(s, "selfmod") == 0)
		scenario_selfmod();
	else if (strcmp(s, "remap") == 0)
		scenario_remap();
	else if (strcmp(s, "mprotect") == 0)
		scenario_mprotect();
	else if (strcmp(s, "midjump") == 0)
		scenario_midjump();
	else if (strcmp(s, "badsp") == 0)
		scenario_badsp();
	else if (strcmp(s, "sigtrap") == 0)
		scenario_sigtrap();
	else if (strcmp(s, "nodump") == 0)
		scenario_nodump();
	else if (strcmp(s, "sigtrap-die") == 0)
		raise(SIGTRAP);
	else {
		fprintf(stderr, "usage: hostile SCENARIO [detach STATEFILE]\n");
		return 2;
	}
	printf("%s: done, %ld pages touched\n", s, next_page);
	return 0;
}

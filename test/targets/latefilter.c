/* latefilter: a program that installs a seccomp filter of its own while
 * it is traced, after iprofmem set its probes up (a sandbox's worker
 * does: sshd's privilege-separated child, a browser's renderer).  The
 * filter refuses pread64, which the probes read statm with:
 *   errno    prctl(PR_SET_SECCOMP), the call fails with EPERM
 *   trap     prctl, SIGSYS (SECCOMP_RET_TRAP; the program has no
 *            handler, so a SIGSYS it received would kill it)
 *   kill     prctl, SECCOMP_RET_KILL_PROCESS
 *   sys      syscall(SYS_seccomp), SECCOMP_RET_KILL_PROCESS
 *   rawtrap  a syscall instruction of its own (no libc), RET_TRAP
 *   rawkill  a syscall instruction of its own, RET_KILL_PROCESS
 *   rawtsync a thread installs it by a syscall instruction with
 *            SECCOMP_FILTER_FLAG_TSYNC (every thread gets it),
 *            RET_KILL_PROCESS, and is joined before touch(4, 8)
 *   forkkill prctl, RET_KILL_PROCESS, then a child (fork) that calls
 *            touch(28, 4) and exits 0, waited for before touch(4, 8)
 *   forkfirst first of all a child (fork) that maps its own 64 pages,
 *            installs the filter by prctl, RET_KILL_PROCESS, calls
 *            touch(0, 4) and exits 0, waited for; then the parent runs
 *            as for kill.  Traced with --funcs naming touch only, the
 *            fork comes before any probe read the RSS: the watch is set
 *            up in neither process yet
 *   busy     a thread calls prctl(PR_GET_DUMPABLE) and syscall(SYS_getpid)
 *            through libc without a pause while touch(0, 4) makes the
 *            first event (traced with --funcs naming touch only): the
 *            watch rewrites their entries meanwhile.  Every call must
 *            return as untraced; the thread is joined, the mappings of
 *            the program's own file printed (perms, offset, pages: an
 *            entry's read-only page is made writable for the watch and
 *            must end as it was), then prctl, errno, as for errno
 * Through libc (prctl, syscall), iprofmem sees the filter coming (its
 * seccomp watch: the program's calls of them go through iprofmem's
 * stubs) and the probes make no more system calls: the rows
 * are the int3 engine's.  A raw one is not seen: a trap must become a
 * failed call (the program never made it), after which the probes stop
 * for their RSS; a kill kills the program at the probes' next statm
 * read, and iprofmem says to use --engine=int3.
 *
 * main: setup maps 64 pages; touch(0, 4); the filter; touch(4, 8);
 * touch(12, 16).  Prints "latefilter: done", exits 0.
 *
 * Rows: touch 28 pages, 3 calls (forkkill with -f: the child's call makes
 * 32 and 4 under int3; under probes its probed sites are not traced;
 * forkfirst with -f: 32 and 4 with every engine);
 * setup, install (its frame may take a stack page), main: not exact.
 * Usage: latefilter errno|trap|kill|sys|rawtrap|rawkill|rawtsync|forkkill|
 *        forkfirst|busy [MARK] */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile char *pages;

__attribute__((noinline)) void
setup(void)
{
	pages = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED) {
		perror("latefilter: mmap");
		exit(1);
	}
}

__attribute__((noinline)) void
touch(int from, int n)
{
	for (int i = from; i < from + n; i++)
		pages[(size_t)i * 4096] = 1;
}

static volatile int busy_stop;
static volatile long busy_calls, busy_bad;

/* busy's thread: libc's prctl and syscall, through the program's entries
 * for them, as fast as it can. */
static void *
busy(void *arg)
{
	(void)arg;
	while (!busy_stop) {
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1 ||
		    syscall(SYS_getpid) != getpid())
			busy_bad++;
		busy_calls++;
	}
	return NULL;
}

static void
busy_wait_calls(long n)
{
	long until = busy_calls + n;

	while (busy_calls < until)
		sched_yield();
}

/* The mappings of the program's own file: perms, offset, pages. */
static void
own_maps(void)
{
	char exe[4096], line[4096 + 256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f = fopen("/proc/self/maps", "r");

	if (n <= 0 || !f) {
		perror("latefilter: maps");
		exit(1);
	}
	exe[n] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char perms[8];
		int at = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi,
			   perms, &off, &at) == 4 && at &&
		    !strncmp(line + at, exe, (size_t)n) &&
		    line[at + n] == '\n')
			printf("latefilter: maps %s %llx %llu pages\n", perms,
			       off, (hi - lo) / 4096);
	}
	fclose(f);
}

/* seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) by a syscall
 * instruction. */
static long
raw_seccomp(struct sock_fprog *prog, long flags)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_seccomp), "D"((long)SECCOMP_SET_MODE_FILTER),
			   "S"(flags), "d"(prog)
			 : "rcx", "r11", "memory");
	return ret;
}

static int
install(unsigned action, int how)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pread64, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(*f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    (how == 0 ? prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) :
	     how == 1 ? syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) :
	     raw_seccomp(&prog, how == 3 ? SECCOMP_FILTER_FLAG_TSYNC : 0)) != 0) {
		perror("latefilter: seccomp");
		return -1;
	}
	return 0;
}

/* rawtsync's thread: the filter for every thread of the process. */
static void *
install_thread(void *action)
{
	return install(*(unsigned *)action, 3) ? (void *)1 : NULL;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		unsigned action;
		int how;	/* 0 prctl, 1 syscall(), 2 raw, 3 raw with
				   TSYNC, in a thread */
	} modes[] = {
		{ "errno", SECCOMP_RET_ERRNO | 1, 0 },
		{ "trap", SECCOMP_RET_TRAP, 0 },
		{ "kill", SECCOMP_RET_KILL_PROCESS, 0 },
		{ "sys", SECCOMP_RET_KILL_PROCESS, 1 },
		{ "rawtrap", SECCOMP_RET_TRAP, 2 },
		{ "rawkill", SECCOMP_RET_KILL_PROCESS, 2 },
		{ "rawtsync", SECCOMP_RET_KILL_PROCESS, 3 },
		{ "forkkill", SECCOMP_RET_KILL_PROCESS, 0 },
		{ "forkfirst", SECCOMP_RET_KILL_PROCESS, 0 },
		{ "busy", SECCOMP_RET_ERRNO | 1, 0 },
	};
	size_t m = 0;

	while (argc >= 2 && m < sizeof(modes) / sizeof(*modes) &&
	       strcmp(argv[1], modes[m].name))
		m++;
	if (argc < 2 || m == sizeof(modes) / sizeof(*modes)) {
		fprintf(stderr, "usage: latefilter errno|trap|kill|sys|rawtrap|"
			"rawkill|rawtsync|forkkill|forkfirst|busy [MARK]\n");
		return 2;
	}
	if (!strcmp(argv[1], "forkfirst")) {
		pid_t c = fork();
		int st;

		if (c == 0) {
			setup();
			if (install(modes[m].action, modes[m].how) != 0)
				_exit(1);
			touch(0, 4);
			_exit(0);
		}
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "latefilter: the child failed\n");
			return 1;
		}
	}
	setup();
	if (!strcmp(argv[1], "busy")) {
		pthread_t t;

		if (pthread_create(&t, NULL, busy, NULL) != 0) {
			fprintf(stderr, "latefilter: no thread\n");
			return 1;
		}
		busy_wait_calls(1000);
		touch(0, 4);
		busy_wait_calls(1000);
		busy_stop = 1;
		pthread_join(t, NULL);
		if (busy_bad) {
			fprintf(stderr, "latefilter: %ld of the thread's calls "
				"went wrong\n", busy_bad);
			return 1;
		}
		printf("latefilter: the thread's calls all returned\n");
		own_maps();
	} else {
		touch(0, 4);
	}
	if (modes[m].how == 3) {
		pthread_t t;
		void *r;

		unsigned action = modes[m].action;

		if (pthread_create(&t, NULL, install_thread, &action) ||
		    pthread_join(t, &r) || r) {
			fprintf(stderr, "latefilter: the thread failed\n");
			return 1;
		}
	} else if (install(modes[m].action, modes[m].how) != 0) {
		return 1;
	}
	if (!strcmp(argv[1], "forkkill")) {
		pid_t c = fork();
		int st;

		if (c == 0) {
			touch(28, 4);
			_exit(0);
		}
		if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			fprintf(stderr, "latefilter: the child failed\n");
			return 1;
		}
	}
	touch(4, 8);
	touch(12, 16);
	printf("latefilter: done\n");
	return 0;
}

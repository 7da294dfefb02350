/*
 * failmalloc: a shim preloaded into iprofmem (not into the program it
 * traces) by test/e2e/test_oom.sh: malloc, calloc and realloc succeed N
 * times, then every later call fails (NULL, errno ENOMEM), so that an
 * allocation fails at a chosen point of a run (issue 15: a fatal error
 * must restore every original byte and detach before iprofmem exits).
 *
 * Environment (read once, at load):
 *   IPROFMEM_FAIL_AFTER  N: the calls after the N-th fail; unset or empty:
 *                        none fails (counting only)
 *   IPROFMEM_FAIL_LOG    a file that gets one line "EVENT COUNT" for the
 *                        first time each event happens, COUNT the number of
 *                        allocation calls made before it:
 *                          seize    the first PTRACE_SEIZE or PTRACE_ATTACH
 *                          write    the first write into the tracee's
 *                                   memory (pwrite, process_vm_writev,
 *                                   PTRACE_POKE*): breakpoints go in
 *                          cont     the first PTRACE_CONT after that
 *                          interrupt the first PTRACE_INTERRUPT after
 *                                   that (stopping the threads to detach)
 *                          detach   the first PTRACE_DETACH
 *                          fail     the first allocation that failed
 *                          exit     at exit (if iprofmem returns from
 *                                   main or calls exit)
 *                        so a test can pick an N inside each phase.
 *
 * LD_PRELOAD is removed from the environment at load, so the programs
 * iprofmem launches do not get the shim.  The real allocator is glibc's
 * __libc_malloc & co., which need no dlsym (dlsym may allocate).
 *
 * Built by test/targets/targets.mk as build/targets/failmalloc.so.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static atomic_long calls;		/* allocation calls so far */
static long fail_after = -1;		/* -1: never fail */
static int log_fd = -1;

enum { EV_SEIZE, EV_WRITE, EV_CONT, EV_INTERRUPT, EV_DETACH, EV_FAIL, EV_EXIT, EV_N };
static const char *const ev_name[EV_N] = {
	"seize", "write", "cont", "interrupt", "detach", "fail", "exit",
};
static atomic_int ev_seen[EV_N];

/* One line, the first time only; no allocation (snprintf of %s %ld). */
static void
event(int ev, long count)
{
	char line[64];
	int n;

	if (log_fd < 0 || atomic_exchange(&ev_seen[ev], 1))
		return;
	n = snprintf(line, sizeof(line), "%s %ld\n", ev_name[ev], count);
	if (n > 0 && write(log_fd, line, (size_t)n) < 0)
		return;
}

/* Counts one call; 1 if it must fail. */
static int
must_fail(void)
{
	long n = atomic_fetch_add(&calls, 1);

	if (fail_after < 0 || n < fail_after)
		return 0;
	event(EV_FAIL, n);
	errno = ENOMEM;
	return 1;
}

void *
malloc(size_t size)
{
	return must_fail() ? NULL : __libc_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	return must_fail() ? NULL : __libc_calloc(n, size);
}

void *
realloc(void *p, size_t size)
{
	return must_fail() ? NULL : __libc_realloc(p, size);
}

/* ---- the phase markers */

static long (*real_ptrace)(int, pid_t, void *, void *);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_vm_writev)(pid_t, const struct iovec *, unsigned long,
				 const struct iovec *, unsigned long, unsigned long);

long
ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, req);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	switch ((int)req) {
	case PTRACE_SEIZE:
	case PTRACE_ATTACH:
		event(EV_SEIZE, calls);
		break;
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
		event(EV_WRITE, calls);
		break;
	case PTRACE_CONT:
		if (ev_seen[EV_WRITE])
			event(EV_CONT, calls);
		break;
	case PTRACE_INTERRUPT:
		if (ev_seen[EV_CONT])
			event(EV_INTERRUPT, calls);
		break;
	case PTRACE_DETACH:
		event(EV_DETACH, calls);
		break;
	}
	return real_ptrace((int)req, pid, addr, data);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	char link[64], path[64];
	ssize_t len;

	/* a write into /proc/PID/mem */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len > 4 && strncmp(path, "/proc/", 6) == 0 &&
	    strcmp(path + len - 4, "/mem") == 0)
		event(EV_WRITE, calls);
	return real_pwrite(fd, buf, n, off);
}

ssize_t
process_vm_writev(pid_t pid, const struct iovec *l, unsigned long nl,
		  const struct iovec *r, unsigned long nr, unsigned long flags)
{
	event(EV_WRITE, calls);
	return real_vm_writev(pid, l, nl, r, nr, flags);
}

static void
at_exit(void)
{
	event(EV_EXIT, calls);
}

__attribute__((constructor)) static void
failmalloc_init(void)
{
	const char *s = getenv("IPROFMEM_FAIL_AFTER");
	const char *log = getenv("IPROFMEM_FAIL_LOG");

	real_ptrace = (long (*)(int, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
	real_pwrite = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	real_vm_writev = (ssize_t (*)(pid_t, const struct iovec *, unsigned long,
				      const struct iovec *, unsigned long, unsigned long))
		dlsym(RTLD_NEXT, "process_vm_writev");
	if (!real_ptrace || !real_pwrite || !real_vm_writev) {
		fputs("failmalloc: dlsym failed\n", stderr);
		_exit(99);
	}
	if (log && *log) {
		log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0) {
			perror("failmalloc: IPROFMEM_FAIL_LOG");
			_exit(99);
		}
	}
	unsetenv("LD_PRELOAD");
	atexit(at_exit);
	/* what the loader and this constructor allocated does not count */
	atomic_store(&calls, 0);
	if (s && *s)
		fail_after = strtol(s, NULL, 10);
}

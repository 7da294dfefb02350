/* util: the one error helper and allocation wrappers shared by all modules. */
#ifndef IPROFMEM_UTIL_H
#define IPROFMEM_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of iprofmem itself (the traced program's own status is
 * passed through otherwise); documented in man/iprofmem.1, EXIT STATUS. */
enum {
	EXIT_ATTACH = 1,	/* -p: a process could not be attached */
	EXIT_BUDGET = 3,	/* report, diff: a function over its budget */
	EXIT_IPROFMEM = 125,	/* usage error or iprofmem failed */
	EXIT_CANNOT_RUN = 126,	/* PROGRAM found but not executable */
	EXIT_NOT_FOUND = 127,	/* PROGRAM not found */
};

/* Print "iprofmem: <message>" on stderr. */
void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "iprofmem: warning: <message>" on stderr. */
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Out of memory: say so, run the hook (the tracer's: every original byte
 * back, every thread detached, without allocating), exit 125 unless the
 * hook exits itself. */
void out_of_memory(void) __attribute__((noreturn));
void util_on_out_of_memory(void (*hook)(void));

/* Allocation that cannot fail: out of memory ends iprofmem through
 * out_of_memory. */
/* Read a small file whole into buf (at most size - 1 bytes, then a NUL).
 * Returns the bytes read, or -1. */
long read_small_file(const char *path, char *buf, size_t size);
/* With a second CPU, start fn(arg) on a thread of its own that takes no
 * signal (they are the tracer thread's): true, and the caller joins *th;
 * false when it does the work itself. */
bool helper_thread_start(pthread_t *th, void *(*fn)(void *), void *arg);
/* CLOCK_MONOTONIC in ns. */
uint64_t monotonic_ns(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

#endif

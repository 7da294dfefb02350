/*
 * sel.h: what the modules of the sel_prog target share (test/targets/sel/:
 * prog.c and part.c, the executable; shared.c, libselshared.so; plugin.c,
 * sel_plugin.so).  See prog.c for the expected table.
 *
 * Page discipline as in mem.c: the executable maps one large anonymous
 * region (no THP) and every measured function, in whatever module, writes
 * one byte into each of the next untouched pages of it, through a struct
 * pages that the executable passes around.  Nothing else may fault a page
 * inside a measured function: no libc call, no global of the library or
 * the plugin, no stack that the executable's setup() did not warm.
 */
#ifndef SEL_H
#define SEL_H

#define PAGE		4096L

/* Out of line, not cloned, not analysed across calls, kept even if unused. */
#define MEASURED	__attribute__((noipa, used))
/* Keeps the preceding call from becoming a tail call (a jmp). */
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

struct pages {
	volatile char *base;
	long next;		/* index of the next untouched page */
};

/* Exactly n new resident pages. */
static inline __attribute__((always_inline)) void
touch(struct pages *p, long n)
{
	for (long i = 0; i < n; i++)
		p->base[(p->next++) * PAGE] = 1;
}

/* Raw system calls, for the constructors: they run before anything warmed
 * libc's pages up, and a libc call there would fault some in. */
static inline __attribute__((always_inline)) long
raw_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define SYS_MMAP_	9
#define SYS_MADVISE_	28
#define SYS_OPEN_	2
#define SYS_CLOSE_	3

/* A constructor's own region: n_map pages mapped, n_touch of them written.
 * The region is kept: unmapping it would give the pages back. */
static inline __attribute__((always_inline)) void
ctor_touch(long n_map, long n_touch)
{
	long p = raw_syscall6(SYS_MMAP_, 0, n_map * PAGE, 3 /* RW */,
			      0x22 /* PRIVATE|ANONYMOUS */, -1, 0);

	if (p < 0 && p > -4096)
		return;
	raw_syscall6(SYS_MADVISE_, p, n_map * PAGE, 15 /* NOHUGEPAGE */, 0, 0, 0);
	for (long i = 0; i < n_touch; i++)
		((volatile char *)p)[i * PAGE] = 1;
}

/* Creates the file named by the argument "KEY=PATH" (prefix "KEY="), if
 * any: what shows that this code ran. */
static inline __attribute__((always_inline)) void
mark_if_asked(int argc, char **argv, const char *prefix)
{
	for (int i = 1; i < argc && argv && argv[i]; i++) {
		const char *a = argv[i], *k = prefix;

		while (*k && *a == *k)
			a++, k++;
		if (*k == '\0') {
			long fd = raw_syscall6(SYS_OPEN_, (long)a,
					       01101 /* O_WRONLY|O_CREAT|O_TRUNC */,
					       0644, 0, 0, 0);
			if (fd >= 0)
				raw_syscall6(SYS_CLOSE_, fd, 0, 0, 0, 0, 0);
		}
	}
}

/* libselshared.so */
void lib_fill(struct pages *p, long n);
void lib_outer(struct pages *p);
long lib_quiet(struct pages *p, long x);

/* sel_plugin.so, through dlsym */
typedef void plug_fn(struct pages *p);

/* part.c */
extern struct pages sel_pg;
void part_alloc(void);
void part_nested(void);
long part_idle(long x);
void part_twin(void);

#endif

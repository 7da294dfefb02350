/*
 * kinds: one function per kind of resident page, for --memory=all|anon|file.
 *
 *   function    all  anon  file   why
 *   run_code     64     -    64   runs big_code, 256 KiB of code never run
 *                                 before: its file pages become resident
 *   read_file    32     -    32   maps a 32-page file and reads each page
 *   alloc_pages  50    50     -   writes into 50 pages of an anonymous
 *                                 mapping
 *   run         146    50    96   the three
 *   setup, main  not exact
 *
 * (pages of 4096 bytes; "-": no row, the call grew nothing of that part;
 * test/e2e/test_memory.sh mirrors these numbers.)
 *
 * Exact because nothing else becomes resident inside a measured function:
 * setup() warms the stack and every libc function they call, and writes
 * the globals.  big_code is assembly (no DWARF: not traced by default),
 * aligned to 64 KiB and a multiple of it long, so the kernel's fault-around
 * (which maps up to 16 already cached pages of a file around a fault, within
 * an aligned 64 KiB window) maps its pages and no other; a file mapping's
 * fault-around stops at the mapping's ends.
 *
 * Usage: kinds [IGNORED...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE		4096L
#define CODE_BYTES	(256 * 1024)
#define FILE_PAGES	32
#define ANON_PAGES	50
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")
#define STR_(x)		#x
#define STR(x)		STR_(x)

/* CODE_BYTES of code: nops, then ret; the next code starts 64 KiB on. */
__asm__(".text\n"
	".p2align 16\n"
	".globl big_code\n"
	".type big_code, @function\n"
	"big_code:\n"
	".rept " STR(CODE_BYTES) " - 1\n"
	"nop\n"
	".endr\n"
	"ret\n"
	".size big_code, . - big_code\n"
	".p2align 16\n");
void big_code(void);

static volatile char *anon;	/* ANON_PAGES, none touched yet */
static int file_fd = -1;	/* FILE_PAGES of data, in the page cache */
static volatile char *mapped;	/* read_file's mapping */
volatile long sink;

MEASURED void
run_code(void)
{
	big_code();
	NO_TAIL_CALL();
}

MEASURED void
read_file(void)
{
	void *p = mmap(NULL, FILE_PAGES * PAGE, PROT_READ, MAP_PRIVATE,
		       file_fd, 0);

	if (p == MAP_FAILED)
		exit(98);
	mapped = p;
	for (long i = 0; i < FILE_PAGES; i++)
		sink += mapped[i * PAGE];
}

MEASURED void
alloc_pages(void)
{
	for (long i = 0; i < ANON_PAGES; i++)
		anon[i * PAGE] = 1;
}

MEASURED void
run(void)
{
	run_code();
	read_file();
	alloc_pages();
	NO_TAIL_CALL();
}

/* A file of FILE_PAGES written here, so its pages are in the page cache;
 * unlinked at once, nothing left behind. */
static int
make_file(void)
{
	char path[] = "/tmp/kinds.XXXXXX", page[PAGE];
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("kinds: mkstemp");
		exit(99);
	}
	unlink(path);
	memset(page, 'k', sizeof(page));
	for (long i = 0; i < FILE_PAGES; i++)
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page)) {
			perror("kinds: write");
			exit(99);
		}
	return fd;
}

/* Its frame sits where run()'s will; the mmap and munmap of a first file
 * mapping bring their code in, which read_file() calls later. */
MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, ANON_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, ANON_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("kinds: mmap");
		exit(99);
	}
	anon = p;
	file_fd = make_file();
	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, file_fd, 0);
	if (p == MAP_FAILED) {
		perror("kinds: mmap");
		exit(99);
	}
	munmap(p, PAGE);
	mapped = NULL;
	sink = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

int
main(void)
{
	setup();
	run();
	return 0;
}

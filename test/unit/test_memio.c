/* Unit tests for tracer/memio's pieces: many small reads and writes of a
 * process's memory in runs (here the test's own, through /proc/self/mem),
 * never touching a page that holds no piece, and piece by piece where a
 * run fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tracer/memio.h"

#define PAGE 4096

static int self_mem(void)
{
	int fd = mem_open(getpid());

	assert_true(fd >= 0);
	return fd;
}

static uint64_t at(const void *p, size_t off)
{
	return (uint64_t)(uintptr_t)p + off;
}

/* Pieces close together (one run) and far apart (another), written then
 * read back; the bytes between them stay as they were. */
static void write_then_read(void **state)
{
	uint8_t *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t a[5] = { 1, 2, 3, 4, 5 }, b[3] = { 6, 7, 8 }, c[2] = { 9, 10 };
	uint8_t ra[5], rb[3], rc[2];
	struct mem_piece w[] = {
		{ at(m, 10), sizeof(a), a, false },
		{ at(m, 100), sizeof(b), b, false },
		{ at(m, 2 * PAGE + 7), sizeof(c), c, false },
	};
	struct mem_piece r[] = {
		{ at(m, 10), sizeof(ra), ra, false },
		{ at(m, 100), sizeof(rb), rb, false },
		{ at(m, 2 * PAGE + 7), sizeof(rc), rc, false },
	};
	int fd = self_mem();

	(void)state;
	assert_true(m != MAP_FAILED);
	memset(m, 0xee, 3 * PAGE);
	assert_int_equal(mem_write_pieces(fd, w, 3), 0);
	for (int i = 0; i < 3; i++)
		assert_true(w[i].ok);
	assert_memory_equal(m + 10, a, sizeof(a));
	assert_memory_equal(m + 100, b, sizeof(b));
	assert_memory_equal(m + 2 * PAGE + 7, c, sizeof(c));
	assert_int_equal(m[9], 0xee);
	assert_int_equal(m[15], 0xee);
	assert_int_equal(m[99], 0xee);
	assert_int_equal(m[103], 0xee);
	assert_int_equal(m[PAGE + 5], 0xee);
	assert_int_equal(mem_read_pieces(fd, r, 3), 0);
	assert_memory_equal(ra, a, sizeof(a));
	assert_memory_equal(rb, b, sizeof(b));
	assert_memory_equal(rc, c, sizeof(c));
	close(fd);
	munmap(m, 3 * PAGE);
}

/* A page with no piece stays out of memory: pieces a page or more apart
 * are not one run. */
static void no_page_between(void **state)
{
	uint8_t *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t x[4] = { 1, 2, 3, 4 }, vec[3];
	struct mem_piece w[] = {
		{ at(m, PAGE - 4), sizeof(x), x, false },
		{ at(m, 2 * PAGE), sizeof(x), x, false },
	};
	int fd = self_mem();

	(void)state;
	assert_true(m != MAP_FAILED);
	assert_int_equal(mem_write_pieces(fd, w, 2), 0);
	assert_int_equal(mincore(m, 3 * PAGE, vec), 0);
	assert_true(vec[0] & 1);
	assert_false(vec[1] & 1);
	assert_true(vec[2] & 1);
	assert_memory_equal(m + 2 * PAGE, x, sizeof(x));
	close(fd);
	munmap(m, 3 * PAGE);
}

/* A run that reaches an unmapped page fails whole: its pieces are then
 * done one by one, and only the unmapped one fails. */
static void run_fails_piece_by_piece(void **state)
{
	uint8_t *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t x[4] = { 1, 2, 3, 4 }, y[4] = { 5, 6, 7, 8 };
	struct mem_piece w[2];
	int fd = self_mem();

	(void)state;
	assert_true(m != MAP_FAILED);
	assert_int_equal(munmap(m + PAGE, PAGE), 0);
	w[0] = (struct mem_piece){ at(m, PAGE - 8), sizeof(x), x, false };
	w[1] = (struct mem_piece){ at(m, PAGE + 16), sizeof(y), y, false };
	assert_int_equal(mem_write_pieces(fd, w, 2), 1);
	assert_true(w[0].ok);
	assert_false(w[1].ok);
	assert_memory_equal(m + PAGE - 8, x, sizeof(x));
	w[0].buf = y;
	w[0].ok = w[1].ok = true;
	assert_int_equal(mem_read_pieces(fd, w, 2), 1);
	assert_true(w[0].ok);
	assert_false(w[1].ok);
	assert_memory_equal(y, x, sizeof(x));
	close(fd);
	munmap(m, PAGE);
}

/* No piece: nothing to do, nothing failed. */
static void none(void **state)
{
	int fd = self_mem();

	(void)state;
	assert_int_equal(mem_write_pieces(fd, NULL, 0), 0);
	assert_int_equal(mem_read_pieces(fd, NULL, 0), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_then_read),
		cmocka_unit_test(no_page_between),
		cmocka_unit_test(run_fails_piece_by_piece),
		cmocka_unit_test(none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

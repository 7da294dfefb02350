#include "tracer/memio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int mem_open(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return open(path, O_RDWR | O_CLOEXEC);
}

int mem_read(int fd, uint64_t addr, void *buf, size_t n)
{
	ssize_t r = pread(fd, buf, n, (off_t)addr);

	if (r == (ssize_t)n)
		return 0;
	if (r >= 0)
		errno = EIO;
	return -1;
}

int mem_write(int fd, uint64_t addr, const void *buf, size_t n)
{
	ssize_t r = pwrite(fd, buf, n, (off_t)addr);

	if (r == (ssize_t)n)
		return 0;
	if (r >= 0)
		errno = EIO;
	return -1;
}

int mem_piece_cmp(const void *a, const void *b)
{
	const struct mem_piece *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The end (exclusive) of the run that starts at piece i, and its span. */
static size_t run_end(const struct mem_piece *v, size_t n, size_t i,
		      uint64_t *lo, uint64_t *hi)
{
	size_t j = i + 1;

	*lo = v[i].addr;
	*hi = v[i].addr + v[i].len;
	while (j < n && v[j].addr >= *hi && v[j].addr - *hi < 4096 &&
	       v[j].addr + v[j].len - *lo <= MEM_RUN_MAX) {
		*hi = v[j].addr + v[j].len;
		j++;
	}
	return j;
}

/* Runs of pieces through buf (MEM_RUN_MAX bytes): read, and if write,
 * the pieces put in and written back. */
static size_t pieces(int fd, struct mem_piece *v, size_t n, bool write)
{
	uint8_t *buf = n ? malloc(MEM_RUN_MAX) : NULL;
	size_t failed = 0;

	for (size_t i = 0, j; i < n; i = j) {
		uint64_t lo, hi;
		bool ok;

		j = run_end(v, n, i, &lo, &hi);
		ok = buf && j - i > 1 && mem_read(fd, lo, buf, hi - lo) == 0;
		for (size_t k = i; ok && k < j; k++) {
			if (write)
				memcpy(buf + (v[k].addr - lo), v[k].buf, v[k].len);
			else
				memcpy(v[k].buf, buf + (v[k].addr - lo), v[k].len);
		}
		if (ok && write)
			ok = mem_write(fd, lo, buf, hi - lo) == 0;
		for (size_t k = i; k < j; k++) {
			v[k].ok = ok || (write ?
				mem_write(fd, v[k].addr, v[k].buf, v[k].len) :
				mem_read(fd, v[k].addr, v[k].buf, v[k].len)) == 0;
			failed += !v[k].ok;
		}
	}
	free(buf);
	return failed;
}

size_t mem_read_pieces(int fd, struct mem_piece *v, size_t n)
{
	return pieces(fd, v, n, false);
}

size_t mem_write_pieces(int fd, struct mem_piece *v, size_t n)
{
	return pieces(fd, v, n, true);
}

static int vm_result(ssize_t r, size_t n)
{
	if (r == (ssize_t)n)
		return 0;
	if (r >= 0)
		errno = EFAULT;
	return -1;
}

int mem_read_as(pid_t tid, uint64_t addr, void *buf, size_t n)
{
	struct iovec local = { buf, n };
	struct iovec remote = { (void *)(uintptr_t)addr, n };

	return vm_result(process_vm_readv(tid, &local, 1, &remote, 1, 0), n);
}

int mem_write_as(pid_t tid, uint64_t addr, const void *buf, size_t n)
{
	struct iovec local = { (void *)buf, n };
	struct iovec remote = { (void *)(uintptr_t)addr, n };

	return vm_result(process_vm_writev(tid, &local, 1, &remote, 1, 0), n);
}

#include "tracer/memio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

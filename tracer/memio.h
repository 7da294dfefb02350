/* memio: the tracee's memory through /proc/PID/mem (kept open: one pread or
 * pwrite per access; writes reach read-only text, as ptrace pokes do). */
#ifndef IPROFMEM_MEMIO_H
#define IPROFMEM_MEMIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int mem_open(pid_t pid);	/* fd, or -1 with errno */
int mem_read(int fd, uint64_t addr, void *buf, size_t n);	/* 0 or -1 */
int mem_write(int fd, uint64_t addr, const void *buf, size_t n);
/* The same, as the thread itself would access its memory: a page without
 * read (write) permission fails, as it would fault (process_vm_readv and
 * writev; /proc/PID/mem, like ptrace, ignores page protections). */
int mem_read_as(pid_t tid, uint64_t addr, void *buf, size_t n);
int mem_write_as(pid_t tid, uint64_t addr, const void *buf, size_t n);

#endif

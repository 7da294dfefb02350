/* memio: the tracee's memory through /proc/PID/mem (kept open: one pread or
 * pwrite per access; writes reach read-only text, as ptrace pokes do). */
#ifndef IPROFMEM_MEMIO_H
#define IPROFMEM_MEMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int mem_open(pid_t pid);	/* fd, or -1 with errno */
int mem_read(int fd, uint64_t addr, void *buf, size_t n);	/* 0 or -1 */
int mem_write(int fd, uint64_t addr, const void *buf, size_t n);
/* Many small pieces of memory at once: v sorted by address, pieces that
 * do not overlap.  They go in runs whose gaps are under a page, so every
 * page a run covers holds a piece (a read or write of /proc/PID/mem makes
 * the pages it covers resident: a run brings in no page that the pieces
 * one by one would not), at most MEM_RUN_MAX bytes: one pread (and for a
 * write, one pwrite of what was read with the pieces put in) per run.
 * mem_read_pieces fills each piece's buf; mem_write_pieces writes each
 * piece's bytes.  A run that fails is done piece by piece; each piece's
 * ok says whether it was read (written).  Returns how many failed. */
#define MEM_RUN_MAX	(1u << 20)
struct mem_piece {
	uint64_t addr;
	size_t len;
	void *buf;		/* read: where to; write: what */
	bool ok;
};
int mem_piece_cmp(const void *a, const void *b);	/* qsort: by addr */
size_t mem_read_pieces(int fd, struct mem_piece *v, size_t n);
size_t mem_write_pieces(int fd, struct mem_piece *v, size_t n);

/* mem_read and mem_write as the thread itself would access its memory: a page without
 * read (write) permission fails, as it would fault (process_vm_readv and
 * writev; /proc/PID/mem, like ptrace, ignores page protections). */
int mem_read_as(pid_t tid, uint64_t addr, void *buf, size_t n);
int mem_write_as(pid_t tid, uint64_t addr, const void *buf, size_t n);

#endif

/* procfs: parsers of the /proc files iprofmem reads, from a buffer.  Pure
 * (no I/O): the callers open and read the files, so that the parsing can be
 * tested and fuzzed on any bytes. */
#ifndef IPROFMEM_PROCFS_H
#define IPROFMEM_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The number after "Key:" at the start of a line of /proc/PID/status
 * (buf: NUL-terminated), or -1 when there is no such line or no number. */
long procfs_status_field(const char *buf, const char *key);

/* The soft limit on the line of /proc/PID/limits (buf: NUL-terminated)
 * that starts with name ("Max open files"): LONG_MAX for "unlimited", -1
 * when there is no such line or no value. */
long procfs_limit_soft(const char *buf, const char *name);

/* The hexadecimal signal mask after "Key:" (SigPnd, SigBlk, SigIgn,
 * SigCgt...), 0 when there is no such line or no number. */
uint64_t procfs_status_mask(const char *buf, const char *key);

/* The one-letter state of /proc/PID/stat (buf: NUL-terminated), or 0 when
 * it is not there. */
char procfs_stat_state(const char *buf);

/* /proc/PID/cmdline, buf[0..n) with NULs between the arguments, as one
 * line: trailing NULs dropped, the others made spaces.  buf must have room
 * for n + 1 bytes; returns buf, NUL-terminated. */
char *procfs_cmdline(char *buf, size_t n);

/* The value of entry `type` of an auxiliary vector buf[0..n) (/proc/PID/auxv:
 * pairs of 64-bit words, ended by AT_NULL), or 0 when it is not there. */
uint64_t procfs_auxv_value(const void *buf, size_t n, uint64_t type);

/* Does a line "LO-HI ..." of /proc/PID/maps (buf: NUL-terminated) hold
 * addr? */
bool procfs_maps_contains(const char *buf, uint64_t addr);
/* The protection of the mapping that holds addr in the maps in buf, as
 * mmap's PROT_READ, PROT_WRITE and PROT_EXEC bits; -1 if none holds it. */
int procfs_maps_prot(const char *buf, uint64_t addr);
/* The highest page address a, at or above floor, such that
 * [a - guard, a + len + guard) is free in the maps in buf and ends at or
 * below `below`: where to map len bytes close under a module.  0 if none. */
uint64_t procfs_maps_gap_below(const char *buf, uint64_t below, uint64_t floor,
			       uint64_t len, uint64_t guard);

#endif

/* output: files that are either complete or absent.  A file is written to
 * a temporary name beside it and renamed when complete; a failure leaves
 * neither a partial file nor the temporary one.  A symbolic link is
 * followed: the file it leads to is replaced so, and the link stays.  A
 * FIFO, a device, or a file reached through /proc (/dev/stdout) is
 * written in place instead. */
#ifndef IPROFMEM_OUTPUT_H
#define IPROFMEM_OUTPUT_H

#include <stdio.h>

/* Before tracing: can `file` be written?  (The directory of the file its
 * links lead to exists and is writable, and that file is not a directory.)
 * Prints why not; returns 0/-1. */
int output_check(const char *file);

/* Write `file` through fn(fp, arg) (which returns 0 or -1 with errno),
 * atomically.  Returns 0, or -1 after printing why. */
int output_write(const char *file, int (*fn)(FILE *fp, void *arg), void *arg);

#endif

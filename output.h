/* output: files that are either complete or absent.  A file is written to
 * a temporary name beside it and renamed when complete; a failure leaves
 * neither a partial file nor the temporary one. */
#ifndef IPROFMEM_OUTPUT_H
#define IPROFMEM_OUTPUT_H

#include <stdio.h>

/* Before tracing: can `file` be written?  (Its directory exists and is
 * writable, and it is not a directory.)  Prints why not; returns 0/-1. */
int output_check(const char *file);

/* Write `file` through fn(fp, arg) (which returns 0 or -1 with errno),
 * atomically.  Returns 0, or -1 after printing why. */
int output_write(const char *file, int (*fn)(FILE *fp, void *arg), void *arg);

#endif

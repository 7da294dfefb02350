/* rss: the tracee's resident set size, re-read at every trap from a /proc
 * file kept open (pread at offset 0: no open/close per trap). */
#ifndef IPROFMEM_RSS_H
#define IPROFMEM_RSS_H

#include <stdint.h>
#include <sys/types.h>

enum rss_source {
	RSS_STATM,	/* /proc/PID/statm, 2nd field, pages (fastest) */
	RSS_STATUS,	/* /proc/PID/status, VmRSS: kB */
	RSS_SMAPS,	/* /proc/PID/smaps_rollup, Rss: kB (exact everywhere) */
};

struct rss {
	int fd;
	enum rss_source src;
	long page_size;
};

/* "statm", "status" or "smaps"; returns 0, or -1 for anything else. */
int rss_parse_source(const char *name, enum rss_source *out);
int rss_open(struct rss *r, pid_t pid, enum rss_source src);	/* 0 or -1 */
int64_t rss_read(const struct rss *r);	/* bytes, or -1 (process gone) */
/* The RSS in bytes in the text of a src file (NUL-terminated), or -1
 * when it holds none.  (Apart from rss_read, to be tested on any bytes.) */
int64_t rss_parse(enum rss_source src, const char *buf, long page_size);
void rss_close(struct rss *r);

#endif

/* rss: the tracee's resident set size, re-read at every trap from a /proc
 * file kept open (pread at offset 0: no open/close per trap). */
#ifndef IPROFMEM_RSS_H
#define IPROFMEM_RSS_H

#include <stdint.h>
#include <sys/types.h>

/* What is read: the file (its low bits), or'ed with the part of RSS that
 * counts (RSS_ANON, RSS_FILE; neither: all of it).  One value, so that
 * the tracer passes the choice through without knowing of parts.  Every
 * part comes from the same read of the same file: no extra system call. */
enum rss_source {
	RSS_STATM,	/* /proc/PID/statm, 2nd field, pages (fastest) */
	RSS_STATUS,	/* /proc/PID/status, VmRSS: kB */
	RSS_SMAPS,	/* /proc/PID/smaps_rollup, Rss: kB (exact everywhere) */
	RSS_FILE_MASK = 0x0f,

	RSS_ANON = 0x10,	/* anonymous pages: heap, stacks, anonymous
				   mappings (statm: resident - shared;
				   status: RssAnon; smaps: Anonymous) */
	RSS_FILE = 0x20,	/* file-backed and shared memory pages (statm:
				   shared; status: RssFile + RssShmem;
				   smaps: Rss - Anonymous) */
	RSS_PART_MASK = 0x30,
};

struct rss {
	int fd;
	enum rss_source src;
	long page_size;
};

/* "statm", "status" or "smaps" into the file bits of *out, its part
 * kept; returns 0, or -1 for anything else. */
int rss_parse_source(const char *name, enum rss_source *out);
/* "all", "anon" or "file" into the part bits of *out, its file kept;
 * returns 0, or -1 for anything else. */
int rss_parse_part(const char *name, enum rss_source *out);
int rss_open(struct rss *r, pid_t pid, enum rss_source src);	/* 0 or -1 */
int64_t rss_read(const struct rss *r);	/* bytes, or -1 (process gone) */
/* The RSS (or its part) in bytes in the text of a src file
 * (NUL-terminated), or -1 when it holds none.  (Apart from rss_read, to be
 * tested on any bytes.) */
int64_t rss_parse(enum rss_source src, const char *buf, long page_size);
void rss_close(struct rss *r);

#endif

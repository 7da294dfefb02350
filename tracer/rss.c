#include "tracer/rss.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const source_names[] = {
	[RSS_STATM] = "statm", [RSS_STATUS] = "status", [RSS_SMAPS] = "smaps",
};

int rss_parse_source(const char *name, enum rss_source *out)
{
	for (size_t i = 0; i < sizeof(source_names) / sizeof(*source_names); i++) {
		if (strcmp(name, source_names[i]) == 0) {
			*out = (enum rss_source)((*out & RSS_PART_MASK) | i);
			return 0;
		}
	}
	return -1;
}

int rss_parse_part(const char *name, enum rss_source *out)
{
	static const struct {
		const char *name;
		unsigned bits;
	} parts[] = {
		{ "all", 0 }, { "anon", RSS_ANON }, { "file", RSS_FILE },
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++) {
		if (strcmp(name, parts[i].name) == 0) {
			*out = (enum rss_source)((*out & RSS_FILE_MASK) |
						 parts[i].bits);
			return 0;
		}
	}
	return -1;
}

int rss_open(struct rss *r, pid_t pid, enum rss_source src)
{
	static const char *const files[] = {
		[RSS_STATM] = "statm", [RSS_STATUS] = "status",
		[RSS_SMAPS] = "smaps_rollup",
	};
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid,
		 files[src & RSS_FILE_MASK]);
	r->src = src;
	r->page_size = sysconf(_SC_PAGESIZE);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	return r->fd < 0 ? -1 : 0;
}

/* The number at p times unit, in bytes, with *end past it; -1 when there
 * is none or the product does not fit (a garbled file is no RSS, and the
 * multiplication must not overflow). */
static int64_t scaled(const char *p, char **end, int64_t unit)
{
	long long v;

	errno = 0;
	v = strtoll(p, end, 10);
	if (*end == p || errno || v < 0 || unit <= 0 || v > INT64_MAX / unit)
		return -1;
	return v * unit;
}

/* The number after `key` in a "Key:   1234 kB" file, in bytes. */
static int64_t field_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);
	char *end;

	if (!p)
		return -1;
	return scaled(p + strlen(key), &end, 1024);
}

/* a - b, or -1 when either is missing or the difference is negative (the
 * fields of one read are consistent: a negative part is a garbled file). */
static int64_t difference(int64_t a, int64_t b)
{
	return a < 0 || b < 0 || b > a ? -1 : a - b;
}

static int64_t sum(int64_t a, int64_t b)
{
	return a < 0 || b < 0 || a > INT64_MAX - b ? -1 : a + b;
}

/* "size resident shared ...", in pages: all is resident, file is shared
 * (file-backed and shmem pages), anon the rest. */
static int64_t statm_part(unsigned part, const char *buf, long page_size)
{
	int64_t resident, shared;
	char *p;

	if (scaled(buf, &p, 1) < 0)
		return -1;
	resident = scaled(p, &p, page_size);
	if (!part || resident < 0)
		return resident;
	shared = scaled(p, &p, page_size);
	return part == RSS_FILE ? shared : difference(resident, shared);
}

int64_t rss_parse(enum rss_source src, const char *buf, long page_size)
{
	unsigned part = src & RSS_PART_MASK;

	switch (src & RSS_FILE_MASK) {
	case RSS_STATM:
		return statm_part(part, buf, page_size);
	case RSS_STATUS:
		if (part == RSS_ANON)
			return field_kb(buf, "\nRssAnon:");
		if (part == RSS_FILE)
			return sum(field_kb(buf, "\nRssFile:"),
				   field_kb(buf, "\nRssShmem:"));
		return field_kb(buf, "\nVmRSS:");
	case RSS_SMAPS:
		if (part == RSS_ANON)
			return field_kb(buf, "\nAnonymous:");
		if (part == RSS_FILE)
			return difference(field_kb(buf, "\nRss:"),
					  field_kb(buf, "\nAnonymous:"));
		return field_kb(buf, "\nRss:");
	}
	return -1;
}

int64_t rss_read(const struct rss *r)
{
	char buf[(r->src & RSS_FILE_MASK) == RSS_STATM ? 128 : 4096];
	ssize_t n = pread(r->fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return rss_parse(r->src, buf, r->page_size);
}

void rss_close(struct rss *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

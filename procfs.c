/* procfs: parsers of /proc files, from a buffer (see procfs.h). */
#include "procfs.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Where the value of "Key:" starts in a status buffer, or NULL. */
static const char *status_value(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *line = buf;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			return line + klen + 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

long procfs_status_field(const char *buf, const char *key)
{
	const char *at = status_value(buf, key);
	char *end;
	long v;

	if (!at)
		return -1;
	errno = 0;
	v = strtol(at, &end, 10);
	/* "Uid: abc" or an overflow is no value, not 0 or LONG_MAX */
	if (end == at || errno || v < 0)
		return -1;
	return v;
}

long procfs_limit_soft(const char *buf, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = buf;
	char *end;
	long v;

	while (line && *line) {
		/* the name, then the column's padding (two spaces at least:
		 * "Max processes" is not "Max process") */
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ' ' &&
		    line[nlen + 1] == ' ') {
			line += nlen;
			while (*line == ' ')
				line++;
			if (strncmp(line, "unlimited", 9) == 0 &&
			    (line[9] == ' ' || line[9] == '\n' || !line[9]))
				return LONG_MAX;
			errno = 0;
			v = strtol(line, &end, 10);
			if (end == line || errno || v < 0 ||
			    (*end != ' ' && *end != '\n' && *end))
				return -1;
			return v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

uint64_t procfs_status_mask(const char *buf, const char *key)
{
	const char *at = status_value(buf, key);
	unsigned long long v;
	char *end;

	if (!at)
		return 0;
	errno = 0;
	v = strtoull(at, &end, 16);
	return end == at || errno ? 0 : (uint64_t)v;
}

char procfs_stat_state(const char *buf)
{
	/* the command name in parentheses may hold anything, ')' too */
	const char *p = strrchr(buf, ')');

	return p && p[1] == ' ' ? p[2] : 0;
}

char *procfs_cmdline(char *buf, size_t n)
{
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return buf;
}

uint64_t procfs_auxv_value(const void *buf, size_t n, uint64_t type)
{
	const unsigned char *p = buf;
	uint64_t av[2], v = 0;

	/* memcpy: a buffer read from a file need not be 8-byte aligned */
	for (; n >= sizeof(av); p += sizeof(av), n -= sizeof(av)) {
		memcpy(av, p, sizeof(av));
		if (av[0] == AT_NULL)
			break;
		if (av[0] == type)
			v = av[1];
	}
	return v;
}

bool procfs_maps_contains(const char *buf, uint64_t addr)
{
	const char *line = buf;

	while (line && *line) {
		unsigned long long lo, hi;
		char *end;

		errno = 0;
		lo = strtoull(line, &end, 16);
		if (!errno && end != line && *end == '-') {
			const char *at = end + 1;

			hi = strtoull(at, &end, 16);
			if (!errno && end != at && addr >= lo && addr < hi)
				return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

/* One "LO-HI" of a maps line; false if the line has none. */
static bool maps_line_range(const char *line, uint64_t *lo, uint64_t *hi)
{
	char *end;
	const char *at;

	errno = 0;
	*lo = strtoull(line, &end, 16);
	if (errno || end == line || *end != '-')
		return false;
	at = end + 1;
	*hi = strtoull(at, &end, 16);
	return !errno && end != at && *hi >= *lo;
}

int procfs_maps_prot(const char *buf, uint64_t addr)
{
	static const struct { char c; int prot; } bits[3] = {
		{ 'r', PROT_READ }, { 'w', PROT_WRITE }, { 'x', PROT_EXEC },
	};
	const char *line = buf;
	uint64_t lo, hi;

	while (line && *line) {
		const char *perms = strchr(line, ' ');
		const char *eol = strchr(line, '\n');

		if (maps_line_range(line, &lo, &hi) && addr >= lo && addr < hi &&
		    perms && (!eol || perms + 4 < eol)) {
			int prot = 0;

			for (int i = 0; i < 3; i++) {
				if (perms[1 + i] == bits[i].c)
					prot |= bits[i].prot;
				else if (perms[1 + i] != '-')
					return -1;
			}
			return prot;
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

uint64_t procfs_maps_gap_below(const char *buf, uint64_t below, uint64_t floor,
			       uint64_t len, uint64_t guard)
{
	uint64_t prev_hi = 0, best = 0, lo, hi;
	const char *line = buf;

	for (;;) {
		bool last = !line || !*line;
		uint64_t top;

		if (last)
			lo = hi = UINT64_MAX;
		else if (!maps_line_range(line, &lo, &hi))
			goto next;
		/* the free gap [prev_hi, lo), cut at `below` */
		top = lo < below ? lo : below;
		if (top > prev_hi && top - prev_hi >= len + 2 * guard) {
			uint64_t at = (top - guard - len) & ~(uint64_t)0xfff;

			if (at >= prev_hi + guard && at >= floor)
				best = at;
		}
		if (last || lo >= below)
			break;
		if (hi > prev_hi)
			prev_hi = hi;
next:
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return best;
}

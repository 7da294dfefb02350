/* procfs: parsers of /proc files, from a buffer (see procfs.h). */
#include "procfs.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

long procfs_status_field(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *line = buf;
	char *end;
	long v;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			errno = 0;
			v = strtol(line + klen + 1, &end, 10);
			/* "Uid: abc" or an overflow is no value, not 0 or LONG_MAX */
			if (end == line + klen + 1 || errno || v < 0)
				return -1;
			return v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
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

/* Fuzz target: every parser of /proc files iprofmem has (RSS from statm,
 * status and smaps_rollup in tracer/rss.c; status fields, stat state,
 * cmdline and auxv in procfs.c).  Each parser gets the whole input: they
 * are cheap, and one corpus of real /proc files then serves them all. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "test/fuzz/fuzz.h"
#include "tracer/rss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rss_source srcs[] = { RSS_STATM, RSS_STATUS, RSS_SMAPS };
	/* the callers read into a buffer and terminate it; so does this */
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(srcs) / sizeof(*srcs); i++)
		rss_parse(srcs[i], text, 4096);
	procfs_status_field(text, "TracerPid");
	procfs_status_field(text, "Uid");
	procfs_stat_state(text);
	/* auxv: binary, not terminated; an unaligned copy on purpose */
	procfs_auxv_value(data, size, AT_BASE);
	procfs_cmdline(text, size);
	free(text);
	return 0;
}

/* Fuzz target: every parser of /proc files iprofmem has (RSS from statm,
 * status and smaps_rollup in tracer/rss.c; status fields, stat state,
 * cmdline, limits and auxv in procfs.c), and /proc/PID/maps, which symbols_open
 * leaves to libdwfl (dwfl_linux_proc_report).  Each parser gets the whole
 * input: they are cheap, and one corpus of real /proc files then serves
 * them all. */
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "test/fuzz/fuzz.h"
#include "tracer/rss.h"

static int module_extent(Dwfl_Module *mod, void **ud, const char *name,
			 Dwarf_Addr start, void *arg)
{
	Dwarf_Addr lo, hi;

	(void)ud;
	(void)start;
	(void)arg;
	/* what collect_module asks of each module, short of opening it */
	dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	return name && lo > hi ? DWARF_CB_ABORT : DWARF_CB_OK;
}

/* The modules of a maps file, as symbols_open reads them. */
static void parse_maps(const uint8_t *data, size_t size)
{
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	FILE *f = fmemopen((void *)data, size, "r");
	Dwfl *dwfl = dwfl_begin(&callbacks);

	if (!f || !dwfl)
		abort();
	if (dwfl_linux_proc_maps_report(dwfl, f) == 0 &&
	    dwfl_report_end(dwfl, NULL, NULL) == 0)
		dwfl_getmodules(dwfl, module_extent, NULL, 0);
	dwfl_end(dwfl);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rss_source srcs[] = { RSS_STATM, RSS_STATUS, RSS_SMAPS };
	/* the callers read into a buffer and terminate it; so does this */
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(srcs) / sizeof(*srcs); i++) {
		rss_parse(srcs[i], text, 4096);
		rss_parse(srcs[i] | RSS_ANON, text, 4096);
		rss_parse(srcs[i] | RSS_FILE, text, 4096);
	}
	procfs_status_field(text, "TracerPid");
	procfs_status_field(text, "Uid");
	procfs_limit_soft(text, "Max open files");
	procfs_status_mask(text, "SigPnd");
	procfs_status_mask(text, "SigCgt");
	procfs_maps_contains(text, 0x7f0000001000);
	procfs_stat_state(text);
	/* auxv: binary, not terminated; an unaligned copy on purpose */
	procfs_auxv_value(data, size, AT_BASE);
	procfs_cmdline(text, size);
	free(text);
	if (size)	/* fmemopen wants a buffer */
		parse_maps(data, size);
	return 0;
}

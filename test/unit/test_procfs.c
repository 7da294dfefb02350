/* Unit tests for procfs and tracer/rss: the /proc parsers, on buffers as
 * the kernel writes them and on damaged ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <sys/mman.h>

#include "procfs.h"
#include "tracer/rss.h"

static const char status[] =
	"Name:\tsig.O0-pie\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4242\n"
	"TracerPid:\t4240\n"
	"Uid:\t1000\t1000\t1000\t1000\n"
	"SigQ:\t0/96365\n"
	"SigPnd:\t0000000000000010\n"
	"ShdPnd:\t0000000000000000\n"
	"SigBlk:\t0000000000000004\n"
	"SigIgn:\t0000000180000000\n"
	"SigCgt:\t0000000000000a10\n";

static void status_fields(void **state)
{
	(void)state;
	assert_int_equal(procfs_status_field(status, "TracerPid"), 4240);
	assert_int_equal(procfs_status_field(status, "Uid"), 1000);
	assert_int_equal(procfs_status_field(status, "Tgid"), 4242);
	/* a key that is only the start of another */
	assert_int_equal(procfs_status_field(status, "Tracer"), -1);
	assert_int_equal(procfs_status_field(status, "NoSuch"), -1);
	assert_int_equal(procfs_status_field("Uid:\tabc\n", "Uid"), -1);
	assert_int_equal(procfs_status_field("Uid:\t99999999999999999999999\n",
					     "Uid"), -1);
	assert_int_equal(procfs_status_field("", "Uid"), -1);
}

static void status_masks(void **state)
{
	(void)state;
	assert_true(procfs_status_mask(status, "SigPnd") & (1ull << (SIGTRAP - 1)));
	assert_true(procfs_status_mask(status, "SigCgt") & (1ull << (SIGTRAP - 1)));
	assert_false(procfs_status_mask(status, "SigBlk") & (1ull << (SIGTRAP - 1)));
	assert_int_equal(procfs_status_mask(status, "SigIgn"), 0x180000000ull);
	assert_int_equal(procfs_status_mask(status, "ShdPnd"), 0);
	assert_int_equal(procfs_status_mask(status, "SigXYZ"), 0);
	assert_int_equal(procfs_status_mask("SigCgt:\tzz\n", "SigCgt"), 0);
	/* longer than 64 bits: no mask, not a truncated one */
	assert_int_equal(procfs_status_mask("SigCgt:\t1ffffffffffffffffff\n",
					    "SigCgt"), 0);
	/* the last line without its newline */
	assert_int_equal(procfs_status_mask("SigCgt:\t0000000000000a00", "SigCgt"),
			 0xa00);
}

static void stat_state(void **state)
{
	(void)state;
	assert_int_equal(procfs_stat_state("4242 (sig) S 1 2 3"), 'S');
	/* the command name may hold ") " itself */
	assert_int_equal(procfs_stat_state("4242 (a) T b) t 1 2"), 't');
	assert_int_equal(procfs_stat_state("4242 (no end"), 0);
	assert_int_equal(procfs_stat_state("4242 (x)"), 0);
}

static void cmdline(void **state)
{
	char buf[32] = "sh\0-c\0echo hi\0\0";

	(void)state;
	assert_string_equal(procfs_cmdline(buf, 15), "sh -c echo hi");
	assert_string_equal(procfs_cmdline(buf, 0), "");
}

static void auxv(void **state)
{
	uint64_t v[8] = { AT_PAGESZ, 4096, AT_BASE, 0x7f0000001000, AT_NULL, 0,
			  AT_ENTRY, 1 };
	unsigned char odd[sizeof(v) + 1];

	(void)state;
	assert_int_equal(procfs_auxv_value(v, sizeof(v), AT_BASE), 0x7f0000001000);
	/* after AT_NULL, nothing counts */
	assert_int_equal(procfs_auxv_value(v, sizeof(v), AT_ENTRY), 0);
	/* cut in the middle of a pair */
	assert_int_equal(procfs_auxv_value(v, 3 * sizeof(uint64_t), AT_BASE), 0);
	/* not 8-byte aligned */
	memcpy(odd + 1, v, sizeof(v));
	assert_int_equal(procfs_auxv_value(odd + 1, sizeof(v), AT_BASE),
			 0x7f0000001000);
}

static void maps(void **state)
{
	static const char m[] =
		"555555554000-555555556000 r--p 00000000 08:01 12 /bin/x\n"
		"7ffff7fc1000-7ffff7fc2000 ---p 00000000 00:00 0\n"
		"garbage line\n"
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]";

	(void)state;
	assert_true(procfs_maps_contains(m, 0x555555554000));
	assert_false(procfs_maps_contains(m, 0x555555556000));	/* hi is past */
	assert_true(procfs_maps_contains(m, 0x7ffff7fc1800));
	assert_true(procfs_maps_contains(m, 0x7fffffffe000));	/* last, no \n */
	assert_false(procfs_maps_contains(m, 0x1000));
	assert_false(procfs_maps_contains("", 0x1000));
}

/* The protection of the mapping at an address: a RELRO page, a writable
 * one, code, a guard; none for a hole, a garbled line or bad bits. */
static void maps_prot(void **state)
{
	static const char m[] =
		"555555554000-555555556000 r-xp 00000000 08:01 12 /bin/x\n"
		"555555556000-555555557000 r--p 00002000 08:01 12 /bin/x\n"
		"555555557000-555555558000 rw-p 00003000 08:01 12 /bin/x\n"
		"7ffff7fc1000-7ffff7fc2000 ---p 00000000 00:00 0\n"
		"7ffff7fc2000-7ffff7fc3000 rzxp 00000000 00:00 0\n"
		"7ffff7fc3000-7ffff7fc4000\n"
		"garbage line\n"
		"7ffffffde000-7ffffffff000 rwxs 00000000 00:00 0 [stack]";

	(void)state;
	assert_int_equal(procfs_maps_prot(m, 0x555555554010),
			 PROT_READ | PROT_EXEC);
	assert_int_equal(procfs_maps_prot(m, 0x555555556ff8), PROT_READ);
	assert_int_equal(procfs_maps_prot(m, 0x555555557000),
			 PROT_READ | PROT_WRITE);
	assert_int_equal(procfs_maps_prot(m, 0x7ffff7fc1000), 0);
	assert_int_equal(procfs_maps_prot(m, 0x7ffff7fc2000), -1);
	assert_int_equal(procfs_maps_prot(m, 0x7ffff7fc3000), -1);
	assert_int_equal(procfs_maps_prot(m, 0x7fffffffeff8),
			 PROT_READ | PROT_WRITE | PROT_EXEC);
	assert_int_equal(procfs_maps_prot(m, 0x555555558000), -1);
	assert_int_equal(procfs_maps_prot(m, 0x1000), -1);
	assert_int_equal(procfs_maps_prot("", 0x1000), -1);
}

/* Where an out-of-line area goes under a non-PIE executable at 4 MB, with
 * the areas of earlier attaches in the way. */
static void maps_gap_below(void **state)
{
	const char *m =
		"00200000-00210000 r-xp 00000000 00:00 0\n"
		"002f0000-00300000 r-xp 00000000 00:00 0\n"
		"00400000-00401000 r--p 00000000 08:01 42 /bin/x\n"
		"00401000-00402000 r-xp 00001000 08:01 42 /bin/x\n"
		"7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0 [vvar]";

	(void)state;
	/* just under the executable, a guard page away from the area at
	 * 0x2f0000-0x300000 and from the executable */
	assert_int_equal(procfs_maps_gap_below(m, 0x400000, 0x10000, 0x1000,
					       0x1000), 0x3fe000);
	/* too big for the gaps between the areas: under the lowest */
	assert_int_equal(procfs_maps_gap_below(m, 0x400000, 0x10000, 0x100000,
					       0x1000), 0xff000);
	/* nothing between floor and the first mapping fits */
	assert_int_equal(procfs_maps_gap_below(m, 0x300000, 0x2e0000, 0x10000,
					       0x1000), 0);
	/* no maps: anywhere under `below` */
	assert_int_equal(procfs_maps_gap_below("", 0x400000, 0x10000, 0x1000,
					       0x1000), 0x3fe000);
	assert_int_equal(procfs_maps_gap_below("garbage\n", 0x400000, 0x10000,
					       0x1000, 0x1000), 0x3fe000);
}

/* RSS and its parts, from each file's fields (a process with 300 resident
 * pages: 200 anonymous, 90 file-backed, 10 shmem). */
static void rss_parts(void **state)
{
	static const char statm[] = "5000 300 100 20 0 400 0\n";
	static const char st[] =
		"Name:\tx\nVmRSS:\t    1200 kB\nRssAnon:\t     800 kB\n"
		"RssFile:\t     360 kB\nRssShmem:\t      40 kB\nVmData:\t1 kB\n";
	static const char smaps[] =
		"55d0-7ffd ---p 00000000 00:00 0   [rollup]\nRss:    1200 kB\n"
		"Pss:    1100 kB\nAnonymous:     800 kB\nAnonHugePages: 0 kB\n";
	enum rss_source src = RSS_STATM;
	(void)state;

	assert_int_equal(rss_parse(RSS_STATM, statm, 4096), 300 * 4096);
	assert_int_equal(rss_parse(RSS_STATM | RSS_ANON, statm, 4096), 200 * 4096);
	assert_int_equal(rss_parse(RSS_STATM | RSS_FILE, statm, 4096), 100 * 4096);
	assert_int_equal(rss_parse(RSS_STATUS, st, 4096), 1200 * 1024);
	assert_int_equal(rss_parse(RSS_STATUS | RSS_ANON, st, 4096), 800 * 1024);
	assert_int_equal(rss_parse(RSS_STATUS | RSS_FILE, st, 4096), 400 * 1024);
	assert_int_equal(rss_parse(RSS_SMAPS, smaps, 4096), 1200 * 1024);
	assert_int_equal(rss_parse(RSS_SMAPS | RSS_ANON, smaps, 4096), 800 * 1024);
	assert_int_equal(rss_parse(RSS_SMAPS | RSS_FILE, smaps, 4096), 400 * 1024);
	/* a missing or inconsistent field is no reading */
	assert_int_equal(rss_parse(RSS_STATM | RSS_ANON, "5000 300\n", 4096), -1);
	assert_int_equal(rss_parse(RSS_STATM | RSS_ANON, "5000 3 4 0\n", 4096), -1);
	assert_int_equal(rss_parse(RSS_STATUS | RSS_FILE,
				   "x\nRssFile:\t1 kB\n", 4096), -1);
	assert_int_equal(rss_parse(RSS_SMAPS | RSS_FILE,
				   "x\nRss:\t1 kB\nAnonymous:\t2 kB\n", 4096), -1);
	/* the option parsers keep each other's bits, in any order */
	assert_int_equal(rss_parse_part("anon", &src), 0);
	assert_int_equal(rss_parse_source("smaps", &src), 0);
	assert_int_equal(src, RSS_SMAPS | RSS_ANON);
	assert_int_equal(rss_parse_part("file", &src), 0);
	assert_int_equal(src, RSS_SMAPS | RSS_FILE);
	assert_int_equal(rss_parse_part("all", &src), 0);
	assert_int_equal(src, RSS_SMAPS);
	assert_int_equal(rss_parse_part("anonymous", &src), -1);
	assert_int_equal(rss_parse_source("stat", &src), -1);
	assert_int_equal(src, RSS_SMAPS);
}

/* /proc/PID/limits as Linux 6.x prints it: the name padded to 26
 * columns, the soft and the hard limit padded to 21, the unit. */
static void limits(void **state)
{
	static const char lim[] =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max cpu time              unlimited            unlimited            seconds   \n"
		"Max processes             95431                95431                processes \n"
		"Max open files            20000                1048576              files     \n"
		"Max locked memory         8388608              8388608              bytes     \n"
		"Max realtime timeout      unlimited            unlimited            us        \n";

	(void)state;
	assert_int_equal(procfs_limit_soft(lim, "Max open files"), 20000);
	assert_int_equal(procfs_limit_soft(lim, "Max processes"), 95431);
	assert_true(procfs_limit_soft(lim, "Max cpu time") == LONG_MAX);
	assert_true(procfs_limit_soft(lim, "Max realtime timeout") == LONG_MAX);
	/* a prefix of a name is not the name */
	assert_int_equal(procfs_limit_soft(lim, "Max process"), -1);
	assert_int_equal(procfs_limit_soft(lim, "Max open"), -1);
	assert_int_equal(procfs_limit_soft(lim, "Max stack size"), -1);
	assert_int_equal(procfs_limit_soft("Max open files            1024x", "Max open files"), -1);
	assert_int_equal(procfs_limit_soft("Max open files            -1    ", "Max open files"), -1);
	assert_int_equal(procfs_limit_soft("Max open files            99999999999999999999999 1",
					   "Max open files"), -1);
	assert_int_equal(procfs_limit_soft("Max open files            ", "Max open files"), -1);
	assert_int_equal(procfs_limit_soft("Max open files            1024", "Max open files"), 1024);
	assert_int_equal(procfs_limit_soft("", "Max open files"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_fields),
		cmocka_unit_test(status_masks),
		cmocka_unit_test(stat_state),
		cmocka_unit_test(cmdline),
		cmocka_unit_test(auxv),
		cmocka_unit_test(maps),
		cmocka_unit_test(maps_prot),
		cmocka_unit_test(maps_gap_below),
		cmocka_unit_test(rss_parts),
		cmocka_unit_test(limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* iprofmem: a memory profiler for native Linux programs.
 * main: parse options, wire symbols -> tracer -> report, exit status. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/report.h"
#include "symbols/select.h"
#include "symbols/symbols.h"
#include "tracer/tracer.h"
#include "live.h"
#include "output.h"
#include "status.h"
#include "util.h"

struct options {
	bool report_mode;	/* iprofmem report FILE */
	bool diff_mode;		/* iprofmem diff OLD NEW */
	const char *budget;	/* --budget: report, diff */
	double fail_above;	/* --fail-above: diff; < 0 when not given */
	double interval;	/* --interval: seconds; 0 without */
	struct selection *sel;
	pid_t *pids;		/* -p: attach to these */
	size_t npids;
	const char *output;	/* -o: the table (or JSON, CSV) */
	const char *record, *folded, *flamegraph, *timeline;
	bool quiet;		/* -q: no status line */
	struct report_view view;
	struct tracer_opts tracer;
	char **argv;		/* PROGRAM and its arguments; the record file */
	char program[PATH_MAX];	/* the traced executable, for --format=pprof
				   and --record */
	char build_id[128];	/* its GNU build ID, hex */
};

static void usage(FILE *out)
{
	fputs("Usage: iprofmem [OPTIONS] [--] PROGRAM [ARGS...]\n"
	      "       iprofmem [OPTIONS] -p PID[,PID...]\n"
	      "       iprofmem report [VIEW OPTIONS] [--budget=FILE] RECORD\n"
	      "       iprofmem diff [DIFF OPTIONS] OLD_RECORD NEW_RECORD\n"
	      "Run PROGRAM (or attach to running processes) under ptrace and report,\n"
	      "per file:line:function, the sum of the positive resident-memory changes\n"
	      "over its calls and how many calls increased memory (the biggest\n"
	      "consumers last).\n"
	      "\n"
	      "Options:\n"
	      "  -p, --pid=PID[,PID]   attach to running processes (repeatable); stop\n"
	      "                        on Ctrl-C, SIGTERM, SIGHUP, --duration or their\n"
	      "                        end, and leave them running unharmed\n"
	      "      --duration=SECS   stop tracing after SECS seconds (the program\n"
	      "                        runs on untraced)\n"
	      "      --funcs=FILE      trace the functions listed in FILE (repeatable):\n"
	      "                        one per line: NAME, GLOB, MODULE:GLOB or\n"
	      "                        FILE.c:GLOB; !ENTRY excludes; '#' comments\n"
	      "  -e, --func=PATTERN    trace the functions PATTERN matches (repeatable)\n"
	      "  -x, --exclude=PATTERN do not trace the functions PATTERN matches\n"
	      "                        (repeatable; same forms as -e): out of the\n"
	      "                        other entries' set, or of the default set\n"
	      "      --all-modules     default set and unqualified patterns apply to\n"
	      "                        every loaded object, not only the executable\n"
	      "      --strict          an entry that matches nothing is an error\n"
	      "      --list-funcs      print what would be traced and exit (the\n"
	      "                        program runs no code of its own)\n"
	      "  -f, --follow-forks    trace forked children too (default: they run\n"
	      "                        untraced, with the breakpoints removed)\n"
	      "      --per-process     one table per process, headed by its PID and\n"
	      "                        command line (with -f)\n"
	      "      --rss-source=SRC  where RSS is read at each trap: statm (default,\n"
	      "                        fastest), status, or smaps (exact on every kernel)\n"
	      "      --memory=PART     the part of RSS that counts: all (default),\n"
	      "                        anon (heap, stacks, anonymous mappings) or\n"
	      "                        file (file-backed and shared pages: code run,\n"
	      "                        files mapped)\n"
	      "      --engine=ENGINE   how sites are traced: auto (default: in-process\n"
	      "                        probes where safe, int3 breakpoints elsewhere),\n"
	      "                        probe (the same, an error where no probe can\n"
	      "                        go), int3 (a ptrace stop at every site)\n"
	      "      --fault-gate=auto|off  probes read statm only when the\n"
	      "                        program's RSS may have changed since (auto:\n"
	      "                        where the kernel's kmem:rss_stat events can\n"
	      "                        be had, as root), or at every event (off)\n"
	      "      --stats           a summary on stderr at the end: events by\n"
	      "                        source, sites by kind, statm reads, ring waits,\n"
	      "                        set-up time\n"
	      "      --record=FILE     save everything measured, for 'iprofmem report'\n"
	      "      --interval=SECS   while tracing, write the view so far every SECS\n"
	      "                        seconds: to -o FILE (replaced), redrawn on a\n"
	      "                        terminal, else appended to stderr\n"
	      "  -q, --quiet           no status line (elapsed time, calls, calls per\n"
	      "                        second) on stderr while tracing; there is none\n"
	      "                        when stderr is not a terminal\n"
	      "\n"
	      "View options (also for 'iprofmem report RECORD'):\n"
	      "  -o, --output=FILE     write the table to FILE instead of stderr\n"
	      "      --format=FMT      table (default), json, csv, or pprof (a gzipped\n"
	      "                        profile.proto for go tool pprof, Pyroscope,\n"
	      "                        speedscope; needs -o FILE)\n"
	      "      --tree            the call-path tree instead of the flat table\n"
	      "      --columns=LIST    extra table columns: self,peak,total-calls,\n"
	      "                        outer (memory and calls of outermost calls\n"
	      "                        only: a recursion counts once)\n"
	      "      --min=MB          hide rows at or below MB megabytes (2^20 bytes;\n"
	      "                        default 0: rows that sum to zero are hidden)\n"
	      "      --top=N           only the N largest rows\n"
	      "      --folded=FILE     folded stacks of self memory, for flamegraph.pl,\n"
	      "                        inferno, speedscope\n"
	      "      --flamegraph=FILE an SVG flame graph of inclusive self memory by\n"
	      "                        call path (what grew along it, freed or not;\n"
	      "                        the table's memory is the calls' net growth)\n"
	      "      --timeline=FILE   an SVG of RSS over time, the top calls marked\n"
	      "\n"
	      "Diff and budget options ('iprofmem diff OLD NEW': per function, the\n"
	      "memory and calls of each record and the change, the worst growth\n"
	      "last; -o, --format, --min (on the change), --top apply;\n"
	      "--format=pprof: each call path's change, new less old, as a\n"
	      "profile for go tool pprof, negative where memory shrank):\n"
	      "      --fail-above=MB   diff: exit 3 if a function grew by more than MB\n"
	      "      --budget=FILE     report, diff: exit 3 if a function (of the new\n"
	      "                        record) uses more than its budget: lines\n"
	      "                        'PATTERN MB', patterns as in --funcs files,\n"
	      "                        the first line that matches counts; '#'\n"
	      "                        comments\n"
	      "\n"
	      "  -h, --help            show this help and exit\n"
	      "  -V, --version         show the version and exit\n"
	      "\n"
	      "Exit status: PROGRAM's own; 128+N if signal N killed it; 125 iprofmem\n"
	      "failed (bad option, cannot trace); 126 PROGRAM cannot be executed\n"
	      "(not executable, not x86-64, a corrupt ELF); 127 PROGRAM not found.\n"
	      "With -p: 0, or 1 when a process cannot be attached.  report and\n"
	      "diff: 0; 3 a function over budget; 125 bad option or record.\n"
	      "Every error message is in iprofmem(1), DIAGNOSTICS.\n", out);
}

static int __attribute__((format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("iprofmem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see iprofmem --help)\n", stderr);
	return EXIT_IPROFMEM;
}

/* -p 12 or -p 12,34; may repeat. */
static int parse_pids(const char *s, struct options *o)
{
	const char *p = s;

	do {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v <= 0 || v > INT_MAX ||
		    (*end && *end != ','))
			return -1;
		o->pids = xreallocarray(o->pids, o->npids + 1, sizeof(*o->pids));
		o->pids[o->npids++] = (pid_t)v;
		p = *end ? end + 1 : end;
	} while (*p);
	return s[strlen(s) - 1] == ',' ? -1 : 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v <= 0 || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

static int parse_min(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int parse_count(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *end || errno || !v)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_format(const char *s, enum report_format *out)
{
	static const char *const names[] = {
		[REPORT_TABLE] = "table", [REPORT_JSON] = "json",
		[REPORT_CSV] = "csv", [REPORT_PPROF] = "pprof",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum report_format)i;
			return 0;
		}
	return -1;
}

enum {
	OPT_MIN = 256, OPT_RSS_SOURCE, OPT_PER_PROCESS, OPT_DURATION,
	OPT_FUNCS, OPT_ALL_MODULES, OPT_STRICT, OPT_LIST_FUNCS, OPT_RECORD,
	OPT_FORMAT, OPT_TREE, OPT_COLUMNS, OPT_TOP, OPT_FOLDED,
	OPT_FLAMEGRAPH, OPT_TIMELINE, OPT_FAIL_ABOVE, OPT_BUDGET, OPT_INTERVAL,
	OPT_MEMORY, OPT_ENGINE, OPT_STATS, OPT_FAULT_GATE,
};

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "funcs", required_argument, NULL, OPT_FUNCS },
	{ "func", required_argument, NULL, 'e' },
	{ "exclude", required_argument, NULL, 'x' },
	{ "all-modules", no_argument, NULL, OPT_ALL_MODULES },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "list-funcs", no_argument, NULL, OPT_LIST_FUNCS },
	{ "follow-forks", no_argument, NULL, 'f' },
	{ "per-process", no_argument, NULL, OPT_PER_PROCESS },
	{ "rss-source", required_argument, NULL, OPT_RSS_SOURCE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "fault-gate", required_argument, NULL, OPT_FAULT_GATE },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "quiet", no_argument, NULL, 'q' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "tree", no_argument, NULL, OPT_TREE },
	{ "columns", required_argument, NULL, OPT_COLUMNS },
	{ "min", required_argument, NULL, OPT_MIN },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "flamegraph", required_argument, NULL, OPT_FLAMEGRAPH },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "fail-above", required_argument, NULL, OPT_FAIL_ABOVE },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* --engine's names. */
static int parse_engine(const char *name, enum engine *out)
{
	static const char *const names[] = {
		[ENGINE_AUTO] = "auto", [ENGINE_PROBE] = "probe",
		[ENGINE_INT3] = "int3",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (enum engine)i;
			return 0;
		}
	return -1;
}

/* The options that shape what is traced: meaningless for a record. */
static int tracing_option(struct options *o, int c, const char *arg)
{
	char err[512];

	switch (c) {
	case 'p':
		if (parse_pids(arg, o) != 0)
			return bad_usage("-p: '%s' is not a process ID or a "
					 "comma-separated list of them", arg);
		return -1;
	case OPT_DURATION:
		if (parse_seconds(arg, &o->tracer.duration) != 0)
			return bad_usage("--duration: '%s' is not a positive "
					 "number of seconds", arg);
		return -1;
	case OPT_FUNCS:
	case 'e':
	case 'x':
		if ((c == 'e' ? selection_add_entry(o->sel, arg, "-e", 0, err,
						   sizeof(err)) :
		     c == 'x' ? selection_add_exclusion(o->sel, arg, "-x", 0,
							err, sizeof(err)) :
		     selection_add_file(o->sel, arg, err, sizeof(err))) != 0) {
			error_msg("%s", err);
			return EXIT_IPROFMEM;
		}
		return -1;
	case OPT_ALL_MODULES:
		selection_set_all_modules(o->sel, true);
		return -1;
	case OPT_STRICT:
		o->tracer.strict = true;
		return -1;
	case OPT_LIST_FUNCS:
		o->tracer.list_out = stdout;
		return -1;
	case 'f':
		o->tracer.follow_forks = true;
		return -1;
	case OPT_PER_PROCESS:
		o->tracer.per_process = true;
		return -1;
	case OPT_RSS_SOURCE:
		if (rss_parse_source(arg, &o->tracer.rss_source) != 0)
			return bad_usage("--rss-source: '%s' is not one of "
					 "statm, status, smaps", arg);
		return -1;
	case OPT_ENGINE:
		if (parse_engine(arg, &o->tracer.engine) != 0)
			return bad_usage("--engine: '%s' is not one of auto, "
					 "probe, int3", arg);
		return -1;
	case OPT_STATS:
		o->tracer.stats = true;
		return -1;
	case OPT_FAULT_GATE:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "off") != 0)
			return bad_usage("--fault-gate: '%s' is not one of auto, "
					 "off", arg);
		o->tracer.no_gate = strcmp(arg, "off") == 0;
		return -1;
	case OPT_MEMORY:
		if (rss_parse_part(arg, &o->tracer.rss_source) != 0)
			return bad_usage("--memory: '%s' is not one of all, "
					 "anon, file", arg);
		return -1;
	case OPT_RECORD:
		o->record = arg;
		return -1;
	case OPT_INTERVAL:
		if (parse_seconds(arg, &o->interval) != 0)
			return bad_usage("--interval: '%s' is not a positive "
					 "number of seconds", arg);
		return -1;
	case 'q':
		o->quiet = true;
		return -1;
	}
	return 0;	/* not a tracing option */
}

/* The options that shape the views. */
static int view_option(struct options *o, int c, const char *arg)
{
	switch (c) {
	case 'o':
		o->output = arg;
		return -1;
	case OPT_FORMAT:
		if (parse_format(arg, &o->view.format) != 0)
			return bad_usage("--format: '%s' is not one of table, "
					 "json, csv, pprof", arg);
		return -1;
	case OPT_TREE:
		o->view.tree = true;
		return -1;
	case OPT_COLUMNS:
		if (report_parse_columns(arg, &o->view.columns) != 0)
			return bad_usage("--columns: '%s' is not a list of self, "
					 "peak, total-calls, outer", arg);
		return -1;
	case OPT_MIN:
		if (parse_min(arg, &o->view.min_mb) != 0)
			return bad_usage("--min: '%s' is not a non-negative "
					 "number of megabytes", arg);
		return -1;
	case OPT_TOP:
		if (parse_count(arg, &o->view.top) != 0)
			return bad_usage("--top: '%s' is not a positive whole "
					 "number", arg);
		return -1;
	case OPT_FOLDED:
		o->folded = arg;
		return -1;
	case OPT_FLAMEGRAPH:
		o->flamegraph = arg;
		return -1;
	case OPT_TIMELINE:
		o->timeline = arg;
		return -1;
	}
	return 0;
}

/* "--pid" for 'p': the long name, for messages. */
static const char *option_name(int c)
{
	for (const struct option *l = longopts; l->name; l++)
		if (l->val == c)
			return l->name;
	return "?";
}

/* The options of 'report' and 'diff' only. */
static int record_option(struct options *o, int c, const char *arg)
{
	switch (c) {
	case OPT_BUDGET:
		o->budget = arg;
		return -1;
	case OPT_FAIL_ABOVE:
		if (parse_min(arg, &o->fail_above) != 0)
			return bad_usage("--fail-above: '%s' is not a "
					 "non-negative number of megabytes", arg);
		return -1;
	}
	return 0;
}

/* The option c is not for the mode chosen: 0 when it is. */
static int misplaced_option(const struct options *o, int c)
{
	bool record_mode = o->report_mode || o->diff_mode;

	if (c == OPT_FAIL_ABOVE && !o->diff_mode)
		return bad_usage("--fail-above is for 'iprofmem diff'");
	if (c == OPT_BUDGET && !record_mode)
		return bad_usage("--budget is for 'iprofmem report' and "
				 "'iprofmem diff' (on records)");
	if (o->diff_mode && (c == OPT_TREE || c == OPT_COLUMNS ||
			     c == OPT_FOLDED || c == OPT_FLAMEGRAPH ||
			     c == OPT_TIMELINE))
		return bad_usage("--%s is not a view of 'iprofmem diff' (it "
				 "takes -o, --format, --min, --top)",
				 option_name(c));
	return 0;
}

/* After the options: what to run, attach to, or read. */
static int parse_operands(int argc, char **argv, struct options *o)
{
	if (o->view.format == REPORT_PPROF && !o->output)
		return bad_usage("%s", "--format=pprof writes a binary file: "
				 "give it with -o FILE");
	if (o->diff_mode) {
		if (argc - optind != 2)
			return bad_usage("%s", "iprofmem diff takes two record "
					 "files: OLD NEW");
		o->argv = argv + optind;
		return -1;
	}
	if (o->report_mode) {
		if (argc - optind != 1)
			return bad_usage("%s", "iprofmem report takes one record "
					 "file");
		o->argv = argv + optind;
		return -1;
	}
	if (o->npids && optind < argc)
		return bad_usage("give a PROGRAM or -p PID, not both ('%s')",
				 argv[optind]);
	if (o->npids)
		return -1;
	if (optind >= argc)
		return bad_usage("%s", "no program to run (or -p PID to attach)");
	o->argv = argv + optind;
	return -1;
}

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	int c, r;

	opterr = 0;
	/* '+': the first non-option is PROGRAM; what follows is its own */
	while ((c = getopt_long(argc, argv, "+:e:fo:p:qx:hV", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("iprofmem %s\n", IPROFMEM_VERSION);
			return 0;
		}
		if (c == ':')
			return bad_usage("option '%s' needs an argument",
					 argv[optind - 1]);
		if (c != '?' && (r = misplaced_option(o, c)) != 0)
			return r;
		r = view_option(o, c, optarg);
		if (r == 0)
			r = record_option(o, c, optarg);
		if (r == 0 && (o->report_mode || o->diff_mode) && c != '?')
			/* before acting on it: --funcs would read its file */
			return bad_usage("--%s is for tracing, not for "
					 "'iprofmem %s'", option_name(c),
					 o->diff_mode ? "diff" : "report");
		if (r == 0)
			r = tracing_option(o, c, optarg);
		if (r == 0)
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		if (r > 0)
			return r;
	}
	return parse_operands(argc, argv, o);
}

/* Look PROGRAM up in PATH as execvp would.  Returns -1 with the path
 * found, or an exit status after saying why. */
static int search_path(const char *name, char *path, size_t len)
{
	const char *dirs = getenv("PATH");
	struct stat st;
	int denied = 0;

	for (const char *d = dirs ? dirs : "/usr/bin:/bin"; d; ) {
		const char *colon = strchr(d, ':');
		int dlen = colon ? (int)(colon - d) : (int)strlen(d);

		snprintf(path, len, "%.*s/%s", dlen, dlen ? d : ".", name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(path, X_OK) == 0)
				return -1;
			denied = 1;
		}
		d = colon ? colon + 1 : NULL;
	}
	if (denied) {
		error_msg("%s: found in PATH but not executable; make it "
			  "executable (chmod +x)", name);
		return EXIT_CANNOT_RUN;
	}
	error_msg("%s: command not found in PATH; give its path", name);
	return EXIT_NOT_FOUND;
}

/* The ELF machines a user is likely to meet, for a message that says
 * what the file was built for. */
static const char *machine_name(unsigned int m)
{
	switch (m) {
	case EM_386:		return "Intel 80386";
	case EM_X86_64:		return "x86-64";
	case EM_ARM:		return "ARM";
	case EM_AARCH64:	return "ARM aarch64";
	case EM_RISCV:		return "RISC-V";
	case EM_PPC:		return "PowerPC";
	case EM_PPC64:		return "PowerPC64";
	case EM_S390:		return "IBM S/390";
	case EM_MIPS:		return "MIPS";
	case EM_SPARCV9:	return "SPARC v9";
	case EM_LOONGARCH:	return "LoongArch";
	}
	return "an unknown machine";
}

/* What is wrong with the layout of a 64-bit header, or NULL. */
static const char *ehdr_problem(const Elf64_Ehdr *h, off_t size)
{
	if (h->e_ident[EI_VERSION] != EV_CURRENT || h->e_version != EV_CURRENT)
		return "unknown ELF version";
	if (h->e_ehsize != sizeof(*h) || h->e_phentsize != sizeof(Elf64_Phdr))
		return "wrong header sizes";
	if (!h->e_phnum)
		return "no program headers";
	if (h->e_phoff > (uint64_t)size ||
	    (uint64_t)size - h->e_phoff < (uint64_t)h->e_phnum * sizeof(Elf64_Phdr))
		return "program headers past the end of the file";
	if (h->e_shnum && h->e_shentsize != sizeof(Elf64_Shdr))
		return "wrong section header size";
	if (h->e_shoff > (uint64_t)size ||
	    (uint64_t)size - h->e_shoff < (uint64_t)h->e_shnum * sizeof(Elf64_Shdr))
		return "section headers past the end of the file: truncated";
	return NULL;
}

static int corrupt_elf(const char *name, const char *problem)
{
	error_msg("%s: corrupt ELF header (%s); the file is damaged: rebuild "
		  "or reinstall it", name, problem);
	return EXIT_CANNOT_RUN;
}

/* An ELF file that the kernel would refuse (ENOEXEC), or that it would
 * run but iprofmem cannot trace (another architecture, 32-bit): said in
 * words before anything starts.  Returns -1 when it is an x86-64
 * executable, else EXIT_CANNOT_RUN after saying why. */
static int check_elf(const char *name, const unsigned char *b, size_t n,
		     off_t size)
{
	Elf64_Ehdr h;
	unsigned int machine;
	const char *problem;

	if (n < EI_NIDENT + 4 ||
	    (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64) ||
	    (b[EI_DATA] != ELFDATA2LSB && b[EI_DATA] != ELFDATA2MSB)) {
		return corrupt_elf(name, n < EI_NIDENT + 4 ? "too short" :
				   "invalid class or byte order");
	}
	/* e_machine sits at the same offset in both classes */
	machine = b[EI_DATA] == ELFDATA2LSB ? b[18] | b[19] << 8
					    : b[18] << 8 | b[19];
	if (b[EI_CLASS] == ELFCLASS32) {
		error_msg("%s: a 32-bit ELF for %s: iprofmem traces 64-bit "
			  "x86-64 programs only; rebuild it for x86-64 "
			  "(without -m32)", name, machine_name(machine));
		return EXIT_CANNOT_RUN;
	}
	if (machine != EM_X86_64 || b[EI_DATA] != ELFDATA2LSB) {
		error_msg("%s: an ELF for %s, not x86-64: iprofmem traces "
			  "x86-64 programs only; rebuild it for x86-64", name,
			  machine_name(machine));
		return EXIT_CANNOT_RUN;
	}
	if (n < sizeof(h))
		return corrupt_elf(name, "too short");
	memcpy(&h, b, sizeof(h));
	if (h.e_type == ET_REL || h.e_type == ET_CORE) {
		error_msg("%s: an ELF %s, not an executable; give the linked "
			  "program", name, h.e_type == ET_REL ?
			  "relocatable object (.o)" : "core dump");
		return EXIT_CANNOT_RUN;
	}
	problem = h.e_type != ET_EXEC && h.e_type != ET_DYN ?
		  "unknown ELF type" : ehdr_problem(&h, size);
	return problem ? corrupt_elf(name, problem) : -1;
}

/* The file at path is something the kernel can start: an x86-64 ELF
 * executable or a '#!' script.  Returns -1, or an exit status. */
static int check_executable_file(const char *name, const char *path)
{
	unsigned char b[sizeof(Elf64_Ehdr)];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		error_msg("%s: cannot read it: %s; check its permissions",
			  name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_CANNOT_RUN;
	}
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n >= 2 && memcmp(b, "#!", 2) == 0)
		return -1;
	if (n >= SELFMAG && memcmp(b, ELFMAG, SELFMAG) == 0)
		return check_elf(name, b, (size_t)n, st.st_size);
	error_msg("%s: neither an ELF executable nor a '#!' script; give the "
		  "compiled program", name);
	return EXIT_CANNOT_RUN;
}

/* Resolve PROGRAM as execvp would, and check that it can be run, so that
 * the common mistakes get a clear message before anything starts. */
static int resolve_program(const char *name, char *path, size_t len)
{
	struct stat st;
	int ret;

	if (!*name) {
		error_msg("empty program name; give the program to run");
		return EXIT_NOT_FOUND;
	}
	if (strchr(name, '/'))
		snprintf(path, len, "%s", name);
	else if ((ret = search_path(name, path, len)) >= 0)
		return ret;
	if (stat(path, &st) != 0) {
		error_msg("%s: %s; check the path", name, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? EXIT_NOT_FOUND
							   : EXIT_CANNOT_RUN;
	}
	if (S_ISDIR(st.st_mode)) {
		error_msg("%s: is a directory; give the program's file", name);
		return EXIT_CANNOT_RUN;
	}
	if (access(path, X_OK) != 0) {
		error_msg("%s: not executable (%s); make it executable "
			  "(chmod +x)", name, strerror(errno));
		return EXIT_CANNOT_RUN;
	}
	return check_executable_file(name, path);
}

/* By default only the executable's own functions are traced (and those
 * of what it execs, or forks with -f): one with neither DWARF nor a
 * function symbol, that cannot exec, would run with nothing traced, an
 * empty table that looks like a result.  Said before it runs (or is
 * attached) instead. */
static bool nothing_to_trace(const struct options *o, const char *name,
			     const char *path)
{
	if (!selection_is_default(o->sel) || selection_all_modules(o->sel) ||
	    o->tracer.follow_forks || symbols_file_has_functions(path))
		return false;
	error_msg("%s has neither debug info nor a symbol table: nothing to "
		  "trace; rebuild it with -g (or select library functions "
		  "with -e MODULE:GLOB)", name);
	return true;
}

/* -p: a process whose executable iprofmem cannot trace (32-bit, another
 * architecture: its code would be decoded and emulated as x86-64), or
 * that has nothing to trace, is refused before it is stopped. */
static int check_attach_targets(const struct options *o)
{
	for (size_t i = 0; i < o->npids; i++) {
		char proc[64], exe[PATH_MAX], name[PATH_MAX + 64];
		ssize_t n;

		snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)o->pids[i]);
		n = readlink(proc, exe, sizeof(exe) - 1);
		if (n < 0)
			continue;	/* gone, a zombie, another's: attaching says */
		exe[n] = '\0';
		snprintf(name, sizeof(name), "cannot attach to %d: %s",
			 (int)o->pids[i], exe);
		if (check_executable_file(name, proc) >= 0 ||
		    nothing_to_trace(o, name, proc))
			return EXIT_ATTACH;
	}
	return -1;
}

/* What the views show: the single report, or one per process, and the
 * program traced (the pprof mapping, the record's program line). */
struct rendering {
	const struct options *o;
	const struct report_entry *e;
	size_t n;
	const struct report_program *prog;
};

static int write_view(FILE *fp, void *arg)
{
	struct rendering *r = arg;

	if (r->o->view.format == REPORT_PPROF)
		return report_write_pprof(r->e, r->n, fp, r->prog);
	return report_print(r->e, r->n, fp, &r->o->view);
}

static int write_folded(FILE *fp, void *arg)
{
	struct rendering *r = arg;

	return report_write_folded(r->e, r->n, fp);
}

static int write_flamegraph(FILE *fp, void *arg)
{
	struct rendering *r = arg;

	return report_write_flamegraph(r->e, r->n, fp);
}

static int write_timeline(FILE *fp, void *arg)
{
	struct rendering *r = arg;

	return report_write_timeline(r->e, r->n, fp,
				     r->o->view.top ? r->o->view.top : 5);
}

static int write_record(FILE *fp, void *arg)
{
	struct rendering *r = arg;

	return report_save(r->e, r->n, r->prog, fp);
}

/* The table (or JSON, CSV) on stderr or -o, and every file asked for.
 * Returns 0, or EXIT_IPROFMEM when something could not be written. */
static int render(const struct options *o, const struct report_entry *e,
		  size_t n, const struct report_program *prog)
{
	struct rendering r = { .o = o, .e = e, .n = n, .prog = prog };

	/* a reader that went away is a write error to report, not a death
	 * (the program, if any, was exec'd long ago: it keeps its own) */
	signal(SIGPIPE, SIG_IGN);
	const struct { const char *file; int (*fn)(FILE *, void *); } files[] = {
		{ o->record, write_record },
		{ o->folded, write_folded },
		{ o->flamegraph, write_flamegraph },
		{ o->timeline, write_timeline },
		{ o->output, write_view },
	};
	int ret = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		if (files[i].file &&
		    output_write(files[i].file, files[i].fn, &r) != 0)
			ret = EXIT_IPROFMEM;
	if (!o->output && (write_view(stderr, &r) != 0 || fflush(stderr) != 0)) {
		error_msg("writing the table: %s", strerror(errno));
		ret = EXIT_IPROFMEM;
	}
	return ret;
}

/* Every output file named can be written: checked before anything runs. */
static int check_outputs(const struct options *o)
{
	const char *files[] = { o->record, o->folded, o->flamegraph,
				o->timeline, o->output };

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		if (files[i] && output_check(files[i]) != 0)
			return -1;
	return 0;
}

/* At the end: the entries that an object loaded after start-up could
 * still have matched, and did not. */
static void warn_unmatched_at_end(const char *origin, int line,
				  const char *text, bool no_module, void *arg)
{
	const char *why = no_module ? "no such module was loaded"
				    : "matches no function";

	(void)arg;
	if (line)
		warn_msg("%s:%d: '%s': %s", origin, line, text, why);
	else
		warn_msg("%s '%s': %s", origin, text, why);
}

/* The program's status as ours: 128+N for death by signal N. */
static int exit_status(const struct options *o, int status)
{
	if (o->npids)
		return 0;	/* the processes' status is their parent's */
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* The traced executable (with -p, the first process's), for the pprof
 * mapping and the record: read before tracing, while an attached process
 * still runs. */
static void note_program(struct options *o, const char *path)
{
	char proc[64];
	ssize_t n;

	if (o->npids) {
		snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)o->pids[0]);
		n = readlink(proc, o->program, sizeof(o->program) - 1);
		o->program[n > 0 ? n : 0] = '\0';
	} else if (!realpath(path, o->program)) {
		snprintf(o->program, sizeof(o->program), "%s", path);
	}
	symbols_build_id(o->npids ? proc : o->program, o->build_id,
			 sizeof(o->build_id));
}

static int trace(struct options *o, const char *path, struct report *rep,
		 struct trace_result *res)
{
	if (o->npids)
		return tracer_attach(o->pids, o->npids, rep, &o->tracer, res);
	return tracer_launch(path, o->argv, rep, &o->tracer, res);
}

/* --list-funcs: the selected functions on stdout, nothing run.  The list
 * is kept until the checks on the selection have passed, so a failing
 * run prints nothing on stdout. */
static int list_funcs(struct options *o, const char *path)
{
	struct report *rep = report_new();
	struct trace_result res;
	char *list = NULL;
	size_t len = 0;
	int ret;

	o->tracer.list_out = open_memstream(&list, &len);
	if (!rep || !o->tracer.list_out) {
		error_msg("out of memory");
		report_free(rep);
		return EXIT_IPROFMEM;
	}
	ret = trace(o, path, rep, &res);
	fclose(o->tracer.list_out);
	if (ret == 0) {
		printf("%18s  %7s  %7s  %s  %s\n", "Entry", "Returns", "Probes",
		       "Module", "File:Line:Function");
		fwrite(list, 1, len, stdout);
		if (fflush(stdout) != 0) {
			error_msg("writing the list: %s", strerror(errno));
			ret = EXIT_IPROFMEM;
		}
	}
	free(list);
	trace_result_free(&res);
	report_free(rep);
	return ret;
}

/* The reports of a finished trace, as the views take them. */
static struct report_entry *trace_entries(const struct options *o,
					  struct report *shared,
					  const struct trace_result *res,
					  size_t *n)
{
	struct report_entry *e;

	if (!o->tracer.per_process) {
		e = xcalloc(1, sizeof(*e));
		e[0] = (struct report_entry){ .pid = 0, .cmdline = "",
					      .rep = shared };
		*n = 1;
		return e;
	}
	e = xcalloc(res->nprocs, sizeof(*e));
	for (size_t i = 0; i < res->nprocs; i++)
		e[i] = (struct report_entry){ .pid = res->procs[i].pid,
					      .cmdline = res->procs[i].cmdline,
					      .rep = res->procs[i].rep };
	*n = res->nprocs;
	return e;
}

/* --interval: what the view needs while the trace runs; res->procs grows
 * as processes start (--per-process). */
struct live_source {
	const struct options *o;
	struct report *rep;
	const struct trace_result *res;
};

static int write_live_view(FILE *fp, void *arg)
{
	struct live_source *s = arg;
	size_t n;
	struct report_entry *e = trace_entries(s->o, s->rep, s->res, &n);
	int ret = report_print(e, n, fp, &s->o->view);

	free(e);
	return ret;
}

/* Trace, with the live view when --interval asks for it. */
static int trace_live(struct options *o, const char *path,
		      struct report *rep, struct trace_result *res)
{
	struct live_source src = { .o = o, .rep = rep, .res = res };
	struct live_opts lo = {
		.interval = o->interval, .output = o->output,
		.pids = o->pids, .npids = o->npids,
		.write = write_live_view, .arg = &src,
	};
	int ret;

	if (o->interval <= 0)
		return trace(o, path, rep, res);
	if (live_start(&lo) != 0)
		return EXIT_IPROFMEM;
	o->tracer.tick = live_tick;
	ret = trace(o, path, rep, res);
	live_stop();
	o->tracer.tick = NULL;
	return ret;
}

/* Does anything asked for print call paths?  Without them the report
 * keeps one node per function (report_set_flat): the same flat table,
 * recorded in a fraction of the time on a program with deep, varied call
 * chains. */
static bool needs_paths(const struct options *o)
{
	return o->view.tree || o->view.format != REPORT_TABLE ||
	       (o->view.columns & REPORT_COL_OUTER) || o->record ||
	       o->folded || o->flamegraph;
}

static int run(struct options *o, const char *path)
{
	struct status *st;
	struct trace_result res;
	struct report_entry *e;
	struct report *rep;
	size_t n;
	int ret;

	if (o->tracer.list_out)
		return list_funcs(o, path);
	if (check_outputs(o) != 0)
		return EXIT_IPROFMEM;
	rep = report_new();
	if (!rep) {
		error_msg("out of memory");
		return EXIT_IPROFMEM;
	}
	report_set_flat(rep, !needs_paths(o));
	if (o->view.format == REPORT_PPROF || o->record)
		note_program(o, path);
	/* the live view's heading says what the status line would */
	st = o->quiet || o->interval > 0 ? NULL : status_start();
	ret = trace_live(o, path, rep, &res);
	status_stop(st);	/* erased before the table and any message */
	if (ret == 0) {
		struct report_program prog = { o->program, o->build_id };

		e = trace_entries(o, rep, &res, &n);
		ret = render(o, e, n, &prog);
		free(e);
	}
	if (ret == 0) {
		selection_report_unmatched(o->sel, true, warn_unmatched_at_end,
					   NULL);
		tracer_wait_program(&res);
		ret = exit_status(o, res.status);
	}
	report_free(rep);
	trace_result_free(&res);
	return ret;
}

/* A record file's entries and program (free it with
 * report_program_free), or NULL after saying why. */
static struct report_entry *load_record(const char *file, size_t *n,
					struct report_program *prog)
{
	struct report_entry *e;
	char err[512];
	FILE *in;

	in = fopen(file, "re");
	if (!in) {
		error_msg("%s: %s", file, strerror(errno));
		return NULL;
	}
	e = report_load(in, n, prog, err, sizeof(err));
	fclose(in);
	if (!e)
		error_msg("%s: %s", file, err);
	return e;
}

/* --budget: the file read and checked before any record is; NULL with
 * *ret set after saying why it is malformed. */
static struct budget *load_budget(const struct options *o, int *ret)
{
	struct budget *b;
	char err[512];

	*ret = -1;
	if (!o->budget)
		return NULL;
	b = budget_load(o->budget, err, sizeof(err));
	if (!b) {
		error_msg("%s", err);
		*ret = EXIT_IPROFMEM;
	}
	return b;
}

/* The budget and --fail-above lines on stderr, after the views.  Returns
 * ret, or EXIT_BUDGET when a function is over. */
static int check_budgets(const struct options *o, struct budget *b,
			 const struct report_entry *old, size_t nold,
			 const struct report_entry *e, size_t n, int ret)
{
	long over = 0, c;

	if (b) {
		c = budget_check(b, e, n, stderr);
		over = c < 0 ? -1 : over + c;
	}
	if (over >= 0 && o->fail_above >= 0) {
		c = report_diff_grew(old, nold, e, n, o->fail_above, stderr);
		over = c < 0 ? -1 : over + c;
	}
	if (over < 0) {
		error_msg("out of memory");
		return EXIT_IPROFMEM;
	}
	return over && ret == 0 ? EXIT_BUDGET : ret;
}

/* iprofmem report RECORD: the views of a recorded trace, nothing run. */
static int report_record_file(const struct options *o)
{
	struct report_program prog;
	struct report_entry *e;
	struct budget *b;
	size_t n;
	int ret;

	if (check_outputs(o) != 0)
		return EXIT_IPROFMEM;
	b = load_budget(o, &ret);
	if (ret >= 0)
		return ret;
	e = load_record(o->argv[0], &n, &prog);
	if (!e) {
		budget_free(b);
		return EXIT_IPROFMEM;
	}
	ret = render(o, e, n, &prog);
	ret = check_budgets(o, b, NULL, 0, e, n, ret);
	report_entries_free(e, n);
	report_program_free(&prog);
	budget_free(b);
	return ret;
}

struct diffing {
	const struct options *o;
	const struct report_entry *old, *new;
	size_t nold, nnew;
	struct report_program prog;	/* the new record's, for pprof */
};

static int write_diff(FILE *fp, void *arg)
{
	struct diffing *d = arg;

	if (d->o->view.format == REPORT_PPROF)
		return report_diff_write_pprof(d->old, d->nold, d->new,
					       d->nnew, fp, &d->prog);
	return report_diff_print(d->old, d->nold, d->new, d->nnew, fp,
				 &d->o->view);
}

/* iprofmem diff OLD NEW: the change per function between two records. */
static int diff_records(const struct options *o)
{
	struct diffing d = { .o = o };
	struct report_entry *old = NULL, *new = NULL;
	struct budget *b;
	int ret;

	if (o->output && output_check(o->output) != 0)
		return EXIT_IPROFMEM;
	b = load_budget(o, &ret);
	if (ret >= 0)
		return ret;
	old = load_record(o->argv[0], &d.nold, NULL);
	if (old)
		new = load_record(o->argv[1], &d.nnew, &d.prog);
	if (!new) {
		ret = EXIT_IPROFMEM;
		goto out;
	}
	d.old = old;
	d.new = new;
	signal(SIGPIPE, SIG_IGN);
	ret = 0;
	if (o->output) {
		if (output_write(o->output, write_diff, &d) != 0)
			ret = EXIT_IPROFMEM;
	} else if (write_diff(stderr, &d) != 0 || fflush(stderr) != 0) {
		error_msg("writing the diff: %s", strerror(errno));
		ret = EXIT_IPROFMEM;
	}
	ret = check_budgets(o, b, old, d.nold, new, d.nnew, ret);
out:
	report_entries_free(old, d.nold);
	report_entries_free(new, d.nnew);
	report_program_free(&d.prog);
	budget_free(b);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = { .fail_above = -1 };
	char path[PATH_MAX];
	int ret;

	o.sel = o.tracer.sel = selection_new();
	if (!o.sel) {
		error_msg("out of memory");
		return EXIT_IPROFMEM;
	}
	/* the default engine, for a whole test suite run with each */
	if (getenv("IPROFMEM_ENGINE") &&
	    parse_engine(getenv("IPROFMEM_ENGINE"), &o.tracer.engine) != 0) {
		error_msg("IPROFMEM_ENGINE: '%s' is not one of auto, probe, "
			  "int3", getenv("IPROFMEM_ENGINE"));
		return EXIT_IPROFMEM;
	}
	/* iprofmem report RECORD (a program named "report": ./report) */
	o.report_mode = argc > 1 && strcmp(argv[1], "report") == 0;
	o.diff_mode = argc > 1 && strcmp(argv[1], "diff") == 0;
	ret = o.report_mode || o.diff_mode ?
	      parse_options(argc - 1, argv + 1, &o) :
	      parse_options(argc, argv, &o);
	if (ret < 0 && o.diff_mode)
		ret = diff_records(&o);
	if (ret < 0 && o.report_mode)
		ret = report_record_file(&o);
	if (ret < 0 && !o.npids)
		ret = resolve_program(o.argv[0], path, sizeof(path));
	if (ret < 0 && !o.npids)
		ret = nothing_to_trace(&o, o.argv[0], path) ? EXIT_IPROFMEM : -1;
	if (ret < 0 && o.npids)
		ret = check_attach_targets(&o);
	if (ret < 0)
		ret = run(&o, path);
	free(o.pids);
	selection_free(o.sel);
	return ret;
}

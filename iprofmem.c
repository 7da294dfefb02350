/* iprofmem: a memory profiler for native Linux programs.
 * main: parse options, wire symbols -> tracer -> report, exit status. */
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
#include "tracer/tracer.h"
#include "util.h"

struct options {
	struct selection *sel;
	pid_t *pids;		/* -p: attach to these */
	size_t npids;
	const char *output;
	double min_mb;
	struct tracer_opts tracer;
	char **argv;		/* PROGRAM and its arguments */
};

static void usage(FILE *out)
{
	fputs("Usage: iprofmem [OPTIONS] [--] PROGRAM [ARGS...]\n"
	      "       iprofmem [OPTIONS] -p PID[,PID...]\n"
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
	      "                        FILE.c:GLOB; '#' comments\n"
	      "  -e, --func=PATTERN    trace the functions PATTERN matches (repeatable)\n"
	      "      --all-modules     default set and unqualified patterns apply to\n"
	      "                        every loaded object, not only the executable\n"
	      "      --strict          an entry that matches nothing is an error\n"
	      "      --list-funcs      print what would be traced and exit (the\n"
	      "                        program runs no code of its own)\n"
	      "  -f, --follow-forks    trace forked children too (default: they run\n"
	      "                        untraced, with the breakpoints removed)\n"
	      "      --per-process     one table per process, headed by its PID and\n"
	      "                        command line (with -f)\n"
	      "  -o, --output=FILE     write the table to FILE instead of stderr\n"
	      "      --min=MB          hide rows at or below MB megabytes (2^20 bytes;\n"
	      "                        default 0: rows that sum to zero are hidden)\n"
	      "      --rss-source=SRC  where RSS is read at each trap: statm (default,\n"
	      "                        fastest), status, or smaps (exact on every kernel)\n"
	      "  -h, --help            show this help and exit\n"
	      "  -V, --version         show the version and exit\n"
	      "\n"
	      "Exit status: PROGRAM's own; 128+N if signal N killed it; 125 iprofmem\n"
	      "failed (bad option, cannot trace); 126 PROGRAM cannot be executed;\n"
	      "127 PROGRAM not found.  With -p: 0, or 1 when a process cannot be\n"
	      "attached.  See iprofmem(1).\n", out);
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

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_MIN = 256, OPT_RSS_SOURCE, OPT_PER_PROCESS, OPT_DURATION,
	       OPT_FUNCS, OPT_ALL_MODULES, OPT_STRICT, OPT_LIST_FUNCS };
	static const struct option longopts[] = {
		{ "funcs", required_argument, NULL, OPT_FUNCS },
		{ "func", required_argument, NULL, 'e' },
		{ "all-modules", no_argument, NULL, OPT_ALL_MODULES },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "list-funcs", no_argument, NULL, OPT_LIST_FUNCS },
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "follow-forks", no_argument, NULL, 'f' },
		{ "per-process", no_argument, NULL, OPT_PER_PROCESS },
		{ "output", required_argument, NULL, 'o' },
		{ "min", required_argument, NULL, OPT_MIN },
		{ "rss-source", required_argument, NULL, OPT_RSS_SOURCE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char err[512];
	int c;

	opterr = 0;
	/* '+': the first non-option is PROGRAM; what follows is its own */
	while ((c = getopt_long(argc, argv, "+:e:fo:p:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pids(optarg, o) != 0)
				return bad_usage("-p: '%s' is not a process ID or a "
						 "comma-separated list of them", optarg);
			break;
		case OPT_DURATION:
			if (parse_seconds(optarg, &o->tracer.duration) != 0)
				return bad_usage("--duration: '%s' is not a positive "
						 "number of seconds", optarg);
			break;
		case OPT_FUNCS:
			if (selection_add_file(o->sel, optarg, err,
					       sizeof(err)) != 0) {
				error_msg("%s", err);
				return EXIT_IPROFMEM;
			}
			break;
		case 'e':
			if (selection_add_entry(o->sel, optarg, "-e", 0, err,
						sizeof(err)) != 0) {
				error_msg("%s", err);
				return EXIT_IPROFMEM;
			}
			break;
		case OPT_ALL_MODULES:
			selection_set_all_modules(o->sel, true);
			break;
		case OPT_STRICT:
			o->tracer.strict = true;
			break;
		case OPT_LIST_FUNCS:
			o->tracer.list_out = stdout;
			break;
		case 'f':
			o->tracer.follow_forks = true;
			break;
		case OPT_PER_PROCESS:
			o->tracer.per_process = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_MIN:
			if (parse_min(optarg, &o->min_mb) != 0)
				return bad_usage("--min: '%s' is not a non-negative "
						 "number of megabytes", optarg);
			break;
		case OPT_RSS_SOURCE:
			if (rss_parse_source(optarg, &o->tracer.rss_source) != 0)
				return bad_usage("--rss-source: '%s' is not one of "
						 "statm, status, smaps", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("iprofmem %s\n", IPROFMEM_VERSION);
			return 0;
		case ':':
			return bad_usage("option '%s' needs an argument",
					 argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
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

/* Resolve PROGRAM as execvp would, and check that it can be run, so that
 * the common mistakes get a clear message before anything starts. */
static int resolve_program(const char *name, char *path, size_t len)
{
	const char *dirs = getenv("PATH");
	struct stat st;
	char magic[4];
	int fd, denied = 0;

	if (!*name) {
		error_msg("empty program name");
		return EXIT_NOT_FOUND;
	}
	if (strchr(name, '/')) {
		snprintf(path, len, "%s", name);
	} else {
		path[0] = '\0';
		for (const char *d = dirs ? dirs : "/usr/bin:/bin"; d; ) {
			const char *colon = strchr(d, ':');
			int dlen = colon ? (int)(colon - d) : (int)strlen(d);

			snprintf(path, len, "%.*s/%s", dlen, dlen ? d : ".", name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(path, X_OK) == 0)
					break;
				denied = 1;
			}
			path[0] = '\0';
			d = colon ? colon + 1 : NULL;
		}
		if (!path[0]) {
			error_msg("%s: %s", name, denied ? "permission denied" :
				  "command not found in PATH");
			return denied ? EXIT_CANNOT_RUN : EXIT_NOT_FOUND;
		}
	}
	if (stat(path, &st) != 0) {
		error_msg("%s: %s", name, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? EXIT_NOT_FOUND
							   : EXIT_CANNOT_RUN;
	}
	if (S_ISDIR(st.st_mode)) {
		error_msg("%s: is a directory", name);
		return EXIT_CANNOT_RUN;
	}
	if (access(path, X_OK) != 0) {
		error_msg("%s: not executable: %s", name, strerror(errno));
		return EXIT_CANNOT_RUN;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, magic, 4) != 4 ||
	    (memcmp(magic, "\177ELF", 4) != 0 && memcmp(magic, "#!", 2) != 0)) {
		error_msg("%s: not an ELF executable", name);
		if (fd >= 0)
			close(fd);
		return EXIT_CANNOT_RUN;
	}
	close(fd);
	return -1;
}

/* -o FILE: write to a temporary file beside FILE and rename it when the
 * table is complete, so FILE never holds a partial table. */
struct output {
	FILE *fp;
	char *tmp;
	const char *final;
};

static int output_open(struct output *out, const char *file)
{
	int fd;

	out->final = file;
	if (!file) {
		out->fp = stderr;
		return 0;
	}
	if (asprintf(&out->tmp, "%s.XXXXXX", file) < 0) {
		error_msg("out of memory");
		return -1;
	}
	fd = mkstemp(out->tmp);
	if (fd < 0 || !(out->fp = fdopen(fd, "w"))) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(out->tmp);
		}
		free(out->tmp);
		out->tmp = NULL;
		return -1;
	}
	fchmod(fd, 0666 & ~(mode_t)0022);
	return 0;
}

static int output_close(struct output *out, bool keep)
{
	int ret = 0;

	if (!out->tmp)
		return fflush(stderr) == 0 ? 0 : -1;
	if (fclose(out->fp) != 0)
		keep = false, ret = -1;
	if (keep && rename(out->tmp, out->final) != 0) {
		error_msg("%s: %s", out->final, strerror(errno));
		ret = -1;
	}
	if (!keep || ret)
		unlink(out->tmp);
	free(out->tmp);
	return ret;
}

/* The default table, or with --per-process one table per process, each
 * headed by its PID and command line, a blank line between them. */
static int print_tables(const struct report *shared,
			const struct trace_result *res, const struct options *o,
			FILE *out)
{
	if (!o->tracer.per_process)
		return report_print(shared, out, o->min_mb);
	for (size_t i = 0; i < res->nprocs; i++) {
		const struct traced_process *p = &res->procs[i];

		if (fprintf(out, "%sPID %d: %s\n", i ? "\n" : "", (int)p->pid,
			    p->cmdline) < 0 ||
		    report_print(p->rep, out, o->min_mb) != 0)
			return -1;
	}
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
		printf("%18s  %7s  %s  %s\n", "Entry", "Returns", "Module",
		       "File:Line:Function");
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

static int run(struct options *o, const char *path)
{
	struct output out = { 0 };
	struct trace_result res;
	struct report *rep;
	int ret;

	if (o->tracer.list_out)
		return list_funcs(o, path);
	if (output_open(&out, o->output) != 0)
		return EXIT_IPROFMEM;
	rep = report_new();
	if (!rep) {
		error_msg("out of memory");
		output_close(&out, false);
		return EXIT_IPROFMEM;
	}
	ret = trace(o, path, rep, &res);
	if (ret == 0 && print_tables(rep, &res, o, out.fp) != 0) {
		error_msg("writing the table: %s", strerror(errno));
		ret = EXIT_IPROFMEM;
	}
	if (output_close(&out, ret == 0) != 0 && ret == 0)
		ret = EXIT_IPROFMEM;
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

int main(int argc, char **argv)
{
	struct options o = { 0 };
	char path[PATH_MAX];
	int ret;

	o.sel = o.tracer.sel = selection_new();
	if (!o.sel) {
		error_msg("out of memory");
		return EXIT_IPROFMEM;
	}
	ret = parse_options(argc, argv, &o);
	if (ret < 0 && !o.npids)
		ret = resolve_program(o.argv[0], path, sizeof(path));
	if (ret < 0)
		ret = run(&o, path);
	free(o.pids);
	selection_free(o.sel);
	return ret;
}

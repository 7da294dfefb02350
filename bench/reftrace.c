/*
 * reftrace: the minimal ptrace tracer that `make bench` compares iprofmem with.
 *
 *   reftrace [-e EVENTS] ENTRY RET PROGRAM [ARGS...]
 *
 * ENTRY and RET are the link-time addresses (hex, as nm/objdump print them)
 * of one function's first instruction, which must be `push %rbp`, and of its
 * `ret`.  reftrace launches PROGRAM, puts an int3 on both sites for the whole
 * run, and at every trap does what one iprofmem event costs at least:
 * PTRACE_GETREGS, a pread of /proc/PID/statm at offset 0 from a kept-open fd,
 * emulation of the displaced instruction through /proc/PID/mem, PTRACE_SETREGS
 * and PTRACE_CONT.  One stop per event, no single-stepping.
 *
 * It prints the event count to stderr; with -e it fails (exit 1) unless it
 * saw exactly EVENTS events.  Otherwise its exit status is PROGRAM's.
 * Single-threaded tracees only: that is all the benchmark needs.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *prog_name = "reftrace";

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (fmt[strlen(fmt) - 1] == ':')
		fprintf(stderr, " %s", strerror(err));
	fputc('\n', stderr);
	exit(2);
}

static uint64_t parse_hex(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || *s == '\0' || *end != '\0')
		die("bad %s address '%s' (want hex)", what, s);
	return v;
}

/* Load bias of the main executable: 0 for ET_EXEC, its lowest mapping for PIE. */
static uint64_t exe_bias(pid_t pid)
{
	char path[64], exe[PATH_MAX], line[PATH_MAX + 128];
	Elf64_Ehdr eh;
	ssize_t n;
	int fd;
	FILE *maps;
	uint64_t bias = 0;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		die("readlink %s:", path);
	exe[n] = '\0';

	fd = open(exe, O_RDONLY);
	if (fd < 0)
		die("open %s:", exe);
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		die("%s: not a 64-bit ELF file", exe);
	close(fd);
	if (eh.e_type == ET_EXEC)
		return 0;
	if (eh.e_type != ET_DYN)
		die("%s: neither ET_EXEC nor ET_DYN", exe);

	/* A PIE is linked at 0; its offset-0 mapping is where it was loaded. */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "r");
	if (!maps)
		die("open %s:", path);
	while (!found && fgets(line, sizeof(line), maps)) {
		unsigned long long start, off;
		int name_at = 0;

		if (sscanf(line, "%llx-%*x %*s %llx %*s %*u %n", &start, &off, &name_at) < 2 ||
		    name_at == 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (off == 0 && strcmp(line + name_at, exe) == 0) {
			bias = start;
			found = 1;
		}
	}
	fclose(maps);
	if (!found)
		die("%s: mapping of %s not found", path, exe);
	return bias;
}

static unsigned char mem_peek_byte(int memfd, uint64_t addr)
{
	unsigned char b;

	if (pread(memfd, &b, 1, (off_t)addr) != 1)
		die("read tracee memory at %#" PRIx64 ":", addr);
	return b;
}

static void mem_poke_byte(int memfd, uint64_t addr, unsigned char b)
{
	if (pwrite(memfd, &b, 1, (off_t)addr) != 1)
		die("write tracee memory at %#" PRIx64 ":", addr);
}

/* Resident pages, the second field of statm, re-read from offset 0. */
static long read_rss_pages(int statm_fd)
{
	char buf[128];
	char *p;
	ssize_t n;

	n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		die("read statm:");
	buf[n] = '\0';
	p = strchr(buf, ' ');
	return p ? strtol(p + 1, NULL, 10) : 0;
}

struct counts {
	unsigned long entries, returns, pages_added;
	long entry_rss;
};

/* One breakpoint event: the tracee is stopped just after the int3 at @site. */
static void handle_trap(pid_t pid, int memfd, int statm_fd, uint64_t entry, uint64_t ret,
			struct counts *c)
{
	struct user_regs_struct regs;
	uint64_t site;
	long rss;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		die("PTRACE_GETREGS:");
	site = regs.rip - 1;
	rss = read_rss_pages(statm_fd);

	if (site == entry) {
		/* push %rbp */
		uint64_t rbp = regs.rbp;

		regs.rsp -= 8;
		if (pwrite(memfd, &rbp, 8, (off_t)regs.rsp) != 8)
			die("push: write stack at %#llx:", (unsigned long long)regs.rsp);
		regs.rip = entry + 1;
		c->entry_rss = rss;
		c->entries++;
	} else if (site == ret) {
		/* ret */
		uint64_t to;

		if (pread(memfd, &to, 8, (off_t)regs.rsp) != 8)
			die("ret: read stack at %#llx:", (unsigned long long)regs.rsp);
		regs.rip = to;
		regs.rsp += 8;
		if (rss > c->entry_rss)
			c->pages_added += (unsigned long)(rss - c->entry_rss);
		c->returns++;
	} else {
		die("SIGTRAP at %#llx, not a breakpoint of ours",
		    (unsigned long long)regs.rip);
	}
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0)
		die("PTRACE_SETREGS:");
}

__attribute__((noreturn))
static void usage(void)
{
	fprintf(stderr, "usage: %s [-e EVENTS] ENTRY RET PROGRAM [ARGS...]\n"
		"  ENTRY, RET: link-time hex addresses of a `push %%rbp` entry and a `ret`\n",
		prog_name);
	exit(2);
}

int main(int argc, char **argv)
{
	long expect = -1;
	uint64_t entry, ret, bias;
	struct counts c = { 0 };
	char path[64];
	int opt, status, memfd, statm_fd, exit_code;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+e:")) != -1) {
		char *end;

		switch (opt) {
		case 'e':
			expect = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || expect < 0)
				die("bad -e count '%s'", optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3)
		usage();
	entry = parse_hex(argv[optind], "entry");
	ret = parse_hex(argv[optind + 1], "ret");

	pid = fork();
	if (pid < 0)
		die("fork:");
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
			die("PTRACE_TRACEME:");
		execvp(argv[optind + 2], argv + optind + 2);
		die("exec %s:", argv[optind + 2]);
	}

	/* The exec stop: the new image is mapped, nothing of it has run yet. */
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid:");
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
		die("%s did not start", argv[optind + 2]);
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL) < 0)
		die("PTRACE_SETOPTIONS:");

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	memfd = open(path, O_RDWR | O_CLOEXEC);
	if (memfd < 0)
		die("open %s:", path);
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	statm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (statm_fd < 0)
		die("open %s:", path);

	bias = exe_bias(pid);
	entry += bias;
	ret += bias;
	if (mem_peek_byte(memfd, entry) != 0x55)
		die("entry %#" PRIx64 " is not `push %%rbp` (55)", entry);
	if (mem_peek_byte(memfd, ret) != 0xc3)
		die("%#" PRIx64 " is not `ret` (c3)", ret);
	mem_poke_byte(memfd, entry, 0xcc);
	mem_poke_byte(memfd, ret, 0xcc);

	if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
		die("PTRACE_CONT:");
	for (;;) {
		int sig = 0;

		if (waitpid(pid, &status, 0) < 0)
			die("waitpid:");
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) == SIGTRAP)
			handle_trap(pid, memfd, statm_fd, entry, ret, &c);
		else
			sig = WSTOPSIG(status);	/* deliver it unchanged */
		if (ptrace(PTRACE_CONT, pid, 0, sig) < 0 && errno != ESRCH)
			die("PTRACE_CONT:");
	}

	fprintf(stderr, "reftrace: %lu events (%lu entries, %lu returns), %lu pages added\n",
		c.entries + c.returns, c.entries, c.returns, c.pages_added);
	if (WIFEXITED(status)) {
		exit_code = WEXITSTATUS(status);
	} else {
		fprintf(stderr, "reftrace: tracee killed by signal %d\n", WTERMSIG(status));
		exit_code = 128 + WTERMSIG(status);
	}
	if (expect >= 0 && (long)(c.entries + c.returns) != expect) {
		fprintf(stderr, "reftrace: expected %ld events, saw %lu\n",
			expect, c.entries + c.returns);
		return 1;
	}
	return exit_code;
}

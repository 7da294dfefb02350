/* probes: set up the probe engine in a process, patch sites, drain the
 * ring (see probes.h and probe/probe.h). */
#include "tracer/probes.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe/probe.h"
#include "probe_blob.h"
#include "procfs.h"
#include "report/report.h"
#include "symbols/patch.h"
#include "symbols/symbols.h"
#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "tracer/stub.h"
#include "util.h"

_Static_assert(PROBE_SITE_SP_BIAS == STUB_SP_BIAS,
	       "the probe finds the site's stack pointer where the stub leaves it");
_Static_assert(PROBE_TCB_TOP == STUB_TCB_TOP &&
	       PROBE_TCB_JUMP_TARGET == STUB_TCB_JUMP_TARGET &&
	       STUB_TCB_TARGET >= PROBE_TCB_LOW + 0x100,
	       "the stubs and the probe agree on the TCB stack");
_Static_assert(STUB_RED_ZONE == 0,
	       "probes_leave_stub: a stub's first instruction is its push");

#define RING_ORDER	15	/* 32768 records, 1 MiB */
#define PERF_RING_BYTES	(2 * 4096)	/* a perf ring: its header page, one
					   of data */
#define CTL_BYTES	(((sizeof(struct probe_ctl) + 64) + 4095) & ~(size_t)4095)
#define DATA_BYTES	(CTL_BYTES + (size_t)PROBE_SLOTS * PROBE_SLOT_SIZE)
#define BLOB_BYTES	((sizeof(probe_blob) + 63) & ~(size_t)63)

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif


/* ---- may we ------------------------------------------------------------ */

static bool seccomp_filtered(pid_t pid)
{
	char buf[8192];
	const char *s;

	if (!read_proc_file(pid, "status", buf, sizeof(buf)))
		return false;
	s = strstr(buf, "\nSeccomp:");
	return s && strtol(s + 9, NULL, 10) != 0;
}

/* Has the process's CPU user-mode rdfsbase?  From the auxiliary vector
 * the kernel gave it (ours may be an emulator's, valgrind's). */
static bool has_fsgsbase(pid_t pid)
{
	uint64_t v[2 * 64];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;
	n = read(fd, v, sizeof(v));
	close(fd);
	for (ssize_t i = 0; i + 1 < n / 8; i += 2)
		if (v[i] == AT_HWCAP2)
			return v[i + 1] & HWCAP2_FSGSBASE;
	return false;
}

static uint64_t fs_base_of(pid_t tid)
{
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, tid,
			offsetof(struct user_regs_struct, fs_base), 0);

	return errno ? UINT64_MAX : (uint64_t)v;
}

/* Does the thread pointer tp point to itself, as the TLS ABI's does? */
static bool tp_self(const struct process *p, uint64_t tp)
{
	uint64_t self;

	return tp && tp != UINT64_MAX &&
	       mem_read(p->memfd, tp, &self, sizeof(self)) == 0 && self == tp;
}

/* Without rdfsbase the probe takes the word at %fs:0 for the thread's
 * key: the TLS ABI's thread pointer, which points to itself.  True when
 * it does so for every thread of p (a thread with no fs base yet gets one
 * at set-up, give_fs_dummies, which has PROBE_FS_DUMMIES of them). */
static bool fs_self_holds(const struct tracer *tr, const struct process *p)
{
	size_t none = 0;

	for (size_t i = 0; i < tr->threads.n; i++) {
		pid_t tid = tr->threads.threads[i].tid;
		uint64_t fs;

		if (tr->threads.threads[i].proc != p)
			continue;
		fs = fs_base_of(tid);
		if (fs == UINT64_MAX || (fs && !tp_self(p, fs)))
			return false;
		none += !fs;
	}
	return none <= PROBE_FS_DUMMIES;
}

/* Each thread of p with no fs base (the exec's, a static program's
 * before its TLS set-up, a program without libc) gets one of the control
 * block's dummy thread pointers, which a TLS set-up replaces. */
static void give_fs_dummies(const struct tracer *tr, struct process *p)
{
	size_t k = 0;

	for (size_t i = 0; i < tr->threads.n && k < PROBE_FS_DUMMIES; i++) {
		pid_t tid = tr->threads.threads[i].tid;

		if (tr->threads.threads[i].proc == p && fs_base_of(tid) == 0)
			ptrace(PTRACE_POKEUSER, tid,
			       offsetof(struct user_regs_struct, fs_base),
			       p->probes.ctl + offsetof(struct probe_ctl,
							fs_dummy[k++]));
	}
}

/* ...and gives them back at the detach: threads still on a dummy have
 * no fs base again. */
static void take_fs_dummies(const struct tracer *tr, struct process *p)
{
	uint64_t lo = p->probes.ctl + offsetof(struct probe_ctl, fs_dummy),
		 hi = lo + sizeof(((struct probe_ctl *)0)->fs_dummy);

	for (size_t i = 0; i < tr->threads.n; i++) {
		pid_t tid = tr->threads.threads[i].tid;
		uint64_t fs;

		if (tr->threads.threads[i].proc != p)
			continue;
		fs = fs_base_of(tid);
		if (fs >= lo && fs < hi)
			ptrace(PTRACE_POKEUSER, tid,
			       offsetof(struct user_regs_struct, fs_base), 0);
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Do two threads of p share one fs base (a raw clone without
 * CLONE_SETTLS)?  The probes tell threads by it, and in a glibc program
 * run on the control block it points to. */
static bool threads_share_fs(const struct tracer *tr, const struct process *p)
{
	uint64_t *fs = xcalloc(tr->threads.n + 1, sizeof(*fs));
	size_t n = 0;
	bool shared = false;

	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p &&
		    (fs[n] = fs_base_of(tr->threads.threads[i].tid)) &&
		    fs[n] != UINT64_MAX)
			n++;
	qsort(fs, n, sizeof(*fs), u64_cmp);
	for (size_t i = 1; i < n && !shared; i++)
		shared = fs[i] == fs[i - 1];
	free(fs);
	return shared;
}

uint64_t probes_key(const struct process *p, uint64_t fs_base)
{
	uint64_t word;

	/* glibc's control blocks point to themselves (probes_clone sees
	 * that each new thread's does): no read for them */
	if (!p->probes.on || !p->probes.fs_self || p->probes.tcb ||
	    !fs_base || mem_read(p->memfd, fs_base, &word, sizeof(word)) != 0)
		return fs_base;
	return word;
}

bool probes_clone(struct process *p, pid_t tid, pid_t child)
{
	struct user_regs_struct r;
	uint64_t flags, tls;
	bool foreign;

	if (!p->probes.on || ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
		return false;
	if (r.orig_rax == SYS_clone) {
		flags = r.rdi;
		tls = r.r8;
	} else if (r.orig_rax != SYS_clone3 ||
		   mem_read(p->memfd, r.rdi, &flags, sizeof(flags)) != 0 ||
		   mem_read(p->memfd, r.rdi + 56, &tls, sizeof(tls)) != 0) {
		return false;	/* clone_args: tls at 56 */
	}
	/* With a thread pointer of its own, the new thread must be told
	 * from the others by it: without rdfsbase the key is the word at
	 * %fs:0, and on TCB stacks the probe runs at %fs: a TLS block that
	 * does not point to itself (Go's runtime makes its threads so) would
	 * give threads one key (or a wrong one), and its words past the
	 * ABI's header are no probe's to write.  The creator's is looked at
	 * too (a runtime that set its own after the exec). */
	foreign = flags & CLONE_SETTLS;
	if (foreign && tls &&
	    (!(p->probes.fs_self || p->probes.tcb) ||
	     (tp_self(p, tls) && tp_self(p, fs_base_of(tid)))))
		return false;
	p->probes.to_int3 = true;
	if (!p->probes.shared_fs_said)
		warn_msg("process %d: thread %d was made %s, by which the "
			 "probes tell threads: the int3 engine traces the "
			 "process from now on", (int)p->pid, (int)child,
			 foreign ? "with a thread pointer that does not point "
				   "to itself (a TLS layout of the runtime's "
				   "own, as Go's)" :
				   "without a thread pointer of its own (clone "
				   "without CLONE_SETTLS)");
	p->probes.shared_fs_said = true;
	return true;
}

void probes_switch(struct tracer *tr, struct process *p, pid_t tid)
{
	struct probes *pr = &p->probes;

	/* the keys, before probes_unload takes the dummies back */
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];

		if (th->proc == p)
			th->key = probes_key(p, fs_base_of(th->tid));
	}
	probes_unload(tr, p, tid);
	/* a thread made by the clone that brought us here has not run:
	 * its key's frames are its creator's, which comes first */
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];
		struct thread *sh = NULL;

		if (th->proc != p || !th->started)
			continue;
		if (th->tid == pr->vfork_child && pr->vfork_shadow)
			sh = pr->vfork_shadow;
		else if (th->key && th->key != UINT64_MAX && pr->cap_shadows)
			sh = probes_shadow(p, th->key);
		if (sh)
			thread_take_frames(th, sh);
	}
	probes_forget(tr, p);
	pr->failed = true;
	pr->shared_fs_said = true;
	tr->pstats.switched++;
}

const char *probes_refusal(struct tracer *tr, struct process *p)
{
	const struct tracer_opts *o = tr->opts;

	if (o->engine == ENGINE_INT3)
		return "--engine=int3";
	if ((o->rss_source & RSS_FILE_MASK) != RSS_STATM)
		return "--rss-source is not statm (the probe reads statm)";
	if (!has_fsgsbase(p->pid) && !fs_self_holds(tr, p))
		return "no user-mode rdfsbase, and a thread keeps no thread "
		       "pointer at %fs:0";
	if (seccomp_filtered(p->pid))
		return "the program runs under a seccomp filter";
	if (threads_share_fs(tr, p))
		return "two of its threads share one thread pointer (the "
		       "probes tell threads by it)";
	return NULL;
}

/* ---- setting a process up --------------------------------------------- */

static long inject(pid_t tid, int memfd, uint64_t code, long nr, long a0,
		   long a1, long a2, long a3, long a4, long a5)
{
	const long args[6] = { a0, a1, a2, a3, a4, a5 };

	return arch_inject_syscall(tid, memfd, code, nr, args, NULL);
}

static bool failed_call(long r)
{
	return r < 0 && r > -4096;
}

/* Open statm in the process (its path at path_at), and move the
 * descriptor out of the program's way: the lowest free one is the number
 * the program's next open would have had, and a program that prints or
 * compares its descriptors (a server's client list) would not behave as
 * untraced.  *min is where it goes (probe_statm_fd_min), for the probe's
 * own reopens.  The descriptor, or a failed call's value. */
static long open_statm(struct process *p, pid_t tid, uint64_t code,
		       uint64_t path_at, int32_t *min)
{
	struct rlimit lim;
	char buf[4096];
	long fd, high, soft = -1;

	/* prlimit needs CAP_SYS_RESOURCE for another user's process (a
	 * root without it, as in a container, tracing a program that
	 * changed its uid); /proc/PID/limits is there for whoever traces */
	if (prlimit(p->pid, RLIMIT_NOFILE, NULL, &lim) == 0)
		soft = lim.rlim_cur > LONG_MAX ? LONG_MAX : (long)lim.rlim_cur;
	else if (read_proc_file(p->pid, "limits", buf, sizeof(buf)))
		soft = procfs_limit_soft(buf, "Max open files");
	*min = soft >= 0 ? probe_statm_fd_min((unsigned long)soft) : 0;
	fd = inject(tid, p->memfd, code, SYS_open, (long)path_at,
		    O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
	if (failed_call(fd) || *min <= 0 || fd >= *min)
		return fd;
	high = inject(tid, p->memfd, code, SYS_fcntl, fd, F_DUPFD_CLOEXEC,
		      *min, 0, 0, 0);
	if (failed_call(high))
		return fd;
	inject(tid, p->memfd, code, SYS_close, fd, 0, 0, 0, 0, 0);
	return high;
}

/* mmap in the process, at the free space closest under `below` (the
 * module), never where the program's own mmap calls would place things:
 * an area there would move every library the dynamic linker maps next,
 * and with them which neighbouring pages the kernel's fault-around makes
 * resident: the program's RSS would not be what it is untraced. */
static long map_under(struct process *p, pid_t tid, uint64_t code,
		      uint64_t below, size_t len, int prot, int flags, long fd)
{
	char *maps = xmalloc(MAPS_MAX);
	uint64_t at = read_proc_file(p->pid, "maps", maps, MAPS_MAX) ?
		procfs_maps_gap_below(maps, below, 1 << 16, len, 1 << 16) : 0;

	free(maps);
	if (!at)
		return -ENOMEM;
	return inject(tid, p->memfd, code, SYS_mmap, (long)at, (long)len, prot,
		      flags | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);
}

/* The data and the ring need no reach: far from everything the program
 * maps (under a non-PIE executable, room is for the stubs), from 32 TiB
 * up (where an earlier attach may have left its areas: then the highest
 * free gap under 33 TiB), or else under `below`. */
#define FAR_AREA 0x200000000000ULL

static long map_far(struct process *p, pid_t tid, uint64_t code,
		    uint64_t below, size_t len, int prot, int flags, long fd)
{
	static uint64_t next;
	long at = inject(tid, p->memfd, code, SYS_mmap,
			 (long)(FAR_AREA + next), (long)len, prot,
			 flags | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);

	if (!failed_call(at)) {
		next += (len + (1 << 20) + 0xfffff) & ~(uint64_t)0xfffff;
		return at;
	}
	at = map_under(p, tid, code, FAR_AREA + (1ULL << 40), len, prot,
		       flags, fd);
	if (!failed_call(at))
		return at;
	return map_under(p, tid, code, below, len, prot, flags, fd);
}

/* The ring: a memfd the program creates and maps, which iprofmem maps
 * too through /proc/PID/fd; the program's descriptor is closed after. */
static int setup_ring(struct process *p, pid_t tid, uint64_t code,
		      uint64_t below, uint64_t name, uint64_t fixed,
		      uint64_t *ring)
{
	size_t len = ring_bytes(RING_ORDER);
	char path[64];
	long mfd, at;
	void *map;
	int fd;

	mfd = inject(tid, p->memfd, code, SYS_memfd_create, (long)name,
		     MFD_CLOEXEC, 0, 0, 0, 0);
	if (failed_call(mfd))
		return -1;
	at = inject(tid, p->memfd, code, SYS_ftruncate, mfd, (long)len, 0, 0,
		    0, 0);
	if (!failed_call(at) && fixed) {
		/* over the parent's ring, in a forked child */
		at = inject(tid, p->memfd, code, SYS_mmap, (long)fixed, (long)len,
			    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED |
			    MAP_POPULATE, mfd, 0);
		if (!failed_call(at) && (uint64_t)at != fixed)
			at = -EFAULT;
	} else if (!failed_call(at)) {
		at = map_far(p, tid, code, below, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, mfd);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)p->pid, mfd);
	fd = failed_call(at) ? -1 : open(path, O_RDWR | O_CLOEXEC);
	inject(tid, p->memfd, code, SYS_close, mfd, 0, 0, 0, 0, 0);
	if (fd < 0)
		return -1;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	ring_init(map, RING_ORDER);
	if (ring_reader_open(&p->probes.rd, map, len, RING_ORDER) != 0) {
		munmap(map, len);
		return -1;
	}
	p->probes.ring = map;
	p->probes.ring_len = len;
	p->probes.ring_at = (uint64_t)at;
	*ring = (uint64_t)at;
	return 0;
}

/* ---- the fault gate (probe/probe.c says how it works) ----------------- */

static int read_id(const char *path)
{
	char buf[32];

	return read_small_file(path, buf, sizeof(buf)) > 0 ?
	       (int)strtol(buf, NULL, 10) : -1;
}

/* The tracepoints the probes' perf events count (tp_id's which). */
enum { TP_RSS_STAT, TP_SECCOMP, TP_PRCTL, TP_N };
static const char *const tp_path[TP_N] = {
	"events/kmem/rss_stat/id",
	"events/syscalls/sys_exit_seccomp/id",
	"events/syscalls/sys_exit_prctl/id",
};

static void read_tp_ids(const char *dir, int ids[TP_N])
{
	char path[128];

	for (int i = 0; i < TP_N; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, tp_path[i]);
		ids[i] = read_id(path);
	}
}

/* The id of a tracepoint (TP_*), from tracefs where it is mounted; else,
 * as root, from a tracefs that a child mounts in a mount namespace of
 * its own (the system's mounts are left as they are).  -1 with *why set
 * when there is none. */
static int tp_id(int which, const char **why)
{
	static int ids[TP_N], loaded;
	static const char *const names[TP_N] = {
		"kmem:rss_stat", "syscalls:sys_exit_seccomp",
		"syscalls:sys_exit_prctl",
	};
	static char whys[TP_N][96];
	int fds[2];
	pid_t pid;

	if (!loaded) {
		loaded = 1;
		read_tp_ids("/sys/kernel/tracing", ids);
		if (ids[TP_RSS_STAT] < 0)
			read_tp_ids("/sys/kernel/debug/tracing", ids);
		if (ids[TP_RSS_STAT] < 0 && geteuid() == 0 &&
		    pipe2(fds, O_CLOEXEC) == 0) {
			pid = fork();
			if (pid == 0) {
				int v[TP_N] = { -1, -1, -1 };

				if (unshare(CLONE_NEWNS) == 0 &&
				    mount("none", "/", "", MS_REC | MS_PRIVATE,
					  NULL) == 0 &&
				    mount("nodev", "/sys/kernel/tracing",
					  "tracefs", 0, NULL) == 0)
					read_tp_ids("/sys/kernel/tracing", v);
				if (write(fds[1], v, sizeof(v)) != sizeof(v))
					_exit(1);
				_exit(0);
			}
			close(fds[1]);
			if (pid > 0) {
				int v[TP_N];

				if (read(fds[0], v, sizeof(v)) == sizeof(v))
					memcpy(ids, v, sizeof(v));
				waitpid(pid, NULL, 0);
			}
			close(fds[0]);
		}
		for (int i = 0; i < TP_N; i++)
			if (ids[i] < 0) {
				ids[i] = -1;
				snprintf(whys[i], sizeof(whys[i]), geteuid() == 0 ?
					 "no tracefs with the %s tracepoint" :
					 "tracefs (the %s tracepoint's id) is "
					 "root's", names[i]);
			}
	}
	*why = whys[which];
	return ids[which];
}

/* The tracepoints' keeper.  When the last perf event of a tracepoint
 * goes, the kernel waits for two RCU grace periods (under event_mutex,
 * in tracepoint_synchronize_unregister): 35-45 ms for each of our three
 * here, 0.1 s in all, which the program's exit paid (its rings are the
 * events' last references), so iprofmem saw it exit 0.1 s late, at every
 * run.  A process of ours holds one disabled event of each instead, so
 * the program's go without that wait.  It is not iprofmem's child (its
 * parent, forked for that, is gone at once: iprofmem's waits for any
 * child never see it), and it ends by itself once iprofmem has ended
 * (the pipe that only iprofmem writes to reads its end), paying the wait
 * where nobody waits for it.  Without the events (refused, no tracefs)
 * there is no keeper, and only the time changes. */
static void keeper_rename(void)
{
	char buf[1024];
	uint64_t f[2] = { 0, 0 };
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), field = 2;
	char *c;

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* fields 48 and 49, after the name: the arguments' extent */
	c = strrchr(buf, ')');
	for (; c && *c && field <= 49; c++) {
		uint64_t *v = field >= 48 ? &f[field - 48] : NULL;

		if (*c == ' ')
			field++;
		else if (v && *c >= '0' && *c <= '9')
			*v = *v * 10 + (uint64_t)(*c - '0');
	}
	prctl(PR_SET_NAME, "iprofmem-keeper", 0, 0, 0);
	/* the command line pgrep -f shows: not the user's arguments, which
	 * name the program (tests find programs by them) */
	if (f[0] && f[1] > f[0]) {
		memset((void *)(uintptr_t)f[0], 0, f[1] - f[0]);
		if (f[1] - f[0] >= sizeof("iprofmem-keeper"))
			memcpy((void *)(uintptr_t)f[0], "iprofmem-keeper",
			       sizeof("iprofmem-keeper"));
	}
}

static void keep_tracepoints(void)
{
	static bool tried;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
		.disabled = 1, .exclude_hv = 1,
	};
	int keep[TP_N + 1], n = 0, pfd[2];
	const char *why;
	pid_t mid;

	if (tried)
		return;
	tried = true;
	for (int i = 0; i < TP_N; i++) {
		long fd;

		attr.config = (uint64_t)tp_id(i, &why);
		if ((int64_t)attr.config < 0)
			continue;
		fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1,
			     PERF_FLAG_FD_CLOEXEC);
		if (fd >= 0)
			keep[n++] = (int)fd;
	}
	if (n && pipe2(pfd, O_CLOEXEC) == 0) {
		keep[n] = pfd[0];
		mid = fork();
		if (mid == 0) {
			sigset_t all;

			/* only system calls from here: iprofmem may have
			 * threads */
			if (fork() != 0)
				_exit(0);
			sigfillset(&all);
			sigprocmask(SIG_SETMASK, &all, NULL);
			setsid();
			keeper_rename();
			for (int i = 1; i <= n; i++)	/* sorted */
				for (int j = i; j && keep[j - 1] > keep[j];
				     j--) {
					int x = keep[j];

					keep[j] = keep[j - 1];
					keep[j - 1] = x;
				}
			for (int i = 0, lo = 0; i <= n; lo = keep[i++] + 1)
				if (keep[i] > lo)
					close_range((unsigned)lo,
						    (unsigned)keep[i] - 1, 0);
			close_range((unsigned)keep[n] + 1, ~0U, 0);
			for (;;) {
				char byte;
				ssize_t r = read(pfd[0], &byte, 1);

				if (r == 0 || (r < 0 && errno != EINTR))
					_exit(0);
			}
		}
		if (mid > 0)
			waitpid(mid, NULL, 0);
		close(pfd[0]);	/* the write end stays open: ours */
	}
	while (n-- > 0)
		close(keep[n]);
}

/* Does the kernel refuse a perf event that counts in the kernel to us?
 * Root (CAP_PERFMON) may always; others only with perf_event_paranoid at
 * 1 or less (Debian ships 3, which refuses them every perf event). */
static const char *perf_refusal(void)
{
	static char why[96];
	char buf[32];
	long v;

	if (geteuid() == 0)
		return NULL;
	if (read_small_file("/proc/sys/kernel/perf_event_paranoid", buf,
			    sizeof(buf)) < 0)
		return "no /proc/sys/kernel/perf_event_paranoid";
	v = strtol(buf, NULL, 10);
	if (v <= 1)
		return NULL;
	snprintf(why, sizeof(why), "perf_event_paranoid is %ld (kernel events "
		 "need 1 or less, or root)", v);
	return why;
}

/* Why the kernel refused the program a perf event that iprofmem, root,
 * would have had: the call runs as the program's user (a daemon's
 * workers often run as nobody). */
static const char *refused_to_user(pid_t pid)
{
	static char why[128];
	char buf[4096];
	long uid = -1, v = -1;

	if (read_proc_file(pid, "status", buf, sizeof(buf)))
		uid = procfs_status_field(buf, "Uid");
	if (read_small_file("/proc/sys/kernel/perf_event_paranoid", buf,
			    sizeof(buf)) >= 0)
		v = strtol(buf, NULL, 10);
	if (uid < 0 || v < 0)
		return "perf events refused to the program's user";
	snprintf(why, sizeof(why), "perf events refused to the program's "
		 "user (uid %ld, not root; perf_event_paranoid is %ld)", uid, v);
	return why;
}

/* One event of tracepoint `id` per CPU for the process (tid: a stopped
 * thread of it, the only one), inherited by the threads it creates, each
 * mapped read-only, backward (the kernel overwrites the oldest records:
 * never full), at scratch's side; their descriptors are closed: the
 * mappings keep the events.  The mappings go to maps[], the addresses of
 * their data_heads to heads[].  NULL, or why not (nothing is left in the
 * process then). */
static const char *open_rings(struct process *p, pid_t tid, uint64_t code,
			      uint64_t below, uint64_t scratch, int id,
			      int ncpu, uint64_t *maps, uint64_t *heads)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
		.sample_period = 1, .inherit = 1, .write_backward = 1,
		.exclude_hv = 1, .config = (uint64_t)id,
	};
	const char *why = NULL;
	int n = 0;

	if (mem_write(p->memfd, scratch, &attr, sizeof(attr)) != 0)
		return "cannot write into the program";
	for (; n < ncpu; n++) {
		long fd = inject(tid, p->memfd, code, SYS_perf_event_open,
				 (long)scratch, 0, n, -1, PERF_FLAG_FD_CLOEXEC,
				 0), at;

		if (failed_call(fd)) {
			why = fd == -EACCES || fd == -EPERM ?
			      refused_to_user(p->pid) :
			      "perf_event_open of a tracepoint failed";
			break;
		}
		at = map_far(p, tid, code, below, PERF_RING_BYTES, PROT_READ,
			     MAP_SHARED, fd);
		inject(tid, p->memfd, code, SYS_close, fd, 0, 0, 0, 0, 0);
		if (failed_call(at)) {
			why = "cannot map a perf ring";
			break;
		}
		maps[n] = (uint64_t)at;
		heads[n] = (uint64_t)at +
			   offsetof(struct perf_event_mmap_page, data_head);
	}
	if (why) {
		while (n-- > 0)
			inject(tid, p->memfd, code, SYS_munmap, (long)maps[n],
			       PERF_RING_BYTES, 0, 0, 0, 0);
		memset(heads, 0, (size_t)ncpu * sizeof(*heads));
	}
	return why;
}

/* Why no perf events of the process's may follow all its threads, or
 * NULL. */
static size_t threads_of(const struct tracer *tr, const struct process *p)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->threads.n; i++)
		n += tr->threads.threads[i].proc == p;
	return n;
}

static const char *perf_unfit(const struct tracer *tr, const struct process *p)
{
	int ncpu = get_nprocs_conf();

	/* an inherited event follows the thread that opens it and the
	 * threads it creates after, not its siblings */
	if (threads_of(tr, p) > 1)
		return "the process ran threads before its probes were set "
		       "up";
	if (ncpu < 1 || ncpu > PROBE_GATE_RINGS)
		return "more CPUs than the gate watches";
	return perf_refusal();
}

/* The fault gate: one kmem:rss_stat event per CPU (open_rings).  NULL,
 * or why there is no gate. */
static const char *setup_gate(struct tracer *tr, struct process *p,
			      pid_t tid, uint64_t code, uint64_t below,
			      uint64_t scratch, struct probe_ctl *ctl)
{
	int ncpu = get_nprocs_conf(), id;
	const char *why;

	if (tr->opts->no_gate)
		return "--fault-gate=off";
	why = perf_unfit(tr, p);
	if (why)
		return why;
	id = tp_id(TP_RSS_STAT, &why);
	if (id < 0)
		return why;
	keep_tracepoints();
	why = open_rings(p, tid, code, below, scratch, id, ncpu,
			 p->probes.perf_maps, ctl->gate_head);
	if (why)
		return why;
	ctl->gate_nrings = (uint32_t)ncpu;
	p->probes.nperf_maps = (size_t)ncpu;
	ctl->gate_gen = 1;
	p->probes.gate_gen = 1;
	p->probes.gate_on = true;
	tr->pstats.gate_rings = (uint64_t)ncpu;
	return NULL;
}

/* The system-call watch (probe.h's watch_nrings): the
 * syscalls:sys_exit_seccomp and sys_exit_prctl events, one per CPU each,
 * after the gate's: on the way out, so that the filter a call installs
 * is in /proc when a probe sees its record.  NULL, or why there is none (the offset-table
 * watch alone then sees filters coming). */
static const char *setup_watch(struct tracer *tr, struct process *p,
			       pid_t tid, uint64_t code, uint64_t below,
			       uint64_t scratch, struct probe_ctl *ctl)
{
	int ncpu = get_nprocs_conf(), id[2];
	size_t at = p->probes.nperf_maps;
	const char *why;

	why = perf_unfit(tr, p);
	if (why)
		return why;
	if ((id[0] = tp_id(TP_SECCOMP, &why)) < 0 ||
	    (id[1] = tp_id(TP_PRCTL, &why)) < 0)
		return why;
	keep_tracepoints();
	for (int k = 0; k < 2; k++) {
		why = open_rings(p, tid, code, below, scratch, id[k], ncpu,
				 p->probes.perf_maps + at + (size_t)k * ncpu,
				 ctl->watch_head + k * ncpu);
		if (why) {
			for (int i = 0; k && i < ncpu; i++)
				inject(tid, p->memfd, code, SYS_munmap,
				       (long)p->probes.perf_maps[at + i],
				       PERF_RING_BYTES, 0, 0, 0, 0);
			memset(ctl->watch_head, 0, sizeof(ctl->watch_head));
			return why;
		}
	}
	ctl->watch_nrings = (uint32_t)(2 * ncpu);
	ctl->watch_seen = 0;
	p->probes.nperf_maps = at + 2 * (size_t)ncpu;
	return NULL;
}

/* For --stats: a process's fault gate or system-call watch is on (why
 * NULL) or off, and the first reason one was off. */
static void count_on_off(uint64_t *on, uint64_t *off, const char **first,
			 const char *why)
{
	if (!why) {
		(*on)++;
		return;
	}
	(*off)++;
	if (!*first)
		*first = why;
}

static void count_gate(struct tracer *tr, const char *why)
{
	count_on_off(&tr->pstats.gate_on, &tr->pstats.gate_off,
		     &tr->pstats.gate_why, why);
}

static void count_watch(struct tracer *tr, const char *why)
{
	count_on_off(&tr->pstats.swatch_on, &tr->pstats.swatch_off,
		     &tr->pstats.swatch_why, why);
}

/* iprofmem changed the program's memory itself (a push it replayed may
 * make a stack page resident): no probe may take the RSS from before. */
void probes_gate_touch(struct process *p)
{
	if (!p->probes.gate_on)
		return;
	p->probes.gate_gen++;
	mem_write(p->memfd, p->probes.ctl + offsetof(struct probe_ctl, gate_gen),
		  &p->probes.gate_gen, sizeof(p->probes.gate_gen));
}

void probes_shared(struct process *p)
{
	uint32_t zero = 0;

	if (!p->probes.on || !p->probes.alone)
		return;
	if (mem_write(p->memfd, p->probes.ctl + offsetof(struct probe_ctl, alone),
		      &zero, sizeof(zero)) == 0)
		p->probes.alone = false;
}

/* ---- the areas an earlier attach left (tracer/areas.c) ------------------- */

#define TAG_OFF		BLOB_BYTES
#define STUBS_OFF	(TAG_OFF + AREA_TAG_BYTES)

uint64_t probes_tag_offset(void)
{
	return TAG_OFF;
}

uint64_t probes_code_sum(void)
{
	static uint64_t sum;

	if (!sum) {
		uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

		for (size_t i = 0; i < sizeof(probe_blob); i++)
			h = (h ^ probe_blob[i]) * 0x100000001b3ULL;
		sum = h;
	}
	return sum;
}

/* The control block that earlier attaches left, when every area that
 * uses it is clean and it is still mapped as we left it: made as a new
 * one would be (zero, resident); or 0. */
static uint64_t reuse_data(struct process *p)
{
	char *maps = xmalloc(MAPS_MAX);
	uint64_t found = 0;

	if (!read_proc_file(p->pid, "maps", maps, MAPS_MAX)) {
		free(maps);
		return 0;
	}
	for (size_t i = 0; i < p->nretired && !found; i++) {
		uint64_t ctl = p->retired[i].ctl, magic = 0;
		bool clean = p->retired[i].kind == AREA_STUBS;
		void *zero;

		for (size_t k = 0; k < p->nretired; k++)
			if (p->retired[k].kind == AREA_STUBS &&
			    p->retired[k].ctl == ctl &&
			    p->retired[k].state != AREA_CLEAN)
				clean = false;
		if (!clean || !maps_anon(maps, ctl, DATA_BYTES, "rw-p") ||
		    process_read_resident(p, ctl, &magic, sizeof(magic)) ||
		    magic != PROBE_MAGIC)
			continue;
		zero = xcalloc(1, DATA_BYTES);
		if (mem_write(p->memfd, ctl, zero, DATA_BYTES) == 0)
			found = ctl;
		free(zero);
	}
	free(maps);
	return found;
}

/* The blob of an area used again: where the old one's watch stubs went
 * on to (a pointer to one may be kept by the program), and, unless the
 * area is the process's first (whose watch stubs iprofmem stops at),
 * their int3s made nops as at the detach. */
static void reuse_blob(struct process *p, const struct retired_area *r,
		       uint8_t *buf)
{
	static const size_t real[2] = { PROBE_WATCH_PRCTL_REAL_OFF,
					PROBE_WATCH_SYSCALL_REAL_OFF };
	static const size_t back[2] = { PROBE_WATCH_PRCTL_BACK_OFF,
					PROBE_WATCH_SYSCALL_BACK_OFF };

	for (int k = 0; k < 2; k++) {
		uint64_t v;

		if (process_read_resident(p, r->at + real[k], &v,
					  sizeof(v)) == 0 && v)
			memcpy(buf + real[k], &v, sizeof(v));
		/* live in the process's first area only */
		if (p->probes.nareas && p->probes.areas[0].lo != r->at)
			buf[back[k] - 1] = 0x90;
	}
}

int probes_setup(struct tracer *tr, struct process *p, pid_t tid,
		 uint64_t code, uint64_t below)
{
	static const char name[] = "iprofmem-ring";
	struct probe_ctl ctl = { .magic = PROBE_MAGIC };
	uint64_t data, ring = 0, name_at;
	const char *why;
	char exe[64];
	long fd;

	/* At the exec's stop the thread is still inside execve, whose
	 * return value lands in rax when it goes on: the first system call
	 * injected there would run as read(2).  A harmless one goes first. */
	inject(tid, p->memfd, code, SYS_getpid, 0, 0, 0, 0, 0, 0);
	areas_look(p);
	data = reuse_data(p);
	if (!data)
		data = (uint64_t)map_far(p, tid, code, below, DATA_BYTES,
					 PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (failed_call((long)data))
		goto fail;
	strcpy(ctl.statm_path, "/proc/self/statm");
	name_at = data + sizeof(ctl);
	if (mem_write(p->memfd, data, &ctl, sizeof(ctl)) != 0 ||
	    mem_write(p->memfd, name_at, name, sizeof(name)) != 0)
		goto fail;
	fd = open_statm(p, tid, code,
			data + offsetof(struct probe_ctl, statm_path),
			&ctl.statm_fd_min);
	/* no statm (a chrooted daemon attached to): the probes stop for
	 * their RSS (probe_need_rss), with the fault gate only when it may
	 * have changed */
	if (setup_ring(p, tid, code, data, name_at, 0, &ring) != 0)
		goto fail;
	ctl.statm_fd = failed_call(fd) ? -1 : (int32_t)fd;
	ctl.stacks = data + CTL_BYTES;
	ctl.fs_self = !has_fsgsbase(p->pid);
	p->probes.fs_self = ctl.fs_self;
	/* glibc's thread control blocks: the probes run there, and never
	 * write the program's stack (a page the program would not have
	 * touched yet would count) */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)p->pid);
	p->probes.tcb = symbols_glibc_abi(exe) && fs_self_holds(tr, p);
	ctl.tcb_stack = p->probes.tcb;
	for (size_t i = 0; i < PROBE_FS_DUMMIES; i++)
		ctl.fs_dummy[i][0] = data + offsetof(struct probe_ctl, fs_dummy[i]);
	/* one producer: a launched program at its exec, an attached one
	 * with a single thread (probes_shared says when that ends) */
	p->probes.alone = threads_of(tr, p) == 1;
	ctl.alone = p->probes.alone;
	/* the stacks are scratch until the first probe runs */
	why = setup_gate(tr, p, tid, code, data, ctl.stacks, &ctl);
	count_gate(tr, why);
	count_watch(tr, setup_watch(tr, p, tid, code, data, ctl.stacks, &ctl));
	ctl.ring.hdr = (struct ring_header *)ring;
	ctl.ring.rec = (struct ring_record *)(ring + RING_HEADER_SIZE);
	ctl.ring.mask = ((uint64_t)1 << RING_ORDER) - 1;
	ctl.ring.order = RING_ORDER;
	if (mem_write(p->memfd, data, &ctl, sizeof(ctl)) != 0)
		goto fail;
	p->probes.ctl = data;
	p->probes.on = true;
	if (p->probes.tcb)
		tr->pstats.tcb_procs++;
	else
		tr->pstats.stack_procs++;
	/* the seccomp watch is set up at the first RSS a probe reads: by
	 * then the dynamic linker has relocated the modules */
	probes_watch_ask(p);
	if (ctl.fs_self || ctl.tcb_stack)
		give_fs_dummies(tr, p);
	return 0;
fail:
	warn_msg("cannot set the probes up in process %d: the int3 engine "
		 "traces it", (int)p->pid);
	p->probes.failed = true;
	return -1;
}

/* A copy of n items of size bytes (NULL for none). */
static void *dup_array(const void *v, size_t n, size_t size)
{
	void *c;

	if (!n)
		return NULL;
	c = xcalloc(n, size);
	memcpy(c, v, n * size);
	return c;
}

int probes_fork(struct tracer *tr, struct process *p, const struct process *pp,
		pid_t tid, uint64_t key)
{
	const struct probes *from = &pp->probes;
	struct probes *pr = &p->probes;
	struct probe_ctl ctl;
	const char *why;
	uint64_t ring = 0;
	struct thread *sh;
	long fd;

	if (!from->on)
		return 0;
	if (from->nosys) {
		/* the child has its parent's filter: nothing to inject */
		errno = EPERM;
		return -1;
	}
	pr->ctl = from->ctl;
	pr->tcb = from->tcb;
	pr->fs_self = from->fs_self;
	pr->sites = dup_array(from->sites, from->nsites, sizeof(*pr->sites));
	pr->hot = dup_array(from->hot, from->nsites, sizeof(*pr->hot));
	pr->nsites = pr->cap_sites = from->nsites;
	pr->wins = dup_array(from->wins, from->nwins, sizeof(*pr->wins));
	pr->nwins = pr->cap_wins = from->nwins;
	pr->entries = dup_array(from->entries, from->cap_entries,
				sizeof(*pr->entries));
	pr->nentries = from->nentries;
	pr->cap_entries = from->cap_entries;
	pr->areas = dup_array(from->areas, from->nareas, sizeof(*pr->areas));
	pr->nareas = from->nareas;
	pr->hops = dup_array(from->hops, from->nhops, sizeof(*pr->hops));
	pr->nhops = from->nhops;
	pr->gots = dup_array(from->gots, from->ngots, sizeof(*pr->gots));
	pr->ngots = from->ngots;
	/* the child's own ring over the parent's (its copy of the control
	 * block names the same address), statm of its own, and the fault
	 * gate's events of its own: perf rings are not inherited (the ring's
	 * name is in the copy too, after the control block) */
	if (mem_read(p->memfd, pr->ctl, &ctl, sizeof(ctl)) != 0 ||
	    ctl.magic != PROBE_MAGIC ||
	    setup_ring(p, tid, 0, 0, pr->ctl + sizeof(ctl), from->ring_at,
		       &ring) != 0)
		return -1;
	if (ctl.statm_fd >= 0)
		inject(tid, p->memfd, 0, SYS_close, ctl.statm_fd, 0, 0, 0, 0, 0);
	fd = open_statm(p, tid, 0,
			pr->ctl + offsetof(struct probe_ctl, statm_path),
			&ctl.statm_fd_min);
	ctl.statm_fd = failed_call(fd) ? -1 : (int32_t)fd;
	/* a forked child has one thread */
	ctl.alone = 1;
	pr->alone = true;
	ctl.gate_nrings = 0;
	memset(ctl.gate_head, 0, sizeof(ctl.gate_head));
	memset(ctl.gate, 0, sizeof(ctl.gate));
	ctl.watch_nrings = 0;
	ctl.watch_seen = 0;
	memset(ctl.watch_head, 0, sizeof(ctl.watch_head));
	why = setup_gate(tr, p, tid, 0, pr->ctl, ctl.stacks, &ctl);
	count_gate(tr, why);
	count_watch(tr, setup_watch(tr, p, tid, 0, pr->ctl, ctl.stacks, &ctl));
	if (mem_write(p->memfd, pr->ctl, &ctl, sizeof(ctl)) != 0)
		return -1;
	pr->on = true;
	if (pr->tcb)
		tr->pstats.tcb_procs++;
	else
		tr->pstats.stack_procs++;
	/* a fork before the parent's first RSS read: the watch is not set
	 * up in the parent yet, so not in the copy either; the child's own
	 * ring asks for it as the parent's does */
	if (__atomic_load_n(&((struct ring_header *)from->ring)->nosys,
			    __ATOMIC_ACQUIRE) == RING_SYS_ASK)
		probes_watch_ask(p);
	/* the forking thread's frames, in the child */
	sh = probes_shadow(p, key);
	for (size_t i = 0; i < from->cap_shadows; i++)
		if (from->shadows[i].key == key && from->shadows[i].sh)
			thread_copy_stack(sh, from->shadows[i].sh);
	return 0;
}

/* ---- patching ------------------------------------------------------------ */

static size_t addr_slot(uint64_t addr, size_t cap)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

/* Entries patched with probes, by address: where a tail call lands. */
static void add_entry(struct probes *pr, uint64_t addr, int32_t fn)
{
	size_t i;

	if (2 * (pr->nentries + 1) > pr->cap_entries) {
		size_t cap = pr->cap_entries ? 2 * pr->cap_entries : 1024;
		struct probe_entry *e = xcalloc(cap, sizeof(*e));

		for (size_t k = 0; k < pr->cap_entries; k++) {
			if (!pr->entries[k].addr)
				continue;
			for (i = addr_slot(pr->entries[k].addr, cap); e[i].addr;
			     i = (i + 1) & (cap - 1))
				;
			e[i] = pr->entries[k];
		}
		free(pr->entries);
		pr->entries = e;
		pr->cap_entries = cap;
	}
	for (i = addr_slot(addr, pr->cap_entries); pr->entries[i].addr;
	     i = (i + 1) & (pr->cap_entries - 1))
		if (pr->entries[i].addr == addr)
			return;
	pr->entries[i] = (struct probe_entry){ addr, fn };
	pr->nentries++;
}

int32_t probes_entry_fn(const struct process *p, uint64_t addr)
{
	const struct probes *pr = &p->probes;

	if (!pr->cap_entries || !addr)
		return -1;
	for (size_t i = addr_slot(addr, pr->cap_entries); pr->entries[i].addr;
	     i = (i + 1) & (pr->cap_entries - 1))
		if (pr->entries[i].addr == addr)
			return pr->entries[i].fn;
	return -1;
}

static uint32_t add_site(struct process *p, const struct probe_site *s)
{
	struct probes *pr = &p->probes;

	if (pr->nsites == pr->cap_sites) {
		pr->cap_sites = pr->cap_sites ? 2 * pr->cap_sites : 1024;
		pr->sites = xreallocarray(pr->sites, pr->cap_sites,
					  sizeof(*pr->sites));
		pr->hot = xreallocarray(pr->hot, pr->cap_sites,
					sizeof(*pr->hot));
	}
	pr->sites[pr->nsites] = *s;
	pr->hot[pr->nsites] = (struct probe_hot){
		s->entry_fn, s->ret_fn, s->insn.op == INSN_RET,
	};
	return (uint32_t)pr->nsites++;
}

static void add_window(struct process *p, const struct probe_window *w)
{
	struct probes *pr = &p->probes;

	if (pr->nwins == pr->cap_wins) {
		pr->cap_wins = pr->cap_wins ? 2 * pr->cap_wins : 1024;
		pr->wins = xreallocarray(pr->wins, pr->cap_wins,
					 sizeof(*pr->wins));
	}
	pr->wins[pr->nwins++] = *w;
}

/* One function's sites, its code read from the process (not yet
 * patched: the module is new). */
/* The sites of one function a plan takes: an interpreter's loop has
 * hundreds (every indirect jmp is one); more are left to int3s. */
#define FN_SITES_MAX	4096

struct fn_plan {
	size_t first, n;		/* its sites in t->sites */
	struct patch_site ps[FN_SITES_MAX];
	size_t nps;
	size_t site_of[FN_SITES_MAX];	/* ps index -> t->sites index */
	struct patch_range r[8];
	size_t nr;
	struct patch_func *f;
	struct patch_extra *extra;	/* see patch_plan_redirect */
	size_t nextra;
};

static void plan_free(struct fn_plan *fp)
{
	patch_func_close(fp->f);
	fp->f = NULL;
	free(fp->extra);
	fp->extra = NULL;
	fp->nextra = 0;
}

/* Decide the function's windows, on the file's bytes.  False when it is
 * left to int3s. */
static const uint8_t *module_data_at(void *arg, uint64_t a, size_t *avail)
{
	return symbols_data_at(arg, a, avail);
}

/* Decode the function whose sites are t->sites[fp->first..+n) into
 * fp->f.  False when it cannot be. */
static bool open_function(const struct sym_table *t, struct fn_plan *fp)
{
	const struct sym_site *entry = &t->sites[fp->first];
	const struct patch_data d = {
		module_data_at, (void *)t, t->relative, t->nrelative,
	};
	/* the sweep's instructions, its ranges in the order of t->ranges */
	const struct sym_func *fn = &t->funcs[entry->func];
	const struct insn_packed *pk = fn->pack;

	fp->nr = fp->nps = 0;
	fp->f = NULL;
	if (!entry->is_entry || entry->nranges > 8 || fp->n > FN_SITES_MAX)
		return false;
	for (uint32_t i = 0; i < entry->nranges; i++) {
		const struct addr_range *r = &t->ranges[entry->ranges_at + i];
		size_t len = r->hi - r->lo, avail;
		const uint8_t *code = symbols_code_at(t, r->lo, &avail);

		size_t pad;

		if (!len || !code || avail < len)
			return false;
		/* the bytes up to the next function are nobody's: a window
		 * at a ret may run into them */
		pad = symbols_next_start(t, r->hi) - r->hi;
		if (pad > avail - len)
			pad = avail - len;
		if (pad > 16)
			pad = 16;
		fp->r[fp->nr++] = (struct patch_range){
			r->lo, code, len, pad, pk, fn->pack_whole,
		};
		/* the sweep's next range begins where this one's bytes end */
		for (size_t b = 0; pk && b < len; pk++)
			b += pk->len ? pk->len : 1;
	}
	fp->f = t->data_ok ? patch_func_open_data(fp->r, fp->nr, entry->addr, &d) :
			     patch_func_open(fp->r, fp->nr, entry->addr);
	return fp->f != NULL;
}

/* An entry that is also a return (a function that is one ret, or starts
 * with a jmp out) is the entry window's first instruction and a site it
 * covers: the stub probes the entry, then the return, as an int3 there
 * takes both. */
static bool plan_function(const struct sym_table *t, struct fn_plan *fp)
{
	if (!open_function(t, fp))
		return false;
	for (size_t i = fp->first; i < fp->first + fp->n; i++) {
		const struct sym_site *s = &t->sites[i];

		fp->site_of[fp->nps] = i;
		fp->ps[fp->nps++].addr = s->addr;
	}
	fp->nextra = patch_plan_redirect(fp->f, fp->ps, fp->nps, &fp->extra);
	return true;
}

/* The probe site for sym site s of function func. */
static uint32_t site_id(struct process *p, const struct sym_site *s,
			int32_t id, uint32_t ranges_base)
{
	struct probe_site ps = {
		.addr = s->addr, .entry_fn = -1, .ret_fn = -1, .insn = s->insn,
	};

	if (s->is_entry) {
		ps.entry_fn = id;
	} else {
		ps.ret_fn = id;
		ps.ranges_at = ranges_base + s->ranges_at;
		ps.nranges = s->nranges;
	}
	return add_site(p, &ps);
}

/* A stub area near the module, the probe code copied at its start (the
 * stubs call it with rel32). */
struct stub_area {
	uint64_t base, used, len;
	uint8_t *buf;
	const uint64_t *unsafe;	/* where threads stand or will return: no */
	size_t nunsafe;		/* window may hold one past its start */
};

/* A window to encode: the plan's window and the t->sites indices of the
 * sites its stub probes (cov[first .. first + n)).  A site's window and
 * the extras it needs (patch_plan_redirect) are one group, patched all
 * or none: the group's first window is the site's. */
struct win_plan {
	struct patch_window w;
	uint32_t first, n;
	uint32_t group;		/* index of its group's first window */
	bool fixup;		/* an extra: a branch's rel32 rewritten, or
				   its rel8 aimed at hop_at */
	bool extra;		/* needed by its group's first window */
	uint64_t hop_at;	/* a hop's jmp, in a window of the group */
	bool pad;		/* a fixup of no instruction: the jmp rel32 to
				   the stub of window owner, a springboard's */
	uint32_t owner;
	/* a short function's stub (plan_short): its own code is left as it
	 * is, int3s and all, and the direct calls of it (its group's fixups)
	 * are re-aimed at the stub */
	bool detached;
	bool dropped;		/* its group is left out */
	int len;		/* its stub's length (measured) */
	uint64_t stub;		/* its stub's address (laid out) */
	int16_t copy_at[PATCH_MAX_INSNS];	/* see struct stub_spec */
};

/* Where the function's branches to an inner target go: the stub copy. */
struct redirect {
	uint64_t target, to;	/* target 0: free */
};

/* A call rel32 (e8), at addr, of the function at target. */
struct direct_call {
	uint64_t addr, target;
};

/* Every window of a module, planned once for both passes of probes_arm
 * (decoding the functions is most of the set-up's time). */
struct mod_plan {
	struct win_plan *wins;
	size_t nwins, capwins;
	uint32_t *cov;
	size_t ncov, capcov;
	struct redirect *redir;		/* open addressing */
	size_t capredir;
	/* every direct call (e8 rel32) of the module's functions, from
	 * drop_foreign_targets' sweep, for plan_short */
	struct direct_call *calls;
	size_t ncalls, capcalls;
};

static void mod_plan_free(struct mod_plan *mp)
{
	free(mp->wins);
	free(mp->cov);
	free(mp->redir);
	free(mp->calls);
}

/* The stub copy of every inner target of the windows kept, laid out. */
static void build_redirects(struct mod_plan *mp)
{
	size_t n = 0;

	for (size_t k = 0; k < mp->nwins; k++)
		if (!mp->wins[k].dropped && !mp->wins[k].fixup)
			n += (size_t)__builtin_popcount(mp->wins[k].w.inner) +
			     mp->wins[k].detached;
	if (!n)
		return;
	for (mp->capredir = 16; mp->capredir < 2 * n; mp->capredir *= 2)
		;
	mp->redir = xcalloc(mp->capredir, sizeof(*mp->redir));
	for (size_t k = 0; k < mp->nwins; k++) {
		const struct win_plan *wp = &mp->wins[k];

		if (wp->dropped || wp->fixup)
			continue;
		for (unsigned i = 0; i < wp->w.ninsns; i++) {
			uint64_t t = wp->w.insns[i].addr;
			size_t h;

			if (wp->detached && i == 0) {
				/* the calls of a short function: its stub's
				 * start, where the entry is probed */
				for (h = addr_slot(t, mp->capredir);
				     mp->redir[h].target;
				     h = (h + 1) & (mp->capredir - 1))
					;
				mp->redir[h] = (struct redirect){ t, wp->stub };
				continue;
			}
			if (!(wp->w.inner & 1u << i))
				continue;
			for (h = addr_slot(t, mp->capredir); mp->redir[h].target;
			     h = (h + 1) & (mp->capredir - 1))
				;
			mp->redir[h] = (struct redirect){
				t, wp->stub + (uint64_t)wp->copy_at[i] };
		}
	}
}

static uint64_t redirect_to(void *arg, uint64_t target)
{
	const struct mod_plan *mp = arg;

	if (!mp->capredir)
		return target;
	for (size_t h = addr_slot(target, mp->capredir); mp->redir[h].target;
	     h = (h + 1) & (mp->capredir - 1))
		if (mp->redir[h].target == target)
			return mp->redir[h].to;
	return target;
}

/* A window encoded, to be kept once its whole group is. */
struct encoded {
	struct probe_window pw;
	const struct win_plan *wp;
	const struct sym_site *jind;	/* its indirect jmp site, or NULL */
};

/* A fixup's window: no stub, its bytes as they are (to be changed). */
static void fixup_window(struct probe_window *pw, const struct patch_window *w,
			 const uint8_t *orig)
{
	memset(pw, 0, sizeof(*pw));
	pw->start = w->start;
	pw->len = w->len;
	pw->call0 = pw->copy0 = pw->jcall = pw->jind_trap = pw->jind_out = -1;
	for (size_t i = 0; i < PATCH_MAX_INSNS; i++)
		pw->ret_push[i] = -1;
	memcpy(pw->orig, orig, w->len);
	memcpy(pw->patch, orig, w->len);
}

/* Encode window wp: with a->buf NULL, only measure (its stub's length,
 * which its address does not change, and its copies' offsets go in wp);
 * else write its stub at wp->stub in a->buf and fill *out (a fixup: the
 * branch with its rel32 re-aimed).  False when it cannot be (its group's
 * sites stay int3s). */
static bool encode_window(struct process *p, const struct sym_table *t,
			  struct mod_plan *mp, struct win_plan *wp,
			  const int32_t *ids, uint32_t ranges_base,
			  const struct stub_area *a, struct encoded *out)
{
	const struct patch_window *w = &wp->w;
	bool measure = !a->buf;
	uint8_t scratch[STUB_MAX];
	struct stub_spec spec = {
		.w = w, .addr = measure ? t->lo : wp->stub, .tcb = p->probes.tcb,
		.probe_entry = measure ? t->lo : a->base + PROBE_ON_ENTRY_OFF,
		.probe_return = measure ? t->lo : a->base + PROBE_ON_RETURN_OFF,
		.probe_jump = measure ? t->lo : a->base + PROBE_ON_JUMP_OFF,
		.entry_site = STUB_NO_SITE,
		.redirect = measure ? NULL : redirect_to, .redirect_arg = mp,
	};
	struct probe_window *pw = &out->pw;
	const struct sym_site *jind = NULL;
	size_t avail;
	const uint8_t *orig;
	int len;

	if (w->len > sizeof(pw->orig) ||
	    !(orig = symbols_code_at(t, w->start, &avail)) || avail < w->len)
		return false;
	if (wp->fixup && wp->pad) {
		const struct win_plan *o = &mp->wins[wp->owner];
		int64_t d = (int64_t)(o->stub - (w->start + PATCH_JMP_LEN));

		if (measure)
			return true;
		if (o->dropped || w->len != PATCH_JMP_LEN || d != (int32_t)d)
			return false;
		fixup_window(pw, w, orig);
		pw->patch[0] = 0xe9;
		memcpy(pw->patch + 1, &(int32_t){ (int32_t)d }, 4);
		out->wp = wp;
		out->jind = NULL;
		return true;
	}
	if (wp->fixup) {
		const struct insn *in = &w->insns[0];
		uint64_t to = redirect_to(mp, in->target);
		int64_t d = (int64_t)((wp->hop_at ? wp->hop_at : to) -
				      (in->addr + in->len));

		if (measure)
			return true;
		if (to == in->target ||
		    (wp->hop_at ? d != (int8_t)d : d != (int32_t)d))
			return false;
		fixup_window(pw, w, orig);
		if (wp->hop_at)
			pw->patch[w->len - 1] = (uint8_t)(int8_t)d;
		else
			memcpy(pw->patch + w->len - 4, &(int32_t){ (int32_t)d }, 4);
		out->wp = wp;
		out->jind = NULL;
		return true;
	}
	for (size_t i = 0; i < PATCH_MAX_INSNS; i++)
		spec.ret_site[i] = STUB_NO_SITE;
	for (uint32_t c = 0; c < wp->n; c++) {
		const struct sym_site *s = &t->sites[mp->cov[wp->first + c]];
		uint32_t id = measure ? INT32_MAX :
			      site_id(p, s, ids[s->func], ranges_base);

		if (s->is_entry) {
			spec.entry_site = id;
			continue;
		}
		for (size_t i = 0; i < w->ninsns; i++)
			if (w->insns[i].addr == s->addr)
				spec.ret_site[i] = id;
		if (s->insn.op == INSN_JMP_IND) {
			jind = s;
			spec.ranges = &t->ranges[s->ranges_at];
			spec.nranges = s->nranges;
		}
	}
	len = stub_encode(measure ? scratch : a->buf + (wp->stub - a->base),
			  &spec);
	if (len < 0 || (!measure && len != wp->len))
		return false;
	if (measure) {
		wp->len = len;
		memcpy(wp->copy_at, spec.copy_at, sizeof(wp->copy_at));
		return true;
	}
	memset(pw, 0, sizeof(*pw));
	pw->start = w->start;
	/* a short function's own bytes stay as they are: no patch, nothing
	 * to put back (its stub is reached by the calls re-aimed) */
	pw->len = wp->detached ? 0 : w->len;
	if (!wp->detached && stub_patch(pw->patch, w, spec.addr) != 0)
		return false;
	memcpy(pw->orig, orig, pw->len);
	pw->stub = spec.addr;
	pw->stub_len = (uint16_t)len;
	pw->call0 = spec.call0;
	pw->copy0 = spec.copy0;
	pw->jcall = spec.jcall;
	pw->jtarget = spec.jtarget;
	pw->jind_trap = spec.jind_trap;
	pw->jind_out = spec.jind_out;
	for (size_t i = 0; i < PATCH_MAX_INSNS; i++) {
		pw->ret_push[i] = spec.ret_push[i];
		pw->ret_at[i] = i < w->ninsns ? w->insns[i].addr : 0;
	}
	pw->jind_at = jind ? jind->addr : 0;
	out->wp = wp;
	out->jind = jind;
	return true;
}

/* Keep an encoded window: its bytes to patch, its sites probed. */
static void keep_encoded(struct process *p, const struct sym_table *t,
			 const struct mod_plan *mp, const struct encoded *e,
			 const int32_t *ids, uint32_t ranges_base, bool *probed)
{
	const struct win_plan *wp = e->wp;
	const struct sym_site *jind = e->jind;

	add_window(p, &e->pw);
	if (jind && e->pw.jind_trap >= 0) {
		/* a tail call through the jmp traps in the stub: the int3
		 * engine's event and replay, the original jmp's */
		struct bp *b = bp_table_get(&p->bps, e->pw.stub +
					    (uint64_t)e->pw.jind_trap);

		b->orig = 0xcc;
		b->insn = jind->insn;
		b->ret_fn = ids[jind->func];
		b->ranges_at = ranges_base + jind->ranges_at;
		b->nranges = jind->nranges;
		b->in_stub = true;
	}
	for (uint32_t c = 0; !wp->detached && c < wp->n; c++) {
		uint32_t si = mp->cov[wp->first + c];
		const struct sym_site *s = &t->sites[si];

		probed[si] = true;
		if (s->is_entry)
			add_entry(&p->probes, s->addr, ids[s->func]);
	}
}

static struct win_plan *new_win(struct mod_plan *mp)
{
	struct win_plan *wp;

	if (mp->nwins == mp->capwins) {
		mp->capwins = mp->capwins ? 2 * mp->capwins : 256;
		mp->wins = xreallocarray(mp->wins, mp->capwins,
					 sizeof(*mp->wins));
	}
	wp = &mp->wins[mp->nwins];
	memset(wp, 0, sizeof(*wp));
	wp->group = (uint32_t)mp->nwins++;
	return wp;
}

/* Keep the windows of a planned function: each window with the sites its
 * stub probes (its own and those it covers), then the extras it needs, in
 * its group. */
static void keep_windows(struct mod_plan *mp, const struct fn_plan *fp)
{
	/* a hop's jmp lies in another site's window: then the function's
	 * windows are one group */
	bool one = false;
	uint32_t first = (uint32_t)mp->nwins;

	for (size_t x = 0; x < fp->nextra; x++)
		one |= fp->extra[x].hop;
	for (size_t k = 0; k < fp->nps; k++) {
		struct win_plan *wp;
		uint32_t group, self;

		if (fp->ps[k].why != PATCH_OK || fp->ps[k].covered_by >= 0)
			continue;
		wp = new_win(mp);
		self = wp->group;
		if (one)
			wp->group = first;
		group = wp->group;
		wp->w = fp->ps[k].w;
		wp->first = (uint32_t)mp->ncov;
		for (size_t j = 0; j < fp->nps; j++) {
			if (j != k && fp->ps[j].covered_by != (int)k)
				continue;
			if (mp->ncov == mp->capcov) {
				mp->capcov = mp->capcov ? 2 * mp->capcov : 512;
				mp->cov = xreallocarray(mp->cov, mp->capcov,
							sizeof(*mp->cov));
			}
			mp->cov[mp->ncov++] = (uint32_t)fp->site_of[j];
			mp->wins[self].n++;
		}
		for (size_t x = 0; x < fp->nextra; x++) {
			if (fp->extra[x].owner != k)
				continue;
			wp = new_win(mp);
			wp->group = group;
			wp->w = fp->extra[x].w;
			wp->fixup = fp->extra[x].fixup;
			wp->extra = true;
			wp->hop_at = fp->extra[x].hop ? fp->extra[x].hop_at : 0;
			wp->pad = fp->extra[x].pad;
			wp->owner = self;
		}
	}
}

/* The functions of t from site lo to site hi (function starts) that are
 * not skipped, planned into mp. */
struct plan_job {
	const struct sym_table *t;
	const char *const *skip;
	size_t lo, hi;
	struct mod_plan mp;
};

static void plan_range(struct plan_job *j)
{
	struct fn_plan *fp = xcalloc(1, sizeof(*fp));
	const struct sym_table *t = j->t;

	for (size_t i = j->lo; i < j->hi; ) {
		uint32_t func = t->sites[i].func;

		fp->first = i;
		while (i < j->hi && t->sites[i].func == func)
			i++;
		fp->n = i - fp->first;
		if (!j->skip[func] && plan_function(t, fp))
			keep_windows(&j->mp, fp);
		plan_free(fp);
	}
	free(fp);
}

static void *plan_thread(void *arg)
{
	plan_range(arg);
	disasm_thread_done();
	return NULL;
}

/* Append b's windows to a's (b planned the functions after a's). */
static void plan_merge(struct mod_plan *a, struct mod_plan *b)
{
	uint32_t w0 = (uint32_t)a->nwins, c0 = (uint32_t)a->ncov;

	for (size_t k = 0; k < b->nwins; k++) {
		struct win_plan *wp = new_win(a);

		*wp = b->wins[k];
		wp->group += w0;
		wp->owner += w0;
		wp->first += c0;
	}
	for (size_t k = 0; k < b->ncov; k++) {
		if (a->ncov == a->capcov) {
			a->capcov = a->capcov ? 2 * a->capcov : 512;
			a->cov = xreallocarray(a->cov, a->capcov, sizeof(*a->cov));
		}
		a->cov[a->ncov++] = b->cov[k];
	}
	mod_plan_free(b);
}

/* Plan every function of t that is not skipped.  Decoding the functions
 * is most of the set-up's time, and the program does not run yet: with a
 * second CPU, a thread plans the second half (it takes no signal: those
 * are the tracer thread's). */
static void plan_module(const struct sym_table *t, const char *const *skip,
			struct mod_plan *mp)
{
	struct plan_job a = { t, skip, 0, t->nsites, { 0 } }, b = a;
	pthread_t th;
	size_t mid = t->nsites / 2;

	while (mid && mid < t->nsites && t->sites[mid].func == t->sites[mid - 1].func)
		mid++;
	a.hi = b.lo = mid;
	if (t->nsites < 1024 || mid >= t->nsites ||
	    !helper_thread_start(&th, plan_thread, &b)) {
		a.hi = t->nsites;
		plan_range(&a);
		*mp = a.mp;
		return;
	}
	plan_range(&a);
	pthread_join(th, NULL);
	plan_merge(&a.mp, &b.mp);
	*mp = a.mp;
}

/* Leave out every window of a group one of whose windows is: a branch
 * would otherwise land inside a window left as it was, or in the middle
 * of a jmp. */
static void drop_groups(struct mod_plan *mp)
{
	for (size_t k = 0; k < mp->nwins; k++)
		if (mp->wins[k].dropped)
			mp->wins[mp->wins[k].group].dropped = true;
	for (size_t k = 0; k < mp->nwins; k++)
		if (mp->wins[mp->wins[k].group].dropped)
			mp->wins[k].dropped = true;
}

/* A window's site that says whose function it is in. */
static const struct sym_site *win_site(const struct sym_table *t,
				       const struct mod_plan *mp,
				       const struct win_plan *wp)
{
	if (wp->extra)
		wp = &mp->wins[wp->owner];
	return wp->n ? &t->sites[mp->cov[wp->first]] : NULL;
}

static int win_start_cmp(const void *a, const void *b)
{
	uint64_t x = (*(const struct win_plan *const *)a)->w.start;
	uint64_t y = (*(const struct win_plan *const *)b)->w.start;

	return x < y ? -1 : x > y;
}

/* The target of a direct branch, or 0: jmp, jcc and call as decoded, and
 * loop, loope, loopne and jrcxz (rel8), which are never displaced. */
static uint64_t branch_target(const struct insn *in)
{
	if (in->op == INSN_JMP || in->op == INSN_JCC || in->op == INSN_CALL)
		return in->target;
	if (in->len == 2 && in->bytes[0] >= 0xe0 && in->bytes[0] <= 0xe3)
		return in->addr + 2 + (uint64_t)(int64_t)(int8_t)in->bytes[1];
	return 0;
}

/* One half of drop_foreign_targets' sweep: the functions starting at
 * t->starts[lo..hi), against the windows by[0..n) sorted by start (read
 * only); the windows to drop are marked in drop[], the direct calls
 * appended to calls. */
struct sweep_job {
	const struct sym_table *t;
	const struct mod_plan *mp;
	struct win_plan *const *by;
	size_t n, lo, hi;
	bool *drop;
	struct direct_call *calls;
	size_t ncalls, capcalls;
};

static void sweep_range(struct sweep_job *j)
{
	const struct sym_table *t = j->t;

	for (size_t i = j->lo; i < j->hi; i++) {
		uint64_t at = t->starts[i], end;
		size_t avail, calls0 = j->ncalls;
		const uint8_t *code = symbols_code_at(t, at, &avail);

		if (!code)
			continue;
		end = i + 1 < t->nstarts && t->starts[i + 1] - at < avail ?
		      t->starts[i + 1] : at + avail;
		while (at < end) {
			struct insn in;
			uint64_t to;
			size_t lo = 0, hi = j->n;
			const struct sym_site *s;

			if (insn_decode(code + (at - t->starts[i]), end - at, at,
					&in) != 0 || !in.len) {
				/* out of step, maybe: none of its calls, and
				 * every byte from here on read as the start of
				 * an instruction */
				if (calls0 != SIZE_MAX)
					j->ncalls = calls0;
				calls0 = SIZE_MAX;
				at++;
				continue;
			}
			at += calls0 == SIZE_MAX ? 1 : in.len;
			if (in.op == INSN_CALL && in.len == PATCH_JMP_LEN &&
			    in.bytes[0] == 0xe8 && calls0 != SIZE_MAX) {
				if (j->ncalls == j->capcalls) {
					j->capcalls = j->capcalls ?
						      2 * j->capcalls : 1024;
					j->calls = xreallocarray(
						j->calls, j->capcalls,
						sizeof(*j->calls));
				}
				j->calls[j->ncalls++] = (struct direct_call){
					in.addr, in.target };
			}
			to = branch_target(&in);
			if (!to)
				continue;
			while (lo < hi) {	/* the last window starting before to */
				size_t mid = (lo + hi) / 2;

				if (j->by[mid]->w.start < to)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (!lo || to >= j->by[lo - 1]->w.start +
					 j->by[lo - 1]->w.len)
				continue;
			s = win_site(t, j->mp, j->by[lo - 1]);
			if (s && insn_in_ranges(in.addr, &t->ranges[s->ranges_at],
						s->nranges))
				continue;	/* its own: the planner's */
			j->drop[lo - 1] = true;
		}
	}
}

static void *sweep_thread(void *arg)
{
	sweep_range(arg);
	disasm_thread_done();
	return NULL;
}

/* Drop (with its group) every window that another function's direct
 * branch lands inside: the planner knows the branches of the window's own
 * function, and re-aims them, but glibc's mempcpy, say, ends in a jmp to
 * memcpy+3, inside memcpy's entry window, whether or not mempcpy is
 * traced.  Every function of the module is decoded from its start to the
 * next (the planner decoded only those traced), the second half on a
 * second thread as plan_module does.  Compiler code has no
 * undecodable byte inside a symbol; after one (data in hand-written
 * code), a sweep that went on from the next byte could read a real branch
 * as part of a longer instruction (test/targets/xjump.c's xj_hidden), so
 * from there on every byte is read as an instruction's start: a branch
 * that is not one may drop a window for nothing, none is missed. */
static void drop_foreign_targets(const struct sym_table *t, struct mod_plan *mp)
{
	struct win_plan **by = xcalloc(mp->nwins ? mp->nwins : 1, sizeof(*by));
	struct sweep_job a = { .t = t, .mp = mp, .by = by }, b;
	size_t n = 0;
	pthread_t th;
	bool two;

	for (size_t k = 0; k < mp->nwins; k++)
		if (!mp->wins[k].dropped && mp->wins[k].w.len > 1)
			by[n++] = &mp->wins[k];
	qsort(by, n, sizeof(*by), win_start_cmp);
	a.n = n;
	a.drop = xcalloc(2 * (n ? n : 1), sizeof(*a.drop));
	b = a;
	b.drop += n ? n : 1;
	a.hi = b.lo = t->nstarts / 2;
	b.hi = t->nstarts;
	two = t->nstarts >= 1024 && helper_thread_start(&th, sweep_thread, &b);
	if (!two)
		a.hi = t->nstarts;
	sweep_range(&a);
	if (two)
		pthread_join(th, NULL);
	for (size_t k = 0; k < n; k++)
		if (a.drop[k] || (two && b.drop[k]))
			by[k]->dropped = true;
	/* the calls in the order of the functions, as one sweep finds them */
	mp->calls = a.calls;
	mp->ncalls = a.ncalls;
	mp->capcalls = a.capcalls;
	if (two && b.ncalls) {
		mp->calls = xreallocarray(mp->calls, a.ncalls + b.ncalls,
					  sizeof(*mp->calls));
		memcpy(mp->calls + a.ncalls, b.calls,
		       b.ncalls * sizeof(*b.calls));
		mp->ncalls = mp->capcalls = a.ncalls + b.ncalls;
	}
	free(b.calls);
	free(a.drop);
	free(by);
	drop_groups(mp);
}

static int call_target_cmp(const void *a, const void *b)
{
	const struct direct_call *x = a, *y = b;

	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int range_cmp(const void *a, const void *b)
{
	const struct addr_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Does [lo, hi) share a byte with one of the windows' bytes (by: sorted
 * by start, n of them, none longer than PATCH_MAX_LEN)? */
static bool in_a_window(const struct addr_range *by, size_t n, uint64_t lo,
			uint64_t hi)
{
	size_t a = 0, b = n;

	while (a < b) {		/* the first window starting at hi or after */
		size_t mid = (a + b) / 2;

		if (by[mid].lo < hi)
			a = mid + 1;
		else
			b = mid;
	}
	while (a-- > 0 && by[a].lo + PATCH_MAX_LEN > lo)
		if (by[a].hi > lo)
			return true;
	return false;
}

/* Is page (an address / 4096) in pages (sorted, n)? */
static bool page_in(const uint64_t *pages, size_t n, uint64_t page)
{
	return bsearch(&page, pages, n, sizeof(*pages), u64_cmp) != NULL;
}

/* May call c be re-aimed: in no window (by, n), on the pages of sites? */
static bool call_reaimable(const struct direct_call *c,
			   const struct addr_range *by, size_t n,
			   const uint64_t *pages, size_t npages)
{
	return !in_a_window(by, n, c->addr, c->addr + PATCH_JMP_LEN) &&
	       page_in(pages, npages, c->addr / 4096) &&
	       page_in(pages, npages, (c->addr + PATCH_JMP_LEN - 1) / 4096);
}

/* The function of sites [i0, i1) when it is short: one straight run of
 * instructions to its one ret (no branch, no call), its sites the entry
 * and that ret; false otherwise.  w gets its instructions. */
static bool short_function(const struct sym_table *t, size_t i0, size_t i1,
			   struct patch_window *w)
{
	const struct sym_site *e = NULL, *r = NULL;
	uint64_t at;
	size_t avail;
	const uint8_t *code;

	for (size_t i = i0; i < i1; i++) {
		const struct sym_site *s = &t->sites[i];

		if (s->is_entry ? e != NULL : r != NULL)
			return false;
		if (s->is_entry)
			e = s;
		else
			r = s;
	}
	if (!e || !r || r->insn.op != INSN_RET || r->addr < e->addr ||
	    r->addr - e->addr >= PATCH_MAX_LEN ||
	    !(code = symbols_code_at(t, e->addr, &avail)))
		return false;
	memset(w, 0, sizeof(*w));
	w->start = e->addr;
	for (at = e->addr; at <= r->addr; ) {
		struct insn in;

		if (w->ninsns == PATCH_MAX_INSNS || at - e->addr >= avail ||
		    insn_decode(code + (at - e->addr), avail - (at - e->addr),
				at, &in) != 0 || !in.len)
			return false;
		switch (in.op) {
		case INSN_JMP: case INSN_JCC: case INSN_CALL:
		case INSN_JMP_IND: case INSN_CALL_IND: case INSN_UNSUPPORTED:
			return false;
		default:
			break;
		}
		if (in.op == INSN_RET && in.addr != r->addr)
			return false;
		w->insns[w->ninsns++] = in;
		at += in.len;
	}
	if (w->insns[w->ninsns - 1].addr != r->addr)
		return false;
	w->len = (uint8_t)(at - e->addr);
	w->has_ret = true;
	w->whole = true;
	return true;
}

/* A short function found by plan_short: its sites [i0, i1), its code. */
struct short_fn {
	size_t i0, i1;
	struct patch_window w;
};

static int short_fn_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct short_fn *)a)->w.start;
	uint64_t y = ((const struct short_fn *)b)->w.start;

	return x < y ? -1 : x > y;
}

static int short_fn_key_cmp(const void *key, const void *b)
{
	uint64_t x = *(const uint64_t *)key;
	uint64_t y = ((const struct short_fn *)b)->w.start;

	return x < y ? -1 : x > y;
}

/* Group sf (its stub) and its fixups: the calls [c, c_end) of mp->calls,
 * those that call_reaimable allows. */
static void keep_short(const struct sym_table *t, struct mod_plan *mp,
		       const struct short_fn *sf, size_t c, size_t c_end,
		       const struct addr_range *by, size_t n,
		       const uint64_t *pages, size_t npages)
{
	uint32_t self = (uint32_t)mp->nwins;
	struct win_plan *wp = new_win(mp);

	wp->w = sf->w;
	wp->detached = true;
	wp->first = (uint32_t)mp->ncov;
	for (size_t k = sf->i0; k < sf->i1; k++) {
		if (mp->ncov == mp->capcov) {
			mp->capcov = mp->capcov ? 2 * mp->capcov : 512;
			mp->cov = xreallocarray(mp->cov, mp->capcov,
						sizeof(*mp->cov));
		}
		mp->cov[mp->ncov++] = (uint32_t)k;
		mp->wins[self].n++;
	}
	for (; c < c_end; c++) {
		const struct direct_call *dc = &mp->calls[c];
		size_t avail;
		const uint8_t *code = symbols_code_at(t, dc->addr, &avail);
		struct win_plan *fx;
		struct insn in;

		if (!call_reaimable(dc, by, n, pages, npages) || !code ||
		    insn_decode(code, avail, dc->addr, &in) != 0 ||
		    in.op != INSN_CALL || in.len != PATCH_JMP_LEN ||
		    in.target != sf->w.start)
			continue;
		fx = new_win(mp);
		fx->group = self;
		fx->owner = self;
		fx->fixup = true;
		fx->extra = true;
		fx->w.start = dc->addr;
		fx->w.len = PATCH_JMP_LEN;
		fx->w.ninsns = 1;
		fx->w.insns[0] = in;
	}
}

/* A short function (one ret, `mov %rdi,%rax; ret`...) with another
 * function right after it has no window for a jmp: its entry and ret are
 * int3 sites, a ptrace stop each per call.  When the module calls it
 * directly (python3.11d's AnnotateRWLockAcquired, 1,800 calls a run),
 * it gets a stub of its own, which probes the entry, runs its
 * instructions and probes the ret; every direct call of it (an e8 rel32
 * of the module that no window holds) is re-aimed at the stub, one group
 * with it.  Its own code is not touched: a call through a pointer still
 * takes its int3s, which report the same events.  Only calls on a page
 * that holds a traced function's site are re-aimed: iprofmem reads every
 * such page under either engine, making it resident; a write elsewhere
 * would make a page resident that the int3 engine leaves alone, and the
 * first call that runs code there would not fault it in. */
static void plan_short(const struct sym_table *t, const char *const *skip,
		       struct mod_plan *mp)
{
	struct short_fn *sf = NULL;
	struct addr_range *by;
	uint64_t *pages = NULL;
	bool *covered;
	size_t n = 0, nsf = 0, capsf = 0, npages = 0, m = 0;

	if (!mp->ncalls)
		return;
	covered = xcalloc(t->nsites ? t->nsites : 1, sizeof(*covered));
	by = xcalloc(mp->nwins ? mp->nwins : 1, sizeof(*by));
	for (size_t k = 0; k < mp->nwins; k++) {
		const struct win_plan *wp = &mp->wins[k];

		if (wp->w.len)
			by[n++] = (struct addr_range){ wp->w.start,
						       wp->w.start + wp->w.len };
		for (uint32_t c = 0; !wp->dropped && c < wp->n; c++)
			covered[mp->cov[wp->first + c]] = true;
	}
	qsort(by, n, sizeof(*by), range_cmp);
	for (size_t i = 0; i < t->nsites; ) {
		size_t i0 = i, k;
		uint32_t func = t->sites[i].func;

		while (i < t->nsites && t->sites[i].func == func)
			i++;
		if (skip[func])
			continue;
		for (k = i0; k < i && !covered[k]; k++)
			;
		if (nsf == capsf) {
			capsf = capsf ? 2 * capsf : 16;
			sf = xreallocarray(sf, capsf, sizeof(*sf));
		}
		if (k < i || !short_function(t, i0, i, &sf[nsf].w) ||
		    in_a_window(by, n, sf[nsf].w.start,
				sf[nsf].w.start + sf[nsf].w.len))
			continue;
		sf[nsf].i0 = i0;
		sf[nsf++].i1 = i;
	}
	/* the calls of them, by callee (most calls are of others) */
	qsort(sf, nsf, sizeof(*sf), short_fn_cmp);
	for (size_t c = 0; nsf && c < mp->ncalls; c++)
		if (bsearch(&mp->calls[c].target, sf, nsf, sizeof(*sf),
			    short_fn_key_cmp))
			mp->calls[m++] = mp->calls[c];
	mp->ncalls = m;
	qsort(mp->calls, m, sizeof(*mp->calls), call_target_cmp);
	if (m) {
		pages = xcalloc(t->nsites, sizeof(*pages));
		for (size_t i = 0; i < t->nsites; i++)
			if (!skip[t->sites[i].func])
				pages[npages++] = t->sites[i].addr / 4096;
		qsort(pages, npages, sizeof(*pages), u64_cmp);
	}
	for (size_t c = 0, j = 0; c < m; ) {
		size_t c0 = c;
		bool any = false;

		while (c < m && mp->calls[c].target == mp->calls[c0].target)
			any |= call_reaimable(&mp->calls[c++], by, n, pages,
					      npages);
		while (sf[j].w.start != mp->calls[c0].target)
			j++;
		if (any)
			keep_short(t, mp, &sf[j], c0, c, by, n, pages, npages);
	}
	free(sf);
	free(by);
	free(covered);
	free(pages);
}

/* Measure every planned window's stub and lay the stubs out after the
 * probe code: a->used becomes their end.  Windows that cannot be, or
 * that hold a pc where a thread stands, are dropped with their group. */
static void layout_module(struct process *p, const struct sym_table *t,
			  struct mod_plan *mp, struct stub_area *a)
{
	struct encoded scratch;

	for (size_t k = 0; k < mp->nwins; k++) {
		struct win_plan *wp = &mp->wins[k];

		for (size_t i = 0; !wp->detached && i < a->nunsafe; i++)
			if (a->unsafe[i] > wp->w.start &&
			    a->unsafe[i] < wp->w.start + wp->w.len)
				wp->dropped = true;
		if (!wp->dropped &&
		    !encode_window(p, t, mp, wp, NULL, 0, a, &scratch))
			wp->dropped = true;
	}
	drop_groups(mp);
	a->used = STUBS_OFF;
	for (size_t k = 0; k < mp->nwins; k++) {
		struct win_plan *wp = &mp->wins[k];

		if (wp->dropped || wp->fixup)
			continue;
		wp->stub = a->used;		/* an offset, until the base */
		a->used += ((size_t)wp->len + 15) & ~(size_t)15;
	}
}

/* A hop's jmp to its target's copy, written into the bytes past the jmp
 * of the group's window that holds it (encoded: e[0..n)), which no code
 * runs: false when it is not there. */
static bool write_hop(const struct mod_plan *mp, struct encoded *e, size_t n,
		      const struct win_plan *hop)
{
	const struct insn *in = &hop->w.insns[0];
	uint64_t at = hop->hop_at, to = redirect_to((void *)mp, in->target);
	int64_t d = (int64_t)(to - (at + PATCH_JMP_LEN));

	if (d != (int32_t)d)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct probe_window *pw = &e[i].pw;
		uint8_t *b = pw->patch + (at - pw->start);

		if (e[i].wp->fixup || at < pw->start + PATCH_JMP_LEN ||
		    at + PATCH_JMP_LEN > pw->start + pw->len)
			continue;
		for (size_t k = 0; k < PATCH_JMP_LEN; k++)
			if (b[k] != 0xcc)
				return false;
		b[0] = 0xe9;
		memcpy(b + 1, &(int32_t){ (int32_t)d }, 4);
		return true;
	}
	return false;
}

/* A hop's jmp (or a pad's) is probe code for a thread that stands on it
 * (probes_inside): it stands for no instruction of the program's. */
static void add_hop(struct process *p, uint64_t at)
{
	struct probes *pr = &p->probes;

	pr->hops = xreallocarray(pr->hops, pr->nhops + 1, sizeof(*pr->hops));
	pr->hops[pr->nhops++] = (struct addr_range){ at, at + PATCH_JMP_LEN };
}

/* Encode every window kept, group by group: a group whose windows do not
 * all encode is left out whole (its site ids are taken back). */
static size_t encode_module(struct process *p, const struct sym_table *t,
			    struct mod_plan *mp, const int32_t *ids,
			    uint32_t ranges_base, const struct stub_area *a,
			    bool *probed, bool *stubbed,
			    struct probe_stats *st)
{
	struct encoded *e = NULL;
	size_t cap = 0, redirected = 0;

	for (size_t k = 0; k < mp->nwins; ) {
		size_t g = k, n = 0, nsites0 = p->probes.nsites;
		bool ok = true;

		for (; k < mp->nwins && mp->wins[k].group == g; k++) {
			if (mp->wins[k].dropped)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				e = xreallocarray(e, cap, sizeof(*e));
			}
			if (ok && encode_window(p, t, mp, &mp->wins[k], ids,
						ranges_base, a, &e[n]))
				n++;
			else
				ok = false;
		}
		for (size_t i = 0; ok && i < n; i++)
			if (e[i].wp->hop_at)
				ok = write_hop(mp, e, n, e[i].wp);
		if (!ok) {
			p->probes.nsites = nsites0;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			keep_encoded(p, t, mp, &e[i], ids, ranges_base, probed);
			if (mp->wins[g].detached) {
				st->short_funcs += !e[i].wp->extra;
				st->short_calls += e[i].wp->extra;
				/* a call of it re-aimed at its stub */
				if (e[i].wp->extra)
					stubbed[t->sites[mp->cov[
						mp->wins[g].first]].func] = true;
				continue;
			}
			redirected += e[i].wp->extra;
			if (e[i].wp->hop_at)
				add_hop(p, e[i].wp->hop_at);
			if (e[i].wp->pad)
				add_hop(p, e[i].pw.start);
		}
	}
	free(e);
	return redirected;
}

/* ---- where threads stand ------------------------------------------------ */

/* The signal return trampoline (arch_is_sigreturn) that the C library
 * puts in every signal frame, found in the process's code: before the
 * first syscall instruction that ends one; 0 if none.  The code is read
 * from the mapped files, never from the process: reading its memory
 * would make every page of its libraries resident. */
static uint64_t find_restorer(const struct process *p)
{
	char *maps = xmalloc(MAPS_MAX), *line, *save = NULL;
	uint64_t found = 0;

	if (!read_proc_file(p->pid, "maps", maps, MAPS_MAX)) {
		free(maps);
		return 0;
	}
	for (line = strtok_r(maps, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long lo, hi, off, ino;
		char perms[8], path[PATH_MAX + 32];
		const char *file = strchr(line, '/');
		struct stat st;
		uint8_t *buf;
		void *at;
		int fd;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %llu", &lo, &hi, perms,
			   &off, &ino) != 5 ||
		    perms[2] != 'x' || !file || hi - lo > (64u << 20) ||
		    strstr(file, " (deleted)"))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)p->pid, file);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		buf = xmalloc(hi - lo);
		if (fstat(fd, &st) != 0 || st.st_ino != (ino_t)ino ||
		    pread(fd, buf, hi - lo, (off_t)off) != (ssize_t)(hi - lo)) {
			free(buf);
			close(fd);
			continue;
		}
		close(fd);
		for (size_t o = 0;
		     !found && (at = memmem(buf + o, hi - lo - o, "\x0f\x05", 2)); ) {
			size_t k = (size_t)((uint8_t *)at - buf);

			for (size_t back = 5; back <= 7 && !found; back += 2)
				if (k >= back &&
				    arch_is_sigreturn(buf + k - back, hi - lo - (k - back)))
					found = lo + k - back;
			o = k + 2;
		}
		free(buf);
	}
	free(maps);
	return found;
}

/* Is the page at addr of the process resident (/proc/PID/pagemap's bit
 * 63)?  Reading one that is not would make it so. */
static bool page_present(int pagemap, uint64_t addr)
{
	uint64_t e;

	return pread(pagemap, &e, sizeof(e), (off_t)(addr / 4096 * 8)) ==
	       (ssize_t)sizeof(e) && e >> 63;
}

/* The bytes at addr, read only where every page they lie on is resident
 * (a page that is not would become so, and count in the program's RSS). */
int process_read_resident(struct process *p, uint64_t addr, void *buf,
			  size_t n)
{
	if (p->pagemap < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)p->pid);
		p->pagemap = open(path, O_RDONLY | O_CLOEXEC);
		if (p->pagemap < 0)
			return -1;
	}
	for (uint64_t pg = addr & ~(uint64_t)4095; pg < addr + n; pg += 4096)
		if (!page_present(p->pagemap, pg))
			return -1;
	return mem_read(p->memfd, addr, buf, n);
}

int process_sigreturn_at(struct process *p, uint64_t sp)
{
	uint8_t code[16];
	uint64_t ret;

	if (process_read_resident(p, sp, &ret, sizeof(ret)) != 0)
		return -1;
	if (!p->restorer_looked) {
		p->restorer = find_restorer(p);
		p->restorer_looked = true;
	}
	if (ret && ret == p->restorer)
		return 1;
	/* another trampoline (the first found may not be the one in use):
	 * its code, where it is resident.  One that is not has never run,
	 * and the C library's is the one found. */
	for (size_t n = 7; n <= 9; n += 2)
		if (process_read_resident(p, ret, code, n) == 0 &&
		    arch_is_sigreturn(code, n))
			return 1;
	return 0;
}

/* The pcs a signal frame on the stack from sp up will return to: frames
 * start with the restorer's address, their ucontext's rip 176 bytes on.
 * Page by page while they are resident: a stack's pages above its
 * pointer have all been used (a signal frame's too), and past the
 * stack's top may lie the program's memory, which must stay as it is. */
static void frame_pcs(const struct process *p, int pagemap, uint64_t sp,
		      uint64_t restorer, uint64_t **v, size_t *n)
{
	enum { PAGE = 4096, SPAN = 4 << 20 };
	uint64_t buf[PAGE / 8 + 23];

	sp &= ~(uint64_t)7;
	for (uint64_t at = sp, next; at < sp + SPAN; at = next) {
		size_t words;
		bool more;

		next = (at & ~(uint64_t)(PAGE - 1)) + PAGE;
		if (!page_present(pagemap, at))
			break;
		/* a frame's rip may lie on the next page */
		more = page_present(pagemap, next);
		words = (next - at) / 8 + (more ? 23 : 0);
		if (mem_read(p->memfd, at, buf, words * 8) != 0)
			break;
		for (size_t k = 0; k < (next - at) / 8; k++)
			if (buf[k] == restorer && k + 22 < words) {
				*v = xreallocarray(*v, *n + 1, sizeof(**v));
				(*v)[(*n)++] = buf[k + 22];
			}
	}
}

/* Every pc where a thread of p stands, and, with threads that ran before
 * we stopped them (attach), every pc that a signal frame on their stacks
 * returns to: no window may hold one past its first byte. */
static size_t unsafe_pcs(struct tracer *tr, struct process *p, uint64_t **v)
{
	uint64_t restorer = 0;
	int pagemap = -1;
	size_t n = 0;

	/* looked for once per image (process_sigreturn_at uses it too) */
	if (tr->world_stopped && !tr->world_synced) {
		if (!p->restorer_looked) {
			p->restorer = find_restorer(p);
			p->restorer_looked = true;
		}
		restorer = p->restorer;
	}
	if (restorer) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)p->pid);
		pagemap = open(path, O_RDONLY | O_CLOEXEC);
	}

	*v = NULL;
	for (size_t i = 0; i < tr->threads.n; i++) {
		const struct thread *th = &tr->threads.threads[i];
		struct user_regs_struct r;

		if (th->proc != p ||
		    ptrace(PTRACE_GETREGS, th->tid, 0, &r) != 0)
			continue;
		*v = xreallocarray(*v, n + 1, sizeof(**v));
		(*v)[n++] = r.rip;
		if (pagemap >= 0)
			frame_pcs(p, pagemap, r.rsp, restorer, v, &n);
	}
	if (pagemap >= 0)
		close(pagemap);
	return n;
}

/* ---- rets taken at their callee's return ---- */

void probes_copy_follow(struct process *p, const struct process *pp)
{
	free(p->probes.follow);
	p->probes.follow = dup_array(pp->probes.follow, pp->probes.nfollow,
				     sizeof(*pp->probes.follow));
	p->probes.nfollow = p->probes.follow ? pp->probes.nfollow : 0;
}

static void set_follow(struct probes *pr, int32_t fn, int32_t callee,
		       uint32_t delta)
{
	if ((size_t)fn >= pr->nfollow) {
		size_t n = pr->nfollow ? pr->nfollow : 256;

		while (n <= (size_t)fn)
			n *= 2;
		pr->follow = xreallocarray(pr->follow, n, sizeof(*pr->follow));
		for (size_t i = pr->nfollow; i < n; i++)
			pr->follow[i] = (struct probe_follow){ -1, 0 };
		pr->nfollow = n;
	}
	pr->follow[fn] = (struct probe_follow){ callee, delta };
}

struct entry_of {
	uint64_t addr;
	uint32_t func;
	uint32_t site;		/* the entry's index in t->sites */
};

static int entry_cmp(const void *a, const void *b)
{
	const struct entry_of *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static struct entry_of *entry_find(struct entry_of *ents, size_t n,
				   uint64_t addr)
{
	struct entry_of key = { .addr = addr };

	return bsearch(&key, ents, n, sizeof(*ents), entry_cmp);
}

/* open_function for the function whose entry is site e (its sites follow
 * it). */
static bool open_function_at(const struct sym_table *t, size_t e,
			     struct fn_plan *fp)
{
	fp->first = e;
	for (fp->n = 1; e + fp->n < t->nsites &&
	     t->sites[e + fp->n].func == t->sites[e].func; fp->n++)
		;
	return open_function(t, fp);
}

/* Does the function whose entry is site `e` return only where its caller
 * sees it: by a ret, or by a tail call into a traced function (whose
 * return ends both), an indirect jump only through a known table?
 * (Through a jump to an untraced function, its caller would go on
 * unseen.)  fp: scratch. */
static bool returns_seen(const struct sym_table *t, size_t e,
			 const char *const *skip, struct entry_of *ents,
			 size_t nents, struct fn_plan *fp)
{
	bool ind = false, ok;

	for (size_t i = e + 1; i < t->nsites && t->sites[i].func ==
	     t->sites[e].func && !t->sites[i].is_entry; i++) {
		const struct insn *in = &t->sites[i].insn;
		const struct entry_of *x;

		if (in->op == INSN_RET)
			continue;
		if (in->op == INSN_JMP_IND) {
			ind = true;
			continue;
		}
		if (in->op != INSN_JMP && in->op != INSN_JCC)
			return false;
		x = entry_find(ents, nents, in->target);
		if (!x || skip[x->func])
			return false;
	}
	if (!ind)
		return true;
	ok = open_function_at(t, e, fp) && patch_jumps_known(fp->f);
	plan_free(fp);
	return ok;
}

/* Is every call of the function a direct one to a traced function of
 * the module, and only one of them to callee?  Then a frame right above
 * the function's is always that of the function it called (or of the
 * first of a chain of tail calls from it): no call can reach callee
 * another way (through a pointer, a PLT stub, an untraced function's
 * tail jump), and callee's frame is the one its single call made. */
static bool calls_only_traced(const struct patch_func *f, uint64_t callee,
			      const char *const *skip,
			      struct entry_of *ents, size_t nents)
{
	uint64_t *calls;
	size_t n, to_callee = 0;
	bool ok;

	if (!patch_direct_calls(f, &calls, &n))
		return false;
	ok = true;
	for (size_t k = 0; k < n && ok; k++) {
		const struct entry_of *x = entry_find(ents, nents, calls[k]);

		ok = x && !skip[x->func];
		to_callee += calls[k] == callee;
	}
	free(calls);
	return ok && to_callee == 1;
}

/* The rets that no probe took and that only a call's return leads to
 * (patch_ret_after_call), in a function that calls only traced functions
 * of the module, that one once (calls_only_traced), which returns only
 * where its caller sees it (returns_seen): follows[i] is set, and no int3
 * is needed there.  The int3 engine never does this: it is the
 * reference the tables are compared with. */
static void follow_rets(struct tracer *tr, struct process *p,
			const struct sym_table *t, const int32_t *ids,
			const char *const *skip, const bool *probed,
			bool *follows)
{
	struct entry_of *ents = NULL;
	struct fn_plan *fp = NULL;
	size_t nents = 0;

	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *s = &t->sites[i];
		const struct entry_of *x;
		uint64_t callee;
		uint32_t delta;
		size_t e;

		if (s->is_entry || probed[i] || skip[s->func] ||
		    s->insn.op != INSN_RET || s->insn.imm)
			continue;
		if (!ents) {
			ents = xmalloc(t->nsites * sizeof(*ents));
			for (size_t k = 0; k < t->nsites; k++)
				if (t->sites[k].is_entry)
					ents[nents++] = (struct entry_of){
						t->sites[k].addr,
						t->sites[k].func, (uint32_t)k };
			qsort(ents, nents, sizeof(*ents), entry_cmp);
			fp = xcalloc(1, sizeof(*fp));
		}
		for (e = i; e > 0 && !t->sites[e].is_entry; e--)
			;
		if (!t->sites[e].is_entry || t->sites[e].func != s->func ||
		    !open_function_at(t, e, fp))
			goto next;
		if (!patch_ret_after_call(fp->f, s->addr, &callee, &delta) ||
		    !calls_only_traced(fp->f, callee, skip, ents, nents))
			goto next;
		plan_free(fp);
		x = entry_find(ents, nents, callee);
		if (!x || skip[x->func] || ids[x->func] < 0 || ids[s->func] < 0 ||
		    !returns_seen(t, x->site, skip, ents, nents, fp))
			goto next;
		follows[i] = true;
		set_follow(&p->probes, ids[s->func], ids[x->func], delta);
		tr->pstats.sites_follow++;
next:
		plan_free(fp);
	}
	free(fp);
	free(ents);
}

/* The jumps of windows [from, nwins) into the program: together, in runs
 * (mem_write_pieces: one pread and one pwrite for many windows, the same
 * pages as one by one).  Windows never overlap. */
static void write_windows(struct process *p, size_t from)
{
	size_t n = p->probes.nwins - from;
	struct mem_piece *v = xcalloc(n ? n : 1, sizeof(*v));

	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct probe_window *w = &p->probes.wins[from + i];

		if (w->len)	/* (a short function's stub patches nothing) */
			v[k++] = (struct mem_piece){ w->start, w->len,
						     w->patch, false };
	}
	n = k;
	qsort(v, n, sizeof(*v), mem_piece_cmp);
	if (mem_write_pieces(p->memfd, v, n))
		for (size_t i = 0; i < n; i++)
			if (!v[i].ok)
				warn_msg("patching %#llx: %s",
					 (unsigned long long)v[i].addr,
					 strerror(errno));
	free(v);
}


void probes_arm(struct tracer *tr, struct process *p, pid_t tid,
		const struct sym_table *t, const int32_t *ids,
		const char *const *skip, uint32_t ranges_base, bool *probed,
		bool *follows, bool *stubbed)
{
	struct stub_area a = { .used = STUBS_OFF };
	struct retired_area *old;
	size_t nwins0 = p->probes.nwins;
	uint64_t ctl = p->probes.ctl;
	struct mod_plan mp = { 0 };

	if (!p->probes.on || !t->nsites)
		return;
	plan_module(t, skip, &mp);
	drop_foreign_targets(t, &mp);
	plan_short(t, skip, &mp);
	a.nunsafe = unsafe_pcs(tr, p, (uint64_t **)&a.unsafe);
	/* the area is as long as the stubs need: under a non-PIE executable
	 * at 4 MB there is little room within rel32 reach */
	layout_module(p, t, &mp, &a);
	a.len = (a.used + STUB_MAX + 4095) & ~(size_t)4095;
	old = areas_reuse(p, AREA_STUBS, t->lo, t->hi, a.len);
	if (old) {
		a.base = old->at;
		a.len = old->len;
	} else {
		a.base = process_map_near(p, tid, t, a.len);
	}
	if (!a.base || (a.base + a.len > t->hi ? a.base + a.len : t->hi) -
			(a.base < t->lo ? a.base : t->lo) > AREA_REACH) {
		/* mapped out of reach: the program gets it back */
		if (a.base && !old)
			inject(tid, p->memfd, 0, SYS_munmap, (long)a.base,
			       (long)a.len, 0, 0, 0, 0);
		mod_plan_free(&mp);
		free((void *)a.unsafe);
		return;		/* out of reach: every site gets its int3 */
	}
	for (size_t k = 0; k < mp.nwins; k++)
		if (!mp.wins[k].dropped && !mp.wins[k].fixup)
			mp.wins[k].stub += a.base;
	build_redirects(&mp);
	a.buf = xcalloc(1, a.len);
	memcpy(a.buf, probe_blob, sizeof(probe_blob));
	memcpy(a.buf + PROBE_CTL_PTR_OFF, &ctl, sizeof(ctl));
	if (old)
		reuse_blob(p, old, a.buf);
	area_tag_fill(a.buf + TAG_OFF, AREA_STUBS, a.len, t->lo, ctl);
	tr->pstats.redirected += encode_module(p, t, &mp, ids, ranges_base,
					       &a, probed, stubbed, &tr->pstats);
	mod_plan_free(&mp);
	free((void *)a.unsafe);
	/* the stubs first, then the jumps to them (the process is stopped,
	 * its only thread outside this module's code) */
	if (mem_write(p->memfd, a.base, a.buf, a.used) != 0) {
		p->probes.nwins = nwins0;
		memset(probed, 0, t->nsites * sizeof(*probed));
		memset(stubbed, 0, t->nfuncs * sizeof(*stubbed));
	} else {
		struct probes *pr = &p->probes;
		size_t k = 0;

		/* an area used again after a dlclose is listed already */
		while (k < pr->nareas && pr->areas[k].lo != a.base)
			k++;
		/* (counted once it is there: out of memory, the emergency
		 * detach looks at every area counted) */
		if (k == pr->nareas) {
			pr->areas = xreallocarray(pr->areas, pr->nareas + 1,
						  sizeof(*pr->areas));
			pr->nareas++;
		}
		pr->areas[k] = (struct addr_range){ a.base, a.base + a.used };
		areas_add(p, a.base, AREA_STUBS);
	}
	write_windows(p, nwins0);
	for (size_t i = 0; i < t->nsites; i++)
		if (probed[i])
			tr->pstats.sites_probe[!t->sites[i].is_entry]++;
	free(a.buf);
	follow_rets(tr, p, t, ids, skip, probed, follows);
}

/* ---- the ring ------------------------------------------------------------ */

static size_t key_slot(const struct probes *pr, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 17) & (pr->cap_shadows - 1);
}

struct thread *probes_shadow(struct process *p, uint64_t key)
{
	struct probes *pr = &p->probes;
	size_t i;

	if (key == pr->vfork_key && pr->vfork_shadow)
		return pr->vfork_shadow;
	if (key == pr->last_key && pr->last_shadow)
		return pr->last_shadow;
	if (2 * (pr->nshadows + 1) > pr->cap_shadows) {
		struct probes big = { .cap_shadows = pr->cap_shadows ?
				      2 * pr->cap_shadows : 64 };

		big.shadows = xcalloc(big.cap_shadows, sizeof(*big.shadows));
		for (size_t k = 0; k < pr->cap_shadows; k++) {
			if (!pr->shadows[k].sh)
				continue;
			for (i = key_slot(&big, pr->shadows[k].key);
			     big.shadows[i].sh; i = (i + 1) & (big.cap_shadows - 1))
				;
			big.shadows[i] = pr->shadows[k];
		}
		free(pr->shadows);
		pr->shadows = big.shadows;
		pr->cap_shadows = big.cap_shadows;
	}
	for (i = key_slot(pr, key); pr->shadows[i].sh;
	     i = (i + 1) & (pr->cap_shadows - 1))
		if (pr->shadows[i].key == key)
			break;
	if (!pr->shadows[i].sh) {
		pr->shadows[i].key = key;
		pr->shadows[i].sh = xcalloc(1, sizeof(struct thread));
		pr->nshadows++;
	}
	pr->last_key = key;
	pr->last_shadow = pr->shadows[i].sh;
	return pr->shadows[i].sh;
}

void probes_vfork(struct process *p, uint64_t key, pid_t child)
{
	struct probes *pr = &p->probes;

	if (pr->vfork_shadow) {
		thread_free_frames(pr->vfork_shadow);
		free(pr->vfork_shadow);
		pr->vfork_shadow = NULL;
	}
	pr->vfork_key = 0;
	pr->vfork_child = 0;
	if (!child || !key)
		return;
	pr->vfork_shadow = xcalloc(1, sizeof(*pr->vfork_shadow));
	thread_copy_stack(pr->vfork_shadow, probes_shadow(p, key));
	pr->vfork_key = key;	/* from now on, the key is the child's */
	pr->vfork_child = child;
}

bool probes_adopt(struct process *p, struct thread *sh, int32_t fn,
		  uint64_t sp)
{
	struct probes *pr = &p->probes;

	for (size_t i = 0; i < pr->cap_shadows; i++)
		if (pr->shadows[i].sh && pr->shadows[i].sh != sh &&
		    thread_adopt(sh, pr->shadows[i].sh, fn, sp))
			return true;
	return false;
}

void probes_thread_gone(struct process *p, uint64_t key)
{
	if (p->probes.cap_shadows && key)
		thread_clear_frames(probes_shadow(p, key));
}

/* A drain holds back the last entry record it read (held) until the
 * next one: when that is the return of the same call (a leaf, whose
 * RSS did not move), the pair is taken at once (take_leaf). */
struct drain_ctx {
	struct tracer *tr;
	struct process *p;
	uint64_t time;
	bool held;
	struct ring_event hev;
	/* the RSS curve's samples not yet given (sample_flush): n alike,
	 * of process sp and RSS srss (every record of a drain has its time) */
	struct process *sp;
	int64_t srss;
	uint64_t sn;
	/* the last record's packed RSS, and event_rss of it */
	uint64_t packed;
	int64_t rss;
};

static void sample_flush(struct drain_ctx *c)
{
	struct trap trap = { .rss = c->srss, .time = c->time };

	if (c->sn)
		tracer_sample_n(c->tr, c->sp, &trap, c->sn);
	c->sn = 0;
}

/* tracer_sample, n times, gathered: a drain's records mostly repeat the
 * RSS the fault gate keeps. */
static void sample(struct drain_ctx *c, struct process *ep,
		   const struct trap *trap, uint64_t n)
{
	if (c->sn && (c->sp != ep || c->srss != trap->rss))
		sample_flush(c);
	c->sp = ep;
	c->srss = trap->rss;
	c->sn += n;
}

static int64_t event_rss(const struct tracer *tr, uint64_t packed)
{
	static uint64_t page;
	uint64_t res = packed & 0xffffffffu, shr = packed >> 32;
	unsigned part = tr->opts->rss_source & RSS_PART_MASK;
	uint64_t pages = part == RSS_ANON ? res - shr :
			 part == RSS_FILE ? shr : res;

	if (packed == PROBE_NO_RSS || shr > res)
		return -1;
	if (!page)
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	return (int64_t)(pages * page);
}

/* event_rss of a drain's record: most repeat the last one's (the fault
 * gate's cached RSS). */
static int64_t drain_rss(struct drain_ctx *c, uint64_t packed)
{
	if (packed != c->packed) {
		c->packed = packed;
		c->rss = event_rss(c->tr, packed);
	}
	return c->rss;
}

static void take_traps(struct tracer *tr, struct process *p, uint64_t limit,
		       uint64_t time);

/* -f: a vfork child's events are its own process's (it runs the
 * parent's probes, in the parent's memory, with the parent's key) */
static struct process *event_process(const struct drain_ctx *c, uint64_t key)
{
	struct process *child;

	if (key && key == c->p->probes.vfork_key &&
	    c->p->probes.vfork_child && c->tr->opts->follow_forks &&
	    (child = process_find(c->tr, c->p->probes.vfork_child)))
		return child;
	return c->p;
}

/* One record, as it comes. */
static void take_event(struct drain_ctx *c, const struct ring_event *ev)
{
	static const struct insn ret = { .op = INSN_RET };
	const struct probe_hot *h = &c->p->probes.hot[ev->site];
	const struct probe_site *s;
	struct trap trap = { .rss = drain_rss(c, ev->rss), .time = c->time };
	struct thread *sh = probes_shadow(c->p, ev->key);
	struct process *ep = event_process(c, ev->key);
	uint64_t dest;

	c->tr->pstats.events_probe++;
	c->tr->pstats.gate_skips += ev->cached;
	sample(c, ep, &trap, 1);
	if (ev->kind == RING_ENTRY && h->entry_fn >= 0) {
		tracer_enter(ep, sh, h->entry_fn, ev->sp, &trap);
	} else if (ev->kind == RING_RETURN && h->ret_fn >= 0 && h->ret) {
		tracer_leave(c->tr, ep, sh, h->ret_fn, &ret, 0, 0, ev->sp, 0,
			     &trap);
	} else if (ev->kind == RING_RETURN && h->ret_fn >= 0) {
		/* the probe runs only when the site leaves: a jcc taken, an
		 * indirect jmp to its target (the RING_DEST before) */
		s = &c->p->probes.sites[ev->site];
		dest = s->insn.target;
		if (s->insn.op == INSN_JMP_IND) {
			dest = sh->jump_dest;
			sh->jump_dest = 0;
		}
		tracer_leave(c->tr, ep, sh, s->ret_fn, &s->insn, s->ranges_at,
			     s->nranges, ev->sp, dest, &trap);
	} else {
		c->tr->pstats.bad_records++;
	}
}

/* Entry record e and the next record x are one call of a leaf: x is a
 * ret of e's function at e's stack pointer, in e's thread, with e's RSS,
 * and the entry would be a plain push (thread_leaf_ok) whose pop ends
 * no caller with it (probes.follow).  Then both are taken as
 * tracer_enter and tracer_leave would take them, without the frame
 * (most of python's calls: half of its records).  False: nothing done. */
static bool take_leaf(struct drain_ctx *c, const struct ring_event *e,
		      const struct ring_event *x)
{
	const struct probe_hot *he = &c->p->probes.hot[e->site];
	const struct probe_hot *hx = &c->p->probes.hot[x->site];
	struct trap trap = { .rss = drain_rss(c, e->rss), .time = c->time };
	struct process *ep;
	struct thread *sh;

	if (x->kind != RING_RETURN || x->key != e->key || x->sp != e->sp ||
	    x->rss != e->rss || !hx->ret || hx->ret_fn != he->entry_fn ||
	    trap.rss < 0)
		return false;
	sh = probes_shadow(c->p, e->key);
	ep = event_process(c, e->key);
	if (!thread_leaf_ok(sh, e->sp))
		return false;
	if (sh->depth) {
		int32_t caller = sh->stack[sh->depth - 1].fn;

		if ((size_t)caller < ep->probes.nfollow &&
		    ep->probes.follow[caller].callee >= 0)
			return false;
	}
	c->tr->pstats.events_probe += 2;
	c->tr->pstats.gate_skips += (uint64_t)e->cached + x->cached;
	sample(c, ep, &trap, 2);
	thread_leaf_call(sh, ep->rep, he->entry_fn, &trap);
	return true;
}

/* The held entry, taken as it came. */
static void flush_held(struct drain_ctx *c)
{
	if (c->held) {
		c->held = false;
		take_event(c, &c->hev);
	}
}

static void on_event(const struct ring_event *ev, void *arg)
{
	struct drain_ctx *c = arg;

	/* an indirect jmp's target, for its RING_RETURN next in the thread
	 * (no event of its own) */
	if (ev->kind == RING_DEST) {
		probes_shadow(c->p, ev->key)->jump_dest = ev->sp;
		return;
	}

	/* the queued int3 events that came before this record (a queue
	 * waits for many records: the next one's position is looked at),
	 * after the held entry, which came before them */
	if (c->p->probes.trap_head < c->p->probes.ntraps &&
	    c->p->probes.traps[c->p->probes.trap_head].pos <= ev->pos) {
		flush_held(c);
		sample_flush(c);
		take_traps(c->tr, c->p, ev->pos, c->time);
	}
	if (c->held) {
		c->held = false;
		if (take_leaf(c, &c->hev, ev))
			return;
		take_event(c, &c->hev);
	}
	if (ev->kind == RING_ENTRY && c->p->probes.hot[ev->site].entry_fn >= 0) {
		c->hev = *ev;
		c->held = true;
		return;
	}
	take_event(c, ev);
}

/* Take the queued int3 events that come before ring position limit. */
static void take_traps(struct tracer *tr, struct process *p, uint64_t limit,
		       uint64_t time)
{
	struct probes *pr = &p->probes;

	while (pr->trap_head < pr->ntraps && pr->traps[pr->trap_head].pos <= limit) {
		const struct probe_trap *t = &pr->traps[pr->trap_head++];
		struct trap trap = { .rss = t->rss, .time = time };
		struct thread *sh = probes_shadow(p, t->key);

		tracer_sample(tr, p, &trap);
		if (t->entry_fn >= 0)
			tracer_enter(p, sh, t->entry_fn, t->sp, &trap);
		if (t->ret_fn >= 0)
			tracer_leave(tr, p, sh, t->ret_fn, &t->insn,
				     t->ranges_at, t->nranges, t->sp, t->dest,
				     &trap);
	}
	if (pr->trap_head == pr->ntraps)
		pr->trap_head = pr->ntraps = 0;
}

bool probes_can_defer(const struct process *p)
{
	return p->probes.on && !p->probes.vfork_child;
}

/* A queue this long means iprofmem is far behind: the next trap waits
 * for the ring to be drained first (bounds our memory). */
#define TRAPS_MAX 65536

void probes_defer(struct tracer *tr, struct process *p, struct probe_trap *t)
{
	struct probes *pr = &p->probes;
	/* the head as the program left it: a scribbled one only moves the
	 * event within this program's own profile, and never before what
	 * is queued */
	uint64_t pos = __atomic_load_n(&pr->rd.hdr->head, __ATOMIC_ACQUIRE);

	if (pos < pr->rd.tail)
		pos = pr->rd.tail;
	if (pr->ntraps > pr->trap_head && pos < pr->traps[pr->ntraps - 1].pos)
		pos = pr->traps[pr->ntraps - 1].pos;
	t->pos = pos;
	if (pr->ntraps - pr->trap_head >= TRAPS_MAX)
		probes_drain(tr, p);
	if (pr->ntraps == pr->cap_traps && pr->trap_head) {
		memmove(pr->traps, pr->traps + pr->trap_head,
			(pr->ntraps - pr->trap_head) * sizeof(*pr->traps));
		pr->ntraps -= pr->trap_head;
		pr->trap_head = 0;
	}
	if (pr->ntraps == pr->cap_traps) {
		pr->cap_traps = pr->cap_traps ? 2 * pr->cap_traps : 64;
		pr->traps = xreallocarray(pr->traps, pr->cap_traps,
					  sizeof(*pr->traps));
	}
	pr->traps[pr->ntraps++] = *t;
	if (pos <= pr->rd.tail)
		take_traps(tr, p, pr->rd.tail, tracer_clock(tr));
	else
		tr->pstats.traps_queued++;
}

static size_t drain(struct tracer *tr, struct process *p, size_t max)
{
	struct drain_ctx c = {
		.tr = tr, .p = p, .time = tracer_clock(tr),
		.packed = PROBE_NO_RSS, .rss = -1,
	};
	const struct ring_limits lim = {
		.nsites = (uint32_t)p->probes.nsites, .nthreads = 65536,
	};
	struct ring_stats before;
	size_t n, total = 0;

	if (!p->probes.on)
		return 0;
	before = p->probes.rd.stats;
	do {
		n = ring_drain(&p->probes.rd, &lim,
			       max - total < 65536 ? max - total : 65536,
			       on_event, &c);
		total += n;
	} while (n == 65536 && total < max);
	flush_held(&c);
	sample_flush(&c);
	take_traps(tr, p, p->probes.rd.tail, c.time);
	tr->pstats.bad_records += (p->probes.rd.stats.bad_site - before.bad_site) +
		(p->probes.rd.stats.bad_thread - before.bad_thread) +
		(p->probes.rd.stats.bad_kind - before.bad_kind);
	return total;
}

size_t probes_drain(struct tracer *tr, struct process *p)
{
	return drain(tr, p, SIZE_MAX);
}

size_t probes_drain_some(struct tracer *tr, struct process *p, size_t max)
{
	return drain(tr, p, max);
}

/* A thread in a probe call's way onto the TCB stack (after its first
 * instruction, up to its call): the program's stack pointer is the one
 * saved in its TCB.  False when it cannot be read. */
static bool tcb_sp_back(const struct process *p, struct user_regs_struct *r)
{
	uint64_t sp;

	if (mem_read(p->memfd, r->fs_base + STUB_TCB_TOP, &sp, sizeof(sp)) != 0)
		return false;
	r->rsp = sp;
	return true;
}

bool probes_leave_stub(const struct process *p, struct user_regs_struct *r,
		       bool fault)
{
	const bool tcb = p->probes.tcb;
	/* from a probe call's start to its call; where its first access to
	 * the program's stack is (a fault there is the site's) */
	const uint64_t to_call = tcb ? STUB_TCB_CALL_AT : 5;
	const uint64_t touch = tcb ? STUB_TCB_READ_AT : 0;

	for (size_t i = 0; i < p->probes.nwins; i++) {
		const struct probe_window *w = &p->probes.wins[i];
		uint64_t o = r->rip - w->stub;

		if (r->rip < w->stub || o >= w->stub_len)
			continue;
		/* a ret's probe faults first where the ret would (its push,
		 * or on the TCB stack its read, reads the return address):
		 * it is the ret's fault (only a fault: the ret's own bytes
		 * are the window's, where no handler may return) */
		for (size_t k = 0; fault && k < PATCH_MAX_INSNS; k++)
			if (w->ret_push[k] >= 0 &&
			    o == (uint64_t)w->ret_push[k] + touch) {
				r->rip = w->ret_at[k];
				return true;
			}
		/* at an indirect jmp's trap, every register is the jmp's */
		if (w->jind_trap >= 0 && (o == (uint64_t)w->jind_trap ||
					  o == (uint64_t)w->jind_trap + 1)) {
			r->rip = w->jind_at;
			return true;
		}
		/* the check's read of the jmp's operand faulted (an unreadable
		 * table): the jmp's fault, its registers back from the TCB
		 * stack (rax, the flags) and the saved stack pointer, so that
		 * the handler's frame goes on the program's stack */
		if (fault && tcb && w->jind_out >= 0 &&
		    o < (uint64_t)w->jind_out &&
		    r->rsp - r->fs_base < PROBE_TCB_BYTES) {
			uint64_t saved[2];	/* the flags, rax */

			if (mem_read(p->memfd, r->fs_base + STUB_TCB_TOP - 16,
				     saved, sizeof(saved)) != 0 ||
			    !tcb_sp_back(p, r))
				return false;
			r->eflags = saved[0];
			r->rax = saved[1];
			r->rip = w->jind_at;
			return true;
		}
		if (w->jcall >= 0 && o <= (uint64_t)w->jcall &&
		    o >= (uint64_t)w->jcall - to_call) {
			static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
			uint8_t at[4];

			if (tcb && o > (uint64_t)w->jcall - to_call &&
			    !tcb_sp_back(p, r))
				return false;
			if (!tcb && o == (uint64_t)w->jcall)
				r->rsp += 8;
			/* the target's first push: past an endbr64 */
			r->rip = w->jtarget;
			if (mem_read(p->memfd, r->rip, at, sizeof(at)) == 0 &&
			    !memcmp(at, endbr64, sizeof(at)))
				r->rip += sizeof(at);
			return true;
		}
		/* the probe call's first instruction (at 0) pushes, the
		 * site id or, before a ret, the return address that the
		 * movs after it make the id: past it, the stack pointer is
		 * 8 lower */
		if (w->call0 >= 0 && o > 0 && o <= (uint64_t)w->call0) {
			if (!tcb)
				r->rsp += 8;
			else if (!tcb_sp_back(p, r))
				return false;
		} else if (!(w->call0 >= 0 && o == 0) &&
			 o != (uint64_t)(int64_t)w->copy0)
			return false;
		r->rip = w->start;
		return true;
	}
	return false;
}

void probes_module_gone(struct process *p, uint64_t lo, uint64_t hi)
{
	struct probes *pr = &p->probes;
	size_t n = 0;

	for (size_t i = 0; i < pr->nwins; i++)
		if (pr->wins[i].start < lo || pr->wins[i].start >= hi)
			pr->wins[n++] = pr->wins[i];
	pr->nwins = n;
	n = 0;
	for (size_t i = 0; i < pr->nhops; i++)
		if (pr->hops[i].lo < lo || pr->hops[i].lo >= hi)
			pr->hops[n++] = pr->hops[i];
	pr->nhops = n;
}

bool probes_inside(const struct process *p, uint64_t pc, uint64_t *exit)
{
	for (size_t i = 0; i < p->probes.nhops; i++)
		if (pc >= p->probes.hops[i].lo && pc < p->probes.hops[i].hi) {
			*exit = 0;
			return true;
		}
	for (size_t i = 0; i < p->probes.nareas; i++) {
		const struct addr_range *a = &p->probes.areas[i];

		if (pc < a->lo || pc >= a->hi)
			continue;
		*exit = pc < a->lo + sizeof(probe_blob) ?
			a->lo + PROBE_EXIT_OFF : 0;
		return true;
	}
	return false;
}

struct process *probes_owner(const struct tracer *tr, struct process *p)
{
	if (p->probes.on)
		return p;
	for (size_t k = 0; k < tr->nprocs; k++)
		if (tr->procs[k]->probes.on &&
		    tr->procs[k]->probes.vfork_child == p->pid)
			return tr->procs[k];
	return NULL;
}

/* ---- the seccomp watch ------------------------------------------------- */

/* A program that installs a seccomp filter while traced (a sandbox's
 * worker) may be killed by the filter for the probes' next system call
 * (their statm read).  So the calls of the C library's prctl and syscall
 * that go through the modules' offset tables are pointed at the probe
 * blob's watch stubs (probe_x86_64.S), which stop at an int3 for a call
 * that may install a filter (PR_SET_SECCOMP, SYS_seccomp, SYS_prctl);
 * from then on the probes make no system call (RING_SYS_NONE) and
 * iprofmem injects none.  Only entries whose page is resident and the
 * process's own (written by the dynamic linker) are changed, so that the
 * program's RSS, anonymous and file-backed, is what it is untraced.  The
 * watch is set up at the first RSS the probes read (RING_SYS_ASK), when
 * the modules are relocated; a filter already there then is seen in
 * /proc/PID/status.  Not watched: a filter installed by a system call
 * instruction of the program's own, or through a call inside the C
 * library; the probes' refused calls are then handled as before
 * (probe_call_refused), a filter that kills kills. */

#define WATCH_ASKS	16	/* stops to wait for a module's relocation */

static void watch_state(const struct process *p, uint32_t state)
{
	struct ring_header *h = p->probes.ring;

	__atomic_store_n(&h->nosys, state, __ATOMIC_RELEASE);
}

void probes_watch_ask(struct process *p)
{
	if (!p->probes.on || p->probes.nosys)
		return;
	p->probes.ask_left = WATCH_ASKS;
	watch_state(p, RING_SYS_ASK);
}

static void probes_nosys(struct process *p)
{
	if (!p->probes.on || p->probes.nosys)
		return;
	p->probes.nosys = true;
	watch_state(p, RING_SYS_NONE);
	warn_msg("process %d installs a seccomp filter: its probes make no "
		 "more system calls, and stop for the RSS when it may have "
		 "changed", (int)p->pid);
}

/* Is the page at addr resident and the process's own (anonymous, not
 * shared), so that writing to it changes no RSS?  (/proc/PID/pagemap:
 * bit 63 present, 62 swapped, 61 a file page or shared.) */
static bool page_own(pid_t pid, uint64_t addr)
{
	char path[64];
	uint64_t e;
	bool ok;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = pread(fd, &e, sizeof(e), (off_t)(addr / 4096 * 8)) == sizeof(e) &&
	     (e >> 63 & 1) && !(e >> 62 & 1) && !(e >> 61 & 1);
	close(fd);
	return ok;
}

static uint64_t watch_stub(const struct process *p, int kind)
{
	return p->probes.areas[0].lo + (kind == SYM_WATCH_PRCTL ?
					 PROBE_WATCH_PRCTL_OFF :
					 PROBE_WATCH_SYSCALL_OFF);
}

static bool got_seen(const struct probes *pr, uint64_t addr)
{
	for (size_t i = 0; i < pr->ngots; i++)
		if (pr->gots[i].addr == addr)
			return true;
	return false;
}

static void got_add(struct probes *pr, uint64_t addr, uint64_t orig)
{
	pr->gots = xreallocarray(pr->gots, pr->ngots + 1, sizeof(*pr->gots));
	pr->gots[pr->ngots++] = (struct probe_got){ addr, orig };
}

/* Write one offset table entry while other threads may run: a store of
 * the stopped thread tid, one aligned word, as the dynamic linker writes
 * one (/proc/PID/mem writes as the kernel's memcpy does, which need not
 * be a single store), by the probe code's gadget.  A read-only page
 * (RELRO) is made writable for it, then read-only again: its mapping
 * ends as it was.  Returns false if the entry could not be written so
 * (the caller then writes it through /proc/PID/mem). */
static bool got_store(struct process *p, pid_t tid, uint64_t addr,
		      uint64_t value)
{
	const uint64_t base = p->probes.areas[0].lo, page = addr & ~4095ull;
	char *maps;
	long a[6] = { (long)page, 4096, 0, 0, 0, 0 };
	int prot, r;

	if (addr % sizeof(value))
		return false;
	maps = xmalloc(MAPS_MAX);
	prot = read_proc_file(p->pid, "maps", maps, MAPS_MAX) ?
		procfs_maps_prot(maps, addr) : -1;
	free(maps);
	if (prot < 0 || !(prot & PROT_READ))
		return false;
	if (prot & PROT_WRITE)
		return arch_run_store(tid, base + PROBE_STORE_OFF, addr,
				      value) == 0;
	a[2] = prot | PROT_WRITE;
	if (arch_run_syscall(tid, base + PROBE_SYSCALL_OFF, SYS_mprotect,
			     a) != 0)
		return false;
	r = arch_run_store(tid, base + PROBE_STORE_OFF, addr, value);
	a[2] = prot;
	if (arch_run_syscall(tid, base + PROBE_SYSCALL_OFF, SYS_mprotect,
			     a) != 0)
		warn_msg("process %d: the page at %#llx stays writable",
			 (int)p->pid, (unsigned long long)page);
	return r == 0;
}

/* Point one entry at its stub, if it holds the C library's function (or
 * its own module's lazy-binding code, to be resolved there).  Returns
 * false when the dynamic linker has not relocated it yet. */
static bool watch_got(struct tracer *tr, struct process *p, pid_t tid,
		      const struct sym_got *g,
		      const uint64_t real[2])
{
	uint64_t now, stub = watch_stub(p, g->kind);

	/* not even read where the page is not the process's own: that
	 * would make it resident */
	if (!page_own(p->pid, g->addr)) {
		if (g->relative)
			return false;	/* not relocated yet */
		got_add(&p->probes, g->addr, 0);
		return true;
	}
	if (mem_read(p->memfd, g->addr, &now, sizeof(now)) != 0) {
		got_add(&p->probes, g->addr, 0);
		return true;
	}
	if (g->relative && now == g->file)
		return false;
	if (real[g->kind] && (now == real[g->kind] ||
			      (now >= g->lo && now < g->hi)) &&
	    (got_store(p, tid, g->addr, stub) ||
	     mem_write(p->memfd, g->addr, &stub, sizeof(stub)) == 0)) {
		got_add(&p->probes, g->addr, now);
		tr->pstats.watch_gots++;
		return true;
	}
	got_add(&p->probes, g->addr, 0);	/* interposed, or not ours */
	return true;
}

/* The probes asked (RING_SYS_ASK), at a stop of one thread: the others
 * may run meanwhile. */
static void watch_setup(struct tracer *tr, struct process *p, pid_t tid)
{
	struct sym_got *g = NULL;
	struct sym_session *s;
	uint64_t real[2];
	bool pending = false;
	char err[256];
	size_t n;

	if (seccomp_filtered(p->pid)) {
		probes_nosys(p);
		return;
	}
	watch_state(p, RING_SYS_OK);
	if (!p->probes.nareas || !(s = symbols_open(p->pid, err, sizeof(err))))
		return;
	n = symbols_seccomp_gots(s, &g, real);
	symbols_close(s);
	for (int k = 0; k < 2; k++)
		if (real[k])
			mem_write(p->memfd, p->probes.areas[0].lo +
				  (k == SYM_WATCH_PRCTL ?
				   PROBE_WATCH_PRCTL_REAL_OFF :
				   PROBE_WATCH_SYSCALL_REAL_OFF),
				  &real[k], sizeof(real[k]));
	for (size_t i = 0; i < n; i++)
		if (!got_seen(&p->probes, g[i].addr) &&
		    !watch_got(tr, p, tid, &g[i], real))
			pending = true;
	free(g);
	if (pending && p->probes.ask_left && p->probes.ask_left--)
		watch_state(p, RING_SYS_ASK);
}

/* Let the program go: the entries back where they point at our stubs,
 * the stubs' int3s made nops (a call already on its way to one then
 * goes straight on). */
static void watch_restore(const struct process *p, int fd)
{
	static const uint8_t nop = 0x90;
	const struct probes *pr = &p->probes;

	if (!pr->on || !pr->nareas)
		return;
	for (size_t i = 0; i < pr->ngots; i++) {
		uint64_t now;

		if (pr->gots[i].orig &&
		    mem_read(fd, pr->gots[i].addr, &now, sizeof(now)) == 0 &&
		    (now == watch_stub(p, SYM_WATCH_PRCTL) ||
		     now == watch_stub(p, SYM_WATCH_SYSCALL)))
			mem_write(fd, pr->gots[i].addr, &pr->gots[i].orig,
				  sizeof(pr->gots[i].orig));
	}
	mem_write(fd, pr->areas[0].lo + PROBE_WATCH_PRCTL_BACK_OFF - 1, &nop, 1);
	mem_write(fd, pr->areas[0].lo + PROBE_WATCH_SYSCALL_BACK_OFF - 1, &nop,
		  1);
}

/* Does a thread of the process run under a seccomp filter? */
static bool any_filtered(const struct tracer *tr, const struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p &&
		    seccomp_filtered(tr->threads.threads[i].tid))
			return true;
	return false;
}

void probes_filter_check(struct tracer *tr, struct process *p)
{
	if (p->probes.on && !p->probes.nosys && any_filtered(tr, p))
		probes_nosys(p);
}

/* A probe saw the system-call watch's rings move (RING_SYS_WATCH): a
 * thread left seccomp or prctl.  If the process runs under a filter
 * now, the probes make no more system calls; else what they saw is
 * seen. */
static void swatch_stop(struct tracer *tr, struct process *p, uint64_t sum)
{
	tr->pstats.swatch_stops++;
	/* any of its threads: a filter without TSYNC is the caller's */
	if (any_filtered(tr, p)) {
		if (!p->probes.nosys)
			tr->pstats.swatch_filters++;
		probes_nosys(p);
		return;
	}
	mem_write(p->memfd, p->probes.ctl + offsetof(struct probe_ctl, watch_seen),
		  &sum, sizeof(sum));
}

bool probes_own_trap(const struct process *p, uint64_t pc)
{
	const struct probes *pr = &p->probes;

	for (size_t i = 0; i < pr->nareas; i++)
		if (pc == pr->areas[i].lo + PROBE_NEED_RSS_BACK_OFF ||
		    pc == pr->areas[i].lo + PROBE_WATCH_PRCTL_BACK_OFF ||
		    pc == pr->areas[i].lo + PROBE_WATCH_SYSCALL_BACK_OFF)
			return true;
	return false;
}

/* A thread at a watch stub's int3 (r->rip just after it): a call about to
 * install a filter?  (syscall(SYS_prctl, ...) stops for any prctl.) */
static bool watch_trap(struct process *p, const struct user_regs_struct *r)
{
	enum { PR_SET_SECCOMP_ = 22, SYS_prctl_ = 157, SYS_seccomp_ = 317 };
	const struct probes *pr = &p->probes;

	if (!pr->nareas)
		return false;
	if (r->rip == pr->areas[0].lo + PROBE_WATCH_PRCTL_BACK_OFF) {
		if (r->rdi == PR_SET_SECCOMP_)
			probes_nosys(p);
		return true;
	}
	if (r->rip != pr->areas[0].lo + PROBE_WATCH_SYSCALL_BACK_OFF)
		return false;
	if (r->rdi == SYS_seccomp_ ||
	    (r->rdi == SYS_prctl_ && r->rsi == PR_SET_SECCOMP_))
		probes_nosys(p);
	return true;
}

bool probes_serve_rss(struct tracer *tr, struct process *p, pid_t tid,
		      struct user_regs_struct *r)
{
	unsigned long long size, res, shr;
	uint64_t packed = PROBE_NO_RSS;
	bool asked;
	char buf[128];
	ssize_t n;
	size_t i;

	p = probes_owner(tr, p);
	if (!p)
		return false;
	if (watch_trap(p, r))
		return true;
	for (i = 0; i < p->probes.nareas; i++)
		if (r->rip == p->probes.areas[i].lo + PROBE_NEED_RSS_BACK_OFF)
			break;
	if (i == p->probes.nareas)
		return false;
	if ((uint32_t)r->rdi == RING_SYS_WATCH) {
		swatch_stop(tr, p, r->rsi);
		r->rax = PROBE_NO_RSS;
		ptrace(PTRACE_SETREGS, tid, 0, r);
		return true;
	}
	/* why the probe came (its argument, probe_need_rss): to set the
	 * watch up (the first of the threads that came does it: the
	 * entries first, the RSS after, the same for the call), for want
	 * of system calls, or because statm could not be read */
	asked = (uint32_t)r->rdi == RING_SYS_ASK;
	if (asked && __atomic_load_n(&((struct ring_header *)p->probes.ring)->nosys,
				     __ATOMIC_ACQUIRE) == RING_SYS_ASK)
		watch_setup(tr, p, tid);
	/* what the probe would have read: /proc/PID/statm is the same file */
	n = p->rss.fd >= 0 ? pread(p->rss.fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "%llu %llu %llu", &size, &res, &shr) == 3 &&
		    shr <= res && res <= 0xffffffffu)
			packed = probe_pack_rss(res, shr);
	}
	r->rax = packed;
	ptrace(PTRACE_SETREGS, tid, 0, r);
	if (asked) {
		tr->pstats.watch_stops++;
		return true;
	}
	tr->pstats.rss_stops++;
	if (!p->probes.rss_stops && (uint32_t)r->rdi == RING_SYS_OK) {
		p->probes.rss_stops = true;
		warn_msg("process %d: its probes cannot read /proc/self/statm "
			 "(out of its reach after a chroot, or refused by a "
			 "seccomp filter): they stop for the RSS, as int3 "
			 "sites do", (int)p->pid);
	}
	return true;
}

void probes_restore(const struct process *p, int fd)
{
	uint8_t now[16];

	watch_restore(p, fd);

	for (size_t i = 0; i < p->probes.nwins; i++) {
		const struct probe_window *w = &p->probes.wins[i];

		if (mem_read(fd, w->start, now, w->len) == 0 &&
		    !memcmp(now, w->patch, w->len))
			mem_write(fd, w->start, w->orig, w->len);
	}
}

/* Turn off the probes of a process whose memory is open at fd, and take
 * from it what they cost it: the fault gate's perf rings, the statm
 * descriptor, its mapping of the event ring.  tid: a stopped thread of it
 * able to run system calls, or 0 (then they are only turned off).  pr
 * describes what is mapped (the parent's, for a forked child).  Returns
 * whether it got that far. */
static bool turn_off(const struct probes *pr, pid_t tid, int fd)
{
	const uint32_t off = 1, none = 0;
	int32_t sfd;

	if (mem_write(fd, pr->ctl + offsetof(struct probe_ctl, off), &off,
		      sizeof(off)) != 0 ||
	    mem_write(fd, pr->ctl + offsetof(struct probe_ctl, gate_nrings),
		      &none, sizeof(none)) != 0 ||
	    mem_write(fd, pr->ctl + offsetof(struct probe_ctl, watch_nrings),
		      &none, sizeof(none)) != 0 || !tid)
		return false;
	for (size_t i = 0; i < pr->nperf_maps; i++)
		inject(tid, fd, 0, SYS_munmap, (long)pr->perf_maps[i],
		       PERF_RING_BYTES, 0, 0, 0, 0);
	if (mem_read(fd, pr->ctl + offsetof(struct probe_ctl, statm_fd),
		     &sfd, sizeof(sfd)) == 0 && sfd >= 0)
		inject(tid, fd, 0, SYS_close, sfd, 0, 0, 0, 0, 0);
	if (pr->ring_at)
		inject(tid, fd, 0, SYS_munmap, (long)pr->ring_at,
		       (long)pr->ring_len, 0, 0, 0, 0);
	return true;
}

/* A forked child let go (no -f), stopped, its memory open at fd and its
 * bytes already put back: what it inherited of the probes goes as at a
 * detach, so that it runs as an untraced one would: the statm descriptor
 * (its parent's, naming the parent's statm), the event ring it shares
 * with its parent, the gate's rings; its copy of the control block is
 * turned off. */
void probes_let_go(const struct process *pp, pid_t child, int fd)
{
	if (pp->probes.on)
		turn_off(&pp->probes, pp->probes.nosys ||
				      seccomp_filtered(child) ? 0 : child, fd);
}

/* The program goes on without us (detach: -p, --duration): every thread is
 * out of the probe code and every byte is back.  The probes are turned
 * off (a signal frame might still return into a stub, which then jumps
 * back to the program's code, recording nothing), and what costs the
 * program something goes: the perf events (their rings unmapped), the
 * statm descriptor, the event ring, the probe stacks' pages.  The code
 * and the control block stay mapped, as the int3 engine's slots do.  tid:
 * a stopped thread able to run system calls. */
void probes_unload(struct tracer *tr, struct process *p, pid_t tid)
{
	struct probes *pr = &p->probes;

	if (!pr->on || p->memfd < 0)
		return;
	/* a filter that no probe saw yet (installed since their last
	 * event, by a call the watches do not see) */
	probes_filter_check(tr, p);
	probes_drain(tr, p);
	take_traps(tr, p, UINT64_MAX, tracer_clock(tr));
	ring_abandon(&pr->rd);
	take_fs_dummies(tr, p);
	/* under a seccomp filter, what was injected stays */
	if (!turn_off(pr, pr->nosys ? 0 : tid, p->memfd))
		return;
	pr->nperf_maps = 0;
	pr->ring_at = 0;
	inject(tid, p->memfd, 0, SYS_madvise, (long)(pr->ctl + CTL_BYTES),
	       (long)(DATA_BYTES - CTL_BYTES), MADV_DONTNEED, 0, 0, 0);
}

/* The probes' counters, from the ring's header in our own mapping: there
 * whether the process detached, exec'd or ended. */
static void read_counters(struct tracer *tr, struct process *p)
{
	const struct ring_header *h = p->probes.ring;

	tr->pstats.waits += __atomic_load_n(&h->waits, __ATOMIC_RELAXED);
	tr->pstats.nostack += __atomic_load_n(&h->nostack, __ATOMIC_RELAXED);
	tr->pstats.reopens += __atomic_load_n(&h->reopens, __ATOMIC_RELAXED);
}

void probes_forget(struct tracer *tr, struct process *p)
{
	struct probes *pr = &p->probes;

	if (pr->on) {
		probes_drain(tr, p);
		take_traps(tr, p, UINT64_MAX, tracer_clock(tr));
		read_counters(tr, p);
		munmap(pr->ring, pr->ring_len);
	}
	free(pr->traps);
	free(pr->follow);
	free(pr->gots);
	for (size_t i = 0; i < pr->cap_shadows; i++)
		if (pr->shadows[i].sh) {
			thread_free_frames(pr->shadows[i].sh);
			free(pr->shadows[i].sh);
		}
	free(pr->shadows);
	free(pr->sites);
	free(pr->hot);
	free(pr->wins);
	free(pr->entries);
	free(pr->areas);
	free(pr->hops);
	probes_vfork(p, 0, 0);
	memset(pr, 0, sizeof(*pr));
}

void probes_print_stats(const struct tracer *tr)
{
	const struct probe_stats *s = &tr->pstats;
	uint64_t all = s->events_probe + s->events_int3;

	fprintf(stderr, "iprofmem: stats: events %llu (probe %llu, int3 %llu",
		(unsigned long long)all, (unsigned long long)s->events_probe,
		(unsigned long long)s->events_int3);
	if (all)
		fprintf(stderr, ", %.1f%% by probes",
			100.0 * (double)s->events_probe / (double)all);
	fprintf(stderr, "; int3 events queued behind the ring %llu)\n",
		(unsigned long long)s->traps_queued);
	fprintf(stderr, "iprofmem: stats: sites: entries %llu probe, %llu int3; "
		"returns %llu probe, %llu int3, %llu seen at their callee's "
		"return; branches re-aimed %llu; short functions with a stub "
		"of their own %llu (their direct calls re-aimed %llu)\n",
		(unsigned long long)s->sites_probe[0],
		(unsigned long long)s->sites_int3[0],
		(unsigned long long)s->sites_probe[1],
		(unsigned long long)s->sites_int3[1],
		(unsigned long long)s->sites_follow,
		(unsigned long long)s->redirected,
		(unsigned long long)s->short_funcs,
		(unsigned long long)s->short_calls);
	fprintf(stderr, "iprofmem: stats: statm reads %llu (probes %llu, int3 "
		"stops %llu), gate skipped %llu, reopened %llu, read at a stop "
		"%llu, refused by seccomp %llu; ring waits %llu; "
		"probes on the program's stack %llu; bad records %llu\n",
		(unsigned long long)(s->events_probe - s->gate_skips +
				     s->stops_int3),
		(unsigned long long)(s->events_probe - s->gate_skips),
		(unsigned long long)s->stops_int3,
		(unsigned long long)s->gate_skips,
		(unsigned long long)s->reopens,
		(unsigned long long)s->rss_stops,
		(unsigned long long)s->seccomp_refused,
		(unsigned long long)s->waits,
		(unsigned long long)s->nostack,
		(unsigned long long)s->bad_records);
	fprintf(stderr, "iprofmem: stats: probe stacks: %llu processes on "
		"their threads' control blocks, %llu on the program's stack\n",
		(unsigned long long)s->tcb_procs,
		(unsigned long long)s->stack_procs);
	fprintf(stderr, "iprofmem: stats: seccomp watch: %llu entries of "
		"prctl and syscall, set up at %llu stops\n",
		(unsigned long long)s->watch_gots,
		(unsigned long long)s->watch_stops);
	if (s->swatch_on)
		fprintf(stderr, "iprofmem: stats: system-call watch: on in %llu "
			"process%s (syscalls:sys_exit_seccomp and "
			"sys_exit_prctl), off in %llu; %llu stops, %llu "
			"filters seen\n", (unsigned long long)s->swatch_on,
			s->swatch_on == 1 ? "" : "es",
			(unsigned long long)s->swatch_off,
			(unsigned long long)s->swatch_stops,
			(unsigned long long)s->swatch_filters);
	else if (s->swatch_why)
		fprintf(stderr, "iprofmem: stats: system-call watch: off: %s\n",
			s->swatch_why);
	if (s->switched)
		fprintf(stderr, "iprofmem: stats: went over to the int3 engine "
			"mid-run: %llu process%s (a thread the probes could not "
			"tell by its thread pointer); the sites above are as "
			"first armed\n", (unsigned long long)s->switched,
			s->switched == 1 ? "" : "es");
	fprintf(stderr, "iprofmem: stats: set-up %.3f s: symbols %.3f s, "
		"arming %.3f s (%llu modules)\n",
		(double)(s->load_ns + s->arm_ns) / 1e9, (double)s->load_ns / 1e9,
		(double)s->arm_ns / 1e9, (unsigned long long)s->modules);
	if (s->why_not)
		fprintf(stderr, "iprofmem: stats: no probes: %s\n", s->why_not);
	else if (s->gate_on && !s->gate_off)
		fprintf(stderr, "iprofmem: stats: fault gate: on (kmem:rss_stat, "
			"%llu CPUs)\n", (unsigned long long)s->gate_rings);
	else if (s->gate_on)	/* -f, or several -p */
		fprintf(stderr, "iprofmem: stats: fault gate: on in %llu "
			"process%s (kmem:rss_stat, %llu CPUs), off in %llu: "
			"%s\n", (unsigned long long)s->gate_on,
			s->gate_on == 1 ? "" : "es",
			(unsigned long long)s->gate_rings,
			(unsigned long long)s->gate_off, s->gate_why);
	else if (s->gate_why)
		fprintf(stderr, "iprofmem: stats: fault gate: off: %s\n",
			s->gate_why);
}

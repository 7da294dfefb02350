/* The tracer's own state, shared by its files (not by other modules). */
#ifndef IPROFMEM_TRACER_INTERNAL_H
#define IPROFMEM_TRACER_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracer/bptable.h"
#include "tracer/probes.h"
#include "tracer/rss.h"
#include "tracer/thread.h"
#include "tracer/tracer.h"

/* A module of a traced process whose functions were looked at. */
struct traced_module {
	char *path;
	uint64_t lo, hi;
	bool seen;		/* still mapped at the last look */
};

/* The tag of an area iprofmem maps into a process (areas.c): at its
 * start for slots, after the probe code for stubs. */
enum { AREA_STUBS = 1, AREA_SLOTS = 2 };
enum { AREA_LIVE, AREA_CLEAN, AREA_KEPT };
#define AREA_TAG_BYTES	64

struct area_tag {
	char magic[16];
	uint64_t code;		/* this build's (probes_code_sum) */
	uint64_t len;		/* the mapping's */
	uint64_t module_lo;	/* the module it serves */
	uint64_t ctl;		/* stubs: the control block they use */
	uint32_t kind;		/* AREA_STUBS, AREA_SLOTS */
	uint32_t state;		/* AREA_LIVE while attached; at the detach
				   AREA_CLEAN when no frame may return into
				   it, else AREA_KEPT: never used again */
	uint64_t pad;
};

/* An area an earlier attach left. */
struct retired_area {
	uint64_t at, len, module_lo, ctl;
	uint32_t kind, state;
	bool taken;		/* used again by this attach */
};

/* A traced process (address space): its breakpoints, memory and RSS. */
struct process {
	pid_t pid;
	int memfd;		/* /proc/PID/mem, opened after each exec */
	int pagemap;		/* /proc/PID/pagemap when first needed, or -1 */
	uint64_t restorer;	/* the signal trampoline (process_sigreturn_at) */
	bool restorer_looked;	/* restorer was looked for, since the exec */
	struct rss rss;
	struct bp_table bps;
	struct addr_range *slot_areas;	/* out-of-line areas, one per module
					   that needed one */
	size_t nslot_areas;
	struct traced_module *mods;
	size_t nmods;
	struct addr_range *ranges;	/* functions' ranges, see struct bp */
	size_t nranges;
	struct probes probes;	/* the probe engine's state in it */
	uint64_t r_debug;	/* the dynamic linker's _r_debug, or 0 */
	uint64_t stub;		/* "syscall; int3" in its first out-of-line
				   area, to inject system calls at, or 0 */
	bool trap_guard;	/* it has a SIGTRAP handler (trap_act) that
				   our int3s may reset: see trapguard.c */
	uint8_t trap_act[32];	/* its struct sigaction for SIGTRAP, as the
				   kernel's rt_sigaction takes it */
	size_t nfuncs;		/* functions armed */
	int64_t rss_bias;	/* taken from every RSS read at a stop: what
				   going over to the int3 engine mid-run
				   moved (probes gone, slots come) */
	bool started;		/* the start-up modules are loaded: the checks
				   on the selection were made */
	struct report *rep;	/* shared, or its own with per_process */
	size_t result;		/* index in trace_result.procs (per_process) */
	bool exec_seen;		/* its image has been loaded (launch: once
				   the program's exec happened) */
	bool exited;
	/* areas.c: the tag of every area mapped into it since the exec
	 * (or the attach), those an earlier attach left */
	uint64_t *tags;
	size_t ntags;
	struct retired_area *retired;
	size_t nretired;
	bool areas_looked;	/* retired is filled in */
	bool frames_in_areas;	/* a signal was delivered to a thread in an
				   area: a frame may return there */
};

struct tracer {
	const struct tracer_opts *opts;
	struct report *shared;
	struct trace_result *res;
	pid_t leader;		/* the launched program; 0 when attached */
	bool attach_mode;
	bool world_stopped;	/* arming with every thread stopped (attach):
				   probes may go in with threads running */
	bool world_synced;	/* ...for a module just loaded (world_sync):
				   no signal frame returns into its code */
	bool quiescing;		/* stopping every thread: "resume" records */
	bool detaching;		/* ...to let them all go */
	bool to_int3;		/* a process is to go over to the int3
				   engine (probes.to_int3) */
	bool world_sync;	/* a thread waits at the rendezvous for every
				   thread to be stopped (await_world) */
	bool rearming;		/* ...arming it again: its sites were
				   counted for --stats, its warnings said */
	bool fatal;
	int exit_code;		/* with fatal: iprofmem's status, if not 125 */
	bool checked;		/* the selection was checked at start-up */
	bool list_done;		/* --list-funcs printed its list */
	uint64_t t0;		/* CLOCK_MONOTONIC at the start, ns */
	struct process **procs;
	size_t nprocs;
	struct thread_table threads;
	char **warned;		/* modules already warned about */
	size_t nwarned;
	size_t untraced_named;	/* selected functions that cannot be
				   traced, named in warnings */
	struct probe_stats pstats;
	bool probing;		/* a process has a ring: wait with a timeout
				   and drain */
};

/* tracer.c */
void tracer_signals(struct tracer *tr);
void tracer_set_wake(pid_t tid);

/* process.c */
char *tracer_read_cmdline(pid_t pid);
/* A new traced process; with per_process it gets its own report, a copy
 * of keys_from's keys (and paths) when it inherits that report's ids. */
struct process *process_new(struct tracer *tr, pid_t pid,
			    const struct report *keys_from, const char *cmdline);
struct process *process_find(struct tracer *tr, pid_t pid);
int process_open_files(struct tracer *tr, struct process *p);
void process_close_files(struct process *p);
/* Does the word at sp, a return address, lead to the signal trampoline
 * (arch_is_sigreturn)?  1 yes, 0 no, -1 when the word cannot be read.
 * Neither is read where it would make a page of the program resident. */
int process_sigreturn_at(struct process *p, uint64_t sp);
void process_set_cmdline(struct tracer *tr, struct process *p);
void process_end(struct process *p);
/* RSS of the process, through thread tid when the leader's /proc entry no
 * longer reads it. */
int64_t process_rss(struct tracer *tr, struct process *p, pid_t tid);
/* Forget every thread of p (exec: the others are gone). */
void process_drop_threads(struct tracer *tr, struct process *p);
/* A signal's bit in a mask; a signal mask of /proc/TID/status (SigPnd,
 * SigBlk, SigIgn, SigCgt...), 0 if it cannot be read. */
uint64_t sig_bit(int sig);
uint64_t status_mask(pid_t tid, const char *field);
/* Up to len - 1 bytes of /proc/PID/NAME, NUL-terminated; false when the
 * process is gone.  MAPS_MAX: enough for the maps of a large program. */
#define MAPS_MAX (1 << 20)
bool read_proc_file(pid_t pid, const char *name, char *buf, size_t len);
bool tracer_quiesce(struct tracer *tr);
void tracer_resume_all(struct tracer *tr);
void tracer_detach_all(struct tracer *tr);
void tracer_run(struct tracer *tr);
void tracer_free(struct tracer *tr);
/* The measurement, from an int3 stop or a ring event alike: the timeline
 * sample, an entry, a return site (see tracer.c). */
struct trap;
void tracer_sample(struct tracer *tr, struct process *p, const struct trap *trap);
/* n events alike (one thread's, one drain's, one RSS): as n calls. */
void tracer_sample_n(struct tracer *tr, struct process *p,
		     const struct trap *trap, uint64_t n);
void tracer_enter(struct process *p, struct thread *sh, int32_t fn,
		  uint64_t sp, const struct trap *trap);
void tracer_leave(struct tracer *tr, struct process *p, struct thread *sh,
		  int32_t fn, const struct insn *in, uint32_t ranges_at,
		  uint32_t nranges, uint64_t sp, uint64_t dest,
		  const struct trap *trap);
uint64_t tracer_clock(const struct tracer *tr);
/* image.c: an area of len bytes mapped (read, exec) within rel32 reach of
 * the module t, by the stopped thread tid; 0 when it cannot be. */
uint64_t process_map_near(struct process *p, pid_t tid,
			  const struct sym_table *t, size_t len);
/* The tracer that out of memory must unwind (NULL: none). */
void tracer_set_live(struct tracer *tr);
void tracer_start_clock(struct tracer *tr);
int tracer_started(struct tracer *tr, struct process *p);

/* trapguard.c: a process's own SIGTRAP handler, kept working.  At a
 * SIGTRAP that is the program's (tid in a signal-delivery stop): remember
 * its handler.  After each of our breakpoints (tid stopped on it): put the
 * handler back if our int3 made the kernel reset it.  pending: a SIGTRAP
 * of the program's to deliver with the thread, or NULL.  Returns the
 * signal to resume the thread with (SIGTRAP, its siginfo set) or 0. */
void trap_guard_learn(struct process *p, pid_t tid);
int trap_guard_check(struct process *p, pid_t tid, const siginfo_t *pending);

/* areas.c: the areas iprofmem maps, tagged for a later attach.  Fill a
 * tag in (at: where the area's copy holds it); note an area mapped. */
void area_tag_fill(void *at, uint32_t kind, uint64_t len, uint64_t module_lo,
		   uint64_t ctl);
void areas_add(struct process *p, uint64_t area, uint32_t kind);
/* Find the areas earlier attaches left (once per exec). */
void areas_look(struct process *p);
/* How far apart the two ends of a module and one of its areas may be:
 * every jump between them is a rel32 (a margin of 1 MB kept). */
#define AREA_REACH	((1ull << 31) - (1u << 20))
/* A clean one of that kind, at least len long, taken; or NULL.  The
 * module's own (made for a module at module_lo) first, else any within
 * reach of [module_lo, module_hi). */
struct retired_area *areas_reuse(struct process *p, uint32_t kind,
				 uint64_t module_lo, uint64_t module_hi,
				 size_t len);
/* Does the list hold a range that starts at lo (an area used again)? */
static inline bool range_listed(const struct addr_range *r, size_t n,
				uint64_t lo)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].lo == lo)
			return true;
	return false;
}
/* A module was unmapped (dlclose): the areas made for it may be used again
 * by the next module mapped within their reach (the same library loaded
 * again, at its place or elsewhere), but for those the whole process uses (the system call stub's, the
 * watch stubs'). */
void areas_module_gone(struct process *p, uint64_t module_lo);
/* The detach: the areas say whether a later attach may use them again
 * (clean: every thread is out of them). */
void areas_retire(const struct process *p, int fd, bool clean);
/* Is pc inside one of p's areas (an int3 slot, probe code)? */
bool areas_hold(const struct process *p, uint64_t pc);
/* A signal is delivered to a thread of p (the process whose areas it
 * runs) at pc: in an area, its frame may return there. */
void areas_signal_at(struct process *p, uint64_t pc);
void areas_copy(struct process *child, const struct process *parent);
void areas_forget(struct process *p);
/* Is [lo, lo + len) inside one private anonymous unnamed mapping with
 * perms (as in maps: "rw-p")? */
bool maps_anon(const char *maps, uint64_t lo, uint64_t len,
	       const char *perms);
/* probes.c: the bytes at addr, read only where every page they lie on is
 * resident (reading one that is not would make it count in the RSS). */
int process_read_resident(struct process *p, uint64_t addr, void *buf,
			  size_t n);

/* image.c: look at the process's modules: arm those not traced yet (load
 * their selected functions, put an int3 on every site), forget those that
 * are gone.  tid is a stopped thread of it that can run an injected system
 * call.  at_exec: the image is new; arm the dynamic linker's rendezvous if
 * shared objects may be selected.  Returns -1 on an error with the main
 * executable (message printed). */
int process_sync_modules(struct tracer *tr, struct process *p, pid_t tid,
			 bool at_exec);
/* Are modules loaded later traced (else the rendezvous serves only the
 * probes' seccomp watch)? */
bool process_follows_libs(const struct tracer *tr);
void process_forget_modules(struct process *p);
/* p's probes are gone (probes_switch): arm every site of its modules with
 * an int3, those that have one keeping it.  tid as for
 * process_sync_modules.  Returns 0 or -1 (said). */
int process_rearm(struct tracer *tr, struct process *p, pid_t tid);
/* Copy everything image-related from parent to a forked child. */
void process_copy_image(struct process *child, const struct process *parent);
/* Put the original bytes back at every site, through fd (another process's
 * copy of the same image: a fork child that is let go). */
void process_restore_bytes(const struct process *p, int fd);

#endif

/* probes: the probe engine's half in the tracer.  In a process it may
 * probe, iprofmem injects the probe code, its control block, stacks and
 * event ring (probe/probe.h), then replaces each patchable site's bytes
 * with a jump to a stub (tracer/stub.h) that calls the probe: such a call
 * costs no stop.  Sites that cannot be patched keep their int3.  Events
 * from the ring and from int3 stops go through the same shadow stacks,
 * which are kept per thread key (the thread's fs base) in a probed
 * process, since a ring event names its thread by that key. */
#ifndef IPROFMEM_PROBES_H
#define IPROFMEM_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe/probe.h"
#include "probe/ring.h"
#include "symbols/disasm.h"
#include "symbols/patch.h"

struct thread;
struct tracer;
struct process;
struct sym_table;

/* What a probe site id stands for. */
struct probe_site {
	uint64_t addr;
	int32_t entry_fn;	/* report id, or -1 */
	int32_t ret_fn;		/* report id, or -1 */
	uint32_t ranges_at, nranges;	/* ret_fn's ranges, in process.ranges */
	struct insn insn;	/* at a return site: the instruction leaving */
};

/* The part of a site each of its events needs, packed (the sites are
 * read in the program's order, and most events are a ret's or an
 * entry's: no need for the instruction). */
struct probe_hot {
	int32_t entry_fn, ret_fn;
	bool ret;		/* the return site is a ret */
};

/* A patched window: its original bytes, to put back. */
struct probe_window {
	uint64_t start;
	uint8_t len;
	uint8_t orig[16];
	uint8_t patch[16];
	uint64_t stub;		/* its stub, stub_len bytes */
	uint16_t stub_len;
	int16_t call0, copy0;	/* see struct stub_spec */
	int16_t jcall;
	uint64_t jtarget;
	int16_t jind_trap, jind_out;	/* see struct stub_spec */
	int16_t ret_push[PATCH_MAX_INSNS];	/* see struct stub_spec */
	uint64_t ret_at[PATCH_MAX_INSNS];	/* the ret of each */
	uint64_t jind_at;	/* the indirect jmp's own address */
};

struct probe_entry {
	uint64_t addr;		/* 0: free */
	int32_t fn;
};

/* The shadow stack of one thread key. */
struct key_shadow {
	uint64_t key;		/* 0: free */
	struct thread *sh;
};

struct probes {
	bool on;		/* set up: the ring is there */
	bool tcb;		/* the stubs run the probes on the threads'
				   TCB stacks (probe/probe.h) */
	bool fs_self;		/* no rdfsbase: a thread's key is the word at
				   %fs:0 (probe_ctl.fs_self) */
	bool failed;		/* setup failed: int3 only, said once */
	bool shared_fs_said;	/* a thread was made without a thread pointer
				   the probes can tell it by: said once */
	bool to_int3;		/* ...so it goes over to the int3 engine at
				   the next stop of every thread */
	bool rss_stops;		/* a probe could not read statm: said once */
	bool nosys;		/* the program installs a seccomp filter (the
				   watch saw it coming): neither the probes
				   nor iprofmem make a system call in it any
				   more */
	/* the seccomp watch: the entries of the modules' offset tables
	 * looked at, those pointed at the watch's stubs with what they
	 * held (orig) */
	struct probe_got *gots;
	size_t ngots;
	unsigned ask_left;	/* stops left to find the entries the dynamic
				   linker has not relocated yet */
	uint64_t ctl;		/* the control block, in the process */
	void *ring;		/* our mapping of the ring */
	size_t ring_len;
	struct ring_reader rd;
	struct probe_site *sites;
	struct probe_hot *hot;		/* what every event reads, by site */
	size_t nsites, cap_sites;
	struct probe_window *wins;
	size_t nwins, cap_wins;
	struct key_shadow *shadows;	/* open addressing, by key */
	size_t nshadows, cap_shadows;
	struct probe_entry *entries;	/* open addressing, by address */
	size_t nentries, cap_entries;
	struct addr_range *areas;	/* stub areas, probe code at their
					   start */
	size_t nareas;
	struct addr_range *hops;	/* the jmps of hops (struct patch_extra) */
	size_t nhops;
	/* a vfork child runs with its parent's thread key until it execs or
	 * exits (the parent waits): its events go to a shadow stack of its
	 * own, a copy of the parent's, as the int3 engine traces it */
	uint64_t vfork_key;
	bool alone;		/* the control block's `alone` is set */
	uint64_t gate_gen;	/* the control block's, when gate_on */
	bool gate_on;
	/* the perf rings mapped in the process: the gate's, then the
	 * system-call watch's (PROBE_GATE_RINGS each at most) */
	uint64_t perf_maps[3 * PROBE_GATE_RINGS];
	size_t nperf_maps;
	uint64_t ring_at;	/* the ring, in the process */
	pid_t vfork_child;
	struct thread *vfork_shadow;
	/* by report id: a function whose ret only its one call returns
	 * to, where no window fits, has no site there: its return is taken
	 * at its callee's (see patch_ret_after_call) */
	struct probe_follow *follow;
	size_t nfollow;
	/* the last key's shadow stack (they stay where they are) */
	uint64_t last_key;
	struct thread *last_shadow;
	/* int3 events waiting for the ring records that precede them, in
	 * order: traps[trap_head..ntraps) */
	struct probe_trap *traps;
	size_t ntraps, trap_head, cap_traps;
};

struct probe_got {
	uint64_t addr;
	uint64_t orig;		/* 0: not redirected (looked at only) */
};

struct probe_follow {
	int32_t callee;		/* report id, or -1: none */
	uint32_t delta;		/* the callee's frame is this far below */
};

/* An int3 site's event in a probed process, the thread resumed at once:
 * it is taken in its place among the ring's events (after every record
 * reserved before the stop, pos), so that the program does not wait at
 * its breakpoints for iprofmem to work through the records before. */
struct probe_trap {
	uint64_t pos;		/* the ring's head at the stop */
	uint64_t key, sp, dest;	/* as tracer_enter/tracer_leave take them */
	int64_t rss;
	int32_t entry_fn, ret_fn;
	uint32_t ranges_at, nranges;
	struct insn insn;
};

/* Counts for --stats, over the whole run. */
struct probe_stats {
	uint64_t events_probe, events_int3;
	uint64_t stops_int3;		/* one statm read each: one event,
					   two (an entry that is a return),
					   or none (the dynamic linker's
					   rendezvous breakpoint) */
	uint64_t traps_queued;		/* int3 events queued behind records */
	uint64_t sites_probe[2], sites_int3[2];	/* [0] entries, [1] returns */
	uint64_t sites_follow;		/* rets taken at their callee's return */
	uint64_t short_funcs;		/* short functions with a stub of their
					   own (plan_short) */
	uint64_t short_calls;		/* their direct calls, re-aimed */
	uint64_t bad_records, waits, nostack, reopens;
	/* processes probed on TCB stacks, on the program's stacks */
	uint64_t tcb_procs, stack_procs;
	uint64_t rss_stops;		/* probes' RSS read at a stop */
	uint64_t watch_stops;		/* of those, to set the seccomp
					   watch up first */
	uint64_t watch_gots;		/* entries pointed at its stubs */
	uint64_t seccomp_refused;	/* probes' system calls a seccomp
					   filter trapped (SIGSYS) */
	uint64_t gate_skips;		/* probe events with a cached RSS */
	uint64_t gate_rings;		/* CPUs the gate watched (last set-up) */
	const char *gate_why;		/* the gate was off: why (the
					   first process's reason) */
	uint64_t gate_on, gate_off;	/* processes set up with the gate
					   on, off */
	/* the system-call watch (probe.h's watch_nrings): processes set
	 * up with it on, off, the first reason; its stops, filters seen */
	uint64_t swatch_on, swatch_off;
	const char *swatch_why;
	uint64_t swatch_stops, swatch_filters;
	uint64_t load_ns, arm_ns;	/* reading symbols, arming modules */
	uint64_t modules;		/* modules armed */
	uint64_t switched;		/* processes that went over to the int3
					   engine mid-run (probes_clone) */
	uint64_t redirected;		/* branches re-aimed at a stub's
					   copy of their target */
	const char *why_not;	/* no probes at all: the reason */
};

/* A module was unmapped (dlclose): its windows and hops go (their bytes
 * are gone; their stubs' area may serve the next module mapped there). */
void probes_module_gone(struct process *p, uint64_t lo, uint64_t hi);

/* May the process be probed (engine, options, seccomp, CPU)?  NULL, or
 * why not. */
const char *probes_refusal(struct tracer *tr, struct process *p);
/* Set the process up (tid: a stopped thread of it, the only one, able to
 * run injected system calls; code: an address of code the injection may
 * borrow; below: where the areas go under, the main module).  Returns 0,
 * or -1 (said, and p->probes.failed). */
int probes_setup(struct tracer *tr, struct process *p, pid_t tid,
		 uint64_t code, uint64_t below);
/* Patch what can be patched of a loaded module's sites: probed[i] is set
 * for every site of t that a probe now takes (the others get int3s).
 * ids: report ids of t's functions; skip[f]: function f is not traced;
 * ranges_base: where t's ranges start in the process's ranges;
 * stubbed[f] is set for a short function whose direct calls now reach a
 * stub of its own (its sites keep their int3s). */
void probes_arm(struct tracer *tr, struct process *p, pid_t tid,
		const struct sym_table *t, const int32_t *ids,
		const char *const *skip, uint32_t ranges_base, bool *probed,
		bool *follows, bool *stubbed);
/* A child traced with -f starts with its parent's rets that need no
 * site (the same code). */
void probes_copy_follow(struct process *p, const struct process *pp);
/* Take every committed event out of the process's ring, in order, with
 * the int3 events due among them; returns how many ring events there
 * were. */
size_t probes_drain(struct tracer *tr, struct process *p);
/* The same, at most about max ring events (the rest stay for later). */
size_t probes_drain_some(struct tracer *tr, struct process *p, size_t max);
/* May an int3 event of p be taken later (probes_defer)?  Not while a
 * vfork child runs on its parent's probes. */
bool probes_can_defer(const struct process *p);
/* Take t's event once the records reserved before it are: now if they
 * are (t->pos is filled in here). */
void probes_defer(struct tracer *tr, struct process *p, struct probe_trap *t);
/* The report id of the function whose probed entry is at addr, or -1. */
int32_t probes_entry_fn(const struct process *p, uint64_t addr);
/* The shadow stack of a thread key (created empty). */
struct thread *probes_shadow(struct process *p, uint64_t key);
/* A return of fn at sp in shadow sh, which has no frame of it: the frame,
 * if another shadow of the process holds it (thread_adopt), moves to sh. */
bool probes_adopt(struct process *p, struct thread *sh, int32_t fn,
		  uint64_t sp);
/* A vfork child of the thread with that key starts (child: its tid), or
 * ends (child 0). */
void probes_vfork(struct process *p, uint64_t key, pid_t child);
/* A thread (or a process sharing the memory) is being created, every
 * thread of p stopped: the ring gets several producers. */
void probes_shared(struct process *p);
/* iprofmem wrote to the program's memory where a page may have been made
 * resident: the fault gate must not trust the RSS from before. */
void probes_gate_touch(struct process *p);
/* -f: p, a forked child of pp (not a vfork: its own memory), stopped in
 * tid before it ran, gets the probes of its parent: a copy of the tables,
 * a ring, statm and fault gate of its own, and the frames of the thread
 * (key) that forked it.  Returns 0, or -1: then the child must not run
 * its probes (its bytes are put back). */
int probes_fork(struct tracer *tr, struct process *p, const struct process *pp,
		pid_t tid, uint64_t key);
/* Detaching from p (every thread stopped and out of the probe code, every
 * byte back): turn the probes off and take back what costs the program
 * something (see probes.c).  tid: a thread able to run system calls, or
 * 0. */
void probes_unload(struct tracer *tr, struct process *p, pid_t tid);
/* Thread tid of p, stopped at its clone's event, made thread child:
 * without a thread pointer of its own (no CLONE_SETTLS), child shares
 * tid's, by which the probes tell threads; or, where the key is the word
 * at %fs:0 or the probes run at %fs (fs_self, tcb), child's or tid's
 * does not point to itself (a runtime's own TLS layout).  Then true: p
 * is marked to go over to the int3 engine (probes_switch) before child
 * runs, which is said once. */
bool probes_clone(struct process *p, pid_t tid, pid_t child);
/* The key the probes give a thread of p whose fs base is fs_base: the
 * word there without rdfsbase (fs_self; the same in a glibc program,
 * which is not read), else fs_base itself. */
uint64_t probes_key(const struct process *p, uint64_t fs_base);
/* Every thread of p stopped, each out of the probe code, every byte of
 * the probes back (probes_restore): unload them (tid as for
 * probes_unload), give each thread its shadow stack (the one of its
 * key), and forget the probes, p then armed for the int3 engine alone
 * (the caller arms it again). */
void probes_switch(struct tracer *tr, struct process *p, pid_t tid);
/* A thread with that key is gone: its shadow stack is emptied. */
void probes_thread_gone(struct process *p, uint64_t key);
/* A thread stopped with its pc in a stub, where a fault or a signal's
 * handler must see the program's own state: move it to the window's
 * start (and its stack pointer back above the probe's push) when the
 * stub is still at the point that stands for it.  Returns whether the
 * registers changed. */
struct user_regs_struct;
bool probes_leave_stub(const struct process *p, struct user_regs_struct *r,
		       bool fault);
/* Is pc in probe code or a stub?  *exit gets the address where a thread
 * in that probe code leaves it (0 in a stub). */
bool probes_inside(const struct process *p, uint64_t pc, uint64_t *exit);
/* A stub area holds its tag (tracer/areas.c) this far in, past the probe
 * code; the probe code's checksum, which tags carry. */
uint64_t probes_tag_offset(void);
uint64_t probes_code_sum(void);
/* The process whose probes p runs: p, or the parent of a vfork child not
 * followed (its memory is the parent's); NULL if none. */
struct process *probes_owner(const struct tracer *tr, struct process *p);
/* A thread of p stopped at the probe's int3 for an RSS it could not or
 * must not read (statm out of the program's reach, a seccomp filter, the
 * watch to set up first: probe_need_rss)?  Then the RSS is read here,
 * from outside, and put in its rax (r updated and set).  Or at one of the
 * seccomp watch's int3s: a call that may install a filter, after which
 * the probes make no system call.  True when it was one of those stops
 * (the thread goes on from where it is). */
bool probes_serve_rss(struct tracer *tr, struct process *p, pid_t tid,
		      struct user_regs_struct *r);
/* Is pc just after one of the probe code's own int3s (the RSS read at a
 * stop, the seccomp watch's)?  A SIGTRAP there is not the program's. */
bool probes_own_trap(const struct process *p, uint64_t pc);
/* Put the original bytes back in every window through fd, where our
 * jump still is, and the offset tables' entries the seccomp watch had;
 * its int3s become nops. */
void probes_restore(const struct process *p, int fd);
/* The seccomp watch looks for the modules' entries at the next RSS the
 * probes read (at a stop): at the set-up, after new modules, in a child
 * forked before its parent's first. */
void probes_watch_ask(struct process *p);
/* Before iprofmem injects a system call into a probed process: if a
 * thread of it runs under a seccomp filter that no watch saw installed,
 * the probes (and iprofmem) make no more system calls there. */
void probes_filter_check(struct tracer *tr, struct process *p);
/* A forked child let go: see probes.c. */
void probes_let_go(const struct process *pp, pid_t child, int fd);
/* Forget it all (exec, the process's end), after a last drain. */
void probes_forget(struct tracer *tr, struct process *p);
/* The --stats line, on stderr. */
void probes_print_stats(const struct tracer *tr);

#endif

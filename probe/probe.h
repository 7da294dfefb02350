/* probe: the code iprofmem injects into a traced program, and the control
 * block it shares with iprofmem.  The code (probe_x86_64.S, probe.c, and
 * the producer half of ring.c) is built into one position-independent blob
 * (probe/blob.ld) that iprofmem embeds and writes into the program; its
 * first 8 bytes hold the address of the control block, filled in by
 * iprofmem, so the code needs no relocation.
 *
 * A site's stub calls probe_on_entry or probe_on_return (tracer/stub.h
 * gives the calling convention).  Most events take probe_fast, a leaf that
 * runs where it stands: a process of one thread, whose slot it finds at
 * once, whose RSS the fault gate knows unchanged, with room in the ring.
 * Otherwise the probe switches to a stack of its own for the thread
 * (found by the thread's key, claimed on first use), reads the RSS
 * from a kept-open /proc/self/statm, and appends one record to the
 * ring.  Its code, control block, stacks and ring are resident
 * before the program's first traced call: the program's RSS moves only by
 * what the program does.  Everything is async-signal-safe: a handler that
 * runs traced functions in the middle of a probe takes the next level of
 * the thread's stack. */
#ifndef IPROFMEM_PROBE_H
#define IPROFMEM_PROBE_H

#include <stdint.h>

#include "probe/ring.h"

#define PROBE_MAGIC		0x45424f5250504950ULL	/* "PIPPROBE" */
#define PROBE_SLOTS		64	/* threads with a stack of their own */
#define PROBE_LEVELS		8	/* nested probes (signal handlers) */
#define PROBE_LEVEL_SIZE	1024	/* stack bytes per level */
#define PROBE_SLOT_SIZE		(PROBE_LEVELS * PROBE_LEVEL_SIZE)
/* An RSS that could not be read. */
#define PROBE_NO_RSS		UINT64_MAX
#define PROBE_GATE_RINGS	64	/* CPUs the fault gate can watch */
#define PROBE_FS_DUMMIES	16	/* threads given a thread pointer */
/* The TCB stack (ctl.tcb_stack): the probes of a process whose threads
 * have glibc's thread control block run on 0x80 .. PROBE_TCB_TOP of it
 * (tcbhead_t's __glibc_unused2, which no glibc since 2.26 uses), and the
 * site's stack pointer is kept at PROBE_TCB_TOP: not a byte of the
 * program's stack is written.  tracer/stub_x86_64.c emits the switch. */
#define PROBE_TCB_LOW		0x80
#define PROBE_TCB_TOP		0x278
/* where the stub leaves an indirect jmp's target for probe_on_jump: just
 * under the saved stack pointer, above the probe's stack */
#define PROBE_TCB_JUMP_TARGET	(PROBE_TCB_TOP - 8)
#define PROBE_TCB_BYTES		0x280

/* A thread slot's view of the RSS for the fault gate (probe.c): what
 * statm said, and the rings' heads and iprofmem's generation just before. */
struct probe_gate_cache {
	uint64_t sum;
	uint64_t gen;
	uint64_t rss;
};

/* The control block, in a page of the program that iprofmem fills before
 * any probe runs.  Only the probes write it after that (slots, counters). */
struct probe_ctl {
	uint64_t magic;
	int32_t statm_fd;	/* /proc/self/statm, kept open */
	struct ring_producer ring;
	uint64_t stacks;	/* PROBE_SLOTS stacks of PROBE_SLOT_SIZE */
	char statm_path[24];	/* "/proc/self/statm" */
	uint64_t slot_key[PROBE_SLOTS];		/* thread key owning the slot */
	uint32_t slot_depth[PROBE_SLOTS];	/* probes in progress */
	/* The fault gate: one kmem:rss_stat perf ring per CPU, inherited by
	 * every thread; gate_head[i] is the address of ring i's data_head.
	 * 0 rings: statm at every event. */
	uint32_t gate_nrings;
	uint32_t off;		/* iprofmem let the program go: a probe that
				   still runs (a signal handler returning into
				   a stub) records nothing */
	uint32_t alone;		/* the process has one thread, and no other
				   thread or process shares its memory: the
				   ring has one producer (ring_put_alone).
				   iprofmem clears it, the process stopped,
				   at its first clone sharing the memory */
	uint32_t fs_self;	/* the thread's key is the word at %fs:0
				   (the TLS ABI's thread pointer, which
				   points to itself), not rdfsbase: a CPU
				   or kernel without user-mode rdfsbase.
				   iprofmem checks that [fs base] == fs
				   base for every thread, and gives a
				   thread with no fs base one of fs_dummy */
	uint64_t gate_gen;	/* iprofmem adds one when it changed memory
				   itself (a kernel write in its name fires
				   no event of the program's) */
	uint64_t gate_head[PROBE_GATE_RINGS];
	struct probe_gate_cache gate[PROBE_SLOTS];
	/* thread pointers for threads that have none (fs base 0: a static
	 * program before its TLS set-up, a program without libc); each
	 * holds its own address, and has room for a TCB stack */
	uint64_t fs_dummy[PROBE_FS_DUMMIES][PROBE_TCB_BYTES / 8];
	/* the stubs switch to the thread's TCB stack (PROBE_TCB_TOP): the
	 * site's stack pointer is the word the frame's bias points at, not
	 * that address */
	uint32_t tcb_stack;
	/* statm's descriptor is moved to the lowest free one from here
	 * (F_DUPFD_CLOEXEC), so that the program's own descriptors get the
	 * numbers they get untraced; 0: left where open put it */
	int32_t statm_fd_min;
	/* The system-call watch: the syscalls:sys_exit_seccomp and
	 * sys_exit_prctl tracepoints of the process's threads, one perf
	 * ring per CPU each (watch_head[i]: ring i's data_head's address),
	 * and the sum of their heads when iprofmem last looked (watch_seen).
	 * A probe that finds the sum moved stops (RING_SYS_WATCH) before it
	 * makes a system call of its own: the program may have installed a
	 * seccomp filter by a call that the offset-table watch does not see
	 * (a syscall instruction of its own, a call inside the C library).
	 * 0 rings: no such watch (perf events refused). */
	uint32_t watch_nrings;
	uint64_t watch_seen;
	uint64_t watch_head[2 * PROBE_GATE_RINGS];
};

/* Where statm's descriptor goes: near the top of the usual 1024 (select's
 * limit too), below a soft RLIMIT_NOFILE of its own; 0 (stay) when the
 * limit leaves no such room.  (Shared by the probe's reopen and
 * iprofmem's injected open.) */
static inline int probe_statm_fd_min(unsigned long nofile_soft)
{
	unsigned long top = nofile_soft < 1024 ? nofile_soft : 1024;

	return top >= 64 ? (int)(top - 16) : 0;
}

/* The fast path's frame (probe_x86_64.S), in words: the kind, the stub's
 * return address, the site id the stub pushed.  The site's stack pointer
 * is the return address's own address plus PROBE_SITE_SP_BIAS (the
 * stub's STUB_SP_BIAS: tracer/probes.c checks they agree), or, on a TCB
 * stack, the word there (PROBE_TCB_TOP). */
#define PROBE_FRAME_KIND	3
#define PROBE_FRAME_RET		4
#define PROBE_FRAME_SITE	5
#define PROBE_SITE_SP_BIAS	16

/* Records carry the resident and shared pages (statm's 2nd and 3rd
 * fields) in one word. */
static inline uint64_t probe_pack_rss(uint64_t resident, uint64_t shared)
{
	return (resident & 0xffffffffu) | shared << 32;
}

/* The site's stack pointer, from the address the frame's bias gives. */
static inline uint64_t probe_site_sp(const struct probe_ctl *c, uint64_t at)
{
	return c->tcb_stack ? *(const uint64_t *)at : at;
}

#endif

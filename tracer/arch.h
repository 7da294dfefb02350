/* arch: the x86-64 specifics of the tracer -- replaying the instruction
 * displaced by an int3, out-of-line slots, syscall injection.  The core
 * (tracer.c) has no instruction knowledge beyond this header. */
#ifndef IPROFMEM_ARCH_H
#define IPROFMEM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "symbols/disasm.h"

typedef struct user_regs_struct regs_t;

#define ARCH_SLOT_SIZE 32
#define ARCH_BREAKPOINT 0xcc

static inline uint64_t arch_pc(const regs_t *r) { return r->rip; }
static inline uint64_t arch_sp(const regs_t *r) { return r->rsp; }
static inline void arch_set_pc(regs_t *r, uint64_t pc) { r->rip = pc; }
/* Does the thread run 64-bit code (not a 32-bit program's)? */
static inline bool arch_native(const regs_t *r) { return r->cs == 0x33; }

/* Does the instruction need an out-of-line slot? */
bool arch_needs_slot(const struct insn *in);
/* Encode the slot for `in` at address `slot`: the instruction (rip-relative
 * operand re-aimed) and a jump back.  Returns -1 when the operand is out of
 * rel32 reach of the slot. */
int arch_encode_slot(uint8_t out[ARCH_SLOT_SIZE], const struct insn *in,
		     uint64_t slot);
/* The thread a replay is for, and its process's /proc/PID/mem. */
struct replay_ctx {
	pid_t tid;
	int memfd;
};
/* Make the thread behave as if it executed `in` (stopped on its int3):
 * update registers (and its stack, with the thread's own access rights),
 * or send it to `slot`.  Returns 0, or -1 when the stack cannot be
 * accessed (where the instruction would fault). */
int arch_replay(const struct replay_ctx *c, regs_t *r, const struct insn *in,
		uint64_t slot);
/* The address arch_replay reads or writes for `in` (push, call: the new
 * top of stack; ret: the return address; an indirect branch: its operand
 * in memory), or 0 if it touches none: where the fault is when it cannot. */
uint64_t arch_stack_access(const struct replay_ctx *c, const struct insn *in,
			   const regs_t *r);
/* The system call stub (ARCH_STUB_SIZE bytes at the start of a slot). */
#define ARCH_STUB_SIZE 3
void arch_encode_stub(uint8_t out[ARCH_STUB_SIZE]);
/* Run system call nr in the stopped thread `tid`, its registers (and
 * rip) kept, from the stub at `at`, which no other thread runs.  Other
 * signals stay pending; a SIGTRAP that came meanwhile is in *deferred
 * (si_signo 0 if none).  Returns the system call's result (-errno), or
 * -EIO/-ESRCH if it could not run. */
long arch_inject_syscall(pid_t tid, int memfd, uint64_t at, long nr,
			 const long args[6], siginfo_t *deferred);
/* The same from "syscall; int3" already at `at` (arch_encode_stub), which
 * no other thread runs. */
long arch_run_syscall(pid_t tid, uint64_t at, long nr, const long args[6]);
/* Have the stopped thread `tid` store `value` at `addr` (one aligned word:
 * other threads that load it see the old value or the new, never a mix),
 * from "mov %rsi,(%rdi); int3" at `at`, which no other thread runs.
 * Returns 0, -EFAULT if the store faulted (the page is not writable), or
 * -EIO/-ESRCH if it could not run. */
int arch_run_store(pid_t tid, uint64_t at, uint64_t addr, uint64_t value);
/* The stack pointer below which a stopped thread's stack is free for the
 * tracer's scratch data (past the red zone). */
uint64_t arch_scratch_below(const regs_t *r);
/* Run mmap(hint, len, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, ...)
 * in the stopped thread `tid`, every other thread of its process being
 * stopped, from code briefly written at `at` (0: the thread's pc).
 * Returns the mapping's address, or 0. */
uint64_t arch_inject_mmap(pid_t tid, int memfd, uint64_t at, uint64_t hint,
			  size_t len, bool fixed);
/* Where a thread whose pc is inside the out-of-line slot of `in` (at
 * `slot`) must resume once the slot is gone: before the copied instruction,
 * at the original; after it, past the original.  Returns pc unchanged when
 * it is not in that slot. */
uint64_t arch_pc_out_of_slot(uint64_t pc, const struct insn *in, uint64_t slot);
/* Do code[0..n) start with a signal trampoline? */
bool arch_is_sigreturn(const uint8_t *code, size_t n);

/* From the core (process.c), for the signals held back while a thread
 * runs our code: sig, to deliver to thread tid now, or 0 when it is a
 * stop signal that a SIGCONT sent since has voided.  Sending SIGCONT
 * discards the pending stop signals: untraced, the program would have
 * stopped and gone on; the stop delivered late would stop it for good. */
int signal_still_due(pid_t tid, int sig);
/* From the core (tracer.c): the stop signal sig, taken from thread tid
 * while it ran our code, is for the core to deliver when it resumes the
 * thread (not sent again: a SIGCONT sent since would be discarded by
 * it).  False when the core does not know the thread: send it again. */
bool tracer_owe_stop(pid_t tid, int sig);

#endif

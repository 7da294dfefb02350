/* stub: the x86-64 code a probe site jumps to, as pure byte emission.
 *
 * A patched window (symbols/patch.h) becomes `jmp stub` (the rest of the
 * window int3).  The stub runs, in order:
 *   - for an entry window, the entry probe of the site;
 *   - the displaced instructions, relocated: rip-relative operands
 *     re-aimed, relative branches re-encoded with rel32 to the original
 *     targets (or, for a window's inner target, to its copy in the stub
 *     that holds it: spec.redirect), a call re-emitted as a push of its
 *     original return address and a jmp, so no return address ever
 *     points into the stub; every one, also after a ret or jmp (what
 *     follows is an inner target, reached at its copy);
 *   - before each displaced instruction that is a return site (a ret, or a
 *     jmp/jcc leaving the function), that site's return probe (for a jcc,
 *     only when it is taken);
 *   - a jmp back to the end of the window, unless flow ended.
 *
 * An indirect jmp is a return site decided
 * at run time, as the int3 engine decides it: the stub computes the
 * target, and when it lies inside the function's ranges (a switch, a
 * computed goto) jumps there with no event; else it restores every
 * register and executes an int3 that iprofmem handles as the int3
 * engine handles the jmp (a tail call: the event, then the jump
 * replayed).  It saves rax and the flags, and the target, below the red
 * zone: STUB_JIND_BELOW bytes under the stack pointer.
 *
 * The probe ABI (what the probe's assembly entry may rely on): it is
 * entered by `call` with [rsp] the return address into the stub and
 * [rsp+8] the site id; the site's own stack pointer is rsp + STUB_SP_BIAS,
 * or, on the TCB stack (below), the word there.
 * The red zone below the site's stack pointer is used: it is dead at
 * every probe point (an entry: the function has not run; before a ret
 * or a jump leaving the function: it has done with its frame), and every
 * byte written below the stack pointer may make a stack page resident
 * that the program would not have touched.  It must preserve every
 * register and the flags, and return with `ret`: the stub drops the id
 * and the red-zone gap itself.  Entry and return events have a routine
 * each, so the id alone says nothing of the kind. */
#ifndef IPROFMEM_STUB_H
#define IPROFMEM_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols/patch.h"

#define STUB_MAX	384
#define STUB_NO_SITE	UINT32_MAX
#define STUB_RED_ZONE	0
/* the red zone, the pushed id, the return address */
#define STUB_SP_BIAS	(STUB_RED_ZONE + 8 + 8)
#define STUB_JIND_SKIP	128		/* the red zone an indirect jmp's
					   check leaves alone */
#define STUB_JIND_BELOW	(STUB_JIND_SKIP + 24)
#define STUB_MAX_RANGES	8
/* The TCB stack (s->tcb; probe/probe.h): every probe call and indirect
 * jmp check saves the site's stack pointer at %fs:STUB_TCB_TOP and runs
 * below it, in the thread's TCB; an indirect jmp's target goes at
 * STUB_TCB_TARGET.  A probe call is then STUB_TCB_CALL_LEN bytes: the
 * save (9), a read of the program's stack where the site would touch it
 * (5, at STUB_TCB_READ_AT: mov disp8(%rsp),%rsp, a fault there is the
 * site's), the switch (17), push $site (5), the call (5, at
 * STUB_TCB_CALL_AT) and the stack pointer back (9).  Between the save and
 * the way back the stack pointer is not the program's: the saved one is. */
#define STUB_TCB_TOP		0x278
#define STUB_TCB_TARGET		0x260
#define STUB_TCB_JUMP_TARGET	(STUB_TCB_TOP - 8)	/* probe_on_jump's */
#define STUB_TCB_READ_AT	9
#define STUB_TCB_CALL_AT	36
#define STUB_TCB_CALL_LEN	50

struct stub_spec {
	const struct patch_window *w;
	uint64_t addr;			/* where the stub will live */
	bool tcb;			/* on the TCB stack (see above) */
	uint64_t probe_entry;		/* the probe's entry-event routine */
	uint64_t probe_return;		/* its return-event routine */
	uint64_t probe_jump;		/* its indirect-jmp one (the TCB
					   stack's: probe_on_jump), or 0 */
	uint32_t entry_site;		/* STUB_NO_SITE: not an entry window */
	/* per displaced instruction: the return site it is, or
	 * STUB_NO_SITE */
	uint32_t ret_site[PATCH_MAX_INSNS];
	/* out: where a thread in the stub stands for the window's start
	 * (a fault there is the first instruction's): the call of the probe
	 * at the stub's start (its push done: the stack pointer is 8 lower),
	 * and the first displaced instruction's copy; -1 if none */
	int16_t call0, copy0;
	/* out: the call of the probe before a jump leaving the function, or
	 * -1, and the jump's target: a fault in its push (or call) is the
	 * target's first push, as untraced */
	int16_t jcall;
	uint64_t jtarget;
	/* the function's ranges, for an indirect jmp in the window */
	const struct addr_range *ranges;
	size_t nranges;		/* at most STUB_MAX_RANGES */
	/* out: the int3 an indirect jmp leaving the function executes,
	 * every register as at the jmp, or -1 (on a TCB stack with
	 * probe_jump, the stub calls it instead and jumps on); and where
	 * the jmp's check ends (a fault before it, on the TCB stack, is the
	 * jmp's own), or -1 */
	int16_t jind_trap, jind_out;
	/* out: per displaced ret that is a site, where its probe call
	 * starts (a push that reads the stack as the ret would: a fault
	 * there is the ret's), or -1 */
	int16_t ret_push[PATCH_MAX_INSNS];
	/* where a direct jmp or jcc of the function to target goes instead
	 * (the stub copy of a window's inner target), or NULL */
	uint64_t (*redirect)(void *arg, uint64_t target);
	void *redirect_arg;
	/* out: per displaced instruction, where its copy starts (for a ret
	 * that is a site, its probe call), or -1 */
	int16_t copy_at[PATCH_MAX_INSNS];
};

/* Encode the stub for s into out.  Returns its length, or -1 with errno
 * ERANGE (a target, the probe or the way back out of rel32 reach of the
 * stub) or EINVAL (an instruction that cannot be relocated, a return site
 * on one that does not leave, a site id above INT32_MAX). */
int stub_encode(uint8_t out[STUB_MAX], struct stub_spec *s);

/* The bytes that replace the window: jmp rel32 to the stub (jmp rel8 to
 * w->spring for a springboard, whose pad jumps to the stub), then int3 to
 * the window's end (w->len bytes in out).  Returns 0, or -1 with errno
 * ERANGE when the stub (the spring) is out of reach. */
int stub_patch(uint8_t *out, const struct patch_window *w, uint64_t stub);

#endif

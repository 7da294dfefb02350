/* stub: encode a probe site's stub (see stub.h).  Pure byte emission: the
 * tracer writes the result into the program's stub area and patches the
 * window only once the stub is in place. */
#include "tracer/stub.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The stub being written: its bytes, and the address the next byte will
 * have in the program. */
struct emit {
	uint8_t *p;
	size_t n;
	uint64_t addr;
	int err;		/* the first errno, 0 if none */
	int last_call;		/* offset of the last probe call, or -1 */
	bool tcb;		/* the probes run on the TCB stack */
};

static void fail(struct emit *e, int err)
{
	if (!e->err)
		e->err = err;
}

static void put(struct emit *e, const void *b, size_t n)
{
	if (e->n + n > STUB_MAX) {
		fail(e, EINVAL);
		return;
	}
	memcpy(e->p + e->n, b, n);
	e->n += n;
}

static void put1(struct emit *e, uint8_t b)
{
	put(e, &b, 1);
}

static void put32(struct emit *e, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(e, b, sizeof(b));
}

static uint64_t here(const struct emit *e)
{
	return e->addr + e->n;
}

/* The rel32 from the end of an instruction at `end` to target. */
static int32_t rel32(struct emit *e, uint64_t end, uint64_t target)
{
	int64_t d = (int64_t)(target - end);

	if (d != (int32_t)d) {
		fail(e, ERANGE);
		return 0;
	}
	return (int32_t)d;
}

/* jmp or call rel32 (opcode e9 or e8). */
static void branch(struct emit *e, uint8_t op, uint64_t target)
{
	put1(e, op);
	put32(e, (uint32_t)rel32(e, here(e) + 4, target));
}

static void jcc32(struct emit *e, unsigned cond, uint64_t target)
{
	put1(e, 0x0f);
	put1(e, 0x80 | cond);
	put32(e, (uint32_t)rel32(e, here(e) + 4, target));
}

/* lea disp32(%rsp),%rsp: moves the stack without touching the flags. */
static void lea_rsp(struct emit *e, int32_t disp)
{
	static const uint8_t op[] = { 0x48, 0x8d, 0xa4, 0x24 };

	put(e, op, sizeof(op));
	put32(e, (uint32_t)disp);
}

/* mov %rsp,%fs:disp32 (to) or mov %fs:disp32,%rsp, and the same with rax
 * (reg 0 rather than 4): a word of the thread's TCB. */
static void fs_mov(struct emit *e, bool to_fs, unsigned reg, int32_t disp)
{
	put1(e, 0x64);
	put1(e, 0x48);
	put1(e, to_fs ? 0x89 : 0x8b);
	put1(e, (uint8_t)(reg << 3 | 4));
	put1(e, 0x25);
	put32(e, (uint32_t)disp);
}

/* Onto the thread's TCB stack (see stub.h), the site's stack pointer kept
 * at STUB_TCB_TOP: mov %rsp,%fs:TOP; mov %fs:0,%rsp (the thread pointer,
 * which points to itself); lea TOP(%rsp),%rsp.  With `read_at` (a
 * displacement from the stack pointer, or 1 for none), after the save,
 * mov disp8(%rsp),%rsp reads the program's stack where the site's own
 * instruction would touch it, so that a stack pointer gone bad faults as
 * untraced, at the same address (STUB_TCB_READ_AT). */
static void tcb_switch(struct emit *e, int read_at)
{
	static const uint8_t mov_read[] = { 0x48, 0x8b, 0x64, 0x24 };

	fs_mov(e, true, 4, STUB_TCB_TOP);
	if (read_at != 1) {
		put(e, mov_read, sizeof(mov_read));
		put1(e, (uint8_t)(int8_t)read_at);
	}
	fs_mov(e, false, 4, 0);
	lea_rsp(e, STUB_TCB_TOP);
}

/* Call a probe routine for `site` on the TCB stack: the switch (its read
 * where the site's instruction touches the stack: the return address
 * before a ret, the word under the stack pointer else, as a push), push
 * $site, call, and the site's stack pointer back (STUB_TCB_CALL_LEN). */
static void tcb_probe_call(struct emit *e, uint64_t routine, uint32_t site,
			   bool reads_top)
{
	tcb_switch(e, reads_top ? 0 : -8);
	put1(e, 0x68);			/* push $site */
	put32(e, site);
	e->last_call = (int)e->n;
	branch(e, 0xe8, routine);
	fs_mov(e, false, 4, STUB_TCB_TOP);
}

/* Call a probe routine for `site` (see stub.h).  Its first access to the
 * stack is the one the site's own instruction would make, so that a stack
 * pointer gone bad faults as it would untraced, at the same address: at
 * an entry, push writes below the stack pointer as the function's own
 * push would; before a ret, push (%rsp) reads the return address first,
 * as the ret would.  The call's offset goes in e->last_call. */
static void probe_call(struct emit *e, uint64_t routine, uint32_t site,
		       bool reads_top)
{
	static const uint8_t push_top[] = { 0xff, 0x34, 0x24 };
	static const uint8_t movl_lo[] = { 0xc7, 0x04, 0x24 };
	static const uint8_t movl_hi0[] = { 0xc7, 0x44, 0x24, 0x04, 0, 0, 0, 0 };

	if (site > INT32_MAX) {		/* push imm32 sign-extends */
		fail(e, EINVAL);
		return;
	}
	if (e->tcb) {
		tcb_probe_call(e, routine, site, reads_top);
		return;
	}
	if (STUB_RED_ZONE)
		lea_rsp(e, -STUB_RED_ZONE);
	if (reads_top) {
		put(e, push_top, sizeof(push_top));
		put(e, movl_lo, sizeof(movl_lo));
		put32(e, site);
		put(e, movl_hi0, sizeof(movl_hi0));
	} else {
		put1(e, 0x68);		/* push $site */
		put32(e, site);
	}
	e->last_call = (int)e->n;
	branch(e, 0xe8, routine);
	lea_rsp(e, STUB_RED_ZONE + 8);
}

#define PROBE_PUSH_CALL_LEN	(5 + 5 + 8 + (STUB_RED_ZONE ? 8 : 0))

/* A call from elsewhere: push the original return address (push imm32
 * sign-extends, so the high half is stored over it; mov leaves the flags
 * as they are), then jmp. */
static void relocated_call(struct emit *e, const struct insn *in)
{
	uint64_t ret = in->addr + in->len;
	static const uint8_t movl_hi[] = { 0xc7, 0x44, 0x24, 0x04 };

	put1(e, 0x68);
	put32(e, (uint32_t)ret);
	put(e, movl_hi, sizeof(movl_hi));
	put32(e, (uint32_t)(ret >> 32));
	branch(e, 0xe9, in->target);
}

/* The instruction's own bytes, its rip-relative disp32 re-aimed. */
static void relocated_copy(struct emit *e, const struct insn *in)
{
	uint64_t at = here(e);

	put(e, in->bytes, in->len);
	if (in->disp_off && !e->err) {
		int32_t d = rel32(e, at + in->len, in->target);

		memcpy(e->p + (at - e->addr) + in->disp_off, &d, sizeof(d));
	}
}

/* A jcc that is a return site: the probe only on the taken path. */
static void leaving_jcc(struct emit *e, struct stub_spec *s,
			const struct insn *in, uint32_t site)
{
	put1(e, 0x70 | (in->cond ^ 1));	/* j!cc over probe and jmp */
	put1(e, (e->tcb ? STUB_TCB_CALL_LEN : PROBE_PUSH_CALL_LEN) + 5);
	probe_call(e, s->probe_return, site, false);
	s->jcall = (int16_t)e->last_call;
	s->jtarget = in->target;
	branch(e, 0xe9, in->target);
}

/* mov m64 or r64 into %rax: the REX prefix, the opcode, then the operand
 * with reg field 0.  The operand is ind's, as at the jmp: the stack
 * pointer is now STUB_JIND_BELOW - 8 lower (rax and the flags are
 * pushed), which a base of rsp makes up for. */
static void target_to_rax(struct emit *e, const struct insn_ind *ind)
{
	const int64_t bias = STUB_JIND_SKIP + 16;
	int64_t disp = ind->disp;
	uint8_t rex = 0x48, modrm, sib;
	int base = ind->base;
	unsigned scale;

	if (e->tcb && (ind->reg == 4 || base == 4)) {
		/* the program's stack pointer is the saved one: into rax,
		 * which then stands for it (rax as the index too: no) */
		if (ind->reg == INSN_REG_NONE && ind->index == 0) {
			fail(e, EINVAL);
			return;
		}
		fs_mov(e, false, 0, STUB_TCB_TOP);
		if (ind->reg == 4)
			return;
		base = 0;
	} else if (e->tcb) {
		;			/* the stack pointer is not used */
	} else if (ind->base == 4) {
		disp += bias;
	}
	if (ind->reg != INSN_REG_NONE) {
		if (ind->reg == 4) {	/* lea bias(%rsp),%rax */
			static const uint8_t lea[] = { 0x48, 0x8d, 0x84, 0x24 };

			put(e, lea, sizeof(lea));
			put32(e, (uint32_t)bias);
		} else if (ind->reg != 0) {	/* mov %reg,%rax */
			put1(e, (uint8_t)(0x48 | (ind->reg >= 8 ? 0x04 : 0)));
			put1(e, 0x89);
			put1(e, (uint8_t)(0xc0 | (ind->reg & 7) << 3));
		}
		return;
	}
	if (ind->base == INSN_REG_RIP) {	/* disp: the absolute address */
		put1(e, 0x48);
		put1(e, 0x8b);
		put1(e, 0x05);
		put32(e, (uint32_t)rel32(e, here(e) + 4, (uint64_t)disp));
		return;
	}
	if (disp != (int32_t)disp || ind->index == 4) {
		fail(e, EINVAL);
		return;
	}
	switch (ind->scale) {
	case 1: scale = 0; break;
	case 2: scale = 1; break;
	case 4: scale = 2; break;
	case 8: scale = 3; break;
	default:
		if (ind->index != INSN_REG_NONE) {
			fail(e, EINVAL);
			return;
		}
		scale = 0;
	}
	if (ind->index >= 8)
		rex |= 0x02;
	if (base != INSN_REG_NONE && base >= 8)
		rex |= 0x01;
	/* always a SIB byte: index 4 is none, and with no base, mod 0 and
	 * base 5 is disp32 alone */
	modrm = base == INSN_REG_NONE ? 0x04 : 0x84;
	sib = (uint8_t)(scale << 6 |
			(ind->index == INSN_REG_NONE ? 4 : ind->index & 7) << 3 |
			(base == INSN_REG_NONE ? 5 : base & 7));
	put1(e, rex);
	put1(e, 0x8b);
	put1(e, modrm);
	put1(e, sib);
	put32(e, (uint32_t)disp);
}

/* cmp m64(%rip),%rax; the m64's rel32 is left 0 at offset *field */
static void cmp_rax_rip(struct emit *e, size_t *field)
{
	put1(e, 0x48);
	put1(e, 0x3b);
	put1(e, 0x05);
	*field = e->n;
	put32(e, 0);
}

/* Undo the check's saves: popfq, pop %rax, lea SKIP(%rsp),%rsp (or the
 * saved stack pointer back from the TCB). */
static void jind_restore(struct emit *e)
{
	put1(e, 0x9d);
	put1(e, 0x58);
	if (e->tcb)
		fs_mov(e, false, 4, STUB_TCB_TOP);
	else
		lea_rsp(e, STUB_JIND_SKIP);
}

/* Set the rel32 at offset `field` (its instruction ends 4 bytes later)
 * to reach `target` offset of the stub. */
static void fix_rel32(struct emit *e, size_t field, size_t target)
{
	int32_t d = (int32_t)((int64_t)target - (int64_t)(field + 4));

	if (field + 4 <= e->n)
		memcpy(e->p + field, &d, sizeof(d));
}

/* An indirect jmp leaving the function, on the TCB stack with the check's
 * saves (the flags at 0(%rsp), rax at 8(%rsp), just under STUB_TCB_TOP)
 * and its target in rax: the target goes where rax was
 * (STUB_TCB_JUMP_TARGET, where probe_on_jump reads it), every register
 * but the stack pointer back, the saved stack pointer pushed again (the
 * probe finds the site's where a probe call's frame has it: STUB_SP_BIAS
 * above its return address), probe_on_jump called with the site, then
 * the program's stack pointer back and the jump. */
static void leaving_jind_probe(struct emit *e, const struct stub_spec *s,
			       uint32_t site)
{
	static const uint8_t xchg_rax_8rsp[] = { 0x48, 0x87, 0x44, 0x24, 0x08 };
	static const uint8_t push_fs[] = { 0x64, 0xff, 0x34, 0x25 };
	static const uint8_t jmp_fs[] = { 0x64, 0xff, 0x24, 0x25 };

	if (site > INT32_MAX) {
		fail(e, EINVAL);
		return;
	}
	put(e, xchg_rax_8rsp, sizeof(xchg_rax_8rsp));
	put1(e, 0x9d);			/* popfq */
	put(e, push_fs, sizeof(push_fs));
	put32(e, STUB_TCB_TOP);
	put1(e, 0x68);			/* push $site */
	put32(e, site);
	e->last_call = (int)e->n;
	branch(e, 0xe8, s->probe_jump);
	fs_mov(e, false, 4, STUB_TCB_TOP);
	put(e, jmp_fs, sizeof(jmp_fs));
	put32(e, STUB_TCB_JUMP_TARGET);
}

/* An indirect jmp that is a return site (see stub.h). */
static void leaving_jind(struct emit *e, struct stub_spec *s,
			 const struct insn *in, uint32_t site)
{
	static const uint8_t mov_rax_below[] = { 0x48, 0x89, 0x44, 0x24, 0xf8 };
	static const uint8_t jmp_below[] = { 0xff, 0xa4, 0x24 };
	size_t nr = s->nranges, lo_at[STUB_MAX_RANGES], hi_at[STUB_MAX_RANGES];
	size_t jb_at[STUB_MAX_RANGES], inside;

	if (!nr || nr > STUB_MAX_RANGES || !s->ranges) {
		fail(e, EINVAL);
		return;
	}
	if (e->tcb)
		tcb_switch(e, 1);
	else
		lea_rsp(e, -STUB_JIND_SKIP);
	put1(e, 0x50);			/* push %rax */
	put1(e, 0x9c);			/* pushfq */
	target_to_rax(e, &in->ind);
	for (size_t i = 0; i < nr; i++) {
		cmp_rax_rip(e, &lo_at[i]);
		put1(e, 0x72);		/* jb: below this range, next */
		put1(e, 7 + 6);
		cmp_rax_rip(e, &hi_at[i]);
		put1(e, 0x0f);		/* jb rel32: inside */
		put1(e, 0x82);
		jb_at[i] = e->n;
		put32(e, 0);
	}
	/* outside: the return probe and the jump, or every register back
	 * and the trap */
	s->jind_out = (int16_t)e->n;
	if (e->tcb && s->probe_jump) {
		leaving_jind_probe(e, s, site);
	} else {
		jind_restore(e);
		s->jind_trap = (int16_t)e->n;
		put1(e, 0xcc);
	}
	/* inside: the target under the saves, everything back, jump */
	inside = e->n;
	if (e->tcb) {
		static const uint8_t jmp_fs[] = { 0x64, 0xff, 0x24, 0x25 };

		fs_mov(e, true, 0, STUB_TCB_TARGET);
		jind_restore(e);
		put(e, jmp_fs, sizeof(jmp_fs));
		put32(e, STUB_TCB_TARGET);
	} else {
		put(e, mov_rax_below, sizeof(mov_rax_below));
		jind_restore(e);
		put(e, jmp_below, sizeof(jmp_below));
		put32(e, (uint32_t)-(int32_t)STUB_JIND_BELOW);
	}
	put1(e, 0xcc);			/* nothing runs on */
	while ((e->addr + e->n) & 7)
		put1(e, 0xcc);
	for (size_t i = 0; i < nr && !e->err; i++) {
		fix_rel32(e, lo_at[i], e->n);
		put(e, &s->ranges[i].lo, 8);
		fix_rel32(e, hi_at[i], e->n);
		put(e, &s->ranges[i].hi, 8);
		fix_rel32(e, jb_at[i], inside);
	}
}

/* Where a branch of the function to target goes from a stub: the copy of
 * a window's inner target, or target itself. */
static uint64_t redirected(const struct stub_spec *s, uint64_t target)
{
	return s->redirect ? s->redirect(s->redirect_arg, target) : target;
}

/* Emit one displaced instruction; returns 1 when flow does not go on
 * past it (ret, jmp), so what follows in the window is dead. */
static int relocate(struct emit *e, struct stub_spec *s,
		    const struct insn *in, uint32_t site)
{
	bool leaves = site != STUB_NO_SITE;

	if (leaves && in->op != INSN_RET && in->op != INSN_JMP &&
	    in->op != INSN_JCC && in->op != INSN_JMP_IND) {
		fail(e, EINVAL);
		return 1;
	}
	switch (in->op) {
	case INSN_NOP:
		return 0;		/* nothing to replay */
	case INSN_RET:
		if (leaves)
			probe_call(e, s->probe_return, site, true);
		put(e, in->bytes, in->len);
		return 1;
	case INSN_JMP:
		/* a jump touches no stack: the probe's push writes where the
		 * target's own first push would, and a fault there is the
		 * target's */
		if (leaves) {
			probe_call(e, s->probe_return, site, false);
			s->jcall = (int16_t)e->last_call;
			s->jtarget = in->target;
		}
		branch(e, 0xe9, leaves ? in->target : redirected(s, in->target));
		return 1;
	case INSN_JCC:
		if (leaves)
			leaving_jcc(e, s, in, site);
		else
			jcc32(e, in->cond, redirected(s, in->target));
		return 0;
	case INSN_JMP_IND:
		if (!leaves)		/* every indirect jmp is a site */
			fail(e, EINVAL);
		else
			leaving_jind(e, s, in, site);
		return 1;
	case INSN_CALL:
		relocated_call(e, in);
		return 0;
	case INSN_PUSH:
	case INSN_SUB_RSP:
	case INSN_MOV_RSP_RBP:
	case INSN_OOL:
		relocated_copy(e, in);
		return 0;
	default:
		fail(e, EINVAL);
		return 1;
	}
}

int stub_encode(uint8_t out[STUB_MAX], struct stub_spec *s)
{
	const struct patch_window *w = s->w;
	struct emit e = { out, 0, s->addr, 0, -1, s->tcb };
	uint64_t back = w->start;
	int ended = 0;

	s->call0 = s->copy0 = s->jcall = s->jind_trap = s->jind_out = -1;
	for (unsigned i = 0; i < PATCH_MAX_INSNS; i++)
		s->ret_push[i] = s->copy_at[i] = -1;
	s->jtarget = 0;
	if (s->entry_site != STUB_NO_SITE) {
		probe_call(&e, s->probe_entry, s->entry_site, false);
		s->call0 = (int16_t)e.last_call;
	}
	/* every instruction, in order: after a ret or jmp, the next is an
	 * inner target, reached at its copy (its copy_at) */
	for (unsigned i = 0; i < w->ninsns; i++) {
		size_t at = e.n;

		s->copy_at[i] = (int16_t)at;
		e.last_call = -1;
		ended = relocate(&e, s, &w->insns[i], s->ret_site[i]);
		if (w->insns[i].op == INSN_RET && e.last_call >= 0)
			s->ret_push[i] = (int16_t)at;
		if (i == 0 && w->insns[0].op == INSN_RET && e.last_call >= 0 &&
		    s->call0 < 0)
			s->call0 = (int16_t)e.last_call;
		/* (an indirect jmp's probe call comes after its check:
		 * its copy starts with the check, and the jump after the
		 * call reads a target that a handler run there could
		 * overwrite) */
		if (i == 0)
			s->copy0 = (int16_t)(e.last_call >= 0 &&
					     w->insns[0].op != INSN_JMP_IND ?
					     e.last_call + 5 +
					     (e.tcb ? 9 : 8) : (int)at);
		back = w->insns[i].addr + w->insns[i].len;
	}
	if (!ended) {
		if (w->padding) {	/* flow would run into the padding */
			fail(&e, EINVAL);
		} else {
			branch(&e, 0xe9, back);
		}
	}
	put1(&e, 0xcc);			/* nothing runs on: make it loud */
	if (e.err) {
		errno = e.err;
		return -1;
	}
	return (int)e.n;
}

int stub_patch(uint8_t *out, const struct patch_window *w, uint64_t stub)
{
	int64_t d = (int64_t)(stub - (w->start + PATCH_JMP_LEN));

	if (w->spring) {	/* the jmp rel8 to the pad's jmp rel32 */
		d = (int64_t)(w->spring - (w->start + PATCH_SPRING_LEN));
		if (d != (int8_t)d || w->len < PATCH_SPRING_LEN) {
			errno = ERANGE;
			return -1;
		}
		out[0] = 0xeb;
		out[1] = (uint8_t)(int8_t)d;
		memset(out + PATCH_SPRING_LEN, 0xcc,
		       w->len - PATCH_SPRING_LEN);
		return 0;
	}
	if (d != (int32_t)d || w->len < PATCH_JMP_LEN) {
		errno = ERANGE;
		return -1;
	}
	out[0] = 0xe9;
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)((uint64_t)d >> (8 * i));
	memset(out + PATCH_JMP_LEN, 0xcc, w->len - PATCH_JMP_LEN);
	return 0;
}

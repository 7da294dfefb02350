/* disasm: classify x86-64 instructions for the tracer and find return sites,
 * with capstone.
 *
 * Capstone decodes and tells us the instruction's identity, operands and
 * where its displacement and immediate sit; the numbers the tracer relies on
 * (branch targets, immediates, rip-relative displacements) are re-read from
 * the raw bytes at those offsets, so a capstone quirk in how it reports
 * values cannot silently move a jump. */
#include "symbols/disasm.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <capstone.h>

/* One handle and one instruction buffer per thread for the whole run:
 * cs_open and cs_malloc cost more than decoding a small function, and
 * return sites are looked up for thousands of functions.  The main
 * thread's is never closed: it lives as long as the process; another
 * thread closes its own (disasm_thread_done). */
static __thread csh cs_handle;
static __thread cs_insn *cs_buf;

void disasm_thread_done(void)
{
	if (!cs_buf)
		return;
	cs_free(cs_buf, 1);
	cs_buf = NULL;
	cs_close(&cs_handle);
}

/* Capstone prints every instruction it decodes (mnemonic and operands,
 * through vsnprintf for the numbers), and we read none of that text: its
 * identity, operands and offsets are what we use.  Its formatter is
 * replaced by one that writes nothing, which takes a fifth of the
 * decoding time away.  Set once, before the first handle. */
static int quiet_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	(void)fmt;
	(void)ap;
	if (size)
		buf[0] = '\0';
	return 0;
}

static void set_quiet(void)
{
	static const cs_opt_mem mem = {
		.malloc = malloc, .calloc = calloc, .realloc = realloc,
		.free = free, .vsnprintf = quiet_vsnprintf,
	};

	cs_option(0, CS_OPT_MEM, (size_t)&mem);
}

static int cs_open_quiet(csh *h)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, set_quiet);
	return cs_open(CS_ARCH_X86, CS_MODE_64, h) == CS_ERR_OK ? 0 : -1;
}

static int cs_ready(void)
{
	if (cs_buf)
		return 1;
	if (cs_open_quiet(&cs_handle) != 0)
		return 0;
	if (cs_option(cs_handle, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK)
		goto fail;
	cs_buf = cs_malloc(cs_handle);
	if (!cs_buf)
		goto fail;
	return 1;
fail:
	cs_close(&cs_handle);
	return 0;
}

/* The register number as encoded (rax=0 ... r15=15), or -1. */
static int reg_number(x86_reg r)
{
	static const x86_reg regs[16] = {
		X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX,
		X86_REG_RSP, X86_REG_RBP, X86_REG_RSI, X86_REG_RDI,
		X86_REG_R8,  X86_REG_R9,  X86_REG_R10, X86_REG_R11,
		X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15,
	};

	for (int i = 0; i < 16; i++)
		if (regs[i] == r)
			return i;
	return -1;
}

static int is_jcc(unsigned id)
{
	switch (id) {
	case X86_INS_JO:  case X86_INS_JNO: case X86_INS_JB:  case X86_INS_JAE:
	case X86_INS_JE:  case X86_INS_JNE: case X86_INS_JBE: case X86_INS_JA:
	case X86_INS_JS:  case X86_INS_JNS: case X86_INS_JP:  case X86_INS_JNP:
	case X86_INS_JL:  case X86_INS_JGE: case X86_INS_JLE: case X86_INS_JG:
		return 1;
	}
	return 0;
}

static int is_rip(x86_reg r)
{
	return r == X86_REG_RIP || r == X86_REG_EIP || r == X86_REG_IP;
}

/* Control transfers and implicit uses of rip: such an instruction behaves
 * differently, or not at all, when it runs at another address. */
static int touches_rip(const cs_detail *d)
{
	for (int i = 0; i < d->groups_count; i++) {
		switch (d->groups[i]) {
		case X86_GRP_JUMP:
		case X86_GRP_CALL:
		case X86_GRP_RET:
		case X86_GRP_INT:
		case X86_GRP_IRET:
		case X86_GRP_BRANCH_RELATIVE:
			return 1;
		}
	}
	for (int i = 0; i < d->regs_read_count; i++)
		if (is_rip(d->regs_read[i]))
			return 1;
	for (int i = 0; i < d->regs_write_count; i++)
		if (is_rip(d->regs_write[i]))
			return 1;
	return 0;
}

static int has_opsize_prefix(const cs_x86 *x)
{
	return x->prefix[2] == X86_PREFIX_OPSIZE;
}

/* A direct relative branch: its absolute target from the rel8/rel32 bytes.
 * With a 0x66 prefix the target would be truncated to 16 bits (AMD) or the
 * prefix ignored (Intel); no compiler emits it, so refuse it. */
static int branch_target(const cs_insn *ci, struct insn *out)
{
	const cs_x86 *x = &ci->detail->x86;
	unsigned off = x->encoding.imm_offset, size = x->encoding.imm_size;

	if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM ||
	    has_opsize_prefix(x) || (size != 1 && size != 4) || !off ||
	    off + size != ci->size)
		return 0;
	out->target = out->addr + out->len + insn_sext(ci->bytes + off, size);
	return 1;
}

/* xchg of a register with itself changes nothing, except in 32-bit form,
 * which zero-extends into the upper half. */
static int is_xchg_nop(const cs_x86 *x)
{
	return x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	       x->operands[1].type == X86_OP_REG &&
	       x->operands[0].reg == x->operands[1].reg &&
	       x->operands[0].size != 4;
}

static int is_push_reg(const cs_x86 *x)
{
	return x->op_count == 1 && x->operands[0].type == X86_OP_REG &&
	       x->operands[0].size == 8 && reg_number(x->operands[0].reg) >= 0;
}

static int is_sub_rsp(const cs_insn *ci)
{
	const cs_x86 *x = &ci->detail->x86;
	unsigned off = x->encoding.imm_offset, size = x->encoding.imm_size;

	return x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RSP &&
	       x->operands[1].type == X86_OP_IMM && (size == 1 || size == 4) &&
	       off && off + size == ci->size;
}

static int is_mov_rsp_rbp(const cs_x86 *x)
{
	return x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
	       x->operands[0].reg == X86_REG_RBP &&
	       x->operands[1].type == X86_OP_REG &&
	       x->operands[1].reg == X86_REG_RSP;
}

/* 64-bit register number, rip, or -1 (none or a register we cannot use). */
static int mem_reg(x86_reg r, int *ok)
{
	if (r == X86_REG_INVALID)
		return INSN_REG_NONE;
	if (r == X86_REG_RIP)
		return INSN_REG_RIP;
	if (reg_number(r) < 0)
		*ok = 0;
	return reg_number(r);
}

/* jmp or call through a register or memory: what the tracer needs to find
 * the target at run time.  Refused: a segment override (fs/gs: the tracer
 * would need the thread's segment base), a 32-bit address or 16-bit
 * operand, which no compiler emits for a branch. */
static int indirect_operand(const cs_insn *ci, struct insn *out)
{
	const cs_x86 *x = &ci->detail->x86;
	const cs_x86_op *o = &x->operands[0];
	struct insn_ind *ind = &out->ind;
	int ok = 1;

	if (x->op_count != 1 || has_opsize_prefix(x) ||
	    x->prefix[3] == X86_PREFIX_ADDRSIZE || o->size != 8)
		return 0;
	ind->reg = ind->base = ind->index = INSN_REG_NONE;
	if (o->type == X86_OP_REG) {
		ind->reg = (int8_t)reg_number(o->reg);
		return ind->reg >= 0;
	}
	if (o->type != X86_OP_MEM || (o->mem.segment != X86_REG_INVALID &&
				      o->mem.segment != X86_REG_DS))
		return 0;
	ind->base = (int8_t)mem_reg(o->mem.base, &ok);
	ind->index = (int8_t)mem_reg(o->mem.index, &ok);
	ind->scale = (uint8_t)o->mem.scale;
	ind->disp = o->mem.disp;
	if (x->encoding.disp_size &&
	    (x->encoding.disp_offset + x->encoding.disp_size > ci->size ||
	     insn_sext(ci->bytes + x->encoding.disp_offset,
		       x->encoding.disp_size) != o->mem.disp))
		return 0;
	if (ind->index == INSN_REG_RIP || ind->index == 4 /* rsp */)
		return 0;
	if (ind->base == INSN_REG_RIP) {
		if (ind->index != INSN_REG_NONE)
			return 0;
		ind->disp = (int64_t)(out->addr + out->len) + o->mem.disp;
	}
	return ok;
}

/* Anything that may run out of line.  A rip-relative operand is fine, the
 * tracer rewrites its disp32; check capstone's offset against the value
 * before trusting it with that rewrite.  (Its disp32 always is one:
 * capstone 4 gives disp_size 2 when an operand-size prefix is there, as
 * in movdqa or a 16-bit cmp.)  An eip-relative operand (an address-size
 * prefix) is computed from the address where it runs, with 32 bits: it
 * stays unsupported. */
static void classify_ool(const cs_insn *ci, struct insn *out)
{
	const cs_x86 *x = &ci->detail->x86;
	unsigned off = x->encoding.disp_offset;

	out->op = INSN_UNSUPPORTED;
	if (touches_rip(ci->detail))
		return;
	for (int i = 0; i < x->op_count; i++) {
		const cs_x86_op *o = &x->operands[i];

		if (o->type != X86_OP_MEM)
			continue;
		if (o->mem.base == X86_REG_EIP || o->mem.base == X86_REG_IP)
			return;
		if (o->mem.base != X86_REG_RIP)
			continue;
		if (!off || (x->encoding.disp_size != 4 &&
			     x->encoding.disp_size != 2) || off + 4 > ci->size ||
		    insn_sext(ci->bytes + off, 4) != o->mem.disp)
			return;
		out->disp_off = off;
		out->target = out->addr + out->len + o->mem.disp;
	}
	out->op = INSN_OOL;
}

/* Fill `out` from a decoded instruction: the cases the tracer emulates,
 * then the direct branches, then out of line or unsupported. */
static void classify(const cs_insn *ci, struct insn *out)
{
	const cs_x86 *x = &ci->detail->x86;

	memset(out, 0, sizeof(*out));
	out->addr = ci->address;
	out->len = ci->size < sizeof(out->bytes) ? ci->size : sizeof(out->bytes);
	memcpy(out->bytes, ci->bytes, out->len);
	out->op = INSN_UNSUPPORTED;

	switch (ci->id) {
	case X86_INS_ENDBR64:
	case X86_INS_ENDBR32:
	case X86_INS_NOP:
		out->op = INSN_NOP;
		return;
	case X86_INS_XCHG:
		if (is_xchg_nop(x)) {
			out->op = INSN_NOP;
			return;
		}
		break;
	case X86_INS_PUSH:
		if (is_push_reg(x)) {
			out->op = INSN_PUSH;
			out->reg = reg_number(x->operands[0].reg);
			return;
		}
		break;
	case X86_INS_SUB:
		if (is_sub_rsp(ci)) {
			out->op = INSN_SUB_RSP;
			out->imm = insn_sext(ci->bytes + x->encoding.imm_offset,
					     x->encoding.imm_size);
			return;
		}
		break;
	case X86_INS_MOV:
		if (is_mov_rsp_rbp(x)) {
			out->op = INSN_MOV_RSP_RBP;
			return;
		}
		break;
	case X86_INS_RET:
		/* 66 c3 pops 16 bits: not a return any compiler emits. */
		if (has_opsize_prefix(x))
			return;
		out->op = INSN_RET;
		if (x->op_count == 1 && x->encoding.imm_size == 2)
			out->imm = (uint16_t)insn_sext(ci->bytes +
						       x->encoding.imm_offset, 2);
		return;
	case X86_INS_JMP:
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			if (branch_target(ci, out))
				out->op = INSN_JMP;
		} else if (indirect_operand(ci, out)) {
			out->op = INSN_JMP_IND;
		}
		return;
	case X86_INS_CALL:
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			if (branch_target(ci, out))
				out->op = INSN_CALL;
		} else if (indirect_operand(ci, out)) {
			out->op = INSN_CALL_IND;
		}
		return;
	default:
		if (is_jcc(ci->id)) {
			/* The opcode byte (7x or 0f 8x) is just before rel. */
			if (branch_target(ci, out)) {
				out->op = INSN_JCC;
				out->cond = ci->bytes[x->encoding.imm_offset - 1] & 0xf;
			}
			return;
		}
	}
	classify_ool(ci, out);
}

/* Is b a segment or address-size prefix, the only legacy prefixes that may
 * come before a VEX or EVEX one? */
static int vex_legacy_prefix(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x64 || b == 0x65 || b == 0x67;
}

/* The ModRM byte at code[*i] and the SIB byte and displacement it calls
 * for, as everywhere in 64-bit code: *i moves past the ModRM and SIB, and
 * the displacement's size is returned (0, 1 or 4), or -1 when the bytes
 * run out.  *rip: the operand is rip-relative (its disp32 at *i). */
static int modrm_disp(const uint8_t *code, size_t n, size_t *i, int *rip)
{
	unsigned mod, rm;
	int disp = 0;

	*rip = 0;
	if (*i >= n)
		return -1;
	mod = code[*i] >> 6;
	rm = code[*i] & 7;
	(*i)++;
	if (mod != 3 && rm == 4) {	/* SIB */
		if (*i >= n)
			return -1;
		if (mod == 0 && (code[*i] & 7) == 5)
			disp = 4;	/* no base: disp32 */
		(*i)++;
	} else if (mod == 0 && rm == 5) {
		*rip = 1;
		disp = 4;
	}
	if (mod == 1)
		disp = 1;
	else if (mod == 2)
		disp = 4;
	return disp;
}

/* The VEX and EVEX instructions capstone 4 does not know: AVX-512's (kmovq,
 * vptestnmb, vpbroadcastb to a zmm register, the masked compares...), which
 * glibc's string functions are full of.  Left undecoded, the sweep went on
 * one byte later, inside the instruction, and could find a ret there (an
 * int3 written into the middle of a real instruction: the program
 * crashed).  Their length follows from the encoding alone, whatever the
 * instruction: the prefix (2, 3 or 4 bytes) names the opcode map, the
 * opcode byte, a ModRM byte (always there but for vzeroupper and vzeroall),
 * its SIB and displacement as everywhere in 64-bit code (EVEX scales a
 * disp8, it is still one byte), and an imm8 for map 3 and the few map 1
 * opcodes that take one.  None of them branches or reads rip but through a
 * rip-relative operand, so they run out of line like any other.  An
 * encoding that is not valid in 64-bit code is refused. */
static int vex_decode(const uint8_t *code, size_t n, uint64_t addr,
		      struct insn *out)
{
	size_t i = 0, disp = 0, len;
	unsigned map, op, imm = 0;
	int evex, eip = 0, rip = 0;

	if (n > sizeof(out->bytes))
		n = sizeof(out->bytes);
	for (; i < n && vex_legacy_prefix(code[i]); i++)
		eip |= code[i] == 0x67;
	if (i >= n)
		return -1;
	evex = code[i] == 0x62;
	switch (code[i]) {
	case 0xc5:		/* C5 [R vvvv L pp]: map 0f */
		map = 1;
		i += 2;
		break;
	case 0xc4:		/* C4 [RXB mmmmm] [W vvvv L pp] */
		if (i + 1 >= n)
			return -1;
		map = code[i + 1] & 0x1f;
		if (map < 1 || map > 3)
			return -1;
		i += 3;
		break;
	case 0x62:		/* 62 [RXBR' 0 mmm] [W vvvv 1 pp] [z L'L b V' aaa] */
		if (i + 2 >= n)
			return -1;
		map = code[i + 1] & 7;
		if ((code[i + 1] & 8) || !(code[i + 2] & 4) ||
		    !(map == 1 || map == 2 || map == 3 || map == 5 || map == 6))
			return -1;
		i += 4;
		break;
	default:
		return -1;
	}
	if (i >= n)
		return -1;
	op = code[i++];
	if (map == 3 || (map == 1 && ((op >= 0x70 && op <= 0x73) ||
				      (op >= 0xc4 && op <= 0xc6) || op == 0xc2)))
		imm = 1;
	if (!(map == 1 && op == 0x77 && !evex)) {
		int d = modrm_disp(code, n, &i, &rip);

		if (d < 0)
			return -1;
		disp = (size_t)d;
	}
	len = i + disp + imm;
	if (len > n)
		return -1;
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->len = (uint8_t)len;
	memcpy(out->bytes, code, len);
	out->op = INSN_OOL;
	if (rip && eip) {
		out->op = INSN_UNSUPPORTED;	/* eip-relative: see classify_ool */
	} else if (rip) {
		out->disp_off = (uint8_t)i;
		out->target = addr + len + insn_sext(code + i, 4);
	}
	return 0;
}

/* Legacy forms capstone 4 lacks, behind any prefixes and a REX: 0f 01's
 * register forms, three bytes (glibc's pkey_get and pkey_set use rdpkru and
 * wrpkru), and f3 0f 1e and f3 0f ae, a ModRM and what it calls for (the
 * shadow stack's rdsspq, in libgcc's _Unwind_RaiseException; capstone
 * knows incsspq, not every other).  Never replayed. */
static int legacy_decode(const uint8_t *code, size_t n, uint64_t addr,
			 struct insn *out)
{
	size_t i = 0;
	int rip, d, f3 = 0;

	if (n > sizeof(out->bytes))
		n = sizeof(out->bytes);
	while (i < n && (vex_legacy_prefix(code[i]) || code[i] == 0x66 ||
			 code[i] == 0xf2 || code[i] == 0xf3))
		f3 |= code[i++] == 0xf3;
	if (i < n && (code[i] & 0xf0) == 0x40)	/* REX */
		i++;
	if (i + 3 > n || code[i] != 0x0f)
		return -1;
	if (code[i + 1] == 0x01) {
		if ((code[i + 2] >> 6) != 3)
			return -1;
		i += 3;
	} else if (f3 && (code[i + 1] == 0x1e || code[i + 1] == 0xae)) {
		i += 2;
		if ((d = modrm_disp(code, n, &i, &rip)) < 0 || i + d > n)
			return -1;
		i += (size_t)d;
	} else {
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->len = (uint8_t)i;
	memcpy(out->bytes, code, out->len);
	out->op = INSN_UNSUPPORTED;
	return 0;
}

int insn_decode_ref(const uint8_t *code, size_t n, uint64_t addr,
		    struct insn *out)
{
	const uint8_t *p = code;
	uint64_t a = addr;
	size_t avail = n;

	if (!cs_ready() || !cs_disasm_iter(cs_handle, &p, &n, &a, cs_buf)) {
		if (cs_ready() && (vex_decode(code, avail, addr, out) == 0 ||
				   legacy_decode(code, avail, addr, out) == 0))
			return 0;
		memset(out, 0, sizeof(*out));
		out->addr = addr;
		out->op = INSN_UNSUPPORTED;
		return -1;
	}
	classify(cs_buf, out);
	return 0;
}

int insn_decode(const uint8_t *code, size_t n, uint64_t addr, struct insn *out)
{
	if (insn_decode_quick(code, n, addr, out))
		return 0;
	return insn_decode_ref(code, n, addr, out);
}

int insn_in_ranges(uint64_t a, const struct addr_range *fn, size_t nfn)
{
	for (size_t i = 0; i < nfn; i++)
		if (a >= fn[i].lo && a < fn[i].hi)
			return 1;
	return 0;
}

static int is_return_site(const struct insn *in, const struct addr_range *fn,
			  size_t nfn)
{
	switch (in->op) {
	case INSN_RET:
		return 1;
	case INSN_JMP:
	case INSN_JCC:
		return !insn_in_ranges(in->target, fn, nfn);
	case INSN_JMP_IND:
		return 1;
	default:
		return 0;
	}
}

/* A growing array of sites; cap is what this call allocated, so it is only
 * trusted for the array as this call left it. */
struct site_vec {
	struct insn *v;
	size_t n, cap;
};

/* Room for one more in the array *v of n (capacity *cap) elements of
 * `size` bytes: doubled when full.  -1 when out of memory (*v kept). */
static int room_for_one(void **v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, c * size);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

static int site_push(struct site_vec *s, const struct insn *in)
{
	if (room_for_one((void **)&s->v, s->n, &s->cap, sizeof(*s->v)) < 0)
		return -1;
	s->v[s->n++] = *in;
	return 0;
}

/* The sweep's sites handed to the caller: the doubling slack given back
 * (failing to shrink is harmless); how many were added. */
static long sites_done(struct site_vec *s, size_t start, struct insn **sites,
		       size_t *nsites)
{
	if (s->n && s->cap > s->n) {
		struct insn *v = realloc(s->v, s->n * sizeof(*v));

		if (v)
			s->v = v;
	}
	*sites = s->v;
	*nsites = s->n;
	return (long)(s->n - start);
}

/* ---- packed instructions ---- */

void insn_unpack(const struct insn_packed *pk, const uint8_t *code,
		 uint64_t addr, const struct insn *whole, struct insn *out)
{
	if (pk->whole) {
		*out = whole[pk->imm];
		return;
	}
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->len = pk->len;
	memcpy(out->bytes, code, pk->len);
	out->op = pk->op;
	switch (out->op) {
	case INSN_PUSH:
		out->reg = pk->small;
		break;
	case INSN_SUB_RSP:
	case INSN_RET:
		out->imm = pk->imm;
		break;
	case INSN_JCC:
		out->cond = pk->small;
		/* fall through */
	case INSN_JMP:
	case INSN_CALL:
		out->target = addr + pk->len + (int64_t)pk->rel;
		break;
	case INSN_OOL:
		out->disp_off = pk->small;
		if (pk->small)
			out->target = addr + pk->len + (int64_t)pk->rel;
		break;
	default:
		break;
	}
}

static int pack_push(struct insn_pack *pk, const struct insn_packed *p)
{
	if (room_for_one((void **)&pk->v, pk->n, &pk->cap, sizeof(*pk->v)) < 0)
		return -1;
	pk->v[pk->n++] = *p;
	return 0;
}

/* Pack in; what unpacks to anything but in exactly is kept whole. */
static int pack_one(struct insn_pack *pk, const struct insn *in)
{
	struct insn_packed p = {
		.len = in->len, .op = (uint8_t)in->op,
		.small = in->op == INSN_PUSH ? in->reg :
			 in->op == INSN_JCC ? in->cond : in->disp_off,
		.imm = (int32_t)in->imm,
		.rel = (int32_t)(in->target - (in->addr + in->len)),
	};
	struct insn back;

	insn_unpack(&p, in->bytes, in->addr, NULL, &back);
	if (memcmp(&back, in, sizeof(back)) != 0) {
		if (room_for_one((void **)&pk->whole, pk->nwhole,
				 &pk->capwhole, sizeof(*pk->whole)) < 0)
			return -1;
		pk->whole[pk->nwhole] = *in;
		p = (struct insn_packed){ .len = in->len, .whole = 1,
					  .imm = (int32_t)pk->nwhole++ };
	}
	return pack_push(pk, &p);
}

void insn_pack_shrink(struct insn_pack *pk)
{
	void *v;

	if (pk->n && pk->cap > pk->n &&
	    (v = realloc(pk->v, pk->n * sizeof(*pk->v)))) {
		pk->v = v;
		pk->cap = pk->n;
	}
	if (pk->nwhole && pk->capwhole > pk->nwhole &&
	    (v = realloc(pk->whole, pk->nwhole * sizeof(*pk->whole)))) {
		pk->whole = v;
		pk->capwhole = pk->nwhole;
	}
}

void insn_pack_free(struct insn_pack *pk)
{
	free(pk->v);
	free(pk->whole);
	memset(pk, 0, sizeof(*pk));
}

long find_return_sites(const uint8_t *code, size_t n, uint64_t addr,
		       const struct addr_range *fn, size_t nfn,
		       struct insn **sites, size_t *nsites, struct insn_pack *pk)
{
	static const struct insn_packed bad = { 0 };
	struct site_vec s = { *sites, *nsites, *nsites };
	size_t start = *nsites, off = 0;
	struct insn in;

	if (!cs_ready()) {
		errno = ENOMEM;
		return -1;
	}
	while (off < n) {
		/* padding or data in the range: resynchronise one byte on */
		if (insn_decode(code + off, n - off, addr + off, &in) < 0) {
			if (pk && pack_push(pk, &bad) < 0)
				goto oom;
			off++;
			continue;
		}
		if ((pk && pack_one(pk, &in) < 0) ||
		    (is_return_site(&in, fn, nfn) && site_push(&s, &in) < 0))
			goto oom;
		off += in.len;
	}
	return sites_done(&s, start, sites, nsites);
oom:
	/* keep the caller's array valid */
	*sites = s.v;
	return -1;
}

/* quickdec: the instructions compilers emit most, decoded without capstone.
 *
 * Capstone takes about 300 ns an instruction here, and every instruction
 * of every traced function is decoded once at start-up (python3.11d:
 * 700,000 of them, the larger part of the symbol phase).  Most are a few
 * plain forms: mov, lea, the ALU group, push and pop, test, the shifts,
 * the direct branches, the nops.  Those are decoded here into exactly the
 * struct insn that capstone's path gives (test_disasm compares the two on
 * every byte offset of real code and of random bytes); anything else, any
 * prefix but one REX (the nops' excepted), and every form whose meaning
 * depends on more than its length (sub $imm,%rsp, mov %rsp,%rbp, xchg)
 * is left to capstone. */
#include "symbols/disasm.h"

#include <string.h>

#define QD_MAX 15	/* the longest x86 instruction */

struct qd {
	const uint8_t *code;
	size_t n;		/* bytes available, at most QD_MAX */
	size_t i;		/* next byte */
	uint8_t rex;
	uint8_t disp_off;	/* offset of a rip-relative disp32, or 0 */
	uint8_t mod, reg, rm;
};

/* The ModRM byte at q->i, and the SIB byte and displacement it calls for:
 * q->i moves past them.  0 when the bytes run out. */
static int modrm(struct qd *q)
{
	uint8_t m;

	if (q->i >= q->n)
		return 0;
	m = q->code[q->i++];
	q->mod = m >> 6;
	q->reg = (m >> 3) & 7;
	q->rm = m & 7;
	if (q->mod == 3)
		return 1;
	if (q->rm == 4) {
		if (q->i >= q->n)
			return 0;
		if (q->mod == 0 && (q->code[q->i] & 7) == 5)
			q->i += 4;	/* no base: disp32 */
		q->i++;
	} else if (q->mod == 0 && q->rm == 5) {
		q->disp_off = (uint8_t)q->i;	/* rip + disp32 */
		q->i += 4;
	}
	if (q->mod == 1)
		q->i += 1;
	else if (q->mod == 2)
		q->i += 4;
	return q->i <= q->n;
}

/* The nops gcc and the assembler pad with inside functions: 0f 1f /0
 * behind any number of 66 prefixes and one 2e (data16 cs nopw). */
static int padding_nop(struct qd *q)
{
	while (q->i < q->n && q->code[q->i] == 0x66)
		q->i++;
	if (q->i < q->n && q->code[q->i] == 0x2e)
		q->i++;
	if (q->i + 2 > q->n || q->code[q->i] != 0x0f ||
	    q->code[q->i + 1] != 0x1f)
		return 0;
	q->i += 2;
	return modrm(q) && q->reg == 0;
}

/* mov between rsp and rbp, in either direction or width: capstone's,
 * since one of them is an instruction the tracer replays. */
static int rsp_rbp_move(const struct qd *q)
{
	return q->mod == 3 && (q->reg == 4 || q->reg == 5) &&
	       (q->rm == 4 || q->rm == 5);
}

/* The 0f map: what follows 0f.  *op and *imm as for the one-byte map. */
static int twobyte(struct qd *q, enum insn_op *op, int *imm)
{
	uint8_t b;

	if (q->i >= q->n)
		return 0;
	b = q->code[q->i++];
	if (b >= 0x80 && b <= 0x8f) {		/* jcc rel32 */
		*op = INSN_JCC;
		*imm = 4;
		return !q->rex;
	}
	if (b >= 0x40 && b <= 0x4f)		/* cmovcc */
		return modrm(q);
	if (b >= 0x90 && b <= 0x9f)		/* setcc */
		return modrm(q) && q->reg == 0;
	switch (b) {
	case 0x1f:				/* nop r/m */
		*op = INSN_NOP;
		return modrm(q) && q->reg == 0;
	case 0xaf:				/* imul */
	case 0xb6: case 0xb7:			/* movzx */
	case 0xbe: case 0xbf:			/* movsx */
		return modrm(q);
	}
	return 0;
}

/* The one-byte map.  *op: what the instruction is (INSN_OOL unless set);
 * *imm: bytes of immediate (or rel) after the ModRM part. */
static int onebyte(struct qd *q, uint8_t b, enum insn_op *op, int *imm)
{
	if (b < 0x40) {		/* add or adc sbb and sub xor cmp */
		switch (b & 7) {
		case 0: case 1: case 2: case 3:
			return modrm(q);
		case 4:
			*imm = 1;
			return 1;
		case 5:
			*imm = 4;
			return 1;
		}
		return 0;
	}
	if (b >= 0x50 && b <= 0x57) {
		*op = INSN_PUSH;
		return 1;
	}
	if (b >= 0x58 && b <= 0x5f)		/* pop */
		return 1;
	if (b >= 0x70 && b <= 0x7f) {		/* jcc rel8 */
		*op = INSN_JCC;
		*imm = 1;
		return !q->rex;
	}
	if (b >= 0xb0 && b <= 0xb7) {		/* mov $imm8, r8 */
		*imm = 1;
		return 1;
	}
	if (b >= 0xb8 && b <= 0xbf) {		/* mov $imm, r */
		*imm = q->rex & 8 ? 8 : 4;
		return 1;
	}
	switch (b) {
	case 0x63:				/* movsxd */
	case 0x84: case 0x85:			/* test */
	case 0x88: case 0x8a:			/* mov, 8-bit */
		return modrm(q);
	case 0x89: case 0x8b:			/* mov */
		return modrm(q) && !rsp_rbp_move(q);
	case 0x8d:				/* lea */
		return modrm(q) && q->mod != 3;
	case 0x68:				/* push $imm32 */
		*imm = 4;
		return 1;
	case 0x6a:				/* push $imm8 */
		*imm = 1;
		return 1;
	case 0x69:				/* imul $imm32 */
		*imm = 4;
		return modrm(q);
	case 0x6b:				/* imul $imm8 */
		*imm = 1;
		return modrm(q);
	case 0x80: case 0x83:			/* group 1, imm8 */
		*imm = 1;
		/* sub $imm,%rsp is replayed: capstone's */
		return modrm(q) && !(q->mod == 3 && q->rm == 4);
	case 0x81:				/* group 1, imm32 */
		*imm = 4;
		return modrm(q) && !(q->mod == 3 && q->rm == 4);
	case 0x90:
		*op = INSN_NOP;
		return !q->rex;		/* 41 90 is xchg %eax,%r8d */
	case 0x98: case 0x99:			/* cltq, cqto and kin */
		return 1;
	case 0xa8:				/* test $imm8, %al */
		*imm = 1;
		return 1;
	case 0xa9:				/* test $imm32, %eax */
		*imm = 4;
		return 1;
	case 0xc0: case 0xc1:			/* shifts by imm8 */
		*imm = 1;
		return modrm(q) && q->reg != 6;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:	/* shifts */
		return modrm(q) && q->reg != 6;
	case 0xc2:				/* ret $imm16 */
		*op = INSN_RET;
		*imm = 2;
		return !q->rex;
	case 0xc3:
		*op = INSN_RET;
		return !q->rex;
	case 0xc6:				/* mov $imm8 */
		*imm = 1;
		return modrm(q) && q->reg == 0;
	case 0xc7:				/* mov $imm32 */
		*imm = 4;
		return modrm(q) && q->reg == 0;
	case 0xe8:
		*op = INSN_CALL;
		*imm = 4;
		return !q->rex;
	case 0xe9:
		*op = INSN_JMP;
		*imm = 4;
		return !q->rex;
	case 0xeb:
		*op = INSN_JMP;
		*imm = 1;
		return !q->rex;
	case 0xf6:				/* group 3, 8-bit */
		if (!modrm(q) || q->reg == 1)
			return 0;
		*imm = q->reg == 0;		/* test $imm8 */
		return 1;
	case 0xf7:				/* group 3 */
		if (!modrm(q) || q->reg == 1)
			return 0;
		*imm = q->reg == 0 ? 4 : 0;	/* test $imm32 */
		return 1;
	case 0xfe: case 0xff:			/* inc, dec */
		return modrm(q) && q->reg <= 1;
	}
	return 0;
}

int insn_decode_quick(const uint8_t *code, size_t n, uint64_t addr,
		      struct insn *out)
{
	struct qd q = { .code = code, .n = n < QD_MAX ? n : QD_MAX };
	enum insn_op op = INSN_OOL;
	int imm = 0, ok;
	size_t len;
	uint8_t b;

	if (!q.n)
		return 0;
	b = code[0];
	if (b == 0x66 || b == 0x2e) {
		op = INSN_NOP;
		ok = padding_nop(&q);
	} else if (b == 0xf3) {			/* endbr64 */
		op = INSN_NOP;
		ok = q.n >= 4 && code[1] == 0x0f && code[2] == 0x1e &&
		     code[3] == 0xfa;
		q.i = 4;
	} else {
		if ((b & 0xf0) == 0x40) {
			q.rex = b;
			if (++q.i >= q.n)
				return 0;
			b = code[q.i];
		}
		q.i++;
		ok = b == 0x0f ? twobyte(&q, &op, &imm)
			       : onebyte(&q, b, &op, &imm);
	}
	len = q.i + (size_t)imm;
	if (!ok || len > q.n)
		return 0;

	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->len = (uint8_t)len;
	memcpy(out->bytes, code, len);
	out->op = op;
	switch (op) {
	case INSN_PUSH:
		out->reg = (uint8_t)((b & 7) | (q.rex & 1) << 3);
		break;
	case INSN_RET:
		if (imm)
			out->imm = (uint16_t)insn_sext(code + q.i, 2);
		break;
	case INSN_JCC:
		out->cond = code[q.i - 1] & 0xf;
		/* fall through */
	case INSN_JMP:
	case INSN_CALL:
		out->target = addr + len +
			      (uint64_t)insn_sext(code + q.i, (unsigned)imm);
		break;
	case INSN_OOL:
		if (q.disp_off) {
			out->disp_off = q.disp_off;
			out->target = addr + len +
				      (uint64_t)insn_sext(code + q.disp_off, 4);
		}
		break;
	default:
		break;
	}
	return 1;
}

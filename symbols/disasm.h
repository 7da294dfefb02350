/* disasm: x86-64 instruction facts the tracer needs, found with capstone from
 * the ELF file's bytes.  Pure (no ptrace, no libdw); capstone types stay in
 * disasm.c. */
#ifndef IPROFMEM_DISASM_H
#define IPROFMEM_DISASM_H

#include <stddef.h>
#include <stdint.h>

struct addr_range {
	uint64_t lo, hi;	/* [lo, hi) */
};

/* How the tracer replays the instruction displaced by an int3. */
enum insn_op {
	INSN_NOP,	  /* endbr64, nop forms: continue at addr + len */
	INSN_PUSH,	  /* push %reg (reg: 0..15 in encoding order rax..r15) */
	INSN_SUB_RSP,	  /* sub $imm, %rsp */
	INSN_MOV_RSP_RBP, /* mov %rsp, %rbp */
	INSN_RET,	  /* ret, ret $imm16 (imm), rep ret, bnd ret */
	INSN_JMP,	  /* direct jmp to target */
	INSN_JCC,	  /* direct conditional jump: cond (0..15, the low nibble
			     of the 0x7x opcode), target */
	INSN_CALL,	  /* direct call to target */
	INSN_JMP_IND,	  /* jmp through a register (reg) or memory (mem) */
	INSN_CALL_IND,	  /* call through a register (reg) or memory (mem) */
	INSN_OOL,	  /* anything else that can run out of line; disp_off != 0
			     when it has a rip-relative operand (disp32 there) */
	INSN_UNSUPPORTED, /* cannot be replayed (syscall, loop...) */
};

/* The operand of an indirect branch: a register, or the memory at
 * base + index * scale + disp (base INSN_REG_RIP: disp is already the
 * absolute address). */
enum { INSN_REG_NONE = -1, INSN_REG_RIP = 16 };

struct insn_ind {
	int8_t reg;		/* the target is in this register, or
				   INSN_REG_NONE: it is read from memory */
	int8_t base, index;	/* 0..15, INSN_REG_NONE, or base INSN_REG_RIP */
	uint8_t scale;
	int64_t disp;
};

struct insn {
	uint64_t addr;
	uint8_t len;
	uint8_t bytes[15];
	enum insn_op op;
	uint8_t reg;		/* INSN_PUSH */
	uint8_t cond;		/* INSN_JCC */
	uint8_t disp_off;	/* INSN_OOL: offset of the rip-relative disp32 */
	int64_t imm;		/* INSN_SUB_RSP, INSN_RET */
	uint64_t target;	/* INSN_JMP, INSN_JCC, INSN_CALL; INSN_OOL with
				   disp_off: the absolute address referenced */
	struct insn_ind ind;	/* INSN_JMP_IND, INSN_CALL_IND */
};

/* Little-endian signed value of 1, 2 or 4 bytes. */
static inline int64_t insn_sext(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1:
		return (int8_t)p[0];
	case 2:
		return (int16_t)(p[0] | p[1] << 8);
	default:
		return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
	}
}

/* Decode the instruction at code[0..n) which lives at `addr`.
 * Returns 0, or -1 when the bytes are not a valid instruction. */
int insn_decode(const uint8_t *code, size_t n, uint64_t addr, struct insn *out);

/* insn_decode in two halves.  insn_decode_quick (quickdec.c) decodes the
 * common plain forms itself and returns 1, or 0 (out untouched) for
 * anything it leaves to insn_decode_ref, capstone's decoding: the
 * reference that the quick one must equal wherever it answers.  Where
 * capstone 4 fails, insn_decode_ref still gives the length of the VEX and
 * EVEX instructions it lacks (AVX-512's), of 0f 01's register forms
 * (rdpkru...) and of the shadow stack's rdsspq: out of line, or
 * unsupported. */
int insn_decode_quick(const uint8_t *code, size_t n, uint64_t addr,
		      struct insn *out);
int insn_decode_ref(const uint8_t *code, size_t n, uint64_t addr,
		    struct insn *out);

/* An instruction as insn_decode classified it, in 12 bytes: the sweep
 * of a function that found its return sites keeps one for every
 * instruction, so that planning its probes needs no second decoding (the
 * instruction's bytes are the module's, read again from there).  len 0:
 * a byte that could not be decoded.  One that these fields cannot give
 * back exactly (an indirect branch, mostly) is kept whole in the pack's
 * `whole`, at index imm. */
struct insn_packed {
	uint8_t len;
	uint8_t op;		/* enum insn_op */
	uint8_t small;		/* reg, cond or disp_off, by op */
	uint8_t whole;		/* 1: the instruction is whole[imm] */
	int32_t imm;
	int32_t rel;		/* target - (addr + len) */
};

/* A function's sweep: its instructions in the order decoded (its ranges
 * one after the other, each from its first byte to its last). */
struct insn_pack {
	struct insn_packed *v;
	size_t n, cap;
	struct insn *whole;
	size_t nwhole, capwhole;
};

/* The instruction pk stands for, at addr, its bytes at code (pk->len of
 * them); whole: the pack's. */
void insn_unpack(const struct insn_packed *pk, const uint8_t *code,
		 uint64_t addr, const struct insn *whole, struct insn *out);

/* Find the return sites in one address range of a function: the bytes
 * code[0..n) live at `addr`; `fn` lists all ranges of the function.  A return
 * site is every ret form, every direct jmp or jcc whose target lies
 * outside all of fn's ranges (a tail call), and every indirect jmp (a tail
 * call or a switch table: only its target at run time tells).  Undecodable
 * bytes are skipped, one at a time.  Appends the sites' decoded
 * instructions to *sites (realloc'd, *nsites updated) and, when pk is not
 * NULL, every instruction of the range to pk.  Returns the number of sites
 * appended, or -1 when out of memory. */
long find_return_sites(const uint8_t *code, size_t n, uint64_t addr,
		       const struct addr_range *fn, size_t nfn,
		       struct insn **sites, size_t *nsites, struct insn_pack *pk);

/* Give back the arrays' slack (when realloc can). */
void insn_pack_shrink(struct insn_pack *pk);

void insn_pack_free(struct insn_pack *pk);

/* A thread other than the main one is done decoding: its capstone handle
 * goes (the main thread's lives as long as the process). */
void disasm_thread_done(void);

/* Is a inside one of the ranges? */
int insn_in_ranges(uint64_t a, const struct addr_range *r, size_t nr);

#endif

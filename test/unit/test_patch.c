/* Unit tests for symbols/patch: which bytes a probe's jmp may overwrite,
 * on hand-encoded functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/patch.h"

#define BASE 0x401000ULL

/* One range at BASE holding code[0..n - pad) and pad bytes after it. */
static struct patch_func *open1(const uint8_t *code, size_t n, size_t pad)
{
	struct patch_range r = { BASE, code, n - pad, pad };
	struct patch_func *f = patch_func_open(&r, 1, BASE);

	assert_non_null(f);
	return f;
}

#define FUNC(f, pad, ...) do {						\
	static const uint8_t code_[] = { __VA_ARGS__ };			\
	(f) = open1(code_, sizeof(code_), (pad));			\
} while (0)

static void assert_ops(const struct patch_window *w, unsigned n,
		       const enum insn_op *ops)
{
	assert_int_equal(w->ninsns, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(w->insns[i].op, ops[i]);
}

/* push %rbp; mov %rsp,%rbp; sub $0x10,%rsp ... leave; ret */
static void test_frame_entry_and_leave(void **state)
{
	static const enum insn_op entry_ops[] = {
		INSN_PUSH, INSN_MOV_RSP_RBP, INSN_SUB_RSP };
	static const enum insn_op ret_ops[] = { INSN_OOL, INSN_OOL, INSN_RET };
	struct patch_func *f;
	struct patch_window w, r;

	(void)state;
	FUNC(f, 0,
	     0x55,				/*  0 push %rbp */
	     0x48, 0x89, 0xe5,			/*  1 mov %rsp,%rbp */
	     0x48, 0x83, 0xec, 0x10,		/*  4 sub $0x10,%rsp */
	     0x89, 0x7d, 0xfc,			/*  8 mov %edi,-0x4(%rbp) */
	     0x8b, 0x45, 0xfc,			/* 11 mov -0x4(%rbp),%eax */
	     0xc9,				/* 14 leave */
	     0xc3);				/* 15 ret */
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.start, BASE);
	assert_int_equal(w.len, 8);
	assert_ops(&w, 3, entry_ops);
	assert_false(w.has_ret);
	assert_false(w.whole);
	assert_false(w.padding);
	/* no padding after the ret: the window ends at it */
	assert_int_equal(patch_return(f, BASE + 15, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 11);
	assert_int_equal(r.len, 5);
	assert_ops(&r, 3, ret_ops);
	assert_true(r.has_ret);
	assert_false(patch_overlap(&w, &r));
	/* not an instruction start, not a return */
	assert_int_equal(patch_return(f, BASE + 16, &r), PATCH_NO_SITE);
	assert_int_equal(patch_return(f, BASE + 12, &r), PATCH_NO_SITE);
	assert_int_equal(patch_return(f, BASE + 14, &r), PATCH_NO_SITE);
	patch_func_close(f);
}

/* The same ret with int3 padding after it: only the ret is displaced. */
static void test_ret_into_padding(void **state)
{
	struct patch_func *f;
	struct patch_window r;

	(void)state;
	FUNC(f, 4, 0x48, 0x89, 0xf8,		/* mov %rdi,%rax */
	     0xc3,				/* ret */
	     0xcc, 0xcc, 0x66, 0x90);		/* padding: int3s, xchg %ax,%ax */
	assert_int_equal(patch_return(f, BASE + 3, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 3);
	assert_int_equal(r.len, 5);
	assert_int_equal(r.ninsns, 1);
	assert_true(r.padding);
	assert_true(r.has_ret);
	patch_func_close(f);
	/* padding that is not padding: fall back to the block before, which
	 * is 4 bytes from the entry */
	FUNC(f, 4, 0x48, 0x89, 0xf8, 0xc3, 0xcc, 0x31, 0xc0, 0xcc);
	assert_int_equal(patch_return(f, BASE + 3, &r), PATCH_BLOCK);
	patch_func_close(f);
	/* too little padding, and mov+ret is only 4 bytes */
	FUNC(f, 3, 0x48, 0x89, 0xf8, 0xc3, 0xcc, 0xcc, 0xcc);
	assert_int_equal(patch_return(f, BASE + 3, &r), PATCH_BLOCK);
	patch_func_close(f);
}

/* endbr64 stays at the entry; the window starts after it. */
static void test_endbr64_entry(void **state)
{
	static const enum insn_op entry_ops[] = {
		INSN_PUSH, INSN_MOV_RSP_RBP, INSN_OOL, INSN_RET };
	struct patch_func *f;
	struct patch_window w, r;

	(void)state;
	FUNC(f, 0,
	     0xf3, 0x0f, 0x1e, 0xfa,		/* 0 endbr64 */
	     0x55,				/* 4 push %rbp */
	     0x48, 0x89, 0xe5,			/* 5 mov %rsp,%rbp */
	     0x5d,				/* 8 pop %rbp */
	     0xc3);				/* 9 ret */
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.start, BASE + 4);
	/* the ret is too close for a window of its own: the entry's takes
	 * the function whole */
	assert_int_equal(w.len, 6);
	assert_ops(&w, 4, entry_ops);
	assert_true(w.whole);
	/* the ret's window (mov, pop, ret) shares bytes with the entry's:
	 * only one of them can be patched */
	assert_int_equal(patch_return(f, BASE + 9, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 5);
	assert_true(patch_overlap(&w, &r));
	assert_true(patch_overlap(&r, &w));
	patch_func_close(f);
}

/* mov 8(%rdi),%rax; ret: five bytes, taken whole by the entry's stub. */
static void test_getter_whole(void **state)
{
	static const enum insn_op ops[] = { INSN_OOL, INSN_RET };
	struct patch_func *f;
	struct patch_window w, r;

	(void)state;
	FUNC(f, 0, 0x48, 0x8b, 0x47, 0x08, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.start, BASE);
	assert_int_equal(w.len, 5);
	assert_ops(&w, 2, ops);
	assert_true(w.has_ret);
	assert_true(w.whole);
	assert_false(w.padding);
	assert_int_equal(patch_return(f, BASE + 4, &r), PATCH_OK);
	assert_true(patch_overlap(&w, &r));
	patch_func_close(f);
}

/* xor %eax,%eax; ret: shorter than the jmp, whole only with padding. */
static void test_short_function(void **state)
{
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	FUNC(f, 0, 0x31, 0xc0, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_SHORT);
	patch_func_close(f);
	FUNC(f, 2, 0x31, 0xc0, 0xc3, 0xcc, 0xcc);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.len, 5);
	assert_int_equal(w.ninsns, 2);
	assert_true(w.whole);
	assert_true(w.padding);
	patch_func_close(f);
	/* flow does not end before the padding: it would run into it */
	FUNC(f, 3, 0x31, 0xc0, 0xcc, 0xcc, 0xcc);
	assert_int_equal(patch_entry(f, &w), PATCH_SHORT);
	patch_func_close(f);
}

/* A loop head 2 bytes into the entry: a jump there would land inside the
 * jmp. */
static void test_target_in_entry(void **state)
{
	struct patch_func *f;
	struct patch_window w, r;

	(void)state;
	FUNC(f, 0,
	     0x31, 0xc0,			/* 0 xor %eax,%eax */
	     0xff, 0xc0,			/* 2 L: inc %eax */
	     0x39, 0xf8,			/* 4 cmp %edi,%eax */
	     0x7c, 0xfa,			/* 6 jl L */
	     0xc3);				/* 8 ret */
	assert_int_equal(patch_entry(f, &w), PATCH_TARGET);
	assert_string_equal(patch_why_str(PATCH_TARGET), "target");
	/* the ret's window crosses the jl back to the cmp (the stub
	 * re-encodes the jl, to the loop head) */
	assert_int_equal(patch_return(f, BASE + 8, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 4);
	assert_int_equal(r.len, 5);
	assert_int_equal(r.ninsns, 3);
	assert_int_equal(r.insns[1].op, INSN_JCC);
	assert_int_equal(r.insns[2].op, INSN_RET);
	/* a window may start at a target: inc, cmp, jl from the loop head
	 * (the jl's own target is the window's first byte) */
	assert_int_equal(patch_return(f, BASE + 6, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 2);
	assert_int_equal(r.len, 6);
	assert_int_equal(r.insns[2].op, INSN_JCC);
	patch_func_close(f);
}

/* Targets are searched in every range: a jump back from the .cold part. */
static void test_target_from_cold_range(void **state)
{
	static const uint8_t hot[] = {
		0x31, 0xc0,			/* 0 xor %eax,%eax */
		0xff, 0xc7,			/* 2 inc %edi (target from cold) */
		0x85, 0xff,			/* 4 test %edi,%edi */
		0xc3,				/* 6 ret */
	};
	/* jmp BASE + 2, from BASE + 0x100 */
	static const uint8_t cold[] = { 0xe9, 0xfd, 0xfe, 0xff, 0xff };
	struct patch_range r[2] = {
		{ BASE + 0x100, cold, sizeof(cold), 0 },	/* unsorted */
		{ BASE, hot, sizeof(hot), 0 },
	};
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	f = patch_func_open(&r[1], 1, BASE);
	assert_non_null(f);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.len, 7);		/* whole, the ret too close */
	assert_true(w.whole);
	patch_func_close(f);
	f = patch_func_open(r, 2, BASE);
	assert_non_null(f);
	assert_int_equal(patch_entry(f, &w), PATCH_TARGET);
	/* the cold part's own jmp out is a 5-byte site of its own */
	assert_int_equal(patch_return(f, BASE + 0x100, &w), PATCH_OK);
	assert_int_equal(w.start, BASE + 0x100);
	assert_int_equal(w.len, 5);
	assert_int_equal(w.insns[0].op, INSN_JMP);
	assert_int_equal(w.insns[0].target, BASE + 2);
	patch_func_close(f);
}

/* add $8,%rsp; pop %r12; pop %rbx; ret after a call. */
static void test_pop_epilogue(void **state)
{
	static const enum insn_op entry_ops[] = {
		INSN_PUSH, INSN_PUSH, INSN_SUB_RSP };
	static const enum insn_op ret_ops[] = {
		INSN_OOL, INSN_OOL, INSN_OOL, INSN_RET };
	struct patch_func *f;
	struct patch_window w, r;

	(void)state;
	FUNC(f, 0,
	     0x53,				/*  0 push %rbx */
	     0x41, 0x54,			/*  1 push %r12 */
	     0x48, 0x83, 0xec, 0x08,		/*  3 sub $8,%rsp */
	     0xe8, 0x00, 0x10, 0x00, 0x00,	/*  7 call elsewhere */
	     0x48, 0x83, 0xc4, 0x08,		/* 12 add $8,%rsp */
	     0x41, 0x5c,			/* 16 pop %r12 */
	     0x5b,				/* 18 pop %rbx */
	     0xc3);				/* 19 ret */
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.len, 7);
	assert_ops(&w, 3, entry_ops);
	assert_int_equal(w.insns[1].reg, 12);
	/* the call's return point starts the window: allowed */
	assert_int_equal(patch_return(f, BASE + 19, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 12);
	assert_int_equal(r.len, 8);
	assert_ops(&r, 4, ret_ops);
	patch_func_close(f);
	/* call; pop %rbx; ret: the call ends the block before 5 bytes */
	FUNC(f, 0, 0x53, 0xe8, 0x00, 0x10, 0x00, 0x00, 0x5b, 0xc3);
	assert_int_equal(patch_return(f, BASE + 7, &r), PATCH_BLOCK);
	patch_func_close(f);
}

/* A call inside the entry window would return into the jmp. */
static void test_call_inside_entry(void **state)
{
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	FUNC(f, 0,
	     0x55,				/* 0 push %rbp */
	     0xe8, 0x00, 0x10, 0x00, 0x00,	/* 1 call: returns to 6 */
	     0x5d, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);	/* ends at 6 */
	assert_int_equal(w.len, 6);
	assert_int_equal(w.insns[1].op, INSN_CALL);
	patch_func_close(f);
	FUNC(f, 0,
	     0x31, 0xc0,			/* 0 xor */
	     0xff, 0xd0,			/* 2 call *%rax: returns to 4 */
	     0x5d, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_TARGET);
	patch_func_close(f);
}

/* A ret that is a jump target, with no padding after it: int3. */
static void test_lone_ret_target(void **state)
{
	struct patch_func *f;
	struct patch_window w, r;

	(void)state;
	FUNC(f, 0,
	     0x85, 0xff,			/* 0 test %edi,%edi */
	     0x74, 0x03,			/* 2 je 7 */
	     0x48, 0x89, 0xf8,			/* 4 mov %rdi,%rax */
	     0xc3);				/* 7 ret */
	assert_int_equal(patch_return(f, BASE + 7, &r), PATCH_TARGET);
	/* the entry window holds the je: relocated, fine */
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.len, 7);
	assert_int_equal(w.insns[1].op, INSN_JCC);
	assert_int_equal(w.insns[1].target, BASE + 7);
	patch_func_close(f);
	/* with padding after it the window starts at the ret: a jump to it
	 * lands on the jmp */
	FUNC(f, 4, 0x85, 0xff, 0x74, 0x03, 0x48, 0x89, 0xf8, 0xc3,
	     0xcc, 0xcc, 0xcc, 0xcc);
	assert_int_equal(patch_return(f, BASE + 7, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 7);
	assert_true(r.padding);
	patch_func_close(f);
	/* a ret in the middle, code after it: neither way */
	FUNC(f, 0, 0x85, 0xff, 0x74, 0x03, 0x48, 0x89, 0xf8, 0xc3,
	     0x31, 0xc0, 0xc3);
	assert_int_equal(patch_return(f, BASE + 7, &r), PATCH_TARGET);
	patch_func_close(f);
}

/* Nops after a mid-function ret (alignment before a label) may be taken. */
static void test_ret_then_nops(void **state)
{
	struct patch_func *f;
	struct patch_window r;

	(void)state;
	FUNC(f, 0,
	     0x85, 0xff,			/* 0 test */
	     0x74, 0x06,			/* 2 je 10 */
	     0xc3,				/* 4 ret */
	     0x0f, 0x1f, 0x44, 0x00, 0x00,	/* 5 nopl (alignment) */
	     0x31, 0xc0,			/* 10 L: xor */
	     0xc3);
	assert_int_equal(patch_return(f, BASE + 4, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 4);
	assert_int_equal(r.len, 6);
	assert_int_equal(r.ninsns, 2);
	assert_false(r.padding);
	patch_func_close(f);
}

/* A ret followed by a C++ landing pad (-fcf-protection: it starts with
 * endbr64): the unwinder jumps there, so it is no padding, and the ret,
 * after a call, has no window of its own (seen in cxx_exc.O2-pie-cet). */
static void test_ret_then_landing_pad(void **state)
{
	struct patch_func *f;
	struct patch_window r;

	(void)state;
	FUNC(f, 0,
	     0xf3, 0x0f, 0x1e, 0xfa,		/* 0 endbr64 */
	     0x53,				/* 4 push %rbx */
	     0xe8, 0x00, 0x10, 0x00, 0x00,	/* 5 call */
	     0x5b,				/* 10 pop %rbx */
	     0xc3,				/* 11 ret */
	     0xf3, 0x0f, 0x1e, 0xfa,		/* 12 landing pad: endbr64 */
	     0x48, 0x89, 0xc7,			/* 16 mov %rax,%rdi */
	     0xc3);
	assert_int_not_equal(patch_return(f, BASE + 11, &r), PATCH_OK);
	patch_func_close(f);
}

/* mov 0x1234(%rip),%rax: relocatable, its disp32 re-aimed by the stub. */
static void test_rip_relative(void **state)
{
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	FUNC(f, 0, 0x48, 0x8b, 0x05, 0x34, 0x12, 0x00, 0x00, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.len, 8);		/* whole: the ret with it */
	assert_int_equal(w.ninsns, 2);
	assert_int_equal(w.insns[0].op, INSN_OOL);
	assert_int_equal(w.insns[0].disp_off, 3);
	assert_int_equal(w.insns[0].target, BASE + 7 + 0x1234);
	patch_func_close(f);
	/* lea -7(%rip): the address of a byte inside the window is taken */
	FUNC(f, 0, 0x31, 0xc0, 0x48, 0x8d, 0x05, 0xf9, 0xff, 0xff, 0xff, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_TARGET);
	patch_func_close(f);
}

/* An indirect jmp (a jump table) may reach any instruction: only windows
 * of one instruction stay. */
static void test_indirect_jump(void **state)
{
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	FUNC(f, 0, 0x55, 0x48, 0x89, 0xe5,
	     0x3e, 0xff, 0xe0,			/* notrack jmp *%rax */
	     0x5d, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_INDIRECT);
	patch_func_close(f);
	FUNC(f, 0, 0x48, 0x81, 0xec, 0x00, 0x01, 0x00, 0x00,	/* sub $256 */
	     0x41, 0xff, 0xe3,			/* jmp *%r11 */
	     0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.ninsns, 1);
	patch_func_close(f);
	/* jmp *0(%rip): a tail call through the GOT, no target inside */
	FUNC(f, 0, 0x55, 0x48, 0x89, 0xe5, 0x5d,
	     0xff, 0x25, 0x00, 0x00, 0x00, 0x00);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.ninsns, 3);
	patch_func_close(f);
}

/* ---- where indirect jumps land, from the module's data ---- */

#define TABLE 0x600000ULL

/* The module's data for these tests: one table at TABLE. */
static uint8_t table_bytes[64];

static const uint8_t *data_at(void *arg, uint64_t a, size_t *avail)
{
	(void)arg;
	if (a < TABLE || a >= TABLE + sizeof(table_bytes))
		return NULL;
	*avail = TABLE + sizeof(table_bytes) - a;
	return table_bytes + (a - TABLE);
}

static struct patch_func *open_data(const uint8_t *code, size_t n,
				    const uint64_t *relative, size_t nrel)
{
	struct patch_range r = { BASE, code, n, 0 };
	const struct patch_data d = { data_at, NULL, relative, nrel };
	struct patch_func *f = patch_func_open_data(&r, 1, BASE, &d);

	assert_non_null(f);
	return f;
}

/* A PIC switch: lea table(%rip); movslq; add; jmp *%rax.  Without the
 * data only one-instruction windows; with it, windows of several, but
 * none over a case label the table names (offset 17: inside the entry's
 * window if the table were not read). */
static void test_switch_table(void **state)
{
	/* 0x600000 - (BASE + 7) = 0x1feff9 */
	static const uint8_t code[] = {
		0x48, 0x8d, 0x15, 0xf9, 0xef, 0x1f, 0x00, /*  0 lea TABLE(%rip),%rdx */
		0x48, 0x63, 0x04, 0x82,		/*  7 movslq (%rdx,%rax,4),%rax */
		0x48, 0x01, 0xd0,		/* 11 add %rdx,%rax */
		0xff, 0xe0,			/* 14 jmp *%rax */
		0x90,				/* 16 nop */
		0x31, 0xc0,			/* 17 case 0: xor %eax,%eax */
		0xc3,				/* 19 ret */
		0xb8, 0x01, 0x00, 0x00, 0x00,	/* 20 case 1: mov $1,%eax */
		0x5d,				/* 25 pop %rbp */
		0xc3,				/* 26 ret */
	};
	int32_t offs[2] = { (int32_t)(BASE + 17 - TABLE),
			    (int32_t)(BASE + 20 - TABLE) };
	uint64_t rel[1] = { BASE + 25 };
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	memset(table_bytes, 0xff, sizeof(table_bytes));
	memcpy(table_bytes, offs, sizeof(offs));
	/* no data: the lea alone is 7 bytes, so that window is one
	 * instruction; the ret at 26 needs more than one: refused */
	f = open1(code, sizeof(code), 0);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.ninsns, 1);
	assert_int_equal(patch_return(f, BASE + 26, &w), PATCH_INDIRECT);
	patch_func_close(f);
	/* with it: the ret at 19 cannot take xor (a case label is its
	 * start, fine) and the nop before it (then 17 would be inside) */
	f = open_data(code, sizeof(code), NULL, 0);
	assert_int_equal(patch_return(f, BASE + 26, &w), PATCH_OK);
	assert_int_equal(w.start, BASE + 20);
	assert_int_equal(patch_return(f, BASE + 19, &w), PATCH_TARGET);
	patch_func_close(f);
	/* an address the dynamic linker writes (a label's, in a PIE's
	 * computed-goto table) is a target too: 25 inside the window */
	f = open_data(code, sizeof(code), rel, 1);
	assert_int_equal(patch_return(f, BASE + 26, &w), PATCH_TARGET);
	patch_func_close(f);
}

/* Instructions that cannot run elsewhere, and bytes that are no code. */
static void test_refused(void **state)
{
	struct patch_func *f;
	struct patch_window w;

	(void)state;
	FUNC(f, 0, 0x0f, 0x05,			/* syscall */
	     0x48, 0x89, 0xc7, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_RELOC);
	patch_func_close(f);
	FUNC(f, 0, 0x55, 0x48, 0x89, 0xe5, 0x90, 0x06, 0x5d, 0xc3);
	assert_int_equal(patch_entry(f, &w), PATCH_DECODE);
	assert_int_equal(patch_return(f, BASE + 7, &w), PATCH_DECODE);
	patch_func_close(f);
}

/* A 5-byte jmp tail call is its own window. */
static void test_tail_call_jmp(void **state)
{
	struct patch_func *f;
	struct patch_window r;

	(void)state;
	FUNC(f, 0, 0x48, 0x89, 0xf7, 0xe9, 0x00, 0x20, 0x00, 0x00);
	assert_int_equal(patch_return(f, BASE + 3, &r), PATCH_OK);
	assert_int_equal(r.start, BASE + 3);
	assert_int_equal(r.len, 5);
	assert_int_equal(r.insns[0].op, INSN_JMP);
	assert_false(r.has_ret);
	patch_func_close(f);
}

/* A plan: entry first, rets inside its window covered, overlaps refused. */
static void test_plan(void **state)
{
	struct patch_site sites[3];
	struct patch_func *f;

	(void)state;
	/* getter: the ret is displaced by the entry's window */
	FUNC(f, 0, 0x48, 0x8b, 0x47, 0x08, 0xc3);
	sites[0].addr = BASE;
	sites[1].addr = BASE + 4;
	patch_plan(f, sites, 2);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[0].covered_by, -1);
	assert_true(sites[0].w.whole);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].covered_by, 0);
	patch_func_close(f);
	/* endbr64; push; mov; pop; ret: the ret's window would overlap the
	 * entry's, which takes the function whole */
	FUNC(f, 0, 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3);
	sites[1].addr = BASE + 9;
	patch_plan(f, sites, 2);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_true(sites[0].w.whole);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].covered_by, 0);
	patch_func_close(f);
	/* a branch target between the entry window and the ret: no whole
	 * window, and the ret's own would overlap */
	FUNC(f, 0,
	     0x55,				/* 0 push %rbp */
	     0x48, 0x89, 0xe5,			/* 1 mov %rsp,%rbp */
	     0x90,				/* 4 nop */
	     0x5d,				/* 5 L: pop %rbp */
	     0xc3,				/* 6 ret */
	     0xeb, 0xfc);			/* 7 jmp L */
	sites[1].addr = BASE + 6;
	patch_plan(f, sites, 2);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_false(sites[0].w.whole);
	assert_int_not_equal(sites[1].why, PATCH_OK);
	patch_func_close(f);
	/* an entry that cannot be patched leaves the rets their own way;
	 * two rets with windows of their own */
	FUNC(f, 4,
	     0x31, 0xc0,			/* 0 xor %eax,%eax */
	     0xff, 0xc0,			/* 2 L: inc %eax */
	     0x39, 0xf8,			/* 4 cmp %edi,%eax */
	     0x7c, 0xfa,			/* 6 jl L */
	     0x85, 0xc0,			/* 8 test %eax,%eax */
	     0x75, 0x06,			/* 10 jne 18 */
	     0x48, 0x83, 0xc4, 0x08,		/* 12 add $8,%rsp */
	     0x5b,				/* 16 pop %rbx */
	     0xc3,				/* 17 ret */
	     0xc3,				/* 18 ret (target) */
	     0xcc, 0xcc, 0xcc, 0xcc);
	sites[0].addr = BASE;
	sites[1].addr = BASE + 17;
	sites[2].addr = BASE + 18;
	patch_plan(f, sites, 3);
	assert_int_equal(sites[0].why, PATCH_TARGET);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].w.start, BASE + 12);
	/* the second ret and its padding: its own window, next to the first */
	assert_int_equal(sites[2].why, PATCH_OK);
	assert_int_equal(sites[2].w.start, BASE + 18);
	assert_true(sites[2].w.padding);
	assert_false(patch_overlap(&sites[1].w, &sites[2].w));
	patch_func_close(f);
}

/* pop %rbx; ret that a rel8 jmp after a 5-byte mov also reaches: the
 * ret's window holds the pop, and the jmp gets a window of its own whose
 * stub goes to the pop's copy. */
static void test_redirect_rel8(void **state)
{
	struct patch_site sites[3];
	struct patch_extra *x;
	struct patch_func *f;
	size_t n;

	(void)state;
	FUNC(f, 4,
	     0x53,				/*  0 push %rbx */
	     0xbf, 0x30, 0x76, 0xa9, 0x00,	/*  1 mov $..,%edi */
	     0xe8, 0x00, 0x10, 0x00, 0x00,	/*  6 call elsewhere */
	     0x85, 0xc0,			/* 11 test %eax,%eax */
	     0x75, 0x07,			/* 13 jne 22 */
	     0xb8, 0x01, 0x00, 0x00, 0x00,	/* 15 mov $1,%eax */
	     0x5b,				/* 20 L: pop %rbx */
	     0xc3,				/* 21 ret */
	     0x48, 0x8b, 0x1d, 0, 0, 0, 0,	/* 22 mov 0(%rip),%rbx */
	     0x48, 0x85, 0xdb,			/* 29 test %rbx,%rbx */
	     0x75, 0x07,			/* 32 jne 41 */
	     0xb8, 0x00, 0x00, 0x00, 0x00,	/* 34 mov $0,%eax */
	     0xeb, 0xeb,			/* 39 jmp L */
	     0xc3,				/* 41 ret */
	     0xcc, 0xcc, 0xcc, 0xcc);
	sites[0].addr = BASE;
	sites[1].addr = BASE + 21;
	sites[2].addr = BASE + 41;
	/* the plain plan: the pop is a target inside the ret's window */
	patch_plan(f, sites, 3);
	assert_int_equal(sites[1].why, PATCH_TARGET);
	n = patch_plan_redirect(f, sites, 3, &x);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].covered_by, -1);
	assert_int_equal(sites[1].w.start, BASE + 15);
	assert_int_equal(sites[1].w.len, 7);
	assert_int_equal(sites[1].w.inner, 1 << 1);
	/* the last ret, a target, with padding after it: a plain window */
	assert_int_equal(sites[2].why, PATCH_OK);
	assert_int_equal(sites[2].w.start, BASE + 41);
	assert_int_equal(sites[2].w.inner, 0);
	/* mov $0; jmp L: displaced, its stub jumps to the copy */
	assert_int_equal(n, 1);
	assert_false(x[0].fixup);
	assert_int_equal(x[0].owner, 1);
	assert_int_equal(x[0].w.start, BASE + 34);
	assert_int_equal(x[0].w.len, 7);
	assert_int_equal(x[0].w.insns[1].op, INSN_JMP);
	assert_int_equal(x[0].w.inner, 0);
	free(x);
	patch_func_close(f);
}

/* get_line_delta of python3.11d: a call, then four rets each after a mov
 * that a jump reaches, the last ret the function's last byte (no
 * padding).  In the sites' order, each ret's window would take the mov
 * after it (re-aiming the jump to its copy), leaving the last ret none;
 * the plan from the last ret back gives each ret the mov before it, and
 * leaves only the ret right after the call, which its callee's return
 * may see. */
static void test_redirect_reverse(void **state)
{
	struct patch_site sites[6];
	struct patch_extra *x;
	struct patch_func *f;
	uint64_t callee;
	uint32_t delta;
	size_t n;

	(void)state;
	FUNC(f, 0,
	     0x0f, 0xb6, 0x07,			/*  0 movzbl (%rdi),%eax */
	     0xc0, 0xe8, 0x03,			/*  3 shr $3,%al */
	     0x83, 0xe0, 0x0f,			/*  6 and $0xf,%eax */
	     0x3c, 0x0c,			/*  9 cmp $0xc,%al */
	     0x74, 0x1f,			/* 11 je 0x2c */
	     0x3c, 0x0c,			/* 13 cmp $0xc,%al */
	     0x77, 0x0a,			/* 15 ja 0x1b */
	     0x3c, 0x0b,			/* 17 cmp $0xb,%al */
	     0x75, 0x1d,			/* 19 jne 0x32 */
	     0xb8, 0x01, 0x00, 0x00, 0x00,	/* 21 mov $1,%eax */
	     0xc3,				/* 26 ret */
	     0x83, 0xe8, 0x0d,			/* 27 sub $0xd,%eax */
	     0x3c, 0x01,			/* 30 cmp $1,%al */
	     0x77, 0x16,			/* 32 ja 0x38 */
	     0x48, 0x83, 0xc7, 0x01,		/* 34 add $1,%rdi */
	     0xe8, 0xc4, 0xff, 0xff, 0xff,	/* 38 call elsewhere */
	     0xc3,				/* 43 ret */
	     0xb8, 0x02, 0x00, 0x00, 0x00,	/* 44 mov $2,%eax */
	     0xc3,				/* 49 ret */
	     0xb8, 0x00, 0x00, 0x00, 0x00,	/* 50 mov $0,%eax */
	     0xc3,				/* 55 ret */
	     0xb8, 0x00, 0x00, 0x00, 0x00,	/* 56 mov $0,%eax */
	     0xc3);				/* 61 ret */
	sites[0].addr = BASE;
	sites[1].addr = BASE + 26;
	sites[2].addr = BASE + 43;
	sites[3].addr = BASE + 49;
	sites[4].addr = BASE + 55;
	sites[5].addr = BASE + 61;
	n = patch_plan_redirect(f, sites, 6, &x);
	assert_int_equal(n, 0);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].w.start, BASE + 21);
	assert_int_not_equal(sites[2].why, PATCH_OK);
	assert_true(patch_ret_after_call(f, BASE + 43, &callee, &delta));
	for (int k = 3; k < 6; k++) {
		assert_int_equal(sites[k].why, PATCH_OK);
		assert_int_equal(sites[k].covered_by, -1);
		assert_int_equal(sites[k].w.start, sites[k].addr - 5);
		assert_int_equal(sites[k].w.len, 6);
		assert_int_equal(sites[k].w.inner, 0);
	}
	free(x);
	patch_func_close(f);
}

/* PyErr_CheckSignals of python3.11d, its rip-relative displacement
 * d0..d3:
 *    0 push %rbx;  1 mov D(%rip),%rbx;  8 mov 0x10(%rbx),%rdi;
 *   12 call elsewhere;  17 test %eax,%eax;  19 jne 23;  21 L: pop %rbx;
 *   22 ret;  23 mov %rbx,%rdi;  26 call elsewhere;  31 jmp L (rel8) */
#define CHECK_SIGNALS(d0, d1, d2, d3)					\
	0x53, 0x48, 0x8b, 0x1d, d0, d1, d2, d3, 0x48, 0x8b, 0x7b, 0x10,	\
	0xe8, 0x00, 0x10, 0x00, 0x00, 0x85, 0xc0, 0x75, 0x02, 0x5b, 0xc3,	\
	0x48, 0x89, 0xdf, 0xe8, 0x00, 0x10, 0x00, 0x00, 0xeb, 0xf4

/* PyErr_CheckSignals of python3.11d: its `pop %rbx; ret` is reached by a
 * fall-through and by a jmp rel8 right after a call at the function's
 * end, which has no room for a window of its own.  The ret's window
 * starts at the first call's return point and holds the pop; the jmp
 * reaches its copy through a hop in the entry's window, made longer for
 * it (3 bytes past its jmp, then 7), all on the page of the sites. */
static void test_redirect_hop(void **state)
{
	struct patch_site sites[2];
	struct patch_extra *x;
	struct patch_func *f;
	size_t n;

	(void)state;
	FUNC(f, 0, CHECK_SIGNALS(0x80, 0xd8, 0x42, 0x00));
	sites[0].addr = BASE;
	sites[1].addr = BASE + 22;
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[0].w.start, BASE);
	assert_int_equal(sites[0].w.len, 12);
	assert_int_equal(sites[0].w.ninsns, 3);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].covered_by, -1);
	assert_int_equal(sites[1].w.start, BASE + 17);
	assert_int_equal(sites[1].w.len, 6);
	assert_int_equal(sites[1].w.inner, 1 << 2);
	assert_int_equal(n, 1);
	assert_true(x[0].fixup);
	assert_true(x[0].hop);
	assert_int_equal(x[0].owner, 1);
	assert_int_equal(x[0].hop_host, 0);
	assert_int_equal(x[0].hop_at, BASE + 5);
	assert_int_equal(x[0].w.start, BASE + 31);
	assert_int_equal(x[0].w.len, 2);
	free(x);
	patch_func_close(f);

	/* the same with the jmp on the next page, where no site is: its
	 * page stays untouched, as under the int3 engine (the plan hops
	 * from the jne instead, to the mov after the ret: the ret's window
	 * holds ret, mov and call, L runs into it at its start) */
	{
		static const uint8_t code[] = {
			CHECK_SIGNALS(0x80, 0xd8, 0x42, 0x00)
		};
		const uint64_t at = BASE + 4096 - 30;	/* the jmp at +31 */
		struct patch_range r = { at, code, sizeof(code), 0 };

		f = patch_func_open(&r, 1, at);
		assert_non_null(f);
		sites[0].addr = at;
		sites[1].addr = at + 22;
		n = patch_plan_redirect(f, sites, 2, &x);
		assert_int_equal(sites[1].why, PATCH_OK);
		assert_int_equal(sites[1].w.start, at + 22);
		assert_int_equal(sites[1].w.len, 9);
		assert_int_equal(sites[1].w.inner, 1 << 1);
		assert_int_equal(n, 1);
		assert_true(x[0].hop);
		assert_int_equal(x[0].w.start, at + 19);
		assert_int_equal(x[0].hop_at, at + 5);
		assert_int_equal(sites[0].w.len, 12);
		free(x);
		patch_func_close(f);
	}
}

/* push; call; test; jne 17; mov $1,%eax; L: pop %rbx; ret; 17: call,
 * then a jmp back to L. */
#define POP_RET_THEN_CALL						\
	0x53, 0xe8, 0x00, 0x10, 0x00, 0x00, 0x85, 0xc0, 0x75, 0x07,	\
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x5b, 0xc3,			\
	0xe8, 0x00, 0x10, 0x00, 0x00

/* The same target reached by a jmp rel32: its rel32 is rewritten. */
static void test_redirect_rel32(void **state)
{
	struct patch_site sites[2];
	struct patch_extra *x;
	struct patch_func *f;
	size_t n;

	(void)state;
	FUNC(f, 0,
	     POP_RET_THEN_CALL,
	     0xe9, 0xf4, 0xff, 0xff, 0xff);	/* 22 jmp L (rel32) */
	sites[0].addr = BASE;
	sites[1].addr = BASE + 16;
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].w.start, BASE + 10);
	assert_int_equal(sites[1].w.inner, 1 << 1);
	assert_int_equal(n, 1);
	assert_true(x[0].fixup);
	assert_int_equal(x[0].w.start, BASE + 22);
	assert_int_equal(x[0].w.len, 5);
	assert_int_equal(x[0].w.insns[0].target, BASE + 15);
	free(x);
	patch_func_close(f);
	/* a rel8 jmp right after a call: no window can hold it (the call
	 * returns to it), but the ret's window may hold the call after it,
	 * which the jne reaches from a window of its own */
	FUNC(f, 0,
	     POP_RET_THEN_CALL,
	     0xeb, 0xf7);			/* 22 jmp L (rel8) */
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].w.start, BASE + 16);
	assert_int_equal(sites[1].w.len, 6);
	assert_int_equal(sites[1].w.inner, 1 << 1);
	assert_int_equal(sites[1].w.insns[1].op, INSN_CALL);
	assert_int_equal(n, 1);
	assert_false(x[0].fixup);
	assert_int_equal(x[0].w.start, BASE + 8);
	assert_int_equal(x[0].w.len, 7);
	free(x);
	patch_func_close(f);
	/* ...unless the jne is too close to the pop for that, and no hop
	 * can take the jmp: the entry's window cannot grow over +8, whose
	 * address the mov's rip-relative operand takes (test_redirect_hop
	 * has the same code with the operand elsewhere) */
	FUNC(f, 0, CHECK_SIGNALS(0, 0, 0, 0));
	sites[1].addr = BASE + 22;
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[1].why, PATCH_TARGET);
	assert_int_equal(n, 0);
	assert_null(x);
	patch_func_close(f);
}

/* test; je L; ...; call; add $8,%rsp; ret; L: ret: the second ret takes
 * the first one's window into its own, whose inner target the entry
 * window's je reaches. */
static void test_redirect_absorb(void **state)
{
	struct patch_site sites[3];
	struct patch_extra *x;
	struct patch_func *f;
	size_t n;

	(void)state;
	FUNC(f, 0,
	     0x48, 0x85, 0xff,			/*  0 test %rdi,%rdi */
	     0x74, 0x1b,			/*  3 je 32 */
	     0x48, 0x83, 0xec, 0x08,		/*  5 sub $8,%rsp */
	     0x48, 0x89, 0xfa,			/*  9 mov %rdi,%rdx */
	     0xbe, 0x5a, 0x02, 0x00, 0x00,	/* 12 mov $0x25a,%esi */
	     0xbf, 0xe0, 0xeb, 0x6b, 0x00,	/* 17 mov $..,%edi */
	     0xe8, 0x00, 0x10, 0x00, 0x00,	/* 22 call elsewhere */
	     0x48, 0x83, 0xc4, 0x08,		/* 27 add $8,%rsp */
	     0xc3,				/* 31 ret */
	     0xc3);				/* 32 L: ret */
	sites[0].addr = BASE;
	sites[1].addr = BASE + 31;
	sites[2].addr = BASE + 32;
	patch_plan(f, sites, 3);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_not_equal(sites[2].why, PATCH_OK);
	n = patch_plan_redirect(f, sites, 3, &x);
	assert_int_equal(n, 0);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[0].w.len, 5);
	assert_int_equal(sites[2].why, PATCH_OK);
	assert_int_equal(sites[2].covered_by, -1);
	assert_int_equal(sites[2].w.start, BASE + 27);
	assert_int_equal(sites[2].w.len, 6);
	assert_int_equal(sites[2].w.inner, 1 << 2);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].covered_by, 2);
	patch_func_close(f);
}

/* A ret that only its function's one call returns to: the callee and how
 * far below the function's frame the callee's is. */
static void test_ret_after_call(void **state)
{
	struct patch_func *f;
	uint64_t callee = 0;
	uint32_t delta = 0;

	(void)state;
	/* mov %rdi,%rdx; call +0x100; ret (pysiphash's shape) */
	FUNC(f, 0, 0x48, 0x89, 0xfa, 0xe8, 0x00, 0x01, 0x00, 0x00, 0xc3);
	assert_true(patch_ret_after_call(f, BASE + 8, &callee, &delta));
	assert_int_equal(callee, BASE + 8 + 0x100);
	assert_int_equal(delta, 8);
	assert_false(patch_ret_after_call(f, BASE + 3, &callee, &delta));
	patch_func_close(f);
	/* push %rbx; push %r12; call; pop %r12; pop %rbx; ret */
	FUNC(f, 0, 0x53, 0x41, 0x54, 0xe8, 0x10, 0x00, 0x00, 0x00,
	     0x41, 0x5c, 0x5b, 0xc3);
	assert_true(patch_ret_after_call(f, BASE + 11, &callee, &delta));
	assert_int_equal(callee, BASE + 8 + 0x10);
	assert_int_equal(delta, 24);
	patch_func_close(f);
	/* two calls: the ret follows the second; both are listed */
	FUNC(f, 0, 0xe8, 0x10, 0x00, 0x00, 0x00,
	     0xe8, 0x20, 0x00, 0x00, 0x00, 0xc3);
	assert_true(patch_ret_after_call(f, BASE + 10, &callee, &delta));
	assert_int_equal(callee, BASE + 10 + 0x20);
	assert_int_equal(delta, 8);
	{
		uint64_t *t;
		size_t n;

		assert_true(patch_direct_calls(f, &t, &n));
		assert_int_equal(n, 2);
		assert_int_equal(t[0], BASE + 5 + 0x10);
		assert_int_equal(t[1], BASE + 10 + 0x20);
		free(t);
	}
	patch_func_close(f);
	/* test %edi,%edi; je L; call; L: pop %rbx; ret: a jump lands in
	 * between */
	FUNC(f, 0, 0x85, 0xff, 0x74, 0x05, 0xe8, 0x10, 0x00, 0x00, 0x00,
	     0x5b, 0xc3);
	assert_false(patch_ret_after_call(f, BASE + 10, &callee, &delta));
	patch_func_close(f);
	/* ... and one onto the ret itself */
	FUNC(f, 0, 0x85, 0xff, 0x74, 0x06, 0xe8, 0x10, 0x00, 0x00, 0x00,
	     0x5b, 0xc3);
	assert_false(patch_ret_after_call(f, BASE + 10, &callee, &delta));
	patch_func_close(f);
	/* something else than pops between: add $8,%rsp */
	FUNC(f, 0, 0xe8, 0x10, 0x00, 0x00, 0x00,
	     0x48, 0x83, 0xc4, 0x08, 0xc3);
	assert_false(patch_ret_after_call(f, BASE + 9, &callee, &delta));
	patch_func_close(f);
	/* an indirect call: no callee to watch, and a call that could reach
	 * anything */
	FUNC(f, 0, 0xff, 0xd0, 0xc3);
	assert_false(patch_ret_after_call(f, BASE + 2, &callee, &delta));
	{
		uint64_t *t;
		size_t n;

		assert_false(patch_direct_calls(f, &t, &n));
		assert_null(t);
	}
	patch_func_close(f);
	FUNC(f, 0, 0xe8, 0x10, 0x00, 0x00, 0x00, 0xff, 0xd0, 0xc3);
	/* the ret follows the indirect call: no callee */
	assert_false(patch_ret_after_call(f, BASE + 7, &callee, &delta));
	{
		uint64_t *t;
		size_t n;

		assert_false(patch_direct_calls(f, &t, &n));
	}
	patch_func_close(f);
	/* ret $8: not a plain ret */
	FUNC(f, 0, 0xe8, 0x10, 0x00, 0x00, 0x00, 0xc2, 0x08, 0x00);
	assert_false(patch_ret_after_call(f, BASE + 5, &callee, &delta));
	patch_func_close(f);
}

/* cmp $1,%rsi; jg L2; call X; L1: ret; nop; L2: call *%rdx; jmp L1:
 * the ret is the call's return point and a jump's target, one dead byte
 * follows it, then code a jump reaches (which no stub runs). */
#define SPRING_SHAPE							\
	0x48, 0x83, 0xfe, 0x01, 0x7f, 0x07, 0xe8, 0x00, 0x10, 0x00, 0x00,	\
	0xc3, 0x90, 0xff, 0xd2, 0xeb, 0xfa

/* A springboard: the ret's window is a jmp rel8 to dead bytes after the
 * jmp back (nops of the function, or padding after it), where a pad
 * holds the jmp rel32. */
static void test_springboard(void **state)
{
	struct patch_site sites[2];
	struct patch_extra *x;
	struct patch_func *f;
	size_t n;

	(void)state;
	/* eight dead bytes: a nopl after the jmp back */
	FUNC(f, 0, SPRING_SHAPE, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00);
	sites[0].addr = BASE;
	sites[1].addr = BASE + 11;
	/* no window of a jmp rel32 */
	{
		struct patch_window w;

		assert_int_not_equal(patch_return(f, BASE + 11, &w), PATCH_OK);
	}
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_equal(sites[0].why, PATCH_OK);
	assert_int_equal(sites[0].w.len, 6);
	assert_int_equal(sites[0].w.spring, 0);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].covered_by, -1);
	assert_int_equal(sites[1].w.start, BASE + 11);
	assert_int_equal(sites[1].w.len, PATCH_SPRING_LEN);
	assert_int_equal(sites[1].w.ninsns, 1);
	assert_true(sites[1].w.has_ret);
	assert_int_equal(sites[1].w.spring, BASE + 17);
	assert_int_equal(n, 1);
	assert_true(x[0].pad);
	assert_true(x[0].fixup);
	assert_false(x[0].hop);
	assert_int_equal(x[0].owner, 1);
	assert_int_equal(x[0].w.start, BASE + 17);
	assert_int_equal(x[0].w.len, PATCH_JMP_LEN);
	assert_int_equal(x[0].w.ninsns, 0);
	free(x);
	patch_func_close(f);

	/* the dead bytes are the range's padding */
	FUNC(f, 8, SPRING_SHAPE, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc);
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_equal(sites[1].why, PATCH_OK);
	assert_int_equal(sites[1].w.spring, BASE + 17);
	assert_int_equal(n, 1);
	assert_true(x[0].pad);
	free(x);
	patch_func_close(f);

	/* four dead bytes: too few for the jmp rel32, the ret stays an
	 * int3 */
	FUNC(f, 4, SPRING_SHAPE, 0xcc, 0xcc, 0xcc, 0xcc);
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_not_equal(sites[1].why, PATCH_OK);
	assert_int_equal(n, 0);
	free(x);
	patch_func_close(f);

	/* the bytes after the jmp back are code a jump reaches: not dead */
	FUNC(f, 0, SPRING_SHAPE, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3);
	{
		static const uint8_t code[] = {
			0x48, 0x83, 0xfe, 0x01, 0x7f, 0x07, 0xe8, 0x00, 0x10,
			0x00, 0x00, 0xc3, 0x90, 0xff, 0xd2, 0xeb, 0xfa,
			/* 17: nops that L3 (the jl below) reaches */
			0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3,
			/* 24: jl 17 */
			0x7c, 0xf7,
		};
		struct patch_range r = { BASE, code, sizeof(code), 0 };

		patch_func_close(f);
		f = patch_func_open(&r, 1, BASE);
		assert_non_null(f);
	}
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_not_equal(sites[1].why, PATCH_OK);
	for (size_t i = 0; i < n; i++)
		assert_false(x[i].pad);
	free(x);
	patch_func_close(f);

	/* call X; ret; endbr64; ret: a one-byte ret after a call, with a
	 * landing pad right after it, has no room even for a jmp rel8 */
	FUNC(f, 8, 0x48, 0x85, 0xff, 0x74, 0x06, 0xe8, 0x00, 0x10, 0x00, 0x00,
	     0xc3, 0xf3, 0x0f, 0x1e, 0xfa, 0xc3,
	     0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc);
	sites[1].addr = BASE + 10;
	n = patch_plan_redirect(f, sites, 2, &x);
	assert_int_not_equal(sites[1].why, PATCH_OK);
	free(x);
	patch_func_close(f);
}

static void test_why_strings(void **state)
{
	(void)state;
	for (int i = PATCH_OK; i <= PATCH_NOMEM; i++) {
		const char *s = patch_why_str(i);

		assert_non_null(s);
		assert_true(strlen(s) > 0 && strcmp(s, "?") != 0);
		for (int j = PATCH_OK; j < i; j++)
			assert_string_not_equal(s, patch_why_str(j));
	}
	assert_string_equal(patch_why_str(PATCH_NOMEM + 1), "?");
	assert_string_equal(patch_why_str(-1), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_entry_and_leave),
		cmocka_unit_test(test_ret_into_padding),
		cmocka_unit_test(test_endbr64_entry),
		cmocka_unit_test(test_getter_whole),
		cmocka_unit_test(test_short_function),
		cmocka_unit_test(test_target_in_entry),
		cmocka_unit_test(test_target_from_cold_range),
		cmocka_unit_test(test_pop_epilogue),
		cmocka_unit_test(test_call_inside_entry),
		cmocka_unit_test(test_lone_ret_target),
		cmocka_unit_test(test_ret_then_nops),
		cmocka_unit_test(test_ret_then_landing_pad),
		cmocka_unit_test(test_rip_relative),
		cmocka_unit_test(test_indirect_jump),
		cmocka_unit_test(test_switch_table),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_tail_call_jmp),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_redirect_rel8),
		cmocka_unit_test(test_redirect_rel32),
		cmocka_unit_test(test_redirect_absorb),
		cmocka_unit_test(test_redirect_reverse),
		cmocka_unit_test(test_redirect_hop),
		cmocka_unit_test(test_ret_after_call),
		cmocka_unit_test(test_springboard),
		cmocka_unit_test(test_why_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

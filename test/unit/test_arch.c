/* Unit tests for tracer/arch_x86_64: the out-of-line slot encoder and the
 * replay of instructions that touch only registers, on hand-encoded bytes
 * (decoded by symbols/disasm).  The probe engine relocates displaced
 * instructions with the same rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "symbols/disasm.h"
#include "tracer/arch.h"

#define BASE 0x401000ULL
#define SLOT 0x400000ULL

/* The core's (arch.h), for the signals that run_code holds back: no
 * code is run here, so nothing is ever held. */
int signal_still_due(pid_t tid, int sig)
{
	(void)tid;
	return sig;
}

bool tracer_owe_stop(pid_t tid, int sig)
{
	(void)tid;
	(void)sig;
	return false;
}

static struct insn decode(const uint8_t *code, size_t n)
{
	struct insn in;

	assert_int_equal(insn_decode(code, n, BASE, &in), 0);
	return in;
}

/* The copy, then `jmp *0(%rip)` and the absolute address to go back to. */
static void assert_jumps_back(const uint8_t *slot, size_t at, uint64_t back)
{
	uint64_t got;

	assert_int_equal(slot[at], 0xff);
	assert_int_equal(slot[at + 1], 0x25);
	assert_int_equal(slot[at + 2] | slot[at + 3] | slot[at + 4] | slot[at + 5], 0);
	memcpy(&got, slot + at + 6, sizeof(got));
	assert_int_equal(got, back);
	for (size_t i = at + 14; i < ARCH_SLOT_SIZE; i++)
		assert_int_equal(slot[i], ARCH_BREAKPOINT);
}

static void test_slot_plain(void **state)
{
	static const uint8_t code[] = { 0x48, 0x89, 0xf8 };	/* mov %rdi,%rax */
	struct insn in = decode(code, sizeof(code));
	uint8_t slot[ARCH_SLOT_SIZE];

	(void)state;
	assert_true(arch_needs_slot(&in));
	assert_int_equal(arch_encode_slot(slot, &in, SLOT), 0);
	assert_memory_equal(slot, code, sizeof(code));
	assert_jumps_back(slot, sizeof(code), BASE + sizeof(code));
}

/* mov 0x10(%rip),%rax reads BASE + 7 + 0x10: from the slot, the
 * displacement is re-aimed at the same absolute address. */
static void test_slot_rip_relative(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x05, 0x10, 0, 0, 0 };
	struct insn in = decode(code, sizeof(code));
	uint8_t slot[ARCH_SLOT_SIZE];
	int32_t disp;

	(void)state;
	assert_int_equal(arch_encode_slot(slot, &in, SLOT), 0);
	assert_memory_equal(slot, code, 3);
	memcpy(&disp, slot + 3, sizeof(disp));
	assert_int_equal(SLOT + 7 + (int64_t)disp, BASE + 7 + 0x10);
	assert_jumps_back(slot, sizeof(code), BASE + sizeof(code));
}

/* cmpl $0x5,0x10(%rip): the displacement is not at the end. */
static void test_slot_rip_relative_imm(void **state)
{
	static const uint8_t code[] = { 0x83, 0x3d, 0x10, 0, 0, 0, 0x05 };
	struct insn in = decode(code, sizeof(code));
	uint8_t slot[ARCH_SLOT_SIZE];
	int32_t disp;

	(void)state;
	assert_int_equal(arch_encode_slot(slot, &in, SLOT), 0);
	memcpy(&disp, slot + 2, sizeof(disp));
	assert_int_equal(SLOT + 7 + (int64_t)disp, BASE + 7 + 0x10);
	assert_int_equal(slot[6], 0x05);
	assert_jumps_back(slot, sizeof(code), BASE + sizeof(code));
}

static void test_slot_out_of_reach(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x05, 0x10, 0, 0, 0 };
	struct insn in = decode(code, sizeof(code));
	uint8_t slot[ARCH_SLOT_SIZE];

	(void)state;
	assert_int_equal(arch_encode_slot(slot, &in, BASE + (3ULL << 30)), -1);
}

static void test_pc_out_of_slot(void **state)
{
	static const uint8_t code[] = { 0x48, 0x89, 0xf8 };
	struct insn in = decode(code, sizeof(code));

	(void)state;
	assert_int_equal(arch_pc_out_of_slot(SLOT, &in, SLOT), BASE);
	assert_int_equal(arch_pc_out_of_slot(SLOT + 3, &in, SLOT), BASE + 3);
	assert_int_equal(arch_pc_out_of_slot(SLOT + 5, &in, SLOT), SLOT + 5);
}

/* ---- replay of register-only instructions ---- */

static regs_t replayed(const uint8_t *code, size_t n, regs_t r, uint64_t slot)
{
	struct insn in = decode(code, n);
	const struct replay_ctx c = { .tid = 0, .memfd = -1 };

	r.rip = BASE;
	assert_int_equal(arch_replay(&c, &r, &in, slot), 0);
	return r;
}

static void test_replay_registers(void **state)
{
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const uint8_t mov_rbp[] = { 0x48, 0x89, 0xe5 };
	static const uint8_t sub[] = { 0x48, 0x83, 0xec, 0x18 };
	static const uint8_t jmp_rax[] = { 0xff, 0xe0 };
	static const uint8_t jmp[] = { 0xeb, 0x10 };
	static const uint8_t ool[] = { 0x48, 0x89, 0xf8 };
	regs_t r = { .rsp = 0x7ff000, .rax = 0x405060 }, o;

	(void)state;
	o = replayed(endbr, sizeof(endbr), r, 0);
	assert_int_equal(o.rip, BASE + 4);
	o = replayed(mov_rbp, sizeof(mov_rbp), r, 0);
	assert_int_equal(o.rbp, 0x7ff000);
	assert_int_equal(o.rip, BASE + 3);
	o = replayed(sub, sizeof(sub), r, 0);
	assert_int_equal(o.rsp, 0x7ff000 - 0x18);
	assert_int_equal(o.rip, BASE + 4);
	o = replayed(jmp_rax, sizeof(jmp_rax), r, 0);
	assert_int_equal(o.rip, 0x405060);
	o = replayed(jmp, sizeof(jmp), r, 0);
	assert_int_equal(o.rip, BASE + 2 + 0x10);
	o = replayed(ool, sizeof(ool), r, SLOT);
	assert_int_equal(o.rip, SLOT);
	assert_int_equal(o.rax, 0x405060);
}

/* sub $imm,%rsp sets the flags as the CPU would: zero and carry. */
static void test_replay_sub_flags(void **state)
{
	static const uint8_t sub8[] = { 0x48, 0x83, 0xec, 0x08 };
	regs_t r = { .rsp = 8 }, o;

	(void)state;
	o = replayed(sub8, sizeof(sub8), r, 0);
	assert_true(o.eflags & (1u << 6));	/* ZF */
	assert_false(o.eflags & 1u);		/* CF */
	r.rsp = 4;
	o = replayed(sub8, sizeof(sub8), r, 0);
	assert_true(o.eflags & 1u);		/* CF: borrow */
	assert_true(o.eflags & (1u << 7));	/* SF */
}

/* jcc: taken or not by the flags. */
static void test_replay_jcc(void **state)
{
	static const uint8_t je[] = { 0x74, 0x20 };
	regs_t r = { .eflags = 1u << 6 }, o;

	(void)state;
	o = replayed(je, sizeof(je), r, 0);
	assert_int_equal(o.rip, BASE + 2 + 0x20);
	r.eflags = 0;
	o = replayed(je, sizeof(je), r, 0);
	assert_int_equal(o.rip, BASE + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_plain),
		cmocka_unit_test(test_slot_rip_relative),
		cmocka_unit_test(test_slot_rip_relative_imm),
		cmocka_unit_test(test_slot_out_of_reach),
		cmocka_unit_test(test_pc_out_of_slot),
		cmocka_unit_test(test_replay_registers),
		cmocka_unit_test(test_replay_sub_flags),
		cmocka_unit_test(test_replay_jcc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

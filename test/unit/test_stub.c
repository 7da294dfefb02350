/* Unit tests for tracer/stub: the encoded stubs decoded back with capstone,
 * then run for real: functions and their stubs in an executable mapping,
 * probes in assembly below that count events and keep the site id and
 * stack pointer they were given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "symbols/patch.h"
#include "tracer/stub.h"

#define BASE	0x401000ULL
#define STUB	0x402000ULL
#define P_ENTRY	0x403000ULL
#define P_RET	0x403100ULL

/* ---- decoding the output ---- */

/* Decode n bytes at addr into v; asserts they are whole instructions. */
static size_t decode_all(const uint8_t *b, size_t n, uint64_t addr,
			 struct insn *v, size_t max)
{
	size_t k = 0, off = 0;

	while (off < n) {
		assert_true(k < max);
		assert_int_equal(insn_decode(b + off, n - off, addr + off, &v[k]), 0);
		off += v[k++].len;
	}
	return k;
}

/* The probe call for an entry site at v[0..3): push $site; call routine;
 * lea 8(%rsp). */
#define ENTRY_CALL 3
/* ...and for a return site at v[0..5): push (%rsp) (a ret's own read of
 * the stack first); movl $site,(%rsp); movl $0,4(%rsp); call; lea. */
#define RET_CALL 5

static void assert_probe_call(const struct insn *v, uint64_t routine,
			      uint32_t site, bool ret)
{
	static const uint8_t push_top[] = { 0xff, 0x34, 0x24 };
	static const uint8_t movl_hi0[] = { 0xc7, 0x44, 0x24, 0x04, 0, 0, 0, 0 };
	static const uint8_t up[] = { 0x48, 0x8d, 0xa4, 0x24, 0x08, 0x00, 0x00, 0x00 };
	uint32_t id;

	if (ret) {
		assert_memory_equal(v[0].bytes, push_top, sizeof(push_top));
		assert_int_equal(v[1].bytes[0], 0xc7);
		memcpy(&id, v[1].bytes + 3, 4);
		assert_memory_equal(v[2].bytes, movl_hi0, sizeof(movl_hi0));
		v += 2;
	} else {
		assert_int_equal(v[0].bytes[0], 0x68);
		memcpy(&id, v[0].bytes + 1, 4);
	}
	assert_int_equal(id, site);
	assert_int_equal(v[1].op, INSN_CALL);
	assert_int_equal(v[1].target, routine);
	assert_int_equal(v[2].len, sizeof(up));
	assert_memory_equal(v[2].bytes, up, sizeof(up));
}

static struct patch_func *open_at(const uint8_t *code, size_t n, uint64_t at)
{
	struct patch_range r = { at, code, n, 0 };
	struct patch_func *f = patch_func_open(&r, 1, at);

	assert_non_null(f);
	return f;
}

static struct stub_spec spec(const struct patch_window *w, uint64_t addr,
			     uint32_t entry_site)
{
	struct stub_spec s = {
		.w = w, .addr = addr, .probe_entry = P_ENTRY,
		.probe_return = P_RET, .entry_site = entry_site,
	};

	for (int i = 0; i < PATCH_MAX_INSNS; i++)
		s.ret_site[i] = STUB_NO_SITE;
	return s;
}

/* push %rbp; mov %rsp,%rbp; sub $0x10,%rsp: probe, the three, jmp back. */
static void test_entry_stub_bytes(void **state)
{
	static const uint8_t code[] = {
		0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10,
		0x8b, 0x45, 0xfc, 0xc9, 0xc3,
	};
	struct patch_func *f = open_at(code, sizeof(code), BASE);
	uint8_t out[STUB_MAX], patch[16];
	struct patch_window w;
	struct stub_spec s;
	struct insn v[16];
	size_t k;
	int n;

	(void)state;
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	s = spec(&w, STUB, 7);
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB, v, 16);
	assert_int_equal(k, ENTRY_CALL + 3 + 1 + 1);
	assert_probe_call(v, P_ENTRY, 7, false);
	assert_int_equal(v[3].op, INSN_PUSH);
	assert_int_equal(v[4].op, INSN_MOV_RSP_RBP);
	assert_int_equal(v[5].op, INSN_SUB_RSP);
	assert_int_equal(v[6].op, INSN_JMP);
	assert_int_equal(v[6].target, BASE + 8);
	assert_int_equal(v[7].bytes[0], 0xcc);
	/* a fault at the start stands for the window's start */
	assert_int_equal(s.call0, v[1].addr - STUB);
	assert_int_equal(s.copy0, v[3].addr - STUB);
	/* the window: jmp stub, int3 for the rest */
	assert_int_equal(stub_patch(patch, &w, STUB), 0);
	assert_int_equal(insn_decode(patch, 5, BASE, &v[0]), 0);
	assert_int_equal(v[0].op, INSN_JMP);
	assert_int_equal(v[0].target, STUB);
	assert_int_equal(patch[5], 0xcc);
	assert_int_equal(patch[7], 0xcc);
	/* a springboard's window: jmp rel8 to the spring, int3 after it;
	 * out of rel8 reach, ERANGE */
	w.spring = BASE + 100;
	assert_int_equal(stub_patch(patch, &w, STUB), 0);
	assert_int_equal(insn_decode(patch, 2, BASE, &v[0]), 0);
	assert_int_equal(v[0].op, INSN_JMP);
	assert_int_equal(v[0].len, 2);
	assert_int_equal(v[0].target, BASE + 100);
	assert_int_equal(patch[2], 0xcc);
	w.spring = BASE + 200;
	assert_int_equal(stub_patch(patch, &w, STUB), -1);
	assert_int_equal(errno, ERANGE);
	patch_func_close(f);
}

/* The getter whole: entry probe, body, return probe, ret. */
static void test_whole_stub_bytes(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x47, 0x08, 0xc3 };
	struct patch_func *f = open_at(code, sizeof(code), BASE);
	uint8_t out[STUB_MAX];
	struct patch_window w;
	struct stub_spec s;
	struct insn v[16];
	size_t k;
	int n;

	(void)state;
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_true(w.whole);
	s = spec(&w, STUB, 3);
	s.ret_site[1] = 4;
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB, v, 16);
	assert_int_equal(k, ENTRY_CALL + 1 + RET_CALL + 1 + 1);
	assert_probe_call(v, P_ENTRY, 3, false);
	assert_memory_equal(v[3].bytes, code, 4);
	assert_probe_call(v + 4, P_RET, 4, true);
	assert_int_equal(v[9].op, INSN_RET);
	assert_int_equal(v[10].bytes[0], 0xcc);
	/* a return site on an instruction that does not leave */
	s.ret_site[0] = 5;
	assert_int_equal(stub_encode(out, &s), -1);
	assert_int_equal(errno, EINVAL);
	/* a site id push imm32 would sign-extend */
	s.ret_site[0] = STUB_NO_SITE;
	s.entry_site = 0x80000000u;
	assert_int_equal(stub_encode(out, &s), -1);
	assert_int_equal(errno, EINVAL);
	patch_func_close(f);
}

/* rip-relative re-aimed, jcc and call re-encoded, out of reach refused. */
static void test_relocation_bytes(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, /* 0 mov 0x100(%rip),%rax */
		0xc3,
	};
	static const uint8_t code2[] = {
		0x85, 0xff,				/* 0 test %edi,%edi */
		0x74, 0x06,				/* 2 je 10 */
		0xe8, 0x00, 0x10, 0x00, 0x00,		/* 4 call BASE+0x1009 */
		0xc3,					/* 9 */
		0xc3,					/* 10 */
	};
	struct patch_func *f = open_at(code, sizeof(code), BASE);
	uint8_t out[STUB_MAX];
	struct patch_window w;
	struct stub_spec s;
	struct insn v[16];
	uint64_t ret;
	size_t k;
	int n;

	(void)state;
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	s = spec(&w, STUB, STUB_NO_SITE);
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB, v, 16);
	assert_int_equal(k, 3);
	assert_int_equal(v[0].op, INSN_OOL);
	assert_int_equal(v[0].target, BASE + 7 + 0x100);
	/* the ret too close for a window of its own: taken with the entry */
	assert_true(w.whole);
	assert_int_equal(v[1].op, INSN_RET);
	/* the stub 4 GB away: the operand is out of reach */
	s.addr = BASE + (5ULL << 32);
	assert_int_equal(stub_encode(out, &s), -1);
	assert_int_equal(errno, ERANGE);
	patch_func_close(f);

	f = open_at(code2, sizeof(code2), BASE);
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	assert_int_equal(w.len, 9);
	s = spec(&w, STUB, STUB_NO_SITE);
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB, v, 16);
	assert_int_equal(k, 7);
	assert_int_equal(v[0].op, INSN_OOL);			/* test */
	assert_int_equal(v[1].op, INSN_JCC);
	assert_int_equal(v[1].len, 6);
	assert_int_equal(v[1].cond, 4);				/* e */
	assert_int_equal(v[1].target, BASE + 10);
	/* push the original return address, high half over it, jmp */
	assert_int_equal(v[2].bytes[0], 0x68);
	assert_int_equal(v[3].bytes[0], 0xc7);
	memcpy(&ret, v[2].bytes + 1, 4);
	ret &= 0xffffffff;
	ret |= (uint64_t)(v[3].bytes[4] | v[3].bytes[5] << 8 |
			  v[3].bytes[6] << 16 | (uint32_t)v[3].bytes[7] << 24) << 32;
	assert_int_equal(ret, BASE + 9);
	assert_int_equal(v[4].op, INSN_JMP);
	assert_int_equal(v[4].target, BASE + 9 + 0x1000);
	assert_int_equal(v[5].op, INSN_JMP);			/* back */
	assert_int_equal(v[5].target, BASE + 9);
	assert_int_equal(v[6].bytes[0], 0xcc);
	patch_func_close(f);
}

static uint64_t redirect_17(void *arg, uint64_t target)
{
	(void)arg;
	return target == BASE + 17 ? STUB + 0x500 : target;
}

/* Windows of a redirecting plan: every instruction is copied, also after
 * a ret (copy_at says where each starts, a ret's at its probe), and a
 * branch to an inner target goes to the copy the plan's redirect names. */
static void test_redirect_bytes(void **state)
{
	static const uint8_t code[] = {
		0x53,				/*  0 push %rbx */
		0xe8, 0x00, 0x10, 0x00, 0x00,	/*  1 call elsewhere */
		0x85, 0xc0,			/*  6 test %eax,%eax */
		0x75, 0x07,			/*  8 jne 17 */
		0xb8, 0x01, 0x00, 0x00, 0x00,	/* 10 mov $1,%eax */
		0x5b,				/* 15 L: pop %rbx */
		0xc3,				/* 16 ret */
		0xe8, 0x00, 0x10, 0x00, 0x00,	/* 17 call elsewhere */
		0xeb, 0xf7,			/* 22 jmp L (rel8) */
	};
	struct patch_func *f = open_at(code, sizeof(code), BASE);
	struct patch_site sites[2] = { { .addr = BASE }, { .addr = BASE + 16 } };
	struct patch_extra *x;
	uint8_t out[STUB_MAX];
	struct stub_spec s;
	struct insn v[24];
	size_t k;
	int n;

	(void)state;
	assert_int_equal(patch_plan_redirect(f, sites, 2, &x), 1);
	/* ret; call: the ret's probe and the ret, then the call's copy */
	s = spec(&sites[1].w, STUB, STUB_NO_SITE);
	s.ret_site[0] = 9;
	s.redirect = redirect_17;
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB, v, 24);
	assert_int_equal(s.copy_at[0], 0);
	assert_probe_call(v, P_RET, 9, true);
	assert_int_equal(v[RET_CALL].op, INSN_RET);
	assert_int_equal(s.copy_at[1], v[RET_CALL + 1].addr - STUB);
	/* the call: its original return address pushed, then jmp */
	assert_int_equal(v[RET_CALL + 1].bytes[0], 0x68);
	assert_int_equal(v[RET_CALL + 3].op, INSN_JMP);
	assert_int_equal(v[RET_CALL + 3].target, BASE + 22 + 0x1000);
	/* flow goes on after the window: jmp back */
	assert_int_equal(v[RET_CALL + 4].op, INSN_JMP);
	assert_int_equal(v[RET_CALL + 4].target, BASE + 22);
	assert_int_equal(v[k - 1].bytes[0], 0xcc);
	/* jne; mov $1: the jne now goes to the call's copy */
	assert_false(x[0].fixup);
	s = spec(&x[0].w, STUB + 0x100, STUB_NO_SITE);
	s.redirect = redirect_17;
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB + 0x100, v, 24);
	assert_int_equal(k, 4);
	assert_int_equal(v[0].op, INSN_JCC);
	assert_int_equal(v[0].target, STUB + 0x500);
	assert_int_equal(v[1].op, INSN_OOL);
	assert_int_equal(v[2].op, INSN_JMP);
	assert_int_equal(v[2].target, BASE + 15);
	assert_int_equal(s.copy_at[1], v[1].addr - STUB - 0x100);
	free(x);
	patch_func_close(f);
}

/* A jcc tail call as a return site: probe only on the taken path. */
static void test_leaving_jcc_bytes(void **state)
{
	static const uint8_t code[] = {
		0x48, 0x83, 0xc4, 0x08,			/* 0 add $8,%rsp */
		0x85, 0xff,				/* 4 test %edi,%edi */
		0x0f, 0x84, 0x00, 0x20, 0x00, 0x00,	/* 6 je far (tail call) */
		0xc3,
	};
	struct patch_func *f = open_at(code, sizeof(code), BASE);
	uint8_t out[STUB_MAX];
	struct patch_window w;
	struct stub_spec s;
	struct insn v[16];
	size_t k;
	int n;

	(void)state;
	assert_int_equal(patch_return(f, BASE + 6, &w), PATCH_OK);
	assert_int_equal(w.ninsns, 1);
	s = spec(&w, STUB, STUB_NO_SITE);
	s.ret_site[0] = 9;
	n = stub_encode(out, &s);
	assert_true(n > 0);
	k = decode_all(out, (size_t)n, STUB, v, 16);
	assert_int_equal(k, 1 + ENTRY_CALL + 1 + 1 + 1);
	assert_int_equal(v[0].op, INSN_JCC);
	assert_int_equal(v[0].cond, 5);			/* jne: not taken */
	assert_int_equal(v[0].target, v[5].addr);	/* over probe and jmp */
	/* a jump reads no stack: the probe pushes, as the target would */
	assert_probe_call(v + 1, P_RET, 9, false);
	assert_int_equal(v[4].op, INSN_JMP);
	assert_int_equal(v[4].target, BASE + 12 + 0x2000);
	assert_int_equal(v[5].op, INSN_JMP);		/* not taken: back */
	assert_int_equal(v[5].target, BASE + 12);
	/* a fault in that push or call is the target's first push */
	assert_int_equal(s.jcall, v[2].addr - STUB);
	assert_int_equal(s.jtarget, BASE + 12 + 0x2000);
	patch_func_close(f);
}

/* ---- running stubs ---- */

uint64_t probe_entries, probe_returns, probe_entry_site, probe_return_site;
uint64_t probe_entry_sp, probe_return_sp;

/* Save the flags and rax, note the site and the site's stack pointer
 * (rsp + STUB_SP_BIAS at entry, + 16 for the two pushes), count. */
__asm__(
	".text\n"
	"test_probe_entry:\n"
	"	pushfq\n"
	"	push %rax\n"
	"	mov 24(%rsp), %rax\n"
	"	mov %rax, probe_entry_site(%rip)\n"
	"	lea 160(%rsp), %rax\n"
	"	mov %rax, probe_entry_sp(%rip)\n"
	"	incq probe_entries(%rip)\n"
	"	pop %rax\n"
	"	popfq\n"
	"	ret\n"
	"test_probe_return:\n"
	"	pushfq\n"
	"	push %rax\n"
	"	mov 24(%rsp), %rax\n"
	"	mov %rax, probe_return_site(%rip)\n"
	"	lea 160(%rsp), %rax\n"
	"	mov %rax, probe_return_sp(%rip)\n"
	"	incq probe_returns(%rip)\n"
	"	pop %rax\n"
	"	popfq\n"
	"	ret\n");
void test_probe_entry(void);
void test_probe_return(void);

/* An executable area: functions in the first page, stubs in the second,
 * jumps to the probes (too far for rel32) in the third. */
struct area {
	uint8_t *m;
	uint64_t fn, stubs, thunks;
	size_t nstubs;
};

static void thunk(uint8_t *at, void (*to)(void))
{
	uint64_t a = (uint64_t)(uintptr_t)to;

	at[0] = 0xff;				/* jmp *0(%rip) */
	at[1] = 0x25;
	memset(at + 2, 0, 4);
	memcpy(at + 6, &a, 8);
}

static void area_open(struct area *a)
{
	a->m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a->m != MAP_FAILED);
	memset(a->m, 0xcc, 3 * 4096);
	a->fn = (uint64_t)(uintptr_t)a->m;
	a->stubs = a->fn + 4096;
	a->thunks = a->fn + 8192;
	a->nstubs = 0;
	thunk(a->m + 8192, test_probe_entry);
	thunk(a->m + 8192 + 16, test_probe_return);
	probe_entries = probe_returns = 0;
	probe_entry_sp = probe_return_sp = 0;
}

static void area_close(struct area *a)
{
	munmap(a->m, 3 * 4096);
}

/* Encode the window's stub into the area and patch the window. */
static void area_patch(struct area *a, const struct patch_window *w,
		       uint32_t entry_site, uint32_t ret_site_last)
{
	uint64_t at = a->stubs + a->nstubs++ * STUB_MAX;
	struct stub_spec s = spec(w, at, entry_site);
	uint8_t *code = a->m + (w->start - a->fn);
	int n;

	s.probe_entry = a->thunks;
	s.probe_return = a->thunks + 16;
	s.ret_site[w->ninsns - 1] = ret_site_last;
	n = stub_encode(a->m + (at - a->fn), &s);
	assert_true(n > 0);
	assert_int_equal(stub_patch(code, w, at), 0);
}

static struct patch_func *area_func(struct area *a, size_t off,
				    const uint8_t *code, size_t n)
{
	memcpy(a->m + off, code, n);
	return open_at(a->m + off, n, a->fn + off);
}

static void test_run_getter(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x47, 0x08, 0xc3 };
	uint64_t pair[2] = { 11, 22 };
	struct patch_window w;
	struct patch_func *f;
	struct area a;
	uint64_t (*fn)(uint64_t *);

	(void)state;
	area_open(&a);
	f = area_func(&a, 0, code, sizeof(code));
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	patch_func_close(f);
	area_patch(&a, &w, 100, 101);
	fn = (uint64_t (*)(uint64_t *))(uintptr_t)a.fn;
	assert_int_equal(fn(pair), 22);
	assert_int_equal(fn(pair), 22);
	assert_int_equal(probe_entries, 2);
	assert_int_equal(probe_returns, 2);
	assert_int_equal(probe_entry_site, 100);
	assert_int_equal(probe_return_site, 101);
	/* no frame: the same stack pointer at entry and at the ret */
	assert_true(probe_entry_sp != 0);
	assert_true(probe_entry_sp == probe_return_sp);
	area_close(&a);
}

/* A function with a frame: returns its argument plus one. */
static const uint8_t frame_code[] = {
	0x55,					/* push %rbp */
	0x48, 0x89, 0xe5,			/* mov %rsp,%rbp */
	0x48, 0x83, 0xec, 0x10,			/* sub $0x10,%rsp */
	0x89, 0x7d, 0xfc,			/* mov %edi,-0x4(%rbp) */
	0x8b, 0x45, 0xfc,			/* mov -0x4(%rbp),%eax */
	0x83, 0xc0, 0x01,			/* add $1,%eax */
	0xc9,					/* leave */
	0xc3,					/* ret */
};

/* A frame function with its entry and its return both patched. */
static void test_run_frame(void **state)
{
	struct patch_window we, wr;
	struct patch_func *f;
	struct area a;
	int (*fn)(int);

	(void)state;
	area_open(&a);
	f = area_func(&a, 0, frame_code, sizeof(frame_code));
	assert_int_equal(patch_entry(f, &we), PATCH_OK);
	assert_int_equal(patch_return(f, a.fn + 18, &wr), PATCH_OK);
	assert_int_equal(wr.start, a.fn + 14);
	assert_false(patch_overlap(&we, &wr));
	patch_func_close(f);
	area_patch(&a, &we, 1, STUB_NO_SITE);
	area_patch(&a, &wr, STUB_NO_SITE, 2);
	fn = (int (*)(int))(uintptr_t)a.fn;
	assert_int_equal(fn(41), 42);
	assert_int_equal(fn(-1), 0);
	assert_int_equal(probe_entries, 2);
	assert_int_equal(probe_returns, 2);
	assert_int_equal(probe_entry_site, 1);
	assert_int_equal(probe_return_site, 2);
	assert_true(probe_entry_sp == probe_return_sp);
	area_close(&a);
}

/* A call and a rip-relative load, both displaced and relocated. */
static void test_run_call_and_rip(void **state)
{
	static const uint8_t caller[] = {
		0x53,					/* 0 push %rbx */
		0xe8, 0x1a, 0x00, 0x00, 0x00,		/* 1 call 0x20 */
		0x5b,					/* 6 pop %rbx */
		0xc3,					/* 7 ret */
	};
	static const uint8_t helper[] = {
		0x48, 0x8b, 0x05, 0x19, 0x00, 0x00, 0x00, /* mov 0x40(%rip),%rax */
		0xc3,
	};
	static const uint64_t value = 0x1122334455667788ULL;
	struct patch_window w1, w2;
	struct patch_func *f;
	struct area a;
	uint64_t (*fn)(void);

	(void)state;
	area_open(&a);
	memcpy(a.m + 0x40, &value, sizeof(value));
	f = area_func(&a, 0x20, helper, sizeof(helper));
	assert_int_equal(patch_entry(f, &w2), PATCH_OK);
	assert_int_equal(w2.insns[0].target, a.fn + 0x40);
	patch_func_close(f);
	f = area_func(&a, 0, caller, sizeof(caller));
	assert_int_equal(patch_entry(f, &w1), PATCH_OK);
	assert_int_equal(w1.len, 6);
	assert_int_equal(w1.insns[1].op, INSN_CALL);
	assert_int_equal(w1.insns[1].target, a.fn + 0x20);
	patch_func_close(f);
	area_patch(&a, &w1, 10, STUB_NO_SITE);
	area_patch(&a, &w2, 20, STUB_NO_SITE);
	fn = (uint64_t (*)(void))(uintptr_t)a.fn;
	assert_true(fn() == value);
	assert_int_equal(probe_entries, 2);
	assert_int_equal(probe_entry_site, 20);
	assert_int_equal(probe_returns, 0);
	area_close(&a);
}

/* ---- an indirect jmp ---- */

static uint64_t trap_at, traps, trap_rsp;

/* The stub's int3 for a jmp leaving the function: every register must be
 * the jmp's; do what iprofmem does, replay it (jmp *0(%rsi,%rdi,8)). */
static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;

	(void)sig;
	(void)si;
	traps++;
	trap_at = (uint64_t)g[REG_RIP] - 1;
	trap_rsp = (uint64_t)g[REG_RSP];
	g[REG_RIP] = (greg_t)((uint64_t *)(uintptr_t)g[REG_RSI])[g[REG_RDI]];
}

/* The stub of a function that starts with jmp *0(%rsi,%rdi,8) (code,
 * n bytes, at a.fn), its site id 5, `other` at a.fn + 0x40 (outside it),
 * encoded at a.stubs with probe_jump (0: none) and the window patched;
 * *s is the spec as stub_encode left it. */
static void jind_stub(struct area *a, const uint8_t *code, size_t n,
		      const uint8_t *other, size_t nother, bool tcb,
		      uint64_t probe_jump, struct addr_range *range,
		      struct stub_spec *s)
{
	static struct patch_window w;	/* s->w, used after the return */
	struct patch_func *f;

	area_open(a);
	memcpy(a->m + 0x40, other, nother);
	f = area_func(a, 0, code, n);
	assert_int_equal(patch_return(f, a->fn, &w), PATCH_OK);
	assert_int_equal(w.ninsns, 1);
	assert_int_equal(w.insns[0].op, INSN_JMP_IND);
	patch_func_close(f);
	*range = (struct addr_range){ a->fn, a->fn + n };
	*s = spec(&w, a->stubs, STUB_NO_SITE);
	s->probe_entry = a->thunks;
	s->probe_return = a->thunks + 16;
	s->probe_jump = probe_jump;
	s->ret_site[0] = 5;
	s->ranges = range;
	s->nranges = 1;
	s->tcb = tcb;
	assert_true(stub_encode(a->m + (a->stubs - a->fn), s) > 0);
	assert_int_equal(stub_patch(a->m, &w, a->stubs), 0);
}

/* A switch through a table: targets inside the function jump with no
 * event and no trap; a target outside (a tail call) traps in the stub
 * with the jmp's registers, and runs on from where the replay sends it. */
static void run_indirect_jmp(bool tcb)
{
	static const uint8_t code[] = {
		0xff, 0xa4, 0xfe, 0, 0, 0, 0,		/* 0 jmp *0(%rsi,%rdi,8) */
		0xb8, 0x01, 0x00, 0x00, 0x00,		/* 7 mov $1,%eax */
		0xc3,					/* 12 ret */
		0xb8, 0x02, 0x00, 0x00, 0x00,		/* 13 mov $2,%eax */
		0xc3,					/* 18 ret */
	};
	static const uint8_t other[] = { 0xb8, 0x07, 0, 0, 0, 0xc3 };
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO }, old;
	struct stub_spec s;
	struct addr_range fn_range;
	struct area a;
	uint64_t table[3], trap;
	int (*fn)(long, uint64_t *);

	jind_stub(&a, code, sizeof(code), other, sizeof(other), tcb, 0,
		  &fn_range, &s);
	assert_true(s.jind_trap > 0);
	trap = a.stubs + (uint64_t)s.jind_trap;
	/* without ranges it cannot decide */
	s.nranges = 0;
	assert_int_equal(stub_encode(a.m + (a.stubs - a.fn) + STUB_MAX, &s), -1);
	table[0] = a.fn + 7;
	table[1] = a.fn + 13;
	table[2] = a.fn + 0x40;
	fn = (int (*)(long, uint64_t *))(uintptr_t)a.fn;
	traps = 0;
	assert_int_equal(sigaction(SIGTRAP, &sa, &old), 0);
	assert_int_equal(fn(0, table), 1);
	assert_int_equal(fn(1, table), 2);
	assert_int_equal(traps, 0);
	assert_int_equal(fn(2, table), 7);
	assert_int_equal(traps, 1);
	assert_int_equal(trap_at, trap);
	/* the stack pointer is the jmp's: just past the caller's call */
	assert_int_equal(trap_rsp % 16, 8);
	assert_int_equal(fn(1, table), 2);
	assert_int_equal(traps, 1);
	sigaction(SIGTRAP, &old, NULL);
	/* no probe is called on either path */
	assert_int_equal(probe_entries + probe_returns, 0);
	area_close(&a);
}

static void test_run_indirect_jmp(void **state)
{
	(void)state;
	run_indirect_jmp(false);
}

/* The same on the TCB stack: the target kept in the TCB, every register
 * (the stack pointer too) the jmp's at the trap. */
static void test_run_indirect_jmp_tcb(void **state)
{
	(void)state;
	run_indirect_jmp(true);
}

uint64_t probe_jumps, probe_jump_site, probe_jump_sp, probe_jump_target;
uint64_t probe_jump_rdi;

/* probe_on_jump as the stub sees it: on the TCB stack, the site above its
 * return address and the site's stack pointer above that (STUB_SP_BIAS),
 * the target at %fs:STUB_TCB_JUMP_TARGET; note them, count. */
__asm__(
	".text\n"
	"test_probe_jump:\n"
	"	pushfq\n"
	"	push %rax\n"
	"	mov 24(%rsp), %rax\n"
	"	mov %rax, probe_jump_site(%rip)\n"
	"	mov 32(%rsp), %rax\n"
	"	mov %rax, probe_jump_sp(%rip)\n"
	"	mov %fs:0x270, %rax\n"
	"	mov %rax, probe_jump_target(%rip)\n"
	"	mov %rdi, probe_jump_rdi(%rip)\n"
	"	incq probe_jumps(%rip)\n"
	"	pop %rax\n"
	"	popfq\n"
	"	ret\n");
void test_probe_jump(void);

_Static_assert(STUB_TCB_JUMP_TARGET == 0x270, "test_probe_jump reads it");

/* On the TCB stack with probe_on_jump: a target outside calls it with the
 * site (the target kept where it reads it, every register the jmp's but
 * the stack pointer) and jumps there, with no trap; a target inside
 * neither. */
static void test_run_indirect_jmp_probe(void **state)
{
	static const uint8_t code[] = {
		0xff, 0xa4, 0xfe, 0, 0, 0, 0,		/* 0 jmp *0(%rsi,%rdi,8) */
		0xb8, 0x01, 0x00, 0x00, 0x00,		/* 7 mov $1,%eax */
		0xc3,					/* 12 ret */
	};
	/* mov %rdi,%rax; ret: returns the index it was given */
	static const uint8_t other[] = { 0x48, 0x89, 0xf8, 0xc3 };
	struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO }, old;
	struct stub_spec s;
	struct addr_range fn_range;
	struct area a;
	uint64_t table[3];
	long (*fn)(long, uint64_t *);

	(void)state;
	jind_stub(&a, code, sizeof(code), other, sizeof(other), true,
		  0, &fn_range, &s);
	/* the thunk after the area is open; the stub again, calling it */
	thunk(a.m + 8192 + 48, test_probe_jump);
	s.probe_jump = a.thunks + 48;
	s.jind_trap = s.jind_out = s.copy0 = -2;
	assert_true(stub_encode(a.m + (a.stubs - a.fn), &s) > 0);
	assert_int_equal(s.jind_trap, -1);
	assert_true(s.jind_out > 0);
	/* a thread stands for the jmp only at the check's start, never
	 * after the probe (a handler there could overwrite the target) */
	assert_int_equal(s.copy0, 0);
	table[0] = a.fn + 7;
	table[1] = a.fn + 7;
	table[2] = a.fn + 0x40;
	fn = (long (*)(long, uint64_t *))(uintptr_t)a.fn;
	traps = probe_jumps = 0;
	assert_int_equal(sigaction(SIGTRAP, &sa, &old), 0);
	assert_int_equal(fn(0, table), 1);
	assert_int_equal(probe_jumps, 0);
	assert_int_equal(fn(2, table), 2);
	assert_int_equal(probe_jumps, 1);
	assert_int_equal(probe_jump_site, 5);
	assert_int_equal(probe_jump_target, a.fn + 0x40);
	assert_int_equal(probe_jump_rdi, 2);
	/* the jmp's stack pointer: just past the caller's call */
	assert_int_equal(probe_jump_sp % 16, 8);
	assert_int_equal(fn(1, table), 1);
	assert_int_equal(probe_jumps, 1);
	assert_int_equal(traps, 0);
	sigaction(SIGTRAP, &old, NULL);
	assert_int_equal(probe_entries + probe_returns, 0);
	area_close(&a);
}

/* ---- on the TCB stack ---- */

/* The TCB probe call's bytes for an entry at 0, site 7, then the
 * displaced instructions: the save, the read of the word under the stack
 * pointer (where the function's push writes), the switch, push, call and
 * the stack pointer back; a ret site's read is of the return address. */
static void test_tcb_stub_bytes(void **state)
{
	static const uint8_t code[] = { 0x48, 0x8b, 0x47, 0x08, 0xc3 };
	static const uint8_t save[] = { 0x64, 0x48, 0x89, 0x24, 0x25,
					0x78, 0x02, 0x00, 0x00 };
	static const uint8_t read_below[] = { 0x48, 0x8b, 0x64, 0x24, 0xf8 };
	static const uint8_t read_top[] = { 0x48, 0x8b, 0x64, 0x24, 0x00 };
	static const uint8_t onto[] = { 0x64, 0x48, 0x8b, 0x24, 0x25, 0, 0, 0, 0,
					0x48, 0x8d, 0xa4, 0x24,
					0x78, 0x02, 0x00, 0x00 };
	static const uint8_t back[] = { 0x64, 0x48, 0x8b, 0x24, 0x25,
					0x78, 0x02, 0x00, 0x00 };
	struct patch_func *f = open_at(code, sizeof(code), BASE);
	uint8_t out[STUB_MAX];
	const uint8_t *r;
	struct patch_window w;
	struct stub_spec s;
	int32_t rel;
	uint32_t id;
	int n;

	(void)state;
	assert_int_equal(patch_entry(f, &w), PATCH_OK);
	s = spec(&w, STUB, 7);
	s.ret_site[1] = 8;
	s.tcb = true;
	n = stub_encode(out, &s);
	assert_int_equal(n, 2 * STUB_TCB_CALL_LEN + 4 + 1 + 1);
	assert_memory_equal(out, save, sizeof(save));
	assert_memory_equal(out + STUB_TCB_READ_AT, read_below,
			    sizeof(read_below));
	assert_memory_equal(out + STUB_TCB_READ_AT + 5, onto, sizeof(onto));
	assert_int_equal(out[STUB_TCB_CALL_AT - 5], 0x68);
	memcpy(&id, out + STUB_TCB_CALL_AT - 4, 4);
	assert_int_equal(id, 7);
	assert_int_equal(out[STUB_TCB_CALL_AT], 0xe8);
	memcpy(&rel, out + STUB_TCB_CALL_AT + 1, 4);
	assert_int_equal(STUB + STUB_TCB_CALL_AT + 5 + (int64_t)rel, P_ENTRY);
	assert_memory_equal(out + STUB_TCB_CALL_AT + 5, back, sizeof(back));
	assert_int_equal(s.call0, STUB_TCB_CALL_AT);
	assert_int_equal(s.copy0, STUB_TCB_CALL_LEN);
	/* the body, then the ret's probe call, its read the ret's */
	assert_memory_equal(out + STUB_TCB_CALL_LEN, code, 4);
	r = out + STUB_TCB_CALL_LEN + 4;
	assert_int_equal(s.ret_push[1], STUB_TCB_CALL_LEN + 4);
	assert_memory_equal(r, save, sizeof(save));
	assert_memory_equal(r + STUB_TCB_READ_AT, read_top, sizeof(read_top));
	memcpy(&id, r + STUB_TCB_CALL_AT - 4, 4);
	assert_int_equal(id, 8);
	memcpy(&rel, r + STUB_TCB_CALL_AT + 1, 4);
	assert_int_equal(STUB + (uint64_t)(r - out) + STUB_TCB_CALL_AT + 5 +
			 (int64_t)rel, P_RET);
	assert_int_equal(r[STUB_TCB_CALL_LEN], 0xc3);
	assert_int_equal(r[STUB_TCB_CALL_LEN + 1], 0xcc);
	patch_func_close(f);
}

uint64_t tcb_probe_sp, tcb_probe_rsp, tcb_probe_fs, tcb_probes;

/* A probe on the TCB stack: note the site's stack pointer (saved at
 * %fs:STUB_TCB_TOP), where it runs and the thread pointer; count. */
__asm__(
	".text\n"
	"test_tcb_probe:\n"
	"	pushfq\n"
	"	push %rax\n"
	"	mov %fs:0x278, %rax\n"
	"	mov %rax, tcb_probe_sp(%rip)\n"
	"	mov %rsp, tcb_probe_rsp(%rip)\n"
	"	mov %fs:0, %rax\n"
	"	mov %rax, tcb_probe_fs(%rip)\n"
	"	incq tcb_probes(%rip)\n"
	"	pop %rax\n"
	"	popfq\n"
	"	ret\n");
void test_tcb_probe(void);

/* The frame function with its entry and return patched, on the TCB
 * stack: the probes run inside the thread's control block, with the
 * site's stack pointer saved there, and not a byte of the program's stack
 * below its stack pointer is written. */
static void test_run_tcb(void **state)
{
	struct patch_window we, wr;
	struct patch_func *f;
	struct area a;
	uint64_t at;
	int (*fn)(int);

	(void)state;
	area_open(&a);
	thunk(a.m + 8192 + 32, test_tcb_probe);
	f = area_func(&a, 0, frame_code, sizeof(frame_code));
	assert_int_equal(patch_entry(f, &we), PATCH_OK);
	assert_int_equal(patch_return(f, a.fn + 18, &wr), PATCH_OK);
	patch_func_close(f);
	for (int k = 0; k < 2; k++) {
		const struct patch_window *w = k ? &wr : &we;
		struct stub_spec s;

		at = a.stubs + a.nstubs++ * STUB_MAX;
		s = spec(w, at, k ? STUB_NO_SITE : 1);
		s.probe_entry = s.probe_return = a.thunks + 32;
		s.ret_site[w->ninsns - 1] = k ? 2 : STUB_NO_SITE;
		s.tcb = true;
		assert_true(stub_encode(a.m + (at - a.fn), &s) > 0);
		assert_int_equal(stub_patch(a.m + (w->start - a.fn), w, at), 0);
	}
	fn = (int (*)(int))(uintptr_t)a.fn;
	tcb_probes = 0;
	assert_int_equal(fn(41), 42);
	assert_int_equal(tcb_probes, 2);
	/* at the ret, the stack pointer is the entry's: the caller's less
	 * its return address, and the probe ran in the TCB's free words */
	assert_true(tcb_probe_sp != 0 && tcb_probe_sp % 16 == 8);
	assert_true(tcb_probe_rsp >= tcb_probe_fs + 0x80 &&
		    tcb_probe_rsp < tcb_probe_fs + STUB_TCB_TOP);
	assert_int_equal(fn(-1), 0);
	assert_int_equal(tcb_probes, 4);
	area_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_stub_bytes),
		cmocka_unit_test(test_whole_stub_bytes),
		cmocka_unit_test(test_relocation_bytes),
		cmocka_unit_test(test_leaving_jcc_bytes),
		cmocka_unit_test(test_redirect_bytes),
		cmocka_unit_test(test_run_getter),
		cmocka_unit_test(test_run_frame),
		cmocka_unit_test(test_run_call_and_rip),
		cmocka_unit_test(test_run_indirect_jmp),
		cmocka_unit_test(test_tcb_stub_bytes),
		cmocka_unit_test(test_run_tcb),
		cmocka_unit_test(test_run_indirect_jmp_tcb),
		cmocka_unit_test(test_run_indirect_jmp_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

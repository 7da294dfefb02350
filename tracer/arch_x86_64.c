/* x86-64: replay the displaced instruction the way the kernel's uprobes do,
 * so a breakpoint never has to be lifted while other threads run. */
#include "tracer/arch.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tracer/memio.h"

#define FLAG_CF (1u << 0)
#define FLAG_PF (1u << 2)
#define FLAG_AF (1u << 4)
#define FLAG_ZF (1u << 6)
#define FLAG_SF (1u << 7)
#define FLAG_OF (1u << 11)

/* General registers in instruction-encoding order. */
static unsigned long long *reg_ptr(regs_t *r, unsigned n)
{
	switch (n) {
	case 0: return &r->rax;
	case 1: return &r->rcx;
	case 2: return &r->rdx;
	case 3: return &r->rbx;
	case 4: return &r->rsp;
	case 5: return &r->rbp;
	case 6: return &r->rsi;
	case 7: return &r->rdi;
	case 8: return &r->r8;
	case 9: return &r->r9;
	case 10: return &r->r10;
	case 11: return &r->r11;
	case 12: return &r->r12;
	case 13: return &r->r13;
	case 14: return &r->r14;
	default: return &r->r15;
	}
}

bool arch_needs_slot(const struct insn *in)
{
	return in->op == INSN_OOL;
}

int arch_encode_slot(uint8_t out[ARCH_SLOT_SIZE], const struct insn *in,
		     uint64_t slot)
{
	uint64_t back = in->addr + in->len;
	uint8_t *jmp = out + in->len;

	memset(out, ARCH_BREAKPOINT, ARCH_SLOT_SIZE);
	memcpy(out, in->bytes, in->len);
	if (in->disp_off) {
		int64_t disp = (int64_t)(in->target - (slot + in->len));
		int32_t d32 = (int32_t)disp;

		if (disp != d32)
			return -1;
		memcpy(out + in->disp_off, &d32, sizeof(d32));
	}
	/* jmp *0(%rip) followed by the absolute address: reaches anywhere */
	jmp[0] = 0xff;
	jmp[1] = 0x25;
	memset(jmp + 2, 0, 4);
	memcpy(jmp + 6, &back, sizeof(back));
	return 0;
}

static bool cond_holds(unsigned cond, unsigned long long fl)
{
	bool cf = fl & FLAG_CF, zf = fl & FLAG_ZF, sf = fl & FLAG_SF,
	     of = fl & FLAG_OF, pf = fl & FLAG_PF, r;

	switch (cond >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cond & 1) ? !r : r;
}

/* sub $imm, %rsp sets the arithmetic flags like any sub. */
static void sub_rsp(regs_t *r, uint64_t imm)
{
	uint64_t a = r->rsp, res = a - imm;
	unsigned long long fl = r->eflags &
		~(unsigned long long)(FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF |
				      FLAG_SF | FLAG_OF);

	if (a < imm)
		fl |= FLAG_CF;
	if (!(__builtin_popcount((unsigned)(res & 0xff)) & 1))
		fl |= FLAG_PF;
	if ((a ^ imm ^ res) & 0x10)
		fl |= FLAG_AF;
	if (!res)
		fl |= FLAG_ZF;
	if (res >> 63)
		fl |= FLAG_SF;
	if (((a ^ imm) & (a ^ res)) >> 63)
		fl |= FLAG_OF;
	r->eflags = fl;
	r->rsp = res;
}

/* The stack, as the thread itself would access it (a fault is EFAULT);
 * where the kernel does not let us access it that way (a tracee made
 * non-dumpable, for a tracer without CAP_SYS_PTRACE), through memfd. */
static int stack_read(const struct replay_ctx *c, uint64_t at, uint64_t *v)
{
	if (mem_read_as(c->tid, at, v, sizeof(*v)) == 0)
		return 0;
	return errno == EPERM ? mem_read(c->memfd, at, v, sizeof(*v)) : -1;
}

static int stack_write(const struct replay_ctx *c, uint64_t at, uint64_t v)
{
	if (mem_write_as(c->tid, at, &v, sizeof(v)) == 0)
		return 0;
	return errno == EPERM ? mem_write(c->memfd, at, &v, sizeof(v)) : -1;
}

static int push64(const struct replay_ctx *c, regs_t *r, uint64_t v)
{
	if (stack_write(c, r->rsp - 8, v) != 0)
		return -1;
	r->rsp -= 8;
	return 0;
}

/* Where an indirect branch reads its target (0 for a register operand). */
static uint64_t ind_address(const struct insn *in, regs_t *r)
{
	const struct insn_ind *d = &in->ind;
	uint64_t a = (uint64_t)d->disp;

	if (d->reg != INSN_REG_NONE)
		return 0;
	if (d->base >= 0 && d->base < INSN_REG_RIP)
		a += *reg_ptr(r, (unsigned)d->base);
	if (d->index >= 0 && d->index < INSN_REG_RIP)
		a += *reg_ptr(r, (unsigned)d->index) * d->scale;
	return a;
}

/* The target of an indirect branch, read with the thread's rights. */
static int ind_target(const struct replay_ctx *c, const struct insn *in,
		      regs_t *r, uint64_t *target)
{
	if (in->ind.reg != INSN_REG_NONE) {
		*target = *reg_ptr(r, (unsigned)in->ind.reg);
		return 0;
	}
	return stack_read(c, ind_address(in, r), target);
}

int arch_replay(const struct replay_ctx *c, regs_t *r, const struct insn *in,
		uint64_t slot)
{
	uint64_t next = in->addr + in->len, v;

	switch (in->op) {
	case INSN_NOP:
		r->rip = next;
		return 0;
	case INSN_PUSH:
		/* push %rsp pushes the value before the decrement */
		if (push64(c, r, *reg_ptr(r, in->reg)) != 0)
			return -1;
		r->rip = next;
		return 0;
	case INSN_SUB_RSP:
		sub_rsp(r, (uint64_t)in->imm);
		r->rip = next;
		return 0;
	case INSN_MOV_RSP_RBP:
		r->rbp = r->rsp;
		r->rip = next;
		return 0;
	case INSN_RET:
		if (stack_read(c, r->rsp, &v) != 0)
			return -1;
		r->rip = v;
		r->rsp += 8 + (uint64_t)in->imm;
		return 0;
	case INSN_JMP:
		r->rip = in->target;
		return 0;
	case INSN_JCC:
		r->rip = cond_holds(in->cond, r->eflags) ? in->target : next;
		return 0;
	case INSN_CALL:
		if (push64(c, r, next) != 0)
			return -1;
		r->rip = in->target;
		return 0;
	case INSN_JMP_IND:
		if (ind_target(c, in, r, &v) != 0)
			return -1;
		r->rip = v;
		return 0;
	case INSN_CALL_IND:
		/* the target first: call *8(%rsp) reads the old stack top */
		if (ind_target(c, in, r, &v) != 0 || push64(c, r, next) != 0)
			return -1;
		r->rip = v;
		return 0;
	case INSN_OOL:
		if (!slot) {
			errno = EINVAL;
			return -1;
		}
		r->rip = slot;
		return 0;
	case INSN_UNSUPPORTED:
		break;
	}
	errno = EINVAL;
	return -1;
}

uint64_t arch_stack_access(const struct replay_ctx *c, const struct insn *in,
			   const regs_t *r)
{
	regs_t copy = *r;
	uint64_t at, v;

	switch (in->op) {
	case INSN_JMP_IND:
		return ind_address(in, &copy);
	case INSN_CALL_IND:
		/* the operand, unless it is readable: then the push faulted */
		at = ind_address(in, &copy);
		return at && stack_read(c, at, &v) != 0 ? at : r->rsp - 8;
	case INSN_PUSH:
	case INSN_CALL:
		return r->rsp - 8;
	case INSN_RET:
		return r->rsp;
	default:
		return 0;
	}
}

/* Run one syscall in the stopped thread `pid` while every other thread of
 * its process is stopped: write "syscall; int3" at code address `at` (0: its
 * pc), run to the int3, put everything back.  The saved registers include
 * orig_rax, so a system call the thread was interrupted in restarts as it
 * would have. */
static const uint8_t stub_code[ARCH_STUB_SIZE] = { 0x0f, 0x05, ARCH_BREAKPOINT };

void arch_encode_stub(uint8_t out[ARCH_STUB_SIZE])
{
	memcpy(out, stub_code, sizeof(stub_code));
}

uint64_t arch_scratch_below(const regs_t *r)
{
	return (r->rsp - 128) & ~(uint64_t)15;
}

/* Run code in the stopped thread `pid`, from `at` to the int3 that ends
 * it `len` bytes on: `code` written there for the run (at 0: at its pc,
 * when no other thread can run there) and put back after, or (code NULL)
 * code already there that no other thread runs.  a[]: rax, rdi, rsi,
 * rdx, r10, r8, r9.  Every register is put back after, orig_rax too, so
 * that a system call the thread was interrupted in restarts as it would
 * have.  Every signal but SIGTRAP (and `faults`, SIGSEGV and SIGBUS, for
 * code that may fault) is blocked meanwhile and stays pending: an int3 or
 * a fault with its signal blocked would make the kernel reset the
 * program's action for it.  A SIGTRAP of the program's that arrives
 * meanwhile is kept in *deferred (si_signo 0 if none, dropped if deferred
 * is NULL); one that no mask holds (SIGSTOP, or a SIGSEGV or SIGBUS sent
 * to it) is sent again after.  Returns rax at the int3, or -EFAULT when
 * the code faulted (the thread is left at that signal's stop, which the
 * tracer's next resume without a signal drops), -EIO/-ESRCH when it could
 * not run. */
static long run_code(pid_t pid, int memfd, uint64_t at, const uint8_t *code,
		     size_t len, const long a[7], bool faults,
		     siginfo_t *deferred)
{
	uint64_t all_but_trap = ~(1ull << (SIGTRAP - 1));
	regs_t saved, r;
	uint8_t orig[16];
	uint64_t mask;
	long ret = -ENOSYS;
	int status, resend = 0;

	if (faults)
		all_but_trap &= ~(1ull << (SIGSEGV - 1) | 1ull << (SIGBUS - 1));
	if (deferred)
		deferred->si_signo = 0;
	if (len > sizeof(orig) ||
	    ptrace(PTRACE_GETREGS, pid, 0, &saved) != 0 ||
	    ptrace(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask) != 0)
		return -EIO;
	if (code && !at)
		at = saved.rip;
	if (code && (mem_read(memfd, at, orig, len) != 0 ||
		     mem_write(memfd, at, code, len) != 0))
		return -EIO;
	r = saved;
	r.rip = at;
	r.orig_rax = (unsigned long long)-1;	/* no syscall restart */
	r.rax = (unsigned long long)a[0];
	r.rdi = a[1], r.rsi = a[2], r.rdx = a[3];
	r.r10 = a[4], r.r8 = a[5], r.r9 = a[6];
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof(all_but_trap), &all_but_trap) != 0 ||
	    ptrace(PTRACE_SETREGS, pid, 0, &r) != 0 ||
	    ptrace(PTRACE_CONT, pid, 0, 0) != 0)
		goto restore;
	for (;;) {
		pid_t w = waitpid(pid, &status, __WALL);
		int sig;

		/* SIGALRM (--duration) or SIGINT may interrupt the wait: the
		 * thread is still running our code, wait on */
		if (w < 0 && errno == EINTR)
			continue;
		if (w != pid || !WIFSTOPPED(status)) {
			ret = -ESRCH;
			goto restore_code;	/* for the other threads */
		}
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && (status >> 16) == 0 &&
		    ptrace(PTRACE_GETREGS, pid, 0, &r) == 0 &&
		    r.rip == at + len)
			break;
		if (sig == SIGTRAP && (status >> 16) == 0 && deferred)
			ptrace(PTRACE_GETSIGINFO, pid, 0, deferred);
		if (faults && (sig == SIGSEGV || sig == SIGBUS) &&
		    (status >> 16) == 0) {
			siginfo_t si;

			if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0 &&
			    si.si_code > 0 &&
			    ptrace(PTRACE_GETREGS, pid, 0, &r) == 0 &&
			    r.rip >= at && r.rip < at + len) {
				ret = -EFAULT;
				goto restore;
			}
		}
		/* a signal that no mask holds (SIGSTOP, or a SIGSEGV or
		 * SIGBUS sent to it): for the program to get once the thread
		 * is back (a SIGSTOP from the core's next resume of it:
		 * tracer_owe_stop; sent again otherwise, unless a SIGCONT
		 * came since: signal_still_due); a group stop or another event:
		 * it goes on (the program gets its stop when the tracer
		 * resumes it) */
		if (sig != SIGTRAP && (status >> 16) == 0)
			resend = sig;
		if (ptrace(PTRACE_CONT, pid, 0, 0) != 0) {
			ret = -ESRCH;
			goto restore_code;
		}
	}
	ret = (long)r.rax;
restore:
	ptrace(PTRACE_SETREGS, pid, 0, &saved);
	ptrace(PTRACE_SETSIGMASK, pid, sizeof(mask), &mask);
	if (resend == SIGSTOP && tracer_owe_stop(pid, resend))
		resend = 0;
	resend = signal_still_due(pid, resend);
	if (resend)
		syscall(SYS_tkill, pid, resend);
restore_code:
	if (code)
		mem_write(memfd, at, orig, len);
	return ret;
}

static long inject_syscall(pid_t pid, int memfd, uint64_t at, long nr,
			   const long a[6], siginfo_t *deferred)
{
	const long all[7] = { nr, a[0], a[1], a[2], a[3], a[4], a[5] };

	return run_code(pid, memfd, at, stub_code, sizeof(stub_code), all,
			false, deferred);
}

long arch_inject_syscall(pid_t tid, int memfd, uint64_t at, long nr,
			 const long args[6], siginfo_t *deferred)
{
	return inject_syscall(tid, memfd, at, nr, args, deferred);
}

long arch_run_syscall(pid_t tid, uint64_t at, long nr, const long args[6])
{
	const long all[7] = { nr, args[0], args[1], args[2], args[3], args[4],
			      args[5] };

	return run_code(tid, -1, at, NULL, sizeof(stub_code), all, false, NULL);
}

int arch_run_store(pid_t tid, uint64_t at, uint64_t addr, uint64_t value)
{
	const long all[7] = { 0, (long)addr, (long)value };
	long r = run_code(tid, -1, at, NULL, 4, all, true, NULL);

	return r < 0 ? (int)r : 0;
}

uint64_t arch_inject_mmap(pid_t pid, int memfd, uint64_t at, uint64_t hint,
			  size_t len, bool fixed)
{
	const long args[6] = {
		(long)hint, (long)len, PROT_READ | PROT_EXEC,
		MAP_PRIVATE | MAP_ANONYMOUS | (fixed ? MAP_FIXED_NOREPLACE : 0),
		-1, 0,
	};
	long ret = inject_syscall(pid, memfd, at, SYS_mmap, args, NULL);

	if (ret < 0 && ret > -4096)
		return 0;
	if (fixed && (uint64_t)ret != hint)
		return 0;
	return (uint64_t)ret;
}

uint64_t arch_pc_out_of_slot(uint64_t pc, const struct insn *in, uint64_t slot)
{
	if (pc == slot)
		return in->addr;
	if (pc == slot + in->len)
		return in->addr + in->len;
	return pc;
}

/* sa_restorer: glibc's __restore_rt is `mov $15,%rax; syscall`, musl's
 * `mov $15,%eax; syscall` */
static const uint8_t sigreturn_glibc[] = { 0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05 };
static const uint8_t sigreturn_musl[] = { 0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05 };

bool arch_is_sigreturn(const uint8_t *code, size_t n)
{
	return (n >= sizeof(sigreturn_musl) &&
		!memcmp(code, sigreturn_musl, sizeof(sigreturn_musl))) ||
	       (n >= sizeof(sigreturn_glibc) &&
		!memcmp(code, sigreturn_glibc, sizeof(sigreturn_glibc)));
}

/* probe_x86_64.S: the entry points a site's stub calls (tracer/stub.h):
 * save rax, the flags (lahf and seto) and rdi, try probe_fast (a leaf that
 * saves what it uses and records the common event where it stands: one
 * thread, RSS known unchanged by the fault gate, room in the ring); else
 * save the rest and the flags whole, move to the thread's own probe
 * stack, call probe_event; come back, out through probe_exit.  With the
 * TCB stack (probe.h: a process with glibc's thread control block) all
 * of it runs there, and the program's stack is not written at all (but
 * when the thread has no probe stack level free).  Else the only bytes
 * written on the program's stack are the stub's (below its red zone),
 * these saves and a return address: 136 bytes at most below the site's
 * stack pointer on the whole path, 56 and probe_fast's own saves (9
 * registers with gcc 12: 128) on the fast one (the stub's own
 * indirect-jump check goes to 152). */
	.section .text.probe_head,"ax",@progbits
	.globl	probe_ctl_ptr
	.hidden	probe_ctl_ptr
/* The control block's address, written by iprofmem: the first 8 bytes. */
probe_ctl_ptr:
	.quad	0

	.text
	.globl	probe_on_entry
	.hidden	probe_on_entry
	.type	probe_on_entry, @function
probe_on_entry:
	push	$1			/* RING_ENTRY */
	jmp	probe_common

/* A return at an indirect jmp (a tail call through a pointer), from a TCB
 * stack: the jmp's target is at %fs:PROBE_TCB_JUMP_TARGET, and the event
 * is two records, RING_DEST with it, then RING_RETURN (probe.c). */
	.globl	probe_on_jump
	.hidden	probe_on_jump
	.type	probe_on_jump, @function
probe_on_jump:
	push	$3			/* RING_DEST */
	jmp	probe_common

	.globl	probe_on_return
	.hidden	probe_on_return
	.type	probe_on_return, @function
probe_on_return:
	push	$2			/* RING_RETURN */

/* The fast path first.  rax is saved, then the flags as lahf and seto see
 * them: pushfq and popfq are slow, and nothing here changes DF, TF or AC.
 * Then rdi, and probe_fast (no_caller_saved_registers: it saves every
 * register it uses) is given the frame: rdi (0), the flags (8), rax (16),
 * kind (24), the stub's return address (32), the site id (40). */
probe_common:
	push	%rax
	lahf
	seto	%al
	push	%rax
	push	%rdi
	mov	%rsp, %rdi
	call	probe_fast
	test	%rax, %rax
	pop	%rdi
	pop	%rax
	jz	probe_slow
	add	$0x7f, %al		/* OF as it was: 0x7f + 1 overflows */
	sahf				/* SF ZF AF PF CF */
	pop	%rax
	lea	8(%rsp), %rsp		/* the kind */
	.globl	probe_exit
	.hidden	probe_exit
/* Where a thread leaves the probe code, every register as it was: a
 * signal for a thread inside is held until it gets here (tracer). */
probe_exit:
	ret

/* The whole path, every register and the flags as at the start again.
 * Frame, from rbx: r13 r12 rbx r11 r10 r9 r8 rdi rsi rdx rcx (0..80), rax
 * (88), the flags (96), kind (104), the stub's return address (112), the
 * site id (120); the site's stack pointer is rbx + 112 + STUB_SP_BIAS (16:
 * tracer/stub.h), or on a TCB stack the word there (probe_site_sp). */
probe_slow:
	add	$0x7f, %al
	sahf
	pop	%rax
	pushfq
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	cld
	push	%rbx
	push	%r12
	push	%r13
	mov	%rsp, %rbx
	mov	probe_ctl_ptr(%rip), %rdi
	call	probe_thread_key	/* leaf */
	mov	%rax, %r13		/* the thread */
	mov	probe_ctl_ptr(%rip), %rdi
	mov	%r13, %rsi
	call	probe_stack_take	/* leaf: the return address only */
	mov	%rax, %r12
	test	%rax, %rax
	jnz	3f
	mov	probe_ctl_ptr(%rip), %rdi
	mov	%rbx, %rsi
	lea	128(%rbx), %rdx
	call	probe_no_stack		/* leaf */
3:	mov	%rax, %rsp
	and	$-16, %rsp
	mov	probe_ctl_ptr(%rip), %rdi
	mov	104(%rbx), %esi
	mov	120(%rbx), %edx
	lea	128(%rbx), %rcx
	mov	%r13, %r8
	mov	%r12, %r9
	call	probe_event
	mov	%rbx, %rsp
	test	%r12, %r12
	jz	1f
	mov	probe_ctl_ptr(%rip), %rdi
	mov	%r12, %rsi
	call	probe_stack_done
1:	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
/* The flags back: popfq only when DF, TF or AC is set (the ABI has DF
 * clear at every probe point); else as the fast path does it. */
	testl	$0x40500, 8(%rsp)	/* AC DF TF */
	jz	2f
	pop	%rax
	popfq
	lea	8(%rsp), %rsp
	jmp	probe_exit
2:	movzbl	9(%rsp), %eax		/* OF is bit 3 of the second byte */
	and	$8, %al
	add	$0x78, %al		/* 0x80: overflow; 0x78: none */
	mov	8(%rsp), %ah
	sahf
	pop	%rax
	lea	16(%rsp), %rsp		/* the flags, the kind */
	jmp	probe_exit

/* The RSS when the probe cannot read statm itself: the program closed its
 * descriptor and /proc/self/statm is out of its reach (a chroot, a mount
 * namespace without /proc).  iprofmem, stopped at the int3, reads
 * /proc/PID/statm from outside, as the int3 engine does at its traps,
 * and puts the packed value (probe_pack_rss) in rax.  Without iprofmem
 * to do it, PROBE_NO_RSS.  Its argument (edi, left as it is) says why:
 * the ring header's nosys, RING_SYS_OK for a statm it could not read, or
 * RING_SYS_WATCH for the system-call watch's rings, whose heads' sum is
 * the second (rsi; the RSS is then not wanted). */
	.globl	probe_need_rss
	.hidden	probe_need_rss
	.type	probe_need_rss, @function
probe_need_rss:
	mov	$-1, %rax
	int3
	.globl	probe_need_rss_back
	.hidden	probe_need_rss_back
probe_need_rss_back:
	ret

/* The seccomp watch (tracer/probes.c): iprofmem points the program's
 * entries for prctl and syscall in its modules' global offset tables
 * here, and the real function's address in the quad after each.  A call
 * that may install a seccomp filter stops at the int3 (iprofmem then has
 * the probes make no more system calls) and goes on to the real
 * function; the others go straight there.  The flags are dead at a
 * call.  When iprofmem lets the program go, the int3s become nops. */
	.globl	probe_watch_prctl
	.hidden	probe_watch_prctl
	.type	probe_watch_prctl, @function
probe_watch_prctl:
	cmp	$22, %edi		/* PR_SET_SECCOMP */
	jne	probe_watch_prctl_back
	int3
	.globl	probe_watch_prctl_back
	.hidden	probe_watch_prctl_back
probe_watch_prctl_back:
	jmp	*probe_watch_prctl_real(%rip)
	.globl	probe_watch_prctl_real
	.hidden	probe_watch_prctl_real
	.balign	8
probe_watch_prctl_real:
	.quad	0

	.globl	probe_watch_syscall
	.hidden	probe_watch_syscall
	.type	probe_watch_syscall, @function
probe_watch_syscall:
	cmp	$317, %rdi		/* SYS_seccomp */
	je	1f
	cmp	$157, %rdi		/* SYS_prctl */
	jne	probe_watch_syscall_back
1:	int3
	.globl	probe_watch_syscall_back
	.hidden	probe_watch_syscall_back
probe_watch_syscall_back:
	jmp	*probe_watch_syscall_real(%rip)
	.globl	probe_watch_syscall_real
	.hidden	probe_watch_syscall_real
	.balign	8
probe_watch_syscall_real:
	.quad	0

/* Code that iprofmem has a stopped thread run, from one of its stops
 * (tracer/probes.c: got_store), and that nothing else runs: a store of
 * rsi at (rdi), one aligned word, as the dynamic linker writes an offset
 * table entry; a system call (an mprotect of the entry's page).  Each
 * ends in an int3, where iprofmem takes the thread back. */
	.globl	probe_store
	.hidden	probe_store
	.type	probe_store, @function
probe_store:
	mov	%rsi, (%rdi)
	int3
	.globl	probe_syscall
	.hidden	probe_syscall
	.type	probe_syscall, @function
probe_syscall:
	syscall
	int3

	.section .note.GNU-stack,"",@progbits

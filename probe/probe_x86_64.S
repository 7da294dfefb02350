/* probe_x86_64.S: the entry points a site's stub calls (tracer/stub.h):
 * save the registers C may clobber and the flags, try probe_fast (a leaf
 * that records the common event where it stands: one thread, RSS known
 * unchanged by the fault gate, room in the ring); else save the rest,
 * move to the thread's own probe stack, call probe_event; come back, out
 * through probe_exit.  The only bytes written on the program's stack are
 * the stub's (below its red zone), these saves and probe_fast's return
 * address and one push: 120 bytes at most below the site's stack pointer
 * (the stub's own indirect-jump check goes to 152). */
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
	pushfq
	push	%rax
	push	$1			/* RING_ENTRY */
	jmp	probe_common

	.globl	probe_on_return
	.hidden	probe_on_return
	.type	probe_on_return, @function
probe_on_return:
	pushfq
	push	%rax
	push	$2			/* RING_RETURN */

/* Frame, from rbx: r13 r12 rbx r11 r10 r9 r8 rdi rsi rdx rcx (0..80),
 * kind (88), rax (96), flags (104), the stub's return address (112), the
 * site id (120); the site's stack pointer is rbx + 112 + STUB_SP_BIAS
 * (16: tracer/stub.h). */
probe_common:
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	cld
/* The fast path (probe_fast, a leaf): kind, site id, the site's stack
 * pointer (rsp + 64 + 24 + STUB_SP_BIAS), the thread. */
	mov	probe_ctl_ptr(%rip), %rdi
	mov	64(%rsp), %esi
	mov	96(%rsp), %edx
	lea	104(%rsp), %rcx
	rdfsbase %r8
	call	probe_fast
	test	%rax, %rax
	jnz	3f
	push	%rbx
	push	%r12
	push	%r13
	mov	%rsp, %rbx
	rdfsbase %r13			/* the thread: its TLS base */
	mov	probe_ctl_ptr(%rip), %rdi
	mov	%r13, %rsi
	call	probe_stack_take	/* leaf: the return address only */
	mov	%rax, %r12
	test	%rax, %rax
	cmovz	%rbx, %rax
	mov	%rax, %rsp
	and	$-16, %rsp
	mov	probe_ctl_ptr(%rip), %rdi
	mov	88(%rbx), %esi
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
3:	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	add	$8, %rsp
/* The flags back.  popfq is slow (tens of cycles, on every event): when
 * the direction, trap and alignment-check flags are clear, as the ABI has
 * DF at every probe point, sahf restores SF ZF AF PF CF from the saved
 * low byte and an add sets OF as it was. */
	testl	$0x40500, 8(%rsp)	/* AC DF TF */
	jz	2f
	pop	%rax
	popfq
	jmp	probe_exit
2:	movzbl	9(%rsp), %eax		/* OF is bit 3 of the second byte */
	and	$8, %al
	add	$0x78, %al		/* 0x80: overflow; 0x78: none */
	mov	8(%rsp), %ah
	sahf
	pop	%rax
	lea	8(%rsp), %rsp
	.globl	probe_exit
	.hidden	probe_exit
/* Where a thread leaves the probe code, every register as it was: a
 * signal for a thread inside is held until it gets here (tracer). */
probe_exit:
	ret

	.section .note.GNU-stack,"",@progbits

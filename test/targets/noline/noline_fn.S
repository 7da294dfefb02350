/*
 * noline_fn.S: a function whose DWARF gives its file but not its line:
 * the subprogram DIE has DW_AT_decl_file and no DW_AT_decl_line, as Go's
 * compiler (before 1.21) writes them.  The unit's DWARF is written here
 * by hand (DWARF 4 .debug_info and .debug_abbrev; the line table is the
 * assembler's, from the .file and .loc below).  iprofmem must name the
 * function by the line its code starts at in the line table: the .loc
 * line below, marked ENTRY-LINE (test/e2e/test_noline.sh finds it).
 *
 * grow_noline(char *region, long n) writes one byte in each of the n
 * pages of region: n pages made resident, by construction.
 */
	.file	1 __FILE__
	.text
	.globl	grow_noline
	.type	grow_noline, @function
grow_noline:
.Lfn_start:
	.loc	1 __LINE__	/* ENTRY-LINE */
	xor	%eax, %eax
1:	cmp	%rsi, %rax
	jae	2f
	mov	%rax, %rdx
	shl	$12, %rdx
	movb	$1, (%rdi,%rdx)
	inc	%rax
	jmp	1b
2:	ret
.Lfn_end:
	.size	grow_noline, .-grow_noline

	.section .debug_abbrev,"",@progbits
.Labbrev:
	/* 1: the unit, with children: name (string), language (data2),
	 * stmt_list (sec_offset), low_pc (addr), high_pc (data8) */
	.uleb128 1, 0x11
	.byte	1
	.uleb128 0x03, 0x08, 0x13, 0x05, 0x10, 0x17, 0x11, 0x01, 0x12, 0x07
	.uleb128 0, 0
	/* 2: a function, no children: name (string), decl_file (data1),
	 * external (flag_present), low_pc (addr), high_pc (data8); no
	 * decl_line */
	.uleb128 2, 0x2e
	.byte	0
	.uleb128 0x03, 0x08, 0x3a, 0x0b, 0x3f, 0x19, 0x11, 0x01, 0x12, 0x07
	.uleb128 0, 0
	.uleb128 0

	.section .debug_info,"",@progbits
.Linfo:
	.long	.Linfo_end - .Linfo_start
.Linfo_start:
	.value	4			/* DWARF 4 */
	.long	.Labbrev
	.byte	8
	.uleb128 1
	.string	__FILE__
	.value	0x8001			/* DW_LANG_Mips_Assembler */
	.long	.Lline
	.quad	.Lfn_start
	.quad	.Lfn_end - .Lfn_start
	.uleb128 2
	.string	"grow_noline"
	.byte	1			/* the line table's file 1 */
	.quad	.Lfn_start
	.quad	.Lfn_end - .Lfn_start
	.byte	0			/* the unit's children end */
.Linfo_end:

	/* the assembler's line program goes here */
	.section .debug_line,"",@progbits
.Lline:

	.section .note.GNU-stack,"",@progbits

/* patch: may a site's bytes be overwritten by a 5-byte `jmp rel32` to a
 * probe stub?  Pure (no ptrace, no libdw): works on a function's bytes from
 * the ELF file, decoded with insn_decode (symbols/disasm.h).
 *
 * The window is the run of whole instructions the jump displaces:
 *   - entry: the instructions from the entry covering 5 bytes (after an
 *     endbr64, which stays for indirect branch tracking); a tiny function
 *     whose ret falls inside is taken whole (the stub runs the entry
 *     probe, the body, the return probe);
 *   - return: the ret with the instructions before it in its basic block
 *     (pop, add rsp, leave...), so that the window ends at the ret; or the
 *     ret followed by padding (nops, int3) it may run into.
 * Refused, so the site stays an int3: a branch target (or the return point
 * of a call, or the entry) strictly inside the window, since a jump there
 * would land in the middle of the new jmp or skip the probe; a function
 * with an indirect jump whose targets are unknown when the window spans
 * more than one instruction; bytes that run out before 5; an instruction
 * that cannot run elsewhere. */
#ifndef IPROFMEM_PATCH_H
#define IPROFMEM_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols/disasm.h"

#define PATCH_JMP_LEN	5
/* A window's instructions and bytes at most: each displaced instruction
 * but the first starts inside the 5 bytes, except in a window that holds
 * the instructions before its site (patch_plan_redirect). */
#define PATCH_MAX_INSNS	8
#define PATCH_MAX_LEN	16

/* One address range of a function and its bytes: code[0..n) at addr, then
 * `pad` more bytes code[n..n+pad) that belong to no function (alignment
 * padding up to the next symbol), which a window may run into when they
 * are nops or int3. */
struct patch_range {
	uint64_t addr;
	const uint8_t *code;
	size_t n, pad;
	/* the range as a sweep decoded it already (insn_unpack), or NULL:
	 * decode it */
	const struct insn_packed *packed;
	const struct insn *whole;
};

/* Why a site cannot be patched; PATCH_OK when it can.  patch_why_str gives
 * a short word for each (for --list-funcs). */
enum patch_why {
	PATCH_OK,
	PATCH_NO_SITE,		/* not an instruction start in the ranges */
	PATCH_SHORT,		/* the bytes end before the window does */
	PATCH_TARGET,		/* a branch target inside the window */
	PATCH_INDIRECT,		/* indirect jump: targets unknown */
	PATCH_RELOC,		/* an instruction that cannot be relocated */
	PATCH_BLOCK,		/* the ret's basic block is shorter than 5 */
	PATCH_DECODE,		/* undecodable bytes in the function */
	PATCH_OVERLAP,		/* shares bytes with another site's window */
	PATCH_NOMEM,
};

const char *patch_why_str(enum patch_why why);

struct patch_window {
	uint64_t start;
	uint8_t len;		/* >= PATCH_JMP_LEN, or >= PATCH_SPRING_LEN
				   with spring */
	uint8_t ninsns;
	struct insn insns[PATCH_MAX_INSNS];	/* displaced, in order */
	bool has_ret;		/* a ret is displaced: the stub probes it */
	bool whole;		/* entry window holding the function through
				   its ret */
	bool padding;		/* runs past the function into padding */
	/* bit i: insns[i] is a branch target strictly inside the window,
	 * which the function's direct jumps to it reach at its copy in the
	 * stub (patch_plan_redirect) */
	uint8_t inner;
	/* a springboard (patch_plan_redirect): the window is too short for
	 * the jmp rel32, and holds a jmp rel8 to `spring` instead, dead bytes
	 * of the function where a pad extra (patch_extra.pad) holds the jmp
	 * rel32 to the stub; 0 for the plain jmp */
	uint64_t spring;
};

#define PATCH_SPRING_LEN	2	/* jmp rel8 */

/* A function's instructions and branch targets, decoded once for all of
 * its sites. */
struct patch_func;

/* The module's data, to find where the function's indirect jumps may land
 * (jump tables, the addresses of labels): without it, a function with an
 * indirect jump takes only one-instruction windows. */
struct patch_data {
	/* the module's bytes at a (outside its code), or NULL */
	const uint8_t *(*at)(void *arg, uint64_t a, size_t *avail);
	void *arg;
	/* sorted: the run-time addresses the dynamic linker writes into the
	 * module's data (RELATIVE relocations) */
	const uint64_t *relative;
	size_t nrelative;
};

/* Decode every range of the function that starts at `entry`; the bytes
 * are not copied and must outlive f.  Returns NULL when out of memory
 * (errno ENOMEM).  Undecodable bytes do not fail it: every window of such
 * a function is refused (PATCH_DECODE), since a jump could hide in them. */
struct patch_func *patch_func_open(const struct patch_range *ranges,
				   size_t nranges, uint64_t entry);
/* The same, with the module's data: the places the function's indirect
 * jumps may land are then known (patch.c says how), and its windows may
 * hold several instructions. */
struct patch_func *patch_func_open_data(const struct patch_range *ranges,
					size_t nranges, uint64_t entry,
					const struct patch_data *d);
void patch_func_close(struct patch_func *f);

/* The window for the function's entry, or why there is none. */
enum patch_why patch_entry(const struct patch_func *f, struct patch_window *w);

/* The window for the return site (a ret) at `site`, or why there is
 * none. */
enum patch_why patch_return(const struct patch_func *f, uint64_t site,
			    struct patch_window *w);

/* Do two windows share a byte?  Sites whose windows overlap cannot both be
 * patched: the caller keeps the first and sends the other to int3. */
bool patch_overlap(const struct patch_window *a, const struct patch_window *b);

/* One site of a function in a plan: the caller sets addr (the entry first,
 * then the return sites), patch_plan the rest. */
struct patch_site {
	uint64_t addr;
	enum patch_why why;
	struct patch_window w;		/* why == PATCH_OK and covered_by < 0 */
	/* >= 0: the index of the site whose window displaces this one (a ret
	 * inside a whole function's entry window), and whose stub probes it;
	 * why is then PATCH_OK and w unused */
	int covered_by;
};

/* Decide every site of a function at once: sites[0] is the entry,
 * sites[1..n) its return sites.  The entry's window is taken first; a
 * return site inside it is covered by it; a return window that shares
 * bytes with one already granted is refused (PATCH_OVERLAP). */
void patch_plan(const struct patch_func *f, struct patch_site *sites,
		size_t n);

/* What a redirecting plan needs besides its sites' windows: every direct
 * jmp or jcc of the function to a window's inner target (see
 * patch_window.inner) must reach the stub's copy of it.  One in a window
 * already is re-encoded by its stub; a rel32 one elsewhere has its rel32
 * rewritten in place (a fixup); a rel8 one cannot reach that far, and is
 * displaced by a window of its own, which holds no site and whose stub
 * branches there. */
struct patch_extra {
	struct patch_window w;	/* fixup: the branch, its one instruction */
	bool fixup;
	size_t owner;		/* the site whose window needs it */
	/* a hop (a fixup too): w is a rel8 jmp or jcc that neither reaches
	 * the stub nor has room for a window of its own.  Its rel8 goes to
	 * hop_at instead, where a jmp rel32 to the target's copy is written
	 * into bytes that no code runs: a granted window's past its own
	 * jmp (site hop_host's; the entry's window is made longer for it
	 * when it must be).  The function's windows are then patched all or
	 * none. */
	bool hop;
	uint64_t hop_at;
	size_t hop_host;
	/* a pad (a fixup too, of no instruction): w is PATCH_JMP_LEN dead
	 * bytes (nops or padding after a ret or jmp, no target among them,
	 * on the page of a site) where the jmp rel32 to the stub of site
	 * owner goes, whose window's jmp rel8 reaches it (its spring) */
	bool pad;
};

/* patch_plan, where a site that has no window of the plain kind may get
 * one holding branch targets, reached through the extras it needs
 * (fixups, windows of their own, hops), and a return site that has no
 * room for any window but a jmp rel8 may get a springboard (a pad)
 * (*extra, malloc'd, NULL when none: their number is returned).  A site
 * refused by the plain plan and displaced by another's window is covered
 * by it.  Out of memory, it is patch_plan's plan. */
size_t patch_plan_redirect(const struct patch_func *f,
			   struct patch_site *sites, size_t n,
			   struct patch_extra **extra);

/* A ret that only the return of one call reaches: `call X; pop %r...;
 * ret` (pops only between them), with no branch, taken address or other
 * call's return landing after the call, in a function with no indirect
 * jump of unknown targets.  X's return runs straight into this ret, with
 * nothing but pops between: a tracer that sees X's frame return there has
 * seen the function return too, with the same memory.  That frame is the
 * one `delta` bytes below the function's (the return address and the
 * pops), and is X's (see patch_direct_calls for when it can only come
 * from this call).  True, with *callee = X's address and *delta, or
 * false. */
bool patch_ret_after_call(const struct patch_func *f, uint64_t site,
			  uint64_t *callee, uint32_t *delta);
/* The targets of the function's calls, when every call is direct: true
 * with targets[0..*n) (malloc'd, NULL when none), false when one is
 * indirect or cannot be decoded (or out of memory). */
bool patch_direct_calls(const struct patch_func *f, uint64_t **targets,
			size_t *n);
/* Are the targets of every indirect jump of the function known (a jump
 * table found in the module's data)? */
bool patch_jumps_known(const struct patch_func *f);

#endif

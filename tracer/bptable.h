/* bptable: the breakpoints of the traced image, hashed by address.  A site
 * may be both the entry of a function and one of its returns (a function
 * whose first instruction is a tail-call jmp), hence two function fields. */
#ifndef IPROFMEM_BPTABLE_H
#define IPROFMEM_BPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols/disasm.h"

struct bp {
	uint64_t addr;		/* 0: free slot */
	int32_t entry_fn;	/* report id whose entry this is, or -1 */
	int32_t ret_fn;		/* report id this site returns from, or -1 */
	uint64_t slot;		/* out-of-line copy of insn, or 0 */
	bool rendezvous;	/* the dynamic linker's: look at the modules */
	bool in_stub;		/* a probe stub's own int3 (an indirect jmp
				   leaving): nothing to put back */
	uint32_t ranges_at;	/* the ranges of ret_fn's function, in */
	uint32_t nranges;	/* process.ranges: where an indirect jmp
				   stays inside it (a switch) */
	uint8_t orig;		/* the byte under the int3 */
	struct insn insn;	/* the displaced instruction */
};

struct bp_table {
	struct bp *slots;
	size_t cap, n;
};

struct bp *bp_table_find(const struct bp_table *t, uint64_t addr);
/* Find or add (entry_fn = ret_fn = -1, the rest zeroed).  Pointers into the
 * table are invalidated by the next insertion. */
struct bp *bp_table_get(struct bp_table *t, uint64_t addr);
void bp_table_free(struct bp_table *t);
/* Remove every breakpoint in [lo, hi) (an unmapped module). */
void bp_table_remove_range(struct bp_table *t, uint64_t lo, uint64_t hi);
/* dst (empty or freed) becomes a copy of src. */
void bp_table_copy(struct bp_table *dst, const struct bp_table *src);

#define bp_table_for_each(t, b) \
	for (struct bp *b = (t)->slots; b < (t)->slots + (t)->cap; b++) \
		if (b->addr)

#endif

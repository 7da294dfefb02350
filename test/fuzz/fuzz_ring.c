/* Fuzz target: the ring consumer (probe/ring.c), which reads memory the
 * traced program can write anything into.  The first RING_FUZZ_CTL bytes
 * choose how the ring is opened and the table sizes ids are checked
 * against; the rest is the mapping's contents:
 *   ctl[0]     bit 0: open as untrusted (geometry from the header, the
 *              mapping exactly the rest of the input) or as iprofmem's own
 *              ring (ring_init, then every byte overwritten by the input,
 *              as a scribbling program would); bits 1-4: the order of an
 *              own ring (1..12)
 *   ctl[1..4]  nsites, ctl[5..6] nthreads (little-endian)
 *   ctl[7]     max records per drain (0: no limit)
 * Every delivered event must pass the limits, positions must increase, a
 * drain may not consume more than a lap, and the drains must end. */
#include <stdlib.h>
#include <string.h>

#include "probe/ring.h"
#include "test/fuzz/fuzz.h"

#define RING_FUZZ_CTL	8
#define RING_FUZZ_DRAINS 4

struct check {
	struct ring_limits lim;
	uint64_t n, last_pos;
};

static void check_event(const struct ring_event *ev, void *arg)
{
	struct check *c = arg;

	if (ev->site >= c->lim.nsites || ev->thread >= c->lim.nthreads ||
	    (ev->kind != RING_ENTRY && ev->kind != RING_RETURN &&
	     ev->kind != RING_DEST))
		abort();
	/* positions come in order (skipped records leave gaps) */
	if (c->n && (int64_t)(ev->pos - c->last_pos) <= 0)
		abort();
	c->last_pos = ev->pos;
	c->n++;
}

/* An own ring of 2^order records whose every byte the program rewrote. */
static void *own_ring(unsigned order, const uint8_t *data, size_t size,
		      size_t *len)
{
	size_t n = ring_bytes(order);
	void *mem = malloc(n);

	if (!mem || ring_init(mem, order) < 0)
		abort();
	memcpy(mem, data, size < n ? size : n);
	*len = n;
	return mem;
}

static void drain_all(struct ring_reader *rd, struct check *c, size_t max)
{
	for (int i = 0; i < RING_FUZZ_DRAINS; i++) {
		size_t n = ring_drain(rd, &c->lim, max, check_event, c);

		if (n > rd->mask + 1 || n > max)
			abort();
		if (!n)
			break;
	}
	(void)ring_pending(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring_reader rd;
	struct check c = { 0 };
	const uint8_t *ctl = data;
	size_t max, len;
	void *mem;
	int ok;

	if (size < RING_FUZZ_CTL)
		return 0;
	data += RING_FUZZ_CTL;
	size -= RING_FUZZ_CTL;
	c.lim.nsites = (uint32_t)ctl[1] | (uint32_t)ctl[2] << 8 |
		       (uint32_t)ctl[3] << 16 | (uint32_t)ctl[4] << 24;
	c.lim.nthreads = (uint32_t)ctl[5] | (uint32_t)ctl[6] << 8;
	max = ctl[7] ? ctl[7] : SIZE_MAX;
	if (ctl[0] & 1) {
		/* exactly the input's size: ASan sees any read past it */
		len = size;
		mem = malloc(len ? len : 1);
		if (!mem)
			abort();
		memcpy(mem, data, len);
		ok = ring_reader_open_untrusted(&rd, mem, len) == 0;
	} else {
		unsigned order = 1 + (ctl[0] >> 1) % 12;

		mem = own_ring(order, data, size, &len);
		ok = ring_reader_open(&rd, mem, len, order) == 0;
		if (!ok)
			abort();
	}
	if (ok)
		drain_all(&rd, &c, max);
	free(mem);
	return 0;
}

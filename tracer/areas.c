/* areas: what iprofmem maps into a process and leaves there at a detach.
 *
 * An attach maps areas of code into the program: the int3 engine's
 * out-of-line slots, the probe engine's stubs (and its control block).
 * At the detach they stay mapped: a signal frame may return into one, a
 * pointer to a watch stub may have been kept by the program.  Each area
 * says what it is (struct area_tag, at a place its kind fixes), so that a
 * later attach finds them and uses again those no frame can return into,
 * rather than mapping more: attach after attach, the program keeps what
 * one attach left, and a non-PIE executable keeps room for its areas
 * within rel32 reach.  Only pages that are resident are read: ours are,
 * and the program's own that are not stay so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

#define AREA_MAGIC	"iprofmem area"

_Static_assert(sizeof(struct area_tag) == AREA_TAG_BYTES,
	       "an area's tag is as long as the room kept for it");
_Static_assert(AREA_TAG_BYTES % ARCH_SLOT_SIZE == 0,
	       "a slot area's tag fills whole slots");

/* Where an area of that kind holds its tag. */
static uint64_t tag_offset(uint32_t kind)
{
	return kind == AREA_STUBS ? probes_tag_offset() : 0;
}

void area_tag_fill(void *at, uint32_t kind, uint64_t len, uint64_t module_lo,
		   uint64_t ctl)
{
	struct area_tag tag = {
		.magic = AREA_MAGIC, .code = probes_code_sum(), .len = len,
		.module_lo = module_lo, .ctl = ctl, .kind = kind,
		.state = AREA_LIVE,
	};

	memcpy(at, &tag, sizeof(tag));
}

void areas_add(struct process *p, uint64_t area, uint32_t kind)
{
	uint64_t tag = area + tag_offset(kind);

	for (size_t i = 0; i < p->ntags; i++)
		if (p->tags[i] == tag)
			return;		/* used again (areas_module_gone) */
	p->tags = xreallocarray(p->tags, p->ntags + 1, sizeof(*p->tags));
	p->tags[p->ntags++] = tag;
}

/* The rest of a maps line after its inode: no name? */
static bool unnamed(const char *rest)
{
	rest += strspn(rest, " ");
	return !*rest || *rest == '\n';
}

static const char *next_line(const char *line)
{
	line = strchr(line, '\n');
	return line ? line + 1 : NULL;
}

bool maps_anon(const char *maps, uint64_t lo, uint64_t len,
	       const char *perms)
{
	for (const char *line = maps; line && *line; line = next_line(line)) {
		unsigned long long a, b, ino;
		char pm[8];
		int name = 0;

		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu%n", &a, &b, pm,
			   &ino, &name) == 4 && a <= lo && lo + len <= b)
			return !ino && !strcmp(pm, perms) &&
			       unnamed(line + name);
	}
	return false;
}

/* A tag of this build at `at` (an area of either kind), or false. */
static bool read_tag(struct process *p, uint64_t at, uint64_t room,
		     struct area_tag *tag)
{
	for (uint32_t kind = AREA_STUBS; kind <= AREA_SLOTS; kind++) {
		uint64_t off = tag_offset(kind);

		if (off + sizeof(*tag) > room ||
		    process_read_resident(p, at + off, tag, sizeof(*tag)) ||
		    memcmp(tag->magic, AREA_MAGIC, sizeof(AREA_MAGIC)) ||
		    tag->code != probes_code_sum() || tag->kind != kind)
			continue;
		return tag->len > off + sizeof(*tag) && tag->len % 4096 == 0 &&
		       tag->len <= room;
	}
	return false;
}

void areas_look(struct process *p)
{
	char *maps;

	if (p->areas_looked)
		return;
	p->areas_looked = true;
	maps = xmalloc(MAPS_MAX);
	if (!read_proc_file(p->pid, "maps", maps, MAPS_MAX)) {
		free(maps);
		return;
	}
	for (const char *line = maps; line && *line; line = next_line(line)) {
		unsigned long long lo, hi, ino;
		char pm[8];
		int name = 0;
		struct area_tag tag;

		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu%n", &lo, &hi, pm,
			   &ino, &name) != 4 || ino || strcmp(pm, "r-xp") ||
		    !unnamed(line + name))
			continue;
		/* areas next to each other are one mapping */
		for (uint64_t at = lo; at < hi && read_tag(p, at, hi - at, &tag);
		     at += tag.len) {
			p->retired = xreallocarray(p->retired, p->nretired + 1,
						   sizeof(*p->retired));
			p->retired[p->nretired++] = (struct retired_area){
				.at = at, .len = tag.len,
				.module_lo = tag.module_lo, .ctl = tag.ctl,
				.kind = tag.kind, .state = tag.state,
			};
		}
	}
	free(maps);
}

/* Can a module at [lo, hi) reach all of the area, and the area all of
 * it, with rel32 displacements (as process_map_near places a new one)? */
static bool area_in_reach(const struct retired_area *r, uint64_t lo,
			  uint64_t hi)
{
	uint64_t from = r->at < lo ? r->at : lo;
	uint64_t to = r->at + r->len > hi ? r->at + r->len : hi;

	return to - from <= AREA_REACH;
}

struct retired_area *areas_reuse(struct process *p, uint32_t kind,
				 uint64_t module_lo, uint64_t module_hi,
				 size_t len)
{
	struct retired_area *best = NULL;
	bool best_own = false;

	for (size_t i = 0; i < p->nretired; i++) {
		struct retired_area *r = &p->retired[i];
		bool own = r->module_lo == module_lo;

		if (r->kind != kind || r->state != AREA_CLEAN || r->taken ||
		    r->len < len)
			continue;
		/* the module's own first (the same library loaded again at
		 * its place, a re-attach), else one that another module left
		 * within reach (a library loaded again elsewhere) */
		if (!own && !area_in_reach(r, module_lo, module_hi))
			continue;
		if (!best || (own && !best_own) ||
		    (own == best_own && r->len < best->len)) {
			best = r;
			best_own = own;
		}
	}
	if (best)
		best->taken = true;
	return best;
}

void areas_module_gone(struct process *p, uint64_t module_lo)
{
	const uint32_t state = p->frames_in_areas ? AREA_KEPT : AREA_CLEAN;

	areas_look(p);
	for (size_t i = 0; i < p->ntags; i++) {
		struct area_tag tag;
		struct retired_area *r = NULL;
		uint64_t at;

		if (process_read_resident(p, p->tags[i], &tag, sizeof(tag)) ||
		    memcmp(tag.magic, AREA_MAGIC, sizeof(AREA_MAGIC)) ||
		    tag.module_lo != module_lo)
			continue;
		at = p->tags[i] - tag_offset(tag.kind);
		/* the process's own: its system call stub, the watch stubs
		 * that offset-table entries point at */
		if ((p->stub >= at && p->stub < at + tag.len) ||
		    (p->probes.nareas && p->probes.areas[0].lo == at))
			continue;
		for (size_t k = 0; k < p->nretired && !r; k++)
			if (p->retired[k].at == at)
				r = &p->retired[k];
		if (!r) {
			p->retired = xreallocarray(p->retired, p->nretired + 1,
						   sizeof(*p->retired));
			r = &p->retired[p->nretired++];
		}
		*r = (struct retired_area){
			.at = at, .len = tag.len, .module_lo = tag.module_lo,
			.ctl = tag.ctl, .kind = tag.kind, .state = state,
		};
	}
}

void areas_retire(const struct process *p, int fd, bool clean)
{
	const uint32_t state = clean && !p->frames_in_areas ?
			       AREA_CLEAN : AREA_KEPT;

	for (size_t i = 0; i < p->ntags; i++)
		mem_write(fd, p->tags[i] + offsetof(struct area_tag, state),
			  &state, sizeof(state));
}

/* Is pc inside one of the areas: an int3 slot or probe code? */
bool areas_hold(const struct process *p, uint64_t pc)
{
	uint64_t exit;

	for (size_t i = 0; i < p->nslot_areas; i++)
		if (pc >= p->slot_areas[i].lo && pc < p->slot_areas[i].hi)
			return true;
	return p->probes.on && probes_inside(p, pc, &exit);
}

void areas_signal_at(struct process *p, uint64_t pc)
{
	if (p && areas_hold(p, pc))
		p->frames_in_areas = true;
}

void areas_copy(struct process *child, const struct process *parent)
{
	child->tags = xcalloc(parent->ntags ? parent->ntags : 1,
			      sizeof(*child->tags));
	if (parent->ntags)
		memcpy(child->tags, parent->tags,
		       parent->ntags * sizeof(*child->tags));
	child->ntags = parent->ntags;
	/* the child's stacks are copies of its parent's frames */
	child->frames_in_areas = parent->frames_in_areas;
	child->areas_looked = true;
}

void areas_forget(struct process *p)
{
	free(p->tags);
	free(p->retired);
	p->tags = NULL;
	p->retired = NULL;
	p->ntags = p->nretired = 0;
	p->areas_looked = false;
	p->frames_in_areas = false;
}

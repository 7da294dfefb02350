/* linefiles: a line table header's file names (see linefiles.h).  The
 * rules are libdw's (elfutils' read_srclines, 0.188): a name that starts
 * with '/' is kept as it is, any other is "dir/name"; before version 5
 * the directories are comp_dir then the header's, the files count from 1
 * and index 0 is "???"; in version 5 both tables are explicit and the
 * files count from 0. */
#include <dwarf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/linefiles.h"

/* A read position in [p, end); once a read fails, every later one does. */
struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_n(struct cursor *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)	/* little-endian: x86-64's DWARF */
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static uint64_t get_uleb(struct cursor *c)
{
	uint64_t v = 0;

	for (unsigned shift = 0; !c->bad; shift += 7) {
		uint8_t b;

		if (c->p >= c->end || shift > 63) {
			c->bad = true;
			break;
		}
		b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	return 0;
}

/* A NUL-terminated string at c, or NULL. */
static const char *get_cstr(struct cursor *c)
{
	const uint8_t *nul;

	if (c->bad || !(nul = memchr(c->p, 0, (size_t)(c->end - c->p)))) {
		c->bad = true;
		return NULL;
	}
	const char *s = (const char *)c->p;

	c->p = nul + 1;
	return s;
}

/* The string at offset off of a string section, or NULL. */
static const char *section_str(const uint8_t *sec, size_t len, uint64_t off)
{
	if (!sec || off >= len || !memchr(sec + off, 0, len - (size_t)off))
		return NULL;
	return (const char *)sec + off;
}

/* One entry format of a version 5 table: what it holds, in which form. */
struct lnct {
	uint64_t what, form;
};

#define MAX_FORMATS	16

/* Read one value of form at c: a string (*str) or a number (*num), or
 * skip it.  False for a form this reader does not take. */
static bool get_form(struct cursor *c, const struct line_sections *s,
		     unsigned offset_size, uint64_t form, const char **str,
		     uint64_t *num)
{
	*str = NULL;
	*num = 0;
	switch (form) {
	case DW_FORM_string:
		*str = get_cstr(c);
		break;
	case DW_FORM_line_strp:
		*str = section_str(s->line_str, s->line_str_len,
				   get_n(c, offset_size));
		break;
	case DW_FORM_strp:
		*str = section_str(s->str, s->str_len, get_n(c, offset_size));
		break;
	case DW_FORM_data1:
		*num = get_n(c, 1);
		break;
	case DW_FORM_data2:
		*num = get_n(c, 2);
		break;
	case DW_FORM_data4:
		*num = get_n(c, 4);
		break;
	case DW_FORM_data8:
		*num = get_n(c, 8);
		break;
	case DW_FORM_udata:
		*num = get_uleb(c);
		break;
	case DW_FORM_data16:
		get_n(c, 8);
		get_n(c, 8);
		break;
	case DW_FORM_block: {
		uint64_t n = get_uleb(c);

		if (c->bad || n > (uint64_t)(c->end - c->p))
			c->bad = true;
		else
			c->p += n;
		break;
	}
	default:
		/* strx (needs the unit's str_offsets_base), or anything
		 * else: libdw's business */
		return false;
	}
	return !c->bad;
}

static bool get_formats(struct cursor *c, struct lnct *f, unsigned *n)
{
	*n = (unsigned)get_n(c, 1);
	if (*n > MAX_FORMATS)
		return false;
	for (unsigned i = 0; i < *n; i++) {
		f[i].what = get_uleb(c);
		f[i].form = get_uleb(c);
	}
	return !c->bad;
}

/* One version 5 entry: its path and, for a file (dir not NULL), its
 * directory's index, both required. */
static bool get_entry(struct cursor *c, const struct line_sections *s,
		      unsigned offset_size, const struct lnct *f, unsigned nf,
		      const char **path, uint64_t *dir)
{
	bool has_dir = false;

	*path = NULL;
	if (dir)
		*dir = 0;
	for (unsigned i = 0; i < nf; i++) {
		const char *str;
		uint64_t num;

		if (!get_form(c, s, offset_size, f[i].form, &str, &num))
			return false;
		if (f[i].what == DW_LNCT_path) {
			if (!str)
				return false;
			*path = str;
		} else if (f[i].what == DW_LNCT_directory_index && dir) {
			if (str)
				return false;
			*dir = num;
			has_dir = true;
		}
	}
	return *path && (!dir || has_dir);
}

/* "dir/name", or name as it is when absolute or without a directory. */
static char *join_name(const char *dir, const char *name)
{
	size_t ld, ln = strlen(name);
	char *out;

	if (name[0] == '/' || !dir) {
		out = malloc(ln + 1);
		if (out)
			memcpy(out, name, ln + 1);
		return out;
	}
	ld = strlen(dir);
	out = malloc(ld + 1 + ln + 1);
	if (out) {
		memcpy(out, dir, ld);
		out[ld] = '/';
		memcpy(out + ld + 1, name, ln + 1);
	}
	return out;
}

/* Append a name to the growing list; false when out of memory. */
static bool push(char ***names, long *n, long *cap, char *name)
{
	if (!name)
		return false;
	if (*n == *cap) {
		long c = *cap ? 2 * *cap : 16;
		char **more = realloc(*names, (size_t)c * sizeof(*more));

		if (!more) {
			free(name);
			return false;
		}
		*names = more;
		*cap = c;
	}
	(*names)[(*n)++] = name;
	return true;
}

void line_files_free(char **names, long n)
{
	for (long i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Versions 2 to 4: directories and files as NUL-terminated lists. */
static bool read_v4(struct cursor *c, const char *comp_dir, char ***names,
		    long *n, long *cap)
{
	const char **dirs = NULL;
	size_t ndirs = 1, capdirs = 0;
	bool ok = false;
	const char *d;

	/* directory 0: the unit's own (comp_dir) */
	while ((d = get_cstr(c)) && *d) {
		if (ndirs >= capdirs) {
			size_t k = capdirs ? 2 * capdirs : 16;
			const char **more = realloc(dirs, k * sizeof(*more));

			if (!more)
				goto out;
			dirs = more;
			capdirs = k;
		}
		dirs[ndirs++] = d;
	}
	if (!d || !push(names, n, cap, join_name(NULL, "???")))
		goto out;
	for (;;) {
		const char *name = get_cstr(c);
		uint64_t dir;

		if (!name)
			goto out;
		if (!*name)
			break;
		dir = get_uleb(c);
		get_uleb(c);	/* mtime */
		get_uleb(c);	/* length */
		if (c->bad || dir >= ndirs)
			goto out;
		if (!push(names, n, cap,
			  join_name(dir ? dirs[dir] : comp_dir, name)))
			goto out;
	}
	ok = true;
out:
	free(dirs);
	return ok;
}

/* Version 5: directory and file tables described by entry formats. */
static bool read_v5(struct cursor *c, const struct line_sections *s,
		    unsigned offset_size, char ***names, long *n, long *cap)
{
	struct lnct f[MAX_FORMATS];
	const char **dirs = NULL;
	uint64_t ndirs, nfiles;
	unsigned nf;
	bool ok = false;

	if (!get_formats(c, f, &nf))
		return false;
	ndirs = get_uleb(c);
	/* at least a byte an entry: no huge count from a few bytes */
	if (c->bad || (nf == 0 && ndirs) ||
	    ndirs > (uint64_t)(c->end - c->p))
		return false;
	dirs = calloc(ndirs ? ndirs : 1, sizeof(*dirs));
	if (!dirs)
		return false;
	for (uint64_t i = 0; i < ndirs; i++)
		if (!get_entry(c, s, offset_size, f, nf, &dirs[i], NULL))
			goto out;
	if (!get_formats(c, f, &nf))
		goto out;
	nfiles = get_uleb(c);
	if (c->bad || (nf == 0 && nfiles) ||
	    nfiles > (uint64_t)(c->end - c->p))
		goto out;
	for (uint64_t i = 0; i < nfiles; i++) {
		const char *path;
		uint64_t dir;

		if (!get_entry(c, s, offset_size, f, nf, &path, &dir) ||
		    dir >= ndirs ||
		    !push(names, n, cap, join_name(dirs[dir], path)))
			goto out;
	}
	ok = true;
out:
	free(dirs);
	return ok;
}

long line_files(const struct line_sections *s, uint64_t off,
		unsigned address_size, const char *comp_dir, char ***names)
{
	struct cursor c = { NULL, NULL, false }, h;
	unsigned offset_size = 4, version, opcode_base;
	uint64_t unit_length, header_length;
	char **list = NULL;
	long n = 0, cap = 0;
	bool ok;

	*names = NULL;
	if (!s->line || off >= s->line_len)
		return -1;
	c.p = s->line + off;
	c.end = s->line + s->line_len;
	unit_length = get_n(&c, 4);
	if (unit_length == 0xffffffff) {
		offset_size = 8;
		unit_length = get_n(&c, 8);
	} else if (unit_length >= 0xfffffff0) {
		return -1;
	}
	if (c.bad || unit_length > (uint64_t)(c.end - c.p))
		return -1;
	c.end = c.p + unit_length;
	version = (unsigned)get_n(&c, 2);
	if (c.bad || version < 2 || version > 5)
		return -1;
	if (version >= 5 &&
	    (get_n(&c, 1) != address_size || get_n(&c, 1) != 0))
		return -1;
	header_length = get_n(&c, offset_size);
	if (c.bad || header_length > (uint64_t)(c.end - c.p))
		return -1;
	/* the tables end where the header does */
	h = (struct cursor){ c.p, c.p + header_length, false };
	get_n(&h, 1);			/* minimum_instruction_length */
	if (version >= 4 && get_n(&h, 1) == 0)	/* maximum_operations */
		return -1;
	get_n(&h, 3);	/* default_is_stmt, line_base, line_range */
	opcode_base = (unsigned)get_n(&h, 1);
	if (h.bad || opcode_base == 0 ||
	    (size_t)(h.end - h.p) < opcode_base - 1)
		return -1;
	h.p += opcode_base - 1;	/* standard_opcode_lengths */
	ok = version < 5 ? read_v4(&h, comp_dir, &list, &n, &cap) :
			   read_v5(&h, s, offset_size, &list, &n, &cap);
	if (!ok) {
		line_files_free(list, n);
		return -1;
	}
	*names = list;
	return n;
}

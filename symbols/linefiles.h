/* linefiles: the file names of a DWARF line table's header (.debug_line,
 * versions 2 to 5), as libdw's dwarf_decl_file gives them, without
 * decoding the line program.
 *
 * elfutils 0.188's dwarf_decl_file decodes the whole line program of the
 * unit to name one file: on python3.11d, 27 MB of line records that
 * nothing reads, and a third of the symbols' time.  This reader takes the
 * header only.  It reads what gcc and clang write; anything else (a form
 * it does not know, an index out of range, a truncated header) returns
 * -1, and the caller asks libdw, so that a name is never one libdw would
 * not have given.
 *
 * Pure: no libdw, no I/O; the sections are the caller's. */
#ifndef IPROFMEM_LINEFILES_H
#define IPROFMEM_LINEFILES_H

#include <stddef.h>
#include <stdint.h>

/* The sections a line table header refers to; a missing one has len 0. */
struct line_sections {
	const uint8_t *line;		/* .debug_line */
	size_t line_len;
	const uint8_t *line_str;	/* .debug_line_str (DW_FORM_line_strp) */
	size_t line_str_len;
	const uint8_t *str;		/* .debug_str (DW_FORM_strp) */
	size_t str_len;
};

/* The file names of the line table at offset off of s->line, indexed as
 * DW_AT_decl_file indexes them: "???" at 0 before version 5 (its files
 * count from 1), a relative name joined to its directory ("dir/name"; in
 * versions before 5, directory 0 is comp_dir, and a name of it stays
 * relative when comp_dir is NULL).  address_size: the unit's (a version
 * 5 header states its own, which must agree).  *names gets a malloc'd
 * array of malloc'd strings (line_files_free).  Returns how many, or -1
 * (nothing allocated) when the header is not one this reader takes. */
long line_files(const struct line_sections *s, uint64_t off,
		unsigned address_size, const char *comp_dir, char ***names);

void line_files_free(char **names, long n);

#endif

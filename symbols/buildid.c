/* buildid: the GNU build ID of an ELF file, for the pprof mapping (a
 * reader matches it against its own copy of the program, debuginfod). */
#include "symbols/symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The ID in the notes of section scn, as hex in out; true when found. */
static bool note_build_id(Elf_Scn *scn, char *out, size_t len)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Nhdr nh;
	size_t off = 0, next, name, desc;

	while (d && (next = gelf_getnote(d, off, &nh, &name, &desc)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp((char *)d->d_buf + name, "GNU", 4) == 0 &&
		    nh.n_descsz && 2 * nh.n_descsz < len) {
			const unsigned char *id =
				(const unsigned char *)d->d_buf + desc;

			for (size_t i = 0; i < nh.n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", id[i]);
			return true;
		}
		off = next;
	}
	return false;
}

int symbols_build_id(const char *path, char *out, size_t len)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	if (len)
		*out = '\0';
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE)
			found = note_build_id(scn, out, len);
	elf_end(elf);
	close(fd);
	return found ? 0 : -1;
}

/* Does section scn hold a GNU note of type `type`? */
static bool has_gnu_note(Elf_Scn *scn, unsigned type)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Nhdr nh;
	size_t off = 0, next, name, desc;

	while (d && (next = gelf_getnote(d, off, &nh, &name, &desc)) > 0) {
		if (nh.n_type == type && nh.n_namesz == 4 &&
		    memcmp((char *)d->d_buf + name, "GNU", 4) == 0)
			return true;
		off = next;
	}
	return false;
}

bool symbols_glibc_abi(const char *path)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE)
			found = has_gnu_note(scn, NT_GNU_ABI_TAG);
	elf_end(elf);
	close(fd);
	return found;
}

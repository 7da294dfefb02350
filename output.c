#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"

/* A file with no write permission is refused even though it could be
 * replaced (the temporary file is renamed over it, which needs only the
 * directory): whoever made it read-only meant it to stay.  Root passes
 * access(), hence the mode bits. */
static bool read_only(const char *file, const struct stat *st)
{
	return S_ISREG(st->st_mode) &&
	       (access(file, W_OK) != 0 || !(st->st_mode & 0222));
}

/* The one sure test that the temporary file can be made: make one.  (The
 * directory's mode says nothing on /proc, /sys or a read-only mount.) */
static bool can_create_beside(const char *file)
{
	char *tmp;
	int fd, err;

	if (asprintf(&tmp, "%s.XXXXXX", file) < 0)
		return false;
	fd = mkstemp(tmp);
	err = errno;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	errno = err;
	return fd >= 0;
}

/* Where the bytes for a file named FILE go.  A symbolic link is followed
 * link by link (readlink, not realpath, so that a dangling link still
 * names a file), and the file it finally leads to is what gets replaced:
 * the link stays a link.  A dangling link creates the file it names (its
 * text read from the link's own directory), as a shell's `>` does.
 *
 * A link that lives in /proc (/proc/self/fd/1, which /dev/stdout leads to)
 * is a magic link: it stands for an open file, not a path, and its text
 * may be "pipe:[123]" or "/x/out (deleted)".  Renaming over the path it
 * shows would not reach the open file anyway (whoever holds it, the
 * shell's `> out.txt` for one, keeps the old inode), so such a file is
 * written in place through FILE itself, and appended to: `-o /dev/stdout`
 * then does what writing on standard output does, after the program's own
 * output instead of over it. */
enum output_how {
	OUT_REPLACE,	/* temporary file beside `path`, renamed over it */
	OUT_IN_PLACE,	/* a FIFO, a terminal, a device: opened and written */
	OUT_APPEND,	/* through a /proc magic link: opened for append */
};

struct output_target {
	enum output_how how;
	char *path;	/* the file at the end of the links */
	bool exists;	/* it exists (else it is created) */
	struct stat st;	/* its stat, when it exists */
};

#define MAX_LINKS 40	/* the kernel's own limit (MAXSYMLINKS) */

static char *dir_of(const char *path)
{
	char *copy = xstrdup(path), *dir = xstrdup(dirname(copy));

	free(copy);
	return dir;
}

/* The link at `path`, opened as itself: its text in *text (NULL when
 * `path` is not a link), and whether it lives in /proc.  Returns 0, or -1
 * with errno (ENOENT: nothing at `path`). */
static int read_link(const char *path, char **text, bool *in_proc)
{
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	struct statfs sfs;
	ssize_t n;
	int err;

	*text = NULL;
	*in_proc = false;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISLNK(st.st_mode)) {
		close(fd);
		return 0;
	}
	*in_proc = fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	/* st_size is 0 for magic links: PATH_MAX covers every link text */
	*text = xmalloc(PATH_MAX);
	n = readlinkat(fd, "", *text, PATH_MAX - 1);
	if (n < 0)
		goto fail;
	if (n == PATH_MAX - 1) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	(*text)[n] = '\0';
	close(fd);
	return 0;
fail:
	err = errno;
	close(fd);
	free(*text);
	*text = NULL;
	errno = err;
	return -1;
}

/* Follows `file` to the file it stands for.  Returns 0 and fills *t (free
 * t->path), or -1 with errno (ELOOP). */
static int output_resolve(const char *file, struct output_target *t)
{
	char *path = xstrdup(file), *text, *dir;
	bool in_proc = false;
	int links = 0;

	for (;;) {
		if (read_link(path, &text, &in_proc) != 0) {
			/* nothing there: it is created.  (Another error,
			 * EACCES or ENOTDIR on the way, is told by the
			 * checks on its directory and the creation.) */
			*t = (struct output_target){ OUT_REPLACE, path, false };
			return 0;
		}
		if (!text)
			break;
		if (in_proc) {
			free(text);
			free(path);
			*t = (struct output_target){ OUT_APPEND, xstrdup(file),
						     true };
			if (stat(file, &t->st) == 0)
				return 0;
			links = errno;
			free(t->path);
			errno = links;
			return -1;
		}
		if (++links > MAX_LINKS) {
			free(text);
			free(path);
			errno = ELOOP;
			return -1;
		}
		if (text[0] == '/' || !strchr(path, '/')) {
			free(path);
			path = text;
		} else {	/* relative to the link's own directory */
			dir = dir_of(path);
			free(path);
			if (asprintf(&path, "%s/%s", dir, text) < 0)
				out_of_memory();
			free(dir);
			free(text);
		}
	}
	*t = (struct output_target){ OUT_REPLACE, path, true };
	if (stat(path, &t->st) != 0)
		t->exists = false;
	else if (!S_ISREG(t->st.st_mode) && !S_ISDIR(t->st.st_mode))
		t->how = OUT_IN_PLACE;
	return 0;
}

/* For messages: the name the user gave, and where its links lead when
 * they lead elsewhere ("out -> /data/out"). */
static char *output_name(const char *file, const struct output_target *t)
{
	char *name;

	if (strcmp(file, t->path) == 0)
		return xstrdup(file);
	if (asprintf(&name, "%s -> %s", file, t->path) < 0)
		out_of_memory();
	return name;
}

/* The checks are made on the file at the end of the links, which is the
 * one output_write writes. */
int output_check(const char *file)
{
	struct output_target t;
	struct stat dst;
	char *dir, *name;
	int ret = -1;

	if (output_resolve(file, &t) != 0) {
		error_msg("%s: cannot write: %s; choose another file", file,
			  strerror(errno));
		return -1;
	}
	dir = dir_of(t.path);
	name = output_name(file, &t);
	if (t.exists && S_ISDIR(t.st.st_mode))
		error_msg("%s: is a directory; give a file name", name);
	else if (t.how == OUT_REPLACE &&
		 (stat(dir, &dst) != 0 || !S_ISDIR(dst.st_mode)))
		error_msg("%s: cannot write: directory %s does not exist; "
			  "create it or choose another file", name, dir);
	else if (t.exists && read_only(t.path, &t.st))
		error_msg("%s: cannot write: the file is read-only; make it "
			  "writable (chmod u+w) or choose another file", name);
	else if (t.how != OUT_REPLACE)
		ret = 0;	/* a FIFO, a device, /dev/stdout: in place */
	else if (!can_create_beside(t.path))
		error_msg("%s: cannot write in %s: %s; choose another file",
			  name, dir, strerror(errno));
	else
		ret = 0;
	free(name);
	free(dir);
	free(t.path);
	return ret;
}

/* A FIFO, a terminal, /dev/stdout...: written in place, not replaced;
 * `mode` is "we", or "ae" through a /proc magic link (see output_target). */
static int write_in_place(const char *file, const char *mode,
			  int (*fn)(FILE *, void *), void *arg)
{
	FILE *fp = fopen(file, mode);

	if (!fp || fn(fp, arg) != 0 || fflush(fp) != 0) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

/* mkstemp makes 0600.  A file that is replaced keeps its mode, and its
 * owner and group where iprofmem may give them (root; a group of the
 * user's), as with `sed -i`: the report replaces the file's bytes, not who
 * may read it.  A new file gets the mode a plain create would. */
static void keep_mode(int fd, const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		/* before the chmod: a chown may clear set-id bits */
		if (fchown(fd, st.st_uid, st.st_gid) != 0 &&
		    fchown(fd, (uid_t)-1, st.st_gid) != 0) {
			/* stays the user's own, as a new file would be */
		}
		fchmod(fd, st.st_mode & 07777);
		return;
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
}

/* A temporary file beside `path` (beside the link's target, for a link),
 * renamed over it when complete; `name` is what messages call it. */
static int write_replace(const char *path, const char *name,
			 int (*fn)(FILE *, void *), void *arg)
{
	char *tmp;
	FILE *fp = NULL;
	int fd, ret = -1;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		error_msg("out of memory");
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd >= 0)
		fp = fdopen(fd, "w");
	if (!fp) {
		error_msg("%s: cannot write: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	keep_mode(fd, path);
	if (fn(fp, arg) != 0 || fflush(fp) != 0) {
		error_msg("%s: cannot write: %s", name, strerror(errno));
		fclose(fp);
		goto out;
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		error_msg("%s: cannot write: %s", name, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

int output_write(const char *file, int (*fn)(FILE *fp, void *arg), void *arg)
{
	struct output_target t;
	char *name;
	int ret;

	if (output_resolve(file, &t) != 0) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		return -1;
	}
	switch (t.how) {
	case OUT_APPEND:
		ret = write_in_place(file, "ae", fn, arg);
		break;
	case OUT_IN_PLACE:
		ret = write_in_place(file, "we", fn, arg);
		break;
	default:
		name = output_name(file, &t);
		ret = write_replace(t.path, name, fn, arg);
		free(name);
		break;
	}
	free(t.path);
	return ret;
}

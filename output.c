#include "output.h"

#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int output_check(const char *file)
{
	char *copy = xstrdup(file), *dir = dirname(copy);
	struct stat st, dst;
	bool exists = stat(file, &st) == 0;
	int ret = -1;

	if (exists && S_ISDIR(st.st_mode))
		error_msg("%s: is a directory; give a file name", file);
	else if (stat(dir, &dst) != 0 || !S_ISDIR(dst.st_mode))
		error_msg("%s: cannot write: directory %s does not exist; "
			  "create it or choose another file", file, dir);
	else if (exists && read_only(file, &st))
		error_msg("%s: cannot write: the file is read-only; make it "
			  "writable (chmod u+w) or choose another file", file);
	else if (exists && !S_ISREG(st.st_mode))
		ret = 0;	/* a FIFO or a device: written in place */
	else if (!can_create_beside(file))
		error_msg("%s: cannot write in %s: %s; choose another file",
			  file, dir, strerror(errno));
	else
		ret = 0;
	free(copy);
	return ret;
}

/* A FIFO, a terminal, /dev/stdout...: written in place, not replaced. */
static int write_in_place(const char *file, int (*fn)(FILE *, void *),
			  void *arg)
{
	FILE *fp = fopen(file, "we");

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

int output_write(const char *file, int (*fn)(FILE *fp, void *arg), void *arg)
{
	struct stat st;

	char *tmp;
	FILE *fp = NULL;
	int fd, ret = -1;

	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(file, fn, arg);
	if (asprintf(&tmp, "%s.XXXXXX", file) < 0) {
		error_msg("out of memory");
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd >= 0)
		fp = fdopen(fd, "w");
	if (!fp) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	{
		/* mkstemp makes 0600: give it the mode a plain create would */
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	if (fn(fp, arg) != 0 || fflush(fp) != 0) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		fclose(fp);
		goto out;
	}
	if (fclose(fp) != 0 || rename(tmp, file) != 0) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

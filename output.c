#include "output.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int output_check(const char *file)
{
	char *copy = xstrdup(file), *dir = dirname(copy);
	struct stat st;
	int ret = 0;

	if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
		error_msg("%s: is a directory", file);
		ret = -1;
	} else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		error_msg("%s: cannot write: directory %s does not exist",
			  file, dir);
		ret = -1;
	} else if (access(dir, W_OK) != 0 ||
		   (access(file, F_OK) == 0 && access(file, W_OK) != 0)) {
		error_msg("%s: cannot write: %s", file, strerror(errno));
		ret = -1;
	}
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

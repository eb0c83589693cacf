// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Finding weft-work beside weft, in ../libexec/weft, or on PATH. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_path.h"

/* DIR/NAME if it fits and is executable: 0, -ENOENT or -ENAMETOOLONG */
static int try_dir(const char *dir, size_t dir_len, const char *name, char *buf, size_t size)
{
	int n;

	/* An empty PATH entry means the current directory to execvp; weft
	 * compare runs as root, so it never looks there. */
	if (!dir_len)
		return -ENOENT;
	n = snprintf(buf, size, "%.*s/%s", (int)dir_len, dir, name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

int helper_path__find(const char *name, const char *self_exe, const char *path_env, char *buf,
		      size_t size)
{
	char libexec[PATH_MAX];
	const char *slash, *dir, *end;
	int err, ret = -ENOENT;

	if (!size)
		return -ENAMETOOLONG;
	slash = self_exe ? strrchr(self_exe, '/') : NULL;
	if (slash) {
		err = try_dir(self_exe, slash - self_exe, name, buf, size);
		if (err != -ENOENT)
			return err;
		if (snprintf(libexec, sizeof(libexec), "%.*s/%s", (int)(slash - self_exe), self_exe,
			     HELPER_LIBEXEC_DIR) < (int)sizeof(libexec)) {
			err = try_dir(libexec, strlen(libexec), name, buf, size);
			if (err != -ENOENT)
				return err;
		}
	}
	/* A PATH entry too long for BUF cannot hold NAME: try the next one,
	 * and say -ENAMETOOLONG only if nothing else is found. */
	for (dir = path_env ? path_env : "/usr/local/bin:/usr/bin";; dir = end + 1) {
		end = strchrnul(dir, ':');
		err = try_dir(dir, end - dir, name, buf, size);
		if (!err)
			return 0;
		if (err == -ENAMETOOLONG)
			ret = err;
		if (!*end)
			break;
	}
	buf[0] = '\0';
	return ret;
}

int helper_path__find_own(const char *name, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0)
		self[n] = '\0';
	return helper_path__find(name, n > 0 ? self : NULL, getenv("PATH"), buf, size);
}

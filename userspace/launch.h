/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Starting the traced command: found on PATH before anything is loaded,
 * forked and held on a pipe until the recorder has attached every program,
 * then exec'd as the invoking user (not root) so that it runs as it would
 * without weft. */
#ifndef __WEFT_LAUNCH_H
#define __WEFT_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

struct run_as {
	bool drop; /* false: keep the recorder's own ids */
	uid_t uid;
	gid_t gid;
	char user[64];
};

/* Who the command runs as and who owns the files weft writes: -u USER
 * when given, else the user behind sudo (SUDO_UID/SUDO_GID), else the
 * caller. 0, or -EINVAL with a message in err. */
int run_as_resolve(const char *user_opt, struct run_as *ra, char *err, size_t errlen);

/* Finds argv0 as execvp would; 0 or -ENOENT/-EACCES. */
int launch_resolve_command(const char *argv0, char *path, size_t size);

struct held_child {
	pid_t pid;
	int go_fd; /* write end: closing it lets the child exec */
	int err_fd; /* read end: the child's errno if exec failed, EOF on exec */
};

/* Forks a child that waits for launch_release() before it execs. */
int launch_hold(const char *path, char *const argv[], const struct run_as *ra,
		struct held_child *child);

/* Lets the child exec; returns 0 once it has, or the negative errno of
 * its failed exec (the child has then exited with 127). */
int launch_release(struct held_child *child);

#endif /* __WEFT_LAUNCH_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"

int run_as_resolve(const char *user_opt, struct run_as *ra, char *err, size_t errlen)
{
	const char *sudo_uid = getenv("SUDO_UID"), *sudo_gid = getenv("SUDO_GID");
	struct passwd *pw;
	char *end;

	memset(ra, 0, sizeof(*ra));
	if (user_opt) {
		pw = getpwnam(user_opt);
		if (!pw) {
			errno = 0;
			ra->uid = strtoul(user_opt, &end, 10);
			if (*user_opt && !*end)
				pw = getpwuid(ra->uid);
		}
		if (!pw) {
			snprintf(err, errlen, "no such user: %s", user_opt);
			return -EINVAL;
		}
		ra->drop = true;
		ra->uid = pw->pw_uid;
		ra->gid = pw->pw_gid;
		snprintf(ra->user, sizeof(ra->user), "%s", pw->pw_name);
		return 0;
	}
	if (geteuid() == 0 && sudo_uid && sudo_gid && atoi(sudo_uid) != 0) {
		ra->drop = true;
		ra->uid = strtoul(sudo_uid, NULL, 10);
		ra->gid = strtoul(sudo_gid, NULL, 10);
		pw = getpwuid(ra->uid);
		snprintf(ra->user, sizeof(ra->user), "%s", pw ? pw->pw_name : sudo_uid);
		return 0;
	}
	ra->uid = getuid();
	ra->gid = getgid();
	return 0;
}

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int launch_resolve_command(const char *argv0, char *path, size_t size)
{
	const char *env_path = getenv("PATH"), *p, *colon;
	size_t dir_len;

	if (strchr(argv0, '/')) {
		snprintf(path, size, "%s", argv0);
		if (access(path, F_OK))
			return -ENOENT;
		return is_executable_file(path) ? 0 : -EACCES;
	}
	if (!env_path || !*env_path)
		env_path = "/usr/local/bin:/usr/bin:/bin";
	for (p = env_path; p; p = colon ? colon + 1 : NULL) {
		colon = strchr(p, ':');
		dir_len = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(path, size, "%.*s/%s", (int)(dir_len ? dir_len : 1), dir_len ? p : ".",
			 argv0);
		if (is_executable_file(path))
			return 0;
	}
	return -ENOENT;
}

static int drop_privileges(const struct run_as *ra)
{
	struct passwd *pw;

	if (!ra->drop)
		return 0;
	pw = getpwuid(ra->uid);
	if (pw ? initgroups(pw->pw_name, ra->gid) : setgroups(0, NULL))
		return -errno;
	if (setgid(ra->gid) || setuid(ra->uid))
		return -errno;
	return 0;
}

int launch_hold(const char *path, char *const argv[], const struct run_as *ra,
		struct held_child *child)
{
	int go[2], report[2], err, code;
	char c;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(report, O_CLOEXEC)) {
		err = -errno;
		goto close_go;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto close_report;
	}
	if (pid == 0) {
		close(go[1]);
		close(report[0]);
		/* The recorder's own signal dispositions must not leak into
		 * the command it traces. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* Held here until every program is attached: nothing of the
		 * command's start is missed. EOF (the recorder died or gave
		 * up) without the go byte means: do not run at all. */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		code = drop_privileges(ra);
		if (!code) {
			execv(path, argv);
			code = -errno;
		}
		code = -code;
		if (write(report[1], &code, sizeof(code)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(report[1]);
	child->pid = pid;
	child->go_fd = go[1];
	child->err_fd = report[0];
	return 0;

close_report:
	close(report[0]);
	close(report[1]);
close_go:
	close(go[0]);
	close(go[1]);
	return err;
}

int launch_release(struct held_child *child)
{
	int code = 0;
	ssize_t n;
	char go = 'g';

	if (write(child->go_fd, &go, 1) != 1) {
		code = -errno;
		goto done;
	}
	do {
		n = read(child->err_fd, &code, sizeof(code));
	} while (n < 0 && errno == EINTR);
	/* EOF: the pipe closed on exec, the command is running. */
	code = n == sizeof(code) ? -code : 0;
done:
	close(child->go_fd);
	close(child->err_fd);
	child->go_fd = child->err_fd = -1;
	return code;
}

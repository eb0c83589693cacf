// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Files weft creates and removes for the invoking user: as that user's
 * own would be, never as root's (README "Safety"). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "user_file.h"

/* The invoking user's filesystem ids, on this thread, while weft touches
 * the paths it was given: the .old rename, the create and the unlink of a
 * failed run are checked as that user's own would be, with their groups,
 * and root's permissions do not apply (a nonzero fsuid clears
 * CAP_DAC_OVERRIDE and the other file capabilities from the effective
 * set until it is 0 again). setfsuid, setfsgid and the raw setgroups
 * syscall act on the calling thread only (glibc's setgroups() would change
 * every thread); the recorder has one thread when it calls these. */
struct user_fs {
	bool active;
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t groups[NGROUPS_MAX];
};

static int user_fs__enter(struct user_fs *s, const struct run_as *ra)
{
	gid_t groups[NGROUPS_MAX];
	int n = NGROUPS_MAX;
	struct passwd *pw;

	memset(s, 0, sizeof(*s));
	if (!ra->drop)
		return 0;
	s->ngroups = getgroups(NGROUPS_MAX, s->groups);
	if (s->ngroups < 0)
		return -errno;
	pw = getpwuid(ra->uid);
	if (!pw || getgrouplist(pw->pw_name, ra->gid, groups, &n) < 0) {
		/* a uid with no passwd entry (sudo from a container user, -u
		 * 1234): its own group only */
		groups[0] = ra->gid;
		n = 1;
	}
	if (syscall(SYS_setgroups, n, groups))
		return -errno;
	s->active = true;
	s->fsgid = setfsgid(ra->gid);
	s->fsuid = setfsuid(ra->uid);
	if ((uid_t)setfsuid(ra->uid) != ra->uid || (gid_t)setfsgid(ra->gid) != ra->gid)
		return -EPERM;
	return 0;
}

static void user_fs__leave(struct user_fs *s)
{
	if (!s->active)
		return;
	setfsuid(s->fsuid);
	setfsgid(s->fsgid);
	syscall(SYS_setgroups, s->ngroups, s->groups);
	s->active = false;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* As the invoking user: an earlier regular file is kept once as .old (as
 * perf does), then the file is created new, never opened: O_EXCL and
 * O_NOFOLLOW refuse a link, device, FIFO or file planted after the check,
 * so root writes nothing it was not asked to and the file is the user's
 * from its creation. */
static int create_in_place(const char *path, const char *who)
{
	char old[PATH_MAX + 8];
	struct stat st;
	int fd;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			elog("%s is %s: weft writes a recording only to a regular file, never "
			     "through a link; give another -o",
			     path, file_kind(st.st_mode));
			return -EEXIST;
		}
		snprintf(old, sizeof(old), "%s.old", path);
		if (rename(path, old)) {
			elog("Failed to rename %s to %s%s: %s", path, old, who, strerror(errno));
			return -errno;
		}
	} else if (errno != ENOENT) {
		elog("Failed to look at %s%s: %s", path, who, strerror(errno));
		return -errno;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			elog("%s appeared while weft was creating it (another program made it "
			     "there): not written; give another -o",
			     path);
		else
			elog("Failed to create %s%s: %s", path, who, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		elog("%s is not a regular file: not written", path);
		return -EEXIST;
	}
	return fd;
}

int user_file__create(const char *path, const struct run_as *ra)
{
	struct user_fs ufs;
	char who[96] = "";
	int err, fd;

	if (ra->drop)
		snprintf(who, sizeof(who), " (as %s, who ran weft)", ra->user);
	err = user_fs__enter(&ufs, ra);
	if (err) {
		user_fs__leave(&ufs);
		elog("Failed to take the ids of %s to create %s: %s", ra->user, path,
		     strerror(-err));
		return err;
	}
	fd = create_in_place(path, who);
	user_fs__leave(&ufs);
	return fd;
}

void user_file__remove(const char *path, const struct run_as *ra)
{
	struct user_fs ufs;

	if (!user_fs__enter(&ufs, ra))
		unlink(path);
	user_fs__leave(&ufs);
}

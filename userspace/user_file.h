/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Files weft creates and removes for the invoking user, with that user's
 * filesystem ids and groups, so that root's permissions never apply. */
#ifndef __WEFT_USER_FILE_H
#define __WEFT_USER_FILE_H

#include "launch.h"

/* A new regular file at path, as ra's user: an earlier regular file is
 * kept once as path.old, anything else (a link, a FIFO, a device, a
 * directory) is refused. The fd, or -errno after one line on stderr. */
int user_file__create(const char *path, const struct run_as *ra);

/* Unlinks path as ra's user; quiet, as for a run that wrote nothing. */
void user_file__remove(const char *path, const struct run_as *ra);

#endif

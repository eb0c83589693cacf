// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Option handling the subcommands share. */
#include <argp.h>

#include "cmd.h"

void cmd_arg_recording(struct argp_state *state, const char **path, const char *arg)
{
	if (*path)
		argp_failure(state, 2, 0, "one recording at a time (got %s and %s)", *path, arg);
	*path = arg;
}

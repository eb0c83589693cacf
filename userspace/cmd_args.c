// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Option handling the subcommands share. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cmd.h"

void cmd_arg_recording(struct argp_state *state, const char **path, const char *arg)
{
	if (*path)
		argp_failure(state, 2, 0, "one recording at a time (got %s and %s)", *path, arg);
	*path = arg;
}

bool cmd_parse_number(const char *arg, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	return !errno && end != arg && !*end && isfinite(*v) && *v >= 0 && *v < 1e9;
}

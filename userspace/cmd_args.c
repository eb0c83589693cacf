// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Option handling the subcommands share. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "flame.h"

void cmd_arg_recording(struct argp_state *state, const char **path, const char *arg)
{
	if (*path)
		argp_failure(state, 2, 0, "one recording at a time (got %s and %s)", *path, arg);
	*path = arg;
}

void cmd_arg_flame_type(struct argp_state *state, const char *arg, enum flame_type *type)
{
	if (flame_type__parse(arg, type))
		argp_failure(state, 2, 0, "unknown --type '%s' (oncpu, offcpu, wakeup or lock)",
			     arg);
}

/* Whether arg is one of the '|'-separated spellings in name */
static bool spelled(const char *name, const char *arg)
{
	size_t len = strlen(arg);
	const char *end;

	for (;; name = end + 1) {
		end = strchrnul(name, '|');
		if ((size_t)(end - name) == len && !strncmp(name, arg, len))
			return true;
		if (!*end)
			return false;
	}
}

int cmd_arg_choice(struct argp_state *state, const char *option, const char *arg,
		   const char *const *names)
{
	char list[256] = "";
	size_t off = 0, n, i;

	for (n = 0; names[n]; n++)
		if (spelled(names[n], arg))
			return (int)n;
	for (i = 0; i < n && off < sizeof(list); i++)
		off += snprintf(list + off, sizeof(list) - off, "%s%.*s",
				!i	  ? "" :
				i + 1 < n ? ", " :
					    " or ",
				(int)(strchrnul(names[i], '|') - names[i]), names[i]);
	argp_failure(state, 2, 0, "unknown %s '%s' (%s)", option, arg, list);
	return -1;
}

void cmd_arg_flame_by(struct argp_state *state, const char *arg, enum flame_by *by)
{
	if (flame_by__parse(arg, by))
		argp_failure(state, 2, 0, "unknown --by '%s' (process, pid, thread or none)", arg);
}

bool cmd_parse_number(const char *arg, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	return !errno && end != arg && !*end && isfinite(*v) && *v >= 0 && *v < 1e9;
}

/* Appends para to argp's text after the options (which may be NULL). argp
 * frees what a filter returns when it is not the text it was given. */
static char *append_post_doc(int key, const char *text, const char *para)
{
	char *out;

	if (key != ARGP_KEY_HELP_POST_DOC)
		return (char *)text;
	if (asprintf(&out, "%s%s%s", text ? text : "", text ? "\n\n" : "", para) < 0)
		return (char *)text;
	return out;
}

char *cmd_help_exit_record(int key, const char *text, void *input)
{
	(void)input;
	return append_post_doc(
		key, text,
		"Exit status: the command's own status when it ended by itself or by Ctrl-C; 0 "
		"when --duration or a SIGTERM sent to weft ended it, and with -p; 1 when recording "
		"failed; 2 for a usage error; 127 when the command cannot be found.");
}

char *cmd_help_exit_reader(int key, const char *text, void *input)
{
	(void)input;
	return append_post_doc(
		key, text,
		"Exit status: 0 on success; 1 when a recording cannot be read, a run "
		"fails or the output cannot be written; 2 for a usage error.");
}

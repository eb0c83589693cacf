/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The subcommands: each parses its own options (argv[0] is "weft NAME")
 * and returns the process's exit status. */
#ifndef __WEFT_CMD_H
#define __WEFT_CMD_H

/* A macro's value as a string, for help texts that state a default */
#define STR_(x) #x
#define STR(x) STR_(x)

#include <stdbool.h>

#include "flame.h"

/* Exit codes of every command (DESIGN.md "Commands"). A command weft
 * records exits with its own status instead, when it ended by itself or
 * by the user's Ctrl-C. */
#define WEFT_EXIT_OK 0
#define WEFT_EXIT_ERROR 1 /* runtime error: unreadable file, failed write, ... */
#define WEFT_EXIT_USAGE 2 /* bad option or argument */
#define WEFT_EXIT_DEADLOCK 3 /* weft stuck found a deadlock */

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_flame(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_pprof(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_critical(int argc, char **argv);
int cmd_stuck(int argc, char **argv);

struct argp_state;

/* The FILE argument of the commands that read one recording: a second one
 * exits 2 with one line. */
void cmd_arg_recording(struct argp_state *state, const char **path, const char *arg);
/* --type and --by of the commands that read stacks (flame, pprof, diff):
 * one line naming the values and exit 2 for one they do not know */
void cmd_arg_flame_type(struct argp_state *state, const char *arg, enum flame_type *type);
void cmd_arg_flame_by(struct argp_state *state, const char *arg, enum flame_by *by);
/* The index of arg among names (NULL-terminated; "markdown|md" is one
 * choice with two spellings); for anything else one line naming the
 * choices, "unknown --format 'x' (text, json or folded)", and exit 2 */
int cmd_arg_choice(struct argp_state *state, const char *option, const char *arg,
		   const char *const *names);
/* A number >= 0 and below 1e9, whole or not (a time); false for anything
 * else, the caller says what it wanted */
bool cmd_parse_number(const char *arg, double *v);

/* argp help filters that add the "Exit status:" paragraph to --help:
 * one for weft record, one for the commands that read recordings. */
char *cmd_help_exit_record(int key, const char *text, void *input);
char *cmd_help_exit_reader(int key, const char *text, void *input);

#endif /* __WEFT_CMD_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The subcommands: each parses its own options (argv[0] is "weft NAME")
 * and returns the process's exit status. */
#ifndef __WEFT_CMD_H
#define __WEFT_CMD_H

#include <stdbool.h>

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_flame(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_pprof(int argc, char **argv);
int cmd_diff(int argc, char **argv);

struct argp_state;

/* The FILE argument of the commands that read one recording: a second one
 * exits 2 with one line. */
void cmd_arg_recording(struct argp_state *state, const char **path, const char *arg);
/* A number >= 0 and below 1e9, whole or not (a time); false for anything
 * else, the caller says what it wanted */
bool cmd_parse_number(const char *arg, double *v);

#endif /* __WEFT_CMD_H */

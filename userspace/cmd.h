/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The subcommands: each parses its own options (argv[0] is "weft NAME")
 * and returns the process's exit status. */
#ifndef __WEFT_CMD_H
#define __WEFT_CMD_H

int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_flame(int argc, char **argv);
int cmd_timeline(int argc, char **argv);

#endif /* __WEFT_CMD_H */

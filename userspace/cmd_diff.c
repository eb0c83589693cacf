// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cmd.h"
int cmd_diff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 2;
}

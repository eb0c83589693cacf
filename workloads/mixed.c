// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "work.h"

__attribute__((noinline)) int mixed_unit(const struct work_opts *opts, long unit,
					 const struct work_hooks *hooks, uint64_t *value)
{
	uint64_t io_value;
	int err;

	err = io_unit(opts, unit, hooks, &io_value);
	if (err)
		return err;
	*value = mixed_combine(io_value, cpu_unit(opts, unit, hooks));
	return 0;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "work.h"

int sync_run(const struct work_opts *opts, struct work_result *res)
{
	uint64_t sum = 0, hash;
	int err;

	res->workers = 1;
	for (long unit = 0; unit < opts->units; unit++) {
		err = work_unit(opts, unit, NULL, &hash);
		if (err)
			return work_fail(res, err, "unit %ld failed: %s", unit, strerror(-err));
		sum += hash;
	}
	res->checksum = sum;
	return 0;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The per-CPU totals so far, every 100 ms (WEFT_EV_CPU_TICK), so that a
 * reader can draw each CPU's traced, other and idle time over the run
 * (the HTML page's strip) and not only its totals at the end.
 *
 * The switch program adds a CPU's time to its kind at each switch, so a
 * CPU that has not switched since is behind by the open stretch: that
 * stretch is added to the kind the CPU is running (last_kind), so a CPU
 * idle for a whole second reads idle in every tick of it. The figures are
 * from the recording's start, like the end's WEFT_EV_CPU_TOTALS. One map
 * read (per-CPU array) and ncpu small records every 100 ms. */
#include "record_int.h"

void write_cpu_ticks(struct recorder *r, __u64 now)
{
	const struct weft_cpu_stat *st = r->stats_now;
	struct weft_ev_cpu_totals ev;
	__u64 open;
	int i;

	if (read_cpu_stats(r, r->stats_now))
		return;
	for (i = 0; i < r->ncpu; i++) {
		fill_cpu_totals(r, &ev, WEFT_EV_CPU_TICK, now, i);
		open = st[i].last_ts_ns && now > st[i].last_ts_ns ? now - st[i].last_ts_ns : 0;
		if (st[i].last_kind == WEFT_CPU_KIND_IDLE)
			ev.idle_ns += open;
		else if (st[i].last_kind == WEFT_CPU_KIND_TRACED)
			ev.traced_ns += open;
		else if (st[i].last_kind == WEFT_CPU_KIND_OTHER)
			ev.other_ns += open;
		add_own_event(r, &ev, sizeof(ev));
	}
}

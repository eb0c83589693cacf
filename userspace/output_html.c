// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The HTML pages (output_html.h): the series collected over the pass, and
 * the report and compare pages written from them and the metrics. Every
 * string from the recording (commands, comms, frames, lock names) goes
 * through html_text(). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "critical.h"
#include "downsample.h"
#include "flame_svg.h"
#include "html_charts.h"
#include "json.h"
#include "output_html.h"
#include "stack_summary.h"
#include "u64set.h"
#include "waitfor.h"
#include "waits.h"

/* Bins: 1 us to start with, merged as the recording runs past them (a
 * slice adds to at most MAX_BINS of them) */
#define FIRST_BIN_NS 1000ULL
#define MAX_BINS 2048
#define CPU_FIRST_BIN_NS 10000000ULL
#define UNTRACKED 0xffffffffU
/* Rows of the thread and process tables (the busiest; JSON has them all) */
#define TABLE_ROWS 500

/* ---- the series ---- */

struct cpu_mark {
	bool seen;
	__u64 ts, idle, traced, other;
};

struct html_series {
	bool lanes;
	__u64 start_ns;
	struct downsample *tree; /* LANE_STATES channels: summed over threads */
	struct downsample *threads; /* LANE_STATES channels per tracked thread */
	struct u64_set lane_of; /* tid + 1 -> lane, or UNTRACKED */
	__u32 lane_tid[HTML_LANES_TRACKED];
	unsigned int nr_lanes;
	struct downsample *cpus; /* traced, other, idle per CPU */
	struct cpu_mark *marks;
	unsigned int nr_marks;
	bool ticks;
	bool any;
	__u64 t0, t1; /* first slice start, last slice end */
	int err;
};

struct html_series *html_series__new(__u64 start_ns, bool lanes)
{
	struct html_series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->lanes = lanes;
	s->start_ns = start_ns;
	return s;
}

void html_series__free(struct html_series *s)
{
	if (!s)
		return;
	downsample__free(s->tree);
	downsample__free(s->threads);
	downsample__free(s->cpus);
	u64_set__release(&s->lane_of);
	free(s->marks);
	free(s);
}

/* The bins start at the recording's start, or at the first event when
 * the recording does not say when it started */
static int make_bins(struct html_series *s, __u64 first_ns)
{
	__u64 base = s->start_ns && s->start_ns <= first_ns ? s->start_ns : first_ns;
	int i;

	if (s->tree)
		return 0;
	s->tree = downsample__new(base, FIRST_BIN_NS, MAX_BINS);
	if (!s->tree)
		return -ENOMEM;
	for (i = 0; i < LANE_STATES; i++)
		if (downsample__channel(s->tree) < 0)
			return -ENOMEM;
	if (!s->lanes)
		return 0;
	s->threads = downsample__new(base, FIRST_BIN_NS, MAX_BINS);
	s->cpus = downsample__new(base, CPU_FIRST_BIN_NS, MAX_BINS);
	return s->threads && s->cpus ? 0 : -ENOMEM;
}

/* A recorder's per-CPU totals so far (WEFT_EV_CPU_TICK every 100 ms, and
 * the end's WEFT_EV_CPU_TOTALS): the part since the CPU's last mark goes
 * to its channels, spread evenly over that stretch. */
static int on_cpu_totals(struct html_series *s, const struct weft_ev_cpu_totals *e)
{
	unsigned int cpu = e->hdr.cpu, i;
	struct cpu_mark *m;
	__u64 from;
	double span;

	if (!s->lanes || cpu >= 4096)
		return 0;
	if (cpu >= s->nr_marks) {
		struct cpu_mark *grown = realloc(s->marks, (cpu + 1) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + s->nr_marks, 0, (cpu + 1 - s->nr_marks) * sizeof(*grown));
		s->marks = grown;
		s->nr_marks = cpu + 1;
	}
	while (downsample__channels(s->cpus) < 3 * s->nr_marks)
		if (downsample__channel(s->cpus) < 0)
			return -ENOMEM;
	m = &s->marks[cpu];
	from = m->seen ? m->ts : s->start_ns ? s->start_ns : downsample__base(s->cpus);
	if (e->hdr.ts_ns > from && e->idle_ns >= m->idle && e->traced_ns >= m->traced &&
	    e->other_ns >= m->other) {
		span = (double)(e->hdr.ts_ns - from);
		i = 3 * cpu;
		downsample__add(s->cpus, i, from, e->hdr.ts_ns, (e->traced_ns - m->traced) / span);
		downsample__add(s->cpus, i + 1, from, e->hdr.ts_ns,
				(e->other_ns - m->other) / span);
		downsample__add(s->cpus, i + 2, from, e->hdr.ts_ns, (e->idle_ns - m->idle) / span);
	}
	*m = (struct cpu_mark){ true, e->hdr.ts_ns, e->idle_ns, e->traced_ns, e->other_ns };
	return 0;
}

int html_series__feed(void *ctx, const struct weft_event_header *ev)
{
	struct html_series *s = ctx;

	if (s->err)
		return s->err;
	if (!s->tree) {
		s->err = make_bins(s, ev->ts_ns);
		if (s->err)
			return s->err;
	}
	if (ev->type == WEFT_EV_CPU_TICK) {
		s->ticks = true;
		return s->err = on_cpu_totals(s, (const struct weft_ev_cpu_totals *)ev);
	}
	/* the end's totals close the last stretch, when there were ticks */
	if (ev->type == WEFT_EV_CPU_TOTALS && s->ticks)
		return s->err = on_cpu_totals(s, (const struct weft_ev_cpu_totals *)ev);
	return 0;
}

static enum lane_state lane_state_of(const struct weft_slice *sl)
{
	switch (sl->state) {
	case WEFT_SLICE_RUNNING:
		return LANE_RUN;
	case WEFT_SLICE_RUNNABLE:
		return LANE_QUEUE;
	case WEFT_SLICE_BLOCKED:
		switch (sl->reason) {
		case WEFT_WAIT_LOCK:
			return LANE_LOCK;
		case WEFT_WAIT_WAIT:
			return LANE_WAIT;
		case WEFT_WAIT_IO:
			return LANE_IO;
		case WEFT_WAIT_SLEEP:
			return LANE_SLEEP;
		case WEFT_WAIT_RUNQUEUE:
			return LANE_QUEUE;
		default:
			return LANE_OTHER;
		}
	default:
		return LANE_OTHER;
	}
}

/* The thread's lane: a new one while there is room, else UNTRACKED */
static __u32 lane_of(struct html_series *s, __u32 tid)
{
	bool added;
	__u32 *slot = u64_set__slot(&s->lane_of, (__u64)tid + 1, &added);
	int i;

	if (!slot) {
		s->err = -ENOMEM;
		return UNTRACKED;
	}
	if (!added)
		return *slot;
	*slot = UNTRACKED;
	if (s->nr_lanes == HTML_LANES_TRACKED)
		return UNTRACKED;
	for (i = 0; i < LANE_STATES; i++)
		if (downsample__channel(s->threads) < 0) {
			s->err = -ENOMEM;
			return UNTRACKED;
		}
	s->lane_tid[s->nr_lanes] = tid;
	*slot = s->nr_lanes; /* nothing touched the set since the lookup */
	return s->nr_lanes++;
}

void html_series__slice(void *ctx, const struct weft_slice *sl)
{
	struct html_series *s = ctx;
	enum lane_state st = lane_state_of(sl);
	__u32 lane;

	if (s->err || sl->end_ns <= sl->start_ns)
		return;
	if (!s->tree && (s->err = make_bins(s, sl->start_ns)))
		return;
	if (!s->any || sl->start_ns < s->t0)
		s->t0 = sl->start_ns;
	if (!s->any || sl->end_ns > s->t1)
		s->t1 = sl->end_ns;
	s->any = true;
	downsample__add(s->tree, st, sl->start_ns, sl->end_ns, 1);
	if (!s->lanes)
		return;
	lane = lane_of(s, sl->tid);
	if (lane != UNTRACKED)
		downsample__add(s->threads, lane * LANE_STATES + st, sl->start_ns, sl->end_ns, 1);
}

void html_series__window(struct html_series *s, const struct weft_metrics *m)
{
	if (!s->tree || m->wall_end_ns <= m->wall_start_ns)
		return;
	s->t0 = m->wall_start_ns;
	s->t1 = m->wall_end_ns;
	s->any = true;
}

double html_series__span_s(const struct html_series *s)
{
	return s->any ? (s->t1 - s->t0) / 1e9 : 0;
}

bool html_series__has_cpu_ticks(const struct html_series *s)
{
	return s->ticks && s->cpus && s->nr_marks;
}

/* ---- the page's frame ---- */

static const char css[] =
	":root{--bg:#fff;--fg:#1b1d21;--mute:#5d6470;--line:#d5d9e0;--card:#f5f6f8;--link:#1f5fbf;"
	"--run:#2f9e4f;--queue:#e39b2d;--lock:#d2413a;--wait:#4b78d0;--io:#20a0a0;--sleep:#8e6cc9;"
	"--other:#9aa0a8;--traced:#2f9e4f;--others:#e39b2d;--idle:#e4e7ec}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e6e8eb;--mute:#a2a9b4;"
	"--line:#3a3f48;--card:#1e2127;--link:#8db7ff;--idle:#2c3038;--other:#6d737c}}\n"
	"*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);"
	"font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}\n"
	"header,main,footer,nav{max-width:1100px;margin:0 auto;padding:0 20px}"
	"header{padding-top:18px}h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;"
	"margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}"
	"h3{font-size:1em;margin:1.2em 0 .3em}a{color:var(--link)}\n"
	".skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);"
	"padding:4px}\n"
	"code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.92em}"
	".cmd{color:var(--mute);word-break:break-all}\n"
	".verdict{font-size:1.15em;font-weight:600;background:var(--card);border-left:4px solid "
	"var(--run);padding:8px 12px;margin:10px 0}\n"
	"nav ul{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:4px 16px}\n"
	"table{border-collapse:collapse;width:100%;margin:.4em 0;font-size:.93em}"
	"th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;"
	"vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{white-space:nowrap}\n"
	"table.summary th{width:14em;font-weight:600}\n"
	"th button{background:none;border:0;padding:0;margin:0;font:inherit;color:inherit;"
	"text-align:inherit;cursor:pointer;font-weight:600}th button:focus-visible,"
	"[role=tab]:focus-visible{outline:2px solid var(--link)}"
	"th[aria-sort=ascending] button::after{content:' \\25B2'}"
	"th[aria-sort=descending] button::after{content:' \\25BC'}\n"
	".chart{width:100%;height:auto;display:block;margin:.3em 0}"
	".chart text{fill:var(--fg);font-size:12px;font-family:system-ui,sans-serif}"
	".axis line,.grid{stroke:var(--line);stroke-width:1;vector-effect:non-scaling-stroke}"
	".axis text{fill:var(--mute)}.hover{fill:transparent}.hover:hover{fill:rgba(128,128,128,.15)}\n"
	".s-run{fill:var(--run)}.s-queue{fill:var(--queue)}.s-lock{fill:var(--lock)}"
	".s-wait{fill:var(--wait)}.s-io{fill:var(--io)}.s-sleep{fill:var(--sleep)}"
	".s-other{fill:var(--other)}.c-traced{fill:var(--traced)}.c-other{fill:var(--others)}"
	".c-idle{fill:var(--idle)}\n"
	".legend-row{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.9em;color:var(--mute);"
	"margin:0;padding:0;list-style:none}.legend-row li::before{content:'';display:inline-block;"
	"width:10px;height:10px;margin-right:5px;background:var(--c)}\n"
	".bars-row{display:flex;flex-wrap:wrap;gap:0 20px}figure.bars{margin:0;flex:0 1 460px}"
	".wide{overflow-x:auto}"
	"figcaption{font-weight:600}\n"
	"[role=tablist]{display:flex;gap:4px;border-bottom:1px solid var(--line)}"
	"[role=tab]{font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);"
	"border-bottom:0;padding:5px 14px;cursor:pointer;border-radius:5px 5px 0 0}"
	"[role=tab][aria-selected=true]{background:var(--bg);font-weight:600;"
	"border-top:3px solid var(--run)}\n"
	"iframe{width:100%;border:1px solid var(--line);background:#f8f8f0;display:block}"
	".note{color:var(--mute);font-size:.92em}details summary{cursor:pointer}"
	".stack{margin:0;padding-left:1.2em;font-size:.88em}footer{color:var(--mute);"
	"font-size:.85em;padding:30px 20px}\n"
	"@media print{nav,.skip,[role=tablist]{display:none}[role=tabpanel]{display:block!important;"
	"break-inside:avoid}body{font-size:11pt}section{break-inside:avoid-page}"
	":root{--bg:#fff;--fg:#000}}\n";

/* Sorting by a column (numbers by data-v), tabs with arrow keys: the
 * page's only script, and nothing it needs from outside the file */
static const char script[] =
	"<script>\n"
	"(function(){\n"
	"function key(td){var v=td.getAttribute('data-v');"
	"return v===null?td.textContent.trim().toLowerCase():parseFloat(v);}\n"
	"document.querySelectorAll('table.sortable').forEach(function(t){"
	"var ths=t.tHead.rows[0].cells;"
	"Array.prototype.forEach.call(ths,function(th,i){var b=th.querySelector('button');"
	"if(!b)return;b.addEventListener('click',function(){"
	"var asc=th.getAttribute('aria-sort')!=='ascending';"
	"Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});"
	"th.setAttribute('aria-sort',asc?'ascending':'descending');"
	"var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);"
	"rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);"
	"if(typeof x!==typeof y){x=String(x);y=String(y);}"
	"if(typeof x==='number'&&isNaN(x))return 1;if(typeof y==='number'&&isNaN(y))return -1;"
	"return (x<y?-1:x>y?1:0)*(asc?1:-1);});"
	"rows.forEach(function(r){body.appendChild(r);});});});});\n"
	"document.querySelectorAll('[role=tablist]').forEach(function(list){"
	"var tabs=Array.prototype.slice.call(list.querySelectorAll('[role=tab]'));"
	"function show(tab){tabs.forEach(function(t){var on=t===tab;"
	"t.setAttribute('aria-selected',on?'true':'false');t.tabIndex=on?0:-1;"
	"document.getElementById(t.getAttribute('aria-controls')).hidden=!on;});tab.focus();}"
	"tabs.forEach(function(t,i){t.addEventListener('click',function(){show(t);});"
	"t.addEventListener('keydown',function(e){var j=e.key==='ArrowRight'?i+1:"
	"e.key==='ArrowLeft'?i-1:-2;if(j===-2)return;e.preventDefault();"
	"show(tabs[(j+tabs.length)%tabs.length]);});});});\n"
	"})();\n"
	"</script>\n";

static void page_begin(FILE *out, const char *title, const char *cmd)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"color-scheme\" content=\"light dark\">\n<title>",
	      out);
	html_text(out, title);
	if (cmd && *cmd) {
		fputs(": ", out);
		html_text(out, cmd);
	}
	fprintf(out, "</title>\n<style>\n%s</style></head>\n<body>\n", css);
}

static void page_end(FILE *out, const char *version)
{
	fputs("<footer>Made by ", out);
	html_text(out, version ? version : "weft");
	fputs(" from the recording alone: every figure can be checked with weft report "
	      "--format json.</footer>\n",
	      out);
	fputs(script, out);
	fputs("</body></html>\n", out);
}

/* A figure with the JSON report's value beside it: data-key names its
 * JSON key, data-value holds it with the JSON's decimals */
static void fig(FILE *out, const char *key, double v, int json_decimals, const char *shown)
{
	fputs("<span data-key=\"", out);
	html_text(out, key);
	fputs("\" data-value=\"", out);
	html_num(out, v, json_decimals);
	fputs("\">", out);
	html_text(out, shown);
	fputs("</span>", out);
}

static const char *dur(char *buf, size_t size, double s)
{
	return output_fmt_duration(buf, size, s);
}

static const char *fmt(char *buf, size_t size, const char *f, double v)
{
	snprintf(buf, size, f, v);
	return buf;
}

static void row_begin(FILE *out, const char *name)
{
	fputs("<tr><th scope=\"row\">", out);
	html_text(out, name);
	fputs("</th><td>", out);
}

/* ---- the report page ---- */

static void summary(FILE *out, const struct weft_metrics *m, const struct html_opts *o)
{
	const struct weft_accounting *a = &m->accounting;
	char b1[64], b2[64];

	fputs("<section id=\"summary\" aria-labelledby=\"h-summary\"><h2 id=\"h-summary\">"
	      "Summary</h2>\n<table class=\"summary\"><tbody>\n",
	      out);
	row_begin(out, "wall");
	fig(out, "wall_s", m->wall_s, JSON_S_DECIMALS, dur(b1, sizeof(b1), m->wall_s));
	fprintf(out, " <span class=\"note\">(%s)</span></td></tr>\n",
		m->attach_mode ? "attached: recording start to stop" :
				 "first to last event of the tree");
	row_begin(out, "on-CPU");
	fig(out, "on_cpu_s", m->on_cpu_s, JSON_S_DECIMALS, dur(b1, sizeof(b1), m->on_cpu_s));
	fprintf(out, " in %u thread%s, %u process%s</td></tr>\n", m->nr_threads,
		m->nr_threads == 1 ? "" : "s", m->nr_processes, m->nr_processes == 1 ? "" : "es");
	row_begin(out, "parallelism");
	fig(out, "parallelism.avg", m->parallelism.avg, JSON_SHARE_DECIMALS,
	    fmt(b1, sizeof(b1), "%.2f", m->parallelism.avg));
	fputs(" average, ", out);
	fig(out, "parallelism.max", m->parallelism.max, 0,
	    fmt(b1, sizeof(b1), "%.0f", m->parallelism.max));
	fputs(" max, of ", out);
	fig(out, "usable_cpus", m->usable_cpus, 0, fmt(b1, sizeof(b1), "%.0f", m->usable_cpus));
	fputs(" usable cores</td></tr>\n", out);
	row_begin(out, "concurrency");
	fig(out, "concurrency.avg", m->concurrency.avg, JSON_SHARE_DECIMALS,
	    fmt(b1, sizeof(b1), "%.2f", m->concurrency.avg));
	fputs(" average (threads running or waiting for a CPU), ", out);
	fig(out, "concurrency.max", m->concurrency.max, 0,
	    fmt(b1, sizeof(b1), "%.0f", m->concurrency.max));
	fputs(" max</td></tr>\n", out);
	row_begin(out, "interleaved");
	fig(out, "interleaving.interleaved_s", m->interleaving.interleaved_s, JSON_S_DECIMALS,
	    dur(b1, sizeof(b1), m->interleaving.interleaved_s));
	fputs(" (", out);
	fig(out, "interleaved_share", m->interleaving.interleaved_share, JSON_SHARE_DECIMALS,
	    fmt(b1, sizeof(b1), "%.1f%%", 100 * m->interleaving.interleaved_share));
	fputs(" of wall): a thread of the tree queued behind another; ", out);
	fig(out, "interleaving.handoffs", m->interleaving.handoffs, 0,
	    fmt(b1, sizeof(b1), "%.0f", m->interleaving.handoffs));
	fputs(" core handoffs</td></tr>\n", out);
	row_begin(out, "serialized");
	fig(out, "serialized_s", m->serialized_s, JSON_S_DECIMALS,
	    dur(b1, sizeof(b1), m->serialized_s));
	fputs(" (", out);
	fig(out, "serialized_share", m->serialized_share, JSON_SHARE_DECIMALS,
	    fmt(b1, sizeof(b1), "%.1f%%", 100 * m->serialized_share));
	fputs(" of wall): one thread ran while others waited on a turn-taking lock</td></tr>\n",
	      out);
	row_begin(out, "run-queue delay");
	fig(out, "runqueue_delay.total_s", m->runqueue_delay.total_s, JSON_S_DECIMALS,
	    dur(b1, sizeof(b1), m->runqueue_delay.total_s));
	fputs(" in ", out);
	fig(out, "runqueue_delay.count", m->runqueue_delay.count, 0,
	    fmt(b1, sizeof(b1), "%.0f", m->runqueue_delay.count));
	fputs(" waits: behind the tree ", out);
	fig(out, "runqueue_delay.by_tree_s", m->runqueue_delay.by_tree_s, JSON_S_DECIMALS,
	    dur(b1, sizeof(b1), m->runqueue_delay.by_tree_s));
	fputs(", behind others ", out);
	fig(out, "runqueue_delay.by_others_s", m->runqueue_delay.by_others_s, JSON_S_DECIMALS,
	    dur(b1, sizeof(b1), m->runqueue_delay.by_others_s));
	fprintf(out, "; p50 %s, p99 %s</td></tr>\n",
		dur(b1, sizeof(b1), m->runqueue_delay.p50_us / 1e6),
		dur(b2, sizeof(b2), m->runqueue_delay.p99_us / 1e6));
	row_begin(out, "blocked");
	fig(out, "blocked_share", m->blocked_share, JSON_SHARE_DECIMALS,
	    fmt(b1, sizeof(b1), "%.1f%%", 100 * m->blocked_share));
	fputs(" of the threads' time</td></tr>\n", out);
	row_begin(out, "switches");
	fig(out, "switches.voluntary", m->switches.voluntary, 0,
	    fmt(b1, sizeof(b1), "%.0f", m->switches.voluntary));
	fputs(" voluntary, ", out);
	fig(out, "switches.involuntary", m->switches.involuntary, 0,
	    fmt(b1, sizeof(b1), "%.0f", m->switches.involuntary));
	fputs(" involuntary; ", out);
	fig(out, "migrations", m->migrations, 0, fmt(b1, sizeof(b1), "%.0f", m->migrations));
	fputs(" migrations</td></tr>\n", out);
	if (m->has_cpu_totals) {
		row_begin(out, "steal");
		fig(out, "steal_s", m->steal_s, JSON_S_DECIMALS, dur(b1, sizeof(b1), m->steal_s));
		fputs("</td></tr>\n", out);
	}
	if (m->rusage.valid)
		fprintf(out,
			"<tr><th scope=\"row\">rusage</th><td>user %s, sys %s, max RSS %ld kB"
			"</td></tr>\n",
			dur(b1, sizeof(b1), m->rusage.user_s), dur(b2, sizeof(b2), m->rusage.sys_s),
			m->rusage.maxrss_kb);
	row_begin(out, "accounting check");
	if (!a->threads_checked) {
		fputs("no thread with the kernel's figures to compare", out);
	} else {
		fputs("on-CPU within ", out);
		if (a->on_cpu_err_valid)
			fig(out, "accounting.on_cpu_err", a->on_cpu_err, JSON_SHARE_DECIMALS,
			    fmt(b1, sizeof(b1), "%.1f%%", 100 * a->on_cpu_err));
		else
			fputs("?", out);
		fputs(" of the kernel's, run-queue within ", out);
		if (a->runqueue_err_valid)
			fig(out, "accounting.runqueue_err", a->runqueue_err, JSON_SHARE_DECIMALS,
			    fmt(b1, sizeof(b1), "%.1f%%", 100 * a->runqueue_err));
		else
			fputs("?", out);
		fputs(" (", out);
		fig(out, "accounting.threads_checked", a->threads_checked, 0,
		    fmt(b1, sizeof(b1), "%.0f", a->threads_checked));
		fputs(" threads)", out);
		if (a->on_cpu_warning || a->runqueue_warning || a->threads_warned)
			fputs(" <strong>past the tolerance</strong>", out);
	}
	fputs("</td></tr>\n", out);
	if (o->out && o->out->stacks) {
		char line[512];

		row_begin(out, "stacks");
		html_text(out, output_stacks_line(line, sizeof(line),
						  stack_summary__capture(o->out->stacks)));
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

static void legend(FILE *out, const enum lane_state *states, unsigned int n)
{
	static const char *const vars[LANE_STATES] = { "--run", "--queue", "--lock", "--wait",
						       "--io",	"--sleep", "--other" };
	unsigned int i;

	fputs("<ul class=\"legend-row\">", out);
	for (i = 0; i < n; i++)
		fprintf(out, "<li style=\"--c:var(%s)\">%s</li>", vars[states[i]],
			lane_state__name(states[i]));
	fputs("</ul>\n", out);
}

/* R(t) and Q(t) of a series over n columns of its window */
static int series_levels(const struct html_series *s, unsigned int n, __u64 from, __u64 to,
			 double *r, double *q)
{
	int err = downsample__resample(s->tree, LANE_RUN, r, n, from, to);

	if (!err && q)
		err = downsample__resample(s->tree, LANE_QUEUE, q, n, from, to);
	return err;
}

static void parallelism(FILE *out, const struct weft_metrics *m, const struct html_series *s)
{
	double *r = NULL, *q = NULL;
	enum lane_state rq[2] = { LANE_RUN, LANE_QUEUE };

	fputs("<section id=\"parallelism\" aria-labelledby=\"h-par\"><h2 id=\"h-par\">"
	      "Parallelism</h2>\n<h3>Share of wall time with R threads running</h3>\n",
	      out);
	chart_histogram(out, m->parallelism.histogram, m->parallelism.histogram_len);
	fputs("<h3>Threads running, R(t), and runnable, Q(t), over the run</h3>\n", out);
	if (!s || !s->any || s->t1 <= s->t0) {
		fputs("<p class=\"note\">No thread of the tree ran in this recording.</p>"
		      "</section>\n",
		      out);
		return;
	}
	r = calloc(HTML_COLUMNS, sizeof(*r));
	q = calloc(HTML_COLUMNS, sizeof(*q));
	if (r && q && !series_levels(s, HTML_COLUMNS, s->t0, s->t1, r, q)) {
		chart_levels(out, "Threads over time", r, q, HTML_COLUMNS,
			     (double)(s->t1 - s->t0) / HTML_COLUMNS, 0, 0, CHART_WIDTH, 0);
		legend(out, rq, 2);
		fputs("<p class=\"note\">The area under R(t) is the on-CPU time; its average "
		      "over the wall is the parallelism, and that of R(t) + Q(t) the "
		      "concurrency. Each column is an average over ",
		      out);
		html_text(out, dur((char[32]){ 0 }, 32, (s->t1 - s->t0) / 1e9 / HTML_COLUMNS));
		fputs(".</p>\n", out);
	}
	free(r);
	free(q);
	fputs("</section>\n", out);
}

static void cpu_strip(FILE *out, const struct weft_metrics *m, const struct html_series *s)
{
	unsigned int ncpu, n, c, k;
	double *v = NULL;
	int err = 0;

	fputs("<section id=\"cpus-over-time\" aria-labelledby=\"h-strip\"><h2 id=\"h-strip\">"
	      "CPUs over time</h2>\n",
	      out);
	if (!s || !html_series__has_cpu_ticks(s) || !s->any || s->t1 <= s->t0) {
		if (m->wall_s < 0.2)
			fputs("<p class=\"note\" id=\"strip-unavailable\">The per-CPU strip is "
			      "unavailable: the run was too short for the recorder's per-CPU totals, "
			      "taken every 100 ms. The totals are in the CPU table below.</p>"
			      "</section>\n",
			      out);
		else
			fputs("<p class=\"note\" id=\"strip-unavailable\">The per-CPU strip is "
			      "unavailable: this recording keeps the CPUs' traced, other and idle "
			      "time only as totals at the end (recorded by an older weft, which did "
			      "not write them every 100 ms). The totals are in the CPU table below."
			      "</p></section>\n",
			      out);
		return;
	}
	ncpu = s->nr_marks;
	/* the recorder's 100 ms, at most HTML_CPU_COLUMNS columns */
	n = (unsigned int)ceil((s->t1 - s->t0) / 1e8);
	if (n > HTML_CPU_COLUMNS)
		n = HTML_CPU_COLUMNS;
	if (n < 1)
		n = 1;
	v = calloc((size_t)3 * ncpu * n, sizeof(*v));
	for (c = 0; v && c < ncpu && !err; c++)
		for (k = 0; k < 3 && !err; k++)
			err = downsample__resample(s->cpus, 3 * c + k,
						   v + ((size_t)k * ncpu + c) * n, n, s->t0, s->t1);
	if (v && !err)
		chart_cpu_strip(out, v, v + (size_t)ncpu * n, v + (size_t)2 * ncpu * n, ncpu, n,
				(s->t1 - s->t0) / 1e9);
	fputs("<ul class=\"legend-row\"><li style=\"--c:var(--traced)\">traced</li>"
	      "<li style=\"--c:var(--others)\">other programs</li>"
	      "<li style=\"--c:var(--idle)\">idle</li></ul>\n",
	      out);
	fprintf(out,
		"<p class=\"note\">From the recorder's per-CPU totals, taken every 100 ms; "
		"%u CPU%s.</p>\n",
		ncpu, ncpu == 1 ? "" : "s");
	free(v);
	fputs("</section>\n", out);
}

static const struct weft_thread_metrics *thread_of(const struct weft_metrics *m, __u32 tid)
{
	unsigned int i;

	for (i = 0; i < m->nr_threads; i++)
		if (m->threads[i].tid == tid)
			return &m->threads[i];
	return NULL;
}

struct lane_pick {
	unsigned int lane;
	double busy;
};

static int by_busy(const void *a, const void *b)
{
	const struct lane_pick *x = a, *y = b;

	if (x->busy != y->busy)
		return x->busy > y->busy ? -1 : 1;
	return x->lane < y->lane ? -1 : x->lane > y->lane;
}

static int by_lane(const void *a, const void *b)
{
	const struct lane_pick *x = a, *y = b;

	return x->lane < y->lane ? -1 : x->lane > y->lane;
}

/* The busiest tracked threads (running and runnable time) get a lane
 * each, in the order they appeared; the rest of the tree is one lane */
static void lanes(FILE *out, const struct weft_metrics *m, const struct html_series *s)
{
	struct lane_pick pick[HTML_LANES_TRACKED];
	struct chart_lane cl[HTML_LANES_SHOWN + 1];
	char names[HTML_LANES_SHOWN + 1][64];
	enum lane_state all[LANE_STATES];
	unsigned int shown, i, k, c, n = HTML_LANE_COLUMNS, folded;
	double *v = NULL;
	int err = 0;

	fputs("<section id=\"lanes\" aria-labelledby=\"h-lanes\"><h2 id=\"h-lanes\">Threads "
	      "over time</h2>\n",
	      out);
	if (!s || !s->any || s->t1 <= s->t0 || !s->threads) {
		fputs("<p class=\"note\">No thread of the tree in this recording.</p></section>\n",
		      out);
		return;
	}
	for (i = 0; i < s->nr_lanes; i++) {
		pick[i].lane = i;
		pick[i].busy = downsample__total(s->threads, i * LANE_STATES + LANE_RUN) +
			       downsample__total(s->threads, i * LANE_STATES + LANE_QUEUE);
	}
	qsort(pick, s->nr_lanes, sizeof(*pick), by_busy);
	shown = s->nr_lanes < HTML_LANES_SHOWN ? s->nr_lanes : HTML_LANES_SHOWN;
	qsort(pick, shown, sizeof(*pick), by_lane);
	folded = m->nr_threads > shown ? m->nr_threads - shown : 0;
	/* columns: LANE_STATES per shown lane, and the fold's */
	v = calloc((size_t)(shown + 1) * LANE_STATES * n, sizeof(*v));
	if (!v)
		goto done;
	for (k = 0; k <= shown && !err; k++) {
		for (c = 0; c < LANE_STATES && !err; c++) {
			double *col = v + ((size_t)k * LANE_STATES + c) * n;

			if (k < shown)
				err = downsample__resample(s->threads,
							   pick[k].lane * LANE_STATES + c, col, n,
							   s->t0, s->t1);
			else
				err = downsample__resample(s->tree, c, col, n, s->t0, s->t1);
			cl[k].state[c] = col;
		}
	}
	if (err)
		goto done;
	/* the fold: the tree less the lanes shown */
	for (k = 0; k < shown; k++)
		for (c = 0; c < LANE_STATES; c++)
			for (i = 0; i < n; i++)
				v[((size_t)shown * LANE_STATES + c) * n + i] -= cl[k].state[c][i];
	for (k = 0; k < shown; k++) {
		__u32 tid = s->lane_tid[pick[k].lane];
		const struct weft_thread_metrics *t = thread_of(m, tid);

		snprintf(names[k], sizeof(names[k]), "%u %s", tid, t ? t->comm : "");
		cl[k].name = names[k];
	}
	cl[shown].name = names[shown];
	snprintf(names[shown], sizeof(names[shown]), "%u other thread%s", folded,
		 folded == 1 ? "" : "s");
	chart_lanes(out, cl, folded ? shown + 1 : shown, n, (s->t1 - s->t0) / 1e9);
	for (c = 0; c < LANE_STATES; c++)
		all[c] = c;
	legend(out, all, LANE_STATES);
	fprintf(out,
		"<p class=\"note\">%u busiest thread%s (running and runnable time) of the first "
		"%u seen have a lane each; each column, %s wide, shows the state that held most "
		"of it%s.</p>\n",
		shown, shown == 1 ? "" : "s", HTML_LANES_TRACKED,
		dur((char[32]){ 0 }, 32, (s->t1 - s->t0) / 1e9 / n),
		folded ? "; the last lane folds the other threads together" : "");
done:
	free(v);
	fputs("</section>\n", out);
}

static const char *reason_class(unsigned int r)
{
	switch (r) {
	case WEFT_WAIT_LOCK:
		return "s-lock";
	case WEFT_WAIT_WAIT:
		return "s-wait";
	case WEFT_WAIT_IO:
		return "s-io";
	case WEFT_WAIT_SLEEP:
		return "s-sleep";
	case WEFT_WAIT_RUNQUEUE:
		return "s-queue";
	default:
		return "s-other";
	}
}

static void off_cpu(FILE *out, const struct weft_metrics *m)
{
	struct chart_bar parts[WEFT_OFF_CPU_REASONS + 1];
	char texts[WEFT_OFF_CPU_REASONS + 1][48], key[48];
	unsigned int r, n = 0;
	double on = 0, sum = 0;

	fputs("<section id=\"off-cpu\" aria-labelledby=\"h-off\"><h2 id=\"h-off\">Where the "
	      "threads' time went</h2>\n",
	      out);
	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++)
		sum += m->off_cpu_s[r];
	on = m->thread_time_s - sum > 0 ? m->thread_time_s - sum : 0;
	if (m->thread_time_s <= 0) {
		fputs("<p class=\"note\">No thread time.</p></section>\n", out);
		return;
	}
	snprintf(texts[n], sizeof(texts[n]), "%.1f%%", 100 * on / m->thread_time_s);
	parts[n] = (struct chart_bar){ "on-CPU", on / m->thread_time_s, texts[n], "s-run" };
	n++;
	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++) {
		if (m->off_cpu_s[r] <= 0)
			continue;
		snprintf(texts[n], sizeof(texts[n]), "%.1f%%",
			 100 * m->off_cpu_s[r] / m->thread_time_s);
		parts[n] = (struct chart_bar){ weft_wait_reason__name(r),
					       m->off_cpu_s[r] / m->thread_time_s, texts[n],
					       reason_class(r) };
		n++;
	}
	chart_stacked(out, "Share of the threads' summed lifetime: on-CPU and each off-CPU reason",
		      parts, n);
	fputs("<table class=\"sortable\"><thead><tr><th scope=\"col\"><button type=\"button\">"
	      "reason</button></th><th scope=\"col\" class=\"n\"><button type=\"button\">time"
	      "</button></th><th scope=\"col\" class=\"n\"><button type=\"button\">share of "
	      "thread time</button></th><th scope=\"col\"><button type=\"button\">mostly in"
	      "</button></th></tr></thead><tbody>\n",
	      out);
	for (r = 0; r < WEFT_OFF_CPU_REASONS; r++) {
		char b[32];

		snprintf(key, sizeof(key), "off_cpu.%s_s", weft_wait_reason__name(r));
		fprintf(out, "<tr><td>%s</td><td class=\"n\" data-v=\"%.9f\">",
			weft_wait_reason__name(r), m->off_cpu_s[r]);
		fig(out, key, m->off_cpu_s[r], JSON_S_DECIMALS, dur(b, sizeof(b), m->off_cpu_s[r]));
		fprintf(out, "</td><td class=\"n\" data-v=\"%.6f\">%.1f%%</td><td class=\"mono\">",
			m->off_cpu_s[r] / m->thread_time_s,
			100 * m->off_cpu_s[r] / m->thread_time_s);
		html_text(out, m->off_cpu_syscall[r] ? m->off_cpu_syscall[r] : "");
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

static void th(FILE *out, const char *name, bool num)
{
	fprintf(out, "<th scope=\"col\"%s><button type=\"button\">", num ? " class=\"n\"" : "");
	html_text(out, name);
	fputs("</button></th>", out);
}

static void td_s(FILE *out, double s)
{
	char b[32];

	fprintf(out, "<td class=\"n\" data-v=\"%.9f\">%s</td>", s, dur(b, sizeof(b), s));
}

static void td_u(FILE *out, unsigned long long v)
{
	fprintf(out, "<td class=\"n\" data-v=\"%llu\">%llu</td>", v, v);
}

static void td_share(FILE *out, double v)
{
	fprintf(out, "<td class=\"n\" data-v=\"%.6f\">%.1f%%</td>", v, 100 * v);
}

static void td_text(FILE *out, const char *s, bool mono)
{
	fputs(mono ? "<td class=\"mono\">" : "<td>", out);
	html_text(out, s);
	fputs("</td>", out);
}

static void locks(FILE *out, const struct weft_metrics *m, const struct output_opts *o)
{
	const struct stack_summary *ss = o ? o->stacks : NULL;
	bool stacks = ss && stack_summary__has_locks(ss);
	unsigned int i, k, f;
	char addr[32];

	fputs("<section id=\"locks\" aria-labelledby=\"h-locks\"><h2 id=\"h-locks\">Locks</h2>\n",
	      out);
	if (!m->nr_locks) {
		fputs("<p class=\"note\">No thread of the tree waited on a lock or a turn-taking "
		      "address.</p></section>\n",
		      out);
		return;
	}
	fputs("<table class=\"sortable\" id=\"locks-table\"><thead><tr>", out);
	th(out, "lock", false);
	th(out, "kind", false);
	th(out, "pid", true);
	th(out, "waits", true);
	th(out, "total wait", true);
	th(out, "max wait", true);
	th(out, "threads", true);
	th(out, "handoffs", true);
	th(out, "serialized", true);
	fputs("<th scope=\"col\">top stacks (user frames, leaf first)</th></tr></thead><tbody>\n",
	      out);
	for (i = 0; i < m->nr_locks; i++) {
		const struct weft_lock_metrics *l = &m->locks[i];
		const struct stack_lock *sl = stacks ? stack_summary__lock(ss, i) : NULL;

		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)l->addr);
		fputs("<tr><td class=\"mono\">", out);
		html_text(out, l->name[0] ? l->name : addr);
		if (l->name[0]) {
			fputs(" <span class=\"note\">", out);
			html_text(out, addr);
			fputs("</span>", out);
		}
		fputs("</td>", out);
		td_text(out, l->kind ? l->kind : "", false);
		td_u(out, l->pid);
		td_u(out, l->waits);
		td_s(out, l->total_s);
		td_s(out, l->max_s);
		td_u(out, l->threads);
		td_u(out, l->handoffs);
		td_s(out, l->serialized_s);
		fputs("<td>", out);
		if (sl && sl->nr_stacks) {
			for (k = 0; k < sl->nr_stacks; k++) {
				const struct stack_waiter *w = &sl->stacks[k];
				char b[32];

				fprintf(out, "<details%s><summary>%s (%.0f%%) ",
					i == 0 && k == 0 ? " open" : "",
					dur(b, sizeof(b), w->ns / 1e9),
					l->total_s > 0 ? 100 * w->ns / 1e9 / l->total_s : 0);
				html_text(out, w->nframes ? w->frames[0] : "");
				fputs("</summary><ol class=\"stack mono\">", out);
				for (f = 0; f < w->nframes; f++) {
					fputs("<li>", out);
					html_text(out, w->frames[f]);
					fputs("</li>", out);
				}
				fputs("</ol></details>", out);
			}
		} else {
			fputs(stacks ? "no stack taken" : "the recording has no stacks", out);
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

/* The critical path's summary, with the figures of the JSON's
 * critical_path (its decimals: json.h's); its flame graph is a
 * tab of the flames */
#define CRIT_ROWS 10

static void crit_fig_s(FILE *out, const char *key, __u64 ns)
{
	char b[32];

	fig(out, key, ns / 1e9, JSON_S_DECIMALS, dur(b, sizeof(b), ns / 1e9));
}

/* A cell of the i-th row of one of critical_path's lists: its seconds or
 * its share, with the JSON key critical_path.LIST.i.FIELD; before (HTML,
 * may be NULL) goes ahead of the figure */
static void crit_td(FILE *out, const char *list, unsigned int i, const char *field, double v,
		    bool is_share, const char *before)
{
	char k[96], b[32];

	snprintf(k, sizeof(k), "critical_path.%s.%u.%s", list, i, field);
	fprintf(out,
		is_share ? "<td class=\"n\" data-v=\"%.6f\">" : "<td class=\"n\" data-v=\"%.9f\">",
		v);
	if (before)
		fputs(before, out);
	if (is_share)
		fig(out, k, v, JSON_SHARE_DECIMALS, fmt(b, sizeof(b), "%.1f%%", 100 * v));
	else
		fig(out, k, v, JSON_S_DECIMALS, dur(b, sizeof(b), v));
	fputs("</td>", out);
}

static void crit_state(FILE *out, const char *name, const char *key, __u64 ns, __u64 path)
{
	char k[64];

	fputs("<tr><td>", out);
	html_text(out, name);
	snprintf(k, sizeof(k), "critical_path.by_state.%s", key);
	fprintf(out, "</td><td class=\"n\" data-v=\"%.9f\">", ns / 1e9);
	crit_fig_s(out, k, ns);
	fputs("</td>", out);
	td_share(out, path ? (double)ns / path : 0);
	fputs("</tr>\n", out);
}

static void critical_section(FILE *out, const struct output_opts *o)
{
	const struct critical *c = o ? o->critical : NULL;
	const struct critical_state_ns *st;
	const struct critical_thread *t;
	const struct critical_lock *l;
	unsigned int i, n;
	__u64 path;
	char b[32];

	fputs("<section id=\"critical\" aria-labelledby=\"h-critical\"><h2 id=\"h-critical\">"
	      "Critical path</h2>\n",
	      out);
	if (!c) {
		fputs("<p class=\"note\" id=\"critical-absent\">Not computed: <code>weft report "
		      "--critical --format html</code> adds it (the chain of work and waits that "
		      "decided the wall time). It is not in every page because its memory grows "
		      "with the events.</p></section>\n",
		      out);
		return;
	}
	path = critical__path_ns(c);
	st = critical__by_state(c);
	fputs("<p>The chain of work and waits that decided the wall time: ", out);
	crit_fig_s(out, "critical_path.path_s", path);
	fputs(" of ", out);
	fig(out, "critical_path.wall_s", critical__wall_s(c), JSON_S_DECIMALS,
	    dur(b, sizeof(b), critical__wall_s(c)));
	fputs(" wall, ending on tid ", out);
	fig(out, "critical_path.end_tid", critical__end_tid(c), 0,
	    fmt(b, sizeof(b), "%.0f", critical__end_tid(c)));
	fputs(". Its flame graph is the <a href=\"#flames\">Critical path</a> tab.</p>\n", out);

	fputs("<h3 id=\"h-crit-state\">By state</h3>\n<table class=\"sortable\" "
	      "id=\"critical-state\" aria-labelledby=\"h-crit-state\"><thead><tr>",
	      out);
	th(out, "state", false);
	th(out, "on the path", true);
	th(out, "share", true);
	fputs("</tr></thead><tbody>\n", out);
	crit_state(out, "running", "running_s", st->running, path);
	crit_state(out, "queued behind the tree", "runnable_tree_s", st->runnable_tree, path);
	crit_state(out, "queued behind others", "runnable_others_s", st->runnable_others, path);
	crit_state(out, "sleep", "sleep_s", st->sleep, path);
	crit_state(out, "io", "io_s", st->io, path);
	crit_state(out, "lock", "lock_s", st->lock, path);
	crit_state(out, "wait", "wait_s", st->wait, path);
	crit_state(out, "other", "other_s", st->other, path);
	fputs("</tbody></table>\n", out);

	t = critical__by_thread(c, &n);
	fputs("<h3 id=\"h-crit-thread\">By thread</h3>\n<table class=\"sortable\" "
	      "id=\"critical-threads\" aria-labelledby=\"h-crit-thread\"><thead><tr>",
	      out);
	th(out, "tid", true);
	th(out, "pid", true);
	th(out, "comm", false);
	th(out, "on the path", true);
	th(out, "share", true);
	fputs("</tr></thead><tbody>\n", out);
	for (i = 0; i < n && i < CRIT_ROWS; i++) {
		fputs("<tr>", out);
		td_u(out, t[i].tid);
		td_u(out, t[i].pid);
		td_text(out, t[i].comm, true);
		crit_td(out, "by_thread", i, "s", t[i].ns / 1e9, false, NULL);
		crit_td(out, "by_thread", i, "share", t[i].share, true, NULL);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	if (n > CRIT_ROWS)
		fprintf(out, "<p class=\"note\">%u more threads in the JSON.</p>\n", n - CRIT_ROWS);

	l = critical__by_lock(c, &n);
	fputs("<h3 id=\"h-crit-lock\">Locks on the path</h3>\n", out);
	if (!n) {
		fputs("<p class=\"note\">No lock on the path: no part of it was inside a "
		      "critical section that others waited for.</p></section>\n",
		      out);
		return;
	}
	fputs("<table class=\"sortable\" id=\"critical-locks\" aria-labelledby=\"h-crit-lock\">"
	      "<thead><tr>",
	      out);
	th(out, "lock", false);
	th(out, "pid", true);
	th(out, "inside it on the path", true);
	th(out, "share", true);
	th(out, "what-if bound", true);
	fputs("</tr></thead><tbody>\n", out);
	for (i = 0; i < n && i < CRIT_ROWS; i++) {
		fputs("<tr>", out);
		td_text(out, l[i].name, true);
		td_u(out, l[i].pid);
		crit_td(out, "by_lock", i, "s", l[i].ns / 1e9, false, NULL);
		crit_td(out, "by_lock", i, "share", l[i].share, true, NULL);
		crit_td(out, "by_lock", i, "whatif_bound_s", l[i].bound_ns / 1e9, false, "&le; ");
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n<p class=\"note\">What-if bound: the path's time in waits on "
	      "the lock, the most the wall could gain if it were never contended (an upper "
	      "bound, not a prediction).</p></section>\n",
	      out);
}

/* The flame graph's SVG as one iframe's document: in its own document
 * its script's globals and ids cannot meet another graph's. srcdoc is
 * quoted with ', so only & and ' need escaping in it. */
static int flame_frame(FILE *out, const struct html_flame *f)
{
	struct flame_svg_opts so = { .title = f->title, .unit = f->unit, .palette = f->palette };
	char *buf = NULL, *svg, *p, *h;
	size_t len = 0;
	FILE *mem;
	int err, height = 400;

	mem = open_memstream(&buf, &len);
	if (!mem)
		return -ENOMEM;
	err = flame_svg__write(mem, f->stacks, f->values, f->n, &so);
	if (fclose(mem) && !err)
		err = -ENOMEM;
	if (err) {
		free(buf);
		return err;
	}
	svg = strstr(buf, "<svg");
	if (!svg)
		svg = buf;
	h = strstr(svg, "height=\"");
	if (h)
		height = atoi(h + 8);
	fputs("<iframe title=\"", out);
	html_text(out, f->title);
	/* the graph scales to the frame's width; the frame keeps its shape */
	fprintf(out, " flame graph\" style=\"aspect-ratio:%d/%d\" srcdoc='", FLAME_SVG_WIDTH,
		height + 4);
	fputs("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><style>"
	      "body{margin:0;overflow:hidden}svg{width:100%;height:auto;display:block}</style>"
	      "</head><body>",
	      out);
	for (p = svg; *p; p++) {
		if (*p == '&')
			fputs("&amp;", out);
		else if (*p == '\'')
			fputs("&#39;", out);
		else
			fputc(*p, out);
	}
	/* an inline <svg> in HTML has no load event of its own to run init */
	fputs("<script>init()</script></body></html>'></iframe>\n", out);
	free(buf);
	return 0;
}

static int flames(FILE *out, const struct html_opts *o)
{
	unsigned int i;
	int err = 0;

	fputs("<section id=\"flames\" aria-labelledby=\"h-flames\"><h2 id=\"h-flames\">Flame "
	      "graphs</h2>\n",
	      out);
	if (!o->nr_flames) {
		fputs("<p class=\"note\">The recording has no stacks (recorded with "
		      "--no-stacks).</p></section>\n",
		      out);
		return 0;
	}
	fputs("<div role=\"tablist\" aria-label=\"Flame graphs\">", out);
	for (i = 0; i < o->nr_flames; i++) {
		fprintf(out,
			"<button type=\"button\" role=\"tab\" id=\"tab-%s\" aria-controls=\"panel-%s\" "
			"aria-selected=\"%s\" tabindex=\"%d\">",
			o->flames[i].id, o->flames[i].id, i ? "false" : "true", i ? -1 : 0);
		html_text(out, o->flames[i].title);
		fputs("</button>", out);
	}
	fputs("</div>\n", out);
	for (i = 0; i < o->nr_flames && !err; i++) {
		const struct html_flame *f = &o->flames[i];

		fprintf(out, "<div role=\"tabpanel\" id=\"panel-%s\" aria-labelledby=\"tab-%s\"%s>",
			f->id, f->id, i ? " hidden" : "");
		if (!f->n)
			fputs("<p class=\"note\">Nothing of this kind in the recording.</p>", out);
		else
			err = flame_frame(out, f);
		fputs("</div>\n", out);
	}
	fputs("<p class=\"note\">Hover a frame for its figures, click to zoom, Search to "
	      "highlight by regular expression (in each graph).</p></section>\n",
	      out);
	return err;
}

static int by_on_cpu(const void *a, const void *b)
{
	const struct weft_thread_metrics *x = *(const struct weft_thread_metrics *const *)a;
	const struct weft_thread_metrics *y = *(const struct weft_thread_metrics *const *)b;

	return x->on_cpu_s > y->on_cpu_s ? -1 : x->on_cpu_s < y->on_cpu_s;
}

static int threads_table(FILE *out, const struct weft_metrics *m)
{
	const struct weft_thread_metrics **t = calloc(m->nr_threads + 1, sizeof(*t));
	unsigned int i, n = m->nr_threads < TABLE_ROWS ? m->nr_threads : TABLE_ROWS;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < m->nr_threads; i++)
		t[i] = &m->threads[i];
	qsort(t, m->nr_threads, sizeof(*t), by_on_cpu);
	fputs("<section id=\"threads\" aria-labelledby=\"h-threads\"><h2 id=\"h-threads\">"
	      "Threads</h2>\n<table class=\"sortable\" id=\"threads-table\"><thead><tr>",
	      out);
	th(out, "tid", true);
	th(out, "pid", true);
	th(out, "comm", false);
	th(out, "on-CPU", true);
	th(out, "run queue", true);
	th(out, "blocked", true);
	th(out, "lock", true);
	th(out, "wait", true);
	th(out, "io", true);
	th(out, "sleep", true);
	th(out, "voluntary", true);
	th(out, "involuntary", true);
	fputs("</tr></thead><tbody>\n", out);
	for (i = 0; i < n; i++) {
		fputs("<tr>", out);
		td_u(out, t[i]->tid);
		td_u(out, t[i]->pid);
		td_text(out, t[i]->comm, true);
		td_s(out, t[i]->on_cpu_s);
		td_s(out, t[i]->runqueue_s);
		td_s(out, t[i]->blocked_s);
		td_s(out, t[i]->off_cpu_s[WEFT_WAIT_LOCK]);
		td_s(out, t[i]->off_cpu_s[WEFT_WAIT_WAIT]);
		td_s(out, t[i]->off_cpu_s[WEFT_WAIT_IO]);
		td_s(out, t[i]->off_cpu_s[WEFT_WAIT_SLEEP]);
		td_u(out, t[i]->voluntary);
		td_u(out, t[i]->involuntary);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	if (n < m->nr_threads)
		fprintf(out,
			"<p class=\"note\">The %u busiest of %u threads; weft report --format json "
			"lists them all.</p>\n",
			n, m->nr_threads);
	fputs("</section>\n", out);
	free(t);
	return 0;
}

static void processes_table(FILE *out, const struct weft_metrics *m)
{
	unsigned int i, n = m->nr_processes < TABLE_ROWS ? m->nr_processes : TABLE_ROWS;

	fputs("<section id=\"processes\" aria-labelledby=\"h-procs\"><h2 id=\"h-procs\">"
	      "Processes</h2>\n<table class=\"sortable\" id=\"processes-table\"><thead><tr>",
	      out);
	th(out, "pid", true);
	th(out, "parent", true);
	th(out, "comm", false);
	th(out, "threads", true);
	th(out, "on-CPU", true);
	th(out, "peak RSS kB", true);
	fputs("</tr></thead><tbody>\n", out);
	for (i = 0; i < n; i++) {
		const struct weft_process_metrics *p = &m->processes[i];

		fputs("<tr>", out);
		td_u(out, p->pid);
		td_u(out, p->ppid);
		td_text(out, p->comm, true);
		td_u(out, p->threads);
		td_s(out, p->on_cpu_s);
		td_u(out, p->maxrss_kb);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	if (n < m->nr_processes)
		fprintf(out, "<p class=\"note\">The first %u of %u processes.</p>\n", n,
			m->nr_processes);
	fputs("</section>\n", out);
}

static void cpus_table(FILE *out, const struct weft_metrics *m)
{
	unsigned int i;

	fputs("<section id=\"cpus\" aria-labelledby=\"h-cpus\"><h2 id=\"h-cpus\">CPUs</h2>\n"
	      "<table class=\"sortable\" id=\"cpus-table\"><thead><tr>",
	      out);
	th(out, "cpu", true);
	th(out, "traced", true);
	th(out, "other", true);
	th(out, "idle", true);
	th(out, "threads", true);
	th(out, "handoffs", true);
	th(out, "migrations in", true);
	th(out, "migrations out", true);
	fputs("</tr></thead><tbody>\n", out);
	for (i = 0; i < m->ncpu; i++) {
		const struct weft_cpu_metrics *c = &m->cpus[i];

		fputs("<tr>", out);
		td_u(out, c->cpu);
		td_share(out, c->traced);
		if (c->has_totals) {
			td_share(out, c->other);
			td_share(out, c->idle);
		} else {
			fputs("<td class=\"n\">?</td><td class=\"n\">?</td>", out);
		}
		td_u(out, c->threads);
		td_u(out, c->handoffs);
		td_u(out, c->migrations_in);
		td_u(out, c->migrations_out);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></section>\n", out);
}

int output_html(FILE *out, const struct weft_metrics *m, const struct html_opts *o)
{
	char *cmd = output_command_line(m), warn[256];
	int err = 0;

	if (!cmd)
		return -ENOMEM;
	page_begin(out, "weft report", cmd);
	fputs("<a class=\"skip\" href=\"#summary\">Skip to the summary</a>\n<header><h1>weft "
	      "report</h1>\n<p class=\"cmd\"><code>",
	      out);
	html_text(out, cmd);
	fputs("</code>", out);
	if (o->source) {
		fputs(" <span class=\"note\">(", out);
		html_text(out, o->source);
		fputs(")</span>", out);
	}
	fputs("</p>\n", out);
	if (m->lost_events)
		fprintf(out,
			"<p role=\"alert\"><strong>%llu events were lost</strong>: figures may "
			"be incomplete.</p>\n",
			(unsigned long long)m->lost_events);
	if (m->truncated)
		fputs("<p role=\"alert\"><strong>The recording is truncated</strong>: it stopped "
		      "early.</p>\n",
		      out);
	if (m->unread_records || m->unread_sections) {
		fputs("<p role=\"alert\">", out);
		html_text(out, output_unread_line(warn, sizeof(warn), m));
		fputs("</p>\n", out);
	}
	fputs("<p class=\"verdict\"><span class=\"note\">verdict:</span> <span "
	      "data-key=\"verdict\">",
	      out);
	html_text(out, m->verdict);
	fputs("</span></p></header>\n", out);
	fputs("<nav aria-label=\"Sections\"><ul><li><a href=\"#summary\">Summary</a></li>"
	      "<li><a href=\"#parallelism\">Parallelism</a></li>"
	      "<li><a href=\"#cpus-over-time\">CPUs over time</a></li>"
	      "<li><a href=\"#lanes\">Threads over time</a></li>"
	      "<li><a href=\"#off-cpu\">Off-CPU</a></li><li><a href=\"#locks\">Locks</a></li>"
	      "<li><a href=\"#critical\">Critical path</a></li>"
	      "<li><a href=\"#flames\">Flame graphs</a></li>"
	      "<li><a href=\"#threads\">Threads</a></li>"
	      "<li><a href=\"#processes\">Processes</a></li><li><a href=\"#cpus\">CPUs</a></li>"
	      "</ul></nav>\n<main>\n",
	      out);
	summary(out, m, o);
	parallelism(out, m, o->series);
	cpu_strip(out, m, o->series);
	lanes(out, m, o->series);
	off_cpu(out, m);
	locks(out, m, o->out);
	critical_section(out, o->out);
	err = flames(out, o);
	if (!err)
		err = threads_table(out, m);
	processes_table(out, m);
	cpus_table(out, m);
	fputs("</main>\n", out);
	page_end(out, m->version);
	free(cmd);
	if (!err && ferror(out))
		err = -EIO;
	return err;
}

/* ---- the compare page ---- */

int output_html_compare(FILE *out, const char *task, const struct compare_row *rows,
			const struct html_series *const *series, int n)
{
	unsigned int c, nc = compare_columns();
	struct chart_bar *bars = calloc(n ? n : 1, sizeof(*bars));
	char(*texts)[48] = calloc(n ? n : 1, sizeof(*texts));
	char cell[128], title[128];
	double max_span = 0, ymax = 1, *r = NULL, *q = NULL;
	int i, err = 0;

	if (!bars || !texts) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* recordings of one task, compared as files, name it in their notes */
	if (!task && n > 0 && rows[0].task[0] && compare_rows_one_task(rows, n))
		task = rows[0].task;
	snprintf(title, sizeof(title), "weft compare%s%s", task ? ": task " : "", task ? task : "");
	page_begin(out, title, NULL);
	fputs("<a class=\"skip\" href=\"#models\">Skip to the table</a>\n<header><h1>", out);
	html_text(out, title);
	fputs("</h1>\n<p class=\"note\">One task done in each concurrency model, measured on this "
	      "machine's cores. Speedup is against the sequential model's wall (or the first "
	      "row's).</p></header>\n<nav aria-label=\"Sections\"><ul>"
	      "<li><a href=\"#models\">Models</a></li><li><a href=\"#bars\">Side by side</a></li>"
	      "<li><a href=\"#rt\">R(t) of each model</a></li>"
	      "<li><a href=\"#verdicts\">Verdicts</a></li></ul></nav>\n<main>\n",
	      out);

	fputs("<section id=\"models\" aria-labelledby=\"h-models\"><h2 id=\"h-models\">Models"
	      "</h2>\n<div class=\"wide\"><table class=\"sortable\" id=\"models-table\"><thead>"
	      "<tr>",
	      out);
	for (c = 0; c < nc; c++)
		th(out, compare_column_header(c), c > 0);
	fputs("</tr></thead><tbody>\n", out);
	for (i = 0; i < n; i++) {
		fputs("<tr>", out);
		for (c = 0; c < nc; c++) {
			double v;

			compare_cell(cell, sizeof(cell), c, &rows[i], &v);
			if (c == 0) {
				fputs("<th scope=\"row\">", out);
				html_text(out, cell);
				fputs("</th>", out);
			} else if (isnan(v)) {
				fputs("<td class=\"n\">", out);
				html_text(out, cell);
				fputs("</td>", out);
			} else {
				fputs("<td class=\"n\" data-v=\"", out);
				html_num(out, v, 6);
				fputs("\">", out);
				html_text(out, cell);
				fputs("</td>", out);
			}
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div></section>\n", out);

	fputs("<section id=\"bars\" aria-labelledby=\"h-bars\"><h2 id=\"h-bars\">Side by side"
	      "</h2>\n<div class=\"bars-row\">\n",
	      out);
#define BARS(TITLE, EXPR, FMT, SCALE, CLS)                                                      \
	do {                                                                                    \
		for (i = 0; i < n; i++) {                                                       \
			double v_ = (EXPR);                                                     \
			if (v_ < 0)                                                             \
				snprintf(texts[i], sizeof(texts[i]), "unknown");                \
			else                                                                    \
				snprintf(texts[i], sizeof(texts[i]), FMT, v_ *(SCALE));         \
			bars[i] = (struct chart_bar){ rows[i].model, v_ < 0 ? 0 : v_, texts[i], \
						      CLS };                                    \
		}                                                                               \
		chart_hbars(out, TITLE, bars, n);                                               \
	} while (0)
	BARS("Wall time", rows[i].wall_s, "%.3f s", 1, "s-wait");
	BARS("Speedup against the reference", rows[i].speedup, "%.2fx", 1, "s-run");
	BARS("Parallelism (average threads running)", rows[i].parallelism_avg, "%.2f", 1, "s-run");
	BARS("Serialized share of wall", rows[i].serialized_share, "%.1f%%", 100, "s-lock");
	BARS("RSS per worker",
	     rows[i].has_rss_per_worker ? (double)rows[i].rss_per_worker_kb : -1.0, "%.0f kB", 1,
	     "s-sleep");
#undef BARS
	fputs("</div></section>\n", out);

	/* small multiples on one time scale: a column is the same time in
	 * every chart, and a chart is as wide as its model's run */
	fputs("<section id=\"rt\" aria-labelledby=\"h-rt\"><h2 id=\"h-rt\">Threads running, "
	      "R(t), and runnable, Q(t), of each model on one time scale</h2>\n",
	      out);
	r = calloc(HTML_COLUMNS, sizeof(*r));
	q = calloc(HTML_COLUMNS, sizeof(*q));
	if (!r || !q) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* one height for all: the most threads running and runnable at once */
	for (i = 0; i < n; i++) {
		const struct html_series *s = series ? series[i] : NULL;
		unsigned int k;

		if (!s || !s->any)
			continue;
		if (html_series__span_s(s) > max_span)
			max_span = html_series__span_s(s);
		if (series_levels(s, HTML_COLUMNS, s->t0, s->t1, r, q))
			continue;
		for (k = 0; k < HTML_COLUMNS; k++)
			if (r[k] + q[k] > ymax)
				ymax = r[k] + q[k];
	}
	ymax = ceil(ymax - 1e-3);
	for (i = 0; i < n; i++) {
		const struct html_series *s = series ? series[i] : NULL;
		double col_ns = max_span * 1e9 / HTML_COLUMNS;
		unsigned int cols, width;

		fputs("<h3>", out);
		html_text(out, rows[i].model);
		fputs("</h3>\n", out);
		if (!s || !s->any || col_ns <= 0) {
			fputs("<p class=\"note\">No thread ran.</p>\n", out);
			continue;
		}
		cols = (unsigned int)ceil((s->t1 - s->t0) / col_ns);
		if (cols < 1)
			cols = 1;
		if (cols > HTML_COLUMNS)
			cols = HTML_COLUMNS;
		width = 68 + (unsigned int)((CHART_WIDTH - 68) * (double)cols / HTML_COLUMNS);
		if (series_levels(s, cols, s->t0, s->t0 + (__u64)(cols * col_ns), r, q))
			continue;
		chart_levels(out, rows[i].model, r, q, cols, col_ns, 0, ymax, width, 1);
	}
	{
		enum lane_state rq[2] = { LANE_RUN, LANE_QUEUE };

		legend(out, rq, 2);
	}
	fputs("</section>\n<section id=\"verdicts\" aria-labelledby=\"h-verdicts\"><h2 "
	      "id=\"h-verdicts\">Verdicts</h2>\n<dl>\n",
	      out);
	for (i = 0; i < n; i++) {
		fputs("<dt>", out);
		html_text(out, rows[i].model);
		fputs("</dt><dd>", out);
		html_text(out, rows[i].verdict);
		fputs("</dd>\n", out);
	}
	fputs("</dl></section>\n</main>\n", out);
	page_end(out, NULL);
	if (ferror(out))
		err = -EIO;
cleanup:
	free(bars);
	free(texts);
	free(r);
	free(q);
	return err;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame_svg.h"
#include "html_charts.h"

#define FRAME_H 16
#define PAD 10
/* The details line (what the pointer is on) sits under the title, not
 * under the graph: a graph taller than the window scrolls, and the line
 * stays where the reader starts. */
#define TOP 48 /* title, controls, details line */
#define DETAILS_Y 38
#define BOTTOM 10
#define CHAR_W 6.5 /* of the 11px monospace labels, for truncation */

struct node {
	char *name;
	__u64 value;
	__u64 before; /* diff mode: the value in the first profile */
	size_t *kids;
	size_t nkids, cap_kids;
};

struct tree {
	struct node *nodes;
	size_t n, cap;
	unsigned int depth; /* of the deepest frame; the root ("all") is 0 */
};

static long new_node(struct tree *t, const char *name, size_t len)
{
	struct node *grown, *nd;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;

		grown = realloc(t->nodes, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		t->nodes = grown;
		t->cap = cap;
	}
	nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->name = strndup(name, len);
	if (!nd->name)
		return -ENOMEM;
	return t->n++;
}

static long child(struct tree *t, size_t parent, const char *name, size_t len)
{
	struct node *p = &t->nodes[parent];
	size_t i, *grown;
	long k;

	for (i = p->nkids; i > 0; i--) {
		struct node *c = &t->nodes[p->kids[i - 1]];

		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return p->kids[i - 1];
	}
	k = new_node(t, name, len);
	if (k < 0)
		return k;
	p = &t->nodes[parent];
	if (p->nkids == p->cap_kids) {
		size_t cap = p->cap_kids ? p->cap_kids * 2 : 4;

		grown = realloc(p->kids, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		p->kids = grown;
		p->cap_kids = cap;
	}
	p->kids[p->nkids++] = k;
	return k;
}

static int tree_add(struct tree *t, const char *stack, __u64 value, __u64 before)
{
	const char *p = stack, *semi;
	unsigned int depth = 0;
	long at = 0;

	t->nodes[0].value += value;
	t->nodes[0].before += before;
	while (*p) {
		semi = strchr(p, ';');
		if (!semi)
			semi = p + strlen(p);
		at = child(t, at, p, semi - p);
		if (at < 0)
			return at;
		t->nodes[at].value += value;
		t->nodes[at].before += before;
		depth++;
		p = *semi ? semi + 1 : semi;
	}
	if (depth > t->depth)
		t->depth = depth;
	return 0;
}

static void tree_free(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].kids);
	}
	free(t->nodes);
}

/* Colours by a hash of the name, so a function keeps its colour across
 * graphs of one type, in the type's palette; the wakeup separator grey. */
static void color_of(const char *name, enum flame_svg_palette palette, char *buf, size_t size)
{
	unsigned int h = 2166136261u, v1, v2;
	size_t len = strlen(name);
	bool kernel = len > 4 && !strcmp(name + len - 4, "_[k]");
	const char *s;

	for (s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	v1 = h % 64;
	v2 = (h >> 8) % 64;
	if (!strcmp(name, "--"))
		snprintf(buf, size, "rgb(160,160,160)");
	else if (palette == FLAME_SVG_IO && kernel) /* teal */
		snprintf(buf, size, "rgb(%u,%u,%u)", 40 + v1 / 2, 160 + v2 / 2, 170 + v1 / 2);
	else if (palette == FLAME_SVG_IO) /* flamegraph.pl's io: r = g, b high */
		snprintf(buf, size, "rgb(%u,%u,%u)", 80 + v1, 80 + v1, 190 + (v2 * 55) / 64);
	else if (palette == FLAME_SVG_LOCK && kernel) /* purple-red */
		snprintf(buf, size, "rgb(%u,%u,%u)", 150 + v1 / 2, 30 + v2 / 4, 100 + v2 / 2);
	else if (palette == FLAME_SVG_LOCK)
		snprintf(buf, size, "rgb(%u,%u,%u)", 200 + (v1 * 55) / 64, 40 + v2, 40 + v2 / 2);
	else if (kernel)
		snprintf(buf, size, "rgb(%u,%u,%u)", 220 + h % 30, 120 + (h >> 8) % 60, 30);
	else
		snprintf(buf, size, "rgb(%u,%u,%u)", 205 + h % 50, 60 + (h >> 8) % 150,
			 40 + (h >> 16) % 40);
}

/* Diff mode, as flamegraph.pl draws difffolded.pl's output: red where the
 * frame grew from the first profile to the second, blue where it shrank,
 * white where it stayed; the deeper the colour, the larger its change
 * against the largest change of any frame (max_delta). The change is of
 * the counts the frame holds, itself and below. */
static void diff_color(const struct node *nd, double max_delta, char *buf, size_t size)
{
	double d = (double)nd->value - (double)nd->before;
	unsigned int shade = max_delta > 0 ? (unsigned int)(200 * (d < 0 ? -d : d) / max_delta) : 0;

	if (shade > 200)
		shade = 200;
	if (d > 0)
		snprintf(buf, size, "rgb(255,%u,%u)", 255 - shade, 255 - shade);
	else if (d < 0)
		snprintf(buf, size, "rgb(%u,%u,255)", 255 - shade, 255 - shade);
	else
		snprintf(buf, size, "rgb(250,250,250)");
}

static double max_delta(const struct tree *t)
{
	double m = 0, d;
	size_t i;

	for (i = 1; i < t->n; i++) {
		d = (double)t->nodes[i].value - (double)t->nodes[i].before;
		if (d < 0)
			d = -d;
		if (d > m)
			m = d;
	}
	return m;
}

/* A count as a person reads it: microseconds as a duration with its unit
 * (8.99 s, not 8994842 us), anything else as the count and its unit. */
static void format_count(char *buf, size_t size, __u64 v, const char *unit)
{
	if (strcmp(unit, "us"))
		snprintf(buf, size, "%llu %s", (unsigned long long)v, unit);
	else if (v >= 1000000)
		snprintf(buf, size, "%.2f s", v / 1e6);
	else if (v >= 1000)
		snprintf(buf, size, "%.2f ms", v / 1e3);
	else
		snprintf(buf, size, "%llu us", (unsigned long long)v);
}

static void put_label(FILE *out, const char *name, double width)
{
	size_t fit = width > 2 * CHAR_W ? (size_t)(width / CHAR_W) - 1 : 0;
	size_t len = strlen(name);
	char *s;

	if (fit < 3)
		return;
	if (len <= fit) {
		html_text(out, name);
		return;
	}
	s = strndup(name, fit - 2);
	if (!s)
		return;
	html_text(out, s);
	fputs("..", out);
	free(s);
}

static void draw(FILE *out, const struct tree *t, size_t at, unsigned int depth, double x,
		 double scale, const struct flame_svg_opts *o, double maxd)
{
	const struct node *nd = &t->nodes[at];
	double w = nd->value * scale, y = TOP + (double)(t->depth - depth) * FRAME_H, cx = x;
	char color[32], count[48];
	size_t i;

	if (w < FLAME_SVG_MIN_WIDTH)
		return;
	if (o->diff)
		diff_color(nd, maxd, color, sizeof(color));
	else
		color_of(nd->name, o->palette, color, sizeof(color));
	fprintf(out, "<g class=\"f\" data-x=\"%.4f\" data-w=\"%.4f\" data-d=\"%u\" data-n=\"", x, w,
		depth);
	html_text(out, nd->name);
	fputs("\"><title>", out);
	html_text(out, nd->name);
	format_count(count, sizeof(count), nd->value, o->unit);
	if (o->diff) {
		char before[48];

		format_count(before, sizeof(before), nd->before, o->unit);
		fprintf(out, " (%s -> %s, ", before, count);
		if (nd->before)
			fprintf(out, "%+.1f%%)</title>",
				100.0 * ((double)nd->value - (double)nd->before) / nd->before);
		else
			fputs("new)</title>", out);
	} else {
		fprintf(out, " (%s, %.2f%%)</title>", count,
			t->nodes[0].value ? 100.0 * nd->value / t->nodes[0].value : 0);
	}
	fprintf(out,
		"<rect x=\"%.4f\" y=\"%.1f\" width=\"%.4f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>",
		x, y, w, FRAME_H - 1, color);
	fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FRAME_H - 5);
	put_label(out, nd->name, w);
	fputs("</text></g>\n", out);
	for (i = 0; i < nd->nkids; i++) {
		draw(out, t, nd->kids[i], depth + 1, cx, scale, o, maxd);
		cx += t->nodes[nd->kids[i]].value * scale;
	}
}

/* Hover, zoom and search; ES5 so that any viewer that runs scripts in an
 * SVG runs it. */
static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"var W=" /* width */ "%d,P=%d,details,matchedtxt,frames,searching=null;\n"
	"function init(){details=document.getElementById('details').firstChild;"
	"matchedtxt=document.getElementById('matched').firstChild;"
	"frames=document.getElementsByClassName('f');"
	"for(var i=0;i<frames.length;i++){var g=frames[i];"
	"g.onmouseover=function(){details.nodeValue=this.firstChild.firstChild.nodeValue;};"
	"g.onmouseout=function(){details.nodeValue=' ';};"
	"g.onclick=function(){zoom(this);};}}\n"
	"function label(g,w){var t=g.lastChild,n=g.getAttribute('data-n'),"
	"fit=Math.floor(w/6.5)-1;"
	"if(fit<3){t.textContent='';return;}"
	"t.textContent=n.length<=fit?n:n.substring(0,fit-2)+'..';}\n"
	"function place(g,x,w){var r=g.getElementsByTagName('rect')[0];"
	"r.setAttribute('x',x);r.setAttribute('width',w);"
	"g.lastChild.setAttribute('x',x+3);label(g,w);g.style.display='';}\n"
	"function zoom(z){var zx=+z.getAttribute('data-x'),zw=+z.getAttribute('data-w'),"
	"zd=+z.getAttribute('data-d'),k=(W-2*P)/zw;"
	"for(var i=0;i<frames.length;i++){var g=frames[i],x=+g.getAttribute('data-x'),"
	"w=+g.getAttribute('data-w'),d=+g.getAttribute('data-d'),e=1e-6;"
	"if(d<zd){if(x<=zx+e&&x+w>=zx+zw-e)place(g,P,W-2*P);else g.style.display='none';}"
	"else if(x>=zx-e&&x+w<=zx+zw+e)place(g,P+(x-zx)*k,w*k);"
	"else g.style.display='none';}"
	"document.getElementById('unzoom').style.opacity=1;}\n"
	"function unzoom(){for(var i=0;i<frames.length;i++){var g=frames[i];"
	"place(g,+g.getAttribute('data-x'),+g.getAttribute('data-w'));}"
	"document.getElementById('unzoom').style.opacity=0.3;}\n"
	"function search(){var term=searching===null?prompt('Search for (regular expression):',''):"
	"null;var re=null;if(term){try{re=new RegExp(term);}catch(e){return;}}"
	"searching=term||null;var spans=[];"
	"for(var i=0;i<frames.length;i++){var g=frames[i],r=g.getElementsByTagName('rect')[0];"
	"if(!r.getAttribute('data-fill'))r.setAttribute('data-fill',r.getAttribute('fill'));"
	"if(re&&re.test(g.getAttribute('data-n'))){r.setAttribute('fill','rgb(230,0,230)');"
	"spans.push([+g.getAttribute('data-x'),+g.getAttribute('data-w')]);}"
	"else r.setAttribute('fill',r.getAttribute('data-fill'));}"
	"spans.sort(function(a,b){return a[0]-b[0];});var sum=0,end=-1;"
	"for(var j=0;j<spans.length;j++){var s=spans[j][0],e=s+spans[j][1];"
	"if(s>=end){sum+=e-s;end=e;}else if(e>end){sum+=e-end;end=e;}}"
	"matchedtxt.nodeValue=re?'Matched: '+(100*sum/(W-2*P)).toFixed(1)+'%%':' ';"
	"document.getElementById('search').firstChild.nodeValue=re?'Reset search':'Search';}\n"
	"]]></script>\n";

static int write_svg(FILE *out, const struct tree *t, const struct flame_svg_opts *o)
{
	int height = TOP + (t->depth + 1) * FRAME_H + BOTTOM;
	double scale = t->nodes[0].value ? (double)(FLAME_SVG_WIDTH - 2 * PAD) / t->nodes[0].value :
					   0;

	fprintf(out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"onload=\"init()\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		FLAME_SVG_WIDTH, height, FLAME_SVG_WIDTH, height);
	fprintf(out, script, FLAME_SVG_WIDTH, PAD);
	fprintf(out, "<style>text{font-family:monospace;font-size:11px;fill:#000}"
		     ".f:hover rect{stroke:#000;stroke-width:0.5}"
		     "#search,#unzoom{cursor:pointer}</style>\n");
	fprintf(out,
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f0\"/>\n"
		"<text x=\"%d\" y=\"20\" text-anchor=\"middle\" style=\"font-size:15px\">",
		FLAME_SVG_WIDTH, height, FLAME_SVG_WIDTH / 2);
	html_text(out, o->title ? o->title : "Flame graph");
	fprintf(out,
		"</text>\n"
		"<text id=\"unzoom\" x=\"%d\" y=\"20\" onclick=\"unzoom()\" "
		"style=\"opacity:0.3\">Reset zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"20\" onclick=\"search()\">Search</text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
		PAD, FLAME_SVG_WIDTH - PAD - 100, FLAME_SVG_WIDTH - PAD - 150, DETAILS_Y, PAD,
		DETAILS_Y);
	if (t->nodes[0].value)
		draw(out, t, 0, 0, PAD, scale, o, o->diff ? max_delta(t) : 0);
	fputs("</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

static int write_tree(FILE *out, const char *const *stacks, const __u64 *before,
		      const __u64 *values, size_t n, const struct flame_svg_opts *opts)
{
	struct tree t = {};
	int err;
	size_t i;

	err = new_node(&t, "all", 3) < 0 ? -ENOMEM : 0;
	for (i = 0; i < n && !err; i++)
		err = tree_add(&t, stacks[i], values[i], before ? before[i] : 0);
	if (!err)
		err = write_svg(out, &t, opts);
	tree_free(&t);
	return err;
}

int flame_svg__write(FILE *out, const char *const *stacks, const __u64 *values, size_t n,
		     const struct flame_svg_opts *opts)
{
	struct flame_svg_opts o = *opts;

	o.diff = false;
	return write_tree(out, stacks, NULL, values, n, &o);
}

int flame_svg__write_diff(FILE *out, const char *const *stacks, const __u64 *values_a,
			  const __u64 *values_b, size_t n, const struct flame_svg_opts *opts)
{
	struct flame_svg_opts o = *opts;

	o.diff = true;
	return write_tree(out, stacks, values_a, values_b, n, &o);
}

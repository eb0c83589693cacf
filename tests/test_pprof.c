// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The protobuf encoder against the wire format's own examples (decoded by
 * hand here), and the pprof profile of synthetic events: decoded field by
 * field, its sample types add up to weft flame's totals of the same
 * records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "analysis.h"
#include "events.h"
#include "flame.h"
#include "pb.h"
#include "pprof.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "event_builders.h"

#define MS 1000000ULL
#define PID 100
#define T2 101

static void assert_bytes(const struct pb_buf *b, const unsigned char *want, size_t n)
{
	assert_false(b->failed);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
}

/* The examples of protobuf's encoding guide */
static void test_wire_examples(void **state)
{
	static const unsigned char f150[] = { 0x08, 0x96, 0x01 };
	static const unsigned char testing[] = { 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g' };
	static const unsigned char nested[] = { 0x1a, 0x03, 0x08, 0x96, 0x01 };
	static const unsigned char packed[] = { 0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05 };
	const __u64 values[] = { 3, 270, 86942 };
	struct pb_buf b = {}, m = {};

	(void)state;
	pb__uint(&b, 1, 150);
	assert_bytes(&b, f150, sizeof(f150));
	pb__reset(&b);
	pb__string(&b, 2, "testing");
	assert_bytes(&b, testing, sizeof(testing));
	pb__reset(&b);
	pb__uint(&m, 1, 150);
	pb__message(&b, 3, &m);
	assert_bytes(&b, nested, sizeof(nested));
	pb__reset(&b);
	pb__packed(&b, 4, values, 3);
	assert_bytes(&b, packed, sizeof(packed));
	/* proto3 leaves zero out; an empty packed field is not written */
	pb__reset(&b);
	pb__uint_nz(&b, 9, 0);
	pb__packed(&b, 4, values, 0);
	assert_int_equal(b.len, 0);
	pb__free(&b);
	pb__free(&m);
}

/* Every width of varint decodes to what was encoded, int64 -1 in ten bytes */
static void test_varint_round_trip(void **state)
{
	const __u64 values[] = { 0,
				 1,
				 127,
				 128,
				 300,
				 16383,
				 16384,
				 1ULL << 32,
				 10101010ULL * 99,
				 (__u64)-1,
				 (__u64)INT64_MAX };
	struct pb_buf b = {};
	size_t pos = 0, i;
	__u64 v;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		pb__varint(&b, values[i]);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_int_equal(pb__read_varint(b.p, b.len, &pos, &v), 0);
		assert_true(v == values[i]);
	}
	assert_int_equal(pos, b.len);
	assert_int_equal(pb__read_varint(b.p, b.len, &pos, &v), -EINVAL);
	pb__reset(&b);
	pb__varint(&b, (__u64)-1);
	assert_int_equal(b.len, 10);
	pb__free(&b);
}

/* --- a profile decoded by hand --- */

struct decoded {
	char *strings[256];
	unsigned int nstrings;
	__u64 types[8]; /* ValueType.type string ids */
	unsigned int ntypes;
	__u64 totals[8];
	unsigned int samples, locations, functions, mappings, labels;
	__u64 default_type, period;
	bool every_sample_has_location;
};

/* One field: its number, wire type, varint value or bytes */
static bool next_field(const unsigned char *p, size_t len, size_t *pos, unsigned int *field,
		       __u64 *v, const unsigned char **data, size_t *dlen)
{
	__u64 key;

	if (*pos >= len)
		return false;
	assert_int_equal(pb__read_varint(p, len, pos, &key), 0);
	*field = (unsigned int)(key >> 3);
	if ((key & 7) == 0) {
		assert_int_equal(pb__read_varint(p, len, pos, v), 0);
		*data = NULL;
	} else {
		assert_int_equal(key & 7, 2);
		assert_int_equal(pb__read_varint(p, len, pos, v), 0);
		assert_true(*pos + *v <= len);
		*data = p + *pos;
		*dlen = (size_t)*v;
		*pos += *dlen;
	}
	return true;
}

static void decode_sample(struct decoded *d, const unsigned char *p, size_t len)
{
	const unsigned char *data;
	unsigned int field, i = 0;
	size_t pos = 0, dlen = 0, vp;
	bool has_loc = false;
	__u64 v;

	while (next_field(p, len, &pos, &field, &v, &data, &dlen)) {
		if (field == 1)
			has_loc = data && dlen;
		if (field == 3)
			d->labels++;
		if (field != 2)
			continue;
		assert_non_null(data);
		for (vp = 0; vp < dlen; i++) {
			assert_int_equal(pb__read_varint(data, dlen, &vp, &v), 0);
			d->totals[i] += v;
		}
		assert_int_equal(i, d->ntypes);
	}
	if (!has_loc)
		d->every_sample_has_location = false;
}

static void decode(struct decoded *d, const unsigned char *p, size_t len)
{
	const unsigned char *data, *sub;
	unsigned int field, f2;
	size_t pos = 0, dlen = 0, sp, slen = 0;
	__u64 v, v2;

	memset(d, 0, sizeof(*d));
	d->every_sample_has_location = true;
	while (next_field(p, len, &pos, &field, &v, &data, &dlen)) {
		switch (field) {
		case 1: /* sample_type */
			for (sp = 0; next_field(data, dlen, &sp, &f2, &v2, &sub, &slen);)
				if (f2 == 1)
					d->types[d->ntypes] = v2;
			d->ntypes++;
			break;
		case 2:
			d->samples++;
			decode_sample(d, data, dlen);
			break;
		case 3:
			d->mappings++;
			break;
		case 4:
			d->locations++;
			break;
		case 5:
			d->functions++;
			break;
		case 6:
			assert_true(d->nstrings < 256);
			d->strings[d->nstrings++] = strndup((const char *)data, dlen);
			break;
		case 12:
			d->period = v;
			break;
		case 14:
			d->default_type = v;
			break;
		}
	}
}

static void decoded_free(struct decoded *d)
{
	unsigned int i;

	for (i = 0; i < d->nstrings; i++)
		free(d->strings[i]);
}

static int type_index(const struct decoded *d, const char *name)
{
	unsigned int i;

	for (i = 0; i < d->ntypes; i++)
		if (!strcmp(d->strings[d->types[i]], name))
			return (int)i;
	return -1;
}

static bool has_string(const struct decoded *d, const char *s)
{
	unsigned int i;

	for (i = 0; i < d->nstrings; i++)
		if (!strcmp(d->strings[i], s))
			return true;
	return false;
}

static const char stacks_text[] = "s\tu\t100\t1\t2\n"
				  "f\t401010\twork\n"
				  "f\t401100\tmain\n"
				  "s\tu\t100\t2\t3\n"
				  "f\t401310\twait_here\n"
				  "f\t401400\thandle (srv.py:42)\n"
				  "f\t401500\tstart_thread\n"
				  "s\tk\t0\t3\t2\n"
				  "f\tffffffff81000100\tschedule\n"
				  "f\tffffffff81000200\tdo_futex\n";

/* The pprof and two flames (oncpu, offcpu) of one run of synthetic events:
 * a thread computing (sampled) and one blocking three times */
static void test_profile_totals(void **state)
{
	struct analysis_opts o = { .ncpu = 2, .usable_cpus = 2, .end_ns = 100 * MS };
	struct flame_opts on = { .type = FLAME_ONCPU }, off = { .type = FLAME_OFFCPU };
	struct pprof_opts po = { .by = FLAME_BY_PROCESS, .sample_hz = 99 };
	const char *comments[] = { "command: my app", NULL };
	struct pprof_meta meta = { .main_file = "app", .comments = comments };
	static struct synth_events ev;
	struct stack_table *stacks = stack_table__new();
	struct stack_attrib *a;
	struct flame *fon, *foff;
	struct weft_analysis *an = weft_analysis__new(&o);
	const struct weft_metrics *m;
	struct pprof *p;
	struct pb_buf out = {};
	struct decoded d;
	__u64 t;
	size_t i;
	int k;

	(void)state;
	assert_non_null(stacks);
	assert_int_equal(stack_table__decode(stacks, stacks_text, sizeof(stacks_text) - 1), 0);
	a = stack_attrib__new(stacks);
	assert_non_null(a);
	fon = flame__new(&on, a);
	foff = flame__new(&off, a);
	p = pprof__new(&po, a);
	assert_non_null(fon);
	assert_non_null(foff);
	assert_non_null(p);
	weft_analysis__set_slice_observer(an, stack_attrib__slice, a);
	synth_task_state(&ev, 0, PID, PID, 0, "my app");
	synth_task_state(&ev, 0, T2, PID, 1, "worker");
	for (t = MS; t < 90 * MS; t += 10 * MS / 3)
		synth_sample(&ev, t, PID, PID, 0, 1, -EFAULT);
	for (k = 0; k < 3; k++) {
		t = (10 + 30 * k) * MS;
		synth_sample(&ev, t - MS, T2, PID, 1, 2, -EFAULT);
		synth_block(&ev, t, T2, PID, 1, 2, 3);
		synth_wake_run(&ev, t + (7 + k) * MS + 333333, T2, PID, 1, PID, 1, 3);
	}
	synth_sort(&ev);
	for (i = 0; i < ev.n; i++) {
		assert_int_equal(stack_attrib__feed(a, &ev.evs[i].hdr), 0);
		assert_int_equal(weft_analysis__feed(an, &ev.evs[i].hdr), 0);
	}
	m = weft_analysis__finish(an);
	assert_non_null(m);
	assert_int_equal(flame__finish(fon, m), 0);
	assert_int_equal(flame__finish(foff, m), 0);
	assert_int_equal(pprof__finish(p, m), 0);
	assert_int_equal(pprof__encode(p, &meta, &out), 0);

	decode(&d, out.p, out.len);
	assert_true(d.nstrings > 0);
	assert_string_equal(d.strings[0], "");
	assert_int_equal(d.ntypes, 4); /* no run-queue stacks */
	assert_string_equal(d.strings[d.default_type], "cpu");
	assert_int_equal(d.period, 1000000000 / 99);
	assert_int_equal(d.mappings, 2);
	assert_true(d.locations > 0);
	assert_int_equal(d.locations, d.functions);
	assert_true(d.every_sample_has_location);
	assert_true(d.labels >= 3 * d.samples);
	assert_true(d.totals[type_index(&d, "samples")] == ev.samples);
	/* an interpreter frame's function has its name and file apart */
	assert_true(has_string(&d, "handle"));
	assert_true(has_string(&d, "srv.py"));
	assert_false(has_string(&d, "handle_(srv.py:42)"));
	/* kernel frames lose their suffix, in a mapping of their own */
	assert_true(has_string(&d, "do_futex"));
	assert_true(has_string(&d, "[kernel.kallsyms]"));
	assert_true(has_string(&d, "command: my app"));
	assert_true(d.totals[type_index(&d, "samples")] == flame__total(fon));
	assert_true(d.totals[type_index(&d, "cpu")] == ev.samples * (1000000000 / 99));
	/* 3 waits of 7.33, 8.33, 9.33 ms: the flame's rounding to us is all
	 * that differs */
	assert_true(d.totals[type_index(&d, "off_cpu")] == 24 * MS + 3 * 333333);
	assert_true(llabs((long long)flame__total(foff) * 1000 -
			  (long long)d.totals[type_index(&d, "off_cpu")]) <=
		    500 * (long long)flame__count(foff));
	assert_true(d.totals[type_index(&d, "off_cpu")] == pprof__total(p, PPROF_OFFCPU));
	decoded_free(&d);

	pb__free(&out);
	pprof__free(p);
	flame__free(fon);
	flame__free(foff);
	stack_attrib__free(a);
	weft_analysis__free(an);
	stack_table__free(stacks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_examples),
		cmocka_unit_test(test_varint_round_trip),
		cmocka_unit_test(test_profile_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The stack table: ids noted from records, addresses set, symbolized
 * without a machine (no maps, no kallsyms: "[unknown]"), and the STACKS
 * section round-trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>

#include "events.h"
#include "perf_map.h"
#include "stacks.h"

static int setup(void **state)
{
	*state = stack_table__new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	stack_table__free(*state);
	return 0;
}

/* Every stack holds its key and frames; names once symbolized. */
static void check_table(const struct stack_table *t, bool named)
{
	size_t i;
	unsigned int f;

	for (i = 0; i < stack_table__count(t); i++) {
		const struct weft_stack *st = stack_table__at(t, i);

		assert_non_null(st);
		assert_true(st->id >= 0);
		if (!st->user)
			assert_int_equal(st->tgid, 0);
		assert_ptr_equal(stack_table__get(t, st->user, st->tgid, st->id), st);
		for (f = 0; f < st->nframes; f++)
			if (named)
				assert_non_null(st->frames[f].name);
	}
}

static void test_note_event(void **state)
{
	struct stack_table *t = *state;
	struct weft_ev_switch sw = { .hdr = { .type = WEFT_EV_SWITCH } };
	struct weft_ev_sample sa = { .hdr = { .type = WEFT_EV_SAMPLE } };
	struct weft_ev_wakeup wk = { .hdr = { .type = WEFT_EV_WAKEUP } };

	sw.prev_tgid = 100;
	sw.user_stack_id = 7;
	sw.kernel_stack_id = 8;
	stack_table__note_event(t, &sw.hdr);
	sa.tgid = 200;
	sa.user_stack_id = 7; /* same id, other process: another stack */
	sa.kernel_stack_id = -EFAULT; /* no stack */
	stack_table__note_event(t, &sa.hdr);
	wk.waker_tgid = 100;
	wk.waker_user_stack_id = 7; /* the same as the switch's */
	wk.waker_kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	stack_table__note_event(t, &wk.hdr);
	assert_int_equal(stack_table__count(t), 3);
	assert_non_null(stack_table__get(t, true, 100, 7));
	assert_non_null(stack_table__get(t, true, 200, 7));
	assert_non_null(stack_table__get(t, false, 0, 8));
	/* a kernel stack is the same whatever tgid is asked */
	assert_ptr_equal(stack_table__get(t, false, 55, 8), stack_table__get(t, false, 0, 8));
	assert_null(stack_table__get(t, false, 0, 7));
	assert_null(stack_table__get(t, true, 100, -1));
	check_table(t, false);
}

static void test_round_trip(void **state)
{
	struct stack_table *t = *state, *back;
	const __u64 user[] = { 0x401234, 0x401100, 0x7f0000001000 };
	const __u64 kern[] = { 0xffffffff81000010ULL, 0xffffffff81000020ULL };
	const struct weft_stack *a, *b;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0, i;
	unsigned int f;

	assert_int_equal(stack_table__set(t, true, 42, 3, user, 3), 0);
	assert_int_equal(stack_table__set(t, false, 0, 4, kern, 2), 0);
	assert_int_equal(stack_table__note(t, true, 42, 9), 0); /* never filled: left out */
	assert_int_equal(stack_table__symbolize(t, NULL, NULL, NULL, NULL), 0);
	check_table(t, true);
	assert_string_equal(stack_table__get(t, true, 42, 3)->frames[0].name, "[unknown]");
	assert_int_equal(stack_table__encode(t, &buf, &len), 0);
	back = stack_table__new();
	assert_non_null(back);
	assert_int_equal(stack_table__decode(back, buf, len), 0);
	assert_int_equal(stack_table__count(back), 2);
	check_table(back, true);
	for (i = 0; i < stack_table__count(back); i++) {
		b = stack_table__at(back, i);
		a = stack_table__get(t, b->user, b->tgid, b->id);
		assert_non_null(a);
		assert_int_equal(a->nframes, b->nframes);
		for (f = 0; f < a->nframes; f++) {
			assert_true(a->frames[f].addr == b->frames[f].addr);
			assert_string_equal(a->frames[f].name, b->frames[f].name);
		}
	}
	/* encoding what was decoded gives the same bytes */
	assert_int_equal(stack_table__encode(back, &buf2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
	stack_table__free(back);
}

static bool jit_name_42(void *ctx, __u32 tgid, __u64 addr, const char **name)
{
	__u64 offset;

	return tgid == 42 && perf_map__find(ctx, addr, name, &offset);
}

/* Frames in no ELF file take the names of the process's perf map; a
 * return address is looked up at addr - 1, as ELF frames are. */
static void test_jit_names(void **state)
{
	const char text[] = "7f0000001000 100 JS:~computeHash /app/hash.js:1:21\n"
			    "7f0000002000 4 _ZN3jit4stubEv\n"
			    "7f0000004000 10 py::work:/app/w.py\n";
	const __u64 user[] = { 0x7f0000001010, 0x7f0000002004, 0x7f0000003000, 0x7f0000004000,
			       WEFT_STACK_CUT_SHORT };
	struct perf_map *pm = perf_map__parse(text, sizeof(text) - 1);
	struct stack_table *t = *state;
	const struct weft_stack *st;

	assert_non_null(pm);
	assert_int_equal(stack_table__set(t, true, 42, 1, user, 5), 0);
	assert_int_equal(stack_table__set(t, true, 43, 1, user, 5), 0);
	stack_table__set_jit_names(t, jit_name_42, pm);
	assert_int_equal(stack_table__symbolize(t, NULL, NULL, NULL, NULL), 0);
	st = stack_table__get(t, true, 42, 1);
	assert_string_equal(st->frames[0].name, "JS:~computeHash /app/hash.js:1:21");
	/* demangled, as ELF names are */
	assert_string_equal(st->frames[1].name, "jit::stub()");
	assert_string_equal(st->frames[2].name, "[unknown]");
	/* 0x7f0000004000 - 1 is in no line */
	assert_string_equal(st->frames[3].name, "[unknown]");
	assert_string_equal(st->frames[4].name, "[unknown]");
	/* another process: its own map, none here */
	st = stack_table__get(t, true, 43, 1);
	assert_string_equal(st->frames[0].name, "[unknown]");
	perf_map__free(pm);
}

static void test_decode_names_and_faults(void **state)
{
	struct stack_table *t = *state;
	static const char good[] = "s\tu\t7\t1\t2\n"
				   "f\t401000\tdo work\n" /* spaces are kept here */
				   "f\t402000\tlibfoo.so+0x10\n"
				   "x\tsome later line kind\n"
				   "s\tk\t0\t2\t1\n"
				   "f\tffffffff81000000\tschedule\n";
	static const char cut[] = "s\tu\t7\t5\t3\nf\t1\ta\n";
	static const char bad[] = "s\tq\t7\t1\t2\n";
	const struct weft_stack *st;

	assert_int_equal(stack_table__decode(t, good, sizeof(good) - 1), 0);
	st = stack_table__get(t, true, 7, 1);
	assert_non_null(st);
	assert_int_equal(st->nframes, 2);
	assert_string_equal(st->frames[0].name, "do work");
	assert_true(st->frames[1].addr == 0x402000);
	st = stack_table__get(t, false, 0, 2);
	assert_non_null(st);
	assert_string_equal(st->frames[0].name, "schedule");
	assert_int_equal(stack_table__decode(t, cut, sizeof(cut) - 1), -EINVAL);
	assert_int_equal(stack_table__decode(t, bad, sizeof(bad) - 1), -EINVAL);
	/* a section without its last newline */
	assert_int_equal(stack_table__decode(t, good, sizeof(good) - 2), -EINVAL);
	check_table(t, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_note_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jit_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_names_and_faults, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

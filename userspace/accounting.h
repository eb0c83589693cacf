/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The accounting check (DESIGN.md, "Metrics"): how well weft's figures
 * agree with the kernel's own, per thread and for the whole tree. The
 * analysis hands over each thread's figures; the check fills the
 * metrics' accounting and each thread's. */
#ifndef __WEFT_ACCOUNTING_H
#define __WEFT_ACCOUNTING_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct weft_metrics;

/* One thread from its baseline (its first record, or the attach) to its
 * end (its exit, or the end of the recording): what weft counted and what
 * the kernel counted; known false when either end is missing. */
struct acct_thread {
	bool known;
	__u64 weft_on_ns, kern_on_ns;
	__u64 weft_rq_ns, kern_rq_ns;
	__u64 switches; /* voluntary and involuntary */
};

/* t[i] is m->threads[i]'s, for i < n; switches is the tree's. Fills
 * m->accounting and each checked thread's acct_* and kernel_* figures. */
void accounting__check(const struct acct_thread *t, size_t n, __u64 switches,
		       struct weft_metrics *m);

#endif /* __WEFT_ACCOUNTING_H */

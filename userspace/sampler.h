/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder's on-CPU sampler: the sampling program attached to a
 * cpu-clock perf event on every CPU. Record side only. */
#ifndef __WEFT_SAMPLER_H
#define __WEFT_SAMPLER_H

struct bpf_program;

/* On-CPU sampling: prog attached to a software cpu-clock perf event at hz
 * on every online CPU. NULL and errno on failure (one line on stderr). */
struct stack_sampler;
struct stack_sampler *stack_sampler__start(struct bpf_program *prog, unsigned int hz);
/* Detaches and closes; NULL is fine. */
void stack_sampler__free(struct stack_sampler *s);

#endif /* __WEFT_SAMPLER_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture of tests/test_unwind.c, compiled by it at run time with
 * -fomit-frame-pointer into a shared library: a chain of calls whose
 * frames only the CFI describes. Each level has a frame of its own shape
 * (locals; callee-saved registers pushed; rbp saved and used as a
 * general register, holding a value a frame-pointer walk cannot follow),
 * records its return address and the rbp it was called with, and the
 * innermost copies the stack it runs on for the test to unwind. */
#include "nofp_lib.h"

#define NOINLINE __attribute__((noinline, noclone))

/* After a call, so that it is not a tail call (whose frame would be gone) */
#define NO_TAIL_CALL() asm volatile("" ::: "memory")

static inline __attribute__((always_inline)) uint64_t read_rbp(void)
{
	uint64_t bp;

	asm volatile("mov %%rbp, %0" : "=r"(bp));
	return bp;
}

/* Also the widest frame: the CFA is far from rsp. */
NOINLINE void nofp_level3(struct nofp_capture *c)
{
	volatile uint64_t locals[80];
	const volatile uint64_t *src;
	uint64_t pc, sp, bp, *dst;
	size_t i, n;

	c->entry_bp[3] = read_rbp();
	c->ret[3] = (uint64_t)__builtin_return_address(0);
	locals[0] = c->ret[3];
	locals[79] = locals[0];
	/* One statement, so that pc, sp and bp belong to one instant. */
	asm volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
		     : "=r"(pc), "=r"(sp), "=r"(bp));
	c->pc = pc;
	c->sp = sp;
	c->bp = bp;
	n = c->stack_hi > sp ? c->stack_hi - sp : 0;
	if (n > c->cap)
		n = c->cap;
	/* Word by word through volatile: not a memcpy() call, which a
	 * sanitizer would check against the poisoned parts of the test's
	 * frame. */
	src = (const volatile uint64_t *)sp;
	dst = (uint64_t *)c->image;
	for (i = 0; i < n / 8; i++)
		dst[i] = src[i];
	c->len = n / 8 * 8;
}

/* Pushes five callee-saved registers (not rbp). */
NOINLINE void nofp_level2(struct nofp_capture *c)
{
	c->entry_bp[2] = read_rbp();
	c->ret[2] = (uint64_t)__builtin_return_address(0);
	asm volatile("" ::: "rbx", "r12", "r13", "r14", "r15", "memory");
	nofp_level3(c);
	NO_TAIL_CALL();
}

/* Saves rbp and puts another value in it. */
NOINLINE void nofp_level1(struct nofp_capture *c)
{
	volatile uint64_t locals[3];

	c->entry_bp[1] = read_rbp();
	c->ret[1] = (uint64_t)__builtin_return_address(0);
	locals[0] = c->ret[1];
	asm volatile("movabs %0, %%rbp" ::"i"(NOFP_RBP_LEVEL1) : "rbp");
	nofp_level2(c);
	NO_TAIL_CALL();
	locals[2] = locals[0];
}

/* The entry point: saves rbp and r12, puts another value in rbp. */
NOINLINE void nofp_run(struct nofp_capture *c)
{
	volatile uint64_t locals[9];

	c->entry_bp[0] = read_rbp();
	c->ret[0] = (uint64_t)__builtin_return_address(0);
	locals[0] = c->ret[0];
	asm volatile("movabs %0, %%rbp" ::"i"(NOFP_RBP_LEVEL0) : "rbp", "r12");
	nofp_level1(c);
	NO_TAIL_CALL();
	locals[8] = locals[0];
}

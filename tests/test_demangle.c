// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* demangle(): C++ names as perf shows them; everything else left alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "demangle.h"

static void expect(const char *mangled, const char *shown)
{
	char *out = demangle(mangled);

	if (!shown) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, shown);
	free(out);
}

static void test_cxx_names(void **state)
{
	(void)state;
	expect("_ZN2v88internal4Heap8ScavengeEv", "v8::internal::Heap::Scavenge()");
	expect("_ZN4node5StartEiPPc", "node::Start(int, char**)");
	expect("_ZNSt6vectorIiSaIiEE9push_backERKi",
	       "std::vector<int, std::allocator<int> >::push_back(int const&)");
	expect("_ZN12_GLOBAL__N_14workEv", "(anonymous namespace)::work()");
	/* GCC's clones, as perf shows them */
	expect("_ZN3fix6scaledEi.cold", "fix::scaled(int) [clone .cold]");
	/* a mangled variable (a lock's name) */
	expect("_ZN3app4lockE", "app::lock");
}

static void test_left_alone(void **state)
{
	(void)state;
	expect(NULL, NULL);
	expect("", NULL);
	expect("main", NULL);
	/* __cxa_demangle would read these as types ("int") */
	expect("i", NULL);
	expect("Builtins_JSEntry", NULL);
	expect("JS:~computeHash /tmp/busy.js:1:21", NULL);
	expect("_GLOBAL__sub_I_main", NULL);
	/* mangled-looking but invalid */
	expect("_Z", NULL);
	expect("_ZN3foo", NULL);
	expect("_Zgarbage!", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cxx_names),
		cmocka_unit_test(test_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

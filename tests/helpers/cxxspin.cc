// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A C++ program for test_jit: its on-CPU time is in a member of a class
 * template in a namespace, called through a function with a double
 * parameter, so its frames have mangled names
 * (_ZN8weftdemo7SpinnerIlE4spinEl) that weft must show demangled, as perf
 * does: weftdemo::Spinner<long>::spin(long). Spins for argv[1] seconds;
 * with "lock" as argv[2], two threads take turns on a mutex whose name is
 * mangled too (_ZN8weftdemo10table_lockE: weftdemo::table_lock). */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

namespace weftdemo
{
static double now_s()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

template <typename T> class Spinner {
    public:
	__attribute__((noinline, noipa)) T spin(long rounds)
	{
		T acc = 0;

		for (long i = 0; i < rounds; i++) {
			acc += (T)(i ^ (i >> 3));
			__asm__ volatile("" : "+r"(acc));
		}
		return acc;
	}
};

__attribute__((noinline, noipa)) long run_for(double seconds)
{
	Spinner<long> spinner;
	double end = now_s() + seconds;
	long sum = 0;

	while (now_s() < end)
		sum += spinner.spin(200000);
	return sum;
}
std::mutex table_lock;

/* Spins with table_lock held, then lets the other thread have it */
__attribute__((noinline, noipa)) long locked_work(double seconds)
{
	Spinner<long> spinner;
	double end = now_s() + seconds;
	long sum = 0;

	while (now_s() < end) {
		std::lock_guard<std::mutex> hold(table_lock);

		sum += spinner.spin(200000);
	}
	return sum;
}
} // namespace weftdemo

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	long other = 0;

	if (argc > 2 && !strcmp(argv[2], "lock")) {
		std::thread t([&] { other = weftdemo::locked_work(seconds); });

		long mine = weftdemo::locked_work(seconds);

		t.join();
		printf("%ld\n", mine + other);
		return 0;
	}
	printf("%ld\n", weftdemo::run_for(seconds));
	return 0;
}

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python programs whose frames test_python.py looks for, one per mode,
each running for about SECONDS (Python frames begin once the recorder has
read the process's maps, so none is shorter than a second). Runs on
CPython 3.6 and later: no newer syntax."""
import os
import sys
import threading
import time


def cpu_bound_task(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu_worker(deadline):
    while time.monotonic() < deadline:
        cpu_bound_task(20000)


def threads(seconds):
    """CPU work in 4 Python threads: they take turns on the GIL"""
    deadline = time.monotonic() + seconds
    ts = [threading.Thread(target=cpu_worker, args=(deadline,)) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def counted_worker(calls):
    for _ in range(calls):
        cpu_bound_task(20000)


def threads_work(calls):
    """a fixed amount of CPU work in 4 Python threads (make bench: the wall
    time is the workload's)"""
    ts = [threading.Thread(target=counted_worker, args=(int(calls),)) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def napper(seconds):
    time.sleep(seconds)


def reader(fd):
    return os.read(fd, 1)


def sleep_read(seconds):
    """one thread sleeps, another reads a pipe that the main thread
    writes after the same time"""
    r, w = os.pipe()
    t1 = threading.Thread(target=napper, args=(seconds,))
    t2 = threading.Thread(target=reader, args=(r,))
    t1.start()
    t2.start()
    time.sleep(seconds)
    os.write(w, b"x")
    t1.join()
    t2.join()


def event_loop(seconds):
    """an asyncio loop waiting on timers: epoll_wait under the loop"""
    import asyncio

    async def ticker(n):
        for _ in range(n):
            await asyncio.sleep(0.05)

    async def main_coro():
        await asyncio.gather(*[ticker(int(seconds / 0.05)) for _ in range(3)])

    loop = asyncio.new_event_loop()
    loop.run_until_complete(main_coro())
    loop.close()


def square_sum(n):
    deadline = time.monotonic() + 0.25
    total = 0
    while time.monotonic() < deadline:
        total += cpu_bound_task(n)
    return total


def pool(seconds):
    """a multiprocessing.Pool of 2 workers mapping square_sum"""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as p:
        p.map(square_sum, [20000] * int(seconds * 8))


def recurse(depth, deadline):
    if depth > 0:
        return recurse(depth - 1, deadline)
    while time.monotonic() < deadline:
        cpu_bound_task(20000)
    return 0


def deep(seconds):
    """on-CPU work at the bottom of a recursion 100 deep"""
    recurse(100, time.monotonic() + seconds)


MODES = {
    "threads": threads,
    "threads_work": threads_work,
    "sleep_read": sleep_read,
    "event_loop": event_loop,
    "pool": pool,
    "deep": deep,
}

if __name__ == "__main__":
    sys.setrecursionlimit(1000)
    MODES[sys.argv[1]](float(sys.argv[2]) if len(sys.argv) > 2 else 1.5)

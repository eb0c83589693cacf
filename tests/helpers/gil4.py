# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Four CPython threads computing at once: they take turns on the GIL, so
# the wait-for graph must have edges between them through the GIL's address.
# usage: python3 gil4.py [SECONDS]
import sys
import threading
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def spin(i):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for _ in range(1000):
            n += 1
    return n


threads = [threading.Thread(target=spin, args=(i,), name="spin%d" % i) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("gil4: done")

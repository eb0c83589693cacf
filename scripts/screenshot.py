#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A screenshot of a weft HTML page (weft report or compare --format html)
in headless Chromium with the network off: the README's pictures.

usage: scripts/screenshot.py PAGE.html OUT.png [--width W] [--height H]
                             [--top Y] [--dark]
The top H pixels (from Y) of the page laid out W pixels wide; --dark
emulates prefers-color-scheme: dark. Console errors are printed and make
the exit status 1."""
import argparse
import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))
import browser  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="Screenshot a weft HTML page.")
    ap.add_argument("page")
    ap.add_argument("out")
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--height", type=int, default=1200)
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--dark", action="store_true")
    a = ap.parse_args()
    try:
        chromium = browser.chromium_or_skip()
    except browser.Skip as e:
        sys.exit(f"screenshot: {e}")
    view = browser.Page(chromium, width=a.width, height=900)
    try:
        view.watch_requests()
        if a.dark:
            view.call("Emulation.setEmulatedMedia", session=True,
                      features=[{"name": "prefers-color-scheme", "value": "dark"}])
        view.open("file://" + os.path.abspath(a.page), "document.readyState === 'complete'")
        data = view.call("Page.captureScreenshot", session=True, format="png",
                         captureBeyondViewport=True,
                         clip={"x": 0, "y": a.top, "width": a.width, "height": a.height,
                               "scale": 1})["data"]
        with open(a.out, "wb") as f:
            f.write(base64.b64decode(data))
        said = view.warnings()
    finally:
        view.close()
    for level, text in said:
        print(f"screenshot: the page said ({level}): {text}", file=sys.stderr)
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main())

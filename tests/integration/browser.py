# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Opens a page in headless Chromium (Debian's chromium) over the DevTools
protocol on a pipe (Python's standard library only) and hands back what a
person would see and what the page said: its console warnings and errors,
uncaught exceptions, a screenshot. Tests that need it skip with one line
when chromium or speedscope cannot be installed (scripts/deps.sh browser)."""
import base64
import functools
import http.server
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time

from harness import Skip

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def browser_or_skip(build):
    """(chromium path, speedscope's index.html), installing them first"""
    npm = os.path.join(build, "npm")
    page = os.path.join(npm, "node_modules", "speedscope", "dist", "release", "index.html")
    if not shutil.which("chromium") or not os.path.exists(page):
        r = subprocess.run([os.path.join(REPO, "scripts", "deps.sh"), "browser", npm],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            raise Skip(f"chromium or speedscope could not be installed: "
                       f"{(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return shutil.which("chromium"), page


def chromium_or_skip():
    """chromium's path, installing it first (the HTML pages need nothing
    else)"""
    if not shutil.which("chromium"):
        r = subprocess.run([os.path.join(REPO, "scripts", "deps.sh"), "chromium"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode or not shutil.which("chromium"):
            raise Skip(f"chromium could not be installed: "
                       f"{(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return shutil.which("chromium")


class Server:
    """serves a folder on 127.0.0.1 (speedscope loads a profile URL only
    over http, not from file:)"""
    def __init__(self, folder):
        handler = functools.partial(Quiet, directory=folder)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def speedscope_folder(page, tmp):
    """a folder with speedscope's page in it, for Server; returns its path"""
    folder = os.path.join(tmp, "www")
    shutil.copytree(os.path.dirname(page), folder)
    return folder


class Page:
    def __init__(self, chromium, width=1400, height=900):
        self.profile = tempfile.mkdtemp(prefix="weft-chromium-")
        r_ours, w_theirs = os.pipe()  # they write on fd 4
        r_theirs, w_ours = os.pipe()  # they read on fd 3
        os.set_inheritable(r_theirs, True)
        os.set_inheritable(w_theirs, True)

        def fds():
            os.dup2(r_theirs, 3)
            os.dup2(w_theirs, 4)
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--enable-unsafe-swiftshader", f"--user-data-dir={self.profile}",
             "--no-first-run", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(r_theirs)
        os.close(w_theirs)
        self.rfd, self.wfd = r_ours, w_ours
        self.buf = b""
        self.next_id = 0
        self.console = []  # (level, text)
        self.requests = []  # URLs asked for, after watch_requests()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for m in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(m, session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width,
                  height=height, deviceScaleFactor=1, mobile=False)

    def _read(self, timeout):
        end = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise EOFError("chromium exited")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def _event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            self.console.append((p["type"], text))
        elif method == "Log.entryAdded":
            self.console.append((p["entry"]["level"], p["entry"]["text"]))
        elif method == "Page.javascriptDialogOpening":
            # an alert blocks the page: note it, close it
            self.console.append(("dialog", p["message"]))
            self.next_id += 1
            os.write(self.wfd, json.dumps({
                "id": -self.next_id, "method": "Page.handleJavaScriptDialog",
                "params": {"accept": True}, "sessionId": self.session}).encode() + b"\0")
        elif method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.console.append(("exception", d.get("exception", {}).get("description",
                                                                         d.get("text"))))

    def call(self, method, session=False, timeout=60, **params):
        self.next_id += 1
        my_id = self.next_id
        msg = {"id": my_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        while True:
            r = self._read(timeout)
            if r.get("id") == my_id:
                if "error" in r:
                    raise RuntimeError(f"{method}: {r['error']}")
                return r["result"]
            self._event(r)

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._event(self._read(end - time.monotonic()))
            except TimeoutError:
                break

    def watch_requests(self, offline=True):
        """notes every URL the page asks for in self.requests; offline: the
        network is down for it (nothing outside a file can load)"""
        self.call("Network.enable", session=True)
        if offline:
            self.call("Network.emulateNetworkConditions", session=True, offline=True,
                      latency=0, downloadThroughput=-1, uploadThroughput=-1)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", session=True, expression=expr, returnByValue=True)
        return r["result"].get("value")

    def open(self, url, ready_js, timeout=60):
        """navigates and waits until ready_js is true in the page"""
        self.call("Page.navigate", session=True, url=url)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.evaluate(ready_js):
                self.pump(0.5)
                return
            self.pump(0.25)
            said = [t for lvl, t in self.console if lvl == "dialog"]
            if said:
                raise RuntimeError(f"the page said: {said[0]}")
        raise TimeoutError(f"page not ready ({ready_js}) after {timeout} s")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def warnings(self):
        """what the page warned of; the GPU emulation's own driver notes
        ("[.WebGL-0x...]GL Driver Message ...") are Chromium's, not the page's"""
        return [(lvl, t) for lvl, t in self.console
                if lvl in ("warning", "error", "exception", "assert", "dialog")
                and not t.startswith("[.WebGL-")]

    def close(self):
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            os.close(self.rfd)
            os.close(self.wfd)
            shutil.rmtree(self.profile, ignore_errors=True)


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced
    PNG, as Chromium writes its screenshots (zlib only, no imaging
    library)"""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color in (2, 6), "unexpected PNG kind"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def ink_share(path):
    """the share of a screenshot's pixels that differ from its most common
    colour (its background): 0 for a blank page"""
    import collections
    w, h, bpp, rows = png_pixels(path)
    counts = collections.Counter()
    for row in rows[::4]:
        for x in range(0, w * bpp, 4 * bpp):
            counts[row[x:x + 3]] += 1
    total = sum(counts.values())
    return 1 - counts.most_common(1)[0][1] / total if total else 0

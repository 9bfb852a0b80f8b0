#!/usr/bin/env python3
"""Lambda: a node handler returning a constant, invoked through the Invoke API over one
keep-alive connection per client thread.

- warm round trip p50 / p99 (1 sandbox, sequential)
- invocations per second with 1 and with 8 warm sandboxes (8 client threads)
- cold start: first Invoke of a new function (spawn + node start + handler load), against
  `node -e ''` on the same machine
- stratus's own RSS per idle sandbox (10 functions warmed, RSS before and after)
Results are printed, and appended as notes to $BENCH_RESULTS when run by bench/run.sh.
Numbers are noisy on a shared 2-core machine."""

import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
os.environ.setdefault("STRATUS_BIN", os.environ.get("STRATUS_BIN") or "")
from daemon import Daemon  # noqa: E402

N = int(os.environ.get("LAMBDA_BENCH_N", "2000"))
SECONDS = float(os.environ.get("BENCH_DURATION", "5"))


def zip_of(src):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", src)
    return buf.getvalue()


def create(lam, name, concurrency=None):
    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role="arn:aws:iam::000000000000:role/r",
                        Handler="index.handler", Code={"ZipFile": zip_of("exports.handler = async () => 42;")})
    if concurrency:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=concurrency)


def invoke(conn, name):
    conn.request("POST", "/2015-03-31/functions/%s/invocations" % name, body=b"{}")
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200 and body == b"42", (r.status, body)


def rate(port, name, threads):
    stop = time.time() + SECONDS
    counts = [0] * threads

    def run(i):
        c = http.client.HTTPConnection("127.0.0.1", port)
        while time.time() < stop:
            invoke(c, name)
            counts[i] += 1
    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / SECONDS


def main():
    d = Daemon("--log-level", "warn", "--lambda-concurrency", "8").start()
    notes = []
    try:
        lam = d.client("lambda")
        create(lam, "warm1", concurrency=1)
        c = http.client.HTTPConnection("127.0.0.1", d.port)
        for _ in range(50):
            invoke(c, "warm1")
        lat = []
        for _ in range(N):
            t0 = time.perf_counter()
            invoke(c, "warm1")
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        notes.append("warm Invoke round trip p50 %.3f ms, p99 %.3f ms (%d calls, 1 sandbox)"
                     % (lat[len(lat) // 2], lat[int(len(lat) * 0.99)], N))
        notes.append("%.0f inv/s with 1 sandbox" % rate(d.port, "warm1", 1))
        create(lam, "warm8", concurrency=8)
        rate(d.port, "warm8", 8)  # warms 8 sandboxes
        notes.append("%.0f inv/s with 8 sandboxes (8 client threads)" % rate(d.port, "warm8", 8))
        colds = []
        for i in range(5):
            create(lam, "cold%d" % i)
            t0 = time.perf_counter()
            invoke(c, "cold%d" % i)
            colds.append((time.perf_counter() - t0) * 1000)
        nodes = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(["node", "-e", ""], check=True)
            nodes.append((time.perf_counter() - t0) * 1000)
        notes.append("cold start (first Invoke) median %.1f ms vs `node -e ''` median %.1f ms"
                     % (statistics.median(colds), statistics.median(nodes)))
        before = d.rss_kb()
        for i in range(10):
            create(lam, "idle%d" % i)
            invoke(c, "idle%d" % i)
        time.sleep(0.5)
        after = d.rss_kb()
        notes.append("stratus RSS per idle sandbox %.0f KB" % ((after - before) / 10))
    finally:
        d.stop()
    out = os.environ.get("BENCH_RESULTS")
    for n in notes:
        print(n)
        if out:
            with open(out, "a") as f:
                f.write("note\tlambda\t%s\n" % n)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CloudWatch Logs: FilterLogEvents over 1,000,000 stored log lines.

One log group (stratus started with --log-group-mb 512, so the million lines all stay) is
filled through PutLogEvents (100 batches of 10,000 lines, ~70 bytes each, access-log shaped);
20 of the lines carry a rare request id. Then, over one keep-alive connection:
- FilterLogEvents with the selective term pattern (finds the 20 lines): median and max of 10
- FilterLogEvents with a selective space-delimited pattern ([..., status = 599, bytes]):
  median of 5
- the same term pattern through the JSON 1.1 endpoint with a stream prefix that matches
  nothing (pure scan): median of 5
Target: the selective term pattern answers in under 100 ms (issue 14).
No peer is measured here yet (moto keeps events in Python lists; LocalStack is not on the
machine)."""

import http.client
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from benchlib import Results, log, stratus_bin  # noqa: E402

os.environ.setdefault("STRATUS_BIN", stratus_bin())
from daemon import Daemon  # noqa: E402

LINES = int(os.environ.get("LOGS_BENCH_LINES", "1000000"))
BATCH = 10000
RARE = 20


def call(conn, op, body):
    conn.request("POST", "/", body=json.dumps(body), headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328." + op,
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/logs/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError("%s: %d %s" % (op, r.status, data[:300]))
    return json.loads(data) if data else {}


def timed(conn, body, n):
    times, found = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        out = call(conn, "FilterLogEvents", body)
        times.append((time.perf_counter() - t0) * 1000)
        found = len(out["events"])
    return statistics.median(times), max(times), found


def main():
    res = Results("logs")
    d = Daemon("--log-group-mb", "512", "--log-level", "warn").start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=120)
        call(conn, "CreateLogGroup", {"logGroupName": "bench"})
        call(conn, "CreateLogStream", {"logGroupName": "bench", "logStreamName": "s"})
        t0 = time.perf_counter()
        base = int(time.time() * 1000) - 3600 * 1000
        rare_every = LINES // RARE
        for b in range(0, LINES, BATCH):
            events = []
            for i in range(b, min(b + BATCH, LINES)):
                rid = "req-RARE%04d" % i if i % rare_every == 7 else "req-%08d" % i
                events.append({"timestamp": base + i // 1000,
                               "message": '10.0.%d.%d - - "GET /item/%d HTTP/1.1" %d %d %s' % (
                                   i % 250, i % 200, i, 599 if i % rare_every == 7 else 200, 100 + i % 900, rid)})
            call(conn, "PutLogEvents", {"logGroupName": "bench", "logStreamName": "s", "logEvents": events})
        ingest = time.perf_counter() - t0
        log("logs: %d lines stored in %.1f s" % (LINES, ingest))
        med, worst, found = timed(conn, {"logGroupName": "bench", "filterPattern": "RARE"}, 10)
        assert found == RARE, found
        res.row("FilterLogEvents, term pattern over %d lines (ms, median)" % LINES, med, target="stratus<100")
        res.note("FilterLogEvents over %d lines: term pattern finding %d lines median %.1f ms, max %.1f ms"
                 % (LINES, found, med, worst))
        med2, _, found2 = timed(conn, {"logGroupName": "bench", "filterPattern": "[..., status = 599, bytes, id]"}, 5)
        assert found2 == RARE, found2
        res.note("space-delimited pattern [..., status = 599, bytes, id] over %d lines: median %.1f ms" % (LINES, med2))
        med3, _, _ = timed(conn, {"logGroupName": "bench", "filterPattern": "RARE", "logStreamNamePrefix": "zz"}, 5)
        res.note("term pattern with a stream prefix matching nothing (full scan): median %.1f ms" % med3)
        res.note("ingest: %d lines through PutLogEvents (10,000 per call, one connection) in %.1f s; stratus RSS %d MB"
                 % (LINES, ingest, d.rss_kb() // 1024))
    finally:
        d.stop()


if __name__ == "__main__":
    main()

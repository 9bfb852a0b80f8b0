#!/usr/bin/env python3
"""HTTP keep-alive throughput: stratus GET /_stratus/health vs nginx serving a static file.

Both servers are measured the same way, one after the other (never concurrently):
start, warm up with wrk for BENCH_WARMUP s, measure with wrk for BENCH_DURATION s
(2 threads, 64 keep-alive connections, --latency), read RSS, stop.
nginx serves the exact body stratus returned (same size, same URL) from a generated
config in a scratch dir: worker_processes auto, access_log off, daemon off.
stratus runs with --log-level warn (no access log) and its default thread count.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import benchlib as b  # noqa: E402

THREADS, CONNECTIONS = 2, 64


def measure(name: str, port: int, proc: b.Proc) -> dict:
    url = f"http://{b.HOST}:{port}/_stratus/health"
    b.log(f"{name}: warm-up {b.warmup()}s")
    b.wrk(url, b.warmup(), THREADS, CONNECTIONS)
    b.log(f"{name}: measuring {b.duration()}s (wrk -t{THREADS} -c{CONNECTIONS})")
    r = b.wrk(url, b.duration(), THREADS, CONNECTIONS)
    r["rss_kb"] = b.tree_rss_kb(proc.pid)
    if proc.p.poll() is not None:
        sys.exit(f"{name} died during the run: {proc.stderr_tail()}")
    b.log(f"{name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms"
          + (f" ({r['errors']})" if r["errors"] else ""))
    return r


def main() -> None:
    res = b.Results("http_health")
    work = b.scratch_dir("http_health")

    port = b.free_port()
    stratus = b.start_stratus(work, port)
    first = b.wait_ready(port, stratus)
    body = b.body_of(first)
    s = measure("stratus", port, stratus)
    stratus.stop()

    nport = b.free_port()
    conf = b.prepare_nginx(work, nport, body)
    nginx = b.start_nginx(conf)
    b.wait_ready(nport, nginx)
    n = measure("nginx", nport, nginx)
    nginx.stop()

    res.row("health req/s", s["rps"], "nginx", n["rps"], "ratio>=0.8", digits=0)
    res.row("health p50 latency (ms)", s["p50_ms"], "nginx", n["p50_ms"], digits=3)
    res.row("health p99 latency (ms)", s["p99_ms"], "nginx", n["p99_ms"], digits=3)
    res.row("RSS after wrk run (MB)", b.to_mb(s["rss_kb"]),
            "nginx (master+workers)", b.to_mb(n["rss_kb"]), digits=1)
    res.note(f"wrk -t{THREADS} -c{CONNECTIONS} -d{b.duration()}s keep-alive after a {b.warmup()}s "
             f"warm-up; body {len(body)} bytes; wrk shares the CPUs with the server")
    for name, r in (("stratus", s), ("nginx", n)):
        if r["errors"]:
            res.note(f"{name}: {r['errors']}")


if __name__ == "__main__":
    main()

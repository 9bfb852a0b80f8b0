#!/usr/bin/env python3
"""Startup latency and idle memory: stratus vs nginx.

Startup = time from just before exec (time.perf_counter_ns() right before Popen) to the
first 200 answer to GET /_stratus/health. The poller tries TCP connect + a minimal
HTTP/1.1 request in a tight loop (sleeping 0.1 ms between failed attempts) until a 200
arrives. One unmeasured start first (page cache, dynamic loader caches), then
STARTUP_RUNS (default 20) measured starts; median, min and max are reported.
Each start uses a fresh free port; each server is stopped with SIGTERM and the time
to exit is reported too.

Idle RSS = VmRSS from /proc/PID/status 1 s after a start with no traffic other than the
single readiness request (nginx: master + workers).
"""

import os
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import benchlib as b  # noqa: E402

RUNS = int(os.environ.get("STARTUP_RUNS", "20"))
POLL_SLEEP_S = 0.0001  # 0.1 ms; the brief allows at most 0.2 ms
DEADLINE_S = 5.0


def first_answer_ns(port: int, proc: b.Proc, t0: int) -> int:
    """Tight poll until a 200 arrives; returns perf_counter_ns at that moment."""
    deadline = t0 + int(DEADLINE_S * 1e9)
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(1.0)
            s.connect((b.HOST, port))
            s.sendall(b.REQUEST)
            buf = b""
            while b"\r\n" not in buf:
                c = s.recv(4096)
                if not c:
                    break
                buf += c
            if buf.startswith(b"HTTP/1.1 200"):
                return time.perf_counter_ns()
        except OSError:
            pass
        finally:
            s.close()
        now = time.perf_counter_ns()
        if now > deadline:
            sys.exit(f"{proc.name}: no 200 on port {port} within {DEADLINE_S}s: {proc.stderr_tail()}")
        if proc.p.poll() is not None:
            sys.exit(f"{proc.name} exited with {proc.p.returncode}: {proc.stderr_tail()}")
        time.sleep(POLL_SLEEP_S)


def time_starts(name: str, start) -> tuple[list[float], list[float]]:
    """start(port) -> Proc. Returns (startup ms list, stop ms list) for the measured runs."""
    ups, downs = [], []
    for i in range(RUNS + 1):
        port = b.free_port()
        t0 = time.perf_counter_ns()
        proc = start(port)
        t1 = first_answer_ns(port, proc, t0)
        took = proc.stop()
        if i == 0:
            continue  # warm-up start, not counted
        ups.append((t1 - t0) / 1e6)
        if took is not None:
            downs.append(took * 1e3)
    b.log(f"{name}: startup median {statistics.median(ups):.2f} ms "
          f"(min {min(ups):.2f}, max {max(ups):.2f}) over {RUNS} starts")
    return ups, downs


def idle_rss_kb(start) -> tuple[int | None, str]:
    """(VmRSS of the process tree, breakdown of the main process) 1 s after start."""
    port = b.free_port()
    proc = start(port)
    b.wait_ready(port, proc)
    time.sleep(1.0)
    kb = b.tree_rss_kb(proc.pid)
    parts = {f: b.proc_status_kb(proc.pid, f) for f in ("RssAnon", "RssFile", "RssShmem")}
    threads = len(list(Path(f"/proc/{proc.pid}/task").iterdir()))
    proc.stop()
    detail = ", ".join(f"{f} {b.mb(v)} MB" for f, v in parts.items()) + f", {threads} threads"
    return kb, detail


def main() -> None:
    res = b.Results("startup")
    work = b.scratch_dir("startup")

    def stratus(port):
        return b.start_stratus(work, port)

    body = b'{"services":{},"uptime_seconds":0.0,"version":"0.0.0"}'

    def nginx(port):
        return b.start_nginx(b.prepare_nginx(work, port, body))

    s_up, s_down = time_starts("stratus", stratus)
    n_up, n_down = time_starts("nginx", nginx)
    s_rss, s_detail = idle_rss_kb(stratus)
    n_rss, _ = idle_rss_kb(nginx)
    b.log(f"idle RSS: stratus {b.mb(s_rss)} MB, nginx {b.mb(n_rss)} MB")

    leftovers = [p.name for p in work.iterdir() if p.name.startswith("stratus-")]

    med = statistics.median
    res.row("startup to first 200, median (ms)", med(s_up), "nginx", med(n_up), "stratus<10", 2)
    res.row("startup to first 200, min (ms)", min(s_up), "nginx", min(n_up), digits=2)
    res.row("startup to first 200, max (ms)", max(s_up), "nginx", max(n_up), digits=2)
    if s_down and n_down:
        res.row("SIGTERM to exit, median (ms)", med(s_down), "nginx", med(n_down), digits=2)
    res.row("idle RSS 1 s after start (MB)", b.to_mb(s_rss), "nginx (master+workers)",
            b.to_mb(n_rss), "stratus<10", 1)
    res.note(f"{RUNS} measured starts each after 1 unmeasured; poll = connect + GET every "
             f"{POLL_SLEEP_S * 1e3:.1f} ms; stratus --ephemeral --log-level warn")
    res.note(f"stratus idle: {s_detail}")
    if len(s_down) < RUNS:
        res.note(f"stratus needed SIGKILL in {RUNS - len(s_down)} of {RUNS} stops")
    if leftovers:
        res.note(f"stratus left {len(leftovers)} --ephemeral data dirs behind after SIGTERM")


if __name__ == "__main__":
    main()

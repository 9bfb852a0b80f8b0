"""Shared helpers for the stratus benchmarks (standard library only).

A benchmark is one file in bench/ (``*.py`` or ``*.sh``) that bench/run.sh runs with
these environment variables set (each also has a default, so a benchmark runs on its
own too, e.g. ``python3 bench/startup.py``):

  STRATUS_BIN      stratus binary to measure (default: build/emulator/stratus)
  BENCH_DURATION   seconds of each measured wrk run (default 10)
  BENCH_WARMUP     seconds of each warm-up wrk run (default 2)
  BENCH_TMP        a private scratch directory, removed by the runner afterwards
  BENCH_RESULTS    file the result records are appended to (default: stdout)

Result records are tab-separated lines, see ``Results``.
Progress and diagnostics go to stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def log(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def stratus_bin() -> str:
    b = os.environ.get("STRATUS_BIN") or str(REPO / "build/emulator/stratus")
    if not os.access(b, os.X_OK):
        sys.exit(f"stratus binary not found or not executable: {b}")
    return b


def duration() -> int:
    return int(os.environ.get("BENCH_DURATION", "10").rstrip("s"))


def warmup() -> int:
    return int(os.environ.get("BENCH_WARMUP", "2").rstrip("s"))


def scratch_dir(name: str) -> Path:
    """A fresh directory for this benchmark, inside BENCH_TMP if the runner gave one."""
    base = os.environ.get("BENCH_TMP")
    if base:
        d = Path(base) / name
        d.mkdir(parents=True, exist_ok=True)
        return d
    d = Path(tempfile.mkdtemp(prefix=f"stratus-bench-{name}-"))
    import atexit

    atexit.register(shutil.rmtree, d, True)
    return d


def free_port() -> int:
    """A port that was free a moment ago (bound to 127.0.0.1 only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_status_kb(pid: int, field: str) -> int | None:
    """A `kB` field of /proc/PID/status (VmRSS, RssAnon, RssFile, VmHWM, ...)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def rss_kb(pid: int) -> int | None:
    return proc_status_kb(pid, "VmRSS")


def children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(p.name))
    return out


def tree_rss_kb(pid: int) -> int | None:
    """VmRSS of a process plus its direct children (nginx master + workers)."""
    own = rss_kb(pid)
    if own is None:
        return None
    return own + sum(rss_kb(c) or 0 for c in children(pid))


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process (all its threads), in clock ticks."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(f[11]) + int(f[12])


def wait_idle(pid: int, max_s: float = 30.0, window_s: float = 0.2, busy: float = 0.1) -> float:
    """Waits until a process uses under `busy` of one CPU over `window_s` (e.g. a server
    still working off requests that an ended wrk run left queued); gives up after max_s.
    Returns the seconds waited."""
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    prev = cpu_ticks(pid)
    while prev is not None and time.monotonic() - t0 < max_s:
        time.sleep(window_s)
        cur = cpu_ticks(pid)
        if cur is None or (cur - prev) / hz <= busy * window_s:
            break
        prev = cur
    return time.monotonic() - t0


def mb(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


def to_mb(kb: int | None) -> float | None:
    return None if kb is None else kb / 1024


# ---------------------------------------------------------------- processes


class Proc:
    """A server process we started; stop() is idempotent and always reaps it."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict | None = None):
        self.name = name
        self.errpath = cwd / f"{name}.stderr"
        self.errfile = open(self.errpath, "w+b")
        self.p = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.errfile,
        )
        _LIVE.append(self)

    @property
    def pid(self) -> int:
        return self.p.pid

    def stderr_tail(self, n: int = 5) -> str:
        """The last n lines the process wrote to stderr (also after stop())."""
        try:
            with open(self.errpath, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - 65536))  # moto logs every request: read only the end
                data = f.read()
        except OSError:
            return ""
        return "\n".join(data.decode(errors="replace").splitlines()[-n:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> float | None:
        """Signal, wait; returns seconds from signal to exit (None if it had to be killed)."""
        if self.p.poll() is not None:
            self._forget()
            return 0.0
        # A pidfd becomes readable the moment the process exits: exact stop times, unlike
        # Popen.wait(timeout), which polls with growing sleeps.
        pidfd = os.pidfd_open(self.pid)
        try:
            t0 = time.perf_counter()
            with contextlib.suppress(ProcessLookupError):
                self.p.send_signal(sig)
            exited = bool(select.select([pidfd], [], [], timeout)[0])
            took = time.perf_counter() - t0
        finally:
            os.close(pidfd)
        try:
            self.p.wait(0 if exited else 0.1)
        except subprocess.TimeoutExpired:
            log(f"{self.name} (pid {self.pid}) ignored signal {sig} for {timeout}s, killing")
            self.p.kill()
            self.p.wait()
            took = None
        self._forget()
        return took

    def _forget(self) -> None:
        with contextlib.suppress(ValueError):
            _LIVE.remove(self)
        self.errfile.close()


_LIVE: list[Proc] = []


def _cleanup(*_):
    for p in list(_LIVE):
        with contextlib.suppress(Exception):
            p.stop(signal.SIGKILL, timeout=2)


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)
import atexit  # noqa: E402

atexit.register(_cleanup)


def start_stratus(workdir: Path, port: int = 0, extra: list[str] | None = None) -> Proc:
    env = dict(os.environ, TMPDIR=str(workdir))  # ephemeral data dir lands in our scratch dir
    extra = list(extra or [])
    if "--api-port" not in extra:
        extra += ["--api-port", "0"]  # never the default 3000: another run may hold it
    argv = [stratus_bin(), "start", "--ephemeral", "--host", HOST, "--port", str(port),
            "--log-level", "warn", *extra]
    return Proc("stratus", argv, workdir, env)


NGINX_CONF = """\
{user}worker_processes auto;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    default_type application/json;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;   # stratus has no per-connection request cap
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;

    server {{
        listen {host}:{port} reuseport backlog=4096;
        root {d}/www;
    }}
}}
"""


def nginx_bin() -> str:
    b = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(b, os.X_OK):
        sys.exit("nginx not found: run scripts/setup.sh --bench")
    return b


def prepare_nginx(workdir: Path, port: int, body: bytes) -> Path:
    """Writes a prefix dir serving `body` at GET /_stratus/health; returns the conf path."""
    d = workdir / "nginx"
    (d / "tmp").mkdir(parents=True, exist_ok=True)
    (d / "www/_stratus").mkdir(parents=True, exist_ok=True)
    (d / "www/_stratus/health").write_bytes(body)
    # nginx only honours `user` as root, where the default would drop workers to a
    # user that cannot read our 0700 temp dir: keep the workers as the current user.
    user = ""
    if os.geteuid() == 0:
        import grp
        import pwd

        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n"
    conf = d / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, d=d, host=HOST, port=port))
    return conf


def start_nginx(conf: Path) -> Proc:
    d = conf.parent
    argv = [nginx_bin(), "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")]
    return Proc("nginx", argv, d)


# ---------------------------------------------------------------- HTTP probing

REQUEST = b"GET /_stratus/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def try_get(port: int, path_request: bytes = REQUEST, timeout: float = 1.0) -> bytes | None:
    """One TCP connect + request; returns the raw response or None if not connectable."""
    try:
        s = socket.create_connection((HOST, port), timeout=timeout)
    except OSError:
        return None
    with s:
        try:
            s.sendall(path_request)
            chunks = []
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except OSError:
            return None
    return b"".join(chunks)


def body_of(resp: bytes) -> bytes:
    return resp.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in resp else b""


def wait_ready(port: int, proc: Proc, deadline_s: float = 10.0) -> bytes:
    """Polls until GET /_stratus/health answers 200; returns the response."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        r = try_get(port)
        if r is not None and r.startswith(b"HTTP/1.1 200"):
            return r
        if proc.p.poll() is not None:
            sys.exit(f"{proc.name} exited with {proc.p.returncode}: {proc.stderr_tail()}")
        time.sleep(0.001)
    sys.exit(f"{proc.name} not answering on port {port} after {deadline_s}s: {proc.stderr_tail()}")


# ---------------------------------------------------------------- wrk

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    if not m:
        raise ValueError(f"unparsable wrk latency {v!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def wrk(url: str, seconds: int, threads: int = 2, connections: int = 64,
        script: str | Path | None = None, args: list[str] | tuple = (),
        timeout_s: int | None = None) -> dict:
    """Runs wrk with keep-alive; returns {'rps', 'p50_ms', 'p99_ms', 'requests', 'errors',
    'secs', 'client_cpu_s', 'raw'}.

    script/args: a wrk Lua script and the arguments after `--` that its init() receives.
    timeout_s: wrk's per-request timeout (wrk's default is 2 s; a request slower than that
    counts as a timeout error and is left out of the latency figures).
    """
    exe = shutil.which("wrk")
    if not exe:
        sys.exit("wrk not found: run scripts/setup.sh --bench")
    argv = [exe, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if timeout_s:
        argv.append(f"--timeout={timeout_s}s")
    if script:
        argv += ["-s", str(script)]
    argv.append(url)
    if args:
        argv += ["--", *map(str, args)]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True,
                         timeout=seconds + 30 + (timeout_s or 2))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"wrk failed ({out.returncode}): {out.stderr.strip()}")
    raw = out.stdout
    res = {"raw": raw, "errors": "",
           # CPU seconds wrk used (children reaped meanwhile: only wrk, servers run on)
           "client_cpu_s": (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)}
    m = re.search(r"requests in ([\d.]+)(us|ms|s|m),", raw)
    res["secs"] = _ms(m.group(1) + m.group(2)) / 1000 if m else float("nan")
    m = re.search(r"Requests/sec:\s+([\d.]+)", raw)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", raw)
    res["requests"] = int(m.group(1)) if m else 0
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", raw, re.M)
        res[key] = _ms(m.group(1)) if m else float("nan")
    errs = []
    m = re.search(r"Socket errors: (.*)", raw)
    if m:
        errs.append("socket errors: " + m.group(1).strip())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", raw)
    if m:
        errs.append(f"non-2xx responses: {m.group(1)}")
    res["errors"] = "; ".join(errs)
    return res


# ---------------------------------------------------------------- results


class Results:
    """Appends result records to $BENCH_RESULTS (or prints them).

    row:  row <TAB> bench <TAB> metric <TAB> stratus <TAB> baseline-name <TAB> baseline <TAB> target
          stratus/baseline are plain numbers (already rounded); baseline may be empty.
          target is empty, or `ratio OP N` / `stratus OP N` with OP one of >= <= > <;
          bench/run.sh computes ratio = stratus / baseline and checks the target.
    note: note <TAB> bench <TAB> free text (shown under the table)
    """

    def __init__(self, bench: str):
        self.bench = bench
        self.path = os.environ.get("BENCH_RESULTS")

    def _emit(self, fields: list[str]) -> None:
        line = "\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields) + "\n"
        if self.path:
            with open(self.path, "a") as f:
                f.write(line)
        else:
            sys.stdout.write(line)
            sys.stdout.flush()

    def row(self, metric: str, stratus, baseline_name: str = "", baseline=None, target: str = "",
            digits: int | None = None):
        """digits: fixed number of decimals for both values (default: by magnitude)."""
        self._emit(["row", self.bench, metric, _num(stratus, digits), baseline_name,
                    "" if baseline is None else _num(baseline, digits), target])

    def note(self, text: str) -> None:
        self._emit(["note", self.bench, text])


def _num(v, digits: int | None = None) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if v != v:  # NaN
        return "n/a"
    if digits is not None:
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return str(v)
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"

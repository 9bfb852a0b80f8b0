#!/usr/bin/env python3
# bench-timeout: 360 + 15 runs
# bench-timeout-extra BENCH_BIG: 420
"""DynamoDB item operations: stratus vs dynalite (LevelDB on disk) vs moto's server.

The three servers run one after the other (never concurrently), each the same way:

1. start (127.0.0.1, free port); wait until ListTables answers 200;
2. CreateTable `bench` (pk S hash, sk S range, on-demand);
3. preload DYNAMODB_ITEMS (default 10,000) items of ~200 bytes (DynamoDB's item size:
   names + values) with BatchWriteItem (25 items per request) from Python, over 2
   keep-alive connections from 2 threads, retrying UnprocessedItems; timed;
4. per operation, a BENCH_WARMUP s warm-up then a BENCH_DURATION s wrk run
   (2 threads, 64 keep-alive connections, --latency, lib/dynamodb.lua):
   GetItem of a random preloaded item, the same read as a PartiQL ExecuteStatement
   (SELECT * FROM bench WHERE pk = ? AND sk = ?, which DynamoDB plans as a GetItem; not
   dynalite, which has no PartiQL), Query of a random partition (10 items),
   Scan with no Limit (the first page: at most 1 MB, as DynamoDB), PutItem of a new item
   (reads first, so every read sees the same preloaded table); after every wrk run the
   server is given time to go idle (requests wrk abandoned at its end), at most 30 s;
   moto gets fewer connections for Query and Scan (see MOTO_CONNECTIONS);
5. RSS, stop.

stratus also gets, in the same run: its own ceiling (GET /_stratus/health, an empty
endpoint, same wrk settings) before the operations, so each operation is reported as a
fraction of it, and server CPU per request against the peers'; after the operations,
BACKFILL_ITEMS (default 100,000) more items and a GetItem wrk run during which UpdateTable
adds a GSI over the whole table (GetItem p99 meanwhile, and the build's duration);
RssAnon and RssFile after all that; then a second stratus with --durability full for a
PutItem run (against dynalite's PutItem).

Reported: req/s and p99 per operation and server, ratios stratus / dynalite and
stratus / moto (the runner computes them), Scan items/s (pages differ a little in size),
preload time, RSS; notes: connections, items per Scan page, CPU used by each server and
by wrk (wrk shares the 2 CPUs with the server), errors.

Every answer is checked by the wrk script (a 200 without the item, a Query without 10
items... counts as bad); socket errors, non-2xx answers and bad answers become notes.
Requests carry a fixed fake SigV4 Authorization header: stratus (no --verify-signatures)
and moto ignore it, dynalite only wants one to be there.

BENCH_BIG=1 also loads BIG_ITEMS (default 1,000,000) more items into stratus after its
runs (BatchWriteItem from Python as in step 3) and measures Query again over the whole
table, so the report shows load time and Query latency at 10k vs 1M items.

A baseline that is not installed, fails to start or to preload is reported as n/a with a
note (dynalite: `npm ci` in bench/, which bench/run.sh does; moto: the machine's Python
package `moto` with its server extras).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import benchlib as b  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
LUA = BENCH_DIR / "lib/dynamodb.lua"
THREADS = 2
CONNECTIONS = int(os.environ.get("DYNAMODB_CONNECTIONS", "64"))
# moto's threaded werkzeug server runs one request at a time (GIL) and its Query / Scan look
# at every item of the table (~60 ms / ~2 s each at 10k items): with 64 connections those
# queue for many seconds, past wrk's timeout, and keep moto busy long after the run. So it
# gets fewer connections there (said in the report). DYNAMODB_MOTO_CONNECTIONS=N: N for all.
MOTO_CONNECTIONS = {"get": CONNECTIONS, "partiql": CONNECTIONS, "put": CONNECTIONS, "query": 8, "scan": 1}
if os.environ.get("DYNAMODB_MOTO_CONNECTIONS"):
    MOTO_CONNECTIONS = dict.fromkeys(MOTO_CONNECTIONS, int(os.environ["DYNAMODB_MOTO_CONNECTIONS"]))
ITEMS = int(os.environ.get("DYNAMODB_ITEMS", "10000"))
BIG = os.environ.get("BENCH_BIG", "0") not in ("", "0")
BIG_ITEMS = int(os.environ.get("BIG_ITEMS", "1000000"))
PER_PARTITION = 10
PAYLOAD = 180  # pk 10 + sk 4 + n ~5 + d (1 + 180) = ~200 bytes of DynamoDB item size
TABLE = "bench"
WRK_TIMEOUT_S = 10  # per request; wrk's default 2 s would drop slow baseline answers
PRELOAD_DEADLINE_S = 180
DRAIN_MAX_S = 30  # after each wrk run, wait at most this long for the server to go idle
BACKFILL_ITEMS = int(os.environ.get("BACKFILL_ITEMS", "100000"))
PEERS = [x for x in os.environ.get("DYNAMODB_PEERS", "dynalite,moto").replace(",", " ").split()]
OPS = [("get", "GetItem"), ("partiql", "PartiQL SELECT by key"), ("query", "Query"), ("scan", "Scan"),
       ("put", "PutItem")]
# Operations a peer does not have: reported as n/a with a note (dynalite predates PartiQL).
UNSUPPORTED = {"dynalite": {"partiql": "dynalite has no ExecuteStatement (PartiQL)"}}

HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Date": "20250101T000000Z",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/"
                     "dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                     "x-amz-target, Signature=" + "0" * 64,
}


class Skip(Exception):
    """A baseline cannot be measured: reported as n/a with a note."""


# ---------------------------------------------------------------- a minimal client


class Client:
    def __init__(self, port: int, timeout: float = 30.0):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def call(self, op: str, body: dict | str) -> tuple[int, dict]:
        data = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        headers = dict(HEADERS, **{"X-Amz-Target": f"DynamoDB_20120810.{op}"})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(b.HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", "/", data, headers)
                r = self.conn.getresponse()
                raw = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                try:
                    return r.status, json.loads(raw) if raw else {}
                except ValueError:
                    return r.status, {"raw": raw[:200].decode(errors="replace")}
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def wait_dynamo(port: int, proc: b.Proc, deadline_s: float) -> float:
    """Polls ListTables until it answers 200; returns seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if proc.p.poll() is not None:
            raise Skip(f"exited with {proc.p.returncode}: {proc.stderr_tail(3)}")
        c = Client(port, timeout=2)
        try:
            status, _ = c.call("ListTables", {})
            if status == 200:
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            pass
        finally:
            c.close()
        time.sleep(0.02)
    raise Skip(f"no answer to ListTables after {deadline_s:.0f}s: {proc.stderr_tail(3)}")


def create_table(port: int) -> None:
    c = Client(port)
    status, out = c.call("CreateTable", {
        "TableName": TABLE,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
    if status != 200:
        raise Skip(f"CreateTable answered {status}: {out}")
    end = time.monotonic() + 15
    while time.monotonic() < end:
        status, out = c.call("DescribeTable", {"TableName": TABLE})
        if status == 200 and out.get("Table", {}).get("TableStatus") == "ACTIVE":
            c.close()
            return
        time.sleep(0.05)
    raise Skip(f"table not ACTIVE after 15s: {status} {out}")


ITEM_TMPL = ('{"PutRequest":{"Item":{"pk":{"S":"p%07d"},"sk":{"S":"s%d"},"n":{"N":"%d"},'
             '"d":{"S":"' + "x" * PAYLOAD + '"}}}}')


def batch_body(first: int, stop: int) -> str:
    items = ",".join(ITEM_TMPL % (i // PER_PARTITION, i % PER_PARTITION, i)
                     for i in range(first, stop))
    return '{"RequestItems":{"' + TABLE + '":[' + items + "]}}"


def load(port: int, first: int, count: int, workers: int = 2,
         deadline_s: float = PRELOAD_DEADLINE_S) -> tuple[float, int]:
    """BatchWriteItem of items first..first+count-1 (25 per request) over `workers`
    keep-alive connections; retries UnprocessedItems. Returns (seconds, retried batches)."""
    batches = [(s, min(s + 25, first + count)) for s in range(first, first + count, 25)]
    lock = threading.Lock()
    state = {"next": 0, "retries": 0, "error": None}
    t_end = time.monotonic() + deadline_s

    def worker() -> None:
        c = Client(port, timeout=60)
        try:
            while True:
                with lock:
                    if state["error"] or state["next"] >= len(batches):
                        return
                    lo, hi = batches[state["next"]]
                    state["next"] += 1
                body = batch_body(lo, hi)
                for _ in range(50):
                    if time.monotonic() > t_end:
                        raise Skip(f"load not done after {deadline_s:.0f}s")
                    status, out = c.call("BatchWriteItem", body)
                    if status != 200:
                        raise Skip(f"BatchWriteItem answered {status}: {str(out)[:200]}")
                    left = out.get("UnprocessedItems") or {}
                    if not left:
                        break
                    with lock:
                        state["retries"] += 1
                    body = json.dumps({"RequestItems": left}, separators=(",", ":"))
                    time.sleep(0.01)
                else:
                    raise Skip("UnprocessedItems still not empty after 50 retries")
        except Exception as e:  # noqa: BLE001 - reported by the caller
            with lock:
                state["error"] = state["error"] or e
        finally:
            c.close()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(deadline_s + 70)
    secs = time.perf_counter() - t0
    if state["error"]:
        e = state["error"]
        raise e if isinstance(e, Skip) else Skip(f"load failed: {e!r}")
    if any(t.is_alive() for t in ts):
        raise Skip(f"load not done after {deadline_s:.0f}s")
    return secs, state["retries"]


def check_query(port: int, partition: int) -> None:
    status, out = Client(port).call("Query", {
        "TableName": TABLE, "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": f"p{partition:07d}"}}})
    if status != 200 or out.get("Count") != PER_PARTITION:
        raise Skip(f"Query of a preloaded partition answered {status}: {str(out)[:200]}")


# ---------------------------------------------------------------- servers


def start_server(name: str, work: Path) -> tuple[b.Proc, int, dict]:
    """Returns (process, port, wrk connections per op); raises Skip if not available."""
    port = b.free_port()
    all_ops = {op: CONNECTIONS for op, _ in OPS}
    if name == "stratus":
        return b.start_stratus(work, port), port, all_ops
    if name == "dynalite":
        cli = BENCH_DIR / "node_modules/dynalite/cli.js"
        node = shutil.which("node")
        if not node:
            raise Skip("node not found")
        if not cli.exists():
            raise Skip("not installed (bench/node_modules/dynalite missing: run "
                       "`npm ci --no-audit --no-fund` in bench/)")
        data = work / "dynalite-data"
        data.mkdir(exist_ok=True)
        return b.Proc("dynalite", [node, str(cli), "--host", b.HOST, "--port", str(port),
                                   "--path", str(data), "--createTableMs", "0"], work), \
            port, all_ops
    if name == "moto":
        import importlib.util

        for mod in ("moto", "flask", "flask_cors"):
            if importlib.util.find_spec(mod) is None:
                raise Skip(f"Python module {mod} not installed (moto's server needs moto[server])")
        return b.Proc("moto", [sys.executable, "-m", "moto.server", "-H", b.HOST,
                               "-p", str(port)], work), port, MOTO_CONNECTIONS
    raise AssertionError(name)


def run_wrk(port: int, op: str, parts: int, seconds: int, conns: int, pid: int) -> dict:
    """One wrk run, then waits until the server has worked off what wrk left queued."""
    t0 = b.cpu_ticks(pid)
    r = b.wrk(f"http://{b.HOST}:{port}/", seconds, min(THREADS, conns), conns, script=LUA,
              args=[op, TABLE, parts, PAYLOAD], timeout_s=WRK_TIMEOUT_S)
    t1 = b.cpu_ticks(pid)
    # server CPU seconds during the run (may include a little backlog work after wrk ended)
    r["server_cpu_s"] = None if t0 is None or t1 is None else (t1 - t0) / os.sysconf("SC_CLK_TCK")
    check = {}
    for line in r["raw"].splitlines():
        if line.startswith("check: "):
            check = {k: int(v) for k, v in (kv.split("=") for kv in line[7:].split())}
        elif line.startswith("first_bad: "):
            r["first_bad"] = line[11:].strip()
    if r["requests"] == 0:  # wrk prints 0 latencies then
        r["p50_ms"] = r["p99_ms"] = float("nan")
    r["bad"] = check.get("bad", 0)
    r["count_min"], r["count_max"] = check.get("count_min", -1), check.get("count_max", -1)
    m = [x for x in (r["errors"], f"{r['bad']} answers with unexpected content" if r["bad"] else "",
                     f"only {r['requests']} requests completed" if r["requests"] < 100 else "")
         if x]
    r["problems"] = "; ".join(m)
    r["drain_s"] = b.wait_idle(pid, DRAIN_MAX_S)
    if r["drain_s"] > 1:
        b.log(f"  ({op}: server busy for {r['drain_s']:.1f}s after the wrk run)")
    if r["drain_s"] >= DRAIN_MAX_S:
        r["problems"] = "; ".join(filter(None, [r["problems"], f"server still busy {DRAIN_MAX_S}s "
                                               "after the run (backlog of abandoned requests)"]))
    return r


def measure_server(name: str, work: Path) -> dict:
    """Everything for one server; raises Skip (baselines) or exits (stratus)."""
    res: dict = {"ops": {}}
    proc, port, conns = start_server(name, work)
    res["conns"] = conns
    try:
        waited = wait_dynamo(port, proc, 30)
        b.log(f"{name}: answering after {waited:.2f}s (pid {proc.pid}, port {port})")
        create_table(port)
        secs, retries = load(port, 0, ITEMS)
        b.wait_idle(proc.pid)
        check_query(port, 0)
        check_query(port, ITEMS // PER_PARTITION - 1)
        res["preload_s"], res["preload_retries"] = secs, retries
        b.log(f"{name}: preloaded {ITEMS} items in {secs:.2f}s ({ITEMS / secs:.0f} items/s"
              + (f", {retries} retried batches" if retries else "") + ")")
        parts = ITEMS // PER_PARTITION
        if name == "stratus":
            res["health"] = health_run(port, proc.pid, parts)
        for op, label in OPS:
            if op in UNSUPPORTED.get(name, {}):
                res["ops"][op] = None
                res.setdefault("op_errors", []).append(f"{label} not measured: {UNSUPPORTED[name][op]}")
                continue
            try:
                if b.warmup():
                    w = run_wrk(port, op, parts, b.warmup(), conns[op], proc.pid)
                    if op == "put":
                        res["put_warm_items"] = w["requests"]
                r = run_wrk(port, op, parts, b.duration(), conns[op], proc.pid)
            except (SystemExit, Exception) as e:  # benchlib.wrk gives up with sys.exit("why")
                if name == "stratus" or (isinstance(e, SystemExit) and not isinstance(e.code, str)):
                    raise  # stratus failing fails the benchmark; a signal ends it
                b.log(f"{name}: {label} not measured: {e}")
                res["ops"][op] = None
                res.setdefault("op_errors", []).append(f"{label} not measured: {e}")
                continue
            if proc.p.poll() is not None:
                raise Skip(f"died during {label}: {proc.stderr_tail(3)}")
            res["ops"][op] = r
            if op == "put":  # items the PutItem runs added (warm-up included), for BENCH_BIG
                res["put_items"] = r["requests"] + res.get("put_warm_items", 0)
            extra = f", {r['count_min']}-{r['count_max']} items/page" if op == "scan" else ""
            b.log(f"{name}: {label:8s} {r['rps']:9.1f} req/s, p50 {r['p50_ms']:8.3f} ms, "
                  f"p99 {r['p99_ms']:8.3f} ms{extra}"
                  + (f" ({r['problems']})" if r["problems"] else ""))
        res["rss_kb"] = b.tree_rss_kb(proc.pid)
        if name == "stratus":
            res["backfill"] = backfill_run(port, proc, conns["get"], parts)
            res["rss_anon_kb"] = b.proc_status_kb(proc.pid, "RssAnon")
            res["rss_file_kb"] = b.proc_status_kb(proc.pid, "RssFile")
        if name == "stratus" and BIG:
            res["big"] = big_load(port, proc, conns["query"], res.get("put_items", 0))
    finally:
        res["stderr"] = proc.stderr_tail(3)
        proc.stop()
    return res


def health_run(port: int, pid: int, parts: int) -> dict:
    """stratus's own ceiling on this machine: GET /_stratus/health (an empty endpoint) under
    the same wrk load as the operations (same connections, headers and script work)."""
    if b.warmup():
        run_wrk(port, "health", parts, b.warmup(), CONNECTIONS, pid)
    r = run_wrk(port, "health", parts, b.duration(), CONNECTIONS, pid)
    b.log(f"stratus: empty endpoint {r['rps']:9.1f} req/s, p50 {r['p50_ms']:8.3f} ms, p99 {r['p99_ms']:8.3f} ms"
          + (f" ({r['problems']})" if r["problems"] else ""))
    return r


def backfill_run(port: int, proc: b.Proc, conns: int, parts: int) -> dict:
    """BACKFILL_ITEMS more items, then GetItem under wrk while UpdateTable adds a GSI over
    the whole table (built in bounded steps off the I/O threads): the GetItem p99 while it
    is built, and how long the build took."""
    secs, _ = load(port, 5_000_000, BACKFILL_ITEMS)
    b.wait_idle(proc.pid)
    b.log(f"stratus: loaded {BACKFILL_ITEMS} more items in {secs:.1f}s for the backfill run")
    out: dict = {}

    def reads() -> None:
        out["get"] = run_wrk(port, "get", parts, b.duration(), conns, proc.pid)

    t = threading.Thread(target=reads)
    t.start()
    time.sleep(1)
    c = Client(port)
    start = time.monotonic()
    status, body = c.call("UpdateTable", {
        "TableName": TABLE,
        "AttributeDefinitions": [{"AttributeName": "n", "AttributeType": "N"}],
        "GlobalSecondaryIndexUpdates": [{"Create": {
            "IndexName": "by_n", "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}]})
    if status != 200:
        sys.exit(f"stratus: UpdateTable failed: {status} {body}")
    index = {}
    while time.monotonic() - start < 300:
        _, d = c.call("DescribeTable", {"TableName": TABLE})
        index = d["Table"]["GlobalSecondaryIndexes"][0]
        if index["IndexStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    out["secs"] = time.monotonic() - start
    out["items"] = index.get("ItemCount")
    t.join()
    c.close()
    g = out["get"]
    b.log(f"stratus: GSI backfill of {out['items']} items took {out['secs']:.2f}s; GetItem meanwhile "
          f"{g['rps']:.0f} req/s, p99 {g['p99_ms']:.3f} ms")
    return out


def full_durability_put(work: Path) -> dict:
    """PutItem on a stratus started with --durability full (fsync before each answer;
    one fsync per group of writes)."""
    port = b.free_port()
    proc = b.start_stratus(work, port, ["--durability", "full"])
    try:
        wait_dynamo(port, proc, 30)
        create_table(port)
        if b.warmup():
            run_wrk(port, "put", ITEMS // PER_PARTITION, b.warmup(), CONNECTIONS, proc.pid)
        r = run_wrk(port, "put", ITEMS // PER_PARTITION, b.duration(), CONNECTIONS, proc.pid)
        b.log(f"stratus --durability full: PutItem {r['rps']:.0f} req/s, p99 {r['p99_ms']:.3f} ms")
        return r
    finally:
        proc.stop()


def big_load(port: int, proc: b.Proc, conns: int, put_items: int) -> dict:
    """BENCH_BIG: BIG_ITEMS more items, then Query over all of them."""
    b.log(f"stratus: BENCH_BIG: loading {BIG_ITEMS} more items")
    # items ITEMS .. ITEMS+BIG_ITEMS-1: partitions continue after the preloaded ones
    secs, retries = load(port, ITEMS, BIG_ITEMS, deadline_s=600)
    b.wait_idle(proc.pid)
    total = ITEMS + BIG_ITEMS
    check_query(port, total // PER_PARTITION - 1)
    b.log(f"stratus: loaded {BIG_ITEMS} items in {secs:.1f}s ({BIG_ITEMS / secs:.0f} items/s)")
    parts = total // PER_PARTITION
    if b.warmup():
        run_wrk(port, "query", parts, b.warmup(), conns, proc.pid)
    q = run_wrk(port, "query", parts, b.duration(), conns, proc.pid)
    b.log(f"stratus: Query over {total} items: {q['rps']:.0f} req/s, p50 {q['p50_ms']:.3f} ms, "
          f"p99 {q['p99_ms']:.3f} ms" + (f" ({q['problems']})" if q["problems"] else ""))
    if proc.p.poll() is not None:
        sys.exit(f"stratus died during the big load: {proc.stderr_tail()}")
    return {"secs": secs, "retries": retries, "query": q, "total": total + put_items,
            "rss_kb": b.tree_rss_kb(proc.pid)}


# ---------------------------------------------------------------- main


def scan_items(g: dict) -> float | None:
    sc = g["ops"]["scan"]
    return None if sc is None or sc["count_max"] < 0 else sc["rps"] * (sc["count_min"] + sc["count_max"]) / 2


def main() -> None:
    results = b.Results("dynamodb")
    work = b.scratch_dir("dynamodb")
    got: dict[str, dict | None] = {}
    for name in ("stratus", "dynalite", "moto"):
        if name != "stratus" and name not in PEERS:
            results.note(f"{name} not measured (not in DYNAMODB_PEERS)")
            got[name] = None
            continue
        d = work / name
        d.mkdir(exist_ok=True)
        try:
            got[name] = measure_server(name, d)
        except Skip as e:
            if name == "stratus":
                sys.exit(f"stratus: {e}")
            b.log(f"{name}: skipped: {e}")
            results.note(f"{name} not measured: {e}")
            got[name] = None
        except SystemExit as e:  # benchlib.wrk gives up with sys.exit("why")
            if name == "stratus" or not isinstance(e.code, str):
                raise  # stratus failing fails the benchmark; a signal ends it
            b.log(f"{name}: skipped: {e}")
            results.note(f"{name} not measured: {e}")
            got[name] = None
        if name == "stratus":
            got[name]["put_full"] = full_durability_put(d)
        shutil.rmtree(d, ignore_errors=True)

    s = got["stratus"]
    assert s is not None

    def base(name: str, op: str, key: str):
        g = got[name]
        return None if g is None or g["ops"][op] is None else g["ops"][op][key]

    for op, label in OPS:
        for name, tgt in (("dynalite", 10), ("moto", 30)):
            target = f"ratio>={tgt}" if op in ("get", "put") else ""
            results.row(f"{label} req/s", s["ops"][op]["rps"], name, base(name, op, "rps"),
                        target, digits=None if op == "scan" else 0)
        if op == "scan":
            for name in ("dynalite", "moto"):
                g = got[name]
                results.row("Scan items/s (req/s x items per page)", scan_items(s), name,
                            None if g is None else scan_items(g), digits=0)
        for name in ("dynalite", "moto"):
            target = "stratus<2" if op == "get" and name == "dynalite" else ""
            results.row(f"{label} p99 (ms)", s["ops"][op]["p99_ms"], name,
                        base(name, op, "p99_ms"), target, digits=2)
    # The figures that do not depend on the machine's state: stratus against its own
    # ceiling (the empty endpoint in this run) and server CPU per request against the peers.
    h = s["health"]

    def cpu_us(r: dict | None) -> float | None:
        if not r or not r["requests"] or r.get("server_cpu_s") is None:
            return None
        return 1e6 * r["server_cpu_s"] / r["requests"]

    results.row("empty endpoint (GET /_stratus/health) req/s", h["rps"], digits=0)
    results.row("empty endpoint server CPU per request (us)", cpu_us(h), digits=1)
    for op, label, target in (("get", "GetItem", "stratus>=0.80"), ("put", "PutItem", "stratus>=0.50"),
                              ("query", "Query", ""), ("partiql", "PartiQL SELECT by key", "")):
        results.row(f"{label} / empty-endpoint ceiling (req/s fraction)", s["ops"][op]["rps"] / h["rps"],
                    target=target, digits=2)
    results.row("GetItem p99 / empty-endpoint p99", s["ops"]["get"]["p99_ms"] / h["p99_ms"],
                target="stratus<=1.2", digits=2)
    for op, label, tgt in (("get", "GetItem", "ratio<=0.10"), ("put", "PutItem", "ratio<=0.125"),
                           ("query", "Query", "ratio<=0.10"), ("partiql", "PartiQL SELECT by key", "")):
        for name in ("dynalite", "moto"):
            g = got[name]
            results.row(f"{label} server CPU per request (us)", cpu_us(s["ops"][op]), name,
                        None if g is None else cpu_us(g["ops"][op]), tgt if name == "dynalite" else "",
                        digits=1)
    sc = s["ops"]["scan"]
    results.row("Scan 1 MB page: server CPU per page (ms)", cpu_us(sc) / 1000 if cpu_us(sc) else None,
                "dynalite", cpu_us(got["dynalite"]["ops"]["scan"]) / 1000
                if got["dynalite"] and cpu_us(got["dynalite"]["ops"]["scan"]) else None,
                "stratus<=10", digits=2)
    pf = s["put_full"]
    results.row("PutItem req/s, stratus --durability full", pf["rps"], "dynalite",
                base("dynalite", "put", "rps"), "ratio>=10", digits=0)
    # What flushing costs stratus itself: the same load with and without --durability full
    # (the 10x-dynalite target above asks for more than stratus does without any flush
    # whenever dynalite passes a tenth of that).
    results.row("PutItem --durability full / PutItem without (req/s fraction)",
                pf["rps"] / s["ops"]["put"]["rps"] if pf["rps"] and s["ops"]["put"]["rps"] else None, digits=2)
    bf = s["backfill"]
    results.row(f"GetItem p99 during a {bf['items']}-item GSI backfill (ms)", bf["get"]["p99_ms"],
                "stratus GetItem p99 without", s["ops"]["get"]["p99_ms"], "ratio<=1.2", digits=2)
    results.row(f"GSI backfill of {bf['items']} items under GetItem load (s)", bf["secs"], digits=2)
    results.note(f"backfill run: {BACKFILL_ITEMS} more items loaded, then a {b.duration()}s GetItem wrk run "
                 f"(same settings) with UpdateTable adding a KEYS_ONLY GSI 1 s in; the build took "
                 f"{bf['secs']:.2f}s of that run" + (f"; GetItem problems: {bf['get']['problems']}"
                                                      if bf["get"]["problems"] else ""))
    if pf["problems"]:
        results.note(f"stratus --durability full PutItem: {pf['problems']}")
    results.row("stratus RssAnon after the runs and the backfill (MB)", b.to_mb(s["rss_anon_kb"]),
                target="stratus<32", digits=1)
    results.row("stratus RssFile after the runs and the backfill (MB)", b.to_mb(s["rss_file_kb"]), digits=1)
    for name in ("dynalite", "moto"):
        g = got[name]
        results.row(f"preload {ITEMS} items (s)", s["preload_s"], name,
                    None if g is None else g["preload_s"], digits=2)
    for name in ("dynalite", "moto"):
        g = got[name]
        results.row("RSS after the runs (MB)", b.to_mb(s["rss_kb"]), name,
                    None if g is None else b.to_mb(g["rss_kb"]), digits=1)

    if BIG:
        big = s["big"]
        results.row(f"BIG: load {BIG_ITEMS} items (s)", big["secs"], "", None, "stratus<60",
                    digits=1)
        q0, q1 = s["ops"]["query"], big["query"]
        before = f"stratus @ {ITEMS} items"
        results.row("BIG: Query p50 after the load (ms)", q1["p50_ms"], before,
                    q0["p50_ms"], "ratio<=1.5", digits=3)
        results.row("BIG: Query p99 after the load (ms)", q1["p99_ms"], before,
                    q0["p99_ms"], digits=3)
        results.row("BIG: Query req/s after the load", q1["rps"], before, q0["rps"],
                    "ratio>=0.67", digits=0)
        results.row(f"BIG: RSS after the load (MB)", b.to_mb(big["rss_kb"]), "", None, digits=1)
        results.note(f"BENCH_BIG: {BIG_ITEMS} items of ~200 B loaded with BatchWriteItem "
                     f"(25 per request) from Python over 2 keep-alive connections"
                     + (f", {big['retries']} retried batches" if big["retries"] else "")
                     + f"; then Query (same wrk settings) of random partitions among the "
                     f"{(ITEMS + BIG_ITEMS) // PER_PARTITION} preloaded + loaded ones; the table "
                     f"then held ~{big['total']} items (with the PutItem runs' items)")
        if q1["problems"]:
            results.note(f"stratus Query after the big load: {q1['problems']}")

    def conn_txt(c: dict) -> str:
        if len(set(c.values())) == 1:
            return str(next(iter(c.values())))
        return "(" + ", ".join(f"{label} {c[op]}" for op, label in OPS) + ")"

    conn_txt = ", ".join(f"{n} {conn_txt(g['conns'])}" for n, g in got.items() if g is not None)
    results.note(
        f"wrk -t{THREADS} keep-alive, connections: {conn_txt}; -d{b.duration()}s per operation "
        f"after a {b.warmup()}s warm-up, --timeout {WRK_TIMEOUT_S}s, each run started with the "
        "server idle; one server at a time; "
        f"{ITEMS} preloaded items of ~200 B, {PER_PARTITION} per partition (Query returns 10); "
        "GetItem/Query pick random preloaded keys; PutItem writes new items (run last); "
        "wrk shares the 2 CPUs with the server")
    pages = []
    for n, g in got.items():
        if g is not None:
            sc = g["ops"]["scan"]
            if sc is None:
                continue
            pages.append(f"{n} {sc['count_min']}" + (f"-{sc['count_max']}"
                                                     if sc["count_max"] != sc["count_min"] else ""))
    results.note("Scan (no Limit, first page only) items per page: " + ", ".join(pages))
    results.note("preload: BatchWriteItem, 25 items per request, from Python over 2 keep-alive "
                 "connections; dynalite on disk (--path in the scratch dir, --createTableMs 0); "
                 "stratus --ephemeral (LMDB in the scratch dir)")
    cpu = []
    for n, g in got.items():
        if g is None:
            continue
        parts = []
        for op, label in OPS:
            r = g["ops"][op]
            if r and r["requests"] and r["server_cpu_s"] is not None:
                parts.append(f"{label} {r['server_cpu_s'] / r['secs']:.2f} "
                             f"({1e6 * r['server_cpu_s'] / r['requests']:.0f} us/req)")
        wrk_cpu = " / ".join(f"{r['client_cpu_s'] / r['secs']:.2f}" if r else "-"
                             for r in (g["ops"][op] for op, _ in OPS))
        cpu.append(f"{n}: {', '.join(parts)}; wrk {wrk_cpu}")
    results.note("CPUs used during the measured runs, server (server CPU per request) and wrk "
                 "(" + " / ".join(label for _, label in OPS) + "): " + " | ".join(cpu))
    for n, g in got.items():
        if g is None:
            continue
        if g.get("preload_retries"):
            results.note(f"{n}: preload retried {g['preload_retries']} batches (UnprocessedItems)")
        for e in g.get("op_errors", []):
            results.note(f"{n} {e}")
        for op, label in OPS:
            r = g["ops"][op]
            if r and r["problems"]:
                results.note(f"{n} {label}: {r['problems']}"
                             + (f" (first: {r['first_bad'][:120]})" if r.get("first_bad") else ""))


if __name__ == "__main__":
    main()

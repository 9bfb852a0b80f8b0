#!/usr/bin/env python3
"""API Gateway: stratus against serverless-offline, running the same node handlers
(bench/gateway/handler.js) from the same serverless.yml (bench/gateway/serverless.yml):

- GET /hello behind a REST API (/dev/hello) and an HTTP API (/hello): a small JSON body;
- GET /item behind the HTTP API: one GetItem from stratus's DynamoDB with the AWS SDK for
  JavaScript v3 (both servers' handlers read the same table in the same stratus).

Each is driven with wrk (keep-alive, 2 threads) at 8 and 64 connections, after a warm-up,
one server at a time: stratus first (declared through its test API: the same functions and
routes), then serverless-offline (`serverless offline start`, its defaults, fake AWS
credentials, nothing from the network), while stratus idles as its DynamoDB.

Also measured:
- stratus's own ceiling: GET /_stratus/health under the same wrk load, and each endpoint's
  fraction of it;
- server CPU per request (utime + stime of the server's process tree: stratus with its
  handler processes; serverless-offline's node process with its worker threads, plus the
  stratus CPU its /item requests cost);
- the gateway's own overhead: p50 of GET /hello through the gateway minus p50 of a direct
  Lambda Invoke of the same function with the same event (one keep-alive connection, wrk
  -t1 -c1 each), for both API types.
"""
# bench-timeout: 300 + 20 runs

import json
import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import benchlib as b  # noqa: E402

BENCH = Path(__file__).resolve().parent
APP = BENCH / "gateway"
SLS = BENCH / "node_modules" / "serverless" / "bin" / "serverless.js"
INVOKE_LUA = BENCH / "lib" / "invoke.lua"
EXPECT_LUA = BENCH / "lib" / "expect200.lua"
CONNECTIONS = (8, 64)
THREADS = 2
ENDPOINTS = [("REST API, small JSON", "/dev/hello"), ("HTTP API, small JSON", "/hello"),
             ("HTTP API, DynamoDB GetItem", "/item")]


def post(url: str, body: dict | None, headers: dict | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def dynamodb(port: int, op: str, body: dict) -> dict:
    status, out = post(f"http://{b.HOST}:{port}/", body, {
        "X-Amz-Target": "DynamoDB_20120810." + op, "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    if status != 200:
        sys.exit(f"DynamoDB {op} failed: {status} {out[:200]!r}")
    return json.loads(out)


def tree_ticks(pid: int) -> int:
    """CPU ticks of a process and its children (stratus's handler processes)."""
    return sum(b.cpu_ticks(p) or 0 for p in [pid, *b.children(pid)])


def run(name: str, url: str, conns: int, pids: list[int], warm: bool = True, proc: b.Proc | None = None) -> dict:
    if warm and b.warmup():
        b.wrk(url, b.warmup(), min(THREADS, conns), conns)
    t0 = [tree_ticks(p) for p in pids]
    r = b.wrk(url, b.duration(), min(THREADS, conns), conns, script=EXPECT_LUA, timeout_s=10)
    t1 = [tree_ticks(p) for p in pids]
    for line in r["raw"].splitlines():
        if line.startswith("first_bad: "):
            r["errors"] = "; ".join(filter(None, [r["errors"], "first: " + line[11:].strip()]))
    hz = os.sysconf("SC_CLK_TCK")
    r["cpu_s"] = [(a - z) / hz for z, a in zip(t0, t1)]
    r["cpu_us_per_req"] = 1e6 * sum(r["cpu_s"]) / r["requests"] if r["requests"] else float("nan")
    b.log(f"  {name} -c{conns}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
          f"{r['cpu_us_per_req']:.0f} us CPU/req" + (f" ({r['errors']})" if r["errors"] else ""))
    if r["errors"] and proc:
        r["errors"] += " (server log: " + proc.stderr_tail(2).replace("\n", " | ") + ")"
    for p in pids:
        b.wait_idle(p, 20)
    return r


def warm_up(name: str, base: str) -> None:
    """Every endpoint at 64 connections for a while first: all the handler instances
    started (stratus: one per core per function for these quick handlers) and their code compiled by V8, before any
    measured run."""
    secs = max(b.warmup(), 5)
    b.log(f"{name}: warming every endpoint up ({secs}s each at 64 connections)")
    for _, path in ENDPOINTS:
        b.wrk(base + path, secs, THREADS, 64, timeout_s=10)


def p50(url: str, script: Path | None = None, args: list | tuple = ()) -> float:
    b.wrk(url, 1, 1, 1, script=script, args=args)
    return b.wrk(url, max(2, b.duration() // 4), 1, 1, script=script, args=args)["p50_ms"]


def start_app(work: Path, extra: list[str]) -> tuple[b.Proc, str, str, int]:
    """stratus with the benchmark's table, functions and APIs declared."""
    port, api_port = b.free_port(), b.free_port()
    stratus = b.start_stratus(work, port, ["--enable-test-api", "--api-port", str(api_port), *extra])
    b.wait_ready(port, stratus)
    base, api = f"http://{b.HOST}:{port}", f"http://{b.HOST}:{api_port}"
    dynamodb(port, "CreateTable", {"TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
                                   "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                                   "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    dynamodb(port, "PutItem", {"TableName": "bench", "Item": {"pk": {"S": "item-1"}, "name": {"S": "benchmark item"},
                                                              "n": {"N": "42"}}})
    for fn, handler in (("hello", "handler.hello"), ("item", "handler.item"), ("echo", "handler.echo")):
        status, out = post(base + "/_stratus/test/lambda/declare",
                           {"name": fn, "runtime": "nodejs20.x", "handler": handler, "code_dir": str(APP),
                            "timeout": 6, "memory_size": 1024, "environment": {"TABLE": "bench"}})
        if status != 200:
            sys.exit(f"declaring {fn} failed: {out!r}")
    routes = [("GET", "/hello", "hello"), ("GET", "/item", "item"), ("GET", "/echo", "echo")]
    for spec in ({"id": "benchrest1", "type": "rest", "stage": "dev"}, {"id": "benchhttp1", "type": "http"}):
        spec["routes"] = [{"method": m, "path": p, "function": f} for m, p, f in routes]
        status, out = post(base + "/_stratus/test/gateway/apis", spec)
        if status != 201:
            sys.exit(f"declaring the API failed: {out!r}")
    for _, path in ENDPOINTS:
        status, out = get(api + path)
        if status != 200:
            sys.exit(f"stratus {path}: {status} {out[:300]!r}")
    return stratus, base, api, port


def measure_stratus(work: Path) -> tuple[dict, b.Proc, int]:
    stratus, base, api, port = start_app(work, [])
    warm_up("stratus", api)
    out: dict = {"endpoints": {}}
    b.log("stratus: health ceiling")
    out["health"] = {c: run("health", base + "/_stratus/health", c, [stratus.pid]) for c in CONNECTIONS}
    for name, path in ENDPOINTS:
        out["endpoints"][path] = {c: run(name, api + path, c, [stratus.pid], proc=stratus) for c in CONNECTIONS}

    # The gateway's own cost: the same function, the same event, through the gateway and
    # through the Invoke API, one request at a time.
    b.log("stratus: gateway overhead (wrk -t1 -c1, p50)")
    overhead = {}
    for label, prefix in (("REST", "/dev"), ("HTTP", "")):
        status, event = get(api + prefix + "/echo")
        event_file = work / f"event-{label}.json"
        event_file.write_bytes(event)
        # Alternating rounds, the median of each side: the machine's drift hits both alike.
        gws, directs = [], []
        for _ in range(3):
            gws.append(p50(api + prefix + "/hello"))
            directs.append(p50(base + "/2015-03-31/functions/hello/invocations", INVOKE_LUA, [event_file]))
        gw, direct = sorted(gws)[1], sorted(directs)[1]
        overhead[label] = (gw, direct)
        b.log(f"  {label}: gateway p50 {gw:.3f} ms, direct Invoke p50 {direct:.3f} ms")
    out["overhead"] = overhead
    return out, stratus, port


def measure_fewer_sandboxes(work: Path) -> dict:
    """stratus again with 2 sandboxes per function (--lambda-concurrency 2): on 2 cores
    shared with wrk, 10 handler processes mostly compete for them."""
    stratus, base, api, port = start_app(work, ["--lambda-concurrency", "2"])
    warm_up("stratus --lambda-concurrency 2", api)
    out = {path: run(name + " (2 sandboxes)", api + path, 64, [stratus.pid], proc=stratus) for name, path in ENDPOINTS}
    stratus.stop()
    return out


def start_sls(work: Path, dynamo_port: int) -> tuple[b.Proc | None, int, str]:
    node = shutil.which("node")
    if not node or not SLS.exists():
        return None, 0, "serverless-offline is not installed (npm ci in bench/)"
    app = work / "sls-app"
    shutil.copytree(APP, app)
    # The handlers' @aws-sdk and the plugin resolve from bench/node_modules.
    (app / "node_modules").symlink_to(BENCH / "node_modules")
    port, lambda_port = b.free_port(), b.free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL=f"http://{b.HOST}:{dynamo_port}", SLS_TELEMETRY_DISABLED="1",
               SLS_NOTIFICATIONS_MODE="off", SLS_DEPRECATION_DISABLE="*", SLS_INTERACTIVE_SETUP_DISABLE="1",
               NODE_ENV="production")
    proc = b.Proc("serverless-offline",
                  [node, str(SLS), "offline", "start", "--host", b.HOST, "--httpPort", str(port),
                   "--lambdaPort", str(lambda_port)], app, env)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.p.poll() is not None:
            return None, 0, "serverless-offline exited: " + proc.stderr_tail()
        if get(f"http://{b.HOST}:{port}/hello")[0] == 200:
            return proc, port, ""
        time.sleep(0.2)
    proc.stop()
    return None, 0, "serverless-offline did not answer within 60 s: " + proc.stderr_tail()


def main() -> None:
    res = b.Results("gateway")
    work = b.scratch_dir("gateway")
    s, stratus, dynamo_port = measure_stratus(work)

    sls, sls_port, why = start_sls(work, dynamo_port)
    o: dict = {}
    if sls:
        for name, path in ENDPOINTS:
            status, body = get(f"http://{b.HOST}:{sls_port}{path}")
            if status != 200:
                res.note(f"serverless-offline {path}: {status} {body[:200]!r}")
        warm_up("serverless-offline", f"http://{b.HOST}:{sls_port}")
        o = {path: {c: run("serverless-offline " + name, f"http://{b.HOST}:{sls_port}{path}", c,
                           [sls.pid, stratus.pid], proc=sls) for c in CONNECTIONS}
             for name, path in ENDPOINTS}
        sls.stop()
    else:
        res.note(why)
    stratus.stop()
    few = measure_fewer_sandboxes(work)

    for name, path in ENDPOINTS:
        for c in CONNECTIONS:
            mine = s["endpoints"][path][c]
            theirs = o.get(path, {}).get(c)
            res.row(f"{name} req/s ({c} conns)", mine["rps"], "serverless-offline",
                    theirs["rps"] if theirs else None, "ratio>=20", digits=0)
    for name, path in ENDPOINTS:
        theirs = o.get(path, {}).get(64)
        res.row(f"{name} req/s (64 conns), stratus --lambda-concurrency 2", few[path]["rps"], "serverless-offline",
                theirs["rps"] if theirs else None, digits=0)
    for name, path in ENDPOINTS:
        for c in CONNECTIONS:
            mine = s["endpoints"][path][c]
            theirs = o.get(path, {}).get(c)
            res.row(f"{name} p50 (ms, {c} conns)", mine["p50_ms"], "serverless-offline",
                    theirs["p50_ms"] if theirs else None, digits=3)
    for name, path in ENDPOINTS:
        for c in CONNECTIONS:
            mine = s["endpoints"][path][c]
            theirs = o.get(path, {}).get(c)
            res.row(f"{name} server CPU/req (us, {c} conns)", mine["cpu_us_per_req"], "serverless-offline",
                    theirs["cpu_us_per_req"] if theirs else None, digits=0)
    for name, path in ENDPOINTS:
        for c in CONNECTIONS:
            res.row(f"{name}: fraction of the health ceiling ({c} conns)",
                    s["endpoints"][path][c]["rps"] / s["health"][c]["rps"], digits=3)
    for label, (gw, direct) in s["overhead"].items():
        res.row(f"{label} API gateway overhead, p50 (ms)", gw - direct, "", None, "stratus<0.2", digits=3)
    res.note("wrk -t2 keep-alive, " + ", ".join(f"-c{c}" for c in CONNECTIONS) +
             f", -d{b.duration()}s after a {b.warmup()}s warm-up; one server at a time; wrk shares the 2 CPUs; "
             "the same handler file and routes on both; stratus runs its defaults (up to 10 sandboxes per function, "
             "one per core unless handlers wait on I/O), "
             "each with 1024 MB (the Serverless Framework's default memorySize)")
    res.note("health ceiling (stratus GET /_stratus/health, same load): " +
             ", ".join(f"-c{c} {s['health'][c]['rps']:.0f} req/s" for c in CONNECTIONS))
    res.note("gateway overhead = p50 of GET /hello through the gateway - p50 of a direct Invoke of the same "
             "function with the event the gateway sends (wrk -t1 -c1, medians of 3 alternating rounds): " +
             "; ".join(f"{k}: {gw:.3f} - {d:.3f} ms" for k, (gw, d) in s["overhead"].items()))
    if o:
        res.note("server CPU counts stratus with its handler processes; for serverless-offline its node process "
                 "plus the stratus CPU its /item requests cost (DynamoDB): " +
                 ", ".join(f"{p} -c{c} sls {r['cpu_s'][0] / r['secs']:.2f} + stratus {r['cpu_s'][1] / r['secs']:.2f} CPUs"
                           for p, rc in o.items() for c, r in rc.items()))
    res.note("--lambda-concurrency 2 (at most 2 sandboxes per function), -c64: server CPU per request " +
             ", ".join(f"{p} {r['cpu_us_per_req']:.0f} us" for p, r in few.items()))
    for path, r in few.items():
        if r["errors"]:
            res.note(f"stratus {path} -c64 (2 sandboxes): {r['errors']}")
    for server, results in (("stratus", s["endpoints"]), ("serverless-offline", o)):
        for path, rc in results.items():
            for c, r in rc.items():
                if r["errors"]:
                    res.note(f"{server} {path} -c{c}: {r['errors']}")


if __name__ == "__main__":
    main()

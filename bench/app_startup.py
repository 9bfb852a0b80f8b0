#!/usr/bin/env python3
"""`stratus start` on a whole app: time from exec to the banner (everything deployed: 10
functions with their HTTP API routes, 3 tables, one with a stream and a GSI, a stream
trigger, a site bucket synced from a 20-file folder), side by side with serverless-offline
(serverless@3 + serverless-offline from bench/package.json) starting the same
serverless.yml until it prints "Server ready".

serverless-offline serves the routes but deploys no tables, buckets or site (that needs
serverless-dynamodb-local's Java and more plugins), so its number is a lower bound of what
the same app costs with it. One unmeasured start each first; APP_STARTUP_RUNS (default 10)
measured starts for stratus, APP_STARTUP_PEER_RUNS (default 3) for serverless-offline.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import benchlib as b  # noqa: E402

RUNS = int(os.environ.get("APP_STARTUP_RUNS", "10"))
PEER_RUNS = int(os.environ.get("APP_STARTUP_PEER_RUNS", "3"))
BENCH = Path(__file__).resolve().parent


def write_app(root: Path) -> None:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "web" / "assets").mkdir(parents=True, exist_ok=True)
    fns = []
    for i in range(10):
        fns.append(f"""  fn{i}:
    handler: src/handler.fn{i}
    events:
      - httpApi: 'GET /items/{i}/{{id}}'
""")
    fns.append("""  onChange:
    handler: src/handler.fn0
    events:
      - stream:
          type: dynamodb
          arn: !GetAtt Orders.StreamArn
""")
    tables = []
    for name in ("Orders", "Users", "Audit"):
        extra = ""
        if name == "Orders":
            extra = """        GlobalSecondaryIndexes:
          - IndexName: byUser
            KeySchema: [{ AttributeName: userId, KeyType: HASH }]
            Projection: { ProjectionType: ALL }
        StreamSpecification: { StreamViewType: NEW_AND_OLD_IMAGES }
"""
        defs = "[{ AttributeName: id, AttributeType: S }" + (", { AttributeName: userId, AttributeType: S }]" if name == "Orders" else "]")
        tables.append(f"""    {name}:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: bench-${{sls:stage}}-{name.lower()}
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: {defs}
        KeySchema: [{{ AttributeName: id, KeyType: HASH }}]
{extra}""")
    (root / "serverless.yml").write_text(f"""service: bench
frameworkVersion: '3'
plugins:
  - serverless-offline
provider:
  name: aws
  runtime: nodejs20.x
  stage: dev
  environment:
    STAGE: ${{sls:stage}}
custom:
  stratus:
    site:
      bucket: bench-site
      dir: web
      apiPrefix: /api
functions:
{''.join(fns)}resources:
  Resources:
{''.join(tables)}""")
    (root / "src" / "handler.js").write_text(
        "".join(f"module.exports.fn{i} = async () => ({{ statusCode: 200, body: 'fn{i}' }});\n" for i in range(10)))
    (root / "web" / "index.html").write_text("<!doctype html><div id=app></div><script src=/assets/app.js></script>")
    for i in range(19):
        (root / "web" / "assets" / f"chunk{i}.js").write_text(f"export const c{i} = {i};\n" * 200)
    nm = BENCH / "node_modules"
    if nm.is_dir() and not (root / "node_modules").exists():
        (root / "node_modules").symlink_to(nm)


def stratus_banner_ms(app: Path, work: Path) -> float:
    port = b.free_port()
    env = dict(os.environ, TMPDIR=str(work))
    argv = [b.stratus_bin(), "start", str(app), "--ephemeral", "--host", b.HOST, "--port", str(port),
            "--site-port", "0", "--log-level", "warn", "--no-watch"]
    help_text = subprocess.run([b.stratus_bin(), "start", "--help"], capture_output=True, text=True).stdout
    if "--api-port" in help_text:
        argv += ["--api-port", "0"]
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    while True:
        line = p.stdout.readline()
        if not line:
            sys.exit("stratus exited before its banner: " + p.stderr.read())
        if line.startswith("  data:"):
            t1 = time.perf_counter_ns()
            break
    p.terminate()
    p.communicate(timeout=10)
    return (t1 - t0) / 1e6


def offline_ready_ms(app: Path) -> float | None:
    sls = BENCH / "node_modules" / ".bin" / "serverless"
    if not sls.exists():
        return None
    port, lambda_port = b.free_port(), b.free_port()
    env = dict(os.environ, SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off", SLS_DEPRECATION_DISABLE="*",
               AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    argv = [str(sls), "offline", "start", "--httpPort", str(port), "--lambdaPort", str(lambda_port), "--noPrependStageInUrl"]
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv, cwd=app, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 60
    out = []
    try:
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            out.append(line)
            if "Server ready" in line:
                return (time.perf_counter_ns() - t0) / 1e6
        b.log("serverless-offline did not get ready: " + "".join(out[-10:]))
        return None
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()


def main() -> None:
    res = b.Results("app_startup")
    work = b.scratch_dir("app_startup")
    app = work / "app"
    write_app(app)
    stratus_banner_ms(app, work)  # unmeasured
    ups = [stratus_banner_ms(app, work) for _ in range(RUNS)]
    b.log(f"stratus: banner median {statistics.median(ups):.1f} ms (min {min(ups):.1f}, max {max(ups):.1f})")
    peer = []
    if offline_ready_ms(app) is not None:  # unmeasured
        for _ in range(PEER_RUNS):
            ms = offline_ready_ms(app)
            if ms is not None:
                peer.append(ms)
    if peer:
        b.log(f"serverless-offline: ready median {statistics.median(peer):.0f} ms")
    res.row("start to banner, app of 10 functions, 3 tables, a site (ms, median)", statistics.median(ups),
            "serverless-offline", statistics.median(peer) if peer else None, "stratus<100", 1)
    res.row("start to banner, max (ms)", max(ups), "serverless-offline", max(peer) if peer else None, digits=1)
    res.note(f"{RUNS} stratus starts (--ephemeral, a fresh data dir each: tables created, 20 site files uploaded), "
             f"{len(peer)} serverless-offline starts (routes only: no tables, no site), after one unmeasured each")
    shutil.rmtree(app, ignore_errors=True)


if __name__ == "__main__":
    main()

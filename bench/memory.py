#!/usr/bin/env python3
"""Memory after the whole bench: ONE stratus daemon carries, one after the other, the
DynamoDB load (10,000 preloaded items, GetItem / Query / PutItem under wrk, 1 MB Scan
pages), the S3 load (4 KiB PutObject / GetObject under wrk, a 256 MiB upload and
download with curl) and the Lambda load (three node functions, up to 8 sandboxes, invoked
from 8 threads), then idles 2 s. Reported: the daemon's RssAnon (heap, stacks: what it
keeps) and RssFile (mapped files: the binary, its libraries and the LMDB map, pages the
kernel may drop) at the end, and its peak RSS (VmHWM). Handler processes are not counted
(they are the functions' own memory, as on AWS).

Each step reuses the drivers of bench/dynamodb.py, bench/s3.py and bench/lambda.py; the
per-service benchmarks measure speed, this one only what memory is left behind.
"""
# bench-timeout: 120 + 8 runs

import http.client
import importlib.util
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import benchlib as b  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
BIG_MB = int(os.environ.get("MEMORY_BIG_MB", "256"))


def module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def mem(pid: int) -> dict:
    return {f: round(b.to_mb(b.proc_status_kb(pid, f)) or 0, 1) for f in ("RssAnon", "RssFile", "VmHWM", "VmRSS")}


def dynamodb_load(ddb, port: int, pid: int) -> None:
    ddb.create_table(port)
    ddb.load(port, 0, ddb.ITEMS)
    parts = ddb.ITEMS // ddb.PER_PARTITION
    for op in ("get", "query", "put"):
        ddb.run_wrk(port, op, parts, b.duration(), ddb.CONNECTIONS, pid)
        b.wait_idle(pid)
    body = json.dumps({"TableName": ddb.TABLE}).encode()
    for _ in range(5):
        req = urllib.request.Request(f"http://{b.HOST}:{port}/", data=body, headers={
            "X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, "
                             "SignedHeaders=host, Signature=0"})
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()


def s3_load(s3, base: str, proc: b.Proc, work: Path) -> None:
    s3.small_objects("stratus", base, proc)
    big = work / "big.bin"
    with open(big, "wb") as f:
        chunk = os.urandom(1024 * 1024)
        for _ in range(BIG_MB):
            f.write(chunk)
    subprocess.run(["curl", "-sf", "-T", str(big), base + "/bench/big"], check=True)
    subprocess.run(["curl", "-sf", "-o", str(work / "big.down"), base + "/bench/big"], check=True)
    os.remove(big)
    os.remove(work / "big.down")


def lambda_load(port: int) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", "exports.handler = async (e) => ({ ok: true, n: e.n });")
    code = buf.getvalue()
    import boto3
    lam = boto3.client("lambda", endpoint_url=f"http://{b.HOST}:{port}", region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    names = [f"mem{i}" for i in range(3)]
    for name in names:
        lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role="arn:aws:iam::000000000000:role/r",
                            Handler="index.handler", Code={"ZipFile": code})
    stop = time.time() + b.duration()
    errors = []

    def run(i: int) -> None:
        c = http.client.HTTPConnection(b.HOST, port)
        n = 0
        while time.time() < stop:
            c.request("POST", f"/2015-03-31/functions/{names[i % 3]}/invocations", body=json.dumps({"n": n}))
            r = c.getresponse()
            if r.status != 200:
                errors.append(r.status)
            r.read()
            n += 1
    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"Lambda invocations failed: {errors[:5]}")


def main() -> None:
    res = b.Results("memory")
    work = b.scratch_dir("memory")
    ddb, s3 = module("dynamodb"), module("s3")
    port = b.free_port()
    proc = b.start_stratus(work, port)
    b.wait_ready(port, proc)
    start = mem(proc.pid)
    steps = []
    dynamodb_load(ddb, port, proc.pid)
    b.wait_idle(proc.pid)
    steps.append(("DynamoDB", mem(proc.pid)))
    s3_load(s3, f"http://{b.HOST}:{port}", proc, work)
    b.wait_idle(proc.pid)
    steps.append(("S3", mem(proc.pid)))
    lambda_load(port)
    b.wait_idle(proc.pid)
    time.sleep(2)
    end = mem(proc.pid)
    steps.append(("Lambda", end))
    proc.stop()
    res.row("RssAnon after the whole bench, one daemon (MB)", end["RssAnon"], target="stratus<32", digits=1)
    res.row("RssFile after the whole bench, one daemon (MB)", end["RssFile"], digits=1)
    res.row("peak RSS (VmHWM) during the whole bench (MB)", end["VmHWM"], digits=1)
    res.note("one daemon through the DynamoDB load (10,000 items preloaded; GetItem, Query, PutItem under wrk "
             f"-c{ddb.CONNECTIONS} for {b.duration()}s each; 5 Scans of the first 1 MB page), then S3 (4 KiB "
             f"GetObject / PutObject under wrk -c32, a {BIG_MB} MiB upload and download with curl), then Lambda "
             "(3 node functions invoked from 8 threads), then 2 s idle; handler processes not counted")
    res.note("RssAnon / RssFile (MB) at start " + f"{start['RssAnon']} / {start['RssFile']}" + "; after "
             + "; after ".join(f"{name} {m['RssAnon']} / {m['RssFile']}" for name, m in steps))


if __name__ == "__main__":
    main()

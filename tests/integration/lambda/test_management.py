"""Lambda management calls beyond create/invoke: code from S3 (AWS CLI and boto3, with
object versions), resource policies, tags, reserved concurrency and what it does to
invocations, queue-full throttling, idle sandboxes being stopped, and handlers that print
without end."""

import json
import os
import tempfile
import threading
import time
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon

from .common import ROLE, fname, zip_of


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (stratus reaps its children; this only guards the check).
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


class ManagementTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Small limits so that queueing, throttling and idle stops show quickly.
        cls.d = Daemon("--lambda-concurrency", "2", "--lambda-queue-size", "2", "--lambda-idle-timeout", "1").start()
        cls.lam = cls.d.client("lambda", read_timeout=60)
        cls.s3 = cls.d.client("s3")
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tmp.cleanup()

    def create(self, files, handler="index.handler", runtime="nodejs20.x", **kw):
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                                 Code={"ZipFile": zip_of(files)}, **kw)
        return name

    def invoke(self, name, event=None):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}))
        return r, json.loads(r["Payload"].read() or b"null")

    def error_of(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response

    # ---- code from S3 ----

    def test_code_from_s3_with_the_cli(self):
        bucket = "code-" + uuid.uuid4().hex[:8]
        path = os.path.join(self.tmp.name, "fn.zip")
        with open(path, "wb") as f:
            f.write(zip_of({"index.js": "exports.handler = async (e) => ({ from: 's3', e });"}))
        self.assertEqual(self.d.aws("s3", "mb", "s3://" + bucket).returncode, 0)
        out = self.d.aws("s3", "cp", path, "s3://%s/deploy/fn.zip" % bucket)
        self.assertEqual(out.returncode, 0, out.stderr)
        name = fname("s3")
        out = self.d.aws("lambda", "create-function", "--function-name", name, "--runtime", "nodejs20.x",
                         "--role", ROLE, "--handler", "index.handler",
                         "--code", "S3Bucket=%s,S3Key=deploy/fn.zip" % bucket)
        self.assertEqual(out.returncode, 0, out.stderr)
        cfg = json.loads(out.stdout)
        self.assertEqual(cfg["CodeSize"], os.path.getsize(path))
        _, body = self.invoke(name, {"a": 1})
        self.assertEqual(body, {"from": "s3", "e": {"a": 1}})
        # update-function-code from S3 too.
        with open(path, "wb") as f:
            f.write(zip_of({"index.js": "exports.handler = async () => 'v2 from s3';"}))
        self.assertEqual(self.d.aws("s3", "cp", path, "s3://%s/deploy/fn.zip" % bucket).returncode, 0)
        out = self.d.aws("lambda", "update-function-code", "--function-name", name,
                         "--s3-bucket", bucket, "--s3-key", "deploy/fn.zip")
        self.assertEqual(out.returncode, 0, out.stderr)
        _, body = self.invoke(name)
        self.assertEqual(body, "v2 from s3")

    def test_code_from_s3_object_version_and_errors(self):
        bucket = "codev-" + uuid.uuid4().hex[:8]
        self.s3.create_bucket(Bucket=bucket)
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        v1 = self.s3.put_object(Bucket=bucket, Key="fn.zip",
                                Body=zip_of({"index.js": "exports.handler = async () => 1;"}))["VersionId"]
        self.s3.put_object(Bucket=bucket, Key="fn.zip", Body=zip_of({"index.js": "exports.handler = async () => 2;"}))
        name = fname("s3v")
        self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                 Code={"S3Bucket": bucket, "S3Key": "fn.zip", "S3ObjectVersion": v1})
        self.assertEqual(self.invoke(name)[1], 1)
        self.lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="fn.zip")
        self.assertEqual(self.invoke(name)[1], 2)

        # What Lambda answers when its GetObject fails; nothing is created or changed.
        bad = fname("s3bad")
        err = self.error_of(self.lam.create_function, FunctionName=bad, Runtime="nodejs20.x", Role=ROLE,
                            Handler="index.handler", Code={"S3Bucket": bucket, "S3Key": "missing.zip"})
        self.assertEqual(err["Error"]["Code"], "InvalidParameterValueException")
        self.assertEqual(err["Error"]["Message"], "Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                                                  "S3 Error Message: The specified key does not exist.")
        err = self.error_of(self.lam.create_function, FunctionName=bad, Runtime="nodejs20.x", Role=ROLE,
                            Handler="index.handler", Code={"S3Bucket": "no-such-bucket-" + bucket, "S3Key": "fn.zip"})
        self.assertIn("S3 Error Code: NoSuchBucket", err["Error"]["Message"])
        self.assertEqual(self.error_of(self.lam.get_function, FunctionName=bad)["Error"]["Code"],
                         "ResourceNotFoundException")
        self.s3.put_object(Bucket=bucket, Key="notazip", Body=b"hello")
        err = self.error_of(self.lam.update_function_code, FunctionName=name, S3Bucket=bucket, S3Key="notazip")
        self.assertEqual(err["Error"]["Code"], "InvalidParameterValueException")
        self.assertEqual(self.invoke(name)[1], 2)  # unchanged

    # GetFunction's Code.Location downloads the deployment package (AWS: a presigned S3
    # URL); a new package gets a new location, the old one is gone.
    def test_code_location(self):
        import urllib.error
        import urllib.request
        package = zip_of({"index.js": "exports.handler = async () => 'located';"})
        name = fname("loc")
        self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                 Code={"ZipFile": package})
        code = self.lam.get_function(FunctionName=name)["Code"]
        self.assertEqual(code["RepositoryType"], "S3")
        with urllib.request.urlopen(code["Location"], timeout=10) as r:
            self.assertEqual(r.headers["Content-Type"], "application/zip")
            self.assertEqual(r.read(), package)
        second = zip_of({"index.js": "exports.handler = async () => 'moved';"})
        self.lam.update_function_code(FunctionName=name, ZipFile=second)
        location = self.lam.get_function(FunctionName=name)["Code"]["Location"]
        self.assertNotEqual(location, code["Location"])
        with urllib.request.urlopen(location, timeout=10) as r:
            self.assertEqual(r.read(), second)
        self.lam.delete_function(FunctionName=name)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(location, timeout=10)
        self.assertEqual(cm.exception.code, 404)

    # ---- resource policy ----

    def test_permissions(self):
        name = self.create({"index.js": "exports.handler = async () => 1;"})
        err = self.error_of(self.lam.get_policy, FunctionName=name)
        self.assertEqual(err["Error"]["Code"], "ResourceNotFoundException")
        r = self.lam.add_permission(FunctionName=name, StatementId="s3invoke", Action="lambda:InvokeFunction",
                                    Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket",
                                    SourceAccount="000000000000")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 201)
        st = json.loads(r["Statement"])
        self.assertEqual(st["Sid"], "s3invoke")
        self.assertEqual(st["Principal"], {"Service": "s3.amazonaws.com"})
        self.assertEqual(st["Condition"]["ArnLike"], {"AWS:SourceArn": "arn:aws:s3:::my-bucket"})
        self.lam.add_permission(FunctionName=name, StatementId="acct", Action="lambda:InvokeFunction",
                                Principal="123456789012")
        err = self.error_of(self.lam.add_permission, FunctionName=name, StatementId="acct",
                            Action="lambda:InvokeFunction", Principal="123456789012")
        self.assertEqual(err["Error"]["Code"], "ResourceConflictException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 409)
        policy = self.lam.get_policy(FunctionName=name)
        doc = json.loads(policy["Policy"])
        self.assertEqual(doc["Version"], "2012-10-17")
        self.assertEqual([s["Sid"] for s in doc["Statement"]], ["s3invoke", "acct"])
        self.assertEqual(doc["Statement"][1]["Principal"], {"AWS": "arn:aws:iam::123456789012:root"})
        self.assertTrue(policy["RevisionId"])
        self.lam.remove_permission(FunctionName=name, StatementId="s3invoke")
        err = self.error_of(self.lam.remove_permission, FunctionName=name, StatementId="s3invoke")
        self.assertEqual(err["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(err["Error"]["Message"], "Statement s3invoke is not found in resource policy.")
        self.assertEqual([s["Sid"] for s in json.loads(self.lam.get_policy(FunctionName=name)["Policy"])["Statement"]],
                         ["acct"])

    # ---- tags ----

    def test_tags(self):
        name = self.create({"index.js": "exports.handler = async () => 1;"}, Tags={"team": "a"})
        arn = self.lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"team": "a"})
        self.lam.tag_resource(Resource=arn, Tags={"env": "dev", "team": "b"})
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"team": "b", "env": "dev"})
        self.lam.untag_resource(Resource=arn, TagKeys=["team", "absent"])
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"env": "dev"})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Tags"], {"env": "dev"})
        err = self.error_of(self.lam.list_tags, Resource=arn + "-gone")
        self.assertEqual(err["Error"]["Code"], "ResourceNotFoundException")

    # ---- concurrency ----

    def test_reserved_concurrency(self):
        src = ("const id = Math.random(); exports.handler = async (e) => { "
               "await new Promise(r => setTimeout(r, e.ms || 0)); return id; };")
        name = self.create({"index.js": src})
        self.assertEqual(self.lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions"), None)
        r = self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        self.assertEqual(r["ReservedConcurrentExecutions"], 0)
        # Reserved 0: every invocation is throttled.
        err = self.error_of(self.lam.invoke, FunctionName=name, Payload=b"{}")
        self.assertEqual(err["Error"]["Code"], "TooManyRequestsException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 429)
        self.assertEqual(err["Reason"], "ReservedFunctionConcurrentInvocationLimitExceeded")
        # Reserved 1 (below the local default of 2): parallel invocations share one sandbox.
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        self.assertEqual(self.lam.get_function(FunctionName=name)["Concurrency"], {"ReservedConcurrentExecutions": 1})
        ids = []
        threads = [threading.Thread(target=lambda: ids.append(self.invoke(name, {"ms": 200})[1])) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(ids), 3)
        self.assertEqual(len(set(ids)), 1)
        self.lam.delete_function_concurrency(FunctionName=name)
        self.assertNotIn("ReservedConcurrentExecutions", self.lam.get_function_concurrency(FunctionName=name))

    # A cold start in progress takes the first queued call: with reserved concurrency 1 and a
    # queue of 2, three calls arriving while the only sandbox is still starting all run (the
    # one the starting sandbox will take is not waiting beyond the limit). Under CI load a
    # cold start used to throttle the third.
    def test_calls_during_a_cold_start_fit_limit_plus_queue(self):
        src = ("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800);"  # a slow init
               "exports.handler = async () => process.pid;")
        name = self.create({"index.js": src})
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        results = []
        lock = threading.Lock()

        def go():
            try:
                out = self.invoke(name)[1]
            except botocore.exceptions.ClientError as e:
                out = e.response["Error"]["Code"]
            with lock:
                results.append(out)
        threads = [threading.Thread(target=go) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 3)
        self.assertEqual(len(set(results)), 1, results)  # one sandbox answered all three
        self.assertIsInstance(results[0], int, results)

    # Concurrency 2, queue 2: of 6 simultaneous slow calls, 4 run (2 at once, 2 queued)
    # and 2 are throttled with TooManyRequestsException.
    def test_queue_full_is_throttled(self):
        name = self.create({"index.js": "exports.handler = async () => { await new Promise(r => setTimeout(r, 1500)); return 'ok'; };"})
        self.invoke(name)  # one warm sandbox
        results = []
        lock = threading.Lock()

        def go():
            try:
                out = self.invoke(name)[1]
            except botocore.exceptions.ClientError as e:
                out = (e.response["Error"]["Code"], e.response.get("Reason"))
            with lock:
                results.append(out)
        threads = []
        for _ in range(6):
            t = threading.Thread(target=go)
            t.start()
            threads.append(t)
            time.sleep(0.05)  # in order: the first ones take the sandboxes and the queue
        for t in threads:
            t.join()
        self.assertEqual(results.count("ok"), 4, results)
        self.assertEqual(results.count(("TooManyRequestsException", "ConcurrentInvocationLimitExceeded")), 2, results)

    # ---- idle sandboxes ----

    def test_idle_sandbox_is_stopped(self):
        name = self.create({"index.js": "let n = 0; exports.handler = async () => ({ pid: process.pid, n: ++n });"})
        first = self.invoke(name)[1]
        self.assertEqual(self.invoke(name)[1], {"pid": first["pid"], "n": 2})
        self.assertTrue(pid_alive(first["pid"]))
        deadline = time.time() + 10
        while pid_alive(first["pid"]) and time.time() < deadline:
            time.sleep(0.1)
        self.assertFalse(pid_alive(first["pid"]), "idle sandbox still running after 10 s (idle timeout 1 s)")
        again = self.invoke(name)[1]
        self.assertEqual(again["n"], 1)
        self.assertNotEqual(again["pid"], first["pid"])

    # ---- memory ----

    # A handler's child processes count against MemorySize (Lambda meters the sandbox).
    def test_child_process_memory_counts(self):
        src = ("import subprocess, sys\n"
               "def handler(e, c):\n"
               "    subprocess.run([sys.executable, '-c', "
               "'import time; a = bytearray(%d * 1024 * 1024); a[::4096] = b\"x\" * len(a[::4096]); time.sleep(10)'])\n"
               "    return 'survived'\n")
        name = self.create({"app.py": src % 300}, handler="app.handler", runtime="python3.12", Timeout=8)
        r, body = self.invoke(name)
        self.assertEqual(r.get("FunctionError"), "Unhandled", body)
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertIn("signal: killed", body["errorMessage"])
        # Within the limit it runs to the end.
        name = self.create({"app.py": (src % 16).replace("time.sleep(10)", "time.sleep(0.2)")},
                           handler="app.handler", runtime="python3.12", Timeout=8)
        self.assertEqual(self.invoke(name)[1], "survived")

    # ---- output without end ----

    def test_infinite_output_fails_only_its_invocation(self):
        rss_before = self.d.rss_kb()
        # console.log in a loop that never yields, python's print: the handler goes as fast as
        # stratus drains the pipe. (A handler that ignores back-pressure on process.stdout
        # buffers in its own memory and is killed at its MemorySize, as on AWS.)
        loud = self.create({"index.js": "exports.handler = async () => { "
                                        "const s = 'x'.repeat(1 << 16); for (;;) console.log(s); };"},
                           Timeout=2, MemorySize=512)  # node's own heap creeps up as it formats lines
        noline = self.create({"app.py": "def handler(e, c):\n    s = 'y' * 65536\n    while True:\n"
                                        "        print(s, end='', flush=True)\n"},
                             handler="app.handler", runtime="python3.12", Timeout=2)
        quiet = self.create({"index.js": "exports.handler = async () => 'fine';"})
        results = {}

        def go(n):
            r = self.lam.invoke(FunctionName=n, Payload=b"{}", LogType="Tail")
            results[n] = (r, json.loads(r["Payload"].read()))
        threads = [threading.Thread(target=go, args=(n,)) for n in (loud, noline)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.assertEqual(self.invoke(quiet)[1], "fine")  # answers while the others flood
        for t in threads:
            t.join()
        for n in (loud, noline):
            r, body = results[n]
            self.assertEqual(r["FunctionError"], "Unhandled")
            self.assertIn("Task timed out after 2.00 seconds", body["errorMessage"])
            import base64
            self.assertLessEqual(len(base64.b64decode(r["LogResult"])), 4096)
        # Output is not buffered without bound (hundreds of MB went through).
        self.assertLess(self.d.rss_kb() - rss_before, 64 * 1024)


if __name__ == "__main__":
    unittest.main()

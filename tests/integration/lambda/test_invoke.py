"""Lambda through boto3 against the real daemon: functions created from zips, invoked
in real node and python sandboxes (warm state, context, logs), and failures that hit
only their own invocation."""

import base64
import json
import threading
import time
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon

from .common import ROLE, fname, zip_of


NODE_CJS = """
let count = 0;
exports.handler = async (event, context) => {
  count += 1;
  console.log("hello", event.x);
  return { count, event, name: context.functionName, arn: context.invokedFunctionArn,
           id: context.awsRequestId, mem: context.memoryLimitInMB,
           remaining: context.getRemainingTimeInMillis(), env: process.env.IS_OFFLINE };
};
"""
NODE_ESM_CALLBACK = """
export const handler = (event, context, callback) => { callback(null, { esm: true, x: event.x }); };
"""
PYTHON = """
import os
state = {"n": 0}
def handler(event, context):
    state["n"] += 1
    print("py says", event.get("x"))
    return {"n": state["n"], "name": context.function_name, "rem": context.get_remaining_time_in_millis() > 0,
            "region": os.environ["AWS_REGION"]}
"""


class InvokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--lambda-concurrency", "3").start()
        cls.lam = cls.d.client("lambda", read_timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def create(self, files, handler="index.handler", runtime="nodejs20.x", **kw):
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE,
                                 Handler=handler, Code={"ZipFile": zip_of(files)}, **kw)
        return name

    def invoke(self, name, event=None, **kw):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}), **kw)
        return r, json.loads(r["Payload"].read() or b"null")

    # Warm reuse: module state survives between invocations of one sandbox.
    def test_node_cjs_warm_state_context_and_tail(self):
        name = self.create({"index.js": NODE_CJS})
        r, body = self.invoke(name, {"x": 1}, LogType="Tail")
        self.assertEqual(body["count"], 1)
        self.assertEqual(body["name"], name)
        self.assertEqual(body["arn"], "arn:aws:lambda:us-east-1:000000000000:function:" + name)
        self.assertEqual(body["mem"], "128")
        self.assertEqual(body["env"], "true")
        self.assertTrue(0 < body["remaining"] <= 3000)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertEqual(r["ResponseMetadata"]["RequestId"], body["id"])  # as on AWS
        log = base64.b64decode(r["LogResult"]).decode()
        self.assertIn("START RequestId: %s Version: $LATEST" % body["id"], log)
        self.assertIn("\t%s\tINFO\thello 1" % body["id"], log)
        self.assertIn("END RequestId: " + body["id"], log)
        self.assertRegex(log, r"REPORT RequestId: %s\tDuration: [0-9.]+ ms\tBilled Duration: \d+ ms\t"
                              r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [0-9.]+ ms" % body["id"])
        r, body = self.invoke(name, {"x": 2}, LogType="Tail")
        self.assertEqual(body["count"], 2)
        self.assertNotIn("Init Duration", base64.b64decode(r["LogResult"]).decode())

    def test_node_esm_callback(self):
        name = self.create({"index.mjs": NODE_ESM_CALLBACK})
        _, body = self.invoke(name, {"x": 5})
        self.assertEqual(body, {"esm": True, "x": 5})

    def test_node_esm_imports_the_runtime_sdk(self):
        # As on AWS's nodejs runtimes, an ES module handler imports the AWS SDK v3 without
        # bundling it (the runtime's copy), and reaches stratus through AWS_ENDPOINT_URL.
        src = ('import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";\n'
               'export const handler = async () => {\n'
               '  const r = await new DynamoDBClient({}).send(new ListTablesCommand({}));\n'
               '  return { ok: Array.isArray(r.TableNames) };\n};\n')
        name = self.create({"index.mjs": src})
        _, body = self.invoke(name, {})
        self.assertEqual(body, {"ok": True})

    def test_python_handler(self):
        name = self.create({"app.py": PYTHON}, handler="app.handler", runtime="python3.12")
        _, body = self.invoke(name, {"x": 1})
        self.assertEqual(body, {"n": 1, "name": name, "rem": True, "region": "us-east-1"})
        _, body = self.invoke(name, {"x": 1})
        self.assertEqual(body["n"], 2)

    def test_python_errors_logging_and_init_failures(self):
        src = ("import logging\nlog = logging.getLogger()\n"
               "def handler(event, context):\n"
               "    logging.info('not shown: the root logger is at WARNING, as on AWS')\n"
               "    log.warning('careful %s', event['x'])\n"
               "    raise ValueError('py bad ' + str(event['x']))\n")
        name = self.create({"app.py": src}, handler="app.handler", runtime="python3.12")
        r, body = self.invoke(name, {"x": 5}, LogType="Tail")
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "ValueError")
        self.assertEqual(body["errorMessage"], "py bad 5")
        self.assertTrue(any("raise ValueError" in line for line in body["stackTrace"]), body)
        log = base64.b64decode(r["LogResult"]).decode()
        self.assertRegex(log, r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tcareful 5" % r["ResponseMetadata"]["RequestId"])
        self.assertNotIn("not shown", log)
        cases = [
            ({"app.py": "import no_such_module_here\ndef handler(e, c): pass\n"}, "app.handler",
             "Runtime.ImportModuleError", "Unable to import module 'app': No module named 'no_such_module_here'"),
            ({"app.py": "def other(e, c): pass\n"}, "app.handler",
             "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"),
            ({"app.py": "def handler(e, c):\n  return (\n"}, "app.handler",
             "Runtime.UserCodeSyntaxError", "Syntax error in module 'app'"),
            ({"app.py": "x = 1\n"}, "nope.handler",
             "Runtime.ImportModuleError", "Unable to import module 'nope': No module named 'nope'"),
        ]
        for files, handler, etype, message in cases:
            with self.subTest(etype=etype, handler=handler):
                name = self.create(files, handler=handler, runtime="python3.12")
                r, body = self.invoke(name)
                self.assertEqual(r["FunctionError"], "Unhandled")
                self.assertEqual(body["errorType"], etype)
                self.assertIn(message, body["errorMessage"])

    # The node bootstrap's module forms: nested paths, .cjs, .mjs, "type": "module" .js.
    def test_node_module_forms_and_nested_handlers(self):
        cases = [
            ({"src/api/users.js": "exports.list = async () => 'nested cjs';"}, "src/api/users.list", "nested cjs"),
            ({"lib/h.cjs": "module.exports.go = async () => 'cjs ext';"}, "lib/h.go", "cjs ext"),
            ({"h.mjs": "export async function go() { return 'mjs'; }"}, "h.go", "mjs"),
            ({"package.json": '{"type": "module"}', "app.js": "export const go = async () => 'type module';"},
             "app.go", "type module"),
        ]
        for files, handler, want in cases:
            with self.subTest(handler=handler):
                name = self.create(files, handler=handler)
                r, body = self.invoke(name)
                self.assertNotIn("FunctionError", r, body)
                self.assertEqual(body, want)

    def test_node_context_object_and_client_context(self):
        src = ("exports.handler = async (e, c) => ({ v: c.functionVersion, g: c.logGroupName, s: c.logStreamName, "
               "m: c.memoryLimitInMB, cc: c.clientContext, id: c.identity === undefined, "
               "w: c.callbackWaitsForEmptyEventLoop });")
        name = self.create({"index.js": src}, MemorySize=256)
        cc = {"client": {"installation_id": "i1", "app_title": "t"}, "custom": {"k": "v"}, "env": {"platform": "x"}}
        _, body = self.invoke(name, ClientContext=base64.b64encode(json.dumps(cc).encode()).decode())
        self.assertEqual(body["v"], "$LATEST")
        self.assertEqual(body["g"], "/aws/lambda/" + name)
        self.assertRegex(body["s"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(body["m"], "256")
        self.assertEqual(body["cc"], cc)
        self.assertTrue(body["id"])
        self.assertTrue(body["w"])

    def test_node_callback_waits_for_empty_event_loop(self):
        # Default: the callback's result is sent once the event loop is empty.
        waits = self.create({"index.js": "exports.handler = (e, c, cb) => { setTimeout(() => {}, 700); cb(null, 'done'); };"})
        t = time.time()
        self.assertEqual(self.invoke(waits)[1], "done")
        self.assertGreater(time.time() - t, 0.6)
        # callbackWaitsForEmptyEventLoop = false: sent at once; the timer stays pending.
        quick = self.create({"index.js": "exports.handler = (e, c, cb) => { c.callbackWaitsForEmptyEventLoop = false; "
                                         "setTimeout(() => {}, 5000); cb(null, 'quick'); };"})
        t = time.time()
        self.assertEqual(self.invoke(quick)[1], "quick")
        self.assertLess(time.time() - t, 2.0)

    def test_node_init_failures_and_unhandled_rejection(self):
        cases = [
            ({"index.js": "require('no-such-package-here'); exports.handler = async () => 1;"}, "index.handler",
             "Runtime.ImportModuleError", "Cannot find module 'no-such-package-here'"),
            ({"index.js": "exports.other = async () => 1;"}, "index.handler",
             "Runtime.HandlerNotFound", "index.handler is undefined or not exported"),
            ({"index.js": "exports.handler = async () => 1;"}, "missing.handler",
             "Runtime.ImportModuleError", "Cannot find module 'missing'"),
        ]
        for files, handler, etype, message in cases:
            with self.subTest(etype=etype, handler=handler):
                name = self.create(files, handler=handler)
                r, body = self.invoke(name)
                self.assertEqual(r["FunctionError"], "Unhandled")
                self.assertEqual(body["errorType"], etype)
                self.assertIn(message, body["errorMessage"])
        # A promise rejected with nobody listening fails the invocation (and the sandbox
        # restarts for the next one), as on AWS's nodejs runtimes.
        name = self.create({"index.js": "let n = 0; exports.handler = async (e) => { n++; "
                                        "if (e.reject) Promise.reject(new Error('left behind')); "
                                        "await new Promise(r => setTimeout(r, 100)); return n; };"})
        r, body = self.invoke(name, {"reject": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Runtime.UnhandledPromiseRejection")
        self.assertIn("left behind", body["errorMessage"])
        self.assertEqual(self.invoke(name)[1], 1)  # a fresh sandbox

    def test_payload_limits_and_function_references(self):
        name = self.create({"index.js": "exports.handler = async (e) => e.big ? 'x'.repeat(7 * 1024 * 1024) : "
                                        "(e.n !== undefined ? e.n : 'small');"})
        err = None
        try:
            self.lam.invoke(FunctionName=name, Payload=json.dumps({"pad": "x" * (6 * 1024 * 1024)}))
        except botocore.exceptions.ClientError as e:
            err = e.response
        self.assertEqual(err["Error"]["Code"], "RequestEntityTooLargeException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 413)
        self.assertEqual(err["Error"]["Message"], "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
        # Event payloads: up to 1 MB (AWS's limit since 2025).
        self.assertEqual(self.lam.invoke(FunctionName=name, InvocationType="Event",
                                         Payload=json.dumps({"pad": "x" * 900000}))["StatusCode"], 202)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"pad": "x" * 1100000}))
        self.assertEqual(cm.exception.response["Error"]["Code"], "RequestEntityTooLargeException")
        # A response over the limit is the invocation's error; the sandbox answers the next one.
        r, body = self.invoke(name, {"big": True})
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body, {"errorType": "Function.ResponseSizeTooLarge",
                                "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes)."})
        self.assertEqual(self.invoke(name)[1], "small")
        # A payload that is not JSON.
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName=name, Payload=b"{not json")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestContentException")
        # The forms a FunctionName can take.
        for ref in (name, name + ":$LATEST", "000000000000:function:" + name,
                    "arn:aws:lambda:us-east-1:000000000000:function:" + name,
                    "arn:aws:lambda:us-east-1:000000000000:function:%s:$LATEST" % name):
            with self.subTest(ref=ref):
                self.assertEqual(self.invoke(ref, {"n": 3})[1], 3)
        self.assertEqual(self.invoke(name, {"n": 4}, Qualifier="$LATEST")[1], 4)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName=name, Qualifier="7", Payload=b"{}")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_python_handler_uses_boto3_against_stratus(self):
        src = ("import boto3\n"
               "def handler(e, c):\n"
               "    s3 = boto3.client('s3')\n"
               "    s3.create_bucket(Bucket=e['b'])\n"
               "    s3.put_object(Bucket=e['b'], Key='k', Body=b'from python')\n"
               "    return [b['Name'] for b in s3.list_buckets()['Buckets']]\n")
        name = self.create({"app.py": src}, handler="app.handler", runtime="python3.12", Timeout=20)
        bucket = "pyb-" + uuid.uuid4().hex[:8]
        r, body = self.invoke(name, {"b": bucket})
        self.assertNotIn("FunctionError", r, body)
        self.assertIn(bucket, body)
        self.assertEqual(self.d.client("s3").get_object(Bucket=bucket, Key="k")["Body"].read(), b"from python")

    def test_handler_error(self):
        name = self.create({"index.js": "exports.handler = async () => { throw new TypeError('bad thing'); };"})
        r, body = self.invoke(name)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "TypeError")
        self.assertEqual(body["errorMessage"], "bad thing")
        self.assertIsInstance(body["trace"], list)

    # Each failure mode fails its own invocation only; a healthy function keeps answering.
    def test_timeout_crash_oom_syntax_isolated(self):
        ok = self.create({"index.js": NODE_CJS})
        slow = self.create({"index.js": "exports.handler = () => new Promise(() => {});"}, Timeout=1)
        crash = self.create({"index.js": "exports.handler = async () => { process.exit(3); };"})
        oom = self.create({"index.js": "const a=[]; exports.handler = async () => { for(;;) a.push(Buffer.alloc(1<<20, 1)); };"})
        syntax = self.create({"index.js": "exports.handler = async () => {"})
        r, body = self.invoke(slow)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("Task timed out after 1.00 seconds", body["errorMessage"])
        r, body = self.invoke(crash)
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertIn("Runtime exited with error: exit status 3", body["errorMessage"])
        r, body = self.invoke(oom)
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertIn("signal: killed", body["errorMessage"])
        r, body = self.invoke(syntax)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(body["errorType"], "Runtime.UserCodeSyntaxError")
        _, body = self.invoke(ok, {"x": 1})
        self.assertEqual(body["count"], 1)
        # The timed-out function gets a fresh sandbox next time (and times out again).
        r, body = self.invoke(slow)
        self.assertIn("Task timed out", body["errorMessage"])

    # N parallel invocations start N sandboxes, never more than the limit (3 here). (Those
    # beyond one per core start once the busy ones have slept 10 ms or so: the handlers sleep
    # long enough for the last one to start even on a busy machine.)
    def test_concurrency_limit(self):
        name = self.create({"index.js": "const id = Math.random(); exports.handler = async () => { "
                                        "await new Promise(r => setTimeout(r, 1000)); return id; };"})
        results = []
        def go():
            results.append(self.invoke(name)[1])
        threads = [threading.Thread(target=go) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 6)
        self.assertEqual(len(set(results)), 3)

    def test_management_shapes_and_errors(self):
        name = self.create({"index.js": NODE_CJS}, Environment={"Variables": {"A": "1"}})
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg["Environment"]["Variables"], {"A": "1"})
        self.assertEqual(cfg["State"], "Active")
        got = self.lam.get_function(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:" + name)
        self.assertEqual(got["Configuration"]["FunctionName"], name)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role="r", Handler="index.handler",
                                     Code={"ZipFile": zip_of({"index.js": NODE_CJS})})
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceConflictException")
        self.lam.update_function_configuration(FunctionName=name, Timeout=10)
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Timeout"], 10)
        self.lam.update_function_code(FunctionName=name,
                                      ZipFile=zip_of({"index.js": "exports.handler = async () => 'v2';"}))
        self.assertEqual(self.invoke(name)[1], "v2")
        names = set()
        marker = None
        while True:
            kw = {"MaxItems": 2}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_functions(**kw)
            names.update(f["FunctionName"] for f in page["Functions"])
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertIn(name, names)
        self.lam.delete_function(FunctionName=name)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName=name)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Function not found: arn:aws:lambda:us-east-1:000000000000:function:" + name)



class RestartTest(unittest.TestCase):
    # Functions and their unpacked code live in the data dir: a restarted daemon runs them.
    def test_function_survives_restart(self):
        import tempfile
        with tempfile.TemporaryDirectory() as data:
            d = Daemon(data_dir=data).start()
            try:
                d.client("lambda").create_function(
                    FunctionName="keep", Runtime="python3.12", Role=ROLE,
                    Handler="m.h", Code={"ZipFile": zip_of({"m.py": "def h(e, c):\n    return 'still here'\n"})})
            finally:
                d.stop()
            d = Daemon(data_dir=data).start()
            try:
                r = d.client("lambda").invoke(FunctionName="keep")
                self.assertEqual(json.loads(r["Payload"].read()), "still here")
            finally:
                d.stop()


if __name__ == "__main__":
    unittest.main()

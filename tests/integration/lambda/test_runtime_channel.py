"""The invoke hot path: stratus's own node and python runtimes reach the Runtime API over a
socket pair with framed messages, which handlers (and the processes they spawn) must not
notice; custom runtimes keep the
HTTP Runtime API; function lookups are cached (a configuration change is seen at once);
log lines are written in batches (and still survive a kill -9 that comes a little after
them); sandboxes beyond the number of cores start only for handlers waiting on I/O;
sandboxes run SCHED_BATCH only while they can fill every core."""

import io
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.request
import zipfile

from daemon import Daemon

from .common import ROLE, fname, zip_of

NODE_ENV = ("exports.handler = async (e) => ({ fd: process.env._STRATUS_RUNTIME_FD ?? null, "
            "api: process.env.AWS_LAMBDA_RUNTIME_API, v: process.env.V ?? null, e });")
PY_ENV = ("import os\n"
          "def h(e, c):\n"
          "    return {'fd': os.environ.get('_STRATUS_RUNTIME_FD'), 'api': os.environ.get('AWS_LAMBDA_RUNTIME_API'),"
          " 'e': e, 'id': c.aws_request_id}\n")
# What a handler's child process holds open: its stdio and the directory ls reads. libuv's
# spawn closes nothing (a child gets every descriptor that is not close-on-exec);
# close_fds=False makes python's subprocess do the same (as os.system and os.exec* do).
NODE_CHILD_FDS = ('const { execFileSync } = require("node:child_process");\n'
                  'exports.handler = async () => execFileSync("ls", ["-l", "/proc/self/fd"]).toString();')
PY_CHILD_FDS = ("import subprocess\n"
                "def h(e, c):\n"
                "    return subprocess.run(['ls', '-l', '/proc/self/fd'], capture_output=True, text=True,"
                "                          close_fds=False).stdout\n")
# A custom runtime: the documented Runtime API over HTTP, with the standard library only.
CUSTOM = """#!/usr/bin/env python3
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    r = conn.getresponse()
    event, rid = json.loads(r.read()), r.getheader("Lambda-Runtime-Aws-Request-Id")
    out = json.dumps({"custom": event, "id": rid, "fd": os.environ.get("_STRATUS_RUNTIME_FD")})
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, out)
    conn.getresponse().read()
"""


class RuntimeChannelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--lambda-concurrency", "4").start()
        cls.lam = cls.d.client("lambda", read_timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def create(self, files, handler="index.handler", runtime="nodejs20.x", **kw):
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                                 Code={"ZipFile": zip_of(files)}, **kw)
        return name

    def invoke(self, name, event=None):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}))
        return r, json.loads(r["Payload"].read() or b"null")

    def test_handlers_see_the_runtime_api_as_before(self):
        node = self.create({"index.js": NODE_ENV})
        py = self.create({"m.py": PY_ENV}, handler="m.h", runtime="python3.12")
        for name in (node, py):
            for i in range(3):  # the first runs cold, the others warm
                event = {"i": i, "text": "é\n\u2603", "big": "x" * 200000}
                _, body = self.invoke(name, event)
                self.assertIsNone(body["fd"])
                self.assertRegex(body["api"], r"^127\.0\.0\.1:\d+$")
                self.assertEqual(body["e"], event)

    def test_child_processes_do_not_inherit_the_channel(self):
        # The channel is an inherited fd 3: python's bootstrap marks it close-on-exec, and
        # node does so itself at startup (libuv's uv_disable_stdio_inheritance, called in
        # node's PlatformInit, marks fds 0-15 and any contiguous ones above). A handler's
        # children must never hold the Runtime API socket.
        node = self.create({"index.js": NODE_CHILD_FDS})
        py = self.create({"m.py": PY_CHILD_FDS}, handler="m.h", runtime="python3.12")
        for name in (node, py):
            for _ in range(2):  # cold, then warm
                r, listing = self.invoke(name)
                self.assertNotIn("FunctionError", r, listing)
                fds = dict(line.split()[-3::2] for line in listing.splitlines() if " -> " in line)
                self.assertIn("3", fds, listing)  # ls's own directory
                # stdio may be sockets (node's pipes are socket pairs); nothing else may.
                self.assertFalse([n for n, target in fds.items() if int(n) > 2 and "socket:" in target], listing)

    def test_custom_runtime_speaks_http(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            z.writestr(info, CUSTOM)
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="x",
                                 Code={"ZipFile": buf.getvalue()})
        for i in range(2):
            r, body = self.invoke(name, {"n": i})
            self.assertNotIn("FunctionError", r)
            self.assertEqual(body["custom"], {"n": i})
            self.assertIsNone(body["fd"])

    def test_configuration_change_is_seen_by_the_next_invocation(self):
        name = self.create({"index.js": NODE_ENV}, Environment={"Variables": {"V": "1"}})
        self.assertEqual(self.invoke(name)[1]["v"], "1")
        self.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"V": "2"}})
        self.assertEqual(self.invoke(name)[1]["v"], "2")
        self.lam.delete_function(FunctionName=name)
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.invoke(name)

    def distinct_sandboxes(self, source, callers, per_caller):
        name = self.create({"index.js": source})
        ids, errors = [], []

        def go():
            try:
                for _ in range(per_caller):
                    ids.append(self.invoke(name)[1])
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=go) for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(ids), callers * per_caller)
        return len(set(ids))

    def test_invocations_back_to_back(self):
        # Responses and errors go unanswered on the channel (x-stratus-noreply): invocations
        # back to back, answers and failures mixed, each gets its own result.
        node = self.create({"index.js": "exports.handler = async (e) => { if (e.fail) throw new Error('no ' + e.i);\n"
                            "  return { i: e.i }; };"})
        py = self.create({"m.py": "def h(e, c):\n    if e['fail']:\n        raise ValueError('no %d' % e['i'])\n"
                          "    return {'i': e['i']}\n"},
                         handler="m.h", runtime="python3.12")
        for name in (node, py):
            for i in range(6):
                r, body = self.invoke(name, {"i": i, "fail": i % 3 == 2})
                if i % 3 == 2:
                    self.assertEqual(r.get("FunctionError"), "Unhandled", body)
                    self.assertEqual(body["errorMessage"], "no %d" % i)
                else:
                    self.assertNotIn("FunctionError", r, body)
                    self.assertEqual(body, {"i": i})

    def test_quick_handlers_get_one_sandbox_per_core(self):
        # 8 callers of a handler answering at once: more processes than cores would only
        # compete for them (a machine this busy makes handlers look slow, never asleep).
        n = self.distinct_sandboxes("const id = Math.random(); exports.handler = async () => id;", 8, 15)
        self.assertLessEqual(n, min(4, os.cpu_count() or 1))

    def test_handlers_waiting_on_io_get_up_to_the_limit(self):
        n = self.distinct_sandboxes("const id = Math.random(); exports.handler = async () => { "
                                    "await new Promise(r => setTimeout(r, 1000)); return id; };", 4, 2)
        self.assertEqual(n, 4)


class BatchedLogsTest(unittest.TestCase):
    # Lines are written to <data>/lambda/logs a few ms after they are logged: an invocation
    # answered a moment before a kill -9 keeps its START / handler / END / REPORT lines.
    def test_logs_survive_kill9_after_a_moment(self):
        with tempfile.TemporaryDirectory() as data:
            d = Daemon(data_dir=data).start()
            try:
                lam = d.client("lambda")
                lam.create_function(FunctionName="logged", Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                    Code={"ZipFile": zip_of({"index.js": "exports.handler = async (e) => "
                                                                         "{ console.log('line', e.n); return e.n; };"})})
                ids = [lam.invoke(FunctionName="logged", Payload=json.dumps({"n": i}))["ResponseMetadata"]["RequestId"]
                       for i in range(3)]
                time.sleep(0.2)
            finally:
                d.kill9()
            d = Daemon(data_dir=data).start()
            try:
                with urllib.request.urlopen(d.endpoint + "/_stratus/lambda/logs/logged") as r:
                    text = "\n".join(line["text"] for line in json.load(r)["lines"])
            finally:
                d.stop()
            for i, rid in enumerate(ids):
                self.assertIn("START RequestId: " + rid, text)
                self.assertRegex(text, rf"\t{rid}\tINFO\tline {i}")
                self.assertIn("END RequestId: " + rid, text)
                self.assertIn("REPORT RequestId: " + rid, text)


if __name__ == "__main__":
    unittest.main()


# The scheduling policies of every thread of the runtime's process (field 41 of
# /proc/<pid>/task/<tid>/stat, 0 for SCHED_OTHER and 3 for SCHED_BATCH), distinct ones joined
# by commas: node runs helper threads (libuv's pool, V8's workers) besides the main one.
POLICY_NODE = ("const fs = require('fs');\n"
               "exports.handler = async () => [...new Set(fs.readdirSync('/proc/self/task').map(t =>\n"
               "  fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' ')[38]))].sort().join(',');")
POLICY_PY = ("import os\n"
             "def h(e, c):\n"
             "    return ','.join(sorted({open('/proc/self/task/%s/stat' % t).read().split(') ')[1].split()[38]\n"
             "                            for t in os.listdir('/proc/self/task')}))\n")


class SandboxPolicyTest(unittest.TestCase):
    """Sandboxes run SCHED_BATCH while they can fill every core (woken, they do not preempt
    the daemon's event loop), SCHED_OTHER while fewer (woken, they run at once); all of them
    switch when the count crosses the number of cores, either way."""

    def test_batch_only_while_sandboxes_can_fill_every_core(self):
        cores = os.cpu_count() or 1
        d = Daemon().start()
        try:
            lam = d.client("lambda", read_timeout=30)
            names = []
            for i in range(cores + 1):
                name = fname()
                if i % 2:
                    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="m.h",
                                        Code={"ZipFile": zip_of({"m.py": POLICY_PY})})
                else:
                    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                        Code={"ZipFile": zip_of({"index.js": POLICY_NODE})})
                lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
                names.append(name)

            def policy(name):
                r = lam.invoke(FunctionName=name, Payload=b"{}")
                body = json.loads(r["Payload"].read())
                self.assertNotIn("FunctionError", r, body)
                return body

            def expect(live):
                return "3" if live >= cores else "0"

            # One sandbox per function, started one after the other: each answer is read
            # with that many sandboxes alive, and the first function's sandbox follows.
            for live in range(1, cores + 2):
                self.assertEqual(policy(names[live - 1]), expect(live), live)
                self.assertEqual(policy(names[0]), expect(live), live)
            # Deleting functions stops their sandboxes: below the line, back to SCHED_OTHER.
            for live in range(cores, 0, -1):
                lam.delete_function(FunctionName=names[live])
                self.assertEqual(policy(names[0]), expect(live), live)
                if live > 1:
                    self.assertEqual(policy(names[live - 1]), expect(live), live)
        finally:
            d.stop()

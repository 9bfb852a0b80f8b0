"""Hot reload: functions whose code is a directory on disk (as the app model declares
them) pick up changed files at the next invocation, without a restart of stratus. Warm
sandboxes are retired; a busy one finishes its invocation on the old code first."""

import json
import os
import shutil
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

from daemon import Daemon


class HotReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--enable-test-api").start()
        cls.lam = cls.d.client("lambda", read_timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="stratus-hot-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, rel, text):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def declare(self, handler="index.handler", runtime="nodejs20.x", code_dir=None):
        name = "hot-" + uuid.uuid4().hex[:10]
        body = json.dumps({"name": name, "runtime": runtime, "handler": handler,
                           "code_dir": code_dir or self.dir}).encode()
        req = urllib.request.Request(self.d.endpoint + "/_stratus/test/lambda/declare", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
        return name

    def invoke(self, name, event=None):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event or {}))
        self.assertNotIn("FunctionError", r, r)
        return json.loads(r["Payload"].read())

    def node_version(self, v):
        # Module state counts warm invocations: it restarts at 1 in a fresh sandbox.
        return "let n = 0; exports.handler = async () => ({ v: %d, n: ++n });\n" % v

    def test_node_file_change_reloads_next_invocation(self):
        self.write("index.js", self.node_version(1))
        name = self.declare()
        self.assertEqual(self.invoke(name), {"v": 1, "n": 1})
        self.assertEqual(self.invoke(name), {"v": 1, "n": 2})  # warm
        self.write("index.js", self.node_version(2))
        # No sleep: a file written before the Invoke request is seen by that invocation.
        self.assertEqual(self.invoke(name), {"v": 2, "n": 1})
        self.assertEqual(self.invoke(name), {"v": 2, "n": 2})  # warm again
        self.assertEqual(self.d.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionName"], name)

    def test_nested_and_new_directories_are_watched(self):
        self.write("index.js", "let n = 0; exports.handler = async () => ({ msg: require('./src/lib/msg').msg, n: ++n });\n")
        self.write("src/lib/msg.js", "exports.msg = 'one';\n")
        name = self.declare()
        self.assertEqual(self.invoke(name), {"msg": "one", "n": 1})
        self.write("src/lib/msg.js", "exports.msg = 'two';\n")
        self.assertEqual(self.invoke(name), {"msg": "two", "n": 1})
        # A directory made after the sandbox started is watched too.
        self.write("index.js", "let n = 0; exports.handler = async () => ({ msg: require('./gen/new/m').msg, n: ++n });\n")
        self.write("gen/new/m.js", "exports.msg = 'three';\n")
        self.assertEqual(self.invoke(name), {"msg": "three", "n": 1})
        self.assertEqual(self.invoke(name), {"msg": "three", "n": 2})
        self.write("gen/new/m.js", "exports.msg = 'four';\n")
        self.assertEqual(self.invoke(name), {"msg": "four", "n": 1})

    def test_python_change_reloads(self):
        self.write("app.py", "state = {'n': 0}\ndef handler(e, c):\n    state['n'] += 1\n    return {'v': 1, 'n': state['n']}\n")
        name = self.declare(handler="app.handler", runtime="python3.12")
        self.assertEqual(self.invoke(name), {"v": 1, "n": 1})
        self.assertEqual(self.invoke(name), {"v": 1, "n": 2})
        self.write("app.py", "state = {'n': 0}\ndef handler(e, c):\n    state['n'] += 1\n    return {'v': 2, 'n': state['n']}\n")
        self.assertEqual(self.invoke(name), {"v": 2, "n": 1})

    def test_functions_sharing_a_directory_both_reload(self):
        self.write("a.js", "let n = 0; exports.handler = async () => ({ a: require('./shared').v, n: ++n });\n")
        self.write("b.js", "let n = 0; exports.handler = async () => ({ b: require('./shared').v, n: ++n });\n")
        self.write("shared.js", "exports.v = 1;\n")
        fa = self.declare(handler="a.handler")
        fb = self.declare(handler="b.handler")
        self.assertEqual(self.invoke(fa), {"a": 1, "n": 1})
        self.assertEqual(self.invoke(fb), {"b": 1, "n": 1})
        self.write("shared.js", "exports.v = 2;\n")
        self.assertEqual(self.invoke(fa), {"a": 2, "n": 1})
        self.assertEqual(self.invoke(fb), {"b": 2, "n": 1})

    def test_busy_sandbox_finishes_on_old_code(self):
        self.write("index.js", "exports.handler = async (e) => { await new Promise(r => setTimeout(r, e.ms || 0)); return 'old'; };\n")
        name = self.declare()
        self.assertEqual(self.invoke(name), "old")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", self.invoke(name, {"ms": 800})))
        t.start()
        time.sleep(0.3)  # the slow invocation is running
        self.write("index.js", "exports.handler = async () => 'new';\n")
        self.assertEqual(self.invoke(name), "new")
        t.join()
        self.assertEqual(out["r"], "old")

    def test_code_directory_replaced(self):
        # Build tools often delete and recreate their output directory.
        code = os.path.join(self.dir, "dist")
        self.write("dist/index.js", self.node_version(1))
        name = self.declare(code_dir=code)
        self.assertEqual(self.invoke(name), {"v": 1, "n": 1})
        shutil.rmtree(code)
        self.write("dist/index.js", self.node_version(2))
        self.assertEqual(self.invoke(name), {"v": 2, "n": 1})
        self.assertEqual(self.invoke(name), {"v": 2, "n": 2})
        self.write("dist/index.js", self.node_version(3))  # the new directory is watched
        self.assertEqual(self.invoke(name), {"v": 3, "n": 1})

    def test_unchanged_code_stays_warm(self):
        self.write("index.js", self.node_version(1))
        self.write("other/readme.txt", "x")
        name = self.declare()
        self.assertEqual(self.invoke(name), {"v": 1, "n": 1})
        for i in range(2, 6):
            self.assertEqual(self.invoke(name), {"v": 1, "n": i})


if __name__ == "__main__":
    unittest.main()

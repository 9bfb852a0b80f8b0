"""Lambda through the AWS CLI (create-function from a zip file, invoke, list-functions,
update-function-code), `stratus invoke` / `stratus logs`, and Event invocations, which
answer 202 and retry a failing handler twice."""

import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid
import zipfile

from daemon import BIN, Daemon


class CliEventTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tmp.cleanup()

    def aws(self, *args):
        out = self.d.aws("lambda", *args, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def zipfile(self, source):
        path = os.path.join(self.tmp.name, uuid.uuid4().hex + ".zip")
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("index.js", source)
        return path

    def test_cli_create_invoke_list_update(self):
        name = "cli-" + uuid.uuid4().hex[:8]
        self.aws("create-function", "--function-name", name, "--runtime", "nodejs20.x", "--role",
                 "arn:aws:iam::000000000000:role/r", "--handler", "index.handler", "--zip-file",
                 "fileb://" + self.zipfile("exports.handler = async (e) => ({ got: e.a });"))
        out = os.path.join(self.tmp.name, "out.json")
        self.aws("invoke", "--function-name", name, 
                 "--payload", '{"a": 7}', out)
        with open(out) as f:
            self.assertEqual(json.load(f), {"got": 7})
        listed = json.loads(self.aws("list-functions"))
        self.assertIn(name, [f["FunctionName"] for f in listed["Functions"]])
        self.aws("update-function-code", "--function-name", name, "--zip-file",
                 "fileb://" + self.zipfile("exports.handler = async () => 'new code';"))
        self.aws("invoke", "--function-name", name, out)
        with open(out) as f:
            self.assertEqual(json.load(f), "new code")
        # stratus invoke prints the result; stratus logs shows START / END / REPORT.
        r = subprocess.run([BIN, "invoke", name, "--port", str(self.d.port), "--data", "{}"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), '"new code"')
        self.assertIn("REPORT RequestId:", r.stderr)
        r = subprocess.run([BIN, "logs", name, "--port", str(self.d.port)], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(r.stdout.count("START RequestId:"), 3)

    # `stratus invoke --path FILE`, `stratus logs --since` and `--tail` (following new lines).
    def test_cli_invoke_path_and_logs_follow(self):
        lam = self.d.client("lambda")
        name = "clf-" + uuid.uuid4().hex[:8]
        with open(self.zipfile("exports.handler = async (e) => { console.log('saw', e.k); return e.k * 2; };"), "rb") as f:
            lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role="arn:aws:iam::000000000000:role/r",
                                Handler="index.handler", Code={"ZipFile": f.read()})
        event = os.path.join(self.tmp.name, "event.json")
        with open(event, "w") as f:
            json.dump({"k": 21}, f)
        r = subprocess.run([BIN, "invoke", name, "--port", str(self.d.port), "--path", event],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "42")
        self.assertIn("INFO\tsaw 21", r.stderr)
        r = subprocess.run([BIN, "logs", name, "--port", str(self.d.port), "--since", "1m"],
                           capture_output=True, text=True, timeout=30)
        self.assertIn("saw 21", r.stdout)
        follow = subprocess.Popen([BIN, "logs", name, "--port", str(self.d.port), "--tail"],
                                  stdout=subprocess.PIPE)
        try:
            import select
            seen = ""
            def read_until(text):
                nonlocal seen
                deadline = time.time() + 20
                while text not in seen and time.time() < deadline:
                    # Raw reads: a buffered readline could hold the line select() no longer sees.
                    if select.select([follow.stdout], [], [], 0.5)[0]:
                        seen += os.read(follow.stdout.fileno(), 65536).decode()
                self.assertIn(text, seen)
            # The follower prints the lines so far first: once it has, it is following (a
            # fixed sleep here raced the follower's start on a loaded machine).
            read_until("saw 21")
            lam.invoke(FunctionName=name, Payload=json.dumps({"k": 5}))
            read_until("saw 5")
        finally:
            follow.kill()
            follow.wait()
            follow.stdout.close()

    # An Event invocation answers 202 at once; a failing handler runs three times in all.
    def test_event_retries(self):
        lam = self.d.client("lambda")
        marks = os.path.join(self.tmp.name, "marks-" + uuid.uuid4().hex)
        name = "ev-" + uuid.uuid4().hex[:8]
        src = ("const fs = require('fs'); exports.handler = async (e, ctx) => { "
               "fs.appendFileSync(%s, ctx.awsRequestId + '\\n'); throw new Error('always'); };" % json.dumps(marks))
        with open(self.zipfile(src), "rb") as f:
            lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role="arn:aws:iam::000000000000:role/r",
                                Handler="index.handler", Code={"ZipFile": f.read()})
        r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
        self.assertEqual(r["StatusCode"], 202)
        def count():
            if not os.path.exists(marks):
                return ""
            with open(marks) as f:
                return f.read()
        deadline = time.time() + 15
        while time.time() < deadline:
            if len(count().splitlines()) >= 3:
                break
            time.sleep(0.2)
        time.sleep(1.5)
        # Three attempts, all under the request id the 202 answered with (AWS keeps it).
        self.assertEqual(count().splitlines(), [r["ResponseMetadata"]["RequestId"]] * 3)
        self.assertEqual(lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"], 204)

    # An Event invocation answered 202 is stored first: after kill -9 (of stratus and, as in
    # a machine crash, of its sandboxes) it runs at the next start, once it has succeeded.
    def test_accepted_events_survive_kill9(self):
        data = tempfile.TemporaryDirectory(prefix="stratus-ev-")
        self.addCleanup(data.cleanup)
        marks = os.path.join(self.tmp.name, "ev-marks-" + uuid.uuid4().hex)
        name = "evk-" + uuid.uuid4().hex[:8]
        d = Daemon(data_dir=data.name).start()
        try:
            lam = d.client("lambda")
            src = ("const fs = require('fs'); exports.handler = async (e, ctx) => { "
                   "await new Promise(r => setTimeout(r, e.ms)); "
                   "fs.appendFileSync(%s, ctx.awsRequestId + '\\n'); };" % json.dumps(marks))
            with open(self.zipfile(src), "rb") as f:
                lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role="arn:aws:iam::000000000000:role/r",
                                    Handler="index.handler", Code={"ZipFile": f.read()}, Timeout=30)
            # Each handler waits 8 s before it marks: the kill must come while all three
            # run, and three cold starts on a loaded machine can be seconds apart.
            ids = [lam.invoke(FunctionName=name, InvocationType="Event",
                              Payload=json.dumps({"ms": 8000}))["ResponseMetadata"]["RequestId"] for _ in range(3)]
            # Killed once all three are running in their sandboxes (each logged its START),
            # however long the cold starts take on a busy machine.
            deadline = time.time() + 20
            while time.time() < deadline:
                r = subprocess.run([BIN, "logs", name, "--port", str(d.port)], capture_output=True, text=True,
                                   timeout=30)
                if all(("START RequestId: %s" % i) in r.stdout for i in ids):
                    break
                time.sleep(0.05)
        finally:
            d.kill9()
        for pid in os.listdir("/proc"):  # the crash takes the sandboxes too
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    if ("AWS_LAMBDA_FUNCTION_NAME=%s" % name).encode() in f.read().split(b"\0"):
                        os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
        self.assertFalse(os.path.exists(marks))
        d = Daemon(data_dir=data.name).start()
        try:
            deadline = time.time() + 45
            while time.time() < deadline:
                if os.path.exists(marks) and len(open(marks).read().splitlines()) >= 3:
                    break
                time.sleep(0.2)
            with open(marks) as f:
                self.assertEqual(sorted(f.read().splitlines()), sorted(ids))
            # The logs persist too: each id STARTed before the crash and again after it.
            r = subprocess.run([BIN, "logs", name, "--port", str(d.port)], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            for i in ids:
                self.assertEqual(r.stdout.count("START RequestId: %s" % i), 2, r.stdout)
        finally:
            d.stop()
        # Done with: a further restart runs nothing again.
        d = Daemon(data_dir=data.name).start()
        try:
            time.sleep(4)
            with open(marks) as f:
                self.assertEqual(len(f.read().splitlines()), 3)
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()

"""Schedules (EventBridge rules with rate() / cron() targeting a function), declared as the
app model does (here through the test API) and fired on demand through the internal
endpoint and `stratus schedule run`: the Scheduled Event payload, Input, InputPath and
InputTransformer, AWS's errors for bad expressions, persistence across a restart."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

from daemon import BIN, Daemon

from .common import ROLE, zip_of

HANDLER = r"""
const fs = require('fs');
exports.handler = async (event, context) => {
  fs.appendFileSync(process.env.OUT, JSON.stringify({event, id: context.awsRequestId}) + '\n');
};
"""


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def wait_for(pred, timeout=15, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class ScheduleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stratus-sched-")
        cls.data = tempfile.mkdtemp(prefix="stratus-sched-data-")
        cls.d = Daemon(data_dir=cls.data).start()
        cls.lam = cls.d.client("lambda")
        cls.out = os.path.join(cls.tmp, "out")
        cls.fn = "sched-" + uuid.uuid4().hex[:8]
        cls.lam.create_function(FunctionName=cls.fn, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                Code={"ZipFile": zip_of({"index.js": HANDLER})},
                                Environment={"Variables": {"OUT": cls.out}})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, True)
        shutil.rmtree(cls.data, True)

    def post(self, path, body=None, d=None):
        req = urllib.request.Request((d or self.d).endpoint + path, method="POST",
                                     data=json.dumps(body).encode() if body is not None else b"")
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def declare(self, **spec):
        name = "rule-" + uuid.uuid4().hex[:8]
        status, body = self.post("/_stratus/test/lambda/schedule", dict({"name": name, "function": self.fn}, **spec))
        self.assertEqual(status, 200, body)
        return name

    def run_rule(self, name):
        before = len(lines(self.out))
        status, body = self.post("/_stratus/schedules/%s/run" % name)
        self.assertEqual(status, 200, body)
        wait_for(lambda: len(lines(self.out)) > before, what="the invocation")
        got = lines(self.out)[before]
        self.assertEqual(got["id"], body["RequestId"])
        return got["event"]

    # The Scheduled Event, as EventBridge sends it.
    def test_scheduled_event(self):
        name = self.declare(expression="rate(5 minutes)")
        e = self.run_rule(name)
        self.assertEqual(e["detail-type"], "Scheduled Event")
        self.assertEqual(e["source"], "aws.events")
        self.assertEqual(e["version"], "0")
        self.assertEqual(e["account"], "000000000000")
        self.assertEqual(e["region"], "us-east-1")
        self.assertEqual(e["resources"], ["arn:aws:events:us-east-1:000000000000:rule/" + name])
        self.assertEqual(e["detail"], {})
        self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(e["id"], r"^[0-9a-f-]{36}$")

    # Input, InputPath, InputTransformer.
    def test_target_input(self):
        self.assertEqual(self.run_rule(self.declare(expression="cron(0 12 * * ? *)", input={"job": "report"})),
                         {"job": "report"})
        self.assertEqual(self.run_rule(self.declare(expression="rate(1 hour)", input_path="$.detail-type")),
                         "Scheduled Event")
        name = self.declare(expression="rate(1 day)", input_paths_map={"t": "$.time", "src": "$.source"},
                            input_template='{"at": "<t>", "from": <src>, "rule": "<aws.events.rule-name>"}')
        e = self.run_rule(name)
        self.assertEqual(set(e), {"at", "from", "rule"})
        self.assertEqual((e["from"], e["rule"]), ("aws.events", name))

    # `stratus schedule run NAME` and `stratus schedule list`.
    def test_cli(self):
        name = self.declare(expression="cron(0/15 * ? * MON-FRI *)", input={"via": "cli"})
        before = len(lines(self.out))
        r = subprocess.run([BIN, "schedule", "run", name, "--port", str(self.d.port)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: len(lines(self.out)) > before, what="the CLI run")
        self.assertEqual(lines(self.out)[before]["event"], {"via": "cli"})
        r = subprocess.run([BIN, "schedule", "list", "--port", str(self.d.port)], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = {s["Name"]: s for s in json.loads(r.stdout)["Schedules"]}
        self.assertEqual(listed[name]["ScheduleExpression"], "cron(0/15 * ? * MON-FRI *)")
        self.assertEqual(listed[name]["State"], "ENABLED")
        r = subprocess.run([BIN, "schedule", "run", "no-such-rule", "--port", str(self.d.port)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ResourceNotFoundException", r.stdout)

    # Bad expressions and inputs are refused with AWS's error; nothing is declared.
    def test_errors(self):
        for spec in ({"expression": "rate(1 minutes)"}, {"expression": "cron(0 10 * * * *)"},
                     {"expression": "every day"}, {"expression": "rate(5 minutes)", "input": "{", "input_path": "$"},
                     {"expression": "rate(5 minutes)", "function": "no-such-fn"}):
            status, body = self.post("/_stratus/test/lambda/schedule", dict({"name": "bad", "function": self.fn}, **spec))
            self.assertEqual(status, 400, (spec, body))
        status, body = self.post("/_stratus/test/lambda/schedule",
                                 {"name": "bad", "function": self.fn, "expression": "rate(1 minutes)"})
        self.assertIn("Parameter ScheduleExpression is not valid.", json.dumps(body))
        with urllib.request.urlopen(self.d.endpoint + "/_stratus/schedules") as r:
            self.assertNotIn("bad", [s["Name"] for s in json.load(r)["Schedules"]])


class SchedulePersistenceTest(unittest.TestCase):
    # Declared schedules are stored: they are there after a restart.
    def test_restart(self):
        data = tempfile.mkdtemp(prefix="stratus-sched-p-")
        self.addCleanup(shutil.rmtree, data, True)
        d = Daemon(data_dir=data).start()
        try:
            lam = d.client("lambda")
            lam.create_function(FunctionName="keep", Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                Code={"ZipFile": zip_of({"index.js": "exports.handler = async () => 1;"})})
            req = urllib.request.Request(d.endpoint + "/_stratus/test/lambda/schedule", method="POST",
                                         data=json.dumps({"name": "nightly", "function": "keep",
                                                          "expression": "cron(0 3 * * ? *)"}).encode())
            urllib.request.urlopen(req).read()
        finally:
            d.stop()
        d = Daemon(data_dir=data).start()
        try:
            with urllib.request.urlopen(d.endpoint + "/_stratus/schedules") as r:
                self.assertEqual([s["Name"] for s in json.load(r)["Schedules"]], ["nightly"])
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()

"""CloudWatch Logs through boto3 and the AWS CLI against the real daemon: a function's logs
as /aws/lambda/NAME with one stream per sandbox, GetLogEvents' tokens both ways,
FilterLogEvents' patterns, groups made with CreateLogGroup / PutLogEvents, retention, tags,
AWS's errors, lines kept across kill -9, and `aws logs tail --follow` (CLI v2) printing a new
invocation's lines within about a second."""

import importlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon

common = importlib.import_module("lambda.common")

HANDLER = """
exports.handler = async (e) => {
  console.log(JSON.stringify({ level: e.level, n: e.n }));
  console.log("marker-" + e.n + " done");
  return e.n;
};
"""

# The Debian awscli package is CLI v2 (`aws logs tail` is a v2 command); the `aws` on PATH
# may be v1.
AWS_V2 = "/usr/bin/aws"


def now_ms():
    return int(time.time() * 1000)


class LogsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="stratus-logs-")
        cls.d = Daemon(data_dir=cls.data).start()
        cls.lam = cls.d.client("lambda", read_timeout=30)
        cls.logs = cls.d.client("logs", read_timeout=30)
        cls.fn = common.fname()
        cls.lam.create_function(FunctionName=cls.fn, Runtime="nodejs20.x", Role=common.ROLE, Handler="index.handler",
                                Code={"ZipFile": common.zip_of({"index.js": HANDLER})})
        cls.group = "/aws/lambda/" + cls.fn
        for n, level in ((1, "info"), (2, "error"), (3, "info")):
            cls.lam.invoke(FunctionName=cls.fn, Payload=json.dumps({"n": n, "level": level}))

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.data, ignore_errors=True)

    def code(self, fn, *args, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(*args, **kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

    def test_function_group_and_streams(self):
        # The function's group exists once it logged; its streams are named as Lambda names them.
        groups = self.logs.describe_log_groups(logGroupNamePrefix=self.group)["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], [self.group])
        self.assertEqual(groups[0]["arn"], "arn:aws:logs:us-east-1:000000000000:log-group:%s:*" % self.group)
        self.assertGreater(groups[0]["storedBytes"], 0)
        streams = self.logs.describe_log_streams(logGroupName=self.group)["logStreams"]
        self.assertEqual(len(streams), 1)  # one warm sandbox served the three invocations
        s = streams[0]
        self.assertRegex(s["logStreamName"], r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertLessEqual(s["firstEventTimestamp"], s["lastEventTimestamp"])
        by_arn = self.logs.describe_log_streams(logGroupIdentifier=groups[0]["logGroupArn"], orderBy="LastEventTime",
                                                descending=True)["logStreams"]
        self.assertEqual(by_arn[0]["logStreamName"], s["logStreamName"])
        self.assertEqual(self.code(self.logs.describe_log_streams, logGroupName="/aws/lambda/nope-" + uuid.uuid4().hex[:6])[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.code(self.logs.describe_log_streams, logGroupName=self.group, orderBy="LastEventTime",
                                   logStreamNamePrefix="2")[0], "InvalidParameterException")

    def test_get_log_events_tokens(self):
        stream = self.logs.describe_log_streams(logGroupName=self.group)["logStreams"][0]["logStreamName"]
        head = self.logs.get_log_events(logGroupName=self.group, logStreamName=stream, startFromHead=True, limit=2)
        self.assertTrue(head["events"][0]["message"].startswith("START RequestId: "))
        self.assertEqual(len(head["events"]), 2)
        # Forward from the token to the end; at the end the same token comes back.
        messages = [e["message"] for e in head["events"]]
        token = head["nextForwardToken"]
        while True:
            page = self.logs.get_log_events(logGroupName=self.group, logStreamName=stream, nextToken=token, limit=4)
            messages += [e["message"] for e in page["events"]]
            if page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
        self.assertEqual(sum(m.startswith("REPORT RequestId:") for m in messages), 3)
        self.assertEqual([m for m in messages if "marker-" in m][-1].split("\t")[-1], "marker-3 done")
        # Without startFromHead: the newest events; the backward token pages to older ones.
        tail = self.logs.get_log_events(logGroupName=self.group, logStreamName=stream, limit=3)
        self.assertTrue(tail["events"][-1]["message"].startswith("REPORT"))
        older = self.logs.get_log_events(logGroupName=self.group, logStreamName=stream, limit=3,
                                         nextToken=tail["nextBackwardToken"])
        self.assertEqual([e["message"] for e in older["events"]] + [e["message"] for e in tail["events"]], messages[-6:])
        self.assertEqual(self.code(self.logs.get_log_events, logGroupName=self.group, logStreamName="nope")[0],
                         "ResourceNotFoundException")

    def test_filter_log_events(self):
        def msgs(**kw):
            return [e["message"].split("\t")[-1] for e in self.logs.filter_log_events(logGroupName=self.group, **kw)["events"]]
        self.assertEqual(msgs(filterPattern='{ $.level = "error" }'), ['{"level":"error","n":2}'])
        self.assertEqual(msgs(filterPattern="{ $.n >= 2 && $.level != \"error\" }"), ['{"level":"info","n":3}'])
        self.assertEqual(msgs(filterPattern='"marker-1 done"'), ["marker-1 done"])
        self.assertEqual(msgs(filterPattern="?marker-1 ?marker-3"), ["marker-1 done", "marker-3 done"])
        self.assertEqual(len(msgs(filterPattern="RequestId -START -END")), 3)  # the REPORT lines
        self.assertEqual(msgs(filterPattern="marker", startTime=now_ms() + 60000), [])
        # Pages: limit 2 with nextToken, through boto3's paginator.
        pages = list(self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=self.group, filterPattern="marker", PaginationConfig={"PageSize": 2}))
        self.assertEqual(sum(len(p["events"]) for p in pages), 3)
        self.assertEqual(len({e["eventId"] for p in pages for e in p["events"]}), 3)
        stream = self.logs.describe_log_streams(logGroupName=self.group)["logStreams"][0]["logStreamName"]
        self.assertEqual(len(msgs(filterPattern="marker", logStreamNames=[stream])), 3)
        self.assertEqual(msgs(filterPattern="marker", logStreamNamePrefix="1999/"), [])
        code, message = self.code(self.logs.filter_log_events, logGroupName=self.group, filterPattern="{ $.n > }")
        self.assertEqual(code, "InvalidParameterException")
        self.assertIn("Invalid filter pattern", message)

    def test_own_groups_streams_events_retention_tags(self):
        g = "app/" + uuid.uuid4().hex[:8]
        self.logs.create_log_group(logGroupName=g, tags={"team": "a"})
        self.assertEqual(self.code(self.logs.create_log_group, logGroupName=g)[0], "ResourceAlreadyExistsException")
        self.assertEqual(self.code(self.logs.create_log_group, logGroupName="bad name!")[0], "InvalidParameterException")
        self.logs.create_log_stream(logGroupName=g, logStreamName="s1")
        self.assertEqual(self.code(self.logs.create_log_stream, logGroupName=g, logStreamName="s1")[0],
                         "ResourceAlreadyExistsException")
        self.assertEqual(self.code(self.logs.put_log_events, logGroupName=g, logStreamName="nope",
                                   logEvents=[{"timestamp": now_ms(), "message": "x"}])[0], "ResourceNotFoundException")
        t = now_ms()
        r = self.logs.put_log_events(logGroupName=g, logStreamName="s1", logEvents=[
            {"timestamp": t - 20 * 86400000, "message": "too old"}])
        self.assertEqual(r["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 1})
        self.assertEqual(self.code(self.logs.put_log_events, logGroupName=g, logStreamName="s1", logEvents=[
            {"timestamp": t - 2 * 86400000, "message": "a"}, {"timestamp": t, "message": "b"}])[0], "InvalidParameterException")
        r = self.logs.put_log_events(logGroupName=g, logStreamName="s1", logEvents=[
            {"timestamp": t, "message": "first line\nsecond line"},
            {"timestamp": t + 1, "message": '10.0.0.1 - alice [02/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 503 12'},
            {"timestamp": t + 5 * 3600000, "message": "too new"},
        ])
        self.assertEqual(r["rejectedLogEventsInfo"], {"tooNewLogEventStartIndex": 2})
        self.assertEqual(self.code(self.logs.put_log_events, logGroupName=g, logStreamName="s1", logEvents=[
            {"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])[0], "InvalidParameterException")
        events = self.logs.get_log_events(logGroupName=g, logStreamName="s1", startFromHead=True)["events"]
        self.assertEqual([e["message"] for e in events][0], "first line\nsecond line")
        self.assertEqual(events[0]["timestamp"], t)
        hits = self.logs.filter_log_events(logGroupName=g, filterPattern="[ip, id, user, ts, request, status = 5*, bytes < 100]")
        self.assertEqual([e["logStreamName"] for e in hits["events"]], ["s1"])
        # Retention: AWS's set of days only.
        self.assertEqual(self.code(self.logs.put_retention_policy, logGroupName=g, retentionInDays=2)[0],
                         "InvalidParameterException")
        self.logs.put_retention_policy(logGroupName=g, retentionInDays=7)
        self.logs.put_retention_policy(logGroupName=self.group, retentionInDays=30)
        found = {x["logGroupName"]: x for x in self.logs.describe_log_groups()["logGroups"]}
        self.assertEqual(found[g]["retentionInDays"], 7)
        self.assertEqual(found[self.group]["retentionInDays"], 30)
        self.logs.delete_retention_policy(logGroupName=self.group)
        self.assertNotIn("retentionInDays", self.logs.describe_log_groups(logGroupNamePrefix=self.group)["logGroups"][0])
        # Tags, through both APIs.
        arn = found[g]["logGroupArn"]
        self.logs.tag_log_group(logGroupName=g, tags={"env": "dev"})
        self.logs.tag_resource(resourceArn=arn, tags={"owner": "me"})
        self.assertEqual(self.logs.list_tags_log_group(logGroupName=g)["tags"], {"team": "a", "env": "dev", "owner": "me"})
        self.logs.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.logs.untag_log_group(logGroupName=g, tags=["env"])
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=arn)["tags"], {"owner": "me"})
        # Pages of groups.
        names = [x["logGroupName"] for p in self.logs.get_paginator("describe_log_groups").paginate(
            PaginationConfig={"PageSize": 1}) for x in p["logGroups"]]
        self.assertIn(g, names)
        self.assertEqual(names, sorted(names))
        self.logs.delete_log_group(logGroupName=g)
        self.assertEqual(self.code(self.logs.delete_log_group, logGroupName=g)[0], "ResourceNotFoundException")
        self.assertEqual(self.code(self.logs.filter_log_events, logGroupName=g)[0], "ResourceNotFoundException")

    def test_cli_v1_filter(self):
        # The AWS CLI on PATH (v1 here) through its own parameter handling.
        out = self.d.aws("logs", "filter-log-events", "--log-group-name", self.group, "--filter-pattern", "marker-2")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([e["message"].split("\t")[-1] for e in json.loads(out.stdout)["events"]], ["marker-2 done"])

    @unittest.skipUnless(os.path.exists(AWS_V2), "needs AWS CLI v2 for `aws logs tail`")
    def test_tail_follow_prints_new_lines_within_a_second(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
        p = subprocess.Popen([AWS_V2, "--endpoint-url", self.d.endpoint, "logs", "tail", self.group, "--follow",
                              "--since", "5m", "--format", "short"], stdout=subprocess.PIPE, text=True, env=env)
        lines = []
        seen = threading.Condition()

        def read():
            for line in p.stdout:
                with seen:
                    lines.append(line.rstrip("\n"))
                    seen.notify_all()
        threading.Thread(target=read, daemon=True).start()

        def wait_for(text, timeout):
            with seen:
                return seen.wait_for(lambda: any(text in l for l in lines), timeout)
        try:
            self.assertTrue(wait_for("marker-3 done", 20), lines)  # what ran before: --since 5m
            for n in (40, 41):
                t0 = time.monotonic()
                self.lam.invoke(FunctionName=self.fn, Payload=json.dumps({"n": n, "level": "info"}))
                self.assertTrue(wait_for("marker-%d done" % n, 5), lines)
                self.assertLess(time.monotonic() - t0, 1.5)
            # --format short: "<time> <message>".
            line = next(l for l in lines if "marker-40 done" in l)
            self.assertRegex(line, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} ")
        finally:
            p.kill()
            p.wait()
            p.stdout.close()


class DurabilityTest(unittest.TestCase):
    def test_put_log_events_survive_kill_9(self):
        # An acknowledged PutLogEvents (and the group, stream, retention and tags around it)
        # is there after kill -9 and a restart on the same data directory.
        data = tempfile.mkdtemp(prefix="stratus-logs-k9-")
        try:
            d = Daemon(data_dir=data).start()
            logs = d.client("logs")
            logs.create_log_group(logGroupName="k9", tags={"a": "b"})
            logs.create_log_stream(logGroupName="k9", logStreamName="s")
            logs.put_retention_policy(logGroupName="k9", retentionInDays=1)
            t = now_ms()
            logs.put_log_events(logGroupName="k9", logStreamName="s",
                                logEvents=[{"timestamp": t + i, "message": "line %d" % i} for i in range(100)])
            d.kill9()
            d = Daemon(data_dir=data).start()
            logs = d.client("logs")
            events = logs.get_log_events(logGroupName="k9", logStreamName="s", startFromHead=True)["events"]
            self.assertEqual([e["message"] for e in events], ["line %d" % i for i in range(100)])
            self.assertEqual(events[5]["timestamp"], t + 5)
            self.assertEqual(logs.list_tags_log_group(logGroupName="k9")["tags"], {"a": "b"})
            self.assertEqual(logs.describe_log_groups(logGroupNamePrefix="k9")["logGroups"][0]["retentionInDays"], 1)
            d.stop()
        finally:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

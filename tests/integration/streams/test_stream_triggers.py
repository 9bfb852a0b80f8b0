"""DynamoDB stream -> Lambda (event source mappings) with real node and python handlers that
write what they receive to a file: every change arrives in order per key, none lost across a
kill -9 of the daemon in the middle of the stream; failing batches are retried, bisected and
recorded for the on-failure destination; ReportBatchItemFailures, filters, the batching
window, enable / disable; the *EventSourceMapping API's shapes and errors through boto3 and
the AWS CLI; a failing mapping holds up neither the others nor the writes."""

import io
import json
import os
import shutil
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid
import zipfile

import botocore.exceptions

from daemon import Daemon

ROLE = "arn:aws:iam::000000000000:role/r"

NODE = r"""
const fs = require('fs');
exports.handler = async (event) => {
  const recs = event.Records.map(r => ({
    seq: r.dynamodb.SequenceNumber, key: r.dynamodb.Keys.pk.S, ev: r.eventName, src: r.eventSourceARN,
    v: r.dynamodb.NewImage && r.dynamodb.NewImage.v ? r.dynamodb.NewImage.v.N : null,
    poison: !!(r.dynamodb.NewImage && r.dynamodb.NewImage.poison)}));
  fs.appendFileSync(process.env.OUT, JSON.stringify(recs) + '\n');
  if (process.env.SLEEP) await new Promise(r => setTimeout(r, +process.env.SLEEP));
  if (recs.some(r => r.poison) || process.env.FAIL) throw new Error('poison record');
  return {};
};
"""

PYTHON = r"""
import json, os, time
def handler(event, context):
    recs = [{"seq": r["dynamodb"]["SequenceNumber"], "key": r["dynamodb"]["Keys"]["pk"]["S"], "ev": r["eventName"],
             "src": r["eventSourceARN"], "v": r["dynamodb"].get("NewImage", {}).get("v", {}).get("N"),
             "fail": "fail" in r["dynamodb"].get("NewImage", {})} for r in event["Records"]]
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(recs) + "\n")
    if os.environ.get("SLEEP"):
        time.sleep(int(os.environ["SLEEP"]) / 1000)
    if os.environ.get("PARTIAL"):
        # ReportBatchItemFailures: a record marked "fail" fails the first time it is seen.
        seen = os.environ["OUT"] + ".seen"
        done = open(seen).read().split() if os.path.exists(seen) else []
        for r in recs:
            if r["fail"] and r["seq"] not in done:
                with open(seen, "a") as f:
                    f.write(r["seq"] + "\n")
                return {"batchItemFailures": [{"itemIdentifier": r["seq"]}]}
    return {"batchItemFailures": []}
"""


def zip_of(name, text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, text)
    return buf.getvalue()


def batches(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def received(path):
    return [r for b in batches(path) for r in b]


def wait_for(pred, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def kill_sandboxes(names):
    """After kill -9 of stratus its sandboxes live on (as they would not after a machine
    crash): kill them so they cannot write after the test thinks they are gone."""
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
            if any(("AWS_LAMBDA_FUNCTION_NAME=%s" % n).encode() in env for n in names):
                os.kill(int(pid), 9)
        except (OSError, ValueError):
            pass


class StreamTriggerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stratus-trig-")
        cls.d = Daemon().start()
        cls.ddb = cls.d.client("dynamodb")
        cls.lam = cls.d.client("lambda")
        cls.st = cls.d.client("dynamodbstreams")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, True)

    def out(self):
        return os.path.join(self.tmp, uuid.uuid4().hex)

    def table(self, view="NEW_AND_OLD_IMAGES", ddb=None):
        name = "trig-" + uuid.uuid4().hex[:8]
        t = (ddb or self.ddb).create_table(
            TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
        return name, t["TableDescription"]["LatestStreamArn"]

    def function(self, out, runtime="nodejs20.x", lam=None, **env):
        name = "trig-fn-" + uuid.uuid4().hex[:8]
        code = zip_of("index.js", NODE) if runtime.startswith("node") else zip_of("index.py", PYTHON)
        (lam or self.lam).create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler="index.handler",
                                          Code={"ZipFile": code}, Timeout=10,
                                          Environment={"Variables": dict({"OUT": out}, **env)})
        return name

    def put(self, table, key, v, ddb=None, **extra):
        item = {"pk": {"S": key}, "v": {"N": str(v)}}
        item.update({k: {"S": x} for k, x in extra.items()})
        (ddb or self.ddb).put_item(TableName=table, Item=item)

    def failures(self, uuid_):
        with urllib.request.urlopen(self.d.endpoint + "/_stratus/lambda/event-source-mappings/%s/failures" % uuid_) as r:
            return json.load(r)["Failures"]

    # Both runtimes receive every change of the stream, in order, and again after a kill -9
    # in the middle: at least once, so a batch may come twice, but no record is missing and
    # the first arrivals of each key's records are in stream order.
    def test_every_change_in_order_across_kill9(self):
        data = tempfile.mkdtemp(prefix="stratus-trig-k9-")
        self.addCleanup(shutil.rmtree, data, True)
        outs = {"nodejs20.x": self.out(), "python3.12": self.out()}
        d = Daemon(data_dir=data).start()
        try:
            ddb, lam = d.client("dynamodb"), d.client("lambda")
            table, arn = self.table(ddb=ddb)
            fns = []
            for runtime, out in outs.items():
                fn = self.function(out, runtime, lam=lam, SLEEP="40")
                fns.append(fn)
                lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                                BatchSize=5)

            def writes(client, start, n):
                def run(w):
                    for i in range(start, start + n):
                        k = "k%d-%d" % (w, i % 5)
                        if i % 7 == 6:
                            client.delete_item(TableName=table, Key={"pk": {"S": k}})
                        else:
                            self.put(table, k, i, ddb=client)
                ts = [threading.Thread(target=run, args=(w,)) for w in range(3)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()

            writes(ddb, 0, 40)
            wait_for(lambda: all(received(o) for o in outs.values()), what="first deliveries")
        finally:
            d.kill9()
            kill_sandboxes(fns)
        before = {r: len(received(o)) for r, o in outs.items()}
        d = Daemon(data_dir=data).start()
        try:
            ddb = d.client("dynamodb")
            writes(ddb, 40, 30)
            truth = []
            st = d.client("dynamodbstreams")
            shard = st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            it = st.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while True:
                r = st.get_records(ShardIterator=it)
                if not r["Records"]:
                    break
                truth += r["Records"]
                it = r["NextShardIterator"]
            want = [r["dynamodb"]["SequenceNumber"] for r in truth]
            self.assertGreater(len(want), 150)
            for runtime, out in outs.items():
                wait_for(lambda: {r["seq"] for r in received(out)} >= set(want), timeout=40, what=runtime + " deliveries")
                got = received(out)
                self.assertTrue(all(r["src"] == arn for r in got))
                first = []
                seen = set()
                for r in got:
                    if r["seq"] not in seen:
                        seen.add(r["seq"])
                        first.append(r)
                self.assertEqual(seen, set(want), runtime)
                # In order per key (here: the whole stream, which is one shard).
                self.assertEqual([r["seq"] for r in first], want, runtime)
                self.assertLess(before[runtime], len(want), "the kill did not come mid-stream")
                events = {r["dynamodb"]["SequenceNumber"]: r["eventName"] for r in truth}
                self.assertTrue(all(r["ev"] == events[r["seq"]] for r in first))
        finally:
            d.stop()

    # A batch with a poison record: bisected down to the record, which fails its retries and
    # goes to the on-failure destination (kept for inspection); every other record arrives.
    def test_failing_batch_is_retried_bisected_and_recorded(self):
        table, arn = self.table()
        for i in range(10):
            self.put(table, "p%d" % i, i, **({"poison": "yes"} if i == 6 else {}))
        out = self.out()
        fn = self.function(out)
        m = self.lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10,
            BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:dlq"}})
        wait_for(lambda: self.failures(m["UUID"]), what="the failure record")
        got = received(out)
        good = {r["key"] for r in got if not r["poison"]}
        self.assertEqual(good, {"p%d" % i for i in range(10) if i != 6})
        sizes = [len(b) for b in batches(out)]
        self.assertEqual(sizes[0], 10)
        alone = [b for b in batches(out) if len(b) == 1 and b[0]["poison"]]
        self.assertGreaterEqual(len(alone), 2)  # the try and its one retry
        f = self.failures(m["UUID"])
        self.assertEqual(len(f), 1)
        info = f[0]["DDBStreamBatchInfo"]
        self.assertEqual(f[0]["requestContext"]["condition"], "RetryAttemptsExhausted")
        self.assertEqual(f[0]["requestContext"]["functionArn"], "arn:aws:lambda:us-east-1:000000000000:function:" + fn)
        self.assertEqual(f[0]["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(info["batchSize"], 1)
        self.assertEqual(info["streamArn"], arn)
        self.assertEqual(info["startSequenceNumber"], alone[0][0]["seq"])
        got_m = self.lam.get_event_source_mapping(UUID=m["UUID"])
        self.assertEqual(got_m["LastProcessingResult"].split(":")[0] in ("OK", "PROBLEM"), True)
        # Each triggered invocation is in the function's logs, and so is the give-up.
        with urllib.request.urlopen(self.d.endpoint + "/_stratus/lambda/logs/" + fn) as r:
            text = "\n".join(l["text"] for l in json.load(r)["lines"])
        self.assertEqual(text.count("START RequestId:"), len(batches(out)))
        self.assertIn("gave up on 1 record(s)", text)

    # ReportBatchItemFailures: the records before the reported one are done; the batch is
    # retried from it.
    def test_report_batch_item_failures(self):
        table, arn = self.table()
        for i in range(6):
            self.put(table, "r%d" % i, i, **({"fail": "once"} if i == 3 else {}))
        out = self.out()
        fn = self.function(out, "python3.12", PARTIAL="1")
        self.lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                             BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
        wait_for(lambda: len(batches(out)) >= 2, what="the retry")
        time.sleep(0.3)
        b = batches(out)
        self.assertEqual([r["key"] for r in b[0]], ["r%d" % i for i in range(6)])
        self.assertEqual([r["key"] for r in b[1]], ["r3", "r4", "r5"])
        self.assertEqual(len(b), 2)

    # Filters: only matching records reach the function; the rest are skipped.
    def test_filters(self):
        table, arn = self.table()
        out = self.out()
        fn = self.function(out)
        pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "keep"}]}}}}
        self.lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST",
                                             FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
        self.put(table, "a", 1, kind="keep-1")
        self.put(table, "b", 2, kind="drop")
        self.put(table, "a", 3, kind="keep-2")  # a MODIFY: dropped
        self.put(table, "c", 4, kind="keeper")
        wait_for(lambda: len(received(out)) >= 2, what="the matching records")
        time.sleep(0.3)
        self.assertEqual([(r["key"], r["v"]) for r in received(out)], [("a", "1"), ("c", "4")])

    # A zero batching window delivers at once; a window gathers what comes meanwhile.
    def test_batching_window(self):
        table, arn = self.table()
        out = self.out()
        fn = self.function(out)
        self.lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST",
                                             BatchSize=100, MaximumBatchingWindowInSeconds=1)
        t0 = time.time()
        for i in range(5):
            self.put(table, "w%d" % i, i)
        wait_for(lambda: received(out), what="the batch")
        self.assertGreaterEqual(time.time() - t0, 0.9)
        self.assertEqual(len(batches(out)[0]), 5)

    # StartingPosition LATEST skips what was there; Enabled false pauses, true resumes.
    def test_latest_disable_enable(self):
        table, arn = self.table()
        self.put(table, "old", 0)
        out = self.out()
        fn = self.function(out)
        m = self.lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="LATEST")
        self.put(table, "new", 1)
        wait_for(lambda: received(out), what="the new record")
        self.assertEqual([r["key"] for r in received(out)], ["new"])
        u = self.lam.update_event_source_mapping(UUID=m["UUID"], Enabled=False)
        self.assertEqual(u["State"], "Disabling")
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])["State"], "Disabled")
        self.put(table, "paused", 2)
        time.sleep(0.5)
        self.assertEqual(len(received(out)), 1)
        self.lam.update_event_source_mapping(UUID=m["UUID"], Enabled=True)
        wait_for(lambda: len(received(out)) == 2, what="the record written while disabled")
        self.assertEqual(received(out)[1]["key"], "paused")

    # A function that always fails (retried without end) holds up neither another mapping of
    # the same stream nor the writes.
    def test_failing_mapping_blocks_nothing(self):
        table, arn = self.table()
        bad_out, good_out = self.out(), self.out()
        bad = self.function(bad_out, FAIL="1")
        good = self.function(good_out)
        self.lam.create_event_source_mapping(FunctionName=bad, EventSourceArn=arn, StartingPosition="LATEST")
        self.lam.create_event_source_mapping(FunctionName=good, EventSourceArn=arn, StartingPosition="LATEST")
        self.put(table, "x", 1)
        t0 = time.time()
        for i in range(20):
            self.put(table, "y%d" % i, i)
        self.assertLess(time.time() - t0, 5)
        wait_for(lambda: len(received(good_out)) == 21, what="the healthy mapping")
        # The failing one keeps retrying its first batch (the default: until the records
        # expire), never moving past it.
        wait_for(lambda: len(batches(bad_out)) >= 2, what="the failing mapping's retry")
        self.assertEqual({b[0]["key"] for b in batches(bad_out)}, {"x"})

    # The mapping API: shapes, states, listing, paging, errors.
    def test_mapping_api(self):
        table, arn = self.table()
        fn = self.function(self.out())
        m = self.lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                                 BatchSize=7, MaximumRetryAttempts=3, MaximumRecordAgeInSeconds=3600)
        self.assertEqual(m["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(m["State"], "Creating")
        self.assertEqual(m["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:" + fn)
        self.assertEqual(m["EventSourceArn"], arn)
        self.assertEqual(m["BatchSize"], 7)
        self.assertEqual(m["MaximumRetryAttempts"], 3)
        self.assertEqual(m["MaximumRecordAgeInSeconds"], 3600)
        self.assertEqual(m["StartingPosition"], "TRIM_HORIZON")
        self.assertEqual(m["DestinationConfig"], {"OnFailure": {}})
        self.assertEqual(m["EventSourceMappingArn"],
                         "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" + m["UUID"])
        g = self.lam.get_event_source_mapping(UUID=m["UUID"])
        self.assertEqual(g["State"], "Enabled")
        self.assertEqual(g["StateTransitionReason"], "User action")
        by_fn = self.lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
        self.assertEqual([x["UUID"] for x in by_fn], [m["UUID"]])
        by_arn = self.lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        self.assertEqual([x["UUID"] for x in by_arn], [m["UUID"]])
        u = self.lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=50, BisectBatchOnFunctionError=True,
                                                 FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]})
        self.assertEqual(u["State"], "Updating")
        g = self.lam.get_event_source_mapping(UUID=m["UUID"])
        self.assertEqual((g["BatchSize"], g["BisectBatchOnFunctionError"]), (50, True))
        self.assertEqual(g["FilterCriteria"], {"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]})

        def err(fn_, **kw):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                fn_(**kw)
            return cm.exception.response["Error"]["Code"], cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

        self.assertEqual(err(self.lam.create_event_source_mapping, FunctionName=fn, EventSourceArn=arn,
                             StartingPosition="LATEST"), ("ResourceConflictException", 409))
        self.assertEqual(err(self.lam.create_event_source_mapping, FunctionName="nope-" + uuid.uuid4().hex[:6],
                             EventSourceArn=arn, StartingPosition="LATEST")[0], "ResourceNotFoundException")
        self.assertEqual(err(self.lam.create_event_source_mapping, FunctionName=fn,
                             EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q")[0], "InvalidParameterValueException")
        self.assertEqual(err(self.lam.create_event_source_mapping, FunctionName=fn,
                             EventSourceArn=arn.replace(table, table + "x"), StartingPosition="LATEST")[0],
                         "InvalidParameterValueException")
        fn2 = self.function(self.out())
        self.assertEqual(err(self.lam.create_event_source_mapping, FunctionName=fn2, EventSourceArn=arn,
                             StartingPosition="LATEST", FilterCriteria={"Filters": [{"Pattern": '{"a": "b"}'}]})[0],
                         "InvalidParameterValueException")
        self.assertEqual(err(self.lam.create_event_source_mapping, FunctionName=fn2, EventSourceArn=arn)[0],
                         "InvalidParameterValueException")
        self.assertEqual(err(self.lam.get_event_source_mapping, UUID=str(uuid.uuid4())), ("ResourceNotFoundException", 404))
        dl = self.lam.delete_event_source_mapping(UUID=m["UUID"])
        self.assertEqual((dl["State"], dl["ResponseMetadata"]["HTTPStatusCode"]), ("Deleting", 202))
        self.assertEqual(err(self.lam.get_event_source_mapping, UUID=m["UUID"])[0], "ResourceNotFoundException")

    # The AWS CLI: create-event-source-mapping, list, delete.
    def test_cli(self):
        table, arn = self.table()
        out = self.out()
        fn = self.function(out)
        r = self.d.aws("lambda", "create-event-source-mapping", "--function-name", fn, "--event-source-arn", arn,
                       "--starting-position", "LATEST", "--batch-size", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        created = json.loads(r.stdout)
        self.put(table, "cli", 1)
        wait_for(lambda: received(out), what="the CLI mapping's delivery")
        r = self.d.aws("lambda", "list-event-source-mappings", "--function-name", fn)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["EventSourceMappings"][0]["UUID"], created["UUID"])
        r = self.d.aws("lambda", "delete-event-source-mapping", "--uuid", created["UUID"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["State"], "Deleting")


if __name__ == "__main__":
    unittest.main()

"""S3 event notifications invoking a function (a python handler that appends the records it
receives to a file): every write path (PutObject, presigned PUT, CopyObject, multipart
completion, DeleteObject, DeleteObjects, delete markers, the AWS CLI's uploads) with prefix
and suffix filters; delivered at least once even when stratus is killed right after
answering the PUTs (the records are stored with the object's metadata); asynchronous
semantics (a failing handler runs three times)."""

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

from daemon import Daemon

from .common import ROLE, zip_of

HANDLER = r"""
import json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        for r in event["Records"]:
            f.write(json.dumps(r) + "\n")
    if os.environ.get("FAIL"):
        raise Exception("failing on purpose")
"""


def records(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(pred, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def kill_sandboxes(name):
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if ("AWS_LAMBDA_FUNCTION_NAME=%s" % name).encode() in f.read().split(b"\0"):
                    os.kill(int(pid), 9)
        except (OSError, ValueError):
            pass


class S3TriggerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stratus-s3t-")
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")
        cls.lam = cls.d.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, True)

    def setup_bucket(self, s3=None, lam=None, **env):
        s3, lam = s3 or self.s3, lam or self.lam
        out = os.path.join(self.tmp, uuid.uuid4().hex)
        fn = "s3t-" + uuid.uuid4().hex[:8]
        lam.create_function(FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": zip_of({"index.py": HANDLER})},
                            Environment={"Variables": dict({"OUT": out}, **env)})
        bucket = "s3t-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        arn = "arn:aws:lambda:us-east-1:000000000000:function:" + fn
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "created", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}},
                {"Id": "removed", "LambdaFunctionArn": arn, "Events": ["s3:ObjectRemoved:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".txt"}]}}}]})
        return bucket, fn, out

    def outbox(self, d=None):
        with urllib.request.urlopen((d or self.d).endpoint + "/_stratus/test/s3/outbox") as r:
            return json.load(r)["pending"]

    # Each write path gives its event, as S3 names it, to the function.
    def test_every_write_path(self):
        bucket, fn, out = self.setup_bucket()
        self.s3.put_object(Bucket=bucket, Key="in/put.txt", Body=b"hello")
        self.s3.put_object(Bucket=bucket, Key="other/skip.bin", Body=b"no")  # neither filter
        url = self.s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "in/presigned.txt"})
        urllib.request.urlopen(urllib.request.Request(url, data=b"signed", method="PUT")).read()
        self.s3.copy_object(Bucket=bucket, Key="in/copy.txt", CopySource={"Bucket": bucket, "Key": "in/put.txt"})
        up = self.s3.create_multipart_upload(Bucket=bucket, Key="in/multi.txt")["UploadId"]
        etag = self.s3.upload_part(Bucket=bucket, Key="in/multi.txt", UploadId=up, PartNumber=1, Body=b"m" * 10)["ETag"]
        self.s3.complete_multipart_upload(Bucket=bucket, Key="in/multi.txt", UploadId=up,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
        self.s3.delete_object(Bucket=bucket, Key="in/put.txt")
        self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "in/copy.txt"}, {"Key": "in/keep.bin"}]})
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        v = self.s3.put_object(Bucket=bucket, Key="in/versioned.txt", Body=b"v1")["VersionId"]
        marker = self.s3.delete_object(Bucket=bucket, Key="in/versioned.txt")["VersionId"]
        want = [("ObjectCreated:Put", "in/put.txt"), ("ObjectCreated:Put", "in/presigned.txt"),
                ("ObjectCreated:Copy", "in/copy.txt"), ("ObjectCreated:CompleteMultipartUpload", "in/multi.txt"),
                ("ObjectRemoved:Delete", "in/put.txt"), ("ObjectRemoved:Delete", "in/copy.txt"),
                ("ObjectCreated:Put", "in/versioned.txt"), ("ObjectRemoved:DeleteMarkerCreated", "in/versioned.txt")]
        wait_for(lambda: len(records(out)) >= len(want), what="all events")
        time.sleep(0.3)
        got = records(out)
        # Asynchronous invocations may run in any order; each event exactly once here.
        self.assertEqual(sorted((r["eventName"], r["s3"]["object"]["key"]) for r in got), sorted(want))
        by = {(r["eventName"], r["s3"]["object"]["key"]): r for r in got}
        put = by[("ObjectCreated:Put", "in/put.txt")]
        self.assertEqual(put["eventSource"], "aws:s3")
        self.assertEqual(put["s3"]["bucket"]["name"], bucket)
        self.assertEqual(put["s3"]["object"]["size"], 5)
        self.assertEqual(put["s3"]["configurationId"], "created")
        self.assertEqual(by[("ObjectCreated:Put", "in/versioned.txt")]["s3"]["object"]["versionId"], v)
        self.assertEqual(by[("ObjectRemoved:DeleteMarkerCreated", "in/versioned.txt")]["s3"]["object"]["versionId"], marker)
        self.assertEqual(self.outbox(), 0)
        # The function's log shows each invocation.
        with urllib.request.urlopen(self.d.endpoint + "/_stratus/lambda/logs/" + fn) as r:
            text = "\n".join(l["text"] for l in json.load(r)["lines"])
        self.assertEqual(text.count("START RequestId:"), len(want))

    # The AWS CLI: the notification configuration and an upload.
    def test_cli(self):
        bucket, fn, out = self.setup_bucket()
        conf = os.path.join(self.tmp, "n.json")
        with open(conf, "w") as f:
            json.dump({"LambdaFunctionConfigurations": [{
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:" + fn,
                "Events": ["s3:ObjectCreated:*"]}]}, f)
        r = self.d.aws("s3api", "put-bucket-notification-configuration", "--bucket", bucket,
                       "--notification-configuration", "file://" + conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        src = os.path.join(self.tmp, "up.txt")
        with open(src, "w") as f:
            f.write("from the cli")
        r = self.d.aws("s3", "cp", src, "s3://%s/cli/up.txt" % bucket)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: records(out), what="the CLI upload's event")
        self.assertEqual(records(out)[0]["s3"]["object"]["key"], "cli/up.txt")

    # Acknowledged PUTs keep their events across a kill -9 that comes right after them.
    def test_events_survive_kill9(self):
        data = tempfile.mkdtemp(prefix="stratus-s3t-k9-")
        self.addCleanup(shutil.rmtree, data, True)
        d = Daemon(data_dir=data).start()
        fn = None
        try:
            s3, lam = d.client("s3"), d.client("lambda")
            bucket, fn, out = self.setup_bucket(s3, lam)
            keys = ["in/k%02d.txt" % i for i in range(24)]

            def put(ks):
                c = d.client("s3")
                for k in ks:
                    c.put_object(Bucket=bucket, Key=k, Body=k.encode())
            ts = [threading.Thread(target=put, args=(keys[i::4],)) for i in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        finally:
            d.kill9()
            if fn:
                kill_sandboxes(fn)
        d = Daemon(data_dir=data).start()
        try:
            wait_for(lambda: {r["s3"]["object"]["key"] for r in records(out)} >= set(keys), what="every event")
            wait_for(lambda: self.outbox(d) == 0, what="the outbox to empty")
        finally:
            d.stop()

    # A failing handler: asynchronous invocation semantics, three runs in all.
    def test_failing_handler_runs_three_times(self):
        bucket, fn, out = self.setup_bucket(FAIL="1")
        self.s3.put_object(Bucket=bucket, Key="in/fail.txt", Body=b"x")
        wait_for(lambda: len(records(out)) >= 3, timeout=20, what="the retries")
        time.sleep(1.2)
        self.assertEqual(len(records(out)), 3)

    # A configuration naming no function: its events are dropped (S3 would have refused the
    # configuration), nothing piles up, and the others still flow.
    def test_unknown_function_does_not_block(self):
        bucket, fn, out = self.setup_bucket()
        ghost = "s3t-ghost-" + uuid.uuid4().hex[:6]
        self.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:" + ghost,
                 "Events": ["s3:ObjectCreated:*"]},
                {"LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:" + fn,
                 "Events": ["s3:ObjectCreated:*"]}]})
        self.s3.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
        wait_for(lambda: records(out), what="the real function's event")
        wait_for(lambda: self.outbox() == 0, what="the outbox to empty")


if __name__ == "__main__":
    unittest.main()

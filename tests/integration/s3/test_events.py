"""S3 event notifications: a bucket's LambdaFunctionConfigurations turn object changes
into event records shaped as AWS sends them to Lambda, read here from the test API's copy
of every record committed to the event outbox (/_stratus/test/s3/events). Delivery to
functions is tested in lambda/test_s3_triggers.py."""
import json
import unittest
import urllib.request
import uuid

from daemon import Daemon

ARN = "arn:aws:lambda:us-east-1:000000000000:function:%s"


class EventTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def drain(self):
        with urllib.request.urlopen(self.d.endpoint + "/_stratus/test/s3/events") as r:
            return json.loads(r.read())

    def setUp(self):
        self.drain()
        self.b = "ev-" + uuid.uuid4().hex[:8]
        self.s3.create_bucket(Bucket=self.b)
        self.s3.put_bucket_notification_configuration(Bucket=self.b, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "uploads", "LambdaFunctionArn": ARN % "onUpload", "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"},
                                                    {"Name": "suffix", "Value": ".jpg"}]}}},
                {"Id": "deletes", "LambdaFunctionArn": ARN % "onDelete", "Events": ["s3:ObjectRemoved:*"]}]})

    def test_created_records(self):
        r = self.s3.put_object(Bucket=self.b, Key="uploads/my photo.jpg", Body=b"jpegdata")
        self.s3.put_object(Bucket=self.b, Key="uploads/notes.txt", Body=b"no")     # suffix does not match
        self.s3.put_object(Bucket=self.b, Key="other/photo.jpg", Body=b"no")       # prefix does not match
        self.s3.copy_object(Bucket=self.b, Key="uploads/copy.jpg", CopySource={"Bucket": self.b, "Key": "uploads/my photo.jpg"})
        events = self.drain()
        self.assertEqual(len(events), 2)
        first = events[0]
        self.assertEqual(first["functionArn"], ARN % "onUpload")
        rec = first["event"]["Records"][0]
        self.assertEqual(rec["eventVersion"], "2.1")
        self.assertEqual(rec["eventSource"], "aws:s3")
        self.assertEqual(rec["eventName"], "ObjectCreated:Put")
        self.assertEqual(rec["awsRegion"], "us-east-1")
        self.assertEqual(rec["s3"]["configurationId"], "uploads")
        self.assertEqual(rec["s3"]["bucket"]["name"], self.b)
        self.assertEqual(rec["s3"]["bucket"]["arn"], "arn:aws:s3:::" + self.b)
        self.assertEqual(rec["s3"]["object"]["key"], "uploads/my+photo.jpg")
        self.assertEqual(rec["s3"]["object"]["size"], 8)
        self.assertEqual(rec["s3"]["object"]["eTag"], r["ETag"].strip('"'))
        self.assertEqual(events[1]["event"]["Records"][0]["eventName"], "ObjectCreated:Copy")
        s1 = int(rec["s3"]["object"]["sequencer"], 16)
        s2 = int(events[1]["event"]["Records"][0]["s3"]["object"]["sequencer"], 16)
        self.assertLess(s1, s2)

    def test_multipart_and_removed(self):
        k = "uploads/big.jpg"
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=k)["UploadId"]
        e = self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=1, Body=b"p")["ETag"]
        self.s3.complete_multipart_upload(Bucket=self.b, Key=k, UploadId=uid,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
        self.s3.delete_object(Bucket=self.b, Key=k)
        names = [(x["functionArn"], x["event"]["Records"][0]["eventName"]) for x in self.drain()]
        self.assertEqual(names, [(ARN % "onUpload", "ObjectCreated:CompleteMultipartUpload"),
                                 (ARN % "onDelete", "ObjectRemoved:Delete")])
        self.s3.put_bucket_versioning(Bucket=self.b, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_object(Bucket=self.b, Key="x", Body=b"1")
        d = self.s3.delete_object(Bucket=self.b, Key="x")
        ev = self.drain()
        self.assertEqual(len(ev), 1)
        rec = ev[0]["event"]["Records"][0]
        self.assertEqual(rec["eventName"], "ObjectRemoved:DeleteMarkerCreated")
        self.assertEqual(rec["s3"]["object"]["versionId"], d["VersionId"])

    def test_no_configuration_no_records(self):
        b = "evn-" + uuid.uuid4().hex[:8]
        self.s3.create_bucket(Bucket=b)
        self.s3.put_object(Bucket=b, Key="uploads/a.jpg", Body=b"x")
        self.assertEqual(self.drain(), [])


if __name__ == "__main__":
    unittest.main()

"""Browser form uploads (POST Object, issue 15) with boto3's generate_presigned_post and
requests, under --verify-signatures: the policy's conditions and expiration, SigV4 and
SigV2 policy signatures, ${filename}, success_action_status / _redirect, S3's errors, the
object's headers from the form, and ObjectCreated:Post event records."""
import base64
import hashlib
import json
import unittest
import urllib.request
import uuid

import requests

from daemon import Daemon

KEY, SECRET = "AKIDPOST", "post-secret"


class PostObjectTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--verify-signatures", "--access-key-id", KEY, "--secret-access-key", SECRET).start()
        # SigV4 policies (boto3 signs presigned POSTs with SigV2 unless told s3v4).
        cls.s3 = cls.d.client("s3", key=KEY, secret=SECRET, signature_version="s3v4")
        cls.b = "post-" + uuid.uuid4().hex[:10]
        cls.s3.create_bucket(Bucket=cls.b)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def presigned(self, key, fields=None, conditions=None, expires=60, secret=SECRET):
        s3 = self.s3 if secret == SECRET else self.d.client("s3", key=KEY, secret=secret, signature_version="s3v4")
        return s3.generate_presigned_post(self.b, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)

    def post(self, p, data=b"hello form", filename="photo.png", extra=None, **kw):
        fields = dict(p["fields"], **(extra or {}))
        return requests.post(p["url"], data=fields, files={"file": (filename, data, "image/png")},
                             allow_redirects=False, timeout=10, **kw)

    def code(self, r):
        return r.status_code, r.text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in r.text else r.text

    def test_sigv4_upload_with_filename_and_fields(self):
        p = self.presigned("uploads/${filename}", fields={"Content-Type": "image/png", "x-amz-meta-owner": "ann"},
                           conditions=[{"Content-Type": "image/png"}, {"x-amz-meta-owner": "ann"},
                                       ["content-length-range", 1, 1000]])
        self.assertIn("x-amz-signature", p["fields"])
        r = self.post(p)
        self.assertEqual(r.status_code, 204, r.text)
        etag = r.headers["ETag"]
        self.assertEqual(etag, '"%s"' % hashlib.md5(b"hello form").hexdigest())
        self.assertTrue(r.headers["Location"].endswith("/uploads/photo.png"))
        h = self.s3.head_object(Bucket=self.b, Key="uploads/photo.png")
        self.assertEqual((h["ContentType"], h["Metadata"], h["ETag"]), ("image/png", {"owner": "ann"}, etag))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="uploads/photo.png")["Body"].read(), b"hello form")

    def test_success_action_status_and_redirect(self):
        p = self.presigned("s201.txt", fields={"success_action_status": "201"},
                           conditions=[{"success_action_status": "201"}])
        r = self.post(p)
        self.assertEqual(r.status_code, 201, r.text)
        self.assertIn("<Key>s201.txt</Key>", r.text)
        self.assertIn("<Bucket>%s</Bucket>" % self.b, r.text)
        p = self.presigned("s200.txt", fields={"success_action_status": "200"},
                           conditions=[{"success_action_status": "200"}])
        self.assertEqual(self.post(p).status_code, 200)
        p = self.presigned("red.txt", fields={"success_action_redirect": "http://app.test/done"},
                           conditions=[{"success_action_redirect": "http://app.test/done"}])
        r = self.post(p)
        self.assertEqual(r.status_code, 303)
        self.assertTrue(r.headers["Location"].startswith("http://app.test/done?bucket=%s&key=red.txt&etag=" % self.b))

    def test_policy_violations(self):
        p = self.presigned("only/${filename}", conditions=[["starts-with", "$key", "only/"],
                                                           ["content-length-range", 5, 10]])
        self.assertEqual(self.code(self.post(p, data=b"this is far too long")), (400, "EntityTooLarge"))
        self.assertEqual(self.code(self.post(p, data=b"abc")), (400, "EntityTooSmall"))
        r = self.post(p, extra={"key": "elsewhere/x"})
        self.assertEqual(self.code(r), (403, "AccessDenied"))
        self.assertIn("Policy Condition failed", r.text)
        r = self.post(p, extra={"x-amz-meta-sneaky": "1"})
        self.assertEqual(self.code(r), (403, "AccessDenied"))
        self.assertIn("Extra input fields: x-amz-meta-sneaky", r.text)
        self.assertEqual(self.post(p, extra={"x-ignore-me": "1"}).status_code, 204)
        # Expired: a policy whose expiration has passed.
        p = self.presigned("late.txt", expires=-10)
        r = self.post(p)
        self.assertEqual(self.code(r), (403, "AccessDenied"))
        self.assertIn("Policy expired", r.text)

    def test_signatures(self):
        p = self.presigned("bad.txt", secret="wrong")
        self.assertEqual(self.code(self.post(p)), (403, "SignatureDoesNotMatch"))
        p = self.presigned("anon.txt")
        for f in ["x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"]:
            p["fields"].pop(f)
        self.assertEqual(self.code(self.post(p)), (403, "AccessDenied"))
        r = requests.post("%s/%s" % (self.d.endpoint, self.b), data={"key": "nopolicy"},
                          files={"file": ("a", b"x")}, timeout=10)
        self.assertEqual(self.code(r), (403, "AccessDenied"))
        # SigV2: AWSAccessKeyId and an HMAC-SHA1 of the policy (boto3's default signer).
        v2 = self.d.client("s3", key=KEY, secret=SECRET, signature_version="s3")
        p = v2.generate_presigned_post(self.b, "v2.txt", ExpiresIn=60)
        self.assertIn("AWSAccessKeyId", p["fields"])
        self.assertEqual(self.post(p).status_code, 204)
        p["fields"]["signature"] = base64.b64encode(b"x" * 20).decode()
        self.assertEqual(self.code(self.post(p)), (403, "SignatureDoesNotMatch"))
        p = self.d.client("s3", key="AKIDOTHER", secret=SECRET, signature_version="s3").generate_presigned_post(
            self.b, "v2.txt")
        self.assertEqual(self.code(self.post(p)), (403, "InvalidAccessKeyId"))

    def test_malformed_requests(self):
        url = "%s/%s" % (self.d.endpoint, self.b)
        p = self.presigned("k")
        r = requests.post(url, data=p["fields"], timeout=10)  # no file: form-urlencoded
        self.assertEqual(self.code(r), (412, "PreconditionFailed"))
        r = requests.post(url, data=b"--xx\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=xx"},
                          timeout=10)
        self.assertEqual(self.code(r), (400, "MalformedPOSTRequest"))
        fields = dict(p["fields"])
        r = requests.post(url, files={k: (None, v) for k, v in fields.items()}, timeout=10)
        self.assertEqual(self.code(r), (400, "InvalidArgument"))
        self.assertIn("POST requires exactly one file upload per request.", r.text)
        fields.pop("key")
        r = requests.post(url, data=fields, files={"file": ("a", b"x")}, timeout=10)
        self.assertEqual(self.code(r), (400, "InvalidArgument"))
        self.assertIn("Bucket POST must contain a field named &apos;key&apos;.", r.text)
        r = requests.post("%s/nosuch-bucket-here" % self.d.endpoint, data=p["fields"], files={"file": ("a", b"x")},
                          timeout=10)
        self.assertEqual(self.code(r), (404, "NoSuchBucket"))

    def test_large_file_and_post_event(self):
        b = "post-ev-" + uuid.uuid4().hex[:8]
        self.s3.create_bucket(Bucket=b)
        self.s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
                                              "Events": ["s3:ObjectCreated:*"]}]})
        urllib.request.urlopen(self.d.endpoint + "/_stratus/test/s3/events").read()
        p = self.s3.generate_presigned_post(b, "big.bin", ExpiresIn=60)
        data = bytes(range(256)) * 40960  # 10 MB, through the spool
        r = self.post(p, data=data)
        self.assertEqual(r.status_code, 204, r.text)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="big.bin")["Body"].read(), data)
        with urllib.request.urlopen(self.d.endpoint + "/_stratus/test/s3/events") as f:
            events = json.loads(f.read())
        rec = events[0]["event"]["Records"][0]
        self.assertEqual((rec["eventName"], rec["s3"]["object"]["key"], rec["s3"]["object"]["size"]),
                         ("ObjectCreated:Post", "big.bin", len(data)))


if __name__ == "__main__":
    unittest.main()

"""Presigned URLs: SigV4 query auth (boto3) and SigV2 (AWS CLI v1's `s3 presign`,
botocore's 's3' signer), for GET and PUT; accepted with any credentials by default and
verified under --verify-signatures with AWS's errors."""
import time
import unittest
import urllib.error
import urllib.request
import uuid

from botocore.config import Config

from daemon import Daemon


def fetch(url, data=None, method=None, content_type=None):
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": content_type} if content_type else {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class PresignTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.open = Daemon().start()
        cls.strict = Daemon("--verify-signatures", "--access-key-id", "AKIDSTRICT",
                            "--secret-access-key", "strict-secret").start()

    @classmethod
    def tearDownClass(cls):
        cls.open.stop()
        cls.strict.stop()

    def setup_bucket(self, d, **kw):
        s3 = d.client("s3", **kw)
        b = "pre-" + uuid.uuid4().hex[:10]
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="file name.txt", Body=b"secret data")
        return s3, b

    def cli_presign(self, d, b, key, secret, expires=60):
        p = d.aws("s3", "presign", "s3://%s/%s" % (b, key), "--expires-in", str(expires),
                  env={"AWS_ACCESS_KEY_ID": "AKIDSTRICT", "AWS_SECRET_ACCESS_KEY": secret})
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_any_credentials_by_default(self):
        s3, b = self.setup_bucket(self.open)
        other = self.open.client("s3", key="whoever", secret="whatever")
        url = other.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "file name.txt"})
        self.assertEqual(fetch(url), (200, b"secret data"))
        url = self.cli_presign(self.open, b, "file name.txt", "anything")
        self.assertIn("Signature=", url)
        self.assertEqual(fetch(url), (200, b"secret data"))

    def test_sigv4_get_and_put_verified(self):
        s3, b = self.setup_bucket(self.strict, key="AKIDSTRICT", secret="strict-secret", signature_version="s3v4")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "file name.txt"}, ExpiresIn=60)
        self.assertIn("X-Amz-Signature=", url)
        self.assertEqual(fetch(url), (200, b"secret data"))
        put = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "up.bin"}, ExpiresIn=60)
        self.assertEqual(fetch(put, data=b"uploaded", method="PUT")[0], 200)
        self.assertEqual(s3.get_object(Bucket=b, Key="up.bin")["Body"].read(), b"uploaded")
        bad = self.strict.client("s3", key="AKIDSTRICT", secret="wrong", signature_version="s3v4")
        status, body = fetch(bad.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "file name.txt"}))
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        short = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "file name.txt"}, ExpiresIn=1)
        time.sleep(2.1)
        status, body = fetch(short)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code><Message>Request has expired</Message>", body)

    def test_sigv2_cli_presign_verified(self):
        s3, b = self.setup_bucket(self.strict, key="AKIDSTRICT", secret="strict-secret")
        url = self.cli_presign(self.strict, b, "file name.txt", "strict-secret")
        self.assertIn("AWSAccessKeyId=AKIDSTRICT", url)
        self.assertEqual(fetch(url), (200, b"secret data"))
        status, body = fetch(self.cli_presign(self.strict, b, "file name.txt", "wrong-secret"))
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        url = self.cli_presign(self.strict, b, "file name.txt", "strict-secret", expires=1)
        time.sleep(2.1)
        status, body = fetch(url)
        self.assertEqual(status, 403)
        self.assertIn(b"Request has expired", body)

    def test_sigv2_botocore_put(self):
        s3, b = self.setup_bucket(self.strict, key="AKIDSTRICT", secret="strict-secret")
        v2 = self.strict.client("s3", key="AKIDSTRICT", secret="strict-secret", signature_version="s3")
        put = v2.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "v2 put.txt",
                                                              "ContentType": "text/plain"}, ExpiresIn=60)
        self.assertEqual(fetch(put, data=b"via v2", method="PUT", content_type="text/plain")[0], 200)
        # The content type is signed: another one does not match.
        status, body = fetch(put, data=b"via v2", method="PUT", content_type="image/png")
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        get = v2.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "v2 put.txt",
                                                              "ResponseContentType": "text/plain"})
        self.assertEqual(fetch(get), (200, b"via v2"))


if __name__ == "__main__":
    unittest.main()

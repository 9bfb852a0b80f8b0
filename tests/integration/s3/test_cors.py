"""Browser uploads: the bucket's CORS configuration answers preflights (OPTIONS) and
decorates actual requests, as S3 does; without a configuration preflights are refused."""
import unittest
import urllib.error
import urllib.request
import uuid

from daemon import Daemon


def call(url, method="GET", headers=None, data=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class CorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Signatures verified: preflights must still pass, unsigned, as on AWS.
        cls.d = Daemon("--verify-signatures").start()
        cls.s3 = cls.d.client("s3")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.b = "cors-" + uuid.uuid4().hex[:10]
        self.s3.create_bucket(Bucket=self.b)
        self.s3.put_object(Bucket=self.b, Key="k.txt", Body=b"x")

    def url(self, key="k.txt"):
        return "%s/%s/%s" % (self.d.endpoint, self.b, key)

    def test_preflight(self):
        status, _, body = call(self.url(), "OPTIONS", {"Origin": "http://localhost:5173",
                                                       "Access-Control-Request-Method": "PUT"})
        self.assertEqual(status, 403)
        self.assertIn(b"CORS is not enabled for this bucket", body)
        self.s3.put_bucket_cors(Bucket=self.b, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["http://localhost:*"], "AllowedMethods": ["GET", "PUT"],
             "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
        status, h, _ = call(self.url(), "OPTIONS", {"Origin": "http://localhost:5173",
                                                    "Access-Control-Request-Method": "PUT",
                                                    "Access-Control-Request-Headers": "Content-Type, x-amz-meta-a"})
        self.assertEqual(status, 200)
        self.assertEqual(h["Access-Control-Allow-Origin"], "http://localhost:5173")
        self.assertEqual(h["Access-Control-Allow-Methods"], "GET, PUT")
        self.assertEqual(h["Access-Control-Allow-Headers"], "content-type, x-amz-meta-a")
        self.assertEqual(h["Access-Control-Max-Age"], "600")
        self.assertEqual(h["Access-Control-Expose-Headers"], "ETag")
        for headers in [{"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"},
                        {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "DELETE"},
                        {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT",
                         "Access-Control-Request-Headers": "authorization"}]:
            with self.subTest(headers=headers):
                status, _, body = call(self.url(), "OPTIONS", headers)
                self.assertEqual(status, 403)
                self.assertIn(b"<Code>AccessForbidden</Code>", body)
        status, _, body = call(self.url(), "OPTIONS", {})
        self.assertEqual(status, 400)

    def test_actual_request_headers(self):
        self.s3.put_bucket_cors(Bucket=self.b, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})
        # A presigned GET from a browser page.
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": self.b, "Key": "k.txt"})
        status, h, body = call(url, headers={"Origin": "http://app.local"})
        self.assertEqual((status, body), (200, b"x"))
        self.assertEqual(h["Access-Control-Allow-Origin"], "*")
        status, h, _ = call(url)
        self.assertNotIn("Access-Control-Allow-Origin", h)


if __name__ == "__main__":
    unittest.main()

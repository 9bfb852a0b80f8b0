"""Static website hosting: the S3 website endpoint (BUCKET.s3-website.localhost on the
AWS port) and the site port (--site-bucket, a single-page app as a CDN serves it),
driven with curl and http.client."""
import gzip
import http.client
import subprocess
import unittest
import uuid

from daemon import Daemon

INDEX = b"<!doctype html><title>app</title><div id=app></div>"
BUNDLE = b"console.log('bundle');" * 1000


class WebsiteEndpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")
        cls.b = "web-" + uuid.uuid4().hex[:8]
        cls.s3.create_bucket(Bucket=cls.b)
        cls.s3.put_object(Bucket=cls.b, Key="index.html", Body=INDEX, ContentType="text/html")
        cls.s3.put_object(Bucket=cls.b, Key="docs/index.html", Body=b"docs", ContentType="text/html")
        cls.s3.put_object(Bucket=cls.b, Key="error.html", Body=b"custom 404", ContentType="text/html")
        cls.s3.put_object(Bucket=cls.b, Key="app.js", Body=BUNDLE)
        cls.s3.put_bucket_website(Bucket=cls.b, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
            "RoutingRules": [{"Condition": {"KeyPrefixEquals": "old/"},
                              "Redirect": {"ReplaceKeyPrefixWith": "docs/", "HttpRedirectCode": "301"}}]})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def curl(self, path, host=None, *extra):
        host = host or "%s.s3-website.localhost" % self.b
        out = subprocess.run(["curl", "-s", "-i", "-H", "Host: " + host] + list(extra) +
                             ["http://127.0.0.1:%d%s" % (self.d.port, path)], capture_output=True, timeout=30).stdout
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        return status, headers, body

    def test_index_and_folders(self):
        status, h, body = self.curl("/")
        self.assertEqual((status, body), (200, INDEX))
        self.assertEqual(h["content-type"], "text/html")
        self.assertEqual(self.curl("/docs/")[2], b"docs")
        status, h, _ = self.curl("/docs")
        self.assertEqual(status, 302)
        self.assertEqual(h["location"], "/docs/")
        status, h, body = self.curl("/app.js")
        self.assertEqual((status, len(body)), (200, len(BUNDLE)))

    def test_error_document_and_error_page(self):
        status, h, body = self.curl("/missing.html")
        self.assertEqual((status, body), (404, b"custom 404"))
        self.s3.create_bucket(Bucket=self.b + "-plain")
        self.s3.put_bucket_website(Bucket=self.b + "-plain", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
        status, h, body = self.curl("/nope", "%s-plain.s3-website.localhost" % self.b)
        self.assertEqual(status, 404)
        self.assertIn(b"<li>Code: NoSuchKey</li>", body)
        self.assertTrue(h["content-type"].startswith("text/html"))
        status, _, body = self.curl("/", "no-such-bucket-zz.s3-website.localhost")
        self.assertEqual(status, 404)
        self.assertIn(b"NoSuchBucket", body)

    def test_routing_rule_and_redirect_all(self):
        status, h, _ = self.curl("/old/page.html")
        self.assertEqual(status, 301)
        self.assertTrue(h["location"].endswith("/docs/page.html"))
        b2 = self.b + "-redir"
        self.s3.create_bucket(Bucket=b2)
        self.s3.put_bucket_website(Bucket=b2, WebsiteConfiguration={
            "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
        status, h, _ = self.curl("/x/y", "%s.s3-website.localhost" % b2)
        self.assertEqual((status, h["location"]), (301, "https://example.com/x/y"))

    def test_not_modified(self):
        _, h, _ = self.curl("/")
        status, _, body = self.curl("/", None, "-H", "If-None-Match: " + h["etag"])
        self.assertEqual((status, body), (304, b""))


class SitePortTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bucket = "site-" + uuid.uuid4().hex[:8]
        cls.d = Daemon("--site-port", "0", "--site-bucket", cls.bucket).start()
        assert cls.d.site_port, "no site port in the banner"
        s3 = cls.d.client("s3")
        s3.create_bucket(Bucket=cls.bucket)
        s3.put_object(Bucket=cls.bucket, Key="index.html", Body=INDEX, ContentType="text/html",
                      CacheControl="no-cache")
        s3.put_object(Bucket=cls.bucket, Key="assets/app.3f2a.js", Body=BUNDLE,
                      CacheControl="public, max-age=31536000, immutable")
        s3.put_object(Bucket=cls.bucket, Key="assets/style.css", Body=b"body{}")
        s3.put_object(Bucket=cls.bucket, Key="assets/logo.svg", Body=b"<svg/>")
        s3.put_object(Bucket=cls.bucket, Key="assets/app.gz.js", Body=gzip.compress(BUNDLE),
                      ContentEncoding="gzip", ContentType="text/javascript")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def get(self, path, headers=None, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.d.site_port, timeout=10)
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def test_index_and_spa_fallback(self):
        status, h, body = self.get("/")
        self.assertEqual((status, body), (200, INDEX))
        self.assertEqual(h["cache-control"], "no-cache")
        for route in ["/users/42", "/settings", "/deep/client/route/"]:
            with self.subTest(route=route):
                status, h, body = self.get(route)
                self.assertEqual((status, body), (200, INDEX))
                self.assertEqual(h["content-type"], "text/html")
        status, h, body = self.get("/assets/missing.js")
        self.assertEqual(status, 404)

    def test_assets_types_and_cache_control(self):
        status, h, body = self.get("/assets/app.3f2a.js")
        self.assertEqual((status, body), (200, BUNDLE))
        self.assertEqual(h["content-type"], "text/javascript")
        self.assertEqual(h["cache-control"], "public, max-age=31536000, immutable")
        self.assertEqual(self.get("/assets/style.css")[1]["content-type"], "text/css")
        self.assertEqual(self.get("/assets/logo.svg")[1]["content-type"], "image/svg+xml")
        status, h, body = self.get("/assets/app.3f2a.js", method="HEAD")
        self.assertEqual((status, body, h["content-length"]), (200, b"", str(len(BUNDLE))))

    def test_redeploy_is_served_at_once(self):
        # Small site files are kept in memory by file id (s3/website.cpp): a deploy that
        # overwrites or deletes a file must show on the very next GET, ranges included.
        s3 = self.d.client("s3")
        key = "assets/chunk-" + uuid.uuid4().hex[:6] + ".js"
        s3.put_object(Bucket=self.bucket, Key=key, Body=b"console.log(1)")
        self.assertEqual(self.get("/" + key)[2], b"console.log(1)")
        s3.put_object(Bucket=self.bucket, Key=key, Body=b"console.log(22)")
        self.assertEqual(self.get("/" + key)[2], b"console.log(22)")
        status, h, body = self.get("/" + key, {"Range": "bytes=12-13"})
        self.assertEqual((status, body, h["content-range"]), (206, b"22", "bytes 12-13/15"))
        s3.delete_object(Bucket=self.bucket, Key=key)
        self.assertEqual(self.get("/" + key)[0], 404)

    def test_revalidation(self):
        _, h, _ = self.get("/assets/app.3f2a.js")
        status, h2, body = self.get("/assets/app.3f2a.js", {"If-None-Match": h["etag"]})
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(h2["etag"], h["etag"])
        status, _, _ = self.get("/assets/app.3f2a.js", {"If-Modified-Since": h["last-modified"]})
        self.assertEqual(status, 304)
        status, _, _ = self.get("/assets/app.3f2a.js", {"If-None-Match": '"other"'})
        self.assertEqual(status, 200)

    def test_gzip_negotiation(self):
        status, h, body = self.get("/assets/app.gz.js", {"Accept-Encoding": "gzip, deflate, br"})
        self.assertEqual(status, 200)
        self.assertEqual(h["content-encoding"], "gzip")
        self.assertEqual(gzip.decompress(body), BUNDLE)
        self.assertIn("Accept-Encoding", h["vary"])
        status, h, body = self.get("/assets/app.gz.js", {"Accept-Encoding": "identity"})
        self.assertEqual((status, body), (200, BUNDLE))
        self.assertNotIn("content-encoding", h)
        out = subprocess.run(["curl", "-s", "--compressed", "http://127.0.0.1:%d/assets/app.gz.js" % self.d.site_port],
                             capture_output=True, timeout=30).stdout
        self.assertEqual(out, BUNDLE)

    def test_only_get_and_head(self):
        self.assertEqual(self.get("/", method="POST")[0], 405)


if __name__ == "__main__":
    unittest.main()

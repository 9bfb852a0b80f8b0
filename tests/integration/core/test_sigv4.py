"""With --verify-signatures every AWS request is checked (SigV4 header or presigned query)
before a service runs: the SDKs and the CLI with the right credentials get through, and a
request with any single byte changed, a wrong key, no signature, an old date or an expired
URL gets the error AWS gives in that service's protocol. Requests here are signed by
botocore's own signers and sent raw (http.client), so nothing re-normalises them."""

import datetime
import hashlib
import http.client
import json
import os
import re
import subprocess
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
from unittest import mock

import botocore
import botocore.exceptions
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from daemon import Daemon

AK = "AKIASTRATUSSIGV4TEST"
SK = "stratus/sigv4+secret/KEY0123456789abcdefgh"
VERIFY_ARGS = ("--verify-signatures", "--access-key-id", AK, "--secret-access-key", SK)

UNKNOWN_TARGET = "DynamoDB_20120810.Frobnicate"
TARGET_PREFIX = "DynamoDB_20120810."

# What each service answers once authentication has passed (no operations exist yet; an
# implemented S3 would say the bucket or key is missing).
PASSED = {
    "dynamodb": ({"UnknownOperationException"}, 400),
    "lambda": ({"UnknownOperationException"}, 404),
    "s3": ({"NotImplemented", "NoSuchBucket", "NoSuchKey"}, None),
}
# (code, status) per failure class and protocol.
SIGNATURE = {"dynamodb": ("InvalidSignatureException", 400), "lambda": ("InvalidSignatureException", 403),
             "s3": ("SignatureDoesNotMatch", 403)}
MALFORMED = {"dynamodb": ("IncompleteSignatureException", 400), "lambda": ("IncompleteSignatureException", 403),
             "s3": ("AuthorizationHeaderMalformed", 400)}
SKEWED = {"dynamodb": ("InvalidSignatureException", 400), "lambda": ("InvalidSignatureException", 403),
          "s3": ("RequestTimeTooSkewed", 403)}
MISSING = {"dynamodb": ("MissingAuthenticationTokenException", 400),
           "lambda": ("MissingAuthenticationTokenException", 403), "s3": ("AccessDenied", 403)}


class Sent:
    """A request exactly as it goes on the wire."""

    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.body = method, path, query, body
        self.headers = list(headers)  # [(name, value)], order kept

    def copy(self, **kw):
        c = Sent(self.method, self.path, self.query, self.headers, self.body)
        c.__dict__.update(kw)
        return c

    def header(self, name):
        return next(v for n, v in self.headers if n.lower() == name.lower())

    def with_header(self, name, value):
        return self.copy(headers=[(n, value if n.lower() == name.lower() else v) for n, v in self.headers])

    @property
    def target(self):
        return self.path + ("?" + self.query if self.query else "")


def other_char(c):
    """A different character of the same kind, so the change stays one byte of plain text."""
    hexdigits = "0123456789abcdef"
    if c in hexdigits and c.lower() == c:
        return hexdigits[(hexdigits.index(c) + 1) % 16]
    if c.isdigit():
        return str((int(c) + 1) % 10)
    return "y" if c == "x" else "x"


def change(s, i):
    return s[:i] + other_char(s[i]) + s[i + 1:]


def change_byte(b, i):
    return b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]


def sign(port, service, method, path, query="", headers=(), body=b"", key=AK, secret=SK,
         when=None, unsigned_payload=False):
    """Signs with botocore's own signer (S3SigV4Auth for s3, else SigV4Auth) as it would
    sign for http://127.0.0.1:port; `when` fakes the signing time."""
    url = "http://127.0.0.1:%d%s" % (port, path + ("?" + query if query else ""))
    hdrs = [("Host", "127.0.0.1:%d" % port)] + list(headers)
    req = AWSRequest(method=method, url=url, data=body, headers=dict(hdrs))
    if unsigned_payload:
        req.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, secret), service, "us-east-1")
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    out = list(req.headers.items())
    if body or method in ("POST", "PUT"):
        out.append(("Content-Length", str(len(body))))
    return Sent(method, path, query, out, body)


class Wire:
    """One keep-alive connection for raw requests."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def send(self, r):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.putrequest(r.method, r.target, skip_host=True, skip_accept_encoding=True)
                for n, v in r.headers:
                    self.conn.putheader(n, v)
                self.conn.endheaders(r.body or None)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.close()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def error_of(status, headers, body):
    """(code, message) from any of the three protocols' error responses."""
    if "x-amzn-errortype" in headers:  # REST-JSON (Lambda)
        return headers["x-amzn-errortype"].split(":")[0], json.loads(body).get("Message", "")
    if body.startswith(b"<?xml") or body.startswith(b"<Error"):  # REST-XML (S3)
        root = ET.fromstring(body)
        return root.findtext("Code"), root.findtext("Message")
    if body:  # JSON 1.0 (DynamoDB)
        doc = json.loads(body)
        return doc.get("__type", "").split("#")[-1], doc.get("message", "")
    return None, None


class VerifyingDaemonCase:
    """Shared setup: one verifying daemon per class, a raw connection, helpers."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(*VERIFY_ARGS).start()
        cls.wire = Wire(cls.d.port)

    @classmethod
    def tearDownClass(cls):
        cls.wire.close()
        cls.d.stop()

    def send(self, r):
        return self.wire.send(r)

    def assert_passes(self, service, r, msg=None):
        status, headers, body = self.send(r)
        code, message = error_of(status, headers, body)
        codes, want_status = PASSED[service]
        self.assertIn(code, codes, msg or (status, body[:300]))
        if want_status:
            self.assertEqual(status, want_status, msg)

    def assert_error(self, r, expected, msg=None):
        status, headers, body = self.send(r)
        code, message = error_of(status, headers, body)
        self.assertEqual((code, status), expected, "%s: %r" % (msg, body[:300]))
        return message

    # Requests that pass as signed, for each service.

    def ddb_request(self, **kw):
        return sign(self.d.port, "dynamodb", "POST", "/", headers=[
            ("X-Amz-Target", UNKNOWN_TARGET), ("Content-Type", "application/x-amz-json-1.0")],
            body=b'{"TableName": "orders", "Limit": 7}', **kw)

    def s3_get(self, **kw):
        return sign(self.d.port, "s3", "GET", "/sig-bkt/d/key-1.txt",
                    query="analytics&id=cfg-9", **kw)

    def s3_put(self, **kw):
        return sign(self.d.port, "s3", "PUT", "/stratus-sig-bucket/up/obj-2.bin",
                    headers=[("Content-Type", "application/octet-stream")], body=b"hello stratus\x00\xff body", **kw)

    def lambda_request(self, **kw):
        return sign(self.d.port, "lambda", "POST", "/2015-03-31/sig-probe/fn",
                    query="Qualifier=v7&MaxItems=10", headers=[("Content-Type", "application/json")],
                    body=b'{"Payload": "abc"}', **kw)


class Boto3AuthTest(VerifyingDaemonCase, unittest.TestCase):
    """boto3 clients with the daemon's credentials get through to each service; a wrong
    secret or an unknown access key gets each protocol's error, parsed by botocore."""

    def ddb(self, key=AK, secret=SK):
        ddb = self.d.client("dynamodb", key=key, secret=secret)

        def retarget(request, **_):
            # Replace, not add: HTTPHeaders' [] = appends, and botocore would sign both values.
            request.headers.replace_header("X-Amz-Target", UNKNOWN_TARGET)

        ddb.meta.events.register("before-sign.dynamodb.ListTables", retarget)
        return ddb

    def error(self, call):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call()
        err = cm.exception.response
        return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"].get("Message", "")

    def test_right_credentials_pass(self):
        code, status, _ = self.error(lambda: self.ddb().list_tables())
        self.assertEqual((code, status), ("UnknownOperationException", 400))

        s3 = self.d.client("s3", key=AK, secret=SK)
        code, status, _ = self.error(lambda: s3.get_bucket_analytics_configuration(Bucket="b", Id="x"))
        self.assertEqual((code, status), ("NotImplemented", 501))
        # Upload: Expect: 100-continue, x-amz-content-sha256 of the body, a checksum header.
        sent = {}
        s3.meta.events.register("before-send.s3.PutObject",
                                lambda request, **_: sent.update({k.lower(): v for k, v in request.headers.items()}))
        code, status, _ = self.error(lambda: s3.put_object(Bucket="b", Key="k/obj", Body=b"data " * 4000))
        self.assertIn(code, {"NotImplemented", "NoSuchBucket"})
        self.assertEqual(sent["expect"], b"100-continue")
        self.assertEqual(sent["x-amz-content-sha256"], hashlib.sha256(b"data " * 4000).hexdigest().encode())
        self.assertIn("x-amz-checksum-crc32", sent)

        lam = self.d.client("lambda", key=AK, secret=SK)
        code, status, _ = self.error(lambda: lam.list_code_signing_configs())
        self.assertEqual((code, status), ("UnknownOperationException", 404))

    def test_wrong_secret(self):
        code, status, msg = self.error(lambda: self.ddb(secret=SK + "x").list_tables())
        self.assertEqual((code, status), ("InvalidSignatureException", 400))
        self.assertTrue(msg.startswith("The request signature we calculated does not match"), msg)

        s3 = self.d.client("s3", key=AK, secret="wrong")
        self.assertEqual(self.error(lambda: s3.get_bucket_analytics_configuration(Bucket="b", Id="x"))[:2],
                         ("SignatureDoesNotMatch", 403))
        self.assertEqual(self.error(lambda: s3.put_object(Bucket="b", Key="k", Body=b"x" * 100))[:2],
                         ("SignatureDoesNotMatch", 403))

        lam = self.d.client("lambda", key=AK, secret="wrong")
        self.assertEqual(self.error(lambda: lam.list_code_signing_configs())[:2], ("InvalidSignatureException", 403))

    def test_wrong_access_key(self):
        self.assertEqual(self.error(lambda: self.ddb(key=AK + "X").list_tables())[:2],
                         ("UnrecognizedClientException", 400))
        s3 = self.d.client("s3", key="AKIAOTHER", secret=SK)
        code, status, msg = self.error(lambda: s3.get_bucket_analytics_configuration(Bucket="b", Id="x"))
        self.assertEqual((code, status), ("InvalidAccessKeyId", 403))
        self.assertIn("does not exist", msg)
        lam = self.d.client("lambda", key="AKIAOTHER", secret=SK)
        self.assertEqual(self.error(lambda: lam.list_code_signing_configs())[:2], ("UnrecognizedClientException", 403))


class TamperTest(VerifyingDaemonCase, unittest.TestCase):
    """A signature binds the whole request: each single-byte change of a signed part (the
    signature itself, body, date, path, query, Host, X-Amz-Target) must be refused."""

    def each(self, service, good, variants):
        """`variants`: (label, request, expected (code, status))."""
        self.assert_passes(service, good, "unchanged request")
        n = 0
        for label, r, expected in variants:
            with self.subTest(service=service, change=label):
                self.assert_error(r, expected, label)
            n += 1
        self.assertGreater(n, 0)

    def signature_variants(self, service, good, positions=range(64)):
        auth = good.header("Authorization")
        m = re.search(r"Signature=([0-9a-f]{64})$", auth)
        self.assertIsNotNone(m, auth)
        start = m.start(1)
        for i in positions:
            yield "signature[%d]" % i, good.with_header("Authorization", change(auth, start + i)), SIGNATURE[service]

    def test_signature_bytes(self):
        # Every position for the JSON and the S3 signer; Lambda signs like DynamoDB.
        for service, good in (("dynamodb", self.ddb_request()), ("s3", self.s3_get())):
            self.each(service, good, self.signature_variants(service, good))
        good = self.lambda_request()
        self.each("lambda", good, self.signature_variants("lambda", good, [*range(0, 64, 4), 63]))

    def test_body_bytes(self):
        good = self.ddb_request()
        self.each("dynamodb", good, (("body[%d]" % i, good.copy(body=change_byte(good.body, i)), SIGNATURE["dynamodb"])
                                     for i in range(len(good.body))))
        good = self.lambda_request()
        self.each("lambda", good, (("body[%d]" % i, good.copy(body=change_byte(good.body, i)), SIGNATURE["lambda"])
                                   for i in range(len(good.body))))

    def test_s3_body_bytes_against_content_sha256(self):
        # The PUT body streams to disk; its x-amz-content-sha256 must still be checked.
        good = self.s3_put()
        self.assertEqual(good.header("X-Amz-Content-SHA256"), hashlib.sha256(good.body).hexdigest())
        mismatch = ("XAmzContentSHA256Mismatch", 400)
        self.each("s3", good, (("body[%d]" % i, good.copy(body=change_byte(good.body, i)), mismatch)
                               for i in range(len(good.body))))
        # Same for a body held in memory (not a PUT).
        post = sign(self.d.port, "s3", "POST", "/stratus-sig-bucket", query="delete",
                    headers=[("Content-Type", "application/xml")], body=b"<Delete><Object><Key>k</Key></Object></Delete>")
        self.each("s3", post, (("body[%d]" % i, post.copy(body=change_byte(post.body, i)), mismatch)
                               for i in range(0, len(post.body), 5)))
        # A changed x-amz-content-sha256 no longer matches the signature.
        sha = good.header("X-Amz-Content-SHA256")
        self.each("s3", good, (("sha256[%d]" % i, good.with_header("X-Amz-Content-SHA256", change(sha, i)),
                                SIGNATURE["s3"]) for i in (0, 31, 63)))

    def test_s3_body_added_to_a_request_signed_without_one(self):
        # Signed without x-amz-content-sha256, over an empty payload: bytes sent anyway
        # (streamed, as PUT bodies are) are not covered by the signature.
        # botocore's plain SigV4Auth (not S3's) sends no x-amz-content-sha256.
        req = AWSRequest(method="PUT", url="http://127.0.0.1:%d/stratus-sig-bucket/up/obj-3.bin" % self.d.port,
                         data=b"", headers={"Host": "127.0.0.1:%d" % self.d.port})
        SigV4Auth(Credentials(AK, SK), "s3", "us-east-1").add_auth(req)
        good = Sent("PUT", "/stratus-sig-bucket/up/obj-3.bin", "", list(req.headers.items()) + [("Content-Length", "0")], b"")
        self.assertNotIn("x-amz-content-sha256", {n.lower() for n, _ in good.headers})
        self.assert_passes("s3", good)
        injected = good.copy(body=b"injected", headers=good.headers[:-1] + [("Content-Length", "8")])
        self.assert_error(injected, SIGNATURE["s3"])

    def test_s3_unsigned_payload_does_not_cover_the_body(self):
        # UNSIGNED-PAYLOAD: the body is not signed, so changing it is allowed (as on AWS).
        good = self.s3_put(unsigned_payload=True)
        self.assertEqual(good.header("X-Amz-Content-SHA256"), "UNSIGNED-PAYLOAD")
        self.assert_passes("s3", good)
        self.assert_passes("s3", good.copy(body=change_byte(good.body, 3)))
        self.assert_error(good.with_header("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAe"), MALFORMED["s3"])

    def date_variants(self, service, good):
        """Each byte of X-Amz-Date. A change that keeps a valid date on the scope's day
        within 15 minutes is a signature mismatch; other changes are malformed or skewed."""
        amz = good.header("X-Amz-Date")
        signed = datetime.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)

        def classify(s):
            m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", s)
            try:
                t = datetime.datetime(*map(int, m.groups()), tzinfo=datetime.timezone.utc) if m else None
            except ValueError:
                t = None
            if t is None or s[:8] != amz[:8]:
                return MALFORMED[service]
            off = abs((t - signed).total_seconds())
            if 14 * 60 < off < 16 * 60:
                return None  # too close to the limit to call
            return SKEWED[service] if off > 15 * 60 else SIGNATURE[service]

        for i in range(len(amz)):
            choices = []
            for c in "0123456789XT":
                if c != amz[i]:
                    s = amz[:i] + c + amz[i + 1:]
                    expected = classify(s)
                    if expected:
                        choices.append((expected != SIGNATURE[service], s, expected))
            _, s, expected = min(choices)  # a signature mismatch when one is possible
            yield "x-amz-date[%d]=%s" % (i, s), good.with_header("X-Amz-Date", s), expected

    def test_date_bytes(self):
        for service, good in (("dynamodb", self.ddb_request()), ("s3", self.s3_get())):
            variants = list(self.date_variants(service, good))
            # The seconds and minutes give plain signature mismatches.
            self.assertGreaterEqual(sum(e == SIGNATURE[service] for _, _, e in variants), 3)
            self.each(service, good, variants)

    def test_path_bytes(self):
        for service, good in (("s3", self.s3_get()), ("lambda", self.lambda_request())):
            self.each(service, good, (("path[%d]" % i, good.copy(path=change(good.path, i)), SIGNATURE[service])
                                      for i in range(1, len(good.path))))

    def test_query_bytes(self):
        for service, good in (("s3", self.s3_get()), ("lambda", self.lambda_request())):
            self.each(service, good, (("query[%d]" % i, good.copy(query=change(good.query, i)), SIGNATURE[service])
                                      for i in range(len(good.query))))
            self.each(service, good, (("extra param", good.copy(query=good.query + "&x=1"), SIGNATURE[service]),))

    def test_host_port_bytes(self):
        for service, good in (("dynamodb", self.ddb_request()), ("s3", self.s3_get()),
                              ("lambda", self.lambda_request())):
            host = good.header("Host")
            colon = host.rindex(":")
            self.each(service, good, (("host[%d]" % i, good.with_header("Host", change(host, i)), SIGNATURE[service])
                                      for i in range(colon + 1, len(host))))

    def test_target_bytes(self):
        good = self.ddb_request()
        variants = []
        for i in range(len(UNKNOWN_TARGET)):
            t = change(UNKNOWN_TARGET, i)
            if i < len(TARGET_PREFIX):
                # Not DynamoDB's target any more: no service claims it, so nothing runs and
                # the dispatcher answers the unknown-target error without checking.
                expected = ("UnknownOperationException", 400)
            else:
                expected = SIGNATURE["dynamodb"]
            variants.append(("x-amz-target[%d]=%s" % (i, t), good.with_header("X-Amz-Target", t), expected))
        self.each("dynamodb", good, variants)

    def test_unsigned_headers_may_change(self):
        # The control: a header outside SignedHeaders is not covered.
        good = self.ddb_request()
        self.assertNotIn("user-agent", good.header("Authorization"))
        self.assert_passes("dynamodb", good.copy(headers=good.headers + [("User-Agent", "changed/1.0")]))


class PresignedTest(VerifyingDaemonCase, unittest.TestCase):
    """S3 presigned URLs (query-string SigV4) from boto3: valid ones work, expired or
    changed ones are refused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.d.client("s3", key=AK, secret=SK, signature_version="s3v4")

    def url(self, op="get_object", key="dir/file one.txt", expires=300, **params):
        return self.s3.generate_presigned_url(op, Params=dict(Bucket="stratus-presign", Key=key, **params),
                                              ExpiresIn=expires)

    def request(self, url, method="GET", body=b""):
        u = urllib.parse.urlsplit(url)
        headers = [("Host", u.netloc)]
        if method == "PUT":
            headers.append(("Content-Length", str(len(body))))
        return Sent(method, u.path, u.query, headers, body)

    def test_get_and_put_pass(self):
        url = self.url()
        self.assertIn("X-Amz-Signature=", url)
        self.assert_passes("s3", self.request(url))
        self.assert_passes("s3", self.request(self.url("get_object", ResponseContentType="text/plain")))
        self.assert_passes("s3", self.request(self.url("put_object"), "PUT", b"uploaded body"))

    def test_expired(self):
        url = self.url(expires=1)
        time.sleep(2.1)
        msg = self.assert_error(self.request(url), ("AccessDenied", 403))
        self.assertEqual(msg, "Request has expired")

    def test_tampered(self):
        url = self.url()
        good = self.request(url)
        self.assert_passes("s3", good)
        sig = re.search(r"X-Amz-Signature=([0-9a-f]{64})", good.query)
        bad = []
        for i in (0, 1, 17, 32, 50, 63):
            bad.append(("signature[%d]" % i, good.copy(query=change(good.query, sig.start(1) + i))))
        bad.append(("added param", good.copy(query=good.query + "&response-content-type=text%2Fhtml")))
        bad.append(("added param first", good.copy(query="x-id=GetObject&" + good.query)))
        bad.append(("changed expiry", good.copy(query=good.query.replace("X-Amz-Expires=300", "X-Amz-Expires=301"))))
        bad.append(("changed credential region",
                    good.copy(query=good.query.replace("us-east-1", "us-east-2"))))
        bad.append(("other key", good.copy(path=good.path.replace("file", "filf"))))
        bad.append(("other bucket", good.copy(path=good.path.replace("stratus-presign", "stratus-presigm"))))
        bad.append(("PUT with a GET url", good.copy(method="PUT", headers=good.headers + [("Content-Length", "1")],
                                                   body=b"x")))
        for label, r in bad:
            with self.subTest(label):
                self.assert_error(r, SIGNATURE["s3"], label)


class MissingAndSkewTest(VerifyingDaemonCase, unittest.TestCase):
    """No signature at all, and header signatures dated too far from now."""

    def test_unsigned_boto3(self):
        ddb = self.d.client("dynamodb", signature_version=botocore.UNSIGNED)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            ddb.describe_limits()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "MissingAuthenticationTokenException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)

        s3 = self.d.client("s3", signature_version=botocore.UNSIGNED)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.list_buckets()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(cm.exception.response["Error"]["Message"], "Access Denied")
        # A bucket that does not exist has no policy that could let anyone in: S3 answers
        # NoSuchBucket (404) to an unsigned request too, not AccessDenied.
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.get_bucket_analytics_configuration(Bucket="b-missing", Id="x")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchBucket")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

        lam = self.d.client("lambda", signature_version=botocore.UNSIGNED)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            lam.list_code_signing_configs()
        self.assertEqual(cm.exception.response["Error"]["Code"], "MissingAuthenticationTokenException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)

    def test_unsigned_raw(self):
        host = [("Host", "127.0.0.1:%d" % self.d.port)]
        cases = [
            ("dynamodb", Sent("POST", "/", "", host + [("X-Amz-Target", UNKNOWN_TARGET), ("Content-Length", "2")],
                              b"{}")),
            ("lambda", Sent("GET", "/2015-03-31/functions/", "", host, b"")),
            # ListBuckets: always refused without a signature. (An unsigned request for a
            # bucket that does not exist is NoSuchBucket, see test_unsigned_boto3.)
            ("s3", Sent("GET", "/", "", host, b"")),
        ]
        for service, r in cases:
            with self.subTest(service=service, target=r.target):
                self.assert_error(r, MISSING[service])
        # S3 verifies SigV2 too (issue 5): a wrong SigV2 signature is a mismatch, as on AWS.
        r = Sent("GET", "/stratus-sig-bucket", "", host + [("Authorization", "AWS %s:c2lnbmF0dXJl" % AK)], b"")
        self.assert_error(r, ("SignatureDoesNotMatch", 403))

    def test_old_date(self):
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        msg = self.assert_error(self.ddb_request(when=when), SKEWED["dynamodb"])
        self.assertTrue(msg.startswith("Signature expired: %s is now earlier than" % when.strftime("%Y%m%dT%H%M%SZ")),
                        msg)
        self.assert_error(self.s3_get(when=when), SKEWED["s3"])
        self.assert_error(self.lambda_request(when=when), SKEWED["lambda"])

    def test_future_date(self):
        when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)
        msg = self.assert_error(self.ddb_request(when=when), SKEWED["dynamodb"])
        self.assertTrue(msg.startswith("Signature not yet current"), msg)

    def test_within_skew_passes(self):
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
        self.assert_passes("dynamodb", self.ddb_request(when=when))
        self.assert_passes("s3", self.s3_get(when=when))


class ExemptAndOffTest(unittest.TestCase):
    """Internal endpoints need no signature; without --verify-signatures nothing is checked."""

    @classmethod
    def setUpClass(cls):
        cls.verifying = Daemon(*VERIFY_ARGS).start()
        cls.open = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.verifying.stop()
        cls.open.stop()

    def test_health_needs_no_signature(self):
        w = Wire(self.verifying.port)
        try:
            status, _, body = w.send(Sent("GET", "/_stratus/health", "",
                                          [("Host", "127.0.0.1:%d" % self.verifying.port)], b""))
        finally:
            w.close()
        self.assertEqual(status, 200)
        self.assertIn("dynamodb", json.loads(body)["services"])

    def test_garbage_signature_accepted_without_verification(self):
        good = sign(self.open.port, "dynamodb", "POST", "/", headers=[("X-Amz-Target", UNKNOWN_TARGET)], body=b"{}",
                    secret="anything")
        auth = re.sub(r"Signature=[0-9a-f]{64}", "Signature=" + "0" * 64, good.header("Authorization"))
        bad = good.with_header("Authorization", auth)
        for d, expected in ((self.open, ("UnknownOperationException", 400)),
                            (self.verifying, ("InvalidSignatureException", 400))):
            w = Wire(d.port)
            try:
                status, headers, body = w.send(bad.with_header("Host", "127.0.0.1:%d" % d.port))
            finally:
                w.close()
            self.assertEqual((error_of(status, headers, body)[0], status), expected, body)


class CliTest(unittest.TestCase):
    """The AWS CLI against a verifying daemon, with matching and non-matching credentials."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(*VERIFY_ARGS).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_cli(self):
        cases = [
            ((AK, SK), "(UnknownOperationException) when calling the DescribeKinesisStreamingDestination"),
            ((AK, SK[:-1]), "(InvalidSignatureException) when calling the DescribeKinesisStreamingDestination"),
            (("AKIANOTTHEONE", SK), "(UnrecognizedClientException) when calling the DescribeKinesisStreamingDestination"),
        ]
        procs = []
        for (key, secret), _ in cases:
            env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                       AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
            env.pop("AWS_SESSION_TOKEN", None)
            procs.append(subprocess.Popen(
                ["aws", "--endpoint-url", self.d.endpoint, "dynamodb", "describe-kinesis-streaming-destination",
                 "--table-name", "t"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
        for ((key, secret), expected), p in zip(cases, procs):
            out, err = p.communicate(timeout=60)
            with self.subTest(key=key, secret_ok=secret == SK):
                self.assertNotEqual(p.returncode, 0, err)
                self.assertIn(expected, err)


if __name__ == "__main__":
    unittest.main()

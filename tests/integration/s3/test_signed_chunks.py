"""aws-chunked bodies with signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), as the
Java and Go SDKs send them: decoded always, and under --verify-signatures every chunk
signature is checked against the chain that starts at the request's signature."""
import datetime
import hashlib
import hmac
import http.client
import unittest
import uuid

from daemon import Daemon

KEY, SECRET, REGION = "AKIDCHUNK", "chunk-secret", "us-east-1"


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_chunk_put(port, bucket, key, chunks, tamper=None, secret=SECRET, trailer=None, tamper_trailer=False):
    """PUTs `chunks` (list of bytes) as a signed aws-chunked body; tamper(i, data) may
    change chunk i's bytes after signing. Returns (status, body)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = "%s/%s/s3/aws4_request" % (date, REGION)
    decoded = sum(len(c) for c in chunks)
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    headers = {"host": "127.0.0.1:%d" % port, "x-amz-date": amz_date, "content-encoding": "aws-chunked",
               "x-amz-content-sha256": mode, "x-amz-decoded-content-length": str(decoded)}
    if trailer:
        headers["x-amz-trailer"] = trailer[0]
    signed = sorted(headers)
    canonical = "\n".join(["PUT", "/%s/%s" % (bucket, key), "",
                           "".join("%s:%s\n" % (h, headers[h]) for h in signed), ";".join(signed), mode])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = sign(sign(sign(sign(("AWS4" + secret).encode(), date), REGION), "s3"), "aws4_request")
    seed = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    body, prev = b"", seed
    for i, data in enumerate(list(chunks) + [b""]):
        csts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, hashlib.sha256(b"").hexdigest(),
                          hashlib.sha256(data).hexdigest()])
        prev = hmac.new(k, csts.encode(), hashlib.sha256).hexdigest()
        if tamper:
            data = tamper(i, data)
        body += b"%x;chunk-signature=%s\r\n" % (len(data), prev.encode()) + data
        body += b"\r\n" if data or not trailer else b""
    if trailer:
        line = "%s:%s\n" % trailer
        tsts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                          hashlib.sha256(line.encode()).hexdigest()])
        tsig = hmac.new(k, tsts.encode(), hashlib.sha256).hexdigest()
        value = trailer[1] if not tamper_trailer else "AAAAAA=="
        body += ("%s:%s\r\nx-amz-trailer-signature:%s\r\n\r\n" % (trailer[0], value, tsig)).encode()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        KEY, scope, ";".join(signed), seed)
    headers["content-length"] = str(len(body))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("PUT", "/%s/%s" % (bucket, key), body=body, headers=headers)
    r = c.getresponse()
    out = (r.status, r.read())
    c.close()
    return out


class SignedChunkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--verify-signatures", "--access-key-id", KEY, "--secret-access-key", SECRET).start()
        cls.s3 = cls.d.client("s3", key=KEY, secret=SECRET)
        cls.b = "chunk-" + uuid.uuid4().hex[:8]
        cls.s3.create_bucket(Bucket=cls.b)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_valid_chain_is_stored(self):
        chunks = [b"a" * 65536, b"b" * 1000]
        status, body = signed_chunk_put(self.d.port, self.b, "ok.bin", chunks)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key="ok.bin")["Body"].read(), b"".join(chunks))

    def test_tampered_chunk_is_refused(self):
        flip = lambda i, data: (b"X" + data[1:]) if i == 1 else data  # noqa: E731
        status, body = signed_chunk_put(self.d.port, self.b, "bad.bin", [b"a" * 100, b"b" * 100], tamper=flip)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket=self.b, Key="bad.bin")

    def test_signed_trailer(self):
        import base64
        import zlib
        data = b"trailer body"
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        status, body = signed_chunk_put(self.d.port, self.b, "t.bin", [data], trailer=("x-amz-checksum-crc32", crc))
        self.assertEqual(status, 200, body)
        g = self.s3.get_object(Bucket=self.b, Key="t.bin", ChecksumMode="ENABLED")
        self.assertEqual(g["Body"].read(), data)
        self.assertEqual(g["ChecksumCRC32"], crc)
        status, body = signed_chunk_put(self.d.port, self.b, "t2.bin", [data], trailer=("x-amz-checksum-crc32", crc),
                                        tamper_trailer=True)
        self.assertEqual(status, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)

    def test_wrong_secret_is_refused(self):
        status, body = signed_chunk_put(self.d.port, self.b, "w.bin", [b"x"], secret="nope")
        self.assertEqual(status, 403)


if __name__ == "__main__":
    unittest.main()

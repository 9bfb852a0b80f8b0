"""Behaviours that told stratus apart from S3 (issue 15): bucket deletion with unfinished
uploads, v1 listing pagination with delimiters, CreateBucket's us-east-1 answer, repeated
completions, UploadPartCopy ranges, and HTTP details (411, 304, InvalidURI, CORS headers on
errors, metadata and Content-Encoding kept as sent). boto3 where it can send the request,
http.client where an SDK would not."""
import base64
import http.client
import unittest
import urllib.parse
import uuid

from botocore.exceptions import ClientError

from daemon import Daemon


def crc64nvme(data):
    # CRC-64/NVME (reflected 0xAD93D23594C93659, init and xorout all ones).
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x9A6C9329AC4BC9B5 if crc & 1 else 0)
    return base64.b64encode((crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()


def name(p="f"):
    return p + "-" + uuid.uuid4().hex[:12]


class FidelityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")
        cls.host = urllib.parse.urlparse(cls.d.endpoint).netloc

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def raw(self, method, path, headers=None, body=None):
        c = http.client.HTTPConnection(self.host, timeout=10)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                c.putheader(k, v)
            c.endheaders(body)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def error(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def bucket(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        return b

    def test_delete_bucket_with_only_unfinished_uploads(self):
        b = self.bucket()
        up = self.s3.create_multipart_upload(Bucket=b, Key="big")["UploadId"]
        self.s3.upload_part(Bucket=b, Key="big", UploadId=up, PartNumber=1, Body=b"p" * 100)
        self.s3.delete_bucket(Bucket=b)  # S3 aborts the upload
        self.assertEqual(self.error(self.s3.head_bucket, Bucket=b), ("404", 404))
        # Created again, the bucket has no upload left over.
        self.s3.create_bucket(Bucket=b)
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=b))
        # Objects still keep a bucket.
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.s3.create_multipart_upload(Bucket=b, Key="big")
        self.assertEqual(self.error(self.s3.delete_bucket, Bucket=b), ("BucketNotEmpty", 409))

    def test_v1_delimiter_pages_never_repeat_a_prefix(self):
        b = self.bucket()
        for k in ["a/1", "a/2", "b/1", "c", "d/1", "d/2"]:
            self.s3.put_object(Bucket=b, Key=k, Body=b"")
        pages = list(self.s3.get_paginator("list_objects").paginate(
            Bucket=b, Delimiter="/", PaginationConfig={"PageSize": 1}))
        seen = [p["Prefix"] for pg in pages for p in pg.get("CommonPrefixes", [])]
        seen += [o["Key"] for pg in pages for o in pg.get("Contents", [])]
        self.assertEqual(sorted(seen), ["a/", "b/", "c", "d/"])
        r = self.s3.list_objects(Bucket=b, Delimiter="/", Marker="a/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/", "d/"])

    def test_v1_echoes_prefix_and_v2_takes_an_empty_token(self):
        b = self.bucket()
        self.s3.put_object(Bucket=b, Key="a b/c", Body=b"")
        # botocore decodes v1's keys, markers and delimiter, not its Prefix: S3 sends it as is.
        status, _, body = self.raw("GET", "/%s?prefix=a%%20b/&encoding-type=url" % b)
        self.assertEqual(status, 200)
        self.assertIn(b"<Prefix>a b/</Prefix>", body)
        self.assertIn(b"<Key>a+b/c</Key>", body)
        r = self.s3.list_objects_v2(Bucket=b, ContinuationToken="")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a b/c"])

    def test_complete_twice_answers_the_same(self):
        b = self.bucket()
        up = self.s3.create_multipart_upload(Bucket=b, Key="m")["UploadId"]
        etag = self.s3.upload_part(Bucket=b, Key="m", UploadId=up, PartNumber=1, Body=b"z" * 10)["ETag"]
        parts = {"Parts": [{"ETag": etag, "PartNumber": 1}]}
        first = self.s3.complete_multipart_upload(Bucket=b, Key="m", UploadId=up, MultipartUpload=parts)
        again = self.s3.complete_multipart_upload(Bucket=b, Key="m", UploadId=up, MultipartUpload=parts)
        self.assertEqual(again["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual((again["ETag"], again["Key"], again["Bucket"]), (first["ETag"], "m", b))
        # Another key with that upload id is still no upload.
        self.assertEqual(self.error(self.s3.complete_multipart_upload, Bucket=b, Key="other", UploadId=up,
                                    MultipartUpload=parts), ("NoSuchUpload", 404))

    def test_upload_part_copy_range_past_the_end(self):
        b = self.bucket()
        self.s3.put_object(Bucket=b, Key="src", Body=b"0123456789")
        up = self.s3.create_multipart_upload(Bucket=b, Key="dst")["UploadId"]
        kw = dict(Bucket=b, Key="dst", UploadId=up, PartNumber=1, CopySource={"Bucket": b, "Key": "src"})
        self.assertEqual(self.error(self.s3.upload_part_copy, CopySourceRange="bytes=5-10", **kw),
                         ("InvalidArgument", 400))
        self.assertEqual(self.error(self.s3.upload_part_copy, CopySourceRange="bytes=10-12", **kw),
                         ("InvalidArgument", 400))
        r = self.s3.upload_part_copy(CopySourceRange="bytes=5-9", **kw)
        self.assertIn("ETag", r["CopyPartResult"])

    def test_put_without_length_is_411(self):
        b = self.bucket()
        status, _, body = self.raw("PUT", "/%s/k" % b)
        self.assertEqual(status, 411)
        self.assertIn(b"<Code>MissingContentLength</Code>", body)
        # Chunked framing carries its own length.
        status, _, _ = self.raw("PUT", "/%s/k" % b, {"Transfer-Encoding": "chunked"}, b"3\r\nabc\r\n0\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["Body"].read(), b"abc")

    def test_not_modified_has_no_content_length(self):
        b = self.bucket()
        etag = self.s3.put_object(Bucket=b, Key="k", Body=b"hello")["ETag"]
        status, headers, body = self.raw("GET", "/%s/k" % b, {"If-None-Match": etag})
        self.assertEqual((status, body), (304, b""))
        self.assertNotIn("content-length", headers)
        self.assertEqual(headers["etag"], etag)

    def test_unparseable_key_is_400(self):
        b = self.bucket()
        for path in ["/%s/bad%%zz" % b, "/%s/bad%%FF" % b, "/%s/trail%%4" % b]:
            status, _, body = self.raw("GET", path)
            self.assertEqual(status, 400, path)
            self.assertIn(b"<Code>InvalidURI</Code>", body)

    def test_cors_headers_on_errors(self):
        b = self.bucket()
        self.s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["http://app.test"], "AllowedMethods": ["GET", "PUT"]}]})
        status, headers, _ = self.raw("GET", "/%s/missing" % b, {"Origin": "http://app.test"})
        self.assertEqual(status, 404)
        self.assertEqual(headers.get("access-control-allow-origin"), "http://app.test")
        status, headers, _ = self.raw("PUT", "/%s/k" % b, {"Origin": "http://app.test", "Content-MD5": "bad", "Content-Length": "1"},
                                      b"x")
        self.assertEqual(status, 400)
        self.assertEqual(headers.get("access-control-allow-origin"), "http://app.test")
        status, headers, _ = self.raw("GET", "/%s/missing" % b, {"Origin": "http://other.test"})
        self.assertNotIn("access-control-allow-origin", headers)

    def test_metadata_and_content_encoding_as_sent(self):
        b = self.bucket()
        # Non-ASCII bytes come back as one RFC 2047 encoded word (UTF-8, base64), as S3
        # answers them; an encoded word sent comes back byte for byte.
        status, _, _ = self.raw("PUT", "/%s/k" % b, {
            "Content-Length": "1", "x-amz-meta-city": "Zürich".encode(),
            "x-amz-meta-word": "=?UTF-8?B?w6k=?=", "Content-Encoding": "GZIP, br"}, b"x")
        self.assertEqual(status, 200)
        h = self.s3.head_object(Bucket=b, Key="k")
        self.assertEqual(h["Metadata"], {"city": "=?UTF-8?B?WsO8cmljaA==?=", "word": "=?UTF-8?B?w6k=?="})
        self.assertEqual(h["ContentEncoding"], "GZIP, br")
        self.s3.put_object(Bucket=b, Key="g", Body=b"x", ContentEncoding="gzip")
        self.assertEqual(self.s3.head_object(Bucket=b, Key="g")["ContentEncoding"], "gzip")

    def test_default_crc64nvme_checksum(self):
        self.assertEqual(crc64nvme(b"123456789"), base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode())
        b = self.bucket()
        data = bytes(range(256)) * 68  # over 16 KB: a file, not an inline body
        for key, body in [("plain", data), ("small", b"tiny"), ("empty", b"")]:
            status, headers, _ = self.raw("PUT", "/%s/%s" % (b, key), {"Content-Length": str(len(body))}, body)
            self.assertEqual(status, 200)
            want = crc64nvme(body)
            self.assertEqual(headers.get("x-amz-checksum-crc64nvme"), want)
            r = self.s3.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
            self.assertEqual((r["ChecksumCRC64NVME"], r["ChecksumType"]), (want, "FULL_OBJECT"))
            self.assertEqual(r["Body"].read(), body)
        # A checksum the client chose is kept instead.
        r = self.s3.put_object(Bucket=b, Key="sha", Body=b"x", ChecksumAlgorithm="SHA256")
        h = self.s3.head_object(Bucket=b, Key="sha", ChecksumMode="ENABLED")
        self.assertIn("ChecksumSHA256", h)
        self.assertNotIn("ChecksumCRC64NVME", h)

    def test_default_checksum_of_multipart_and_copy(self):
        # S3 User Guide, "Checking object integrity" (2025): an upload created without a
        # checksum algorithm gets a full-object CRC64NVME; ChecksumType FULL_OBJECT with a
        # CRC algorithm gets that CRC of the whole object. CopyObject keeps the source's
        # checksum, computes the algorithm asked for, and adds CRC64NVME to a copy of an
        # object that has none.
        b = self.bucket()
        part1, part2 = bytes(range(256)) * 20480, b"tail"  # 5 MiB + 4 bytes
        uid = self.s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
        e1 = self.s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
        e2 = self.s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=2, Body=part2)["ETag"]
        r = self.s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
        want = crc64nvme(part1 + part2)
        self.assertEqual((r["ChecksumCRC64NVME"], r["ChecksumType"]), (want, "FULL_OBJECT"))
        h = self.s3.head_object(Bucket=b, Key="mp", ChecksumMode="ENABLED")
        self.assertEqual((h["ChecksumCRC64NVME"], h["ChecksumType"]), (want, "FULL_OBJECT"))
        self.assertTrue(h["ETag"].endswith('-2"'))

        uid = self.s3.create_multipart_upload(Bucket=b, Key="full", ChecksumAlgorithm="CRC32",
                                              ChecksumType="FULL_OBJECT")["UploadId"]
        p = self.s3.upload_part(Bucket=b, Key="full", UploadId=uid, PartNumber=1, Body=b"abc",
                                ChecksumAlgorithm="CRC32")
        r = self.s3.complete_multipart_upload(Bucket=b, Key="full", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]}]})
        self.assertEqual((r["ChecksumCRC32"], r["ChecksumType"]), (p["ChecksumCRC32"], "FULL_OBJECT"))

        c = self.s3.copy_object(Bucket=b, Key="mp-copy", CopySource={"Bucket": b, "Key": "mp"})["CopyObjectResult"]
        self.assertEqual((c["ChecksumCRC64NVME"], c["ChecksumType"]), (want, "FULL_OBJECT"))
        c = self.s3.copy_object(Bucket=b, Key="sha-copy", CopySource={"Bucket": b, "Key": "mp"},
                                ChecksumAlgorithm="SHA256")["CopyObjectResult"]
        import hashlib
        self.assertEqual(c["ChecksumSHA256"], base64.b64encode(hashlib.sha256(part1 + part2).digest()).decode())
        self.s3.put_object(Bucket=b, Key="small", Body=b"small", ChecksumAlgorithm="SHA1")
        c = self.s3.copy_object(Bucket=b, Key="small-copy", CopySource={"Bucket": b, "Key": "small"})["CopyObjectResult"]
        self.assertEqual(c["ChecksumSHA1"], base64.b64encode(hashlib.sha1(b"small").digest()).decode())
        status, _, body = self.raw("PUT", "/%s/bad-copy" % b, {"x-amz-copy-source": "/%s/small" % b,
                                                               "x-amz-checksum-algorithm": "MD5", "Content-Length": "0"}, b"")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>InvalidRequest</Code>", body)

    def test_same_part_uploaded_twice_concurrently(self):
        # Issue 15: two uploads of one part number at once: the last one recorded wins,
        # and the loser's file is not left behind.
        import threading
        b = self.bucket()
        uid = self.s3.create_multipart_upload(Bucket=b, Key="race")["UploadId"]
        files_before = self.files()
        bodies = [bytes([65 + i]) * (1024 * 1024 + i) for i in range(4)]
        etags = [None] * len(bodies)

        def put(i):
            etags[i] = self.s3.upload_part(Bucket=b, Key="race", UploadId=uid, PartNumber=1, Body=bodies[i])["ETag"]

        threads = [threading.Thread(target=put, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        parts = self.s3.list_parts(Bucket=b, Key="race", UploadId=uid)["Parts"]
        self.assertEqual(len(parts), 1)
        self.assertEqual(self.files(), files_before + 1)  # the losers' part files are gone
        winner = etags.index(parts[0]["ETag"])
        self.assertEqual(parts[0]["Size"], len(bodies[winner]))
        # Completing with a loser's ETag fails; with the winner's, the object is its body.
        for i, e in enumerate(etags):
            if i != winner:
                with self.assertRaises(ClientError) as cm:
                    self.s3.complete_multipart_upload(Bucket=b, Key="race", UploadId=uid, MultipartUpload={
                        "Parts": [{"PartNumber": 1, "ETag": e}]})
                self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidPart")
        self.s3.complete_multipart_upload(Bucket=b, Key="race", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": etags[winner]}]})
        self.assertEqual(self.s3.get_object(Bucket=b, Key="race")["Body"].read(), bodies[winner])
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=b).get("Uploads", []), [])

    def files(self):
        import json
        import time
        # Files are unlinked right after the commit that drops them: wait for a settled count.
        last = None
        for _ in range(50):
            c = json.loads(self.raw("GET", "/_stratus/test/s3/bodies")[2])["files"]
            if c == last:
                return c
            last = c
            time.sleep(0.05)
        return last


if __name__ == "__main__":
    unittest.main()

"""Multipart uploads with boto3: every call of the API, the ETag AWS computes, and the
errors for bad completions."""
import hashlib
import os
import unittest
import uuid

from botocore.exceptions import ClientError

from daemon import Daemon

MB = 1024 * 1024


class MultipartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")
        cls.b = "mp-" + uuid.uuid4().hex[:10]
        cls.s3.create_bucket(Bucket=cls.b)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def err(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def test_full_upload(self):
        k = "mp/" + uuid.uuid4().hex
        up = self.s3.create_multipart_upload(Bucket=self.b, Key=k, ContentType="video/mp4", Metadata={"m": "1"})
        uid = up["UploadId"]
        parts = [os.urandom(5 * MB), os.urandom(5 * MB), b"tail"]
        etags = []
        for i, data in enumerate(parts, 1):
            etags.append(self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=i, Body=data)["ETag"])
        listed = self.s3.list_parts(Bucket=self.b, Key=k, UploadId=uid)
        self.assertEqual([p["PartNumber"] for p in listed["Parts"]], [1, 2, 3])
        self.assertEqual([p["Size"] for p in listed["Parts"]], [5 * MB, 5 * MB, 4])
        page = self.s3.list_parts(Bucket=self.b, Key=k, UploadId=uid, MaxParts=2)
        self.assertTrue(page["IsTruncated"])
        self.assertEqual(page["NextPartNumberMarker"], 2)
        uploads = self.s3.list_multipart_uploads(Bucket=self.b)["Uploads"]
        self.assertIn(uid, [u["UploadId"] for u in uploads])
        r = self.s3.complete_multipart_upload(Bucket=self.b, Key=k, UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})
        md5s = b"".join(hashlib.md5(p).digest() for p in parts)
        self.assertEqual(r["ETag"], '"%s-3"' % hashlib.md5(md5s).hexdigest())
        g = self.s3.get_object(Bucket=self.b, Key=k)
        self.assertEqual(g["Body"].read(), b"".join(parts))
        self.assertEqual((g["ContentType"], g["Metadata"]), ("video/mp4", {"m": "1"}))
        p2 = self.s3.get_object(Bucket=self.b, Key=k, PartNumber=2)
        self.assertEqual(p2["Body"].read(), parts[1])
        self.assertEqual(p2["PartsCount"], 3)
        self.assertEqual(self.err(self.s3.list_parts, Bucket=self.b, Key=k, UploadId=uid), ("NoSuchUpload", 404))

    def test_errors(self):
        k = "err/" + uuid.uuid4().hex
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=k)["UploadId"]
        e1 = self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
        e2 = self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=2, Body=b"small too")["ETag"]
        complete = lambda parts: self.s3.complete_multipart_upload(Bucket=self.b, Key=k, UploadId=uid,
                                                                   MultipartUpload={"Parts": parts})
        self.assertEqual(self.err(complete, parts=[{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]),
                         ("EntityTooSmall", 400))
        self.assertEqual(self.err(complete, parts=[{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]),
                         ("InvalidPartOrder", 400))
        self.assertEqual(self.err(complete, parts=[{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]), ("InvalidPart", 400))
        self.assertEqual(self.err(complete, parts=[{"PartNumber": 7, "ETag": e1}]), ("InvalidPart", 400))
        self.assertEqual(self.err(self.s3.upload_part, Bucket=self.b, Key=k, UploadId=uid, PartNumber=10001, Body=b"x"),
                         ("InvalidArgument", 400))
        self.assertEqual(self.err(self.s3.upload_part, Bucket=self.b, Key=k, UploadId="nope", PartNumber=1, Body=b"x"),
                         ("NoSuchUpload", 404))
        # A single small part is a fine upload (the last part may be small).
        r = complete([{"PartNumber": 2, "ETag": e2}])
        self.assertTrue(r["ETag"].endswith('-1"'))
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key=k)["Body"].read(), b"small too")

    def test_abort_frees_parts(self):
        k = "abort/" + uuid.uuid4().hex
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=k)["UploadId"]
        self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=1, Body=b"p" * 1000)
        objects = os.path.join(self.d.data_dir, "s3", "objects")
        count = lambda: sum(len(f) for _, _, f in os.walk(objects))
        before = count()
        self.s3.abort_multipart_upload(Bucket=self.b, Key=k, UploadId=uid)
        self.assertEqual(count(), before - 1)
        self.assertEqual(self.err(self.s3.abort_multipart_upload, Bucket=self.b, Key=k, UploadId=uid),
                         ("NoSuchUpload", 404))

    def test_upload_part_copy(self):
        src = "copysrc/" + uuid.uuid4().hex
        data = os.urandom(6 * MB)
        self.s3.put_object(Bucket=self.b, Key=src, Body=data)
        k = "copydst/" + uuid.uuid4().hex
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=k)["UploadId"]
        c1 = self.s3.upload_part_copy(Bucket=self.b, Key=k, UploadId=uid, PartNumber=1,
                                      CopySource={"Bucket": self.b, "Key": src}, CopySourceRange="bytes=0-5242879")
        self.assertEqual(c1["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(data[:5 * MB]).hexdigest())
        c2 = self.s3.upload_part_copy(Bucket=self.b, Key=k, UploadId=uid, PartNumber=2,
                                      CopySource={"Bucket": self.b, "Key": src}, CopySourceRange="bytes=5242880-6291455")
        self.s3.complete_multipart_upload(Bucket=self.b, Key=k, UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": c1["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": c2["CopyPartResult"]["ETag"]}]})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key=k)["Body"].read(), data)

    def test_upload_part_copy_from_a_small_object(self):
        # A source of 16 KiB or less is stored inline in LMDB, not as a file.
        src = "copysrc/" + uuid.uuid4().hex
        small = os.urandom(3000)
        self.s3.put_object(Bucket=self.b, Key=src, Body=small)
        k = "copydst/" + uuid.uuid4().hex
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=k)["UploadId"]
        p1 = self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=1, Body=b"a" * (5 * MB))
        c2 = self.s3.upload_part_copy(Bucket=self.b, Key=k, UploadId=uid, PartNumber=2,
                                      CopySource={"Bucket": self.b, "Key": src}, CopySourceRange="bytes=100-1099")
        self.assertEqual(c2["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(small[100:1100]).hexdigest())
        c3 = self.s3.upload_part_copy(Bucket=self.b, Key=k, UploadId=uid, PartNumber=3,
                                      CopySource={"Bucket": self.b, "Key": src})
        # Part 2 (1000 bytes, not last) would be EntityTooSmall: completed without it.
        self.s3.complete_multipart_upload(Bucket=self.b, Key=k, UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 3, "ETag": c3["CopyPartResult"]["ETag"]}]})
        self.assertEqual(self.s3.get_object(Bucket=self.b, Key=k)["Body"].read(), b"a" * (5 * MB) + small)

    def test_checksum_upload(self):
        k = "ck/" + uuid.uuid4().hex
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=k, ChecksumAlgorithm="SHA256")["UploadId"]
        p1 = self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=1, Body=b"a" * (5 * MB),
                                 ChecksumAlgorithm="SHA256")
        p2 = self.s3.upload_part(Bucket=self.b, Key=k, UploadId=uid, PartNumber=2, Body=b"b", ChecksumAlgorithm="SHA256")
        r = self.s3.complete_multipart_upload(Bucket=self.b, Key=k, UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": p1["ETag"], "ChecksumSHA256": p1["ChecksumSHA256"]},
            {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumSHA256": p2["ChecksumSHA256"]}]})
        import base64
        want = base64.b64encode(hashlib.sha256(hashlib.sha256(b"a" * (5 * MB)).digest() +
                                               hashlib.sha256(b"b").digest()).digest()).decode() + "-2"
        self.assertEqual(r["ChecksumSHA256"], want)


if __name__ == "__main__":
    unittest.main()

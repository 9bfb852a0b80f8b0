"""Versioning: Enabled and Suspended buckets, version ids, delete markers, calls by
versionId and ListObjectVersions, as boto3 sees them."""
import unittest
import uuid

from botocore.exceptions import ClientError

from daemon import Daemon


class VersioningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def bucket(self, status="Enabled"):
        b = "ver-" + uuid.uuid4().hex[:10]
        self.s3.create_bucket(Bucket=b)
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": status})
        return b

    def err(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response

    def test_versions_and_delete_markers(self):
        b = self.bucket()
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
        self.assertNotEqual(v1, v2)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["Body"].read(), b"two")
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read(), b"one")
        self.assertEqual(self.s3.head_object(Bucket=b, Key="k", VersionId=v1)["ContentLength"], 3)
        d = self.s3.delete_object(Bucket=b, Key="k")
        self.assertTrue(d["DeleteMarker"])
        marker = d["VersionId"]
        r = self.err(self.s3.get_object, Bucket=b, Key="k")
        self.assertEqual(r["Error"]["Code"], "NoSuchKey")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"], "true")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"], marker)
        r = self.err(self.s3.head_object, Bucket=b, Key="k")
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"], "true")
        r = self.err(self.s3.get_object, Bucket=b, Key="k", VersionId=marker)
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 405)
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"], "true")
        lv = self.s3.list_object_versions(Bucket=b)
        self.assertEqual([(v["VersionId"], v["IsLatest"]) for v in lv["Versions"]], [(v2, False), (v1, False)])
        self.assertEqual([(m["VersionId"], m["IsLatest"]) for m in lv["DeleteMarkers"]], [(marker, True)])
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=b))
        # Removing the marker brings the object back.
        r = self.s3.delete_object(Bucket=b, Key="k", VersionId=marker)
        self.assertTrue(r["DeleteMarker"])
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["Body"].read(), b"two")
        self.s3.delete_object(Bucket=b, Key="k", VersionId=v2)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["Body"].read(), b"one")
        self.assertEqual(self.err(self.s3.get_object, Bucket=b, Key="k", VersionId="A" * 32)["Error"]["Code"],
                         "NoSuchVersion")
        # A bucket with versions left is not empty.
        self.assertEqual(self.err(self.s3.delete_bucket, Bucket=b)["Error"]["Code"], "BucketNotEmpty")

    def test_suspended_uses_null_version(self):
        b = self.bucket()
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
        self.s3.put_object(Bucket=b, Key="k", Body=b"two")
        self.s3.put_object(Bucket=b, Key="k", Body=b"three")
        vs = self.s3.list_object_versions(Bucket=b)["Versions"]
        self.assertEqual([v["VersionId"] for v in vs], ["null", v1])
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read(), b"three")

    def test_paging_versions(self):
        b = self.bucket()
        ids = [self.s3.put_object(Bucket=b, Key="k%d" % (i % 3), Body=b"x")["VersionId"] for i in range(10)]
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 3})
        got = [v["VersionId"] for p in pages for v in p.get("Versions", [])]
        self.assertEqual(sorted(got), sorted(ids))
        self.assertEqual(len(got), 10)

    def test_delete_objects_with_versions(self):
        b = self.bucket()
        v1 = self.s3.put_object(Bucket=b, Key="a", Body=b"x")["VersionId"]
        r = self.s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"}]})
        by_key = {d["Key"]: d for d in r["Deleted"]}
        self.assertEqual(by_key["a"]["VersionId"], v1)
        self.assertTrue(by_key["b"]["DeleteMarker"])
        # Emptying a versioned bucket the way tools do it: list versions, delete them all.
        lv = self.s3.list_object_versions(Bucket=b)
        objs = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in lv.get("Versions", []) + lv.get("DeleteMarkers", [])]
        self.s3.delete_objects(Bucket=b, Delete={"Objects": objs})
        self.s3.delete_bucket(Bucket=b)


if __name__ == "__main__":
    unittest.main()

"""ListObjectsV2, ListObjects (v1) and ListObjectVersions: prefixes, delimiters, paging
through thousands of keys, URL encoding and UTF-8 byte order."""
import unittest
import uuid

from botocore.exceptions import ClientError

from daemon import Daemon


class ListingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")
        cls.b = "list-" + uuid.uuid4().hex[:10]
        cls.s3.create_bucket(Bucket=cls.b)
        cls.keys = ["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/d.jpg", "readme.txt",
                    "z/ü.txt", "z/é.txt", "z/e.txt", "with space.txt", "plus+sign"]
        for k in cls.keys:
            cls.s3.put_object(Bucket=cls.b, Key=k, Body=b"x")
        cls.big = "many-" + uuid.uuid4().hex[:8]
        cls.s3.create_bucket(Bucket=cls.big)
        # Thousands of keys, stored through the raw API quickly (no checksum trailer).
        import concurrent.futures
        import urllib.request
        def put(i):
            urllib.request.urlopen(urllib.request.Request(
                "%s/%s/k%05d" % (cls.d.endpoint, cls.big, i), data=b"v", method="PUT")).read()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(put, range(2500)))

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_order_is_utf8_bytes(self):
        got = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.b)["Contents"]]
        self.assertEqual(got, sorted(self.keys, key=lambda k: k.encode()))

    def test_delimiter_and_prefix(self):
        r = self.s3.list_objects_v2(Bucket=self.b, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["photos/", "z/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["plus+sign", "readme.txt", "with space.txt"])
        self.assertEqual(r["KeyCount"], 5)
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="photos/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["photos/2024/", "photos/2025/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["photos/d.jpg"])
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="nothing/")
        self.assertEqual(r["KeyCount"], 0)
        self.assertNotIn("Contents", r)

    def test_paging_with_prefixes(self):
        seen = []
        token = None
        while True:
            kw = {"Bucket": self.b, "Delimiter": "/", "MaxKeys": 2}
            if token:
                kw["ContinuationToken"] = token
            r = self.s3.list_objects_v2(**kw)
            seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])] + [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(sorted(seen), sorted(["photos/", "z/", "plus+sign", "readme.txt", "with space.txt"]))

    def test_start_after_and_fetch_owner(self):
        r = self.s3.list_objects_v2(Bucket=self.b, StartAfter="readme.txt", FetchOwner=True)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["with space.txt", "z/e.txt", "z/é.txt", "z/ü.txt"])
        self.assertIn("Owner", r["Contents"][0])
        self.assertNotIn("Owner", self.s3.list_objects_v2(Bucket=self.b)["Contents"][0])

    def test_encoding_type_url(self):
        # Asked for explicitly, botocore hands the encoded keys through.
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="with", EncodingType="url")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["with+space.txt"])
        r = self.s3.list_objects_v2(Bucket=self.b, Prefix="plus", EncodingType="url")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["plus%2Bsign"])
        import urllib.request
        raw = urllib.request.urlopen("%s/%s?list-type=2&prefix=z/&encoding-type=url" % (self.d.endpoint, self.b)).read()
        self.assertIn(b"<Key>z/%C3%A9.txt</Key>", raw)

    def test_thousands_page_correctly(self):
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.big)
        keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
        self.assertEqual(keys, ["k%05d" % i for i in range(2500)])
        r = self.s3.list_objects_v2(Bucket=self.big)
        self.assertEqual((r["KeyCount"], r["IsTruncated"]), (1000, True))
        v1 = self.s3.get_paginator("list_objects").paginate(Bucket=self.big)
        self.assertEqual([o["Key"] for p in v1 for o in p.get("Contents", [])], keys)

    def test_v1_markers(self):
        r = self.s3.list_objects(Bucket=self.b, Marker="photos/d.jpg", MaxKeys=2)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["plus+sign", "readme.txt"])
        self.assertTrue(r["IsTruncated"])
        r = self.s3.list_objects(Bucket=self.b, Delimiter="/", MaxKeys=1)
        self.assertEqual(r["NextMarker"], "photos/")
        r = self.s3.list_objects(Bucket=self.b, Delimiter="/", Marker="photos/")
        self.assertEqual([o["Key"] for o in r["Contents"]][0], "plus+sign")

    def test_versions_on_unversioned_bucket(self):
        r = self.s3.list_object_versions(Bucket=self.b, Prefix="photos/")
        self.assertEqual([(v["Key"], v["VersionId"], v["IsLatest"]) for v in r["Versions"]],
                         [("photos/2024/a.jpg", "null", True), ("photos/2024/b.jpg", "null", True),
                          ("photos/2025/c.jpg", "null", True), ("photos/d.jpg", "null", True)])
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.big, PaginationConfig={"PageSize": 700})
        self.assertEqual(len([v for p in pages for v in p.get("Versions", [])]), 2500)

    def test_bad_arguments(self):
        with self.assertRaises(ClientError) as cm:
            self.s3.list_objects_v2(Bucket=self.b, ContinuationToken="garbage!")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidArgument")
        with self.assertRaises(ClientError) as cm:
            self.s3.list_objects_v2(Bucket="missing-bucket-zz")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchBucket")


if __name__ == "__main__":
    unittest.main()

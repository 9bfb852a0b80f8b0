"""Bucket calls through boto3: create / head / list / location / delete and their errors,
and the stored configurations apps and tools set."""
import json
import unittest
import uuid

from botocore.exceptions import ClientError

from daemon import Daemon


def name():
    return "b-" + uuid.uuid4().hex[:12]


class BucketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.s3 = cls.d.client("s3")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def code(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def test_create_list_head_delete(self):
        b = name()
        r = self.s3.create_bucket(Bucket=b)
        self.assertEqual(r["Location"], "/" + b)
        self.assertIn(b, [x["Name"] for x in self.s3.list_buckets()["Buckets"]])
        h = self.s3.head_bucket(Bucket=b)
        self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "us-east-1")
        self.assertIsNone(self.s3.get_bucket_location(Bucket=b)["LocationConstraint"])
        self.s3.delete_bucket(Bucket=b)
        self.assertEqual(self.code(self.s3.head_bucket, Bucket=b), ("404", 404))
        self.assertEqual(self.code(self.s3.delete_bucket, Bucket=b), ("NoSuchBucket", 404))

    def test_location_constraint(self):
        b = name()
        self.s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(self.s3.get_bucket_location(Bucket=b)["LocationConstraint"], "eu-west-1")

    def test_already_owned(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        # us-east-1: S3's legacy 200 (the bucket unchanged); elsewhere 409.
        self.assertEqual(self.s3.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"], 200)
        e = name()
        cfg = {"LocationConstraint": "eu-west-1"}
        self.s3.create_bucket(Bucket=e, CreateBucketConfiguration=cfg)
        self.assertEqual(self.code(self.s3.create_bucket, Bucket=e, CreateBucketConfiguration=cfg),
                         ("BucketAlreadyOwnedByYou", 409))

    def test_invalid_names(self):
        for bad in ["ab", "A-upper", "has_underscore", "-dash", "dash-", "a..b", "192.168.1.1", "x" * 64, "xn--abc"]:
            with self.subTest(bad=bad):
                # botocore validates some names client-side; send those through the raw path.
                try:
                    self.s3.create_bucket(Bucket=bad)
                    self.fail("created " + bad)
                except ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "InvalidBucketName")
                except Exception:
                    pass  # botocore's own ParamValidationError

    def test_not_empty(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.assertEqual(self.code(self.s3.delete_bucket, Bucket=b), ("BucketNotEmpty", 409))
        self.s3.delete_object(Bucket=b, Key="k")
        self.s3.delete_bucket(Bucket=b)

    def test_configurations_stored(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        self.assertEqual(self.code(self.s3.get_bucket_policy, Bucket=b), ("NoSuchBucketPolicy", 404))
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b}]})
        self.s3.put_bucket_policy(Bucket=b, Policy=policy)
        self.assertEqual(json.loads(self.s3.get_bucket_policy(Bucket=b)["Policy"]), json.loads(policy))
        self.assertEqual(self.code(self.s3.put_bucket_policy, Bucket=b, Policy="nope"), ("MalformedPolicy", 400))
        self.s3.delete_bucket_policy(Bucket=b)

        self.assertEqual(self.code(self.s3.get_bucket_cors, Bucket=b), ("NoSuchCORSConfiguration", 404))
        cors = {"CORSRules": [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["http://localhost:5173"],
                               "AllowedHeaders": ["*"], "MaxAgeSeconds": 300}]}
        self.s3.put_bucket_cors(Bucket=b, CORSConfiguration=cors)
        self.assertEqual(self.s3.get_bucket_cors(Bucket=b)["CORSRules"], cors["CORSRules"])
        self.s3.delete_bucket_cors(Bucket=b)
        self.assertEqual(self.code(self.s3.get_bucket_cors, Bucket=b), ("NoSuchCORSConfiguration", 404))

        self.assertEqual(self.code(self.s3.get_bucket_website, Bucket=b), ("NoSuchWebsiteConfiguration", 404))
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
        w = self.s3.get_bucket_website(Bucket=b)
        self.assertEqual(w["IndexDocument"], {"Suffix": "index.html"})
        self.assertEqual(w["ErrorDocument"], {"Key": "error.html"})

        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b).get("Status"), None)
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b)["Status"], "Enabled")

        self.assertEqual(self.code(self.s3.get_bucket_lifecycle_configuration, Bucket=b),
                         ("NoSuchLifecycleConfiguration", 404))
        self.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})
        self.assertEqual(self.s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"][0]["ID"], "expire")

        self.assertEqual(self.s3.get_bucket_notification_configuration(Bucket=b).get("LambdaFunctionConfigurations"), None)
        arn = "arn:aws:lambda:us-east-1:000000000000:function:f"
        self.s3.put_bucket_notification_configuration(Bucket=b, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"Id": "n1", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        n = self.s3.get_bucket_notification_configuration(Bucket=b)["LambdaFunctionConfigurations"][0]
        self.assertEqual((n["Id"], n["LambdaFunctionArn"], n["Events"]), ("n1", arn, ["s3:ObjectCreated:*"]))

        acl = self.s3.get_bucket_acl(Bucket=b)
        self.assertEqual(acl["Grants"][0]["Permission"], "FULL_CONTROL")
        self.s3.put_bucket_acl(Bucket=b, ACL="public-read")

        self.assertEqual(self.code(self.s3.get_bucket_tagging, Bucket=b), ("NoSuchTagSet", 404))
        self.s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
        self.assertEqual(self.s3.get_bucket_tagging(Bucket=b)["TagSet"], [{"Key": "env", "Value": "dev"}])
        self.s3.delete_bucket_tagging(Bucket=b)
        self.assertEqual(self.code(self.s3.get_bucket_tagging, Bucket=b), ("NoSuchTagSet", 404))

        enc = self.s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]
        self.assertEqual(enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")

    def test_reset_wipes_buckets_objects_and_files(self):
        # Its own daemon: reset wipes everything the other tests made too.
        import http.client
        import json
        import os
        import urllib.request
        d = Daemon().start()
        try:
            s3 = d.client("s3")
            b = name()
            s3.create_bucket(Bucket=b)
            s3.put_object(Bucket=b, Key="k", Body=b"x" * 100)  # inline in LMDB
            s3.put_object(Bucket=b, Key="f", Body=b"y" * 20000)  # a file
            s3.create_multipart_upload(Bucket=b, Key="m")
            # Files in most of the 256 object directories (made as first used), so that
            # uploads after the reset land in directories the reset removed.
            conn = http.client.HTTPConnection("127.0.0.1", d.port)
            for i in range(400):
                conn.request("PUT", "/%s/spread%d" % (b, i), body=b"s" * 20000)
                self.assertEqual(conn.getresponse().read(), b"")
            conn.close()

            def bodies():
                with urllib.request.urlopen(d.endpoint + "/_stratus/test/s3/bodies") as r:
                    c = json.loads(r.read())
                return c["files"], c["inline"]
            self.assertEqual(bodies(), (401, 1))
            urllib.request.urlopen(urllib.request.Request(d.endpoint + "/_stratus/reset", method="POST")).read()
            self.assertEqual(s3.list_buckets()["Buckets"], [])
            objects = os.path.join(d.data_dir, "s3", "objects")
            self.assertEqual([f for _, _, fs in os.walk(objects) for f in fs], [])
            self.assertEqual(bodies(), (0, 0))
            s3.create_bucket(Bucket=b)  # the name is free again
            self.assertEqual(s3.list_objects_v2(Bucket=b)["KeyCount"], 0)
            # Uploads work after the wipe (the object directories are made again as used).
            for i in range(20):
                s3.put_object(Bucket=b, Key="after%d" % i, Body=b"z" * 20000)
            self.assertEqual(s3.get_object(Bucket=b, Key="after19")["Body"].read(), b"z" * 20000)
            self.assertEqual(bodies(), (20, 0))
        finally:
            d.stop()

    def test_config_on_missing_bucket(self):
        self.assertEqual(self.code(self.s3.get_bucket_cors, Bucket=name()), ("NoSuchBucket", 404))

    def test_malformed_xml(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        import urllib.request
        req = urllib.request.Request("%s/%s?versioning" % (self.d.endpoint, b), data=b"<nope", method="PUT")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req)
        self.assertEqual(cm.exception.code, 400)
        self.assertIn(b"<Code>MalformedXML</Code>", cm.exception.read())


if __name__ == "__main__":
    unittest.main()

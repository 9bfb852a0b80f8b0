"""Access control for unsigned requests under --verify-signatures (issue 15): canned ACLs,
bucket policies, Object Ownership and Block Public Access, decided as S3 decides; and the
X-Amz-Expires answers of presigned URLs.

AWS's defaults for buckets created since April 2023 are Block Public Access on (all four
settings) and Object Ownership BucketOwnerEnforced (ACLs disabled): a new bucket refuses
public ACLs (AccessControlListNotSupported) and public policies (AccessDenied). stratus
gives a client's new bucket the same defaults under --verify-signatures; the tests that use
ACLs and public policies first turn them off as one must on AWS (DeletePublicAccessBlock,
PutBucketOwnershipControls ObjectWriter). Without --verify-signatures nothing is checked
and new buckets get no defaults (test_no_verification_no_defaults)."""
import datetime
import json
import re
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import botocore
import botocore.exceptions

from daemon import Daemon

KEY, SECRET = "AKIDACCESS", "access-secret"


def name():
    return "acc-" + uuid.uuid4().hex[:12]


def fetch(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class AccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--verify-signatures", "--access-key-id", KEY, "--secret-access-key", SECRET).start()
        cls.s3 = cls.d.client("s3", key=KEY, secret=SECRET)
        cls.anon = cls.d.client("s3", signature_version=botocore.UNSIGNED)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def code(self, fn, *a, **kw):
        try:
            fn(*a, **kw)
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        return None

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]

    def url(self, b, key=""):
        return "%s/%s/%s" % (self.d.endpoint, b, urllib.parse.quote(key))

    def open_bucket(self, acls=True):
        """A bucket with Block Public Access off and (acls) ACLs enabled, as one sets it up on AWS."""
        b = name()
        self.s3.create_bucket(Bucket=b)
        self.s3.delete_public_access_block(Bucket=b)
        if acls:
            self.s3.put_bucket_ownership_controls(
                Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        return b

    def policy(self, b, *statements):
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))

    # ---- defaults ----

    def test_new_bucket_has_aws_defaults(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        pab = self.s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
        self.assertEqual(pab, {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                               "RestrictPublicBuckets": True})
        rules = self.s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"]
        self.assertEqual(rules, [{"ObjectOwnership": "BucketOwnerEnforced"}])
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        # Unsigned: private. Signed: the owner.
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="k"), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.list_objects_v2, Bucket=b), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.put_object, Bucket=b, Key="k2", Body=b"x"), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.list_buckets), ("AccessDenied", 403))
        # ACLs disabled: only the owner's full control may be set.
        e = self.error(self.s3.put_object, Bucket=b, Key="p", Body=b"x", ACL="public-read")
        self.assertEqual((e["Code"], e["Message"]), ("AccessControlListNotSupported", "The bucket does not allow ACLs"))
        self.s3.put_object(Bucket=b, Key="p", Body=b"x", ACL="bucket-owner-full-control")
        self.assertEqual(self.code(self.s3.put_bucket_acl, Bucket=b, ACL="public-read"),
                         ("AccessControlListNotSupported", 400))
        self.s3.put_bucket_acl(Bucket=b, ACL="private")
        # A public policy is blocked, with AWS's reason.
        e = self.error(self.s3.put_bucket_policy, Bucket=b, Policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b}]}))
        self.assertEqual(e["Code"], "AccessDenied")
        self.assertIn("because public policies are blocked by the BlockPublicPolicy block public access setting",
                      e["Message"])
        self.assertEqual(self.code(self.s3.get_bucket_policy, Bucket=b), ("NoSuchBucketPolicy", 404))
        # CreateBucket with a public ACL: refused under BucketOwnerEnforced, and under the
        # default Block Public Access even with ObjectWriter (AWS's codes since April 2023).
        self.assertEqual(self.code(self.s3.create_bucket, Bucket=name(), ACL="public-read"),
                         ("InvalidBucketAclWithObjectOwnership", 400))
        self.assertEqual(self.code(self.s3.create_bucket, Bucket=name(), ACL="public-read",
                                   ObjectOwnership="ObjectWriter"),
                         ("InvalidBucketAclWithBlockPublicAccessError", 400))
        b2 = name()
        self.s3.create_bucket(Bucket=b2, ObjectOwnership="ObjectWriter")
        self.assertEqual(self.s3.get_bucket_ownership_controls(Bucket=b2)["OwnershipControls"]["Rules"],
                         [{"ObjectOwnership": "ObjectWriter"}])
        self.s3.delete_bucket_ownership_controls(Bucket=b2)
        self.assertEqual(self.code(self.s3.get_bucket_ownership_controls, Bucket=b2),
                         ("OwnershipControlsNotFoundError", 404))
        self.s3.delete_public_access_block(Bucket=b2)
        self.assertEqual(self.code(self.s3.get_public_access_block, Bucket=b2),
                         ("NoSuchPublicAccessBlockConfiguration", 404))

    # ---- ACLs ----

    def test_canned_acls(self):
        b = self.open_bucket()
        self.s3.put_object(Bucket=b, Key="pub", Body=b"public", ACL="public-read")
        self.s3.put_object(Bucket=b, Key="priv", Body=b"private")
        self.s3.put_object(Bucket=b, Key="auth", Body=b"auth", ACL="authenticated-read")
        self.assertEqual(self.anon.get_object(Bucket=b, Key="pub")["Body"].read(), b"public")
        self.assertEqual(self.anon.head_object(Bucket=b, Key="pub")["ContentLength"], 6)
        self.assertEqual(fetch(self.url(b, "pub")), (200, b"public"))
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="priv"), ("AccessDenied", 403))
        # authenticated-read grants the AuthenticatedUsers group: not the anonymous caller.
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="auth"), ("AccessDenied", 403))
        # Without list permission a missing key is 403, not 404 (S3 does not say it is missing).
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="missing"), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.list_objects_v2, Bucket=b), ("AccessDenied", 403))
        grants = self.s3.get_object_acl(Bucket=b, Key="pub")["Grants"]
        self.assertEqual(grants[1], {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                                     "Permission": "READ"})
        self.assertEqual(grants[0]["Permission"], "FULL_CONTROL")
        auth = self.s3.get_object_acl(Bucket=b, Key="auth")["Grants"][1]["Grantee"]["URI"]
        self.assertEqual(auth, "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
        # PutObjectAcl makes it private again; CopyObject does not carry the source's ACL.
        self.s3.put_object_acl(Bucket=b, Key="pub", ACL="private")
        self.assertEqual(len(self.s3.get_object_acl(Bucket=b, Key="pub")["Grants"]), 1)
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="pub"), ("AccessDenied", 403))
        self.s3.put_object_acl(Bucket=b, Key="priv", ACL="public-read")
        self.s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "priv"})
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="copy"), ("AccessDenied", 403))
        self.s3.copy_object(Bucket=b, Key="copy2", CopySource={"Bucket": b, "Key": "priv"}, ACL="public-read")
        self.assertEqual(self.anon.get_object(Bucket=b, Key="copy2")["Body"].read(), b"private")

        # A public-read bucket lets anyone list (and so learn a key is missing: 404).
        self.s3.put_bucket_acl(Bucket=b, ACL="public-read")
        keys = [o["Key"] for o in self.anon.list_objects_v2(Bucket=b)["Contents"]]
        self.assertIn("pub", keys)
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="missing"), ("NoSuchKey", 404))
        self.assertEqual(self.code(self.anon.put_object, Bucket=b, Key="w", Body=b"x"), ("AccessDenied", 403))
        # public-read-write: anyone may write and delete too.
        self.s3.put_bucket_acl(Bucket=b, ACL="public-read-write")
        self.anon.put_object(Bucket=b, Key="w", Body=b"anonymous")
        self.assertEqual(self.s3.get_object(Bucket=b, Key="w")["Body"].read(), b"anonymous")
        self.anon.delete_object(Bucket=b, Key="w")
        # The bucket ACL as grants; an AccessControlPolicy document sets one too.
        acl = self.s3.get_bucket_acl(Bucket=b)
        self.assertEqual(sorted(g["Permission"] for g in acl["Grants"]), ["FULL_CONTROL", "READ", "WRITE"])
        self.s3.put_bucket_acl(Bucket=b, AccessControlPolicy={"Owner": acl["Owner"], "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": acl["Owner"]["ID"]}, "Permission": "FULL_CONTROL"}]})
        self.assertEqual(len(self.s3.get_bucket_acl(Bucket=b)["Grants"]), 1)
        self.assertEqual(self.code(self.anon.list_objects_v2, Bucket=b), ("AccessDenied", 403))
        # Grant headers (x-amz-grant-read) work as the canned ACLs do.
        self.s3.put_object_acl(Bucket=b, Key="priv", GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
        self.assertEqual(self.anon.get_object(Bucket=b, Key="priv")["Body"].read(), b"private")

    def test_block_public_access(self):
        b = self.open_bucket()
        self.s3.put_object(Bucket=b, Key="pub", Body=b"p", ACL="public-read")
        self.policy(b, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::%s/open/*" % b})
        self.s3.put_object(Bucket=b, Key="open/x", Body=b"o")
        self.assertEqual(self.anon.get_object(Bucket=b, Key="open/x")["Body"].read(), b"o")
        self.assertTrue(self.s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"])

        def block(**flags):
            cfg = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                   "RestrictPublicBuckets": False}
            cfg.update(flags)
            self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=cfg)

        # IgnorePublicAcls: the public-read object is private again; the policy still grants.
        block(IgnorePublicAcls=True)
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="pub"), ("AccessDenied", 403))
        self.assertEqual(self.anon.get_object(Bucket=b, Key="open/x")["Body"].read(), b"o")
        # BlockPublicAcls: public ACLs can no longer be set (403), existing ones still count.
        block(BlockPublicAcls=True)
        self.assertEqual(self.anon.get_object(Bucket=b, Key="pub")["Body"].read(), b"p")
        self.assertEqual(self.code(self.s3.put_object, Bucket=b, Key="p2", Body=b"x", ACL="public-read"),
                         ("AccessDenied", 403))
        self.assertEqual(self.code(self.s3.put_object_acl, Bucket=b, Key="open/x", ACL="public-read"),
                         ("AccessDenied", 403))
        self.assertEqual(self.code(self.s3.put_bucket_acl, Bucket=b, ACL="public-read"), ("AccessDenied", 403))
        self.s3.put_object(Bucket=b, Key="p3", Body=b"x", ACL="private")
        # RestrictPublicBuckets: the public policy grants the public nothing.
        block(RestrictPublicBuckets=True)
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="open/x"), ("AccessDenied", 403))
        self.assertEqual(self.anon.get_object(Bucket=b, Key="pub")["Body"].read(), b"p")
        # ... but a policy pinned to a source address is not public: it still grants.
        self.policy(b, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::%s/open/*" % b, "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}})
        self.assertFalse(self.s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"])
        self.assertEqual(self.anon.get_object(Bucket=b, Key="open/x")["Body"].read(), b"o")
        # BlockPublicPolicy: a public policy is refused, a pinned one accepted.
        block(BlockPublicPolicy=True)
        self.assertEqual(self.code(self.policy, b, {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*",
                                                    "Resource": "arn:aws:s3:::%s/*" % b}), ("AccessDenied", 403))
        # aws:Referer does not make a policy private (anyone can send any Referer).
        self.assertEqual(self.code(self.policy, b, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::%s/*" % b,
                                                    "Condition": {"StringLike": {"aws:Referer": "http://a.test/*"}}}),
                         ("AccessDenied", 403))
        self.policy(b, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::%s/*" % b, "Condition": {"IpAddress": {"aws:SourceIp": ["10.1.0.0/16"]}}})
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="open/x"), ("AccessDenied", 403))
        self.s3.delete_bucket_policy(Bucket=b)
        self.assertEqual(self.code(self.s3.get_bucket_policy_status, Bucket=b), ("NoSuchBucketPolicy", 404))

    # ---- policies ----

    def test_policy_decides(self):
        b = self.open_bucket(acls=False)
        for k in ("site/index.html", "site/secret/key.txt", "data/x"):
            self.s3.put_object(Bucket=b, Key=k, Body=k.encode())
        arn = "arn:aws:s3:::%s" % b
        self.policy(b,
                    {"Sid": "read", "Effect": "Allow", "Principal": "*", "Action": "s3:Get*", "Resource": arn + "/site/*"},
                    {"Sid": "deny", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
                     "Resource": [arn + "/site/secret/*"]},
                    {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:ListBucket"], "Resource": arn,
                     "Condition": {"StringEquals": {"s3:prefix": "site/"}}},
                    {"Effect": "Allow", "Principal": "*", "Action": ["s3:PutObject", "s3:DeleteObject"],
                     "Resource": arn + "/up?oad/*"},
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn + "/data/*",
                     "Condition": {"StringLike": {"aws:Referer": ["http://app.test/*"]}}},
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn + "/data/*",
                     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
        self.assertEqual(self.anon.get_object(Bucket=b, Key="site/index.html")["Body"].read(), b"site/index.html")
        # The explicit Deny wins over the Allow.
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="site/secret/key.txt"), ("AccessDenied", 403))
        # ListBucket only with prefix site/; with it, a missing key is 404.
        self.assertEqual(len(self.anon.list_objects_v2(Bucket=b, Prefix="site/")["Contents"]), 2)
        self.assertEqual(self.code(self.anon.list_objects_v2, Bucket=b), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="data/missing"), ("AccessDenied", 403))
        # Wildcards in resources: "up?oad/*".
        self.anon.put_object(Bucket=b, Key="upload/a.txt", Body=b"a")
        self.anon.delete_object(Bucket=b, Key="upload/a.txt")
        self.assertEqual(self.code(self.anon.put_object, Bucket=b, Key="other/a.txt", Body=b"a"), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.get_object_acl, Bucket=b, Key="upload/a.txt"), ("AccessDenied", 403))
        # aws:Referer (requests and curl set it; the other statement's 10/8 is not 127.0.0.1).
        self.assertEqual(fetch(self.url(b, "data/x"))[0], 403)
        self.assertEqual(fetch(self.url(b, "data/x"), headers={"Referer": "http://app.test/page"}), (200, b"data/x"))
        self.assertEqual(fetch(self.url(b, "data/x"), headers={"Referer": "http://evil.test/"})[0], 403)
        # Signed requests are the owner's: the policy does not restrict them.
        self.assertEqual(self.s3.get_object(Bucket=b, Key="site/secret/key.txt")["Body"].read(), b"site/secret/key.txt")
        # Bucket-level calls the policy does not grant.
        self.assertEqual(self.code(self.anon.get_bucket_policy, Bucket=b), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.delete_bucket, Bucket=b), ("AccessDenied", 403))
        self.assertEqual(self.code(self.anon.put_bucket_policy, Bucket=b, Policy="{}"), ("AccessDenied", 403))

    def test_policy_conditions(self):
        b = self.open_bucket(acls=False)
        self.s3.put_object(Bucket=b, Key="k", Body=b"v")
        arn = "arn:aws:s3:::%s/*" % b
        allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn}
        cases = [
            ({"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}, 200),
            ({"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "127.0.0.0/8"]}}, 200),
            ({"NotIpAddress": {"aws:SourceIp": "127.0.0.1"}}, 403),
            ({"IpAddress": {"aws:SourceIp": "::1/128"}}, 403),
            ({"Bool": {"aws:SecureTransport": "false"}}, 200),  # stratus speaks plain HTTP
            ({"Bool": {"aws:SecureTransport": True}}, 403),
            ({"StringNotLike": {"aws:Referer": "http://evil.test/*"}}, 200),  # no Referer: negation holds
            ({"StringEquals": {"aws:Referer": "http://app.test/"}}, 403),
            ({"StringLikeIfExists": {"aws:Referer": "http://app.test/*"}}, 200),
            ({"Null": {"aws:Referer": "true"}}, 200),
        ]
        for cond, status in cases:
            with self.subTest(cond=cond):
                self.policy(b, dict(allow, Condition=cond))
                self.assertEqual(fetch(self.url(b, "k"))[0], status)
        # The usual "deny plain HTTP" statement denies every unsigned request here.
        self.policy(b, allow, {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": arn,
                               "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
        self.assertEqual(fetch(self.url(b, "k"))[0], 403)

    def test_malformed_policies(self):
        b = self.open_bucket(acls=False)
        arn = "arn:aws:s3:::%s/*" % b
        good = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn}
        # Messages as S3 answers them (observed; AWS documents only the MalformedPolicy code).
        cases = [
            ("nope", "Policies must be valid JSON and the first byte must be '{'"),
            (" {}", "Policies must be valid JSON and the first byte must be '{'"),
            ({"Version": "2012-10-17"}, "Missing required field Statement"),
            ({"Version": "2020-01-01", "Statement": [good]}, "The policy must contain a valid version string"),
            ({"Statement": [dict(good, Effect="Permit")]}, "Invalid effect: Permit"),
            ({"Statement": [{k: v for k, v in good.items() if k != "Effect"}]}, "Missing required field Effect"),
            ({"Statement": [{k: v for k, v in good.items() if k != "Principal"}]}, "Missing required field Principal"),
            ({"Statement": [{k: v for k, v in good.items() if k != "Action"}]}, "Missing required field Action"),
            ({"Statement": [{k: v for k, v in good.items() if k != "Resource"}]}, "Missing required field Resource"),
            ({"Statement": [dict(good, Principal="someone")]}, "Invalid principal in policy"),
            ({"Statement": [dict(good, Principal={"AWS": "arn:aws:iam::12:root"})]}, "Invalid principal in policy"),
            ({"Statement": [dict(good, Action="s3:GetObjekt")]}, "Policy has invalid action"),
            ({"Statement": [dict(good, Action="dynamodb:GetItem")]}, "Policy has invalid action"),
            ({"Statement": [dict(good, Resource="arn:aws:s3:::other-bucket/*")]}, "Policy has invalid resource"),
            ({"Statement": [dict(good, Resource="arn:aws:s3:::%s" % b)]},
             "Action does not apply to any resource(s) in statement"),
            ({"Statement": [dict(good, Condition={"StringLikeish": {"aws:Referer": "x"}})]},
             "Invalid Condition type : StringLikeish"),
            ({"Statement": [dict(good, Condition={"StringLike": {"Referer": "x"}})]},
             "Policy has an invalid condition key"),
            ({"Statement": [dict(good, Extra=1)]}, "Unknown field Extra"),
        ]
        for doc, message in cases:
            with self.subTest(message=message, doc=doc):
                text = doc if isinstance(doc, str) else json.dumps(doc)
                e = self.error(self.s3.put_bucket_policy, Bucket=b, Policy=text)
                self.assertEqual((e["Code"], e["Message"]), ("MalformedPolicy", message))
        self.assertEqual(self.code(self.s3.get_bucket_policy, Bucket=b), ("NoSuchBucketPolicy", 404))
        # Accepted: a statement object instead of a list, lowercase actions, NotPrincipal.
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Statement": dict(good, Action="S3:getobject")}))

    def test_survives_kill9(self):
        d = Daemon("--verify-signatures", "--access-key-id", KEY, "--secret-access-key", SECRET).start()
        try:
            s3 = d.client("s3", key=KEY, secret=SECRET)
            b = name()
            s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
            s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
                "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True})
            s3.put_object(Bucket=b, Key="acl", Body=b"a", ACL="public-read")
            s3.put_bucket_acl(Bucket=b, ACL="public-read")
            s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/no/*" % b}]}))
            d.kill9()
            d = Daemon("--verify-signatures", "--access-key-id", KEY, "--secret-access-key", SECRET,
                       data_dir=d.data_dir).start()
            s3 = d.client("s3", key=KEY, secret=SECRET)
            anon = d.client("s3", signature_version=botocore.UNSIGNED)
            self.assertTrue(s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"])
            self.assertEqual(s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
                             "ObjectWriter")
            self.assertIn("no/*", s3.get_bucket_policy(Bucket=b)["Policy"])
            self.assertEqual(anon.get_object(Bucket=b, Key="acl")["Body"].read(), b"a")
            self.assertEqual(len(anon.list_objects_v2(Bucket=b)["Contents"]), 1)
        finally:
            d.stop()

    def test_website_endpoint(self):
        # The website endpoint serves what the public may read, as on AWS; a private
        # object (or a missing key in a bucket the public may not list) is 403.
        b = self.open_bucket(acls=False)
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
        for k, body in (("index.html", b"home"), ("error.html", b"oops"), ("private/x.html", b"x")):
            self.s3.put_object(Bucket=b, Key=k, Body=body, ContentType="text/html")
        host = {"Host": "%s.s3-website.localhost" % b}
        self.assertEqual(fetch(self.d.endpoint + "/", headers=host)[0], 403)
        self.policy(b, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b},
                    {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::%s/private/*" % b})
        self.assertEqual(fetch(self.d.endpoint + "/", headers=host), (200, b"home"))
        # Denied or missing (no ListBucket): 403 with the error document.
        self.assertEqual(fetch(self.d.endpoint + "/private/x.html", headers=host), (403, b"oops"))
        self.assertEqual(fetch(self.d.endpoint + "/nope.html", headers=host), (403, b"oops"))
        self.policy(b, {"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": ["arn:aws:s3:::%s/*" % b, "arn:aws:s3:::%s" % b]})
        self.assertEqual(fetch(self.d.endpoint + "/nope.html", headers=host), (404, b"oops"))

    # ---- presigned URLs: X-Amz-Expires ----

    def test_presigned_expires_parameter(self):
        b = name()
        self.s3.create_bucket(Bucket=b)
        self.s3.put_object(Bucket=b, Key="k", Body=b"v")
        v4 = self.d.client("s3", key=KEY, secret=SECRET, signature_version="s3v4")
        url = v4.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "k"}, ExpiresIn=300)
        self.assertIn("X-Amz-Expires=300", url)
        self.assertEqual(fetch(url), (200, b"v"))

        def with_param(name, value):
            return re.sub(name + r"=[^&]*", name + "=" + value, url)

        def error(u):
            status, body = fetch(u)
            text = body.decode()
            return (status, re.search(r"<Code>(.*?)</Code>", text).group(1),
                    re.search(r"<Message>(.*?)</Message>", text).group(1), text)

        cases = [("-1", "X-Amz-Expires must be non-negative"), ("abc", "X-Amz-Expires should be a number"),
                 ("", "X-Amz-Expires should be a number"),
                 ("604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800")]
        for value, message in cases:
            with self.subTest(value=value):
                self.assertEqual(error(with_param("X-Amz-Expires", value))[:3],
                                 (400, "AuthorizationQueryParametersError", message))
        # 0 is expired from the start (checked before the signature, which changed with it).
        status, code, message, text = error(with_param("X-Amz-Expires", "0"))
        self.assertEqual((status, code, message), (403, "AccessDenied", "Request has expired"))
        self.assertIn("<X-Amz-Expires>0</X-Amz-Expires>", text)
        # A URL signed 2 days ago for an hour: expired, with S3's Expires and ServerTime.
        signed = re.search(r"X-Amz-Date=(\d{8}T\d{6}Z)", url).group(1)
        when = datetime.datetime.strptime(signed, "%Y%m%dT%H%M%SZ") - datetime.timedelta(days=2)
        old = when.strftime("%Y%m%dT%H%M%SZ")
        status, code, message, text = error(with_param("X-Amz-Expires", "3600").replace(signed[:8], old[:8]).replace(
            signed, old))
        self.assertEqual((status, code, message), (403, "AccessDenied", "Request has expired"))
        expires = (when + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertIn("<Expires>%s</Expires>" % expires, text)
        self.assertRegex(text, r"<ServerTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</ServerTime>")


class UsersTest(unittest.TestCase):
    """Several key pairs: the first is the account's owner, the others IAM users of the same
    account without identity-based policies (stratus models none), so the bucket policy (a
    statement naming "*" or the user's ARN; naming the account only delegates to identity
    policies) and ACL grants to AllUsers / AuthenticatedUsers decide what a user may do, and
    an explicit Deny (also one naming the account) wins, as S3 evaluates a request."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--verify-signatures", "--access-key-id", KEY, "--secret-access-key", SECRET,
                       "--access-key-id", "AKIDBOB", "--secret-access-key", "bob-secret").start()
        cls.owner = cls.d.client("s3", key=KEY, secret=SECRET)
        cls.bob = cls.d.client("s3", key="AKIDBOB", secret="bob-secret")
        cls.anon = cls.d.client("s3", signature_version=botocore.UNSIGNED)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def code(self, fn, **kw):
        try:
            fn(**kw)
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        return None

    def test_bucket_policy_decides_for_a_user(self):
        b = name()
        self.owner.create_bucket(Bucket=b)
        self.owner.put_object(Bucket=b, Key="doc", Body=b"d")
        self.owner.put_object(Bucket=b, Key="secret/x", Body=b"s")
        denied = ("AccessDenied", 403)
        # Nothing grants bob anything yet (AWS's defaults: ACLs disabled, no policy).
        self.assertEqual(self.code(self.bob.get_object, Bucket=b, Key="doc"), denied)
        self.assertEqual(self.code(self.bob.list_objects_v2, Bucket=b), denied)
        self.assertEqual(self.code(self.bob.list_buckets), denied)
        self.assertEqual(self.code(self.bob.create_bucket, Bucket=name()), denied)
        self.assertEqual(self.code(self.bob.get_object, Bucket=name(), Key="k"), denied)
        arn = "arn:aws:iam::000000000000:user/AKIDBOB"
        self.owner.put_bucket_policy(Bucket=b, Policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]},
            # Naming the account delegates to its identity policies: no grant for bob.
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::%s/*" % b},
            # A Deny naming the account reaches its users (not the owner's root here).
            {"Effect": "Deny", "Principal": {"AWS": "000000000000"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::%s/secret/*" % b}]}))
        self.assertEqual(self.bob.get_object(Bucket=b, Key="doc")["Body"].read(), b"d")
        self.assertEqual([o["Key"] for o in self.bob.list_objects_v2(Bucket=b)["Contents"]], ["doc", "secret/x"])
        self.assertEqual(self.code(self.bob.get_object, Bucket=b, Key="nope"), ("NoSuchKey", 404))  # may list
        self.assertEqual(self.code(self.bob.get_object, Bucket=b, Key="secret/x"), denied)
        self.assertEqual(self.code(self.bob.put_object, Bucket=b, Key="new", Body=b"n"), denied)
        self.assertEqual(self.code(self.bob.delete_object, Bucket=b, Key="doc"), denied)
        self.assertEqual(self.code(self.bob.get_bucket_policy, Bucket=b), denied)
        self.assertEqual(self.owner.get_object(Bucket=b, Key="secret/x")["Body"].read(), b"s")
        # The anonymous caller gets nothing of what bob was granted.
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="doc"), denied)
        # A browser form bob signed is his request too: s3:PutObject is not his.
        import requests
        p = self.bob.generate_presigned_post(b, "form-upload")
        r = requests.post(p["url"], data=p["fields"], files={"file": ("f", b"x")}, timeout=10)
        self.assertEqual(r.status_code, 403, r.text)
        p = self.owner.generate_presigned_post(b, "form-upload")
        r = requests.post(p["url"], data=p["fields"], files={"file": ("f", b"x")}, timeout=10)
        self.assertEqual(r.status_code, 204, r.text)

    def test_acl_grants_to_authenticated_users(self):
        b = name()
        self.owner.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
        self.owner.delete_public_access_block(Bucket=b)
        self.owner.put_object(Bucket=b, Key="shared", Body=b"s", ACL="authenticated-read")
        self.owner.put_object(Bucket=b, Key="private", Body=b"p")
        self.assertEqual(self.bob.get_object(Bucket=b, Key="shared")["Body"].read(), b"s")
        self.assertEqual(self.code(self.anon.get_object, Bucket=b, Key="shared"), ("AccessDenied", 403))
        self.assertEqual(self.code(self.bob.get_object, Bucket=b, Key="private"), ("AccessDenied", 403))
        self.owner.put_bucket_acl(Bucket=b, ACL="authenticated-read")
        self.assertEqual(len(self.bob.list_objects_v2(Bucket=b)["Contents"]), 2)
        self.owner.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False})
        self.assertEqual(self.code(self.bob.get_object, Bucket=b, Key="shared"), ("AccessDenied", 403))


class NoVerificationTest(unittest.TestCase):
    def test_no_verification_no_defaults(self):
        # Without --verify-signatures nothing is checked and new buckets get no defaults:
        # ACLs and public policies are accepted as before.
        d = Daemon().start()
        try:
            s3 = d.client("s3")
            b = name()
            s3.create_bucket(Bucket=b)
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                s3.get_public_access_block(Bucket=b)
            self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchPublicAccessBlockConfiguration")
            s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
            s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b}]}))
            anon = d.client("s3", signature_version=botocore.UNSIGNED)
            self.assertEqual(anon.get_object(Bucket=b, Key="k")["Body"].read(), b"x")
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()

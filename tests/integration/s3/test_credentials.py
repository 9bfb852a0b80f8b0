"""Several key pairs under --verify-signatures (issue 15): repeated --access-key-id /
--secret-access-key (paired in order) and --credentials-file in the AWS CLI's format, so
tests can act as different users; each pair signs S3 (SigV4, SigV2) and DynamoDB alike."""
import json
import os
import subprocess
import tempfile
import unittest
import uuid

from botocore.exceptions import ClientError

from daemon import BIN, Daemon


class CredentialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.file = os.path.join(cls.tmp.name, "credentials")
        with open(cls.file, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDFILE1\naws_secret_access_key = file-secret-1\n"
                    "# a comment\n[other]\naws_access_key_id=AKIDFILE2\naws_secret_access_key=file-secret-2\n"
                    "region = eu-west-1\n")
        cls.d = Daemon("--verify-signatures", "--access-key-id", "AKIDONE", "--secret-access-key", "secret-one",
                       "--access-key-id", "AKIDTWO", "--secret-access-key", "secret-two",
                       "--credentials-file", cls.file).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tmp.cleanup()

    def error(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def test_every_pair_signs(self):
        b = "cred-" + uuid.uuid4().hex[:10]
        owner = self.d.client("s3", key="AKIDONE", secret="secret-one")
        owner.create_bucket(Bucket=b)
        # The other pairs are IAM users of the owner's account: the bucket policy lets them in.
        owner.put_bucket_policy(Bucket=b, Policy=json.dumps({"Statement": [{
            "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::%s/*" % b,
            "Principal": {"AWS": ["arn:aws:iam::000000000000:user/" + k for k in ("AKIDTWO", "AKIDFILE1", "AKIDFILE2")]}}]}))
        for key, secret in [("AKIDONE", "secret-one"), ("AKIDTWO", "secret-two"), ("AKIDFILE1", "file-secret-1"),
                            ("AKIDFILE2", "file-secret-2")]:
            with self.subTest(key=key):
                s3 = self.d.client("s3", key=key, secret=secret)
                s3.put_object(Bucket=b, Key=key, Body=key.encode())
                self.assertEqual(s3.get_object(Bucket=b, Key=key)["Body"].read(), key.encode())
                v2 = self.d.client("s3", key=key, secret=secret, signature_version="s3")
                self.assertEqual(v2.get_object(Bucket=b, Key=key)["Body"].read(), key.encode())
                self.d.client("dynamodb", key=key, secret=secret).list_tables()

    def test_wrong_pairs_are_refused(self):
        self.assertEqual(self.error(self.d.client("s3", key="AKIDNONE", secret="x").list_buckets),
                         "InvalidAccessKeyId")
        # A secret of another pair does not sign for this one.
        self.assertEqual(self.error(self.d.client("s3", key="AKIDONE", secret="secret-two").list_buckets),
                         "SignatureDoesNotMatch")
        # Without any flag the default pair (test / test here) is not accepted any more.
        self.assertEqual(self.error(self.d.client("dynamodb").list_tables), "UnrecognizedClientException")

    def test_bad_flags_stop_the_daemon(self):
        for args in [["--access-key-id", "A", "--access-key-id", "B", "--secret-access-key", "s"],
                     ["--credentials-file", os.path.join(self.tmp.name, "missing")]]:
            r = subprocess.run([BIN, "start", "--port", "0", "--ephemeral", "--verify-signatures"] + args,
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("stratus:", r.stderr)


if __name__ == "__main__":
    unittest.main()

"""Handlers using the legacy aws-sdk (v2) run unmodified: v2 ignores AWS_ENDPOINT_URL, and
stratus's node runtime points it at stratus when it is first loaded (require of the whole
SDK, and an ES module importing one client)."""

import json
import os
import shutil
import unittest

from app.common import APPS, cli, copy_app, npm_ci, start


class LegacySdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        npm_ci(os.path.join(APPS, "legacy-v2"))
        cls.tmp, cls.dir = copy_app("legacy-v2")
        cls.d = start(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_document_client_and_s3(self):
        r = cli(self.d, "invoke", "cjs", "--data", json.dumps({"id": "v2-item"}))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["item"], {"id": "v2-item", "via": "cjs"})
        self.assertEqual(out["body"], "from v2")
        self.assertEqual(out["endpoint"], self.d.endpoint + "/")
        # What the handler wrote is in stratus, read back with boto3.
        got = self.d.client("dynamodb").get_item(TableName="legacy-items", Key={"id": {"S": "v2-item"}})
        self.assertEqual(got["Item"]["via"]["S"], "cjs")
        body = self.d.client("s3").get_object(Bucket="legacy-files", Key="v2-item.txt")["Body"].read()
        self.assertEqual(body, b"from v2")

    def test_esm_import_of_one_client(self):
        r = cli(self.d, "invoke", "esm")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertIn("legacy-items", out["tables"])
        self.assertEqual(out["endpoint"], self.d.endpoint + "/")


if __name__ == "__main__":
    unittest.main()

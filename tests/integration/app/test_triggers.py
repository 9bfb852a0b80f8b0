"""An app's triggers as deployed from its config: a Python stream consumer fed by a
table's stream (py-stream). Skipped in a build without triggers."""

import json
import shutil
import unittest

from app.common import cli, copy_app, has_triggers, start, wait_for


class PythonStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.dir = copy_app("py-stream")
        cls.d = start(cls.dir)
        if not has_triggers(cls.d):
            cls.d.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise unittest.SkipTest("this build of stratus has no triggers")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_audit_log(self):
        r = cli(self.d, "invoke", "put", "--data", json.dumps({"id": "o-1"}))
        self.assertEqual(r.returncode, 0, r.stderr)
        ddb = self.d.client("dynamodb")
        items = wait_for(lambda: ddb.scan(TableName="py-stream-dev-audit")["Items"], what="audit records")
        self.assertEqual([(i["name"]["S"], i["orderId"]["S"]) for i in items], [("INSERT", "o-1")])
        # A second write: MODIFY passes the filter too.
        cli(self.d, "invoke", "put", "--data", json.dumps({"id": "o-1", "status": "paid"}))
        wait_for(lambda: len(ddb.scan(TableName="py-stream-dev-audit")["Items"]) == 2, what="MODIFY record")


if __name__ == "__main__":
    unittest.main()

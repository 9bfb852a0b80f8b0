"""`stratus start DIR` on real-world shaped apps: what it deploys (tables, buckets,
functions, the site), the banner, invoking the app's functions by their short names,
tables that keep their data across restarts, a changed key schema reported, config errors
that exit with file:line:column and leave nothing behind, and `stratus reset`."""

import json
import os
import shutil
import subprocess
import unittest
import urllib.request

from daemon import BIN, Daemon
from app.common import app_info, cli, copy_app, edit, start


class RestCrudTest(unittest.TestCase):
    # The serverless-offline style CRUD app: everything deployed, functions invoked by the
    # names serverless gives them and by their short names.
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.dir = copy_app("rest-crud")
        cls.d = start(cls.dir)
        cls.ddb = cls.d.client("dynamodb")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_table_created_from_resources(self):
        t = self.ddb.describe_table(TableName="rest-crud-items-dev")["Table"]
        self.assertEqual(t["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"}])
        self.assertEqual(t["ProvisionedThroughput"]["WriteCapacityUnits"], 1)

    def test_functions_deployed_with_their_settings(self):
        lam = self.d.client("lambda")
        c = lam.get_function_configuration(FunctionName="rest-crud-dev-create")
        self.assertEqual(c["Runtime"], "nodejs20.x")
        self.assertEqual(c["Handler"], "src/items.create")
        self.assertEqual(c["Timeout"], 6)
        self.assertEqual(c["Environment"]["Variables"]["ITEMS_TABLE"], "rest-crud-items-dev")
        names = sorted(f["key"] for f in app_info(self.d)["functions"])
        self.assertEqual(names, ["create", "delete", "get", "list", "update"])

    def test_invoke_by_short_and_full_name(self):
        r = cli(self.d, "invoke", "create", "--data", json.dumps({"body": json.dumps({"name": "short"})}))
        self.assertEqual(r.returncode, 0, r.stderr)
        item = json.loads(json.loads(r.stdout)["body"])
        self.assertEqual(item["name"], "short")
        got = self.ddb.get_item(TableName="rest-crud-items-dev", Key={"id": {"S": item["id"]}})
        self.assertEqual(got["Item"]["name"]["S"], "short")
        r = cli(self.d, "invoke", "rest-crud-dev-get", "--data", json.dumps({"pathParameters": {"id": item["id"]}}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(json.loads(r.stdout)["body"])["name"], "short")
        r = cli(self.d, "logs", "create")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("REPORT RequestId", r.stdout)

    def test_banner_lists_functions_and_routes(self):
        out = subprocess.run([BIN, "status", "--port", str(self.d.port)], capture_output=True, text=True, timeout=10)
        self.assertIn('"service":"rest-crud"', out.stdout)

    def test_deploy_without_change(self):
        r = cli(self.d, "deploy")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "no change")


class RestartTest(unittest.TestCase):
    # Tables keep their items across restarts; a key schema changed in the config is
    # reported, and the stored table (and its data) is kept.
    def setUp(self):
        self.tmp, self.dir = copy_app("rest-crud")
        self.data = os.path.join(self.tmp, "data")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_data_kept_and_key_schema_change_reported(self):
        d = start(self.dir, data_dir=self.data)
        try:
            d.client("dynamodb").put_item(TableName="rest-crud-items-dev", Item={"id": {"S": "kept"}})
        finally:
            d.stop()
        d = start(self.dir, data_dir=self.data)
        try:
            got = d.client("dynamodb").get_item(TableName="rest-crud-items-dev", Key={"id": {"S": "kept"}})
            self.assertIn("Item", got)
        finally:
            d.stop()
        config = os.path.join(self.dir, "serverless.yml")
        edit(config, "AttributeName: id\n            KeyType: HASH", "AttributeName: pk\n            KeyType: HASH")
        edit(config, "- AttributeName: id\n            AttributeType: S", "- AttributeName: pk\n            AttributeType: S")
        d = start(self.dir, data_dir=self.data)
        try:
            got = d.client("dynamodb").get_item(TableName="rest-crud-items-dev", Key={"id": {"S": "kept"}})
            self.assertIn("Item", got)
        finally:
            d.stop()
        self.assertTrue(any("key schema" in l and "rest-crud-items-dev" in l for l in d.stderr_lines), d.stderr_lines)

    def test_function_removed_while_stopped(self):
        # The last run's deployment is remembered in the data dir: what left the config
        # meanwhile is removed at the next start.
        d = start(self.dir, data_dir=self.data)
        d.stop()
        config = os.path.join(self.dir, "serverless.yml")
        edit(config, "  list:\n    handler: src/items.list\n    events:\n      - http: GET items\n", "")
        d = start(self.dir, data_dir=self.data)
        try:
            names = [f["FunctionName"] for f in d.client("lambda").list_functions()["Functions"]]
            self.assertNotIn("rest-crud-dev-list", names)
            self.assertIn("rest-crud-dev-get", names)
        finally:
            d.stop()

    def test_data_dir_defaults_beside_the_config(self):
        proc = subprocess.Popen([BIN, "start", self.dir, "--port", "0", "--site-port", "0"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            lines = []
            while True:
                line = proc.stdout.readline()
                lines.append(line)
                if not line or line.startswith("  data:"):
                    break
            self.assertEqual(lines[-1].strip(), "data: " + os.path.join(self.dir, ".stratus"))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stdout.close()
            proc.stderr.close()


class ConfigErrorTest(unittest.TestCase):
    # A config error names file, line and column and exits non-zero before anything is
    # deployed.
    def setUp(self):
        self.tmp, self.dir = copy_app("rest-crud")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_start(self):
        return subprocess.run([BIN, "start", self.dir, "--port", "0", "--ephemeral"], capture_output=True, text=True, timeout=30)

    def test_missing_handler_file(self):
        config = os.path.join(self.dir, "serverless.yml")
        edit(config, "handler: src/items.list", "handler: src/missing.list")
        r = self.run_start()
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"serverless\.yml:\d+:\d+: handler file src/missing\.js \(or \.mjs / \.cjs\) not found")
        self.assertEqual(r.stdout, "")

    def test_unresolvable_variable(self):
        config = os.path.join(self.dir, "serverless.yml")
        edit(config, "${sls:stage}\n", "${env:STRATUS_NOT_SET_ANYWHERE}\n")
        r = self.run_start()
        self.assertEqual(r.returncode, 1)
        self.assertIn("STRATUS_NOT_SET_ANYWHERE is not set", r.stderr)

    def test_no_config_in_folder(self):
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        r = subprocess.run([BIN, "start", empty, "--port", "0", "--ephemeral"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no serverless.yml", r.stderr)


class SamTest(unittest.TestCase):
    # A SAM template with raw API Gateway resources: Python functions named by their logical
    # ids, a SimpleTable.
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.dir = copy_app("sam-raw-api")
        cls.d = start(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_invoke_python_by_logical_id(self):
        r = cli(self.d, "invoke", "OrdersFunction", "--data", json.dumps({"pathParameters": {"orderId": "o-1"}}))
        self.assertEqual(r.returncode, 0, r.stderr)
        body = json.loads(json.loads(r.stdout)["body"])
        self.assertEqual(body, {"orderId": "o-1", "table": "sam-raw-api-OrdersTable", "principal": None})

    def test_simple_table(self):
        t = self.d.client("dynamodb").describe_table(TableName="sam-raw-api-OrdersTable")["Table"]
        self.assertEqual(t["KeySchema"], [{"AttributeName": "orderId", "KeyType": "HASH"}])
        self.assertEqual(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")


class ResetTest(unittest.TestCase):
    # `stratus reset` wipes the data, and the app is deployed again (empty), not gone.
    def test_reset_redeploys(self):
        tmp, folder = copy_app("py-stream")
        d = start(folder)
        try:
            ddb = d.client("dynamodb")
            ddb.put_item(TableName="py-stream-dev-orders", Item={"id": {"S": "x"}})
            r = cli(d, "reset")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("Item", ddb.get_item(TableName="py-stream-dev-orders", Key={"id": {"S": "x"}}))
            names = d.client("lambda").list_functions()["Functions"]
            self.assertIn("py-stream-dev-audit", [f["FunctionName"] for f in names])
            # python3.14 runs on the machine's python3, with a notice in the banner.
            r = cli(d, "invoke", "put", "--data", json.dumps({"id": "after-reset"}))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("Item", ddb.get_item(TableName="py-stream-dev-orders", Key={"id": {"S": "after-reset"}}))
        finally:
            d.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()

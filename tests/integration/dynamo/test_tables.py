"""DynamoDB control plane through boto3 and the AWS CLI: tables are created ACTIVE at once
(waiters pass), described with AWS's shapes, listed with pagination, updated, tagged,
deleted; invalid requests get AWS's ValidationException wording and change nothing."""

import json
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon


def name(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


class TablesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.ddb = cls.d.client("dynamodb")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def create(self, table=None, **kw):
        table = table or name()
        args = dict(TableName=table,
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "sk", "AttributeType": "N"}],
                    BillingMode="PAY_PER_REQUEST")
        args.update(kw)
        return table, self.ddb.create_table(**args)["TableDescription"]

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]

    def test_create_describe_and_waiter(self):
        table, desc = self.create(Tags=[{"Key": "team", "Value": "x"}])
        self.assertEqual(desc["TableStatus"], "CREATING")
        self.assertEqual(desc["TableName"], table)
        self.assertEqual(desc["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertTrue(desc["TableArn"].endswith(":table/" + table))
        self.ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        t = self.ddb.describe_table(TableName=table)["Table"]
        self.assertEqual(t["TableStatus"], "ACTIVE")
        self.assertEqual(t["ItemCount"], 0)
        self.assertEqual(t["KeySchema"][1], {"AttributeName": "sk", "KeyType": "RANGE"})
        self.assertEqual(len(t["TableId"]), 36)
        # DescribeTable also takes the ARN.
        self.assertEqual(self.ddb.describe_table(TableName=t["TableArn"])["Table"]["TableName"], table)
        tags = self.ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "x"}])

    def test_create_with_indexes(self):
        table, desc = self.create(
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"},
                                  {"AttributeName": "g", "AttributeType": "S"},
                                  {"AttributeName": "l", "AttributeType": "B"}],
            GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            LocalSecondaryIndexes=[{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                       {"AttributeName": "l", "KeyType": "RANGE"}],
                                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}])
        self.assertEqual(desc["GlobalSecondaryIndexes"][0]["IndexName"], "byG")
        self.assertEqual(desc["GlobalSecondaryIndexes"][0]["IndexStatus"], "ACTIVE")
        self.assertEqual(desc["LocalSecondaryIndexes"][0]["Projection"],
                         {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]})

    def test_create_errors(self):
        table, _ = self.create()
        err = self.error(self.create, table=table)
        self.assertEqual(err["Code"], "ResourceInUseException")
        self.assertEqual(err["Message"], "Table already exists: " + table)

        err = self.error(self.ddb.create_table, TableName="ab", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        self.assertEqual(err["Code"], "ValidationException")
        self.assertEqual(err["Message"], "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
                                         "constraint: Member must have length greater than or equal to 3")

        err = self.error(self.create, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        self.assertIn("Some index key attributes are not defined in AttributeDefinitions", err["Message"])

        err = self.error(self.create, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                            {"AttributeName": "sk", "AttributeType": "N"},
                                                            {"AttributeName": "extra", "AttributeType": "N"}])
        self.assertIn("Number of attributes in KeySchema does not exactly match", err["Message"])

        err = self.error(self.create, BillingMode="PROVISIONED")
        self.assertEqual(err["Message"], "No provisioned throughput specified for the table")

    def test_list_tables_pagination(self):
        names = sorted(self.create(table="list-%02d-%s" % (i, uuid.uuid4().hex[:6]))[0] for i in range(7))
        seen = []
        kwargs = {"Limit": 3}
        while True:
            page = self.ddb.list_tables(**kwargs)
            seen += page["TableNames"]
            if "LastEvaluatedTableName" not in page:
                break
            kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
        for n in names:
            self.assertIn(n, seen)
        self.assertEqual(seen, sorted(seen))
        # The paginator (what most code uses) sees the same.
        all_names = [n for p in self.ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
                     for n in p["TableNames"]]
        self.assertEqual(all_names, sorted(all_names))
        self.assertTrue(set(names) <= set(all_names))

    def test_delete_table(self):
        table, _ = self.create()
        desc = self.ddb.delete_table(TableName=table)["TableDescription"]
        self.assertEqual(desc["TableStatus"], "DELETING")
        self.ddb.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        err = self.error(self.ddb.describe_table, TableName=table)
        self.assertEqual(err["Code"], "ResourceNotFoundException")
        self.assertEqual(err["Message"], "Requested resource not found")
        self.assertEqual(self.error(self.ddb.delete_table, TableName=table)["Code"], "ResourceNotFoundException")

    def test_deletion_protection(self):
        table, _ = self.create(DeletionProtectionEnabled=True)
        err = self.error(self.ddb.delete_table, TableName=table)
        self.assertEqual(err["Code"], "ValidationException")
        self.ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
        self.ddb.delete_table(TableName=table)

    def test_update_table_billing_and_gsi(self):
        table, _ = self.create()
        t = self.ddb.update_table(TableName=table, BillingMode="PROVISIONED",
                                  ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})["TableDescription"]
        self.assertEqual(t["ProvisionedThroughput"]["WriteCapacityUnits"], 7)
        self.assertNotIn("BillingModeSummary", t)
        t = self.ddb.update_table(
            TableName=table, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                                     "Projection": {"ProjectionType": "ALL"},
                                                     "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])["TableDescription"]
        self.assertEqual([g["IndexName"] for g in t["GlobalSecondaryIndexes"]], ["byG"])
        self.assertIn({"AttributeName": "g", "AttributeType": "S"}, t["AttributeDefinitions"])
        t = self.ddb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byG"}}])["TableDescription"]
        self.assertNotIn("GlobalSecondaryIndexes", t)
        self.assertEqual(self.error(self.ddb.update_table, TableName=table)["Code"], "ValidationException")

    def test_ttl_and_backups(self):
        table, _ = self.create()
        self.assertEqual(self.ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "DISABLED"})
        self.ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        self.assertEqual(self.ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"})
        err = self.error(self.ddb.update_time_to_live, TableName=table,
                         TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        self.assertEqual(err["Message"], "TimeToLive is already enabled")
        b = self.ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        self.assertEqual(b["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "DISABLED")
        b = self.ddb.update_continuous_backups(TableName=table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]
        self.assertEqual(b["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(self.error(self.ddb.describe_continuous_backups, TableName="nope-nope")["Code"],
                         "TableNotFoundException")

    def test_ttl_deletes_expired_items_within_seconds(self):
        import time
        table, _ = self.create()
        self.ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        now = int(time.time())
        items = {"past": {"N": str(now - 10)}, "future": {"N": str(now + 3600)},
                 "ancient": {"N": str(now - 6 * 366 * 24 * 3600)},  # > 5 years: ignored, as AWS does
                 "string": {"S": str(now - 10)}}                     # not a number: ignored
        for i, (k, exp) in enumerate(items.items()):
            self.ddb.put_item(TableName=table, Item={"pk": {"S": k}, "sk": {"N": str(i)}, "exp": exp})
        deadline = time.time() + 5
        while time.time() < deadline:
            left = {it["pk"]["S"] for it in self.ddb.scan(TableName=table)["Items"]}
            if "past" not in left:
                break
            time.sleep(0.1)
        self.assertEqual(left, {"future", "ancient", "string"})
        self.assertEqual(self.ddb.describe_table(TableName=table)["Table"]["ItemCount"], 3)

    def test_ttl_index_follows_writes(self):
        # The sweeper reads a TTL index kept with the items: items written before TTL was
        # enabled are covered, updates that move or remove the expiry are followed, many
        # due items are all deleted (several sweep batches), and disabling TTL stops it.
        # With more than 1,000 items the index is built in steps after UpdateTimeToLive
        # returns, so the updates below land while it is being built.
        import time
        table, _ = self.create()
        now = int(time.time())
        item = lambda pk, sk, exp: dict(
            {"pk": {"S": pk}, "sk": {"N": str(sk)}}, **({"exp": {"N": str(exp)}} if exp is not None else {}))
        put = lambda pk, sk, exp: self.ddb.put_item(TableName=table, Item=item(pk, sk, exp))
        bulk = [item("bulk", i, now - 100 + (i % 50)) for i in range(1200)]  # due at once when TTL is on
        for i in range(0, len(bulk), 25):
            self.ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": it}} for it in bulk[i:i + 25]]})
        put("moved", 0, now - 10)
        put("removed", 0, now - 10)
        put("kept", 0, now + 3600)
        self.ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        self.ddb.update_item(TableName=table, Key={"pk": {"S": "moved"}, "sk": {"N": "0"}},
                             UpdateExpression="SET exp = :e", ExpressionAttributeValues={":e": {"N": str(now + 3600)}})
        self.ddb.update_item(TableName=table, Key={"pk": {"S": "removed"}, "sk": {"N": "0"}}, UpdateExpression="REMOVE exp")
        put("later", 0, now + 2)  # becomes due while we watch
        deadline = time.time() + 20
        while time.time() < deadline:
            left = {it["pk"]["S"] for it in self.ddb.scan(TableName=table)["Items"]}
            if left == {"moved", "removed", "kept"}:
                break
            time.sleep(0.2)
        self.assertEqual(left, {"moved", "removed", "kept"})
        self.assertEqual(self.ddb.describe_table(TableName=table)["Table"]["ItemCount"], 3)
        self.ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"})
        put("after-disable", 0, now - 10)
        time.sleep(2.5)
        self.assertEqual(len(self.ddb.scan(TableName=table)["Items"]), 4)

    def test_tags(self):
        table, desc = self.create()
        arn = desc["TableArn"]
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"], [{"Key": "b", "Value": "2"}])

    def test_limits_and_endpoints(self):
        self.assertEqual(self.ddb.describe_limits()["TableMaxWriteCapacityUnits"], 40000)
        ep = self.ddb.describe_endpoints()["Endpoints"][0]
        self.assertEqual(ep["Address"], "127.0.0.1:%d" % self.d.port)

    def test_hostile_bodies(self):
        # Not JSON objects, or absurdly nested: SerializationException, fast, daemon fine.
        import urllib.request
        for body in [b"null", b"[]", b"5", b"{", b"[" * 100000 + b"]" * 100000]:
            req = urllib.request.Request(self.d.endpoint + "/", data=body, method="POST", headers={
                "X-Amz-Target": "DynamoDB_20120810.DescribeTable", "Content-Type": "application/x-amz-json-1.0"})
            try:
                urllib.request.urlopen(req)
                self.fail("accepted %r" % body[:10])
            except urllib.error.HTTPError as e:
                self.assertEqual(e.code, 400)
                self.assertIn("SerializationException", json.loads(e.read())["__type"])
        err = self.error(self.ddb.describe_table, TableName="x" * 100000)
        self.assertEqual(err["Code"], "ValidationException")

    def test_cli(self):
        table = name("cli")
        r = self.d.aws("dynamodb", "create-table", "--table-name", table, "--attribute-definitions",
                       "AttributeName=id,AttributeType=S", "--key-schema", "AttributeName=id,KeyType=HASH",
                       "--billing-mode", "PAY_PER_REQUEST")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.d.aws("dynamodb", "wait", "table-exists", "--table-name", table)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.d.aws("dynamodb", "describe-table", "--table-name", table)
        self.assertEqual(json.loads(r.stdout)["Table"]["TableStatus"], "ACTIVE")


if __name__ == "__main__":
    unittest.main()

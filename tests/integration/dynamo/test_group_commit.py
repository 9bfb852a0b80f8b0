"""Item writes commit in groups (one LMDB transaction for every write waiting, in arrival
order): under many concurrent clients each write still sees its predecessors' changes,
a failing write fails alone, and an acknowledged write is there."""

import concurrent.futures
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon


class GroupCommitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.ddb = cls.d.client("dynamodb")
        cls.table = "gc-" + uuid.uuid4().hex[:8]
        cls.ddb.create_table(TableName=cls.table, BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        cls.pool = concurrent.futures.ThreadPoolExecutor(16)
        cls.clients = [cls.d.client("dynamodb") for _ in range(16)]

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown()
        cls.d.stop()

    def run_all(self, calls):
        """Runs calls (fn(client)) on 16 threads; returns each one's result or error code."""
        def one(i_fn):
            i, fn = i_fn
            try:
                return fn(self.clients[i % 16])
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"]
        return list(self.pool.map(one, enumerate(calls)))

    def test_conditional_creates_of_one_key_succeed_once(self):
        keys = ["once-%d" % k for k in range(10)]
        calls = [lambda c, k=k: c.put_item(TableName=self.table, Item={"pk": {"S": k}},
                                           ConditionExpression="attribute_not_exists(pk)") and "ok"
                 for _ in range(12) for k in keys]
        out = self.run_all(calls)
        self.assertEqual(out.count("ok"), len(keys))
        self.assertEqual(out.count("ConditionalCheckFailedException"), len(calls) - len(keys))

    def test_concurrent_increments_lose_nothing(self):
        calls = [lambda c: c.update_item(TableName=self.table, Key={"pk": {"S": "counter"}},
                                         UpdateExpression="ADD n :one",
                                         ExpressionAttributeValues={":one": {"N": "1"}}) and "ok"
                 for _ in range(300)]
        self.assertEqual(self.run_all(calls), ["ok"] * 300)
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": "counter"}}, ConsistentRead=True)["Item"]
        self.assertEqual(item["n"], {"N": "300"})

    def test_a_failing_write_fails_alone(self):
        def good(c, i):
            c.put_item(TableName=self.table, Item={"pk": {"S": "good-%d" % i}, "v": {"N": str(i)}})
            return "ok"

        def bad_validation(c, i):
            c.put_item(TableName=self.table, Item={"pk": {"S": "bad-%d" % i}, "v": {"N": "not-a-number"}})

        def bad_transaction(c, i):
            # The second action's condition fails: the first must not stay either.
            c.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table, "Item": {"pk": {"S": "tx-%d" % i}}}},
                {"ConditionCheck": {"TableName": self.table, "Key": {"pk": {"S": "absent"}},
                                    "ConditionExpression": "attribute_exists(pk)"}}])

        calls = []
        for i in range(60):
            calls.append(lambda c, i=i: good(c, i))
            calls.append(lambda c, i=i: bad_validation(c, i))
            calls.append(lambda c, i=i: bad_transaction(c, i))
        out = self.run_all(calls)
        self.assertEqual(out[0::3], ["ok"] * 60)
        self.assertEqual(set(out[1::3]), {"ValidationException"})
        self.assertEqual(set(out[2::3]), {"TransactionCanceledException"})
        got = self.ddb.batch_get_item(RequestItems={self.table: {
            "Keys": [{"pk": {"S": "good-%d" % i}} for i in range(60)] +
                    [{"pk": {"S": "tx-%d" % i}} for i in range(40)], "ConsistentRead": True}})
        found = {it["pk"]["S"] for it in got["Responses"][self.table]}
        self.assertEqual(found, {"good-%d" % i for i in range(60)})


    def test_table_statistics_add_up_after_grouped_writes(self):
        # A group's writes change the table's ItemCount and TableSizeBytes once, at its
        # commit: whatever the grouping, they must match the items there. (AWS refreshes
        # these about every six hours; stratus keeps them current.)
        table = "gcstats-" + uuid.uuid4().hex[:8]
        self.ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])

        def put(c, k, v, **kw):
            c.put_item(TableName=table, Item={"pk": {"S": k}, "v": {"S": v}}, **kw)
            return "ok"
        calls = [lambda c, i=i: put(c, "k%03d" % i, "x" * (i % 37)) for i in range(240)]
        self.assertEqual(self.run_all(calls), ["ok"] * 240)
        calls = ([lambda c, i=i: put(c, "k%03d" % i, "y" * (i % 11 + 50)) for i in range(0, 240, 3)]
                 + [lambda c, i=i: c.delete_item(TableName=table, Key={"pk": {"S": "k%03d" % i}}) and "ok"
                    for i in range(1, 240, 3)]
                 + [lambda c, i=i: put(c, "k%03d" % i, "z", ConditionExpression="attribute_not_exists(pk)")
                    for i in range(2, 240, 3)]
                 + [lambda c, i=i: c.batch_write_item(RequestItems={table: [
                     {"PutRequest": {"Item": {"pk": {"S": "b%03d-%d" % (i, j)}, "v": {"S": "w" * j}}}}
                     for j in range(5)]}) and "ok" for i in range(20)])
        out = self.run_all(calls)
        self.assertEqual(out.count("ConditionalCheckFailedException"), 80)
        self.assertEqual(out.count("ok"), len(calls) - 80)
        items = []
        for page in self.ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items += page["Items"]
        self.assertEqual(len(items), 240 - 80 + 100)
        size = sum(len("pk") + len(it["pk"]["S"]) + len("v") + len(it["v"]["S"]) for it in items)
        t = self.ddb.describe_table(TableName=table)["Table"]
        self.assertEqual((t["ItemCount"], t["TableSizeBytes"]), (len(items), size))

if __name__ == "__main__":
    unittest.main()

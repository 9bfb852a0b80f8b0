"""kill -9 during a DynamoDB write load loses no acknowledged write: every PutItem and
TransactWriteItems that returned 200 is there after a restart on the same data dir, with
the default durability and with --durability full (where a group's clients are answered
only after the next group's commit, or a sync, has flushed its meta page)."""

import threading
import time
import unittest
import uuid

import botocore.exceptions
import urllib3.exceptions

from daemon import Daemon


class KillDuringLoadTest(unittest.TestCase):
    def test_acknowledged_writes_survive_kill_9(self):
        self.check()

    def test_acknowledged_writes_survive_kill_9_with_full_durability(self):
        self.check("--durability", "full")

    def check(self, *args):
        d = Daemon(*args).start()
        table = "dur-" + uuid.uuid4().hex[:8]
        ddb = d.client("dynamodb")
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "g", "AttributeType": "S"}],
                         GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                                  "Projection": {"ProjectionType": "ALL"}}])
        acked = [[] for _ in range(4)]
        stop = threading.Event()

        def load(n):
            c = d.client("dynamodb")
            i = 0
            while not stop.is_set():
                k = "w%d-%06d" % (n, i)
                try:
                    if i % 5 == 0:
                        c.transact_write_items(TransactItems=[
                            {"Put": {"TableName": table, "Item": {"pk": {"S": k}, "g": {"S": "tx"}}}},
                            {"Put": {"TableName": table, "Item": {"pk": {"S": k + "-pair"}, "g": {"S": "tx"}}}}])
                        acked[n].append(k + "-pair")
                    else:
                        c.put_item(TableName=table, Item={"pk": {"S": k}, "g": {"S": "g%d" % n}, "pad": {"S": "x" * 300}})
                    acked[n].append(k)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                        urllib3.exceptions.HTTPError, ConnectionError):
                    return  # the daemon is gone: this write was not acknowledged
                i += 1

        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        d.kill9()
        stop.set()
        for t in threads:
            t.join()
        keys = [k for a in acked for k in a]
        self.assertGreater(len(keys), 100)

        d2 = Daemon(*args, data_dir=d.data_dir).start()
        try:
            c = d2.client("dynamodb")
            for i in range(0, len(keys), 100):
                got = c.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": k}} for k in keys[i:i + 100]]}})
                found = {it["pk"]["S"] for it in got["Responses"][table]}
                self.assertEqual(set(keys[i:i + 100]) - found, set())
            # The index is as complete as the table (same transaction).
            tx = c.query(TableName=table, IndexName="byG", KeyConditionExpression="g = :g",
                         ExpressionAttributeValues={":g": {"S": "tx"}}, Select="COUNT")["Count"]
            self.assertGreaterEqual(tx, sum(1 for k in keys if k.endswith("-pair")) * 2)
            self.assertEqual(tx % 2, 0)  # transactions are whole: pairs only
        finally:
            d2.stop()
            d.stop()


if __name__ == "__main__":
    unittest.main()

"""Every change of a mixed, concurrent workload (puts, updates, deletes, batch writes,
transactions across tables, TTL expiry; plus writes that change nothing and failed
conditions, which must leave no record) read back with boto3's dynamodbstreams client:
exactly one record per change, in order per key, with the images each view type keeps,
also across a kill -9 of the daemon between two halves of the workload."""

import os
import random
import shutil
import tempfile
import threading
import time
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon

VIEWS = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
THREADS = 4
KEYS_PER_THREAD = 6
OPS_PER_HALF = 40


def key_of(k):
    return {"pk": {"S": k}}


class Writer:
    """One thread's share of the workload: it alone touches its keys, so it knows the order
    of their changes; `expected[key]` lists (eventName, old item, new item, by service)."""

    def __init__(self, d, tables, tid, seed):
        self.ddb = d.client("dynamodb")
        self.tables = tables
        self.rng = random.Random(seed)
        self.keys = ["w%d-k%d" % (tid, j) for j in range(KEYS_PER_THREAD)]
        self.ttl_keys = ["w%d-ttl%d" % (tid, j) for j in range(2)]
        self.items = {k: None for k in self.keys}
        self.expected = {k: [] for k in self.keys + self.ttl_keys}
        self.error = None

    def change(self, key, new):
        old = self.items[key]
        if old == new:
            return
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        self.expected[key].append((event, old, new, False))
        self.items[key] = new

    def new_item(self, key):
        return {"pk": {"S": key}, "v": {"N": str(self.rng.randrange(1000))},
                "m": {"M": {"n": {"L": [{"S": "x" * self.rng.randrange(1, 50)}, {"BOOL": True}]}}}}

    def run(self, ops, with_ttl):
        try:
            if with_ttl:
                past = str(int(time.time()) - 60)
                for k in self.ttl_keys:
                    item = {"pk": {"S": k}, "exp": {"N": past}}
                    for t in self.tables:
                        self.ddb.put_item(TableName=t, Item=item)
                    self.expected[k] += [("INSERT", None, item, False), ("REMOVE", item, None, True)]
            for _ in range(ops):
                self.step()
        except Exception as e:  # reported by the test
            self.error = e

    def step(self):
        op = self.rng.choice(["put", "update", "delete", "batch", "transact", "same", "condition"])
        k = self.rng.choice(self.keys)
        if op == "put":
            item = self.new_item(k)
            for t in self.tables:
                self.ddb.put_item(TableName=t, Item=item)
            self.change(k, item)
        elif op == "update":
            v = str(self.rng.randrange(1000))
            for t in self.tables:
                self.ddb.update_item(TableName=t, Key=key_of(k), UpdateExpression="SET v = :v ADD c :one",
                                     ExpressionAttributeValues={":v": {"N": v}, ":one": {"N": "1"}})
            old = self.items[k]
            new = dict(old or key_of(k))
            new["v"] = {"N": v}
            new["c"] = {"N": str(int(old["c"]["N"]) + 1 if old and "c" in old else 1)}
            self.change(k, new)
        elif op == "delete":
            for t in self.tables:
                self.ddb.delete_item(TableName=t, Key=key_of(k))
            self.change(k, None)
        elif op == "batch":
            k2 = self.rng.choice([x for x in self.keys if x != k])
            item = self.new_item(k)
            reqs = {t: [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": key_of(k2)}}] for t in self.tables}
            r = self.ddb.batch_write_item(RequestItems=reqs)
            assert not r["UnprocessedItems"]
            self.change(k, item)
            self.change(k2, None)
        elif op == "transact":
            k2 = self.rng.choice([x for x in self.keys if x != k])
            item = self.new_item(k2)
            actions = []
            for t in self.tables:
                actions.append({"Update": {"TableName": t, "Key": key_of(k), "UpdateExpression": "SET s = :s",
                                           "ExpressionAttributeValues": {":s": {"S": "tx"}}}})
                actions.append({"Put": {"TableName": t, "Item": item}})
            self.ddb.transact_write_items(TransactItems=actions)
            new = dict(self.items[k] or key_of(k))
            new["s"] = {"S": "tx"}
            self.change(k, new)
            self.change(k2, item)
        elif op == "same" and self.items[k] is not None:
            for t in self.tables:  # writes the item as it is: no record
                self.ddb.put_item(TableName=t, Item=self.items[k])
        elif op == "condition" and self.items[k] is not None:
            for t in self.tables:  # fails: no record
                try:
                    self.ddb.put_item(TableName=t, Item=self.new_item(k), ConditionExpression="attribute_not_exists(pk)")
                    raise AssertionError("condition should have failed")
                except botocore.exceptions.ClientError as e:
                    assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"


class Reader:
    """Reads a stream with the documented lineage rules; `after` remembers where each shard
    was left, so reading can continue later (even across a restart)."""

    def __init__(self, st, arn):
        self.st, self.arn = st, arn
        self.after = {}
        self.closed_done = set()

    def read(self):
        out = []
        shards = self.st.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        ids = {s["ShardId"] for s in shards}
        progress = True
        while progress:
            progress = False
            for s in shards:
                sid = s["ShardId"]
                if sid in self.closed_done or (s.get("ParentShardId") in ids and s["ParentShardId"] not in self.closed_done):
                    continue
                kw = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.after[sid]}
                      if sid in self.after else {"ShardIteratorType": "TRIM_HORIZON"})
                it = self.st.get_shard_iterator(StreamArn=self.arn, ShardId=sid, **kw)["ShardIterator"]
                while it:
                    r = self.st.get_records(ShardIterator=it, Limit=100)
                    out += r["Records"]
                    if r["Records"]:
                        self.after[sid] = r["Records"][-1]["dynamodb"]["SequenceNumber"]
                    it = r.get("NextShardIterator")
                    if not r["Records"] and it:
                        break  # an open shard, read up to now
                if not it:
                    self.closed_done.add(sid)
                    progress = True
        return out


class WorkloadTest(unittest.TestCase):
    def test_every_change_once_in_order_across_kill9(self):
        data = tempfile.mkdtemp(prefix="stratus-wl-")
        self.addCleanup(shutil.rmtree, data, True)
        d = Daemon(data_dir=data).start()
        try:
            ddb = d.client("dynamodb")
            prefix = "wl-" + uuid.uuid4().hex[:6]
            tables, arns = [], {}
            for v in VIEWS:
                name = "%s-%s" % (prefix, v.lower())
                t = ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                     BillingMode="PAY_PER_REQUEST",
                                     StreamSpecification={"StreamEnabled": True, "StreamViewType": v})
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
                tables.append(name)
                arns[name] = t["TableDescription"]["LatestStreamArn"]
            writers = [Writer(d, tables, i, 1000 + i) for i in range(THREADS)]

            def half(daemon, with_ttl):
                for w in writers:
                    w.ddb = daemon.client("dynamodb")
                threads = [threading.Thread(target=w.run, args=(OPS_PER_HALF, with_ttl)) for w in writers]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                for w in writers:
                    self.assertIsNone(w.error, repr(w.error))

            half(d, True)
            st = d.client("dynamodbstreams")
            readers = {t: Reader(st, arns[t]) for t in tables}
            first = {t: readers[t].read() for t in tables}
            # A shard rotation in the middle: readers must follow the lineage.
            import json, urllib.request
            for t in tables[:2]:
                urllib.request.urlopen(urllib.request.Request(
                    d.endpoint + "/_stratus/test/dynamodb/streams/rotate",
                    data=json.dumps({"StreamArn": arns[t]}).encode(), method="POST")).read()
        finally:
            d.kill9()
        d = Daemon(data_dir=data).start()
        try:
            half(d, False)
            # The whole stream from TRIM_HORIZON, once TTL has removed its items.
            expected_total = sum(len(v) for w in writers for v in w.expected.values())
            st = d.client("dynamodbstreams")
            deadline = time.time() + 20
            while True:
                full = {t: Reader(st, arns[t]).read() for t in tables}
                if all(len(full[t]) >= expected_total for t in tables) or time.time() > deadline:
                    break
                time.sleep(0.2)
            for t in tables:
                readers[t].st = st
                rest = readers[t].read()
                # Continuing where the first read stopped (before the crash) gives the rest.
                self.assertEqual([r["eventID"] for r in first[t] + rest], [r["eventID"] for r in full[t]], t)
            for view, t in zip(VIEWS, tables):
                self.check(view, full[t], writers)
        finally:
            d.stop()

    def check(self, view, records, writers):
        ids = [r["eventID"] for r in records]
        self.assertEqual(len(ids), len(set(ids)), "a record read twice")
        seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        self.assertEqual(seqs, sorted(seqs))
        got = {}
        for r in records:
            k = r["dynamodb"]["Keys"]["pk"]["S"]
            self.assertEqual(r["dynamodb"]["Keys"], key_of(k))
            self.assertEqual(r["dynamodb"]["StreamViewType"], view)
            got.setdefault(k, []).append(r)
        for w in writers:
            for k, changes in w.expected.items():
                recs = got.get(k, [])
                self.assertEqual([r["eventName"] for r in recs], [c[0] for c in changes], (view, k))
                for r, (event, old, new, service) in zip(recs, changes):
                    db = r["dynamodb"]
                    want_new = new if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None
                    want_old = old if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None
                    self.assertEqual(db.get("NewImage"), want_new, (view, k, event))
                    self.assertEqual(db.get("OldImage"), want_old, (view, k, event))
                    if service:
                        self.assertEqual(r["userIdentity"], {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
                    else:
                        self.assertNotIn("userIdentity", r)
        self.assertEqual(set(got), {k for w in writers for k, c in w.expected.items() if c})


if __name__ == "__main__":
    unittest.main()

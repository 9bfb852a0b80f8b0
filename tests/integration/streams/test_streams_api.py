"""DynamoDB Streams through boto3's dynamodbstreams client and the AWS CLI: stream settings
on CreateTable / UpdateTable / DescribeTable, the record shape for every view type, the
four Streams operations and their errors as botocore sees them, and a hand-written poller
that follows shard lineage across a shard rotation and a disable / re-enable."""

import json
import unittest
import urllib.request
import uuid

import botocore.exceptions

from daemon import Daemon

KEY = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
       "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "sk", "AttributeType": "N"}],
       "BillingMode": "PAY_PER_REQUEST"}


class StreamsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.ddb = cls.d.client("dynamodb")
        cls.st = cls.d.client("dynamodbstreams")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def table(self, view=None, name=None):
        name = name or "st-" + uuid.uuid4().hex[:10]
        kw = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": view}} if view else {}
        t = self.ddb.create_table(TableName=name, **KEY, **kw)["TableDescription"]
        return name, t.get("LatestStreamArn")

    def read_all(self, arn):
        """Every record of the stream, shard by shard in lineage order (a parent before its
        children), as a hand-written poller following the documented rules does."""
        shards = self.st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        ids = {s["ShardId"] for s in shards}
        done, out = set(), []
        while len(done) < len(shards):
            for s in shards:
                if s["ShardId"] in done or (s.get("ParentShardId") in ids and s["ParentShardId"] not in done):
                    continue
                it = self.st.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"],
                                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                while it:
                    r = self.st.get_records(ShardIterator=it)
                    out += r["Records"]
                    if not r["Records"] and "EndingSequenceNumber" not in s["SequenceNumberRange"]:
                        break  # open shard, read up to now
                    it = r.get("NextShardIterator")
                done.add(s["ShardId"])
        return out

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]

    # Create, describe, update: LatestStreamArn / Label and the specification.
    def test_table_settings(self):
        name, arn = self.table("NEW_IMAGE")
        self.assertRegex(arn, r"^arn:aws:dynamodb:us-east-1:000000000000:table/%s/stream/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$" % name)
        t = self.ddb.describe_table(TableName=name)["Table"]
        self.assertEqual(t["StreamSpecification"], {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        self.assertEqual(t["LatestStreamArn"], arn)
        self.assertEqual(arn.split("/stream/")[1], t["LatestStreamLabel"])
        e = self.error(self.ddb.update_table, TableName=name,
                       StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        self.assertEqual(e["Code"], "ValidationException")
        off = self.ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})["TableDescription"]
        self.assertNotIn("StreamSpecification", off)
        self.assertEqual(off["LatestStreamArn"], arn)
        desc = self.st.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(desc["StreamStatus"], "DISABLED")
        on = self.ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True,
                                                                         "StreamViewType": "KEYS_ONLY"})
        self.assertNotEqual(on["TableDescription"]["LatestStreamArn"], arn)
        listed = self.st.list_streams(TableName=name)["Streams"]
        self.assertEqual(len(listed), 2)
        self.assertEqual({s["TableName"] for s in listed}, {name})
        plain, none = self.table()
        self.assertIsNone(none)
        self.assertEqual(self.st.list_streams(TableName=plain)["Streams"], [])

    # The record shape, one table per view type, for puts, updates, deletes, batches and
    # transactions (and nothing for writes that change nothing).
    def test_records_per_view_type(self):
        tables = {v: self.table(v) for v in ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")}
        for name, _ in tables.values():
            item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "1"}, "tags": {"SS": ["x", "y"]}}
            self.ddb.put_item(TableName=name, Item=item)
            self.ddb.put_item(TableName=name, Item=dict(item, tags={"SS": ["y", "x"]}))  # same item: no record
            self.ddb.update_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                                 UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
            self.ddb.update_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                                 UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}})
            try:
                self.ddb.put_item(TableName=name, Item=item, ConditionExpression="attribute_not_exists(pk)")
            except botocore.exceptions.ClientError:
                pass
            self.ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "2"}}}},
                                                           {"DeleteRequest": {"Key": {"pk": {"S": "zz"}, "sk": {"N": "0"}}}}]})
            self.ddb.transact_write_items(TransactItems=[
                {"Delete": {"TableName": name, "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}},
                {"Update": {"TableName": name, "Key": {"pk": {"S": "b"}, "sk": {"N": "2"}},
                            "UpdateExpression": "ADD c :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
        for view, (name, arn) in tables.items():
            recs = self.read_all(arn)
            self.assertEqual([r["eventName"] for r in recs], ["INSERT", "MODIFY", "INSERT", "REMOVE", "MODIFY"], view)
            for r in recs:
                self.assertEqual(r["eventSource"], "aws:dynamodb")
                self.assertEqual(r["eventVersion"], "1.1")
                self.assertEqual(r["awsRegion"], "us-east-1")
                self.assertRegex(r["eventID"], r"^[0-9a-f]{32}$")
                self.assertNotIn("userIdentity", r)
                db = r["dynamodb"]
                self.assertEqual(db["StreamViewType"], view)
                self.assertRegex(db["SequenceNumber"], r"^\d{21,40}$")
                self.assertGreater(db["SizeBytes"], 0)
                self.assertIn("ApproximateCreationDateTime", db)
                self.assertEqual(set(db["Keys"]), {"pk", "sk"})
                has_new = r["eventName"] != "REMOVE" and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
                has_old = r["eventName"] != "INSERT" and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
                self.assertEqual("NewImage" in db, has_new, (view, r))
                self.assertEqual("OldImage" in db, has_old, (view, r))
            seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
            self.assertEqual(seqs, sorted(seqs))
            if view == "NEW_AND_OLD_IMAGES":
                self.assertEqual(recs[1]["dynamodb"]["OldImage"]["v"], {"N": "1"})
                self.assertEqual(recs[1]["dynamodb"]["NewImage"]["v"], {"N": "2"})
                self.assertEqual(sorted(recs[1]["dynamodb"]["NewImage"]["tags"]["SS"]), ["x", "y"])
                self.assertEqual(recs[4]["dynamodb"]["NewImage"]["c"], {"N": "1"})

    # Iterator types, Limit, paging, and the errors botocore parses.
    def test_iterators_and_errors(self):
        name, arn = self.table("KEYS_ONLY")
        for i in range(5):
            self.ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": str(i)}})
        shard = self.st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        self.assertNotIn("ParentShardId", shard)
        self.assertRegex(shard["ShardId"], r"^shardId-\d{20}-[0-9a-f]{8}$")
        it = self.st.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        first = self.st.get_records(ShardIterator=it["ShardIterator"], Limit=2)
        self.assertEqual(len(first["Records"]), 2)
        rest = self.st.get_records(ShardIterator=first["NextShardIterator"])
        self.assertEqual(len(rest["Records"]), 3)
        seq = first["Records"][1]["dynamodb"]["SequenceNumber"]
        at = self.st.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        SequenceNumber=seq)["ShardIterator"]
        self.assertEqual(self.st.get_records(ShardIterator=at)["Records"][0]["dynamodb"]["SequenceNumber"], seq)
        after = self.st.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                           ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=seq)["ShardIterator"]
        self.assertEqual(len(self.st.get_records(ShardIterator=after)["Records"]), 3)
        latest = self.st.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")
        r = self.st.get_records(ShardIterator=latest["ShardIterator"])
        self.assertEqual(r["Records"], [])
        self.assertIn("NextShardIterator", r)

        missing = arn.rsplit("/stream/", 1)[0] + "x/stream/2001-01-01T00:00:00.000"
        e = self.error(self.st.describe_stream, StreamArn=missing)
        self.assertEqual(e["Code"], "ResourceNotFoundException")
        self.assertEqual(e["Message"], "Requested resource not found: Stream: %s not found" % missing)
        e = self.error(self.st.get_shard_iterator, StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                       ShardIteratorType="LATEST")
        self.assertEqual(e["Code"], "ResourceNotFoundException")
        e = self.error(self.st.get_shard_iterator, StreamArn=arn, ShardId=shard["ShardId"],
                       ShardIteratorType="AT_SEQUENCE_NUMBER")
        self.assertEqual(e["Code"], "ValidationException")
        e = self.error(self.st.get_records, ShardIterator=it["ShardIterator"], Limit=1001)
        self.assertEqual(e["Code"], "ValidationException")
        e = self.error(self.st.get_records, ShardIterator="not-an-iterator")
        self.assertEqual(e["Code"], "ValidationException")
        e = self.error(self.st.list_streams, Limit=101)
        self.assertEqual(e["Code"], "ValidationException")

        # Paging through ListStreams.
        for _ in range(2):
            self.table("KEYS_ONLY")
        page = self.st.list_streams(Limit=1)
        self.assertEqual(len(page["Streams"]), 1)
        nxt = self.st.list_streams(Limit=100, ExclusiveStartStreamArn=page["LastEvaluatedStreamArn"])
        self.assertNotIn(page["Streams"][0]["StreamArn"], [s["StreamArn"] for s in nxt["Streams"]])

    # Shard lineage: after a rotation (stratus's test endpoint does what AWS does every
    # few hours) the old shard is closed, its child open; a poller reads the parent to its
    # end (no NextShardIterator) and carries on in the child; after a disable the shard
    # closes the same way.
    def test_lineage(self):
        name, arn = self.table("NEW_IMAGE")
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
        parent = self.st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = self.st.get_shard_iterator(StreamArn=arn, ShardId=parent, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        req = urllib.request.Request(self.d.endpoint + "/_stratus/test/dynamodb/streams/rotate",
                                     data=json.dumps({"StreamArn": arn}).encode(), method="POST")
        with urllib.request.urlopen(req) as r:
            self.assertEqual(json.load(r), {"rotated": True})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "2"}})
        shards = self.st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.assertEqual(len(shards), 2)
        self.assertIn("EndingSequenceNumber", shards[0]["SequenceNumberRange"])
        self.assertEqual(shards[1]["ParentShardId"], parent)
        r = self.st.get_records(ShardIterator=it)
        self.assertEqual(len(r["Records"]), 1)
        self.assertNotIn("NextShardIterator", r)
        kids = self.st.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parent})
        self.assertEqual([s["ShardId"] for s in kids["StreamDescription"]["Shards"]], [shards[1]["ShardId"]])
        self.ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "3"}})  # no stream now
        recs = self.read_all(arn)
        self.assertEqual([r["dynamodb"]["Keys"]["sk"]["N"] for r in recs], ["1", "2"])

    # The AWS CLI reads streams too.
    def test_cli(self):
        name, arn = self.table("NEW_AND_OLD_IMAGES")
        self.ddb.put_item(TableName=name, Item={"pk": {"S": "cli"}, "sk": {"N": "1"}})
        out = self.d.aws("dynamodbstreams", "describe-stream", "--stream-arn", arn)
        self.assertEqual(out.returncode, 0, out.stderr)
        shard = json.loads(out.stdout)["StreamDescription"]["Shards"][0]["ShardId"]
        out = self.d.aws("dynamodbstreams", "get-shard-iterator", "--stream-arn", arn, "--shard-id", shard,
                         "--shard-iterator-type", "TRIM_HORIZON")
        self.assertEqual(out.returncode, 0, out.stderr)
        it = json.loads(out.stdout)["ShardIterator"]
        out = self.d.aws("dynamodbstreams", "get-records", "--shard-iterator", it)
        self.assertEqual(out.returncode, 0, out.stderr)
        recs = json.loads(out.stdout)["Records"]
        self.assertEqual(recs[0]["dynamodb"]["NewImage"]["pk"], {"S": "cli"})


if __name__ == "__main__":
    unittest.main()

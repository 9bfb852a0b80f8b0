"""PartiQL through boto3: ExecuteStatement (SELECT as GetItem / Query / Scan with WHERE on
keys and non-keys, projections of nested paths, IN, BETWEEN, the functions, `?`
parameters, Limit and NextToken, ORDER BY, indexes; INSERT, UPDATE, DELETE with
conditions and RETURNING), BatchExecuteStatement and ExecuteTransaction, and the errors of
malformed statements.

AWS documents the statements, DuplicateItemException and "Where clause does not contain a
mandatory equality on all key attributes"; most syntax error texts are not documented, so
for those the tests check the code and the "Statement wasn't well formed" prefix only."""

import unittest
import uuid

import botocore.exceptions

from daemon import Daemon


def uid():
    return uuid.uuid4().hex[:10]


class PartiQLTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.ddb = cls.d.client("dynamodb")
        # For requests botocore would refuse itself (empty lists): what the daemon answers.
        cls.raw = cls.d.client("dynamodb", parameter_validation=False)
        cls.table = "pq-" + uid()
        cls.ddb.create_table(
            TableName=cls.table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def run_(self, statement, **kw):
        return self.ddb.execute_statement(Statement=statement, **kw)

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response

    def statement_error(self, statement, **kw):
        err = self.error(self.ddb.execute_statement, Statement=statement, **kw)
        return err["Error"]["Code"], err["Error"]["Message"]

    def partition(self, n=5):
        """A fresh partition with items sk = 1..n."""
        pk = uid()
        for i in range(1, n + 1):
            self.run_('INSERT INTO "%s" VALUE {\'pk\': ?, \'sk\': ?, \'n\': ?, \'tag\': ?, \'m\': {\'list\': [1, 2, ?]}}'
                      % self.table, Parameters=[{"S": pk}, {"N": str(i)}, {"N": str(i * 10)},
                                                {"S": "even" if i % 2 == 0 else "odd"}, {"S": "x%d" % i}])
        return pk

    def test_insert_then_select_by_full_key_round_trips_every_type(self):
        pk = uid()
        self.run_("INSERT INTO \"%s\" VALUE {'pk': '%s', 'sk': 1, 's': 'text', 'n': -1.50, 'b': TRUE, 'z': NULL, "
                  "'l': [1, 'two', [3]], 'm': {'a': {'b': 'deep'}}, 'ss': <<'x', 'y'>>, 'ns': <<1, 2>>, "
                  "'bin': ?, 'bs': ?}" % (self.table, pk),
                  Parameters=[{"B": b"\x00\x01"}, {"BS": [b"a", b"b"]}])
        got = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"N": "1"}})["Item"]
        items = self.run_('SELECT * FROM "%s" WHERE pk = ? AND sk = 1' % self.table, Parameters=[{"S": pk}])["Items"]
        self.assertEqual(items, [got])
        self.assertEqual(got["n"], {"N": "-1.5"})
        self.assertEqual(got["b"], {"BOOL": True})
        self.assertEqual(got["z"], {"NULL": True})
        self.assertEqual(got["l"], {"L": [{"N": "1"}, {"S": "two"}, {"L": [{"N": "3"}]}]})
        self.assertEqual(sorted(got["ss"]["SS"]), ["x", "y"])
        self.assertEqual(got["bin"], {"B": b"\x00\x01"})

    def test_insert_of_an_existing_key_is_duplicate_item(self):
        # AWS: "DuplicateItemException ... Duplicate primary key exists in table".
        pk = uid()
        self.run_("INSERT INTO \"%s\" VALUE {'pk': '%s', 'sk': 1, 'v': 1}" % (self.table, pk))
        code, msg = self.statement_error("INSERT INTO \"%s\" VALUE {'pk': '%s', 'sk': 1, 'v': 2}" % (self.table, pk))
        self.assertEqual((code, msg), ("DuplicateItemException", "Duplicate primary key exists in table"))
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"N": "1"}})["Item"]
        self.assertEqual(item["v"], {"N": "1"})

    def test_insert_validates_the_item_like_put_item(self):
        code, msg = self.statement_error("INSERT INTO \"%s\" VALUE {'pk': 'a'}" % self.table)
        self.assertEqual(code, "ValidationException")
        self.assertEqual(msg, "One or more parameter values were invalid: Missing the key sk in the item")
        code, msg = self.statement_error("INSERT INTO \"%s\" VALUE {'pk': 'a', 'sk': 'one'}" % self.table)
        self.assertIn("Type mismatch for key sk", msg)

    def test_select_by_partition_with_range_conditions(self):
        pk = self.partition()
        def sks(where, **kw):
            out = self.run_('SELECT sk FROM "%s" WHERE pk = \'%s\' AND %s' % (self.table, pk, where), **kw)["Items"]
            return [int(i["sk"]["N"]) for i in out]
        self.assertEqual(sks("sk > 2"), [3, 4, 5])
        self.assertEqual(sks("sk <= 2"), [1, 2])
        self.assertEqual(sks("sk BETWEEN 2 AND 4"), [2, 3, 4])
        self.assertEqual(sks("sk NOT BETWEEN 2 AND 4"), [1, 5])
        self.assertEqual(sks("sk IN [1, 5, 9]"), [1, 5])
        self.assertEqual(sks("tag = 'even'"), [2, 4])
        self.assertEqual(sks("n >= ? AND tag <> 'odd'", Parameters=[{"N": "25"}]), [4])
        self.assertEqual(sks("(tag = 'even' OR sk = 1) AND NOT sk = 4"), [1, 2])

    def test_select_functions_and_missing(self):
        pk = self.partition(3)
        self.run_("UPDATE \"%s\" SET extra = 'hello world' WHERE pk = '%s' AND sk = 2" % (self.table, pk))
        def sks(where):
            out = self.run_('SELECT sk FROM "%s" WHERE pk = \'%s\' AND %s' % (self.table, pk, where))["Items"]
            return [int(i["sk"]["N"]) for i in out]
        self.assertEqual(sks("begins_with(tag, 'ev')"), [2])
        self.assertEqual(sks("contains(extra, 'world')"), [2])
        self.assertEqual(sks("contains(m.list, 'x3')"), [3])
        self.assertEqual(sks("attribute_type(extra, 'S')"), [2])
        self.assertEqual(sks("size(m.list) = 3 AND size(tag) = 3"), [1, 3])
        self.assertEqual(sks("extra IS MISSING"), [1, 3])
        self.assertEqual(sks("extra IS NOT MISSING"), [2])
        self.assertEqual(sks("m.list[2] = 'x1'"), [1])

    def test_projection_of_nested_paths(self):
        pk = self.partition(1)
        items = self.run_('SELECT m.list[2], "tag" FROM "%s" WHERE pk = ? AND sk = 1' % self.table,
                          Parameters=[{"S": pk}])["Items"]
        self.assertEqual(items, [{"m": {"M": {"list": {"L": [{"S": "x1"}]}}}, "tag": {"S": "odd"}}])

    def test_in_on_the_partition_key_reads_each_partition(self):
        a, b = self.partition(2), self.partition(2)
        items = self.run_('SELECT pk, sk FROM "%s" WHERE pk IN [?, ?, \'none\']' % self.table,
                          Parameters=[{"S": a}, {"S": b}])["Items"]
        self.assertEqual(sorted((i["pk"]["S"], i["sk"]["N"]) for i in items),
                         sorted([(a, "1"), (a, "2"), (b, "1"), (b, "2")]))
        # ORDER BY the partition key orders the partitions (AWS's documented example).
        items = self.run_('SELECT pk FROM "%s" WHERE pk IN [?, ?] AND sk = 1 ORDER BY pk DESC' % self.table,
                          Parameters=[{"S": a}, {"S": b}])["Items"]
        self.assertEqual([i["pk"]["S"] for i in items], sorted([a, b], reverse=True))

    def test_order_by_the_sort_key(self):
        pk = self.partition(4)
        items = self.run_('SELECT sk FROM "%s" WHERE pk = \'%s\' ORDER BY sk DESC' % (self.table, pk))["Items"]
        self.assertEqual([i["sk"]["N"] for i in items], ["4", "3", "2", "1"])
        code, msg = self.statement_error('SELECT * FROM "%s" ORDER BY sk' % self.table)
        self.assertEqual((code, msg), ("ValidationException",
                                       "Must have WHERE clause in the statement when using ORDER BY clause."))

    def test_limit_and_next_token_page_through_everything_once(self):
        pk = self.partition(7)
        seen, token, pages = [], None, 0
        while True:
            kw = {"Limit": 3}
            if token:
                kw["NextToken"] = token
            out = self.run_('SELECT sk FROM "%s" WHERE pk = \'%s\'' % (self.table, pk), **kw)
            pages += 1
            seen += [int(i["sk"]["N"]) for i in out["Items"]]
            token = out.get("NextToken")
            if not token:
                break
            self.assertIn("LastEvaluatedKey", out)
        self.assertEqual(seen, [1, 2, 3, 4, 5, 6, 7])
        self.assertGreaterEqual(pages, 3)
        # Limit counts items evaluated, not items returned (as for Query).
        out = self.run_('SELECT sk FROM "%s" WHERE pk = \'%s\' AND tag = \'even\'' % (self.table, pk), Limit=2)
        self.assertEqual([i["sk"]["N"] for i in out["Items"]], ["2"])
        self.assertIn("NextToken", out)

    def test_next_token_of_another_statement_is_refused(self):
        pk = self.partition(3)
        out = self.run_('SELECT sk FROM "%s" WHERE pk = \'%s\'' % (self.table, pk), Limit=1)
        code, _ = self.statement_error('SELECT * FROM "%s"' % self.table, NextToken=out["NextToken"])
        self.assertEqual(code, "ValidationException")
        code, _ = self.statement_error('SELECT * FROM "%s"' % self.table, NextToken="not a token")
        self.assertEqual(code, "ValidationException")

    def test_scan_without_where_and_with_non_key_filter(self):
        pk = self.partition(3)
        items = self.run_('SELECT sk FROM "%s" WHERE n = 20 AND m.list[2] = \'x2\'' % self.table)["Items"]
        self.assertIn({"sk": {"N": "2"}}, items)
        everything = self.run_('SELECT pk FROM "%s"' % self.table)["Items"]
        self.assertIn({"pk": {"S": pk}}, everything)

    def test_reading_an_index(self):
        g = uid()
        self.run_("INSERT INTO \"%s\" VALUE {'pk': 'idx-%s', 'sk': 1, 'g': '%s'}" % (self.table, g, g))
        items = self.run_('SELECT pk FROM "%s"."byG" WHERE g = ?' % self.table, Parameters=[{"S": g}])["Items"]
        self.assertEqual(items, [{"pk": {"S": "idx-" + g}}])
        # The index is kept by the same write path: DELETE removes the entry.
        self.run_("DELETE FROM \"%s\" WHERE pk = 'idx-%s' AND sk = 1" % (self.table, g))
        self.assertEqual(self.run_('SELECT pk FROM "%s"."byG" WHERE g = \'%s\'' % (self.table, g))["Items"], [])
        code, msg = self.statement_error('SELECT * FROM "%s"."byG" WHERE g = \'x\'' % self.table, ConsistentRead=True)
        self.assertEqual(msg, "Consistent reads are not supported on global secondary indexes")
        code, msg = self.statement_error('SELECT * FROM "%s"."nope"' % self.table)
        self.assertEqual(msg, "The table does not have the specified index: nope")

    def test_update_set_remove_and_returning(self):
        pk = self.partition(1)
        out = self.run_("UPDATE \"%s\" SET n = n + 5 SET m.list[0] = 'first', fresh = ? REMOVE tag "
                        "WHERE pk = '%s' AND sk = 1 RETURNING ALL NEW *" % (self.table, pk), Parameters=[{"L": []}])
        item = out["Items"][0]
        self.assertEqual(item["n"], {"N": "15"})
        self.assertEqual(item["m"]["M"]["list"]["L"][0], {"S": "first"})
        self.assertEqual(item["fresh"], {"L": []})
        self.assertNotIn("tag", item)
        out = self.run_("UPDATE \"%s\" SET n = 1 WHERE pk = '%s' AND sk = 1 RETURNING MODIFIED OLD *" % (self.table, pk))
        self.assertEqual(out["Items"], [{"n": {"N": "15"}}])
        out = self.run_("UPDATE \"%s\" SET ss = set_add(ss, <<'a', 'b'>>) WHERE pk = '%s' AND sk = 1" % (self.table, pk))
        self.assertEqual(out["Items"], [])
        self.run_("UPDATE \"%s\" SET ss = set_delete(ss, <<'a'>>) SET m.list = list_append(m.list, [9]) "
                  "WHERE pk = '%s' AND sk = 1" % (self.table, pk))
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"N": "1"}})["Item"]
        self.assertEqual(item["ss"], {"SS": ["b"]})
        self.assertEqual(item["m"]["M"]["list"]["L"][-1], {"N": "9"})

    def test_update_conditions_and_missing_items(self):
        pk = self.partition(1)
        code, msg = self.statement_error("UPDATE \"%s\" SET n = 0 WHERE pk = '%s' AND sk = 1 AND n > 100"
                                         % (self.table, pk), ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(code, "ConditionalCheckFailedException")
        err = self.error(self.ddb.execute_statement, ReturnValuesOnConditionCheckFailure="ALL_OLD",
                         Statement="UPDATE \"%s\" SET n = 0 WHERE pk = '%s' AND sk = 1 AND n > 100" % (self.table, pk))
        self.assertEqual(err["Item"]["n"], {"N": "10"})
        # UPDATE never creates an item.
        code, _ = self.statement_error("UPDATE \"%s\" SET n = 0 WHERE pk = 'missing-%s' AND sk = 1" % (self.table, pk))
        self.assertEqual(code, "ConditionalCheckFailedException")
        self.assertNotIn("Item", self.ddb.get_item(TableName=self.table,
                                                   Key={"pk": {"S": "missing-" + pk}, "sk": {"N": "1"}}))
        code, msg = self.statement_error("UPDATE \"%s\" SET n = 0 WHERE pk = '%s'" % (self.table, pk))
        self.assertEqual((code, msg), ("ValidationException",
                                       "Where clause does not contain a mandatory equality on all key attributes"))
        code, msg = self.statement_error("UPDATE \"%s\" SET sk = 2 WHERE pk = '%s' AND sk = 1" % (self.table, pk))
        self.assertEqual(msg, "One or more parameter values were invalid: Cannot update attribute sk. "
                              "This attribute is part of the key")

    def test_delete_with_condition_and_returning(self):
        pk = self.partition(2)
        code, _ = self.statement_error("DELETE FROM \"%s\" WHERE pk = '%s' AND sk = 1 AND tag = 'even'" % (self.table, pk))
        self.assertEqual(code, "ConditionalCheckFailedException")
        out = self.run_("DELETE FROM \"%s\" WHERE pk = '%s' AND sk = 1 AND tag = 'odd' RETURNING ALL OLD *"
                        % (self.table, pk))
        self.assertEqual(out["Items"][0]["sk"], {"N": "1"})
        # Deleting a missing item succeeds, as DeleteItem does.
        self.assertEqual(self.run_("DELETE FROM \"%s\" WHERE pk = '%s' AND sk = 1" % (self.table, pk))["Items"], [])

    def test_consumed_capacity(self):
        pk = self.partition(1)
        out = self.run_('SELECT * FROM "%s" WHERE pk = \'%s\' AND sk = 1' % (self.table, pk),
                        ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
        self.assertEqual(out["ConsumedCapacity"], {"TableName": self.table, "CapacityUnits": 1.0})
        out = self.run_("UPDATE \"%s\" SET v = 1 WHERE pk = '%s' AND sk = 1" % (self.table, pk),
                        ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"]["TableName"], self.table)

    def test_malformed_statements(self):
        t = self.table
        for statement in ['SELEC * FROM "%s"' % t, 'SELECT * "%s"' % t, 'SELECT * FROM "%s" WHERE' % t,
                          'SELECT * FROM "%s" WHERE pk = ' % t, "INSERT INTO \"%s\" VALUES {'pk': 'a'}" % t,
                          'UPDATE "%s" WHERE pk = \'a\'' % t, 'DELETE "%s" WHERE pk = \'a\'' % t,
                          "SELECT * FROM \"%s\" WHERE pk = 'unterminated" % t, 'SELECT * FROM "%s" WHERE a = 1e' % t,
                          "INSERT INTO \"%s\" VALUE {'pk': 'a', 'sk': 1} WHERE pk = 'a'" % t]:
            code, msg = self.statement_error(statement)
            self.assertEqual(code, "ValidationException", statement)
            self.assertTrue(msg.startswith("Statement wasn't well formed, can't be processed"), (statement, msg))
        code, msg = self.statement_error('SELECT * FROM "%s" WHERE pk = ?' % t)
        self.assertEqual(msg, "Number of parameters in request and statement don't match.")
        code, msg = self.statement_error('SELECT * FROM "%s" WHERE pk = ?' % t, Parameters=[{"S": "a"}, {"S": "b"}])
        self.assertEqual(msg, "Number of parameters in request and statement don't match.")
        err = self.error(self.raw.execute_statement, Statement='SELECT * FROM "%s"' % t, Parameters=[])
        msg = err["Error"]["Message"]
        self.assertEqual(msg, "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 1")
        code, msg = self.statement_error("SELECT * FROM \"%s\" WHERE a = '%s'" % (t, "x" * 8200))
        self.assertIn("Member must have length less than or equal to 8192", msg)
        code, msg = self.statement_error('SELECT * FROM "nope-%s"' % uid())
        self.assertEqual((code, msg), ("ResourceNotFoundException", "Requested resource not found"))
        msg = self.error(self.raw.execute_statement, Statement='SELECT * FROM "%s"' % t, Limit=0)["Error"]["Message"]
        self.assertIn("Member must have value greater than or equal to 1", msg)

    def test_batch_execute_statement(self):
        pk = uid()
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': ?, 'sk': %d}" % (self.table, i), "Parameters": [{"S": pk}]}
            for i in range(1, 4)] + [{"Statement": "INSERT INTO \"%s\" VALUE {'pk': 'x'}" % self.table}])
        self.assertEqual([r.get("TableName") for r in out["Responses"][:3]], [self.table] * 3)
        self.assertEqual(out["Responses"][3]["Error"]["Code"], "ValidationError")
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": 'SELECT sk FROM "%s" WHERE pk = ? AND sk = 1' % self.table, "Parameters": [{"S": pk}]},
            {"Statement": 'SELECT sk FROM "%s" WHERE pk = ? AND sk = 9' % self.table, "Parameters": [{"S": pk}]},
            {"Statement": 'SELECT sk FROM "%s" WHERE pk = ?' % self.table, "Parameters": [{"S": pk}]},
            {"Statement": 'SELECT sk FROM "nope-%s" WHERE pk = 1' % pk},
            {"Statement": 'SELEC sk FROM "%s"' % self.table}])
        r = out["Responses"]
        self.assertEqual(r[0], {"TableName": self.table, "Item": {"sk": {"N": "1"}}})
        self.assertEqual(r[1], {"TableName": self.table})
        self.assertEqual(r[2]["Error"], {"Code": "ValidationError", "Message": "Select statements within "
                                         "BatchExecuteStatement must specify the primary key in the where clause."})
        self.assertEqual(r[3]["Error"]["Code"], "ResourceNotFound")
        self.assertEqual(r[4]["Error"]["Code"], "ValidationError")
        # A failed condition is that statement's error; the others are applied.
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": "UPDATE \"%s\" SET v = 1 WHERE pk = '%s' AND sk = 1 AND v = 5" % (self.table, pk),
             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
            {"Statement": "UPDATE \"%s\" SET v = 2 WHERE pk = '%s' AND sk = 2" % (self.table, pk)},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': '%s', 'sk': 3}" % (self.table, pk)}])
        r = out["Responses"]
        self.assertEqual(r[0]["Error"]["Code"], "ConditionalCheckFailed")
        self.assertEqual(r[0]["Error"]["Item"]["sk"], {"N": "1"})
        self.assertNotIn("Error", r[1])
        self.assertEqual(r[2]["Error"], {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"})
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"N": "2"}})["Item"]
        self.assertEqual(item["v"], {"N": "2"})

    def test_batch_limits(self):
        stmt = {"Statement": 'SELECT * FROM "%s" WHERE pk = \'a\' AND sk = 1' % self.table}
        err = self.error(self.ddb.batch_execute_statement, Statements=[stmt] * 26)
        self.assertIn("Member must have length less than or equal to 25", err["Error"]["Message"])
        err = self.error(self.raw.batch_execute_statement, Statements=[])
        self.assertEqual(err["Error"]["Message"], "1 validation error detected: Value '[]' at 'statements' failed to "
                                                  "satisfy constraint: Member must have length greater than or equal to 1")
        err = self.error(self.ddb.batch_execute_statement, Statements=[
            stmt, {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 1" % self.table}])
        self.assertEqual(err["Error"]["Code"], "ValidationException")  # reads and writes mixed

    def test_execute_transaction_is_all_or_nothing(self):
        pk = self.partition(3)
        err = self.error(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "UPDATE \"%s\" SET v = 1 WHERE pk = '%s' AND sk = 1" % (self.table, pk)},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': '%s', 'sk': 2}" % (self.table, pk)},
            {"Statement": "EXISTS(SELECT * FROM \"%s\" WHERE pk = '%s' AND sk = 3 AND tag = 'even')" % (self.table, pk)}])
        self.assertEqual(err["Error"]["Code"], "TransactionCanceledException")
        self.assertEqual([r["Code"] for r in err["CancellationReasons"]],
                         ["None", "DuplicateItem", "ConditionalCheckFailed"])
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"N": "1"}})["Item"]
        self.assertNotIn("v", item)  # nothing applied
        self.ddb.execute_transaction(TransactStatements=[
            {"Statement": "UPDATE \"%s\" SET v = 1 WHERE pk = '%s' AND sk = 1" % (self.table, pk)},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = '%s' AND sk = 2" % (self.table, pk)},
            {"Statement": "INSERT INTO \"%s\" VALUE {'pk': '%s', 'sk': 4}" % (self.table, pk)},
            {"Statement": "EXISTS(SELECT * FROM \"%s\" WHERE pk = ? AND sk = 3 AND tag = 'odd')" % self.table,
             "Parameters": [{"S": pk}]}])
        out = self.ddb.execute_transaction(TransactStatements=[
            {"Statement": 'SELECT v FROM "%s" WHERE pk = \'%s\' AND sk = 1' % (self.table, pk)},
            {"Statement": 'SELECT * FROM "%s" WHERE pk = \'%s\' AND sk = 2' % (self.table, pk)},
            {"Statement": 'SELECT sk FROM "%s" WHERE pk = \'%s\' AND sk = 4' % (self.table, pk)}])
        self.assertEqual(out["Responses"], [{"Item": {"v": {"N": "1"}}}, {}, {"Item": {"sk": {"N": "4"}}}])

    def test_execute_transaction_errors(self):
        pk = uid()
        err = self.error(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": "UPDATE \"%s\" SET v = 1 WHERE pk = '%s' AND sk = 1" % (self.table, pk)},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = '%s' AND sk = 1" % (self.table, pk)}])
        self.assertEqual(err["Error"]["Message"], "Transaction request cannot include multiple operations on one item")
        err = self.error(self.ddb.execute_transaction, TransactStatements=[
            {"Statement": 'SELECT * FROM "%s" WHERE pk = \'a\' AND sk = 1' % self.table},
            {"Statement": "DELETE FROM \"%s\" WHERE pk = 'a' AND sk = 1" % self.table}])
        self.assertEqual(err["Error"]["Code"], "ValidationException")  # reads and writes mixed
        code, _ = self.statement_error("EXISTS(SELECT * FROM \"%s\" WHERE pk = 'a' AND sk = 1)" % self.table)
        self.assertEqual(code, "ValidationException")  # EXISTS only in transactions

    def test_execute_transaction_client_request_token(self):
        pk = uid()
        statements = [{"Statement": "UPDATE \"%s\" SET v = v + 1 WHERE pk = '%s' AND sk = 1" % (self.table, pk)}]
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": pk}, "sk": {"N": "1"}, "v": {"N": "0"}})
        token = str(uuid.uuid4())
        self.ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
        self.ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)  # replay
        item = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"N": "1"}})["Item"]
        self.assertEqual(item["v"], {"N": "1"})
        err = self.error(self.ddb.execute_transaction, ClientRequestToken=token, TransactStatements=[
            {"Statement": "UPDATE \"%s\" SET v = 5 WHERE pk = '%s' AND sk = 1" % (self.table, pk)}])
        self.assertEqual(err["Error"]["Code"], "IdempotentParameterMismatchException")


if __name__ == "__main__":
    unittest.main()

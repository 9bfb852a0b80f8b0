// PartiQL through the AWS SDK for JavaScript v3: ExecuteStatementCommand of the low-level
// client and of the DocumentClient (native JS values as parameters and results, as
// applications use it), BatchExecuteStatementCommand and ExecuteTransactionCommand.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  DynamoDBClient, CreateTableCommand, ExecuteStatementCommand, BatchExecuteStatementCommand,
  ExecuteTransactionCommand, DuplicateItemException, ConditionalCheckFailedException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient, ExecuteStatementCommand as DocExecuteStatementCommand,
  BatchExecuteStatementCommand as DocBatchExecuteStatementCommand,
} from "@aws-sdk/lib-dynamodb";
import { startDaemon } from "./daemon.mjs";

let daemon, client, doc;
const table = `pq-js-${Date.now()}`;

before(async () => {
  daemon = await startDaemon();
  client = new DynamoDBClient({
    endpoint: daemon.endpoint, region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  doc = DynamoDBDocumentClient.from(client);
  await client.send(new CreateTableCommand({
    TableName: table, BillingMode: "PAY_PER_REQUEST",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "N" }],
  }));
});

after(async () => {
  client?.destroy();
  await daemon?.stop();
});

test("ExecuteStatementCommand inserts and selects with typed parameters", async () => {
  await client.send(new ExecuteStatementCommand({
    Statement: `INSERT INTO "${table}" VALUE {'pk': ?, 'sk': ?, 'tags': ?, 'n': 1.25}`,
    Parameters: [{ S: "a" }, { N: "1" }, { SS: ["x", "y"] }],
  }));
  const { Items } = await client.send(new ExecuteStatementCommand({
    Statement: `SELECT pk, n, tags FROM "${table}" WHERE pk = ? AND sk = ?`,
    Parameters: [{ S: "a" }, { N: "1" }],
  }));
  assert.equal(Items.length, 1);
  assert.deepEqual(Items[0].pk, { S: "a" });
  assert.deepEqual(Items[0].n, { N: "1.25" });
  assert.deepEqual([...Items[0].tags.SS].sort(), ["x", "y"]);
});

test("DocumentClient ExecuteStatementCommand takes and returns native values", async () => {
  await doc.send(new DocExecuteStatementCommand({
    Statement: `INSERT INTO "${table}" VALUE {'pk': ?, 'sk': ?, 'nested': ?}`,
    Parameters: ["doc", 1, { list: [1, "two", null, true], flag: false }],
  }));
  await doc.send(new DocExecuteStatementCommand({
    Statement: `UPDATE "${table}" SET nested.list[1] = ? REMOVE nested.flag WHERE pk = ? AND sk = ?`,
    Parameters: ["TWO", "doc", 1],
  }));
  const { Items } = await doc.send(new DocExecuteStatementCommand({
    Statement: `SELECT * FROM "${table}" WHERE pk = ?`, Parameters: ["doc"],
  }));
  assert.deepEqual(Items, [{ pk: "doc", sk: 1, nested: { list: [1, "TWO", null, true] } }]);
});

test("an INSERT of an existing key is DuplicateItemException", async () => {
  await client.send(new ExecuteStatementCommand({ Statement: `INSERT INTO "${table}" VALUE {'pk': 'dup', 'sk': 1}` }));
  await assert.rejects(
    client.send(new ExecuteStatementCommand({ Statement: `INSERT INTO "${table}" VALUE {'pk': 'dup', 'sk': 1}` })),
    (e) => e instanceof DuplicateItemException && e.message === "Duplicate primary key exists in table",
  );
});

test("a failed UPDATE condition is ConditionalCheckFailedException with the item", async () => {
  await client.send(new ExecuteStatementCommand({ Statement: `INSERT INTO "${table}" VALUE {'pk': 'c', 'sk': 1, 'v': 1}` }));
  await assert.rejects(
    client.send(new ExecuteStatementCommand({
      Statement: `UPDATE "${table}" SET v = 2 WHERE pk = 'c' AND sk = 1 AND v = 5`,
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    })),
    (e) => e instanceof ConditionalCheckFailedException && e.Item?.v?.N === "1",
  );
});

test("NextToken pages through every item once", async () => {
  for (let i = 1; i <= 7; i++)
    await doc.send(new DocExecuteStatementCommand({
      Statement: `INSERT INTO "${table}" VALUE {'pk': 'page', 'sk': ?}`, Parameters: [i],
    }));
  const seen = [];
  let pages = 0;
  let NextToken;
  do {
    const page = await client.send(new ExecuteStatementCommand({
      Statement: `SELECT sk FROM "${table}" WHERE pk = 'page'`, Limit: 3, NextToken,
    }));
    pages++;
    for (const item of page.Items) seen.push(Number(item.sk.N));
    NextToken = page.NextToken;
  } while (NextToken);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(pages >= 3);
});

test("BatchExecuteStatementCommand answers each statement on its own", async () => {
  const { Responses } = await doc.send(new DocBatchExecuteStatementCommand({
    Statements: [
      { Statement: `SELECT * FROM "${table}" WHERE pk = ? AND sk = ?`, Parameters: ["c", 1] },
      { Statement: `SELECT * FROM "${table}" WHERE pk = ?`, Parameters: ["c"] },
    ],
  }));
  assert.equal(Responses[0].Item.v, 1);
  assert.equal(Responses[1].Error.Code, "ValidationError");
});

test("ExecuteTransactionCommand applies all or nothing", async () => {
  await assert.rejects(
    client.send(new ExecuteTransactionCommand({
      TransactStatements: [
        { Statement: `UPDATE "${table}" SET v = 10 WHERE pk = 'c' AND sk = 1` },
        { Statement: `INSERT INTO "${table}" VALUE {'pk': 'dup', 'sk': 1}` },
      ],
    })),
    (e) => e instanceof TransactionCanceledException &&
      e.CancellationReasons.map((r) => r.Code).join() === "None,DuplicateItem",
  );
  const { Responses } = await client.send(new ExecuteTransactionCommand({
    TransactStatements: [{ Statement: `SELECT v FROM "${table}" WHERE pk = 'c' AND sk = 1` }],
  }));
  assert.deepEqual(Responses, [{ Item: { v: { N: "1" } } }]);
});

test("a malformed statement is a ValidationException", async () => {
  await assert.rejects(
    client.send(new ExecuteStatementCommand({ Statement: `SELECT * FORM "${table}"` })),
    (e) => e.name === "ValidationException" && e.message.startsWith("Statement wasn't well formed"),
  );
});

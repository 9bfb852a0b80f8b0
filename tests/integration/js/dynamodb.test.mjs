// DynamoDB through the AWS SDK for JavaScript v3, unmodified but for the endpoint: the
// low-level client and the DocumentClient (lib-dynamodb) as applications use them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, ConditionalCheckFailedException,
  ResourceNotFoundException, TransactionCanceledException, waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient, PutCommand, GetCommand, UpdateCommand, QueryCommand, paginateQuery,
  BatchWriteCommand, TransactWriteCommand, DeleteCommand,
} from "@aws-sdk/lib-dynamodb";
import { startDaemon } from "./daemon.mjs";

let daemon, client, doc;
const table = `js-${Date.now()}`;

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
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: table });
});

after(async () => {
  client?.destroy();
  await daemon?.stop();
});

test("DescribeTable reports an ACTIVE table", async () => {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  assert.equal(Table.TableStatus, "ACTIVE");
  assert.equal(Table.KeySchema[0].AttributeName, "pk");
});

test("DocumentClient put / get round-trips native JS values", async () => {
  const item = { pk: "a", sk: 1, name: "x", tags: new Set(["p", "q"]), nested: { list: [1, "two", null, true] } };
  await doc.send(new PutCommand({ TableName: table, Item: item }));
  const { Item } = await doc.send(new GetCommand({ TableName: table, Key: { pk: "a", sk: 1 } }));
  assert.deepEqual(Item, item);
});

test("conditional put fails with ConditionalCheckFailedException", async () => {
  await doc.send(new PutCommand({ TableName: table, Item: { pk: "c", sk: 1, v: 1 } }));
  await assert.rejects(
    doc.send(new PutCommand({ TableName: table, Item: { pk: "c", sk: 1, v: 2 }, ConditionExpression: "attribute_not_exists(pk)" })),
    (e) => e instanceof ConditionalCheckFailedException && e.$metadata.httpStatusCode === 400,
  );
  const { Item } = await doc.send(new GetCommand({ TableName: table, Key: { pk: "c", sk: 1 } }));
  assert.equal(Item.v, 1);
});

test("update expression with arithmetic and ReturnValues", async () => {
  const { Attributes } = await doc.send(new UpdateCommand({
    TableName: table, Key: { pk: "u", sk: 1 },
    UpdateExpression: "SET #c = if_not_exists(#c, :zero) + :inc, #l = list_append(if_not_exists(#l, :empty), :item)",
    ExpressionAttributeNames: { "#c": "count", "#l": "log" },
    ExpressionAttributeValues: { ":zero": 0, ":inc": 5, ":empty": [], ":item": ["x"] },
    ReturnValues: "ALL_NEW",
  }));
  assert.equal(Attributes.count, 5);
  assert.deepEqual(Attributes.log, ["x"]);
});

test("query pages through many items in order with the paginator", async () => {
  const items = Array.from({ length: 60 }, (_, i) => ({ pk: "q", sk: i, v: i * 2 }));
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  const seen = [];
  for await (const page of paginateQuery({ client: doc, pageSize: 7 }, {
    TableName: table, KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
    ExpressionAttributeValues: { ":p": "q", ":a": 10, ":b": 49 },
  })) seen.push(...page.Items.map((i) => i.sk));
  assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i + 10));
  const back = await doc.send(new QueryCommand({
    TableName: table, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": "q" },
    ScanIndexForward: false, Limit: 3,
  }));
  assert.deepEqual(back.Items.map((i) => i.sk), [59, 58, 57]);
  assert.ok(back.LastEvaluatedKey);
});

test("transactions cancel as a whole with reasons", async () => {
  await doc.send(new PutCommand({ TableName: table, Item: { pk: "t", sk: 1 } }));
  await assert.rejects(
    doc.send(new TransactWriteCommand({ TransactItems: [
      { Put: { TableName: table, Item: { pk: "t", sk: 2 } } },
      { Put: { TableName: table, Item: { pk: "t", sk: 1 }, ConditionExpression: "attribute_not_exists(pk)" } },
    ] })),
    (e) => e instanceof TransactionCanceledException &&
      e.CancellationReasons.map((r) => r.Code).join(",") === "None,ConditionalCheckFailed",
  );
  const { Item } = await doc.send(new GetCommand({ TableName: table, Key: { pk: "t", sk: 2 } }));
  assert.equal(Item, undefined);
  await doc.send(new DeleteCommand({ TableName: table, Key: { pk: "t", sk: 1 } }));
});

test("a missing table is ResourceNotFoundException", async () => {
  await assert.rejects(doc.send(new GetCommand({ TableName: "no-such-table", Key: { pk: "a", sk: 1 } })),
    (e) => e instanceof ResourceNotFoundException);
});

// The benchmark's handlers, run by stratus and by serverless-offline alike.
const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient, GetCommand } = require("@aws-sdk/lib-dynamodb");

// A small JSON body (what an API's simplest route answers).
exports.hello = async () => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ ok: true, message: "hello from the benchmark" }),
});

// One GetItem from stratus's DynamoDB with the AWS SDK for JavaScript v3 (the endpoint
// comes from AWS_ENDPOINT_URL, as handlers on stratus get it).
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
exports.item = async () => {
  const out = await db.send(new GetCommand({ TableName: process.env.TABLE || "bench", Key: { pk: "item-1" } }));
  return { statusCode: out.Item ? 200 : 404, headers: { "content-type": "application/json" }, body: JSON.stringify(out.Item || {}) };
};

// The event itself (bench/gateway.py takes a real one to Invoke the function directly with).
exports.echo = async (event) => ({ statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(event) });

'use strict';
// CommonJS handlers with the SDK v3 DocumentClient (no endpoint in the code).
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, PutCommand, GetCommand, ScanCommand, UpdateCommand, DeleteCommand } = require('@aws-sdk/lib-dynamodb');
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TableName = process.env.ITEMS_TABLE;
const res = (statusCode, body) => ({ statusCode, body: JSON.stringify(body) });

module.exports.create = async (event) => {
  const item = { id: String(Date.now()) + Math.random().toString(16).slice(2, 6), ...JSON.parse(event.body || '{}') };
  await db.send(new PutCommand({ TableName, Item: item }));
  return res(201, item);
};
module.exports.get = async (event) => {
  const out = await db.send(new GetCommand({ TableName, Key: { id: event.pathParameters.id } }));
  return out.Item ? res(200, out.Item) : res(404, { message: 'not found' });
};
module.exports.list = async () => res(200, (await db.send(new ScanCommand({ TableName }))).Items);
module.exports.update = async (event) => {
  const out = await db.send(new UpdateCommand({
    TableName, Key: { id: event.pathParameters.id }, UpdateExpression: 'SET #n = :n',
    ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': JSON.parse(event.body).name }, ReturnValues: 'ALL_NEW',
  }));
  return res(200, out.Attributes);
};
module.exports.remove = async (event) => {
  await db.send(new DeleteCommand({ TableName, Key: { id: event.pathParameters.id } }));
  return { statusCode: 204 };
};

'use strict';
// The aws-sdk v2 way: a DocumentClient and an S3 client made with no endpoint.
const AWS = require('aws-sdk');
const docs = new AWS.DynamoDB.DocumentClient();
const s3 = new AWS.S3();

module.exports.cjs = async (event) => {
  await docs.put({ TableName: process.env.TABLE, Item: { id: event.id, via: 'cjs' } }).promise();
  const got = await docs.get({ TableName: process.env.TABLE, Key: { id: event.id } }).promise();
  await s3.putObject({ Bucket: process.env.BUCKET, Key: event.id + '.txt', Body: 'from v2' }).promise();
  const obj = await s3.getObject({ Bucket: process.env.BUCKET, Key: event.id + '.txt' }).promise();
  return { item: got.Item, body: obj.Body.toString(), endpoint: s3.endpoint.href };
};

// ES module importing one client of the v2 package.
import DynamoDB from 'aws-sdk/clients/dynamodb.js';

const db = new DynamoDB();
export const handler = async () => {
  const out = await db.listTables({}).promise();
  return { tables: out.TableNames, endpoint: db.endpoint.href };
};

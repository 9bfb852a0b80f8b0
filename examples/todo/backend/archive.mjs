// Every hour: todos done for more than a day are archived (they leave the list).
import { ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { TODOS, db } from "./db.mjs";

export const handler = async (event) => {
  const olderThan = event?.olderThanSeconds ?? 86400;
  const cutoff = new Date(Date.now() - olderThan * 1000).toISOString();
  let archived = 0;
  let start;
  do {
    const page = await db.send(new ScanCommand({
      TableName: TODOS,
      FilterExpression: "done = :t AND archived = :f AND createdAt <= :c",
      ExpressionAttributeValues: { ":t": true, ":f": false, ":c": cutoff },
      ExclusiveStartKey: start,
    }));
    for (const item of page.Items ?? []) {
      await db.send(new UpdateCommand({
        TableName: TODOS,
        Key: { userId: item.userId, id: item.id },
        UpdateExpression: "SET archived = :t",
        ExpressionAttributeValues: { ":t": true },
      }));
      archived++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  console.log("archived", archived);
  return { archived };
};

// The todos table's stream: per-user counters (total, done, archived) in the counters
// table, kept with atomic ADDs so batches may overlap.
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { COUNTERS, db } from "./db.mjs";

const flag = (image, name) => (image && image[name] ? 1 : 0);

export const handler = async (event) => {
  const deltas = new Map();
  for (const record of event.Records ?? []) {
    const before = record.dynamodb.OldImage ? unmarshall(record.dynamodb.OldImage) : null;
    const after = record.dynamodb.NewImage ? unmarshall(record.dynamodb.NewImage) : null;
    const userId = (after ?? before).userId;
    const d = deltas.get(userId) ?? { total: 0, done: 0, archived: 0 };
    d.total += (after ? 1 : 0) - (before ? 1 : 0);
    d.done += flag(after, "done") - flag(before, "done");
    d.archived += flag(after, "archived") - flag(before, "archived");
    deltas.set(userId, d);
  }
  for (const [userId, d] of deltas) {
    await db.send(new UpdateCommand({
      TableName: COUNTERS,
      Key: { userId },
      UpdateExpression: "ADD #t :t, #d :d, #a :a",
      ExpressionAttributeNames: { "#t": "total", "#d": "done", "#a": "archived" },
      ExpressionAttributeValues: { ":t": d.total, ":d": d.done, ":a": d.archived },
    }));
  }
  console.log("counted", event.Records?.length ?? 0, "change(s) for", deltas.size, "user(s)");
};

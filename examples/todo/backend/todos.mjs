import { randomUUID } from "node:crypto";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { COUNTERS, TODOS, bodyOf, db, json, userOf } from "./db.mjs";

// GET /api/config (no sign-in): where the single-page app gets its tokens.
export const config = async () => json(200, { issuer: process.env.ISSUER, audience: process.env.AUDIENCE });

// GET /api/todos: the user's todos, oldest first (the byCreated index).
export const list = async (event) => {
  const userId = userOf(event);
  const out = await db.send(new QueryCommand({
    TableName: TODOS,
    IndexName: "byCreated",
    KeyConditionExpression: "userId = :u",
    ExpressionAttributeValues: { ":u": userId },
  }));
  return json(200, { items: out.Items ?? [] });
};

// POST /api/todos {title}
export const create = async (event) => {
  const userId = userOf(event);
  const body = bodyOf(event);
  const title = String(body.title ?? "").trim();
  if (!title) return json(400, { message: "title is required" });
  const item = { userId, id: randomUUID(), title, done: false, archived: false, createdAt: new Date().toISOString() };
  await db.send(new PutCommand({ TableName: TODOS, Item: item }));
  return json(201, item);
};

// PUT /api/todos/{id} {title?, done?}
export const update = async (event) => {
  const userId = userOf(event);
  const id = event.pathParameters.id;
  const body = bodyOf(event);
  const sets = [];
  const values = {};
  if (typeof body.title === "string" && body.title.trim()) { sets.push("title = :t"); values[":t"] = body.title.trim(); }
  if (typeof body.done === "boolean") { sets.push("done = :d"); values[":d"] = body.done; }
  if (sets.length === 0) return json(400, { message: "nothing to update" });
  try {
    const out = await db.send(new UpdateCommand({
      TableName: TODOS,
      Key: { userId, id },
      UpdateExpression: "SET " + sets.join(", "),
      ConditionExpression: "attribute_exists(id)",
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW",
    }));
    return json(200, out.Attributes);
  } catch (err) {
    if (err.name === "ConditionalCheckFailedException") return json(404, { message: "no such todo" });
    throw err;
  }
};

// DELETE /api/todos/{id}
export const remove = async (event) => {
  const userId = userOf(event);
  const out = await db.send(new DeleteCommand({ TableName: TODOS, Key: { userId, id: event.pathParameters.id }, ReturnValues: "ALL_OLD" }));
  return out.Attributes ? { statusCode: 204 } : json(404, { message: "no such todo" });
};

// GET /api/stats: the counters the stream consumer keeps.
export const stats = async (event) => {
  const userId = userOf(event);
  const out = await db.send(new GetCommand({ TableName: COUNTERS, Key: { userId } }));
  const c = out.Item ?? {};
  return json(200, { total: c.total ?? 0, done: c.done ?? 0, archived: c.archived ?? 0 });
};

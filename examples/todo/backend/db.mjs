// The DocumentClient every handler shares. On AWS the SDK finds its endpoint itself;
// offline, AWS_ENDPOINT_URL (set by stratus, as by serverless-offline setups) points it at
// the emulator, with no code change.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
export const TODOS = process.env.TODOS_TABLE;
export const COUNTERS = process.env.COUNTERS_TABLE;

export function json(statusCode, body) {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

// The signed-in user: the JWT's subject (HTTP API) or the TOKEN authorizer's principal
// (REST API).
export function userOf(event) {
  const auth = event.requestContext?.authorizer ?? {};
  return auth.jwt?.claims?.sub ?? auth.principalId ?? auth.lambda?.sub;
}

// The request's JSON body (API Gateway base64-encodes bodies it takes for binary).
export function bodyOf(event) {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString() : event.body;
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

// POST /rest/todos/{id}/attachment {name, type} (REST API, TOKEN authorizer): a presigned
// PUT URL for the browser to upload the file to; S3 then triggers recordAttachment.
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { TODOS, bodyOf, db, userOf } from "./db.mjs";

// Offline, objects are addressed path-style (no BUCKET.localhost names to resolve). No
// checksum in the URL: the SDK would sign the CRC32 of an empty body, which S3 then holds
// the browser's upload to.
const s3 = new S3Client({ forcePathStyle: !!process.env.IS_OFFLINE, requestChecksumCalculation: "WHEN_REQUIRED" });

const cors = { "access-control-allow-origin": "*", "content-type": "application/json" };

export const presign = async (event) => {
  const userId = userOf(event);
  const id = event.pathParameters.id;
  const body = bodyOf(event);
  const name = String(body.name ?? "").replace(/[^\w.\- ]/g, "_").slice(0, 200);
  if (!name) return { statusCode: 400, headers: cors, body: JSON.stringify({ message: "name is required" }) };
  const todo = await db.send(new GetCommand({ TableName: TODOS, Key: { userId, id } }));
  if (!todo.Item) return { statusCode: 404, headers: cors, body: JSON.stringify({ message: "no such todo" }) };
  const key = `${userId}/${id}/${name}`;
  const url = await getSignedUrl(s3, new PutObjectCommand({
    Bucket: process.env.ATTACHMENTS_BUCKET,
    Key: key,
    ContentType: body.type || "application/octet-stream",
  }), { expiresIn: 300 });
  return { statusCode: 200, headers: cors, body: JSON.stringify({ url, key }) };
};

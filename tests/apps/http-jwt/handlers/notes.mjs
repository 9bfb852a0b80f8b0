export const handler = async (event) => ({
  statusCode: 200,
  body: JSON.stringify({ route: event.routeKey, sub: event.requestContext.authorizer?.jwt?.claims?.sub ?? null, table: process.env.NOTES_TABLE }),
});
export const health = async () => ({ ok: true });

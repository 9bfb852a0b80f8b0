export const handler = async () => ({ statusCode: 200, body: JSON.stringify({ hello: "from the API" }) });

export const list = async (event) => ({ statusCode: 200, body: JSON.stringify({ table: process.env.TABLE, path: event.rawPath ?? event.path }) });
export const auth = async (event) => ({
  principalId: "sam-user",
  policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: event.authorizationToken === "allow" ? "Allow" : "Deny", Resource: event.methodArn }] },
});
export const stream = async (event) => ({ records: event.Records?.length ?? 0 });

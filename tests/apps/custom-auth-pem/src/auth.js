'use strict';
// Verifies an RS256 JWT with the PEM public key from the environment.
const crypto = require('node:crypto');

function verify(token) {
  const [h, p, s] = token.split('.');
  const ok = crypto.verify('RSA-SHA256', Buffer.from(h + '.' + p), process.env.PUBLIC_KEY, Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (claims.exp && claims.exp * 1000 < Date.now()) throw new Error('expired');
  return claims;
}
const policy = (principalId, effect, resource, context) => ({
  principalId,
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
  context,
});

module.exports.token = async (event) => {
  try {
    const claims = verify(event.authorizationToken.replace(/^Bearer /, ''));
    return policy(claims.sub, claims.deny ? 'Deny' : 'Allow', event.methodArn, { role: claims.role || 'user' });
  } catch (e) {
    throw new Error('Unauthorized');
  }
};
module.exports.request = async (event) => {
  try {
    const claims = verify(event.queryStringParameters.token);
    return policy(claims.sub, 'Allow', event.methodArn, { role: claims.role || 'user' });
  } catch (e) {
    throw new Error('Unauthorized');
  }
};

// A Lambda TOKEN authorizer for the REST route: checks the same JWT the HTTP API's JWT
// authorizer checks (signature against the issuer's JWKS, expiry, audience, scope) and
// answers an IAM policy, as custom authorizers written for API Gateway do.
import { createPublicKey, verify } from "node:crypto";

let jwks;
async function keys() {
  if (!jwks) {
    const conf = await (await fetch(process.env.ISSUER + "/.well-known/openid-configuration")).json();
    jwks = (await (await fetch(conf.jwks_uri)).json()).keys;
  }
  return jwks;
}

const b64 = (s) => Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");

async function check(token) {
  const [h, p, s] = token.split(".");
  const header = JSON.parse(b64(h).toString());
  const claims = JSON.parse(b64(p).toString());
  const jwk = (await keys()).find((k) => !header.kid || k.kid === header.kid);
  if (!jwk) throw new Error("unknown key");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const data = Buffer.from(h + "." + p);
  const ok = header.alg === "RS256" ? verify("RSA-SHA256", data, key, b64(s))
    : header.alg === "ES256" ? verify("SHA256", data, { key, dsaEncoding: "ieee-p1363" }, b64(s))
    : false;
  if (!ok) throw new Error("bad signature");
  if (claims.exp && claims.exp * 1000 < Date.now()) throw new Error("expired");
  const aud = [].concat(claims.aud ?? []);
  if (!aud.includes(process.env.AUDIENCE)) throw new Error("wrong audience");
  const scopes = String(claims.scope ?? "").split(" ");
  if (!scopes.includes("todos/write")) throw new Error("missing scope todos/write");
  return claims;
}

export const handler = async (event) => {
  const token = String(event.authorizationToken ?? "").replace(/^Bearer\s+/i, "");
  try {
    const claims = await check(token);
    return {
      principalId: claims.sub,
      policyDocument: {
        Version: "2012-10-17",
        Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
      },
      context: { scope: String(claims.scope ?? "") },
    };
  } catch (err) {
    console.log("denied:", err.message);
    throw new Error("Unauthorized");
  }
};

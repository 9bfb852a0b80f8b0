"""CORS for both API types: REST preflights answered as the mock integration Serverless
and SAM configure (other responses carry what the function returns); HTTP API preflights
answered by the gateway, and the CORS headers on every response, authorizer denials and
gateway errors included. And a browser-like client (node's fetch) signing in with the
built-in issuer and calling the API with the token."""

import json
import os
import subprocess
import textwrap
import unittest

from . import common


class CorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = common.start()
        d = cls.d
        cls.echo = common.function(d, "index.echo")
        cls.cors_fn = common.function(d, "index.cors")
        e = cls.echo
        cls.rest = common.api(d, {"type": "rest", "stage": "dev", "routes": [
            {"method": "GET", "path": "/items", "function": e, "cors": True},
            {"method": "POST", "path": "/items", "function": e, "cors": True},
            {"method": "GET", "path": "/strict", "function": cls.cors_fn,
             "cors": {"allow_origins": ["https://a.example", "https://b.example"], "allow_headers": ["X-One"],
                      "allow_credentials": True, "max_age": 86400}},
            {"method": "OPTIONS", "path": "/own", "function": e, "cors": True},
            {"method": "GET", "path": "/nocors", "function": e}]})
        cls.issuer = "http://127.0.0.1:%d/_stratus" % d.port
        cls.http = common.api(d, {"type": "http",
                                  "cors": {"allow_origins": ["https://app.example", "http://localhost:8080"],
                                           "allow_methods": ["GET", "POST"], "allow_headers": ["authorization", "content-type"],
                                           "expose_headers": ["x-handler"], "allow_credentials": True, "max_age": 300},
                                  "authorizers": [{"name": "jwt", "kind": "jwt", "issuer": cls.issuer, "audiences": ["spa"]}],
                                  "routes": [
            {"method": "GET", "path": "/h/items", "function": e},
            {"method": "GET", "path": "/h/own-cors", "function": cls.cors_fn},
            {"method": "GET", "path": "/h/private", "function": e, "authorizer": "jwt"}]})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def preflight(self, path, origin="https://app.example", method="POST"):
        return common.call(self.d, "OPTIONS", path, headers={
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization"})

    # REST: the OPTIONS mock of a resource with cors: true (Serverless's defaults).
    def test_rest_preflight(self):
        r = self.preflight("/dev/items")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "OPTIONS,GET,POST")
        self.assertEqual(r.header("Access-Control-Allow-Headers"),
                         "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,X-Amzn-Trace-Id")
        self.assertTrue(r.header("x-amzn-RequestId"))
        # The detailed form: the listed origin that asked, credentials, max age.
        r = self.preflight("/dev/strict", origin="https://b.example", method="GET")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://b.example")
        self.assertEqual(r.header("Access-Control-Allow-Credentials"), "true")
        self.assertEqual(r.header("Access-Control-Max-Age"), "86400")
        self.assertEqual(r.header("Access-Control-Allow-Headers"), "X-One")
        # Other responses carry what the function returns, nothing added.
        r = common.call(self.d, "GET", "/dev/items", headers={"Origin": "https://x.example"})
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        r = common.call(self.d, "GET", "/dev/strict", headers={"Origin": "https://a.example"})
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://mine.example")
        # A resource's own OPTIONS method wins over the mock; no cors, no mock.
        r = self.preflight("/dev/own")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["event"]["httpMethod"], "OPTIONS")
        r = self.preflight("/dev/nocors")
        self.assertEqual((r.status, r.json()), (403, {"message": "Missing Authentication Token"}))

    # HTTP: the gateway answers preflights (no OPTIONS route needed) with the API's
    # configuration; an origin not allowed gets no CORS headers.
    def test_http_preflight(self):
        r = self.preflight("/h/items")
        self.assertEqual((r.status, r.body), (204, b""))
        self.assertEqual(r.header("access-control-allow-origin"), "https://app.example")
        self.assertEqual(r.header("access-control-allow-methods"), "GET,POST")
        self.assertEqual(r.header("access-control-allow-headers"), "authorization,content-type")
        self.assertEqual(r.header("access-control-allow-credentials"), "true")
        self.assertEqual(r.header("access-control-max-age"), "300")
        self.assertTrue(r.header("apigw-requestid"))
        # Even for a path without any route, and before any authorizer.
        self.assertEqual(self.preflight("/h/nothing-here").status, 204)
        self.assertEqual(self.preflight("/h/private").status, 204)
        r = self.preflight("/h/items", origin="https://evil.example")
        self.assertEqual(r.status, 204)
        self.assertIsNone(r.header("access-control-allow-origin"))

    # HTTP: CORS headers on every response, the function's own replaced, errors included.
    def test_http_headers_everywhere(self):
        origin = {"Origin": "https://app.example"}
        r = common.call(self.d, "GET", "/h/items", headers=origin)
        self.assertEqual(r.header("access-control-allow-origin"), "https://app.example")
        self.assertEqual(r.header("access-control-expose-headers"), "x-handler")
        self.assertEqual(r.header("access-control-allow-credentials"), "true")
        r = common.call(self.d, "GET", "/h/own-cors", headers=origin)
        self.assertEqual(r.all("access-control-allow-origin"), ["https://app.example"])
        for path, status in (("/h/private", 401), ("/h/nothing-here", 404)):
            r = common.call(self.d, "GET", path, headers=origin)
            self.assertEqual(r.status, status)
            self.assertEqual(r.header("access-control-allow-origin"), "https://app.example", path)
        r = common.call(self.d, "GET", "/h/private", headers={"Origin": "https://app.example",
                                                               "Authorization": "Bearer " + common.token(self.d, aud="other")})
        self.assertEqual((r.status, r.header("access-control-allow-origin")), (401, "https://app.example"))
        r = common.call(self.d, "GET", "/h/items", headers={"Origin": "https://evil.example"})
        self.assertIsNone(r.header("access-control-allow-origin"))

    # The single-page app's flow with node's fetch: sign in at /_stratus/token, call the API
    # with the token from another origin.
    def test_spa_flow_with_node_fetch(self):
        script = textwrap.dedent("""
            const [aws, api] = process.argv.slice(1);
            const origin = "http://localhost:8080";
            const t = await fetch(aws + "/_stratus/token", {method: "POST", headers: {"content-type": "application/json", origin},
                                  body: JSON.stringify({sub: "spa-user", aud: "spa", scope: "items:read"})});
            const {token} = await t.json();
            const pre = await fetch(api + "/h/private", {method: "OPTIONS", headers: {origin,
                                    "access-control-request-method": "GET", "access-control-request-headers": "authorization"}});
            const r = await fetch(api + "/h/private", {headers: {authorization: "Bearer " + token, origin}});
            const body = await r.json();
            console.log(JSON.stringify({tokenCors: t.headers.get("access-control-allow-origin"), pre: pre.status,
                                        preOrigin: pre.headers.get("access-control-allow-origin"), status: r.status,
                                        origin: r.headers.get("access-control-allow-origin"),
                                        sub: body.event.requestContext.authorizer.jwt.claims.sub}));
        """)
        out = subprocess.run(["node", "--input-type=module", "-e", script, self.d.endpoint, self.d.api_endpoint],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        got = json.loads(out.stdout)
        self.assertEqual(got, {"tokenCors": "*", "pre": 204, "preOrigin": "http://localhost:8080", "status": 200,
                               "origin": "http://localhost:8080", "sub": "spa-user"})


if __name__ == "__main__":
    unittest.main()

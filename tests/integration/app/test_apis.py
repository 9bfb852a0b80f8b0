"""The apps' APIs through the API Gateway, driven with plain HTTP as a browser or curl
would: REST CRUD with an API key, an HTTP API with JWT scopes (tokens from the built-in
issuer), custom TOKEN and REQUEST authorizers checking RS256 JWTs against a PEM key read
from a file, SAM's raw API Gateway resources, and a CloudFront-described site whose /api/*
behaviour reaches the API on the same origin. Skipped in a build without the gateway."""

import base64
import json
import os
import shutil
import subprocess
import time
import unittest

from app.common import APPS, api_url, app_info, copy_app, edit, has_gateway, http, start, token, wait_for


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rs256(claims, key_file):
    """A JWT signed with the app's test private key (openssl, no Python crypto library)."""
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_file], input=(head + "." + body).encode(),
                         capture_output=True, check=True).stdout
    return head + "." + body + "." + b64url(sig)


class AppApiTest(unittest.TestCase):
    app = None

    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.dir = copy_app(cls.app)
        cls.d = start(cls.dir, *(["--api-port", "0"] if "--api-port" in cls.help() else []))
        if not has_gateway(cls.d):
            cls.d.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise unittest.SkipTest("this build of stratus has no API Gateway")

    @staticmethod
    def help():
        from daemon import BIN
        return subprocess.run([BIN, "start", "--help"], capture_output=True, text=True).stdout

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)


class RestCrudApiTest(AppApiTest):
    # serverless-offline's bread and butter: CRUD over a REST API at /{stage}/...
    app = "rest-crud"

    def test_crud(self):
        base = api_url(self.d, "rest")
        self.assertTrue(base.endswith("/dev"), base)
        status, item, _ = http("POST", base + "/items", {"name": "first"})
        self.assertEqual(status, 201, item)
        status, got, _ = http("GET", base + "/items/" + item["id"])
        self.assertEqual((status, got["name"]), (200, "first"))
        status, got, _ = http("PUT", base + "/items/" + item["id"], {"name": "renamed"})
        self.assertEqual((status, got["name"]), (200, "renamed"))
        status, listed, _ = http("GET", base + "/items")
        self.assertIn(item["id"], [i["id"] for i in listed])
        # DELETE is `private: true`: the API key is required.
        status, _, _ = http("DELETE", base + "/items/" + item["id"])
        self.assertEqual(status, 403)
        status, _, _ = http("DELETE", base + "/items/" + item["id"], headers={"x-api-key": "partner-key-0123456789"})
        self.assertEqual(status, 204)
        status, _, _ = http("GET", base + "/items/" + item["id"])
        self.assertEqual(status, 404)

    def test_cors_preflight(self):
        status, _, h = http("OPTIONS", api_url(self.d, "rest") + "/items",
                            headers={"origin": "http://localhost:5173", "access-control-request-method": "POST"})
        self.assertIn(status, (200, 204))
        self.assertEqual(h.get("Access-Control-Allow-Origin"), "*")


class HttpJwtApiTest(AppApiTest):
    # JWT authorizer with per-route scopes; tokens from the built-in issuer, whose URL the
    # config reads from ${env:STRATUS_ISSUER}.
    app = "http-jwt"

    def test_scopes(self):
        base = api_url(self.d, "http")
        status, _, _ = http("GET", base + "/notes")
        self.assertEqual(status, 401)
        read = token(self.d, sub="ann", aud="notes-api", scope="notes:read")
        status, body, _ = http("GET", base + "/notes", headers={"authorization": "Bearer " + read})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["sub"], "ann")
        self.assertEqual(body["table"], "http-jwt-notes-dev")
        status, _, _ = http("POST", base + "/notes", {"text": "x"}, headers={"authorization": "Bearer " + read})
        self.assertEqual(status, 403)
        wrong_aud = token(self.d, sub="ann", aud="other", scope="notes:read")
        status, _, _ = http("GET", base + "/notes", headers={"authorization": "Bearer " + wrong_aud})
        self.assertEqual(status, 401)
        status, body, _ = http("DELETE", base + "/notes/n1")
        self.assertEqual((status, body["route"]), (200, "DELETE /notes/{id}"))
        status, body, _ = http("GET", base + "/anything/else")
        self.assertEqual((status, body), (200, {"ok": True}))  # the $default route


class CustomAuthorizerApiTest(AppApiTest):
    # TOKEN and REQUEST authorizers verifying RS256 JWTs with a PEM key from a file.
    app = "custom-auth-pem"

    def key(self):
        return os.path.join(self.dir, "keys", "private.pem")

    def test_token_authorizer(self):
        base = api_url(self.d, "rest")
        good = rs256({"sub": "u-7", "role": "admin", "exp": int(time.time()) + 300}, self.key())
        status, body, _ = http("GET", base + "/private", headers={"authorization": "Bearer " + good})
        self.assertEqual((status, body), (200, {"principal": "u-7", "role": "admin"}))
        status, body, h = http("GET", base + "/private", headers={"authorization": "Bearer " + good[:-4] + "abcd"})
        self.assertEqual((status, body), (401, {"error": "sign in first"}))  # the GatewayResponse
        self.assertEqual(h.get("Access-Control-Allow-Origin"), "*")
        denied = rs256({"sub": "u-8", "deny": True}, self.key())
        status, _, _ = http("GET", base + "/private", headers={"authorization": "Bearer " + denied})
        self.assertEqual(status, 403)
        status, _, _ = http("GET", base + "/private", headers={"authorization": "Basic xyz"})
        self.assertEqual(status, 401)  # identityValidationExpression
        status, body, _ = http("GET", base + "/public")
        self.assertEqual((status, body), (200, {"public": True}))

    def test_request_authorizer(self):
        base = api_url(self.d, "rest")
        good = rs256({"sub": "q-1"}, self.key())
        status, body, _ = http("GET", base + "/by-query?token=" + good)
        self.assertEqual((status, body["principal"]), (200, "q-1"))
        status, _, _ = http("GET", base + "/by-query")
        self.assertEqual(status, 401)


class SamRawApiTest(AppApiTest):
    # Raw RestApi / Resource / Method / Authorizer resources and an ApiGatewayV2 API.
    app = "sam-raw-api"

    def test_routes(self):
        base = api_url(self.d, "rest")
        self.assertTrue(base.endswith("/v1"), base)
        status, body, _ = http("GET", base + "/orders")
        self.assertEqual((status, body["orderId"]), (200, None))
        status, body, _ = http("GET", base + "/orders/o-9", headers={"authorization": "Bearer letmein"})
        self.assertEqual((status, body["orderId"], body["principal"]), (200, "o-9", "user-1"))
        status, _, _ = http("GET", base + "/orders/o-9", headers={"authorization": "Bearer nope"})
        self.assertEqual(status, 403)
        status, body, _ = http("GET", api_url(self.d, "http") + "/v2/orders")
        self.assertEqual(status, 200)


class CloudFrontSiteTest(AppApiTest):
    # The distribution's two behaviours on the site port: the bucket (with its custom error
    # responses) and /api/* to the HTTP API, one origin.
    app = "cloudfront-site"

    def test_site_and_api_on_one_origin(self):
        s3 = self.d.client("s3")
        s3.put_object(Bucket="cf-site-bucket", Key="index.html", Body=b"<h1>cf</h1>", ContentType="text/html")
        site = "http://127.0.0.1:%d" % self.d.site_port
        self.assertEqual(http("GET", site + "/")[:2], (200, "<h1>cf</h1>"))
        self.assertEqual(http("GET", site + "/deep/link.html")[:2], (200, "<h1>cf</h1>"))  # 404 -> /index.html, 200
        status, body, _ = http("GET", site + "/api/hello")
        self.assertEqual((status, body), (200, {"hello": "from the API"}))



class HotRouteTest(AppApiTest):
    # A route added to the config is served without a restart; one removed is gone.
    app = "rest-crud"

    def test_route_added_and_removed(self):
        config = os.path.join(self.dir, "serverless.yml")
        edit(config, "  list:\n    handler: src/items.list\n    events:\n      - http: GET items\n",
             "  list:\n    handler: src/items.list\n    events:\n      - http: GET items\n      - http: GET everything\n")
        base = api_url(self.d, "rest")
        wait_for(lambda: http("GET", base + "/everything")[0] == 200, what="the new route served")
        edit(config, "      - http: GET everything\n", "")
        wait_for(lambda: http("GET", base + "/everything")[0] != 200, what="the route removed")
        self.assertEqual(http("GET", base + "/items")[0], 200)


if __name__ == "__main__":
    unittest.main()

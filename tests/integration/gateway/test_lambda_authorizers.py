"""Lambda authorizers: REST TOKEN (identity header, validation expression) and REQUEST
(headers, query strings, stage variables), their policies evaluated against each methodArn,
every outcome (Allow, Deny, Unauthorized, crash, garbage), context values as AWS passes
them, caching by identity source with its TTL; HTTP API Lambda authorizers with payload 1.0,
2.0 and simple responses; REST API keys."""

import time
import unittest

from . import common


class LambdaAuthorizersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = common.start()
        d = cls.d
        cls.echo = common.function(d, "index.echo")
        token_fn = common.function(d, "index.tokenAuthorizer")
        request_fn = common.function(d, "index.requestAuthorizer")
        simple_fn = common.function(d, "index.simpleAuthorizer")
        py_auth = common.function(d, "handler.authorizer", runtime="python3.11", code=common.PYTHON)
        e = cls.echo
        cls.rest = common.api(d, {"type": "rest", "stage": "dev", "stage_variables": {"tier": "gold"},
                                  "api_keys": ["key-one-0123456789", "key-two-0123456789"],
                                  "authorizers": [
            {"name": "tok", "kind": "token", "function": token_fn, "result_ttl_seconds": 0,
             "identity_sources": ["method.request.header.Authorization"]},
            {"name": "tokcached", "kind": "token", "function": token_fn, "result_ttl_seconds": 1,
             "identity_sources": ["method.request.header.X-Token"]},
            {"name": "tokre", "kind": "token", "function": token_fn, "result_ttl_seconds": 0,
             "validation_expression": "^allow.*$"},
            {"name": "req", "kind": "request", "function": request_fn, "result_ttl_seconds": 300,
             "identity_sources": ["method.request.header.Auth", "method.request.querystring.q",
                                  "stageVariables.tier"]},
            {"name": "py", "kind": "request", "function": py_auth, "result_ttl_seconds": 0,
             "identity_sources": ["method.request.header.X-User"]},
            {"name": "gone", "kind": "token", "function": "no-such-authorizer", "result_ttl_seconds": 0}],
                                  "routes": [
            {"method": "ANY", "path": "/token", "function": e, "authorizer": "tok"},
            {"method": "ANY", "path": "/cached/{id}", "function": e, "authorizer": "tokcached"},
            {"method": "GET", "path": "/regex", "function": e, "authorizer": "tokre"},
            {"method": "ANY", "path": "/request", "function": e, "authorizer": "req"},
            {"method": "GET", "path": "/py", "function": e, "authorizer": "py"},
            {"method": "GET", "path": "/gone", "function": e, "authorizer": "gone"},
            {"method": "GET", "path": "/private", "function": e, "api_key_required": True},
            {"method": "GET", "path": "/private-auth", "function": e, "api_key_required": True, "authorizer": "tok"}]})
        cls.http = common.api(d, {"type": "http", "authorizers": [
            {"name": "v2", "kind": "request", "function": request_fn, "payload_format_version": "2.0",
             "identity_sources": ["$request.header.auth"], "result_ttl_seconds": 0},
            {"name": "v1", "kind": "request", "function": request_fn, "payload_format_version": "1.0",
             "identity_sources": ["$request.header.auth", "$request.querystring.q"], "result_ttl_seconds": 0},
            {"name": "simple", "kind": "request", "function": simple_fn, "payload_format_version": "2.0",
             "simple_responses": True, "identity_sources": ["$request.header.Authorization"],
             "result_ttl_seconds": 0}],
                                  "routes": [
            {"method": "ANY", "path": "/h/v2", "function": e, "authorizer": "v2"},
            {"method": "GET", "path": "/h/v1", "function": e, "authorizer": "v1"},
            {"method": "GET", "path": "/h/v1event", "function": e, "authorizer": "v1", "payload_format_version": "1.0"},
            {"method": "GET", "path": "/h/simple", "function": e, "authorizer": "simple"}]})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def call(self, path, method="GET", headers=None):
        return common.call(self.d, method, path, headers=headers)

    def ok(self, path, method="GET", headers=None):
        r = self.call(path, method, headers)
        self.assertEqual(r.status, 200, (path, r))
        return r.json()["event"]

    # TOKEN: Allow passes principalId and the context (values as strings) to the handler.
    def test_token_allow_and_context(self):
        e = self.ok("/dev/token", headers={"Authorization": "allow"})
        a = e["requestContext"]["authorizer"]
        self.assertEqual(a["principalId"], "user-allow")
        self.assertEqual((a["str"], a["num"], a["yes"]), ("s", "42", "true"))
        self.assertIsInstance(a["integrationLatency"], int)

    # Every other TOKEN outcome, each with AWS's status and body.
    def test_token_outcomes(self):
        cases = [
            (None, 401, {"message": "Unauthorized"}),
            ("", 401, {"message": "Unauthorized"}),
            ("unauthorized", 401, {"message": "Unauthorized"}),
            ("deny", 403, {"Message": "User is not authorized to access this resource with an explicit deny"}),
            ("other-api", 403, {"Message": "User is not authorized to access this resource"}),
            ("crash", 500, {"message": None}),
            ("garbage", 500, {"message": None}),
            ("no-principal", 500, {"message": None}),
            ("nested", 500, {"message": None}),
        ]
        for token, status, body in cases:
            headers = {} if token is None else {"Authorization": token}
            r = self.call("/dev/token", headers=headers)
            self.assertEqual((r.status, r.json()), (status, body), token)
            self.assertTrue(r.header("x-amzn-RequestId"))
        r = self.call("/dev/token", headers={"Authorization": "deny"})
        self.assertEqual(r.header("x-amzn-ErrorType"), "AccessDeniedException")
        r = self.call("/dev/token", headers={"Authorization": "unauthorized"})
        self.assertEqual(r.header("x-amzn-ErrorType"), "UnauthorizedException")
        r = self.call("/dev/token", headers={"Authorization": "crash"})
        self.assertEqual(r.header("x-amzn-ErrorType"), "AuthorizerConfigurationException")
        # An authorizer function that does not exist: a configuration error too.
        r = self.call("/dev/gone", headers={"Authorization": "allow"})
        self.assertEqual((r.status, r.json()), (500, {"message": None}))

    # The validation expression refuses before invoking anything.
    def test_validation_expression(self):
        self.ok("/dev/regex", headers={"Authorization": "allow"})
        r = self.call("/dev/regex", headers={"Authorization": "deny"})
        self.assertEqual((r.status, r.json()), (401, {"message": "Unauthorized"}))
        # A token near the 10,240-byte quota of request line and headers is matched whole
        # (RE2 since the fuzzer's find; std::regex recursed once per character, which this
        # quota kept within the stack, and a longer header is refused before any matching).
        # The first passes the expression and reaches the function, which denies what it
        # does not know (403); the second is refused without it (401).
        r = self.call("/dev/regex", headers={"Authorization": "allow" + "x" * 9000})
        self.assertEqual(r.status, 403)
        r = self.call("/dev/regex", headers={"Authorization": "deny" + "x" * 9000})
        self.assertEqual((r.status, r.json()), (401, {"message": "Unauthorized"}))
        r = self.call("/dev/regex", headers={"Authorization": "allow" + "x" * 60000})
        self.assertEqual((r.status, r.json()), (413, {"message": "Request Too Long"}))
        self.ok("/dev/regex", headers={"Authorization": "allow"})

    # Cached by the token for resultTtlInSeconds: no new invocation within it (the count in
    # the context stays), the cached policy is evaluated again for each method ARN, and
    # after the TTL the authorizer runs again.
    def test_cache_and_ttl(self):
        h = {"X-Token": "allow-get"}
        first = self.ok("/dev/cached/1", headers=h)["requestContext"]["authorizer"]["calls"]
        second = self.ok("/dev/cached/2", headers=h)["requestContext"]["authorizer"]["calls"]
        self.assertEqual(first, second)
        # The same cached policy says no to a POST (it allows GET only).
        r = self.call("/dev/cached/1", method="POST", headers=h)
        self.assertEqual(r.status, 403)
        time.sleep(1.1)
        third = self.ok("/dev/cached/1", headers=h)["requestContext"]["authorizer"]["calls"]
        self.assertNotEqual(third, first)
        # A different token is a different cache entry.
        other = self.ok("/dev/cached/1", headers={"X-Token": "allow"})["requestContext"]["authorizer"]["calls"]
        self.assertNotEqual(other, third)

    # REQUEST: identity sources from a header, a query string and a stage variable; a
    # missing one is 401 without invoking; the event carries the request.
    def test_request_authorizer(self):
        e = self.ok("/dev/request?q=1", headers={"Auth": "allow"})
        a = e["requestContext"]["authorizer"]
        self.assertEqual((a["principalId"], a["version"]), ("user-allow", "rest"))
        for headers, path in (({}, "/dev/request?q=1"), ({"Auth": "allow"}, "/dev/request")):
            r = self.call(path, headers=headers)
            self.assertEqual((r.status, r.json()), (401, {"message": "Unauthorized"}), path)
        # Cached (TTL 300) by all three values: a second call reuses the answer.
        again = self.ok("/dev/request?q=1", headers={"Auth": "allow"})["requestContext"]["authorizer"]["calls"]
        self.assertEqual(again, a["calls"])
        self.assertNotEqual(self.ok("/dev/request?q=2", headers={"Auth": "allow"})["requestContext"]["authorizer"]["calls"],
                            a["calls"])

    # A python authorizer.
    def test_python_authorizer(self):
        e = self.ok("/dev/py", headers={"X-User": "alice"})
        self.assertEqual(e["requestContext"]["authorizer"]["user"], "alice")
        self.assertEqual(e["requestContext"]["authorizer"]["admin"], "false")
        r = self.call("/dev/py", headers={"X-User": "mallory"})
        self.assertEqual(r.status, 401)

    # REST API keys: 403 Forbidden when missing or wrong; the key in the event's identity.
    def test_api_keys(self):
        for headers in ({}, {"x-api-key": "wrong"}):
            r = self.call("/dev/private", headers=headers)
            self.assertEqual((r.status, r.body), (403, b'{"message":"Forbidden"}'))
            self.assertEqual(r.header("x-amzn-ErrorType"), "ForbiddenException")
        e = self.ok("/dev/private", headers={"x-api-key": "key-two-0123456789"})
        self.assertEqual(e["requestContext"]["identity"]["apiKey"], "key-two-0123456789")
        self.assertTrue(e["requestContext"]["identity"]["apiKeyId"])
        # With an authorizer too: both must pass.
        r = self.call("/dev/private-auth", headers={"Authorization": "allow"})
        self.assertEqual(r.status, 403)
        r = self.call("/dev/private-auth", headers={"x-api-key": "key-one-0123456789"})
        self.assertEqual(r.status, 401)
        self.ok("/dev/private-auth", headers={"Authorization": "allow", "x-api-key": "key-one-0123456789"})

    # HTTP API, payload 2.0 authorizer with the IAM policy form: context in authorizer.lambda.
    def test_http_v2_authorizer(self):
        e = self.ok("/h/v2", headers={"auth": "allow"})
        lam = e["requestContext"]["authorizer"]["lambda"]
        self.assertEqual((lam["version"], lam["num"], lam["yes"]), ("2.0", 42, True))
        for token, status, body in (("deny", 403, b'{"message":"Forbidden"}'),
                                    ("unauthorized", 401, b'{"message":"Unauthorized"}'),
                                    ("crash", 500, b'{"message":"Internal Server Error"}')):
            r = self.call("/h/v2", headers={"auth": token})
            self.assertEqual((r.status, r.body), (status, body), token)
            self.assertTrue(r.header("apigw-requestid"))
        r = self.call("/h/v2")
        self.assertEqual((r.status, r.body), (401, b'{"message":"Unauthorized"}'))

    # HTTP API, payload 1.0 authorizer (methodArn, identitySource joined).
    def test_http_v1_authorizer(self):
        e = self.ok("/h/v1?q=x", headers={"auth": "allow"})
        self.assertEqual(e["requestContext"]["authorizer"]["lambda"]["version"], "1.0")
        self.assertEqual(self.call("/h/v1", headers={"auth": "allow"}).status, 401)  # q missing
        e = self.ok("/h/v1event?q=x", headers={"auth": "allow"})
        self.assertEqual(e["requestContext"]["authorizer"]["principalId"], "user-allow")

    # Simple responses: isAuthorized and any JSON context.
    def test_http_simple_responses(self):
        e = self.ok("/h/simple", headers={"Authorization": "let-me-in"})
        lam = e["requestContext"]["authorizer"]["lambda"]
        self.assertEqual((lam["user"], lam["deep"], lam["list"]), ("u1", {"a": 1}, [1, 2]))
        r = self.call("/h/simple", headers={"Authorization": "nope"})
        self.assertEqual((r.status, r.body), (403, b'{"message":"Forbidden"}'))
        r = self.call("/h/simple", headers={"Authorization": "unauthorized"})
        self.assertEqual(r.status, 401)


if __name__ == "__main__":
    unittest.main()

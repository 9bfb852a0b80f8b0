"""Routing on the API port: REST APIs at /{stage}/{path}, HTTP APIs at /{path} ($default)
or /{stage}/{path} (a named stage), AWS's route
priority, greedy and root paths, URL-decoded parameters, the HTTP $default route, Host
selection, conflicts, and atomic re-declaration. One daemon for the file; every route
lands on the echo handler, whose event says which route matched."""

import threading
import time
import unittest

from . import common


class RoutingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = common.start()
        d = cls.d
        cls.echo = common.function(d, "index.echo")
        routes = [("GET", "/"), ("GET", "/items"), ("GET", "/items/{id}"), ("GET", "/items/special"),
                  ("POST", "/items/{id}"), ("ANY", "/items/{id}"), ("GET", "/items/{id}/tags/{tag}"),
                  ("ANY", "/{proxy+}"), ("GET", "/files/{path+}")]
        cls.rest = common.api(d, {"type": "rest", "stage": "dev", "stage_variables": {"env": "test"},
                                  "routes": [{"method": m, "path": p, "function": cls.echo} for m, p in routes]})
        cls.http = common.api(d, {"type": "http", "routes": [
            {"method": "GET", "path": "/h/items/{id}", "function": cls.echo},
            {"method": "GET", "path": "/h/v1", "function": cls.echo, "payload_format_version": "1.0"},
            {"method": "$default", "function": cls.echo}]})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def route(self, method, path, **kw):
        r = common.call(self.d, method, path, **kw)
        self.assertEqual(r.status, 200, r)
        return r.json()["event"]

    # The REST priority rules, each a different route for similar paths.
    def test_rest_priority(self):
        self.assertEqual(self.route("GET", "/dev/items/special")["resource"], "/items/special")
        e = self.route("GET", "/dev/items/7")
        self.assertEqual((e["resource"], e["pathParameters"]), ("/items/{id}", {"id": "7"}))
        self.assertEqual(self.route("POST", "/dev/items/7")["resource"], "/items/{id}")
        self.assertEqual(self.route("POST", "/dev/items/7")["httpMethod"], "POST")
        e = self.route("DELETE", "/dev/items/7")
        self.assertEqual((e["resource"], e["httpMethod"]), ("/items/{id}", "DELETE"))  # ANY
        e = self.route("GET", "/dev/items/7/tags/red")
        self.assertEqual(e["pathParameters"], {"id": "7", "tag": "red"})
        e = self.route("PUT", "/dev/somewhere/deep/below")
        self.assertEqual((e["resource"], e["pathParameters"]), ("/{proxy+}", {"proxy": "somewhere/deep/below"}))
        e = self.route("GET", "/dev/files/a/b/c.txt")
        self.assertEqual(e["pathParameters"], {"path": "a/b/c.txt"})

    # The root resource, with and without the trailing slash; trailing slashes elsewhere.
    def test_root_and_trailing_slash(self):
        for p in ("/dev", "/dev/"):
            e = self.route("GET", p)
            self.assertEqual((e["resource"], e["path"], e["requestContext"]["resourcePath"]), ("/", "/", "/"))
            self.assertEqual(e["requestContext"]["path"], "/dev/")
        # POST / has no route ({proxy+} never matches the root itself).
        r = common.call(self.d, "POST", "/dev/")
        self.assertEqual((r.status, r.json()), (403, {"message": "Missing Authentication Token"}))
        e = self.route("GET", "/dev/items/")
        self.assertEqual((e["resource"], e["path"]), ("/items", "/items/"))

    # Path parameters are URL-decoded; query strings keep repeats and empty values.
    def test_decoding_and_queries(self):
        e = self.route("GET", "/dev/items/caf%C3%A9%20au%20lait")
        self.assertEqual(e["pathParameters"], {"id": "café au lait"})
        self.assertEqual(e["path"], "/items/caf%C3%A9%20au%20lait")
        e = self.route("GET", "/dev/items?a=1&a=2&empty=&flag&sp=a%20b")
        self.assertEqual(e["queryStringParameters"], {"a": "2", "empty": "", "flag": "", "sp": "a b"})
        self.assertEqual(e["multiValueQueryStringParameters"],
                         {"a": ["1", "2"], "empty": [""], "flag": [""], "sp": ["a b"]})
        self.assertEqual(e["stageVariables"], {"env": "test"})
        e = self.route("GET", "/h/items/x%2Fy?a=1&a=2&b=")
        self.assertEqual(e["pathParameters"], {"id": "x/y"})
        self.assertEqual(e["queryStringParameters"], {"a": "1,2", "b": ""})
        self.assertEqual(e["rawQueryString"], "a=1&a=2&b=")

    # HTTP API: routes, then $default for everything else, payload 1.0 when asked for.
    def test_http_routes_and_default(self):
        e = self.route("GET", "/h/items/9")
        self.assertEqual((e["routeKey"], e["version"]), ("GET /h/items/{id}", "2.0"))
        e = self.route("POST", "/h/items/9")
        self.assertEqual(e["routeKey"], "$default")
        self.assertEqual(self.route("GET", "/anything/else")["requestContext"]["routeKey"], "$default")
        self.assertEqual(self.route("GET", "/")["routeKey"], "$default")
        e = self.route("GET", "/h/v1")
        self.assertEqual((e["version"], e["resource"]), ("1.0", "/h/v1"))

    # An HTTP API with a named stage is reached at /{stage}/{path}, as on AWS, where rawPath
    # and requestContext.http.path keep the stage ("/v2/items/5": documented only by
    # example; a known trait of named stages) and routeKey does not. Payload 1.0's path
    # keeps it too (our reading: the path as sent). The root and its $default route stay
    # the other HTTP API's.
    def test_named_http_stage(self):
        d = self.d
        staged = common.api(d, {"type": "http", "stage": "v2", "routes": [
            {"method": "GET", "path": "/items/{id}", "function": self.echo},
            {"method": "GET", "path": "/old", "function": self.echo, "payload_format_version": "1.0"}]})
        e = self.route("GET", "/v2/items/5?a=1")
        self.assertEqual((e["rawPath"], e["rawQueryString"], e["routeKey"]), ("/v2/items/5", "a=1", "GET /items/{id}"))
        ctx = e["requestContext"]
        self.assertEqual((ctx["stage"], ctx["http"]["path"], ctx["apiId"]), ("v2", "/v2/items/5", staged))
        self.assertEqual(e["pathParameters"], {"id": "5"})
        e = self.route("GET", "/v2/old")
        self.assertEqual((e["resource"], e["path"], e["requestContext"]["stage"]), ("/old", "/v2/old", "v2"))
        self.assertEqual(e["requestContext"]["path"], "/v2/old")
        r = common.call(d, "GET", "/v2/nothing")
        self.assertEqual((r.status, r.body), (404, b'{"message":"Not Found"}'))
        self.assertEqual(self.route("GET", "/items/5")["routeKey"], "$default")  # the root API's
        host = "%s.execute-api.localhost" % staged
        self.assertEqual(self.route("GET", "/v2/items/5", host=host)["requestContext"]["stage"], "v2")
        self.assertEqual(common.call(d, "GET", "/items/5", host=host).status, 404)
        self.assertEqual(common.call(d, "GET", "/v3/items/5", host=host).status, 404)
        # A stage owns its first segment and its routes, whatever the other API's type.
        for spec in ({"type": "rest", "stage": "v2", "routes": [{"method": "GET", "path": "/items/{x}", "function": self.echo}]},
                     {"type": "http", "routes": [{"method": "GET", "path": "/v2/y", "function": self.echo}]}):
            status, out = common.declare_status(d, spec)
            self.assertEqual(status, 409, out)
        status, out = common.declare_status(d, {"type": "http", "stage": "no/slash", "routes": []})
        self.assertEqual(status, 400, out)
        common.internal(d, "DELETE", "/_stratus/test/gateway/apis/" + staged)

    # Unknown routes: REST 403 Missing Authentication Token, an unknown stage 403 Forbidden.
    def test_unknown_routes(self):
        d = common.start()
        try:
            common.api(d, {"type": "rest", "routes": [{"method": "GET", "path": "/a", "function": "nope"}]})
            r = common.call(d, "GET", "/dev/b")
            self.assertEqual((r.status, r.body), (403, b'{"message":"Missing Authentication Token"}'))
            self.assertEqual(r.header("x-amzn-ErrorType"), "MissingAuthenticationTokenException")
            self.assertTrue(r.header("x-amzn-RequestId"))
            self.assertTrue(r.header("x-amz-apigw-id"))
            r = common.call(d, "GET", "/prod/a")
            self.assertEqual((r.status, r.json()), (403, {"message": "Forbidden"}))
            common.api(d, {"type": "http", "routes": [{"method": "GET", "path": "/x", "function": "nope"}]})
            r = common.call(d, "GET", "/y")
            self.assertEqual((r.status, r.body), (404, b'{"message":"Not Found"}'))
            self.assertTrue(r.header("apigw-requestid"))
        finally:
            d.stop()

    # Host: {apiId}.execute-api.localhost picks one API, and its stage must be in the path.
    def test_host_selects_an_api(self):
        host = "%s.execute-api.localhost:%d" % (self.rest, self.d.api_port)
        e = self.route("GET", "/dev/items/1", host=host)
        self.assertEqual((e["requestContext"]["apiId"], e["requestContext"]["domainPrefix"]), (self.rest, self.rest))
        self.assertEqual(e["requestContext"]["domainName"], host)
        r = common.call(self.d, "GET", "/h/items/1", host=host)
        self.assertEqual(r.status, 403)  # that path is the HTTP API's, not this one's
        e = self.route("GET", "/h/items/1", host="%s.execute-api.localhost" % self.http)
        self.assertEqual(e["routeKey"], "GET /h/items/{id}")
        r = common.call(self.d, "GET", "/dev/items/1", host="nosuchapi0.execute-api.localhost")
        self.assertEqual((r.status, r.json()), (403, {"message": "Forbidden"}))

    # Conflicting routes are refused when declared, and nothing changes.
    def test_conflicts_are_reported_at_declaration(self):
        status, out = common.declare_status(self.d, {"type": "rest", "stage": "dev", "routes": [
            {"method": "GET", "path": "/items/{other}", "function": self.echo}]})
        self.assertEqual(status, 409, out)
        self.assertIn("GET /items/{id}", out["message"])
        status, out = common.declare_status(self.d, {"type": "http", "routes": [
            {"method": "GET", "path": "/dev/x", "function": self.echo}]})
        self.assertEqual(status, 409, out)
        status, out = common.declare_status(self.d, {"type": "http", "routes": [
            {"method": "$default", "function": self.echo}]})
        self.assertEqual(status, 409, out)
        status, out = common.declare_status(self.d, {"type": "rest", "routes": [
            {"method": "GET", "path": "/a/{x}/{x}", "function": self.echo}]})
        self.assertEqual(status, 400, out)
        status, out = common.declare_status(self.d, {"type": "rest", "routes": [{"method": "GET", "path": "/a"}]})
        self.assertEqual(status, 400, out)
        self.assertEqual(self.route("GET", "/dev/items/7")["resource"], "/items/{id}")

    # Re-declaring replaces the API at once; a request in flight finishes on its route.
    def test_redeclare_is_atomic(self):
        d = self.d
        slow = common.function(d, "index.slow")
        api_id = common.api(d, {"type": "rest", "stage": "swap", "routes": [
            {"method": "GET", "path": "/slow", "function": slow},
            {"method": "GET", "path": "/old", "function": self.echo}]})
        result = {}
        t = threading.Thread(target=lambda: result.update(r=common.call(d, "GET", "/swap/slow?ms=600")))
        t.start()
        time.sleep(0.3)
        common.api(d, {"id": api_id, "type": "rest", "stage": "swap", "routes": [
            {"method": "GET", "path": "/new", "function": self.echo}]})
        self.assertEqual(common.call(d, "GET", "/swap/old").status, 403)
        self.assertEqual(common.call(d, "GET", "/swap/new").status, 200)
        t.join()
        self.assertEqual((result["r"].status, result["r"].body), (200, b"late"))
        status, _ = common.internal(d, "DELETE", "/_stratus/test/gateway/apis/" + api_id)
        self.assertEqual(status, 204)
        # Stage /swap is gone: the path is the HTTP API's now, its $default route takes it.
        self.assertEqual(self.route("GET", "/swap/new")["routeKey"], "$default")
        status, listed = common.internal(d, "GET", "/_stratus/test/gateway/apis")
        self.assertNotIn(api_id, [a["id"] for a in listed])
        self.assertIn(self.rest, [a["id"] for a in listed])


if __name__ == "__main__":
    unittest.main()

"""The events handlers receive, compared field by field with the examples AWS documents for
payload 1.0 (REST and HTTP APIs) and 2.0, from node and python handlers; binary bodies both
ways; response headers."""

import base64
import json
import unittest

from . import common

# AWS's documented examples, transcribed: the REST proxy integration's input
# (set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format)
# and the HTTP API's payload 1.0 and 2.0 (http-api-develop-integrations-lambda.html).
AWS_V1 = json.loads("""{
  "version": "1.0", "resource": "/my/path", "path": "/my/path", "httpMethod": "GET",
  "headers": {"header1": "value1", "header2": "value2"},
  "multiValueHeaders": {"header1": ["value1"], "header2": ["value1", "value2"]},
  "queryStringParameters": {"parameter1": "value1", "parameter2": "value"},
  "multiValueQueryStringParameters": {"parameter1": ["value1", "value2"], "parameter2": ["value"]},
  "requestContext": {
    "accountId": "123456789012", "apiId": "id",
    "authorizer": {"claims": null, "scopes": null},
    "domainName": "id.execute-api.us-east-1.amazonaws.com", "domainPrefix": "id",
    "extendedRequestId": "request-id", "httpMethod": "GET",
    "identity": {"accessKey": null, "accountId": null, "caller": null, "cognitoAuthenticationProvider": null,
                 "cognitoAuthenticationType": null, "cognitoIdentityId": null, "cognitoIdentityPoolId": null,
                 "principalOrgId": null, "sourceIp": "192.0.2.1", "user": null, "userAgent": "user-agent",
                 "userArn": null,
                 "clientCert": {"clientCertPem": "CERT_CONTENT", "subjectDN": "www.example.com",
                                "issuerDN": "Example issuer", "serialNumber": "a1:a1:a1",
                                "validity": {"notBefore": "May 28 12:30:02 2019 GMT",
                                             "notAfter": "Aug  5 09:36:04 2021 GMT"}}},
    "path": "/my/path", "protocol": "HTTP/1.1", "requestId": "id=",
    "requestTime": "04/Mar/2020:19:15:17 +0000", "requestTimeEpoch": 1583349317135,
    "resourceId": null, "resourcePath": "/my/path", "stage": "$default"},
  "pathParameters": null, "stageVariables": null, "body": "Hello from Lambda!", "isBase64Encoded": false
}""")

AWS_V2 = json.loads("""{
  "version": "2.0", "routeKey": "$default", "rawPath": "/my/path",
  "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
  "cookies": ["cookie1", "cookie2"],
  "headers": {"header1": "value1", "header2": "value1,value2"},
  "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
  "requestContext": {
    "accountId": "123456789012", "apiId": "api-id",
    "authentication": {"clientCert": {"clientCertPem": "CERT_CONTENT", "subjectDN": "www.example.com",
                                      "issuerDN": "Example issuer", "serialNumber": "a1:a1:a1",
                                      "validity": {"notBefore": "May 28 12:30:02 2019 GMT",
                                                   "notAfter": "Aug  5 09:36:04 2021 GMT"}}},
    "authorizer": {"jwt": {"claims": {"claim1": "value1", "claim2": "value2"}, "scopes": ["scope1", "scope2"]}},
    "domainName": "id.execute-api.us-east-1.amazonaws.com", "domainPrefix": "id",
    "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
             "userAgent": "agent"},
    "requestId": "id", "routeKey": "$default", "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390},
  "body": "Hello from Lambda", "pathParameters": {"parameter1": "value1"}, "isBase64Encoded": false,
  "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
}""")


# Members whose contents are the request's data (names are the client's), not structure.
DATA_MAPS = {"headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
             "pathParameters", "stageVariables", "claims"}


def type_name(v):
    return "null" if v is None else type(v).__name__


class EventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = common.start()
        d = cls.d
        cls.echo = common.function(d, "index.echo")
        cls.py_echo = common.function(d, "handler.echo", runtime="python3.11", code=common.PYTHON)
        cls.binary = common.function(d, "index.binary")
        cls.py_binary = common.function(d, "handler.binary", runtime="python3.11", code=common.PYTHON)
        cls.rest = common.api(d, {"type": "rest", "stage": "dev", "stage_variables": {"stageVariable1": "value1"},
                                  "binary_media_types": ["image/png", "application/octet-stream"], "routes": [
            {"method": "GET", "path": "/my/{param}", "function": cls.echo},
            {"method": "POST", "path": "/py/{param}", "function": cls.py_echo},
            {"method": "POST", "path": "/bin", "function": cls.binary},
            {"method": "POST", "path": "/pybin", "function": cls.py_binary}]})
        cls.http = common.api(d, {"type": "http", "stage_variables": {"stageVariable1": "value1"}, "routes": [
            {"method": "POST", "path": "/my/{parameter1}", "function": cls.echo},
            {"method": "GET", "path": "/v1/{parameter1}", "function": cls.echo, "payload_format_version": "1.0"},
            {"method": "POST", "path": "/bin", "function": cls.binary}]})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def assert_like(self, ours, theirs, where="event", absent=()):
        """Every member of AWS's example is in ours, with the same JSON type (null may
        stand for an object that is empty here), except the ones named in `absent`."""
        for k, v in theirs.items():
            path = where + "." + k
            if path in absent:
                self.assertNotIn(k, ours, path)
                continue
            self.assertIn(k, ours, path)
            if k in DATA_MAPS:
                # The request's own data: a map here too (or null when empty).
                self.assertIn(type_name(ours[k]), ("dict", "null"), path)
            elif isinstance(v, dict) and isinstance(ours[k], dict):
                self.assert_like(ours[k], v, path, absent)
            elif v is not None and ours[k] is not None:
                self.assertEqual(type_name(ours[k]), type_name(v), path)
        extra = set(ours) - set(theirs)
        return extra

    def event(self, method, path, **kw):
        r = common.call(self.d, method, path, **kw)
        self.assertEqual(r.status, 200, r)
        return r, r.json()["event"]

    # REST payload 1.0 against AWS's example: same members, the values this request implies.
    def test_rest_v1_matches_the_documented_example(self):
        r, e = self.event("GET", "/dev/my/path?parameter1=value1&parameter1=value2&parameter2=value",
                          headers={"header1": "value1", "header2": "value1", "User-Agent": "user-agent"})
        # Differences from the example, as AWS behaves: a REST API's event has no
        # "version"; requestContext.authorizer only with an authorizer; identity.clientCert
        # only with mutual TLS.
        absent = ("event.version", "event.requestContext.authorizer", "event.requestContext.identity.clientCert")
        extra = self.assert_like(e, AWS_V1, absent=absent)
        self.assertEqual(extra, set())
        ctx = e["requestContext"]
        self.assertEqual((e["resource"], e["path"], e["httpMethod"]), ("/my/{param}", "/my/path", "GET"))
        self.assertEqual(e["headers"]["header1"], "value1")
        self.assertEqual(e["multiValueHeaders"]["header1"], ["value1"])
        self.assertEqual(e["queryStringParameters"], {"parameter1": "value2", "parameter2": "value"})
        self.assertEqual(e["multiValueQueryStringParameters"], AWS_V1["multiValueQueryStringParameters"])
        self.assertEqual(e["pathParameters"], {"param": "path"})
        self.assertEqual(e["stageVariables"], {"stageVariable1": "value1"})
        self.assertIsNone(e["body"])
        self.assertFalse(e["isBase64Encoded"])
        self.assertEqual(ctx["accountId"], "000000000000")
        self.assertEqual(ctx["apiId"], self.rest)
        self.assertEqual((ctx["stage"], ctx["path"], ctx["resourcePath"]), ("dev", "/dev/my/path", "/my/{param}"))
        self.assertRegex(ctx["resourceId"], r"^[a-z0-9]{6}$")
        self.assertRegex(ctx["requestId"], r"^[0-9a-f-]{36}$")
        self.assertRegex(ctx["extendedRequestId"], r"^[A-Za-z0-9+/]{15}=$")
        self.assertRegex(ctx["requestTime"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")
        self.assertEqual(ctx["protocol"], "HTTP/1.1")
        self.assertEqual(ctx["identity"]["sourceIp"], "127.0.0.1")
        self.assertEqual(ctx["identity"]["userAgent"], "user-agent")
        self.assertEqual(ctx["domainName"], "127.0.0.1:%d" % self.d.api_port)
        # What API Gateway adds to the request's headers.
        self.assertEqual(e["headers"]["X-Forwarded-For"], "127.0.0.1")
        self.assertEqual(e["headers"]["X-Forwarded-Proto"], "http")
        self.assertEqual(e["headers"]["X-Forwarded-Port"], str(self.d.api_port))
        self.assertRegex(e["headers"]["X-Amzn-Trace-Id"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        # AWS's own response headers, the request id matching the event's.
        self.assertEqual(r.header("x-amzn-RequestId"), ctx["requestId"])
        self.assertEqual(r.header("x-amz-apigw-id"), ctx["extendedRequestId"])
        self.assertTrue(r.header("X-Amzn-Trace-Id").startswith(e["headers"]["X-Amzn-Trace-Id"]))
        self.assertEqual(r.header("X-Handler"), "echo")

    # HTTP API payload 1.0: the documented example, members and all.
    def test_http_v1_matches_the_documented_example(self):
        _, e = self.event("GET", "/v1/my?parameter1=value1&parameter1=value2&parameter2=value",
                          headers={"header1": "value1"})
        extra = self.assert_like(e, AWS_V1, absent=("event.requestContext.identity.clientCert",))
        self.assertEqual(extra, set())
        self.assertEqual(e["version"], "1.0")
        self.assertEqual(e["requestContext"]["authorizer"], {"claims": None, "scopes": None})
        self.assertEqual(e["requestContext"]["stage"], "$default")
        self.assertEqual(e["requestContext"]["path"], "/v1/my")

    # Payload 2.0 against AWS's example.
    def test_v2_matches_the_documented_example(self):
        r, e = self.event("POST", "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
                          headers={"header1": "value1", "Cookie": "cookie1; cookie2", "User-Agent": "agent",
                                   "Content-Type": "text/plain"},
                          body="Hello from Lambda")
        # Without mutual TLS there is no requestContext.authentication; without an
        # authorizer no requestContext.authorizer.
        extra = self.assert_like(e, AWS_V2, absent=("event.requestContext.authentication",
                                                    "event.requestContext.authorizer"))
        self.assertEqual(extra, set())
        self.assertEqual(e["routeKey"], "POST /my/{parameter1}")
        self.assertEqual(e["rawPath"], "/my/path")
        self.assertEqual(e["rawQueryString"], AWS_V2["rawQueryString"])
        self.assertEqual(e["cookies"], ["cookie1", "cookie2"])
        self.assertNotIn("cookie", e["headers"])
        self.assertEqual(e["headers"]["header1"], "value1")
        self.assertEqual(e["headers"]["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(e["queryStringParameters"], AWS_V2["queryStringParameters"])
        self.assertEqual(e["pathParameters"], {"parameter1": "path"})
        self.assertEqual(e["stageVariables"], {"stageVariable1": "value1"})
        self.assertEqual((e["body"], e["isBase64Encoded"]), ("Hello from Lambda", False))
        ctx = e["requestContext"]
        self.assertEqual(ctx["http"], {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1",
                                       "sourceIp": "127.0.0.1", "userAgent": "agent"})
        self.assertEqual((ctx["stage"], ctx["routeKey"], ctx["apiId"]), ("$default", "POST /my/{parameter1}", self.http))
        self.assertRegex(ctx["requestId"], r"^[A-Za-z0-9+/]{15}=$")
        self.assertEqual(r.header("Apigw-Requestid"), ctx["requestId"])
        self.assertIsNone(r.header("x-amzn-RequestId"))

    # A python handler gets the same event.
    def test_python_handler(self):
        r = common.call(self.d, "POST", "/dev/py/x?q=1", body='{"a":1}', headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        out = r.json()
        self.assertEqual(out["functionName"], self.py_echo)
        self.assertEqual(out["event"]["pathParameters"], {"param": "x"})
        self.assertEqual(out["event"]["body"], '{"a":1}')

    # Binary bodies: base64 in the event per binaryMediaTypes (REST) or non-text types
    # (HTTP), bytes back when the client accepts a binary type (REST) and always (HTTP).
    def test_binary_round_trips(self):
        data = bytes(range(256)) * 4
        r = common.call(self.d, "POST", "/dev/bin", body=data,
                        headers={"Content-Type": "application/octet-stream", "Accept": "application/octet-stream"})
        self.assertEqual((r.status, r.body), (200, data))
        # Without a binary Accept, REST sends the base64 text (as AWS does).
        r = common.call(self.d, "POST", "/dev/bin", body=data, headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(base64.b64decode(r.body), data)
        # A text body is passed as text, not base64.
        r = common.call(self.d, "POST", "/dev/bin", body="text", headers={"Content-Type": "text/plain",
                                                                         "Accept": "image/png"})
        self.assertEqual(r.body, b"text")
        r = common.call(self.d, "POST", "/bin", body=data, headers={"Content-Type": "image/jpeg"})
        self.assertEqual((r.status, r.body), (200, data))
        r = common.call(self.d, "POST", "/dev/pybin", body=data,
                        headers={"Content-Type": "image/png", "Accept": "image/png"})
        self.assertEqual((r.status, r.body, r.header("Content-Type")), (200, data[::-1], "image/png"))
        # A body that is not valid UTF-8 under a text type arrives with replacement characters.
        r = common.call(self.d, "POST", "/my/x", body=b"ok\xff", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.json()["event"]["body"], "ok\ufffd")


if __name__ == "__main__":
    unittest.main()

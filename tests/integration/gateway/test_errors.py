"""Responses (payload 1.0 / 2.0 mapping, AWS's headers) and every error the gateway itself
answers: handler errors and malformed results, crashes, integration timeouts, throttled and
unknown functions, payloads over 10 MB, and bad input (malformed HTTP, oversized headers,
invalid UTF-8, dot segments), with the gateway serving everyone else meanwhile."""

import threading
import time
import unittest

from . import common


class ErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = common.start()
        d = cls.d
        f = {h: common.function(d, "index." + h) for h in
             ("echo", "shorthand", "text", "cookies", "multi", "noContentType", "garbage", "badStatus",
              "objectBody", "throws", "crash", "slow", "splitting")}
        f["hang"] = common.function(d, "index.hang", timeout=1)
        f["throttled"] = common.function(d, "index.echo")
        cls.f = f
        lam = d.client("lambda")
        lam.put_function_concurrency(FunctionName=f["throttled"], ReservedConcurrentExecutions=0)
        routes = lambda extra=(): [{"method": "ANY", "path": "/" + name, "function": fn} for name, fn in f.items()] + list(extra)
        cls.rest = common.api(d, {"type": "rest", "stage": "dev", "routes": routes([
            {"method": "GET", "path": "/timeout", "function": f["slow"], "timeout_ms": 300},
            {"method": "GET", "path": "/missing", "function": "no-such-function"}])})
        cls.http = common.api(d, {"type": "http", "routes": routes([
            {"method": "GET", "path": "/timeout", "function": f["slow"], "timeout_ms": 300},
            {"method": "GET", "path": "/missing", "function": "no-such-function"},
            {"method": "GET", "path": "/v1/multi", "function": f["multi"], "payload_format_version": "1.0"}])})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def call(self, path, method="GET", **kw):
        return common.call(self.d, method, path, **kw)

    # Payload 1.0 responses: status, headers merged with multiValueHeaders, default type.
    def test_v1_responses(self):
        r = self.call("/dev/multi")
        self.assertEqual((r.status, r.body), (202, b"m"))
        self.assertEqual(r.header("X-One"), "1")
        self.assertEqual(r.all("X-Both"), ["from-multi"])
        self.assertEqual(r.all("Set-Cookie"), ["a=1", "b=2"])
        r = self.call("/dev/noContentType")
        self.assertEqual(r.header("Content-Type"), "application/json")
        # An HTTP API asking for payload 1.0 reads the same format.
        r = self.call("/v1/multi")
        self.assertEqual((r.status, r.all("Set-Cookie")), (202, ["a=1", "b=2"]))

    # A function's header value holding CR LF is not sent (it would let the function write
    # headers of its own into the head); the rest of the answer is. What AWS does with such a
    # value is not documented; stratus's HTTP layer refuses to write it for every service.
    # Any status code from 100 to 599 passes, with an empty reason phrase where HTTP has none.
    def test_header_value_with_crlf_is_not_sent(self):
        for path in ("/dev/splitting", "/splitting"):
            r = self.call(path)
            self.assertEqual((r.status, r.body, r.header("X-Ok")), (299, b"s", "fine"), path)
            self.assertIsNone(r.header("X-Split"), path)
            self.assertEqual(r.all("Set-Cookie"), [], path)

    # Payload 2.0: the shorthand (no statusCode) and cookies.
    def test_v2_responses(self):
        r = self.call("/shorthand")
        self.assertEqual((r.status, r.json()), (200, {"message": "hi", "rawPath": "/shorthand"}))
        self.assertEqual(r.header("Content-Type"), "application/json")
        r = self.call("/text")
        self.assertEqual((r.status, r.body), (200, b"Hello from Lambda!"))
        r = self.call("/cookies")
        self.assertEqual((r.status, r.body, r.header("x-custom")), (201, b"c", "yes"))
        self.assertEqual(r.all("Set-Cookie"), ["a=1; Path=/", "b=2"])

    # Handler errors and malformed results: REST 502, HTTP 500, each in its own words.
    def test_handler_errors(self):
        for path in ("/dev/throws", "/dev/garbage", "/dev/badStatus", "/dev/objectBody", "/dev/text", "/dev/shorthand"):
            r = self.call(path)
            self.assertEqual((r.status, r.body), (502, b'{"message": "Internal server error"}'), path)
            self.assertEqual(r.header("x-amzn-ErrorType"), "InternalServerErrorException")
            self.assertTrue(r.header("x-amzn-RequestId"))
        for path in ("/throws", "/badStatus"):
            r = self.call(path)
            self.assertEqual((r.status, r.body), (500, b'{"message":"Internal Server Error"}'), path)
            self.assertTrue(r.header("apigw-requestid"))
        # The function's log shows the failed invocation as usual.
        status, logs = common.internal(self.d, "GET", "/_stratus/lambda/logs/" + self.f["throws"])
        text = "\n".join(l["text"] for l in logs["lines"])
        self.assertIn("boom", text)
        self.assertIn("REPORT RequestId:", text)

    # A handler whose process dies fails its request only; the next one gets a fresh sandbox.
    def test_crash(self):
        r = self.call("/dev/crash")
        self.assertEqual(r.status, 502)
        r = self.call("/crash")
        self.assertEqual(r.status, 500)
        self.assertEqual(self.call("/dev/echo").status, 200)

    # Integration timeout: REST 504 "Endpoint request timed out"; HTTP APIs 503. A function
    # timing out on its own (timeout 1 s here) is a function error: 502.
    def test_timeouts(self):
        t0 = time.time()
        r = self.call("/dev/timeout?ms=3000")
        self.assertEqual((r.status, r.body), (504, b'{"message": "Endpoint request timed out"}'))
        self.assertLess(time.time() - t0, 2)
        r = self.call("/timeout?ms=3000")
        self.assertEqual((r.status, r.body), (503, b'{"message":"Service Unavailable"}'))
        r = self.call("/dev/hang")
        self.assertEqual(r.status, 502)

    # A hanging handler holds only its own request: others are answered meanwhile.
    def test_hanging_handler_does_not_block_others(self):
        done = {}
        t = threading.Thread(target=lambda: done.update(r=self.call("/hang")))
        t.start()
        t0 = time.time()
        for _ in range(5):
            self.assertEqual(self.call("/dev/echo").status, 200)
        self.assertLess(time.time() - t0, 0.9)
        t.join()
        self.assertEqual(done["r"].status, 500)

    # A function that does not exist or is throttled: the gateway's own 500.
    def test_unknown_and_throttled_functions(self):
        for path, body in (("/dev/missing", b'{"message": "Internal server error"}'),
                           ("/dev/throttled", b'{"message": "Internal server error"}'),
                           ("/missing", b'{"message":"Internal Server Error"}'),
                           ("/throttled", b'{"message":"Internal Server Error"}')):
            r = self.call(path)
            self.assertEqual((r.status, r.body), (500, body), path)

    # 10 MB is API Gateway's payload limit: 413, and the body is not read.
    def test_payload_too_large(self):
        big = b"x" * (10 * 1024 * 1024 + 1)
        r = self.call("/dev/echo", method="POST", body=big)
        self.assertEqual((r.status, r.body), (413, b'{"message":"Request Too Long"}'))
        r = self.call("/echo", method="POST", body=big)
        self.assertEqual((r.status, r.body), (413, b'{"message":"Request Entity Too Large"}'))
        # Under 10 MB but over Lambda's 6 MB for the event.
        r = self.call("/dev/echo", method="POST", body=b"y" * (7 * 1024 * 1024))
        self.assertEqual(r.status, 413)
        self.assertEqual(self.call("/dev/echo").status, 200)

    # "Total combined size of request line and header values: 10240 bytes" is in the
    # quotas of both API types (documented); what AWS answers past it is not: our guess is
    # each type's 413, as for a payload over 10 MB (REST's REQUEST_TOO_LARGE). Past the
    # HTTP server's 64 KB head limit the front end answers 431 / 414 in plain text (also
    # our guess).
    def test_request_line_and_headers_over_10240_bytes(self):
        for path, body in (("/dev/echo", b'{"message":"Request Too Long"}'),
                           ("/echo", b'{"message":"Request Entity Too Large"}')):
            line = b"GET %s HTTP/1.1" % path.encode()
            for extra, status in ((0, 200), (1, 413)):
                # The request line, "x" (Host) and X-Big's value make 10240 bytes, then one more.
                big = b"a" * (10240 - len(line) - 1 + extra)
                out = common.raw(self.d.api_port, line + b"\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n")
                self.assertTrue(out.startswith(b"HTTP/1.1 %d" % status), out[:100])
                if status == 413:
                    self.assertTrue(out.endswith(b"\r\n\r\n" + body), out[-200:])
            # A long query string counts as much as a header does.
            r = self.call(path + "?q=" + "b" * 10240)
            self.assertEqual((r.status, r.body), (413, body))
        out = common.raw(self.d.api_port, b"GET /dev/echo?" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 414"), out[:100])
        self.assertEqual(self.call("/dev/echo").status, 200)

    # Malformed requests get an answer and cost nobody else anything.
    def test_bad_input(self):
        port = self.d.api_port
        out = common.raw(port, b"GARBAGE\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out)
        out = common.raw(port, b"GET /dev/echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431"), out[:100])
        # Invalid UTF-8 once decoded, and dot segments: 400 Bad Request.
        for path in ("/dev/echo/%ff%fe", "/dev/%C0%AF", "/dev/a/../echo", "/dev/%2e%2e/echo", "/x/./y"):
            r = self.call(path)
            self.assertEqual(r.status, 400, path)
            self.assertIn(b"Bad Request", r.body)
        # A Content-Length that lies (a shorter body, then the client is gone).
        out = common.raw(port, b"POST /dev/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
        self.assertEqual(out, b"")
        self.assertEqual(self.call("/dev/echo").status, 200)


if __name__ == "__main__":
    unittest.main()

"""The HTTP layer under real and hostile clients: 100-continue, chunked bodies, body
limits, streamed uploads, malformed requests, idle timeouts and graceful shutdown."""

import json
import os
import signal
import socket
import time
import unittest

import botocore.exceptions

from daemon import Daemon


def connect(d):
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    return s


def read_response(sock):
    """Reads one HTTP response (Content-Length framed); returns (status, headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response: %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def is_closed(sock, wait=2.0):
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--idle-timeout", "1").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        s = connect(self.d)
        for i in range(20):
            s.sendall(b"GET /_stratus/health HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body = read_response(s)
            self.assertEqual(status, 200)
            self.assertIn("services", json.loads(body))
        s.close()

    def test_expect_100_continue(self):
        body = b"x" * 1000
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 1000\r\n\r\n")
        s.settimeout(5)
        interim = s.recv(4096)
        self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim)
        s.sendall(body)
        status, _, _ = read_response(s)
        self.assertEqual(status, 200)
        s.sendall(b"GET /_stratus/test/kv/continue HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(s)[2], body)
        s.close()

    def test_expect_100_continue_with_empty_body(self):
        # Sent for an empty body too (as S3 does), before the final response.
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/empty HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 0\r\n\r\n")
        s.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        self.assertTrue(data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), data)
        rest = data[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        while b"\r\n\r\n" not in rest:
            rest += s.recv(4096)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200 "), rest)
        s.close()

    def test_boto3_empty_put_then_more_requests(self):
        # Regression: without the 100 Continue, botocore read the empty PUT's final status
        # during its expect wait and then misread the next response on the connection
        # (that call stalled until its read timeout).
        import boto3
        from botocore.config import Config
        s3 = boto3.client("s3", endpoint_url=self.d.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(retries={"total_max_attempts": 1}, read_timeout=3))
        s3.create_bucket(Bucket="empty-then-more")
        for i in range(3):
            s3.put_object(Bucket="empty-then-more", Key="e%d" % i, Body=b"")
            started = time.monotonic()
            s3.put_object(Bucket="empty-then-more", Key="k%d" % i, Body=b"after")
            # A stalled call waited for the read timeout, or here for the server's 1 s idle
            # timeout to close the connection (normally: a few ms).
            self.assertLess(time.monotonic() - started, 0.8)
        self.assertEqual(s3.get_object(Bucket="empty-then-more", Key="k2")["Body"].read(), b"after")
        self.assertEqual(s3.get_object(Bucket="empty-then-more", Key="e2")["ContentLength"], 0)

    def test_expect_100_continue_refused_when_too_large(self):
        # Over the limit: the final error comes instead of 100 Continue, and no body is read.
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 5000000\r\n\r\n")
        status, headers, body = read_response(s)
        self.assertEqual(status, 413)
        self.assertEqual(headers.get("connection"), "close")
        s.close()

    def test_boto3_upload_with_expect_continue(self):
        # boto3 sends Expect: 100-continue on S3 PUTs; the body must arrive whole.
        # Until the S3 issue lands the operation is NotImplemented; after, the bucket is
        # missing. Either way the request completed on a healthy connection.
        s3 = self.d.client("s3")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.put_object(Bucket="no-such-bucket-100c", Key="k", Body=b"x" * 200000)
        self.assertIn(cm.exception.response["Error"]["Code"], {"NotImplemented", "NoSuchBucket"})

    def test_refused_body_still_gets_its_answer(self):
        # No Expect: the client sends the whole body although we refuse it up front; the
        # server drains it before closing, so the 413 is not lost to a connection reset.
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/refused HTTP/1.1\r\nHost: x\r\nContent-Length: 2949120\r\n\r\n")
        for _ in range(45):
            s.sendall(b"q" * 65536)
        status, headers, body = read_response(s)
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["error"], "RequestEntityTooLarge")
        self.assertTrue(is_closed(s))
        s.close()

    def test_chunked_body(self):
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n")
        self.assertEqual(read_response(s)[0], 200)
        s.sendall(b"GET /_stratus/test/kv/chunked HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_response(s)[2], b"hello world!")
        s.close()

    def test_chunked_body_over_limit(self):
        # No Content-Length to check up front: the limit is enforced as chunks arrive.
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/chunked-big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
        status = None
        try:
            for _ in range(40):  # 2.5 MB, the internal limit is 1 MB
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, _, _ = read_response(s)
        self.assertEqual(status, 413)
        s.close()
        self.assertEqual(self.get_status("/_stratus/test/kv/chunked-big"), 404)

    def test_dynamodb_body_limit(self):
        s = connect(self.d)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n"
                  b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 17000000\r\n\r\n")
        status, headers, body = read_response(s)
        self.assertEqual(status, 413)
        self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
        self.assertIn("RequestEntityTooLarge", json.loads(body)["__type"])
        s.close()

    def get_status(self, path):
        s = connect(self.d)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
        status = read_response(s)[0]
        s.close()
        return status

    def test_malformed_requests_get_400_and_close(self):
        cases = {
            "garbage": b"\x00\x01\x02 nonsense\r\n\r\n",
            "bad version": b"GET / HTTP/9.9\r\n\r\n",
            "bad header": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
            "bad content-length": b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            "bad chunk": b"PUT /_stratus/test/kv/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        }
        for name, payload in cases.items():
            with self.subTest(name):
                s = connect(self.d)
                s.sendall(payload)
                status, headers, _ = read_response(s)
                self.assertEqual(status, 400)
                self.assertTrue(is_closed(s))
                s.close()
        # The server is still fine.
        self.assertEqual(self.get_status("/_stratus/health"), 200)

    def test_oversized_heads_get_431_or_414(self):
        # Past the 64 KB head limit: 431 (headers) or 414 (the request line alone), then
        # the connection closes. What AWS's front ends answer here is undocumented for
        # DynamoDB and Lambda (our guess: the RFC statuses, plain text); S3 documents 400
        # RequestHeaderSectionTooLarge past 8 KB of headers, which is S3's own check.
        for payload, status in ((b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431),
                                (b"GET /?" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)):
            s = connect(self.d)
            s.sendall(payload)
            self.assertEqual(read_response(s)[0], status)
            self.assertTrue(is_closed(s))
            s.close()
        # Real clients get a clean error (no retry, no dropped connection), and the daemon
        # goes on serving them.
        for service, call in (("dynamodb", "list_tables"), ("s3", "list_buckets"), ("lambda", "list_functions")):
            client = self.d.client(service)
            client.meta.events.register("before-sign.*.*", lambda request, **kw: request.headers.__setitem__(
                "X-Big", "a" * 70000))
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                getattr(client, call)()
            meta = e.exception.response["ResponseMetadata"]
            self.assertEqual((meta["HTTPStatusCode"], meta["RetryAttempts"]), (431, 0), service)
            self.assertEqual(getattr(self.d.client(service), call)()["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_idle_connection_is_closed(self):
        # Started with --idle-timeout 1.
        s = connect(self.d)
        start = time.time()
        self.assertTrue(is_closed(s, wait=5))
        self.assertLess(time.time() - start, 4)
        s.close()
        # A slow body (stalled mid-request) is cut off too.
        s = connect(self.d)
        s.sendall(b"PUT /_stratus/test/kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        self.assertTrue(is_closed(s, wait=5))
        s.close()

    def test_upload_streams_to_disk(self):
        # 300 MB to an S3 path: the body is spooled to a file as it arrives, so the daemon's
        # memory stays small, and the spool file is gone afterwards.
        rss_before = self.d.rss_kb()
        size = 300 * 1024 * 1024
        s = connect(self.d)
        s.sendall(b"PUT /bucket/big-object?analytics HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"z" * (1024 * 1024)
        peak = 0
        for i in range(300):
            s.sendall(block)
            if i % 50 == 0:
                peak = max(peak, self.d.rss_kb())
        status, _, body = read_response(s)
        s.close()
        self.assertEqual(status, 501)  # no S3 operation takes it yet; the body was still read whole
        peak = max(peak, self.d.rss_kb())
        self.assertLess(peak - rss_before, 64 * 1024, "daemon RSS grew by %d KB" % (peak - rss_before))
        # The spool file (spooled beside the objects as upload-XXXXXX) goes when the
        # request ends, which may be just after the client has the answer.
        objects = os.path.join(self.d.data_dir, "s3", "objects")

        def spooled():
            return [f for _, _, files in os.walk(objects) for f in files if f.startswith("upload-")]
        for _ in range(100):
            if not spooled():
                break
            time.sleep(0.02)
        self.assertEqual(spooled(), [])


class ShutdownTest(unittest.TestCase):
    def test_sigterm_idle_exits_zero_and_removes_ephemeral_dir(self):
        d = Daemon("--ephemeral").start()
        health = json.loads(_get(d, "/_stratus/health"))
        self.assertIn("services", health)
        data = _ephemeral_dir(d)
        self.assertTrue(os.path.isdir(data))
        start = time.time()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(), 0)
        self.assertLess(time.time() - start, 2)
        self.assertFalse(os.path.exists(data))
        d.stop()

    def test_sigint_finishes_in_flight_request(self):
        d = Daemon().start()
        s = connect(d)
        s.sendall(b"PUT /_stratus/test/kv/inflight HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(0.2)
        d.signal(signal.SIGINT)
        time.sleep(0.2)
        # New connections are refused while the in-flight one may finish.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", d.port), timeout=2)
        s.sendall(b"defghij")
        status, headers, _ = read_response(s)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("connection"), "close")
        self.assertEqual(d.wait(), 0)
        s.close()
        # The acknowledged write is there after a restart on the same data dir.
        d2 = Daemon(data_dir=d.data_dir).start()
        self.assertEqual(_get(d2, "/_stratus/test/kv/inflight"), b"abcdefghij")
        d2.stop()
        d.stop()


def _get(d, path):
    s = connect(d)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
    body = read_response(s)[2]
    s.close()
    return body


def _ephemeral_dir(d):
    # The daemon holds a lock file inside its data dir; find it among its open files.
    fd_dir = "/proc/%d/fd" % d.proc.pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.endswith("/lock") and "stratus-" in target:
            return os.path.dirname(target)
    raise AssertionError("no lock file open")


if __name__ == "__main__":
    unittest.main()

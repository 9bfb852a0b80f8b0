"""Lambda response streaming: a node handler wrapped in awslambda.streamifyResponse, read
through InvokeWithResponseStream with boto3 (the event stream botocore parses:
PayloadChunk, InvokeComplete) and through a function URL with InvokeMode RESPONSE_STREAM
with curl, piece by piece: the handler holds its second piece until the test has read the
first one, so the first must arrive while the handler still runs."""

import json
import os
import subprocess
import tempfile
import unittest
import uuid

from daemon import Daemon

from .common import ROLE, fname, zip_of

STREAMING = r"""
const fs = require("node:fs");
const hold = async (file) => { while (file && !fs.existsSync(file)) await new Promise((r) => setTimeout(r, 10)); };
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  if (event.rawPath !== undefined) {  // through a function URL
    const q = event.queryStringParameters || {};
    responseStream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 201, headers: {"content-type": "text/plain", "x-a": "1"}, cookies: ["c=1"]});
    responseStream.write("first|");
    await hold(q.hold);
    responseStream.write("second|" + context.functionVersion);
    responseStream.end();
    return;
  }
  responseStream.setContentType("text/plain");
  responseStream.write("first|");
  await hold(event.hold);
  if (event.fail) throw new Error("broken stream");
  responseStream.write("second");
  responseStream.end();
});
"""

PLAIN = "exports.handler = async (e) => ({plain: true, got: e});"


class StreamingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.lam = cls.d.client("lambda", read_timeout=60)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.name = fname("stream")
        cls.lam.create_function(FunctionName=cls.name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                Code={"ZipFile": zip_of({"index.js": STREAMING})}, Timeout=20)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tmp.cleanup()

    def hold_file(self):
        return os.path.join(self.tmp.name, uuid.uuid4().hex)

    def test_invoke_with_response_stream_arrives_piece_by_piece(self):
        hold = self.hold_file()
        r = self.lam.invoke_with_response_stream(FunctionName=self.name, Payload=json.dumps({"hold": hold}))
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        self.assertEqual(r["ResponseStreamContentType"], "application/vnd.amazon.eventstream")
        events = iter(r["EventStream"])
        first = next(events)
        # The handler is still waiting for `hold`: this piece was streamed, not buffered.
        self.assertEqual(first, {"PayloadChunk": {"Payload": b"first|"}})
        open(hold, "w").close()
        rest = list(events)
        self.assertEqual(rest[0], {"PayloadChunk": {"Payload": b"second"}})
        self.assertEqual(rest[-1], {"InvokeComplete": {}})

        # A handler failing mid-stream: what it streamed, then InvokeComplete with the error.
        r = self.lam.invoke_with_response_stream(FunctionName=self.name, Payload=json.dumps({"fail": True}),
                                                 LogType="Tail")
        events = list(r["EventStream"])
        self.assertEqual(events[0], {"PayloadChunk": {"Payload": b"first|"}})
        done = events[-1]["InvokeComplete"]
        self.assertEqual((done["ErrorCode"], done["ErrorDetails"]), ("Error", "broken stream"))
        self.assertIn("LogResult", done)

        # Invoke (buffered) of a streaming handler answers the whole stream.
        out = self.lam.invoke(FunctionName=self.name, Payload=b"{}")
        self.assertEqual(out["Payload"].read(), b"first|second")

    def test_a_plain_handler_through_invoke_with_response_stream(self):
        name = fname("plain")
        self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                 Code={"ZipFile": zip_of({"index.js": PLAIN})}, Publish=True)
        r = self.lam.invoke_with_response_stream(FunctionName=name, Qualifier="1", Payload=b'{"a":1}')
        self.assertEqual(r["ExecutedVersion"], "1")
        events = list(r["EventStream"])
        self.assertEqual(json.loads(events[0]["PayloadChunk"]["Payload"]), {"plain": True, "got": {"a": 1}})
        self.assertEqual(events[1], {"InvokeComplete": {}})
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke_with_response_stream(FunctionName=name, Qualifier="9")

    def test_function_url_response_stream_with_curl(self):
        cfg = self.lam.create_function_url_config(FunctionName=self.name, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
        hold = self.hold_file()
        curl = subprocess.Popen(["curl", "-sS", "-N", "-i", "--max-time", "30", cfg["FunctionUrl"] + "s?hold=" + hold],
                                stdout=subprocess.PIPE)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                b = curl.stdout.read(1)
                self.assertTrue(b, head)
                head += b
            first = curl.stdout.read(len(b"first|"))
            # Read while the handler still waits for `hold`.
            self.assertEqual(first, b"first|")
            open(hold, "w").close()
            rest = curl.stdout.read()
        finally:
            curl.wait(timeout=30)
            curl.stdout.close()
        self.assertEqual(rest, b"second|$LATEST")
        lines = head.decode().split("\r\n")
        self.assertEqual(lines[0], "HTTP/1.1 201 Created")
        headers = [tuple(x.split(": ", 1)) for x in lines[1:] if x]
        self.assertIn(("content-type", "text/plain"), [(k.lower(), v) for k, v in headers])
        self.assertIn(("x-a", "1"), headers)
        self.assertIn(("Set-Cookie", "c=1"), headers)
        self.assertIn(("Transfer-Encoding", "chunked"), headers)


if __name__ == "__main__":
    unittest.main()

"""One port, many services: requests reach the right service by X-Amz-Target, SigV4 scope,
host and path, and every protocol's errors are well-formed for botocore and the AWS CLI."""

import json
import subprocess
import unittest
import urllib.request
import xml.etree.ElementTree as ET
import zlib

import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from daemon import Daemon


def raw(d, method, path, headers=None, body=b"", sign_as=None):
    """Sends one request (optionally SigV4-signed for `sign_as`) and returns
    (status, headers, body) without raising on HTTP errors."""
    url = d.endpoint + path
    headers = dict(headers or {})
    if sign_as:
        req = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(Credentials("test", "test"), sign_as, "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
    req = urllib.request.Request(url, data=body if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class DispatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    # --- boto3: botocore parses code and message from each protocol --------------------

    def test_unknown_dynamodb_operation_boto3(self):
        # A target no DynamoDB operation has: botocore must parse the JSON 1.0 error.
        ddb = self.d.client("dynamodb")

        def retarget(request, **_):
            request.headers["X-Amz-Target"] = "DynamoDB_20120810.Frobnicate"

        ddb.meta.events.register("before-sign.dynamodb.ListTables", retarget)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            ddb.list_tables()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "UnknownOperationException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertTrue(err["ResponseMetadata"]["RequestId"])

    def test_unimplemented_s3_operation_boto3(self):
        # An S3 operation stratus does not emulate: S3's NotImplemented, parsed by botocore.
        s3 = self.d.client("s3")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.get_bucket_analytics_configuration(Bucket="some-bucket", Id="x")
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "NotImplemented")
        self.assertIn("not implemented", err["Error"]["Message"])
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertTrue(err["ResponseMetadata"]["HTTPHeaders"].get("x-amz-id-2"))
        self.assertTrue(err["ResponseMetadata"]["RequestId"])

    def test_unknown_lambda_path_boto3(self):
        lam = self.d.client("lambda")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            lam.list_code_signing_configs()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "UnknownOperationException")
        self.assertIn("/2020-04-22/code-signing-configs", err["Error"]["Message"])
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 404)

    # --- the AWS CLI ------------------------------------------------------------------

    def cli(self, *args):
        return self.d.aws(*args, env={"AWS_MAX_ATTEMPTS": "1"}, timeout=60)

    def test_cli_errors(self):
        cases = [
            (["dynamodb", "describe-kinesis-streaming-destination", "--table-name", "t"],
             "(UnknownOperationException) when calling the DescribeKinesisStreamingDestination"),
            (["s3api", "get-bucket-analytics-configuration", "--bucket", "b", "--id", "x"],
             "(NotImplemented) when calling the GetBucketAnalyticsConfiguration operation: A header you provided"),
            (["lambda", "list-code-signing-configs"],
             "(UnknownOperationException) when calling the ListCodeSigningConfigs operation: Unknown operation"),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                r = self.cli(*args)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(expected, r.stderr)

    # --- the wire formats themselves --------------------------------------------------

    def test_json10_error_shape(self):
        status, headers, body = raw(self.d, "POST", "/", {
            "X-Amz-Target": "DynamoDB_20120810.Frobnicate",
            "Content-Type": "application/x-amz-json-1.0"}, b"{}", sign_as="dynamodb")
        self.assertEqual(status, 400)
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.0")
        doc = json.loads(body)
        self.assertEqual(doc["__type"], "com.amazon.coral.service#UnknownOperationException")
        # botocore checks x-amz-crc32 against the body on DynamoDB responses.
        self.assertEqual(int(headers["x-amz-crc32"]), zlib.crc32(body))
        self.assertEqual(len(headers["x-amzn-RequestId"]), 52)

    def test_rest_xml_error_shape(self):
        status, headers, body = raw(self.d, "GET", "/b?analytics&id=x")
        self.assertEqual(status, 501)
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "Error")
        self.assertEqual(root.findtext("Code"), "NotImplemented")
        self.assertEqual(root.findtext("RequestId"), headers["x-amz-request-id"])
        self.assertEqual(len(headers["x-amz-request-id"]), 16)
        self.assertTrue(headers["x-amz-id-2"])

    def test_rest_xml_head_has_no_body(self):
        status, headers, body = raw(self.d, "HEAD", "/b?analytics&id=x")
        self.assertEqual(status, 501)
        self.assertEqual(body, b"")
        self.assertTrue(headers["x-amz-request-id"])

    def test_rest_json_error_shape(self):
        status, headers, body = raw(self.d, "GET", "/2015-03-31/nothing-here")
        self.assertEqual(status, 404)
        self.assertEqual(headers["x-amzn-ErrorType"], "UnknownOperationException")
        doc = json.loads(body)
        self.assertEqual(doc["Type"], "User")
        self.assertIn("Message", doc)
        self.assertTrue(headers["x-amzn-RequestId"])

    # --- the dispatch order: target, scope, host, path, fallback -------------------

    def test_target_wins_over_path(self):
        status, headers, _ = raw(self.d, "POST", "/2015-03-31/functions", {
            "X-Amz-Target": "DynamoDB_20120810.Frobnicate"}, b"{}")
        self.assertEqual(status, 400)
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.0")

    def test_unknown_target_prefix(self):
        status, headers, body = raw(self.d, "POST", "/", {
            "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"}, b"{}")
        self.assertEqual(status, 400)
        self.assertTrue(json.loads(body)["__type"].endswith("#UnknownOperationException"))

    def test_scope_selects_service(self):
        # Signed for lambda, on a path only S3 would otherwise take.
        status, headers, _ = raw(self.d, "GET", "/somewhere", sign_as="lambda")
        self.assertEqual(status, 404)
        self.assertEqual(headers["x-amzn-ErrorType"], "UnknownOperationException")

    def test_unknown_scope_service(self):
        status, headers, body = raw(self.d, "GET", "/", sign_as="sqs")
        self.assertEqual(status, 400)
        self.assertEqual(ET.fromstring(body).findtext("Code"), "InvalidAction")
        self.assertIn("sqs", ET.fromstring(body).findtext("Message"))

    def test_host_selects_s3(self):
        # Virtual-hosted S3 even on a path that looks like Lambda's.
        status, headers, body = raw(self.d, "GET", "/2015-03-31/functions?analytics",
                                    {"Host": "mybucket.s3.localhost:%d" % self.d.port})
        self.assertEqual(status, 501)
        self.assertEqual(ET.fromstring(body).findtext("Code"), "NotImplemented")

    def test_path_selects_lambda_and_fallback_is_s3(self):
        # A Lambda path no operation has (ListFunctions now answers /functions/).
        status, headers, _ = raw(self.d, "GET", "/2015-03-31/no-such-resource")
        self.assertIn("x-amzn-ErrorType", headers)
        status, headers, body = raw(self.d, "DELETE", "/bucket?analytics&id=1")
        self.assertEqual(ET.fromstring(body).findtext("Code"), "NotImplemented")

    # --- internal endpoints -------------------------------------------------------------

    def test_health(self):
        status, headers, body = raw(self.d, "GET", "/_stratus/health")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(set(doc["services"]), {"dynamodb", "dynamodbstreams", "s3", "lambda", "logs"})
        self.assertGreaterEqual(doc["uptime_seconds"], 0)
        self.assertRegex(doc["version"], r"^\d+\.\d+\.\d+$")

    def test_internal_unknown_and_wrong_method(self):
        self.assertEqual(raw(self.d, "GET", "/_stratus/nope")[0], 404)
        self.assertEqual(raw(self.d, "GET", "/_stratus/reset")[0], 405)

    def test_reset_and_status_commands(self):
        # `stratus reset` wipes state (here the test store), `stratus status` prints health.
        from daemon import BIN
        self.assertEqual(raw(self.d, "PUT", "/_stratus/test/kv/reset-me", body=b"v")[0], 200)
        r = subprocess.run([BIN, "status", "--port", str(self.d.port)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"services"', r.stdout)
        r = subprocess.run([BIN, "reset", "--port", str(self.d.port)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(raw(self.d, "GET", "/_stratus/test/kv/reset-me")[0], 404)

    def test_cli_unreachable_daemon(self):
        from daemon import BIN
        r = subprocess.run([BIN, "status", "--port", "1"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot reach stratus", r.stderr)

    def test_access_log(self):
        raw(self.d, "GET", "/2015-03-31/access-log-probe")
        import time
        for _ in range(50):
            if any("lambda GET /2015-03-31/access-log-probe 404" in l for l in self.d.stderr_lines):
                break
            time.sleep(0.02)
        self.assertTrue(any("lambda GET /2015-03-31/access-log-probe 404" in l for l in self.d.stderr_lines))


if __name__ == "__main__":
    unittest.main()

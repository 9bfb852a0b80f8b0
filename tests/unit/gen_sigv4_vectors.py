#!/usr/bin/env python3
"""Regenerates the SigV4 test vectors in tests/unit/sigv4_test.cpp.

The vectors are requests signed by botocore's own signers (the SDK our daemon must
accept), with fixed credentials and a fixed clock, so the C++ verifier is checked against
the reference implementation rather than against our reading of the spec. Nothing is sent:
a before-send hook captures each prepared request and aborts it.

Run with the machine's python3 (it has boto3/botocore):
    python3 tests/unit/gen_sigv4_vectors.py            # print the C++ block
    python3 tests/unit/gen_sigv4_vectors.py --update   # rewrite it in sigv4_test.cpp
The block sits between the "BEGIN GENERATED" / "END GENERATED" markers.
"""
import datetime
import pathlib
import sys
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# Base64-looking, with '+', '/' and '=' that must survive query encoding.
SESSION_TOKEN = "FwoGZXIvYXdzEHka+Dk/token==end"
ENDPOINT = "http://localhost:4566"
REGION = "us-east-1"
FIXED_NOW = datetime.datetime(2026, 11, 26, 16, 52, 0)

# botocore reads the clock through this module-level name.
botocore.auth.get_current_datetime = lambda remove_tzinfo=True: FIXED_NOW

# Remember the canonical request of the last signature, to compare ours with it.
_last_canonical = []
_orig_canonical_request = botocore.auth.SigV4Auth.canonical_request


def _recording_canonical_request(self, request):
    cr = _orig_canonical_request(self, request)
    _last_canonical.append(cr)
    return cr


botocore.auth.SigV4Auth.canonical_request = _recording_canonical_request


class _Captured(Exception):
    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def _capture(request, **_):
    raise _Captured(request)


def _text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    pos = body.tell()
    data = body.read()
    body.seek(pos)
    return data


def _vector(name, method, url, headers, body, s3):
    parts = urlsplit(url)
    # urllib3 sends Host first, derived from the URL exactly as botocore's signer does.
    wire_headers = [("Host", botocore.auth._host_from_url(url))]
    wire_headers += [(_text(k), _text(v)) for k, v in headers]
    return dict(name=name, method=method, path=parts.path, query=parts.query,
                headers=wire_headers, body=_body_bytes(body), s3=s3,
                canonical=_last_canonical[-1])


def _client(service, token=None, **config):
    session = boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            aws_session_token=token, region_name=REGION)
    client = session.client(service, endpoint_url=ENDPOINT,
                            config=Config(retries={"total_max_attempts": 1}, **config))
    client.meta.events.register("before-send", _capture)
    return client


def _call(name, client, op, s3, **params):
    try:
        getattr(client, op)(**params)
    except _Captured as c:
        r = c.request
        return _vector(name, r.method, r.url, r.headers.items(), r.body, s3)
    raise RuntimeError(f"{name}: request was not captured")


def vectors():
    out = []
    out.append(_call("dynamodb_put_item", _client("dynamodb"), "put_item", False,
                     TableName="orders",
                     Item={"pk": {"S": "a b+ü"}, "n": {"N": "1"}}))
    s3 = _client("s3")
    out.append(_call("s3_get_object_odd_key", s3, "get_object", True,
                     Bucket="bkt", Key="dir/a b+c/ü é~*(1).txt",
                     ResponseContentDisposition='attachment; filename="x y+z.txt"',
                     VersionId="v1+/="))
    out.append(_call("s3_list_objects_v2", s3, "list_objects_v2", True,
                     Bucket="bkt", Prefix="a b+c/ü", Delimiter="/", MaxKeys=7))
    unsigned = _client("s3", s3={"payload_signing_enabled": False})
    out.append(_call("s3_put_unsigned_payload", unsigned, "put_object", True,
                     Bucket="bkt", Key="up/a b+c.txt", Body=b"hello world\n"))
    presigner = boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                              aws_session_token=SESSION_TOKEN, region_name=REGION).client(
        "s3", endpoint_url=ENDPOINT, config=Config(signature_version="s3v4"))
    url = presigner.generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "dir/a b+c/ü.txt"}, ExpiresIn=900)
    out.append(_vector("s3_presigned_get", "GET", url, [], b"", True))
    # A non-S3 presigned URL (the EKS token trick): SigV4QueryAuth, which signs the body's
    # hash (empty) rather than UNSIGNED-PAYLOAD and double-encodes the path.
    sts = boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        region_name=REGION).client("sts", endpoint_url=ENDPOINT)
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    out.append(_vector("sts_presigned_get_caller_identity", "GET", url, [], b"", False))
    out.append(_call("lambda_invoke_arn", _client("lambda", token=SESSION_TOKEN), "invoke", False,
                     FunctionName="arn:aws:lambda:us-east-1:000000000000:function:my-fn",
                     Qualifier="live", Payload=b'{"k": "v"}'))
    # The bare signer on a hand-made request: a Date header instead of X-Amz-Date,
    # repeated and whitespace-padded header values, dot segments and '//' in the path, and
    # query params without a value or '='.
    req = AWSRequest(method="GET",
                     url=ENDPOINT + "/prod/./a//b%20c/../d%3Ae~f?x=1&y=&z&x=0",
                     headers={"Date": "placeholder", "X-Custom": "  a   b \t c  "})
    req.headers["X-Multi"] = "one"
    req.headers["X-Multi"] = " two  "
    botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "execute-api", REGION).add_auth(req)
    out.append(_vector("raw_signer_date_header", req.method, req.url, req.headers.items(), b"", False))
    return out


def _cpp(s):
    """A C++ string literal; bytes outside printable ASCII become 3-digit octal escapes."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    out = ['"']
    for b in s:
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    out.append('"')
    return "".join(out)


def _cpp_multiline(s, indent):
    lines = s.split("\n")
    pieces = [_cpp(line + "\n") for line in lines[:-1]] + [_cpp(lines[-1])]
    return ("\n" + indent).join(pieces)


def render(vs):
    ind = " " * 8
    lines = [f"// Generated by tests/unit/gen_sigv4_vectors.py (botocore {botocore.__version__}).",
             f"constexpr std::string_view vector_access_key = {_cpp(ACCESS_KEY)};",
             f"constexpr std::string_view vector_secret_key = {_cpp(SECRET_KEY)};",
             f"constexpr std::string_view vector_session_token = {_cpp(SESSION_TOKEN)};",
             f"constexpr std::string_view vector_amz_date = {_cpp(FIXED_NOW.strftime('%Y%m%dT%H%M%SZ'))};",
             "const std::vector<Vector> vectors = {"]
    for v in vs:
        lines.append("    {")
        lines.append(f"{ind}.name = {_cpp(v['name'])},")
        lines.append(f"{ind}.method = {_cpp(v['method'])},")
        lines.append(f"{ind}.path = {_cpp(v['path'])},")
        lines.append(f"{ind}.query = {_cpp(v['query'])},")
        lines.append(f"{ind}.headers = {{")
        for k, val in v["headers"]:
            lines.append(f"{ind}    {{{_cpp(k)}, {_cpp(val)}}},")
        lines.append(f"{ind}}},")
        lines.append(f"{ind}.body = {_cpp(v['body'])},")
        lines.append(f"{ind}.s3 = {'true' if v['s3'] else 'false'},")
        lines.append(f"{ind}.canonical_request =")
        lines.append(f"{ind}    {_cpp_multiline(v['canonical'], ind + '    ')},")
        lines.append("    },")
    lines.append("};")
    return "\n".join(lines) + "\n"


def main():
    block = render(vectors())
    if "--update" not in sys.argv[1:]:
        sys.stdout.write(block)
        return
    test = pathlib.Path(__file__).with_name("sigv4_test.cpp")
    text = test.read_text()
    begin, end = "// BEGIN GENERATED\n", "// END GENERATED\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    test.write_text(head + begin + block + end + tail)


if __name__ == "__main__":
    main()

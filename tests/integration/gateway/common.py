"""What the gateway test files share: a daemon with the fixture handlers declared as
functions, API declarations through the test-only endpoint, and a raw HTTP client for the
API port (http.client: it sends paths exactly as given, no normalisation, no redirects)."""

import http.client
import json
import os
import socket
import uuid

from daemon import Daemon

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
NODE = os.path.join(FIXTURES, "node")
PYTHON = os.path.join(FIXTURES, "python")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value) as sent
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def start(*args):
    return Daemon("--log-level", "warn", *args).start()


def internal(d, method, path, body=None):
    """A call to the daemon's /_stratus/ endpoints; returns (status, parsed JSON or None)."""
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


def function(d, handler, runtime="nodejs20.x", code=NODE, timeout=3, name=None, **extra):
    """Declares a function whose code is a fixture directory; returns its name."""
    name = name or "gw-" + handler.replace(".", "-").lower() + "-" + uuid.uuid4().hex[:6]
    spec = {"name": name, "runtime": runtime, "handler": handler, "code_dir": code, "timeout": timeout}
    spec.update(extra)
    status, out = internal(d, "POST", "/_stratus/test/lambda/declare", spec)
    assert status == 200, (status, out)
    return name


def api(d, spec):
    """Declares an API; returns its id (raises AssertionError with the error otherwise)."""
    status, out = internal(d, "POST", "/_stratus/test/gateway/apis", spec)
    assert status == 201, (status, out)
    return out["id"]


def declare_status(d, spec):
    return internal(d, "POST", "/_stratus/test/gateway/apis", spec)


def call(d, method, path, headers=None, body=None, host=None, timeout=30, port=None):
    c = http.client.HTTPConnection("127.0.0.1", port or d.api_port, timeout=timeout)
    hdrs = dict(headers or {})
    if host:
        hdrs["Host"] = host
    if isinstance(body, str):
        body = body.encode()
    c.request(method, path, body=body, headers=hdrs)
    r = c.getresponse()
    out = Response(r.status, r.getheaders(), r.read())
    c.close()
    return out


def raw(port, data, timeout=10):
    """Sends bytes as they are, closes the sending side, and returns everything the server
    answers until it closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def token(d, **body):
    status, out = internal(d, "POST", "/_stratus/token", body)
    assert status == 200, (status, out)
    return out["token"]

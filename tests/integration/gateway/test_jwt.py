"""JWT authorizers (HTTP APIs): tokens from the built-in issuer (its endpoint and the
`stratus token` command, OIDC discovery and JWKS under /_stratus/) and from keys made with
`openssl` at test time, served as JWKS by a local HTTP server (found through OpenID
discovery) and from a file; every rejection AWS documents, scopes, and claims in the event.
A slow JWKS server holds only the requests that need its keys."""

import base64
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from daemon import BIN

from . import common


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def der_to_raw(der, size):
    """ECDSA DER (SEQUENCE of two INTEGERs) to JWS's r || s."""
    i = 2 if der[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\x00").rjust(size, b"\x00")
        i += 2 + n
    return out


class Key:
    """A key made by openssl, its JWK, and tokens signed with `openssl dgst -sign`."""

    def __init__(self, workdir, kind, kid, name=None):
        self.kid = kid
        self.path = os.path.join(workdir, (name or kid) + ".pem")
        if kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", self.path)
            n = bytes.fromhex(openssl("rsa", "-in", self.path, "-noout", "-modulus").decode().strip().split("=")[1])
            self.jwk = {"kty": "RSA", "kid": kid, "use": "sig", "n": b64u(n), "e": "AQAB"}
            self.size = None
        else:
            curve, self.size = {"es256": ("P-256", 32), "es384": ("P-384", 48)}[kind]
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:" + curve, "-out", self.path)
            spki = openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER")
            point = spki[-(1 + 2 * self.size):]
            self.jwk = {"kty": "EC", "kid": kid, "crv": curve, "x": b64u(point[1:1 + self.size]),
                        "y": b64u(point[1 + self.size:])}

    def sign(self, claims, alg, header=None):
        h = {"alg": alg, "kid": self.kid, "typ": "JWT"}
        h.update(header or {})
        h = {k: v for k, v in h.items() if v is not None}
        data = (b64u(json.dumps(h).encode()) + "." + b64u(json.dumps(claims).encode())).encode()
        sig = openssl("dgst", "-sha" + alg[2:], "-sign", self.path, data=data)
        if alg.startswith("ES"):
            sig = der_to_raw(sig, self.size)
        return data.decode() + "." + b64u(sig)


class JwksServer:
    """An issuer on this machine: /.well-known/openid-configuration and /jwks.json,
    optionally slow."""

    def __init__(self, keys):
        self.keys = keys
        self.delay = 0
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                time.sleep(outer.delay)
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": outer.url, "jwks_uri": outer.url + "/jwks.json"}
                elif self.path == "/jwks.json":
                    body = {"keys": [k.jwk for k in outer.keys]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class JwtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.rsa = Key(cls.tmp.name, "rsa", "rsa-1")
        cls.es256 = Key(cls.tmp.name, "es256", "ec-256")
        cls.es384 = Key(cls.tmp.name, "es384", "ec-384")
        cls.stranger = Key(cls.tmp.name, "rsa", "rsa-1", name="stranger")  # same kid, another key
        cls.jwks = JwksServer([cls.rsa, cls.es256, cls.es384])
        cls.jwks_file = os.path.join(cls.tmp.name, "jwks.json")
        with open(cls.jwks_file, "w") as f:
            json.dump({"keys": [cls.rsa.jwk]}, f)
        cls.slow = JwksServer([cls.rsa])
        cls.d = common.start()
        d = cls.d
        cls.builtin = "http://127.0.0.1:%d/_stratus" % d.port
        cls.echo = common.function(d, "index.echo")
        e = cls.echo
        cls.api = common.api(d, {"type": "http", "authorizers": [
            {"name": "builtin", "kind": "jwt", "issuer": cls.builtin, "audiences": ["app"]},
            {"name": "ext", "kind": "jwt", "issuer": cls.jwks.url, "audiences": ["app", "app2"]},
            {"name": "file", "kind": "jwt", "issuer": "https://offline.example", "audiences": ["app"],
             "jwks_uri": cls.jwks_file},
            {"name": "slow", "kind": "jwt", "issuer": cls.slow.url, "audiences": ["app"]},
            {"name": "query", "kind": "jwt", "issuer": cls.builtin, "audiences": ["app"],
             "identity_sources": ["$request.querystring.access_token"]}],
                                  "routes": [
            {"method": "GET", "path": "/builtin", "function": e, "authorizer": "builtin"},
            {"method": "GET", "path": "/scoped", "function": e, "authorizer": "builtin",
             "scopes": ["items:write", "admin"]},
            {"method": "GET", "path": "/v1", "function": e, "authorizer": "builtin", "payload_format_version": "1.0"},
            {"method": "GET", "path": "/ext", "function": e, "authorizer": "ext"},
            {"method": "GET", "path": "/file", "function": e, "authorizer": "file"},
            {"method": "GET", "path": "/slow", "function": e, "authorizer": "slow"},
            {"method": "GET", "path": "/query", "function": e, "authorizer": "query"},
            {"method": "GET", "path": "/open", "function": e}]})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.jwks.stop()
        cls.slow.stop()
        cls.tmp.cleanup()

    def call(self, path, token=None, prefix="Bearer "):
        headers = {"Authorization": prefix + token} if token is not None else {}
        return common.call(self.d, "GET", path, headers=headers)

    def claims(self, **kw):
        now = int(time.time())
        c = {"iss": self.jwks.url, "aud": "app", "sub": "user-1", "exp": now + 300, "iat": now - 1,
             "scope": "items:read"}
        c.update(kw)
        return {k: v for k, v in c.items() if v is not None}

    # The built-in issuer: discovery, JWKS, a token from the endpoint; claims and scopes in
    # requestContext.authorizer.jwt as AWS shows them (strings).
    def test_builtin_issuer(self):
        status, disco = common.internal(self.d, "GET", "/_stratus/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(disco["issuer"], self.builtin)
        self.assertEqual(disco["jwks_uri"], self.builtin + "/.well-known/jwks.json")
        status, jwks = common.internal(self.d, "GET", "/_stratus/.well-known/jwks.json")
        self.assertEqual((status, jwks["keys"][0]["kty"], jwks["keys"][0]["alg"]), (200, "RSA", "RS256"))
        tok = common.token(self.d, sub="alice", aud="app", scope="items:read items:write",
                           claims={"groups": ["a", "b"], "tenant": "t1"}, ttl="10m")
        r = self.call("/builtin", tok)
        self.assertEqual(r.status, 200, r)
        jwt = r.json()["event"]["requestContext"]["authorizer"]["jwt"]
        self.assertEqual(jwt["scopes"], ["items:read", "items:write"])
        c = jwt["claims"]
        self.assertEqual((c["sub"], c["iss"], c["aud"], c["tenant"], c["groups"]), ("alice", self.builtin, "app", "t1", "[a b]"))
        self.assertRegex(c["exp"], r"^\d+$")
        self.assertEqual(int(c["exp"]) - int(c["iat"]), 600)
        # Without the Bearer prefix too; payload 1.0 has claims and scopes directly.
        self.assertEqual(self.call("/builtin", tok, prefix="").status, 200)
        e = self.call("/v1", tok).json()["event"]
        self.assertEqual(e["requestContext"]["authorizer"]["claims"]["sub"], "alice")
        # A token from the query string when the identity source says so.
        r = common.call(self.d, "GET", "/query?access_token=" + tok)
        self.assertEqual(r.status, 200)

    # `stratus token` prints a token the authorizer accepts.
    def test_cli(self):
        out = subprocess.run([BIN, "token", "--port", str(self.d.port), "--sub", "cli-user", "--aud", "app",
                              "--scope", "admin", "--claims", '{"role":"ops"}', "--ttl", "1h"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        tok = out.stdout.strip()
        r = self.call("/scoped", tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["event"]["requestContext"]["authorizer"]["jwt"]["claims"]["role"], "ops")
        bad = subprocess.run([BIN, "token", "--port", str(self.d.port), "--ttl", "soon"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(bad.returncode, 0)

    # The token endpoint is callable from a page on another origin (the site port).
    def test_token_endpoint_cors(self):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        c.request("OPTIONS", "/_stratus/token", headers={"Origin": "http://localhost:8080",
                                                          "Access-Control-Request-Method": "POST",
                                                          "Access-Control-Request-Headers": "content-type"})
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 204)
        self.assertEqual(r.getheader("Access-Control-Allow-Origin"), "*")
        self.assertIn("POST", r.getheader("Access-Control-Allow-Methods"))
        c.request("POST", "/_stratus/token", body='{"sub":"x"}', headers={"Origin": "http://localhost:8080"})
        r = c.getresponse()
        self.assertEqual((r.status, r.getheader("Access-Control-Allow-Origin")), (200, "*"))
        self.assertIn("token", json.loads(r.read()))
        c.request("POST", "/_stratus/token", body='{"ttl":[1]}')
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 400)
        c.close()

    # Keys made by openssl, found through the issuer's OpenID discovery; RS256 and ES256 /
    # ES384 really verified.
    def test_external_issuer(self):
        for key, alg in ((self.rsa, "RS256"), (self.rsa, "RS384"), (self.rsa, "RS512"),
                         (self.es256, "ES256"), (self.es384, "ES384")):
            r = self.call("/ext", key.sign(self.claims(), alg))
            self.assertEqual(r.status, 200, (alg, r))
        # The keys were fetched once (discovery + JWKS), then cached.
        hits = self.jwks.hits
        self.assertEqual(self.call("/ext", self.rsa.sign(self.claims(), "RS256")).status, 200)
        self.assertEqual(self.jwks.hits, hits)

    # A JWKS from a local file (offline work).
    def test_file_jwks(self):
        tok = self.rsa.sign(self.claims(iss="https://offline.example"), "RS256")
        self.assertEqual(self.call("/file", tok).status, 200)

    # Every rejection: 401 with a www-authenticate header saying why.
    def test_rejections(self):
        now = int(time.time())
        unsigned = (b64u(json.dumps({"alg": "none", "kid": "rsa-1"}).encode()) + "." +
                    b64u(json.dumps(self.claims()).encode()) + ".")
        cases = {
            "alg none": unsigned,
            "unknown kid": self.rsa.sign(self.claims(), "RS256", {"kid": "nope"}),
            "no kid": self.rsa.sign(self.claims(), "RS256", {"kid": None}),
            "wrong key": self.stranger.sign(self.claims(), "RS256"),
            # Past the 300 s clock skew tolerance (see test_clock_skew).
            "expired": self.rsa.sign(self.claims(exp=now - 400), "RS256"),
            "not yet valid": self.rsa.sign(self.claims(nbf=now + 400), "RS256"),
            "issued in the future": self.rsa.sign(self.claims(iat=now + 400, exp=now + 900), "RS256"),
            "wrong issuer": self.rsa.sign(self.claims(iss="https://evil.example"), "RS256"),
            "wrong audience": self.rsa.sign(self.claims(aud="someone-else"), "RS256"),
            "no expiry": self.rsa.sign(self.claims(exp=None), "RS256"),
            "garbage": "not-a-jwt",
            "ES token under the RSA kid": self.es256.sign(self.claims(), "ES256", {"kid": "rsa-1"}),
        }
        for why, tok in cases.items():
            r = self.call("/ext", tok)
            self.assertEqual((r.status, r.body), (401, b'{"message":"Unauthorized"}'), why)
            self.assertTrue(r.header("www-authenticate", "").startswith('Bearer scope="" error="invalid_token"'), why)
        r = self.call("/ext")
        self.assertEqual(r.status, 401)
        # The built-in issuer's tokens: expired and wrong audience.
        self.assertEqual(self.call("/builtin", common.token(self.d, aud="app", ttl=-400)).status, 401)
        self.assertEqual(self.call("/builtin", common.token(self.d, aud="other")).status, 401)
        # client_id stands in for a missing aud.
        self.assertEqual(self.call("/ext", self.rsa.sign(self.claims(aud=None, client_id="app2"), "RS256")).status, 200)

    # exp, nbf and iat are checked with a 300 s tolerance for clocks that disagree. AWS
    # documents none (exp "must be after the current time", nbf and iat "before"); the
    # tolerance and its size are our choice (see jwt_clock_skew_seconds). Tokens a minute
    # off are accepted, from openssl-made keys and the built-in issuer alike; those past
    # the tolerance are rejected in test_rejections.
    def test_clock_skew(self):
        now = int(time.time())
        for claims in ({"exp": now - 60}, {"nbf": now + 60}, {"iat": now + 60}):
            tok = self.rsa.sign(self.claims(**claims), "RS256")
            self.assertEqual(self.call("/ext", tok).status, 200, claims)
        self.assertEqual(self.call("/ext", self.es256.sign(self.claims(exp=now - 60), "ES256")).status, 200)
        self.assertEqual(self.call("/builtin", common.token(self.d, aud="app", ttl=-60)).status, 200)

    # Route scopes: any one of them in scope / scp, else 403.
    def test_scopes(self):
        r = self.call("/scoped", common.token(self.d, aud="app", scope="items:read"))
        self.assertEqual((r.status, r.body), (403, b'{"message":"Forbidden"}'))
        self.assertIn('error="insufficient_scope"', r.header("www-authenticate"))
        self.assertEqual(self.call("/scoped", common.token(self.d, aud="app", scope="x admin")).status, 200)
        tok = common.token(self.d, aud="app", claims={"scp": ["items:write"]})
        self.assertEqual(self.call("/scoped", tok).status, 200)
        self.assertEqual(self.call("/open").status, 200)

    # A slow JWKS server: requests for its keys wait for the one fetch; everyone else is
    # answered meanwhile.
    def test_slow_jwks_does_not_block(self):
        self.slow.delay = 0.5
        tok = self.rsa.sign(self.claims(iss=self.slow.url), "RS256")
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.call("/slow", tok).status)) for _ in range(3)]
        t0 = time.time()
        for t in threads:
            t.start()
        quick = self.call("/builtin", common.token(self.d, aud="app"))
        self.assertEqual(quick.status, 200)
        self.assertLess(time.time() - t0, 0.45)
        for t in threads:
            t.join()
        self.assertEqual(results, [200, 200, 200])
        self.assertEqual(self.slow.hits, 2)  # discovery and JWKS, once for all three


if __name__ == "__main__":
    unittest.main()

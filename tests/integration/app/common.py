"""Helpers for the app tests: a copy of an app folder (tests/apps/NAME or examples/NAME) in
a temporary directory, so a test may edit its config; the daemon started on it; and
waiting for what a redeploy changes."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from daemon import BIN, Daemon, ROOT

APPS = os.path.join(ROOT, "tests", "apps")


def copy_app(name, root=APPS):
    """A temporary copy of an app folder (node_modules linked, not copied)."""
    tmp = tempfile.mkdtemp(prefix="stratus-app-")
    dst = os.path.join(tmp, os.path.basename(name))
    src = os.path.join(root, name)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("node_modules", ".stratus"))
    for sub in ("", "web"):
        nm = os.path.join(src, sub, "node_modules")
        if os.path.isdir(nm):
            os.symlink(nm, os.path.join(dst, sub, "node_modules"))
    return tmp, dst


def npm_ci(folder):
    """Installs an app's own dependencies (package-lock.json) once."""
    stamp = os.path.join(folder, "node_modules", ".stratus-installed-lock")
    lock = os.path.join(folder, "package-lock.json")
    with open(lock) as f:
        want = f.read()
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == want:
                return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=folder, check=True, timeout=600)
    shutil.copy(lock, stamp)


def start(app_dir, *args, **kw):
    return Daemon(app_dir, "--site-port", "0", *args, **kw).start(timeout=30)


def app_info(d):
    with urllib.request.urlopen(d.endpoint + "/_stratus/app", timeout=10) as r:
        return json.load(r)


def wait_for(predicate, timeout=10, what="condition"):
    """Polls `predicate` until it returns something true (a redeploy or a stream happens on
    the daemon's own time: there is no event to wait on from outside)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def cli(d, *args, timeout=30):
    return subprocess.run([BIN] + list(args) + ["--port", str(d.port)], capture_output=True, text=True, timeout=timeout)


def has_gateway(d):
    return any("url" in a for a in app_info(d).get("apis", []))


def edit(path, old, new, count=1):
    """Replaces `old` by `new` in a file (it must be there)."""
    with open(path) as f:
        text = f.read()
    assert old in text, "%r not in %s" % (old, path)
    with open(path, "w") as f:
        f.write(text.replace(old, new, count))


def has_triggers(d):
    return bool(app_info(d).get("triggers"))


def token(d, **claims):
    """A JWT from the built-in issuer (POST /_stratus/token)."""
    req = urllib.request.Request(d.endpoint + "/_stratus/token", data=json.dumps(claims).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["token"]


def http(method, url, body=None, headers=None):
    """(status, parsed JSON or text, headers) of one request; never raises on HTTP errors."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw, h = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        status, raw, h = e.code, e.read(), dict(e.headers)
    try:
        return status, json.loads(raw), h
    except ValueError:
        return status, raw.decode(errors="replace"), h


def api_url(d, type_):
    for a in app_info(d)["apis"]:
        if a["type"] == type_:
            return a["url"]
    raise AssertionError("no %s API" % type_)

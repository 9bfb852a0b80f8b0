"""Starts the real stratus binary for integration tests.

The binary comes from $STRATUS_BIN (ctest sets it) or build/emulator/stratus. Each daemon
listens on a free port (--port 0, the port read back from its banner) with its own data
directory, and is stopped (SIGTERM, then SIGKILL) by stop()."""

import os
import re
import signal
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STRATUS_BIN") or os.path.join(ROOT, "build", "emulator", "stratus")

# Clients in tests use fixed fake credentials; stratus accepts any unless told to verify.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


class Daemon:
    def __init__(self, *args, data_dir=None, env=None):
        self.owned_dir = None
        if data_dir is None:
            self.owned_dir = tempfile.TemporaryDirectory(prefix="stratus-test-")
            data_dir = self.owned_dir.name
        self.data_dir = data_dir
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.port = None
        self.site_port = None
        self.api_port = None
        self.stderr_lines = []

    def start(self, timeout=10):
        cmd = [BIN, "start", "--port", "0", "--data-dir", self.data_dir, "--enable-test-api"] + self.args
        if "--api-port" not in self.args:
            cmd += ["--api-port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=self.env)
        deadline = time.time() + timeout
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://([^ ]+):(\d+)", line)
        if not m:
            self.proc.kill()
            self.proc.wait()
            err = self.proc.stderr.read()
            self.proc.stdout.close()
            self.proc.stderr.close()
            raise RuntimeError("stratus did not start: %r %s" % (line, err))
        self.port = int(m.group(2))
        # The banner's other lines, up to "data:": the API Gateway port, and the site port
        # when --site-bucket is given.
        self.site_port = None
        self.api_port = None
        while True:
            extra = self.proc.stdout.readline()
            if not extra or extra.startswith("  data:"):
                break
            site = re.search(r"site: http://[^ ]+:(\d+)", extra)
            if site:
                self.site_port = int(site.group(1))
            api = re.search(r"^  api: http://[^ ]+:(\d+)", extra)
            if api:
                self.api_port = int(api.group(1))
        # Drain output so the daemon never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(self.proc.stdout, None), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr_lines), daemon=True).start()
        assert time.time() < deadline
        return self

    @staticmethod
    def _drain(stream, sink):
        try:
            for line in stream:
                if sink is not None:
                    sink.append(line)
        except (ValueError, OSError):
            pass  # closed by stop()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def api_endpoint(self):
        return "http://127.0.0.1:%d" % self.api_port

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except Exception:
                pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            try:
                stream.close()
            except Exception:
                pass
        if self.owned_dir:
            self.owned_dir.cleanup()
            self.owned_dir = None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def aws(self, *args, env=None, timeout=300):
        """Runs the AWS CLI against this daemon (credentials and region: the test defaults
        set above, unless `env` overrides them); returns the CompletedProcess."""
        return subprocess.run(["aws", "--endpoint-url", self.endpoint, "--region", "us-east-1"] + list(args),
                              capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=timeout)

    def client(self, service, **kw):
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=kw.pop("key", "test"),
                            aws_secret_access_key=kw.pop("secret", "test"),
                            config=Config(retries={"max_attempts": 1}, **kw))

"""kill -9 during uploads: after a restart every acknowledged object is intact, and no
partial object is visible (every listed object's bytes match its ETag and size); spool
leftovers and unreferenced files are cleaned up."""
import hashlib
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

from botocore.config import Config

from daemon import Daemon


class KillDuringUploadsTest(unittest.TestCase):
    def test_kill9_during_uploads(self):
        with tempfile.TemporaryDirectory(prefix="stratus-s3-kill-") as data:
            d = Daemon(data_dir=data).start()
            s3 = d.client("s3")
            b = "kill-" + uuid.uuid4().hex[:8]
            s3.create_bucket(Bucket=b)
            acked = {}
            lock = threading.Lock()
            stop = threading.Event()

            def writer(n):
                c = d.client("s3", connect_timeout=2, read_timeout=5)
                i = 0
                while not stop.is_set():
                    # Mixed sizes, some multi-megabyte so the kill lands mid-body; the
                    # same keys are overwritten, so a torn overwrite would show.
                    size = [100, 64 * 1024, 3 * 1024 * 1024][i % 3]
                    key = "w%d/k%d" % (n, i % 7)
                    body = os.urandom(size)
                    try:
                        c.put_object(Bucket=b, Key=key, Body=body)
                    except Exception:
                        return
                    with lock:
                        acked[key] = hashlib.md5(body).hexdigest()
                    i += 1

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            time.sleep(1.5)
            d.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            self.assertTrue(acked, "no upload finished before the kill")

            d2 = Daemon(data_dir=data).start()
            try:
                s3 = d2.client("s3")
                listed = {o["Key"]: o for p in s3.get_paginator("list_objects_v2").paginate(Bucket=b)
                          for o in p.get("Contents", [])}
                for key, md5 in acked.items():
                    # The last acknowledged write of a key, or a later one that completed
                    # (acknowledged to nobody) - never a torn mix.
                    self.assertIn(key, listed)
                for key, o in listed.items():
                    body = s3.get_object(Bucket=b, Key=key)["Body"].read()
                    self.assertEqual(len(body), o["Size"], key)
                    self.assertEqual('"%s"' % hashlib.md5(body).hexdigest(), o["ETag"], key)
                # Every body is referenced (bodies cut short by the kill, spooled beside the
                # objects, are gone): as many files as stored objects over 16 KiB, as many
                # inline bodies as smaller ones.
                files = sum(len(f) for _, _, f in os.walk(os.path.join(data, "s3", "objects")))
                self.assertEqual(files, len([o for o in listed.values() if o["Size"] > 16 * 1024]))
                with urllib.request.urlopen(d2.endpoint + "/_stratus/test/s3/bodies") as r:
                    counts = json.loads(r.read())
                self.assertEqual(counts["files"], files)
                self.assertEqual(counts["inline"], len([o for o in listed.values() if 0 < o["Size"] <= 16 * 1024]))
            finally:
                d2.stop()


class KillDuringGroupedPutsTest(unittest.TestCase):
    def test_kill9_during_many_small_puts(self):
        # Small bodies are stored inline and their commits grouped (many PUTs per LMDB
        # transaction): every PUT answered before the kill is there after it, whole.
        with tempfile.TemporaryDirectory(prefix="stratus-s3-kill-") as data:
            d = Daemon(data_dir=data).start()
            s3 = d.client("s3")
            b = "group-" + uuid.uuid4().hex[:8]
            s3.create_bucket(Bucket=b)
            acked = {}
            lock = threading.Lock()
            stop = threading.Event()

            def writer(n):
                c = d.client("s3", connect_timeout=2, read_timeout=5)
                i = 0
                while not stop.is_set():
                    key = "t%d/%d" % (n, i)
                    body = os.urandom(1 + (i * 977) % 16000)
                    try:
                        c.put_object(Bucket=b, Key=key, Body=body)
                    except Exception:
                        return
                    with lock:
                        acked[key] = hashlib.md5(body).hexdigest()
                    i += 1

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
            for t in threads:
                t.start()
            time.sleep(2)
            d.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            self.assertGreater(len(acked), 50, "too few uploads finished before the kill")

            d2 = Daemon(data_dir=data).start()
            try:
                s3 = d2.client("s3")
                listed = {o["Key"]: o for p in s3.get_paginator("list_objects_v2").paginate(Bucket=b)
                          for o in p.get("Contents", [])}
                for key, md5 in acked.items():
                    self.assertIn(key, listed)
                    self.assertEqual(listed[key]["ETag"], '"%s"' % md5, key)
                    body = s3.get_object(Bucket=b, Key=key)["Body"].read()
                    self.assertEqual(hashlib.md5(body).hexdigest(), md5, key)
                with urllib.request.urlopen(d2.endpoint + "/_stratus/test/s3/bodies") as r:
                    counts = json.loads(r.read())
                self.assertEqual(counts["inline"], len(listed))
            finally:
                d2.stop()


if __name__ == "__main__":
    unittest.main()

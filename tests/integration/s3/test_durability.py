"""kill -9 during uploads: after a restart every acknowledged object is intact, and no
partial object is visible (every listed object's bytes match its ETag and size); spool
leftovers and unreferenced bodies are cleaned up."""
import hashlib
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

from daemon import Daemon


class KillDuringUploadsTest(unittest.TestCase):
    def kill_during_puts(self, data, bucket, threads, seconds, next_put):
        """Starts a daemon on `data`, has `threads` clients PUT next_put(n, i) -> (key, body)
        into `bucket` until it is killed with SIGKILL after `seconds`; returns the
        acknowledged {key: md5} (the last acknowledged write of each key)."""
        d = Daemon(data_dir=data).start()
        d.client("s3").create_bucket(Bucket=bucket)
        acked = {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            c = d.client("s3", connect_timeout=2, read_timeout=5)
            i = 0
            while not stop.is_set():
                key, body = next_put(n, i)
                try:
                    c.put_object(Bucket=bucket, Key=key, Body=body)
                except Exception:
                    return
                with lock:
                    acked[key] = hashlib.md5(body).hexdigest()
                i += 1

        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for t in workers:
            t.start()
        time.sleep(seconds)
        d.kill9()
        stop.set()
        for t in workers:
            t.join(timeout=30)
        return acked

    @staticmethod
    def listed(s3, bucket):
        return {o["Key"]: o for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in p.get("Contents", [])}

    @staticmethod
    def body_counts(d):
        with urllib.request.urlopen(d.endpoint + "/_stratus/test/s3/bodies") as r:
            return json.loads(r.read())

    def test_kill9_during_uploads(self):
        # Mixed sizes, some multi-megabyte so the kill lands mid-body; the same keys are
        # overwritten, so a torn overwrite would show.
        def next_put(n, i):
            return "w%d/k%d" % (n, i % 7), os.urandom([100, 64 * 1024, 3 * 1024 * 1024][i % 3])

        with tempfile.TemporaryDirectory(prefix="stratus-s3-kill-") as data:
            b = "kill-" + uuid.uuid4().hex[:8]
            acked = self.kill_during_puts(data, b, 4, 1.5, next_put)
            self.assertTrue(acked, "no upload finished before the kill")
            d2 = Daemon(data_dir=data).start()
            try:
                s3 = d2.client("s3")
                listed = self.listed(s3, b)
                for key in acked:
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
                counts = self.body_counts(d2)
                self.assertEqual(counts["files"], files)
                self.assertEqual(counts["inline"], len([o for o in listed.values() if 0 < o["Size"] <= 16 * 1024]))
            finally:
                d2.stop()

    def test_kill9_during_many_small_puts(self):
        # Small bodies are stored inline and their commits grouped (many PUTs per LMDB
        # transaction): every PUT answered before the kill is there after it, whole.
        def next_put(n, i):
            return "t%d/%d" % (n, i), os.urandom(1 + (i * 977) % 16000)

        with tempfile.TemporaryDirectory(prefix="stratus-s3-kill-") as data:
            b = "group-" + uuid.uuid4().hex[:8]
            acked = self.kill_during_puts(data, b, 16, 2, next_put)
            self.assertGreater(len(acked), 50, "too few uploads finished before the kill")
            d2 = Daemon(data_dir=data).start()
            try:
                s3 = d2.client("s3")
                listed = self.listed(s3, b)
                for key, md5 in acked.items():
                    self.assertIn(key, listed)
                    self.assertEqual(listed[key]["ETag"], '"%s"' % md5, key)
                    body = s3.get_object(Bucket=b, Key=key)["Body"].read()
                    self.assertEqual(hashlib.md5(body).hexdigest(), md5, key)
                self.assertEqual(self.body_counts(d2)["inline"], len(listed))
            finally:
                d2.stop()


if __name__ == "__main__":
    unittest.main()

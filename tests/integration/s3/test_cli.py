"""The AWS CLI v1 against stratus: mb / cp / ls / sync / rm / rb and s3api calls, with a
100 MB file that the CLI sends as a multipart upload (its threshold is 8 MB) and fetches
back with ranged GETs, compared byte for byte."""
import filecmp
import os
import tempfile
import unittest
import uuid

from daemon import Daemon


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.tmp.cleanup()

    def aws(self, *args, check=True):
        p = self.d.aws(*args)
        if check and p.returncode != 0:
            self.fail("aws %s failed (%d): %s %s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def test_bucket_lifecycle_with_files(self):
        b = "cli-" + uuid.uuid4().hex[:8]
        self.assertIn("make_bucket: " + b, self.aws("s3", "mb", "s3://" + b).stdout)
        src = os.path.join(self.tmp.name, "site")
        os.makedirs(os.path.join(src, "assets", "img"))
        files = {"index.html": b"<html>hi</html>", "assets/app.js": b"console.log(1)" * 100,
                 "assets/img/logo.svg": b"<svg/>", "space name.txt": b"s"}
        for rel, data in files.items():
            with open(os.path.join(src, rel), "wb") as f:
                f.write(data)
        self.aws("s3", "cp", os.path.join(src, "index.html"), "s3://%s/index.html" % b)
        out = self.aws("s3", "sync", src, "s3://%s/" % b).stdout
        self.assertIn("assets/app.js", out)
        self.assertNotIn("index.html", out)  # unchanged, not uploaded again
        listing = self.aws("s3", "ls", "--recursive", "s3://%s" % b).stdout
        for rel in files:
            self.assertIn(rel, listing)
        top = self.aws("s3", "ls", "s3://%s/" % b).stdout
        self.assertIn("PRE assets/", top)
        dst = os.path.join(self.tmp.name, "back")
        self.aws("s3", "sync", "s3://%s/" % b, dst)
        for rel, data in files.items():
            with open(os.path.join(dst, rel), "rb") as f:
                self.assertEqual(f.read(), data)
        head = self.aws("s3api", "head-object", "--bucket", b, "--key", "index.html").stdout
        self.assertIn('"ContentType": "text/html"', head)  # the CLI guesses content types
        self.assertNotEqual(self.aws("s3", "rb", "s3://" + b, check=False).returncode, 0)  # not empty
        self.aws("s3", "rm", "--recursive", "s3://%s/" % b)
        self.assertEqual(self.aws("s3", "ls", "--recursive", "s3://%s" % b, check=False).stdout, "")
        self.aws("s3", "rb", "s3://" + b)
        self.assertNotIn(b, self.aws("s3", "ls").stdout)

    def test_rb_force(self):
        b = "clif-" + uuid.uuid4().hex[:8]
        self.aws("s3", "mb", "s3://" + b)
        p = os.path.join(self.tmp.name, "f.txt")
        with open(p, "w") as f:
            f.write("x")
        for i in range(3):
            self.aws("s3", "cp", p, "s3://%s/d/%d.txt" % (b, i))
        self.aws("s3", "rb", "--force", "s3://" + b)
        self.assertNotIn(b, self.aws("s3", "ls").stdout)

    def test_100mb_multipart_round_trip(self):
        b = "big-" + uuid.uuid4().hex[:8]
        self.aws("s3", "mb", "s3://" + b)
        src = os.path.join(self.tmp.name, "big.bin")
        with open(src, "wb") as f:
            for _ in range(100):
                f.write(os.urandom(1024 * 1024))
        self.aws("s3", "cp", src, "s3://%s/big.bin" % b)
        head = self.aws("s3api", "head-object", "--bucket", b, "--key", "big.bin").stdout
        self.assertIn('"ContentLength": 104857600', head)
        self.assertRegex(head, r'"ETag": "\\"[0-9a-f]{32}-\d+\\""')  # multipart ETag
        back = os.path.join(self.tmp.name, "big.back")
        self.aws("s3", "cp", "s3://%s/big.bin" % b, back)
        self.assertTrue(filecmp.cmp(src, back, shallow=False))
        # Parts are gone once completed; only the object's file remains.
        objects = os.path.join(self.d.data_dir, "s3", "objects")
        sizes = [os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(objects) for f in fs]
        self.assertIn(104857600, sizes)
        self.assertNotIn("UploadId", self.aws("s3api", "list-multipart-uploads", "--bucket", b).stdout)
        self.aws("s3", "rm", "s3://%s/big.bin" % b)
        sizes = [os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(objects) for f in fs]
        self.assertNotIn(104857600, sizes)

    def test_s3api_calls(self):
        b = "api-" + uuid.uuid4().hex[:8]
        self.aws("s3api", "create-bucket", "--bucket", b)
        p = os.path.join(self.tmp.name, "a.txt")
        with open(p, "w") as f:
            f.write("hello")
        out = self.aws("s3api", "put-object", "--bucket", b, "--key", "a.txt", "--body", p).stdout
        self.assertIn('"ETag": "\\"5d41402abc4b2a76b9719d911017c592\\""', out)
        out = self.aws("s3api", "list-objects-v2", "--bucket", b).stdout
        self.assertIn('"Key": "a.txt"', out)
        dst = os.path.join(self.tmp.name, "a.out")
        self.aws("s3api", "get-object", "--bucket", b, "--key", "a.txt", "--range", "bytes=1-3", dst)
        with open(dst) as f:
            self.assertEqual(f.read(), "ell")
        err = self.aws("s3api", "get-object", "--bucket", b, "--key", "missing", dst, check=False)
        self.assertIn("NoSuchKey", err.stderr)


if __name__ == "__main__":
    unittest.main()

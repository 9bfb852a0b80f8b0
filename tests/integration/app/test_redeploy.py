"""Hot redeploy: a changed config is applied without a restart (the watcher), `stratus
deploy` applies on demand and reports config errors without touching what runs, and the
site folder is synced into its bucket at start and whenever it changes."""

import json
import os
import shutil
import tempfile
import unittest
import urllib.error
import urllib.request

from app.common import app_info, cli, edit, start, wait_for

CONFIG = """service: hot
provider:
  name: aws
  runtime: nodejs20.x
  environment:
    GREETING: hello
functions:
  one:
    handler: handler.one
custom:
  stratus:
    site:
      bucket: hot-site
      dir: web
resources:
  Resources:
    Things:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: hot-things
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
        KeySchema: [{ AttributeName: id, KeyType: HASH }]
"""

HANDLER = """exports.one = async () => ({ greeting: process.env.GREETING, fn: 'one' });
exports.two = async () => ({ greeting: process.env.GREETING, fn: 'two' });
"""


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class RedeployTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stratus-hot-")
        self.config = os.path.join(self.tmp, "serverless.yml")
        with open(self.config, "w") as f:
            f.write(CONFIG)
        with open(os.path.join(self.tmp, "handler.js"), "w") as f:
            f.write(HANDLER)
        os.makedirs(os.path.join(self.tmp, "web", "assets"))
        with open(os.path.join(self.tmp, "web", "index.html"), "w") as f:
            f.write("<h1>v1</h1>")
        with open(os.path.join(self.tmp, "web", "assets", "app.js"), "w") as f:
            f.write("console.log(1)")
        self.d = start(self.tmp)
        self.site = "http://127.0.0.1:%d" % self.d.site_port

    def tearDown(self):
        self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def invoke(self, name):
        r = cli(self.d, "invoke", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_changed_config_is_redeployed(self):
        self.assertEqual(self.invoke("one"), {"greeting": "hello", "fn": "one"})
        # A new function and a changed environment, saved the way editors do (a rename).
        text = CONFIG.replace("GREETING: hello", "GREETING: bonjour").replace(
            "    handler: handler.one\n", "    handler: handler.one\n  two:\n    handler: handler.two\n")
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config)
        wait_for(lambda: any(f["key"] == "two" for f in app_info(self.d)["functions"]), what="function two deployed")
        self.assertEqual(self.invoke("two"), {"greeting": "bonjour", "fn": "two"})
        self.assertEqual(self.invoke("hot-dev-one"), {"greeting": "bonjour", "fn": "one"})
        # A function removed from the config is removed.
        with open(self.config, "w") as f:
            f.write(CONFIG)
        wait_for(lambda: not any(f["key"] == "two" for f in app_info(self.d)["functions"]), what="function two removed")
        names = [f["FunctionName"] for f in self.d.client("lambda").list_functions()["Functions"]]
        self.assertNotIn("hot-dev-two", names)

    def test_deploy_reports_config_errors_and_keeps_the_app(self):
        self.d.stop()
        self.d = start(self.tmp, "--no-watch")
        edit(self.config, "handler: handler.one", "handler: handler.one\n    events:\n      - bogus: x")
        r = cli(self.d, "deploy")
        self.assertEqual(r.returncode, 1)
        self.assertIn("serverless.yml:11:9: unknown event type 'bogus'", r.stderr)
        self.assertEqual(self.invoke("one")["fn"], "one")
        edit(self.config, "\n    events:\n      - bogus: x", "")
        edit(self.config, "GREETING: hello", "GREETING: hi")
        r = cli(self.d, "deploy")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("~ function hot-dev-one", r.stdout)
        self.assertEqual(self.invoke("one")["greeting"], "hi")

    def test_site_synced_at_start_and_on_change(self):
        status, body, headers = get(self.site + "/")
        self.assertEqual((status, body), (200, "<h1>v1</h1>"))
        self.assertEqual(headers.get("Cache-Control"), "no-cache")
        status, body, headers = get(self.site + "/assets/app.js")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Type"), "text/javascript")
        status, body, _ = get(self.site + "/some/client/route")
        self.assertEqual((status, body), (200, "<h1>v1</h1>"))
        with open(os.path.join(self.tmp, "web", "index.html"), "w") as f:
            f.write("<h1>v2</h1>")
        os.remove(os.path.join(self.tmp, "web", "assets", "app.js"))
        wait_for(lambda: get(self.site + "/")[1] == "<h1>v2</h1>", what="new index.html served")
        wait_for(lambda: get(self.site + "/assets/app.js")[0] == 404, what="deleted file gone")
        keys = [o["Key"] for o in self.d.client("s3").list_objects_v2(Bucket="hot-site").get("Contents", [])]
        self.assertEqual(keys, ["index.html"])


    def test_site_folder_built_after_start(self):
        # `stratus start` before the first `vite build`: the folder is picked up when it
        # appears.
        self.d.stop()
        shutil.rmtree(os.path.join(self.tmp, "web"))
        self.d = start(self.tmp)
        self.site = "http://127.0.0.1:%d" % self.d.site_port
        self.assertEqual(get(self.site + "/")[0], 404)
        os.makedirs(os.path.join(self.tmp, "web.tmp"))
        with open(os.path.join(self.tmp, "web.tmp", "index.html"), "w") as f:
            f.write("<h1>built</h1>")
        os.rename(os.path.join(self.tmp, "web.tmp"), os.path.join(self.tmp, "web"))
        wait_for(lambda: get(self.site + "/")[1] == "<h1>built</h1>", what="the built site served")
        with open(os.path.join(self.tmp, "web", "index.html"), "w") as f:
            f.write("<h1>rebuilt</h1>")
        wait_for(lambda: get(self.site + "/")[1] == "<h1>rebuilt</h1>", what="a change in the new folder served")


if __name__ == "__main__":
    unittest.main()

"""Layer directories declared by the app model: serverless.yml's `layers:` with `path`
(referenced as {Ref: XxxLambdaLayer}) and SAM's AWS::Serverless::LayerVersion with
ContentUri (referenced with !Ref, here through Globals), read in place without zipping and
hot-reloaded like function code: a file changed in the layer folder is what the next
invocation sees."""

import json
import os
import shutil
import tempfile
import unittest

from app.common import start

SERVERLESS = """service: lay
provider:
  name: aws
  runtime: nodejs20.x
layers:
  shared-libs:
    path: layer
    compatibleRuntimes: [nodejs20.x]
functions:
  hello:
    handler: handler.hello
    layers:
      - { Ref: SharedDashlibsLambdaLayer }
  plain:
    handler: handler.plain
"""

HANDLER = """exports.hello = async () => ({ greeting: require('greeting')() });
exports.plain = async () => {
  try { require('greeting'); return 'found'; } catch (e) { return e.code; }
};
"""

SAM = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Layers:
      - !Ref PyLayer
Resources:
  PyLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: py-helpers
      ContentUri: layers/py
      CompatibleRuntimes: [python3.12]
  PyFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Handler: app.handler
      Runtime: python3.12
"""


def write(path, text):
    """Writes as editors save: a new file renamed over the old one."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


class AppLayersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stratus-layers-")
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def invoke(self, name):
        r = self.d.client("lambda").invoke(FunctionName=name, Payload=b"{}")
        body = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, body)
        return body

    def test_serverless_layer_directory_hot_reloaded(self):
        write(os.path.join(self.tmp, "serverless.yml"), SERVERLESS)
        write(os.path.join(self.tmp, "handler.js"), HANDLER)
        module = os.path.join(self.tmp, "layer", "nodejs", "node_modules", "greeting")
        write(os.path.join(module, "index.js"), "module.exports = () => 'v1';\n")
        self.d = start(self.tmp)
        lam = self.d.client("lambda")

        self.assertEqual(self.invoke("lay-dev-hello"), {"greeting": "v1"})
        # Only the function declaring the layer sees it.
        self.assertEqual(self.invoke("lay-dev-plain"), "MODULE_NOT_FOUND")
        arn = "arn:aws:lambda:us-east-1:000000000000:layer:shared-libs:1"
        conf = lam.get_function_configuration(FunctionName="lay-dev-hello")
        self.assertEqual([l["Arn"] for l in conf["Layers"]], [arn])
        self.assertEqual(lam.get_layer_version_by_arn(Arn=arn)["CompatibleRuntimes"], ["nodejs20.x"])

        # A changed file and a new one in the layer folder: the next invocation sees both.
        write(os.path.join(module, "extra.js"), "module.exports = 'new file';\n")
        write(os.path.join(module, "index.js"), "module.exports = () => 'v2 ' + require('./extra');\n")
        self.assertEqual(self.invoke("lay-dev-hello"), {"greeting": "v2 new file"})
        # Still one version: the folder is read in place, not republished.
        self.assertEqual(len(lam.list_layer_versions(LayerName="shared-libs")["LayerVersions"]), 1)

    def test_sam_layer_version_python(self):
        write(os.path.join(self.tmp, "template.yaml"), SAM)
        write(os.path.join(self.tmp, "src", "app.py"),
              "import helper\n\ndef handler(event, context):\n    return helper.hello()\n")
        helper = os.path.join(self.tmp, "layers", "py", "python", "helper.py")
        write(helper, "def hello():\n    return 'py v1'\n")
        self.d = start(self.tmp)
        self.assertEqual(self.invoke("PyFn"), "py v1")
        conf = self.d.client("lambda").get_function_configuration(FunctionName="PyFn")
        self.assertEqual([l["Arn"] for l in conf["Layers"]],
                         ["arn:aws:lambda:us-east-1:000000000000:layer:py-helpers:1"])
        write(helper, "def hello():\n    return 'py v2'\n")
        self.assertEqual(self.invoke("PyFn"), "py v2")


if __name__ == "__main__":
    unittest.main()

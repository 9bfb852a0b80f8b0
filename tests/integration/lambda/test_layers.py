"""Lambda layers through boto3: publishing (from the request and from stratus's S3), the
layer API with AWS's shapes and errors, and functions that see their layers merged as
/opt: a node package and a python module only a layer provides, a later layer overriding an
earlier one, and /opt in environment values."""

import json
import unittest
import uuid

import botocore.exceptions

from daemon import Daemon

from .common import ROLE, fname, zip_of


def layer_zip(tag):
    return zip_of({
        "nodejs/node_modules/greet/index.js": "module.exports = () => 'greet from %s';" % tag,
        "nodejs/node20/node_modules/only20/index.js": "module.exports = 'only20 from %s';" % tag,
        "python/greet_mod.py": "VALUE = 'py greet from %s'\n" % tag,
        "python/lib/python3.12/site-packages/sitemod.py": "VALUE = 'site from %s'\n" % tag,
        "conf.txt": "conf of %s" % tag,
    })


NODE = """
const fs = require('fs');
exports.handler = async () => ({ greet: require('greet')(), only20: require('only20'),
                                 conf: fs.readFileSync(process.env.CONF, 'utf8') });
"""
PYTHON = """
import greet_mod, sitemod
def handler(event, context):
    return {"greet": greet_mod.VALUE, "site": sitemod.VALUE}
"""


class LayersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.lam = cls.d.client("lambda", read_timeout=30)
        cls.s3 = cls.d.client("s3")
        cls.name = "lib-" + uuid.uuid4().hex[:8]
        cls.a = cls.lam.publish_layer_version(LayerName=cls.name, Description="A", Content={"ZipFile": layer_zip("A")},
                                              CompatibleRuntimes=["nodejs20.x", "python3.12"], LicenseInfo="MIT")
        # A second layer from S3, as CreateFunction takes code from there (a function may not
        # use two versions of one layer).
        cls.s3.create_bucket(Bucket="layers-" + cls.name)
        cls.s3.put_object(Bucket="layers-" + cls.name, Key="b.zip", Body=layer_zip("B"))
        cls.b = cls.lam.publish_layer_version(LayerName=cls.name + "-b",
                                              Content={"S3Bucket": "layers-" + cls.name, "S3Key": "b.zip"})

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def invoke(self, name):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        body = json.loads(r["Payload"].read())
        self.assertNotIn("FunctionError", r, body)
        return body

    def test_publish_and_read_back(self):
        a = self.a
        self.assertEqual(a["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(a["Version"], 1)
        self.assertEqual(self.b["Version"], 1)
        self.assertEqual(a["LayerArn"], "arn:aws:lambda:us-east-1:000000000000:layer:" + self.name)
        self.assertEqual(a["LayerVersionArn"], a["LayerArn"] + ":1")
        self.assertEqual(a["CompatibleRuntimes"], ["nodejs20.x", "python3.12"])
        self.assertEqual(a["Content"]["CodeSize"], len(layer_zip("A")))
        got = self.lam.get_layer_version(LayerName=self.name, VersionNumber=1)
        self.assertEqual((got["Description"], got["LicenseInfo"], got["Content"]["CodeSha256"]),
                         ("A", "MIT", a["Content"]["CodeSha256"]))
        by_arn = self.lam.get_layer_version_by_arn(Arn=self.b["LayerVersionArn"])
        self.assertEqual(by_arn["Version"], 1)
        self.assertEqual(by_arn["LayerArn"], self.b["LayerArn"])
        versions = self.lam.list_layer_versions(LayerName=self.name)["LayerVersions"]
        self.assertEqual([v["Version"] for v in versions], [1])
        self.assertEqual([v["Version"] for v in self.lam.list_layer_versions(
            LayerName=self.name + "-b", CompatibleRuntime="python3.12")["LayerVersions"]], [])
        layers = {x["LayerName"]: x for x in self.lam.list_layers()["Layers"]}
        self.assertEqual(layers[self.name]["LatestMatchingVersion"]["Version"], 1)
        self.assertIn(self.name + "-b", layers)
        self.assertNotIn(self.name + "-b", [x["LayerName"] for x in self.lam.list_layers(CompatibleRuntime="python3.12")["Layers"]])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.get_layer_version(LayerName=self.name, VersionNumber=99)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_delete_and_version_numbers_not_reused(self):
        name = "tmp-" + uuid.uuid4().hex[:8]
        v1 = self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip("T")})
        self.lam.delete_layer_version(LayerName=name, VersionNumber=1)
        self.lam.delete_layer_version(LayerName=name, VersionNumber=1)  # idempotent, as AWS's
        with self.assertRaises(botocore.exceptions.ClientError):
            self.lam.get_layer_version_by_arn(Arn=v1["LayerVersionArn"])
        v2 = self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip("T")})
        self.assertEqual(v2["Version"], 2)

    def test_version_policy(self):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.get_layer_version_policy(LayerName=self.name, VersionNumber=1)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        r = self.lam.add_layer_version_permission(LayerName=self.name, VersionNumber=1, StatementId="all",
                                                  Action="lambda:GetLayerVersion", Principal="*")
        self.assertEqual(json.loads(r["Statement"])["Principal"], "*")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.add_layer_version_permission(LayerName=self.name, VersionNumber=1, StatementId="all",
                                                  Action="lambda:GetLayerVersion", Principal="*")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceConflictException")
        policy = json.loads(self.lam.get_layer_version_policy(LayerName=self.name, VersionNumber=1)["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["all"])
        self.lam.remove_layer_version_permission(LayerName=self.name, VersionNumber=1, StatementId="all")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.lam.get_layer_version_policy(LayerName=self.name, VersionNumber=1)

    def test_node_function_sees_layers_in_order(self):
        name = fname()
        cfg = self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                       Code={"ZipFile": zip_of({"index.js": NODE})}, Layers=[self.a["LayerVersionArn"]],
                                       Environment={"Variables": {"CONF": "/opt/conf.txt"}})
        self.assertEqual(cfg["Layers"], [{"Arn": self.a["LayerVersionArn"], "CodeSize": self.a["Content"]["CodeSize"]}])
        self.assertEqual(self.invoke(name), {"greet": "greet from A", "only20": "only20 from A", "conf": "conf of A"})
        # A later layer's files replace an earlier one's; the order is the function's.
        self.lam.update_function_configuration(FunctionName=name, Layers=[self.a["LayerVersionArn"], self.b["LayerVersionArn"]])
        self.assertEqual(self.invoke(name)["greet"], "greet from B")
        self.lam.update_function_configuration(FunctionName=name, Layers=[self.b["LayerVersionArn"], self.a["LayerVersionArn"]])
        self.assertEqual(self.invoke(name)["greet"], "greet from A")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.update_function_configuration(FunctionName=name, Layers=[self.a["LayerVersionArn"], self.a["LayerVersionArn"]])
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.lam.update_function_configuration(FunctionName=name, Layers=[self.a["LayerArn"] + ":77"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidParameterValueException")

    def test_a_published_version_keeps_its_layers(self):
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                 Code={"ZipFile": zip_of({"index.js": NODE})}, Layers=[self.a["LayerVersionArn"]],
                                 Environment={"Variables": {"CONF": "/opt/conf.txt"}})
        v1 = self.lam.publish_version(FunctionName=name)["Version"]
        self.lam.update_function_configuration(FunctionName=name, Layers=[self.a["LayerVersionArn"], self.b["LayerVersionArn"]])
        # Only the layers changed: that is a change, so a new version.
        v2 = self.lam.publish_version(FunctionName=name)["Version"]
        self.assertNotEqual(v1, v2)
        self.assertEqual(self.invoke(name + ":" + v1)["greet"], "greet from A")
        self.assertEqual(self.invoke(name + ":" + v2)["greet"], "greet from B")
        self.assertEqual(len(self.lam.get_function_configuration(FunctionName=name, Qualifier=v1)["Layers"]), 1)

    def test_cli_publish_and_list(self):
        # The AWS CLI's own parameter handling (fileb:// zip).
        import os
        import tempfile
        with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as f:
            f.write(layer_zip("CLI"))
        try:
            name = "cli-" + uuid.uuid4().hex[:8]
            out = self.d.aws("lambda", "publish-layer-version", "--layer-name", name, "--zip-file", "fileb://" + f.name)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["Version"], 1)
            out = self.d.aws("lambda", "list-layer-versions", "--layer-name", name)
            self.assertEqual([v["Version"] for v in json.loads(out.stdout)["LayerVersions"]], [1])
        finally:
            os.unlink(f.name)

    def test_python_function_imports_from_a_layer(self):
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                 Code={"ZipFile": zip_of({"app.py": PYTHON})},
                                 Layers=[self.b["LayerVersionArn"]])
        self.assertEqual(self.invoke(name), {"greet": "py greet from B", "site": "site from B"})


if __name__ == "__main__":
    unittest.main()

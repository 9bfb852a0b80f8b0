"""Lambda versions and aliases with boto3 and the AWS CLI: PublishVersion freezes code and
configuration while $LATEST moves on, qualifiers (":N", ":alias", "$LATEST") on every call
that takes one, the context's invokedFunctionArn and AWS_LAMBDA_FUNCTION_VERSION as AWS
sets them, alias routing weights observed over many invocations, AWS's errors, and versions
surviving a kill -9 of the daemon."""

import concurrent.futures
import json
import unittest

import botocore.exceptions

from daemon import Daemon

from .common import ROLE, fname, zip_of

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def handler(tag):
    return {"index.js": """
exports.handler = async (event, context) => ({
  tag: %s,
  env: process.env.COLOR || null,
  version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
  functionVersion: context.functionVersion,
  arn: context.invokedFunctionArn,
});
""" % json.dumps(tag)}


class VersionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        cls.lam = cls.d.client("lambda", read_timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def create(self, tag="one", **kw):
        name = fname()
        self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                 Code={"ZipFile": zip_of(handler(tag))}, **kw)
        return name

    def invoke(self, name, **kw):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}", **kw)
        self.assertNotIn("FunctionError", r)
        return r, json.loads(r["Payload"].read())

    def error(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

    def test_published_version_is_frozen_while_latest_changes(self):
        name = self.create("one", Environment={"Variables": {"COLOR": "red"}})
        v1 = self.lam.publish_version(FunctionName=name, Description="first")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], ARN + name + ":1")
        self.assertEqual(v1["Description"], "first")
        self.lam.update_function_code(FunctionName=name, ZipFile=zip_of(handler("two")))
        self.lam.get_waiter("function_updated_v2").wait(FunctionName=name)
        self.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"COLOR": "blue"}})

        r, out = self.invoke(name)
        self.assertEqual((out["tag"], out["env"], out["version"]), ("two", "blue", "$LATEST"))
        self.assertEqual(out["arn"], ARN + name)  # unqualified, as invoked
        self.assertEqual(r["ExecutedVersion"], "$LATEST")

        for kw in ({"FunctionName": name, "Qualifier": "1"}, {"FunctionName": name + ":1"},
                   {"FunctionName": ARN + name + ":1"}):
            r, out = self.invoke(kw.pop("FunctionName"), **kw)
            self.assertEqual((out["tag"], out["env"], out["version"], out["functionVersion"]), ("one", "red", "1", "1"))
            self.assertEqual(out["arn"], ARN + name + ":1")
            self.assertEqual(r["ExecutedVersion"], "1")

        r, out = self.invoke(name, Qualifier="$LATEST")
        self.assertEqual(out["arn"], ARN + name + ":$LATEST")

        c = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual((c["Version"], c["FunctionArn"]), ("1", ARN + name + ":1"))
        self.assertEqual(c["Environment"]["Variables"], {"COLOR": "red"})
        g = self.lam.get_function(FunctionName=name + ":1")
        self.assertEqual(g["Configuration"]["CodeSha256"], v1["CodeSha256"])
        latest = self.lam.get_function_configuration(FunctionName=name)
        self.assertNotEqual(latest["CodeSha256"], v1["CodeSha256"])

        v2 = self.lam.publish_version(FunctionName=name)
        self.assertEqual(v2["Version"], "2")
        # Nothing changed since version 2: AWS publishes nothing and answers version 2.
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "2")
        versions = self.lam.list_versions_by_function(FunctionName=name)["Versions"]
        self.assertEqual([v["Version"] for v in versions], ["$LATEST", "1", "2"])
        self.assertEqual(versions[0]["FunctionArn"], ARN + name + ":$LATEST")
        page = self.lam.list_versions_by_function(FunctionName=name, MaxItems=2)
        self.assertEqual([v["Version"] for v in page["Versions"]], ["$LATEST", "1"])
        rest = self.lam.list_versions_by_function(FunctionName=name, Marker=page["NextMarker"])
        self.assertEqual([v["Version"] for v in rest["Versions"]], ["2"])

        # Deleting a version leaves the others; deleting the function takes them all.
        self.lam.delete_function(FunctionName=name, Qualifier="1")
        code, msg = self.error(self.lam.invoke, FunctionName=name, Qualifier="1")
        self.assertEqual(code, "ResourceNotFoundException")
        self.assertEqual(self.invoke(name + ":2")[1]["tag"], "two")
        # Numbers are never reused.
        self.lam.update_function_configuration(FunctionName=name, Timeout=5)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "3")
        self.lam.delete_function(FunctionName=name)
        self.assertEqual(self.error(self.lam.get_function, FunctionName=name + ":2")[0], "ResourceNotFoundException")

    def test_errors(self):
        name = self.create()
        code, msg = self.error(self.lam.invoke, FunctionName=name, Qualifier="7")
        self.assertEqual((code, msg), ("ResourceNotFoundException", "Function not found: %s%s:7" % (ARN, name)))
        code, msg = self.error(self.lam.get_function, FunctionName=name, Qualifier="nope")
        self.assertEqual((code, msg), ("ResourceNotFoundException", "Function not found: %s%s:nope" % (ARN, name)))
        code, _ = self.error(self.lam.get_function, FunctionName=name + ":1", Qualifier="2")
        self.assertEqual(code, "InvalidParameterValueException")
        code, msg = self.error(self.lam.publish_version, FunctionName=name, CodeSha256="abc")
        self.assertEqual(code, "InvalidParameterValueException")
        self.assertIn("CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST", msg)
        code, _ = self.error(self.lam.publish_version, FunctionName=name, RevisionId="not-it")
        self.assertEqual(code, "PreconditionFailedException")
        self.assertEqual(self.error(self.lam.publish_version, FunctionName=fname())[0], "ResourceNotFoundException")
        code, _ = self.error(self.lam.delete_function, FunctionName=name, Qualifier="$LATEST")
        self.assertEqual(code, "InvalidParameterValueException")
        rev = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertEqual(self.lam.publish_version(FunctionName=name, RevisionId=rev)["Version"], "1")

    def test_aliases_and_weighted_routing(self):
        name = self.create("one")
        self.lam.publish_version(FunctionName=name)
        self.lam.update_function_code(FunctionName=name, ZipFile=zip_of(handler("two")))
        self.lam.publish_version(FunctionName=name)
        a = self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
        self.assertEqual(a["AliasArn"], ARN + name + ":live")
        self.assertEqual((a["Name"], a["FunctionVersion"], a["Description"]), ("live", "1", "prod"))

        r, out = self.invoke(name + ":live")
        self.assertEqual((out["tag"], out["version"], out["arn"]), ("one", "1", ARN + name + ":live"))
        self.assertEqual(r["ExecutedVersion"], "1")
        c = self.lam.get_function_configuration(FunctionName=name, Qualifier="live")
        self.assertEqual((c["Version"], c["FunctionArn"]), ("1", ARN + name + ":live"))

        code, msg = self.error(self.lam.create_alias, FunctionName=name, Name="live", FunctionVersion="2")
        self.assertEqual((code, msg), ("ResourceConflictException", "Alias already exists: %s%s:live" % (ARN, name)))
        code, msg = self.error(self.lam.get_alias, FunctionName=name, Name="gone")
        self.assertEqual((code, msg), ("ResourceNotFoundException", "Cannot find alias arn: %s%s:gone" % (ARN, name)))
        self.assertEqual(self.error(self.lam.create_alias, FunctionName=name, Name="x", FunctionVersion="9")[0],
                         "ResourceNotFoundException")
        self.assertEqual(self.error(self.lam.create_alias, FunctionName=name, Name="12", FunctionVersion="1")[0],
                         "ValidationException")
        self.assertEqual(self.error(self.lam.create_alias, FunctionName=name, Name="x", FunctionVersion="$LATEST",
                                    RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})[0],
                         "InvalidParameterValueException")
        self.assertEqual(self.error(self.lam.update_alias, FunctionName=name, Name="live", RevisionId="old")[0],
                         "PreconditionFailedException")
        code, _ = self.error(self.lam.delete_function, FunctionName=name, Qualifier="1")
        self.assertEqual(code, "ResourceConflictException")

        # 30% to version 2: over 400 invocations the share stays within 5 standard
        # deviations (sd = sqrt(400 * 0.3 * 0.7) = 9.2), so this fails once in millions.
        u = self.lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
        self.assertEqual(u["RoutingConfig"], {"AdditionalVersionWeights": {"2": 0.3}})
        self.assertNotEqual(u["RevisionId"], a["RevisionId"])
        def one(_):
            r, out = self.invoke(name, Qualifier="live")
            self.assertEqual(out["version"], r["ExecutedVersion"])
            self.assertEqual(out["arn"], ARN + name + ":live")
            return r["ExecutedVersion"]

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            executed = list(pool.map(one, range(400)))
        self.assertEqual(set(executed), {"1", "2"})
        self.assertTrue(74 <= executed.count("2") <= 166, executed.count("2"))

        self.lam.create_alias(FunctionName=name, Name="edge", FunctionVersion="$LATEST")
        listed = self.lam.list_aliases(FunctionName=name)["Aliases"]
        self.assertEqual([x["Name"] for x in listed], ["edge", "live"])
        self.assertEqual([x["Name"] for x in self.lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]],
                         ["live"])
        self.lam.delete_alias(FunctionName=name, Name="edge")
        self.assertEqual(self.error(self.lam.invoke, FunctionName=name + ":edge")[0], "ResourceNotFoundException")
        # An alias survives an update of the version's function and is gone with it.
        self.lam.delete_function(FunctionName=name)
        self.assertEqual(self.error(self.lam.get_alias, FunctionName=name, Name="live")[0], "ResourceNotFoundException")

    def test_cli(self):
        name = self.create("cli")
        r = self.d.aws("lambda", "publish-version", "--function-name", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["Version"], "1")
        r = self.d.aws("lambda", "create-alias", "--function-name", name, "--name", "prod", "--function-version", "1",
                       "--routing-config", "AdditionalVersionWeights={1=0}")
        self.assertNotEqual(r.returncode, 0)  # the primary version cannot be the additional one
        self.assertIn("InvalidParameterValueException", r.stderr)
        # (each CLI run costs ~2 s of Python start-up: the rest of the calls go through boto3)


class VersionsDurabilityTest(unittest.TestCase):
    def test_versions_and_aliases_survive_kill9(self):
        d = Daemon().start()
        data_dir, owned = d.data_dir, d.owned_dir
        d.owned_dir = None
        try:
            lam = d.client("lambda", read_timeout=60)
            name = fname()
            lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                Code={"ZipFile": zip_of(handler("old"))}, Publish=True)
            lam.update_function_code(FunctionName=name, ZipFile=zip_of(handler("new")))
            lam.create_alias(FunctionName=name, Name="stable", FunctionVersion="1")
            d.kill9()
            d = Daemon(data_dir=data_dir).start()
            lam = d.client("lambda", read_timeout=60)
            out = json.loads(lam.invoke(FunctionName=name, Qualifier="stable")["Payload"].read())
            self.assertEqual((out["tag"], out["version"]), ("old", "1"))
            out = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
            self.assertEqual(out["tag"], "new")
            self.assertEqual(lam.publish_version(FunctionName=name)["Version"], "2")
        finally:
            d.stop()
            owned.cleanup()


if __name__ == "__main__":
    unittest.main()

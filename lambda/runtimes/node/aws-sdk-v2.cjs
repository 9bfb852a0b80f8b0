// Points the legacy AWS SDK for JavaScript v2 (`aws-sdk`) at stratus. v2 ignores
// AWS_ENDPOINT_URL, so handlers written for AWS (or for serverless-offline, which leaves
// the endpoint to the code) would call the real AWS. The first time a handler loads any
// part of the package (require or import, the whole SDK or one client), its global config
// gets stratus's endpoint, path-style S3 addressing and the region: every service client
// made afterwards, the DynamoDB DocumentClient included, reaches stratus. A client given
// an endpoint of its own keeps it. Costs nothing for handlers that never load it.
"use strict";
const Module = require("node:module");
const path = require("node:path");

function install(endpoint) {
  if (!endpoint || Module.__stratusAwsSdkV2) return;
  Module.__stratusAwsSdkV2 = true;
  const load = Module._load;
  const configured = new Set();
  Module._load = function (request, parent, isMain) {
    const exported = load.apply(this, arguments);
    if (typeof request !== "string" || !(request === "aws-sdk" || request.startsWith("aws-sdk/") || request.includes(`${path.sep}aws-sdk${path.sep}`)))
      return exported;
    let file;
    try {
      file = path.isAbsolute(request) ? request : Module._resolveFilename(request, parent, isMain);
    } catch {
      return exported;
    }
    const marker = `${path.sep}aws-sdk${path.sep}`;
    const at = file.lastIndexOf(marker);
    if (at < 0) return exported;
    const root = file.slice(0, at + marker.length);
    if (configured.has(root)) return exported;
    configured.add(root);
    try {
      const AWS = load(path.join(root, "lib", "core.js"), parent, false);
      AWS.config.update({
        endpoint,
        s3ForcePathStyle: true,
        region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1",
      });
    } catch (err) {
      process.stderr.write(`stratus: could not point aws-sdk (v2) at ${endpoint}: ${err.message}\n`);
    }
    return exported;
  };
}

module.exports = { install };

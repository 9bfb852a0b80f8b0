// stratus's node runtime: loads the handler named by _HANDLER from LAMBDA_TASK_ROOT and
// serves invocations from the Lambda Runtime API. No dependencies.
//
// stratus hands this bootstrap the Runtime API as a socket on fd 3 (_STRATUS_RUNTIME_FD):
// the same calls and answers as HTTP to AWS_LAMBDA_RUNTIME_API, as framed messages (u32 LE
// head length, u32 LE body length, a JSON head, the body), without an HTTP round trip per
// call. Without it (run by hand against a Runtime API) it speaks HTTP. The handler's child
// processes do not inherit fd 3: node marks fds 0-15 close-on-exec at startup, before any
// JavaScript runs (libuv's uv_disable_stdio_inheritance, called by node's PlatformInit);
// tests/integration/lambda/test_runtime_channel.py checks it.
"use strict";
const http = require("node:http");
const path = require("node:path");
const fs = require("node:fs");
const util = require("node:util");
const { pathToFileURL } = require("node:url");

// The legacy aws-sdk (v2) ignores AWS_ENDPOINT_URL: pointed at stratus when first loaded.
require("./aws-sdk-v2.cjs").install(process.env.AWS_ENDPOINT_URL);

// NODE_PATH (the runtime's AWS SDK) serves require() only. ES modules get the same: a
// resolve hook retries a bare specifier that the handler's own node_modules lack as if it
// were imported from the runtime's directory, with ESM conditions (as the AWS nodejs
// runtimes make the SDK importable from .mjs handlers).
function registerSdkResolver() {
  const { register } = require("node:module");
  const roots = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  if (!register || roots.length === 0) return;
  const parents = roots.map((r) => pathToFileURL(path.join(path.dirname(r), "resolve-from.mjs")).href);
  const source = `
    const parents = ${JSON.stringify(parents)};
    export async function resolve(specifier, context, next) {
      try {
        return await next(specifier, context);
      } catch (err) {
        const bare = !/^[./]/.test(specifier) && !/^[a-z][a-z0-9+.-]*:/i.test(specifier);
        if (!bare || err?.code !== "ERR_MODULE_NOT_FOUND") throw err;
        for (const parentURL of parents) {
          try { return await next(specifier, { ...context, parentURL }); } catch {}
        }
        throw err;
      }
    }`;
  register("data:text/javascript," + encodeURIComponent(source));
}

const channelFd = process.env._STRATUS_RUNTIME_FD;
delete process.env._STRATUS_RUNTIME_FD;  // not the handler's business
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let currentId;

function httpCall(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: "/2018-06-01/runtime/" + p, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// The runtime channel: calls are answered in order, so several may be in flight (a
// response and the next poll go out together). The socket holds the event loop only while
// an answer is awaited, as the HTTP agent's idle socket does not.
function channel(fd) {
  const net = require("node:net");
  const sock = new net.Socket({ fd, readable: true, writable: true });
  const waiting = [];
  let chunks = [], have = 0, need = 8, headLen = -1, bodyLen = 0;
  sock.unref();
  const fail = (err) => {
    while (waiting.length) waiting.shift().reject(err);
  };
  sock.on("error", fail);
  sock.on("close", () => fail(new Error("the Runtime API channel closed")));
  sock.on("data", (chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    if (have < need) return;
    let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
    let pos = 0;
    for (;;) {
      if (headLen < 0) {
        if (buf.length - pos < 8) break;
        headLen = buf.readUInt32LE(pos);
        bodyLen = buf.readUInt32LE(pos + 4);
        pos += 8;
      }
      if (buf.length - pos < headLen + bodyLen) break;
      const head = JSON.parse(buf.toString("utf8", pos, pos + headLen));
      const body = buf.toString("utf8", pos + headLen, pos + headLen + bodyLen);
      pos += headLen + bodyLen;
      headLen = -1;
      const w = waiting.shift();
      if (waiting.length === 0) sock.unref();
      if (w) w.resolve({ status: head.status, headers: head.headers, body });
    }
    buf = buf.subarray(pos);
    chunks = buf.length ? [buf] : [];
    have = buf.length;
    need = headLen < 0 ? 8 : headLen + bodyLen;
  });
  // One frame: u32 LE head length, u32 LE body length, the head (JSON), the body; in one
  // buffer.
  const frame = (method, p, body, headers) => {
    const head = `{"method":${JSON.stringify(method)},"path":${JSON.stringify("/2018-06-01/runtime/" + p)},"headers":${JSON.stringify(headers)}}`;
    const headLen = Buffer.byteLength(head);
    const bodyLen = body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
    const out = Buffer.allocUnsafe(8 + headLen + bodyLen);
    out.writeUInt32LE(headLen, 0);
    out.writeUInt32LE(bodyLen, 4);
    out.write(head, 8);
    if (bodyLen) {
      if (typeof body === "string") out.write(body, 8 + headLen);
      else body.copy(out, 8 + headLen);
    }
    return out;
  };
  // Frames that go out with the next call's (a response and the next poll in one write).
  let deferred = [];
  const flush = (last) => {
    let out = last;
    if (deferred.length) {
      deferred.push(last);
      out = Buffer.concat(deferred);
      deferred = [];
    }
    sock.write(out);
  };
  // A frame that gets no answer (a streamed piece of a response), after what is deferred.
  send = (method, p, body, headers = {}) => flush(frame(method, p, body, headers));
  // A response or error call: stratus does not answer it (x-stratus-noreply) and it goes
  // out with the next poll, which follows at once.
  post = (method, p, body, headers = {}) => {
    deferred.push(frame(method, p, body, { ...headers, "x-stratus-noreply": "1" }));
  };
  const nextFrame = frame("GET", "invocation/next", undefined, {});
  return (method, p, body, headers = {}) =>
    new Promise((resolve, reject) => {
      if (waiting.length === 0) sock.ref();
      waiting.push({ resolve, reject });
      flush(method === "GET" && p === "invocation/next" ? nextFrame : frame(method, p, body, headers));
    });
}

let send = null;  // set by channel()
let post = null;  // set by channel()
const call = channelFd ? channel(Number(channelFd)) : httpCall;

// Response streaming, as AWS's nodejs runtimes offer it: awslambda.streamifyResponse marks
// a handler (event, responseStream, context); awslambda.HttpResponseStream.from puts the
// function URL's status, headers and cookies before the body (JSON, then 8 NUL bytes, the
// stream typed application/vnd.awslambda.http-integration-response). Over the runtime
// channel each piece goes out as it is written; over HTTP the pieces are sent at the end.
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response";
class HttpResponseStream {
  static from(stream, prelude) {
    stream.setContentType(HTTP_PRELUDE_TYPE);
    const meta = JSON.stringify(prelude ?? {});
    stream._onBeforeFirstWrite = (write) => {
      write(Buffer.from(meta));
      write(Buffer.alloc(8));
    };
    return stream;
  }
}
globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = "response";
    return handler;
  },
  HttpResponseStream,
};
const STREAM_HEADERS = { "lambda-runtime-function-response-mode": "streaming" };

function responseStream(id) {
  const { Writable } = require("node:stream");
  let contentType = "application/octet-stream";
  let first = true;
  const buffered = [];
  const piece = (buf) => {
    if (!send) return buffered.push(buf);
    const headers = { ...STREAM_HEADERS, "x-stratus-stream": "chunk" };
    if (first) headers["content-type"] = contentType;
    first = false;
    send("POST", `invocation/${id}/response`, buf, headers);
  };
  const beforeFirst = () => {
    const f = stream._onBeforeFirstWrite;
    stream._onBeforeFirstWrite = null;
    if (f) f(piece);
  };
  const stream = new Writable({
    write(chunk, encoding, cb) {
      beforeFirst();
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
      if (buf.length) piece(buf);
      cb();
    },
    final(cb) {
      beforeFirst();
      cb();
    },
  });
  stream.setContentType = (type) => { contentType = type; };
  stream.buffered = () => Buffer.concat(buffered);
  return stream;
}

async function runStreaming(handler, event, stream, ctx) {
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await handler(event, stream, ctx);
    if (!stream.writableFinished) {
      if (!stream.writableEnded) stream.end();
      await new Promise((resolve, reject) => {
        stream.once("finish", resolve);
        stream.once("error", reject);
      });
    }
  } finally {
    clearInterval(keepAlive);
  }
}

// console.* as the real runtime prints them: "<ISO>\t<request id>\t<LEVEL>\t<message>".
for (const [name, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  console[name] = (...args) => {
    const msg = util.format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${currentId ?? "undefined"}\t${level}\t${msg}\n`);
  };
}

function toError(err) {
  if (err instanceof Error) {
    return { errorType: err.name || "Error", errorMessage: err.message, trace: String(err.stack || "").split("\n") };
  }
  return { errorType: typeof err === "object" && err ? "object" : "string", errorMessage: String(err), trace: [] };
}

async function initError(type, err) {
  const body = toError(err);
  body.errorType = type;
  if (err instanceof Error) body.errorMessage = `${err.name}: ${err.message}`;
  console.error(JSON.stringify(body));
  await call("POST", "init/error", JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": type });
  process.exit(1);
}

async function load() {
  const root = process.env.LAMBDA_TASK_ROOT;
  const spec = process.env._HANDLER;
  const dot = spec.lastIndexOf(".");
  const modulePath = spec.slice(0, dot);
  const handlerName = spec.slice(dot + 1);
  const base = path.resolve(root, modulePath);
  let file;
  for (const ext of [".js", ".mjs", ".cjs"]) if (fs.existsSync(base + ext)) { file = base + ext; break; }
  if (!file) {
    const e = new Error(`Cannot find module '${modulePath}'\nRequire stack:\n- ${__filename}`);
    e.name = "Runtime.ImportModuleError";
    return initError("Runtime.ImportModuleError", e);
  }
  registerSdkResolver();
  let mod;
  try {
    if (file.endsWith(".cjs")) mod = require(file);
    else mod = await import(pathToFileURL(file).href);
  } catch (err) {
    if (err instanceof SyntaxError) return initError("Runtime.UserCodeSyntaxError", err);
    if (err && err.code && /MODULE_NOT_FOUND/.test(err.code)) return initError("Runtime.ImportModuleError", err);
    throw err;
  }
  let fn = mod;
  for (const part of handlerName.split(".")) fn = fn?.[part] ?? fn?.default?.[part];
  if (typeof fn !== "function") {
    const e = new Error(`${modulePath}.${handlerName} is undefined or not exported`);
    e.name = "Runtime.HandlerNotFound";
    return initError("Runtime.HandlerNotFound", e);
  }
  return fn;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: headers["lambda-runtime-cognito-identity"] ? JSON.parse(headers["lambda-runtime-cognito-identity"]) : undefined,
    clientContext: headers["lambda-runtime-client-context"] ? JSON.parse(headers["lambda-runtime-client-context"]) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  return ctx;
}

function run(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    // As on AWS (where the runtime's own client keeps it alive), a handler whose promise
    // never settles runs into the timeout instead of ending the process.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const settle = (err, result, viaCallback) => {
      if (settled) return;
      settled = true;
      clearInterval(keepAlive);
      const finish = () => (err ? reject(err) : resolve(result));
      // As AWS: a callback handler's result is sent once the event loop is empty, unless
      // the handler set context.callbackWaitsForEmptyEventLoop = false (what is left
      // pending then runs on in the next invocation). Async handlers answer at once.
      // (The Runtime API agent's idle socket is unref'd: it does not hold the loop.)
      if (viaCallback && ctx.callbackWaitsForEmptyEventLoop) process.once("beforeExit", finish);
      else finish();
    };
    const callback = (err, result) => settle(err, result, true);
    try {
      const r = handler(event, ctx, callback);
      if (r && typeof r.then === "function") r.then((v) => settle(null, v, false), (e) => settle(e ?? new Error("null"), undefined, false));
    } catch (e) {
      settle(e, undefined, false);
    }
  });
}

(async () => {
  process.on("unhandledRejection", (reason) => {
    // As AWS: an unhandled rejection fails the invocation and ends the sandbox.
    const e = toError(reason);
    const body = { errorType: "Runtime.UnhandledPromiseRejection", errorMessage: `${e.errorType}: ${e.errorMessage}`, trace: e.trace };
    console.error(JSON.stringify(body));
    const id = currentId;
    const done = () => process.exit(128);
    if (id) call("POST", `invocation/${id}/error`, JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": body.errorType }).then(done, done);
    else done();
  });
  const handler = await load();
  // Over the channel a response or error is not answered and goes out with the next poll;
  // over HTTP each call waits for the previous one.
  if (!post) post = call;
  for (;;) {
    const next = await call("GET", "invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    currentId = id;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    let event;
    try {
      event = JSON.parse(next.body);
    } catch {
      event = next.body;
    }
    if (handler[STREAMING] === "response") {
      const stream = responseStream(id);
      const end = { ...STREAM_HEADERS, "x-stratus-stream": "end" };
      try {
        await runStreaming(handler, event, stream, context(next.headers));
        await post("POST", `invocation/${id}/response`, send ? "" : stream.buffered(), end);
      } catch (err) {
        const e = toError(err);
        console.error(`${e.errorType}: ${e.errorMessage}`);
        await post("POST", `invocation/${id}/error`, JSON.stringify(e), { ...end, "Lambda-Runtime-Function-Error-Type": e.errorType });
      }
      continue;
    }
    try {
      const result = await run(handler, event, context(next.headers));
      const body = result === undefined ? "null" : JSON.stringify(result);
      await post("POST", `invocation/${id}/response`, body);
    } catch (err) {
      const e = toError(err);
      console.error(`${e.errorType}: ${e.errorMessage}`);
      await post("POST", `invocation/${id}/error`, JSON.stringify(e), { "Lambda-Runtime-Function-Error-Type": e.errorType });
    }
  }
})();

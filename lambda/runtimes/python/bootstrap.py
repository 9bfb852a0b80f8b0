"""stratus's python runtime: loads _HANDLER (module.function) from LAMBDA_TASK_ROOT and
serves invocations from the Lambda Runtime API. Standard library only.

stratus hands this bootstrap the Runtime API as a socket on fd 3 (_STRATUS_RUNTIME_FD): the
same calls and answers as HTTP to AWS_LAMBDA_RUNTIME_API, as framed messages (u32 LE head
length, u32 LE body length, a JSON head, the body). Without it, it speaks HTTP."""
import http.client
import importlib
import json
import logging
import os
import socket
import struct
import sys
import time
import traceback

current_id = None
channel_fd = os.environ.pop("_STRATUS_RUNTIME_FD", None)

if channel_fd:
    channel = socket.socket(fileno=int(channel_fd))
    channel.set_inheritable(False)
    channel_in = channel.makefile("rb")

    def read_exact(n):
        data = channel_in.read(n)
        if data is None or len(data) != n:
            sys.exit(1)  # stratus is gone
        return data

    def call(method, path, body=None, headers=None, answered=True):
        head = json.dumps({"method": method, "path": "/2018-06-01/runtime/" + path,
                           "headers": headers or {}}).encode()
        data = body.encode() if isinstance(body, str) else (body or b"")
        channel.sendall(struct.pack("<II", len(head), len(data)) + head + data)
        if not answered:
            return None
        head_len, body_len = struct.unpack("<II", read_exact(8))
        answer = json.loads(read_exact(head_len))
        return answer["status"], answer["headers"], read_exact(body_len) if body_len else b""

    def post(method, path, body, headers=None):
        """A response or error: stratus does not answer it (x-stratus-noreply)."""
        call(method, path, body, {**(headers or {}), "x-stratus-noreply": "1"}, answered=False)
else:
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    conn = http.client.HTTPConnection(host, int(port))

    def call(method, path, body=None, headers=None):
        conn.request(method, "/2018-06-01/runtime/" + path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()

    post = call

class LambdaFormatter(logging.Formatter):
    # "[INFO]\t2024-01-01T00:00:00.000Z\t<request id>\tmessage", as the real runtime prints.
    def format(self, record):
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + ".%03dZ" % record.msecs
        return "[%s]\t%s\t%s\t%s" % (record.levelname, t, current_id, record.getMessage().replace("\n", "\r"))


handler_ = logging.StreamHandler(sys.stdout)
handler_.setFormatter(LambdaFormatter())
logging.getLogger().addHandler(handler_)
logging.getLogger().setLevel(logging.WARNING)


def error_body(exc, error_type=None):
    return {"errorMessage": str(exc), "errorType": error_type or type(exc).__name__,
            "requestId": current_id or "",
            "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__))}


class Context:
    def __init__(self, headers):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        cc = headers.get("lambda-runtime-client-context")
        self.client_context = json.loads(cc) if cc else None
        ident = headers.get("lambda-runtime-cognito-identity")
        self.identity = json.loads(ident) if ident else None
        self._deadline = int(headers.get("lambda-runtime-deadline-ms", "0"))

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline - int(time.time() * 1000))


def load():
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    spec = os.environ["_HANDLER"]
    module_name, _, fn_name = spec.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        return init_error(e, "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        return init_error(e, "Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e))
    fn = getattr(module, fn_name, None)
    if fn is None:
        return init_error(None, "Runtime.HandlerNotFound",
                          "Handler '%s' missing on module '%s'" % (fn_name, module_name))
    return fn


def init_error(exc, error_type, message):
    body = {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": []}
    print("[ERROR] %s: %s" % (error_type, message), flush=True)
    call("POST", "init/error", json.dumps(body), {"Lambda-Runtime-Function-Error-Type": error_type})
    sys.exit(1)


def main():
    global current_id
    fn = load()
    while True:
        _, headers, body = call("GET", "invocation/next")
        current_id = headers.get("lambda-runtime-aws-request-id")
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        try:
            event = json.loads(body) if body else None
            result = fn(event, Context(headers))
            post("POST", "invocation/%s/response" % current_id, json.dumps(result))
        except Exception as e:  # noqa: BLE001 - every handler error goes back to Lambda
            err = error_body(e)
            print("[ERROR] %s: %s" % (err["errorType"], err["errorMessage"]), flush=True)
            post("POST", "invocation/%s/error" % current_id, json.dumps(err),
                 {"Lambda-Runtime-Function-Error-Type": err["errorType"]})


main()

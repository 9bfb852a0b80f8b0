-- wrk: PutObject of a 4 KiB body to /BUCKET/put-<thread>-<n> (a new key per request).
local bucket, size = "bench", 4096
-- A fixed fake SigV4 header, as in s3_get.lua.
local auth = "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, " ..
  "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" .. string.rep("0", 64)
local body
local counter = 0
local tid = 0
local threads = {}

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end

local use_auth = true

function init(args)
  use_auth = args[1] ~= "anonymous"
  body = string.rep("x", size)
  counter = 0
end

function request()
  counter = counter + 1
  return wrk.format("PUT", "/" .. bucket .. "/put-" .. tid .. "-" .. counter,
    { ["Content-Type"] = "application/octet-stream", ["Authorization"] = auth, 
      ["x-amz-date"] = "20250101T000000Z", ["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD" }, body)
end

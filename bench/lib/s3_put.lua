-- wrk: PutObject of a 4 KiB body to /BUCKET/put-<run>-<thread>-<n> (a new key per
-- request), with a fixed fake SigV4 header unless args[1] is "anonymous" (see s3_get.lua).
local bucket, size = "bench", 4096
local auth = "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, " ..
  "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" .. string.rep("0", 64)
local body
local counter = 0
local threads_made = 0
local run = os.time()
local headers = {}

-- Each thread gets its own number (a global in the thread's Lua state), so keys never
-- collide between threads or between the warm-up and the measured run.
function setup(thread)
  threads_made = threads_made + 1
  thread:set("tid", threads_made)
end

function init(args)
  body = string.rep("x", size)
  counter = 0
  headers = { ["Content-Type"] = "application/octet-stream" }
  if args[1] ~= "anonymous" then
    headers["Authorization"] = auth
    headers["x-amz-date"] = "20250101T000000Z"
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
  end
end

function request()
  counter = counter + 1
  return wrk.format("PUT", "/" .. bucket .. "/put-" .. run .. "-" .. tid .. "-" .. counter, headers, body)
end

-- wrk: GetObject, with a fixed fake SigV4 Authorization header unless args[1] is
-- "anonymous" (moto refuses anonymous requests; stratus without --verify-signatures
-- ignores the signature; s3rver checks its date, so it gets anonymous requests).
local auth = "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/s3/aws4_request, " ..
  "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" .. string.rep("0", 64)

local headers = {}

function init(args)
  if args[1] ~= "anonymous" then
    headers = { ["Authorization"] = auth, ["x-amz-date"] = "20250101T000000Z",
                ["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD" }
  end
end

function request()
  return wrk.format("GET", nil, headers)
end

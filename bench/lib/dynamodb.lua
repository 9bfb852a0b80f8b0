-- wrk script for bench/dynamodb.py: one DynamoDB JSON 1.0 operation per request, over
-- keep-alive connections, with a fixed fake SigV4 Authorization header (no server here
-- verifies signatures; moto and dynalite want the header to be there).
--
--   wrk -t2 -c64 -d10s --latency -s dynamodb.lua http://127.0.0.1:PORT/ -- OP TABLE PARTS PAYLOAD [...]
--
-- The table has a string hash key `pk` and a string range key `sk`; item i of the preload is
-- pk = "p%07d" (i // 10), sk = "s" .. (i % 10), n = i (number), d = PAYLOAD x's, so each
-- partition holds 10 items.
--   get   PARTS           GetItem of a random preloaded item (PARTS partitions)
--   partiql PARTS         the same read as ExecuteStatement: SELECT * ... WHERE pk = ? AND sk = ?
--   query PARTS           Query of a random partition: 10 items
--   scan  -               Scan with no Limit: the first page (at most 1 MB)
--   put   -               PutItem of a new item per request (pk "w<thread>-<counter>")
--   health PARTS          GET /_stratus/health (stratus's empty endpoint) with the same headers
--                         and the same per-request script work as get: stratus's own ceiling
-- Every answer is checked (a 200 with the wrong content counts as `bad`); done() prints one
-- line "check: ..." for dynamodb.py.

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads)
  table.insert(threads, thread)
end

-- per-thread state (globals, so that done() can read them with thread:get)
bad = 0          -- 200 answers with unexpected content
count_min = -1   -- scan: smallest / largest Count seen
count_max = -1
first_bad = ""   -- the first unexpected answer, for the report

local op, tbl, payload
local parts = 1
local counter = 0

local AUTH = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/dynamodb/aws4_request, "
  .. "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
  .. "Signature=0000000000000000000000000000000000000000000000000000000000000000"

local function headers_for(target)
  return {
    ["Content-Type"] = "application/x-amz-json-1.0",
    ["X-Amz-Target"] = "DynamoDB_20120810." .. target,
    ["X-Amz-Date"] = "20250101T000000Z",
    ["Authorization"] = AUTH,
  }
end

local function item(pk, sk, n)
  return '{"pk":{"S":"' .. pk .. '"},"sk":{"S":"' .. sk .. '"},"n":{"N":"' .. n
    .. '"},"d":{"S":"' .. payload .. '"}}'
end

function init(args)
  op, tbl = args[1], args[2]
  local targets = { health = "GetItem", get = "GetItem", partiql = "ExecuteStatement", query = "Query", scan = "Scan", put = "PutItem" }
  assert(targets[op], "unknown op " .. tostring(op))
  payload = string.rep("x", tonumber(args[4] or "0"))
  math.randomseed(id * 7919)
  wrk.method = "POST"
  wrk.path = "/"
  for k, v in pairs(headers_for(targets[op])) do wrk.headers[k] = v end
  if op == "health" then
    wrk.method = "GET"
    wrk.path = "/_stratus/health"
  end
  if op == "get" or op == "partiql" or op == "query" or op == "health" then
    parts = tonumber(args[3])
  elseif op == "scan" then
    wrk.body = '{"TableName":"' .. tbl .. '"}'
  end
end

function request()
  if op == "health" then
    math.random(0, parts - 1)  -- the same script work as get's request
    math.random(0, 9)
    return wrk.format(nil, nil, nil, nil)
  elseif op == "get" then
    local p, s = math.random(0, parts - 1), math.random(0, 9)
    return wrk.format(nil, nil, nil, string.format(
      '{"TableName":"%s","Key":{"pk":{"S":"p%07d"},"sk":{"S":"s%d"}}}', tbl, p, s))
  elseif op == "partiql" then
    local p, s = math.random(0, parts - 1), math.random(0, 9)
    return wrk.format(nil, nil, nil, string.format(
      '{"Statement":"SELECT * FROM \\"%s\\" WHERE pk = ? AND sk = ?","Parameters":[{"S":"p%07d"},{"S":"s%d"}]}',
      tbl, p, s))
  elseif op == "query" then
    return wrk.format(nil, nil, nil, string.format(
      '{"TableName":"%s","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p%07d"}}}',
      tbl, math.random(0, parts - 1)))
  elseif op == "put" then
    counter = counter + 1
    return wrk.format(nil, nil, nil, '{"TableName":"' .. tbl .. '","Item":'
      .. item("w" .. id .. "-" .. counter, "s0", counter) .. '}')
  end
  return wrk.request()  -- scan: the fixed body
end

local function mark_bad(body)
  bad = bad + 1
  if first_bad == "" then first_bad = string.sub(body, 1, 200) end
end

function response(status, headers, body)
  if status ~= 200 then
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 200) end
    return  -- wrk counts these as non-2xx
  end
  if op == "health" then
    if not string.find(body, '"uptime_seconds"', 1, true) then mark_bad(body) end
  elseif op == "get" then
    if not string.find(body, '"Item"', 1, true) then mark_bad(body) end
  elseif op == "partiql" then
    if not string.find(body, '"Items":%s*%[%s*{') then mark_bad(body) end
  elseif op == "query" then
    if not string.find(body, '"Count":%s*10[,}%s]') then mark_bad(body) end
  elseif op == "scan" then
    local c = string.match(body, '"Count":%s*(%d+)')
    if not c then
      mark_bad(body)
    else
      c = tonumber(c)
      if count_min < 0 or c < count_min then count_min = c end
      if c > count_max then count_max = c end
    end
  end
end

function done(summary, latency, requests)
  local b, cmin, cmax, fb = 0, -1, -1, ""
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    local lo, hi = t:get("count_min"), t:get("count_max")
    if lo >= 0 and (cmin < 0 or lo < cmin) then cmin = lo end
    if hi > cmax then cmax = hi end
    if fb == "" then fb = t:get("first_bad") end
  end
  io.write(string.format("check: bad=%d count_min=%d count_max=%d\n", b, cmin, cmax))
  if fb ~= "" then io.write("first_bad: " .. string.gsub(fb, "\n", " ") .. "\n") end
end

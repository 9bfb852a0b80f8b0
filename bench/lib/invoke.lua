-- wrk: POSTs the body in the file named by the first argument (a Lambda Invoke of the
-- same event the gateway would send).
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

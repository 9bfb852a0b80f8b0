-- wrk: a plain GET whose answers are checked: done() prints the first answer that was not
-- a 200 ("first_bad: <status> <body>"), so a benchmark can say what went wrong.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

first_bad = ""

function response(status, headers, body)
  if status ~= 200 and first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 200) end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local fb = t:get("first_bad")
    if fb ~= "" then
      io.write("first_bad: " .. string.gsub(fb, "\n", " ") .. "\n")
      return
    end
  end
end

-- wrk script for bench.user_load: POST one market order per request, each with its own
-- idempotency key, and print a JSON summary (so nothing is parsed from wrk's text).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  accepted, refused = 0, 0
end

function request()
  counter = counter + 1
  local key = string.format("wrk-%s-%d-%d", os.getenv("RUN_ID") or "run", id, counter)
  local headers = {["Content-Type"] = "application/json", ["Idempotency-Key"] = key,
                   ["Authorization"] = "Bearer " .. (os.getenv("API_KEY") or "")}
  local body = '{"type":"market","tokenIn":"SOL","tokenOut":"USDC","amountIn":"0.5"}'
  return wrk.format("POST", "/api/orders/execute", headers, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else
    if refused == 0 and os.getenv("WRK_DEBUG") then io.stderr:write(status .. " " .. body .. "\n") end
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("accepted")
    bad = bad + thread:get("refused")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"accepted":%d,"refused":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, ok, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

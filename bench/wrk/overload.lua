-- wrk script for bench/overload.py: the requests of scenario.lua (same data files and arguments),
-- with every answer counted by status, and one summary line with the status mix and percentiles.
--
-- Usage: wrk ... -s overload.lua URL -- SCENARIO DATA_DIR SEED   (env SCENARIO_LUA: scenario.lua)

dofile(os.getenv("SCENARIO_LUA"))

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

-- One scenario of its own: the Salesloft feed filtered by type only, with counts (the count reads
-- every activity of that type in the tenant).
local own = {}
own.sl_type_counted = function(c)
  return wrk.format("GET", "/v2/activity_histories?type=" .. c.sl_type .. "&include_paging_counts=true&per_page=25",
    {["Authorization"] = "Bearer " .. c.api_key})
end

-- Defined after scenario.lua's init, which sets `response` only for load runs (four arguments).
local scenario_init = init
function init(args)
  local mine = own[args[1]]
  if mine then
    local c = {}
    for line in io.lines(args[2] .. "/config") do
      local k, v = line:match("^([^=]+)=(.*)$")
      if k then c[k] = v end
    end
    local req = mine(c)
    args[1] = "healthz"
    request = function() return req end
  end
  scenario_init(args)
  statuses = {}
  response = function(status, headers, body)
    local k = tostring(status)
    statuses[k] = (statuses[k] or 0) + 1
  end
end

function done(summary, latency, requests)
  local mix = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do mix[k] = (mix[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(mix) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'OVERLOAD_RESULT {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,'
      .. '"errors_write":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,'
      .. '"max_us":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, table.concat(parts, ",")))
end

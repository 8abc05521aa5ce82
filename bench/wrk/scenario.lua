-- wrk script for the activity-hub benchmark (bench/run.py): builds each scenario's requests from the
-- data files the harness wrote, and prints one machine-readable summary line when the run ends.
--
-- Usage: wrk ... -s scenario.lua URL -- SCENARIO DATA_DIR SEED [TARGET_REQUESTS]
-- A TARGET_REQUESTS argument (load scenarios) stops sending after that many answers and writes
-- "ANSWERED FAILED" to DATA_DIR/load_done, for the harness to end wrk.

local scenario, dir
local cfg = {}
local leads, opps, lead_ids = {}, {}, {}
local hdr_lsq, hdr_sl
local next_lead, next_opp = 0, 0
local target, answered, failed = nil, 0, 0 -- load runs only

-- The custom fields of LeadSquared's documented Create example, as a Fields array.
local FIELDS = '[{"SchemaName":"mx_Custom_1","Value":"123123123"},'
  .. '{"SchemaName":"mx_Custom_2","Value":"123"},{"SchemaName":"mx_Custom_3","Value":"3"},'
  .. '{"SchemaName":"mx_Custom_4","Value":"4"},{"SchemaName":"mx_Custom_5","Value":"2016-07-07 10:55:00"},'
  .. '{"SchemaName":"mx_Custom_6","Value":"Value for Custom field"},'
  .. '{"SchemaName":"mx_Custom_7","Value":"Value for Custom field"},{"SchemaName":"mx_Custom_8","Value":"1"},'
  .. '{"SchemaName":"mx_Custom_9","Value":"Value for Custom field"},{"SchemaName":"mx_Custom_10","Value":""},'
  .. '{"SchemaName":"mx_Custom_11","Value":""},{"SchemaName":"mx_Custom_12","Value":""},'
  .. '{"SchemaName":"mx_Custom_13","Value":"Value for Custom field"},'
  .. '{"SchemaName":"mx_Custom_14","Value":"Value for Custom field"},{"SchemaName":"mx_Custom_15","Value":"asd"}]'

local function read_lines(path)
  local t = {}
  local f = io.open(path, "r")
  if f then
    for line in f:lines() do
      if #line > 0 then t[#t + 1] = line end
    end
    f:close()
  end
  return t
end

local function pick(t)
  return t[math.random(1, #t)]
end

-- A random ActivityDateTime over two years, so that date-sorted pages are not trivially ordered.
local function rand_date()
  return os.date("!%Y-%m-%d %H:%M:%S", 1700000000 + math.random(0, 63000000))
end

-- An ISO-8601 timestamp (URL-encoded) inside the range of stored updated_at values.
local function rand_cursor()
  local lo, hi = tonumber(cfg.ts_min), tonumber(cfg.ts_max)
  local us = lo + math.floor(math.random() * (hi - lo))
  local secs = math.floor(us / 1000000)
  return os.date("!%Y-%m-%dT%H%%3A%M%%3A%S", secs) .. string.format(".%06dZ", us % 1000000)
end

local function lsq_row(lead, i)
  -- One row in five uses a system type (no custom fields), the rest the Create example's custom type.
  local lead_part = lead and string.format('"RelatedProspectId":"%s",', lead) or ""
  if i % 5 == 4 then
    return string.format('{%s"ActivityEvent":%s,"ActivityNote":"Meeting completed","ActivityDateTime":"%s"}',
      lead_part, cfg.system_event, rand_date())
  end
  return string.format('{%s"ActivityEvent":%s,"ActivityNote":"Your Activity Note","ActivityDateTime":"%s","Fields":%s}',
    lead_part, cfg.event, rand_date(), FIELDS)
end

local function round_robin_lead()
  next_lead = next_lead % #leads + 1
  return leads[next_lead]
end

local function bulk_by_lead_body(next_fn)
  local rows = {}
  for i = 0, 24 do rows[#rows + 1] = lsq_row(next_fn(), i) end
  return "[" .. table.concat(rows, ",") .. "]"
end

local function bulk_by_opp_body()
  -- The shape of LeadSquared's bulk-by-opportunity example: ActivityEvent, ActivityNote,
  -- ActivityOwnerEmail, Fields.
  local rows = {}
  for i = 0, 24 do
    rows[#rows + 1] = string.format(
      '{"ActivityEvent":%s,"ActivityNote":"PAN collected","ActivityOwnerEmail":"%s","ActivityDateTime":"%s","Fields":%s}',
      cfg.event, cfg.owner_email, rand_date(), FIELDS)
  end
  return "[" .. table.concat(rows, ",") .. "]"
end

local builders = {}

builders.healthz = function() return wrk.format("GET", "/healthz") end

builders.create = function()
  local body = string.format(
    '{"RelatedProspectId":"%s","ActivityEvent":%s,"ActivityNote":"Your Activity Note","ActivityDateTime":"%s","Fields":%s}',
    pick(leads), cfg.event, rand_date(), FIELDS)
  return wrk.format("POST", "/v2/ProspectActivity.svc/Create", hdr_lsq, body)
end

-- A new Idempotency-Key per request: the cost of keeping each Create's first answer.
local keyed = 0
local key_prefix = tostring({}):gsub("table: ", "") .. "-" .. tostring(os.time())
builders.create_keyed = function()
  keyed = keyed + 1
  local body = string.format(
    '{"RelatedProspectId":"%s","ActivityEvent":%s,"ActivityNote":"Your Activity Note","ActivityDateTime":"%s","Fields":%s}',
    pick(leads), cfg.event, rand_date(), FIELDS)
  local hdr = {}
  for k, v in pairs(hdr_lsq) do hdr[k] = v end
  hdr["Idempotency-Key"] = key_prefix .. "-" .. keyed
  return wrk.format("POST", "/v2/ProspectActivity.svc/Create", hdr, body)
end

builders.bulk_lead = function()
  return wrk.format("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId", hdr_lsq,
    bulk_by_lead_body(function() return pick(leads) end))
end

builders.bulk_opp = function()
  return wrk.format("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId?opportunityId=" .. pick(opps),
    hdr_lsq, bulk_by_opp_body())
end

builders.retrieve = function()
  return wrk.format("POST", "/v2/ProspectActivity.svc/Retrieve?leadId=" .. pick(leads), hdr_lsq,
    '{"Paging":{"PageIndex":1,"PageSize":25}}')
end

builders.opp_activities = function()
  return wrk.format("POST", "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId=" .. pick(opps),
    hdr_lsq, '{"Paging":{"PageIndex":1,"PageSize":25},"Sorting":{"ColumnName":"LeadOwner","Direction":1}}')
end

builders.sl_filtered = function()
  return wrk.format("GET", "/v2/activity_histories?type=" .. cfg.sl_type .. "&resource_type=person&resource_id="
    .. pick(lead_ids) .. "&include_paging_counts=true&per_page=25", hdr_sl)
end

-- The counted feed: one Salesloft type across the whole tenant, with exact paging counts (its
-- count comes from the kept counts table, whatever the number of activities).
builders.sl_counted = function()
  return wrk.format("GET", "/v2/activity_histories?type=" .. cfg.sl_type
    .. "&include_paging_counts=true&per_page=25", hdr_sl)
end

-- The same activities as Salesloft's calls list (the bench type's SalesloftType is call), with
-- exact paging counts: a counted page of /v2/activities/calls against the counted feed's.
builders.sl_calls_counted = function()
  return wrk.format("GET", "/v2/activities/calls?include_paging_counts=true&per_page=25", hdr_sl)
end

builders.sl_cursor = function()
  return wrk.format("GET", "/v2/activity_histories?sort_by=updated_at&sort_direction=ASC&per_page=25&updated_at%5Bgt%5D="
    .. rand_cursor(), hdr_sl)
end

-- Loading: bulk by lead with leads in round-robin order, so every lead gets the same share.
builders.load_bulk = function()
  return wrk.format("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId", hdr_lsq,
    bulk_by_lead_body(round_robin_lead))
end

-- Loading: bulk by opportunity, opportunities in round-robin order.
builders.load_opp = function()
  next_opp = next_opp % #opps + 1
  return wrk.format("POST", "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId?opportunityId=" .. opps[next_opp],
    hdr_lsq, bulk_by_opp_body())
end

-- The peer (json-server): the same activity posted to a plain collection, and a page of one lead's.
builders.peer_create = function()
  local body = string.format(
    '{"leadId":"%s","ActivityEvent":%s,"ActivityNote":"Your Activity Note","ActivityDateTime":"%s","Fields":%s}',
    pick(leads), cfg.event, rand_date(), FIELDS)
  return wrk.format("POST", "/activities", {["Content-Type"] = "application/json"}, body)
end

builders.peer_read = function()
  return wrk.format("GET", "/activities?leadId=" .. pick(leads) .. "&_page=1&_limit=25")
end

local build

function init(args)
  scenario, dir = args[1], args[2]
  math.randomseed(tonumber(args[3] or "1"))
  for _, kv in ipairs(read_lines(dir .. "/config")) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if k then cfg[k] = v end
  end
  leads = read_lines(dir .. "/leads")
  opps = read_lines(dir .. "/opportunities")
  lead_ids = read_lines(dir .. "/lead_ids")
  hdr_lsq = {
    ["Content-Type"] = "application/json",
    ["x-LSQ-AccessKey"] = cfg.access_key,
    ["x-LSQ-SecretKey"] = cfg.secret_key,
  }
  hdr_sl = {["Authorization"] = "Bearer " .. (cfg.api_key or "")}
  build = builders[scenario]
  if not build then
    io.stderr:write("scenario.lua: unknown scenario " .. tostring(scenario) .. "\n")
    os.exit(2)
  end
  if args[4] then
    target = tonumber(args[4])
    -- Only load runs read answers (wrk skips parsing when `response` is nil).
    response = function(status, headers, body)
      answered = answered + 1
      if status < 200 or status > 299 then
        failed = failed + 1
        if failed <= 3 then io.stderr:write("load answer " .. status .. ": " .. tostring(body) .. "\n") end
      end
      if answered == target then
        -- wrk's main thread sleeps for the whole -d duration: tell the harness, which ends wrk.
        local f = io.open(dir .. "/load_done", "w")
        if f then
          f:write(string.format("%d %d\n", answered, failed))
          f:close()
        end
        wrk.thread:stop()
      end
    end
  end
end

function request()
  return build()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,"errors_read":%d,'
      .. '"errors_write":%d,"errors_timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end

-- wrk script for bench/query.py: POST one prepared SOAP envelope, check every answer, report as JSON.
--
-- Configuration comes from the environment (wrk hands every thread the same environment):
--   WRK_BODY_FILE   file holding the request body (the SOAP envelope), required
--   WRK_SOAPACTION  value of the SOAPAction header (default: "" with the quotes)
--   WRK_EXPECT      a plain substring every good answer contains (e.g. "Status>OK</"); empty = no check
--   WRK_ID_PATTERN  a Lua pattern with one capture: the request id in the answer; empty = do not collect
--   WRK_IDS_PREFIX  collected ids go to WRK_IDS_PREFIX .. "." .. <thread number>, one a line
--
-- The `done` hook prints one line `WRK_RESULT {json}` that bench/query.py parses.

local body_file = os.getenv("WRK_BODY_FILE")
if body_file == nil or body_file == "" then
  error("WRK_BODY_FILE is not set")
end
local handle = assert(io.open(body_file, "rb"))
local body = handle:read("*a")
handle:close()

local soap_action = os.getenv("WRK_SOAPACTION") or '""'
local expect = os.getenv("WRK_EXPECT") or ""
local id_pattern = os.getenv("WRK_ID_PATTERN") or ""
local ids_prefix = os.getenv("WRK_IDS_PREFIX") or ""

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = soap_action

-- Main state: remember the threads so that `done` can read their counters.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

-- Thread states: per-thread counters (globals, so that thread:get can read them).
responses = 0
non200 = 0
not_ok = 0
no_id = 0
statuses = ""
local seen_status = {}
local ids_out = nil

function init(_args)
  if id_pattern ~= "" and ids_prefix ~= "" then
    ids_out = assert(io.open(ids_prefix .. "." .. tostring(thread_number), "w"))
    ids_out:setvbuf("line")
  end
end

function response(status, _headers, response_body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if not seen_status[status] then
      seen_status[status] = true
      statuses = statuses .. tostring(status) .. " "
    end
    return
  end
  if expect ~= "" and not string.find(response_body, expect, 1, true) then
    not_ok = not_ok + 1
    return
  end
  if ids_out ~= nil then
    local id = string.match(response_body, id_pattern)
    if id == nil then
      no_id = no_id + 1
    else
      ids_out:write(id, "\n")
    end
  end
end

function done(summary, latency, _requests)
  local total = { responses = 0, non200 = 0, not_ok = 0, no_id = 0 }
  local codes = ""
  for _, thread in ipairs(threads) do
    total.responses = total.responses + (thread:get("responses") or 0)
    total.non200 = total.non200 + (thread:get("non200") or 0)
    total.not_ok = total.not_ok + (thread:get("not_ok") or 0)
    total.no_id = total.no_id + (thread:get("no_id") or 0)
    codes = codes .. (thread:get("statuses") or "")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d}, '
      .. '"responses": %d, "non200": %d, "not_ok": %d, "no_id": %d, "statuses": "%s"}\n',
    summary.duration, summary.requests, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    total.responses, total.non200, total.not_ok, total.no_id, codes
  ))
end

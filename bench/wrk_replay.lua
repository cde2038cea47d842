-- wrk replaying requests bench/replay.py pre-built and pre-signed: wrk has
-- no HMAC, and building a request per call in Lua would make the client,
-- not the server, what is measured. Each thread loads its share of the file
-- once in init(), and request() only hands back the next string, in turn,
-- to whichever of the thread's connections is ready, wrapping around at the
-- end (replay.py makes enough that keys meant to be new do not repeat).
--
--   wrk -t2 -c32 -d10s -s bench/wrk_replay.lua http://127.0.0.1:PORT -- FILE THREADS
--
-- FILE holds the raw requests as sent on the wire, each after a line with
-- its length in bytes; thread i of THREADS takes requests i, i+THREADS, ...
-- (all the first one if there are fewer requests than threads).
-- done() prints one JSON line with the keys offcloud-loadgen's --json uses.
-- With WRK_REPLAY_FAILED set to a Lua pattern with one capture of digits,
-- the numbers it finds in 2xx bodies add up to failed_records (Firehose's
-- "FailedPutCount":N): wrk then reads every response, so only for slow rows.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests, cursor, first = {}, 0, nil
failed = 0

function init(args)
  local path, count = args[1], tonumber(args[2])
  local file = assert(io.open(path, "rb"))
  local index = 0
  while true do
    local line = file:read("*l")
    if not line then break end
    local length = tonumber(line)
    if index % count == id or index == 0 then
      local raw = file:read(length)
      if index % count == id then table.insert(requests, raw) else first = raw end
    else
      file:seek("cur", length)
    end
    index = index + 1
  end
  file:close()
  -- Fewer requests than threads (one publish replayed): the first for all.
  if #requests == 0 then table.insert(requests, first) end
  assert(#requests > 0, "no requests in " .. path)
end

function request()
  cursor = cursor % #requests + 1
  return requests[cursor]
end

local pattern = os.getenv("WRK_REPLAY_FAILED")
if pattern and pattern ~= "" then
  function response(status, headers, body)
    local found = status >= 200 and status < 300 and body and body:match(pattern)
    if found then
      failed = failed + tonumber(found)
    end
  end
end

function done(summary, latency, _)
  local failed_total = 0
  for _, thread in ipairs(threads) do
    failed_total = failed_total + (thread:get("failed") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"workload":"wrk replay","requests":%d,"seconds":%.3f,"requests_per_s":%.1f,' ..
    '"p50_ms":%.3f,"p99_ms":%.3f,"non_2xx":%d,"no_response":%d,"failed_records":%d,' ..
    '"errors":{"status>399":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, failed_total,
    e.status, e.connect, e.read, e.write, e.timeout))
end

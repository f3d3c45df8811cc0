-- Shared by every scenario script: the seed files `make bench` wrote (BENCH_DATA), a distinct starting point per
-- wrk thread so threads do not walk the same users in step, and one machine-readable summary line for bench/run.sh.
local common = {}

local data = os.getenv("BENCH_DATA") or error("BENCH_DATA is not set")
local threads = 0

-- Fixed offered rate: with BENCH_PACE_MS set (bench/run.sh derives it from the rate and the connection count), every
-- connection waits that long before each request, so the load is the same for every path measured at that rate
-- instead of whatever each path can absorb. wrk calls a global delay() before each request when one exists.
local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "0")
if pace_ms > 0 then
  function delay()
    return pace_ms
  end
end

-- Rows of a tab-separated seed file, each a list of fields.
function common.rows(name)
  local rows = {}
  for line in io.lines(data .. "/" .. name) do
    local fields = {}
    for field in line:gmatch("[^\t]+") do
      fields[#fields + 1] = field
    end
    rows[#rows + 1] = fields
  end
  if #rows == 0 then
    error(name .. " is empty")
  end
  return rows
end

-- wrk calls setup once per thread in the main state; the id reaches the thread's own state as a global.
function common.setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

-- A cycling cursor over n prepared requests, starting at a different place in each thread.
function common.cursor(n)
  local index = ((thread_id or 1) * 7919) % n
  return function()
    index = index % n + 1
    return index
  end
end

function common.bearer(token)
  return { Authorization = "Bearer " .. token }
end

function common.login_body(email, password)
  return string.format('{"email":"%s","password":"%s"}', email, password)
end

-- wrk counts a status of 400 or more in errors.status; socket errors are counted apart.
function common.done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d status=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, errors.status, errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

return common

-- Scenario 6, uploads: POST a BENCH_FILE_MB MiB raw body to /api/files as one of a few seeded users per thread
-- (each prepared request holds the whole body, so a thread prepares at most four; run.sh deletes the uploads after).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local per_thread = 4
local requests, next_index

setup = common.setup

function init(_)
  local body = string.rep("platform-bench\n", math.floor(tonumber(os.getenv("BENCH_FILE_MB")) * 1048576 / 15) + 1)
  body = body:sub(1, tonumber(os.getenv("BENCH_FILE_MB")) * 1048576)
  local rows = common.rows("tokens.tsv")
  requests = {}
  for i = 1, math.min(per_thread, #rows) do
    local row = rows[((thread_id - 1) * per_thread + i - 1) % #rows + 1]
    local headers = common.bearer(row[1])
    headers["Content-Type"] = "application/octet-stream"
    requests[i] = wrk.format("POST", "/api/files?name=bench.bin", headers, body)
  end
  next_index = common.cursor(#requests)
end

function request()
  return requests[next_index()]
end

done = common.done

-- Scenario 1, 2, 7 and the nginx baseline: GET one cached task with its owner's bearer token (reads.tsv: token, task id).
-- With BENCH_RELOAD_EVERY=n each thread re-reads reads.tsv every n requests, so tokens issued during the run
-- (scenario 7: signed with a key that was activated during the run) reach the validators while the load goes on.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local reload_every = tonumber(os.getenv("BENCH_RELOAD_EVERY") or "0")
local requests, next_index
local sent = 0

local function load()
  requests = {}
  for i, row in ipairs(common.rows("reads.tsv")) do
    requests[i] = wrk.format("GET", "/api/tasks/" .. row[2], common.bearer(row[1]))
  end
  next_index = common.cursor(#requests)
end

setup = common.setup

function init(_)
  load()
end

function request()
  sent = sent + 1
  if reload_every > 0 and sent % reload_every == 0 then
    load()
  end
  return requests[next_index()]
end

done = common.done

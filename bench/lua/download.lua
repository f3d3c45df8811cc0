-- Scenario 6, downloads: GET the content of a seeded BENCH_FILE_MB MiB file (files.tsv, or BENCH_FILES_TABLE: token,
-- file id).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local requests, next_index

setup = common.setup

function init(_)
  requests = {}
  for i, row in ipairs(common.rows(os.getenv("BENCH_FILES_TABLE") or "files.tsv")) do
    requests[i] = wrk.format("GET", "/api/files/" .. row[2] .. "/content", common.bearer(row[1]))
  end
  next_index = common.cursor(#requests)
end

function request()
  return requests[next_index()]
end

done = common.done

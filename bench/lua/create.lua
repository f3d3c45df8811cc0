-- Scenario 3: POST a new task as one of the seeded users (tokens.tsv: token).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local requests, next_index

setup = common.setup

function init(_)
  requests = {}
  local headers
  for i, row in ipairs(common.rows("tokens.tsv")) do
    headers = common.bearer(row[1])
    headers["Content-Type"] = "application/json"
    requests[i] = wrk.format("POST", "/api/tasks", headers, '{"title":"created by make bench","description":"scenario 3"}')
  end
  next_index = common.cursor(#requests)
end

function request()
  return requests[next_index()]
end

done = common.done

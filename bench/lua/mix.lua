-- Scenario 5: in every 20 requests, 16 cached reads, 3 task creations and 1 login (80 / 15 / 5 %), interleaved
-- rather than random so short runs hit the proportions exactly.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local reads, creates, logins
local next_read, next_create, next_login
local sent = 0

setup = common.setup

function init(_)
  reads, creates, logins = {}, {}, {}
  for i, row in ipairs(common.rows("reads.tsv")) do
    reads[i] = wrk.format("GET", "/api/tasks/" .. row[2], common.bearer(row[1]))
  end
  for i, row in ipairs(common.rows("tokens.tsv")) do
    local headers = common.bearer(row[1])
    headers["Content-Type"] = "application/json"
    creates[i] = wrk.format("POST", "/api/tasks", headers, '{"title":"created by make bench","description":"scenario 5"}')
  end
  for i, row in ipairs(common.rows("logins.tsv")) do
    logins[i] = wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" }, common.login_body(row[1], row[2]))
  end
  next_read, next_create, next_login = common.cursor(#reads), common.cursor(#creates), common.cursor(#logins)
end

function request()
  sent = sent % 20 + 1
  if sent == 20 then
    return logins[next_login()]
  elseif sent % 5 == 0 then
    return creates[next_create()]
  end
  return reads[next_read()]
end

done = common.done

-- Scenarios 5 and U: the traffic of real sessions (the session model: bench/report.sh, "Capacity plan"). A session logs in once, then
-- makes 360 API calls (one every 5 s for 30 min), 15 % of them writes. So in every 360 requests: 1 login, 54 task
-- creations, 305 cached reads, interleaved rather than random so short runs hit the proportions exactly. A session's
-- 3 token refreshes (every 10 min, the access-token lifetime) are not in this load: refresh tokens rotate, and wrk's
-- per-thread state cannot follow one chain per connection, so bench/run.sh measures them apart (scenario R) and
-- the capacity plan adds them. With BENCH_SESSION_LOGINS=0 the login is a read too (scenario mixcurve: the reads and
-- writes of the mix below saturation, where bcrypt would otherwise take this machine's cores).
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local reads, creates, logins
local next_read, next_create, next_login
local sent = 0
local with_logins = os.getenv("BENCH_SESSION_LOGINS") ~= "0"

setup = common.setup

function init(_)
  reads, creates, logins = {}, {}, {}
  for i, row in ipairs(common.rows("reads.tsv")) do
    reads[i] = wrk.format("GET", "/api/tasks/" .. row[2], common.bearer(row[1]))
  end
  for i, row in ipairs(common.rows("tokens.tsv")) do
    local headers = common.bearer(row[1])
    headers["Content-Type"] = "application/json"
    creates[i] = wrk.format("POST", "/api/tasks", headers, '{"title":"created by make bench","description":"session mix"}')
  end
  for i, row in ipairs(common.rows("logins.tsv")) do
    logins[i] = wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" }, common.login_body(row[1], row[2]))
  end
  next_read, next_create, next_login = common.cursor(#reads), common.cursor(#creates), common.cursor(#logins)
end

function request()
  sent = sent % 360 + 1
  if sent == 360 and with_logins then
    return logins[next_login()]
  elseif sent % 20 == 5 or sent % 20 == 10 or sent % 20 == 15 then
    return creates[next_create()]
  end
  return reads[next_read()]
end

done = common.done

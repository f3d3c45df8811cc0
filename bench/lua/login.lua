-- Scenario 4 and the storm of scenario 8: log in as one of the login-only users (logins.tsv: e-mail, password).
-- They are never the users whose tokens the read scenarios hold, so evicting their oldest sessions (10 at most
-- per user) revokes nothing the other scenarios use.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local requests, next_index

setup = common.setup

function init(_)
  requests = {}
  for i, row in ipairs(common.rows("logins.tsv")) do
    requests[i] = wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" }, common.login_body(row[1], row[2]))
  end
  next_index = common.cursor(#requests)
end

function request()
  return requests[next_index()]
end

done = common.done

-- make soak (scripts/soak.sh): scenario 5's session-shaped mix (session.lua: in every 360 requests 1 login, 54 task
-- creations, 305 cached reads), paced: every connection waits SOAK_DELAY_MS before each request, so the soak is hours of steady traffic that
-- leaves the machine room to breathe, not a saturation test (make bench is that).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "session.lua")

local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "20")

function delay()
  return pause
end

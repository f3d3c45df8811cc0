-- make soak (scripts/soak.sh): scenario 5's mix (16 cached reads, 3 task creations, 1 login in every 20 requests),
-- paced: every connection waits SOAK_DELAY_MS before each request, so the soak is hours of steady traffic that
-- leaves the machine room to breathe, not a saturation test (make bench is that).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "mix.lua")

local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "20")

function delay()
  return pause
end

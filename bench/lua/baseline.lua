-- The Kestrel baseline: GET / of bench/Platform.Bench.Baseline, a fixed body of a cached task's size.
local common = dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

setup = common.setup
done = common.done

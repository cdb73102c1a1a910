-- wrk: each request renames one of the profiles listed in BENCH_IDS (a file, one id a line), in turn; a JSON Patch
-- replacing /name, as a client renames a profile.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  ids[#ids + 1] = line
end
local path = os.getenv("BENCH_PATH")
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
  ["Content-Type"] = "application/json-patch+json",
}
local counter = 0

request = function()
  counter = counter + 1
  local id = ids[((counter * 7 + (tid or 1) * 131) % #ids) + 1]
  local body = '[{"op":"replace","path":"/name","value":"Renamed ' .. counter .. '"}]'
  return wrk.format("PATCH", path .. "/" .. id, headers, body)
end

done = dofile(os.getenv("BENCH_DIR") .. "/report.lua")

-- wrk: each request deletes one of the profiles listed in BENCH_IDS (a file, one id a line), each once: thread t of
-- T takes the ids t, t + T, t + 2T, … (a request past the end of the list is a 404, counted as an error).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  threads = tonumber(os.getenv("BENCH_THREADS") or "2")
end

local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  ids[#ids + 1] = line
end
local path = os.getenv("BENCH_PATH")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local counter = 0

request = function()
  local index = (counter * threads) + (tid or 1)
  counter = counter + 1
  local id = ids[index] or "00000000-0000-0000-0000-000000000000"
  return wrk.format("DELETE", path .. "/" .. id, headers)
end

done = dofile(os.getenv("BENCH_DIR") .. "/report.lua")

-- wrk: GET BENCH_PATH with the bearer token (one profile, a page of 100, an instance lookup).
local headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
local path = os.getenv("BENCH_PATH")
request = function()
  return wrk.format("GET", path, headers)
end
done = dofile(os.getenv("BENCH_DIR") .. "/report.lua")

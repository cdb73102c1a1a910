-- wrk: each request creates a profile for a new PBX instance. BENCH_PATH and BENCH_TOKEN come from the environment.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local path = os.getenv("BENCH_PATH")
local headers = {
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
  ["Content-Type"] = "application/json",
  ["accept-charges"] = "true",
}
local prefix = os.getenv("BENCH_PREFIX") or "bench"
local counter = 0

request = function()
  counter = counter + 1
  local body = '{"_type":"KazooPbxConnectionProfile","name":"Bench","hostRest":"https://rest.example.com",'
    .. '"hostWebsocket":"wss://ws.example.com","accountId":"' .. prefix .. '-' .. tid .. '-' .. counter
    .. '","apiKey":"bench-secret"}'
  return wrk.format("POST", path, headers, body)
end

done = dofile(os.getenv("BENCH_DIR") .. "/report.lua")

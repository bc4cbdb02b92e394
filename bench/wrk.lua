-- The load generator's requests: GET of the path given on the wrk command line, rotating over a handful of
-- distinct bearer tokens and forwarded client addresses (the same bytes go to every peer, so the comparison is fair;
-- peers that do not look at them just pass them on).
local dir = os.getenv("BENCH_DIR")
local requests = {}
local next = 1

local function lines(path)
  local out = {}
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  file:close()
  return out
end

function init(args)
  local tokens = lines(dir .. "/tokens.txt")
  local clients = lines(dir .. "/clients.txt")
  for i = 1, #tokens do
    local headers = {}
    headers["Authorization"] = "Bearer " .. tokens[i]
    headers["X-Forwarded-For"] = clients[((i - 1) % #clients) + 1]
    requests[i] = wrk.format("GET", nil, headers)
  end
end

function request()
  local r = requests[next]
  next = next % #requests + 1
  return r
end

-- wrk script for the load test (tests/load/predict-load.sh): cycles through the
-- request types listed in $LOAD_BODIES/requests.tsv (written by make-bodies.py), each
-- as often as its weight says, and counts the responses by type.
--
-- A response does not say which request it answers, so every type is given its own
-- expected (status, error code): 200 for the valid ones, a distinct code for each
-- invalid one. response() files each answer under the type that expects it, or under
-- "unexpected STATUS CODE"; done() prints per type what was sent and what came back,
-- so that a valid image answered 422 shows both as a missing 200 and as a surplus.
-- Output lines start with "LOAD " for the shell script to read.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local threads = dofile(here .. "../wrk-threads.lua")

local dir = os.getenv("LOAD_BODIES") or "."
local types = {}        -- name -> {status, code, weight}
local by_answer = {}    -- "status code" -> type name (200s: the "valid" group)
local specs = {}        -- {method, headers, body, group, weight}
local cycle = {}        -- formatted requests, in weighted round-robin order (per thread)
local cycle_type = {}

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

for line in io.lines(dir .. "/requests.tsv") do
  local name, method, ctype, file, weight, status, code =
    line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)$")
  if name then
    local body = read(dir .. "/" .. file)
    local headers = {}
    if ctype ~= "-" then headers["Content-Type"] = ctype end
    local group = tonumber(status) == 200 and "valid" or name
    types[group] = types[group] or {status = tonumber(status), code = code}
    by_answer[status .. " " .. code] = group
    specs[#specs + 1] = {method = method, headers = headers,
                         body = method ~= "GET" and body or nil, group = group,
                         weight = tonumber(weight)}
  end
end

-- per thread
sent = {}
got = {}
local next_i = 0

function init(args)
  -- formatted here, once per thread: wrk.host (the Host header) is known by now
  for _, sp in ipairs(specs) do
    local req = wrk.format(sp.method, "/predict", sp.headers, sp.body)
    for _ = 1, sp.weight do
      cycle[#cycle + 1] = req
      cycle_type[#cycle_type + 1] = sp.group
    end
  end
  -- threads start at different places in the cycle
  next_i = math.random(#cycle) - 1
end

function request()
  next_i = next_i % #cycle + 1
  local t = cycle_type[next_i]
  sent[t] = (sent[t] or 0) + 1
  return cycle[next_i]
end

function response(status, headers, body)
  local code = "-"
  if status ~= 200 then
    code = body and body:match('"code"%s*:%s*"([^"]+)"') or "none"
  end
  local key = status .. " " .. code
  local t = by_answer[key] or ("unexpected " .. key)
  got[t] = (got[t] or 0) + 1
end

setup = threads.setup

function done(summary, latency, requests)
  local s, g = threads.total("sent"), threads.total("got")
  local e = summary.errors
  io.write(string.format("LOAD summary requests %d seconds %.1f rps %.1f\n", summary.requests,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("LOAD socket_errors connect %d read %d write %d timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format("LOAD latency_ms mean %.2f p50 %.2f p99 %.2f max %.2f\n",
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
  local names = {}
  for k in pairs(types) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    io.write(string.format("LOAD type %s expect %d %s sent %d got %d\n", k, types[k].status,
      types[k].code, s[k] or 0, g[k] or 0))
  end
  for k, v in pairs(g) do
    if k:match("^unexpected ") then
      io.write(string.format("LOAD %s count %d\n", k:gsub(" ", "_", 1), v))
    end
  end
end

-- wrk script for the fault tests: POSTs one image ($FAULT_BODY, $FAULT_TYPE) to
-- /predict over and over and counts the responses by status; done() prints
-- "FAULT status CODE COUNT" lines and "FAULT socket_errors ..." for the scripts.
local f = assert(io.open(os.getenv("FAULT_BODY"), "rb"))
local body = f:read("*a")
f:close()
local ctype = os.getenv("FAULT_TYPE") or "image/png"
local req

statuses = {}

function init(args)
  req = wrk.format("POST", "/predict", {["Content-Type"] = ctype}, body)
end

function request()
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local total = {}
  for _, th in ipairs(threads) do
    for k, v in pairs(th:get("statuses") or {}) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do
    io.write(string.format("FAULT status %d %d\n", k, v))
  end
  local e = summary.errors
  io.write(string.format("FAULT socket_errors connect %d read %d write %d timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format("FAULT requests %d seconds %.1f\n", summary.requests, summary.duration / 1e6))
end

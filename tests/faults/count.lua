-- wrk script for the fault and load tests: POSTs one image ($FAULT_BODY, $FAULT_TYPE)
-- to /predict over and over and counts the responses by status; done() prints
-- "FAULT status CODE COUNT" lines, "FAULT socket_errors ...", "FAULT latency_ms ..." and
-- "FAULT bad_503 N": 503s that are not JSON or carry no Retry-After.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local threads = dofile(here .. "../wrk-threads.lua")
local f = assert(io.open(os.getenv("FAULT_BODY"), "rb"))
local body = f:read("*a")
f:close()
local ctype = os.getenv("FAULT_TYPE") or "image/png"
local req

statuses = {}
bad = {} -- bad[503]: 503s that are not JSON or carry no Retry-After

function init(args)
  req = wrk.format("POST", "/predict", {["Content-Type"] = ctype}, body)
end

function request()
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and not (headers["Retry-After"] and body and body:match("^%s*{")) then
    bad[503] = (bad[503] or 0) + 1
  end
end

setup = threads.setup

function done(summary, latency, requests)
  local total = threads.total("statuses")
  io.write(string.format("FAULT bad_503 %d\n", threads.total("bad")[503] or 0))
  io.write(string.format("FAULT latency_ms p50 %.1f p99 %.1f max %.1f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  for k, v in pairs(total) do
    io.write(string.format("FAULT status %d %d\n", k, v))
  end
  local e = summary.errors
  io.write(string.format("FAULT socket_errors connect %d read %d write %d timeout %d\n",
    e.connect, e.read, e.write, e.timeout))
  io.write(string.format("FAULT requests %d seconds %.1f\n", summary.requests, summary.duration / 1e6))
end

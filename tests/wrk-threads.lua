-- For the wrk scripts of the tests (tests/faults/count.lua, tests/load/predict.lua):
-- wrk runs each thread in a Lua state of its own, so a script counts into global
-- tables there and adds them up in done(), which runs in the main state. Load it with
--   local threads = dofile(<this file>)
-- then `setup = threads.setup`, and in done() threads.total("NAME") is the sum over
-- the threads of their global table NAME (key by key).
local threads = {}
local M = {}

function M.setup(thread)
  threads[#threads + 1] = thread
end

function M.total(name)
  local sum = {}
  for _, th in ipairs(threads) do
    for k, v in pairs(th:get(name) or {}) do sum[k] = (sum[k] or 0) + v end
  end
  return sum
end

return M

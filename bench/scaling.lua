--- scaling.lua: swrauth.derive and swrauth.parse("image") over many calls
-- (default 10^6 each, in 10 blocks): CPU time per block (os.clock) and
-- memory after each block (Lua heap after a full collection, and the
-- process's resident size from /proc/self/statm). Linear time shows as
-- equal blocks; no leak as flat memory. Prints Markdown.
--
--   lua5.4 bench/scaling.lua [CALLS]
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.cpath = here .. "/../?.so;" .. package.cpath
local swrauth = require "swrauth"

local calls = math.tointeger(tonumber(arg[1] or "1000000")) or 1000000
local blocks = 10
local per = calls // blocks

local page_kb = 4
local function rss_kb()
  local f = io.open("/proc/self/statm", "r")
  if not f then return 0 end
  local _, res = f:read("n", "n")
  f:close()
  return (res or 0) * page_kb
end

local function heap_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

local ak, sk = "RVHVMXEXAMPLEAK00001", "exampleSecretAccessKey0123456789abcdefgh"
local image = "swr.cn-north-4.myhuaweicloud.com/team/app:1.4.2"
local derive, parse = swrauth.derive, swrauth.parse

local ops = {
  {"`derive(ak, sk)`", function(n)
    local k
    for _ = 1, n do k = derive(ak, sk) end
    return k
  end},
  {"`parse(\"image\", ref)`", function(n)
    local t
    for _ = 1, n do t = parse("image", image) end
    return t
  end},
}

local function fmt_list(t, f)
  local s = {}
  for i, v in ipairs(t) do s[i] = f:format(v) end
  return table.concat(s, " ")
end

print(("| %d calls | total | per call | block time (ms, %d blocks of %d) | last/first block "
  .. "| Lua heap before → after | RSS after block 1 → after block %d |"):format(
  calls, blocks, per, blocks))
print("|---|--:|--:|---|--:|--:|--:|")
for _, op in ipairs(ops) do
  local name, run = op[1], op[2]
  run(1000) -- warm up: the first calls allocate what later ones reuse
  local heap0 = heap_kb()
  local times, rss = {}, {}
  local total = 0
  for b = 1, blocks do
    local t0 = os.clock()
    run(per)
    local dt = os.clock() - t0
    total = total + dt
    times[b] = dt * 1000
    heap_kb()
    rss[b] = rss_kb()
  end
  local heap1 = heap_kb()
  print(("| %s | %.2f s | %.2f µs | %s | %.2f | %.0f → %.0f kB | %d → %d kB |"):format(
    name, total, total / (per * blocks) * 1e6, fmt_list(times, "%.0f"),
    times[blocks] / times[1], heap0, heap1, rss[1], rss[blocks]))
end

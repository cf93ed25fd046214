--- hwm.lua: run first by lua5.4 through LUA_INIT_5_4="@bench/hwm.lua";
-- writes the process's peak resident size (VmHWM, kB) to the file named by
-- SWRAUTH_BENCH_HWM when the script calls os.exit (bin/swrauth always
-- does).
local path = os.getenv("SWRAUTH_BENCH_HWM")
if not path then return end

local function record()
  local f = io.open("/proc/self/status", "r")
  if not f then return end
  local status = f:read("a")
  f:close()
  local kb = status:match("VmHWM:%s*(%d+)")
  local out = kb and io.open(path, "w")
  if out then
    out:write(kb, "\n")
    out:close()
  end
end

local exit = os.exit
os.exit = function(...) -- luacheck: ignore 122
  record()
  return exit(...)
end

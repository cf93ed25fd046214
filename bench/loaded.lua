--- loaded.lua: run first by lua5.4 through LUA_INIT_5_4="@bench/loaded.lua";
-- records the modules the script loads with `require`, in the order
-- their loading finished (a module's own requires come before it), and
-- writes them, one a line, to the file named by SWRAUTH_BENCH_LOADED
-- when the script calls os.exit (both commands always do). bench/run.sh
-- then counts the instructions of loading them one by one.
local path = os.getenv("SWRAUTH_BENCH_LOADED")
if not path then return end

local order, seen = {}, {}
for name in pairs(package.loaded) do seen[name] = true end

local plain = require
require = function(name) -- luacheck: ignore 121
  local m, extra = plain(name)
  if not seen[name] then
    seen[name] = true
    order[#order + 1] = name
  end
  return m, extra
end

local exit = os.exit
os.exit = function(...) -- luacheck: ignore 122
  local f = io.open(path, "w")
  if f then
    for _, name in ipairs(order) do f:write(name, "\n") end
    f:close()
  end
  return exit(...)
end

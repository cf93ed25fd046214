--- derive_loop.lua: N calls of one derive implementation in a Lua loop,
-- for callgrind (bench/run.sh counts instructions at two N and divides the
-- difference by the difference of N, so loading and start-up cancel out).
--
--   lua5.4 bench/derive_loop.lua swrauth|luaossl|pure|call N
--
-- `call` is the loop with a call of a C function that does nothing useful
-- (rawequal: two arguments, one result), the cost of the call itself.
-- Prints the last result. AK and SK come from BENCH_AK and BENCH_SK.
local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
package.path = here .. "/?.lua;" .. here .. "/../lua/?.lua;" .. package.path
package.cpath = here .. "/../?.so;" .. package.cpath

local variants = {
  swrauth = function() return require("swrauth").derive end,
  luaossl = function() return require("hmac_luaossl").derive end,
  pure = function() return require("hmac_pure").derive end,
  call = function() return rawequal end,
}
local which, n = arg[1], math.tointeger(tonumber(arg[2]))
local make = variants[which]
if not make or not n then
  io.stderr:write("usage: derive_loop.lua swrauth|luaossl|pure|call N\n")
  os.exit(2)
end
local f = make()
local ak = os.getenv("BENCH_AK") or "RVHVMXEXAMPLEAK00001"
local sk = os.getenv("BENCH_SK") or "exampleSecretAccessKey0123456789abcdefgh"
local k
for _ = 1, n do k = f(ak, sk) end
io.write(tostring(k), "\n")

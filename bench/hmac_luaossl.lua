--- hmac_luaossl.lua: the SWR login key with luaossl (Debian package
-- lua-luaossl): its HMAC, then hex in Lua, a new HMAC context per call
-- since the key (the SK) is per call.
--
-- @module hmac_luaossl
local hmac = require "openssl.hmac"

local HEX = ("%02x"):rep(32)
local byte = string.byte

local M = {}

--- The login key: lowercase hex HMAC-SHA256, key = SK, message = AK.
function M.derive(ak, sk)
  return HEX:format(byte(hmac.new(sk, "sha256"):final(ak), 1, 32))
end

return M

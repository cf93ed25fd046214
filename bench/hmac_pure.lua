--- hmac_pure.lua: HMAC-SHA256 and the SWR login key in plain Lua 5.4
-- (64-bit integers and bitwise operators), the reference for what the C
-- module saves. FIPS 180-4 and RFC 2104; checked by bench/run.sh against
-- swrauth.derive and the vendor's openssl pipeline. Not for production.
--
-- @module hmac_pure
local M = {}

local byte, char, rep, pack, unpack = string.byte, string.char, string.rep,
  string.pack, string.unpack

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local M32 = 0xffffffff
local W = {}

-- One block compression: H (8 words) updated with the 64 bytes of s at i.
local function compress(H, s, i)
  for t = 1, 16 do
    W[t] = unpack(">I4", s, i + 4 * (t - 1))
  end
  for t = 17, 64 do
    local a, b = W[t - 15], W[t - 2]
    local s0 = ((a >> 7 | a << 25) ~ (a >> 18 | a << 14) ~ (a >> 3)) & M32
    local s1 = ((b >> 17 | b << 15) ~ (b >> 19 | b << 13) ~ (b >> 10)) & M32
    W[t] = (W[t - 16] + s0 + W[t - 7] + s1) & M32
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for t = 1, 64 do
    local S1 = ((e >> 6 | e << 26) ~ (e >> 11 | e << 21) ~ (e >> 25 | e << 7)) & M32
    local ch = (e & f) ~ (~e & g)
    local t1 = h + S1 + ch + K[t] + W[t]
    local S0 = ((a >> 2 | a << 30) ~ (a >> 13 | a << 19) ~ (a >> 22 | a << 10)) & M32
    local maj = (a & b) ~ (a & c) ~ (b & c)
    h, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + S0 + maj) & M32
  end
  H[1], H[2], H[3], H[4] = (H[1] + a) & M32, (H[2] + b) & M32, (H[3] + c) & M32, (H[4] + d) & M32
  H[5], H[6], H[7], H[8] = (H[5] + e) & M32, (H[6] + f) & M32, (H[7] + g) & M32, (H[8] + h) & M32
end

--- SHA-256 of a string, as 32 bytes.
function M.sha256(msg)
  local H = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
  local n = #msg
  local padded = msg .. "\128" .. rep("\0", (55 - n) % 64) .. pack(">I8", n * 8)
  for i = 1, #padded, 64 do compress(H, padded, i) end
  return pack(">I4I4I4I4I4I4I4I4", H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8])
end

local function xor_pad(key, v)
  local out = {}
  for i = 1, 64 do out[i] = char(byte(key, i) ~ v) end
  return table.concat(out)
end

--- HMAC-SHA256 of msg under key, as 32 bytes.
function M.hmac_sha256(key, msg)
  if #key > 64 then key = M.sha256(key) end
  key = key .. rep("\0", 64 - #key)
  return M.sha256(xor_pad(key, 0x5c) .. M.sha256(xor_pad(key, 0x36) .. msg))
end

local HEX = rep("%02x", 32)

--- The SWR login key: lowercase hex HMAC-SHA256, key = SK, message = AK.
function M.derive(ak, sk)
  return HEX:format(byte(M.hmac_sha256(sk, ak), 1, 32))
end

return M

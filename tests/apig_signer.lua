--- apig_signer.lua: Huawei API Gateway request signing (SDK-HMAC-SHA256) in
-- plain Lua 5.4, independent of swrauth.so: the canonical request, the
-- string to sign and the signature as Huawei's signers make them, on the
-- pure-Lua SHA-256 of bench/hmac_pure.lua. Used by the SWR mock
-- (tests/e2e/hwmock.lua) to verify requests and by the e2e suites to sign
-- them; it reproduces the published example of the API Request Signing
-- Guide (`lua5.4 tests/apig_signer.lua selftest`).
--
-- As a module: `local apig = dofile("tests/apig_signer.lua")` (or
-- require "tests.apig_signer" from the checkout's top directory).
--
-- As a command (secrets never on the command line):
--   lua5.4 tests/apig_signer.lua sign --url URL [--method POST]
--       --ak AK --sk-file FILE [--token-file FILE] [--date YYYYMMDDTHHMMSSZ]
--       [--offset SECONDS] [--header 'Name: value']... [--unsigned NAME]...
--       [--body-file FILE] [--content-type TYPE]
-- prints the request's headers, one "Name: value" a line, for
-- `curl -H @FILE`: Host, Content-Type, X-Sdk-Date, X-Security-Token (with
-- --token-file), the extra --header ones, and Authorization last. A header
-- named with --unsigned is sent but left out of SignedHeaders. --offset
-- shifts the signing time from now (-1200: twenty minutes ago).
local M = {}

local here = (debug.getinfo(1, "S").source:match("^@(.*)$") or "tests/apig_signer.lua")
local root = here:match("^(.*)/tests/apig_signer%.lua$") or "."
local pure = dofile(root .. "/bench/hmac_pure.lua")

M.ALGORITHM = "SDK-HMAC-SHA256"

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end
M.hex = hex

--- Hex SHA-256 of a string.
function M.sha256_hex(s) return hex(pure.sha256(s)) end

--- Hex HMAC-SHA256.
function M.hmac_hex(key, msg) return hex(pure.hmac_sha256(key, msg)) end

-- Byte order, whatever the locale.
local function bytes_lt(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
M.bytes_lt = bytes_lt

local function split(s, sep)
  local out, i = {}, 1
  while true do
    local j = s:find(sep, i, true)
    if not j then
      out[#out + 1] = s:sub(i)
      return out
    end
    out[#out + 1] = s:sub(i, j - 1)
    i = j + 1
  end
end

--- RFC 3986 escaping with upper-case %XX: everything but A-Z a-z 0-9 - _ . ~
function M.escape(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- %XX decoding (a '+' stays a '+').
function M.unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- The canonical URI: each segment decoded and re-encoded, a trailing '/'.
function M.uri(path)
  if path == nil or path == "" then path = "/" end
  local segs = split(path, "/")
  for i, seg in ipairs(segs) do segs[i] = M.escape(M.unescape(seg)) end
  local uri = table.concat(segs, "/")
  if uri:sub(-1) ~= "/" then uri = uri .. "/" end
  return uri
end

--- The canonical query string: pairs decoded, sorted by key then value,
-- re-encoded, "k=" for a key without a value, empty keys dropped.
function M.query(q)
  if q == nil or q == "" then return "" end
  local list = {}
  for _, piece in ipairs(split(q, "&")) do
    local k, v = piece, ""
    local eq = piece:find("=", 1, true)
    if eq then k, v = piece:sub(1, eq - 1), piece:sub(eq + 1) end
    if k ~= "" then list[#list + 1] = { M.unescape(k), M.unescape(v) } end
  end
  table.sort(list, function(a, b)
    if a[1] ~= b[1] then return bytes_lt(a[1], b[1]) end
    return bytes_lt(a[2], b[2])
  end)
  for i, p in ipairs(list) do list[i] = M.escape(p[1]) .. "=" .. M.escape(p[2]) end
  return table.concat(list, "&")
end

local function trim(v) return (v:gsub("^[ \t]+", ""):gsub("[ \t]+$", "")) end
M.trim = trim

--- The canonical request.
-- method; path and query as sent (raw, undecoded); headers: lower-case
-- name -> value; signed: the list of lower-case names to sign (sorted
-- here); body_hash: the hex SHA-256 of the body (X-Sdk-Content-Sha256's
-- value replaces it when that header is signed).
-- Returns the canonical request, or nil and a reason (a signed header
-- missing).
function M.canonical(method, path, query, headers, signed, body_hash)
  local names = {}
  for i, n in ipairs(signed) do names[i] = n:lower() end
  table.sort(names, bytes_lt)
  local lines = {}
  for i, n in ipairs(names) do
    local v = headers[n]
    if v == nil then return nil, "signed header '" .. n .. "' is not in the request" end
    lines[i] = n .. ":" .. trim(v) .. "\n"
  end
  local content = headers["x-sdk-content-sha256"]
  local hash = body_hash
  for _, n in ipairs(names) do
    if n == "x-sdk-content-sha256" and content then hash = trim(content) end
  end
  return table.concat({
    method, M.uri(path), M.query(query), table.concat(lines), table.concat(names, ";"), hash,
  }, "\n")
end

--- The string to sign for a canonical request and X-Sdk-Date.
function M.string_to_sign(cr, date)
  return M.ALGORITHM .. "\n" .. date .. "\n" .. M.sha256_hex(cr)
end

--- The hex signature.
function M.signature(sk, cr, date)
  return M.hmac_hex(sk, M.string_to_sign(cr, date))
end

--- Splits an absolute URL into host, path and query (raw).
function M.split_url(url)
  local host, path, rest = url:match("^[Hh][Tt][Tt][Pp][Ss]?://([^/?]*)([^?]*)(.*)$")
  if not host then return nil end
  return host, path, rest ~= "" and rest:sub(2) or nil
end

--- Signs r = {ak, sk, method, url, headers = {Name = value}, body,
-- unsigned = {lower-case names}}: every header in r.headers is signed
-- but those listed in r.unsigned. Returns the Authorization value and the
-- parts {canonical_request, string_to_sign, signed_headers, signature}.
function M.sign(r)
  local _, path, query = M.split_url(r.url)
  local headers, signed, skip = {}, {}, {}
  for _, n in ipairs(r.unsigned or {}) do skip[n:lower()] = true end
  for name, value in pairs(r.headers) do
    local l = name:lower()
    headers[l] = value
    if not skip[l] then signed[#signed + 1] = l end
  end
  table.sort(signed, bytes_lt)
  local date = headers["x-sdk-date"] and trim(headers["x-sdk-date"]) or ""
  local cr = assert(M.canonical(r.method, path, query, headers, signed, M.sha256_hex(r.body or "")))
  local sig = M.signature(r.sk, cr, date)
  local sh = table.concat(signed, ";")
  return ("%s Access=%s, SignedHeaders=%s, Signature=%s"):format(M.ALGORITHM, r.ak, sh, sig),
    { canonical_request = cr, string_to_sign = M.string_to_sign(cr, date), signed_headers = sh,
      signature = sig }
end

--- Parses an Authorization value: access, signed header list, signature;
-- or nil and a reason (SignedHeaders must be in canonical form: lower
-- case, sorted, each once; the signature 64 lowercase hex).
function M.parse_authorization(v)
  if not v then return nil, "no Authorization header" end
  local alg, rest = v:match("^%s*(%S+)%s+(.-)%s*$")
  if not alg then return nil, "Authorization is not 'ALGORITHM Access=..., SignedHeaders=..., Signature=...'" end
  if alg ~= M.ALGORITHM then return nil, "algorithm '" .. alg .. "' is not " .. M.ALGORITHM end
  local f = {}
  for _, part in ipairs(split(rest, ",")) do
    local k, val = part:match("^%s*(%a+)=(%S*)%s*$")
    if not k or f[k] then return nil, "Authorization has a garbled or repeated part" end
    f[k] = val
  end
  if not (f.Access and f.SignedHeaders and f.Signature) then
    return nil, "Authorization lacks Access, SignedHeaders or Signature"
  end
  if f.Access == "" or f.SignedHeaders == "" or not f.Signature:match("^[0-9a-f]+$") or #f.Signature ~= 64 then
    return nil, "Authorization has an empty Access or SignedHeaders, or a Signature that is not 64 lowercase hex"
  end
  local names = split(f.SignedHeaders, ";")
  for i, n in ipairs(names) do
    if n == "" or n ~= n:lower() or (i > 1 and not bytes_lt(names[i - 1], n)) then
      return nil, "SignedHeaders is not lower-case names, sorted, each once"
    end
  end
  return f.Access, names, f.Signature
end

--- YYYYMMDDTHHMMSSZ -> Unix time (UTC), or nil.
function M.parse_date(s)
  local y, mo, d, h, mi, se = (s or ""):match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then return nil end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  -- Days from the civil date (Howard Hinnant's algorithm), no time zone.
  local yy = mo <= 2 and y - 1 or y
  local era = yy // 400
  local yoe = yy - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + se
end

--- Unix time -> YYYYMMDDTHHMMSSZ.
function M.format_date(t)
  return os.date("!%Y%m%dT%H%M%SZ", math.floor(t))
end

-- ------------------------------------------------------------------ command

local function readfile(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function main(cmd, ...)
  local args = table.pack(...)
  if cmd == "selftest" then
    -- The API Request Signing Guide's example.
    local auth = M.sign { ak = "QTWAOYTTINDUT2QVKYUC", sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
      method = "GET", url = "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
        .. "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
      headers = { ["Content-Type"] = "application/json", Host = "service.region.example.com",
        ["X-Sdk-Date"] = "20191115T033655Z" } }
    print(auth)
    return auth:match("Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe$") and 0 or 1
  end
  if cmd ~= "sign" then
    io.stderr:write("usage: apig_signer.lua sign --url URL --ak AK --sk-file FILE [...] | selftest\n")
    return 2
  end
  local o = { method = "POST", header = {}, unsigned = {}, content_type = "application/json" }
  local i = 1
  while i <= args.n do
    local k = args[i]:match("^%-%-([%w-]+)$")
    local v = args[i + 1]
    if not k or v == nil then
      io.stderr:write("apig_signer: bad argument '", tostring(args[i]), "'\n")
      return 2
    end
    k = k:gsub("-", "_")
    if k == "header" or k == "unsigned" then table.insert(o[k], v) else o[k] = v end
    i = i + 2
  end
  if not (o.url and o.ak and o.sk_file) then
    io.stderr:write("apig_signer: --url, --ak and --sk-file are required\n")
    return 2
  end
  local host = M.split_url(o.url)
  if not host then
    io.stderr:write("apig_signer: --url is not an http(s) URL\n")
    return 2
  end
  local sk = readfile(o.sk_file):gsub("%s+$", "")
  local order, headers = {}, {}
  local function add(name, value)
    order[#order + 1] = name
    headers[name] = value
  end
  add("Host", host)
  if o.content_type ~= "" then add("Content-Type", o.content_type) end
  local date = o.date or M.format_date(os.time() + (tonumber(o.offset) or 0))
  add("X-Sdk-Date", date)
  if o.token_file then add("X-Security-Token", (readfile(o.token_file):gsub("%s+$", ""))) end
  for _, h in ipairs(o.header) do
    local n, v = h:match("^([^:]+):%s*(.*)$")
    if n then add(n, v) end
  end
  local auth = M.sign { ak = o.ak, sk = sk, method = o.method, url = o.url, headers = headers,
    body = o.body_file and readfile(o.body_file) or "", unsigned = o.unsigned }
  for _, n in ipairs(order) do io.write(n, ": ", headers[n], "\n") end
  io.write("Authorization: ", auth, "\n")
  return 0
end

local first = ...
if first == "sign" or first == "selftest" then
  os.exit(main(...))
end

return M

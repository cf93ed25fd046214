-- luacheck: std +busted
-- Specs of swrauth.sign (Huawei APIG request signing, SDK-HMAC-SHA256 and
-- SDK-HMAC-SM3) through the Lua binding: the published example, the Go
-- SDK's vectors, and a few hundred random requests against a signer
-- in plain Lua (canonicalisation from tests/apig_signer.lua; SHA-256 and its
-- HMAC from bench/hmac_pure.lua, SM3 and HMAC-SM3 from `openssl dgst`
-- processes), then every misuse with its exact message.
local swrauth = require "swrauth"
local support = require "tests.spec.support"
local pure = dofile("bench/hmac_pure.lua")

local AK = "QTWAOYTTINDUT2QVKYUC"
local SK = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
local EX_URL = "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
  .. "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
local EX_HEADERS = {
  ["Content-Type"] = "application/json",
  Host = "service.region.example.com",
  ["X-Sdk-Date"] = "20191115T033655Z",
}

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- ------------------------------------------------------------------------
-- The reference signer: what Huawei's signers do, written from their
-- description, sharing nothing with src/sign.c.

local ref = {}

-- Escaping, the canonical URI and query, and byte order: those of the
-- tests' own signer (tests/apig_signer.lua, which the mock of the SWR API
-- verifies with too).
local apig = require "tests.apig_signer"
local bytes_lt = apig.bytes_lt
ref.escape, ref.unescape, ref.uri, ref.query = apig.escape, apig.unescape, apig.uri, apig.query

local function trim(v) return (v:gsub("^[ \t]+", ""):gsub("[ \t]+$", "")) end

-- The canonical request of r = {ak, sk, method, url, headers, body}, its
-- signed headers and X-Sdk-Date, given the hex hash of the body (used
-- unless the header named content, lower case, replaces it).
function ref.canonical(r, content, body_hash)
  local path, rest = r.url:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/?]*([^?]*)(.*)$")
  local query = rest ~= "" and rest:sub(2) or nil
  local names, values = {}, {}
  for name, value in pairs(r.headers) do
    local lname = name:lower()
    names[#names + 1] = lname
    values[lname] = trim(value)
  end
  table.sort(names, bytes_lt)
  local lines = {}
  for i, n in ipairs(names) do lines[i] = n .. ":" .. values[n] .. "\n" end
  local signed = table.concat(names, ";")
  local cr = table.concat({
    r.method, ref.uri(path), ref.query(query), table.concat(lines), signed,
    values[content] or body_hash,
  }, "\n")
  return cr, signed, values["x-sdk-date"]
end

-- The authorization and info sign returns, from the canonical request's
-- parts, its hash and the signature.
function ref.result(alg, r, cr, signed, date, cr_hash, sig)
  return ("%s Access=%s, SignedHeaders=%s, Signature=%s"):format(alg, r.ak, signed, sig),
    { canonical_request = cr, string_to_sign = alg .. "\n" .. date .. "\n" .. cr_hash,
      signed_headers = signed, signature = sig }
end

-- SDK-HMAC-SHA256, on the pure-Lua SHA-256.
function ref.sign_sha256(r)
  local cr, signed, date = ref.canonical(r, "x-sdk-content-sha256", hex(pure.sha256(r.body or "")))
  local cr_hash = hex(pure.sha256(cr))
  local sig = hex(pure.hmac_sha256(r.sk, "SDK-HMAC-SHA256\n" .. date .. "\n" .. cr_hash))
  return ref.result("SDK-HMAC-SHA256", r, cr, signed, date, cr_hash, sig)
end

-- SM3 by openssl: one process run per batch of inputs, returning hex
-- digests (or HMACs when a key is given) in order.
local function openssl_sm3(jobs)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -m 700 " .. dir))
  local list = {}
  for i, j in ipairs(jobs) do
    support.write(dir .. "/" .. i, j.data)
    list[i] = i .. " " .. (j.key and hex(j.key) or "-")
  end
  support.write(dir .. "/list", table.concat(list, "\n") .. "\n")
  local script = [[
while read -r f k; do
  if [ "$k" = - ]; then openssl dgst -sm3 -r "$1/$f"
  else openssl dgst -sm3 -mac HMAC -macopt "hexkey:$k" -r "$1/$f"; fi
done < "$1/list"
]]
  local p = assert(io.popen("sh -c '" .. script .. "' sh " .. dir))
  local out = {}
  for line in p:lines() do out[#out + 1] = line:match("^(%x+)") end
  p:close()
  os.execute("rm -rf " .. dir)
  assert.equal(#jobs, #out)
  return out
end

-- SDK-HMAC-SM3 for many requests: three rounds of openssl over all of
-- them (body hashes, canonical request hashes, HMACs).
function ref.sign_sm3_all(reqs)
  local jobs = {}
  for i, r in ipairs(reqs) do jobs[i] = { data = r.body or "" } end
  local body_hash = openssl_sm3(jobs)
  local parts = {}
  for i, r in ipairs(reqs) do
    parts[i] = { ref.canonical(r, "x-sdk-content-sm3", body_hash[i]) }
    jobs[i] = { data = parts[i][1] }
  end
  local cr_hash = openssl_sm3(jobs)
  for i, r in ipairs(reqs) do
    jobs[i] = { data = "SDK-HMAC-SM3\n" .. parts[i][3] .. "\n" .. cr_hash[i], key = r.sk }
  end
  local sig = openssl_sm3(jobs)
  local out = {}
  for i, r in ipairs(reqs) do
    local p = parts[i]
    out[i] = { ref.result("SDK-HMAC-SM3", r, p[1], p[2], p[3], cr_hash[i], sig[i]) }
  end
  return out
end

-- ------------------------------------------------------------------------
-- Random requests.

local function pick(t) return t[math.random(#t)] end

local function rand_bytes(n, lo, hi)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(lo or 0, hi or 255)) end
  return table.concat(t)
end

-- Pieces of paths and queries: unreserved, reserved and other characters
-- that may appear raw, %-escapes of any byte (%2F, %00, %25 among them),
-- UTF-8 raw and escaped.
local URL_PIECES = {
  "a", "Z", "09", "-", "_", ".", "~", "!", "$", "'", "(", ")", "*", "+", ",", ";",
  ":", "@", "=", "\"", "<", ">", "\\", "^", "`", "{", "|", "}", "[", "]",
  "%2F", "%2f", "%00", "%25", "%20", "%3D", "%26", "%7E", "%41",
  "caf\195\169", "\228\184\128", "%E4%B8%80", "\255",
}

local function rand_text(n, extra)
  local t = {}
  for i = 1, n do
    t[i] = math.random(4) == 1 and ("%%%02X"):format(math.random(0, 255)) or pick(URL_PIECES)
  end
  if extra then t[#t + 1] = extra end
  return table.concat(t)
end

local function rand_path()
  local segs = { "" }
  for i = 1, math.random(0, 4) do
    segs[#segs + 1] = math.random(6) == 1 and "" or rand_text(math.random(0, 4)):gsub("/", "")
    segs[i + 1] = segs[i + 1]:gsub("[?#&]", "")
  end
  local p = table.concat(segs, "/")
  if math.random(3) == 1 then p = p .. "/" end
  if p == "" and math.random(2) == 1 then p = "/" end
  return p
end

local function rand_query()
  local keys = { "limit", "marker", "a", "A", "k", "name", "", "x y" }
  local parts = {}
  for _ = 1, math.random(0, 7) do
    local r = math.random(8)
    local k = math.random(3) == 1 and rand_text(math.random(1, 3)) or pick(keys)
    k = k:gsub("[&=#]", "")
    local v = rand_text(math.random(0, 4), pick({ "", "+", "=", "a=b", "+=" }))
    v = v:gsub("[&#]", "")
    if r == 1 then parts[#parts + 1] = k               -- no '='
    elseif r == 2 then parts[#parts + 1] = k .. "="     -- empty value
    elseif r == 3 then parts[#parts + 1] = ""           -- "&&"
    else parts[#parts + 1] = k .. "=" .. v end
    if math.random(4) == 1 then parts[#parts + 1] = parts[#parts] end -- repeated
  end
  return (table.concat(parts, "&"):gsub(" ", "%%20"))
end

local TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

local function rand_case(s)
  return (s:gsub("%a", function(c) return math.random(2) == 1 and c:upper() or c:lower() end))
end

local function rand_headers(alg)
  local h, seen = {}, {}
  local function add(name, value)
    if not seen[name:lower()] then
      seen[name:lower()] = true
      h[name] = value
    end
  end
  add(rand_case("X-Sdk-Date"), pick({ "", " ", "\t" }) .. "20191115T033655Z" .. pick({ "", "  " }))
  if math.random(2) == 1 then add(rand_case("Host"), "service.region.example.com:443") end
  if math.random(6) == 1 then
    add(rand_case(alg == "SDK-HMAC-SM3" and "X-Sdk-Content-Sm3" or "X-Sdk-Content-Sha256"),
      " UNSIGNED-PAYLOAD ")
  end
  for _ = 1, math.random(0, 5) do
    local n = {}
    for i = 1, math.random(1, 12) do
      local j = math.random(#TCHARS)
      n[i] = TCHARS:sub(j, j)
    end
    local value = rand_bytes(math.random(0, 20), 0x20, 0x7e)
    if math.random(5) == 1 then value = value .. "caf\195\169 \128\255" end
    if math.random(3) == 1 then value = "  " .. value .. "\t " end
    add(table.concat(n), value)
  end
  return h
end

local METHODS = { "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "X-CUSTOM" }

local function rand_request(alg)
  local url = pick({ "https", "http", "HTTPS" }) .. "://" ..
    pick({ "service.region.example.com", "h", "10.0.0.1:8443", "[::1]", "a-b.example:1" }) ..
    rand_path()
  if math.random(4) ~= 1 then url = url .. "?" .. rand_query() end
  local r = {
    ak = AK, sk = math.random(8) == 1 and rand_bytes(math.random(65, 120), 0x21, 0x7e) or SK,
    method = pick(METHODS), url = url, headers = rand_headers(alg),
  }
  if math.random(4) ~= 1 then r.body = rand_bytes(math.random(0, 300)) end
  if alg then r.algorithm = alg end
  return r
end

-- A copy of r without the algorithm (the reference's argument).
local function plain(r)
  return { ak = r.ak, sk = r.sk, method = r.method, url = r.url, headers = r.headers, body = r.body }
end

-- ------------------------------------------------------------------------

describe("sign", function()
  it("gives the published example (API Request Signing Guide)", function()
    local auth, info = swrauth.sign { ak = AK, sk = SK, method = "GET", url = EX_URL, headers = EX_HEADERS }
    assert.equal("SDK-HMAC-SHA256\n20191115T033655Z\n"
      .. "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a", info.string_to_sign)
    assert.equal("7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe", info.signature)
    assert.equal("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, "
      .. "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe", auth)
    assert.equal("content-type;host;x-sdk-date", info.signed_headers)
    assert.equal(table.concat({
      "GET", "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/",
      "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
      "content-type:application/json", "host:service.region.example.com", "x-sdk-date:20191115T033655Z", "",
      "content-type;host;x-sdk-date", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }, "\n"), info.canonical_request)
  end)

  it("returns exactly the documented info fields", function()
    local _, info = swrauth.sign { ak = AK, sk = SK, method = "GET", url = EX_URL, headers = EX_HEADERS }
    local keys = {}
    for k, v in pairs(info) do
      keys[#keys + 1] = k
      assert.equal("string", type(v))
    end
    table.sort(keys)
    assert.same({ "canonical_request", "signature", "signed_headers", "string_to_sign" }, keys)
  end)

  it("gives the Huawei Go SDK's test vectors, SHA-256 and SM3", function()
    local get = { ak = "AccessKey", sk = "SecretKey", method = "GET",
      url = "https://example.huaweicloud.com/path?limit=1", headers = { ["X-Sdk-Date"] = "20060102T150405Z" } }
    local post = { ak = "AccessKey", sk = "SecretKey", method = "POST",
      url = "https://example.huaweicloud.com/path?key=value", headers = { ["X-Sdk-Date"] = "20060102T150405Z" },
      body = '{"Name":"test","Id":1}\n' }
    local function sig(r, alg)
      r.algorithm = alg
      local auth = swrauth.sign(r)
      return auth:match("Signature=(%x+)$")
    end
    assert.equal("5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624", sig(get))
    assert.equal("cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59", sig(post))
    assert.equal("acdeecf8061419275127135b54532c2c20b683bf9bbb8a32bee021a8c40befd4", sig(get, "SDK-HMAC-SM3"))
    assert.equal("359e49285fe5a469f82b86fd761b1a4a7ee16e3181de7d643c53a30667cde508", sig(post, "SDK-HMAC-SM3"))
    assert.matches("^SDK%-HMAC%-SM3 Access=AccessKey, SignedHeaders=x%-sdk%-date, Signature=",
      (swrauth.sign(get)))
  end)

  it("agrees with the reference signer on the published example", function()
    -- The reference itself is right: it reproduces the published vector.
    local auth, info = ref.sign_sha256({ ak = AK, sk = SK, method = "GET", url = EX_URL, headers = EX_HEADERS })
    assert.equal("7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe", info.signature)
    assert.equal(auth, (swrauth.sign { ak = AK, sk = SK, method = "GET", url = EX_URL, headers = EX_HEADERS }))
  end)

  local seed = 20191115
  it("agrees with the reference signer on 300 random SDK-HMAC-SHA256 requests (seed " .. seed .. ")", function()
    math.randomseed(seed)
    for i = 1, 300 do
      local r = rand_request(i % 2 == 0 and "SDK-HMAC-SHA256" or nil)
      local auth, info = swrauth.sign(r)
      local want_auth, want = ref.sign_sha256(plain(r))
      assert.same(want, info, "request " .. i .. ": " .. r.url)
      assert.equal(want_auth, auth)
    end
  end)

  it("agrees with the reference signer (openssl's SM3) on 60 random SDK-HMAC-SM3 requests", function()
    math.randomseed(seed + 1)
    local reqs = {}
    for i = 1, 60 do reqs[i] = rand_request("SDK-HMAC-SM3") end
    local want = ref.sign_sm3_all(reqs)
    for i, r in ipairs(reqs) do
      local auth, info = swrauth.sign(r)
      assert.same(want[i][2], info, "request " .. i .. ": " .. r.url)
      assert.equal(want[i][1], auth)
    end
  end)

  describe("canonicalises", function()
    local function lines(url, headers, body)
      local _, info = swrauth.sign { ak = AK, sk = SK, method = "GET", url = url,
        headers = headers or { ["X-Sdk-Date"] = "20191115T033655Z" }, body = body }
      local t = {}
      for l in (info.canonical_request .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
      return t, info
    end
    it("the root path, a missing path and a path ending in /", function()
      assert.equal("/", lines("https://h")[2])
      assert.equal("/", lines("https://h/")[2])
      assert.equal("/a/b/", lines("https://h/a/b/")[2])
      assert.equal("/a/b/", lines("https://h/a/b")[2])
    end)
    it("%2F inside a segment stays there", function()
      assert.equal("/a%2Fb/c/", lines("https://h/a%2fb/c")[2])
    end)
    it("no query, ?a, ?a=, empty pairs", function()
      assert.equal("", lines("https://h/p")[3])
      assert.equal("a=", lines("https://h/p?a")[3])
      assert.equal("a=", lines("https://h/p?a=")[3])
      assert.equal("a=1", lines("https://h/p?&&a=1&=x&")[3])
    end)
    it("repeated keys by value, + and = in values", function()
      assert.equal("a=%2B&a=1&a=x%3Dy&b=", lines("https://h/p?b&a=x=y&a=1&a=+")[3])
    end)
    it("UNSIGNED-PAYLOAD in X-Sdk-Content-Sha256 instead of the body's hash", function()
      local t = lines("https://h/", { ["X-Sdk-Date"] = "20191115T033655Z",
        ["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD" }, "body")
      assert.equal("UNSIGNED-PAYLOAD", t[#t])
      assert.equal("x-sdk-content-sha256;x-sdk-date", t[#t - 1])
    end)
    it("a body with NUL bytes", function()
      local t = lines("https://h/", nil, "a\0b")
      assert.equal(hex(pure.sha256("a\0b")), t[#t])
    end)
  end)

  describe("refuses misuse", function()
    local function base(over)
      local r = { ak = AK, sk = SK, method = "GET", url = "https://h/p",
        headers = { ["X-Sdk-Date"] = "20191115T033655Z", Host = "h" } }
      for k, v in pairs(over or {}) do r[k] = v end
      return r
    end
    local function refused(r, msg)
      local ok, err = pcall(swrauth.sign, r)
      assert.is_false(ok)
      assert.equal("bad argument #1 to 'sign' (" .. msg .. ")", err)
      assert.falsy(err:find(SK, 1, true), "the SK is in the message")
    end

    it("wrong types and fields", function()
      local ok, err = pcall(swrauth.sign)
      assert.is_false(ok)
      assert.equal("bad argument #1 to 'sign' (table expected, got no value)", err)
      refused("x", "table expected, got string")
      refused(base { foo = "x" }, "unknown field 'foo'")
      refused(base { [1] = "x" }, "field names must be strings, got number")
      refused(base { ak = 1 }, "field 'ak' must be a string, got number")
      refused(base { sk = true }, "field 'sk' must be a string, got boolean")
      refused(base { body = {} }, "field 'body' must be a string, got table")
      refused(base { headers = "X-Sdk-Date: 20191115T033655Z" }, "field 'headers' must be a table, got string")
      refused(base { algorithm = "SDK-HMAC-MD5" },
        "field 'algorithm' must be 'SDK-HMAC-SHA256' or 'SDK-HMAC-SM3', got 'SDK-HMAC-MD5'")
      local r = base()
      r.url = nil
      refused(r, "field 'url' is missing")
      r = base()
      r.headers = nil
      refused(r, "field 'headers' is missing")
      refused(base { headers = { "x" } }, "header names must be strings, got number")
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["Content-Length"] = 3 } },
        "header 'Content-Length' must have a string value, got number")
    end)

    it("empty or bad AK and SK, without quoting the SK", function()
      refused(base { ak = "" }, "ak is empty")
      refused(base { sk = "" }, "sk is empty")
      refused(base { sk = SK .. "\n" }, "sk has a newline at byte 41 (a pasted newline?)")
    end)

    it("a missing or malformed X-Sdk-Date", function()
      refused(base { headers = { Host = "h" } },
        "headers: X-Sdk-Date is missing (the signing time, YYYYMMDDTHHMMSSZ in UTC, is a signed header)")
      refused(base { headers = { ["x-sdk-date"] = "Fri, 15 Nov 2019 03:36:55 GMT" } },
        "header 'X-Sdk-Date' is not a UTC time written YYYYMMDDTHHMMSSZ (as 20191115T033655Z)")
      refused(base { headers = { ["X-SDK-DATE"] = "20191315T033655Z" } },
        "header 'X-Sdk-Date' is not a real date and time (YYYYMMDDTHHMMSSZ, month 01-12, hour 00-23, ...)")
    end)

    it("bad header names and values, and one header twice", function()
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["X Y"] = "v" } },
        "header name 'X Y' is not a token (a space at byte 2)")
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["X:Y"] = "v" } },
        "header name 'X:Y' is not a token (':' at byte 2)")
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", [""] = "v" } }, "header name is empty")
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["X-A"] = "a\r\nX-Evil: 1" } },
        "header 'X-A' has a control character (a carriage return) in its value at byte 2")
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["X-A"] = "a\nb" } },
        "header 'X-A' has a control character (a newline) in its value at byte 2")
      refused(base { headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["X-A"] = "a\0b" } },
        "header 'X-A' has a control character (a NUL byte) in its value at byte 2")
      local ok, err = pcall(swrauth.sign, base { headers = { ["X-Sdk-Date"] = "20191115T033655Z",
        Host = "h", host = "h" } })
      assert.is_false(ok)
      assert.truthy(err == "bad argument #1 to 'sign' (headers 'Host' and 'host' are the same header "
        .. "(names differ only in case))" or err == "bad argument #1 to 'sign' (headers 'host' and "
        .. "'Host' are the same header (names differ only in case))", err)
    end)

    it("a URL that is not absolute http(s)://host[:port][/path][?query]", function()
      refused(base { url = "/v1/x" }, "url is not an absolute http:// or https:// URL")
      refused(base { url = "ftp://h/x" }, "url is not an absolute http:// or https:// URL")
      refused(base { url = "https:///x" }, "url has no host")
      refused(base { url = "https://user:" .. "pw@h/x" },
        "url has user information ('@' at byte 16); credentials do not go in the URL")
      refused(base { url = "https://h/x#top" },
        "url has a fragment ('#' at byte 12): a fragment is never sent, leave it out")
      refused(base { url = "https://h/a b" }, "url has whitespace (a space) at byte 12")
      refused(base { url = "https://h/a\r\n" }, "url has whitespace (a carriage return) at byte 12")
      refused(base { url = "https://h/a\0" }, "url has a control character (a NUL byte) at byte 12")
      refused(base { url = "https://h:99999/" },
        "url has a bad port (after ':' at byte 10: a number from 1 to 65535)")
      refused(base { url = "https://h/%zz" },
        "url has a bad %-escape at byte 11 ('%' must be followed by two hex digits)")
      refused(base { url = "https://h/?" .. ("a"):rep(65536) }, "url is too long (65547 bytes, at most 65536)")
    end)

    it("a method that is not an HTTP token", function()
      refused(base { method = "" }, "method is empty")
      refused(base { method = "GET /x HTTP/1.1\r\n" }, "method is not an HTTP token (a space at byte 4)")
      refused(base { method = "G(T" }, "method is not an HTTP token ('(' at byte 2)")
    end)
  end)

  it("signs a 64 KiB URL and 60 KiB of headers", function()
    local url = "https://h/?" .. ("%FF"):rep((65536 - 11) // 3)
    local _, info = swrauth.sign { ak = AK, sk = SK, method = "GET", url = url,
      headers = { ["X-Sdk-Date"] = "20191115T033655Z", ["X-Big"] = ("v"):rep(60000) } }
    assert.equal(3 * ((65536 - 11) // 3) + 1, #info.canonical_request:match("^GET\n/\n([^\n]*)"))
  end)
end)

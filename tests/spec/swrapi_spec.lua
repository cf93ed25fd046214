-- Specs of SWR's CreateSecret client (swrauth.swrapi) and of the logins
-- made from it (swrauth.logins): the request as signed, the answer's
-- forms, the errors, and the helper's cache, with a fake curl. The real
-- thing, against the mock API and a registry, is in tests/e2e/temporary.sh.
local swrauth = require "swrauth"
local swrapi = require "swrauth.swrapi"
local logins = require "swrauth.logins"
local credentials = require "swrauth.credentials"
local time = require "swrauth.time"
local support = require "tests.spec.support"
local fake_curl = require "tests.spec.fake_curl"
local apig = require "tests.apig_signer"

local AK = "AKEXAMPLE1234567890A"
local SK = "SKEXAMPLE0123456789012345678901234567890"
local TOKEN = "FAKE-SECURITY-TOKEN-123"
local NOW = time.parse("2026-12-04T12:00:00Z")
local EXPIRES = "2026-12-05T12:00:00.538787Z"
local USER, PASSWORD = "cn-north-4@TEMPUSER0123456789", "temporary-password-0123"
local REG = "swr.cn-north-4.myhuaweicloud.com"

local dir

-- The test's environment: no instance metadata, its directory as HOME.
local function env(t) return support.chain_env(t, dir) end

local function cred(token)
  return assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                                   HUAWEICLOUD_SDK_SECURITY_TOKEN = token}})
end

local function ok_answer(host)
  return {status = 200, headers = {["x-swr-expireat"] = EXPIRES},
          body = '{"auths": {"' .. (host or REG) .. '": {"auth": "'
            .. swrauth.base64(USER .. ":" .. PASSWORD) .. '"}}}'}
end

local function secret(fc, o)
  local t = {cred = cred(o and o.token), project = "cn-north-4", registry = REG, run = fc.run,
             curl = "/fake/curl", now = function() return NOW end, getenv = env(o and o.env or {})}
  for k, v in pairs(o or {}) do if k ~= "token" and k ~= "env" then t[k] = v end end
  return swrapi.create_secret(t)
end

before_each(function() dir = support.tempdir() end)
after_each(function() support.rm(dir) end)

describe("swrapi.create_secret", function()
  it("posts to the region's endpoint, signed as the gateway checks it", function()
    local fc = fake_curl.new(function() return ok_answer() end)
    local l = assert(secret(fc))
    assert.same({registry = REG, user = USER, password = PASSWORD, expires_at = "2026-12-05T12:00:00Z",
                 expires = time.parse(EXPIRES), endpoint = "https://swr-api.cn-north-4.myhuaweicloud.com"}, l)
    local r = fc.requests[1]
    assert.equal("POST", r.method)
    assert.equal("https://swr-api.cn-north-4.myhuaweicloud.com/v2/manage/utils/secret?projectname=cn-north-4", r.url)
    assert.equal("20261204T120000Z", r.headers["x-sdk-date"])
    assert.equal("application/json", r.headers["content-type"])
    assert.is_nil(r.body)
    -- The independent signer, over the headers sent but Authorization.
    local signed = {}
    for _, h in ipairs(r.header_list) do
      if h[1] ~= "Authorization" then signed[h[1]] = h[2] end
    end
    assert.equal(apig.sign {ak = AK, sk = SK, method = "POST", url = r.url, headers = signed},
                 r.headers.authorization)
    assert.matches("SignedHeaders=content%-type;host;x%-sdk%-date,", r.headers.authorization)
  end)
  it("sends and signs the security token, and the duration asked for", function()
    local fc = fake_curl.new(function() return ok_answer() end)
    assert(secret(fc, {token = TOKEN, duration = 3600}))
    local r = fc.requests[1]
    assert.equal(TOKEN, r.headers["x-security-token"])
    assert.matches("SignedHeaders=content%-type;host;x%-sdk%-date;x%-security%-token,", r.headers.authorization)
    assert.matches("%?projectname=cn%-north%-4&duration_seconds=3600$", r.url)
  end)
  it("takes SWRAUTH_API_ENDPOINT, eu-west-101 on myhuaweicloud.eu, and refuses plain http elsewhere", function()
    assert.equal("https://swr-api.eu-west-101.myhuaweicloud.eu", swrapi.endpoint("eu-west-101_team", env {}))
    assert.equal("http://127.0.0.1:8080", swrapi.endpoint("cn-north-4",
      env {SWRAUTH_API_ENDPOINT = "http://127.0.0.1:8080/"}))
    local e, err = swrapi.endpoint("cn-north-4", env {SWRAUTH_API_ENDPOINT = "http://api.example.com"})
    assert.is_nil(e)
    assert.matches("^SWRAUTH_API_ENDPOINT 'http://api%.example%.com' is plain HTTP to api%.example%.com", err)
    assert.equal("http://api.example.com", swrapi.endpoint("cn-north-4",
      env {SWRAUTH_API_ENDPOINT = "http://api.example.com"}, true))
    local fc = fake_curl.new(function() return ok_answer() end)
    local l = assert(secret(fc, {env = {SWRAUTH_API_ENDPOINT = "http://127.0.0.1:8080"}}))
    assert.equal("127.0.0.1:8080", fc.requests[1].headers.host)
    assert.equal("http://127.0.0.1:8080", l.endpoint)
  end)
  it("takes the registry of the answer's auths", function()
    local fc = fake_curl.new(function() return ok_answer("swr.cn-north-4.myhuaweicloud.com") end)
    local l = assert(secret(fc, {registry = "127.0.0.1:5000"}))
    assert.equal("swr.cn-north-4.myhuaweicloud.com", l.registry)
  end)
  it("falls back on X-Swr-Dockerlogin for an answer without auths", function()
    local fc = fake_curl.new(function()
      return {status = 200, body = "{}", headers = {["x-swr-expireat"] = EXPIRES,
        ["x-swr-dockerlogin"] = "docker login -u " .. USER .. " -p " .. PASSWORD .. " " .. REG}}
    end)
    local l = assert(secret(fc))
    assert.equal(USER, l.user)
    assert.equal(PASSWORD, l.password)
  end)
  it("names what is wrong with an answer that is not a login", function()
    local cases = {
      {{status = 200, body = "{}"}, "it holds no 'auths'"},
      {{status = 200, body = "<html>"}, "it is not JSON %(<html>%)"},
      {{status = 200, body = '{"auths": {}}'}, "its 'auths' names no registry"},
      {{status = 200, body = '{"auths": {"r.io": {"auth": "bm9jb2xvbg=="}}}'},
       "its 'auths' entry for 'r%.io' holds no USER:PASSWORD"},
      {{status = 200, body = '{"auths": {"bad host!": {"auth": "' .. swrauth.base64("u:p") .. '"}}}'},
       "its registry 'bad host!'"},
    }
    for _, c in ipairs(cases) do
      local fc = fake_curl.new(function() return c[1] end)
      local l, err, again = secret(fc)
      assert.is_nil(l)
      assert.matches("the answer is not a login: " .. c[2], err)
      assert.is_false(again)
    end
    local fc = fake_curl.new(function()
      local a = ok_answer()
      a.headers["x-swr-expireat"] = "soon"
      return a
    end)
    local _, err = secret(fc)
    assert.matches("X%-Swr%-Expireat 'soon' is not an ISO%-8601 time", err)
    fc = fake_curl.new(function()
      local a = ok_answer()
      a.headers["x-swr-expireat"] = "2026-12-04T11:59:00Z"
      return a
    end)
    _, err = secret(fc)
    assert.matches("the login it gave expired at 2026%-12%-04T11:59:00Z, before this clock's "
      .. "2026%-12%-04T12:00:00Z: check the clock", err)
  end)
  it("shows the gateway's and SWR's error codes; a 401 is not tried again", function()
    local fc = fake_curl.new(function()
      return {status = 401, body = '{"error_code": "APIGW.0301", "error_msg": "Incorrect IAM '
        .. 'authentication information: verify aksk signature fail", "request_id": "x"}'}
    end)
    local l, err, again, kind = secret(fc)
    assert.is_nil(l)
    assert.matches("HTTP 401 APIGW%.0301: Incorrect IAM authentication information: verify aksk "
      .. "signature fail; not tried again", err)
    assert.is_false(again)
    assert.equal("auth", kind)
    fc = fake_curl.new(function()
      return {status = 400, body = '[{"errorCode": "SVCSTG.SWR.4001001", "errorMessage": "Invalid projectname"}]'}
    end)
    l, err, again = secret(fc)
    assert.is_nil(l)
    assert.matches("HTTP 400 SVCSTG%.SWR%.4001001: Invalid projectname$", err)
    assert.is_false(again)
  end)
  it("says to check the clock when the server's differs", function()
    local fc = fake_curl.new(function()
      return {status = 401, headers = {date = "Fri, 04 Dec 2026 12:20:00 GMT"},
              body = '{"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information"}'}
    end)
    local _, err, again = secret(fc)
    assert.matches("this clock and the server's differ by 1200 s: the signature holds the time, check the clock", err)
    assert.is_false(again)
  end)
  it("tries a 5xx, a 429 and a refused connection again", function()
    for _, a in ipairs {{status = 503, body = "busy"}, {status = 429, body = ""}, {exit = 7, status = 0}} do
      local fc = fake_curl.new(function() return a end)
      local l, _, again, kind = secret(fc)
      assert.is_nil(l)
      assert.is_true(again)
      assert.equal("api", kind)
    end
  end)
  it("escapes the server's text", function()
    local fc = fake_curl.new(function()
      return {status = 500, body = '{"error_code": "X\\u001b[31m", "error_msg": "a\\r\\nforged line"}'}
    end)
    local _, err = secret(fc)
    assert.falsy(err:find("[\r\n\27]"))
  end)
  it("needs an SK", function()
    local c = assert(credentials.resolve {getenv = env {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = ("a"):rep(64)}})
    local l, err, again, kind = swrapi.create_secret {cred = c, project = "cn-north-4"}
    assert.is_nil(l)
    assert.matches("hold a login key only", err)
    assert.is_false(again)
    assert.equal("usage", kind)
  end)
  it("checks a duration", function()
    assert.is_true(swrapi.check_duration(900))
    assert.is_true(swrapi.check_duration(86400))
    assert.equal("must be from 900 to 86400 seconds", select(2, swrapi.check_duration(899)))
    assert.equal("must be a whole number of seconds", select(2, swrapi.check_duration(1.5)))
  end)
end)

describe("logins.get", function()
  local function opts(fc, o)
    local t = {project = "cn-north-4", registry = REG, run = fc.run, curl = "/fake/curl",
               getenv = env {}, now = function() return NOW end,
               steps = require("swrauth.steps").new {run = fc.run, sleep = function() end}}
    for k, v in pairs(o or {}) do t[k] = v end
    return t
  end
  it("gives permanent credentials the long-term login, asking nothing", function()
    local fc = fake_curl.new(function() error("no request expected") end)
    local l = assert(logins.get(cred(), opts(fc)))
    assert.same({user = "cn-north-4@" .. AK, password = swrauth.derive(AK, SK), registry = REG,
                 temporary = false}, l)
  end)
  it("gives temporary credentials a temporary login", function()
    local fc = fake_curl.new(function() return ok_answer() end)
    local l = assert(logins.get(cred(TOKEN), opts(fc)))
    assert.is_true(l.temporary)
    assert.equal(PASSWORD, l.password)
    assert.equal(1, #fc.requests)
  end)
  it("gives permanent ones a temporary login when asked", function()
    local fc = fake_curl.new(function() return ok_answer() end)
    assert.is_true(assert(logins.get(cred(), opts(fc, {temporary = true}))).temporary)
    assert.is_true(assert(logins.get(cred(), opts(fc, {duration = 900}))).temporary)
  end)
  it("retries a 5xx through the steps, not a 401", function()
    local n = 0
    local fc = fake_curl.new(function()
      n = n + 1
      if n < 3 then return {status = 502, body = "bad gateway"} end
      return ok_answer()
    end)
    assert(logins.get(cred(TOKEN), opts(fc)))
    assert.equal(3, n)
    n = 0
    fc = fake_curl.new(function() n = n + 1; return {status = 401, body = "{}"} end)
    local l, err, kind = logins.get(cred(TOKEN), opts(fc))
    assert.is_nil(l)
    assert.equal(1, n)
    assert.equal("auth", kind)
    assert.matches("HTTP 401", err)
  end)

  describe("with the cache", function()
    it("keeps the login 0600 without the SK or token, and reuses it", function()
      local fc = fake_curl.new(function() return ok_answer() end)
      local l = assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      assert.is_nil(l.cached)
      local path = logins.cache_path(env {}, cred(TOKEN), "cn-north-4", REG)
      assert.equal(dir .. "/.cache/swrauth/" .. REG .. "@", path:sub(1, #dir + #REG + 17))
      assert.equal(tonumber("600", 8), require("swrauth.fs").mode(path))
      assert.equal(tonumber("700", 8), require("swrauth.fs").mode(dir .. "/.cache/swrauth"))
      local content = support.read(path)
      assert.falsy(content:find(SK, 1, true))
      assert.falsy(content:find(TOKEN, 1, true))
      local again = assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      assert.is_true(again.cached)
      assert.equal(PASSWORD, again.password)
      assert.equal(1, #fc.requests)
      assert.equal(USER, logins.cached_user(env {}, cred(TOKEN), "cn-north-4", REG))
    end)
    it("asks again within ten minutes of the expiry", function()
      local fc = fake_curl.new(function() return ok_answer() end)
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      local late = time.parse(EXPIRES) - 599
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true, now = function() return late end})))
      assert.equal(2, #fc.requests)
      local early = time.parse(EXPIRES) - 601
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true, now = function() return early end})))
      assert.equal(2, #fc.requests)
    end)
    it("keeps logins apart by AK, project and registry, and ignores a file others can read", function()
      local fc = fake_curl.new(function() return ok_answer() end)
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true, project = "cn-north-4_team"})))
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true, registry = "127.0.0.1:5000"})))
      assert.equal(3, #fc.requests)
      local path = logins.cache_path(env {}, cred(TOKEN), "cn-north-4", REG)
      require("luv").fs_chmod(path, tonumber("644", 8))
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      assert.equal(4, #fc.requests)
      assert.equal(tonumber("600", 8), require("swrauth.fs").mode(path))
    end)
    it("forgets a registry's logins", function()
      local fc = fake_curl.new(function() return ok_answer() end)
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true, registry = "127.0.0.1:5000"})))
      assert.equal(1, logins.forget(env {}, REG))
      assert.equal(0, logins.forget(env {}, REG))
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true})))
      assert.equal(3, #fc.requests)
      assert(logins.get(cred(TOKEN), opts(fc, {cache = true, registry = "127.0.0.1:5000"})))
      assert.equal(3, #fc.requests)
    end)
  end)
end)

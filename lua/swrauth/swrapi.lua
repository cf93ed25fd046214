--- SWR's API: CreateSecret, the temporary login.
--
-- `POST https://swr-api.REGION.DOMAIN/v2/manage/utils/secret?projectname=P`
-- (`&duration_seconds=N` when a validity is asked for), no body, signed
-- (`swrauth.sign`, through the credentials' `sign`) with `Content-Type`,
-- `Host` and `X-Sdk-Date` (and `X-Security-Token` for temporary
-- credentials). The answer is `{"auths": {HOST: {"auth":
-- base64(USER:PASSWORD)}}}`, the header `X-Swr-Expireat` its expiry
-- (ISO-8601 UTC); the header `X-Swr-Dockerlogin` (`docker login -u USER -p
-- PASSWORD HOST`) stands in for an answer without `auths`.
--
-- `SWRAUTH_API_ENDPOINT` overrides the endpoint (`http(s)://HOST[:PORT]`);
-- plain http only to a loopback or link-local host, or with `insecure`
-- (`transport.check_url`). Errors name the API's code: the gateway's
-- `{"error_code":, "error_msg":}`, SWR's `{"errorCode":, "errorMessage":}`
-- (or a list of them). A 401 or 403 is never worth another attempt (five
-- failed signatures lock the AK for five minutes); a 429 or 5xx, or a
-- connection that failed, is. A signature refused while the server's clock
-- and ours differ by minutes says to check the clock.
--
-- @module swrauth.swrapi
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local text = require "swrauth.text"
local time = require "swrauth.time"
local transport = require "swrauth.transport"

local type, ipairs, pairs, tostring, sort = type, ipairs, pairs, tostring, table.sort

M.PATH = "/v2/manage/utils/secret"
--- Bytes an answer may have.
M.MAX_BODY = 64 * 1024
--- Seconds a request may take.
M.TIMEOUT = 30
--- Seconds between the server's clock and ours that make a refused
-- signature a clock problem (the gateway allows 15 minutes).
M.SKEW = 5 * 60
--- The validity a user may ask for, in seconds (SWR's bounds: 15 minutes to 24 hours).
M.MIN_DURATION, M.MAX_DURATION = 15 * 60, 24 * 3600

--- The endpoint of `project`'s region: `SWRAUTH_API_ENDPOINT`, else
-- `https://swr-api.REGION.DOMAIN`.
-- @treturn string|nil
-- @treturn[2] string what is wrong
function M.endpoint(project, getenv, insecure)
  local e = getenv("SWRAUTH_API_ENDPOINT")
  if e and e ~= "" then
    e = e:gsub("/+$", "")
    local ok, why = transport.check_url(e, insecure)
    if not ok then return nil, "SWRAUTH_API_ENDPOINT " .. text.quote(e, 200) .. " " .. why end
    return e
  end
  local host, err = swrauth.format("api", {project = project})
  if not host then return nil, err end
  return "https://" .. host
end

--- Checks a validity asked for.
-- @treturn true|nil
-- @treturn[2] string what is wrong
function M.check_duration(n)
  if math.type(n) ~= "integer" then return nil, "must be a whole number of seconds" end
  if n < M.MIN_DURATION or n > M.MAX_DURATION then
    return nil, ("must be from %d to %d seconds"):format(M.MIN_DURATION, M.MAX_DURATION)
  end
  return true
end

-- The API's code and message in an error body, or nil.
local function api_error(body)
  local doc = json.parse(body or "")
  if type(doc) ~= "table" then return nil end
  if type(doc[1]) == "table" then doc = doc[1] end
  local code = doc.error_code or doc.errorCode or doc.code
  local msg = doc.error_msg or doc.errorMessage or doc.message
  if type(code) ~= "string" and type(code) ~= "number" then code = nil end
  if type(msg) ~= "string" then msg = nil end
  if not code and not msg then return nil end
  return code and tostring(code), msg
end

-- Why a request failed, and whether another attempt is worth it.
local function failure(what, a, now)
  local code, msg = api_error(a.body)
  local s = what .. ": HTTP " .. a.status
  if code then s = s .. " " .. text.one_line(code, 40) end
  s = s .. ": " .. text.one_line(msg or a.body, 300)
  if a.status == 401 or a.status == 403 then
    local server = time.parse_http(a.headers.date)
    local lower = (msg or ""):lower()
    if (server and math.abs(server - now) > M.SKEW) or lower:find("x%-sdk%-date")
        or lower:find("expired") or lower:find("clock") or lower:find("time skew") then
      s = s .. "; this clock and the server's differ"
      if server then s = s .. (" by %d s"):format(math.floor(math.abs(server - now))) end
      s = s .. ": the signature holds the time, check the clock (NTP)"
    else
      s = s .. "; not tried again: repeated failed signatures lock the AK for five minutes"
    end
    return s, false, "auth"
  end
  return s, a.status == 429 or a.status >= 500, "api"
end

-- USER:PASSWORD of an `auth` value; nil when it is not one.
local function decode_auth(auth)
  if type(auth) ~= "string" then return nil end
  local plain = swrauth.unbase64(auth)
  if not plain then return nil end
  local user, password = plain:match("^([^:]+):(.+)$")
  if not user or user:find("[%c\127%s]") or password:find("[%c\127]") then return nil end
  return user, password
end

-- The login in an answer: registry, user and password; nil and a message.
local function login_of(a, registry)
  local doc = json.parse(a.body)
  local host, user, password
  if type(doc) == "table" and type(doc.auths) == "table" then
    local hosts = {}
    for h in pairs(doc.auths) do
      if type(h) == "string" then hosts[#hosts + 1] = h end
    end
    sort(hosts)
    host = hosts[1]
    for _, h in ipairs(hosts) do
      if h == registry then host = h end
    end
    if not host then return nil, "its 'auths' names no registry" end
    local entry = doc.auths[host]
    user, password = decode_auth(type(entry) == "table" and entry.auth)
    if not user then return nil, "its 'auths' entry for " .. text.quote(host, 100) .. " holds no USER:PASSWORD" end
  else
    local line = a.headers["x-swr-dockerlogin"]
    if not line then
      return nil, type(doc) == "table" and "it holds no 'auths'" or "it is not JSON ("
        .. text.one_line(a.body, 100) .. ")"
    end
    user, password, host = line:match("^docker login %-u (%S+) %-p (%S+) (%S+)%s*$")
    if not user then return nil, "it holds no 'auths', and its X-Swr-Dockerlogin is not a docker login" end
  end
  host = host:gsub("^https?://", ""):gsub("/+$", "")
  local ok, why = swrauth.check("registry", host)
  if not ok then return nil, "its registry " .. text.quote(host, 100) .. " " .. why end
  return {registry = host, user = user, password = password}
end

--- One CreateSecret request.
-- @tparam table o `cred` (credentials with `sign`), `project`,
--   `duration` (seconds, optional), `registry` (the host expected, to
--   choose among several), `getenv`, `run`, `curl`, `insecure`,
--   `cert_dir`, `now` (a function, default `time.now`)
-- @treturn table `{registry=, user=, password=, expires_at= (ISO-8601),
--   expires= (Unix seconds), endpoint=}`
-- @treturn[2] nil
-- @treturn[2] string what went wrong
-- @treturn[2] boolean whether another attempt is worth it
-- @treturn[2] string the kind: "usage", "auth", "api"
function M.create_secret(o)
  if not o.cred.sign then
    return nil, "a temporary login needs an SK (credentials from " .. o.cred.where
      .. " hold a login key only)", false, "usage"
  end
  local getenv = o.getenv or os.getenv
  local base, err = M.endpoint(o.project, getenv, o.insecure)
  if not base then return nil, err, false, "usage" end
  local host = base:match("^%a+://([^/]+)")
  local url = base .. M.PATH .. "?projectname=" .. o.project
  if o.duration then url = url .. "&duration_seconds=" .. o.duration end
  local now = (o.now or time.now)()
  local signed = {["Content-Type"] = "application/json", Host = host,
                  ["X-Sdk-Date"] = os.date("!%Y%m%dT%H%M%SZ", now)}
  local headers = o.cred.sign {method = "POST", url = url, headers = signed}
  local what = "SWR API " .. base .. " (CreateSecret, project " .. o.project .. ")"
  local t = transport.new {run = o.run, curl = o.curl, insecure = o.insecure, cert_dir = o.cert_dir,
                           timeout = M.TIMEOUT, max_body = M.MAX_BODY}
  local list, terr, transient = t:send {{method = "POST", url = url, headers = headers,
    want = {"x-swr-expireat", "x-swr-dockerlogin", "date"}}}
  t:close()
  if not list then return nil, what .. ": " .. terr, transient, "api" end
  local a = list[1]
  if a.broken then
    return nil, what .. ": " .. text.one_line(a.error or ("curl exit " .. a.exit), 300), a.transient, "api"
  end
  if a.status ~= 200 then
    local msg, again, kind = failure(what, a, now)
    return nil, msg, again, kind
  end
  local login, lerr = login_of(a, o.registry)
  if not login then return nil, what .. ": the answer is not a login: " .. lerr, false, "api" end
  local stamp = a.headers["x-swr-expireat"]
  local expires = time.parse(stamp)
  if not expires then
    return nil, what .. ": the answer's X-Swr-Expireat " .. text.quote(stamp or "", 60)
      .. " is not an ISO-8601 time", false, "api"
  end
  if expires <= now then
    return nil, what .. ": the login it gave expired at " .. time.format(expires) .. ", before "
      .. "this clock's " .. time.format(now) .. ": check the clock (NTP)", false, "api"
  end
  login.expires, login.expires_at, login.endpoint = expires, time.format(expires), base
  return login
end

return M

--- The login an engine is given: SWR's long-term login (user PROJECT@AK,
-- the key derived from the SK) or its temporary login (CreateSecret,
-- `swrauth.swrapi`).
--
-- Temporary credentials (a security token) log in only through the API,
-- so their login is always temporary; permanent ones get a temporary
-- login when it is asked for (`temporary`, `duration`). A login is
-- `{user=, password=, registry=, temporary=, expires_at=, expires=}`
-- (the last two for temporary logins: ISO-8601 and Unix seconds).
--
-- With `cache` (the credential helper), a temporary login is kept in a
-- 0600 file per AK, project and registry under `$XDG_CACHE_HOME/swrauth`
-- (`REGISTRY@HASH.json`; never the SK) and reused until `REFRESH` seconds
-- before it expires. A refresh takes the file's lock and looks again
-- before asking the API, so parallel requests make one API call.
--
-- @module swrauth.logins
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local fs = require "swrauth.fs"
local paths = require "swrauth.paths"

-- What a temporary login needs is loaded when one is made: the helper's
-- `get` of a long-term key does not pay for it (BENCHMARKS.md, section 2).
local function steps() return require "swrauth.steps" end
local function swrapi() return require "swrauth.swrapi" end
local function time() return require "swrauth.time" end

local type, ipairs = type, ipairs

--- Seconds before its expiry a cached login is replaced.
M.REFRESH = 10 * 60
--- Seconds a refresh waits for another process's.
M.LOCK_TIMEOUT = 120

--- Whether the login of `cred` is temporary with these options.
function M.is_temporary(cred, o)
  return cred.temporary or (o.temporary or o.duration) and true or false
end

--- The long-term login (`user` nil without a project: the key does not
-- depend on it).
function M.long_term(cred, project, registry)
  return {user = project and swrauth.format("user", {project = project, ak = cred.ak}),
          password = cred.key, registry = registry, temporary = false}
end

--- The cache file of a login: `DIR/REGISTRY@HASH.json`, HASH of the
-- credentials' identity (the AK; for those a service gives, the service),
-- project, registry and API endpoint.
-- @treturn string|nil nil without a cache directory (no HOME)
function M.cache_path(getenv, cred, project, registry)
  local dir = paths.cache_dir(getenv)
  if not dir then return nil end
  local endpoint = getenv("SWRAUTH_API_ENDPOINT") or ""
  local hash = swrauth.sha256((cred.identity or cred.ak) .. "\n" .. project .. "\n" .. registry
    .. "\n" .. endpoint)
  return dir .. "/" .. registry .. "@" .. hash:sub(1, 32) .. ".json"
end

-- The cached login at `path` when it is for these credentials and fresh.
local function cached(path, cred, project, now)
  local mode, ftype = fs.mode(path)
  -- A file others could read or write is not trusted (and is replaced).
  if not mode or ftype ~= "file" or mode % 64 ~= 0 then return nil end
  local content = fs.read(path)
  local c = content and json.parse(content)
  if type(c) ~= "table" or c.identity ~= (cred.identity or cred.ak) or c.project ~= project then
    return nil
  end
  local expires = time().parse(c.expires_at)
  if not expires or expires - now <= M.REFRESH or expires - now > swrapi().MAX_DURATION + 3600 then
    return nil
  end
  if type(c.user) ~= "string" or type(c.password) ~= "string" or type(c.registry) ~= "string" then
    return nil
  end
  return {user = c.user, password = c.password, registry = c.registry, temporary = true,
          expires_at = c.expires_at, expires = expires, cached = true}
end

-- Writes the login to its cache file (its directory made by `get`).
local function store(path, login, cred, project)
  return fs.write_atomic(path, json.encode {
    identity = cred.identity or cred.ak, project = project, registry = login.registry,
    user = login.user, password = login.password, expires_at = login.expires_at,
  } .. "\n", 384)
end

--- The login of the credentials.
-- @tparam table cred credentials (`swrauth.credentials`)
-- @tparam table o `project`, `registry` (the host logged in to),
--   `temporary`, `duration` (seconds), `cache` (use the cache),
--   `getenv`, `run`, `curl`, `insecure`, `cert_dir`, `now` (function),
--   `steps` (a `swrauth.steps` runner for the API's retries; default one
--   of `retries` attempts, 3, waiting `backoff` seconds, 1, then twice as
--   long each time)
-- @treturn table the login
-- @treturn[2] nil
-- @treturn[2] string what went wrong
-- @treturn[2] string kind: "credentials", "usage", "auth" or "api"
function M.get(cred, o)
  if not M.is_temporary(cred, o) then
    if not cred.key then
      return nil, "credentials from " .. cred.where .. " cannot make a long-term login", "credentials"
    end
    return M.long_term(cred, o.project, o.registry)
  end
  if not cred.sign and not cred.fetch then
    return nil, "a temporary login needs an SK: credentials from " .. cred.where
      .. " hold a login key only", "usage"
  end
  local getenv = o.getenv or os.getenv
  local now = o.now or time().now
  local stub = cred
  local path = o.cache and M.cache_path(getenv, cred, o.project, o.registry)
  if path then
    local c = cached(path, cred, o.project, now())
    if c then return c end
  end
  local release, lerr
  if path then
    local ok, merr = fs.mkdir_p(fs.dirname(path))
    if not ok then return nil, "login cache: " .. merr, "api" end
    release, lerr = fs.lock(path, M.LOCK_TIMEOUT)
    if not release then return nil, "login cache: " .. lerr, "api" end
    -- Another process may have refreshed it while this one waited.
    local c = cached(path, cred, o.project, now())
    if c then release(); return c end
  end
  -- Credentials a service gives are asked for now (`credentials.resolve`'s
  -- `lazy`): not at all when the cache had the login.
  if cred.fetch then
    local full, ferr = cred.fetch()
    if not full then
      if release then release() end
      return nil, ferr, "credentials"
    end
    cred = full
  end
  local kind
  local runner = o.steps or steps().new {run = o.run, retries = o.retries, backoff = o.backoff}
  local login, err = runner:call("temporary-login", "CreateSecret " .. o.project, function()
    local l, e, again, k = swrapi().create_secret {
      cred = cred, project = o.project, duration = o.duration, registry = o.registry,
      getenv = getenv, run = o.run, curl = o.curl, insecure = o.insecure, cert_dir = o.cert_dir,
      now = now,
    }
    kind = k
    return l, e, again
  end)
  if login and path then
    local ok, werr = store(path, login, stub, o.project)
    if not ok then login.cache_error = "login cache: " .. tostring(werr) end
  end
  if release then release() end
  if not login then return nil, err, kind end
  login.temporary = true
  return login
end

--- The user of a fresh cached login, or nil.
function M.cached_user(getenv, cred, project, registry)
  local path = M.cache_path(getenv, cred, project, registry)
  local c = path and cached(path, cred, project, time().now())
  return c and c.user or nil
end

--- Removes the cached logins of `registry` (every AK's); the number
-- removed.
function M.forget(getenv, registry)
  local dir = paths.cache_dir(getenv)
  local n = 0
  for _, e in ipairs(dir and fs.list(dir) or {}) do
    if e.name:sub(1, #registry + 1) == registry .. "@" and e.name:find("%.json$") then
      if os.remove(dir .. "/" .. e.name) then n = n + 1 end
      os.remove(dir .. "/" .. e.name .. ".lock")
    end
  end
  return n
end

return M

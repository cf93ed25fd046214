--- `docker-credential-swr`: docker's credential-helper protocol for SWR.
--
-- Docker, podman, buildah, skopeo and nerdctl run `docker-credential-swr
-- VERB` with the request on standard input and read the answer on standard
-- output (docker/docker-credential-helpers):
--
-- * `get`: a server URL in; `{"ServerURL":..,"Username":..,"Secret":..}`
--   out, with `PROJECT@AK` and the login key, for the registries this
--   helper serves; `credentials not found in native keychain` (exit 1) for
--   any other registry, or when no credentials are configured;
-- * `store`: credentials as JSON in; nothing stored, nothing out, exit 0,
--   so that `docker login` works with this helper as `credsStore`;
-- * `erase`: a server URL in; nothing to erase, exit 0;
-- * `list`: `{"HOST":"PROJECT@AK",...}` for the hosts it is configured for;
-- * `version`: `docker-credential-swr (swrauth) VERSION`.
--
-- Errors go to standard output with exit status 1, as the protocol says.
--
-- Served registries: `swr.REGION.myhuaweicloud.com` (the project defaults
-- to REGION, or is `SWRAUTH_PROJECT` when that project is in REGION), the
-- host in `SWRAUTH_REGISTRY` (with `SWRAUTH_PROJECT`), and the hosts in the
-- config file's `registries` (host -> project). The config file is
-- `$SWRAUTH_HELPER_CONFIG`, else `$XDG_CONFIG_HOME/swrauth/config.json`,
-- else `~/.config/swrauth/config.json`; it is refused when group or others
-- may read or write it.
--
-- Credentials: the environment as for the pipeline (`HUAWEICLOUD_SDK_AK` +
-- `HUAWEICLOUD_SDK_SK`, `SWRAUTH_AK` + `SWRAUTH_LOGIN_KEY`,
-- `SWRAUTH_CREDENTIALS_FILE`); when none of those is set, the config
-- file's `ak` + `login_key` (or `ak` + `sk`), or its `credentials_file`.
--
-- Docker runs the helper for every pull and push; `get` for a host that
-- cannot be served is answered by bin/docker-credential-swr before this
-- module is loaded.
--
-- @module swrauth.credhelper
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local fs = require "swrauth.fs"
local helperconfig = require "swrauth.helperconfig"
local credentials = require "swrauth.credentials"
local logins = require "swrauth.logins"
local proc = require "swrauth.proc"

local type, pairs, ipairs, tostring, tonumber, pcall = type, pairs, ipairs, tostring, tonumber,
  pcall
local find, sub, lower = string.find, string.sub, string.lower
local concat = table.concat

M.NAME = "docker-credential-swr"
--- The protocol's not-found message: docker treats it as "no credentials".
M.NOT_FOUND = "credentials not found in native keychain"
M.MISSING_URL = "no credentials server URL"
M.MISSING_USER = "no credentials username"
M.USAGE = "Usage: " .. M.NAME .. " <store|get|erase|list|version>"

--- Environment variables read by the helper itself.
M.ENV = {
  config = "SWRAUTH_HELPER_CONFIG",
  log = "SWRAUTH_HELPER_LOG",
  registry = "SWRAUTH_REGISTRY",
  project = "SWRAUTH_PROJECT",
}

local function nonempty(v)
  if v == "" then return nil end
  return v
end

-- An error the protocol reports on stdout; `plain` messages are the
-- protocol's own and get no prefix.
local function perr(msg, plain)
  return {msg = plain and msg or (M.NAME .. ": " .. msg)}
end

---------------------------------------------------------------- input

-- Standard input as the reference helpers read it: lines (LF, a CR before
-- it dropped) joined without separators; a line over 64 KiB is an error.
local function scan(text)
  local parts, i, n = {}, 1, #text
  while i <= n do
    local j = find(text, "\n", i, true)
    local line = sub(text, i, (j or n + 1) - 1)
    if sub(line, -1) == "\r" then line = sub(line, 1, -2) end
    if #line > 65536 then return nil, "bufio.Scanner: token too long" end
    parts[#parts + 1] = line
    i = (j or n) + 1
  end
  return concat(parts)
end

local function trim(s)
  return (s:gsub("^[ \t\n\v\f\r]+", ""):gsub("[ \t\n\v\f\r]+$", ""))
end

--- The registry host of a server URL (see `swrauth.helperconfig.host`).
M.host = helperconfig.host

--- The region of an SWR registry host (`swr.REGION.myhuaweicloud.com`,
-- or the region's own domain: see `swrauth.parse("registry")`), or nil.
function M.swr_region(host)
  local t = swrauth.parse("registry", host)
  return t and t.region or nil
end

local function project_region(project)
  return project:match("^([^_]+)")
end

---------------------------------------------------------------- config

--- The helper's config file path and its reader (`swrauth.helperconfig`).
M.config_path, M.load_config = helperconfig.path, helperconfig.load

---------------------------------------------------------------- serving

--- Whether the helper serves a host, and for which project.
-- @tparam string host as returned by `host`
-- @tparam table cfg from `load_config`
-- @tparam function getenv
-- @treturn string|nil the project, or nil when the host is not served
-- @treturn[2] false
-- @treturn[2] string why a served host has no usable project
function M.project_for(host, cfg, getenv)
  local env_project = nonempty(getenv(M.ENV.project))
  local region = M.swr_region(host)
  local mapped = cfg.registries and cfg.registries[host]
  if mapped and mapped ~= "" then return mapped end
  if mapped == "" then
    if region then return region end
    if env_project then return env_project end
    return false, "config file " .. tostring(cfg.path) .. " lists " .. host
      .. " without a project, and " .. M.ENV.project .. " is not set"
  end
  local env_registry = nonempty(getenv(M.ENV.registry))
  if env_registry and M.host(env_registry) == host then
    if env_project then return env_project end
    if region then return region end
    return false, M.ENV.registry .. " is " .. host .. " but " .. M.ENV.project .. " is not set"
  end
  if region then
    if env_project and project_region(env_project) == region then return env_project end
    return region
  end
  return nil
end

---------------------------------------------------------------- credentials

local function log_writer(cfg, getenv)
  local path = nonempty(getenv(M.ENV.log)) or nonempty(cfg and cfg.log)
  if not path then return function() end end
  return function(line)
    local f = io.open(path, "r")
    if f then
      f:close()
    else
      fs.write_private(path, "")
    end
    f = io.open(path, "a")
    if not f then return end
    -- One request, one line: control bytes from a request (a server URL
    -- holding CR or LF) are written as \ddd and cannot forge log lines.
    line = line:gsub("[%c\127]", function(c) return ("\\%03d"):format(c:byte()) end)
    f:write(os.date("!%Y-%m-%dT%H:%M:%SZ"), " ", line, "\n")
    f:close()
  end
end

--- Finds the credentials for the helper.
-- @treturn table|nil the credentials (`swrauth.credentials`), or nil when
--   none is configured
-- @treturn[2] string what is wrong, when a source is set but malformed
function M.credentials(cfg, getenv, log)
  local E = credentials.ENV
  local warn = function(msg) log(msg) end
  local curl = proc.which("curl", getenv("PATH")) or false
  local insecure = getenv("SWRAUTH_INSECURE") == "1"
  local env_set = false
  for _, name in ipairs{E.sdk_ak, E.sdk_sk, E.ak, E.key, E.file, E.idp_id, E.id_token_file} do
    if nonempty(getenv(name)) then env_set = true end
  end
  if not env_set and cfg.ak then
    if (cfg.login_key == nil) == (cfg.sk == nil) then
      return nil, "config file " .. cfg.path .. ": give 'ak' with exactly one of 'login_key' and 'sk'"
    end
    local cred, err = credentials.resolve{
      explicit = {ak = cfg.ak, key = cfg.login_key, sk = cfg.sk}, getenv = function() return nil end,
    }
    if not cred then
      return nil, "config file " .. cfg.path .. ": " .. err:gsub("^credentials table: ", "")
    end
    cred.where = "config file " .. cfg.path
    return cred
  elseif not env_set and (cfg.login_key or cfg.sk) then
    return nil, "config file " .. cfg.path .. ": 'login_key' and 'sk' need 'ak'"
  end
  -- The chain; the config's credentials file stands in for SWRAUTH_CREDENTIALS_FILE.
  local cred, err, none = credentials.resolve{
    getenv = getenv, warn = warn, curl = curl, insecure = insecure, lazy = true,
    file = not nonempty(getenv(E.file)) and cfg.credentials_file or nil,
  }
  if not cred and none then return nil, nil end
  return cred, err
end

--- The login options of the helper: `temporary` and `duration` from the
-- config file, else `SWRAUTH_TEMPORARY` and `SWRAUTH_DURATION`.
-- @treturn table|nil
-- @treturn[2] string what is wrong
function M.login_options(cfg, getenv)
  local o = {temporary = cfg.temporary, duration = cfg.duration, cache = true, getenv = getenv,
             insecure = getenv("SWRAUTH_INSECURE") == "1",
             curl = proc.which("curl", getenv("PATH")) or false}
  if o.temporary == nil then o.temporary = getenv("SWRAUTH_TEMPORARY") == "1" end
  local from = "config file " .. tostring(cfg.path) .. ": duration"
  if o.duration == nil and nonempty(getenv("SWRAUTH_DURATION")) then
    o.duration, from = tonumber(getenv("SWRAUTH_DURATION")) or 0 / 0, "SWRAUTH_DURATION"
  end
  if o.duration ~= nil then
    -- (Loaded here: a get of a long-term key needs no API module.)
    local ok, why = require("swrauth.swrapi").check_duration(o.duration)
    if not ok then return nil, from .. " " .. why end
  end
  return o
end

local function short_user(user)
  local p, ak = user:match("^(.*@)(.*)$")
  if not p then return user end
  return p .. sub(ak, 1, 4) .. "…"
end

---------------------------------------------------------------- verbs

local function read_url(input)
  local text, err = scan(input)
  if not text then return nil, perr(err, true) end
  local url = trim(text)
  if url == "" then return nil, perr(M.MISSING_URL, true) end
  return url
end

local function get(sys, log_of)
  local url, uerr = read_url(sys.stdin())
  if not url then return nil, uerr end
  local host = M.host(url)
  local cfg, cerr = M.load_config(sys.getenv)
  local log = log_of(cfg)
  if not cfg then
    log("get " .. host .. ": error: " .. cerr)
    return nil, perr(cerr)
  end
  local project, perr_msg = M.project_for(host, cfg, sys.getenv)
  if project == nil then
    log("get " .. host .. ": not served")
    return nil, perr(M.NOT_FOUND, true)
  elseif project == false then
    log("get " .. host .. ": error: " .. perr_msg)
    return nil, perr(perr_msg)
  end
  local cred, err = M.credentials(cfg, sys.getenv, log)
  if not cred then
    if err then
      log("get " .. host .. ": error: " .. err)
      return nil, perr(err)
    end
    log("get " .. host .. ": served (project " .. project .. ") but no credentials are configured")
    sys.err(M.NAME .. ": " .. host .. ": no credentials: set HUAWEICLOUD_SDK_AK and "
      .. "HUAWEICLOUD_SDK_SK, or SWRAUTH_AK and SWRAUTH_LOGIN_KEY, or a credentials file\n")
    return nil, perr(M.NOT_FOUND, true)
  end
  local ok, why = swrauth.check("project", project)
  if not ok then
    log("get " .. host .. ": error: project '" .. project .. "' " .. why)
    return nil, perr("project '" .. project .. "' for " .. host .. " " .. why)
  end
  local lo, lerr = M.login_options(cfg, sys.getenv)
  if not lo then
    log("get " .. host .. ": error: " .. lerr)
    return nil, perr(lerr)
  end
  lo.project, lo.registry = project, host
  local login, gerr, kind = logins.get(cred, lo)
  if not login and kind == "credentials" and cred.fetch then
    -- Not on a cloud server after all: as without credentials.
    log("get " .. host .. ": served (project " .. project .. ") but " .. gerr)
    sys.err(M.NAME .. ": " .. host .. ": " .. gerr .. "\n")
    return nil, perr(M.NOT_FOUND, true)
  elseif not login then
    log("get " .. host .. ": error: " .. gerr)
    return nil, perr(host .. ": " .. gerr)
  end
  if login.cache_error then log("get " .. host .. ": warning: " .. login.cache_error) end
  log("get " .. host .. ": " .. short_user(login.user) .. " from " .. tostring(cred.where)
    .. (login.temporary and (" (temporary, expires " .. login.expires_at
      .. (login.cached and ", cached)" or ", new)")) or ""))
  sys.out('{"ServerURL":' .. json.quote(url) .. ',"Username":' .. json.quote(login.user)
    .. ',"Secret":' .. json.quote(login.password) .. "}\n")
  return true
end

-- Go's name for a JSON value's type in "cannot unmarshal" messages.
local function go_kind(v)
  local t = type(v)
  if t == "string" then return "string" end
  if t == "boolean" then return "bool" end
  if t == "number" or json.number_text(v) then return "number" end
  if json.is_array(v) then return "array" end
  return "object"
end

local CRED_FIELDS = {"ServerURL", "Username", "Secret"}

local function store(sys, log_of)
  local text, serr = scan(sys.stdin())
  if not text then return nil, perr(serr, true) end
  local log = log_of(nil)
  if trim(text) == "" then return nil, perr("EOF", true) end
  local v, msg = json.parse(text, {trailing = true})
  if v == nil then
    if msg == "unexpected end of JSON input" then msg = "unexpected EOF" end
    return nil, perr(msg, true)
  end
  local c = {}
  if v ~= json.null then
    if go_kind(v) ~= "object" then
      return nil, perr("json: cannot unmarshal " .. go_kind(v)
        .. " into Go value of type credentials.Credentials", true)
    end
    for _, field in ipairs(CRED_FIELDS) do
      local val = v[field]
      if val == nil then
        for k, x in pairs(v) do
          if lower(k) == lower(field) then val = x end
        end
      end
      if val ~= nil and val ~= json.null then
        if type(val) ~= "string" then
          return nil, perr("json: cannot unmarshal " .. go_kind(val)
            .. " into Go struct field Credentials." .. field .. " of type string", true)
        end
        c[field] = val
      end
    end
  end
  if not c.ServerURL or c.ServerURL == "" then return nil, perr(M.MISSING_URL, true) end
  if not c.Username or c.Username == "" then return nil, perr(M.MISSING_USER, true) end
  log("store " .. M.host(c.ServerURL) .. ": nothing stored (this helper derives credentials)")
  return true
end

-- Nothing is stored but the cached temporary logins: those of the host
-- are removed (the next get asks the API again).
local function erase(sys, log_of)
  local url, uerr = read_url(sys.stdin())
  if not url then return nil, uerr end
  local host = M.host(url)
  local n = logins.forget(sys.getenv, host)
  log_of(nil)("erase " .. host .. ": " .. (n > 0 and n .. " cached temporary login(s) removed"
    or "nothing to erase"))
  return true
end

local function list(sys, log_of)
  local cfg, cerr = M.load_config(sys.getenv)
  local log = log_of(cfg)
  if not cfg then
    log("list: error: " .. cerr)
    return nil, perr(cerr)
  end
  local hosts = {}
  for host in pairs(cfg.registries) do hosts[host] = true end
  local env_registry = nonempty(sys.getenv(M.ENV.registry))
  if env_registry then hosts[M.host(env_registry)] = true end
  local env_project = nonempty(sys.getenv(M.ENV.project))
  if env_project then
    if swrauth.check("project", env_project) then
      hosts[swrauth.format("registry", {project = env_project})] = true
    end
  end
  local users = {}
  if next(hosts) then
    local cred, err = M.credentials(cfg, sys.getenv, log)
    if not cred and err then
      log("list: error: " .. err)
      return nil, perr(err)
    end
    -- A temporary login's user is known once it is cached; list asks no API.
    local lo = cred and M.login_options(cfg, sys.getenv)
    if cred and lo then
      for host in pairs(hosts) do
        local project = M.project_for(host, cfg, sys.getenv)
        if project and swrauth.check("project", project) then
          if logins.is_temporary(cred, lo) then
            users[host] = logins.cached_user(sys.getenv, cred, project, host)
          else
            users[host] = swrauth.format("user", {project = project, ak = cred.ak})
          end
        end
      end
    end
  end
  local count = 0
  for _ in pairs(users) do count = count + 1 end
  log("list: " .. count .. " hosts")
  sys.out(json.encode(users) .. "\n")
  return true
end

local function version(sys)
  sys.out(M.NAME .. " (swrauth) " .. tostring(swrauth._VERSION) .. "\n")
  return true
end

local HELP = M.USAGE .. [[


A docker credential helper for Huawei Cloud SWR: docker, podman, buildah,
skopeo and nerdctl run it to get the login for a registry. It answers
swr.REGION.myhuaweicloud.com, SWRAUTH_REGISTRY and the hosts in its config
file with PROJECT@AK and the login key derived from the credentials in the
environment (HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK, SWRAUTH_AK/
SWRAUTH_LOGIN_KEY, SWRAUTH_CREDENTIALS_FILE) or in the config file
($XDG_CONFIG_HOME/swrauth/config.json, mode 0600). It stores nothing.
See docs/CREDENTIAL-HELPER.md.
]]

local VERBS = {get = get, store = store, erase = erase, list = list, version = version}

--- Runs the helper.
-- @tparam table args the arguments (as `arg`)
-- @tparam[opt] table sys `out`, `err` (functions taking a string), `getenv`,
--   `stdin` (a function returning all of standard input)
-- @treturn integer the exit status
function M.main(args, sys)
  sys = proc.system(sys)
  args = args or {}
  local n = #args
  local verb = args[1]
  if n == 1 and (verb == "--help" or verb == "-h") then
    sys.out(HELP)
    return 0
  end
  if n == 1 and (verb == "--version" or verb == "-v") then verb = "version" end
  local fn = VERBS[verb]
  local err
  if n ~= 1 then
    err = perr(M.USAGE, true)
  elseif not fn then
    err = perr("Unknown credential action `" .. tostring(verb) .. "`", true)
  else
    local logger
    local function log_of(cfg)
      if not logger then logger = log_writer(cfg, sys.getenv) end
      return logger
    end
    local ok, res, e = pcall(fn, sys, log_of)
    if not ok then
      err = perr("internal error: " .. tostring(res))
    elseif not res then
      err = e
    end
  end
  if err then
    sys.out(err.msg .. "\n")
    return 1
  end
  return 0
end

return M

--- The credential helper's config file (docs/CREDENTIAL-HELPER.md):
-- `$SWRAUTH_HELPER_CONFIG`, else `$XDG_CONFIG_HOME/swrauth/config.json`,
-- else `~/.config/swrauth/config.json`. A JSON object:
--
--     {"registries": {"HOST": "PROJECT", ...},
--      "ak": ..., "login_key": ... | "sk": ..., "credentials_file": ...,
--      "log": ...}
--
-- It may hold a key or an SK, so it is refused when group or others may
-- read or write it, and written (`set_registry`) mode 0600, atomically,
-- under the `fcntl` lock on `FILE.lock`.
--
-- @module swrauth.helperconfig
local M = {}

local json = require "swrauth.json"
local fs = require "swrauth.fs"
local fields = require "swrauth.fields"
local paths = require "swrauth.paths"

local type, pairs, tostring, format, lower = type, pairs, tostring, string.format, string.lower

M.FIELDS = {
  registries = "table", ak = "string", login_key = "string", sk = "string",
  credentials_file = "string", log = "string", temporary = "boolean", duration = "number",
}

--- The file's path (nil without HOME or XDG_CONFIG_HOME), and whether
-- `SWRAUTH_HELPER_CONFIG` named it.
M.path = paths.helper_config

--- The registry host of a server URL as clients pass it: the scheme, any
-- path and a default port (`:443`) dropped, lowercased.
-- @tparam string url
-- @treturn string
function M.host(url)
  local h = url:gsub("^[%a][%w+.-]*://", "")
  h = h:match("^([^/]*)") or h
  return (lower(h):gsub(":443$", ""))
end

-- The document in `text`, checked; or nil and a message naming `path`.
local function parse(text, path)
  local cfg, msg, line, col = json.parse(text)
  if cfg == nil then return nil, format("config file %s: line %d, column %d: %s", path, line, col, msg) end
  if type(cfg) ~= "table" or json.is_array(cfg) or cfg == json.null then
    return nil, "config file " .. path .. ": not a JSON object"
  end
  local ok, ferr = fields.check(cfg, M.FIELDS)
  if not ok then return nil, "config file " .. path .. ": " .. ferr end
  if cfg.registries and (json.is_array(cfg.registries) or cfg.registries == json.null) then
    return nil, "config file " .. path .. ": field 'registries' must be an object"
  end
  for host, project in pairs(cfg.registries or {}) do
    if type(project) ~= "string" then
      return nil, "config file " .. path .. ": registries['" .. host .. "'] must be a string "
        .. "(a project, or \"\" for the default)"
    end
  end
  return cfg
end

-- The file's text ("" when it does not exist), or nil and a message.
local function read(path)
  local mode = fs.mode(path)
  if mode and mode % 64 & tonumber("66", 8) ~= 0 then
    return nil, format("config file %s has mode %04o: other users may read or change it; it "
      .. "is not used until it is private (chmod 600 %s)", path, mode, path)
  end
  local f, oerr, code = io.open(path, "rb")
  if not f then
    if code == 2 then return "", false end
    return nil, "cannot read config file " .. tostring(oerr)
  end
  local text, rerr = f:read("a")
  f:close()
  if not text then return nil, "cannot read config file " .. path .. ": " .. tostring(rerr) end
  return text, true
end

--- Reads the config file.
-- @tparam function getenv
-- @treturn table the config (`{registries = {}}` when there is none),
--   with `path`, the hosts of `registries` normalised (`host`)
-- @treturn[2] nil
-- @treturn[2] string what is wrong
function M.load(getenv)
  local path, given = M.path(getenv)
  if not path then return {registries = {}} end
  local text, exists = read(path)
  if not text then return nil, exists end
  if not exists then
    if given then return nil, "cannot read config file " .. path .. ": No such file or directory" end
    return {registries = {}, path = path}
  end
  local cfg, err = parse(text, path)
  if not cfg then return nil, err end
  local regs = {}
  for host, project in pairs(cfg.registries or {}) do regs[M.host(host)] = project end
  cfg.registries = regs
  cfg.path = path
  return cfg
end

--- Records the project the helper answers a registry with
-- (`registries[host] = project`), or removes the entry (`project` nil);
-- every other field is kept.
-- @tparam function getenv
-- @tparam string host
-- @tparam[opt] string project
-- @treturn string|nil the file's path
-- @treturn[1] boolean whether it changed
-- @treturn[2] string what is wrong (the file is left as it is)
function M.set_registry(getenv, host, project)
  local path = M.path(getenv)
  if not path then return nil, "no config file path: set HOME or XDG_CONFIG_HOME" end
  local ok, derr = fs.mkdir_p(fs.dirname(path))
  if not ok then return nil, derr end
  local release, lerr = fs.lock(path)
  if not release then return nil, "cannot write config file " .. path .. ": " .. lerr end
  local text, exists = read(path)
  local cfg, err = text, exists
  if text then
    if exists then cfg, err = parse(text, path) else cfg = {} end
  end
  if not cfg then
    release()
    return nil, err
  end
  cfg.registries = cfg.registries or {}
  host = M.host(host)
  if cfg.registries[host] == project then
    release()
    return path, false
  end
  cfg.registries[host] = project
  local wok, werr = fs.write_atomic(path, json.encode(cfg, {indent = "  "}) .. "\n")
  release()
  if not wok then return nil, werr end
  return path, true
end

return M

--- The pipeline's options: their types, defaults and checks (`check`),
-- and where the command line takes them from (`pipeline`): flags win over
-- a release file, which wins over the environment. A value is checked
-- once, by `check` (the pipeline's options) or `swrauth.check`, and a
-- message names where a bad value came from (`--retries 'x' must be an
-- integer >= 1`, `SWRAUTH_PROJECT 'CN' has 'C' at byte 1: ...`).
--
-- @module swrauth.options
local M = {}

local swrauth = require "swrauth"
local text = require "swrauth.text"
local fields = require "swrauth.fields"
local engines = require "swrauth.engines"
local credentials = require "swrauth.credentials"
local swrapi = require "swrauth.swrapi"

local type, pairs, ipairs, tonumber, tostring, load, pcall = type, pairs, ipairs, tonumber,
  tostring, load, pcall
local huge = math.huge

--- Default option values.
M.DEFAULTS = {engine = "auto", insecure = false, dry_run = false, retries = 3, backoff = 1,
              backoff_max = 30, parallel_login = true, remote_tag = "auto"}

--- The options and their types (see docs/PIPELINE.md).
M.OPTIONS = {
  project = "string", region = "string", registry = "string", engine = "string",
  credentials = "table", credentials_file = "string", insecure = "boolean", cert_dir = "string",
  dry_run = "boolean", retries = "number", backoff = "number", backoff_max = "number",
  timeout = "number", parallel_login = "boolean", remote_tag = "string", env = "table",
  getenv = "function", on_event = "function", runner = "function", which = "function",
  sleep = "function", temporary = "boolean", duration = "number",
}

local function one_of(list)
  return function(v)
    for _, x in ipairs(list) do if v == x then return true end end
    return nil, "must be one of " .. table.concat(list, ", ")
  end
end

local function seconds(v)
  if v ~= v or v < 0 or v == huge then return nil, "must be a number of seconds >= 0" end
  return true
end

local RULES = {
  project = function(v) return swrauth.check("project", v) end,
  region = function(v)
    if v:find("_", 1, true) then return nil, "must be a region, without a sub-project" end
    return swrauth.check("project", v)
  end,
  registry = function(v) return swrauth.check("registry", v) end,
  cert_dir = function(v)
    if v == "" then return nil, "is empty: give the directory holding the registry's CA" end
    return true
  end,
  engine = one_of(engines.CHOICES),
  remote_tag = one_of {"auto", "api", "engine"},
  retries = function(v)
    if math.tointeger(v) == nil or v < 1 then return nil, "must be an integer >= 1" end
    return true
  end,
  backoff = seconds, backoff_max = seconds,
  timeout = function(v)
    if v ~= v or v <= 0 or v == huge then
      return nil, "must be a number of seconds > 0 (leave it out for none)"
    end
    return true
  end,
  credentials = credentials.check_explicit,
  duration = swrapi.check_duration,
  env = function(v)
    for k, x in pairs(v) do
      if type(k) ~= "string" or (type(x) ~= "string" and x ~= false) then
        return nil, "must map names to strings (or false)"
      end
    end
    return true
  end,
}

--- Variables removed from the engines' environment: they may hold the SK
-- or the key.
M.SECRET_VARIABLES = {"HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "SWRAUTH_LOGIN_KEY"}

--- Checks one option's value.
-- @treturn true|nil
-- @treturn[2] string what is wrong, a predicate that reads after the
--   option's name ("must be an integer >= 1")
function M.check(name, v)
  local ok, err = fields.check({[name] = v}, M.OPTIONS, "option")
  if not ok then return nil, err end
  local rule = RULES[name]
  if rule then return rule(v) end
  return true
end


--- The fields a release file may set, and their types.
M.FILE_FIELDS = {
  source = "string", repository = "string", tags = "table", semver = "string",
  latest = "boolean", project = "string", region = "string", registry = "string",
  engine = "string", insecure = "boolean", cert_dir = "string", retries = "number",
  backoff = "number", timeout = "number", remote_tag = "string", temporary = "boolean",
  duration = "number",
}

-- The pipeline options the command line sets: option, flag (argparse's
-- name), environment variable, and how its text is read.
local SETTINGS = {
  {"project", "project", "SWRAUTH_PROJECT"},
  {"registry", "registry", "SWRAUTH_REGISTRY"},
  {"engine", "engine", "SWRAUTH_ENGINE"},
  {"cert_dir", "cert_dir", "SWRAUTH_CERT_DIR"},
  {"remote_tag", "remote_tag", "SWRAUTH_REMOTE_TAG"},
  {"retries", "retries", "SWRAUTH_RETRIES", "number"},
  {"backoff", "backoff", "SWRAUTH_BACKOFF", "number"},
  -- A time limit of 0 means none.
  {"timeout", "timeout", "SWRAUTH_TIMEOUT", "number", true},
  {"duration", "duration", "SWRAUTH_DURATION", "number"},
}

--- Checks a whole options table and settles it: defaults filled in, the
-- project (from `region` when only that is given), the engines'
-- environment overrides with the secret variables removed (not even
-- `env` may hand those to an engine).
-- @treturn table|nil the settled options (a new table)
-- @treturn[2] string what is wrong ("option 'retries' must be ...")
function M.settle(opts)
  if type(opts) ~= "table" then return nil, "options must be a table, got " .. type(opts) end
  for k, v in pairs(opts) do
    local ok, why = M.check(k, v)
    if not ok then
      if M.OPTIONS[k] == nil or why:find("^option") then return nil, why end
      return nil, "option '" .. k .. "' " .. why
    end
  end
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  o.project = o.project or o.region
  if not o.project then return nil, "option 'project' is required (e.g. 'cn-north-4')" end
  local region = o.project:match("^[^_]+")
  if o.region and o.region ~= region then
    return nil, "option 'region' ('" .. o.region .. "') does not match the project's region ('"
      .. region .. "')"
  end
  local env = {}
  for k, v in pairs(o.env or {}) do env[k] = v end
  for _, name in ipairs(M.SECRET_VARIABLES) do env[name] = false end
  o.env = env
  return o
end

local RELEASE = {source = "string", repository = "string", tags = "table"}

--- Checks a release request `{source=, repository=, tags={...}}` and
-- gives its references, REGISTRY/REPOSITORY:TAG, each once, in order.
-- @tparam table spec
-- @tparam string registry
-- @treturn table|nil the references
-- @treturn[2] string what is wrong
-- @treturn[2] boolean true for misuse (a malformed table), nil for a bad
--   value (an image name, a repository or a tag)
function M.release(spec, registry)
  if type(spec) ~= "table" then return nil, "table expected, got " .. type(spec), true end
  local ok, err = fields.check(spec, RELEASE)
  if not ok then return nil, err, true end
  for _, k in ipairs {"source", "repository", "tags"} do
    if spec[k] == nil then return nil, "field '" .. k .. "' is required", true end
  end
  if #spec.tags == 0 then return nil, "field 'tags' is empty", true end
  if spec.source == "" then return nil, "field 'source' is empty", true end
  for i, t in ipairs(spec.tags) do
    if type(t) ~= "string" then return nil, "tags[" .. i .. "] must be a string, got " .. type(t), true end
  end
  ok, err = engines.check_name(spec.source)
  if not ok then return nil, "source: " .. err end
  ok, err = swrauth.check("repository", spec.repository)
  if not ok then return nil, "repository " .. text.quote(spec.repository) .. " " .. err end
  local refs, seen = {}, {}
  for _, t in ipairs(spec.tags) do
    ok, err = swrauth.check("tag", t)
    if not ok then return nil, "tag " .. text.quote(t) .. " " .. err end
    local ref = registry .. "/" .. spec.repository .. ":" .. t
    if not seen[ref] then
      seen[ref] = true
      refs[#refs + 1] = ref
    end
  end
  return refs
end

--- Loads a release file: a Lua chunk run with an empty environment that
-- returns a table of `FILE_FIELDS`.
-- @treturn table|nil
-- @treturn[2] string what is wrong, naming the file
function M.load_release_file(path)
  local f, oerr = io.open(path, "rb")
  if not f then return nil, "release file " .. tostring(oerr) end
  local chunk_text = f:read("a")
  f:close()
  local chunk, lerr = load(chunk_text, "@" .. path, "t", {})
  if not chunk then return nil, "release file " .. lerr end
  -- The file is the user's code: its own errors are reported, not raised.
  local ok, t = pcall(chunk)
  if not ok then return nil, "release file " .. tostring(t) end
  if type(t) ~= "table" then
    return nil, "release file " .. path .. ": must return a table, got " .. type(t)
  end
  local good, err = fields.check(t, M.FILE_FIELDS)
  if not good then return nil, "release file " .. path .. ": " .. err end
  t.path = path
  return t
end

local function nonempty(v)
  if v == "" then return nil end
  return v
end

-- The value of a setting and where it came from (for messages).
local function pick(a, file, getenv, flag, var)
  if a[flag] ~= nil then return a[flag], "--" .. flag:gsub("_", "-") end
  if file and file[flag] ~= nil then return file[flag], "release file " .. file.path .. ": " .. flag end
  local v = var and nonempty(getenv(var))
  if v then return v, var end
  return nil
end

local function truthy(v)
  return v == "1" or v == "true" or v == "yes"
end

--- Pipeline options from the parsed command line `a`, a release file
-- (or nil) and the environment.
-- @tparam table a argparse's result
-- @tparam table sys `getenv`
-- @tparam[opt] table file from `load_release_file`
-- @treturn table|nil options for `pipeline.new` (without the callbacks)
-- @treturn[2] string what is wrong, naming the flag, field or variable
function M.pipeline(a, sys, file)
  local o = {dry_run = a.dry_run or false, credentials_file = a.credentials_file,
             region = file and file.region}
  local insecure = a.insecure or (file and file.insecure)
  if insecure == nil then insecure = truthy(sys.getenv("SWRAUTH_INSECURE")) end
  o.insecure = insecure or false
  local temporary = a.temporary or (file and file.temporary)
  if temporary == nil then temporary = truthy(sys.getenv("SWRAUTH_TEMPORARY")) end
  o.temporary = temporary or false
  for _, s in ipairs(SETTINGS) do
    local name, flag, var, kind, zero_none = s[1], s[2], s[3], s[4], s[5]
    local v, from = pick(a, file, sys.getenv, flag, var)
    if v ~= nil then
      local raw = v
      -- A number that does not read as one fails its option's rule (NaN).
      if kind == "number" then v = tonumber(v) or 0 / 0 end
      if not (zero_none and v == 0) then
        local ok, why = M.check(name, v)
        if not ok then return nil, from .. " " .. text.quote(tostring(raw)) .. " " .. why end
        o[name] = v
      end
    end
  end
  if o.region then
    local ok, why = M.check("region", o.region)
    if not ok then return nil, "release file " .. file.path .. ": region " .. text.quote(o.region) .. " " .. why end
  end
  if not o.project and not o.region then
    return nil, "--project (or SWRAUTH_PROJECT) is required, e.g. --project cn-north-4"
  end
  return o
end

--- The login options of a command that runs no pipeline (key, config):
-- `{temporary=, duration=, insecure=, retries=, backoff=}` from the flags,
-- else the environment (the retries are the API's).
-- @treturn table|nil
-- @treturn[2] string what is wrong
function M.login(a, sys)
  local o = {temporary = a.temporary or truthy(sys.getenv("SWRAUTH_TEMPORARY")),
             insecure = a.insecure or truthy(sys.getenv("SWRAUTH_INSECURE"))}
  for _, s in ipairs {{"duration", "SWRAUTH_DURATION"}, {"retries", "SWRAUTH_RETRIES"},
                      {"backoff", "SWRAUTH_BACKOFF"}} do
    local v, from = pick(a, nil, sys.getenv, s[1], s[2])
    if v ~= nil then
      local n = tonumber(v) or 0 / 0
      local ok, why = M.check(s[1], n)
      if not ok then return nil, from .. " " .. text.quote(tostring(v)) .. " " .. why end
      o[s[1]] = n
    end
  end
  return o
end

--- The project and registry of a command that runs no pipeline (config,
-- configure-docker): from the flags, else the environment; the registry
-- defaults to the project's.
-- @tparam table a argparse's result
-- @tparam table sys `getenv`
-- @tparam boolean need_project
-- @treturn table|nil `{project=, registry=}`
-- @treturn[2] string what is wrong
function M.target(a, sys, need_project)
  local project, pfrom = pick(a, nil, sys.getenv, "project", "SWRAUTH_PROJECT")
  local registry, rfrom = pick(a, nil, sys.getenv, "registry", "SWRAUTH_REGISTRY")
  if need_project and not project then
    return nil, "--project (or SWRAUTH_PROJECT) is required, e.g. --project cn-north-4"
  end
  if project then
    local ok, why = swrauth.check("project", project)
    if not ok then return nil, pfrom .. " " .. text.quote(project) .. " " .. why end
  end
  if registry then
    local ok, why = swrauth.check("registry", registry)
    if not ok then return nil, rfrom .. " " .. text.quote(registry) .. " " .. why end
  elseif project then
    registry = swrauth.format("registry", {project = project})
  end
  return {project = project, registry = registry}
end

return M

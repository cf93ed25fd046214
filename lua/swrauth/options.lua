--- The command line's settings: flags win over a release file, which wins
-- over the environment. Each value is checked once, by the rule of the
-- module that takes it (`pipeline.check_option`, `swrauth.check`), and a
-- message names where the bad value came from (`--retries 'x' must be an
-- integer >= 1`, `SWRAUTH_PROJECT 'CN' must start with a region ...`).
--
-- @module swrauth.options
local M = {}

local swrauth = require "swrauth"
local text = require "swrauth.text"
local fields = require "swrauth.fields"
local pipeline = require "swrauth.pipeline"

local type, ipairs, tonumber, tostring, load, pcall = type, ipairs, tonumber, tostring, load, pcall

--- The fields a release file may set, and their types.
M.FILE_FIELDS = {
  source = "string", repository = "string", tags = "table", semver = "string",
  latest = "boolean", project = "string", region = "string", registry = "string",
  engine = "string", insecure = "boolean", cert_dir = "string", retries = "number",
  backoff = "number", timeout = "number", remote_tag = "string",
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
}

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
  for _, s in ipairs(SETTINGS) do
    local name, flag, var, kind, zero_none = s[1], s[2], s[3], s[4], s[5]
    local v, from = pick(a, file, sys.getenv, flag, var)
    if v ~= nil then
      local raw = v
      -- A number that does not read as one fails its option's rule (NaN).
      if kind == "number" then v = tonumber(v) or 0 / 0 end
      if not (zero_none and v == 0) then
        local ok, why = pipeline.check_option(name, v)
        if not ok then return nil, from .. " " .. text.quote(tostring(raw)) .. " " .. why end
        o[name] = v
      end
    end
  end
  if o.region then
    local ok, why = pipeline.check_option("region", o.region)
    if not ok then return nil, "release file " .. file.path .. ": region " .. text.quote(o.region) .. " " .. why end
  end
  if not o.project and not o.region then
    return nil, "--project (or SWRAUTH_PROJECT) is required, e.g. --project cn-north-4"
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

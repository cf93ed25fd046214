--- Where the AK and the login key come from.
--
-- Sources, tried in order (`SOURCES`), first found wins:
--
-- 1. an explicit table `{ak=, sk=}` or `{ak=, key=}` (Lua API only);
-- 2. `HUAWEICLOUD_SDK_AK` + `HUAWEICLOUD_SDK_SK` (the Huawei SDKs' names);
-- 3. `SWRAUTH_AK` + `SWRAUTH_LOGIN_KEY`, a login key derived beforehand;
-- 4. the console's credentials CSV, from the `file` option or
--    `SWRAUTH_CREDENTIALS_FILE`: its first row, or the row whose AK is
--    `SWRAUTH_AK` when that is set.
--
-- A source that is set but malformed stops the search with a message
-- naming the variable, or the file and line. An SK is turned into the
-- login key at once and not kept. A Lua string cannot be wiped, though:
-- the SK read from the environment or the CSV stays in memory until the
-- garbage collector reuses it.
--
-- @module swrauth.credentials
local M = {}

local swrauth = require "swrauth"
local fs = require "swrauth.fs"
local fields = require "swrauth.fields"

local type, ipairs = type, ipairs

--- Names of the environment variables.
M.ENV = {
  sdk_ak = "HUAWEICLOUD_SDK_AK",
  sdk_sk = "HUAWEICLOUD_SDK_SK",
  ak = "SWRAUTH_AK",
  key = "SWRAUTH_LOGIN_KEY",
  file = "SWRAUTH_CREDENTIALS_FILE",
}
local ENV = M.ENV

local EXPLICIT = {ak = "string", sk = "string", key = "string"}

--- Checks an explicit credentials table.
-- @treturn true|nil
-- @treturn[2] string what is wrong
function M.check_explicit(t)
  if type(t) ~= "table" then return nil, "must be a table, got " .. type(t) end
  local ok, err = fields.check(t, EXPLICIT)
  if not ok then return nil, err end
  if not t.ak then return nil, "field 'ak' is required" end
  if (t.sk == nil) == (t.key == nil) then
    return nil, "give exactly one of the fields 'sk' and 'key'"
  end
  return true
end

-- The login key for an AK and an SK or a key, each checked; `names` says
-- what to call them in messages ({ak=, sk=, key=}). Returns the credentials
-- or nil and a message.
local function credential(ak, sk, key, names, source)
  local ok, err = swrauth.check("ak", ak)
  if not ok then return nil, names.ak .. " " .. err end
  if key then
    -- A key in uppercase hex is the same key.
    key = key:lower()
    ok, err = swrauth.check("key", key)
    if not ok then return nil, names.key .. " " .. err end
    return {ak = ak, key = key, source = source}
  end
  ok, err = swrauth.check("sk", sk)
  if not ok then return nil, names.sk .. " " .. err end
  return {ak = ak, key = swrauth.derive(ak, sk), source = source}
end

local function nonempty(getenv, name)
  local v = getenv(name)
  if v == "" then return nil end
  return v
end

-- The credentials CSV at `path`: its first row, or the row of `want_ak`.
local function from_file(path, want_ak, warn)
  local where = "credentials file " .. path
  local mode, ftype = fs.mode(path)
  if not mode then return nil, where .. ": " .. ftype end
  if ftype ~= "file" then return nil, where .. ": not a regular file" end
  if mode % 64 ~= 0 and warn then
    warn(("warning: credentials file %s has mode %04o: it holds the SK and should be readable "
          .. "by its owner only (chmod 600 %s)"):format(path, mode, path))
  end
  local content, why = fs.read(path)
  if not content then return nil, where .. ": " .. why end
  local rows, perr = swrauth.parse("credentials", content)
  if not rows then return nil, where .. ": " .. perr end
  local row = rows[1]
  if want_ak then
    row = nil
    for _, r in ipairs(rows) do
      if r.ak == want_ak then row = r; break end
    end
    if not row then
      return nil, where .. ": no row whose 'Access Key Id' is the AK in " .. ENV.ak
    end
  end
  where = where .. ": line " .. row.line
  return credential(row.ak, row.sk, nil, {ak = where .. ": the AK", sk = where .. ": the SK"},
                    "file " .. path .. " line " .. row.line)
end

-- Each source returns the credentials, false when it is not set, or nil
-- and a message when it is set but wrong.

local function explicit(o)
  local t = o.explicit
  if not t then return false end
  local ok, err = M.check_explicit(t)
  if not ok then return nil, "credentials table: " .. err end
  return credential(t.ak, t.sk, t.key, {ak = "credentials table: the AK",
    sk = "credentials table: the SK", key = "credentials table: field 'key'"}, "explicit")
end

local function sdk_env(o)
  local ak, sk = nonempty(o.getenv, ENV.sdk_ak), nonempty(o.getenv, ENV.sdk_sk)
  if not ak and not sk then return false end
  if not sk then return nil, ENV.sdk_ak .. " is set but " .. ENV.sdk_sk .. " is empty or unset" end
  if not ak then return nil, ENV.sdk_sk .. " is set but " .. ENV.sdk_ak .. " is empty or unset" end
  return credential(ak, sk, nil, {ak = ENV.sdk_ak, sk = ENV.sdk_sk},
                    ENV.sdk_ak .. "/" .. ENV.sdk_sk)
end

local function login_key_env(o)
  local ak, key = nonempty(o.getenv, ENV.ak), nonempty(o.getenv, ENV.key)
  if key and not ak then return nil, ENV.key .. " is set but " .. ENV.ak .. " is empty or unset" end
  if not key then
    if ak and not o.file then
      return nil, ENV.ak .. " is set but neither " .. ENV.key .. " nor a credentials file "
        .. "(--credentials-file, " .. ENV.file .. ") is"
    end
    return false
  end
  return credential(ak, nil, key, {ak = ENV.ak, key = ENV.key}, ENV.ak .. "/" .. ENV.key)
end

local function csv(o)
  if not o.file then return false end
  return from_file(o.file, nonempty(o.getenv, ENV.ak), o.warn)
end

--- The sources, in order.
M.SOURCES = {explicit, sdk_env, login_key_env, csv}

--- Finds the credentials.
-- @tparam[opt] table opts
--   `explicit` (table `{ak=, sk=}` or `{ak=, key=}`),
--   `file` (credentials CSV path; wins over `SWRAUTH_CREDENTIALS_FILE`),
--   `project` (copied into the result),
--   `getenv` (function, default `os.getenv`),
--   `warn` (function taking a message, for warnings; default none).
-- @treturn table `{project=, ak=, key=, source=}`; `source` names where the
--   credentials came from ("explicit", "HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK",
--   "SWRAUTH_AK/SWRAUTH_LOGIN_KEY" or "file PATH line N").
-- @treturn[2] nil when none is found or one is malformed
-- @treturn[2] string a message naming the variable, or the file and line
function M.resolve(opts)
  opts = opts or {}
  local getenv = opts.getenv or os.getenv
  local given = opts.file ~= nil and opts.file ~= ""
  local o = {explicit = opts.explicit, getenv = getenv, warn = opts.warn,
             file = given and opts.file or nonempty(getenv, ENV.file)}
  for i, source in ipairs(M.SOURCES) do
    local cred, err = source(o)
    if cred == nil then return nil, err end
    if cred then
      if given and i < #M.SOURCES and opts.warn then
        opts.warn("warning: using credentials from " .. cred.source .. "; the credentials file "
          .. opts.file .. " is not read")
      end
      cred.project = opts.project
      return cred
    end
  end
  return nil, "no credentials: set " .. ENV.sdk_ak .. " and " .. ENV.sdk_sk .. ", or " .. ENV.ak
    .. " and " .. ENV.key .. ", or give a credentials file (--credentials-file or " .. ENV.file .. ")"
end

return M

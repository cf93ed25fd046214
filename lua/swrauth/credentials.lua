--- Where the AK and the login key come from.
--
-- Sources, first found wins:
--
-- 1. an explicit table `{ak=, sk=}` or `{ak=, key=}` (Lua API only);
-- 2. `HUAWEICLOUD_SDK_AK` + `HUAWEICLOUD_SDK_SK` (the Huawei SDKs' names);
-- 3. `SWRAUTH_AK` + `SWRAUTH_LOGIN_KEY`, a login key derived beforehand;
-- 4. the console's credentials CSV, from the `file` option or
--    `SWRAUTH_CREDENTIALS_FILE`: its first row, or the row whose AK is
--    `SWRAUTH_AK` when that is set.
--
-- An SK is turned into the login key at once and not kept. A Lua string
-- cannot be wiped, though: the SK read from the environment or the CSV
-- stays in memory until the garbage collector reuses it.
--
-- @module swrauth.credentials
local M = {}

local swrauth = require "swrauth"

local type, pcall, tostring, pairs = type, pcall, tostring, pairs

--- Names of the environment variables, in the order they are tried.
M.ENV = {
  sdk_ak = "HUAWEICLOUD_SDK_AK",
  sdk_sk = "HUAWEICLOUD_SDK_SK",
  ak = "SWRAUTH_AK",
  key = "SWRAUTH_LOGIN_KEY",
  file = "SWRAUTH_CREDENTIALS_FILE",
}

local EXPLICIT_KEYS = {ak = true, sk = true, key = true}

--- Checks an explicit credentials table; returns nil when it is fine, or
-- a message saying what is wrong (for callers that raise on misuse).
function M.check_explicit(t)
  if type(t) ~= "table" then return "must be a table, got " .. type(t) end
  for k, v in pairs(t) do
    if not EXPLICIT_KEYS[k] then
      return "unknown field '" .. tostring(k) .. "'"
    elseif type(v) ~= "string" then
      return "field '" .. k .. "' must be a string, got " .. type(v)
    end
  end
  if not t.ak then return "field 'ak' is required" end
  if (t.sk == nil) == (t.key == nil) then
    return "give exactly one of the fields 'sk' and 'key'"
  end
  return nil
end

-- The message inside "bad argument #n to 'derive' (...)".
local function inner(msg)
  msg = tostring(msg)
  return msg:match("%((.*)%)$") or msg:gsub("^[^:]*:%d+: ", "")
end

--- Derives the login key, returning nil and a message instead of raising.
-- @treturn string|nil the key
-- @treturn[2] string what was wrong (never quoting the SK)
function M.derive(ak, sk)
  local ok, key = pcall(swrauth.derive, ak, sk)
  if ok then return key end
  return nil, inner(key)
end

local function check_ak(ak)
  if ak == "" then return "the AK is empty" end
  local bad = ak:find("[%s%c@:]")
  if bad then
    return "the AK has a forbidden character at byte " .. bad
      .. " (whitespace, control characters, '@' and ':' are not allowed)"
  end
  -- As swrauth.format checks it (a pre-derived key skips swrauth.derive).
  bad = ak:find("[\128-\255]")
  if bad then return "the AK has a non-ASCII byte at byte " .. bad .. " (an AK is ASCII)" end
  if #ak > 1024 then return "the AK is too long (" .. #ak .. " bytes, at most 1024)" end
  return nil
end

local function check_key(key)
  if #key ~= 64 or key:find("[^%x]") then
    return "is not a login key (64 hex digits expected, got " .. #key .. " characters)"
  end
  return nil
end

local function nonempty(getenv, name)
  local v = getenv(name)
  if v == "" then return nil end
  return v
end

local function from_file(path, want_ak, warn)
  local proc = require "swrauth.proc"
  local mode, ftype = proc.file_mode(path)
  if not mode then
    return nil, "credentials file " .. path .. ": " .. tostring(ftype)
  end
  if ftype ~= "file" then
    return nil, "credentials file " .. path .. ": not a regular file"
  end
  if mode % 64 ~= 0 and warn then
    warn(("warning: credentials file %s has mode %04o: it holds the SK and should "
          .. "be readable by its owner only (chmod 600 %s)"):format(path, mode, path))
  end
  local text, why = proc.read_file(path)
  if not text then return nil, "credentials file " .. path .. ": " .. tostring(why) end
  local rows, perr = swrauth.parse("credentials", text)
  if not rows then return nil, "credentials file " .. path .. ": " .. tostring(perr) end
  local row = rows[1]
  if want_ak then
    row = nil
    for _, r in ipairs(rows) do
      if r.ak == want_ak then row = r; break end
    end
    if not row then
      return nil, "credentials file " .. path .. ": no row whose 'Access Key Id' is "
        .. "the AK in " .. M.ENV.ak
    end
  end
  local where = "credentials file " .. path .. ": line " .. tostring(row.line)
  local e = check_ak(row.ak or "")
  if e then return nil, where .. ": " .. e end
  local key, derr = M.derive(row.ak, row.sk or "")
  if not key then return nil, where .. ": " .. derr end
  return {ak = row.ak, key = key, source = "file " .. path .. " line " .. row.line}
end

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
  local env = M.ENV
  local res, err

  local file = opts.file
  if file == "" then file = nil end
  local file_from_option = file ~= nil
  file = file or nonempty(getenv, env.file)

  if opts.explicit then
    local t = opts.explicit
    local bad = M.check_explicit(t)
    if bad then return nil, "credentials table: " .. bad end
    local e = check_ak(t.ak)
    if e then return nil, "credentials table: " .. e end
    if t.key then
      local kbad = check_key(t.key)
      if kbad then return nil, "credentials table: field 'key' " .. kbad end
      res = {ak = t.ak, key = t.key:lower(), source = "explicit"}
    else
      local key, derr = M.derive(t.ak, t.sk)
      if not key then return nil, "credentials table: " .. derr end
      res = {ak = t.ak, key = key, source = "explicit"}
    end
  end

  if not res then
    local ak, sk = nonempty(getenv, env.sdk_ak), nonempty(getenv, env.sdk_sk)
    if ak and not sk then
      return nil, env.sdk_ak .. " is set but " .. env.sdk_sk .. " is empty or unset"
    elseif sk and not ak then
      return nil, env.sdk_sk .. " is set but " .. env.sdk_ak .. " is empty or unset"
    elseif ak then
      local e = check_ak(ak)
      if e then return nil, env.sdk_ak .. ": " .. e end
      local key, derr = M.derive(ak, sk)
      sk = nil -- luacheck: ignore 311
      if not key then
        return nil, (derr:find("^AK") and env.sdk_ak or env.sdk_sk) .. ": " .. derr
      end
      res = {ak = ak, key = key, source = env.sdk_ak .. "/" .. env.sdk_sk}
    end
  end

  if not res then
    local ak, key = nonempty(getenv, env.ak), nonempty(getenv, env.key)
    if key and not ak then
      return nil, env.key .. " is set but " .. env.ak .. " is empty or unset"
    elseif ak and key then
      local e = check_ak(ak)
      if e then return nil, env.ak .. ": " .. e end
      local kbad = check_key(key)
      if kbad then return nil, env.key .. " " .. kbad end
      res = {ak = ak, key = key:lower(), source = env.ak .. "/" .. env.key}
    elseif ak and not file then
      return nil, env.ak .. " is set but neither " .. env.key
        .. " nor a credentials file (--credentials-file, " .. env.file .. ") is"
    end
  end

  if not res and file then
    res, err = from_file(file, nonempty(getenv, env.ak), opts.warn)
    if not res then return nil, err end
  elseif res and file_from_option and opts.warn then
    opts.warn("warning: using credentials from " .. res.source
              .. "; the credentials file " .. file .. " is not read")
  end

  if not res then
    return nil, "no credentials: set " .. env.sdk_ak .. " and " .. env.sdk_sk
      .. ", or " .. env.ak .. " and " .. env.key .. ", or give a credentials file ("
      .. "--credentials-file or " .. env.file .. ")"
  end
  res.project = opts.project
  return res
end

return M

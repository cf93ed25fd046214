--- Where the credentials come from: the Huawei Cloud SDKs' chain, with
-- what swrauth adds. Sources, tried in order (`SOURCES`), first found wins:
--
-- 1. `explicit`: a table `{ak=, sk=[, security_token=]}` or `{ak=, key=}`
--    (Lua API only);
-- 2. `env`: `HUAWEICLOUD_SDK_AK` + `HUAWEICLOUD_SDK_SK` (+
--    `HUAWEICLOUD_SDK_SECURITY_TOKEN`, `HUAWEICLOUD_SDK_PROJECT_ID`); with
--    `HUAWEICLOUD_SDK_IDP_ID` + `HUAWEICLOUD_SDK_ID_TOKEN_FILE`,
--    `federation` instead;
-- 3. `login-key`: `SWRAUTH_AK` + `SWRAUTH_LOGIN_KEY`, a login key derived
--    beforehand;
-- 4. `csv`: the console's credentials CSV (`file` option or
--    `SWRAUTH_CREDENTIALS_FILE`): its first row, or the row of `SWRAUTH_AK`;
-- 5. `profile`: the SDKs' profile file (`swrauth.profiles.sdk`); its
--    `idp_id` + `id_token_file` mean `federation`;
-- 6. `koocli`: KooCLI's profile (`swrauth.profiles.koocli`);
-- 7. `pod-identity`: CCE pod identity (`swrauth.sts.pod_identity`);
-- 8. `metadata`: ECS/BMS instance metadata (`swrauth.sts.metadata`).
--
-- A source that is set but wrong stops the search with a message naming
-- the variable, the file and line, or the service. The credentials are
-- `{source=, where=, ak=, key=, sign=, temporary=, expires_at=,
-- project_id=, project=, identity=}`: `key` is the long-term login key (permanent
-- credentials and `login-key` only); `sign(request)` signs an API request
-- (`swrauth.sign`) with the SK and the security token, which are kept in
-- that function and in no table; `temporary` credentials (a security
-- token) log in to SWR only through its API (a temporary login).
--
-- A Lua string cannot be wiped: an SK read from the environment or a file
-- stays in memory until the garbage collector reuses it.
--
-- @module swrauth.credentials
local M = {}

local swrauth = require "swrauth"
local fs = require "swrauth.fs"
local fields = require "swrauth.fields"

-- Sources 5 to 8 and federation load their modules when they are reached:
-- `swrauth key` and the helper's `get` with credentials in the environment
-- do not pay for reading other tools' files or asking services
-- (BENCHMARKS.md, section 2).
local function profiles() return require "swrauth.profiles" end
local function sts() return require "swrauth.sts" end
local function time() return require "swrauth.time" end

local type, ipairs, pairs = type, ipairs, pairs

--- Names of the environment variables.
M.ENV = {
  sdk_ak = "HUAWEICLOUD_SDK_AK",
  sdk_sk = "HUAWEICLOUD_SDK_SK",
  sdk_token = "HUAWEICLOUD_SDK_SECURITY_TOKEN",
  sdk_project_id = "HUAWEICLOUD_SDK_PROJECT_ID",
  idp_id = "HUAWEICLOUD_SDK_IDP_ID",
  id_token_file = "HUAWEICLOUD_SDK_ID_TOKEN_FILE",
  ak = "SWRAUTH_AK",
  key = "SWRAUTH_LOGIN_KEY",
  file = "SWRAUTH_CREDENTIALS_FILE",
}
local ENV = M.ENV

local EXPLICIT = {ak = "string", sk = "string", key = "string", security_token = "string"}

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
  if t.security_token and not t.sk then return nil, "field 'security_token' needs 'sk'" end
  return true
end

-- A function signing API requests with the SK (and the security token):
-- they live in its upvalues, in no table. It takes `{method=, url=,
-- headers={[name]=value}}` and returns the headers to send, a list of
-- `{name, value}`: those given, the token's, and `Authorization`.
local function signer(ak, sk, token)
  return function(req)
    local headers = {}
    for k, v in pairs(req.headers) do headers[k] = v end
    if token then headers["X-Security-Token"] = token end
    local auth = swrauth.sign {ak = ak, sk = sk, method = req.method, url = req.url,
                               headers = headers, body = req.body}
    local list = {}
    for k, v in pairs(headers) do list[#list + 1] = {k, v} end
    table.sort(list, function(x, y) return x[1] < y[1] end)
    list[#list + 1] = {"Authorization", auth}
    return list
  end
end

-- Credentials from an AK with an SK (and maybe a security token) or a
-- login key, each checked; `names` says what to call them in messages.
local function credential(c, names)
  local ok, err = swrauth.check("ak", c.ak)
  if not ok then return nil, names.ak .. " " .. err end
  local cred = {source = c.source, where = c.where, ak = c.ak, project_id = c.project_id,
                expires_at = c.expires_at, identity = c.ak}
  if c.key then
    -- A key in uppercase hex is the same key.
    local key = c.key:lower()
    ok, err = swrauth.check("key", key)
    if not ok then return nil, names.key .. " " .. err end
    cred.key = key
    return cred
  end
  ok, err = swrauth.check("sk", c.sk)
  if not ok then return nil, names.sk .. " " .. err end
  cred.sign = signer(c.ak, c.sk, c.token)
  if c.token then
    cred.temporary = true
  else
    cred.key = swrauth.derive(c.ak, c.sk)
  end
  cred.temporary = cred.temporary or false
  return cred
end

local function nonempty(getenv, name)
  local v = getenv(name)
  if v == "" then return nil end
  return v
end

-- Temporary credentials of a service (`sts`), as credentials.
local function from_sts(cred, err, source, where, project_id)
  if not cred then return cred, err end
  local expires = time().parse(cred.expires_at)
  return credential({source = source, where = where, ak = cred.ak, sk = cred.sk, token = cred.token,
                     expires_at = expires and time().format(expires), project_id = project_id},
                    {ak = where .. ": the AK", sk = where .. ": the SK"})
end

-- A source that asks a service: at once, or with `o.lazy` when the
-- credentials are first needed (`fetch`; `identity` names them until then).
local function service(o, source, where, identity, call)
  if not o.lazy then return call() end
  return {source = source, where = where, identity = identity, temporary = true,
          fetch = function()
            local c, err = call()
            if c == false then return nil, err or "no credentials from " .. where end
            return c, err
          end}
end

local function federation(o, idp_id, token_file, iam_endpoint, project_id)
  local where = "federation (identity provider " .. idp_id .. ")"
  return service(o, "federation", where, "federation " .. sts().iam_endpoint(o.getenv, iam_endpoint)
    .. " " .. idp_id .. " " .. token_file, function()
    local c, err = sts().federation {getenv = o.getenv, run = o.run, insecure = o.insecure,
                                   curl = o.curl, idp_id = idp_id, id_token_file = token_file,
                                   iam_endpoint = iam_endpoint}
    return from_sts(c, err, "federation", where, project_id)
  end)
end

-- The console's CSV at `path`: its first row, or the row of `want_ak`.
local function from_csv(path, want_ak, warn)
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
  return credential({source = "csv", where = "file " .. path .. " line " .. row.line, ak = row.ak,
                     sk = row.sk}, {ak = where .. ": the AK", sk = where .. ": the SK"})
end

-- Each source returns the credentials, false when it is not set, or nil
-- and a message when it is set but wrong.

local function explicit(o)
  local t = o.explicit
  if not t then return false end
  local ok, err = M.check_explicit(t)
  if not ok then return nil, "credentials table: " .. err end
  return credential({source = "explicit", where = "explicit", ak = t.ak, sk = t.sk, key = t.key,
                     token = t.security_token},
    {ak = "credentials table: the AK", sk = "credentials table: the SK",
     key = "credentials table: field 'key'"})
end

local function env(o)
  local get = function(name) return nonempty(o.getenv, name) end
  local idp, token_file = get(ENV.idp_id), get(ENV.id_token_file)
  if idp or token_file then
    if not (idp and token_file) then
      return nil, ENV.idp_id .. " and " .. ENV.id_token_file .. " must both be set"
    end
    return federation(o, idp, token_file, nil, get(ENV.sdk_project_id))
  end
  local ak, sk = get(ENV.sdk_ak), get(ENV.sdk_sk)
  if not ak and not sk then return false end
  if not sk then return nil, ENV.sdk_ak .. " is set but " .. ENV.sdk_sk .. " is empty or unset" end
  if not ak then return nil, ENV.sdk_sk .. " is set but " .. ENV.sdk_ak .. " is empty or unset" end
  return credential({source = "env", where = ENV.sdk_ak .. "/" .. ENV.sdk_sk, ak = ak, sk = sk,
                     token = get(ENV.sdk_token), project_id = get(ENV.sdk_project_id)},
                    {ak = ENV.sdk_ak, sk = ENV.sdk_sk})
end

local function login_key(o)
  local ak, key = nonempty(o.getenv, ENV.ak), nonempty(o.getenv, ENV.key)
  if key and not ak then return nil, ENV.key .. " is set but " .. ENV.ak .. " is empty or unset" end
  if not key then
    if ak and not o.file then
      return nil, ENV.ak .. " is set but neither " .. ENV.key .. " nor a credentials file "
        .. "(--credentials-file, " .. ENV.file .. ") is"
    end
    return false
  end
  return credential({source = "login-key", where = ENV.ak .. "/" .. ENV.key, ak = ak, key = key},
                    {ak = ENV.ak, key = ENV.key})
end

local function csv(o)
  if not o.file then return false end
  return from_csv(o.file, nonempty(o.getenv, ENV.ak), o.warn)
end

local function profile(o)
  local p, err = profiles().sdk(o.getenv, o.warn)
  if not p then return p, err end
  local where = "credentials profile " .. p.path
  if p.idp_id and p.id_token_file then
    return federation(o, p.idp_id, p.id_token_file, p.iam_endpoint, p.project_id)
  end
  return credential({source = "profile", where = where, ak = p.ak, sk = p.sk, token = p.token,
                     project_id = p.project_id}, {ak = where .. ": ak", sk = where .. ": sk"})
end

local function koocli(o)
  local p, err = profiles().koocli(o.getenv, o.warn)
  if not p then return p, err end
  local where = "KooCLI profile '" .. p.name .. "' of " .. p.path
  return credential({source = "koocli", where = where, ak = p.ak, sk = p.sk, token = p.token,
                     project_id = p.project_id},
                    {ak = where .. ": accessKeyId", sk = where .. ": secretAccessKey"})
end

local function pod_identity(o)
  local uri = nonempty(o.getenv, "HC_CONTAINER_CREDENTIALS_FULL_URI")
  local file = nonempty(o.getenv, "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  local call = function()
    local c, err = sts().pod_identity {getenv = o.getenv, run = o.run, insecure = o.insecure, curl = o.curl}
    return from_sts(c, err, "pod-identity", "CCE pod identity")
  end
  if not (uri and file) then return call() end
  return service(o, "pod-identity", "CCE pod identity", "pod-identity " .. uri .. " " .. file, call)
end

local function metadata(o)
  local base = nonempty(o.getenv, "SWRAUTH_METADATA_ENDPOINT")
  if base == "none" then return false end
  return service(o, "metadata", "instance metadata", "metadata " .. (base or sts().METADATA), function()
    local c, err = sts().metadata {getenv = o.getenv, run = o.run, insecure = o.insecure, curl = o.curl}
    return from_sts(c, err, "metadata", "instance metadata")
  end)
end

--- The sources, in order.
M.SOURCES = {explicit, env, login_key, csv, profile, koocli, pod_identity, metadata}

--- Finds the credentials.
-- @tparam[opt] table opts
--   `explicit` (table `{ak=, sk=[, security_token=]}` or `{ak=, key=}`),
--   `file` (credentials CSV path; wins over `SWRAUTH_CREDENTIALS_FILE`),
--   `project` (copied into the result),
--   `getenv` (function, default `os.getenv`),
--   `warn` (function taking a message, for warnings; default none),
--   `run` (the runner for the services' requests, see `swrauth.steps`),
--   `curl` (the program, or false), `insecure` (plain http anywhere),
--   `lazy` (the sources that ask a service, pod identity, instance
--   metadata and federation, give `{source=, where=, identity=,
--   temporary=true, fetch=}` and ask when `fetch()` is called, which
--   returns the credentials or nil and a message)
-- @treturn table the credentials (see above)
-- @treturn[2] nil when none is found or one is malformed
-- @treturn[2] string a message naming the variable, the file and line, or
--   the service
-- @treturn[2] boolean true when none is found (no source is set)
function M.resolve(opts)
  opts = opts or {}
  local getenv = opts.getenv or os.getenv
  local given = opts.file ~= nil and opts.file ~= ""
  local o = {explicit = opts.explicit, getenv = getenv, warn = opts.warn, run = opts.run,
             curl = opts.curl, insecure = opts.insecure, lazy = opts.lazy,
             file = given and opts.file or nonempty(getenv, ENV.file)}
  local notes = {}
  for _, source in ipairs(M.SOURCES) do
    local cred, err = source(o)
    if cred == nil then return nil, err end
    if cred == false and err then notes[#notes + 1] = err end
    if cred then
      if given and source ~= csv and opts.warn then
        opts.warn("warning: using credentials from " .. cred.where .. "; the credentials file "
          .. opts.file .. " is not read")
      end
      cred.project = opts.project
      return cred
    end
  end
  return nil, "no credentials: set " .. ENV.sdk_ak .. " and " .. ENV.sdk_sk .. ", or " .. ENV.ak
    .. " and " .. ENV.key .. ", or give a credentials file (--credentials-file or " .. ENV.file
    .. "), or keep them in the SDKs' profile (~/.huaweicloud/credentials); on a cloud server, "
    .. "give it an agency" .. (#notes > 0 and " (" .. table.concat(notes, "; ") .. ")" or ""), true
end

return M

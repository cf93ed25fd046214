--- Temporary credentials from the cloud, as the Huawei Cloud SDKs get
-- them: an AK, an SK and a security token, with their expiry.
--
-- - `metadata`: ECS/BMS instance metadata (`PUT /meta-data/latest/api/token`,
--   then `GET /openstack/latest/securitykey` on 169.254.169.254; 3 s
--   each; `SWRAUTH_METADATA_ENDPOINT` overrides the address, `none` turns
--   the source off);
-- - `pod_identity`: CCE pod identity (`POST` to
--   `HC_CONTAINER_CREDENTIALS_FULL_URI` with the token of
--   `HC_CONTAINER_AUTHORIZATION_TOKEN_FILE`);
-- - `federation`: OIDC federation through IAM (an id token for an
--   unscoped token, `POST /v3.0/OS-AUTH/id-token/tokens` with `X-Idp-Id`;
--   that token for temporary credentials, `POST
--   /v3.0/OS-CREDENTIAL/securitytokens`).
--
-- Each returns `{ak=, sk=, token=, expires_at=}` (`expires_at` an
-- ISO-8601 time), false when its source is not set (and maybe why), or
-- nil and a message.
-- Every URL must be https, or plain http to a loopback or link-local host
-- (`transport.check_url`); answers are bounded like every answer.
--
-- @module swrauth.sts
local M = {}

local json = require "swrauth.json"
local text = require "swrauth.text"
local fs = require "swrauth.fs"
local time = require "swrauth.time"
local transport = require "swrauth.transport"

local type = type

M.METADATA = "http://169.254.169.254"
M.IAM = "https://iam.myhuaweicloud.com"
--- Seconds the temporary credentials of federation are asked for.
M.DURATION = 6 * 3600

local function nonempty(v)
  if v == "" then return nil end
  return v
end

-- A string field of `t` under any of its names.
local function field(t, ...)
  for _, k in ipairs {...} do
    if type(t[k]) == "string" and t[k] ~= "" then return t[k] end
  end
  return nil
end

--- The credentials of an answer: `{"credential": {...}}` or
-- `{"credentials": {...}}` with `access`/`accessKeyId`, `secret`/
-- `secretAccessKey`, `securitytoken`/`securityToken`, `expires_at`/
-- `expiration`, as the SDKs read them.
-- @treturn table|nil
-- @treturn[2] string what is missing
function M.parse_credential(body)
  local doc = json.parse(body or "")
  if type(doc) ~= "table" then return nil, "the answer is not JSON" end
  local c = type(doc.credential) == "table" and doc.credential
    or type(doc.credentials) == "table" and doc.credentials or doc
  local cred = {ak = field(c, "access", "accessKeyId"), sk = field(c, "secret", "secretAccessKey"),
                token = field(c, "securitytoken", "securityToken"),
                expires_at = field(c, "expires_at", "expiration")}
  if not cred.ak or not cred.sk or not cred.token then
    return nil, "the answer holds no access key, secret and security token"
  end
  if cred.expires_at and not time.parse(cred.expires_at) then
    return nil, "the answer's expiry " .. text.quote(cred.expires_at, 60) .. " is not an ISO-8601 time"
  end
  return cred
end

-- One request; the answer, or nil and a message naming `what`.
local function request(o, what, r, timeout)
  local ok, why = transport.check_url(r.url, o.insecure)
  if not ok then return nil, what .. ": " .. text.quote(r.url, 200) .. " " .. why end
  local t = transport.new {run = o.run, timeout = timeout, insecure = o.insecure,
                           max_body = 1024 * 1024, curl = o.curl}
  if not t:available() then return nil, what .. ": 'curl' not found on PATH (package curl)", true end
  local list, err = t:send {r}
  t:close()
  if not list then return nil, what .. ": " .. err end
  local a = list[1]
  if a.broken then return nil, what .. ": " .. text.one_line(a.error or ("curl exit " .. a.exit), 200), true end
  return a
end

local function http_error(what, a)
  return what .. ": HTTP " .. a.status .. " (" .. text.one_line(a.body, 200) .. ")"
end

-- The contents of a token file, trimmed.
local function token_file(path, what)
  local content, err = fs.read(path)
  if not content then return nil, what .. ": cannot read the token file " .. tostring(err) end
  content = content:gsub("^%s+", ""):gsub("%s+$", "")
  if content == "" then return nil, what .. ": the token file " .. path .. " is empty" end
  return content
end

--- ECS/BMS instance metadata. Off a cloud server nothing answers, or
-- something else does: at the default address a failure means "not
-- found" (false, with the reason for the final message); at an address
-- given by `SWRAUTH_METADATA_ENDPOINT` it is an error.
-- @tparam table o `getenv`, `run` (the runner), `insecure`, `curl`
function M.metadata(o)
  local given = nonempty(o.getenv("SWRAUTH_METADATA_ENDPOINT"))
  if given == "none" then return false end
  local base = given or M.METADATA
  local what = "instance metadata " .. base
  local function fail(msg)
    if given then return nil, msg end
    return false, msg
  end
  -- The token (a metadata service without tokens answers 404, 405 or 503).
  local a, err, unreachable = request(o, what, {method = "PUT", url = base .. "/meta-data/latest/api/token",
    headers = {{"X-Metadata-Token-Ttl-Seconds", "21600"}}}, 3)
  -- Not on a cloud server (no metadata service answers), or no curl to ask.
  if not a then
    if unreachable and not given then return false end
    return fail(err)
  end
  local token
  if a.status == 200 then
    token = a.body:gsub("%s+$", "")
  elseif a.status ~= 404 and a.status ~= 405 and a.status ~= 503 then
    return fail(http_error(what .. " (token)", a))
  end
  a, err = request(o, what, {method = "GET", url = base .. "/openstack/latest/securitykey",
    headers = token and {{"X-Metadata-Token", token}} or nil}, 3)
  if not a then return fail(err) end
  if a.status ~= 200 then
    local msg = http_error(what, a)
    if a.body:find("Cloud Service Agency", 1, true) then
      msg = msg .. ": the server has no agency; give it one with SWR permissions"
    end
    return fail(msg)
  end
  local cred, perr = M.parse_credential(a.body)
  if not cred then return fail(what .. ": " .. perr) end
  return cred
end

--- CCE pod identity.
-- @tparam table o `getenv`, `run`, `insecure`
function M.pod_identity(o)
  local uri = nonempty(o.getenv("HC_CONTAINER_CREDENTIALS_FULL_URI"))
  local file = nonempty(o.getenv("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
  if not uri and not file then return false end
  if not uri or not file then
    return nil, "pod identity: HC_CONTAINER_CREDENTIALS_FULL_URI and "
      .. "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE must both be set"
  end
  local what = "pod identity " .. text.one_line(uri, 200)
  local token, terr = token_file(file, what)
  if not token then return nil, terr end
  local a, err = request(o, what, {method = "POST", url = uri, body = "{}",
    headers = {{"Authorization", token}, {"Content-Type", "application/json"}}}, 5)
  if not a then return nil, err end
  if a.status ~= 200 then return nil, http_error(what, a) end
  local cred, perr = M.parse_credential(a.body)
  if not cred then return nil, what .. ": " .. perr end
  return cred
end

--- The IAM endpoint: `HUAWEICLOUD_SDK_IAM_ENDPOINT` (https:// when it
-- names no scheme), else `given` (a profile's `iam_endpoint`), else IAM's.
function M.iam_endpoint(getenv, given)
  local e = nonempty(getenv("HUAWEICLOUD_SDK_IAM_ENDPOINT")) or nonempty(given) or M.IAM
  if not e:find("^%a+://") then e = "https://" .. e end
  return (e:gsub("/+$", ""))
end

--- OIDC federation: an id token for temporary credentials.
-- @tparam table o `getenv`, `run`, `insecure`, `idp_id`, `id_token_file`,
--   `iam_endpoint` (optional)
function M.federation(o)
  local iam = M.iam_endpoint(o.getenv, o.iam_endpoint)
  local what = "federation through IAM " .. text.one_line(iam, 200)
  local id_token, terr = token_file(o.id_token_file, what)
  if not id_token then return nil, terr end
  local ct = {"Content-Type", "application/json;charset=UTF-8"}
  local a, err = request(o, what, {method = "POST", url = iam .. "/v3.0/OS-AUTH/id-token/tokens",
    headers = {{"X-Idp-Id", o.idp_id}, ct},
    body = json.encode {auth = {id_token = {id = id_token}}}, want = {"x-subject-token"}}, 30)
  if not a then return nil, err end
  local subject = a.headers["x-subject-token"]
  if a.status ~= 201 and a.status ~= 200 then return nil, http_error(what .. " (id token)", a) end
  if not subject then return nil, what .. ": the answer holds no X-Subject-Token" end
  a, err = request(o, what, {method = "POST", url = iam .. "/v3.0/OS-CREDENTIAL/securitytokens",
    headers = {{"X-Auth-Token", subject}, ct},
    body = json.encode {auth = {identity = {methods = json.array {"token"},
                                            token = {id = subject, duration_seconds = M.DURATION}}}}}, 30)
  if not a then return nil, err end
  if a.status ~= 201 and a.status ~= 200 then return nil, http_error(what .. " (security token)", a) end
  local cred, perr = M.parse_credential(a.body)
  if not cred then return nil, what .. ": " .. perr end
  return cred
end

return M

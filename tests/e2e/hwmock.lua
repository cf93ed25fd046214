-- hwmock.lua: a local mock of the Huawei Cloud services a temporary SWR
-- login goes through, checking what the real ones check, for the e2e
-- suites (tests/e2e/hwmock.sh has the shell glue). Lua 5.4, lua-luv,
-- lua-cjson; plain HTTP on one 127.0.0.1 port (put socat in front for
-- HTTPS). Requests are verified with tests/apig_signer.lua (pure Lua,
-- never swrauth.so).
--
--   lua5.4 hwmock.lua --port-file F --log F --state DIR [options]
--
-- Endpoints (paths and formats as Huawei's; the name in brackets is the
-- ENDPOINT of the fault controls):
--   POST /v2/manage/utils/secret?projectname=P[&duration_seconds=N]  [secret]
--        SWR CreateSecret behind APIG: SDK-HMAC-SHA256 verified (signed
--        content-type, host, x-sdk-date, and x-security-token for a
--        temporary AK), X-Sdk-Date within 15 minutes of the mock's clock;
--        200 {"auths":{HOST:{"auth":BASE64(USER:PASSWORD)}}} with
--        X-Swr-Expireat and X-Swr-Dockerlogin; the login is appended to
--        DIR/users as "USER PASSWORD EXPIRY_UNIX" (this machine's clock).
--   POST /v3.0/OS-AUTH/id-token/tokens                   [iam-token]
--        X-Idp-Id and {"auth":{"id_token":{"id":T}}} -> 201, X-Subject-Token
--   POST /v3.0/OS-CREDENTIAL/securitytokens              [iam-securitytoken]
--        {"auth":{"identity":{"methods":["token"],"token":{"id":SUBJECT,
--        "duration_seconds":N}}}} -> 201 {"credential":{...}}
--   PUT  /meta-data/latest/api/token                     [metadata-token]
--        X-Metadata-Token-Ttl-Seconds -> 200 text token
--   GET  /openstack/latest/securitykey                   [metadata-key]
--        (X-Metadata-Token) -> 200 {"credential":{...}}
--   POST /v1/credentials (--pod-path)                    [pod]
--        Authorization: POD_TOKEN, body {} -> 200 {"credentials":{...}}
--
-- Options:
--   --identities FILE   {"users":[{"ak":..,"sk":..,"project":"cn-north-4"}],
--                       "idp":{"id":..,"id_token":..}, "pod_token":..,
--                       "metadata":true}   ("projects": [...] in a user, the
--                       idp or as "metadata": {"projects": [...]} limits
--                       the projects it may log in to)
--   --user AK:SK_FILE[:PROJECT[,PROJECT...]]   (repeatable)
--   --idp ID:ID_TOKEN_FILE   --pod-token-file FILE   --metadata-agency
--   --metadata-token-required   the security key only with a session token
--   --registry-host HOST (swr.REGION.myhuaweicloud.com)   --region R (cn-north-4)
--   --secret-ttl S (21600)   a login's validity without duration_seconds
--   --sts-ttl S   every temporary AK/SK/token's validity (default: IAM's
--                 duration_seconds, else 900; metadata and pod 3600)
--   --token-ttl S (86400)   IAM subject tokens   --clock-skew S (0)
--   --pod-path PATH (/v1/credentials)
--   --expireat-digits LIST (6,3,1,0,9)   fraction digits of X-Swr-Expireat,
--                 in turn
--   --fault ENDPOINT:KIND[:COUNT]   (repeatable; COUNT default 1, -1 always)
-- and the control file DIR/faults, re-read on every request: lines
-- "ENDPOINT KIND [COUNT]" ('#' comments). KIND: 503, 500, 429 (the
-- service's error body), drop (closed unanswered), hang (never answered),
-- huge (a 20 MiB body), endless (a chunked body that never ends): before
-- any check; noauths (success without the credential), badjson (a
-- truncated body), expired (a login or credential already expired): on a
-- request that passed every check. A line's COUNT is spent per request.
--
-- Log: one line per request "N METHOD PATH -> STATUS WHY" (no SK,
-- password or token; AKs shortened). SIGTERM/SIGINT stop it.
local uv = require "luv"
local cjson = require "cjson.safe"

local script = arg and arg[0] or "tests/e2e/hwmock.lua"
local root = (script:match("^(.*)/[^/]*$") or ".") .. "/../.."
local apig = dofile(root .. "/tests/apig_signer.lua")

-- ------------------------------------------------------------------ options

local FLAGS = { metadata_agency = true, metadata_token_required = true }
local REPEAT = { fault = true, user = true, idp = true }
local opts = { fault = {}, user = {}, idp = {} }
do
  local i = 1
  while i <= #arg do
    local k = arg[i]:match("^%-%-([%w-]+)$")
    k = k and k:gsub("-", "_")
    if k and FLAGS[k] then
      opts[k] = true
      i = i + 1
    else
      if not k or arg[i + 1] == nil then
        io.stderr:write("hwmock: bad argument '", tostring(arg[i]), "'\n")
        os.exit(2)
      end
      if REPEAT[k] then table.insert(opts[k], arg[i + 1]) else opts[k] = arg[i + 1] end
      i = i + 2
    end
  end
end
if not (opts.port_file and opts.log and opts.state) then
  io.stderr:write("hwmock: --port-file, --log and --state are required\n")
  os.exit(2)
end

local function die(...)
  io.stderr:write("hwmock: ", ...)
  io.stderr:write("\n")
  os.exit(2)
end

local function num(name, default, min)
  local v = opts[name]
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n ~= math.floor(n) or (min and n < min) then die("--", name:gsub("_", "-"), " must be an integer") end
  return n
end

local REGION = opts.region or "cn-north-4"
local REGISTRY = opts.registry_host or ("swr." .. REGION .. ".myhuaweicloud.com")
local SECRET_TTL = num("secret_ttl", 21600, 1)
local STS_TTL = num("sts_ttl", nil, 1)
local TOKEN_TTL = num("token_ttl", 86400, 1)
local SKEW = num("clock_skew", 0)
local POD_PATH = opts.pod_path or "/v1/credentials"
local STATE = opts.state
local DIGITS = {}
for d in (opts.expireat_digits or "6,3,1,0,9"):gmatch("%d+") do DIGITS[#DIGITS + 1] = tonumber(d) end
if #DIGITS == 0 then DIGITS = { 6 } end
local MAX_SKEW = 15 * 60 -- APIG: X-Sdk-Date within 15 minutes

local function readfile(p)
  local f, err = io.open(p, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- ------------------------------------------------------------------ helpers

local urandom = assert(io.open("/dev/urandom", "rb"))
local function rand_bytes(n) return urandom:read(n) end

local function rand_from(alphabet, n)
  local b, out = rand_bytes(n), {}
  for i = 1, n do
    local k = b:byte(i) % #alphabet + 1
    out[i] = alphabet:sub(k, k)
  end
  return table.concat(out)
end

local UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local function rand_hex(n) return rand_from("0123456789abcdef", n) end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local q = {}
    for k = 1, 4 do
      local idx = (n >> (6 * (4 - k))) & 63
      q[k] = B64:sub(idx + 1, idx + 1)
    end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

-- The mock's clock (--clock-skew shifts it), with microseconds.
local function now()
  local s, us = uv.gettimeofday()
  return s + us / 1e6 + SKEW
end

-- ISO 8601 UTC with `digits` fraction digits (0: none).
local function iso(t, digits)
  local whole = math.floor(t)
  local s = os.date("!%Y-%m-%dT%H:%M:%S", whole)
  if digits and digits > 0 then
    s = s .. "." .. ("%09d"):format(math.floor((t - whole) * 1e9)):sub(1, digits)
    if digits > 9 then s = s .. ("0"):rep(digits - 9) end
  end
  return s .. "Z"
end

-- JSON text: strings escaped (no "\/"), objects written in the order given.
local function jstr(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local map = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return map[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

-- obj{"k1", v1, "k2", v2, ...}: a JSON object from raw JSON values.
local function obj(t)
  local parts = {}
  for i = 1, #t, 2 do parts[#parts + 1] = jstr(t[i]) .. ":" .. t[i + 1] end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- An AK for a log line: its start only.
local function short(ak)
  if type(ak) ~= "string" then return "-" end
  ak = ak:gsub("[^%w%-_@.]", "?")
  if #ak <= 6 then return ak .. "..." end
  return ak:sub(1, 6) .. "..."
end

-- A login user PROJECT@AK for a log line.
local function short_user(u)
  local p, a = u:match("^(.*)@(.*)$")
  if not p then return short(u) end
  return p .. "@" .. short(a)
end

-- ------------------------------------------------------------------ identities

local creds = {}          -- AK -> {sk, token?, expires?, kind, projects (set or nil = any known)}
local known = { [REGION] = true }
local idps = {}           -- idp id -> {id_token, projects}
local pod_token, pod_projects
local metadata_on, metadata_projects = opts.metadata_agency, nil
local subject_tokens = {} -- X-Subject-Token -> {expires, idp}
local md_tokens = {}      -- metadata session token -> expires

local function set_of(list)
  if list == nil then return nil end
  if type(list) == "string" then list = { list } end
  local s = {}
  for _, p in ipairs(list) do
    if type(p) ~= "string" or p == "" then die("a project must be a non-empty string") end
    s[p] = true
    known[p] = true
  end
  return s
end

local function add_user(ak, sk, projects)
  if type(ak) ~= "string" or not ak:match("^[%w]+$") then die("a user's ak must be letters and digits") end
  if type(sk) ~= "string" or sk == "" or sk:find("%s") then die("user ", short(ak), ": a bad sk") end
  creds[ak] = { sk = sk, kind = "user", projects = set_of(projects or REGION) }
end

local function add_idp(id, token, projects)
  if type(id) ~= "string" or id == "" or type(token) ~= "string" or token == "" then
    die("an idp needs an id and an id_token")
  end
  idps[id] = { id_token = token, projects = set_of(projects) }
end

if opts.identities then
  local text = readfile(opts.identities) or die("cannot read ", opts.identities)
  local doc, err = cjson.decode(text)
  if type(doc) ~= "table" then die(opts.identities, ": not JSON: ", tostring(err)) end
  for _, u in ipairs(doc.users or {}) do add_user(u.ak, u.sk, u.projects or u.project) end
  local list = doc.idp
  if type(list) == "table" and list.id then list = { list } end
  for _, p in ipairs(list or {}) do add_idp(p.id, p.id_token, p.projects or p.project) end
  if type(doc.pod_token) == "string" then pod_token = doc.pod_token end
  if type(doc.pod) == "table" then pod_token, pod_projects = doc.pod.token, set_of(doc.pod.projects) end
  if doc.metadata == true then
    metadata_on = true
  elseif type(doc.metadata) == "table" then
    metadata_on, metadata_projects = true, set_of(doc.metadata.projects)
  end
end
for _, spec in ipairs(opts.user) do
  local ak, file, projects = spec:match("^([^:]+):([^:]+):?(.*)$")
  if not ak then die("--user AK:SK_FILE[:PROJECTS]") end
  local sk = (readfile(file) or die("cannot read ", file)):gsub("%s+$", "")
  local list = {}
  for p in projects:gmatch("[^,]+") do list[#list + 1] = p end
  add_user(ak, sk, #list > 0 and list or nil)
end
for _, spec in ipairs(opts.idp) do
  local id, file = spec:match("^([^:]+):(.+)$")
  if not id then die("--idp ID:ID_TOKEN_FILE") end
  add_idp(id, ((readfile(file) or die("cannot read ", file)):gsub("^%s+", ""):gsub("%s+$", "")))
end
if opts.pod_token_file then
  pod_token = ((readfile(opts.pod_token_file) or die("cannot read ", opts.pod_token_file))
    :gsub("^%s+", ""):gsub("%s+$", ""))
end

-- A new temporary AK/SK/security token.
local function issue_temp(kind, ttl, projects, expired)
  local ak = rand_from(UPPER, 20)
  local t = now()
  local c = {
    sk = rand_from(ALNUM, 40),
    token = "gQpjbi1ub3J0aC00" .. base64(rand_bytes(480)),
    kind = kind,
    projects = projects,
    expires = expired and (t - 60) or (t + ttl),
  }
  creds[ak] = c
  return ak, c
end

local function credential_json(ak, c, names)
  -- names: the four field names in order (access, secret, token, expiry).
  local fields = {}
  for _, pair in ipairs(names) do
    local v = ({ access = ak, secret = c.sk, token = c.token, expires = iso(c.expires, 6) })[pair[2]]
    fields[#fields + 1] = pair[1]
    fields[#fields + 1] = jstr(v)
  end
  return obj(fields)
end

-- ------------------------------------------------------------------ faults

local ENDPOINTS = {
  secret = true, ["iam-token"] = true, ["iam-securitytoken"] = true,
  ["metadata-token"] = true, ["metadata-key"] = true, pod = true,
}
local KINDS = {
  ["503"] = "pre", ["500"] = "pre", ["429"] = "pre", drop = "pre", hang = "pre", huge = "pre",
  endless = "pre", noauths = "post", badjson = "post", expired = "post",
}

local function parse_fault(ep, kind, count)
  if not ENDPOINTS[ep] or not KINDS[kind] then return nil end
  local n = tonumber(count or "1")
  if not n or n ~= math.floor(n) then return nil end
  return { endpoint = ep, kind = kind, left = n }
end

local cli_faults = {}
for _, f in ipairs(opts.fault) do
  local ep, kind, count = f:match("^([%w-]+):(%w+):?(%-?%d*)$")
  local fault = ep and parse_fault(ep, kind, count ~= "" and count or nil)
  if not fault then die("--fault ENDPOINT:KIND[:COUNT]: bad '", f, "'") end
  cli_faults[#cli_faults + 1] = fault
end

-- The control file's lines, keyed by position and text, so that a line's
-- spent count stays spent while the file is appended to.
local file_faults, file_seen, file_text = {}, {}, ""
local function load_file_faults()
  local text = readfile(STATE .. "/faults") or ""
  -- Rewritten rather than appended to: every line counts anew.
  if text:sub(1, #file_text) ~= file_text then file_seen = {} end
  file_text = text
  local list, n = {}, 0
  for line in text:gmatch("[^\n]+") do
    n = n + 1
    local key = n .. "\0" .. line
    if not line:match("^%s*#") and line:match("%S") then
      local f = file_seen[key]
      if not f then
        local ep, kind, count = line:match("^%s*(%S+)%s+(%S+)%s*(%S*)%s*$")
        f = ep and parse_fault(ep, kind, count ~= "" and count or nil)
        if f then file_seen[key] = f else io.stderr:write("hwmock: faults: bad line '", line, "'\n") end
      end
      if f then list[#list + 1] = f end
    end
  end
  file_faults = list
end

-- The fault of `stage` ("pre" or "post") for an endpoint, spending one.
local function take_fault(ep, stage)
  for _, list in ipairs({ cli_faults, file_faults }) do
    for _, f in ipairs(list) do
      if f.endpoint == ep and KINDS[f.kind] == stage and f.left ~= 0 then
        if f.left > 0 then f.left = f.left - 1 end
        return f.kind
      end
    end
  end
end

-- ------------------------------------------------------------------ responses

local REASONS = {
  [200] = "OK", [201] = "Created", [400] = "Bad Request", [401] = "Unauthorized",
  [404] = "Not Found", [405] = "Method Not Allowed", [413] = "Payload Too Large",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [503] = "Service Unavailable",
}

local function resp(status, body, headers, why)
  return { status = status, body = body or "", headers = headers or {}, why = why or "" }
end

local function json_resp(status, body, headers, why)
  local h = { { "Content-Type", "application/json;charset=utf-8" } }
  for _, x in ipairs(headers or {}) do h[#h + 1] = x end
  return resp(status, body, h, why)
end

-- APIG's error answer (the gateway in front of SWR).
local function apig_error(status, code, msg, why)
  local rid = rand_hex(32)
  return json_resp(status, obj { "error_code", jstr(code), "error_msg", jstr(msg), "request_id", jstr(rid) },
    { { "X-Request-Id", rid } }, why)
end

local VERIFY_FAIL = "Incorrect IAM authentication information: verify aksk signature fail"
local function apig_401(why) return apig_error(401, "APIG.0301", VERIFY_FAIL, why) end

-- SWR's error answer: a list of {errorCode, errorMessage, detail}.
local function swr_error(status, code, msg, why)
  return json_resp(status, "[" .. obj { "errorCode", jstr(code), "errorMessage", jstr(msg), "detail", '""' } .. "]",
    { { "X-Request-Id", rand_hex(32) } }, why)
end

-- IAM's (Keystone's) error answer.
local function iam_error(status, msg, why)
  return json_resp(status, obj { "error", obj { "code", tostring(status), "message", jstr(msg),
    "title", jstr(REASONS[status] or "Error") } }, { { "X-IAM-Trace-Id", rand_hex(32) } }, why)
end

local function text_resp(status, body, why)
  return resp(status, body, { { "Content-Type", "text/plain; charset=utf-8" } }, why)
end

-- The answer of a "pre" fault that has a status; nil for the others.
local function fault_status(ep, kind)
  local status = tonumber(kind)
  if ep == "secret" then
    if status == 503 then return apig_error(503, "APIG.0202", "Backend unavailable", "fault 503") end
    if status == 429 then
      return apig_error(429, "APIG.0308",
        "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 minute", "fault 429")
    end
    return swr_error(500, "SVCSTG.SWR.5000007", "Internal server error: Operation fails.", "fault 500")
  elseif ep == "iam-token" or ep == "iam-securitytoken" then
    return iam_error(status, REASONS[status], "fault " .. kind)
  elseif ep == "pod" then
    return json_resp(status, obj { "code", jstr(tostring(status)), "message", jstr(REASONS[status]) }, nil,
      "fault " .. kind)
  end
  return text_resp(status, REASONS[status] .. "\n", "fault " .. kind)
end

-- ------------------------------------------------------------------ endpoints

local function query_params(q)
  local t = {}
  for piece in (q or ""):gmatch("[^&]+") do
    local k, v = piece:match("^([^=]*)=?(.*)$")
    t[apig.unescape(k)] = apig.unescape((v:gsub("%+", " ")))
  end
  return t
end

local function allowed(c, project)
  if not known[project] then return false end
  return c.projects == nil or c.projects[project] == true
end

local digit_turn = 0
local logins = 0

-- Appends one login to DIR/users in one write (O_APPEND).
local function record_login(user, password, expires)
  local f = assert(io.open(STATE .. "/users", "a"))
  f:setvbuf("full", 4096)
  f:write(("%s %s %d\n"):format(user, password, math.floor(expires - SKEW)))
  f:close()
end

local HANDLERS = {}

-- SWR CreateSecret behind APIG.
HANDLERS.secret = function(req)
  local h = req.h
  if req.dup["authorization"] or req.dup["x-sdk-date"] or req.dup["x-security-token"] then
    return apig_401("a repeated Authorization, X-Sdk-Date or X-Security-Token")
  end
  local ak, signed, sig = apig.parse_authorization(h["authorization"])
  if not ak then return apig_401(signed) end
  local date = h["x-sdk-date"]
  if not date then return apig_401("no X-Sdk-Date ak=" .. short(ak)) end
  local t = apig.parse_date(apig.trim(date))
  if not t then return apig_401("X-Sdk-Date is not YYYYMMDDTHHMMSSZ ak=" .. short(ak)) end
  local clock = now()
  if math.abs(t - clock) > MAX_SKEW then
    return apig_error(401, "APIG.0301", ("Incorrect IAM authentication information: signature expired, "
      .. "signature time:%s,server time:%s"):format(apig.trim(date), apig.format_date(clock)),
      ("X-Sdk-Date %+d s from the clock ak=%s"):format(math.floor(t - clock), short(ak)))
  end
  local c = creds[ak]
  if not c then return apig_401("unknown AK ak=" .. short(ak)) end
  local is_signed = {}
  for _, n in ipairs(signed) do is_signed[n] = true end
  for _, n in ipairs({ "content-type", "host", "x-sdk-date" }) do
    if not is_signed[n] then return apig_401(n .. " not signed ak=" .. short(ak)) end
  end
  local cr, err = apig.canonical(req.method, req.path, req.query, h, signed, apig.sha256_hex(req.body))
  if not cr then return apig_401(err .. " ak=" .. short(ak)) end
  if apig.signature(c.sk, cr, apig.trim(date)) ~= sig then
    return apig_401("signature mismatch ak=" .. short(ak))
  end
  if c.token then
    if not h["x-security-token"] then return apig_401("temporary AK without X-Security-Token ak=" .. short(ak)) end
    if not is_signed["x-security-token"] then return apig_401("x-security-token not signed ak=" .. short(ak)) end
    if apig.trim(h["x-security-token"]) ~= c.token then
      return apig_401("X-Security-Token is not this AK's ak=" .. short(ak))
    end
    if c.expires <= clock then
      return apig_401(("temporary AK expired %.1f s ago ak=%s"):format(clock - c.expires, short(ak)))
    end
  elseif h["x-security-token"] then
    return apig_401("X-Security-Token with a permanent AK ak=" .. short(ak))
  end
  -- SWR itself.
  local ctype = (h["content-type"] or ""):lower():gsub("%s", "")
  local JSON_TYPES = { ["application/json"] = true, ["application/json;charset=utf-8"] = true,
    ["application/json;charset=utf8"] = true }
  if not JSON_TYPES[ctype] then
    return swr_error(400, "SVCSTG.SWR.4000014", "Invalid parameter: Content-Type must be application/json",
      "content-type not JSON ak=" .. short(ak))
  end
  local q = query_params(req.query)
  local project = q.projectname
  if project == nil or project == "" then project = REGION end
  local ttl = SECRET_TTL
  if q.duration_seconds ~= nil then
    local d = q.duration_seconds
    if not d:match("^%d+$") or tonumber(d) < 900 or tonumber(d) > 86400 then
      return swr_error(400, "SVCSTG.SWR.4000014",
        "Invalid parameter: duration_seconds must be an integer from 900 (15 minutes) to 86400 (24 hours)",
        "bad duration_seconds ak=" .. short(ak))
    end
    ttl = tonumber(d)
  end
  if not allowed(c, project) then
    return swr_error(400, "SVCSTG.SWR.4000014", "Invalid parameter: projectname",
      ("project %s not allowed ak=%s"):format(project:gsub("[^%w%-_.]", "?"), short(ak)))
  end
  local fault = take_fault("secret", "post")
  local rid = rand_hex(32)
  if fault == "noauths" then
    return json_resp(200, "{}", { { "X-Request-Id", rid } }, "fault noauths ak=" .. short(ak))
  elseif fault == "badjson" then
    return json_resp(200, '{"auths":{' .. jstr(REGISTRY) .. ':{"auth":"', { { "X-Request-Id", rid } },
      "fault badjson ak=" .. short(ak))
  end
  logins = logins + 1
  local user = project .. "@" .. rand_from(UPPER, 20)
  local password = apig.hmac_hex(rand_bytes(32), user)
  local expires = fault == "expired" and (clock - 60) or (clock + ttl)
  digit_turn = digit_turn % #DIGITS + 1
  record_login(user, password, expires)
  local body = obj { "auths", obj { REGISTRY, obj { "auth", jstr(base64(user .. ":" .. password)) } } }
  return json_resp(200, body, {
    { "X-Request-Id", rid },
    { "X-Swr-Expireat", iso(expires, DIGITS[digit_turn]) },
    { "X-Swr-Dockerlogin", ("docker login -u %s -p %s %s"):format(user, password, REGISTRY) },
  }, ("%slogin %s for %d s ak=%s (%s)"):format(fault == "expired" and "fault expired " or "",
    short_user(user), fault == "expired" and -60 or ttl, short(ak), c.kind))
end

-- IAM: an unscoped token for an OpenID Connect ID token.
HANDLERS["iam-token"] = function(req)
  local doc = cjson.decode(req.body)
  local id = type(doc) == "table" and type(doc.auth) == "table" and type(doc.auth.id_token) == "table"
    and doc.auth.id_token.id
  if type(id) ~= "string" then
    return iam_error(400, "Request body is invalid.", "body is not {\"auth\":{\"id_token\":{\"id\":...}}}")
  end
  local idp_id = req.h["x-idp-id"]
  local idp = idp_id and idps[apig.trim(idp_id)]
  if not idp then return iam_error(401, "The request you have made requires authentication.", "unknown X-Idp-Id") end
  if id ~= idp.id_token then
    return iam_error(401, "The request you have made requires authentication.", "wrong id_token")
  end
  local fault = take_fault("iam-token", "post")
  local t = now()
  local token = "MIIEhwYJKoZIhvcNAQcCoIIEeDCCBHQCAQExDTALBglghkgBZQMEAgEw" .. base64(rand_bytes(900))
    :gsub("%+", "-"):gsub("/", "_")
  local expires = fault == "expired" and (t - 60) or (t + TOKEN_TTL)
  subject_tokens[token] = { expires = expires, idp = apig.trim(idp_id) }
  local rid = rand_hex(32)
  local headers = { { "X-Request-Id", rid }, { "X-IAM-Trace-Id", rand_hex(32) } }
  if fault ~= "noauths" then headers[#headers + 1] = { "X-Subject-Token", token } end
  local body = obj { "token", obj {
    "expires_at", jstr(iso(expires, 6)), "methods", '["mapped"]', "issued_at", jstr(iso(t, 6)),
    "user", obj {
      "OS-FEDERATION", obj { "identity_provider", obj { "id", jstr(idp_id) }, "protocol", obj { "id", '"oidc"' },
        "groups", "[]" },
      "domain", obj { "id", jstr(rand_hex(32)), "name", '"swrauth-test"' },
      "id", jstr(rand_hex(32)), "name", '"FederationUser"',
    },
  } }
  if fault == "badjson" then body = body:sub(1, 25) end
  return json_resp(201, body, headers, (fault and ("fault " .. fault .. " ") or "") .. "token for idp")
end

-- IAM: a temporary AK/SK and security token for a token.
HANDLERS["iam-securitytoken"] = function(req)
  local doc = cjson.decode(req.body)
  local ident = type(doc) == "table" and type(doc.auth) == "table" and doc.auth.identity
  if type(ident) ~= "table" or type(ident.methods) ~= "table" or ident.methods[1] ~= "token"
      or #ident.methods ~= 1 then
    return iam_error(400, "Request body is invalid.", "body is not {\"auth\":{\"identity\":{\"methods\":[\"token\"]...")
  end
  local tok = type(ident.token) == "table" and ident.token or {}
  local id = req.h["x-auth-token"] or tok.id
  local duration = tok.duration_seconds
  if duration ~= nil then
    duration = math.tointeger(duration)
    if not duration or duration < 900 or duration > 86400 then
      return iam_error(400, "Invalid duration_seconds: an integer from 900 to 86400.", "bad duration_seconds")
    end
  end
  local st = type(id) == "string" and subject_tokens[id]
  if not st then return iam_error(401, "The request you have made requires authentication.", "unknown token") end
  if st.expires <= now() then
    return iam_error(401, "The request you have made requires authentication.", "token expired")
  end
  local fault = take_fault("iam-securitytoken", "post")
  local idp = idps[st.idp]
  local ak, c = issue_temp("federation", STS_TTL or duration or 900, idp and idp.projects, fault == "expired")
  local body = obj { "credential", credential_json(ak, c, {
    { "access", "access" }, { "expires_at", "expires" }, { "secret", "secret" }, { "securitytoken", "token" } }) }
  if fault == "noauths" then body = "{}" elseif fault == "badjson" then body = body:sub(1, 40) end
  return json_resp(201, body, { { "X-IAM-Trace-Id", rand_hex(32) }, { "X-Request-Id", rand_hex(32) } },
    ("%scredential ak=%s for %d s"):format(fault and ("fault " .. fault .. " ") or "", short(ak),
      math.floor(c.expires - now() + 0.5)))
end

-- ECS metadata: a session token.
HANDLERS["metadata-token"] = function(req)
  local ttl = req.h["x-metadata-token-ttl-seconds"]
  ttl = ttl and apig.trim(ttl)
  if not ttl or not ttl:match("^%d+$") or tonumber(ttl) < 1 or tonumber(ttl) > 21600 then
    return text_resp(400, "Bad Request\n", "X-Metadata-Token-Ttl-Seconds missing or not 1..21600")
  end
  local fault = take_fault("metadata-token", "post")
  local token = base64(rand_bytes(36)):gsub("%+", "-"):gsub("/", "_")
  md_tokens[token] = fault == "expired" and (now() - 1) or (now() + tonumber(ttl))
  if fault == "noauths" then return text_resp(200, "", "fault noauths") end
  if fault == "badjson" then return text_resp(200, token:sub(1, 10) .. "\r\nX-Injected: 1\0", "fault badjson") end
  return text_resp(200, token, (fault and "fault expired " or "") .. "session token for " .. ttl .. " s")
end

-- ECS metadata: the agency's temporary credentials.
HANDLERS["metadata-key"] = function(req)
  local tok = req.h["x-metadata-token"]
  if tok then
    local exp = md_tokens[apig.trim(tok)]
    if not exp then return text_resp(401, "Unauthorized\n", "unknown X-Metadata-Token") end
    if exp <= now() then return text_resp(401, "Unauthorized\n", "X-Metadata-Token expired") end
  elseif opts.metadata_token_required then
    return text_resp(401, "Unauthorized\n", "no X-Metadata-Token (required)")
  end
  if not metadata_on then
    return text_resp(401, "Please configure Cloud Service Agency first\n", "no agency")
  end
  local fault = take_fault("metadata-key", "post")
  local ak, c = issue_temp("metadata", STS_TTL or 3600, metadata_projects, fault == "expired")
  local body = obj { "credential", credential_json(ak, c, {
    { "access", "access" }, { "expires_at", "expires" }, { "secret", "secret" }, { "securitytoken", "token" } }) }
  if fault == "noauths" then body = "{}" elseif fault == "badjson" then body = body:sub(1, 40) end
  return json_resp(200, body, nil, ("%scredential ak=%s%s"):format(fault and ("fault " .. fault .. " ") or "",
    short(ak), tok and " (session token)" or ""))
end

-- CCE pod identity.
HANDLERS.pod = function(req)
  local auth = req.h["authorization"]
  if not pod_token or not auth or apig.trim(auth) ~= pod_token then
    return json_resp(401, obj { "code", '"401"', "message", '"Unauthorized: invalid token"' }, nil,
      auth and "wrong token" or "no Authorization")
  end
  local doc = cjson.decode(req.body)
  if type(doc) ~= "table" then
    return json_resp(400, obj { "code", '"400"', "message", '"Bad Request: the body must be a JSON object"' }, nil,
      "body not a JSON object")
  end
  local fault = take_fault("pod", "post")
  local ak, c = issue_temp("pod", STS_TTL or 3600, pod_projects, fault == "expired")
  local body = obj {
    "assumedAgency", obj { "urn", '"iam::0123456789abcdef:agency:swrauth-test"', "id", jstr(rand_hex(32)) },
    "audience", '"sts.myhuaweicloud.com"',
    "credentials", fault == "noauths" and "null" or credential_json(ak, c, {
      { "accessKeyId", "access" }, { "secretAccessKey", "secret" }, { "securityToken", "token" },
      { "expiration", "expires" } }),
    "podIdentityAssociationId", jstr(rand_hex(16)),
    "subject", obj { "namespace", '"default"', "serviceAccount", '"swrauth"' },
  }
  if fault == "badjson" then body = body:sub(1, 60) end
  return json_resp(200, body, nil, ("%scredential ak=%s"):format(fault and ("fault " .. fault .. " ") or "",
    short(ak)))
end

local ROUTES = {
  ["/v2/manage/utils/secret"] = { "POST", "secret" },
  ["/v3.0/OS-AUTH/id-token/tokens"] = { "POST", "iam-token" },
  ["/v3.0/OS-CREDENTIAL/securitytokens"] = { "POST", "iam-securitytoken" },
  ["/meta-data/latest/api/token"] = { "PUT", "metadata-token" },
  ["/openstack/latest/securitykey"] = { "GET", "metadata-key" },
  [POD_PATH] = { "POST", "pod" },
}

local function not_found(req, why)
  if req.path:match("^/v%d") then
    return apig_error(404, "APIG.0101", "The API does not exist or has not been published in the environment", why)
  end
  return text_resp(404, "Not Found\n", why)
end

-- The answer for a parsed request: a response table, or {action = ...}.
local function dispatch(req)
  local route = ROUTES[req.path]
  if not route then return not_found(req, "no such endpoint") end
  local ep = route[2]
  if req.method ~= route[1] then
    if ep == "secret" then return not_found(req, "method not allowed") end
    if ep:match("^iam") then return iam_error(405, "The method is not allowed.", "method not allowed") end
    return text_resp(405, "Method Not Allowed\n", "method not allowed")
  end
  load_file_faults()
  local fault = take_fault(ep, "pre")
  if fault then
    if tonumber(fault) then return fault_status(ep, fault) end
    return { action = fault, why = "fault " .. fault }
  end
  return HANDLERS[ep](req)
end

-- ------------------------------------------------------------------ HTTP

local logf = assert(io.open(opts.log, "a"))
logf:setvbuf("line")
local seen = 0
local open_handles = {}

local function close(h)
  if h and not h:is_closing() then h:close() end
  open_handles[h] = nil
end

local HUGE_SIZE = 20 * 1024 * 1024
local huge_body

local function send(client, r)
  local lines = { ("HTTP/1.1 %d %s"):format(r.status, REASONS[r.status] or "Status") }
  for _, hv in ipairs(r.headers) do lines[#lines + 1] = hv[1] .. ": " .. hv[2] end
  lines[#lines + 1] = "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(now()))
  lines[#lines + 1] = "Content-Length: " .. #r.body
  lines[#lines + 1] = "Connection: close"
  client:write(table.concat(lines, "\r\n") .. "\r\n\r\n" .. r.body)
  client:shutdown(function() close(client) end)
end

local function act(client, action)
  if action == "drop" then
    close(client)
  elseif action == "hang" then
    -- Unanswered; the connection stays open until the client goes.
    client:read_start(function(err, data) if err or not data then close(client) end end)
  elseif action == "huge" then
    huge_body = huge_body or ('{"auths":{"' .. ("x"):rep(HUGE_SIZE - 17) .. '":{}}}')
    send(client, { status = 200, body = huge_body, headers = { { "Content-Type", "application/json" } } })
  elseif action == "endless" then
    client:write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      .. "Connection: close\r\n\r\n" .. ("%x\r\n%s\r\n"):format(9, '{"auths":'))
    local chunk = ("%x\r\n%s\r\n"):format(65536, (" "):rep(65536))
    local t = uv.new_timer()
    t:start(0, 1, function()
      if client:is_closing() then close(t) return end
      if client:get_write_queue_size() < 1 << 20 then
        client:write(chunk, function(err) if err then close(client) end end)
      end
    end)
    client:read_start(function(err, data) if err or not data then close(client) end end)
  end
end

local MAX_HEAD, MAX_BODY = 64 * 1024, 1024 * 1024

-- Decodes a complete chunked body from buf; returns body, rest or nil.
local function dechunk(buf)
  local out, pos = {}, 1
  while true do
    local line_end = buf:find("\r\n", pos, true)
    if not line_end then return nil end
    local size = tonumber(buf:sub(pos, line_end - 1):match("^%x+"), 16)
    if not size then return false end
    if size == 0 then
      local fin = buf:find("\r\n\r\n", line_end, true)
      if not fin then return nil end
      return table.concat(out), buf:sub(fin + 4)
    end
    if #buf < line_end + 1 + size + 2 then return nil end
    out[#out + 1] = buf:sub(line_end + 2, line_end + 1 + size)
    pos = line_end + 2 + size + 2
  end
end

local function handle(client)
  open_handles[client] = true
  local buf, head, req = "", nil, nil
  local idle = uv.new_timer()
  idle:start(30000, 0, function() close(idle); close(client) end)
  local function finish(r)
    close(idle)
    client:read_stop()
    seen = seen + 1
    local why = (r.why or ""):gsub("[%c]", "?")
    local target = (req and (req.method .. " " .. req.target) or "? ?"):gsub("%c", "?")
    if r.action then
      logf:write(("%d %s -> %s %s\n"):format(seen, target, r.action, why))
      act(client, r.action)
    else
      logf:write(("%d %s -> %d %s\n"):format(seen, target, r.status, why))
      send(client, r)
    end
  end
  client:read_start(function(err, data)
    if err or not data then close(idle) close(client) return end
    buf = buf .. data
    if not head then
      local e = buf:find("\r\n\r\n", 1, true)
      if not e then
        if #buf > MAX_HEAD then req = nil finish(text_resp(431, "", "request head too large")) end
        return
      end
      head, buf = buf:sub(1, e - 1), buf:sub(e + 4)
      local method, target = head:match("^(%u+) (%S+) HTTP/1%.[01]\r?\n?")
      if not method then
        req = nil
        return finish(text_resp(400, "Bad Request\n", "not an HTTP/1.x request"))
      end
      local path, query = target:match("^([^?]*)%??(.*)$")
      req = { method = method, target = target, path = path, query = query, h = {}, dup = {} }
      for line in head:gmatch("\r\n([^\r\n]*)") do
        local n, v = line:match("^([^:%s]+):%s*(.-)%s*$")
        if n then
          n = n:lower()
          if req.h[n] then req.dup[n] = true else req.h[n] = v end
        end
      end
      if (req.h["expect"] or ""):lower() == "100-continue" then client:write("HTTP/1.1 100 Continue\r\n\r\n") end
    end
    local body
    if (req.h["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
      local b = dechunk(buf)
      if b == false then return finish(text_resp(400, "Bad Request\n", "bad chunked body")) end
      body = b
    else
      local len = tonumber(req.h["content-length"] or "0")
      if not len or len < 0 then return finish(text_resp(400, "Bad Request\n", "bad Content-Length")) end
      if len > MAX_BODY then return finish(text_resp(413, "", "body too large")) end
      if #buf >= len then body = buf:sub(1, len) end
    end
    if #buf > MAX_BODY + 65536 then return finish(text_resp(413, "", "body too large")) end
    if not body then return end
    req.body = body
    local ok, r = pcall(dispatch, req)
    if not ok then
      io.stderr:write("hwmock: ", tostring(r), "\n")
      r = text_resp(500, "mock error\n", "mock error (see its stderr)")
    end
    finish(r)
  end)
end

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", 0))
assert(server:listen(128, function(err)
  if err then return end
  local client = uv.new_tcp()
  server:accept(client)
  handle(client)
end))
uv.fs_mkdir(STATE, tonumber("700", 8))
local tmp = opts.port_file .. ".tmp"
local pf = assert(io.open(tmp, "w"))
pf:write(server:getsockname().port, "\n")
pf:close()
assert(os.rename(tmp, opts.port_file))

local function quit()
  close(server)
  for h in pairs(open_handles) do close(h) end
  uv.stop()
end
for _, sig in ipairs { "sigterm", "sigint" } do
  local s = uv.new_signal()
  s:start(sig, quit)
end
uv.run()
os.exit(0)

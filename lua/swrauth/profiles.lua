--- Credentials kept by other Huawei Cloud tools:
--
-- - the SDKs' profile file: `$HUAWEICLOUD_SDK_CREDENTIALS_FILE`, else
--   `~/.huaweicloud/credentials`, an INI file whose `[basic]` section has
--   `ak`, `sk`, `security_token`, `project_id`, `iam_endpoint`, `idp_id`,
--   `id_token_file`;
-- - KooCLI's `~/.hcloud/config.json`: its profiles (`profiles`, the one
--   named by `current`, else `default`, else the first) in `AKSK` mode with
--   `accessKeyId`, `secretAccessKey`, `securityToken`, `projectId`; a
--   profile KooCLI keeps encrypted cannot be read.
--
-- Each reader returns a table of what it found, false when the file is
-- not there, or nil and a message naming the file.
--
-- @module swrauth.profiles
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local fs = require "swrauth.fs"

local type, ipairs, format = type, ipairs, string.format

local function nonempty(v)
  if v == "" then return nil end
  return v
end

--- The sections of an INI text: `{[section] = {key = value}}`; `;` and
-- `#` start comments; keys are lowercased, values trimmed.
function M.ini(text)
  local sections, cur = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", ""):gsub("^%s+", ""):gsub("%s+$", "")
    local name = line:match("^%[%s*(.-)%s*%]$")
    if name then
      cur = sections[name] or {}
      sections[name] = cur
    elseif line ~= "" and not line:find("^[;#]") and cur then
      local k, v = line:match("^([^=:]-)%s*[=:]%s*(.*)$")
      if k then cur[k:lower()] = v end
    end
  end
  return sections
end

-- The file's text, or false when `optional` and it is not there, or nil
-- and a message; warns when others may read it.
local function read(path, what, optional, warn)
  local mode, ftype = fs.mode(path)
  if not mode then
    if optional then return false end
    return nil, what .. " " .. path .. ": " .. tostring(ftype)
  end
  if mode % 64 ~= 0 and warn then
    warn(format("warning: %s %s has mode %04o: it holds secrets and should be readable by its "
      .. "owner only (chmod 600 %s)", what, path, mode, path))
  end
  local text, err = fs.read(path)
  if not text then return nil, what .. " " .. path .. ": " .. tostring(err) end
  return text
end

--- The SDKs' profile file's `[basic]` section.
-- @tparam function getenv
-- @tparam[opt] function warn
-- @treturn table|false|nil `{ak=, sk=, token=, project_id=,
--   iam_endpoint=, idp_id=, id_token_file=, path=}`
-- @treturn[2] string what is wrong
function M.sdk(getenv, warn)
  local given = nonempty(getenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE"))
  local path = given or (fs.home(getenv) .. "/.huaweicloud/credentials")
  local text, err = read(path, "credentials profile", not given, warn)
  if not text then return text, err end
  local basic = M.ini(text).basic
  if not basic then return false end
  local p = {ak = nonempty(basic.ak), sk = nonempty(basic.sk), token = nonempty(basic.security_token),
             project_id = nonempty(basic.project_id), iam_endpoint = nonempty(basic.iam_endpoint),
             idp_id = nonempty(basic.idp_id), id_token_file = nonempty(basic.id_token_file), path = path}
  if (p.idp_id and p.id_token_file) or (p.ak and p.sk) then return p end
  return nil, "credentials profile " .. path .. ": [basic] has neither ak and sk nor idp_id and "
    .. "id_token_file"
end

local function looks_plain(v, pattern)
  return type(v) == "string" and v:find(pattern) ~= nil
end

--- KooCLI's profile.
-- @tparam function getenv
-- @tparam[opt] function warn
-- @treturn table|false|nil `{ak=, sk=, token=, project_id=, name=, path=}`
-- @treturn[2] string what is wrong
function M.koocli(getenv, warn)
  local path = fs.home(getenv) .. "/.hcloud/config.json"
  local text, err = read(path, "KooCLI config", true, warn)
  if not text then return text, err end
  local doc, msg, line, col = json.parse(text)
  if type(doc) ~= "table" then
    return nil, format("KooCLI config %s: line %s, column %s: %s", path, line or "?", col or "?",
                       msg or "not a JSON object")
  end
  local profiles = type(doc.profiles) == "table" and doc.profiles or {}
  local want = type(doc.current) == "string" and doc.current or nil
  local chosen
  for _, p in ipairs(profiles) do
    if type(p) == "table" and (p.name == want or (not want and p.name == "default")) then chosen = p end
  end
  chosen = chosen or (not want and type(profiles[1]) == "table" and profiles[1]) or nil
  if not chosen then return false end
  local name = type(chosen.name) == "string" and chosen.name or "?"
  if chosen.mode ~= nil and chosen.mode ~= "AKSK" then return false end
  local ak, sk = nonempty(chosen.accessKeyId), nonempty(chosen.secretAccessKey)
  if not ak and not sk then return false end
  if not (looks_plain(ak, "^[%w]+$") and swrauth.check("ak", ak) and looks_plain(sk, "^[%w]+$")) then
    return nil, "KooCLI config " .. path .. ": profile '" .. name .. "' holds its access key "
      .. "encrypted (or malformed): keep it in plain text with 'hcloud configure set "
      .. "--cli-profile=" .. name .. " --cli-auth-encrypt=false', or use another source"
  end
  return {ak = ak, sk = sk, token = nonempty(chosen.securityToken),
          project_id = nonempty(chosen.projectId), name = name, path = path}
end

return M

--- Registry logins in the forms other tools take: a Kubernetes
-- `kubernetes.io/dockerconfigjson` Secret, containerd's CRI registry auth
-- (`config.toml`), GitLab CI's `DOCKER_AUTH_CONFIG`, crictl's `--auth`.
--
-- Each function returns the text, byte for byte what the tool's own
-- writer gives (kubectl's `create secret docker-registry --dry-run=client`,
-- Go's `encoding/json`); misuse raises "bad argument #1 to 'NAME' (...)".
--
-- @module swrauth.exports
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local fields = require "swrauth.fields"

local type, error, tonumber = type, error, tonumber
local byte, find, format = string.byte, string.find, string.format
local concat = table.concat

-- Misuse: "bad argument #1 to 'FNAME' (MSG)" at the caller's caller.
local function argcheck(cond, fname, msg)
  if not cond then error(format("bad argument #1 to '%s' (%s)", fname, msg), 3) end
end

local function check_string(v, fname, what)
  argcheck(type(v) == "string", fname, "string expected, got " .. type(v))
  argcheck(v ~= "", fname, what .. " is empty")
end

local function check_fields(opts, fname, known)
  argcheck(type(opts) == "table", fname, "table expected, got " .. type(opts))
  local ok, err = fields.check(opts, known)
  argcheck(ok, fname, err)
end

local function check_registry(v, fname)
  check_string(v, fname, "registry")
  argcheck(not find(v, "[%s%c]"), fname, "registry contains whitespace or a control character")
  argcheck(not find(v, "://", 1, true), fname, "registry must be HOST[:PORT], without a scheme")
end

-- The credentials every format takes (`registry` false: no registry).
local function check_cred(opts, fname, registry)
  if registry ~= false then check_registry(opts.registry, fname) end
  check_string(opts.username, fname, "field 'username'")
  argcheck(not find(opts.username, ":", 1, true), fname, "field 'username' contains ':'")
  check_string(opts.password, fname, "field 'password'")
end

--- The `.dockerconfigjson` document kubectl puts in a
-- `kubernetes.io/dockerconfigjson` Secret:
-- `{"auths":{REGISTRY:{"username":..,"password":..,"email":..,"auth":..}}}`.
-- @tparam table opts `registry`, `username`, `password`, `email` (optional)
-- @treturn string
function M.dockerconfigjson(opts)
  check_fields(opts, "dockerconfigjson",
    {registry = "string", username = "string", password = "string", email = "string"})
  check_cred(opts, "dockerconfigjson")
  local entry = {
    username = opts.username, password = opts.password,
    auth = swrauth.base64(opts.username .. ":" .. opts.password),
  }
  if opts.email and opts.email ~= "" then entry.email = opts.email end
  return json.encode({auths = {[opts.registry] = entry}}, {
    order = function(_, depth)
      if depth == 2 then return {"username", "password", "email", "auth"} end
    end,
  })
end

--- Whether `s` is a DNS-1123 subdomain (a Secret's name).
function M.dns_subdomain(s)
  if #s > 253 then return false end
  for part in (s .. "."):gmatch("([^.]*)%.") do
    if not find(part, "^[a-z0-9]$") and not find(part, "^[a-z0-9][a-z0-9-]*[a-z0-9]$") then
      return false
    end
  end
  return true
end

--- Whether `s` is a DNS-1123 label (a namespace).
function M.dns_label(s)
  return #s <= 63 and (find(s, "^[a-z0-9]$") or find(s, "^[a-z0-9][a-z0-9-]*[a-z0-9]$")) ~= nil
end

local YAML_WORDS = {y = true, yes = true, n = true, no = true, ["true"] = true, ["false"] = true,
                    on = true, off = true, null = true}

-- A name as kubectl's YAML writer prints it: quoted when YAML would read
-- it as something other than a string (a number, a boolean, a date).
local function yaml_name(s)
  local quote = YAML_WORDS[s]
    or tonumber(s) ~= nil
    or find(s, "^0[box][%x_]+$") ~= nil
    or find(s, "^%d%d%d%d%-%d%d?%-%d%d?$") ~= nil
  if quote then return '"' .. s .. '"' end
  return s
end

--- A `kubernetes.io/dockerconfigjson` Secret, byte for byte what
-- `kubectl create secret docker-registry NAME --docker-server=REGISTRY
-- --docker-username=USER --docker-password=PASSWORD [--docker-email=EMAIL]
-- [-n NAMESPACE] --dry-run=client -o yaml|json` prints.
-- @tparam table opts `name` (a DNS-1123 subdomain), `registry`,
--   `username`, `password`, `email`, `namespace` (a DNS-1123 label),
--   `format` (`"yaml"`, the default, or `"json"`)
-- @treturn string
function M.kubernetes_secret(opts)
  check_fields(opts, "kubernetes_secret", {
    name = "string", registry = "string", username = "string", password = "string",
    email = "string", namespace = "string", format = "string",
  })
  check_string(opts.name, "kubernetes_secret", "field 'name'")
  argcheck(M.dns_subdomain(opts.name), "kubernetes_secret",
    "field 'name' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')")
  if opts.namespace ~= nil then
    argcheck(M.dns_label(opts.namespace), "kubernetes_secret",
      "field 'namespace' must be a DNS-1123 label (lowercase letters, digits and '-')")
  end
  local fmt = opts.format or "yaml"
  argcheck(fmt == "yaml" or fmt == "json", "kubernetes_secret",
    "field 'format' must be 'yaml' or 'json'")
  local data = swrauth.base64(M.dockerconfigjson{
    registry = opts.registry, username = opts.username, password = opts.password,
    email = opts.email,
  })
  if fmt == "json" then
    local lines = {
      "{",
      '    "kind": "Secret",',
      '    "apiVersion": "v1",',
      '    "metadata": {',
      '        "name": ' .. json.quote(opts.name) .. ",",
    }
    if opts.namespace then
      lines[#lines + 1] = '        "namespace": ' .. json.quote(opts.namespace) .. ","
    end
    lines[#lines + 1] = '        "creationTimestamp": null'
    lines[#lines + 1] = "    },"
    lines[#lines + 1] = '    "data": {'
    lines[#lines + 1] = '        ".dockerconfigjson": "' .. data .. '"'
    lines[#lines + 1] = "    },"
    lines[#lines + 1] = '    "type": "kubernetes.io/dockerconfigjson"'
    lines[#lines + 1] = "}"
    return concat(lines, "\n") .. "\n"
  end
  local lines = {
    "apiVersion: v1",
    "data:",
    "  .dockerconfigjson: " .. data,
    "kind: Secret",
    "metadata:",
    "  creationTimestamp: null",
    "  name: " .. yaml_name(opts.name),
  }
  if opts.namespace then lines[#lines + 1] = "  namespace: " .. yaml_name(opts.namespace) end
  lines[#lines + 1] = "type: kubernetes.io/dockerconfigjson"
  return concat(lines, "\n") .. "\n"
end

-- A TOML basic string.
local function toml_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local b = byte(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    local named = {[8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r"}
    return named[b] or format("\\u%04X", b)
  end) .. '"'
end

--- containerd's CRI registry auth for `config.toml`: a file of its own
-- (for `imports`) or a block to paste. Config version 2 (containerd 1.x,
-- plugin `io.containerd.grpc.v1.cri`) or 3 (containerd 2.x, plugin
-- `io.containerd.cri.v1.images`).
-- @tparam table opts `registry`, `username`, `password`, `version` (2 or 3,
--   default 2)
-- @treturn string
function M.containerd_toml(opts)
  check_fields(opts, "containerd_toml",
    {registry = "string", username = "string", password = "string", version = "number"})
  check_cred(opts, "containerd_toml")
  local version = opts.version or 2
  argcheck(version == 2 or version == 3, "containerd_toml", "field 'version' must be 2 or 3")
  local plugin = version == 3 and "io.containerd.cri.v1.images" or "io.containerd.grpc.v1.cri"
  return format("version = %d\n\n[plugins.%s.registry.configs.%s.auth]\n  username = %s\n  password = %s\n",
    version, toml_string(plugin), toml_string(opts.registry), toml_string(opts.username),
    toml_string(opts.password))
end

--- GitLab CI's `DOCKER_AUTH_CONFIG` value (a docker config.json in one
-- line): `{"auths":{REGISTRY:{"auth":BASE64}}}`, or with `helper`
-- `{"credHelpers":{REGISTRY:HELPER}}` (no secret; the runner needs the
-- helper installed and the credentials in its environment).
-- @tparam table opts `registry`, and `username` + `password` or `helper`
-- @treturn string
function M.gitlab_auth_config(opts)
  check_fields(opts, "gitlab_auth_config",
    {registry = "string", username = "string", password = "string", helper = "string"})
  if opts.helper then
    check_registry(opts.registry, "gitlab_auth_config")
    argcheck(opts.username == nil and opts.password == nil, "gitlab_auth_config",
      "give either 'helper' or 'username' and 'password'")
    argcheck(opts.helper ~= "" and not find(opts.helper, "[^%w._-]"), "gitlab_auth_config",
      "field 'helper' may hold only letters, digits, '.', '_' and '-'")
    return json.encode({credHelpers = {[opts.registry] = opts.helper}})
  end
  check_cred(opts, "gitlab_auth_config")
  return json.encode({auths = {[opts.registry] = {
    auth = swrauth.base64(opts.username .. ":" .. opts.password)}}})
end

--- crictl's `--auth` value: base64 of `USER:PASSWORD`.
-- @tparam table opts `username`, `password`
-- @treturn string
function M.crictl_auth(opts)
  check_fields(opts, "crictl_auth", {username = "string", password = "string"})
  check_cred(opts, "crictl_auth", false)
  return swrauth.base64(opts.username .. ":" .. opts.password)
end

return M

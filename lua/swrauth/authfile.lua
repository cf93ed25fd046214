--- Registry auth files: docker's `config.json`, containers' `auth.json`,
-- and the other places registry credentials go (a Kubernetes
-- `kubernetes.io/dockerconfigjson` Secret, containerd's CRI `config.toml`,
-- GitLab's `DOCKER_AUTH_CONFIG`, crictl's `--auth`).
--
-- Writers of `config.json` and `auth.json` read the file, change one
-- registry's entry and write it back with every other field and entry
-- kept, in the layout docker itself writes (`json.MarshalIndent` with a
-- tab: docker's field order at the top and in each entry, other keys
-- sorted, HTML characters escaped, no trailing newline). The new file is
-- written beside the old one (mode 0600), synced, and renamed over it,
-- all under an `fcntl` lock on `FILE.lock`, so concurrent writers lose
-- nothing and a reader never sees half a file. A file that does not
-- parse, or whose `auths` is not an object, is never written: the error
-- names the file, line and column, and the file stays byte for byte as
-- it was. A missing directory is created with mode 0700.
--
-- Misuse (a wrong type, an empty or malformed registry) raises; runtime
-- failures return `nil, message`. No message holds a password or an
-- `auth` value.
--
-- Uses `lua-luv` (files) and `lua-filesystem` (the lock).
--
-- @module swrauth.authfile
local M = {}

local json = require "swrauth.json"

local type, error, ipairs, pairs, tostring = type, error, ipairs, pairs, tostring
local byte, char, sub, find, format = string.byte, string.char, string.sub, string.find,
  string.format
local concat = table.concat

local uv, lfs -- loaded when a file is read or written

local function luv()
  if not uv then uv = require "luv" end
  return uv
end

--- How long a writer waits for the lock, in seconds.
M.LOCK_TIMEOUT = 30

--- The top-level keys of docker's config.json, in the order docker writes
-- them (its `ConfigFile` struct); other keys follow, sorted.
M.DOCKER_KEYS = {
  "auths", "HttpHeaders", "psFormat", "imagesFormat", "networksFormat", "pluginsFormat",
  "volumesFormat", "statsFormat", "detachKeys", "credsStore", "credHelpers",
  "serviceInspectFormat", "servicesFormat", "tasksFormat", "secretFormat", "configFormat",
  "nodesFormat", "pruneFilters", "proxies", "currentContext", "cliPluginsExtraDirs",
  "plugins", "aliases", "features", "experimental",
}
--- The keys of one `auths` entry, in docker's order (its `AuthConfig`).
M.AUTH_KEYS = {"username", "password", "auth", "email", "serveraddress", "identitytoken",
               "registrytoken"}
--- The keys of one `proxies` entry, in docker's order.
M.PROXY_KEYS = {"httpProxy", "httpsProxy", "noProxy", "ftpProxy", "allProxy"}

-- The key order for the object at `path` (see json.go_encode).
local function docker_order(path, depth)
  if depth == 0 then return M.DOCKER_KEYS end
  if depth == 2 then
    if path[1] == "auths" then return M.AUTH_KEYS end
    if path[1] == "proxies" then return M.PROXY_KEYS end
  end
  return nil
end

--- The text docker would write for a config document.
-- @tparam table doc
-- @treturn string
function M.encode(doc)
  return json.go_encode(doc, {indent = "\t", order = docker_order})
end

---------------------------------------------------------------- base64

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- Standard base64 with padding.
-- @tparam string s
-- @treturn string
function M.base64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = (v >> 18) & 63, (v >> 12) & 63
    local c3, c4 = (v >> 6) & 63, v & 63
    out[#out + 1] = sub(B64, c1 + 1, c1 + 1) .. sub(B64, c2 + 1, c2 + 1)
      .. (b and sub(B64, c3 + 1, c3 + 1) or "=") .. (c and sub(B64, c4 + 1, c4 + 1) or "=")
  end
  return concat(out)
end

local B64_INDEX = {}
for i = 1, 64 do B64_INDEX[byte(B64, i)] = i - 1 end

--- Decodes standard base64 (padding required, as Go's StdEncoding).
-- @treturn string|nil
function M.unbase64(s)
  if #s % 4 ~= 0 or find(s, "[^%w+/=]") or find(s, "=[^=]") or find(s, "===$") then
    return nil
  end
  local out = {}
  for i = 1, #s, 4 do
    local v, pad = 0, 0
    for k = i, i + 3 do
      local b = byte(s, k)
      if b == 61 then
        pad = pad + 1
        v = v * 64
      else
        v = v * 64 + B64_INDEX[b]
      end
    end
    local bytes = char((v >> 16) & 255, (v >> 8) & 255, v & 255)
    out[#out + 1] = sub(bytes, 1, 3 - pad)
  end
  return concat(out)
end

---------------------------------------------------------------- checks

local function argcheck(cond, n, fname, msg)
  if not cond then
    error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 3)
  end
end

local function check_string(v, n, fname, what)
  argcheck(type(v) == "string", n, fname, "string expected, got " .. type(v))
  argcheck(v ~= "", n, fname, what .. " is empty")
end

-- A registry key as docker and containers use it: HOST[:PORT], optionally
-- followed by a path (containers' namespaced entries); no whitespace,
-- control characters or scheme.
local function check_registry(v, n, fname)
  check_string(v, n, fname, "registry")
  argcheck(not find(v, "[%s%c]"), n, fname, "registry contains whitespace or a control character")
  argcheck(not find(v, "://", 1, true), n, fname, "registry must be HOST[:PORT], without a scheme")
end

---------------------------------------------------------------- paths

local function nonempty(v)
  if v == "" then return nil end
  return v
end

local function home(getenv)
  local h = nonempty(getenv("HOME"))
  if h then return h end
  local pw = luv().os_get_passwd()
  return pw and pw.homedir or "/"
end

--- Docker's config.json: `$DOCKER_CONFIG/config.json`, else
-- `$HOME/.docker/config.json`.
-- @tparam[opt] function getenv (default `os.getenv`)
-- @treturn string
function M.docker_path(getenv)
  getenv = getenv or os.getenv
  local dir = nonempty(getenv("DOCKER_CONFIG")) or home(getenv) .. "/.docker"
  return dir .. "/config.json"
end

--- Containers' auth.json (podman, buildah, skopeo): `$REGISTRY_AUTH_FILE`,
-- else `$XDG_RUNTIME_DIR/containers/auth.json`, else
-- `/run/containers/UID/auth.json` (containers-auth.json(5)).
-- @tparam[opt] function getenv (default `os.getenv`)
-- @treturn string
function M.containers_path(getenv)
  getenv = getenv or os.getenv
  local f = nonempty(getenv("REGISTRY_AUTH_FILE"))
  if f then return f end
  local run = nonempty(getenv("XDG_RUNTIME_DIR"))
  if run then return run .. "/containers/auth.json" end
  return "/run/containers/" .. tostring(luv().getuid()) .. "/auth.json"
end

local function dirname(path)
  local d = path:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

local function basename(path)
  return path:match("([^/]*)$")
end

-- The file a write must replace: a symlink's target (dangling or not), as
-- docker does, so a config.json linked from elsewhere stays a link.
local function resolve_link(path)
  local u = luv()
  for _ = 1, 40 do
    local st = u.fs_lstat(path)
    if not st or st.type ~= "link" then return path end
    local target = u.fs_readlink(path)
    if not target then return path end
    if sub(target, 1, 1) ~= "/" then target = dirname(path) .. "/" .. target end
    path = target
  end
  return nil, path .. ": too many levels of symbolic links"
end

-- Creates the missing directories of `dir` with mode 0700.
local function mkdir_p(dir)
  local u = luv()
  local st = u.fs_stat(dir)
  if st then
    if st.type ~= "directory" then return nil, dir .. ": not a directory" end
    return true
  end
  local parent = dirname(dir)
  if parent ~= dir then
    local ok, err = mkdir_p(parent)
    if not ok then return nil, err end
  end
  local ok, err, code = u.fs_mkdir(dir, tonumber("700", 8))
  if not ok and code ~= "EEXIST" then
    return nil, "cannot create directory " .. dir .. ": " .. tostring(err)
  end
  return true
end

-- luv's messages start with the errno name ("EACCES: permission denied:
-- /path"); keep the readable part.
local function uvmsg(err)
  err = tostring(err)
  return (err:gsub("^E%u+: ", ""):gsub(": /.*$", ""))
end

---------------------------------------------------------------- read

local function check_doc(doc, path)
  if type(doc) ~= "table" or json.is_array(doc) or doc == json.null then
    return nil, path .. ": not a JSON object (the file is left as it is)"
  end
  for _, field in ipairs{"auths", "credHelpers"} do
    local v = doc[field]
    if v == json.null then
      doc[field] = nil
    elseif v ~= nil and (type(v) ~= "table" or json.is_array(v) or json.number_text(v)) then
      return nil, path .. ": field '" .. field .. "' is not an object (the file is left as it is)"
    end
  end
  if doc.credsStore ~= nil and doc.credsStore ~= json.null and type(doc.credsStore) ~= "string" then
    return nil, path .. ": field 'credsStore' is not a string (the file is left as it is)"
  end
  return doc
end

--- Reads and parses an auth file.
-- A missing or empty file reads as an empty document `{auths = {}}`.
-- @tparam string path
-- @treturn table|nil the document (numbers kept as written)
-- @treturn[1] boolean whether the file exists
-- @treturn[2] string what is wrong: unreadable, not JSON (with line and
--   column), not an object, `auths` not an object
function M.read(path)
  argcheck(type(path) == "string", 1, "read", "string expected, got " .. type(path))
  local f, oerr, code = io.open(path, "rb")
  if not f then
    if code == 2 then return {auths = {}}, false end
    return nil, "cannot read " .. tostring(oerr)
  end
  local text, rerr = f:read("a")
  f:close()
  if not text then return nil, "cannot read " .. path .. ": " .. tostring(rerr) end
  if not find(text, "[^ \t\r\n]") then return {auths = {}}, true end
  -- Go (and so docker) would read invalid UTF-8 as U+FFFD and write that
  -- back: an entry would silently change. Such a file is not written.
  local valid, bad_at = utf8.len(text)
  if not valid then
    local before = sub(text, 1, bad_at - 1)
    local _, nl = before:gsub("\n", "")
    local col = bad_at - (before:match(".*\n()") or 1) + 1
    return nil, format("%s: line %d, column %d: invalid UTF-8 (the file is left as it is)",
      path, nl + 1, col)
  end
  local doc, msg, line, col = json.parse(text, {raw_numbers = true})
  if doc == nil then
    return nil, format("%s: line %d, column %d: %s (the file is left as it is)", path, line, col, msg)
  end
  local ok, err = check_doc(doc, path)
  if not ok then return nil, err end
  return doc, true
end

---------------------------------------------------------------- write

local counter = 0

-- A name for a temporary file beside `path`.
local function temp_name(path)
  local u = luv()
  counter = counter + 1
  local rnd = u.random and u.random(6)
  local suffix
  if rnd then
    suffix = rnd:gsub(".", function(c) return format("%02x", byte(c)) end)
  else
    suffix = format("%x%x", u.hrtime() % 0xffffffff, counter)
  end
  return dirname(path) .. "/." .. basename(path) .. "." .. tostring(u.os_getpid()) .. "." .. suffix
end

--- Writes a file atomically: a private temporary file in the same
-- directory (mode `mode`, default 0600), synced, renamed over `path`,
-- the directory synced. The owner of an existing file is kept when
-- running as root.
-- @tparam string path
-- @tparam string data
-- @tparam[opt] integer mode
-- @treturn true|nil
-- @treturn[2] string the reason
function M.write_atomic(path, data, mode)
  argcheck(type(path) == "string", 1, "write_atomic", "string expected, got " .. type(path))
  argcheck(type(data) == "string", 2, "write_atomic", "string expected, got " .. type(data))
  local u = luv()
  mode = mode or tonumber("600", 8)
  local old = u.fs_stat(path)
  local tmp = temp_name(path)
  local fd, oerr = u.fs_open(tmp, "wx", mode)
  if not fd then return nil, "cannot write " .. path .. ": " .. uvmsg(oerr) end
  local function fail(msg)
    u.fs_close(fd)
    u.fs_unlink(tmp)
    return nil, "cannot write " .. path .. ": " .. msg
  end
  local off = 0
  while off < #data do
    local n, werr = u.fs_write(fd, sub(data, off + 1), off)
    if not n then return fail(uvmsg(werr)) end
    off = off + n
  end
  u.fs_fchmod(fd, mode)
  if old and u.getuid() == 0 and (old.uid ~= 0 or old.gid ~= 0) then
    u.fs_fchown(fd, old.uid, old.gid)
  end
  local synced, serr = u.fs_fsync(fd)
  if not synced then return fail(uvmsg(serr)) end
  u.fs_close(fd)
  local ok, rerr = u.fs_rename(tmp, path)
  if not ok then
    u.fs_unlink(tmp)
    return nil, "cannot write " .. path .. ": " .. uvmsg(rerr)
  end
  local dfd = u.fs_open(dirname(path), "r", 0)
  if dfd then
    u.fs_fsync(dfd)
    u.fs_close(dfd)
  end
  return true
end

-- Takes the lock on `path`.lock; returns the handle to release.
local function lock(path, timeout)
  local u = luv()
  if not lfs then lfs = require "lfs" end
  local lockpath = path .. ".lock"
  local fd, oerr = u.fs_open(lockpath, "a", tonumber("600", 8))
  if not fd then return nil, "cannot write " .. path .. ": cannot create its lock file: " .. uvmsg(oerr) end
  u.fs_close(fd)
  local fh, ferr = io.open(lockpath, "r+")
  if not fh then return nil, "cannot write " .. path .. ": cannot open its lock file: " .. tostring(ferr) end
  local deadline = u.hrtime() + (timeout or M.LOCK_TIMEOUT) * 1e9
  local wait = 2
  while true do
    local ok, lerr = lfs.lock(fh, "w")
    if ok then return fh end
    if u.hrtime() > deadline then
      fh:close()
      return nil, "cannot write " .. path .. ": timed out waiting for the lock on " .. lockpath
        .. " (" .. tostring(lerr) .. ")"
    end
    u.sleep(wait)
    if wait < 50 then wait = wait * 2 end
  end
end

local function unlock(fh)
  lfs.unlock(fh)
  fh:close()
end

--- Takes the lock the writers take on an auth file (`FILE.lock` beside
-- the file a symlink points at; a missing directory is created with mode
-- 0700), for a program that rewrites the file itself, such as an engine's
-- `login`.
-- @tparam string path the auth file
-- @tparam[opt] number timeout seconds to wait (default `LOCK_TIMEOUT`)
-- @treturn function|nil releases the lock
-- @treturn[2] string why it could not be taken
function M.lock(path, timeout)
  argcheck(type(path) == "string" and path ~= "", 1, "lock", "non-empty string expected")
  local target, lerr = resolve_link(path)
  if not target then return nil, lerr end
  local ok, derr = mkdir_p(dirname(target))
  if not ok then return nil, "cannot lock " .. path .. ": " .. derr end
  local fh, kerr = lock(target, timeout)
  if not fh then return nil, kerr end
  return function() unlock(fh) end
end

--- Changes an auth file under its lock: reads it, calls `change(doc)`,
-- writes it back when `change` returns true.
-- @tparam string path
-- @tparam function change gets the document (a table, `{auths = {}}` for a
--   missing file) and returns true to write it, false to leave the file as
--   it is, or nil and a message to fail
-- @tparam[opt] table opts `create` (default true: false leaves a missing
--   file missing), `timeout` (seconds to wait for the lock)
-- @treturn true|nil
-- @treturn[1] boolean whether the file was written
-- @treturn[2] string the reason (the file is left as it is)
function M.update(path, change, opts)
  argcheck(type(path) == "string" and path ~= "", 1, "update", "non-empty string expected, got "
    .. (type(path) == "string" and "an empty string" or type(path)))
  argcheck(type(change) == "function", 2, "update", "function expected, got " .. type(change))
  opts = opts or {}
  local target, lerr = resolve_link(path)
  if not target then return nil, lerr end
  if opts.create == false then
    local st = luv().fs_stat(target)
    if not st then return true, false end
  end
  local ok, derr = mkdir_p(dirname(target))
  if not ok then return nil, "cannot write " .. path .. ": " .. derr end
  local fh, kerr = lock(target, opts.timeout)
  if not fh then return nil, kerr end
  local doc, existed = M.read(target)
  if not doc then
    unlock(fh)
    return nil, existed
  end
  if opts.create == false and not existed then
    unlock(fh)
    return true, false
  end
  local res = table.pack(pcall(change, doc))
  if not res[1] then
    unlock(fh)
    error(res[2], 0)
  end
  local want, cerr = res[2], res[3]
  if want == nil then
    unlock(fh)
    return nil, cerr
  end
  if not want then
    unlock(fh)
    return true, false
  end
  if type(doc.auths) ~= "table" then doc.auths = {} end
  local wok, werr = M.write_atomic(target, M.encode(doc))
  unlock(fh)
  if not wok then return nil, werr end
  return true, true
end

local function auths(doc)
  if type(doc.auths) ~= "table" then doc.auths = {} end
  return doc.auths
end

--- Stores a login: `auths[registry] = {auth = base64(user:password)}`,
-- replacing that registry's entry only.
-- @tparam string path
-- @tparam string registry `HOST[:PORT]`
-- @tparam string user no `:`
-- @tparam string password
-- @treturn true|nil
-- @treturn[2] string the reason
function M.login(path, registry, user, password, opts)
  argcheck(type(path) == "string", 1, "login", "string expected, got " .. type(path))
  check_registry(registry, 2, "login")
  check_string(user, 3, "login", "user")
  argcheck(not find(user, ":", 1, true), 3, "login", "user contains ':'")
  check_string(password, 4, "login", "password")
  local value = M.base64(user .. ":" .. password)
  return M.update(path, function(doc)
    local a = auths(doc)
    a[registry] = {auth = value}
    return true
  end, opts)
end

--- Removes one registry's login entry; a missing file stays missing.
-- @treturn true|nil
-- @treturn[1] boolean whether there was an entry
-- @treturn[2] string the reason
function M.logout(path, registry, opts)
  argcheck(type(path) == "string", 1, "logout", "string expected, got " .. type(path))
  check_registry(registry, 2, "logout")
  local removed = false
  local ok, err = M.update(path, function(doc)
    local a = auths(doc)
    if a[registry] == nil then return false end
    a[registry] = nil
    removed = true
    return true
  end, {create = false, timeout = opts and opts.timeout})
  if not ok then return nil, err end
  return true, removed
end

--- Sets `credHelpers[registry] = helper` (docker then runs
-- `docker-credential-HELPER` for that registry).
-- @treturn true|nil
-- @treturn[1] boolean whether the file changed
-- @treturn[2] string the reason
function M.set_helper(path, registry, helper, opts)
  argcheck(type(path) == "string", 1, "set_helper", "string expected, got " .. type(path))
  check_registry(registry, 2, "set_helper")
  check_string(helper, 3, "set_helper", "helper")
  argcheck(not find(helper, "[^%w._-]"), 3, "set_helper",
    "helper name may hold only letters, digits, '.', '_' and '-'")
  local changed = false
  local ok, err = M.update(path, function(doc)
    local h = doc.credHelpers
    if h == nil then h = {}; doc.credHelpers = h end
    if h[registry] == helper then return false end
    h[registry] = helper
    changed = true
    return true
  end, opts)
  if not ok then return nil, err end
  return true, changed
end

--- Removes `credHelpers[registry]`; a missing file stays missing.
-- @treturn true|nil
-- @treturn[1] boolean whether there was an entry
-- @treturn[2] string the reason
function M.remove_helper(path, registry, opts)
  argcheck(type(path) == "string", 1, "remove_helper", "string expected, got " .. type(path))
  check_registry(registry, 2, "remove_helper")
  local removed = false
  local ok, err = M.update(path, function(doc)
    local h = doc.credHelpers
    if h == nil or h[registry] == nil then return false end
    h[registry] = nil
    if next(h) == nil then doc.credHelpers = nil end
    removed = true
    return true
  end, {create = false, timeout = opts and opts.timeout})
  if not ok then return nil, err end
  return true, removed
end

--- Sets `credsStore` (the helper docker uses for every registry), or
-- removes it when `helper` is nil.
-- @treturn true|nil
-- @treturn[2] string the reason
function M.set_store(path, helper, opts)
  argcheck(type(path) == "string", 1, "set_store", "string expected, got " .. type(path))
  argcheck(helper == nil or type(helper) == "string", 2, "set_store",
    "string or nil expected, got " .. type(helper))
  return M.update(path, function(doc)
    if doc.credsStore == helper then return false end
    doc.credsStore = helper
    return true
  end, opts)
end

--- The user and password of a registry's entry, or nil.
-- @treturn string|nil user
-- @treturn string|nil password
function M.entry(doc, registry)
  local e = type(doc) == "table" and type(doc.auths) == "table" and doc.auths[registry]
  if type(e) ~= "table" then return nil end
  if type(e.auth) == "string" and e.auth ~= "" then
    local plain = M.unbase64(e.auth)
    if not plain then return nil end
    local u, p = plain:match("^([^:]*):(.*)$")
    return u, p
  end
  if type(e.username) == "string" then
    return e.username, type(e.password) == "string" and e.password or nil
  end
  return nil
end

------------------------------------------------------ other formats

-- The fields every format takes.
local function check_cred(opts, fname)
  argcheck(type(opts) == "table", 1, fname, "table expected, got " .. type(opts))
  check_registry(opts.registry, 1, fname)
  check_string(opts.username, 1, fname, "field 'username'")
  argcheck(not find(opts.username, ":", 1, true), 1, fname, "field 'username' contains ':'")
  check_string(opts.password, 1, fname, "field 'password'")
end

local function check_fields(opts, fname, known)
  for k in pairs(opts) do
    argcheck(known[k], 1, fname, "unknown field '" .. tostring(k) .. "'")
  end
  for k, v in pairs(opts) do
    local want = known[k]
    argcheck(type(v) == want, 1, fname, "field '" .. k .. "' must be a " .. want .. ", got " .. type(v))
  end
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
    auth = M.base64(opts.username .. ":" .. opts.password),
  }
  if opts.email and opts.email ~= "" then entry.email = opts.email end
  return json.go_encode({auths = {[opts.registry] = entry}}, {
    order = function(_, depth)
      if depth == 2 then return {"username", "password", "email", "auth"} end
    end,
  })
end

-- DNS-1123 subdomain (Secret names) and label (namespaces).
local function dns_subdomain(s)
  if #s > 253 then return false end
  for part in (s .. "."):gmatch("([^.]*)%.") do
    if not find(part, "^[a-z0-9]$") and not find(part, "^[a-z0-9][a-z0-9-]*[a-z0-9]$") then
      return false
    end
  end
  return true
end

local function dns_label(s)
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
  check_string(opts.name, 1, "kubernetes_secret", "field 'name'")
  argcheck(dns_subdomain(opts.name), 1, "kubernetes_secret",
    "field 'name' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')")
  if opts.namespace ~= nil then
    argcheck(dns_label(opts.namespace), 1, "kubernetes_secret",
      "field 'namespace' must be a DNS-1123 label (lowercase letters, digits and '-')")
  end
  local fmt = opts.format or "yaml"
  argcheck(fmt == "yaml" or fmt == "json", 1, "kubernetes_secret",
    "field 'format' must be 'yaml' or 'json'")
  local data = M.base64(M.dockerconfigjson{
    registry = opts.registry, username = opts.username, password = opts.password,
    email = opts.email,
  })
  if fmt == "json" then
    local lines = {
      "{",
      '    "kind": "Secret",',
      '    "apiVersion": "v1",',
      '    "metadata": {',
      '        "name": ' .. json.go_string(opts.name) .. ",",
    }
    if opts.namespace then
      lines[#lines + 1] = '        "namespace": ' .. json.go_string(opts.namespace) .. ","
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
  argcheck(version == 2 or version == 3, 1, "containerd_toml", "field 'version' must be 2 or 3")
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
    check_registry(opts.registry, 1, "gitlab_auth_config")
    argcheck(opts.username == nil and opts.password == nil, 1, "gitlab_auth_config",
      "give either 'helper' or 'username' and 'password'")
    argcheck(opts.helper ~= "" and not find(opts.helper, "[^%w._-]"), 1, "gitlab_auth_config",
      "field 'helper' may hold only letters, digits, '.', '_' and '-'")
    return json.go_encode({credHelpers = {[opts.registry] = opts.helper}})
  end
  check_cred(opts, "gitlab_auth_config")
  return json.go_encode({auths = {[opts.registry] = {
    auth = M.base64(opts.username .. ":" .. opts.password)}}})
end

--- crictl's `--auth` value: base64 of `USER:PASSWORD`.
-- @tparam table opts `username`, `password`
-- @treturn string
function M.crictl_auth(opts)
  check_fields(opts, "crictl_auth", {username = "string", password = "string"})
  check_string(opts.username, 1, "crictl_auth", "field 'username'")
  argcheck(not find(opts.username, ":", 1, true), 1, "crictl_auth", "field 'username' contains ':'")
  check_string(opts.password, 1, "crictl_auth", "field 'password'")
  return M.base64(opts.username .. ":" .. opts.password)
end

return M

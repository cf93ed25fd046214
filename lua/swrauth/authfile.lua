--- The registry auth files: docker's `config.json` and containers'
-- `auth.json` (podman, buildah, skopeo), read and changed under a lock.
--
-- A writer reads the file, changes one registry's entry and writes it
-- back with every other field and entry kept, in the layout docker itself
-- writes (`json.MarshalIndent` with a tab: docker's field order at the
-- top and in each entry, other keys sorted, HTML characters escaped, no
-- trailing newline). The new file replaces the old one atomically (see
-- `swrauth.fs.write_atomic`), all under an `fcntl` lock on `FILE.lock`,
-- so concurrent writers lose nothing and a reader never sees half a file.
-- A file that does not parse, or whose `auths` is not an object, is
-- never written: the error names the file, line and column, and the file
-- stays byte for byte as it was. A missing directory is created 0700.
--
-- Engines that rewrite these files themselves (`docker login`) run under
-- the same lock (`guard`).
--
-- Misuse (a wrong type, an empty or malformed registry) raises; runtime
-- failures return `nil, message`. No message holds a password or an
-- `auth` value.
--
-- @module swrauth.authfile
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local fs = require "swrauth.fs"

local type, error, ipairs, tostring, next = type, error, ipairs, tostring, next
local find, format, sub = string.find, string.format, string.sub

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
  return json.encode(doc, {indent = "\t", order = docker_order})
end

---------------------------------------------------------------- checks

local function argcheck(cond, n, fname, msg)
  if not cond then error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 3) end
end

local function check_string(v, n, fname, what)
  argcheck(type(v) == "string", n, fname, "string expected, got " .. type(v))
  argcheck(v ~= "", n, fname, what .. " is empty")
end

-- A key of `auths` as docker and containers use it: HOST[:PORT],
-- optionally followed by a path (containers' namespaced entries); no
-- whitespace, control characters or scheme.
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

--- Docker's config.json: `$DOCKER_CONFIG/config.json`, else
-- `$HOME/.docker/config.json`.
-- @tparam[opt] function getenv (default `os.getenv`)
-- @treturn string
function M.docker_path(getenv)
  getenv = getenv or os.getenv
  return (nonempty(getenv("DOCKER_CONFIG")) or fs.home(getenv) .. "/.docker") .. "/config.json"
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
  return "/run/containers/" .. tostring(fs.getuid()) .. "/auth.json"
end

--- The file of a store: "docker" (config.json) or "containers" (auth.json).
function M.path(store, getenv)
  if store == "docker" then return M.docker_path(getenv) end
  if store == "containers" then return M.containers_path(getenv) end
  return nil
end

---------------------------------------------------------------- read

local function check_doc(doc, path)
  if type(doc) ~= "table" or json.is_array(doc) or doc == json.null then
    return nil, path .. ": not a JSON object (the file is left as it is)"
  end
  for _, field in ipairs {"auths", "credHelpers"} do
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

---------------------------------------------------------------- locks

-- The real file behind `path`, its directory made; or nil and a message.
local function target_of(path, verb)
  local target, lerr = fs.resolve_link(path)
  if not target then return nil, lerr end
  local ok, derr = fs.mkdir_p(fs.dirname(target))
  if not ok then return nil, "cannot " .. verb .. " " .. path .. ": " .. derr end
  return target
end

--- Takes the lock the writers take on an auth file (`FILE.lock` beside
-- the file a symlink points at; a missing directory is created 0700).
-- @tparam string path the auth file
-- @tparam[opt] number timeout seconds to wait (default `fs.LOCK_TIMEOUT`)
-- @treturn function|nil releases the lock
-- @treturn[2] string why it could not be taken
function M.lock(path, timeout)
  argcheck(type(path) == "string" and path ~= "", 1, "lock", "non-empty string expected")
  local target, err = target_of(path, "lock")
  if not target then return nil, err end
  local release, kerr = fs.lock(target, timeout)
  if not release then return nil, "cannot lock " .. path .. ": " .. kerr end
  return release
end

--- Before an engine rewrites an auth file itself (login, logout): the
-- lock swrauth's writers take, so that concurrent logins, which each
-- rewrite the whole file, keep each other's entries; and a check that the
-- file parses, since docker replaces a file it cannot parse with one
-- holding only its new login.
-- @tparam string path
-- @treturn function releases the lock (a no-op when it could not be taken)
-- @treturn string|nil why the lock could not be taken (the engine may
--   run without it)
-- @treturn[2] nil, nil, message: the file does not parse; the engine
--   must not run
function M.guard(path)
  local release, lerr = M.lock(path)
  local doc, rerr = M.read(path)
  if not doc then
    if release then release() end
    return nil, nil, rerr
  end
  return release or function() end, lerr
end

---------------------------------------------------------------- write

--- Changes an auth file under its lock: reads it, calls `change(doc)`,
-- writes it back when `change` returns true.
-- @tparam string path
-- @tparam function change gets the document (`{auths = {}}` for a missing
--   file) and returns true to write it, false to leave the file as it is,
--   or nil and a message to fail
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
  local target, terr = fs.resolve_link(path)
  if not target then return nil, terr end
  if opts.create == false and not fs.mode(target) then return true, false end
  local release, kerr = M.lock(path, opts.timeout)
  if not release then return nil, (kerr:gsub("^cannot lock", "cannot write")) end
  local doc, existed = M.read(target)
  if not doc then
    release()
    return nil, existed
  end
  if opts.create == false and not existed then
    release()
    return true, false
  end
  local ok, want, cerr = pcall(change, doc)
  if not ok then
    release()
    error(want, 0)
  end
  if not want then
    release()
    if want == nil then return nil, cerr end
    return true, false
  end
  if type(doc.auths) ~= "table" then doc.auths = {} end
  local wok, werr = fs.write_atomic(target, M.encode(doc))
  release()
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
  local value = swrauth.base64(user .. ":" .. password)
  return M.update(path, function(doc)
    auths(doc)[registry] = {auth = value}
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

local function check_helper(helper, n, fname)
  check_string(helper, n, fname, "helper")
  argcheck(not find(helper, "[^%w._-]"), n, fname,
    "helper name may hold only letters, digits, '.', '_' and '-'")
end

--- Sets `credHelpers[registry] = helper` (docker then runs
-- `docker-credential-HELPER` for that registry).
-- @treturn true|nil
-- @treturn[1] boolean whether the file changed
-- @treturn[2] string the reason
function M.set_helper(path, registry, helper, opts)
  argcheck(type(path) == "string", 1, "set_helper", "string expected, got " .. type(path))
  check_registry(registry, 2, "set_helper")
  check_helper(helper, 3, "set_helper")
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
    local plain = swrauth.unbase64(e.auth)
    if not plain then return nil end
    local u, p = plain:match("^([^:]*):(.*)$")
    return u, p
  end
  if type(e.username) == "string" then
    return e.username, type(e.password) == "string" and e.password or nil
  end
  return nil
end

--- A private auth file holding one login, for a program that reads its
-- credentials from a file of its own (`skopeo copy --dest-authfile`):
-- `auth.json` (0600) in a new 0700 temporary directory.
-- @treturn table|nil the temporary directory (`fs.tempdir`): `.auth` is
--   the auth file's path; `:remove()` when done
-- @treturn[2] string the reason
function M.private(registry, user, password)
  local dir, err = fs.tempdir()
  if not dir then return nil, err end
  local doc = {auths = {[registry] = {auth = swrauth.base64(user .. ":" .. password)}}}
  local file, ferr = dir:file("auth.json", M.encode(doc))
  if not file then
    dir:remove()
    return nil, ferr
  end
  dir.auth = file
  return dir
end

return M

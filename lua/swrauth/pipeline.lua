--- Release pipelines: log in, tag and push images to an SWR registry.
--
--     local pipeline = require "swrauth.pipeline"
--     local semver = require "swrauth.semver"
--     local p = pipeline.new{project = "cn-north-4", engine = "skopeo"}
--     local pushed, err = p:release{
--       source = "oci:build/app:1.4.2",
--       repository = "team/app",
--       tags = semver.tags("1.4.2", {latest = true}),
--     }
--
-- A pipeline runs steps and returns data; it prints nothing. Progress
-- comes as events to the `on_event` option (see `swrauth.steps`), and
-- `report()` tells what ran, what was pushed and what was not.
--
-- Misuse (unknown or mistyped options and arguments) raises at level 2.
-- Runtime failures (engine, registry, network, credentials) return
-- `nil, message, kind`: the message names the step ("push: ..."), and
-- `kind` is "credentials", "engine", "usage" or "runtime". Every event
-- and message has the key (and anything built from it) redacted.
--
-- @module swrauth.pipeline
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local text = require "swrauth.text"
local fs = require "swrauth.fs"
local fields = require "swrauth.fields"
local credentials = require "swrauth.credentials"
local authfile = require "swrauth.authfile"
local engines = require "swrauth.engines"
local registry = require "swrauth.registry"
local steps = require "swrauth.steps"
local proc = require "swrauth.proc"

local type, pairs, ipairs, tostring, error, setmetatable = type, pairs, ipairs, tostring, error,
  setmetatable
local floor, huge = math.floor, math.huge

--- Default option values.
M.DEFAULTS = {engine = "auto", insecure = false, dry_run = false, retries = 3, backoff = 1,
              backoff_max = 30, parallel_login = true, remote_tag = "auto"}

--- The options and their types (see docs/PIPELINE.md).
M.OPTIONS = {
  project = "string", region = "string", registry = "string", engine = "string",
  credentials = "table", credentials_file = "string", insecure = "boolean", cert_dir = "string",
  dry_run = "boolean", retries = "number", backoff = "number", backoff_max = "number",
  timeout = "number", parallel_login = "boolean", remote_tag = "string", env = "table",
  getenv = "function", on_event = "function", runner = "function", which = "function",
  sleep = "function",
}

--- Variables removed from the engines' environment.
M.SECRET_VARIABLES = {"HUAWEICLOUD_SDK_SK", "SWRAUTH_LOGIN_KEY"}

local function one_of(list)
  return function(v)
    for _, x in ipairs(list) do if v == x then return true end end
    return nil, "must be one of " .. table.concat(list, ", ")
  end
end

local function seconds(v)
  if v ~= v or v < 0 or v == huge then return nil, "must be a number of seconds >= 0" end
  return true
end

local RULES = {
  project = function(v) return swrauth.check("project", v) end,
  region = function(v)
    if v:find("_", 1, true) then return nil, "must be a region, without a sub-project" end
    return swrauth.check("project", v)
  end,
  registry = function(v) return swrauth.check("registry", v) end,
  engine = one_of(engines.CHOICES),
  remote_tag = one_of {"auto", "api", "engine"},
  retries = function(v)
    if math.tointeger(v) == nil or v < 1 then return nil, "must be an integer >= 1" end
    return true
  end,
  backoff = seconds, backoff_max = seconds,
  timeout = function(v)
    if v ~= v or v <= 0 or v == huge then
      return nil, "must be a number of seconds > 0 (leave it out for none)"
    end
    return true
  end,
  credentials = credentials.check_explicit,
  env = function(v)
    for k, x in pairs(v) do
      if type(k) ~= "string" or (type(x) ~= "string" and x ~= false) then
        return nil, "must map names to strings (or false)"
      end
    end
    return true
  end,
}

--- Checks one option's value.
-- @treturn true|nil
-- @treturn[2] string what is wrong, a predicate that reads after the
--   option's name ("must be an integer >= 1")
function M.check_option(name, v)
  local ok, err = fields.check({[name] = v}, M.OPTIONS, "option")
  if not ok then return nil, err end
  local rule = RULES[name]
  if rule then return rule(v) end
  return true
end

local P = {}
P.__index = P

-- Raises a misuse error at the caller's caller's level.
local function misuse(msg) error(msg, 3) end

--- Creates a pipeline. Nothing runs until a method is called.
-- @tparam table opts see `M.OPTIONS`; `project` (or `region`) is required
-- @treturn table the pipeline
-- @raise on an unknown option, a wrong type or a bad value
function M.new(opts)
  if type(opts) ~= "table" then misuse("pipeline.new: options must be a table, got " .. type(opts)) end
  for k, v in pairs(opts) do
    local ok, why = M.check_option(k, v)
    if not ok then
      if M.OPTIONS[k] == nil or why:find("^option") then misuse("pipeline.new: " .. why) end
      misuse("pipeline.new: option '" .. k .. "' " .. why)
    end
  end
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  local project = o.project or o.region
  if not project then misuse("pipeline.new: option 'project' is required (e.g. 'cn-north-4')") end
  local region = project:match("^[^_]+")
  if o.region and o.region ~= region then
    misuse("pipeline.new: option 'region' ('" .. o.region .. "') does not match the project's "
      .. "region ('" .. region .. "')")
  end
  -- Engines get this process's environment, less the variables that may
  -- hold the SK or the key: not even `env` may hand those to an engine.
  local env = {}
  for k, v in pairs(o.env or {}) do env[k] = v end
  for _, name in ipairs(M.SECRET_VARIABLES) do env[name] = false end
  o.env = env

  local self = setmetatable({
    o = o, project = project, region = region,
    registry = o.registry or swrauth.format("registry", {project = project}),
    red = text.redactor(), pushed = {}, planned = {}, planned_set = {}, failed = {},
    warned = {}, run = o.runner or proc.run_all, which = o.which or proc.which,
  }, P)
  self.steps = steps.new {
    retries = o.retries, backoff = o.backoff, backoff_max = o.backoff_max, timeout = o.timeout,
    run = self.run, env = env, sleep = o.sleep, dry_run = o.dry_run, on_event = o.on_event,
    redact = function(s) return self.red:redact(s) end,
  }
  -- An SK given here is turned into the key at once and not kept.
  if o.credentials then
    self.red:add(o.credentials.sk):add(o.credentials.key)
    self:_take(credentials.resolve {explicit = o.credentials, project = project})
    o.credentials = nil
  end
  return self
end

---------------------------------------------------------------- helpers

-- Keeps credentials found (or why there are none), redacting the key.
function P:_take(cred, err)
  if not cred then
    self.cred_err = err
    return
  end
  cred.user = swrauth.format("user", {project = self.project, ak = cred.ak})
  self.red:add(cred.key):add(swrauth.base64(cred.user .. ":" .. cred.key))
  self.cred = cred
end

-- A failure of a step: recorded, redacted, returned as nil, message, kind.
function P:_fail(step, msg, kind)
  local m = self.red:redact(step .. ": " .. msg)
  self.last_error = m
  return nil, m, kind or "runtime"
end

function P:_warn_once(id, msg)
  if self.warned[id] then return end
  self.warned[id] = true
  self.steps:warn(msg)
end

function P:_getenv(name)
  local v = self.o.env[name]
  if v == false then return nil end
  if v == nil then return os.getenv(name) end
  return v
end

--- The credentials, found once (see `swrauth.credentials`).
-- @treturn table|nil `{project=, ak=, key=, user=, source=}`
-- @treturn[2] string why there are none
function P:credentials()
  if not self.cred and not self.cred_err then
    self:_take(credentials.resolve {
      file = self.o.credentials_file, project = self.project, getenv = self.o.getenv,
      warn = function(msg) self.steps:warn(msg) end,
    })
  end
  return self.cred, self.cred_err
end

function P:_loopback()
  local host = self.registry:gsub(":%d+$", "")
  return host == "localhost" or host:find("^127%.") ~= nil
end

--- The engine table, picked once (see `swrauth.engines`).
-- @treturn table|nil
-- @treturn[2] string why it is missing
function P:engine()
  if self.eng then return self.eng end
  local name, path = self.o.engine, self:_getenv("PATH")
  local function which(bin) return self.which(bin, path) end
  local e, err
  if name == "auto" and self.source_hint and engines.transport(self.source_hint)
      and which(engines.skopeo.binary) then
    -- An image outside any engine's storage (oci:DIR, docker-archive:FILE,
    -- docker://REF): only skopeo pushes it as it is.
    e = engines.skopeo
  elseif name == "auto" then
    e, err = engines.detect(which, function(command)
      local res = self.run {{argv = command.argv, env = self.o.env, timeout = 10}}
      return res[1][1] ~= nil and res[1][1].status == 0
    end)
    if not e then return nil, err end
  else
    e = engines.get(name)
    if not self.o.dry_run and not which(e.binary) then return nil, engines.not_found(e) end
  end
  self.eng = e
  if e.name == "docker" and self.o.cert_dir then
    self:_warn_once("docker-cert", "warning: docker takes no CA directory: put the CA in "
      .. "/etc/docker/certs.d/" .. self.registry .. "/ca.crt on the daemon's host")
  end
  if e.name == "docker" and self.o.insecure and not self:_loopback() then
    self:_warn_once("docker-insecure", "warning: docker has no insecure flag: the daemon must "
      .. "list " .. self.registry .. " in \"insecure-registries\" (127.0.0.0/8 is insecure by "
      .. "default)")
  end
  return e
end

-- The user as shown in step lines: the AK shortened.
function P:_user_short()
  if not self.cred then return self.project end
  local ak = self.cred.ak
  if #ak > 8 then ak = ak:sub(1, 4) .. "…" end
  return self.project .. "@" .. ak
end

-- Removes a command context's temporary directories.
local function cleanup(c)
  for _, dir in ipairs(c.tmp) do dir:remove() end
  c.tmp = {}
end

-- A containerd hosts directory trusting the CA files in cert_dir, made in
-- a private temporary directory; a cert_dir that already is a hosts
-- directory for this registry is taken as it is.
function P:_hosts_dir(c)
  local dir = c.cert_dir
  if fs.mode(dir .. "/" .. self.registry .. "/hosts.toml") then
    c.hosts_dir = dir
    return true
  end
  if self.o.dry_run then
    c.hosts_dir = "$TMPDIR/hosts"
    return true
  end
  local entries, why = fs.list(dir)
  if not entries then return nil, "cert dir " .. dir .. ": " .. fs.message(why) end
  local cas = {}
  for _, ent in ipairs(entries) do
    if ent.name:find("%.crt$") then cas[#cas + 1] = fs.abspath(dir .. "/" .. ent.name) end
  end
  if #cas == 0 then
    return nil, "cert dir " .. dir .. " holds no .crt file (nor a hosts directory for "
      .. self.registry .. ")"
  end
  local tmp, terr = fs.tempdir()
  if not tmp then return nil, terr end
  c.tmp[#c.tmp + 1] = tmp
  local hosts = tmp.path .. "/hosts"
  fs.mkdir_p(hosts .. "/" .. self.registry)
  local ok, werr = tmp:file("hosts/" .. self.registry .. "/hosts.toml",
                            engines.hosts_toml(self.registry, cas))
  if not ok then return nil, werr end
  c.hosts_dir = hosts
  return true
end

-- Engine and command context for a step, or nil, message, kind. With
-- `key`, the user and key are in the context. `digest`: a digest file.
function P:_setup(step, key, digest)
  local e, eerr = self:engine()
  if not e then return self:_fail(step, eerr, "engine") end
  local c = {registry = self.registry, insecure = self.o.insecure, cert_dir = self.o.cert_dir,
             tmp = {}}
  if e.wants_hosts_dir and c.cert_dir and not c.insecure then
    local ok, err = self:_hosts_dir(c)
    if not ok then cleanup(c); return self:_fail(step, err, "usage") end
  end
  if key then
    local cred, cerr = self:credentials()
    if not cred then cleanup(c); return self:_fail(step, cerr, "credentials") end
    c.user, c.key = cred.user, cred.key
    if e.key_in_argv and step ~= "login" then
      self:_warn_once("ctr-key", "warning: ctr takes the login key only on its command line "
        .. "(--user USER:KEY): other local users can read it in the process list while ctr runs")
    end
  end
  if digest and e.wants_digestfile then
    if self.o.dry_run then
      c.digestfile = "$TMPDIR/digest"
    else
      local dir = fs.tempdir()
      if dir then
        c.tmp[#c.tmp + 1] = dir
        c.digestfile = dir.path .. "/digest"
      end
    end
  end
  return e, c
end

-- A command step for the engine's auth file (login, logout): run under
-- the auth-file lock, and not at all when the file does not parse.
function P:_auth_step(e, name, detail, command, retry)
  local path = authfile.path(e.auth_store, function(n) return self:_getenv(n) end)
  return {name = name, detail = detail, command = command, retry = retry, lock_path = path,
          guard = path and function() return authfile.guard(path) end}
end

-- The digest of what a command pushed: from its output or digest file,
-- else from the engine's query.
function P:_digest(e, c, res, ref)
  if self.o.dry_run then return nil end
  local d = e.digest and e.digest(res, c, ref)
  if not d and e.digest_query then
    local q = self.run {{argv = e.digest_query(c, ref).argv, env = self.o.env,
                         timeout = self.o.timeout}}
    if q[1][1] and q[1][1].status == 0 then d = engines.digest_in_query(q[1][1], ref) end
  end
  return d
end

-- After the command that pushed REF (`res`, or nil, err, kind): records
-- REF as pushed (returned as `{reference=, digest=}`) or as failed at
-- `step`; the context's temporary files are removed.
function P:_pushed(step, e, c, ref, res, err, kind)
  local d = res and self:_digest(e, c, res, ref)
  cleanup(c)
  if not res then
    self.failed[ref] = step
    return self:_fail(step, err, kind)
  end
  local r = {reference = ref, digest = d}
  if not self.o.dry_run then self.pushed[#self.pushed + 1] = r end
  return r
end

-- What is wrong with an image name handed to an engine, or nil: a
-- leading '-' would be read as an option, a control character would
-- forge lines.
local function bad_image_name(v)
  local at = v:find("%c")
  if at then return "image name has a control character at byte " .. at end
  if v:sub(1, 1) == "-" then
    return "image name " .. text.quote(v) .. " starts with '-' (an engine would read it as an option)"
  end
  return nil
end

local function check_name(v, n, fname)
  if type(v) ~= "string" or v == "" then
    error(("bad argument #%d to '%s' (non-empty string expected, got %s)")
          :format(n, fname, v == "" and "empty string" or type(v)), 3)
  end
end

---------------------------------------------------------------- methods

--- Logs the engine in to the registry (the key on its standard input).
-- ctr keeps no login: this only checks that there are credentials.
-- @treturn true|nil
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:login()
  local e, c, kind = self:_setup("login", true)
  if not e then return nil, c, kind end
  local detail = self:_user_short() .. " to " .. self.registry
  if not e.login then
    cleanup(c)
    self.steps:record("login", detail .. " (ctr: the key goes with each push)", 0, 1)
    return true
  end
  local res, err, k = self.steps:run(self:_auth_step(e, "login", detail, e.login(c), true))
  cleanup(c)
  if not res then return self:_fail("login", err, k) end
  return true
end

--- Logs the engine out of this registry only (other logins stay).
-- @treturn true|nil
function P:logout()
  local e, c, kind = self:_setup("logout", false)
  if not e then return nil, c, kind end
  if not e.logout then
    cleanup(c)
    self.steps:record("logout", self.registry .. " (ctr keeps no login)", 0, 1)
    return true
  end
  local res, err, k = self.steps:run(self:_auth_step(e, "logout", self.registry, e.logout(c), false))
  cleanup(c)
  if not res then return self:_fail("logout", err, k) end
  return true
end

--- Tags an image: locally, or (skopeo) by copying it in the registry.
-- @treturn true|nil
function P:tag(src, dst)
  check_name(src, 1, "tag")
  check_name(dst, 2, "tag")
  local bad = bad_image_name(src) or bad_image_name(dst)
  if bad then return self:_fail("tag", bad, "usage") end
  local e, c, kind = self:_setup("tag", false, true)
  if not e then return nil, c, kind end
  local res, err, k = self.steps:run {name = "tag", detail = src .. " -> " .. dst,
                                      command = e.tag(c, src, dst), retry = e.remote_only}
  cleanup(c)
  if not res then return self:_fail("tag", err, k) end
  return true
end

--- Pushes an image, retrying transient failures.
-- @tparam string ref the image reference
-- @treturn table|nil `{reference=, digest=}` (digest nil when unknown)
function P:push(ref)
  check_name(ref, 1, "push")
  local bad = bad_image_name(ref)
  if bad then return self:_fail("push", bad, "usage") end
  local e, c, kind = self:_setup("push", false, true)
  if not e then return nil, c, kind end
  if not e.push then
    cleanup(c)
    return self:_fail("push", e.name .. " has no local images to push: use release (which "
      .. "copies SOURCE to the registry) or tag (a registry copy)", "usage")
  end
  if e.key_in_argv then
    local cred, cerr = self:credentials()
    if not cred then cleanup(c); return self:_fail("push", cerr, "credentials") end
    c.user, c.key = cred.user, cred.key
    self:_warn_once("ctr-key", "warning: ctr takes the login key only on its command line "
      .. "(--user USER:KEY): other local users can read it in the process list while ctr runs")
  end
  self:plan {ref}
  return self:_pushed("push", e, c, ref, self.steps:run {name = "push", detail = ref,
                                                         command = e.push(c, ref), retry = true})
end

-- Copies FROM (any skopeo image name, or a reference with `remote`) to REF.
function P:_copy(step, from, ref, remote)
  local e, c, kind = self:_setup(step, false, true)
  if not e then return nil, c, kind end
  local command = remote and e.remote_tag(c, from, ref) or e.copy(c, from, ref)
  self:plan {ref}
  return self:_pushed(step, e, c, ref, self.steps:run {name = step, detail = from .. " -> " .. ref,
                                                       command = command, retry = true})
end

-- release with skopeo: the login and the copy of SOURCE to REF at the
-- same time. The copy reads the credentials from a private auth file, so
-- it does not wait for the login, which still runs (under the auth-file
-- lock) and stores the login as `login` does. Attempt 1 of both runs at
-- once; what failed is then retried, the login first; a failed login
-- stops the release even when the copy went through (then listed as
-- pushed). Returns as `_copy` does.
function P:_login_and_copy(source, ref)
  local e, c, kind = self:_setup("login", true)
  if not e then return nil, c, kind end
  local e2, cc, k2 = self:_setup("push", false, true)
  if not e2 then cleanup(c); return nil, cc, k2 end
  if self.o.dry_run then
    cc.authfile = "$TMPDIR/auth.json"
  else
    local priv, perr = authfile.private(self.registry, self.cred.user, self.cred.key)
    if not priv then cleanup(c); cleanup(cc); return self:_fail("login", perr) end
    cc.tmp[#cc.tmp + 1] = priv
    cc.authfile = priv.auth
  end
  self:plan {ref}
  local both = self.steps:run_together {
    self:_auth_step(e, "login", self:_user_short() .. " to " .. self.registry, e.login(c), true),
    {name = "push", detail = source .. " -> " .. ref, command = e.copy(cc, source, ref), retry = true},
  }
  cleanup(c)
  local login, copy = both[1], both[2]
  if not login[1] then
    if copy[1] then self:_pushed("push", e, cc, ref, copy[1]) else cleanup(cc) end
    return self:_fail("login", login[2], login[3])
  end
  return self:_pushed("push", e, cc, ref, table.unpack(copy, 1, 3))
end

-- Adds the tags `rest` (full references) to the manifest `first` (the
-- `{reference=, digest=}` just pushed) through the registry's API: one
-- manifest GET (by digest when known), checked against its digest, then
-- a PUT per tag in one request batch; transient failures are retried from
-- the tag that failed. Returns true; "engine" when curl is missing in
-- mode "auto" (the caller tags with the engine instead); or nil, message,
-- kind.
function P:_api_tag(repo, first, rest)
  local tags = {}
  for i, ref in ipairs(rest) do tags[i] = ref:match(":([^:/]+)$") end
  local digest = first.digest and swrauth.check("digest", first.digest) and first.digest
  local from = digest or first.reference:match(":([^:/]+)$")
  local base = self.registry .. "/v2/" .. repo .. "/manifests/"
  local function detail(ref) return first.reference .. " -> " .. ref end
  self:plan(rest)
  if self.o.dry_run then
    self.steps.commands[#self.steps.commands + 1] =
      registry.describe("GET", base .. (first.digest and "DIGEST" or from))
    for i, ref in ipairs(rest) do self.steps:dry("tag", detail(ref), registry.describe("PUT", base .. tags[i])) end
    return true
  end
  local client = registry.new {
    registry = self.registry, user = self.cred.user, key = self.cred.key,
    insecure = self.o.insecure, cert_dir = self.o.cert_dir, timeout = self.o.timeout,
    env = self.o.env, run = self.run, on_secret = function(token) self.red:add(token) end,
    curl = self.which("curl", self:_getenv("PATH")) or false,
  }
  if not client:available() then
    if self.o.remote_tag == "auto" then return "engine" end
    self.failed[rest[1]] = "tag"
    return self:_fail("tag", "'curl' not found on PATH (package curl); it makes the requests of "
      .. "--remote-tag api (or use --remote-tag engine: one skopeo copy per tag)", "engine")
  end
  local t0 = proc.clock()
  local m, err = self.steps:call("tag", "GET " .. base .. from, function()
    return client:get_manifest(repo, from)
  end)
  if not m then
    client:close()
    self.failed[rest[1]] = "tag"
    return self:_fail("tag", err)
  end
  local pending, refs = tags, rest
  local ok, perr = self.steps:call("tag", detail(rest[1]), function(n)
    local list, why, transient = client:put_manifest(repo, pending, m)
    local done = 0
    for i, it in ipairs(list or {}) do
      if it.error then
        why, transient = it.error, it.transient
        break
      end
      done = i
      self.pushed[#self.pushed + 1] = {reference = refs[i], digest = it.digest}
      self.steps:record("tag", detail(refs[i]) .. " (registry API)", proc.clock() - t0, n)
    end
    pending, refs = {table.unpack(pending, done + 1)}, {table.unpack(refs, done + 1)}
    if #pending == 0 then return true end
    return nil, why, transient
  end)
  client:close()
  if not ok then
    self.failed[refs[1]] = "tag"
    return self:_fail("tag", perr)
  end
  return true
end

--- Logs in, pushes SOURCE under the first tag, then adds the other tags
-- without uploading layers again: skopeo through the registry's API (or
-- one registry copy per tag), the other engines by tagging locally and
-- pushing (the registry answers each layer "already exists").
-- @tparam table spec `{source=, repository="NS/NAME", tags={...}}`
-- @treturn table|nil list of `{reference=, digest=}`, one per tag
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:release(spec)
  local function bad(msg) error("bad argument #1 to 'release' (" .. msg .. ")", 3) end
  if type(spec) ~= "table" then bad("table expected, got " .. type(spec)) end
  local ok, ferr = fields.check(spec, {source = "string", repository = "string", tags = "table"})
  if not ok then bad(ferr) end
  for _, k in ipairs {"source", "repository", "tags"} do
    if spec[k] == nil then bad("field '" .. k .. "' is required") end
  end
  if #spec.tags == 0 then bad("field 'tags' is empty") end
  if spec.source == "" then bad("field 'source' is empty") end
  for i, t in ipairs(spec.tags) do
    if type(t) ~= "string" then bad("tags[" .. i .. "] must be a string, got " .. type(t)) end
  end
  local why = bad_image_name(spec.source)
  if why then return self:_fail("release", "source: " .. why, "usage") end
  local rok, rerr = swrauth.check("repository", spec.repository)
  if not rok then
    return self:_fail("release", "repository " .. text.quote(spec.repository) .. " " .. rerr, "usage")
  end
  local refs, seen = {}, {}
  for _, t in ipairs(spec.tags) do
    local tok, terr = swrauth.check("tag", t)
    if not tok then return self:_fail("release", "tag " .. text.quote(t) .. " " .. terr, "usage") end
    local ref = self.registry .. "/" .. spec.repository .. ":" .. t
    if not seen[ref] then
      seen[ref] = true
      refs[#refs + 1] = ref
    end
  end
  self:plan(refs)
  local r, err, kind = self:_release(spec, refs)
  if not r then return nil, err, kind end
  local out = {}
  if self.o.dry_run then
    for i, ref in ipairs(refs) do out[i] = {reference = ref} end
  else
    for _, p in ipairs(self.pushed) do if seen[p.reference] then out[#out + 1] = p end end
  end
  return out
end

function P:_release(spec, refs)
  local function stop(ref, err, kind)
    self.failed[ref] = self.failed[ref] or tostring(err):match("^([%w-]+):") or "release"
    return nil, err, kind
  end
  if not self.eng then self.source_hint = spec.source end
  local e, eerr = self:engine()
  if not e then return self:_fail("login", eerr, "engine") end
  local ok, err, kind, r
  if e.remote_only and self.o.parallel_login then
    r, err, kind = self:_login_and_copy(spec.source, refs[1])
  elseif e.remote_only then
    ok, err, kind = self:login()
    if not ok then return nil, err, kind end
    r, err, kind = self:_copy("push", spec.source, refs[1], false)
  else
    ok, err, kind = self:login()
    if not ok then return nil, err, kind end
    if spec.source ~= refs[1] then
      ok, err, kind = self:tag(spec.source, refs[1])
      if not ok then return stop(refs[1], err, kind) end
    end
    r, err, kind = self:push(refs[1])
  end
  if not r then return nil, err, kind end
  local rest = {table.unpack(refs, 2)}
  if #rest > 0 and e.remote_tag and self.o.remote_tag ~= "engine" then
    local api, aerr, akind = self:_api_tag(spec.repository, r, rest)
    if not api then return nil, aerr, akind end
    if api ~= "engine" then return true end
  end
  for _, ref in ipairs(rest) do
    local ri
    if e.remote_tag then
      ri, err, kind = self:_copy("tag", refs[1], ref, true)
    else
      ok, err, kind = self:tag(spec.source, ref)
      if not ok then return stop(ref, err, kind) end
      ri, err, kind = self:push(ref)
    end
    if not ri then return stop(ref, err, kind) end
    ri.digest = ri.digest or r.digest
  end
  return true
end

--- Declares references about to be pushed (`release` and `push` do it
-- themselves), so that after a failure `report` lists those not pushed.
-- @tparam table refs a list of references
function P:plan(refs)
  for _, ref in ipairs(refs) do
    if not self.planned_set[ref] then
      self.planned_set[ref] = true
      self.planned[#self.planned + 1] = ref
    end
  end
end

--- The run so far: `{ok=, error=, engine=, registry=, project=, user=,
-- dry_run=, steps={...}, pushed={...}, not_pushed={...}}`, and in a dry
-- run `planned={...}` (the references it would push) and
-- `commands={...}`. `steps` lists what ran, a failed step with its
-- `error`; `not_pushed` the planned references not pushed:
-- `{reference=, status="failed", step=}` for the one whose step failed,
-- `{reference=, status="skipped"}` for those not tried.
-- @treturn table (lists marked as JSON arrays)
function P:report()
  local rep = {
    ok = self.last_error == nil, error = self.last_error,
    engine = self.eng and self.eng.name or self.o.engine, registry = self.registry,
    project = self.project, dry_run = self.o.dry_run, user = self.cred and self.cred.user or nil,
    steps = json.array(), pushed = json.array(), not_pushed = json.array(),
  }
  for i, s in ipairs(self.steps.done) do
    rep.steps[i] = {step = s.step, detail = s.detail, attempts = s.attempts, error = s.error,
                    seconds = floor(s.seconds * 1000 + 0.5) / 1000}
  end
  local done = {}
  for i, p in ipairs(self.pushed) do
    rep.pushed[i] = {reference = p.reference, digest = p.digest}
    done[p.reference] = true
  end
  if self.o.dry_run then
    rep.planned = json.array {table.unpack(self.planned)}
    rep.commands = json.array {table.unpack(self.steps.commands)}
  else
    for _, ref in ipairs(self.planned) do
      if not done[ref] then
        local step = self.failed[ref]
        rep.not_pushed[#rep.not_pushed + 1] = {reference = ref, step = step,
                                               status = step and "failed" or "skipped"}
      end
    end
  end
  return rep
end

--- Redacts the secrets this pipeline knows in a text.
function P:redact(s)
  return self.red:redact(s)
end

return M

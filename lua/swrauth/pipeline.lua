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
local options = require "swrauth.options"
local credentials = require "swrauth.credentials"
local logins = require "swrauth.logins"
local swrapi = require "swrauth.swrapi"
local authfile = require "swrauth.authfile"
local engines = require "swrauth.engines"
local context = require "swrauth.context"
local registry = require "swrauth.registry"
local release = require "swrauth.release"
local steps = require "swrauth.steps"
local proc = require "swrauth.proc"

local type, ipairs, error, setmetatable = type, ipairs, error, setmetatable

--- The options, their defaults and checks: see `swrauth.options`.
M.OPTIONS, M.DEFAULTS, M.SECRET_VARIABLES = options.OPTIONS, options.DEFAULTS,
  options.SECRET_VARIABLES
M.check_option = options.check

local P = {}
P.__index = P

--- Creates a pipeline. Nothing runs until a method is called.
-- @tparam table opts see `M.OPTIONS`; `project` (or `region`) is required
-- @treturn table the pipeline
-- @raise on an unknown option, a wrong type or a bad value
function M.new(opts)
  local o, oerr = options.settle(opts)
  if not o then error("pipeline.new: " .. oerr, 2) end
  local project, env = o.project, o.env
  local self = setmetatable({
    o = o, project = project, region = project:match("^[^_]+"),
    registry = o.registry or swrauth.format("registry", {project = project}),
    red = text.redactor(), pushed = {}, planned = {}, planned_set = {}, failed = {},
    warned = {}, run = o.runner or proc.run_all, which = o.which or proc.which,
  }, P)
  self.steps = steps.new {
    retries = o.retries, backoff = o.backoff, backoff_max = o.backoff_max, timeout = o.timeout,
    run = self.run, env = env, sleep = o.sleep, dry_run = o.dry_run, on_event = o.on_event,
    redact = function(s) return self.red:redact(s) end,
  }
  -- An SK given here is kept only in the credentials' signing function.
  if o.credentials then
    self.red:add(o.credentials.sk):add(o.credentials.key):add(o.credentials.security_token)
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
  if cred.key then
    local user = swrauth.format("user", {project = self.project, ak = cred.ak})
    self.red:add(cred.key):add(swrauth.base64(user .. ":" .. cred.key))
  end
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
-- @treturn table|nil `{source=, where=, ak=, temporary=, ...}`
-- @treturn[2] string why there are none
function P:credentials()
  if not self.cred and not self.cred_err then
    self:_take(credentials.resolve {
      file = self.o.credentials_file, project = self.project, getenv = self.o.getenv,
      warn = function(msg) self.steps:warn(msg) end, run = self.run, insecure = self.o.insecure,
      curl = self.which("curl", self:_getenv("PATH")) or false,
    })
  end
  return self.cred, self.cred_err
end

--- The login engines are given, made once (see `swrauth.logins`): the
-- long-term one, or a temporary one from SWR's API (a step,
-- `temporary-login`) for temporary credentials or with the `temporary`
-- or `duration` options.
-- @treturn table|nil `{user=, password=, temporary=, expires_at=}`
-- @treturn[2] string why there is none
-- @treturn[2] string kind
function P:login_info()
  if self.secret then return self.secret end
  local cred, cerr = self:credentials()
  if not cred then return nil, cerr, "credentials" end
  local o = self.o
  local lo = {project = self.project, registry = self.registry, temporary = o.temporary,
              duration = o.duration, getenv = o.getenv, run = self.run, insecure = o.insecure,
              curl = self.which("curl", self:_getenv("PATH")) or false, steps = self.steps}
  local login, err, kind
  local t0 = proc.clock()
  if logins.is_temporary(cred, lo) and o.dry_run then
    local base = swrapi.endpoint(self.project, o.getenv or os.getenv, o.insecure) or "?"
    self.steps:dry("temporary-login", self:_login_detail(), "POST " .. base .. swrapi.PATH
      .. "?projectname=" .. self.project)
    login = {user = swrauth.format("user", {project = self.project, ak = cred.ak}),
             password = text.REDACTED, temporary = true}
  else
    login, err, kind = logins.get(cred, lo)
    if not login then
      self.steps:record_failure("temporary-login", self:_login_detail(), err)
      return nil, err, kind == "usage" and "usage" or kind == "credentials" and "credentials" or "runtime"
    end
  end
  self.red:add(login.password):add(swrauth.base64(login.user .. ":" .. login.password))
  self.secret = login
  if login.temporary and not o.dry_run then
    self.steps:record("temporary-login", self:_login_detail(), proc.clock() - t0, 1)
  end
  return login
end

--- The engine table, picked once (see `swrauth.engines.choose`).
-- @treturn table|nil
-- @treturn[2] string why it is missing
function P:engine()
  if self.eng then return self.eng end
  local path = self:_getenv("PATH")
  local e, err = engines.choose {
    name = self.o.engine, source = self.source_hint, dry_run = self.o.dry_run,
    which = function(bin) return self.which(bin, path) end,
    probe = function(command)
      local res = self.run {{argv = command.argv, env = self.o.env, timeout = 10}}
      return res[1][1] ~= nil and res[1][1].status == 0
    end,
  }
  if not e then return nil, err end
  self.eng = e
  for _, w in ipairs(engines.warnings(e, {registry = self.registry, cert_dir = self.o.cert_dir,
                                          insecure = self.o.insecure})) do
    self.steps:warn(w)
  end
  return e
end

-- What a login step shows: PROJECT@AK (the AK shortened) to REGISTRY,
-- and when a temporary login expires.
function P:_login_detail()
  local ak = self.cred and self.cred.ak or ""
  if #ak > 8 then ak = ak:sub(1, 4) .. "…" end
  local s = self.project .. (self.cred and "@" .. ak or "") .. " to " .. self.registry
  local l = self.secret
  if l and l.temporary then s = s .. " (temporary, expires " .. (l.expires_at or "?") .. ")" end
  return s
end

-- Engine and command context (`swrauth.context`) for a step, or nil,
-- message, kind. With `key`, the user and key are in the context;
-- `digest`: a digest file.
function P:_setup(step, key, digest)
  local e, eerr = self:engine()
  if not e then return self:_fail(step, eerr, "engine") end
  local c = context.new {registry = self.registry, insecure = self.o.insecure,
                         cert_dir = self.o.cert_dir, dry_run = self.o.dry_run}
  -- Every engine but docker (whose daemon has its own CA directory, see
  -- `engines.warnings`) takes the CA directory: it must hold a CA.
  if c.cert_dir and not c.insecure and e.name ~= "docker" then
    local ok, err = c:check_cert_dir()
    if ok and e.wants_hosts_dir then ok, err = c:trust_hosts() end
    if not ok then c:remove(); return self:_fail(step, err, "usage") end
  end
  -- ctr takes the key with each push (and has no login).
  if key or e.key_in_argv and step == "push" then
    local login, lerr, kind = self:login_info()
    if not login then c:remove(); return self:_fail(step, lerr, kind) end
    c.user, c.key = login.user, login.password
  end
  if e.key_in_argv and step == "push" then
    self:_warn_once("ctr-key", "warning: ctr takes the login key only on its command line "
      .. "(--user USER:KEY): other local users can read it in the process list while ctr runs")
  end
  if digest and e.wants_digestfile then c:digest_file() end
  return e, c
end

-- A command step for the engine's auth file (login, logout): run under
-- the auth-file lock, and not at all when the file does not parse.
function P:_auth_step(e, name, detail, command, retry)
  local path = authfile.path(e.auth_store, function(n) return self:_getenv(n) end)
  return {name = name, detail = detail, command = command, retry = retry, lock_path = path,
          guard = path and function() return authfile.guard(path) end}
end

-- After the command that pushed REF (`res`, or nil, err, kind): records
-- REF as pushed (returned as `{reference=, digest=}`) or as failed at
-- `step`; the context's temporary files are removed.
function P:_pushed(step, e, c, ref, res, err, kind)
  local d = res and c:digest(e, res, ref, self.run, {env = self.o.env, timeout = self.o.timeout})
  c:remove()
  if not res then
    self.failed[ref] = step
    local why = e.explain and e.explain(err)
    return self:_fail(step, why and err .. " (" .. why .. ")" or err, kind)
  end
  local r = {reference = ref, digest = d}
  if not self.o.dry_run then self.pushed[#self.pushed + 1] = r end
  return r
end

-- A reference in the pipeline's registry: a name that names no registry
-- is taken in it ("team/app:1" is REGISTRY/team/app:1, where docker would
-- read docker.io); one that names another registry is refused, unless
-- `other_ok` (the source of a registry copy). Never another registry
-- silently.
function P:_in_registry(name, other_ok)
  local img, why = swrauth.parse("image", name)
  if not img then return nil, "image " .. text.quote(name) .. " " .. why end
  if not img.registry_given then return self.registry .. "/" .. name end
  if img.registry == self.registry or other_ok then return name end
  return nil, "image " .. text.quote(name) .. " is in registry " .. img.registry .. ", not "
    .. self.registry .. " (the registry given): name the image without a registry, or in "
    .. self.registry
end

-- The image names given to `fname`: misuse raises; a name an engine
-- cannot take gives the message.
local function check_names(fname, ...)
  local names = table.pack(...)
  for n = 1, names.n do
    local v = names[n]
    if type(v) ~= "string" or v == "" then
      error(("bad argument #%d to '%s' (non-empty string expected, got %s)")
            :format(n, fname, v == "" and "empty string" or type(v)), 3)
    end
  end
  for n = 1, names.n do
    local ok, why = engines.check_name(names[n])
    if not ok then return why end
  end
end

---------------------------------------------------------------- methods

-- login and logout: the engine rewrites its auth file (see `_auth_step`);
-- a logout with nothing to remove is a success.
function P:_auth(step, key, retry)
  local e, c, kind = self:_setup(step, key)
  if not e then return nil, c, kind end
  local detail = step == "login" and self:_login_detail() or self.registry
  local st = self:_auth_step(e, step, detail, e[step](c), retry)
  if step == "logout" then st.accept = e.logged_out end
  local res, err, k = self.steps:run(st)
  c:remove()
  if not res then return self:_fail(step, err, k) end
  return true
end

--- Logs the engine in to the registry (the key on its standard input).
-- ctr keeps no login (the key goes with each push): the registry is asked
-- whether the credentials log in instead (see `check`).
-- @treturn true|nil
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:login()
  local e, eerr = self:engine()
  if not e then return self:_fail("login", eerr, "engine") end
  if not e.login then return self:check("login") end
  return self:_auth("login", true, true)
end

--- Logs the engine out of this registry only (other logins stay).
-- @treturn true|nil
function P:logout()
  local e, eerr = self:engine()
  if not e then return self:_fail("logout", eerr, "engine") end
  if not e.logout then
    self.steps:record("logout", self.registry .. " (ctr keeps no login)", 0, 1)
    return true
  end
  return self:_auth("logout", false, false)
end

--- Tags an image: locally, or (skopeo) by copying it in the registry.
-- @treturn true|nil
function P:tag(src, dst)
  local bad = check_names("tag", src, dst)
  if bad then return self:_fail("tag", bad, "usage") end
  local e, c, kind = self:_setup("tag", false, true)
  if not e then return nil, c, kind end
  local err
  dst, err = self:_in_registry(dst)
  -- skopeo copies from a registry: a source that names none is in this one.
  if dst and e.remote_only then src, err = self:_in_registry(src, true) end
  if not dst or not src then c:remove(); return self:_fail("tag", err, "usage") end
  local res, rerr, k = self.steps:run {name = "tag", detail = src .. " -> " .. dst,
                                       command = e.tag(c, src, dst), retry = e.remote_only}
  c:remove()
  if not res then return self:_fail("tag", rerr, k) end
  return true
end

--- Pushes an image, retrying transient failures.
-- @tparam string ref the image reference
-- @treturn table|nil `{reference=, digest=}` (digest nil when unknown)
function P:push(ref)
  local bad = check_names("push", ref)
  if bad then return self:_fail("push", bad, "usage") end
  local e, c, kind = self:_setup("push", false, true)
  if not e then return nil, c, kind end
  if not e.push then
    c:remove()
    return self:_fail("push", e.name .. " has no local images to push: use release (which "
      .. "copies SOURCE to the registry) or tag (a registry copy)", "usage")
  end
  local err
  ref, err = self:_in_registry(ref)
  if not ref then c:remove(); return self:_fail("push", err, "usage") end
  self:plan {ref}
  return self:_pushed("push", e, c, ref, self.steps:run {name = "push", detail = ref,
                                                         command = e.push(c, ref), retry = true})
end

-- A client of the registry's API (`swrauth.registry`), with the
-- credentials; the tokens it gets are redacted.
function P:_registry()
  return registry.new {
    registry = self.registry, user = self.secret.user, key = self.secret.password,
    insecure = self.o.insecure, cert_dir = self.o.cert_dir, timeout = self.o.timeout,
    env = self.o.env, run = self.run, on_secret = function(token) self.red:add(token) end,
    curl = self.which("curl", self:_getenv("PATH")) or false,
  }
end

--- Asks the registry whether the credentials log in, without any engine:
-- `GET /v2/` with Basic authentication, following a Bearer challenge to
-- its token service, as `docker login` does.
-- @tparam[opt] string step the step's name (default "check")
-- @treturn true|nil
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:check(step)
  step = step or "check"
  if self.o.cert_dir and not self.o.insecure then
    local ok, err = context.new {registry = self.registry, cert_dir = self.o.cert_dir}:check_cert_dir()
    if not ok then return self:_fail(step, err, "usage") end
  end
  local login, lerr, kind = self:login_info()
  if not login then return self:_fail(step, lerr, kind) end
  local detail = self:_login_detail() .. " (asked the registry)"
  if self.o.dry_run then
    self.steps:dry(step, detail, registry.describe("GET", self.registry .. "/v2/"))
    return true
  end
  local client = self:_registry()
  if not client:available() then
    return self:_fail(step, "'curl' not found on PATH (package curl); it asks the registry "
      .. "whether the credentials log in", "engine")
  end
  local t0 = proc.clock()
  local ok, err = self.steps:call(step, "GET " .. self.registry .. "/v2/", function()
    return client:ping()
  end)
  client:close()
  if not ok then return self:_fail(step, err) end
  self.steps:record(step, detail, proc.clock() - t0, 1)
  return true
end

--- Logs in, pushes SOURCE under the first tag, then adds the other tags
-- without uploading layers again (see `swrauth.release`).
-- @tparam table spec `{source=, repository="NS/NAME", tags={...}}`
-- @treturn table|nil list of `{reference=, digest=}`, one per tag
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:release(spec)
  return release.release(self, spec)
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
    project = self.project, dry_run = self.o.dry_run, user = self.secret and self.secret.user or nil,
    temporary = self.secret and self.secret.temporary or nil,
    expires_at = self.secret and self.secret.expires_at or nil,
    steps = json.array(), pushed = json.array(), not_pushed = json.array(),
  }
  for i, s in ipairs(self.steps.done) do rep.steps[i] = s end
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

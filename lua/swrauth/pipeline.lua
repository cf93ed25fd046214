--- Release pipelines: log in, tag and push images to an SWR registry.
--
--     local pipeline = require "swrauth.pipeline"
--     local p = pipeline.new{project = "cn-north-4", engine = "skopeo"}
--     local pushed, err = p:release{
--       source = "oci:build/app:1.4.2",
--       repository = "team/app",
--       tags = pipeline.semver_tags("1.4.2", {latest = true}),
--     }
--
-- Misuse (unknown or mistyped options and arguments) raises at level 2.
-- Runtime failures (engine, registry, network, credentials) return
-- `nil, message, kind`: the message names the step ("push: ..."), and
-- `kind` is "credentials", "engine", "usage" or "runtime". Every line
-- printed and every message returned has the key (and the SK, and
-- anything built from them) replaced by `<redacted>`.
--
-- @module swrauth.pipeline
local M = {}

local swrauth = require "swrauth"
local proc = require "swrauth.proc"
local engines = require "swrauth.engines"
local credentials = require "swrauth.credentials"

local type, pairs, ipairs, tostring, error, setmetatable =
  type, pairs, ipairs, tostring, error, setmetatable
local concat, floor, min = table.concat, math.floor, math.min

--- Default option values.
M.DEFAULTS = {
  project = nil,          -- region project, e.g. "cn-north-4" or "cn-north-4_team"
  region = nil,           -- region; the project when no project is given
  registry = nil,         -- default: swr.REGION.myhuaweicloud.com
  engine = "auto",
  credentials = nil,      -- {ak=, sk=} or {ak=, key=}; default: environment / file
  credentials_file = nil, -- the console's credentials CSV
  insecure = false,       -- plain HTTP / no TLS verification
  cert_dir = nil,         -- directory holding the registry's CA .crt files
  dry_run = false,
  retries = 3,            -- attempts for each network step
  backoff = 1,            -- seconds before the second attempt; doubles each time
  backoff_max = 30,       -- longest wait between attempts
  timeout = nil,          -- seconds before an engine command is stopped
  parallel_login = true,  -- release with skopeo: run the login and the first copy at
                          -- the same time (the copy reads a private 0600 auth file)
  remote_tag = "auto",    -- how release adds tags 2..n with skopeo: "api" (the
                          -- registry's HTTP API: one manifest GET, a PUT per tag;
                          -- curl for HTTPS), "engine" (one skopeo copy per tag), or
                          -- "auto" (api; engine for HTTPS when curl is missing)
  quiet = false,          -- no step lines
  json = false,           -- summary as JSON on `out`
  env = nil,              -- environment overrides for engines (NAME = value | false);
                          -- HUAWEICLOUD_SDK_SK and SWRAUTH_LOGIN_KEY are always removed
  out = nil,              -- writer for results (default io.stdout)
  err = nil,              -- writer for step lines and warnings (default io.stderr)
  sleep = nil,            -- function(seconds), for the backoff (default: proc.sleep)
  getenv = nil,           -- function(name), where credentials are read (os.getenv)
}

local NO_CURL = "'curl' not found on PATH (package curl); it makes the HTTPS requests of "
  .. "--remote-tag api (or use --remote-tag engine: one skopeo copy per tag)"

local TYPES = {
  project = "string", region = "string", registry = "string", engine = "string",
  credentials = "table", credentials_file = "string", insecure = "boolean",
  cert_dir = "string", dry_run = "boolean", retries = "number", backoff = "number",
  backoff_max = "number", timeout = "number", quiet = "boolean", json = "boolean",
  env = "table", out = "writer", err = "writer", sleep = "function",
  getenv = "function", remote_tag = "string", parallel_login = "boolean",
}

--- Variables removed from the engines' environment.
M.SECRET_VARIABLES = {"HUAWEICLOUD_SDK_SK", "SWRAUTH_LOGIN_KEY"}

--- Patterns (on lowercased output) of failures worth another attempt.
M.TRANSIENT = {
  "internal server error", "bad gateway", "service unavailable",
  "gateway time%-?out", "too many requests", "toomanyrequests", "timeout", "timed out",
  "connection refused", "connection reset", "broken pipe", "unexpected eof",
  "no route to host", "temporary failure", "network is unreachable",
  "status%W*5%d%d", "status code 5%d%d", "http/%d[%.%d]* 5%d%d",
  -- A connection closed without an answer: Go says `Get "URL": EOF`.
  ": eof%f[%W]",
}

--- Patterns (on lowercased output) of failures never worth another
-- attempt, even when the output also matches `TRANSIENT`.
M.PERMANENT = {
  "unauthori[sz]ed", "authentication required", "invalid username/password",
  "incorrect username or password", "denied", "manifest unknown", "name unknown",
  "blob unknown", "status%W*40[13]%f[%D]", "http/%d[%.%d]* 40[13]%f[%D]",
}

--- True when a failed command's output suggests a transient failure:
-- it matches `TRANSIENT` and not `PERMANENT`.
function M.is_transient(text)
  text = tostring(text or ""):lower()
  for _, pat in ipairs(M.PERMANENT) do
    if text:find(pat) then return false end
  end
  for _, pat in ipairs(M.TRANSIENT) do
    if text:find(pat) then return true end
  end
  return false
end

local function writer(w)
  if w == nil then return nil end
  if type(w) == "function" then return w end
  return function(s) w:write(s) end
end

local function misuse(msg, level)
  error(msg, (level or 1) + 1)
end

-- The message inside "bad argument #n to 'f' (...)".
local function inner(msg)
  msg = tostring(msg)
  return msg:match("%((.*)%)$") or msg
end

local function is_writer(v)
  if type(v) == "function" then return true end
  local ok, w = pcall(function() return v.write end)
  return ok and type(w) == "function"
end

local function check_options(opts)
  if type(opts) ~= "table" then
    misuse("pipeline.new: options must be a table, got " .. type(opts), 3)
  end
  for k, v in pairs(opts) do
    local want = TYPES[k]
    if not want then
      misuse("pipeline.new: unknown option '" .. tostring(k) .. "'", 3)
    end
    if want == "writer" then
      if not is_writer(v) then
        misuse("pipeline.new: option '" .. k .. "' must be a function or have a "
               .. "write method, got " .. type(v), 3)
      end
    elseif type(v) ~= want then
      misuse("pipeline.new: option '" .. k .. "' must be a " .. want .. ", got "
             .. type(v), 3)
    end
  end
  -- math.tointeger also refuses inf and NaN (retries = math.huge never ends).
  if opts.retries and (opts.retries < 1 or math.tointeger(opts.retries) == nil) then
    misuse("pipeline.new: option 'retries' must be an integer >= 1", 3)
  end
  for _, k in ipairs {"backoff", "backoff_max", "timeout"} do
    local v = opts[k]
    if v and (v < 0 or v ~= v) then
      misuse("pipeline.new: option '" .. k .. "' must be >= 0", 3)
    end
  end
  if opts.timeout == math.huge then
    misuse("pipeline.new: option 'timeout' must be a finite number (omit it for none)", 3)
  end
  if opts.remote_tag and opts.remote_tag ~= "auto" and opts.remote_tag ~= "api"
    and opts.remote_tag ~= "engine" then
    misuse("pipeline.new: option 'remote_tag' must be one of auto, api, engine (got '"
           .. opts.remote_tag .. "')", 3)
  end
  if opts.engine and opts.engine ~= "auto" and not engines.get(opts.engine) then
    misuse("pipeline.new: option 'engine' must be one of docker, podman, buildah, "
           .. "skopeo, nerdctl, ctr, auto (got '" .. opts.engine .. "')", 3)
  end
  if opts.credentials then
    local bad = credentials.check_explicit(opts.credentials)
    if bad then misuse("pipeline.new: option 'credentials': " .. bad, 3) end
  end
  if opts.env then
    for k, v in pairs(opts.env) do
      if type(k) ~= "string" or (type(v) ~= "string" and v ~= false) then
        misuse("pipeline.new: option 'env' maps names to strings (or false)", 3)
      end
    end
  end
end

local P = {}
P.__index = P

--- Creates a pipeline. Nothing runs until a method is called.
-- @tparam table opts see `DEFAULTS`; `project` (or `region`) is required.
-- @treturn table the pipeline
-- @raise on an unknown option, a wrong type, or a malformed project or
--   registry
function M.new(opts)
  check_options(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end

  -- Engines get this process's environment, less the variables that may
  -- hold the SK or the key.
  local env = {}
  for k, v in pairs(o.env or {}) do env[k] = v end
  -- After the overrides: not even `env` may hand these to an engine.
  for _, name in ipairs(M.SECRET_VARIABLES) do env[name] = false end
  o.env = env

  local project = o.project or o.region
  if not project then
    misuse("pipeline.new: option 'project' is required (e.g. 'cn-north-4')", 2)
  end
  local ok, reg = pcall(swrauth.format, "registry", {project = project})
  if not ok then misuse("pipeline.new: option 'project': " .. inner(reg), 2) end
  local region = project:match("^[^_]+")
  if o.region and o.region ~= region then
    misuse("pipeline.new: option 'region' ('" .. o.region .. "') does not match the "
           .. "project's region ('" .. region .. "')", 2)
  end
  if o.registry then
    local rok, rerr = pcall(swrauth.format, "docker-stdin",
                            {project = project, ak = "AK", registry = o.registry})
    if not rok then misuse("pipeline.new: option 'registry': " .. inner(rerr), 2) end
  end

  local self = setmetatable({
    o = o,
    project = project,
    region = region,
    registry = o.registry or reg,
    red = proc.redactor(),
    out = writer(o.out) or function(s) io.stdout:write(s) end,
    err = writer(o.err) or function(s) io.stderr:write(s) end,
    sleep = o.sleep or proc.sleep,
    steps = {},
    pushed = {},
    planned = {},    -- references to push, in order (see P:plan)
    failed = {},     -- reference -> the step that failed for it
    commands = {},
    warned = {},
  }, P)

  -- An SK given here is turned into the key at once and not kept.
  if o.credentials then
    local c = o.credentials
    local cred, cerr = credentials.resolve{explicit = c, project = project}
    self.red:add(c.sk):add(c.key)
    if cred then
      -- As P:credentials() does: the user, and the key and auth value redacted.
      cred.user = swrauth.format("user", {project = project, ak = cred.ak})
      self.red:add(cred.key)
        :add(swrauth.format("auth", {project = project, ak = cred.ak, key = cred.key}))
      self.cred = cred
    else
      self.cred_err = cerr
    end
    o.credentials = nil
  end
  return self
end

---------------------------------------------------------------- output

-- Writes a line to the error writer, redacted.
function P:_warn(msg)
  self.err(self.red:redact(msg) .. "\n")
end

function P:_warn_once(id, msg)
  if self.warned[id] then return end
  self.warned[id] = true
  self:_warn(msg)
end

function P:_step_line(step, detail, seconds)
  if self.o.quiet then return end
  self.err(self.red:redact(("%-8s%s   %.2f s"):format(step, detail, seconds)) .. "\n")
end

local function fail(self, step, msg, kind)
  local m = self.red:redact(step .. ": " .. msg)
  self.last_error = {message = m, kind = kind or "runtime"}
  return nil, m, kind or "runtime"
end

-------------------------------------------------------- engine and keys

function P:_path()
  local env = self.o.env
  return env and env.PATH or os.getenv("PATH")
end

--- The engine table, picked once (see `swrauth.engines`).
-- @treturn table|nil
-- @treturn[2] string why it is missing
function P:engine()
  if self.eng then return self.eng end
  local name = self.o.engine
  local path = self:_path()
  local function which(bin) return proc.which(bin, path) end
  local e
  if name == "auto" and self.source_hint and engines.transport(self.source_hint)
      and which(engines.skopeo.binary) then
    -- An image outside any engine's storage (oci:DIR, docker-archive:FILE,
    -- docker://REF): only skopeo pushes it as it is.
    e = engines.skopeo
  elseif name == "auto" then
    local err
    e, err = engines.detect(which, function(command)
      local res = proc.run{argv = command.argv, env = self.o.env, timeout = 10}
      return res ~= nil and res.status == 0
    end)
    if not e then return nil, err end
  else
    e = engines.get(name)
    if not self.o.dry_run and not which(e.binary) then
      return nil, engines.not_found(e)
    end
  end
  self.eng = e
  if e.name == "docker" and self.o.cert_dir then
    self:_warn_once("docker-cert", "warning: docker takes no CA directory: put the CA "
      .. "in /etc/docker/certs.d/" .. self.registry .. "/ca.crt on the daemon's host")
  end
  if e.name == "docker" and self.o.insecure and not self:_loopback() then
    self:_warn_once("docker-insecure", "warning: docker has no insecure flag: the "
      .. "daemon must list " .. self.registry .. " in \"insecure-registries\" "
      .. "(127.0.0.0/8 is insecure by default)")
  end
  return e
end

function P:_loopback()
  local host = self.registry:gsub(":%d+$", "")
  return host == "localhost" or host:find("^127%.") ~= nil
end

--- The credentials, found once (see `swrauth.credentials`).
-- @treturn table|nil `{project=, ak=, key=, source=}`
-- @treturn[2] string why there are none
function P:credentials()
  if self.cred then return self.cred end
  if self.cred_err then return nil, self.cred_err end
  local cred, err = credentials.resolve{
    file = self.o.credentials_file, project = self.project, getenv = self.o.getenv,
    warn = function(msg) self:_warn(msg) end,
  }
  if not cred then
    self.cred_err = err
    return nil, err
  end
  local user = swrauth.format("user", {project = self.project, ak = cred.ak})
  self.red:add(cred.key)
    :add(swrauth.format("auth", {project = self.project, ak = cred.ak, key = cred.key}))
  cred.user = user
  self.cred = cred
  return cred
end

-- The user as shown in step lines: the AK shortened.
function P:_user_short()
  local cred = self.cred
  if not cred then return self.project end
  local ak = cred.ak
  if #ak > 8 then ak = ak:sub(1, 4) .. "…" end
  return self.project .. "@" .. ak
end

-- Removes the temporary directories of a command context.
local function cleanup(c)
  for _, dir in ipairs(c.tmp or {}) do proc.remove_tree(dir) end
  c.tmp = {}
end

-- Adds the user and key to a command context (warning once for ctr).
function P:_add_key(step, e, c)
  local cred, cerr = self:credentials()
  if not cred then return fail(self, step, cerr, "credentials") end
  c.user, c.key = cred.user, cred.key
  if e.key_in_argv then
    self:_warn_once("ctr-key", "warning: ctr takes the login key only on its command "
      .. "line (--user USER:KEY): other local users can read it in the process "
      .. "list while ctr runs")
  end
  return true
end

-- The auth file an engine's login and logout rewrite (nil for ctr): where
-- the engine, with the environment it gets, looks for it.
function P:_auth_file(e)
  local env = self.o.env
  local function getenv(name)
    local v = env[name]
    if v == false then return nil end
    if v == nil then return os.getenv(name) end
    return v
  end
  local authfile = require "swrauth.authfile"
  if e.name == "docker" or e.name == "nerdctl" then
    return authfile.docker_path(getenv)
  elseif e.name == "podman" or e.name == "buildah" or e.name == "skopeo" then
    return authfile.containers_path(getenv)
  end
  return nil
end

-- Before an engine rewrites its auth file (login, logout): takes the lock
-- swrauth's auth-file writers take (see `swrauth.authfile`), so that
-- concurrent logins, which each rewrite the whole file, do not lose each
-- other's entries; and checks that the file parses, since docker replaces
-- a file it cannot parse with one holding only its new login. Returns the
-- function releasing the lock and, when the lock could not be taken (the
-- engine then runs without it), why; or nil, nil, message for a file that
-- does not parse.
local function guard(path)
  local authfile = require "swrauth.authfile"
  local ok, unlock, lerr = pcall(authfile.lock, path)
  if not ok then unlock, lerr = nil, unlock end
  local doc, rerr = authfile.read(path)
  if not doc then
    if unlock then unlock() end
    return nil, nil, rerr
  end
  return unlock, lerr
end

-- Engine and (when `need_key`) credentials, or nil, message, kind.
function P:_setup(step, need_key)
  local e, eerr = self:engine()
  if not e then return fail(self, step, eerr, "engine") end
  local c = {registry = self.registry, insecure = self.o.insecure,
             cert_dir = self.o.cert_dir, tmp = {}}
  if e.wants_hosts_dir and c.cert_dir and not c.insecure then
    local ok, err = self:_hosts_dir(c)
    if not ok then return fail(self, step, err, "usage") end
  end
  if need_key then
    local ok, err, kind = self:_add_key(step, e, c)
    if not ok then cleanup(c); return nil, err, kind end
  end
  return e, c
end

---------------------------------------------------------------- running

local function tail(text, n)
  local lines = {}
  for line in tostring(text):gmatch("[^\r\n]+") do
    -- Skip the docker CLI's informational log lines.
    local level, msg = line:match('^time="[^"]*" level=(%a+) msg="(.*)"')
    if level then
      if level ~= "info" and level ~= "debug" then
        lines[#lines + 1] = msg:gsub('\\"', '"')
      end
    elseif line:find("%S") then
      lines[#lines + 1] = line
    end
  end
  local from = math.max(1, #lines - n + 1)
  return concat(lines, " | ", from, #lines)
end

--- Seconds to wait before attempt `n + 1` (n >= 1).
function P:backoff(n)
  return min(self.o.backoff * 2 ^ (n - 1), self.o.backoff_max)
end

-- Runs one command for a step. With `retry`, a failure whose output looks
-- transient is tried again, up to `retries` attempts in all. `first`, when
-- given, is the outcome of attempt 1, already run (`{res}` or `{nil,
-- message}`, as `proc.run_all` gives it).
function P:_run(step, detail, command, retry, first)
  local line = proc.command_line(command.argv)
  if command.stdin then line = line .. " < " .. proc.REDACTED end
  line = self.red:redact(line)
  if self.o.dry_run then
    self.commands[#self.commands + 1] = line
    if not self.o.json then self.out(line .. "\n") end
    self.steps[#self.steps + 1] = {step = step, detail = self.red:redact(detail),
                                   seconds = 0, attempts = 0}
    return {status = 0, stdout = "", stderr = "", seconds = 0}
  end
  local attempts = retry and self.o.retries or 1
  local t0 = proc.clock()
  local res, err
  for n = 1, attempts do
    local unlock, lock_err, bad
    if command.lock and not (first and n == 1) then
      unlock, lock_err, bad = guard(command.lock)
      if bad then
        return fail(self, step, bad .. "; not running '" .. command.argv[1] .. " " .. step
          .. "', which would replace it and lose its other entries: fix or remove it")
      end
    end
    if first and n == 1 then
      res, err = first[1], first[2]
      lock_err = first.lock_err
      -- The step's time is the time it ran.
      if res then t0 = proc.clock() - res.seconds end
    else
      res, err = proc.run{argv = command.argv, stdin = command.stdin, env = self.o.env,
                          timeout = self.o.timeout}
    end
    if unlock then unlock() end
    if not res then return fail(self, step, err, "engine") end
    if res.status == 0 and lock_err then
      self:_warn_once("lock " .. command.lock, "warning: " .. step .. ": " .. command.argv[1]
        .. " wrote " .. command.lock .. " without the lock (" .. tostring(lock_err)
        .. "): concurrent logins may have lost entries")
    end
    if res.status == 0 then
      local seconds = proc.clock() - t0
      self.steps[#self.steps + 1] = {step = step, detail = self.red:redact(detail),
                                     seconds = seconds, attempts = n}
      self:_step_line(step, detail, seconds)
      return res
    end
    -- Classified without the docker CLI's info lines: they report each
    -- endpoint tried (an HTTPS attempt at a plain-HTTP registry ends in
    -- "EOF"), not why the command failed.
    local output = tail(res.stderr, math.huge) .. "\n" .. tail(res.stdout, math.huge)
    -- What the engine said: its stderr, or its stdout when stderr is empty.
    local said = tail(res.stderr, 3)
    if said == "" then said = tail(res.stdout, 3) end
    -- A command stopped by the timeout is retried like a transient failure.
    if n < attempts and (res.timed_out or M.is_transient(output)) then
      local wait = self:backoff(n)
      if not self.o.quiet then
        local why = res.timed_out and ("timed out after %g s"):format(self.o.timeout)
          or said:match("[^|]*$"):gsub("^ ", "")
        self:_warn(("%-8s%s   attempt %d of %d failed (%s); again in %.2f s"):format(
          step, detail, n, attempts, why, wait))
      end
      self.sleep(wait)
    else
      local what = ("'%s' failed (%s)"):format(line, res.timed_out
        and ("timed out after %g s"):format(self.o.timeout) or "exit " .. res.status)
      if n > 1 then what = what .. " after " .. n .. " attempts" end
      return fail(self, step, said ~= "" and what .. ": " .. said or what)
    end
  end
end

local function check_string(v, n, fname)
  if type(v) ~= "string" or v == "" then
    error(("bad argument #%d to '%s' (non-empty string expected, got %s)")
          :format(n, fname, v == "" and "empty string" or type(v)), 3)
  end
end

-- What is wrong with an image name handed to an engine as an argument, or
-- nil: a leading '-' would be read as an option, a control character
-- (CR, LF, ...) would forge lines in step lines and summaries.
local function bad_image_name(v)
  local at = v:find("%c")
  if at then
    return "image name has a control character at byte " .. at
  end
  if v:sub(1, 1) == "-" then
    return "image name '" .. v .. "' starts with '-' (an engine would read it as an option)"
  end
  return nil
end

-- A containerd hosts directory trusting the CA files in cert_dir, made in
-- a private temporary directory; a cert_dir that already is a hosts
-- directory for this registry is taken as it is.
function P:_hosts_dir(c)
  local dir = c.cert_dir
  if proc.file_mode(dir .. "/" .. self.registry .. "/hosts.toml") then
    c.hosts_dir = dir
    return true
  end
  if self.o.dry_run then
    c.hosts_dir = "$TMPDIR/hosts"
    return true
  end
  local entries, why = proc.list_dir(dir)
  if not entries then return nil, "cert dir " .. dir .. ": " .. tostring(why) end
  local cas = {}
  for _, ent in ipairs(entries) do
    if ent.name:find("%.crt$") then cas[#cas + 1] = proc.abspath(dir .. "/" .. ent.name) end
  end
  if #cas == 0 then
    return nil, "cert dir " .. dir .. " holds no .crt file (nor a hosts directory for "
      .. self.registry .. ")"
  end
  local tmp, terr = proc.tempdir()
  if not tmp then return nil, "cannot make a temporary directory: " .. tostring(terr) end
  c.tmp[#c.tmp + 1] = tmp
  local hosts = tmp .. "/hosts"
  proc.mkdir(hosts)
  proc.mkdir(hosts .. "/" .. self.registry)
  local ok, werr = proc.write_private(hosts .. "/" .. self.registry .. "/hosts.toml",
                                      engines.hosts_toml(self.registry, cas))
  if not ok then return nil, "cannot write hosts.toml: " .. tostring(werr) end
  c.hosts_dir = hosts
  return true
end

-- A digest file for engines that write one, in a private directory.
function P:_digestfile(e, c)
  if not e.wants_digestfile then return end
  if self.o.dry_run then
    c.digestfile = "$TMPDIR/digest"
    return
  end
  local dir = proc.tempdir()
  if dir then
    c.tmp[#c.tmp + 1] = dir
    c.digestfile = dir .. "/digest"
  end
end


function P:_digest(e, c, res, ref)
  if self.o.dry_run then return nil end
  local d = e.digest and e.digest(res, c, ref)
  if not d and e.digest_query then
    local q = proc.run{argv = e.digest_query(c, ref).argv, env = self.o.env,
                       timeout = self.o.timeout}
    if q and q.status == 0 then d = engines.digest_in_query(q, ref) end
  end
  return d
end

---------------------------------------------------------------- methods

--- Logs the engine in to the registry (the key on its standard input).
-- ctr keeps no login: this only checks the credentials.
-- @treturn true|nil
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:login()
  local e, c, kind = self:_setup("login", true)
  if not e then return nil, c, kind end
  local detail = self:_user_short() .. " to " .. self.registry
  if not e.login then
    cleanup(c)
    self.logged_in = true
    self:_step_line("login", detail .. " (ctr: the key goes with each push)", 0)
    return true
  end
  local command = e.login(c)
  command.lock = self:_auth_file(e)
  local res, err, k = self:_run("login", detail, command, true)
  cleanup(c)
  if not res then return nil, err, k end
  self.logged_in = true
  return true
end

--- Logs the engine out of this registry only (other logins stay).
-- @treturn true|nil
function P:logout()
  local e, c, kind = self:_setup("logout", false)
  if not e then return nil, c, kind end
  if not e.logout then
    cleanup(c)
    self:_step_line("logout", self.registry .. " (ctr keeps no login)", 0)
    return true
  end
  local command = e.logout(c)
  command.lock = self:_auth_file(e)
  local res, err, k = self:_run("logout", self.registry, command, false)
  cleanup(c)
  if not res then return nil, err, k end
  self.logged_in = false
  return true
end

--- Tags an image: locally, or (skopeo) by copying it in the registry.
-- @tparam string src
-- @tparam string dst
-- @treturn true|nil
function P:tag(src, dst)
  check_string(src, 1, "tag")
  check_string(dst, 2, "tag")
  local bad = bad_image_name(src) or bad_image_name(dst)
  if bad then return fail(self, "tag", bad, "usage") end
  local e, c, kind = self:_setup("tag", false)
  if not e then return nil, c, kind end
  self:_digestfile(e, c)
  local res, err, k = self:_run("tag", src .. " -> " .. dst, e.tag(c, src, dst),
                                e.remote_only)
  cleanup(c)
  if not res then return nil, err, k end
  return true
end

-- After the command that pushed REF (`res`, or nil, `err`, `kind`): the
-- digest, the context's temporary files removed, REF recorded as pushed
-- (returned as `{reference=, digest=}`) or as failed at `step`.
function P:_pushed(step, e, c, ref, res, err, kind)
  local d = res and self:_digest(e, c, res, ref)
  cleanup(c)
  if not res then
    self.failed[ref] = step
    return nil, err, kind
  end
  local r = {reference = ref, digest = d}
  self.pushed[#self.pushed + 1] = r
  return r
end

--- Pushes an image, retrying transient failures.
-- @tparam string ref the image reference
-- @treturn table|nil `{reference=, digest=}` (digest nil when unknown)
function P:push(ref)
  check_string(ref, 1, "push")
  local bad = bad_image_name(ref)
  if bad then return fail(self, "push", bad, "usage") end
  local e, c, kind = self:_setup("push", false)
  if not e then return nil, c, kind end
  if not e.push then
    return fail(self, "push", e.name .. " has no local images to push: use release "
                .. "(which copies SOURCE to the registry) or tag (a registry copy)", "usage")
  end
  if e.key_in_argv then
    local ok, err, k = self:_add_key("push", e, c)
    if not ok then return nil, err, k end
  end
  self:_digestfile(e, c)
  self:plan{ref}
  return self:_pushed("push", e, c, ref, self:_run("push", ref, e.push(c, ref), true))
end

-- release with skopeo: the login and the copy of SOURCE to REF at the
-- same time. The copy reads the credentials from a private auth file
-- (0600, in a 0700 temporary directory, removed after), so it does not
-- wait for the login, which still runs (under the auth-file lock) and
-- stores the login as `login` does. Attempt 1 of both runs at once; what
-- failed is then retried one after the other as usual, the login first,
-- and a failed login stops the release even when the copy went through
-- (then listed as pushed). Returns like `_copy`.
function P:_login_and_copy(source, ref)
  local e, c, kind = self:_setup("login", true)
  if not e then return nil, c, kind end
  local login = e.login(c)
  login.lock = self:_auth_file(e)
  local dry = self.o.dry_run
  local unlock, lock_err, bad
  if not dry then unlock, lock_err, bad = guard(login.lock) end
  if bad then
    cleanup(c)
    return fail(self, "login", bad .. "; not running '" .. login.argv[1]
      .. " login', which would replace it and lose its other entries: fix or remove it")
  end
  local cc = {registry = self.registry, insecure = self.o.insecure,
              cert_dir = self.o.cert_dir, tmp = {}}
  local json = require "swrauth.json"
  local dir = not dry and proc.tempdir()
  if dry then cc.authfile = "$TMPDIR/auth.json" end
  if dir then
    cc.tmp[1] = dir
    local auth = {auths = {[self.registry] = {auth = swrauth.format("auth",
      {project = self.project, ak = self.cred.ak, key = self.cred.key})}}}
    if proc.write_private(dir .. "/auth.json", json.encode(auth)) then
      cc.authfile = dir .. "/auth.json"
    end
  end
  self:_digestfile(e, cc)
  local copy = e.copy(cc, source, ref)
  self:plan{ref}
  local both = {{nil, "not run"}, {nil, "not run"}}
  local parallel = cc.authfile and not dry
  if parallel then
    both = proc.run_all{
      {argv = login.argv, stdin = login.stdin, env = self.o.env, timeout = self.o.timeout},
      {argv = copy.argv, env = self.o.env, timeout = self.o.timeout},
    }
  end
  if unlock then unlock() end
  both[1].lock_err = lock_err
  -- Without a private auth file, one after the other.
  local res, err, k = self:_run("login", self:_user_short() .. " to " .. self.registry, login,
                                true, parallel and both[1] or nil)
  cleanup(c)
  if not res then
    local done = both[2][1]
    if done and done.status == 0 then
      self.pushed[#self.pushed + 1] = {reference = ref, digest = self:_digest(e, cc, done, ref)}
    end
    cleanup(cc)
    return nil, err, k
  end
  self.logged_in = true
  return self:_pushed("push", e, cc, ref, self:_run("push", source .. " -> " .. ref, copy, true,
                                                   parallel and both[2] or nil))
end

-- Copies SOURCE to REF (skopeo), or tags SRC_REF as REF in the registry.
function P:_copy(step, from, ref, remote)
  local e, c, kind = self:_setup(step, false)
  if not e then return nil, c, kind end
  self:_digestfile(e, c)
  local command = remote and e.remote_tag(c, from, ref) or e.copy(c, from, ref)
  self:plan{ref}
  return self:_pushed(step, e, c, ref, self:_run(step, from .. " -> " .. ref, command, true))
end

-- Whether release adds tags 2..n through the registry's API (see
-- `swrauth.registry`): with skopeo, in mode "auto" and "api". HTTPS
-- requests need curl: without it, "auto" falls back to skopeo copies
-- (see `_api_tag`) and "api" fails, at once when the registry can only be
-- HTTPS (not `insecure`).
function P:_api_tagging(e, n)
  local mode = self.o.remote_tag
  if n < 2 or not e.remote_tag or mode == "engine" then return false end
  if self.o.dry_run then return true end
  self.curl = proc.which("curl", self:_path()) or false
  if self.curl or self.o.insecure or mode == "auto" then return true end
  return nil, "tag: " .. NO_CURL, "engine"
end

-- Runs `fn()` (returning a result, or nil, message, transient) up to
-- `retries` times while its failures are transient.
function P:_retry(step, detail, fn)
  local attempts = self.o.retries
  for n = 1, attempts do
    local res, err, transient = fn()
    if res then return res, n end
    if n == attempts or not transient then
      if n > 1 then err = err .. " (after " .. n .. " attempts)" end
      return nil, err
    end
    local wait = self:backoff(n)
    if not self.o.quiet then
      self:_warn(("%-8s%s   attempt %d of %d failed (%s); again in %.2f s"):format(
        step, detail, n, attempts, err, wait))
    end
    self.sleep(wait)
  end
end

-- Adds the tags `rest` (full references) to the manifest `first` (the
-- `{reference=, digest=}` just pushed) through the registry's API: one
-- manifest GET (by digest when known), then one PUT per tag, all PUTs in
-- one curl process; transient failures are retried as engine steps are.
function P:_api_tag(repo, first, rest)
  local registry = require "swrauth.registry"
  local tags = {}
  for i, ref in ipairs(rest) do tags[i] = ref:match(":([^:/]+)$") end
  local from = first.digest and first.digest:find("^sha256:%x+$") and first.digest
    or first.reference:match(":([^:/]+)$")
  local detail_of = function(ref) return first.reference .. " -> " .. ref end
  local base = self.registry .. "/v2/" .. repo .. "/manifests/"
  self:plan(rest)
  if self.o.dry_run then
    local lines = {registry.describe("GET", base .. (first.digest and "DIGEST" or from))}
    for _, t in ipairs(tags) do lines[#lines + 1] = registry.describe("PUT", base .. t) end
    for _, line in ipairs(lines) do
      self.commands[#self.commands + 1] = line
      if not self.o.json then self.out(line .. "\n") end
    end
    for _, ref in ipairs(rest) do
      self.steps[#self.steps + 1] = {step = "tag", detail = self.red:redact(detail_of(ref)),
                                     seconds = 0, attempts = 0}
      self.pushed[#self.pushed + 1] = {reference = ref, digest = nil}
    end
    return true
  end
  local cred = self.cred
  local client = registry.new{
    registry = self.registry, user = cred.user, key = cred.key,
    insecure = self.o.insecure, cert_dir = self.o.cert_dir, timeout = self.o.timeout,
    env = self.o.env, on_secret = function(token) self.red:add(token) end,
    curl = self.curl, no_curl = NO_CURL,
  }
  local t0 = proc.clock()
  local m, err = self:_retry("tag", "GET " .. base .. from, function()
    return client:get_manifest(repo, from)
  end)
  if not m then
    client:close()
    -- No curl for an HTTPS registry: "auto" tags with the engine instead.
    if client.curl_missing and self.o.remote_tag == "auto" then return "engine" end
    self.failed[rest[1]] = "tag"
    return fail(self, "tag", err, client.curl_missing and "engine" or nil)
  end
  local pending, refs = tags, rest
  local attempts = self.o.retries
  for n = 1, attempts do
    local list, why, transient = client:put_manifest(repo, pending, m)
    local done = 0
    if list then
      local seconds = proc.clock() - t0
      for i, it in ipairs(list) do
        if it.error then
          why, transient = it.error, it.transient
          break
        end
        done = i
        local r = {reference = refs[i], digest = it.digest or m.digest or first.digest}
        self.pushed[#self.pushed + 1] = r
        self.steps[#self.steps + 1] = {step = "tag", detail = self.red:redact(detail_of(refs[i])),
                                       seconds = seconds, attempts = n}
        self:_step_line("tag", detail_of(refs[i]) .. " (registry API)", seconds)
      end
    end
    -- The tag that failed and those after it, not tried.
    local again_tags, again_refs = {}, {}
    for i = done + 1, #pending do
      again_tags[#again_tags + 1], again_refs[#again_refs + 1] = pending[i], refs[i]
    end
    if #again_tags == 0 then client:close(); return true end
    if n == attempts or not transient then
      client:close()
      self.failed[again_refs[1]] = "tag"
      if n > 1 then why = why .. " (after " .. n .. " attempts)" end
      return fail(self, "tag", why)
    end
    local wait = self:backoff(n)
    if not self.o.quiet then
      self:_warn(("%-8s%s   attempt %d of %d failed (%s); again in %.2f s"):format(
        "tag", detail_of(again_refs[1]), n, attempts, why, wait))
    end
    self.sleep(wait)
    pending, refs = again_tags, again_refs
  end
end

local TAG = "^[%w_][%w_.-]*$"

--- The full reference REGISTRY/REPOSITORY:TAG, or nil and a message.
function P:reference(repository, tag)
  if #tag > 128 or not tag:find(TAG) then
    return nil, "'" .. tag .. "' is not a valid image tag (letters, digits, '_', "
      .. "'.' and '-', not starting with '.' or '-', at most 128)"
  end
  local first = repository:match("^[^/]+")
  if repository:find("/") and first and (first:find("[.:]") or first == "localhost") then
    return nil, "repository '" .. repository .. "' must be NS/NAME without the "
      .. "registry (the registry is " .. self.registry .. ")"
  end
  local ref = self.registry .. "/" .. repository .. ":" .. tag
  local img, perr = swrauth.parse("image", ref)
  if not img then
    -- parse counts bytes from the start of REGISTRY/REPOSITORY:TAG: count
    -- them in the repository the caller gave.
    local shift = #self.registry + 1
    perr = tostring(perr):gsub("at byte (%d+)", function(n)
      n = tonumber(n) - shift
      if n >= 1 and n <= #repository then return "at byte " .. n end
    end)
    return nil, "repository '" .. repository .. "': " .. perr
  end
  if img.registry .. "/" .. img.repository ~= self.registry .. "/" .. repository then
    return nil, "repository '" .. repository .. "' is not in canonical form"
  end
  return ref
end

local RELEASE_KEYS = {source = "string", repository = "string", tags = "table"}

--- Logs in, pushes SOURCE under the first tag, then adds the other tags.
-- The other tags are added without uploading layers again: skopeo copies
-- the manifest within the registry (the blobs are already there); the
-- other engines tag locally and push, and the registry answers each layer
-- with "already exists" after a HEAD request.
-- With skopeo, SOURCE is any skopeo image name (`oci:DIR:TAG`,
-- `docker-archive:FILE`, `docker://REF`; a bare name means `docker://`).
-- @tparam table spec `{source=, repository="NS/NAME", tags={...}}`
-- @treturn table|nil list of `{reference=, digest=}`, one per tag
-- @treturn[2] string message naming the step
-- @treturn[2] string kind
function P:release(spec)
  if type(spec) ~= "table" then
    error("bad argument #1 to 'release' (table expected, got " .. type(spec) .. ")", 2)
  end
  for k, v in pairs(spec) do
    local want = RELEASE_KEYS[k]
    if not want then
      error("bad argument #1 to 'release' (unknown field '" .. tostring(k) .. "')", 2)
    elseif type(v) ~= want then
      error("bad argument #1 to 'release' (field '" .. k .. "' must be a " .. want
            .. ", got " .. type(v) .. ")", 2)
    end
  end
  for _, k in ipairs {"source", "repository", "tags"} do
    if spec[k] == nil then
      error("bad argument #1 to 'release' (field '" .. k .. "' is required)", 2)
    end
  end
  local tags = spec.tags
  if #tags == 0 then
    error("bad argument #1 to 'release' (field 'tags' is empty)", 2)
  end
  if spec.source == "" then
    error("bad argument #1 to 'release' (field 'source' is empty)", 2)
  end
  local bad = bad_image_name(spec.source)
  if bad then return fail(self, "release", "source: " .. bad, "usage") end
  local refs, seen = {}, {}
  for i, t in ipairs(tags) do
    if type(t) ~= "string" then
      error("bad argument #1 to 'release' (tags[" .. i .. "] must be a string, got "
            .. type(t) .. ")", 2)
    end
    local ref, rerr = self:reference(spec.repository, t)
    if not ref then return fail(self, "release", rerr, "usage") end
    if not seen[ref] then
      seen[ref] = true
      refs[#refs + 1] = ref
    end
  end

  -- What is not pushed after a failure shows in report() and summary().
  self:plan(refs)
  local function stop(ref, err, kind)
    self.failed[ref] = self.failed[ref] or tostring(err):match("^([%w-]+):") or "release"
    return nil, err, kind
  end
  if not self.eng then self.source_hint = spec.source end
  local e, eerr = self:engine()
  if not e then return fail(self, "login", eerr, "engine") end
  local first = #self.pushed
  local ok, err, kind, r
  if e.remote_only and self.o.parallel_login then
    r, err, kind = self:_login_and_copy(spec.source, refs[1])
    if not r then return nil, err, kind end
  elseif e.remote_only then
    ok, err, kind = self:login()
    if not ok then return nil, err, kind end
    r, err, kind = self:_copy("push", spec.source, refs[1], false)
    if not r then return nil, err, kind end
  else
    ok, err, kind = self:login()
    if not ok then return nil, err, kind end
    if spec.source ~= refs[1] then
      ok, err, kind = self:tag(spec.source, refs[1])
      if not ok then return stop(refs[1], err, kind) end
    end
    r, err, kind = self:push(refs[1])
    if not r then return nil, err, kind end
  end
  local api, aerr, akind = self:_api_tagging(e, #refs)
  if aerr then return stop(refs[2], aerr, akind) end
  if api then
    local rest = {}
    for i = 2, #refs do rest[#rest + 1] = refs[i] end
    ok, err, kind = self:_api_tag(spec.repository, r, rest)
    if not ok then return nil, err, kind end
    if ok == "engine" then api = false end
  end
  for i = 2, api and 0 or #refs do
    local ri
    if e.remote_tag then
      ri, err, kind = self:_copy("tag", refs[1], refs[i], true)
    else
      ok, err, kind = self:tag(spec.source, refs[i])
      if not ok then return stop(refs[i], err, kind) end
      ri, err, kind = self:push(refs[i])
    end
    if not ri then return stop(refs[i], err, kind) end
    ri.digest = ri.digest or r.digest
  end
  local out = {}
  for i = first + 1, #self.pushed do out[#out + 1] = self.pushed[i] end
  self:summary()
  return out
end

--- Declares references about to be pushed (`release` and `push` do it
-- themselves), so that after a failure `report` and `summary` list those
-- that were not pushed.
-- @tparam table refs a list of references
function P:plan(refs)
  self.planned_set = self.planned_set or {}
  for _, ref in ipairs(refs) do
    if not self.planned_set[ref] then
      self.planned_set[ref] = true
      self.planned[#self.planned + 1] = ref
    end
  end
end

-- The planned references not pushed: {reference=, status="failed",
-- step=} for the one whose step failed, {reference=, status="skipped"}
-- for those not tried.
function P:_not_pushed()
  local done, list = {}, {}
  for _, p in ipairs(self.pushed) do done[p.reference] = true end
  for _, ref in ipairs(self.planned) do
    if not done[ref] then
      local step = self.failed[ref]
      list[#list + 1] = {reference = ref, status = step and "failed" or "skipped", step = step}
    end
  end
  return list
end

--- The run so far as a table: `{ok=, engine=, registry=, project=, user=,
-- dry_run=, steps={...}, pushed={...}, not_pushed={...}, commands={...}}`
-- (commands only in a dry run). `ok` is false, and `error` the message,
-- once a step has failed.
function P:report()
  local json = require "swrauth.json"
  local steps, pushed = json.array(), json.array()
  for i, s in ipairs(self.steps) do
    steps[i] = {step = s.step, detail = s.detail, attempts = s.attempts,
                seconds = floor(s.seconds * 1000 + 0.5) / 1000}
  end
  for i, p in ipairs(self.pushed) do
    pushed[i] = {reference = p.reference, digest = p.digest}
  end
  local rep = {
    ok = self.last_error == nil, error = self.last_error and self.last_error.message,
    engine = self.eng and self.eng.name or self.o.engine,
    registry = self.registry, project = self.project, dry_run = self.o.dry_run,
    user = self.cred and self.cred.user or nil, steps = steps, pushed = pushed,
    not_pushed = json.array(self:_not_pushed()),
  }
  if self.o.dry_run then rep.commands = json.array({table.unpack(self.commands)}) end
  return rep
end

--- Prints the summary: each pushed reference and its digest on `out`
-- (one line each, "REFERENCE DIGEST", "-" for an unknown digest), or the
-- report as JSON with the `json` option. After a failure, the planned
-- references that were not pushed follow on `err`, one a line:
-- "not pushed  REFERENCE  (STEP failed)" or "(skipped)".
function P:summary()
  if self.o.json then
    local json = require "swrauth.json"
    self.out(self.red:redact(json.encode(self:report())) .. "\n")
  elseif not self.o.dry_run then
    for _, p in ipairs(self.pushed) do
      self.out(self.red:redact(p.reference .. " " .. (p.digest or "-")) .. "\n")
    end
    local np = self:_not_pushed()
    if #np > 0 then
      self:_warn(("%d of %d references pushed%s"):format(#self.planned - #np, #self.planned,
        #self.pushed > 0 and " (listed on standard output)" or ""))
      for _, n in ipairs(np) do
        self:_warn("not pushed  " .. n.reference .. "  ("
          .. (n.step and n.step .. " failed" or "skipped") .. ")")
      end
    end
  end
end

--- Redacts secrets known to this pipeline in a text.
function P:redact(text)
  return self.red:redact(text)
end

---------------------------------------------------------------- semver

local function numeric(s)
  return s:find("^%d+$") and (s == "0" or not s:find("^0"))
end

--- Tags for a semantic version: "1.4.2" gives {"1.4.2", "1.4", "1"} (and
-- "latest" with `{latest = true}`). A pre-release ("1.4.2-rc.1") gives only
-- itself. A leading "v" is dropped. Build metadata ("+...") is refused:
-- '+' cannot appear in an image tag.
-- @tparam string version
-- @tparam[opt] table opts `{latest = boolean}`
-- @treturn table|nil the tags
-- @treturn[2] string why the version is not accepted
function M.semver_tags(version, opts)
  if type(version) ~= "string" then
    error("bad argument #1 to 'semver_tags' (string expected, got " .. type(version)
          .. ")", 2)
  end
  if opts ~= nil then
    if type(opts) ~= "table" then
      error("bad argument #2 to 'semver_tags' (table expected, got " .. type(opts)
            .. ")", 2)
    end
    for k, v in pairs(opts) do
      if k ~= "latest" then
        error("bad argument #2 to 'semver_tags' (unknown option '" .. tostring(k)
              .. "')", 2)
      elseif type(v) ~= "boolean" then
        error("bad argument #2 to 'semver_tags' (option 'latest' must be a boolean, "
              .. "got " .. type(v) .. ")", 2)
      end
    end
  end
  local v = version:gsub("^v", "")
  local bad = "'" .. version .. "' is not a semantic version (MAJOR.MINOR.PATCH, "
    .. "optionally -PRERELEASE, e.g. 1.4.2 or 1.4.2-rc.1)"
  if v:find("+", 1, true) then
    return nil, "'" .. version .. "' has build metadata ('+...'), which an image tag "
      .. "cannot hold"
  end
  local core, pre = v:match("^([^-]+)%-(.+)$")
  core = core or v
  local major, minor, patch = core:match("^(%d+)%.(%d+)%.(%d+)$")
  if not (major and numeric(major) and numeric(minor) and numeric(patch)) then
    return nil, bad
  end
  if pre then
    for id in (pre .. "."):gmatch("([^.]*)%.") do
      if id == "" or id:find("[^%w-]") or (id:find("^%d+$") and not numeric(id)) then
        return nil, bad
      end
    end
    if #v > 128 then return nil, bad end
    return {v}
  end
  local tags = {v, major .. "." .. minor, major}
  if opts and opts.latest then tags[#tags + 1] = "latest" end
  return tags
end

return M

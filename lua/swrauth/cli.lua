--- The `swrauth` command line (docs/CLI.md): the parser, dispatch to the
-- command modules (`swrauth.cmd.*`), exit codes, and all output.
--
-- `main(args, sys)` runs one command and returns the exit code: 0
-- success, 1 runtime failure, 2 usage error, 3 credentials missing or
-- malformed, 4 engine not found. Each command is a module
-- `swrauth.cmd.NAME` with `add_to_parser(parser)` (returning the commands
-- it made) and `run(args, ui)` (returning the exit code); `ui` is the one
-- way commands write: results, errors, step lines, reports.
--
-- @module swrauth.cli
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local text = require "swrauth.text"
local engines = require "swrauth.engines"
local proc = require "swrauth.proc"
local options = require "swrauth.options"
local credentials = require "swrauth.credentials"
local logins = require "swrauth.logins"

local ipairs, tostring, xpcall, require = ipairs, tostring, xpcall, require

--- Exit codes by failure kind.
M.EXIT = {ok = 0, runtime = 1, usage = 2, credentials = 3, engine = 4}
local EXIT = M.EXIT

--- The commands, in the order `--help` lists them.
M.COMMANDS = {"key", "credentials", "login-command", "login", "check", "logout", "tag", "push",
              "release", "parse", "configure-docker", "config", "version"}

local function module_of(name)
  return "swrauth.cmd." .. name:gsub("%-", "_")
end

--- The sys table (see `swrauth.proc.system`).
M.system = proc.system

---------------------------------------------------------------- output

-- JSON for people and scripts: "<redacted>", not "\u003credacted\u003e".
local PLAIN = {escape_html = false}

local U = {EXIT = EXIT}
U.__index = U

--- The output of one command run: `sys` and the global flags of `a`
-- (`json`, `quiet`, `dry_run`).
function M.ui(sys, a)
  return setmetatable({out = sys.out, err = sys.err, getenv = sys.getenv, stdin = sys.stdin,
                       a = a or {}}, U)
end

--- An error: "swrauth: MESSAGE" on one line; returns the exit code of
-- `kind` (a name in `EXIT`, default "runtime").
function U:fail(msg, kind)
  self.err("swrauth: " .. text.one_line(msg) .. "\n")
  return EXIT[kind or "runtime"]
end

--- A usage error: the message and a pointer to --help; returns 2.
function U:usage(msg)
  self.err("swrauth: " .. text.one_line(msg) .. "\nTry 'swrauth --help'.\n")
  return EXIT.usage
end

--- A progress line on stderr, unless --quiet or --json.
function U:info(line)
  if not self.a.quiet and not self.a.json then self.err(line .. "\n") end
end

--- A warning on stderr.
function U:warn(line)
  self.err(line .. "\n")
end

--- A JSON document on stdout, on one line.
function U:json(doc)
  self.out(json.encode(doc, PLAIN) .. "\n")
end

--- Shows a pipeline event (see `swrauth.steps`): step and retry lines
-- unless --quiet, warnings always.
function U:event(ev)
  if ev.kind == "warning" then return self:warn(ev.message) end
  if self.a.quiet then return end
  -- The step's name in a column of 8, and a space after a longer one.
  local name = #ev.step < 8 and ev.step or ev.step .. " "
  if ev.kind == "step" then
    self.err(("%-8s%s   %.2f s\n"):format(name, ev.detail, ev.seconds))
  elseif ev.kind == "retry" then
    self.err(("%-8s%s   attempt %d of %d failed (%s); again in %.2f s\n"):format(
      name, ev.detail, ev.attempt, ev.attempts, text.one_line(ev.why), ev.wait))
  end
end

--- The login of a command that runs no pipeline (key, config, ...):
-- the credentials' long-term login, or a temporary one (see
-- `swrauth.logins`), for `project` and `registry`.
-- @treturn table|nil the login
-- @treturn[2] nil
-- @treturn[2] integer the exit code (the error said)
function U:login(step, project, registry)
  local lo, lerr = options.login(self.a, self)
  if not lo then return nil, self:usage(step .. ": " .. lerr) end
  local curl = proc.which("curl", self.getenv("PATH")) or false
  local cred, err = credentials.resolve {
    file = self.a.credentials_file, getenv = self.getenv, insecure = lo.insecure, curl = curl,
    warn = function(msg) self:warn(msg) end,
  }
  if not cred then return nil, self:fail(step .. ": " .. err, "credentials") end
  lo.project, lo.registry, lo.getenv, lo.curl = project, registry, self.getenv, curl
  if logins.is_temporary(cred, lo) and not project then
    return nil, self:usage(step .. ": a temporary login (" .. (cred.temporary
      and "credentials from " .. cred.where .. " are temporary" or "--temporary") .. ") needs "
      .. "--project (or SWRAUTH_PROJECT), e.g. --project cn-north-4")
  end
  -- A dry run asks no API.
  if self.a.dry_run and logins.is_temporary(cred, lo) then
    return {user = swrauth.format("user", {project = project, ak = cred.ak}), registry = registry,
            password = text.REDACTED, temporary = true}, cred
  end
  local login, kind
  login, err, kind = logins.get(cred, lo)
  if not login then
    return nil, self:fail(step .. ": " .. err, (kind == "usage" or kind == "credentials") and kind or "runtime")
  end
  return login, cred
end

--- Pipeline options with this run's callbacks (events, environment).
function U:hooks(o)
  o.getenv = self.getenv
  o.on_event = function(ev) self:event(ev) end
  return o
end

--- Ends a pipeline command: a failure's message, then the report: with
-- --json the report as JSON on stdout; else in a dry run the commands on
-- stdout, otherwise each pushed reference and its digest on stdout and,
-- after a failure, what was not pushed on stderr.
-- @treturn integer the exit code
function U:finish(p, ok, err, kind)
  local code = ok and EXIT.ok or EXIT[kind or "runtime"] or EXIT.runtime
  if not ok then self.err("swrauth: " .. text.one_line(err) .. "\n") end
  local rep = p:report()
  if self.a.json then
    if not ok then rep.exit = code end
    self.out(p:redact(json.encode(rep, PLAIN)) .. "\n")
    return code
  end
  if rep.dry_run then
    for _, line in ipairs(rep.commands) do self.out(line .. "\n") end
    return code
  end
  for _, r in ipairs(rep.pushed) do self.out(p:redact(r.reference .. " " .. (r.digest or "-")) .. "\n") end
  local np = rep.not_pushed
  if #np > 0 then
    self.err(("%d of %d references pushed%s\n"):format(#p.planned - #np, #p.planned,
      #rep.pushed > 0 and " (listed on standard output)" or ""))
    for _, n in ipairs(np) do
      self.err("not pushed  " .. n.reference .. "  (" .. (n.step and n.step .. " failed" or "skipped")
        .. ")\n")
    end
  end
  return code
end

---------------------------------------------------------------- parser

local HELP = {}

local GLOBAL_EPILOG = "Global options (--project, --registry, --engine, --credentials-file, "
  .. "--temporary, --duration, --insecure, --cert-dir, --dry-run, --json, --retries, --backoff, "
  .. "--timeout, --quiet) go "
  .. "before or after the command: see 'swrauth --help'.\nExit codes: 0 success, 1 runtime "
  .. "failure, 2 usage error, 3 credentials missing or malformed, 4 engine not found."

-- Replaces argparse's help flag (which prints and exits the process) by
-- one that hands the help text back to `main`.
local function with_help(p, state)
  p:add_help(false)
  p:flag("-h --help", "Show this help message and exit."):action(function()
    state.help = p:get_help()
    error(HELP, 0)
  end)
  return p
end

--- The argparse parser of every command.
-- @tparam[opt] table state receives `help` when -h is given
function M.parser(state)
  state = state or {}
  -- Loaded here, not at the top: compiling Debian's argparse source is
  -- most of the start-up of `swrauth key`, which does not use it
  -- (BENCHMARKS.md).
  local argparse = require "argparse"
  local parser = with_help(argparse("swrauth", "Log in to Huawei Cloud SWR registries (or any "
    .. "registry taking the same credentials), tag and push images. The login key goes to "
    .. "engines on standard input, never on their command line (except ctr, which has no "
    .. "other way)."), state)
  parser:epilog("Credentials, first found wins: HUAWEICLOUD_SDK_AK + HUAWEICLOUD_SDK_SK (+ "
    .. "HUAWEICLOUD_SDK_SECURITY_TOKEN), or HUAWEICLOUD_SDK_IDP_ID + HUAWEICLOUD_SDK_ID_TOKEN_FILE; "
    .. "SWRAUTH_AK + SWRAUTH_LOGIN_KEY; the credentials CSV from --credentials-file or "
    .. "SWRAUTH_CREDENTIALS_FILE; ~/.huaweicloud/credentials; KooCLI's ~/.hcloud/config.json; CCE "
    .. "pod identity; the cloud server's agency (instance metadata). 'swrauth credentials' "
    .. "says which. Temporary credentials log in with SWR's temporary login.\nExit codes: 0 "
    .. "success, 1 runtime failure, 2 usage error, 3 credentials missing or malformed, 4 engine "
    .. "not found.")
  parser:command_target("command")
  parser:help_max_width(80)
  parser:option("--project", "Region project such as cn-north-4 or cn-north-4_team "
    .. "(env SWRAUTH_PROJECT).")
  parser:option("--registry", "Registry address HOST[:PORT]; default "
    .. "swr.REGION.myhuaweicloud.com (env SWRAUTH_REGISTRY).")
  parser:option("--engine", table.concat(engines.CHOICES, ", ", 1, #engines.CHOICES - 1)
    .. " or auto (env SWRAUTH_ENGINE; default auto).")
    :choices(engines.CHOICES)
  parser:option("--credentials-file", "The console's credentials.csv "
    .. "(env SWRAUTH_CREDENTIALS_FILE).")
  parser:flag("--temporary", "Log in with SWR's temporary login (its API), not the long-term "
    .. "key; automatic for temporary credentials (env SWRAUTH_TEMPORARY=1).")
  parser:option("--duration", "Seconds the temporary login is valid, 900 to 86400 (implies "
    .. "--temporary; env SWRAUTH_DURATION; default SWR's).")
  parser:flag("--insecure", "Plain HTTP / no TLS verification, for local registries "
    .. "(env SWRAUTH_INSECURE=1).")
  parser:option("--cert-dir", "Directory holding the registry's CA .crt (env SWRAUTH_CERT_DIR).")
  parser:flag("--dry-run", "Print each command (secrets redacted), run nothing.")
  parser:flag("--json", "Machine-readable summary on stdout.")
  parser:option("--retries", "Attempts for each network step on transient failure "
    .. "(env SWRAUTH_RETRIES; default 3).")
  parser:option("--backoff", "Seconds to wait before the second attempt; doubles after each, "
    .. "at most 30 (env SWRAUTH_BACKOFF; default 1).")
  parser:option("--timeout", "Seconds an engine command may run before it is stopped and "
    .. "counted as a transient failure (env SWRAUTH_TIMEOUT; default: none).")
  parser:flag("-q --quiet", "No step lines.")
  local function dress(c)
    with_help(c, state)
    c:epilog(GLOBAL_EPILOG)
  end
  for _, name in ipairs(M.COMMANDS) do
    for _, c in ipairs(require(module_of(name)).add_to_parser(parser)) do dress(c) end
  end
  return parser
end

-- `swrauth key` with at most --credentials-file: the file (or false) when
-- the arguments have that shape, else nil.
local function fast_key(args)
  local keys, file, i = 0, false, 1
  while i <= #args do
    local a = args[i]
    if a == "key" then
      keys, i = keys + 1, i + 1
    elseif a == "--credentials-file" and args[i + 1] and args[i + 1]:sub(1, 1) ~= "-" then
      file, i = args[i + 1], i + 2
    elseif a:find("^%-%-credentials%-file=") then
      file, i = a:sub(#"--credentials-file=" + 1), i + 1
    else
      return nil
    end
  end
  if keys ~= 1 then return nil end
  return file
end

local function run(list, sys)
  -- `swrauth key` is answered without the parser (start-up time).
  local file = fast_key(list)
  if file ~= nil then
    local a = {credentials_file = file or nil}
    return require("swrauth.cmd.key").run(a, M.ui(sys, a))
  end
  local state = {}
  local parser = M.parser(state)
  local ok, good, res = pcall(parser.pparse, parser, list)
  if state.help then
    sys.out(state.help .. "\n")
    return EXIT.ok
  end
  if not ok then error(good, 0) end
  local ui = M.ui(sys, res)
  if not good then return ui:usage(res) end
  if not res.command then
    sys.err(parser:get_usage() .. "\n\nswrauth: a command is required\nTry 'swrauth --help'.\n")
    return EXIT.usage
  end
  return require(module_of(res.command)).run(res, ui)
end

--- Runs the command line.
-- @tparam table args the arguments (as `arg`, without `arg[0]`)
-- @tparam[opt] table sys see `system`
-- @treturn integer the exit code
function M.main(args, sys)
  sys = M.system(sys)
  local list = {}
  for i = 1, #(args or {}) do list[i] = args[i] end
  local ok, code = xpcall(run, debug.traceback, list, sys)
  if not ok then
    sys.err("swrauth: internal error: " .. tostring(code):gsub("[\r\n]+$", "") .. "\n")
    return EXIT.runtime
  end
  return code
end

return M

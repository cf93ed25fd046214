--- The `swrauth configure-docker` and `swrauth config ...` commands
-- (docs/CREDENTIAL-HELPER.md).
--
-- * `configure-docker [REGISTRY...]`: adds `credHelpers` entries naming
--   `docker-credential-swr` to docker's `config.json` and containers'
--   `auth.json` (like `gcloud auth configure-docker`); `--remove` takes
--   them out again.
-- * `config docker|containers [--file F] [--logout]`: writes (or removes)
--   one registry's login in `config.json` / `auth.json`, as `docker login`
--   would, without running an engine.
-- * `config kubernetes NAME`, `config containerd`, `config gitlab`,
--   `config crictl`: print a `kubernetes.io/dockerconfigjson` Secret,
--   containerd's CRI registry auth, GitLab's `DOCKER_AUTH_CONFIG`, crictl's
--   `--auth` value (or write them to a private file with `--output`).
--
-- `register(command, with_help)` adds the commands to the `swrauth`
-- argparse parser; `run(args, sys)` runs a parsed command; `main(list,
-- sys)` parses and runs on its own (the same global options).
--
-- @module swrauth.cli_config
local M = {}

local ipairs, tostring, pcall = ipairs, tostring, pcall
local one_line = require("swrauth.cli").one_line

--- The top-level command names this module handles.
M.COMMANDS = {"configure-docker", "config"}

--- The helper named in `credHelpers` by default (docker runs
-- `docker-credential-` followed by it).
M.HELPER = "swr"

local EXIT = {ok = 0, runtime = 1, usage = 2, credentials = 3}
M.EXIT = EXIT

---------------------------------------------------------------- parser

local CONFIG_COMMANDS = {
  {"docker", "Write the registry's login (auths entry) in docker's config.json "
    .. "($DOCKER_CONFIG/config.json, else ~/.docker/config.json), as docker login would."},
  {"containers", "Write the registry's login in containers' auth.json (podman, buildah, "
    .. "skopeo: $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json)."},
  {"kubernetes", "Print a kubernetes.io/dockerconfigjson Secret, as 'kubectl create secret "
    .. "docker-registry NAME --dry-run=client' does."},
  {"containerd", "Print containerd's CRI registry auth for config.toml."},
  {"gitlab", "Print GitLab CI's DOCKER_AUTH_CONFIG value."},
  {"crictl", "Print crictl's --auth value (base64 of PROJECT@AK:KEY)."},
}

--- Adds the commands to a parser.
-- @tparam function command `command(name, description)` returning a new
--   argparse command of the `swrauth` parser (with its help handling)
-- @tparam[opt] function with_help applied to each `config` subcommand
function M.register(command, with_help)
  local cd = command("configure-docker", "Add credHelpers entries naming "
    .. "docker-credential-swr to docker's config.json and containers' auth.json, so that "
    .. "docker, podman, buildah and skopeo get the login from the helper (no docker login, "
    .. "no key in any file).")
  cd:argument("registry", "Registries (HOST[:PORT]); default: --registry, or the "
    .. "project's swr.REGION.myhuaweicloud.com."):args("*"):target("registries")
  cd:option("--helper", "Helper name (docker runs docker-credential-NAME).", M.HELPER)
  cd:option("--docker-config", "docker's config.json (default $DOCKER_CONFIG/config.json, "
    .. "else ~/.docker/config.json).")
  cd:option("--authfile", "containers' auth.json (default $REGISTRY_AUTH_FILE, else "
    .. "$XDG_RUNTIME_DIR/containers/auth.json).")
  cd:option("--only", "Write only one of the two files."):choices {"docker", "containers"}
  cd:flag("--remove", "Remove the entries instead.")

  local cfg = command("config", "Write a registry login to docker's or containers' auth "
    .. "file, or print it for Kubernetes, containerd, GitLab CI or crictl.")
  cfg:command_target("config_command")
  local subs = {}
  for _, c in ipairs(CONFIG_COMMANDS) do
    local s = cfg:command(c[1], c[2])
    if with_help then with_help(s) end
    subs[c[1]] = s
  end
  for _, name in ipairs{"docker", "containers"} do
    subs[name]:option("--file", "The file to write (default: see above).")
    subs[name]:flag("--logout", "Remove the registry's entry (only that one) instead.")
  end
  local k = subs.kubernetes
  k:argument("name", "The Secret's name.")
  k:option("-n --namespace", "The Secret's namespace.")
  k:option("--email", "The docker-email field.")
  k:option("-o --format", "yaml or json.", "yaml"):choices {"yaml", "json"}
  subs.containerd:option("--config-version", "2 (containerd 1.x, plugin "
    .. "io.containerd.grpc.v1.cri) or 3 (containerd 2.x, io.containerd.cri.v1.images).", "2")
    :choices {"2", "3"}
  subs.gitlab:option("--helper", "Print {\"credHelpers\":{REGISTRY:NAME}} instead (no "
    .. "secret; the runner needs docker-credential-NAME and the credentials).")
  for _, name in ipairs{"kubernetes", "containerd", "gitlab", "crictl"} do
    subs[name]:option("--output", "Write to this file (mode 0600, replaced atomically) "
      .. "instead of standard output.")
  end
end

---------------------------------------------------------------- helpers

local function usage_error(sys, msg)
  sys.err("swrauth: " .. one_line(msg) .. "\nTry 'swrauth --help'.\n")
  return EXIT.usage
end

local function nonempty(v)
  if v == "" then return nil end
  return v
end

-- Text of a raised argument error: "bad argument #1 to 'f' (MSG)" -> MSG.
local function inner(e)
  e = tostring(e):gsub("^[^\n:]+:%d+: ", "")
  return e:match("^bad argument #%d+ to '[^']*' %((.*)%)$") or e
end

--- What is wrong with a registry address (HOST[:PORT], as the pipeline
-- takes it: no scheme, path, whitespace, control character or shell
-- syntax), or nil.
function M.bad_registry(registry)
  local ok, e = pcall(require("swrauth").format, "docker-stdin",
                      {project = "cn-north-4", ak = "AK", registry = registry})
  if ok then return nil end
  return (inner(e):gsub("^field 'registry' ", "it "))
end

-- The project and registry from flags, then the environment.
local function target(a, sys, need_project)
  local project = a.project or nonempty(sys.getenv("SWRAUTH_PROJECT"))
  local registry = a.registry or nonempty(sys.getenv("SWRAUTH_REGISTRY"))
  if need_project and not project then
    return nil, "--project (or SWRAUTH_PROJECT) is required, e.g. --project cn-north-4"
  end
  local swrauth = require "swrauth"
  if project then
    local ok, e = pcall(swrauth.format, "user", {project = project, ak = "AK"})
    if not ok then return nil, "--project: " .. inner(e) end
  end
  if registry then
    local bad = M.bad_registry(registry)
    if bad then return nil, "--registry must be HOST[:PORT]: " .. bad end
  elseif project then
    local ok, r = pcall(swrauth.format, "registry", {project = project})
    if not ok then return nil, "--project: " .. inner(r) end
    registry = r
  end
  return {project = project, registry = registry}
end

local function credentials(a, sys, step)
  local c = require "swrauth.credentials"
  local cred, err = c.resolve{
    file = a.credentials_file, getenv = sys.getenv,
    warn = function(msg) sys.err(msg .. "\n") end,
  }
  if not cred then
    sys.err("swrauth: " .. step .. ": " .. one_line(err) .. "\n")
    return nil, EXIT.credentials
  end
  return cred
end

local function info(a, sys, line)
  if not a.quiet and not a.json then sys.err(line .. "\n") end
end

local function json_out(a, sys, t)
  if a.json then
    local json = require "swrauth.json"
    sys.out(json.encode(t) .. "\n")
  end
end

local function fail(a, sys, step, msg, code)
  code = code or EXIT.runtime
  sys.err("swrauth: " .. step .. ": " .. one_line(msg) .. "\n")
  if a.json then
    json_out(a, sys, {ok = false, error = step .. ": " .. msg, exit = code})
  end
  return code
end

local function on_path(name, getenv)
  local path = getenv("PATH") or "/usr/local/bin:/usr/bin:/bin"
  for dir in (path .. ":"):gmatch("([^:]*):") do
    local f = io.open((dir == "" and "." or dir) .. "/" .. name, "rb")
    if f then f:close(); return true end
  end
  return false
end

---------------------------------------------------------------- commands

local function configure_docker(a, sys)
  local authfile = require "swrauth.authfile"
  local regs = {}
  for _, r in ipairs(a.registries or {}) do regs[#regs + 1] = r end
  if #regs == 0 then
    local t, err = target(a, sys, false)
    if not t then return usage_error(sys, err) end
    if not t.registry then
      return usage_error(sys, "configure-docker: give REGISTRY..., or --registry or --project "
        .. "(or SWRAUTH_REGISTRY or SWRAUTH_PROJECT)")
    end
    regs[1] = t.registry
  end
  for _, r in ipairs(regs) do
    local bad = M.bad_registry(r)
    if bad then
      return usage_error(sys, "configure-docker: registry must be HOST[:PORT]: " .. bad)
    end
  end
  local helper = a.helper or M.HELPER
  if helper == "" or helper:find("[^%w._-]") then
    return usage_error(sys, "configure-docker: --helper may hold only letters, digits, '.', '_' "
      .. "and '-'")
  end
  local files = {}
  if a.only ~= "containers" then
    files[#files + 1] = a.docker_config or authfile.docker_path(sys.getenv)
  end
  if a.only ~= "docker" then
    files[#files + 1] = a.authfile or authfile.containers_path(sys.getenv)
  end
  local report = {}
  for _, file in ipairs(files) do
    for _, r in ipairs(regs) do
      local ok, changed, err
      if a.dry_run then
        ok, changed = true, false
        info(a, sys, "configure-docker: would " .. (a.remove and "remove" or "set")
          .. " credHelpers[" .. r .. "] in " .. file)
      elseif a.remove then
        ok, changed = authfile.remove_helper(file, r)
      else
        ok, changed = authfile.set_helper(file, r, helper)
      end
      if not ok then
        err = changed
        return fail(a, sys, "configure-docker", err)
      end
      if not a.dry_run then
        local what
        if a.remove then
          what = changed and "removed" or "not there"
        else
          what = changed and "added" or "already there"
        end
        info(a, sys, "configure-docker: " .. file .. ": credHelpers[" .. r .. "] = "
          .. (a.remove and "-" or helper) .. " (" .. what .. ")")
      end
      report[#report + 1] = {file = file, registry = r, changed = changed}
    end
  end
  if not a.remove and not a.dry_run and not on_path("docker-credential-" .. helper, sys.getenv) then
    sys.err("warning: docker-credential-" .. helper .. " is not on PATH: docker, podman and "
      .. "skopeo will fail to run it\n")
  end
  local json = a.json and require "swrauth.json"
  json_out(a, sys, {ok = true, helper = helper, remove = a.remove or false,
                    entries = json and json.array(report) or report})
  return EXIT.ok
end

local function login_file(kind)
  return function(a, sys)
    local step = "config " .. kind
    local authfile = require "swrauth.authfile"
    local file = a.file or (kind == "docker" and authfile.docker_path(sys.getenv)
      or authfile.containers_path(sys.getenv))
    local t, terr = target(a, sys, not a.logout or not a.registry)
    if not t then return usage_error(sys, step .. ": " .. terr) end
    if a.logout then
      if a.dry_run then
        info(a, sys, step .. ": would remove auths[" .. t.registry .. "] from " .. file)
        json_out(a, sys, {ok = true, file = file, registry = t.registry, dry_run = true})
        return EXIT.ok
      end
      local ok, removed = authfile.logout(file, t.registry)
      if not ok then return fail(a, sys, step, removed) end
      info(a, sys, step .. ": " .. file .. ": " .. (removed and "removed" or "no entry for")
        .. " " .. t.registry)
      json_out(a, sys, {ok = true, file = file, registry = t.registry, removed = removed})
      return EXIT.ok
    end
    local cred, code = credentials(a, sys, step)
    if not cred then return code end
    local swrauth = require "swrauth"
    local user = swrauth.format("user", {project = t.project, ak = cred.ak})
    if a.dry_run then
      info(a, sys, step .. ": would write auths[" .. t.registry .. "] for " .. user .. " in " .. file)
      json_out(a, sys, {ok = true, file = file, registry = t.registry, user = user, dry_run = true})
      return EXIT.ok
    end
    local ok, err = authfile.login(file, t.registry, user, cred.key)
    if not ok then return fail(a, sys, step, err) end
    info(a, sys, step .. ": " .. file .. ": auths[" .. t.registry .. "] = " .. user)
    json_out(a, sys, {ok = true, file = file, registry = t.registry, user = user})
    return EXIT.ok
  end
end

-- Commands that print a value holding the key (or write it to --output).
local function printer(kind, make)
  return function(a, sys)
    local step = "config " .. kind
    local t, terr = target(a, sys, true)
    if not t then return usage_error(sys, step .. ": " .. terr) end
    local cred, code = credentials(a, sys, step)
    if not cred then return code end
    local swrauth = require "swrauth"
    local user = swrauth.format("user", {project = t.project, ak = cred.ak})
    local key = cred.key
    if a.dry_run then key = "<redacted>" end
    local ok, text = pcall(make, a, t.registry, user, key)
    if not ok then return usage_error(sys, step .. ": " .. inner(text)) end
    if a.output and not a.dry_run then
      local authfile = require "swrauth.authfile"
      local wok, werr = authfile.write_atomic(a.output, text)
      if not wok then return fail(a, sys, step, werr) end
      info(a, sys, step .. ": wrote " .. a.output)
      json_out(a, sys, {ok = true, file = a.output, registry = t.registry, user = user})
      return EXIT.ok
    end
    sys.out(text)
    return EXIT.ok
  end
end

local CONFIG = {
  docker = login_file("docker"),
  containers = login_file("containers"),
  kubernetes = printer("kubernetes", function(a, registry, user, key)
    return require("swrauth.authfile").kubernetes_secret{
      name = a.name, namespace = a.namespace, email = a.email, format = a.format or "yaml",
      registry = registry, username = user, password = key,
    }
  end),
  containerd = printer("containerd", function(a, registry, user, key)
    return require("swrauth.authfile").containerd_toml{
      registry = registry, username = user, password = key,
      version = tonumber(a.config_version or "2"),
    }
  end),
  gitlab = printer("gitlab", function(a, registry, user, key)
    local authfile = require "swrauth.authfile"
    if a.helper then
      return authfile.gitlab_auth_config{registry = registry, helper = a.helper} .. "\n"
    end
    return authfile.gitlab_auth_config{registry = registry, username = user, password = key} .. "\n"
  end),
  crictl = printer("crictl", function(_, _, user, key)
    return require("swrauth.authfile").crictl_auth{username = user, password = key} .. "\n"
  end),
}

--- Runs a parsed command.
-- @tparam table a the argparse result (with `command`, and `config_command`
--   for `config`), including the global options `project`, `registry`,
--   `credentials_file`, `dry_run`, `json`, `quiet`
-- @tparam table sys `out`, `err`, `getenv` (see `swrauth.cli.system`)
-- @treturn integer the exit code
function M.run(a, sys)
  if a.command == "configure-docker" then return configure_docker(a, sys) end
  if a.command == "config" then
    local fn = CONFIG[a.config_command]
    if not fn then return usage_error(sys, "config: a subcommand is required") end
    return fn(a, sys)
  end
  return usage_error(sys, "unknown command '" .. tostring(a.command) .. "'")
end

---------------------------------------------------------------- main

local HELP = "\0swrauth-help\0"

--- Parses and runs `configure-docker` or `config ...` on their own (the
-- `swrauth` global options are accepted too).
-- @tparam table list the arguments
-- @tparam[opt] table sys `out`, `err`, `getenv`
-- @treturn integer the exit code
function M.main(list, sys)
  sys = sys or {}
  sys = {
    out = sys.out or function(s) io.stdout:write(s) end,
    err = sys.err or function(s) io.stderr:write(s) end,
    getenv = sys.getenv or os.getenv,
  }
  local argparse = require "argparse"
  local state = {}
  local function with_help(p)
    p:add_help(false)
    p:flag("-h --help", "Show this help message and exit."):action(function()
      state.help = p:get_help()
      error(HELP, 0)
    end)
    return p
  end
  local parser = with_help(argparse("swrauth", "Registry auth files and the docker "
    .. "credential helper."))
  parser:command_target("command")
  parser:help_max_width(80)
  parser:option("--project", "Region project, e.g. cn-north-4 (env SWRAUTH_PROJECT).")
  parser:option("--registry", "Registry HOST[:PORT] (env SWRAUTH_REGISTRY).")
  parser:option("--engine", "Accepted and ignored.")
  parser:option("--credentials-file", "The console's credentials.csv (env SWRAUTH_CREDENTIALS_FILE).")
  parser:flag("--insecure", "Accepted and ignored.")
  parser:option("--cert-dir", "Accepted and ignored.")
  parser:flag("--dry-run", "Say what would be written; write nothing.")
  parser:flag("--json", "Machine-readable summary on stdout.")
  parser:option("--retries", "Accepted and ignored.")
  parser:flag("-q --quiet", "No progress lines.")
  M.register(function(name, desc) return with_help(parser:command(name, desc)) end, with_help)
  local args = {}
  for i = 1, #(list or {}) do args[i] = list[i] end
  local ok, good, res = pcall(parser.pparse, parser, args)
  if state.help then
    sys.out(state.help .. "\n")
    return EXIT.ok
  end
  if not ok then error(good, 0) end
  if not good then return usage_error(sys, res) end
  if not res.command then return usage_error(sys, "a command is required") end
  return M.run(res, sys)
end

return M

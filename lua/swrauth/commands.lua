--- The `swrauth` commands other than the fast `key`: argparse, options
-- from flags, release files and the environment, and one function per
-- command. Used by `swrauth.cli`; see docs/CLI.md.
--
-- @module swrauth.commands
local M = {}

local cli = require "swrauth.cli"

local type, ipairs, pairs, tostring, pcall, tonumber =
  type, ipairs, pairs, tostring, pcall, tonumber

local EXIT = cli.EXIT

M.ENGINES = {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr", "auto"}

-- Text of a raised error without the "file:line: " prefix.
local function bare(e)
  return (tostring(e):gsub("^[^\n:]+:%d+: ", ""))
end

---------------------------------------------------------------- parser

local HELP = "\0swrauth-help\0"

local GLOBAL_EPILOG = "Global options (--project, --registry, --engine, "
  .. "--credentials-file, --insecure, --cert-dir, --dry-run, --json, --retries, "
  .. "--backoff, --timeout, --quiet) go before or after the command: see 'swrauth --help'.\n"
  .. "Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 credentials "
  .. "missing or malformed, 4 engine not found."

local function build_parser(state)
  local argparse = require "argparse"
  local function with_help(p)
    p:add_help(false)
    p:flag("-h --help", "Show this help message and exit.")
      :action(function()
        state.help = p:get_help()
        error(HELP, 0)
      end)
    return p
  end

  local parser = with_help(argparse("swrauth",
    "Log in to Huawei Cloud SWR registries (or any registry taking the same "
    .. "credentials), tag and push images. The login key goes to engines on "
    .. "standard input, never on their command line (except ctr, which has no "
    .. "other way)."))
  parser:epilog("Credentials, first found wins: HUAWEICLOUD_SDK_AK + "
    .. "HUAWEICLOUD_SDK_SK; SWRAUTH_AK + SWRAUTH_LOGIN_KEY; the credentials CSV "
    .. "from --credentials-file or SWRAUTH_CREDENTIALS_FILE.\n"
    .. "Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 credentials "
    .. "missing or malformed, 4 engine not found.")
  parser:command_target("command")
  parser:help_max_width(80)
  parser:option("--project", "Region project, e.g. cn-north-4 or cn-north-4_team "
    .. "(env SWRAUTH_PROJECT).")
  parser:option("--registry", "Registry address HOST[:PORT]; default "
    .. "swr.REGION.myhuaweicloud.com (env SWRAUTH_REGISTRY).")
  parser:option("--engine", "docker, podman, buildah, skopeo, nerdctl, ctr or auto "
    .. "(env SWRAUTH_ENGINE; default auto).")
    :choices(M.ENGINES)
  parser:option("--credentials-file", "The console's credentials.csv "
    .. "(env SWRAUTH_CREDENTIALS_FILE).")
  parser:flag("--insecure", "Plain HTTP / no TLS verification, for local registries "
    .. "(env SWRAUTH_INSECURE=1).")
  parser:option("--cert-dir", "Directory holding the registry's CA .crt "
    .. "(env SWRAUTH_CERT_DIR).")
  parser:flag("--dry-run", "Print each command (secrets redacted), run nothing.")
  parser:flag("--json", "Machine-readable summary on stdout.")
  parser:option("--retries", "Attempts for each network step on transient "
    .. "failure (env SWRAUTH_RETRIES; default 3).")
  parser:option("--backoff", "Seconds to wait before the second attempt; doubles "
    .. "after each, at most 30 (env SWRAUTH_BACKOFF; default 1).")
  parser:option("--timeout", "Seconds an engine command may run before it is "
    .. "stopped and counted as a transient failure (env SWRAUTH_TIMEOUT; default: "
    .. "none).")
  parser:flag("-q --quiet", "No step lines.")

  local function command(name, desc)
    local c = with_help(parser:command(name, desc))
    c:epilog(GLOBAL_EPILOG)
    return c
  end

  command("key", "Print the login key (stdout, one line).")
  local lc = command("login-command", "Print the vendor's docker login command "
    .. "(or ctr pull/push command) with the key; warns that -p leaks into shell "
    .. "history and shows the --password-stdin form.")
  lc:option("--ctr", "Print 'ctr image ACTION --user ... IMAGE' instead "
    .. "(ACTION: pull or push).")
    :args(2):argname {"<action>", "<image>"}
  lc:flag("--stdin", "Print only the --password-stdin form (no key).")
  command("login", "Log the engine in (key on its standard input).")
  command("logout", "Log the engine out of this registry only.")
  local tag = command("tag", "Tag a local image (skopeo: copy in the registry).")
  tag:argument("source", "Image to tag.")
  tag:argument("target", "New references."):args("+")
  local push = command("push", "Push images, retrying transient failures.")
  push:argument("image", "References to push."):args("+")
  local rel = command("release", "Log in, push SOURCE under each tag, print each "
    .. "pushed reference with its digest. SOURCE may also be a Lua file "
    .. "(FILE.lua) returning a table {source=, repository=, tags=, semver=, "
    .. "latest=, ...}.")
  rel:argument("source", "Local image (skopeo: any skopeo image name, e.g. "
    .. "oci:DIR:TAG), or FILE.lua.")
  rel:option("--repository", "Target repository NS/NAME in the registry.")
  rel:option("--tag", "A tag to push (repeatable).")
    :count("*")
  rel:option("--semver", "Add the tags of version X.Y.Z: X.Y.Z, X.Y and X "
    .. "(a pre-release only itself).")
  rel:flag("--latest", "With --semver: add 'latest' too.")
  rel:option("--remote-tag", "With skopeo, how tags after the first are added: api "
    .. "(the registry's HTTP API through curl: one manifest GET, one PUT per tag), "
    .. "engine (one skopeo copy per tag) or auto (api when curl is installed; "
    .. "env SWRAUTH_REMOTE_TAG; default auto).")
    :choices {"auto", "api", "engine"}
  local parse = command("parse", "Explain an image reference or a pasted login "
    .. "command (the key redacted).")
  parse:argument("kind", "What the text is."):choices {"image", "login"}
  parse:argument("text", "The text, or - to read standard input.")
  command("version", "Print the version.")
  require("swrauth.cli_config").register(command, with_help)
  return parser
end

---------------------------------------------------------------- options

local function usage_error(sys, msg)
  sys.err("swrauth: " .. cli.one_line(msg) .. "\nTry 'swrauth --help'.\n")
  return EXIT.usage
end

local function truthy(v)
  return v == "1" or v == "true" or v == "yes"
end

local FILE_FIELDS = {
  source = "string", repository = "string", tags = "table", semver = "string",
  latest = "boolean", project = "string", region = "string", registry = "string",
  engine = "string", insecure = "boolean", cert_dir = "string", retries = "number",
  backoff = "number", timeout = "number", remote_tag = "string",
}

-- Loads a release file: a Lua chunk run with an empty environment.
local function load_release_file(path)
  local f, oerr = io.open(path, "rb")
  if not f then return nil, "release file " .. tostring(oerr) end
  local text = f:read("a")
  f:close()
  local chunk, lerr = load(text, "@" .. path, "t", {})
  if not chunk then return nil, "release file " .. lerr end
  local ok, t = pcall(chunk)
  if not ok then return nil, "release file " .. tostring(t) end
  if type(t) ~= "table" then
    return nil, "release file " .. path .. ": must return a table, got " .. type(t)
  end
  for k, v in pairs(t) do
    local want = FILE_FIELDS[k]
    if not want then
      return nil, "release file " .. path .. ": unknown field '" .. tostring(k) .. "'"
    elseif type(v) ~= want then
      return nil, "release file " .. path .. ": field '" .. k .. "' must be a "
        .. want .. ", got " .. type(v)
    end
  end
  return t
end

-- Pipeline options from flags, then the release file, then the environment.
local function pipeline_options(a, sys, file)
  file = file or {}
  local env = sys.getenv
  local function pick(flag, field, var)
    local v = a[flag]
    if v == nil then v = file[field] end
    if v == nil and var then
      v = env(var)
      if v == "" then v = nil end
    end
    return v
  end
  local o = {
    project = pick("project", "project", "SWRAUTH_PROJECT"),
    region = file.region,
    registry = pick("registry", "registry", "SWRAUTH_REGISTRY"),
    engine = pick("engine", "engine", "SWRAUTH_ENGINE") or "auto",
    credentials_file = a.credentials_file,
    cert_dir = pick("cert_dir", "cert_dir", "SWRAUTH_CERT_DIR"),
    dry_run = a.dry_run or false,
    json = a.json or false,
    quiet = a.quiet or false,
    getenv = env,
    out = sys.out,
    err = sys.err,
  }
  o.insecure = a.insecure or file.insecure or truthy(env("SWRAUTH_INSECURE")) or false
  local rt = pick("remote_tag", "remote_tag", "SWRAUTH_REMOTE_TAG")
  if rt ~= nil then
    if rt ~= "auto" and rt ~= "api" and rt ~= "engine" then
      return nil, "--remote-tag (SWRAUTH_REMOTE_TAG) must be auto, api or engine, got '"
        .. tostring(rt) .. "'"
    end
    o.remote_tag = rt
  end
  local valid = false
  for _, n in ipairs(M.ENGINES) do valid = valid or n == o.engine end
  if not valid then
    return nil, "engine '" .. o.engine .. "' is not one of docker, podman, buildah, "
      .. "skopeo, nerdctl, ctr, auto"
  end
  local r = a.retries or file.retries or env("SWRAUTH_RETRIES")
  if r ~= nil and r ~= "" then
    local n = tonumber(r)
    if not n or n < 1 or math.tointeger(n) == nil then
      return nil, "--retries (SWRAUTH_RETRIES) must be an integer >= 1, got '"
        .. tostring(r) .. "'"
    end
    o.retries = math.floor(n)
  end
  for _, t in ipairs {{"backoff", "SWRAUTH_BACKOFF"}, {"timeout", "SWRAUTH_TIMEOUT"}} do
    local name, var = t[1], t[2]
    local v = a[name] or file[name] or env(var)
    if v ~= nil and v ~= "" then
      local n = tonumber(v)
      if not n or n < 0 or n ~= n or n == math.huge then
        return nil, "--" .. name .. " (" .. var .. ") must be a number of seconds >= 0, "
          .. "got '" .. tostring(v) .. "'"
      end
      -- A timeout of 0 means none.
      if name == "backoff" or n > 0 then o[name] = n end
    end
  end
  if not o.project and not o.region then
    return nil, "--project (or SWRAUTH_PROJECT) is required, e.g. --project cn-north-4"
  end
  return o
end

local function new_pipeline(o)
  local pipeline = require "swrauth.pipeline"
  local ok, p = pcall(pipeline.new, o)
  if not ok then return nil, bare(p) end
  return p
end

-- Reports a failed step and returns its exit code.
local function failed(sys, p, a, err, kind)
  local code = EXIT[kind or "runtime"] or EXIT.runtime
  sys.err("swrauth: " .. cli.one_line(err) .. "\n")
  -- What was pushed (stdout) and what was not (stderr).
  if p and not a.json then p:summary() end
  if a.json then
    local json = require "swrauth.json"
    local rep = p and p:report() or {}
    rep.ok, rep.error, rep.exit = false, err, code
    sys.out((p and p:redact(json.encode(rep)) or json.encode(rep)) .. "\n")
  end
  return code
end

--------------------------------------------------------------- commands

local function cmd_login_command(a, sys)
  local swrauth = require "swrauth"
  local o, oerr = pipeline_options(a, sys)
  if not o then return usage_error(sys, oerr) end
  local project = o.project or o.region
  local credentials = require "swrauth.credentials"
  local cred, cerr = credentials.resolve{
    file = a.credentials_file, getenv = sys.getenv,
    warn = function(msg) sys.err(msg .. "\n") end,
  }
  if not cred then
    sys.err("swrauth: login-command: " .. cli.one_line(cerr) .. "\n")
    return EXIT.credentials
  end
  local fields = {project = project, ak = cred.ak, key = cred.key, registry = o.registry}
  local kind
  if a.ctr then
    local action, image = a.ctr[1], a.ctr[2]
    if action ~= "pull" and action ~= "push" then
      return usage_error(sys, "--ctr takes pull or push, got '" .. action .. "'")
    end
    if a.stdin then
      return usage_error(sys, "--stdin: ctr has no --password-stdin form")
    end
    kind, fields.image, fields.registry = "ctr-" .. action, image, nil
  elseif a.stdin then
    if o.engine == "ctr" then
      return usage_error(sys, "--stdin: ctr has no --password-stdin form")
    end
    kind, fields.key = o.engine == "auto" and "docker-stdin" or o.engine, nil
    if kind == "docker" then kind = "docker-stdin" end
  else
    kind = "docker"
  end
  local ok, text = pcall(swrauth.format, kind, fields)
  if not ok then return usage_error(sys, bare(text):match("%((.*)%)$") or bare(text)) end
  sys.out(text .. "\n")
  if kind == "docker" then
    local stdin_form = swrauth.format("docker-stdin", {project = project, ak = cred.ak,
                                                       registry = o.registry})
    sys.err("warning: -p puts the login key in your shell history and in the process "
      .. "list; give it on standard input instead:\n  swrauth key | " .. stdin_form .. "\n")
  elseif kind:find("^ctr%-") then
    sys.err("warning: ctr takes the login key only on its command line: it stays in "
      .. "your shell history and shows in the process list while ctr runs\n")
  end
  return EXIT.ok
end

local function run_steps(a, sys, file, body)
  local o, oerr = pipeline_options(a, sys, file)
  if not o then return usage_error(sys, oerr) end
  local p, perr = new_pipeline(o)
  if not p then return usage_error(sys, perr) end
  local ok, err, kind = body(p)
  if not ok then return failed(sys, p, a, err, kind) end
  return EXIT.ok
end

local function cmd_login(a, sys)
  return run_steps(a, sys, nil, function(p)
    local ok, err, kind = p:login()
    if ok and a.json then p:summary() end
    return ok, err, kind
  end)
end

local function cmd_logout(a, sys)
  return run_steps(a, sys, nil, function(p)
    local ok, err, kind = p:logout()
    if ok and a.json then p:summary() end
    return ok, err, kind
  end)
end

-- A usage error for an empty image argument (the pipeline raises on one).
local function empty_image(sys, cmd, list)
  for _, v in ipairs(list) do
    if v == "" then return usage_error(sys, cmd .. ": an image name is empty") end
  end
  return nil
end

local function cmd_tag(a, sys)
  local bad = empty_image(sys, "tag", {a.source, table.unpack(a.target)})
  if bad then return bad end
  return run_steps(a, sys, nil, function(p)
    for _, t in ipairs(a.target) do
      local ok, err, kind = p:tag(a.source, t)
      if not ok then return nil, err, kind end
    end
    if a.json then p:summary() end
    return true
  end)
end

local function cmd_push(a, sys)
  local bad = empty_image(sys, "push", a.image)
  if bad then return bad end
  return run_steps(a, sys, nil, function(p)
    p:plan(a.image)
    for _, ref in ipairs(a.image) do
      local r, err, kind = p:push(ref)
      if not r then return nil, err, kind end
    end
    p:summary()
    return true
  end)
end

local function cmd_release(a, sys)
  local file
  local src = a.source
  local source = src
  if src:find("%.lua$") then
    local f = io.open(src, "rb")
    if f then
      f:close()
      local ferr
      file, ferr = load_release_file(src)
      if not file then return usage_error(sys, ferr) end
      source = file.source
      if not source then
        return usage_error(sys, "release file " .. src .. ": field 'source' is required")
      end
    end
  end
  file = file or {}
  if source == "" then return usage_error(sys, "release: the source image name is empty") end
  local repository = a.repository or file.repository
  local semver = a.semver or file.semver
  local latest = a.latest or file.latest
  if not repository then
    return usage_error(sys, "release: --repository NS/NAME is required")
  end
  local tags, seen = {}, {}
  local function add(t)
    if not seen[t] then seen[t] = true; tags[#tags + 1] = t end
  end
  if semver then
    local pipeline = require "swrauth.pipeline"
    local st, serr = pipeline.semver_tags(semver, {latest = latest and true or false})
    if not st then return usage_error(sys, "release: --semver: " .. serr) end
    for _, t in ipairs(st) do add(t) end
  elseif latest then
    return usage_error(sys, "release: --latest needs --semver")
  end
  local flag_tags = (a.tag and #a.tag > 0) and a.tag or file.tags or {}
  for i, t in ipairs(flag_tags) do
    if type(t) ~= "string" then
      return usage_error(sys, "release: tags[" .. i .. "] must be a string")
    end
    add(t)
  end
  if #tags == 0 then
    return usage_error(sys, "release: give at least one --tag, or --semver X.Y.Z")
  end
  return run_steps(a, sys, file, function(p)
    return p:release{source = source, repository = repository, tags = tags}
  end)
end

local IMAGE_FIELDS = {"registry", "repository", "namespace", "name", "tag", "digest",
                      "reference"}
local LOGIN_FIELDS = {"engine", "action", "user", "project", "ak", "key", "registry",
                      "image", "password_stdin"}

local function cmd_parse(a, sys)
  local swrauth = require "swrauth"
  local text = a.text
  if text == "-" then text = sys.stdin() end
  text = text:gsub("[\r\n]+$", "")
  local t, err = swrauth.parse(a.kind, text)
  if not t then
    sys.err("swrauth: parse " .. a.kind .. ": " .. cli.one_line(err) .. "\n")
    return EXIT.usage
  end
  local fields = a.kind == "image" and IMAGE_FIELDS or LOGIN_FIELDS
  if a.kind == "login" and t.key then
    local proc = require "swrauth.proc"
    for k, v in pairs(t) do
      if type(v) == "string" then t[k] = proc.redact(v, {t.key}) end
    end
    t.key = proc.REDACTED
    sys.err("warning: this command carries the login key on its command line; "
      .. "give it on standard input (--password-stdin) instead\n")
  end
  if a.json then
    local json = require "swrauth.json"
    sys.out(json.encode(t) .. "\n")
  else
    for _, k in ipairs(fields) do
      if t[k] ~= nil then sys.out(k .. ": " .. tostring(t[k]) .. "\n") end
    end
  end
  return EXIT.ok
end

local function cmd_version(a, sys)
  local swrauth = require "swrauth"
  if a.json then
    sys.out('{"version":"' .. swrauth._VERSION .. '"}\n')
  else
    sys.out("swrauth " .. swrauth._VERSION .. "\n")
  end
  return EXIT.ok
end

local COMMANDS = {
  ["login-command"] = cmd_login_command, login = cmd_login, logout = cmd_logout,
  tag = cmd_tag, push = cmd_push, release = cmd_release, parse = cmd_parse,
  version = cmd_version,
  key = function(a, sys) return cli.key(sys, a.credentials_file) end,
}
for _, name in ipairs(require("swrauth.cli_config").COMMANDS) do
  COMMANDS[name] = function(a, sys) return require("swrauth.cli_config").run(a, sys) end
end

--- Parses and runs a command line.
-- @tparam table list the arguments
-- @tparam table sys as made by `swrauth.cli.system`
-- @treturn integer the exit code
function M.run(list, sys)
  local state = {}
  local parser = build_parser(state)
  local ok, good, res = pcall(parser.pparse, parser, list)
  if state.help then
    sys.out(state.help .. "\n")
    return EXIT.ok
  end
  if not ok then error(good, 0) end
  if not good then return usage_error(sys, res) end
  if not res.command then
    sys.err(parser:get_usage() .. "\n\nswrauth: a command is required\n"
      .. "Try 'swrauth --help'.\n")
    return EXIT.usage
  end
  return COMMANDS[res.command](res, sys)
end

return M

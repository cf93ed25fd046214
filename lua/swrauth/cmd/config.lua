--- `swrauth config docker|containers|kubernetes|containerd|gitlab|crictl`:
-- writes a registry login to docker's or containers' auth file (as
-- `docker login` would, without an engine), or prints it in the form
-- Kubernetes, containerd, GitLab CI or crictl take (or writes that to a
-- private file with `--output`). See docs/CREDENTIAL-HELPER.md.
--
-- @module swrauth.cmd.config
local M = {}

local authfile = require "swrauth.authfile"
local exports = require "swrauth.exports"
local options = require "swrauth.options"
local fs = require "swrauth.fs"
local text = require "swrauth.text"

local SUBCOMMANDS = {
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

function M.add_to_parser(parser)
  local cfg = parser:command("config", "Write a registry login to docker's or containers' auth "
    .. "file, or print it for Kubernetes, containerd, GitLab CI or crictl.")
  cfg:command_target("config_command")
  local made, subs = {cfg}, {}
  for _, s in ipairs(SUBCOMMANDS) do
    subs[s[1]] = cfg:command(s[1], s[2])
    made[#made + 1] = subs[s[1]]
  end
  for _, name in ipairs {"docker", "containers"} do
    subs[name]:option("--file", "The file to write (default: see above).")
    subs[name]:flag("--logout", "Remove the registry's entry (only that one) instead.")
  end
  -- As kubectl: -n/--namespace, and -o/--output is the format.
  local k = subs.kubernetes
  k:argument("name", "The Secret's name.")
  k:option("--namespace", "The Secret's namespace (also -n).")
    :hidden_name("-n")
  k:option("--email", "The docker-email field.")
  k:option("--output", "The format, yaml or json, as kubectl's -o/--output (also -o)", "yaml")
    :choices {"yaml", "json"}:hidden_name("-o --format")
  subs.containerd:option("--config-version", "2 (containerd 1.x, plugin "
    .. "io.containerd.grpc.v1.cri) or 3 (containerd 2.x, io.containerd.cri.v1.images)", "2")
    :choices {"2", "3"}
  subs.gitlab:option("--helper", "Print {\"credHelpers\":{REGISTRY:NAME}} instead (no secret; "
    .. "the runner needs docker-credential-NAME and the credentials).")
  for _, name in ipairs {"kubernetes", "containerd", "gitlab", "crictl"} do
    local file = subs[name]:option("--file", "Write to this file (mode 0600, replaced atomically) "
      .. "instead of standard output.")
    -- containerd, gitlab and crictl took the file as --output before.
    if name ~= "kubernetes" then file:hidden_name("--output") end
  end
  return made
end

-- The login, or nil and the exit code; `expiry` says when a temporary
-- login expires (for the lines shown).
local function login_of(ui, step, t)
  local login, code = ui:login(step, t.project, t.registry)
  if not login then return nil, code end
  login.expiry = login.temporary and " (temporary, expires " .. (login.expires_at or "?") .. ")" or ""
  return login
end

local function fail(a, ui, step, msg)
  if a.json then ui:json {ok = false, error = step .. ": " .. msg, exit = 1} end
  return ui:fail(step .. ": " .. msg)
end

-- config docker / config containers: a login entry written or removed.
local function login_file(kind, a, ui)
  local step = "config " .. kind
  local file = a.file or authfile.path(kind, ui.getenv)
  local t, terr = options.target(a, ui, not a.logout or not a.registry)
  if not t then return ui:usage(step .. ": " .. terr) end
  local reg = t.registry
  if a.logout then
    if a.dry_run then
      ui:info(step .. ": would remove auths[" .. reg .. "] from " .. file)
      if a.json then ui:json {ok = true, file = file, registry = reg, dry_run = true} end
      return ui.EXIT.ok
    end
    local ok, removed = authfile.logout(file, reg)
    if not ok then return fail(a, ui, step, removed) end
    ui:info(step .. ": " .. file .. ": " .. (removed and "removed" or "no entry for") .. " " .. reg)
    if a.json then ui:json {ok = true, file = file, registry = reg, removed = removed} end
    return ui.EXIT.ok
  end
  local login, code = login_of(ui, step, t)
  if not login then return code end
  local user = login.user
  if a.dry_run then
    ui:info(step .. ": would write auths[" .. reg .. "] for " .. user .. " in " .. file .. login.expiry)
    if a.json then ui:json {ok = true, file = file, registry = reg, user = user, dry_run = true} end
    return ui.EXIT.ok
  end
  local ok, err = authfile.login(file, reg, user, login.password)
  if not ok then return fail(a, ui, step, err) end
  ui:info(step .. ": " .. file .. ": auths[" .. reg .. "] = " .. user .. login.expiry)
  if a.json then
    ui:json {ok = true, file = file, registry = reg, user = user, expires_at = login.expires_at}
  end
  return ui.EXIT.ok
end

-- What each printer checks and makes: `check(a)` returns nil or a usage
-- error; `make(a, registry, user, key)` the text.
local PRINTERS = {
  kubernetes = {
    check = function(a)
      if not exports.dns_subdomain(a.name) then
        return "the Secret's name " .. text.quote(a.name) .. " must be a DNS-1123 subdomain "
          .. "(lowercase letters, digits, '-' and '.')"
      end
      if a.namespace and not exports.dns_label(a.namespace) then
        return "the namespace " .. text.quote(a.namespace) .. " must be a DNS-1123 label "
          .. "(lowercase letters, digits and '-')"
      end
    end,
    make = function(a, registry, user, key)
      return exports.kubernetes_secret {name = a.name, namespace = a.namespace, email = a.email,
        format = a.output or "yaml", registry = registry, username = user, password = key}
    end,
  },
  containerd = {make = function(a, registry, user, key)
    return exports.containerd_toml {registry = registry, username = user, password = key,
                                    version = tonumber(a.config_version or "2")}
  end},
  gitlab = {
    check = function(a)
      if a.helper and (a.helper == "" or a.helper:find("[^%w._-]")) then
        return "--helper may hold only letters, digits, '.', '_' and '-'"
      end
    end,
    make = function(a, registry, user, key)
      if a.helper then return exports.gitlab_auth_config {registry = registry, helper = a.helper} .. "\n" end
      return exports.gitlab_auth_config {registry = registry, username = user, password = key} .. "\n"
    end,
  },
  crictl = {make = function(_, _, user, key)
    return exports.crictl_auth {username = user, password = key} .. "\n"
  end},
}

-- A printer: the value holding the key on stdout, or in --output.
local function print_login(kind, a, ui)
  local step = "config " .. kind
  local printer = PRINTERS[kind]
  local t, terr = options.target(a, ui, true)
  if not t then return ui:usage(step .. ": " .. terr) end
  local bad = printer.check and printer.check(a)
  if bad then return ui:usage(step .. ": " .. bad) end
  local login, code = login_of(ui, step, t)
  if not login then return code end
  local user = login.user
  local out = printer.make(a, t.registry, user, a.dry_run and text.REDACTED or login.password)
  if a.file and not a.dry_run then
    local ok, err = fs.write_atomic(a.file, out)
    if not ok then return fail(a, ui, step, err) end
    ui:info(step .. ": wrote " .. a.file .. login.expiry)
    if a.json then
      ui:json {ok = true, file = a.file, registry = t.registry, user = user,
               expires_at = login.expires_at}
    end
    return ui.EXIT.ok
  end
  if login.temporary then ui:info(step .. ": a temporary login" .. login.expiry) end
  ui.out(out)
  return ui.EXIT.ok
end

function M.run(a, ui)
  local kind = a.config_command
  if kind == "docker" or kind == "containers" then return login_file(kind, a, ui) end
  if PRINTERS[kind] then return print_login(kind, a, ui) end
  return ui:usage("config: a subcommand is required")
end

return M

--- The container engines swrauth drives, as argv builders.
--
-- One table per engine (`docker`, `podman`, `buildah`, `skopeo`,
-- `nerdctl`, `ctr`). Each builder takes a context
-- `c = {registry=, user=, key=, insecure=, cert_dir=, hosts_dir=,
-- digestfile=, authfile=}` (`authfile`: skopeo's copy reads the
-- destination's credentials from that private file) and
-- returns a command `{argv=, stdin=}`; nothing runs here. The login key
-- goes on standard input (`--password-stdin`) for every engine but ctr,
-- which has no login step and takes the key only as `--user USER:KEY` on
-- each pull or push.
--
-- Fields of an engine table:
--
-- - `name`, `binary`, `package` (the Debian package, or nil) and `hint`
--   (how to install it);
-- - `login(c)`, `logout(c)`: nil for ctr, which keeps no login;
-- - `tag(c, src, dst)`: a local tag; for skopeo, which has no local
--   images, a registry-to-registry copy;
-- - `push(c, ref)`: nil for skopeo;
-- - `copy(c, source, ref)`: skopeo only: copy SOURCE (any transport) to
--   the registry;
-- - `remote_tag(c, src_ref, dst_ref)`: tag in the registry without
--   uploading anything (skopeo only), nil elsewhere;
-- - `digest(res, c, ref)`: the pushed manifest digest from a finished
--   push, or nil; `digest_query(c, ref)`: a command whose output holds it,
--   for engines whose push does not print it;
-- - `auth_store`: the auth file its login and logout rewrite, "docker"
--   (config.json) or "containers" (auth.json); nil for ctr;
-- - `logged_out(res)`: a note when a failed logout only found nothing to
--   remove (podman, buildah and skopeo exit 1 then; docker exits 0);
-- - `key_in_argv`: true for ctr;
-- - `explain(message)`: what a failure's message means, when the engine
--   says too little (ctr), or nil;
-- - `wants_digestfile`: the push or copy takes `--digestfile`;
-- - `wants_hosts_dir`: TLS trust comes from a containerd hosts directory
--   (see `hosts_toml`) rather than a CA directory.
--
-- The engines read their own environment (DOCKER_HOST, DOCKER_CONFIG,
-- CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE, CONTAINERS_STORAGE_CONF,
-- REGISTRY_AUTH_FILE, ...), which swrauth passes through unchanged.
--
-- @module swrauth.engines
local M = {}

local ipairs = ipairs

--- Engine names in the order `auto` tries them.
M.ORDER = {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr"}

--- The values an engine option takes: the names, then "auto".
M.CHOICES = {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr", "auto"}

local function stdin_key(c)
  return c.key .. "\n"
end

local function cmd(argv, stdin)
  return {argv = argv, stdin = stdin}
end

-- Appends the words of `extra` to `argv`.
local function add(argv, extra)
  for _, w in ipairs(extra) do argv[#argv + 1] = w end
  return argv
end

local SHA = "sha256:" .. ("%x"):rep(64)

-- podman, buildah, skopeo (containers/image): "Error: not logged into R".
local function logged_out(res)
  local text = (res.stderr or "") .. (res.stdout or "")
  if text:lower():find("not logged in") then return "nothing to remove: not logged in" end
  return nil
end

-- The first "digest: sha256:..." in an engine's output.
local function digest_in_output(res)
  local text = (res.stdout or "") .. "\n" .. (res.stderr or "")
  return text:match("digest: (" .. SHA .. ")")
end

local function digest_from_file(_, c)
  if not c.digestfile then return nil end
  local f = io.open(c.digestfile, "rb")
  if not f then return nil end
  local d = f:read("a")
  f:close()
  return d and d:match(SHA)
end

---------------------------------------------------------------- docker

-- The docker CLI has no TLS switch: the daemon decides, and it treats
-- 127.0.0.0/8 as insecure by itself; other hosts need the daemon's
-- "insecure-registries" or /etc/docker/certs.d/HOST/ca.crt.
M.docker = {
  name = "docker", binary = "docker", package = "docker.io", auth_store = "docker",
  login = function(c)
    return cmd({"docker", "login", "-u", c.user, "--password-stdin", c.registry},
               stdin_key(c))
  end,
  logout = function(c) return cmd {"docker", "logout", c.registry} end,
  tag = function(_, src, dst) return cmd {"docker", "tag", src, dst} end,
  push = function(_, ref) return cmd {"docker", "push", ref} end,
  digest = digest_in_output,
  digest_query = function(_, ref)
    return cmd {"docker", "image", "inspect", "--format",
                "{{range .RepoDigests}}{{println .}}{{end}}", ref}
  end,
  -- Reachable daemon: `auto` only picks docker when this succeeds.
  probe = function() return cmd {"docker", "version", "--format", "{{.Server.Version}}"} end,
}

-------------------------------------------------------- podman, buildah

local function containers_tls(c)
  if c.insecure then return {"--tls-verify=false"} end
  if c.cert_dir then return {"--cert-dir", c.cert_dir} end
  return {}
end

local function containers_engine(bin)
  return {
    name = bin, binary = bin, package = bin, auth_store = "containers",
    login = function(c)
      return cmd(add(add({bin, "login"}, containers_tls(c)),
                     {"-u", c.user, "--password-stdin", c.registry}), stdin_key(c))
    end,
    logout = function(c) return cmd {bin, "logout", c.registry} end,
    logged_out = logged_out,
    tag = function(_, src, dst) return cmd {bin, "tag", src, dst} end,
    push = function(c, ref)
      local argv = add({bin, "push"}, containers_tls(c))
      if c.digestfile then add(argv, {"--digestfile", c.digestfile}) end
      argv[#argv + 1] = ref
      return cmd(argv)
    end,
    digest = digest_from_file,
    wants_digestfile = true,
  }
end

M.podman = containers_engine("podman")
M.buildah = containers_engine("buildah")

---------------------------------------------------------------- skopeo

local TRANSPORT = {["docker://"] = true, ["oci:"] = true, ["oci-archive:"] = true,
                   ["docker-archive:"] = true, ["dir:"] = true,
                   ["containers-storage:"] = true, ["docker-daemon:"] = true}

--- A skopeo image name: SOURCE as given when it names a transport
-- (`oci:DIR:TAG`, `docker-archive:FILE`, `docker://REF`, ...), otherwise
-- `docker://SOURCE` (an image in a registry).
function M.skopeo_name(source)
  local t = source:match("^[%l-]+://") or source:match("^[%l-]+:")
  if t and TRANSPORT[t] then return source end
  return "docker://" .. source
end

local function skopeo_tls(c, side)
  if c.insecure then return {"--" .. side .. "-tls-verify=false"} end
  if c.cert_dir then return {"--" .. side .. "-cert-dir", c.cert_dir} end
  return {}
end

local function skopeo_copy(c, from, to)
  local argv = {"skopeo", "copy"}
  if from:find("^docker://") then add(argv, skopeo_tls(c, "src")) end
  if to:find("^docker://") then add(argv, skopeo_tls(c, "dest")) end
  if c.authfile and to:find("^docker://") then add(argv, {"--dest-authfile", c.authfile}) end
  if c.digestfile then add(argv, {"--digestfile", c.digestfile}) end
  add(argv, {from, to})
  return cmd(argv)
end

M.skopeo = {
  name = "skopeo", binary = "skopeo", package = "skopeo", auth_store = "containers",
  remote_only = true,
  login = function(c)
    return cmd(add(add({"skopeo", "login"}, containers_tls(c)),
                   {"-u", c.user, "--password-stdin", c.registry}), stdin_key(c))
  end,
  logout = function(c) return cmd {"skopeo", "logout", c.registry} end,
  logged_out = logged_out,
  tag = function(c, src, dst)
    return skopeo_copy(c, M.skopeo_name(src), M.skopeo_name(dst))
  end,
  copy = function(c, source, ref)
    return skopeo_copy(c, M.skopeo_name(source), "docker://" .. ref)
  end,
  remote_tag = function(c, src_ref, dst_ref)
    return skopeo_copy(c, "docker://" .. src_ref, "docker://" .. dst_ref)
  end,
  digest = digest_from_file,
  wants_digestfile = true,
}

---------------------------------------------------------------- nerdctl

-- nerdctl and ctr take no CA directory but a containerd hosts directory;
-- the pipeline makes one (`hosts_dir`) from the CA directory.
local function nerdctl_tls(c)
  if c.insecure then return {"--insecure-registry"} end
  if c.hosts_dir or c.cert_dir then return {"--hosts-dir", c.hosts_dir or c.cert_dir} end
  return {}
end

-- nerdctl and ctr print progress lines such as "manifest-sha256:HEX: done".
local function digest_in_progress(res)
  local d = digest_in_output(res)
  if d then return d end
  local text = (res.stdout or "") .. "\n" .. (res.stderr or "")
  local hex = text:match("index%-sha256:(" .. ("%x"):rep(64) .. ")")
    or text:match("manifest%-sha256:(" .. ("%x"):rep(64) .. ")")
  return hex and "sha256:" .. hex or nil
end

M.nerdctl = {
  name = "nerdctl", binary = "nerdctl", auth_store = "docker",
  hint = "nerdctl is not packaged in Debian 12: install it from its release archive",
  login = function(c)
    return cmd(add(add({"nerdctl", "login"}, nerdctl_tls(c)),
                   {"-u", c.user, "--password-stdin", c.registry}), stdin_key(c))
  end,
  logout = function(c) return cmd {"nerdctl", "logout", c.registry} end,
  logged_out = logged_out,
  wants_hosts_dir = true,
  tag = function(_, src, dst) return cmd {"nerdctl", "tag", src, dst} end,
  push = function(c, ref)
    return cmd(add(add({"nerdctl", "push"}, nerdctl_tls(c)), {ref}))
  end,
  digest = digest_in_progress,
}

-------------------------------------------------------------------- ctr

local function ctr_tls(c)
  if c.insecure then return {"--plain-http"} end
  if c.hosts_dir or c.cert_dir then return {"--hosts-dir", c.hosts_dir or c.cert_dir} end
  return {}
end

local function toml_string(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

--- The `hosts.toml` that makes containerd (ctr, nerdctl) trust the CA
-- files `cas` (absolute paths) for `registry`, in a hosts directory
-- `DIR/REGISTRY/hosts.toml`.
-- @tparam string registry HOST[:PORT]
-- @tparam table cas CA file paths
-- @treturn string
function M.hosts_toml(registry, cas)
  local list = {}
  for i, ca in ipairs(cas) do list[i] = toml_string(ca) end
  local url = toml_string("https://" .. registry)
  return "server = " .. url .. "\n\n[host." .. url .. "]\n"
    .. '  capabilities = ["pull", "resolve", "push"]\n'
    .. "  ca = [" .. table.concat(list, ", ") .. "]\n"
end

-- ctr has no login and cannot read a stored one: the key travels with
-- every push as --user USER:KEY, where the process list shows it.
M.ctr = {
  name = "ctr", binary = "ctr", package = "containerd",
  key_in_argv = true,
  wants_hosts_dir = true,
  tag = function(_, src, dst) return cmd {"ctr", "image", "tag", "--force", src, dst} end,
  push = function(c, ref)
    return cmd(add(add({"ctr", "image", "push"}, ctr_tls(c)),
                   {"--user", c.user .. ":" .. c.key, ref}))
  end,
  pull = function(c, ref)
    return cmd(add(add({"ctr", "image", "pull"}, ctr_tls(c)),
                   {"--user", c.user .. ":" .. c.key, ref}))
  end,
  digest = digest_in_progress,
  digest_query = function(_, ref) return cmd {"ctr", "image", "ls", "name==" .. ref} end,
  -- ctr speaks plain HTTP to localhost unless it has a hosts directory: an
  -- HTTPS registry answers "400 Bad Request" and nothing more.
  explain = function(output)
    if output:find("400 Bad Request", 1, true) then
      return "the registry takes HTTPS and ctr spoke plain HTTP to it: give --cert-dir with "
        .. "the registry's CA (ctr uses plain HTTP for localhost without one)"
    end
  end,
}

--- Whether an image name can be handed to an engine as an argument: a
-- leading '-' would be read as an option, a control character would
-- forge lines in what is shown of the command.
-- @treturn true|nil
-- @treturn[2] string what is wrong
function M.check_name(v)
  local at = v:find("%c")
  if at then return nil, "image name has a control character at byte " .. at end
  if v:sub(1, 1) == "-" then
    return nil, "image name '" .. v .. "' starts with '-' (an engine would read it as an option)"
  end
  return true
end

--- How to install an engine, for error messages.
function M.install_hint(e)
  if e.package then return "install the Debian package '" .. e.package .. "'" end
  return e.hint or "install it"
end

--- The message for an engine whose binary is not on PATH.
function M.not_found(e)
  return "engine '" .. e.name .. "' not found: no '" .. e.binary .. "' on PATH ("
    .. M.install_hint(e) .. ")"
end

--- A digest for `ref` in the output of `digest_query`.
function M.digest_in_query(res, ref)
  local text = res.stdout or ""
  local repo = ref:gsub("[:@][^/]*$", "")
  for line in text:gmatch("[^\n]+") do
    -- docker: REPO@sha256:...; ctr: "REF  TYPE  sha256:...  SIZE ..."
    local r, d = line:match("^(%S+)@(" .. SHA .. ")")
    if r and r == repo then return d end
    if line:find(ref, 1, true) == 1 then
      local d2 = line:match(SHA)
      if d2 then return d2 end
    end
  end
  return nil
end

--- Looks an engine up by name.
-- @treturn table|nil
function M.get(name)
  for _, n in ipairs(M.ORDER) do
    if n == name then return M[n] end
  end
  return nil
end

-- Transports of containers' image names that name an image outside any
-- engine's storage (docker:// is a registry, the rest are files).
local TRANSPORTS = {
  ["oci"] = true, ["oci-archive"] = true, ["dir"] = true,
  ["docker-archive"] = true, ["docker"] = true,
}

--- Whether an image name starts with a containers transport that only
-- skopeo reads as it is (`oci:DIR[:TAG]`, `oci-archive:FILE`, `dir:DIR`,
-- `docker-archive:FILE`, `docker://REF`).
-- @tparam string source
-- @treturn boolean
function M.transport(source)
  local t, rest = source:match("^([%a-]+):(.*)$")
  if not t or not TRANSPORTS[t] or rest:match("^%d+/") then return false end -- HOST:PORT/
  if t == "docker" then return rest:sub(1, 2) == "//" end
  return rest ~= ""
end

--- The engine for a name ("auto": see `detect`), checked to be installed.
-- @tparam table o `name`, `source` (release's source image, for "auto":
--   skopeo takes an image outside any engine's storage, see `transport`),
--   `which` (`which(binary)` -> path or nil), `probe` (as `detect` takes
--   it), `dry_run` (the engine need not be installed)
-- @treturn table|nil the engine
-- @treturn[2] string why there is none
function M.choose(o)
  if o.name ~= "auto" then
    local e = M.get(o.name)
    if not o.dry_run and not o.which(e.binary) then return nil, M.not_found(e) end
    return e
  end
  -- An image outside any engine's storage (oci:DIR, docker-archive:FILE,
  -- docker://REF): only skopeo pushes it as it is.
  if o.source and M.transport(o.source) and o.which(M.skopeo.binary) then return M.skopeo end
  return M.detect(o.which, o.probe)
end

--- What a user must be told about an engine with these settings: docker
-- takes neither a CA directory nor an insecure flag (its daemon decides).
-- @tparam table e the engine
-- @tparam table o `registry`, `cert_dir`, `insecure`
-- @treturn table a list of warnings
function M.warnings(e, o)
  local list = {}
  if e.name ~= "docker" then return list end
  if o.cert_dir then
    list[#list + 1] = "warning: docker takes no CA directory: put the CA in /etc/docker/certs.d/"
      .. o.registry .. "/ca.crt on the daemon's host"
  end
  local host = o.registry:gsub(":%d+$", "")
  if o.insecure and host ~= "localhost" and not host:find("^127%.") then
    list[#list + 1] = "warning: docker has no insecure flag: the daemon must list " .. o.registry
      .. " in \"insecure-registries\" (127.0.0.0/8 is insecure by default)"
  end
  return list
end

--- Picks an engine for `auto`: the first of docker (when its daemon
-- answers), podman, buildah, skopeo, nerdctl and ctr found on PATH.
-- @tparam function which `which(binary)` -> path or nil
-- @tparam function probe `probe(command)` -> true when it succeeds
-- @treturn table|nil the engine
-- @treturn[2] string why none was found
function M.detect(which, probe)
  local docker_without_daemon = false
  for _, n in ipairs(M.ORDER) do
    local e = M[n]
    if which(e.binary) then
      if not e.probe then return e end
      if probe(e.probe()) then return e end
      docker_without_daemon = true
    end
  end
  local msg = "no container engine found on PATH (looked for docker, podman, "
    .. "buildah, skopeo, nerdctl, ctr; e.g. apt-get install skopeo)"
  if docker_without_daemon then
    msg = msg .. "; docker is installed but its daemon does not answer (use "
      .. "--engine docker to log in without one)"
  end
  return nil, msg
end

return M

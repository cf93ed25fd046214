--- The context an engine command runs in: the registry, how to trust it
-- (a containerd hosts directory made from a CA directory, for ctr and
-- nerdctl), the user and key, a digest file; the temporary files that
-- holds, removed with `remove`; and the digest of what a command pushed.
--
-- A context is the table `swrauth.engines`' builders take:
-- `{registry=, user=, key=, insecure=, cert_dir=, hosts_dir=,
-- digestfile=, authfile=}`.
--
-- @module swrauth.context
local M = {}

local fs = require "swrauth.fs"
local engines = require "swrauth.engines"

local ipairs, setmetatable = ipairs, setmetatable

local C = {}
C.__index = C

--- A context.
-- @tparam table o `registry`, `insecure`, `cert_dir`, `dry_run` (paths
--   that would be temporary are shown as `$TMPDIR/...`)
function M.new(o)
  return setmetatable({registry = o.registry, insecure = o.insecure, cert_dir = o.cert_dir,
                       dry_run = o.dry_run, tmp = {}}, C)
end

--- A private temporary directory, removed with the context.
-- @treturn table|nil `fs.tempdir`'s directory
-- @treturn[2] string the reason
function C:tempdir()
  local dir, err = fs.tempdir()
  if not dir then return nil, err end
  self.tmp[#self.tmp + 1] = dir
  return dir
end

--- Removes the context's temporary files.
function C:remove()
  for _, dir in ipairs(self.tmp) do dir:remove() end
  self.tmp = {}
end

--- Whether `cert_dir` can be used: a directory holding CA certificates
-- (`*.crt`), a client certificate (`*.cert`), or a containerd hosts
-- directory for the registry (`REGISTRY/hosts.toml`).
-- @treturn true|nil
-- @treturn[2] string what is wrong
function C:check_cert_dir()
  local dir = self.cert_dir
  local entries, why = fs.list(dir)
  if not entries then return nil, "cert dir " .. dir .. ": " .. fs.message(why) end
  for _, ent in ipairs(entries) do
    if ent.name:find("%.crt$") or ent.name:find("%.cert$") then return true end
  end
  if fs.mode(dir .. "/" .. self.registry .. "/hosts.toml") then return true end
  return nil, "cert dir " .. dir .. " holds no .crt file (nor a hosts directory for "
    .. self.registry .. ")"
end

--- The containerd hosts directory trusting the CA files of `cert_dir`
-- (`hosts_dir`), made in a private temporary directory; a `cert_dir`
-- that already is a hosts directory for the registry is taken as it is.
-- @treturn true|nil
-- @treturn[2] string why it cannot be made
function C:trust_hosts()
  local dir, reg = self.cert_dir, self.registry
  if fs.mode(dir .. "/" .. reg .. "/hosts.toml") then
    self.hosts_dir = dir
    return true
  end
  if self.dry_run then
    self.hosts_dir = "$TMPDIR/hosts"
    return true
  end
  local entries, why = fs.list(dir)
  if not entries then return nil, "cert dir " .. dir .. ": " .. fs.message(why) end
  local cas = {}
  for _, ent in ipairs(entries) do
    if ent.name:find("%.crt$") then cas[#cas + 1] = fs.abspath(dir .. "/" .. ent.name) end
  end
  if #cas == 0 then
    return nil, "cert dir " .. dir .. " holds no .crt file (nor a hosts directory for " .. reg .. ")"
  end
  local tmp, terr = self:tempdir()
  if not tmp then return nil, terr end
  local hosts = tmp.path .. "/hosts"
  fs.mkdir_p(hosts .. "/" .. reg)
  local ok, werr = tmp:file("hosts/" .. reg .. "/hosts.toml", engines.hosts_toml(reg, cas))
  if not ok then return nil, werr end
  self.hosts_dir = hosts
  return true
end

--- A private file for the engine to write the pushed digest in
-- (`digestfile`); none when no temporary directory can be made (the
-- digest is then asked for after the push).
function C:digest_file()
  if self.dry_run then
    self.digestfile = "$TMPDIR/digest"
    return
  end
  local dir = self:tempdir()
  if dir then self.digestfile = dir.path .. "/digest" end
end

--- The digest of what a command pushed: from its output or digest file,
-- else from the engine's query.
-- @tparam table e the engine
-- @tparam table res the push's result (as `proc.run` gives it)
-- @tparam string ref the reference pushed
-- @tparam function run the runner (see `swrauth.steps`)
-- @tparam table spec fields for the query's spec (`env`, `timeout`)
-- @treturn string|nil
function C:digest(e, res, ref, run, spec)
  if self.dry_run then return nil end
  local d = e.digest and e.digest(res, self, ref)
  if not d and e.digest_query then
    local q = run {{argv = e.digest_query(self, ref).argv, env = spec.env, timeout = spec.timeout}}
    if q[1][1] and q[1][1].status == 0 then d = engines.digest_in_query(q[1][1], ref) end
  end
  return d
end

return M

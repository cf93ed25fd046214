--- Releases: the plan a pipeline follows to push one source under
-- several tags (`swrauth.pipeline`'s `release` calls `release(p, spec)`):
-- log in; push the source under the first tag (skopeo: a copy, at the
-- same time as the login); add the other tags without uploading layers
-- again (skopeo: through the registry's API, or one registry copy per
-- tag; the other engines: a local tag and a push, the registry answering
-- each layer "already exists").
--
-- It works on the pipeline's steps and records (`p:_setup`, `p:_pushed`,
-- `p:_fail`, `p:plan`, `p.steps`): the two modules are one job, split
-- between the steps of one command (pipeline) and their order in a
-- release (here).
--
-- @module swrauth.release
local M = {}

local swrauth = require "swrauth"
local options = require "swrauth.options"
local authfile = require "swrauth.authfile"
local registry = require "swrauth.registry"
local proc = require "swrauth.proc"

local ipairs, tostring = ipairs, tostring

-- Copies FROM (any skopeo image name, or a reference with `remote`) to REF.
local function copy(p, step, from, ref, remote)
  local e, c, kind = p:_setup(step, false, true)
  if not e then return nil, c, kind end
  local command = remote and e.remote_tag(c, from, ref) or e.copy(c, from, ref)
  p:plan {ref}
  return p:_pushed(step, e, c, ref, p.steps:run {name = step, detail = from .. " -> " .. ref,
                                                       command = command, retry = true})
end

-- release with skopeo: the login and the copy of SOURCE to REF at the
-- same time. The copy reads the credentials from a private auth file, so
-- it does not wait for the login, which still runs (under the auth-file
-- lock) and stores the login as `login` does. Attempt 1 of both runs at
-- once; what failed is then retried, the login first; a failed login
-- stops the release even when the copy went through (then listed as
-- pushed). Returns as `_copy` does.
local function login_and_copy(p, source, ref)
  local e, c, kind = p:_setup("login", true)
  if not e then return nil, c, kind end
  local e2, cc, k2 = p:_setup("push", false, true)
  if not e2 then c:remove(); return nil, cc, k2 end
  if p.o.dry_run then
    cc.authfile = "$TMPDIR/auth.json"
  else
    local priv, perr = authfile.private(p.registry, c.user, c.key)
    if not priv then c:remove(); cc:remove(); return p:_fail("login", perr) end
    cc.tmp[#cc.tmp + 1] = priv -- removed with the context
    cc.authfile = priv.auth
  end
  p:plan {ref}
  local both = p.steps:run_together {
    p:_auth_step(e, "login", p:_login_detail(), e.login(c), true),
    {name = "push", detail = source .. " -> " .. ref, command = e.copy(cc, source, ref), retry = true},
  }
  c:remove()
  local login, copied = both[1], both[2]
  if not login[1] then
    if copied[1] then p:_pushed("push", e, cc, ref, copied[1]) else cc:remove() end
    return p:_fail("login", login[2], login[3])
  end
  return p:_pushed("push", e, cc, ref, table.unpack(copied, 1, 3))
end

-- Adds the tags `rest` (full references) to the manifest `first` (the
-- `{reference=, digest=}` just pushed) through the registry's API: one
-- manifest GET (by digest when known), checked against its digest, then
-- a PUT per tag in one request batch; transient failures are retried from
-- the tag that failed. Returns true; "engine" when curl is missing in
-- mode "auto" (the caller tags with the engine instead); or nil, message,
-- kind.
local function api_tag(p, repo, first, rest)
  local tags = {}
  for i, ref in ipairs(rest) do tags[i] = ref:match(":([^:/]+)$") end
  local digest = first.digest and swrauth.check("digest", first.digest) and first.digest
  local from = digest or first.reference:match(":([^:/]+)$")
  local base = p.registry .. "/v2/" .. repo .. "/manifests/"
  local function detail(ref) return first.reference .. " -> " .. ref end
  p:plan(rest)
  if p.o.dry_run then
    p.steps:dry(nil, nil, registry.describe("GET", base .. (first.digest and "DIGEST" or from)))
    for i, ref in ipairs(rest) do p.steps:dry("tag", detail(ref), registry.describe("PUT", base .. tags[i])) end
    return true
  end
  local client = p:_registry()
  if not client:available() then
    if p.o.remote_tag == "auto" then return "engine" end
    p.failed[rest[1]] = "tag"
    return p:_fail("tag", "'curl' not found on PATH (package curl); it makes the requests of "
      .. "--remote-tag api (or use --remote-tag engine: one skopeo copy per tag)", "engine")
  end
  local t0 = proc.clock()
  local ok, err, at = client:add_tags(p.steps, repo, from, tags, function(i, d, attempt)
    p.pushed[#p.pushed + 1] = {reference = rest[i], digest = d}
    p.steps:record("tag", detail(rest[i]) .. " (registry API)", proc.clock() - t0, attempt)
  end)
  client:close()
  if not ok then
    p.failed[rest[at]] = "tag"
    return p:_fail("tag", err)
  end
  return true
end

local function run(p, spec, refs)
  local function stop(ref, err, kind)
    p.failed[ref] = p.failed[ref] or tostring(err):match("^([%w-]+):") or "release"
    return nil, err, kind
  end
  if not p.eng then p.source_hint = spec.source end
  local e, eerr = p:engine()
  if not e then return p:_fail("login", eerr, "engine") end
  local ok, err, kind, r
  if e.remote_only and p.o.parallel_login then
    r, err, kind = login_and_copy(p, spec.source, refs[1])
  elseif e.remote_only then
    ok, err, kind = p:login()
    if not ok then return nil, err, kind end
    r, err, kind = copy(p, "push", spec.source, refs[1], false)
  else
    ok, err, kind = p:login()
    if not ok then return nil, err, kind end
    if spec.source ~= refs[1] then
      ok, err, kind = p:tag(spec.source, refs[1])
      if not ok then return stop(refs[1], err, kind) end
    end
    r, err, kind = p:push(refs[1])
  end
  if not r then return nil, err, kind end
  local rest = {table.unpack(refs, 2)}
  if #rest > 0 and e.remote_tag and p.o.remote_tag ~= "engine" then
    local api, aerr, akind = api_tag(p, spec.repository, r, rest)
    if not api then return nil, aerr, akind end
    if api ~= "engine" then return true end
  end
  for _, ref in ipairs(rest) do
    local ri
    if e.remote_tag then
      ri, err, kind = copy(p, "tag", refs[1], ref, true)
    else
      ok, err, kind = p:tag(spec.source, ref)
      if not ok then return stop(ref, err, kind) end
      ri, err, kind = p:push(ref)
    end
    if not ri then return stop(ref, err, kind) end
    ri.digest = ri.digest or r.digest
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
function M.release(p, spec)
  local refs, err, bad = options.release(spec, p.registry)
  if bad then error("bad argument #1 to 'release' (" .. err .. ")", 3) end
  if not refs then return p:_fail("release", err, "usage") end
  local seen = {}
  for _, ref in ipairs(refs) do seen[ref] = true end
  p:plan(refs)
  local r, rerr, kind = run(p, spec, refs)
  if not r then return nil, rerr, kind end
  local out = {}
  if p.o.dry_run then
    for i, ref in ipairs(refs) do out[i] = {reference = ref} end
  else
    for _, pushed in ipairs(p.pushed) do
      if seen[pushed.reference] then out[#out + 1] = pushed end
    end
  end
  return out
end

return M

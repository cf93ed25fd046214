--- A registry's HTTP API (Docker Registry HTTP API V2, the OCI
-- distribution API): log-in checks, and manifests fetched and PUT under
-- further tags, so that tagging uploads no layer and runs no engine.
--
-- Requests go through `swrauth.transport` (curl). With `insecure`, the
-- scheme is found as the engines find it, without sending credentials in
-- clear to a server that speaks TLS: an unauthenticated `GET /v2/` in
-- plain HTTP; a server that answers it in HTTP is a plain-HTTP registry,
-- any other is reached over HTTPS without verification.
--
-- Authentication: HTTP Basic with PROJECT@AK and the login key; when the
-- registry answers 401 with a Bearer challenge (as SWR and Docker Hub
-- do), a token is fetched from the challenge's realm with the same Basic
-- credentials, then used instead.
--
-- The registry is not trusted: a manifest's body must hash to the digest
-- asked for and to the digest the registry names, digests must be
-- `sha256:` and 64 lowercase hex digits, media types must be media types,
-- and any text of the registry's quoted in a message is put on one line
-- with its control characters escaped.
--
-- Every request returns `nil, message, transient` on failure; `transient`
-- is true for failures worth another attempt (connection refused or
-- reset, time-outs, HTTP 429 and 5xx).
--
-- @module swrauth.registry
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local text = require "swrauth.text"
local transport = require "swrauth.transport"

local concat, ipairs, type = table.concat, ipairs, type

--- The manifest media types asked for.
M.ACCEPT = concat({
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

--- The largest manifest read (the distribution spec's limit is 4 MiB).
M.MAX_MANIFEST = 4 * 1024 * 1024

local WANT = {"docker-content-digest", "www-authenticate"}

--- Percent-encodes a query parameter value.
function M.query_escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

--- The parameters of a `WWW-Authenticate` challenge:
-- `Bearer realm="...",service="...",scope="..."` gives
-- `"bearer", {realm=, service=, scope=}`; nil for a header without a
-- scheme.
function M.parse_challenge(header)
  if type(header) ~= "string" then return nil end
  -- Several challenges may come joined with ", ": the Bearer one wins.
  local at = header:lower():find("bearer%s")
  local scheme_text = at and header:sub(at) or header
  local scheme, rest = scheme_text:match("^%s*(%a+)%s*(.*)$")
  if not scheme then return nil end
  local params = {}
  for k, v in rest:gmatch('(%w+)%s*=%s*"([^"]*)"') do params[k:lower()] = v end
  for k, v in rest:gmatch('(%w+)%s*=%s*([^",%s]+)') do
    params[k:lower()] = params[k:lower()] or v
  end
  return scheme:lower(), params
end

-- The message of a registry's error body, {"errors":[{"code":,"message":}]},
-- on one line.
local function error_body(body)
  local doc = type(body) == "string" and body ~= "" and json.parse(body)
  if type(doc) ~= "table" or type(doc.errors) ~= "table" then return nil end
  local parts = {}
  for _, e in ipairs(doc.errors) do
    if type(e) == "table" then
      local code = type(e.code) == "string" and e.code or nil
      local msg = type(e.message) == "string" and e.message or nil
      parts[#parts + 1] = (code and msg) and (code .. ": " .. msg) or code or msg
    end
  end
  if #parts == 0 then return nil end
  return text.one_line(concat(parts, "; "), 300)
end

-- A failed answer: message and whether it is transient.
local function failure(what, a)
  if a.broken then
    return what .. ": " .. text.one_line(a.error or ("curl exit " .. a.exit), 300), a.transient
  end
  local msg = ("%s: HTTP %d"):format(what, a.status)
  local said = error_body(a.body)
  if said then msg = msg .. " (" .. said .. ")" end
  if a.status == 401 then
    msg = msg .. ": the registry refused the credentials (wrong key, AK or project?)"
  elseif a.status == 403 then
    msg = msg .. ": the user may not push to this repository"
  elseif a.status == 404 then
    msg = msg .. ": manifest unknown"
  end
  return msg, a.status == 429 or (a.status >= 500 and a.status <= 599)
end

-- A media type from a Content-Type value (parameters dropped), or nil
-- when the value is not one.
local TOKEN = "[%w!#$&^_.+-]+"
local function media_type(ct)
  local mt = type(ct) == "string" and ct:match("^%s*([^;]*)") or ""
  mt = mt:gsub("%s+$", "")
  if #mt > 255 or not mt:find("^" .. TOKEN .. "/" .. TOKEN .. "$") then return nil end
  return mt:lower()
end

local C = {}
C.__index = C

--- A client for one registry.
-- @tparam table o `registry` (HOST[:PORT]), `user`, `key`, `insecure`,
--   `cert_dir`, `timeout` (seconds per request), `env` (environment
--   overrides for curl), `run` (the runner, see `swrauth.transport`),
--   `curl`, `on_secret` (called with each token received, for redaction)
-- @treturn table the client; `close()` removes its temporary files
function M.new(o)
  return setmetatable({o = o, t = o.transport or transport.new {
    run = o.run, curl = o.curl, env = o.env, timeout = o.timeout, insecure = o.insecure,
    cert_dir = o.cert_dir, max_body = M.MAX_MANIFEST,
  }}, C)
end

--- Whether requests can be made (curl is installed).
function C:available()
  return self.t:available()
end

--- Removes the client's temporary files.
function C:close()
  self.t:close()
end

--- The line shown for a request in a dry run: a shell comment naming it.
function M.describe(method, where)
  return "# registry API: " .. method .. " " .. where
end

-- The scheme: HTTPS; with `insecure`, plain HTTP when the registry
-- answers an unauthenticated plain-HTTP `GET /v2/` (a registry answers it
-- 200 or 401; a TLS server 400 or not at all).
function C:_scheme()
  if self.scheme then return self.scheme end
  if not self.o.insecure then
    self.scheme = "https"
    return self.scheme
  end
  local list = self.t:send {{method = "GET", url = "http://" .. self.o.registry .. "/v2/"}}
  local a = list and list[1]
  self.scheme = a and not a.broken and (a.status == 200 or a.status == 401) and "http" or "https"
  return self.scheme
end

-- Adds the credentials to a request: the token once there is one, else
-- Basic.
function C:_auth(r)
  if self.token then r.bearer = self.token else r.user = self.o.user .. ":" .. self.o.key end
  return r
end

-- Fetches a token from a Bearer challenge's realm, for `scope` (nil: a
-- log-in check).
function C:_fetch_token(params, scope)
  local realm = params.realm
  local rs = realm and realm:match("^(%a+)://")
  if rs ~= "https" and rs ~= "http" then
    return nil, "token service: the registry's challenge names no http(s) realm", false
  end
  if rs == "http" and not self.o.insecure then
    return nil, "token service " .. text.one_line(realm, 200) .. " is plain HTTP: the credentials "
      .. "would go unencrypted (use --insecure for a local registry)", false
  end
  local query = {}
  if params.service then query[#query + 1] = "service=" .. M.query_escape(params.service) end
  if scope then
    query[#query + 1] = "scope=" .. M.query_escape(scope)
  else
    query[#query + 1] = "account=" .. M.query_escape(self.o.user)
  end
  local url = realm .. (realm:find("?", 1, true) and "&" or "?") .. concat(query, "&")
  local what = "token service " .. text.one_line(realm, 200)
  local list, err, transient = self.t:send {{method = "GET", url = url,
                                             user = self.o.user .. ":" .. self.o.key}}
  if not list then return nil, what .. ": " .. err, transient end
  local a = list[1]
  if a.status ~= 200 or a.broken then return nil, failure(what, a) end
  local doc = json.parse(a.body)
  local token = type(doc) == "table" and (doc.token or doc.access_token)
  if type(token) ~= "string" or not token:find("^[\33-\126]+$") or #token > 65536 then
    return nil, what .. ": the answer holds no usable token", false
  end
  self.token = token
  if self.o.on_secret then self.o.on_secret(token) end
  return true
end

-- Makes one request, authenticating (Basic, or a Bearer token after a
-- challenge). Returns the answer, or nil, message, transient.
function C:_request(what, r, scope)
  for _ = 1, 2 do
    local list, err, transient = self.t:send {self:_auth(r)}
    if not list then return nil, what .. ": " .. err, transient end
    local a = list[1]
    local kind, params = M.parse_challenge(a.headers["www-authenticate"])
    if a.status == 401 and kind == "bearer" and not self.token then
      local ok, terr, tr = self:_fetch_token(params, scope)
      if not ok then return nil, terr, tr end
      r.user = nil
    else
      return a
    end
  end
  return nil, what .. ": refused after authenticating", false
end

--- Whether the credentials log in: `GET /v2/` with Basic, following a
-- Bearer challenge to its token service, as `docker login` does.
-- @treturn true|nil
-- @treturn[2] string message
-- @treturn[2] boolean transient
function C:ping()
  local url = self:_scheme() .. "://" .. self.o.registry .. "/v2/"
  local a, err, transient = self:_request("GET " .. self.o.registry .. "/v2/",
                                          {method = "GET", url = url, want = WANT})
  if not a then return nil, err, transient end
  if a.status == 200 and not a.broken then return true end
  return nil, failure("GET " .. self.o.registry .. "/v2/", a)
end

local DIGEST = "^sha256:" .. ("[0-9a-f]"):rep(64) .. "$"

--- Fetches a manifest and checks it against its digest.
-- @tparam string repo NS/NAME
-- @tparam string ref a tag or a digest (`sha256:...`)
-- @treturn table|nil `{body=, media_type=, digest=}`; `digest` is the
--   sha256 of the body, which equals `ref` when that is a digest and
--   the digest the registry named, if it named one
-- @treturn[2] string message
-- @treturn[2] boolean transient
function C:get_manifest(repo, ref)
  local path = "/v2/" .. repo .. "/manifests/" .. ref
  local what = "GET " .. self.o.registry .. path
  local a, err, transient = self:_request(what, {
    method = "GET", url = self:_scheme() .. "://" .. self.o.registry .. path,
    headers = {{"Accept", M.ACCEPT}}, want = WANT,
  }, "repository:" .. repo .. ":pull,push")
  if not a then return nil, err, transient end
  if a.status ~= 200 or a.broken then return nil, failure(what, a) end
  local mt = media_type(a.content_type)
  if not mt then
    return nil, what .. ": the registry gave the manifest no valid media type (Content-Type "
      .. text.quote(a.content_type or "", 100) .. ")", false
  end
  local digest = "sha256:" .. swrauth.sha256(a.body)
  if ref:find("^sha256:") and digest ~= ref then
    return nil, what .. ": the manifest the registry sent has digest " .. digest
      .. ", not the one asked for: refused", false
  end
  local named = a.headers["docker-content-digest"]
  if named and named ~= digest then
    return nil, what .. ": the registry named digest " .. text.quote(named, 100)
      .. " for a manifest whose digest is " .. digest .. ": refused", false
  end
  return {body = a.body, media_type = mt, digest = digest}
end

--- PUTs a manifest under several tags, in order, in one request batch
-- that stops at the first failure (the tags after it are not tried).
-- @tparam string repo NS/NAME
-- @tparam table tags the tags
-- @tparam table m `{body=, media_type=, digest=}` as `get_manifest` returns it
-- @treturn table `{tag=, digest=}` for each tag done, in order, then
--   `{tag=, error=, transient=}` for the one that failed, if one did
-- @treturn[2] nil, message, transient when nothing could be tried
function C:put_manifest(repo, tags, m)
  local scheme, requests = self:_scheme(), {}
  for i, tag in ipairs(tags) do
    requests[i] = self:_auth {
      method = "PUT", url = scheme .. "://" .. self.o.registry .. "/v2/" .. repo .. "/manifests/" .. tag,
      headers = {{"Content-Type", m.media_type}}, body = m.body, want = WANT,
    }
  end
  local list, err, transient = self.t:send(requests, {fail_early = true})
  if not list then return nil, err, transient end
  local out = {}
  for i, a in ipairs(list) do
    local what = "PUT " .. self.o.registry .. "/v2/" .. repo .. "/manifests/" .. tags[i]
    local named = a.headers["docker-content-digest"]
    if (a.status ~= 201 and a.status ~= 200) or a.broken then
      local msg, tr = failure(what, a)
      out[i] = {tag = tags[i], error = msg, transient = tr}
      break
    elseif named and (not named:find(DIGEST) or named ~= m.digest) then
      out[i] = {tag = tags[i], transient = false, error = what .. ": the registry answered with "
        .. "digest " .. text.quote(named, 100) .. ", not " .. m.digest .. " (the manifest sent): "
        .. "the tag may point at another image"}
      break
    end
    out[i] = {tag = tags[i], digest = m.digest}
  end
  return out
end

--- Adds tags to a manifest: GETs it once (`from`, a tag or a digest),
-- then PUTs it under each tag in turn, in request batches that stop at
-- the first failure; a transient failure is tried again from the tag
-- that failed (`steps:call`: the one retry loop).
-- @tparam table steps a `swrauth.steps` runner
-- @tparam string repo NS/NAME
-- @tparam string from a tag or a digest
-- @tparam table tags the tags to add
-- @tparam function on_tag called as `on_tag(i, digest, attempt)` for each
--   tag added, in order
-- @treturn true|nil
-- @treturn[2] string message
-- @treturn[2] integer the index of the tag that was not added first
function C:add_tags(steps, repo, from, tags, on_tag)
  local m, err = steps:call("tag", "GET " .. self.o.registry .. "/v2/" .. repo .. "/manifests/"
    .. from, function() return self:get_manifest(repo, from) end)
  if not m then return nil, err, 1 end
  local next_tag = 1
  local ok, perr = steps:call("tag", "PUT " .. repo .. ":" .. tags[1], function(attempt)
    local list, why, transient = self:put_manifest(repo, {table.unpack(tags, next_tag)}, m)
    for _, it in ipairs(list or {}) do
      if it.error then return nil, it.error, it.transient end
      on_tag(next_tag, it.digest, attempt)
      next_tag = next_tag + 1
    end
    if next_tag > #tags then return true end
    return nil, why, transient
  end)
  if not ok then return nil, perr, next_tag end
  return true
end

return M

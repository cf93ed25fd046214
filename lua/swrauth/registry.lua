--- Tagging through the registry's HTTP API (Docker Registry HTTP API V2,
-- the OCI distribution API): the manifest is fetched once and PUT under
-- each further tag. No layer is read or written, and no engine process
-- runs per tag.
--
-- HTTPS requests are made by curl, which gets its whole configuration,
-- the credentials included, on standard input (`curl -q --config -`):
-- nothing secret on its command line, and no ~/.curlrc. curl verifies the
-- server (system CAs, or --cert-dir) and honours the usual proxy
-- variables (`https_proxy`, `no_proxy`, ...). Plain-HTTP requests (a
-- registry reached with `insecure` that answers plain HTTP) are made in
-- this process, over libuv, one connection each; `http_proxy` is not
-- used for them. Redirects are never followed, so credentials never go to
-- another host.
--
-- With `insecure`, the scheme is found as the engines do, without sending
-- credentials in clear to a server that speaks TLS: an unauthenticated
-- `GET /v2/` in plain HTTP; a server that answers it in HTTP is a
-- plain-HTTP registry, any other is reached over HTTPS without
-- verification.
--
-- Authentication: HTTP Basic with PROJECT@AK and the login key; when the
-- registry answers 401 with a Bearer challenge (as SWR and Docker Hub
-- do), a token for `repository:NAME:pull,push` is fetched from the
-- challenge's realm with the same Basic credentials, then used instead.
--
-- Every request returns `nil, message, transient` on failure; `transient`
-- is true for failures worth another attempt (connection refused or
-- reset, time-outs, HTTP 429 and 5xx).
--
-- @module swrauth.registry
local M = {}

local proc = require "swrauth.proc"

local concat, ipairs, tonumber, tostring, type = table.concat, ipairs, tonumber, tostring, type

--- The manifest media types asked for, most specific last.
M.ACCEPT = concat({
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

-- curl exit codes worth another attempt: could not connect (7), time-out
-- (28), send/receive failures and empty replies (52, 55, 56), HTTP/2
-- stream errors (16, 92).
local CURL_TRANSIENT = {[7] = true, [16] = true, [28] = true, [52] = true, [55] = true,
                        [56] = true, [92] = true}

-- The fields curl writes after each transfer (`write-out`), tab-separated.
local WRITE_OUT = "%{http_code}\\t%{exitcode}\\t%{content_type}\\t"
  .. "%header{docker-content-digest}\\t%header{www-authenticate}\\t%{errormsg}\\n"

-- A value in curl's config syntax: double-quoted, with \ and " escaped.
-- Control characters cannot be written there: refused.
local function quoted(s)
  if s:find("[%z\1-\31\127]") then return nil end
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

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

-- The message of a registry's error body: {"errors":[{"code":,"message":}]}.
local function error_body(text)
  if type(text) ~= "string" or text == "" then return nil end
  local json = require "swrauth.json"
  local ok, doc = pcall(json.parse, text)
  if not ok or type(doc) ~= "table" or type(doc.errors) ~= "table" then return nil end
  local parts = {}
  for _, e in ipairs(doc.errors) do
    if type(e) == "table" then
      local code = type(e.code) == "string" and e.code or nil
      local msg = type(e.message) == "string" and e.message or nil
      parts[#parts + 1] = (code and msg) and (code .. ": " .. msg) or code or msg
    end
  end
  if #parts == 0 then return nil end
  return (concat(parts, "; "):gsub("[%c]", " "):sub(1, 300))
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Standard base64 with padding.
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local e = {(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63}
    for k = 1, 4 do out[#out + 1] = B64:sub(e[k] + 1, e[k] + 1) end
    if not b then out[#out - 1], out[#out] = "=", "=" elseif not c then out[#out] = "=" end
  end
  return concat(out)
end
M._base64 = base64

-- The parts of an http:// URL: host (brackets removed), port, path.
local function split_url(url)
  local authority, path = url:match("^http://([^/]+)(/.*)$")
  if not authority then return nil end
  local host, port = authority:match("^%[([^%]]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host then return nil end
  return host, tonumber(port) or 80, path, authority
end

-- Parses a whole HTTP/1.1 answer (read to the end of the connection).
local function parse_answer(data)
  local head_end = data:find("\r\n\r\n", 1, true)
  if not head_end then return nil end
  local head, body = data:sub(1, head_end - 1), data:sub(head_end + 4)
  local code = head:match("^HTTP/1%.[01] (%d%d%d)")
  if not code then return nil end
  local headers = {}
  for line in head:gmatch("\r\n([^\r\n]*)") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then
      k = k:lower()
      headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
    end
  end
  if (headers["transfer-encoding"] or ""):lower():find("chunked") then
    local parts, i = {}, 1
    while true do
      local size_end = body:find("\r\n", i, true)
      local size = size_end and tonumber(body:sub(i, size_end - 1):match("^%x+"), 16)
      if not size then return nil end
      if size == 0 then break end
      parts[#parts + 1] = body:sub(size_end + 2, size_end + 1 + size)
      i = size_end + 4 + size
    end
    body = concat(parts)
  elseif headers["content-length"] then
    local n = tonumber(headers["content-length"])
    if not n or #body < n then return nil end
    body = body:sub(1, n)
  end
  return tonumber(code), headers, body
end

--- The largest answer the in-process client reads (bytes).
M.MAX_ANSWER = 8 * 1024 * 1024

-- One plain-HTTP request on its own connection, in this process. Returns
-- the result as `_curl` does ({code=, exit=, ...}, the body written to
-- r.output).
local function http_request(r, auth_header, timeout)
  local uv = require "luv"
  local host, port, path, authority = split_url(r.url)
  if not host then return {code = 0, exit = 3, error = "bad URL " .. r.url} end
  local addrs = uv.getaddrinfo(host, tostring(port), {socktype = "stream"})
  if not addrs or not addrs[1] then
    return {code = 0, exit = 6, error = "Could not resolve host: " .. host}
  end
  local body = ""
  if r.upload then body = proc.read_file(r.upload) or "" end
  local lines = {("%s %s HTTP/1.1"):format(r.method, path), "Host: " .. authority,
                 "User-Agent: swrauth", "Connection: close"}
  if r.accept then lines[#lines + 1] = "Accept: " .. r.accept end
  if r.content_type then lines[#lines + 1] = "Content-Type: " .. r.content_type end
  if auth_header then lines[#lines + 1] = "Authorization: " .. auth_header end
  if r.method == "PUT" then lines[#lines + 1] = "Content-Length: " .. #body end
  local request = concat(lines, "\r\n") .. "\r\n\r\n" .. body
  local tcp, timer = uv.new_tcp(), uv.new_timer()
  local chunks, size, result = {}, 0, nil
  local function finish(res)
    if result then return end
    result = res
    timer:stop()
    if not timer:is_closing() then timer:close() end
    if not tcp:is_closing() then tcp:close() end
  end
  timer:start(math.floor((timeout or 60) * 1000), 0, function()
    finish({code = 0, exit = 28, error = ("Operation timed out after %g s"):format(timeout or 60)})
  end)
  tcp:connect(addrs[1].addr, port, function(cerr)
    if cerr then
      local refused = tostring(cerr):find("ECONNREFUSED")
      return finish({code = 0, exit = 7, error = "Failed to connect to " .. authority .. ": "
        .. (refused and "Connection refused" or tostring(cerr))})
    end
    tcp:write(request)
    tcp:read_start(function(rerr, data)
      if rerr then
        return finish({code = 0, exit = 56, error = "Recv failure: " .. tostring(rerr)})
      elseif data then
        chunks[#chunks + 1] = data
        size = size + #data
        -- Manifests are at most 4 MiB (distribution spec): no more is kept.
        if size > M.MAX_ANSWER then
          return finish({code = 0, exit = 63, error = ("answer larger than %d bytes"):format(
            M.MAX_ANSWER)})
        end
      else
        local text = concat(chunks)
        if text == "" then
          return finish({code = 0, exit = 52, error = "Empty reply from server"})
        end
        local code, headers, rbody = parse_answer(text)
        if not code then
          return finish({code = 0, exit = 8, error = "Weird server reply (not HTTP/1.1)"})
        end
        if r.output then proc.write_private(r.output, rbody) end
        finish({code = code, exit = 0,
                content_type = headers["content-type"],
                digest = headers["docker-content-digest"],
                challenge = headers["www-authenticate"]})
      end
    end)
  end)
  while not result do uv.run("once") end
  -- Let the closed handles go.
  uv.run("nowait")
  return result
end
M._parse_answer = parse_answer

--- The system's hashed CA directory, used with --cert-dir's CAs.
M.SYSTEM_CAPATH = "/etc/ssl/certs"

local C = {}
C.__index = C

--- A client for one registry.
-- @tparam table o `registry` (HOST[:PORT]), `user`, `key`, `insecure`
--   (plain HTTP when the registry answers it, else HTTPS without
--   verification; see `_probe`), `cert_dir` (extra
--   CA certificates, `*.crt`, and a client certificate `*.cert` + `*.key`),
--   `timeout` (seconds per request), `env` (environment overrides for
--   curl, as `proc.run` takes them), `curl` (the program, default
--   "curl"; false when there is none: HTTPS requests then fail with
--   `no_curl` as the message and `curl_missing` set on the client), `run`
--   (default `proc.run`), `on_secret` (called with each token received,
--   for redaction)
-- @treturn table the client; `close()` removes its temporary files
function M.new(o)
  local curl = o.curl
  if curl == nil then curl = "curl" end
  return setmetatable({o = o, run = o.run or proc.run, curl = curl}, C)
end

--- Removes the client's temporary directory.
function C:close()
  if self.dir then proc.remove_tree(self.dir) end
  self.dir = nil
end

-- The client's private (0700) temporary directory.
function C:_tmp()
  if self.dir then return self.dir end
  local dir, err = proc.tempdir()
  if not dir then return nil, "cannot make a temporary directory: " .. tostring(err) end
  self.dir = dir
  return dir
end

-- A 0600 file in the temporary directory, holding `data`.
function C:_file(name, data)
  local dir, err = self:_tmp()
  if not dir then return nil, err end
  local path = dir .. "/" .. name
  local ok, werr = proc.write_private(path, data or "")
  if not ok then return nil, "cannot write " .. path .. ": " .. tostring(werr) end
  return path
end

-- The CA bundle for --cert-dir: the directory's *.crt files, with the
-- system's roots from their hashed directory (looked up when needed, not
-- parsed whole); and a client certificate and key when the directory has
-- NAME.cert with NAME.key.
function C:_tls_files()
  if self.tls then return self.tls end
  local dir = self.o.cert_dir
  local tls = {}
  local entries, why = proc.list_dir(dir)
  if not entries then return nil, "cert dir " .. dir .. ": " .. tostring(why) end
  local parts, names = {}, {}
  if select(2, proc.file_mode(M.SYSTEM_CAPATH)) == "directory" then tls.capath = M.SYSTEM_CAPATH end
  for _, e in ipairs(entries) do
    names[e.name] = true
    if e.name:find("%.crt$") then
      local text, rerr = proc.read_file(dir .. "/" .. e.name)
      if not text then return nil, "cert dir " .. dir .. ": " .. tostring(rerr) end
      parts[#parts + 1] = text
    end
  end
  for name in pairs(names) do
    local base = name:match("^(.*)%.cert$")
    if base and names[base .. ".key"] then
      tls.cert = proc.abspath(dir .. "/" .. name)
      tls.key = proc.abspath(dir .. "/" .. base .. ".key")
    end
  end
  local bundle, err = self:_file("ca.pem", concat(parts, "\n"))
  if not bundle then return nil, err end
  tls.cacert = bundle
  self.tls = tls
  return tls
end

-- The config lines of one request. `r`: method, url, auth ("basic",
-- "bearer" or nil), accept, content_type, upload (a file), output (a file).
function C:_request_lines(r, scheme)
  local lines = {"url = " .. assert(quoted(r.url))}
  if r.method == "PUT" then
    lines[#lines + 1] = "upload-file = " .. assert(quoted(r.upload))
    lines[#lines + 1] = 'header = "Expect:"'
  elseif r.method == "HEAD" then
    lines[#lines + 1] = "head"
  end
  if r.accept then lines[#lines + 1] = "header = " .. assert(quoted("Accept: " .. r.accept)) end
  if r.content_type then
    lines[#lines + 1] = "header = " .. assert(quoted("Content-Type: " .. r.content_type))
  end
  if r.auth == "basic" then
    lines[#lines + 1] = "user = " .. assert(quoted(self.o.user .. ":" .. self.o.key))
  elseif r.auth == "bearer" then
    lines[#lines + 1] = "header = " .. assert(quoted("Authorization: Bearer " .. self.token))
  end
  lines[#lines + 1] = "output = " .. assert(quoted(r.output))
  lines[#lines + 1] = "write-out = \"" .. WRITE_OUT .. "\""
  lines[#lines + 1] = "silent"
  lines[#lines + 1] = "show-error"
  lines[#lines + 1] = "globoff"
  lines[#lines + 1] = 'proto = "=http,https"'
  lines[#lines + 1] = "connect-timeout = 30"
  if self.o.timeout then
    lines[#lines + 1] = ("max-time = %g"):format(self.o.timeout)
  end
  if scheme == "https" then
    if self.o.insecure then
      lines[#lines + 1] = "insecure"
    elseif self.o.cert_dir then
      lines[#lines + 1] = "cacert = " .. assert(quoted(self.tls.cacert))
      if self.tls.capath then lines[#lines + 1] = "capath = " .. assert(quoted(self.tls.capath)) end
      if self.tls.cert then
        lines[#lines + 1] = "cert = " .. assert(quoted(self.tls.cert))
        lines[#lines + 1] = "key = " .. assert(quoted(self.tls.key))
      end
    end
  end
  return concat(lines, "\n")
end

--- The line shown for a request in a dry run: a shell comment naming it
-- (the scheme is found only when it runs).
function M.describe(method, where)
  return "# registry API: " .. method .. " " .. where
end

-- Runs curl once for a list of requests (joined with `next`). Returns
-- one result per request: {code=, exit=, content_type=, digest=,
-- challenge=, error=}, or nil, message, transient.
function C:_curl(requests, fail_early)
  if not self.curl then
    self.curl_missing = true
    return nil, self.o.no_curl or "'curl' not found on PATH", false
  end
  local groups = {}
  for i, r in ipairs(requests) do
    local scheme = r.url:match("^(%a+):")
    if scheme == "https" and self.o.cert_dir and not self.o.insecure then
      local tls, err = self:_tls_files()
      if not tls then return nil, err, false end
    end
    groups[i] = self:_request_lines(r, scheme)
    -- With fail_early, curl stops at the first request that fails (HTTP
    -- status >= 400 included); the rest are not made.
    if fail_early then groups[i] = groups[i] .. "\nfail-with-body" end
  end
  if fail_early then groups[1] = "fail-early\n" .. groups[1] end
  local res, err = self.run{argv = {self.curl, "-q", "--config", "-"},
                            stdin = concat(groups, "\nnext\n") .. "\n",
                            env = self.o.env,
                            timeout = self.o.timeout and (self.o.timeout * #requests + 5) or nil}
  if not res then return nil, tostring(err), false end
  local out = {}
  for line in res.stdout:gmatch("[^\n]+") do
    local code, ex, ct, dg, wa, msg = line:match("^(%d+)\t(%d+)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if code then
      -- curl before 7.84 prints %header{...} as it is.
      if dg:find("^%%header") then dg = "" end
      if wa:find("^%%header") then wa = "" end
      out[#out + 1] = {code = tonumber(code), exit = tonumber(ex),
                       content_type = ct ~= "" and ct or nil,
                       digest = dg ~= "" and dg or nil,
                       challenge = wa ~= "" and wa or nil,
                       error = msg ~= "" and msg or nil}
    end
  end
  local last = out[#out]
  local stopped = fail_early and last and #out < #requests
    and not (last.code == 200 or last.code == 201)
  if #out ~= #requests and not stopped then
    local said = res.stderr:gsub("%s+$", ""):gsub("[%c]", " ")
    if said == "" then said = "exit " .. tostring(res.status) end
    return nil, "curl: " .. said, res.timed_out or CURL_TRANSIENT[res.status] or false
  end
  return out
end

-- The Authorization header of a request, for the in-process client.
function C:_auth_header(r)
  if r.auth == "basic" then return "Basic " .. base64(self.o.user .. ":" .. self.o.key) end
  if r.auth == "bearer" then return "Bearer " .. self.token end
  return nil
end

-- Makes a list of requests that share a scheme: plain HTTP in this
-- process, HTTPS through curl. Same results as `_curl`.
function C:_send(requests, fail_early)
  if not requests[1].url:find("^http://") then return self:_curl(requests, fail_early) end
  local out = {}
  for i, r in ipairs(requests) do
    local res = http_request(r, self:_auth_header(r), self.o.timeout)
    out[i] = res
    if fail_early and not (res.code == 200 or res.code == 201) then break end
  end
  return out
end

-- With `insecure` and no scheme known yet: a plain-HTTP `GET /v2/`
-- without credentials. A registry answers it 200 or 401; a TLS server
-- answers plain HTTP with 400 ("Client sent an HTTP request to an HTTPS
-- server") or not at all.
function C:_probe()
  local res = http_request({method = "GET", url = "http://" .. self.o.registry .. "/v2/"},
                           nil, math.min(self.o.timeout or 10, 10))
  self.scheme = (res.code == 200 or res.code == 401) and "http" or "https"
end

-- A failure of one request: message and whether it is transient.
local function failure(what, r, body)
  if r.code == 0 then
    local msg = what .. ": " .. (r.error or ("curl exit " .. r.exit))
    return msg, CURL_TRANSIENT[r.exit] or false
  end
  local msg = ("%s: HTTP %d"):format(what, r.code)
  local said = error_body(body)
  if said then msg = msg .. " (" .. said .. ")" end
  if r.code == 401 then
    msg = msg .. ": the registry refused the credentials (wrong key, AK or project?)"
  elseif r.code == 403 then
    msg = msg .. ": the user may not push to this repository"
  end
  return msg, r.code == 429 or (r.code >= 500 and r.code <= 599)
end

-- Reads and removes nothing: the output file of a request.
local function body_of(path)
  return proc.read_file(path) or ""
end

-- The scheme: HTTPS; with `insecure`, plain HTTP when the registry
-- answers plain HTTP (see `_probe`).
function C:_scheme()
  if not self.scheme then
    if self.o.insecure then self:_probe() else self.scheme = "https" end
  end
  return self.scheme
end

function C:_url(scheme, path)
  return scheme .. "://" .. self.o.registry .. path
end

-- Fetches a token for `repo` from a Bearer challenge's realm.
function C:_fetch_token(params, repo)
  local realm = params.realm
  local rs = realm and realm:match("^(%a+)://")
  if not rs or (rs ~= "https" and rs ~= "http") then
    return nil, "token service: the registry's challenge names no http(s) realm", false
  end
  if rs == "http" and not self.o.insecure then
    return nil, "token service " .. realm .. " is plain HTTP: the credentials would go "
      .. "unencrypted (use --insecure for a local registry)", false
  end
  local query = {}
  if params.service then query[#query + 1] = "service=" .. M.query_escape(params.service) end
  query[#query + 1] = "scope=" .. M.query_escape("repository:" .. repo .. ":pull,push")
  local url = realm .. (realm:find("?", 1, true) and "&" or "?") .. concat(query, "&")
  if not quoted(url) then return nil, "token service: bad realm in the challenge", false end
  local out, err = self:_file("token", "")
  if not out then return nil, err, false end
  local res, cerr, transient = self:_send{{method = "GET", url = url, auth = "basic",
                                          output = out}}
  if not res then return nil, "token service: " .. cerr, transient end
  local r = res[1]
  local body = body_of(out)
  proc.write_private(out, "")
  if r.code ~= 200 then
    local msg, tr = failure("token service " .. realm, r, body)
    return nil, msg, tr
  end
  local json = require "swrauth.json"
  local ok, doc = pcall(json.parse, body)
  local token = ok and type(doc) == "table" and (doc.token or doc.access_token)
  if type(token) ~= "string" or token == "" or not token:find("^[\33-\126]+$") then
    return nil, "token service " .. realm .. ": the answer holds no usable token", false
  end
  self.token = token
  if self.o.on_secret then self.o.on_secret(token) end
  return true
end

--- Fetches a manifest.
-- @tparam string repo NS/NAME
-- @tparam string ref a tag or a digest
-- @treturn table|nil `{body=, media_type=, digest=}`
-- @treturn[2] string message
-- @treturn[2] boolean transient
function C:get_manifest(repo, ref)
  local path = "/v2/" .. repo .. "/manifests/" .. ref
  local what = "GET " .. self.o.registry .. path
  for _ = 1, 2 do
    local out, ferr = self:_file("manifest", "")
    if not out then return nil, ferr, false end
    local res, err, transient = self:_send{{method = "GET", url = self:_url(self:_scheme(), path),
                                           accept = M.ACCEPT, output = out,
                                           auth = self.token and "bearer" or "basic"}}
    if not res then return nil, what .. ": " .. err, transient end
    local r = res[1]
    if r.code == 0 then
      local msg, tr = failure(what, r)
      return nil, msg, tr
    end
    local body = body_of(out)
    if r.code == 200 then
      local mt = r.content_type and r.content_type:match("^%s*([^;%s]+)")
      return {body = body, media_type = mt, digest = r.digest}
    end
    local kind, params = M.parse_challenge(r.challenge)
    if r.code == 401 and kind == "bearer" and not self.token then
      local ok, terr, tr = self:_fetch_token(params, repo)
      if not ok then return nil, terr, tr end
    else
      local msg, tr = failure(what, r, body)
      if r.code == 404 then msg = msg .. ": manifest unknown" end
      return nil, msg, tr
    end
  end
  return nil, what .. ": refused after authenticating", false
end

--- PUTs a manifest under several tags, in order, in one curl process
-- that stops at the first failure (the tags after it are not tried).
-- @tparam string repo NS/NAME
-- @tparam table tags the tags
-- @tparam table m `{body=, media_type=}` as `get_manifest` returns it
-- @treturn table `{tag=, digest=}` for each tag done, in order, then
--   `{tag=, error=, transient=}` for the one that failed, if one did
-- @treturn[2] nil, message, transient when nothing could be tried
function C:put_manifest(repo, tags, m)
  if not m.media_type then
    return nil, "the registry gave the manifest no media type", false
  end
  local file, ferr = self:_file("manifest.put", m.body)
  if not file then return nil, ferr, false end
  local scheme = self:_scheme()
  local requests = {}
  for i, tag in ipairs(tags) do
    local out, oerr = self:_file("put." .. i, "")
    if not out then return nil, oerr, false end
    requests[i] = {method = "PUT", url = self:_url(scheme, "/v2/" .. repo .. "/manifests/" .. tag),
                   upload = file, content_type = m.media_type,
                   auth = self.token and "bearer" or "basic", output = out}
  end
  local res, err, transient = self:_send(requests, true)
  if not res then return nil, err, transient end
  local list = {}
  for i, r in ipairs(res) do
    if r.code == 201 or r.code == 200 then
      list[i] = {tag = tags[i], digest = r.digest}
    else
      local msg, tr = failure("PUT " .. self.o.registry .. "/v2/" .. repo .. "/manifests/"
                              .. tags[i], r, body_of(requests[i].output))
      list[i] = {tag = tags[i], error = msg, transient = tr}
    end
  end
  return list
end

return M

--- HTTP requests through curl, with bodies in memory.
--
-- One curl process makes a list of requests (`send`); it reads its whole
-- configuration, credentials included, on standard input (`curl -q
-- --config -`): nothing secret on its command line, no ~/.curlrc. Answer
-- bodies come back on its standard output and are cut apart by their
-- sizes, which curl reports with the status and the headers asked for on
-- standard error. curl verifies the server (the system's CAs, or those of
-- `cert_dir`), honours the proxy variables (`https_proxy`, `no_proxy`,
-- ...) and never follows a redirect, so credentials go to no other host.
--
-- The other side is untrusted: every request has a time limit and a
-- low-speed limit, and the answers of one `send` together may not exceed
-- `max_body` bytes per request (curl's `max-filesize` does not apply to
-- chunked answers: the process is stopped when its output grows past
-- the bound).
--
-- @module swrauth.transport
local M = {}

local proc = require "swrauth.proc"
local fs = require "swrauth.fs"

local concat, ipairs, pairs, tonumber, tostring = table.concat, ipairs, pairs, tonumber,
  tostring

--- Defaults: seconds to connect, seconds per request (without a
-- `timeout`), bytes per answer, and the low-speed limit (bytes a second
-- over `SPEED_TIME` seconds).
M.CONNECT_TIMEOUT = 30
M.MAX_TIME = 120
M.MAX_BODY = 8 * 1024 * 1024
M.SPEED_LIMIT, M.SPEED_TIME = 100, 30

--- The system's hashed CA directory, used beside a `cert_dir`'s CAs.
M.SYSTEM_CAPATH = "/etc/ssl/certs"

-- curl exit codes worth another attempt: could not connect (7), time-out
-- (28), send/receive failures and empty replies (52, 55, 56), HTTP/2
-- stream errors (16, 92).
M.TRANSIENT_EXIT = {[7] = true, [16] = true, [28] = true, [52] = true, [55] = true,
                    [56] = true, [92] = true}

local MARK = "@@swrauth@@"

-- A value in curl's config syntax: double-quoted, with \ and " escaped.
-- Control characters cannot be written there: nil.
local function quoted(s)
  s = tostring(s)
  if s:find("[%z\1-\31\127]") then return nil end
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- The host of a URL (without brackets or port), and its scheme.
local function url_host(url)
  local scheme, authority = url:match("^(%a+)://([^/?#]*)")
  local host = authority and (authority:match("^%[([^%]]*)%]") or authority:match("^([^:]*)"))
  return host, scheme
end

-- Whether a host is this machine or link-local.
local function local_host(host)
  return host == "localhost" or host:find("^127%.") ~= nil or host:find("^169%.254%.") ~= nil
    or host == "::1" or host:find("^fe80:") ~= nil
end

--- Whether swrauth may send credentials to `url`: https, or plain http to
-- a loopback or link-local host (where instance metadata and pod identity
-- live), or any http with `insecure`.
-- @treturn true|nil
-- @treturn[2] string what is wrong
function M.check_url(url, insecure)
  local host, scheme = url_host(url)
  if scheme == "https" then return true end
  if scheme ~= "http" or not host or host == "" then return nil, "is not an http(s) URL" end
  if insecure or local_host(host) then return true end
  return nil, "is plain HTTP to " .. host .. ": credentials would go unencrypted (https, or "
    .. "plain http only to a loopback or link-local host; --insecure to allow it)"
end

local T = {}
T.__index = T

--- A transport.
-- @tparam table o `run` (a runner: a function taking a list of
--   `proc.run` specs and returning their results as `proc.run_all` does;
--   default `proc.run_all`), `curl` (the program; default "curl" on the
--   PATH of `env`), `env` (environment overrides for curl), `timeout`
--   (seconds a request may take; default `MAX_TIME`), `insecure` (no TLS
--   verification), `cert_dir` (CA certificates `*.crt`, and a client
--   certificate `NAME.cert` with `NAME.key`), `max_body` (bytes per
--   answer, default `MAX_BODY`)
-- @treturn table
function M.new(o)
  return setmetatable({o = o, run = o.run or proc.run_all}, T)
end

--- Whether curl can be found (false when it is not installed).
function T:available()
  if self.curl == nil then
    local env = self.o.env
    local path = env and env.PATH
    if path == false then path = nil end
    self.curl = self.o.curl
    if self.curl == nil then self.curl = proc.which("curl", path) or false end
  end
  return self.curl ~= false
end

--- Removes the transport's temporary files (the CA bundle).
function T:close()
  if self.tmp then self.tmp:remove() end
  self.tmp = nil
end

-- The CA bundle for cert_dir (its *.crt files; the system's roots come
-- from their hashed directory when needed), and a client certificate.
function T:_tls()
  if self.tls then return self.tls end
  local dir = self.o.cert_dir
  local entries, why = fs.list(dir)
  if not entries then return nil, "cert dir " .. dir .. ": " .. fs.message(why) end
  local tls, parts, names = {}, {}, {}
  if select(2, fs.mode(M.SYSTEM_CAPATH)) == "directory" then tls.capath = M.SYSTEM_CAPATH end
  for _, e in ipairs(entries) do
    names[e.name] = true
    if e.name:find("%.crt$") then
      local text, rerr = fs.read(dir .. "/" .. e.name)
      if not text then return nil, "cert dir " .. dir .. ": " .. tostring(rerr) end
      parts[#parts + 1] = text
    end
  end
  for name in pairs(names) do
    local stem = name:match("^(.*)%.cert$")
    if stem and names[stem .. ".key"] then
      tls.cert = fs.abspath(dir .. "/" .. name)
      tls.key = fs.abspath(dir .. "/" .. stem .. ".key")
    end
  end
  local tmp, terr = self:_dir()
  if not tmp then return nil, terr end
  local bundle, berr = tmp:file("ca.pem", concat(parts, "\n"))
  if not bundle then return nil, berr end
  tls.cacert = bundle
  self.tls = tls
  return tls
end

function T:_dir()
  if self.tmp then return self.tmp end
  local tmp, err = fs.tempdir()
  if not tmp then return nil, err end
  self.tmp = tmp
  return tmp
end

-- The config lines of one request, or nil and a message.
function T:_lines(r, i)
  local lines = {}
  local function add(k, v)
    local q = quoted(v)
    if not q then return nil end
    lines[#lines + 1] = k .. " = " .. q
    return true
  end
  if not add("url", r.url) then return nil, "the URL holds a control character" end
  if r.method == "HEAD" then
    lines[#lines + 1] = "head"
  elseif r.method ~= "GET" then
    add("request", r.method)
  end
  for _, h in ipairs(r.headers or {}) do
    if not add("header", h[1] .. ": " .. h[2]) then
      return nil, "header " .. h[1] .. " holds a control character"
    end
  end
  if r.body then
    local tmp, err = self:_dir()
    if not tmp then return nil, err end
    local file, ferr = tmp:file("body." .. i, r.body)
    if not file then return nil, ferr end
    add("data-binary", "@" .. file)
    lines[#lines + 1] = 'header = "Expect:"'
  end
  if r.user and not add("user", r.user) then
    return nil, "the user or key holds a control character"
  end
  if r.bearer and not add("header", "Authorization: Bearer " .. r.bearer) then
    return nil, "the token holds a control character"
  end
  -- On stderr (a newline first: an error message may precede it).
  local out = {"%{stderr}\\n" .. MARK .. " %{http_code} %{exitcode} %{size_download}",
               "e:%{errormsg}", "c:%{content_type}"}
  for _, h in ipairs(r.want or {}) do out[#out + 1] = "h:" .. h .. ":%header{" .. h .. "}" end
  lines[#lines + 1] = 'write-out = "' .. concat(out, "\\n") .. '\\n"'
  local timeout = self.o.timeout or M.MAX_TIME
  for _, l in ipairs {"silent", "show-error", "globoff", 'proto = "=http,https"',
                      "connect-timeout = " .. M.CONNECT_TIMEOUT,
                      ("max-time = %g"):format(timeout),
                      "speed-limit = " .. M.SPEED_LIMIT, "speed-time = " .. M.SPEED_TIME,
                      "max-filesize = " .. (self.o.max_body or M.MAX_BODY)} do
    lines[#lines + 1] = l
  end
  -- A loopback or link-local host (instance metadata) is never reached
  -- through a proxy.
  local host = url_host(r.url)
  if host and local_host(host) then lines[#lines + 1] = 'noproxy = "*"' end
  if r.url:find("^https:") then
    if self.o.insecure then
      lines[#lines + 1] = "insecure"
    elseif self.o.cert_dir then
      local tls, err = self:_tls()
      if not tls then return nil, err end
      add("cacert", tls.cacert)
      if tls.capath then add("capath", tls.capath) end
      if tls.cert then add("cert", tls.cert); add("key", tls.key) end
    end
  end
  return concat(lines, "\n")
end

-- The reports curl wrote on stderr, in order.
local function reports(text)
  local list, cur = {}, nil
  for line in text:gmatch("[^\n]*") do
    local code, ex, size = line:match("^" .. MARK .. " (%d+) (%d+) (%d+)$")
    if code then
      cur = {status = tonumber(code), exit = tonumber(ex), size = tonumber(size), headers = {}}
      list[#list + 1] = cur
    elseif cur then
      local k, v = line:match("^(%a):(.*)$")
      if k == "e" then
        cur.error = v ~= "" and v or nil
      elseif k == "c" then
        cur.content_type = v ~= "" and v or nil
      elseif k == "h" then
        local name, value = v:match("^([^:]+):(.*)$")
        if name and value ~= "" then cur.headers[name] = value end
      end
    end
  end
  return list
end

--- Makes a list of requests in one curl process.
-- @tparam table requests each `{method=, url=, headers={{name, value},
--   ...}, body=, user="USER:PASSWORD", bearer=TOKEN, want={header
--   names, lowercase}}`
-- @tparam[opt] table opts `fail_early`: stop at the first request that
--   fails (HTTP status >= 400 included); the rest are not made
-- @treturn table one answer per request made: `{status=, exit=, body=,
--   content_type=, headers={name=value}, error=, broken=, transient=}`;
--   `status` is 0 when there was no answer, `broken` true when the
--   transfer failed (no answer, or an answer cut short: its body is not
--   to be used), `transient` true for a failure worth another attempt
--   (connection refused or reset, time-outs)
-- @treturn[2] nil, message, transient when curl could not do its work
function T:send(requests, opts)
  if not self:available() then return nil, "'curl' not found on PATH (package curl)", false end
  local groups = {}
  for i, r in ipairs(requests) do
    local g, err = self:_lines(r, i)
    if not g then return nil, err, false end
    if opts and opts.fail_early then g = g .. "\nfail-with-body" end
    groups[i] = g
  end
  if opts and opts.fail_early then groups[1] = "fail-early\n" .. groups[1] end
  local max = (self.o.max_body or M.MAX_BODY) * #requests + 65536
  local timeout = (self.o.timeout or M.MAX_TIME) * #requests + 5
  local out = self.run {{argv = {self.curl, "-q", "--config", "-"},
                         stdin = concat(groups, "\nnext\n") .. "\n",
                         env = self.o.env, timeout = timeout, max_output = max}}
  local res, err = out[1][1], out[1][2]
  if not res then return nil, tostring(err), false end
  if res.overflow then
    return nil, ("the answers were larger than %d bytes: stopped"):format(max), false
  end
  local list = reports(res.stderr)
  local body, at = res.stdout, 1
  for _, a in ipairs(list) do
    a.body = body:sub(at, at + a.size - 1)
    at = at + a.size
    -- A transfer that failed (exit 22 is an HTTP error with fail_early).
    a.broken = a.exit ~= 0 and a.exit ~= 22
    a.transient = a.broken and M.TRANSIENT_EXIT[a.exit] or false
  end
  local last = list[#list]
  local stopped = opts and opts.fail_early and last and #list < #requests
    and (last.status == 0 or last.status >= 400)
  if #list ~= #requests and not stopped then
    local said = res.stderr:gsub(MARK .. ".*", ""):gsub("%s+$", ""):gsub("%c", " ")
    if said == "" then said = res.timed_out and "timed out" or "exit " .. tostring(res.status) end
    return nil, "curl: " .. said:sub(1, 300),
      res.timed_out or M.TRANSIENT_EXIT[res.status] or false
  end
  return list
end

return M

-- faultproxy.lua: a small HTTP proxy that injects faults in front of a real
-- registry, for tests/e2e/faults.sh. Lua 5.4 with lua-luv (libuv).
--
--   lua5.4 faultproxy.lua --upstream 127.0.0.1:PORT --port-file F --log F
--                         [--match LUAPATTERN] [--count N] [--action A] [--ports N]
--
-- It listens on a free 127.0.0.1 port (--ports N: on N ports; written to
-- --port-file, one a line, once it listens) and forwards each request to
-- --upstream unchanged, except that the first N requests (--count,
-- default 0; -1 means every one) whose request line "METHOD /path?query"
-- matches --match (a Lua pattern, default: any) get the fault --action:
--   429, 500, 503                 that status with Docker Distribution's error
--                                 body (TOOMANYREQUESTS, UNKNOWN, UNAVAILABLE)
--   502, 504, ...                 that status with a web proxy's HTML page
--   drop                          the connection is closed without an answer
--   hang                          the connection stays open, unanswered
-- and a hostile registry's answers (the request is not forwarded):
--   swap                          200 with another manifest than the one
--                                 asked for, named with the digest asked for
--   digest                        201 naming a forged digest, with terminal
--                                 escape sequences after it
--   endless                       200, a chunked body that never ends
-- Every request is logged as one line "N METHOD /path -> ACTION" (ACTION
-- is "pass" or the fault), so a test can count attempts. TLS handshakes
-- are closed at once, uncounted (plain HTTP only: engines with TLS
-- verification off then fall back to HTTP).
--
-- (With FAULTPROXY_SCHEME=https, the realm says https: for a proxy put
-- behind a TLS terminator.)
--
-- FAULTPROXY_BEARER=USER:PASS in the environment makes the proxy a registry with token authentication
-- (as SWR and Docker Hub are) in front of a registry taking Basic
-- USER:PASS: a request without a token it issued gets 401 with
-- `WWW-Authenticate: Bearer realm="http://HOST/token",service=faultproxy,
-- scope=...`; GET /token with Basic USER:PASS answers {"token": ...}
-- (logged as "N GET /token?QUERY -> token"); a request with an issued
-- token is forwarded with Basic USER:PASS in its place.
--
-- FAULTPROXY_USERS=FILE (with FAULTPROXY_UPSTREAM_USER=USER:PASS) makes it
-- the registry front for temporary logins (tests/e2e/hwmock.lua writes
-- FILE): a request must carry `Authorization: Basic` of USER:PASSWORD of a
-- line "USER PASSWORD EXPIRY_UNIX" of FILE whose expiry is still ahead
-- (FILE is re-read when it changes), else 401 with
-- `WWW-Authenticate: Basic realm=...` and Docker Distribution's error body
-- (logged "-> refused WHY"); an accepted request is forwarded with Basic
-- USER:PASS (the registry's own htpasswd user) in its place.
--
-- One request per connection: the request head gets "Connection: close",
-- so the registry closes the connection after its answer and the client
-- opens a new one for its next request; the rest (bodies, answers) is
-- piped through byte for byte. The Host header is kept, so the registry's
-- Location URLs point at the proxy.
local uv = require "luv"

local opts = {match = "", count = "0", action = "503"}
local i = 1
while i <= #arg do
  local k = arg[i]:match("^%-%-([%w-]+)$")
  if not k or arg[i + 1] == nil then
    io.stderr:write("faultproxy: bad argument '", tostring(arg[i]), "'\n")
    os.exit(2)
  end
  opts[k:gsub("-", "_")] = arg[i + 1]
  i = i + 2
end
local up_host, up_port = (opts.upstream or ""):match("^([^:]+):(%d+)$")
if not up_host or not opts.port_file or not opts.log then
  io.stderr:write("faultproxy: --upstream HOST:PORT, --port-file and --log are required\n")
  os.exit(2)
end
local remaining = tonumber(opts.count) or 0

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  return ((s:gsub(".", function(c)
    local b, bits = c:byte(), ""
    for k = 8, 1, -1 do bits = bits .. ((b >> (k - 1)) & 1) end
    return bits
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local n = tonumber(x, 2)
    return B64:sub(n + 1, n + 1)
  end) .. ({"", "==", "="})[#s % 3 + 1])
end
local bearer = os.getenv("FAULTPROXY_BEARER")
local basic = bearer and bearer ~= "" and ("Basic " .. base64(bearer)) or nil
local issued, tokens = {}, 0
local logf = assert(io.open(opts.log, "a"))
logf:setvbuf("line")
local seen = 0

local HOSTILE -- the hostile answers, below

local REASON = {
  ["429"] = "Too Many Requests", ["500"] = "Internal Server Error",
  ["502"] = "Bad Gateway", ["503"] = "Service Unavailable",
  ["504"] = "Gateway Timeout",
}

local function close(h)
  if h and not h:is_closing() then h:close() end
end

-- The body a registry (or the proxy in front of it) sends with a status:
-- Docker Distribution's error codes for 429, 500 and 503, a web proxy's
-- HTML page otherwise.
local CODES = {
  ["429"] = {"TOOMANYREQUESTS", "too many requests"},
  ["500"] = {"UNKNOWN", "unknown error"},
  ["503"] = {"UNAVAILABLE", "service unavailable"},
}

-- Sends an error answer, then reads (and drops) what the client still
-- sends until it closes, so it sees the answer rather than a reset.
local function answer(client, status)
  local reason = REASON[status] or "Error"
  local ctype, body
  if CODES[status] then
    ctype = "application/json; charset=utf-8"
    body = ('{"errors":[{"code":"%s","message":"%s","detail":"faultproxy"}]}\n'):format(
      CODES[status][1], CODES[status][2])
  else
    ctype = "text/html"
    body = ("<html><head><title>%s %s</title></head><body><h1>%s %s</h1></body></html>\n")
      :format(status, reason, status, reason)
  end
  client:write(("HTTP/1.1 %s %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
    .. "Connection: close\r\n\r\n%s"):format(status, reason, ctype, #body, body))
  client:shutdown()
  client:read_start(function(err, data)
    if err or not data then close(client) end
  end)
  -- A client that never closes its side is dropped after 10 s.
  local t = uv.new_timer()
  t:start(10000, 0, function() close(t); close(client) end)
end

-- A hostile registry's answers (see the header).
local EVIL = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
  .. '"config":{},"layers":[],"annotations":{"swapped":"by faultproxy"}}'
HOSTILE = {
  swap = function(client, target)
    local asked = target:match("(sha256:%x+)$") or ("sha256:" .. ("0"):rep(64))
    client:write(("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
      .. "Docker-Content-Digest: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
      :format(asked, #EVIL, EVIL))
    client:shutdown(function() close(client) end)
  end,
  digest = function(client)
    client:write("HTTP/1.1 201 Created\r\nDocker-Content-Digest: sha256:" .. ("e"):rep(64)
      .. "\27[1A\27[2K\27]0;pwned\7\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    client:shutdown(function() close(client) end)
  end,
  endless = function(client)
    client:write("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
      .. "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    local chunk = ("%x\r\n%s\r\n"):format(65536, ("x"):rep(65536))
    local t = uv.new_timer()
    t:start(0, 1, function()
      if client:is_closing() then close(t) return end
      if client:get_write_queue_size() < 1 << 20 then
        client:write(chunk, function(err) if err then close(client) end end)
      end
    end)
  end,
}

-- ------------------------------------------------ users mode (FAULTPROXY_USERS)

local users_file = os.getenv("FAULTPROXY_USERS")
if users_file == "" then users_file = nil end
local upstream_user = os.getenv("FAULTPROXY_UPSTREAM_USER")
if users_file and not (upstream_user and upstream_user:find(":", 1, true)) then
  io.stderr:write("faultproxy: FAULTPROXY_USERS needs FAULTPROXY_UPSTREAM_USER=USER:PASS\n")
  os.exit(2)
end
local upstream_basic = users_file and ("Basic " .. base64(upstream_user)) or nil

local B64DEC = {}
for k = 1, #B64 do B64DEC[B64:byte(k)] = k - 1 end
local function unbase64(s)
  s = s:gsub("=+$", "")
  if s:find("[^%w+/]") or #s % 4 == 1 then return nil end
  local out = {}
  for k = 1, #s, 4 do
    local n, c = 0, 0
    for m = k, math.min(k + 3, #s) do
      n = n << 6 | B64DEC[s:byte(m)]
      c = c + 1
    end
    n = n << (6 * (4 - c))
    local bytes = string.char(n >> 16 & 255, n >> 8 & 255, n & 255)
    out[#out + 1] = bytes:sub(1, c - 1)
  end
  return table.concat(out)
end

-- The logins of FILE ("USER:PASSWORD" -> expiry), re-read when it changes.
local logins, users_stamp = {}, nil
local function load_logins()
  local st = uv.fs_stat(users_file)
  local stamp = st and ("%d.%d.%d"):format(st.mtime.sec, st.mtime.nsec, st.size) or "none"
  if stamp == users_stamp then return end
  users_stamp, logins = stamp, {}
  local f = io.open(users_file)
  if not f then return end
  for line in f:lines() do
    local u, pw, exp = line:match("^(%S+) (%S+) (%d+)$")
    if u then logins[u .. ":" .. pw] = tonumber(exp) end
  end
  f:close()
end

-- nil when the Authorization header is a live login of FILE, else why not.
local function login_refused(auth)
  if not auth then return "no credentials" end
  local b = auth:match("^[Bb]asic%s+(%S+)%s*$")
  local pair = b and unbase64(b)
  if not pair then return "not Basic" end
  load_logins()
  local exp = logins[pair]
  if not exp then return "unknown login" end
  if exp <= os.time() then return ("expired %d s ago"):format(os.time() - exp) end
  return nil
end

local function refuse(client, why, line)
  local body = '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}\n'
  logf:write(("%d %s -> refused %s\n"):format(seen, line, why))
  client:write(("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json; charset=utf-8\r\n"
    .. "Docker-Distribution-Api-Version: registry/2.0\r\n"
    .. 'Www-Authenticate: Basic realm="swr-front"\r\n'
    .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s"):format(#body, body))
end

-- ------------------------------------------------------------------ proxy

local function handle(client)
  local buf = ""
  local upstream
  local function stop()
    close(client)
    close(upstream)
  end
  client:read_start(function(err, data)
    if err or not data then return stop() end
    -- A TLS handshake (engines with TLS verification off try HTTPS first):
    -- closed at once, so they fall back to HTTP without waiting for a
    -- handshake timeout. Not counted as a request.
    if buf == "" and data:byte(1) == 0x16 then return stop() end
    buf = buf .. data
    local head_end = buf:find("\r\n\r\n", 1, true)
    if not head_end then
      if #buf > 65536 then stop() end
      return
    end
    local head, rest = buf:sub(1, head_end - 1), buf:sub(head_end + 4)
    local method, target = head:match("^(%u+) (%S+) HTTP/")
    if not method then return stop() end
    seen = seen + 1
    local line = method .. " " .. target
    local fault = remaining ~= 0 and line:find(opts.match) ~= nil
    if fault then
      if remaining > 0 then remaining = remaining - 1 end
      logf:write(("%d %s -> %s\n"):format(seen, line, opts.action))
      client:read_stop()
      if opts.action == "drop" then
        return stop()
      elseif opts.action == "hang" then
        return
      elseif HOSTILE[opts.action] then
        return HOSTILE[opts.action](client, target)
      end
      return answer(client, opts.action)
    end
    local auth = head:match("\r\n[Aa]uthorization:%s*([^\r\n]*)")
    if basic and target:find("^/token%?") then
      client:read_stop()
      local status, body = "401 Unauthorized", '{"errors":[{"code":"UNAUTHORIZED"}]}\n'
      if auth == basic then
        tokens = tokens + 1
        local tok = ("faultproxy-token-%d-%d"):format(tokens, math.random(1e9))
        issued["Bearer " .. tok] = true
        status, body = "200 OK", ('{"token":"%s","expires_in":300}\n'):format(tok)
      end
      logf:write(("%d %s -> token %s\n"):format(seen, line, status:sub(1, 3)))
      client:write(("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
        .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s"):format(status, #body, body))
      client:shutdown(function() stop() end)
      return
    end
    if users_file then
      local why = login_refused(auth)
      if why then
        client:read_stop()
        refuse(client, why, line)
        client:shutdown(function() stop() end)
        return
      end
    end
    if basic and not issued[auth or ""] then
      client:read_stop()
      local host = head:match("\r\n[Hh]ost:%s*([^\r\n]*)") or "127.0.0.1"
      local repo = target:match("^/v2/(.-)/[%l_]+/")
      local body = '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}\n'
      logf:write(("%d %s -> challenge\n"):format(seen, line))
      client:write(("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
        .. 'Www-Authenticate: Bearer realm="%s://%s/token",service="faultproxy"%s\r\n'
        .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s"):format(
        os.getenv("FAULTPROXY_SCHEME") or "http", host,
        repo and (',scope="repository:' .. repo .. ':pull"') or "", #body, body))
      client:shutdown(function() stop() end)
      return
    end
    logf:write(("%d %s -> pass\n"):format(seen, line))
    -- One request per connection.
    local lines = {}
    for l in (head .. "\r\n"):gmatch("(.-)\r\n") do
      local low = l:lower()
      if (basic or upstream_basic) and low:find("^authorization:") then
        l = "Authorization: " .. (basic or upstream_basic)
      end
      if not low:find("^connection:") and not low:find("^keep%-alive:") then
        lines[#lines + 1] = l
      end
    end
    lines[#lines + 1] = "Connection: close"
    -- Behind a TLS terminator: the registry's Location URLs must say https.
    if os.getenv("FAULTPROXY_SCHEME") == "https" then
      lines[#lines + 1] = "X-Forwarded-Proto: https"
    end
    local out = table.concat(lines, "\r\n") .. "\r\n\r\n" .. rest
    upstream = uv.new_tcp()
    client:read_stop()
    upstream:connect(up_host, tonumber(up_port), function(cerr)
      if cerr then return stop() end
      upstream:write(out)
      upstream:read_start(function(rerr, rdata)
        if rerr or not rdata then
          if not client:is_closing() then
            client:shutdown(function() stop() end)
          end
          return
        end
        client:write(rdata)
      end)
      client:read_start(function(e2, d2)
        if e2 or not d2 then
          if not upstream:is_closing() then upstream:shutdown() end
        else
          upstream:write(d2)
        end
      end)
    end)
  end)
end

-- --ports N: as many listeners (N registry addresses for one registry).
local servers, ports = {}, {}
for n = 1, tonumber(opts.ports or "1") do
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(128, function(err)
    if err then return end
    local client = uv.new_tcp()
    server:accept(client)
    handle(client)
  end))
  servers[n] = server
  ports[n] = server:getsockname().port
end
local tmp = opts.port_file .. ".tmp"
local pf = assert(io.open(tmp, "w"))
pf:write(table.concat(ports, "\n"), "\n")
pf:close()
assert(os.rename(tmp, opts.port_file))

local function quit()
  for _, server in ipairs(servers) do close(server) end
  uv.stop()
end
for _, sig in ipairs {"sigterm", "sigint"} do
  local s = uv.new_signal()
  s:start(sig, quit)
end
uv.run()

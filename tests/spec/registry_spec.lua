-- swrauth.transport and swrauth.registry with real curl against an HTTP
-- server on this process's libuv loop (it answers while the loop waits
-- for curl): what curl is told (on stdin, never in argv), bodies in
-- memory, authentication flows, and a hostile registry: digests that do
-- not match, escape sequences in its text, endless or stalled answers,
-- control characters in headers. Against a real registry, through a
-- token service and TLS: tests/e2e/faults.sh and tests/e2e/skopeo.sh.
local uv = require "luv"
local swrauth = require "swrauth"
local registry = require "swrauth.registry"
local transport = require "swrauth.transport"
local proc = require "swrauth.proc"

local USER, KEY = "cn-north-4@AKEXAMPLE", ("ab12"):rep(16)
local MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
local DIGEST = "sha256:" .. swrauth.sha256(MANIFEST)
local MT = "application/vnd.oci.image.manifest.v1+json"

-- An answer: status line, headers (a list of {name, value}), body.
local function answer(code, headers, body)
  local lines = {"HTTP/1.1 " .. code .. " X"}
  for _, h in ipairs(headers or {}) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
  body = body or ""
  lines[#lines + 1] = "Content-Length: " .. #body
  lines[#lines + 1] = "Connection: close"
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

-- A server: handler(request, n, conn) returns the whole answer (a
-- string), or nil when it writes to `conn` itself. Unreferenced, so that
-- the loop ends with curl.
local function serve(handler)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local seen = {}
  assert(server:listen(16, function()
    local conn = uv.new_tcp()
    server:accept(conn)
    conn:unref()
    local buf = ""
    conn:read_start(function(_, data)
      if not data then
        if not conn:is_closing() then conn:close() end
        return
      end
      buf = buf .. data
      local he = buf:find("\r\n\r\n", 1, true)
      if not he then return end
      local len = tonumber(buf:lower():match("\r\ncontent%-length: (%d+)")) or 0
      if #buf < he + 3 + len then return end
      seen[#seen + 1] = buf
      local n = #seen
      buf = ""
      local a = handler(seen[n], n, conn)
      if a then
        conn:write(a, function()
          if not conn:is_closing() then conn:shutdown(function() conn:close() end) end
        end)
      end
    end)
  end))
  server:unref()
  return "127.0.0.1:" .. server:getsockname().port, seen, function() server:close(); uv.run("nowait") end
end

local function header(req, name)
  return req:match("\r\n" .. name .. ": ([^\r]*)")
end

-- A runner that records the specs it runs, then runs them.
local function recording()
  local specs = {}
  return function(list)
    for _, s in ipairs(list) do specs[#specs + 1] = s end
    return proc.run_all(list)
  end, specs
end

describe("swrauth.transport", function()
  it("makes several requests in one curl, bodies in memory, config on stdin", function()
    local host, seen, stop = serve(function(_, n)
      if n == 1 then return answer(200, {{"Content-Type", "text/plain"}}, "first\0body\n") end
      return answer(201, {{"Docker-Content-Digest", DIGEST}}, "")
    end)
    local run, specs = recording()
    local t = transport.new {run = run, insecure = true}
    local list = assert(t:send {
      {method = "GET", url = "http://" .. host .. "/a"},
      {method = "PUT", url = "http://" .. host .. "/b", headers = {{"Content-Type", MT}},
       body = MANIFEST, user = "u:p", want = {"docker-content-digest"}},
    })
    stop()
    t:close()
    assert.equal(1, #specs)
    assert.same({"-q", "--config", "-"}, {table.unpack(specs[1].argv, 2)})
    assert.matches('user = "u:p"', specs[1].stdin, 1, true)
    assert.equal(200, list[1].status)
    assert.equal("first\0body\n", list[1].body)
    assert.equal("text/plain", list[1].content_type)
    assert.equal(201, list[2].status)
    assert.equal(DIGEST, list[2].headers["docker-content-digest"])
    assert.matches("^PUT /b HTTP/1.1\r\n", seen[2])
    assert.equal(MANIFEST, seen[2]:match("\r\n\r\n(.*)$"))
    assert.equal(MT, header(seen[2], "Content%-Type"))
    assert.equal("Basic " .. swrauth.base64("u:p"), header(seen[2], "Authorization"))
  end)

  it("stops an endless chunked answer at its bound", function()
    local host, _, stop = serve(function(_, _, conn)
      conn:write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
      local chunk = ("%x\r\n%s\r\n"):format(65536, ("x"):rep(65536))
      local timer = uv.new_timer()
      timer:unref()
      timer:start(0, 1, function()
        if conn:is_closing() then timer:close(); return end
        if conn:get_write_queue_size() < 1 << 20 then conn:write(chunk) end
      end)
    end)
    local t = transport.new {max_body = 1 << 20}
    local t0 = proc.clock()
    local list, err, transient = t:send {{method = "GET", url = "http://" .. host .. "/m"}}
    stop()
    assert.is_nil(list)
    assert.matches("^the answers were larger than %d+ bytes: stopped$", err)
    assert.is_false(transient)
    assert.is_true(proc.clock() - t0 < 20)
  end)

  it("stops an answer that trickles below the low-speed limit", function()
    local saved = {transport.SPEED_LIMIT, transport.SPEED_TIME}
    transport.SPEED_LIMIT, transport.SPEED_TIME = 100, 1
    local host, _, stop = serve(function(_, _, conn)
      conn:write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
      local timer = uv.new_timer()
      timer:unref()
      timer:start(0, 500, function()
        if conn:is_closing() then timer:close() else conn:write("x") end
      end)
    end)
    local t = transport.new {}
    local t0 = proc.clock()
    local list = assert(transport.new {}:send {{method = "GET", url = "http://" .. host .. "/m"}})
    transport.SPEED_LIMIT, transport.SPEED_TIME = saved[1], saved[2]
    stop()
    t:close()
    assert.equal(28, list[1].exit)
    assert.is_true(list[1].transient)
    assert.matches("too slow", list[1].error)
    assert.is_true(proc.clock() - t0 < 10)
  end)

  it("says when curl is not installed", function()
    local t = transport.new {curl = false}
    assert.is_false(t:available())
    local list, err = t:send {{method = "GET", url = "http://127.0.0.1:1/"}}
    assert.is_nil(list)
    assert.equal("'curl' not found on PATH (package curl)", err)
  end)

  it("refuses control characters in what it would write to curl's config", function()
    local list, err = transport.new {}:send {{method = "GET", url = "http://h/\n",}}
    assert.is_nil(list)
    assert.equal("the URL holds a control character", err)
  end)
end)

-- A registry client on a server; `routes(req, n)` answers.
local function client(routes, o)
  local host, seen, stop = serve(routes)
  o = o or {}
  local c = registry.new {registry = host, user = USER, key = KEY, insecure = true,
                          on_secret = o.on_secret}
  return c, seen, function() c:close(); stop() end, host
end

-- A registry answering /v2/ (the probe) and the manifest.
local function plain(manifest_answer)
  return function(req, n)
    if req:find("^GET /v2/ ") then return answer(401, {{"WWW-Authenticate", 'Basic realm="r"'}}) end
    return manifest_answer(req, n)
  end
end

describe("swrauth.registry", function()
  it("parses Bearer and Basic challenges", function()
    local kind, p = registry.parse_challenge(
      'Bearer realm="https://swr.example/swr/auth/v2/registry/auth/",service="dockyard",scope="repository:t/a:pull"')
    assert.equal("bearer", kind)
    assert.same({realm = "https://swr.example/swr/auth/v2/registry/auth/", service = "dockyard",
                 scope = "repository:t/a:pull"}, p)
    kind, p = registry.parse_challenge('Basic realm="Registry Realm"')
    assert.equal("basic", kind)
    assert.equal("Registry Realm", p.realm)
    assert.equal("bearer", (registry.parse_challenge('Basic realm="x", Bearer realm="https://a/t",service=s')))
    assert.is_nil(registry.parse_challenge(nil))
  end)

  it("escapes query values", function()
    assert.equal("repository%3Ateam%2Fapp%3Apull%2Cpush", registry.query_escape("repository:team/app:pull,push"))
  end)

  it("finds plain HTTP with an unauthenticated probe, then GETs with Basic credentials", function()
    local c, seen, stop = client(plain(function()
      return answer(200, {{"Content-Type", MT .. "; charset=x"}, {"Docker-Content-Digest", DIGEST}}, MANIFEST)
    end))
    local m = assert(c:get_manifest("team/app", DIGEST))
    stop()
    assert.same({body = MANIFEST, media_type = MT, digest = DIGEST}, m)
    assert.is_nil(header(seen[1], "Authorization"))
    assert.matches("^GET /v2/team/app/manifests/" .. DIGEST .. " HTTP", seen[2])
    assert.equal("Basic " .. swrauth.base64(USER .. ":" .. KEY), header(seen[2], "Authorization"))
    assert.matches("application/vnd.oci.image.index.v1+json", header(seen[2], "Accept"), 1, true)
  end)

  it("refuses a manifest whose body is not the digest asked for", function()
    local other = MANIFEST:gsub("}$", ',"annotations":{"evil":"1"}}')
    local c, _, stop = client(plain(function()
      return answer(200, {{"Content-Type", MT}, {"Docker-Content-Digest", DIGEST}}, other)
    end))
    local m, err, transient = c:get_manifest("team/app", DIGEST)
    stop()
    assert.is_nil(m)
    assert.is_false(transient)
    assert.matches("the manifest the registry sent has digest sha256:" .. swrauth.sha256(other)
                   .. ", not the one asked for: refused", err, 1, true)
  end)

  it("refuses a manifest whose named digest differs from its body's, printing it escaped", function()
    local evil = "sha256:" .. ("e"):rep(64) .. "\27[1A\27[2K\27]0;pwned\7"
    local c, _, stop = client(plain(function()
      return answer(200, {{"Content-Type", MT}, {"Docker-Content-Digest", evil}}, MANIFEST)
    end))
    local m, err = c:get_manifest("team/app", "1.0")
    stop()
    assert.is_nil(m)
    assert.falsy(err:find("\27", 1, true))
    assert.falsy(err:find("\7", 1, true))
    assert.matches("named digest 'sha256:" .. ("e"):rep(64) .. "\\x1B[1A\\x1B[2K\\x1B]0;pwned\\x07'",
                   err, 1, true)
  end)

  it("refuses a media type with a control character, without crashing", function()
    local c, _, stop = client(plain(function()
      return answer(200, {{"Content-Type", "application/vnd\1evil+json"}}, MANIFEST)
    end))
    local m, err, transient = c:get_manifest("team/app", "1.0")
    stop()
    assert.is_nil(m)
    assert.is_false(transient)
    assert.matches("no valid media type %(Content%-Type 'application/vnd\\x01evil%+json'%)", err)
  end)

  it("PUTs under each tag and reports the digest of what it sent", function()
    local c, seen, stop = client(plain(function(req)
      if req:find("^GET ") then return answer(200, {{"Content-Type", MT}}, MANIFEST) end
      return answer(201, {{"Docker-Content-Digest", DIGEST}})
    end))
    local m = assert(c:get_manifest("team/app", "1.0"))
    local list = assert(c:put_manifest("team/app", {"1.0.1", "1", "latest"}, m))
    stop()
    assert.same({{tag = "1.0.1", digest = DIGEST}, {tag = "1", digest = DIGEST},
                 {tag = "latest", digest = DIGEST}}, list)
    assert.matches("^PUT /v2/team/app/manifests/latest ", seen[#seen])
  end)

  it("fails a tag whose PUT answer names another digest (the tag may point elsewhere)", function()
    local other = "sha256:" .. ("f"):rep(64)
    local c, _, stop = client(plain(function(req, n)
      if req:find("^GET ") then return answer(200, {{"Content-Type", MT}}, MANIFEST) end
      return answer(201, {{"Docker-Content-Digest", n == 3 and DIGEST or other}})
    end))
    local m = assert(c:get_manifest("team/app", "1.0"))
    local list = assert(c:put_manifest("team/app", {"1", "latest"}, m))
    stop()
    assert.equal(DIGEST, list[1].digest)
    assert.is_nil(list[2].digest)
    assert.is_false(list[2].transient)
    assert.matches("answered with digest '" .. other .. "', not " .. DIGEST, list[2].error, 1, true)
  end)

  it("stops the PUTs at the first failure; 5xx is transient, 401 is not", function()
    local c, seen, stop = client(plain(function(req)
      if req:find("^GET ") then return answer(200, {{"Content-Type", MT}}, MANIFEST) end
      if req:find("manifests/2 ") then
        return answer(503, {}, '{"errors":[{"code":"UNAVAILABLE","message":"busy\\nnow"}]}')
      end
      return answer(201, {})
    end))
    local m = assert(c:get_manifest("team/app", "1.0"))
    local list = assert(c:put_manifest("team/app", {"1", "2", "3"}, m))
    local puts = #seen
    stop()
    assert.equal(2, #list)
    assert.is_true(list[2].transient)
    assert.matches("HTTP 503 %(UNAVAILABLE: busy\\nnow%)", list[2].error)
    assert.matches("manifests/2 ", seen[puts])
  end)

  it("follows a Bearer challenge to its token service, and redacts the token", function()
    local tokens = {}
    local host
    local c, seen, stop
    c, seen, stop, host = client(function(req)
      if req:find("^GET /v2/ ") then return answer(401, {{"WWW-Authenticate", 'Basic realm="r"'}}) end
      if req:find("^GET /token") then
        if header(req, "Authorization") ~= "Basic " .. swrauth.base64(USER .. ":" .. KEY) then
          return answer(401, {})
        end
        return answer(200, {{"Content-Type", "application/json"}}, '{"token":"tok-123"}')
      end
      if header(req, "Authorization") ~= "Bearer tok-123" then
        return answer(401, {{"WWW-Authenticate", 'Bearer realm="http://' .. host
          .. '/token",service="reg"'}})
      end
      return answer(200, {{"Content-Type", MT}}, MANIFEST)
    end, {on_secret = function(t) tokens[#tokens + 1] = t end})
    local m = assert(c:get_manifest("team/app", "1.0"))
    stop()
    assert.equal(DIGEST, m.digest)
    assert.same({"tok-123"}, tokens)
    local token_req = seen[3]
    assert.matches("^GET /token%?service=reg&scope=repository%%3Ateam%%2Fapp%%3Apull%%2Cpush ", token_req)
  end)

  it("checks a login with ping: Basic, or the token service's answer", function()
    local c, _, stop = client(function(req)
      if header(req, "Authorization") == "Basic " .. swrauth.base64(USER .. ":" .. KEY) then
        return answer(200, {})
      end
      return answer(401, {{"WWW-Authenticate", 'Basic realm="r"'}})
    end)
    assert.is_true(c:ping())
    stop()
    c, _, stop = client(function() return answer(401, {{"WWW-Authenticate", 'Basic realm="r"'}}) end)
    local ok, err, transient = c:ping()
    stop()
    assert.is_nil(ok)
    assert.is_false(transient)
    assert.matches("HTTP 401: the registry refused the credentials", err)
  end)

  it("says a refused connection is transient", function()
    local c = registry.new {registry = "127.0.0.1:1", user = USER, key = KEY}
    local m, err, transient = c:get_manifest("team/app", "1.0")
    c:close()
    assert.is_nil(m)
    assert.is_true(transient)
    assert.matches("^GET 127%.0%.0%.1:1/v2/team/app/manifests/1%.0: Failed to connect", err)
  end)
end)

-- swrauth.registry: the registry API client (manifest GET, PUT per tag)
-- with curl replaced by a scripted runner: the configs it writes on curl's
-- standard input, the authentication flows, the failure classification.
-- The same client against a real registry, through a token-auth proxy and
-- with real curl: tests/e2e/faults.sh and tests/e2e/skopeo.sh.
package.path = "lua/?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local registry = require "swrauth.registry"
local proc = require "swrauth.proc"

local USER, KEY = "cn-north-4@AKEXAMPLE", ("ab12"):rep(16)
local DIGEST = "sha256:" .. ("c"):rep(64)
local MANIFEST = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'

-- The requests of one curl config: {url=, output=, upload=, headers={}, user=}.
local function requests(config)
  local list, cur = {}, nil
  local function new() cur = {headers = {}}; list[#list + 1] = cur end
  new()
  for line in config:gmatch("[^\n]+") do
    local k, v = line:match('^([%w-]+) = "(.*)"$')
    if line == "next" then new()
    elseif k == "url" then cur.url = v
    elseif k == "output" then cur.output = v
    elseif k == "upload-file" then cur.upload = v
    elseif k == "header" then cur.headers[#cur.headers + 1] = v
    elseif k == "user" then cur.user = v
    elseif not k then cur[line] = true
    else cur[k] = v end
  end
  return list
end

-- A runner answering each request with answer(req, i) -> code, fields.
local function runner(answer, calls)
  return function(spec)
    calls[#calls + 1] = spec
    local lines = {}
    for i, r in ipairs(requests(spec.stdin)) do
      local a = answer(r, #calls, i)
      if a == "stop" then break end
      if a.body and r.output then
        local fh = assert(io.open(r.output, "wb")); fh:write(a.body); fh:close()
      end
      lines[#lines + 1] = table.concat({a.code or 0, a.exit or 0, a.ct or "", a.digest or "",
                                        a.challenge or "", a.err or ""}, "\t")
    end
    return {status = 0, stdout = table.concat(lines, "\n") .. "\n", stderr = ""}
  end
end

-- A plain-HTTP server on this process's libuv loop (the client runs the
-- same loop while it waits): handler(request, n) -> the whole answer
-- (the connection is closed after it; "" closes it without one).
local function serve(handler)
  local uv = require "luv"
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local seen = {}
  assert(server:listen(16, function()
    local conn = uv.new_tcp()
    server:accept(conn)
    local buf = ""
    conn:read_start(function(_, data)
      if not data then
        if not conn:is_closing() then conn:close() end
        return
      end
      buf = buf .. data
      local he = buf:find("\r\n\r\n", 1, true)
      if not he then return end
      local len = tonumber(buf:match("\r\n[Cc]ontent%-[Ll]ength: (%d+)")) or 0
      if #buf < he + 3 + len then return end
      seen[#seen + 1] = buf
      conn:read_stop()
      conn:write(handler(buf, #seen), function()
        conn:shutdown(function() conn:close() end)
      end)
    end)
  end))
  local port = server:getsockname().port
  return port, seen, function() server:close(); uv.run("nowait") end
end

local function client(answer, o)
  local calls = {}
  o = o or {}
  local c = registry.new{registry = o.registry or "r.example:5000", user = USER, key = KEY,
                         insecure = o.insecure, cert_dir = o.cert_dir, timeout = o.timeout,
                         run = runner(answer, calls), on_secret = o.on_secret}
  return c, calls
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
    kind = registry.parse_challenge('Basic realm="x", Bearer realm="https://a/t",service=s')
    assert.equal("bearer", kind)
    assert.is_nil(registry.parse_challenge(nil))
    assert.is_nil(registry.parse_challenge(""))
  end)

  it("escapes query values", function()
    assert.equal("repository%3Ateam%2Fapp%3Apull%2Cpush",
                 registry.query_escape("repository:team/app:pull,push"))
  end)

  it("GETs with Basic credentials in curl's config, never in its arguments", function()
    local c, calls = client(function()
      return {code = 200, ct = "application/vnd.oci.image.manifest.v1+json; charset=x",
              digest = DIGEST, body = MANIFEST}
    end)
    local m = assert(c:get_manifest("team/app", "1.0"))
    c:close()
    assert.same({body = MANIFEST, media_type = "application/vnd.oci.image.manifest.v1+json",
                 digest = DIGEST}, m)
    assert.equal(1, #calls)
    assert.same({"curl", "-q", "--config", "-"}, calls[1].argv)
    local r = requests(calls[1].stdin)
    assert.equal(1, #r)
    assert.equal("https://r.example:5000/v2/team/app/manifests/1.0", r[1].url)
    assert.equal(USER .. ":" .. KEY, r[1].user)
    assert.truthy(r[1].headers[1]:find("^Accept: .*oci%.image%.manifest"))
    assert.truthy(r[1].globoff and r[1].silent)
    assert.equal("=http,https", r[1].proto)
    assert.is_nil(r[1].location)
  end)

  it("reaches an insecure registry over HTTPS when it does not answer plain HTTP", function()
    -- A TLS server answers a plain-HTTP request 400 (as Go's does).
    local port, seen, stop = serve(function()
      return "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
    end)
    local c, calls = client(function()
      return {code = 200, ct = "application/vnd.oci.image.manifest.v1+json", body = MANIFEST}
    end, {insecure = true, registry = "127.0.0.1:" .. port})
    assert(c:get_manifest("team/app", "1.0"))
    c:close()
    stop()
    assert.equal(1, #seen)
    assert.truthy(seen[1]:find("^GET /v2/ HTTP/1.1\r\n"))
    assert.falsy(seen[1]:lower():find("authorization"))
    local r = requests(calls[1].stdin)
    assert.equal(1, #r)
    assert.equal("https://127.0.0.1:" .. port .. "/v2/team/app/manifests/1.0", r[1].url)
    assert.truthy(r[1].insecure)
  end)

  it("talks plain HTTP in this process to an insecure registry that answers it", function()
    local port, seen, stop = serve(function(req)
      if req:find("^GET /v2/ ") then
        return "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
      elseif req:find("^GET ") then
        -- A chunked answer, split oddly.
        local a, b = MANIFEST:sub(1, 10), MANIFEST:sub(11)
        return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
          .. "Docker-Content-Digest: " .. DIGEST .. "\r\nTransfer-Encoding: chunked\r\n\r\n"
          .. ("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"):format(#a, a, #b, b)
      elseif req:find("^PUT /v2/team/app/manifests/b ") then
        return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 54\r\n\r\n"
          .. '{"errors":[{"code":"UNKNOWN","message":"disk full!"}]}'
      end
      return "HTTP/1.1 201 Created\r\nDocker-Content-Digest: " .. DIGEST
        .. "\r\nContent-Length: 0\r\n\r\n"
    end)
    local c, calls = client(function() error("curl must not run") end,
                            {insecure = true, registry = "127.0.0.1:" .. port})
    local m = assert(c:get_manifest("team/app", "1.0"))
    assert.same({body = MANIFEST, media_type = "application/vnd.oci.image.manifest.v1+json",
                 digest = DIGEST}, m)
    local list = assert(c:put_manifest("team/app", {"a", "b", "c"}, m))
    c:close()
    stop()
    assert.equal(0, #calls)
    assert.equal(4, #seen)  -- probe, GET, PUT a, PUT b (then stopped)
    local basic = "Authorization: Basic " .. registry._base64(USER .. ":" .. KEY) .. "\r\n"
    assert.falsy(seen[1]:find("Authorization", 1, true))
    assert.truthy(seen[2]:find(basic, 1, true))
    assert.truthy(seen[2]:find("\r\nAccept: [^\r]*oci%.image%.manifest"))
    assert.truthy(seen[3]:find("^PUT /v2/team/app/manifests/a HTTP/1.1\r\n"))
    assert.truthy(seen[3]:find("\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n", 1, true))
    assert.truthy(seen[3]:find("\r\nContent-Length: " .. #MANIFEST .. "\r\n", 1, true))
    assert.equal(MANIFEST, seen[3]:sub(-#MANIFEST))
    assert.same({tag = "a", digest = DIGEST}, list[1])
    assert.is_true(list[2].transient)
    assert.matches("HTTP 500 (UNKNOWN: disk full!)", list[2].error, 1, true)
    assert.equal(2, #list)
  end)

  it("follows a Bearer challenge over plain HTTP with insecure", function()
    local port, seen, stop
    port, seen, stop = serve(function(req)
      if req:find("^GET /v2/ ") then return "HTTP/1.1 401 Unauthorized\r\n\r\n" end
      if req:find("^GET /token%?") then
        return 'HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{"token":"t0k3n"}'
      end
      if req:find("Authorization: Bearer t0k3n\r\n", 1, true) then
        return "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nContent-Length: 2\r\n\r\n{}"
      end
      return ('HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer realm="http://127.0.0.1:%d/token"'
        .. ',service="x"\r\nContent-Length: 0\r\n\r\n'):format(port)
    end)
    local c = client(function() error("curl must not run") end,
                     {insecure = true, registry = "127.0.0.1:" .. port})
    local m = assert(c:get_manifest("team/app", "1"))
    c:close()
    stop()
    assert.equal("{}", m.body)
    assert.equal(4, #seen)
    assert.truthy(seen[3]:find("^GET /token%?service=x&scope=repository%%3Ateam%%2Fapp%%3Apull%%2Cpush "))
  end)

  it("classifies connection failures in this process", function()
    local port, _, stop = serve(function() return "" end)
    stop()
    -- A closed port (the server is gone).
    local c = client(function() error("curl must not run") end,
                     {insecure = true, registry = "127.0.0.1:" .. port})
    c.scheme = "http"
    local m, err, transient = c:get_manifest("team/app", "1")
    c:close()
    assert.is_nil(m)
    assert.matches("Connection refused", err, 1, true)
    assert.is_true(transient)
    -- An empty reply.
    local port2, _, stop2 = serve(function() return "" end)
    c = client(function() error("curl must not run") end,
               {insecure = true, registry = "127.0.0.1:" .. port2})
    c.scheme = "http"
    m, err, transient = c:get_manifest("team/app", "1")
    stop2()
    assert.is_nil(m)
    assert.matches("Empty reply from server", err, 1, true)
    assert.is_true(transient)
    c:close()
  end)

  it("stops reading an answer larger than MAX_ANSWER", function()
    local port, _, stop = serve(function()
      return "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\n\r\n" .. ("x"):rep(registry.MAX_ANSWER + 10)
    end)
    local c = client(function() error("curl must not run") end,
                     {insecure = true, registry = "127.0.0.1:" .. port})
    c.scheme = "http"
    local m, err, transient = c:get_manifest("team/app", "1")
    c:close()
    stop()
    assert.is_nil(m)
    assert.matches("answer larger than " .. registry.MAX_ANSWER .. " bytes", err, 1, true)
    assert.is_false(transient)
  end)

  it("encodes base64 as RFC 4648 does", function()
    for plain, want in pairs {[""] = "", a = "YQ==", ab = "YWI=", abc = "YWJj",
                              ["cn-north-4@AK:k3y"] = "Y24tbm9ydGgtNEBBSzprM3k="} do
      assert.equal(want, registry._base64(plain))
    end
  end)

  it("follows a Bearer challenge: a token for pull,push, then the request with it", function()
    local seen = {}
    local c, calls = client(function(r, call)
      if call == 1 then
        return {code = 401, challenge = 'Bearer realm="https://auth.example/token",service="reg"'}
      elseif call == 2 then
        seen.token_url, seen.token_user = r.url, r.user
        return {code = 200, body = '{"token":"tok.en-123"}'}
      end
      seen.auth = r.headers[#r.headers]
      seen.user = r.user
      return {code = 200, ct = "application/vnd.docker.distribution.manifest.v2+json", body = "{}"}
    end, {on_secret = function(t) seen.secret = t end})
    assert(c:get_manifest("team/app", DIGEST))
    c:close()
    assert.equal(3, #calls)
    assert.equal("https://auth.example/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull%2Cpush",
                 seen.token_url)
    assert.equal(USER .. ":" .. KEY, seen.token_user)
    assert.equal("Authorization: Bearer tok.en-123", seen.auth)
    assert.is_nil(seen.user)
    assert.equal("tok.en-123", seen.secret)
  end)

  it("refuses a plain-HTTP token realm unless insecure, and unusable tokens", function()
    local c = client(function()
      return {code = 401, challenge = 'Bearer realm="http://auth.example/token"'}
    end)
    local m, err, transient = c:get_manifest("team/app", "1")
    c:close()
    assert.is_nil(m)
    assert.matches("token service http://auth.example/token is plain HTTP", err, 1, true)
    assert.is_false(transient)
    for _, body in ipairs {'{"token":"a b"}', '{"token":"a\\"b\\nc"}', "{}", "not json", '{"token":""}'} do
      local n = 0
      c = client(function()
        n = n + 1
        if n == 1 then return {code = 401, challenge = 'Bearer realm="https://a.example/t"'} end
        return {code = 200, body = body}
      end)
      m, err = c:get_manifest("team/app", "1")
      assert.is_nil(m, body)
      assert.matches("the answer holds no usable token", err, 1, true)
      c:close()
    end
  end)

  it("classifies failures: 401 and 404 final, 5xx, 429 and connection errors transient", function()
    local cases = {
      {{code = 401, challenge = 'Basic realm="r"',
        body = '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'},
       "HTTP 401 (UNAUTHORIZED: authentication required): the registry refused the credentials", false},
      {{code = 403}, "HTTP 403: the user may not push to this repository", false},
      {{code = 404, body = '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'},
       "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown): manifest unknown", false},
      {{code = 503, body = "<html>x</html>"}, "HTTP 503", true},
      {{code = 429}, "HTTP 429", true},
      {{code = 0, exit = 7, err = "Failed to connect"}, "Failed to connect", true},
      {{code = 0, exit = 28, err = "Operation timed out"}, "Operation timed out", true},
      {{code = 0, exit = 60, err = "SSL certificate problem"}, "SSL certificate problem", false},
    }
    for _, case in ipairs(cases) do
      local c = client(function() return case[1] end)
      local m, err, transient = c:get_manifest("team/app", "1")
      c:close()
      assert.is_nil(m)
      assert.matches("GET r.example:5000/v2/team/app/manifests/1: " .. case[2], err, 1, true)
      assert.equal(case[3], transient, err)
      assert.falsy(err:find(KEY, 1, true))
    end
  end)

  it("PUTs every tag in one curl that stops at the first failure", function()
    local c, calls = client(function(r, _, i)
      if i == 3 then return "stop" end
      if r.url:find("/manifests/b$") then
        return {code = 503, body = '{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}'}
      end
      return {code = 201, digest = DIGEST}
    end)
    local list = assert(c:put_manifest("team/app", {"a", "b", "c"},
                                       {body = MANIFEST, media_type = "application/x.test"}))
    local r = requests(calls[1].stdin)
    c:close()
    assert.equal(3, #r)
    assert.truthy(r[1]["fail-early"])
    for _, q in ipairs(r) do
      assert.truthy(q["fail-with-body"])
      assert.equal(r[1].upload, q.upload)
      assert.same({"Expect:", "Content-Type: application/x.test"}, q.headers)
    end
    assert.same({tag = "a", digest = DIGEST}, list[1])
    assert.equal("b", list[2].tag)
    assert.is_true(list[2].transient)
    assert.matches("HTTP 503 (UNAVAILABLE: busy)", list[2].error, 1, true)
    assert.equal(2, #list)
  end)

  it("says what curl said when its output is not one line per request", function()
    local c = registry.new{registry = "r.example", user = USER, key = KEY, run = function()
      return {status = 2, stdout = "", stderr = "curl: option --bogus: is unknown\n"}
    end}
    local m, err, transient = c:get_manifest("team/app", "1")
    c:close()
    assert.is_nil(m)
    assert.matches("curl: curl: option --bogus: is unknown", err, 1, true)
    assert.is_false(transient)
    c = registry.new{registry = "r.example", user = USER, key = KEY,
                     run = function() return nil, "'curl' not found on PATH" end}
    m, err = c:get_manifest("team/app", "1")
    c:close()
    assert.is_nil(m)
    assert.matches("'curl' not found on PATH", err, 1, true)
  end)

  it("escapes quotes and backslashes in config values and leaves no file behind", function()
    local dir = assert(proc.tempdir())
    local cfg = dir .. '/my "certs"\\'
    assert(proc.mkdir(cfg))
    for _, name in ipairs {"ca.crt", "client.cert", "client.key"} do
      local fh = assert(io.open(cfg .. "/" .. name, "w")); fh:write("CA\n"); fh:close()
    end
    local c, calls = client(function() return {code = 200, ct = "a/b", body = "{}"} end,
                            {cert_dir = cfg})
    assert(c:get_manifest("team/app", "1"))
    local r = requests(calls[1].stdin)
    assert.truthy(calls[1].stdin:find('cacert = "[^\n]*ca.pem"'))
    -- curl's config syntax: \ and " escaped inside the double quotes.
    local want = proc.abspath(cfg .. "/client.cert"):gsub('[\\"]', "\\%0")
    assert.truthy(calls[1].stdin:find('\ncert = "' .. want .. '"\n', 1, true), calls[1].stdin)
    -- The system's roots stay trusted, from their hashed directory.
    if select(2, proc.file_mode(registry.SYSTEM_CAPATH)) == "directory" then
      assert.equal(registry.SYSTEM_CAPATH, r[1].capath)
    end
    local bundle = r[1].cacert
    assert.truthy(bundle)
    local tmpdir = c.dir
    assert.equal("600", ("%o"):format(proc.file_mode(bundle)))
    assert.truthy((proc.read_file(bundle) or ""):find("CA\n", 1, true))
    c:close()
    assert.is_nil(proc.file_mode(tmpdir))
    proc.remove_tree(dir)
  end)
end)

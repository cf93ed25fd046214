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

  it("tries HTTPS, then plain HTTP, with insecure, and keeps the scheme that answered", function()
    local c, calls = client(function(r)
      if r.url:find("^https") then return {code = 0, exit = 35, err = "wrong version number"} end
      return {code = 200, ct = "application/vnd.oci.image.manifest.v1+json", body = MANIFEST}
    end, {insecure = true})
    assert(c:get_manifest("team/app", "1.0"))
    local r = requests(calls[1].stdin)
    assert.equal(2, #r)
    assert.truthy(r[1].insecure)
    assert.equal("http://r.example:5000/v2/team/app/manifests/1.0", r[2].url)
    assert.truthy(c:put_manifest("team/app", {"2"}, {body = MANIFEST, media_type = "x/y"}))
    assert.equal("http://r.example:5000/v2/team/app/manifests/2", requests(calls[2].stdin)[1].url)
    c:close()
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

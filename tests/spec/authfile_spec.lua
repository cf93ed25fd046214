-- Specs of swrauth.authfile (docker's config.json, containers' auth.json,
-- Kubernetes, containerd, GitLab and crictl formats), swrauth.json's Go
-- codec, and the `configure-docker` / `config` commands (swrauth.cmd.configure_docker, swrauth.cmd.config).
local authfile = require "swrauth.authfile"
local fs = require "swrauth.fs"
local exports = require "swrauth.exports"
local swrauth = require "swrauth"
local json = require "swrauth.json"
local cli = require "swrauth.cli"
local proc = require "swrauth.proc"
local uv = require "luv"

local ROOT = uv.cwd()
local AK = "TESTAK0000000000E2E0"
local SK = "testSecretKeyForSwrauthE2E0000000000000a"
local KEY = "f692b22ffecb87b1158d2030449e584a30620e12bc9a9451bdc10f8e86bc0b42"
local USER = "cn-north-4@" .. AK
local AUTH = "Y24tbm9ydGgtNEBURVNUQUswMDAwMDAwMDAwRTJFMDpmNjkyYjIyZmZlY2I4N2IxMTU4ZDIwMzA0NDllNT"
  .. "g0YTMwNjIwZTEyYmM5YTk0NTFiZGMxMGY4ZTg2YmMwYjQy"
local SWR = "swr.cn-north-4.myhuaweicloud.com"

local tmp

local support = require "tests.spec.support"
local write, read = support.write, support.read

local function mode(path)
  return string.format("%o", (fs.mode(path)))
end

local function raised(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(e):gsub("^[^:]+:%d+: ", ""))
end

local function is_root()
  return uv.getuid() == 0
end

before_each(function()
  tmp = support.tempdir()
end)

after_each(function()
  proc.run {argv = {"chmod", "-R", "u+rwx", tmp}}
  support.rm(tmp)
end)

-- What docker 28's CLI wrote in two `docker login` runs on files holding
-- other fields (its own layout, byte for byte).
local DOCKER_WROTE_1 = table.concat({
  "{",
  '\t"auths": {',
  '\t\t"127.0.0.1:35123": {',
  '\t\t\t"auth": "dTw+Jjpwdw=="',
  "\t\t},",
  '\t\t"b.example": {',
  '\t\t\t"auth": "eDp5"',
  "\t\t}",
  "\t},",
  '\t"HttpHeaders": {',
  '\t\t"A": "2",',
  '\t\t"Z": "1"',
  "\t},",
  '\t"psFormat": "\\u003ca\\u0026b\\u003e",',
  '\t"credHelpers": {',
  '\t\t"x": "y"',
  "\t},",
  '\t"aliases": {',
  '\t\t"builder": "buildx"',
  "\t}",
  "}",
}, "\n")
local DOCKER_WROTE_2 = table.concat({
  "{",
  '\t"auths": {',
  '\t\t"127.0.0.1:35123": {',
  '\t\t\t"auth": "dTw+Jjpwdw=="',
  "\t\t},",
  '\t\t"b.example": {',
  '\t\t\t"auth": "eDp5",',
  '\t\t\t"email": "e"',
  "\t\t}",
  "\t},",
  '\t"psFormat": "\\b\\f\\u0001\127\\u2028\239\191\189 \195\169/",',
  '\t"credHelpers": {',
  '\t\t"x": "y"',
  "\t}",
  "}",
}, "\n")

describe("json.go_encode and json.parse", function()
  it("give back what docker wrote, byte for byte", function()
    for _, text in ipairs{DOCKER_WROTE_1, DOCKER_WROTE_2} do
      local doc = assert(json.parse(text, {raw_numbers = true}))
      assert.equal(text, authfile.encode(doc))
    end
  end)
  it("escape strings as Go does", function()
    assert.equal([["\u003c\u003e\u0026"]], json.quote("<>&"))
    assert.equal([["<>&"]], json.quote("<>&", false))
    assert.equal([["\"\\/\b\f\n\r\t\u0000\u001f]] .. "\127" .. [["]],
                 json.quote("\"\\/\b\f\n\r\t\0\31\127"))
    assert.equal([["\ufffd\ufffd\u2028\u2029é"]], json.quote("\255\192\226\128\168\226\128\169é"))
    assert.equal([["\ufffd\ufffd\ufffd"]], json.quote("\237\160\128")) -- a UTF-8 surrogate
    assert.equal('"😀"', json.quote("😀"))
  end)
  it("decode escapes as Go does", function()
    assert.equal("é😀\239\191\189x/\240\144\128\128", json.parse([["\u00e9\ud83d\ude00\ud800x\/\ud800\udc00"]]))
    assert.equal("\239\191\189x", json.parse([["\udc00x"]]))
    assert.equal("a/b", json.parse([["a\/b"]]))
  end)
  it("keep arrays, empty objects, nulls and number texts", function()
    local text = '{"a":[],"b":{},"c":[1.50,-0,1e400,null,true,false,"s"],"d":null}'
    local doc = assert(json.parse(text, {raw_numbers = true}))
    assert.equal(text, json.encode(doc))
    assert.equal('{\n  "a": [],\n  "b": {}\n}', json.encode({a = json.array(), b = {}}, {indent = "  "}))
  end)
  it("write numbers as Go does", function()
    local cases = {{1, "1"}, {1.5, "1.5"}, {0.1, "0.1"}, {1e21, "1e+21"}, {1e20, "100000000000000000000"},
                   {1e-7, "1e-7"}, {1e-6, "0.000001"}, {2 ^ 53, "9007199254740992"}, {-0.0, "-0"},
                   {123456789.125, "123456789.125"}, {5e-324, "5e-324"}}
    for _, c in ipairs(cases) do assert.equal(c[2], json.encode(c[1])) end
  end)
  it("put ordered keys first, then the others sorted", function()
    local t = {z = 1, b = 2, a = 3, m = 4}
    assert.equal('{"m":4,"b":2,"a":3,"z":1}',
                 json.encode(t, {order = function() return {"m", "b", "x"} end}))
  end)
  local errors = {
    {"", "unexpected end of JSON input", 1, 1},
    {"{", "unexpected end of JSON input", 1, 2},
    {'{"a":}', "invalid character '}' looking for beginning of value", 1, 6},
    {"[1,]", "invalid character ']' looking for beginning of value", 1, 4},
    {"{'a':1}", "invalid character '\\'' looking for beginning of object key string", 1, 2},
    {'{"a" 1}', "invalid character '1' after object key", 1, 6},
    {'{"a":1 "b":2}', "invalid character '\"' after object key:value pair", 1, 8},
    {"[1 2]", "invalid character '2' after array element", 1, 4},
    {"trux", "invalid character 'x' in literal true (expecting 'e')", 1, 4},
    {"nul", "unexpected end of JSON input", 1, 4},
    {"01", "invalid character '1' after top-level value", 1, 2},
    {"1.x", "invalid character 'x' after decimal point in numeric literal", 1, 3},
    {"1e+", "unexpected end of JSON input", 1, 4},
    {"-a", "invalid character 'a' in numeric literal", 1, 2},
    {'"\\q"', "invalid character 'q' in string escape code", 1, 3},
    {'"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape", 1, 6},
    {'"a\nb"', "invalid character '\\n' in string literal", 1, 3},
    {"{}\n  x", "invalid character 'x' after top-level value", 2, 3},
    {"\195", "invalid character 'Ã' looking for beginning of value", 1, 1},
  }
  for _, c in ipairs(errors) do
    it("reports " .. ("%q"):format(c[1]):gsub("\\\n", "\\n") .. " as Go does", function()
      local v, msg, line, col = json.parse(c[1])
      assert.is_nil(v)
      assert.equal(c[2], msg)
      assert.equal(c[3], line)
      assert.equal(c[4], col)
    end)
  end
  it("allows text after the value with 'trailing'", function()
    assert.same({a = 1}, json.parse('{"a":1} rest', {trailing = true}))
  end)
  it("refuses deep nesting", function()
    local v, msg = json.parse(("["):rep(600) .. ("]"):rep(600))
    assert.is_nil(v)
    assert.equal("exceeded max depth", msg)
  end)
end)

describe("authfile.login", function()
  it("creates the file (0600) and its directories (0700) in docker's layout", function()
    local path = tmp .. "/a/b/config.json"
    assert(authfile.login(path, "127.0.0.1:5000", USER, KEY))
    assert.equal('{\n\t"auths": {\n\t\t"127.0.0.1:5000": {\n\t\t\t"auth": "' .. AUTH
      .. '"\n\t\t}\n\t}\n}', read(path))
    assert.equal("600", mode(path))
    assert.equal("700", mode(tmp .. "/a"))
    assert.equal("700", mode(tmp .. "/a/b"))
  end)
  it("keeps every other field and entry, in docker's order", function()
    local path = tmp .. "/config.json"
    write(path, '{"zeta":{"n":1.50,"list":[1,{"x":null}],"e":[]},"proxies":{"default":{"noProxy":"a",'
      .. '"httpProxy":"b"}},"credsStore":"desktop","auths":{"b.example":{"email":"e","auth":"eDp5",'
      .. '"x-extra":true}},"credHelpers":{"c.example":"gcloud"},"psFormat":"<&>"}', "644")
    assert(authfile.login(path, "127.0.0.1:5000", USER, KEY))
    assert.equal(table.concat({
      "{",
      '\t"auths": {',
      '\t\t"127.0.0.1:5000": {',
      '\t\t\t"auth": "' .. AUTH .. '"',
      "\t\t},",
      '\t\t"b.example": {',
      '\t\t\t"auth": "eDp5",',
      '\t\t\t"email": "e",',
      '\t\t\t"x-extra": true',
      "\t\t}",
      "\t},",
      '\t"psFormat": "\\u003c\\u0026\\u003e",',
      '\t"credsStore": "desktop",',
      '\t"credHelpers": {',
      '\t\t"c.example": "gcloud"',
      "\t},",
      '\t"proxies": {',
      '\t\t"default": {',
      '\t\t\t"httpProxy": "b",',
      '\t\t\t"noProxy": "a"',
      "\t\t}",
      "\t},",
      '\t"zeta": {',
      '\t\t"e": [],',
      '\t\t"list": [',
      "\t\t\t1,",
      "\t\t\t{",
      '\t\t\t\t"x": null',
      "\t\t\t}",
      "\t\t],",
      '\t\t"n": 1.50',
      "\t}",
      "}",
    }, "\n"), read(path))
    assert.equal("600", mode(path))
  end)
  it("replaces that registry's entry only", function()
    local path = tmp .. "/config.json"
    write(path, '{"auths":{"127.0.0.1:5000":{"auth":"old","identitytoken":"t"},"x":{"auth":"eDp5"}}}')
    assert(authfile.login(path, "127.0.0.1:5000", USER, KEY))
    local doc = assert(authfile.read(path))
    assert.same({auth = AUTH}, doc.auths["127.0.0.1:5000"])
    assert.same({auth = "eDp5"}, doc.auths.x)
    assert.same({USER, KEY}, {authfile.entry(doc, "127.0.0.1:5000")})
  end)
  it("treats an empty file as a new one", function()
    local path = tmp .. "/config.json"
    write(path, "  \n")
    assert(authfile.login(path, "h", "u", "p"))
    assert.equal('{\n\t"auths": {\n\t\t"h": {\n\t\t\t"auth": "dTpw"\n\t\t}\n\t}\n}', read(path))
  end)
  it("writes through a symlink, keeping the link", function()
    assert(support.mkdir(tmp .. "/real"))
    write(tmp .. "/real/config.json", '{"auths":{}}')
    assert(uv.fs_symlink("real/config.json", tmp .. "/config.json"))
    assert(authfile.login(tmp .. "/config.json", "h", "u", "p"))
    assert.equal("link", uv.fs_lstat(tmp .. "/config.json").type)
    assert.matches('"h"', read(tmp .. "/real/config.json"))
  end)
  it("leaves no temporary file behind", function()
    local path = tmp .. "/config.json"
    assert(authfile.login(path, "h", "u", "p"))
    local names = {}
    for _, e in ipairs(fs.list(tmp)) do names[#names + 1] = e.name end
    assert.same({"config.json", "config.json.lock"}, names)
  end)
  it("raises on misuse", function()
    local path = tmp .. "/config.json"
    assert.equal("bad argument #2 to 'login' (registry is empty)", raised(authfile.login, path, "", "u", "p"))
    assert.equal("bad argument #2 to 'login' (registry must be HOST[:PORT], without a scheme)",
                 raised(authfile.login, path, "https://h", "u", "p"))
    assert.equal("bad argument #2 to 'login' (registry contains whitespace or a control character)",
                 raised(authfile.login, path, "h\n", "u", "p"))
    assert.equal("bad argument #3 to 'login' (user contains ':')", raised(authfile.login, path, "h", "u:x", "p"))
    assert.equal("bad argument #4 to 'login' (string expected, got nil)", raised(authfile.login, path, "h", "u"))
    assert.is_nil(read(path))
  end)
end)

describe("a file that does not parse", function()
  local cases = {
    {'{"auths": {"x": {"auth": "eDp5"}},\n "psFormat": "a"\n', "line 3, column 1: unexpected end of JSON input"},
    {'{"auths": {"x": {"auth": "eDp5"}}} trailing',
     "line 1, column 36: invalid character 't' after top-level value"},
    {"[1, 2]", "not a JSON object"},
    {'{"auths": "x"}', "field 'auths' is not an object"},
    {'{"auths": []}', "field 'auths' is not an object"},
    {'{"credHelpers": 1}', "field 'credHelpers' is not an object"},
    {'{"credsStore": {}}', "field 'credsStore' is not a string"},
    {"\239\187\191{}", "line 1, column 1: invalid character 'ï' looking for beginning of value"},
    -- Go would read these as U+FFFD and write that back, changing an entry.
    {'{"auths": {"k\255.example": {"auth": "eDp5"}}}', "line 1, column 14: invalid UTF-8"},
    {'{"auths": {},\n "psFormat": "\237\160\128"}', "line 2, column 15: invalid UTF-8"},
  }
  for _, c in ipairs(cases) do
    it("is left byte for byte as it was: " .. c[2], function()
      local path = tmp .. "/config.json"
      write(path, c[1], "644")
      local before = uv.fs_stat(path)
      local ok, err = authfile.login(path, "h", "u", "p")
      assert.is_nil(ok)
      assert.equal(path .. ": " .. c[2] .. " (the file is left as it is)", err)
      assert.equal(c[1], read(path))
      assert.equal("644", mode(path))
      assert.equal(before.ino, uv.fs_stat(path).ino)
      ok, err = authfile.logout(path, "x")
      assert.is_nil(ok)
      assert.equal(path .. ": " .. c[2] .. " (the file is left as it is)", err)
      assert.is_nil(authfile.set_helper(path, "h", "swr"))
      assert.equal(c[1], read(path))
    end)
  end
  it("is reported when it is a directory", function()
    assert(support.mkdir(tmp .. "/config.json"))
    local ok, err = authfile.login(tmp .. "/config.json", "h", "u", "p")
    assert.is_nil(ok)
    assert.equal("cannot read " .. tmp .. "/config.json: Is a directory", err)
  end)
end)

-- Runs Lua code as the user nobody (skipped unless root with setpriv).
local function as_nobody(code)
  local setpriv = proc.which("setpriv")
  if not is_root() or not setpriv then return nil end
  return assert(proc.run {argv = {setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
    "lua5.4", "-e", "package.path='" .. ROOT .. "/lua/?.lua;'..package.path " .. code}})
end

describe("an unreadable file or a read-only directory", function()
  it("gives a clear error and leaves the file as it was", function()
    if not is_root() then
      -- As a normal user: chmod is enough.
      local path = tmp .. "/config.json"
      write(path, '{"auths":{}}', "000")
      local ok, err = authfile.login(path, "h", "u", "p")
      assert.is_nil(ok)
      assert.equal("cannot read " .. path .. ": Permission denied", err)
      return
    end
    assert(uv.fs_chmod(tmp, tonumber("711", 8)))
    local d = tmp .. "/d"
    assert(uv.fs_mkdir(d, tonumber("777", 8)))
    assert(uv.fs_chmod(d, tonumber("777", 8)))
    write(d .. "/config.json", '{"auths":{"x":{"auth":"eDp5"}}}', "000")
    local r = as_nobody("local a = require 'swrauth.authfile' "
      .. "io.write(tostring(select(2, a.login('" .. d .. "/config.json', 'h', 'u', 'p'))))")
    assert.equal("cannot read " .. d .. "/config.json: Permission denied", r.stdout)
    assert.equal('{"auths":{"x":{"auth":"eDp5"}}}', read(d .. "/config.json"))

    local ro = tmp .. "/ro"
    assert(uv.fs_mkdir(ro, tonumber("755", 8)))
    write(ro .. "/config.json", '{"auths":{"x":{"auth":"eDp5"}}}', "644")
    r = as_nobody("local a = require 'swrauth.authfile' "
      .. "io.write(tostring(select(2, a.login('" .. ro .. "/config.json', 'h', 'u', 'p'))))")
    assert.equal("cannot write " .. ro .. "/config.json: cannot create the lock file " .. ro
      .. "/config.json.lock: permission denied",
                 r.stdout)
    assert.equal('{"auths":{"x":{"auth":"eDp5"}}}', read(ro .. "/config.json"))
    local names = {}
    for _, e in ipairs(fs.list(ro)) do names[#names + 1] = e.name end
    assert.same({"config.json"}, names)
  end)
end)

describe("authfile.logout", function()
  it("removes only that registry's entry", function()
    local path = tmp .. "/config.json"
    write(path, '{"auths":{"a":{"auth":"eDp5"},"b":{"auth":"eDp5"}},"credHelpers":{"a":"swr"}}')
    local ok, removed = authfile.logout(path, "a")
    assert.is_true(ok)
    assert.is_true(removed)
    assert.equal('{\n\t"auths": {\n\t\t"b": {\n\t\t\t"auth": "eDp5"\n\t\t}\n\t},\n\t"credHelpers": {\n'
      .. '\t\t"a": "swr"\n\t}\n}', read(path))
  end)
  it("leaves the file alone when there is no entry", function()
    local path = tmp .. "/config.json"
    write(path, '{"auths":{"b":{}}}')
    local ok, removed = authfile.logout(path, "a")
    assert.is_true(ok)
    assert.is_false(removed)
    assert.equal('{"auths":{"b":{}}}', read(path))
  end)
  it("does not create a missing file", function()
    local ok, removed = authfile.logout(tmp .. "/x/config.json", "a")
    assert.is_true(ok)
    assert.is_false(removed)
    assert.is_nil(uv.fs_stat(tmp .. "/x"))
  end)
end)

describe("authfile.set_helper, remove_helper, set_store", function()
  it("add and remove credHelpers entries", function()
    local path = tmp .. "/auth.json"
    assert.same({true, true}, {authfile.set_helper(path, SWR, "swr")})
    assert.same({true, false}, {authfile.set_helper(path, SWR, "swr")})
    assert.equal('{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"' .. SWR .. '": "swr"\n\t}\n}', read(path))
    assert.same({true, true}, {authfile.remove_helper(path, SWR)})
    assert.equal('{\n\t"auths": {}\n}', read(path))
    assert.same({true, false}, {authfile.remove_helper(path, SWR)})
  end)
  it("set credsStore", function()
    local path = tmp .. "/config.json"
    assert(authfile.set_store(path, "swr"))
    assert.equal('{\n\t"auths": {},\n\t"credsStore": "swr"\n}', read(path))
    assert(authfile.set_store(path, nil))
    assert.equal('{\n\t"auths": {}\n}', read(path))
  end)
  it("check the helper name", function()
    assert.equal("bad argument #3 to 'set_helper' (helper name may hold only letters, digits, '.', '_' and '-')",
                 raised(authfile.set_helper, tmp .. "/c.json", "h", "../x"))
  end)
end)

describe("concurrent writers", function()
  it("lose nothing: 20 processes, 20 registries, 20 entries", function()
    local path = tmp .. "/config.json"
    write(path, '{"auths":{"kept.example":{"auth":"eDp5"}},"psFormat":"x"}')
    local script = {}
    for i = 1, 20 do
      script[#script + 1] = "lua5.4 -e \"package.path='" .. ROOT .. "/lua/?.lua;'..package.path "
        .. "assert(require('swrauth.authfile').login('" .. path .. "', 'reg" .. i
        .. ".example:5000', 'cn-north-4@" .. AK .. "', 'key" .. i .. "'))\" &"
    end
    script[#script + 1] = "wait"
    local r = assert(proc.run {argv = {"sh", "-c", table.concat(script, "\n")}})
    assert.equal("", r.stderr)
    local doc = assert(authfile.read(path))
    local n = 0
    for _ in pairs(doc.auths) do n = n + 1 end
    assert.equal(21, n)
    for i = 1, 20 do
      assert.same({"cn-north-4@" .. AK, "key" .. i}, {authfile.entry(doc, "reg" .. i .. ".example:5000")})
    end
    assert.equal("x", doc.psFormat)
    assert.equal(authfile.encode(doc), read(path))
    local names = {}
    for _, e in ipairs(fs.list(tmp)) do names[#names + 1] = e.name end
    assert.same({"config.json", "config.json.lock"}, names)
  end)
end)

describe("authfile paths", function()
  local function env(t) return function(k) return t[k] end end
  it("follow DOCKER_CONFIG and HOME", function()
    assert.equal("/d/config.json", authfile.docker_path(env {DOCKER_CONFIG = "/d", HOME = "/h"}))
    assert.equal("/h/.docker/config.json", authfile.docker_path(env {DOCKER_CONFIG = "", HOME = "/h"}))
  end)
  it("follow REGISTRY_AUTH_FILE and XDG_RUNTIME_DIR", function()
    assert.equal("/a.json", authfile.containers_path(env {REGISTRY_AUTH_FILE = "/a.json", XDG_RUNTIME_DIR = "/r"}))
    assert.equal("/r/containers/auth.json", authfile.containers_path(env {XDG_RUNTIME_DIR = "/r"}))
    assert.equal("/run/containers/" .. uv.getuid() .. "/auth.json", authfile.containers_path(env {}))
  end)
end)

describe("exports.kubernetes_secret", function()
  -- What `kubectl create secret docker-registry ... --dry-run=client` prints.
  it("is kubectl's YAML", function()
    assert.equal(table.concat({
      "apiVersion: v1",
      "data:",
      "  .dockerconfigjson: eyJhdXRocyI6eyJoIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImF1dGgiOiJkVHB3In19fQ==",
      "kind: Secret",
      "metadata:",
      "  creationTimestamp: null",
      '  name: "123"',
      "type: kubernetes.io/dockerconfigjson",
      "",
    }, "\n"), exports.kubernetes_secret {name = "123", registry = "h", username = "u", password = "p"})
  end)
  it("is kubectl's JSON, with namespace and email", function()
    assert.equal(table.concat({
      "{",
      '    "kind": "Secret",',
      '    "apiVersion": "v1",',
      '    "metadata": {',
      '        "name": "regcred",',
      '        "namespace": "ns",',
      '        "creationTimestamp": null',
      "    },",
      '    "data": {',
      '        ".dockerconfigjson": "eyJhdXRocyI6eyJoIjp7InVzZXJuYW1lIjoidSIsInBhc3N3b3JkIjoicCIsImVtYWls'
        .. 'IjoiZUB4IiwiYXV0aCI6ImRUcHcifX19"',
      "    },",
      '    "type": "kubernetes.io/dockerconfigjson"',
      "}",
      "",
    }, "\n"), exports.kubernetes_secret {name = "regcred", namespace = "ns", registry = "h",
                                          username = "u", password = "p", email = "e@x", format = "json"})
  end)
  it("escapes the inner document as kubectl does", function()
    assert.equal('{"auths":{"' .. SWR .. '":{"username":"cn-north-4@AK\\u003c\\u0026\\u003e","password":'
      .. '"k\\"ey","auth":"Y24tbm9ydGgtNEBBSzwmPjprImV5"}}}',
      exports.dockerconfigjson {registry = SWR, username = "cn-north-4@AK<&>", password = 'k"ey'})
  end)
  it("checks names", function()
    assert.equal("bad argument #1 to 'kubernetes_secret' (field 'name' must be a DNS-1123 subdomain "
      .. "(lowercase letters, digits, '-' and '.'))",
      raised(exports.kubernetes_secret, {name = "Bad_Name", registry = "h", username = "u", password = "p"}))
    assert.equal("bad argument #1 to 'kubernetes_secret' (unknown field 'server')",
      raised(exports.kubernetes_secret, {name = "a", server = "h", username = "u", password = "p"}))
  end)
end)

describe("exports.containerd_toml, gitlab_auth_config, crictl_auth", function()
  it("give containerd's CRI registry auth for config versions 2 and 3", function()
    assert.equal('version = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry.configs."' .. SWR .. '".auth]\n'
      .. '  username = "' .. USER .. '"\n  password = "' .. KEY .. '"\n',
      exports.containerd_toml {registry = SWR, username = USER, password = KEY})
    assert.equal('version = 3\n\n[plugins."io.containerd.cri.v1.images".registry.configs."h:5000".auth]\n'
      .. '  username = "u\\"\\\\"\n  password = "p\\n\\u007F"\n',
      exports.containerd_toml {registry = "h:5000", username = 'u"\\', password = "p\n\127", version = 3})
  end)
  it("give GitLab's DOCKER_AUTH_CONFIG", function()
    assert.equal('{"auths":{"' .. SWR .. '":{"auth":"' .. AUTH .. '"}}}',
      exports.gitlab_auth_config {registry = SWR, username = USER, password = KEY})
    assert.equal('{"credHelpers":{"' .. SWR .. '":"swr"}}',
      exports.gitlab_auth_config {registry = SWR, helper = "swr"})
  end)
  it("give crictl's --auth", function()
    assert.equal(AUTH, exports.crictl_auth {username = USER, password = KEY})
  end)
  it("base64 as RFC 4648", function()
    local v = {[""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
               foobar = "Zm9vYmFy"}
    for plain, enc in pairs(v) do
      assert.equal(enc, swrauth.base64(plain))
      assert.equal(plain, swrauth.unbase64(enc))
    end
    assert.is_nil(swrauth.unbase64("Zm9"))
    assert.is_nil(swrauth.unbase64("Zm=v"))
  end)
end)

describe("swrauth configure-docker and config (cli.main)", function()
  local out, err
  local env
  local function run(...)
    out, err = {}, {}
    local code = cli.main({...}, {
      out = function(s) out[#out + 1] = s end,
      err = function(s) err[#err + 1] = s end,
      getenv = function(k) return env[k] end,
    })
    out, err = table.concat(out), table.concat(err)
    return code
  end
  before_each(function()
    env = {
      HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK, DOCKER_CONFIG = tmp .. "/docker",
      REGISTRY_AUTH_FILE = tmp .. "/containers/auth.json", HOME = tmp, PATH = ROOT .. "/bin",
    }
  end)
  local function no_secret()
    for _, s in ipairs{err} do
      assert.is_nil(s:find(KEY, 1, true))
      assert.is_nil(s:find(SK, 1, true))
      assert.is_nil(s:find(AUTH, 1, true))
    end
  end

  it("configure-docker adds credHelpers to both files, and the project to the helper's config", function()
    assert.equal(0, run("configure-docker", "--project", "cn-north-4", "127.0.0.1:5000"))
    local helpers = '{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"127.0.0.1:5000": "swr"\n\t}\n}'
    assert.equal(helpers, read(tmp .. "/docker/config.json"))
    assert.equal(helpers, read(tmp .. "/containers/auth.json"))
    local cfg = tmp .. "/.config/swrauth/config.json"
    assert.equal("configure-docker: " .. tmp .. "/docker/config.json: credHelpers[127.0.0.1:5000] = swr (added)\n"
      .. "configure-docker: " .. tmp .. "/containers/auth.json: credHelpers[127.0.0.1:5000] = swr (added)\n"
      .. "configure-docker: " .. cfg .. ": registries[127.0.0.1:5000] = cn-north-4 (added)\n", err)
    assert.equal('{\n  "registries": {\n    "127.0.0.1:5000": "cn-north-4"\n  }\n}\n', read(cfg))
    assert.equal(tonumber("600", 8), (fs.mode(cfg)))
    assert.equal("", out)
    -- The helper answers that registry with that project, no variable needed.
    local helper = require("swrauth.credhelper")
    local hout = {}
    assert.equal(0, helper.main({"get"}, {out = function(s) hout[#hout + 1] = s end,
      getenv = function(k) return env[k] end, stdin = function() return "127.0.0.1:5000" end}))
    assert.matches('"Username":"cn%-north%-4@' .. AK .. '"', table.concat(hout))
    -- --remove takes the record out too, keeping other fields.
    assert.equal(0, run("configure-docker", "--remove", "127.0.0.1:5000", "-q"))
    assert.equal('{\n  "registries": {}\n}\n', read(cfg))
  end)
  it("configure-docker records a sub-project for an SWR host, and needs a project elsewhere", function()
    assert.equal(0, run("configure-docker", "--project", "cn-north-4_team", "--only", "docker", "-q"))
    assert.equal('{\n  "registries": {\n    "' .. SWR .. '": "cn-north-4_team"\n  }\n}\n',
                 read(tmp .. "/.config/swrauth/config.json"))
    assert.equal(2, run("configure-docker", "h.example"))
    assert.equal("swrauth: configure-docker: h.example is not an SWR registry host "
      .. "(swr.REGION.myhuaweicloud.com): give --project (or SWRAUTH_PROJECT), which the helper "
      .. "records for it\nTry 'swrauth --help'.\n", err)
    assert.equal(2, run("configure-docker", "--project", "cn-east-3", SWR))
    assert.matches("project 'cn%-east%-3' is not in region cn%-north%-4 of " .. SWR:gsub("%p", "%%%0"), err)
  end)
  it("configure-docker defaults to the project's registry, and --remove undoes it", function()
    assert.equal(0, run("configure-docker", "--project", "cn-north-4", "--only", "docker", "-q"))
    assert.equal('{\n\t"auths": {},\n\t"credHelpers": {\n\t\t"' .. SWR .. '": "swr"\n\t}\n}',
                 read(tmp .. "/docker/config.json"))
    assert.is_nil(read(tmp .. "/containers/auth.json"))
    assert.equal(0, run("--json", "configure-docker", "--project", "cn-north-4", "--only", "docker", "--remove"))
    assert.equal('{\n\t"auths": {}\n}', read(tmp .. "/docker/config.json"))
    assert.equal('{"entries":[{"changed":true,"entry":"credHelpers[' .. SWR .. ']","file":"' .. tmp
      .. '/docker/config.json","registry":"' .. SWR .. '"}],"helper":"swr","ok":true,"remove":true}\n', out)
  end)
  it("configure-docker warns when the helper is not on PATH", function()
    env.PATH = "/nonexistent"
    assert.equal(0, run("configure-docker", "--registry", "h.example", "--project", "cn-north-4", "-q"))
    assert.equal("warning: docker-credential-swr is not on PATH: docker, podman and skopeo will fail to run it\n",
                 err)
  end)
  it("configure-docker needs a registry", function()
    assert.equal(2, run("configure-docker"))
    assert.equal("swrauth: configure-docker: give REGISTRY..., or --registry or --project (or SWRAUTH_REGISTRY "
      .. "or SWRAUTH_PROJECT)\nTry 'swrauth --help'.\n", err)
    assert.equal(2, run("configure-docker", "https://h"))
  end)
  it("configure-docker fails cleanly on a corrupt file", function()
    assert(support.mkdir(tmp .. "/docker"))
    write(tmp .. "/docker/config.json", "{oops")
    assert.equal(1, run("configure-docker", "--registry", "h.example", "--project", "cn-north-4", "-q"))
    assert.equal("swrauth: configure-docker: " .. tmp .. "/docker/config.json: line 1, column 2: invalid "
      .. "character 'o' looking for beginning of object key string (the file is left as it is)\n", err)
    assert.equal("{oops", read(tmp .. "/docker/config.json"))
  end)
  it("config docker and config containers write and remove a login", function()
    assert.equal(0, run("config", "docker", "--project", "cn-north-4"))
    assert.equal('{\n\t"auths": {\n\t\t"' .. SWR .. '": {\n\t\t\t"auth": "' .. AUTH .. '"\n\t\t}\n\t}\n}',
                 read(tmp .. "/docker/config.json"))
    assert.equal("config docker: " .. tmp .. "/docker/config.json: auths[" .. SWR .. "] = " .. USER .. "\n", err)
    assert.equal(0, run("config", "containers", "--project", "cn-north-4", "--registry", "127.0.0.1:5000",
                        "--file", tmp .. "/other.json"))
    assert.equal('{\n\t"auths": {\n\t\t"127.0.0.1:5000": {\n\t\t\t"auth": "' .. AUTH .. '"\n\t\t}\n\t}\n}',
                 read(tmp .. "/other.json"))
    assert.equal(0, run("config", "docker", "--logout", "--registry", SWR))
    assert.equal('{\n\t"auths": {}\n}', read(tmp .. "/docker/config.json"))
    assert.equal("config docker: " .. tmp .. "/docker/config.json: removed " .. SWR .. "\n", err)
    no_secret()
  end)
  it("config exits 3 without credentials and 2 without a project", function()
    env.HUAWEICLOUD_SDK_SK = nil
    assert.equal(3, run("config", "docker", "--project", "cn-north-4"))
    assert.equal("swrauth: config docker: HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is empty or unset\n",
                 err)
    assert.is_nil(read(tmp .. "/docker/config.json"))
    assert.equal(2, run("config", "crictl"))
    assert.equal("swrauth: config crictl: --project (or SWRAUTH_PROJECT) is required, e.g. --project "
      .. "cn-north-4\nTry 'swrauth --help'.\n", err)
  end)
  it("config kubernetes prints kubectl's Secret", function()
    assert.equal(0, run("config", "kubernetes", "regcred", "--project", "cn-north-4", "-n", "prod"))
    local want = exports.kubernetes_secret {name = "regcred", namespace = "prod", registry = SWR,
                                             username = USER, password = KEY}
    assert.equal(want, out)
    assert.equal("", err)
    assert.equal(0, run("config", "kubernetes", "regcred", "--project", "cn-north-4", "-o", "json"))
    assert.matches('^{\n    "kind": "Secret"', out)
    -- -o/--output is the format, as kubectl's: never a file named "yaml".
    assert.equal(0, run("config", "kubernetes", "regcred", "--project", "cn-north-4", "--output", "yaml"))
    assert.equal(want:gsub("  namespace: prod\n", ""), out)
    assert.is_nil(read("yaml"))
    assert.equal(2, run("config", "kubernetes", "regcred", "--project", "cn-north-4", "--output", "f.yaml"))
    assert.equal(0, run("config", "kubernetes", "regcred", "--project", "cn-north-4", "--file", tmp .. "/s.yaml"))
    assert.equal(want:gsub("  namespace: prod\n", ""), read(tmp .. "/s.yaml"))
    assert.equal(2, run("config", "kubernetes", "Bad_Name", "--project", "cn-north-4"))
    assert.equal("swrauth: config kubernetes: the Secret's name 'Bad_Name' must be a DNS-1123 subdomain "
      .. "(lowercase letters, digits, '-' and '.')\nTry 'swrauth --help'.\n", err)
  end)
  it("config containerd, gitlab and crictl print their values", function()
    env.SWRAUTH_PROJECT = "cn-north-4"
    assert.equal(0, run("config", "containerd", "--config-version", "3"))
    assert.equal(exports.containerd_toml {registry = SWR, username = USER, password = KEY, version = 3}, out)
    assert.equal(0, run("config", "gitlab"))
    assert.equal('{"auths":{"' .. SWR .. '":{"auth":"' .. AUTH .. '"}}}\n', out)
    assert.equal(0, run("config", "gitlab", "--helper", "swr"))
    assert.equal('{"credHelpers":{"' .. SWR .. '":"swr"}}\n', out)
    assert.equal(0, run("config", "crictl"))
    assert.equal(AUTH .. "\n", out)
  end)
  it("--file writes a private file (--output still does for gitlab); --dry-run redacts the key", function()
    env.SWRAUTH_PROJECT = "cn-north-4"
    assert.equal(0, run("config", "gitlab", "--output", tmp .. "/gitlab.json"))
    assert.equal("", out)
    assert.equal(0, run("config", "crictl", "--file", tmp .. "/crictl"))
    assert.equal(AUTH .. "\n", read(tmp .. "/crictl"))
    assert.equal('{"auths":{"' .. SWR .. '":{"auth":"' .. AUTH .. '"}}}\n', read(tmp .. "/gitlab.json"))
    assert.equal("600", mode(tmp .. "/gitlab.json"))
    assert.equal(0, run("config", "crictl", "--dry-run"))
    assert.equal(swrauth.base64(USER .. ":<redacted>") .. "\n", out)
    assert.equal(0, run("config", "docker", "--dry-run"))
    assert.is_nil(read(tmp .. "/docker/config.json"))
    no_secret()
  end)
  it("has help", function()
    assert.equal(0, run("config", "kubernetes", "--help"))
    assert.matches("^Usage: swrauth config kubernetes", out)
  end)
end)

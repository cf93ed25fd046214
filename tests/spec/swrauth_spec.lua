-- Specs of the C module's derive, verify and format, through Lua.
local swrauth = require "swrauth"

local AK = "QTWAOYTTINDUT2QVKYUC"
local SK = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
local KEY = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34"

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return e
end

-- Runs the vendor's own shell pipeline over a file of "AK SK" lines and
-- returns its keys, one per line.
local function vendor_keys(pairs_)
  local input = os.tmpname()
  local f = assert(io.open(input, "w"))
  for _, p in ipairs(pairs_) do f:write(p[1], " ", p[2], "\n") end
  f:close()
  local script = [[
while read -r ak sk; do
  printf "$ak" | openssl dgst -binary -sha256 -hmac "$sk" | od -An -vtx1 | sed 's/[ \n]//g' | sed 'N;s/\n//'
done < "$1"
]]
  local p = assert(io.popen("sh -c '" .. script:gsub("'", "'\\''") .. "' sh " .. input))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  os.remove(input)
  return out
end

describe("swrauth module", function()
  it("has a version", function()
    assert.matches("^%d+%.%d+%.%d+$", swrauth._VERSION)
  end)
  it("exports exactly derive, verify, format, parse, check, base64, unbase64, sha256, sign and "
     .. "the version fields", function()
    local names = {}
    for k in pairs(swrauth) do names[#names + 1] = k end
    table.sort(names)
    assert.same({ "_LUA_HEADERS", "_OPENSSL", "_OPENSSL_HEADERS", "_VERSION", "base64", "check",
                  "derive", "format", "parse", "sha256", "sign", "unbase64", "verify" }, names)
    assert.matches("^Lua 5%.4%.%d+$", swrauth._LUA_HEADERS)
    assert.matches("^OpenSSL 3%.%d+%.%d+", swrauth._OPENSSL)
    assert.matches("^OpenSSL 3%.%d+%.%d+", swrauth._OPENSSL_HEADERS)
  end)
end)

describe("derive", function()
  it("gives the published example key", function()
    assert.equal(KEY, swrauth.derive(AK, SK))
  end)

  it("equals the vendor's shell pipeline on 300 random pairs", function()
    math.randomseed(20261128)
    local up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    local any = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    local function rand(alphabet, n)
      local t = {}
      for i = 1, n do
        local j = math.random(#alphabet)
        t[i] = alphabet:sub(j, j)
      end
      return table.concat(t)
    end
    local ps = {}
    for i = 1, 300 do
      -- mostly real shapes (20/40), some other lengths incl. SK over a block
      local akn = (i % 5 == 0) and math.random(1, 80) or 20
      local skn = (i % 7 == 0) and math.random(1, 150) or 40
      ps[i] = { rand(up, akn), rand(any, skn) }
    end
    local want = vendor_keys(ps)
    assert.equal(#ps, #want)
    for i, p in ipairs(ps) do
      assert.equal(want[i], swrauth.derive(p[1], p[2]))
    end
  end)

  it("returns 64 lowercase hex digits", function()
    assert.matches("^[0-9a-f]+$", swrauth.derive("A", "B"))
    assert.equal(64, #swrauth.derive("A", "B"))
  end)

  it("raises on wrong types with Lua's phrasing", function()
    assert.matches("bad argument #1 to 'derive' %(string expected, got nil%)",
      err_of(swrauth.derive, nil, SK))
    assert.matches("bad argument #2 to 'derive' %(string expected, got table%)",
      err_of(swrauth.derive, AK, {}))
    assert.matches("bad argument #2 to 'derive' %(string expected, got no value%)",
      err_of(swrauth.derive, AK))
  end)

  it("raises on empty, whitespace and control characters, saying which", function()
    assert.matches("bad argument #1 to 'derive' %(AK is empty%)", err_of(swrauth.derive, "", SK))
    assert.matches("bad argument #2 to 'derive' %(SK is empty%)", err_of(swrauth.derive, AK, ""))
    assert.matches("bad argument #2 to 'derive' %(SK has a newline at byte 41 %(a pasted newline%?%)%)$",
      err_of(swrauth.derive, AK, SK .. "\n"))
    assert.matches("bad argument #2 to 'derive' %(SK has a carriage return at byte 41 %(a pasted newline%?%)%)$",
      err_of(swrauth.derive, AK, SK .. "\r\n"))
    assert.matches("%(SK has a carriage return at byte 21 %(whitespace and control characters are not "
      .. "allowed%)%)$", err_of(swrauth.derive, AK, SK:sub(1, 20) .. "\r" .. SK:sub(21)))
    assert.matches("%(AK has a space at byte 1 %(leading or trailing whitespace%?%)%)$",
      err_of(swrauth.derive, " " .. AK, SK))
    assert.matches("%(SK has a NUL byte at byte 3 %(whitespace and control characters are not allowed%)%)$",
      err_of(swrauth.derive, AK, "ab\0cd"))
    assert.matches("%(SK has byte 0xc2 at byte 41 %(a non%-breaking space%?%)%)$",
      err_of(swrauth.derive, AK, SK .. "\xc2\xa0"))
  end)

  it("never quotes the SK in its errors", function()
    local e = err_of(swrauth.derive, AK, SK .. " ")
    assert.is_nil(e:find(SK, 1, true))
  end)

  it("raises on very long input instead of hashing it", function()
    assert.matches("SK is too long %(1048576 bytes, at most 1024%)",
      err_of(swrauth.derive, AK, ("x"):rep(1024 * 1024)))
    assert.equal(64, #swrauth.derive(("a"):rep(1024), ("b"):rep(1024)))
  end)

  it("accepts numbers as strings, as Lua's string functions do", function()
    assert.equal(swrauth.derive("123", "456"), swrauth.derive(123, 456))
  end)
end)

describe("verify", function()
  it("accepts the right key and rejects others", function()
    assert.is_true(swrauth.verify(AK, SK, KEY))
    assert.is_false(swrauth.verify(AK, SK, KEY:upper()))
    assert.is_false(swrauth.verify(AK, SK, KEY:sub(1, 63)))
    assert.is_false(swrauth.verify(AK, SK, KEY .. "0"))
    assert.is_false(swrauth.verify(AK, SK, ""))
    assert.is_false(swrauth.verify(AK, SK .. "x", KEY))
  end)
  it("raises on misuse", function()
    assert.matches("bad argument #3 to 'verify' %(string expected, got nil%)",
      err_of(swrauth.verify, AK, SK, nil))
    assert.matches("bad argument #1 to 'verify' %(AK is empty%)", err_of(swrauth.verify, "", SK, KEY))
  end)
end)

describe("format", function()
  local f = { project = "cn-north-4", ak = "RVHVMXEXAMPLE0000001", key = KEY,
              registry = "swr.cn-north-4.myhuaweicloud.com" }

  it("gives the vendor's docker command exactly", function()
    local cmd, argv = swrauth.format("docker", f)
    assert.equal("docker login -u cn-north-4@RVHVMXEXAMPLE0000001 -p " .. KEY
      .. " swr.cn-north-4.myhuaweicloud.com", cmd)
    assert.same({ "docker", "login", "-u", "cn-north-4@RVHVMXEXAMPLE0000001", "-p", KEY,
                  "swr.cn-north-4.myhuaweicloud.com" }, argv)
  end)

  it("gives each engine's --password-stdin login without the key", function()
    for _, k in ipairs { "docker-stdin", "podman", "buildah", "skopeo", "nerdctl", "helm" } do
      local cmd, argv = swrauth.format(k, f)
      assert.is_nil(cmd:find(KEY, 1, true))
      for _, a in ipairs(argv) do assert.are_not.equal(KEY, a) end
      assert.matches("login %-u cn%-north%-4@RVHVMXEXAMPLE0000001 %-%-password%-stdin "
        .. "swr%.cn%-north%-4%.myhuaweicloud%.com$", cmd)
    end
    assert.equal("helm registry login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
      .. "swr.cn-north-4.myhuaweicloud.com", (swrauth.format("helm", f)))
  end)

  it("gives the vendor's ctr commands exactly", function()
    local g = { project = f.project, ak = f.ak, key = KEY,
                image = "swr.cn-north-4.myhuaweicloud.com/team/app:1.0" }
    assert.equal("ctr image pull --user cn-north-4@RVHVMXEXAMPLE0000001:" .. KEY
      .. " swr.cn-north-4.myhuaweicloud.com/team/app:1.0", (swrauth.format("ctr-pull", g)))
    local cmd, argv = swrauth.format("ctr-push", g)
    assert.equal("ctr image push --user cn-north-4@RVHVMXEXAMPLE0000001:" .. KEY
      .. " swr.cn-north-4.myhuaweicloud.com/team/app:1.0", cmd)
    assert.equal(6, #argv)
  end)

  it("gives user, auth and registry values", function()
    assert.equal("cn-north-4@RVHVMXEXAMPLE0000001", swrauth.format("user", f))
    local auth = swrauth.format("auth", f)
    local t = assert(swrauth.parse("auth", auth))
    assert.equal("cn-north-4@RVHVMXEXAMPLE0000001", t.user)
    assert.equal(KEY, t.password)
    assert.equal("swr.cn-north-4.myhuaweicloud.com", swrauth.format("registry", { project = "cn-north-4_sub" }))
    assert.equal("swr.ap-southeast-1.myhuaweicloud.com", swrauth.format("registry", { project = "ap-southeast-1" }))
    assert.equal(1, select("#", swrauth.format("user", f)))
  end)

  it("defaults the registry from the project", function()
    local cmd = swrauth.format("podman", { project = "cn-south-1_team", ak = "AK1" })
    assert.equal("podman login -u cn-south-1_team@AK1 --password-stdin swr.cn-south-1.myhuaweicloud.com", cmd)
  end)

  it("single-quotes values a shell would interpret, and sh runs nothing else", function()
    local canary = os.tmpname()
    os.remove(canary)
    -- Keys cannot hold whitespace, so the payload uses ${IFS}.
    local evil = "k'$(touch${IFS}" .. canary .. ")`touch${IFS}" .. canary .. "`;touch${IFS}" .. canary .. "|&<>*?"
    local cmd, argv = swrauth.format("docker", { project = "cn-north-4", ak = "AK", key = evil,
                                                 registry = "localhost:5000" })
    assert.equal(evil, argv[6])
    -- Let a real shell split the command: it must give back argv exactly.
    local p = assert(io.popen("sh -c 'for a; do printf \"%s\\n\" \"$a\"; done' sh " .. cmd))
    local words = {}
    for line in p:lines() do words[#words + 1] = line end
    p:close()
    assert.same(argv, words)
    assert.is_nil(io.open(canary, "r"))
  end)

  it("names unknown, missing and mistyped fields", function()
    assert.matches("bad argument #2 to 'format' %(unknown field 'keys'%)",
      err_of(swrauth.format, "docker", { project = "cn-north-4", ak = "A", keys = "k" }))
    assert.matches("bad argument #2 to 'format' %(missing field 'key' for kind 'docker'%)",
      err_of(swrauth.format, "docker", { project = "cn-north-4", ak = "A" }))
    assert.matches("bad argument #2 to 'format' %(missing field 'image' for kind 'ctr%-pull'%)",
      err_of(swrauth.format, "ctr-pull", { project = "cn-north-4", ak = "A", key = "k" }))
    assert.matches("bad argument #2 to 'format' %(field 'ak' must be a string, got number%)",
      err_of(swrauth.format, "user", { project = "cn-north-4", ak = 1 }))
    assert.matches("bad argument #2 to 'format' %(field names must be strings, got number%)",
      err_of(swrauth.format, "user", { "x" }))
    assert.matches("bad argument #2 to 'format' %(table expected, got nil%)",
      err_of(swrauth.format, "user", nil))
    assert.matches("bad argument #1 to 'format' %(invalid option 'dockr'%)",
      err_of(swrauth.format, "dockr", f))
    assert.matches("bad argument #2 to 'format' %(unknown field 'project\\0x'%)",
      err_of(swrauth.format, "user", { ["project\0x"] = "p", project = "cn-north-4", ak = "A" }))
  end)

  it("rejects CR/LF and other injection in any field", function()
    assert.matches("field 'key' has a carriage return at byte 2 %(whitespace and control characters",
      err_of(swrauth.format, "docker", { project = "cn-north-4", ak = "A", key = "k\r\nX" }))
    assert.matches("field 'registry' has a newline at byte 4",
      err_of(swrauth.format, "docker-stdin", { project = "cn-north-4", ak = "A", registry = "a.b\nc" }))
    assert.matches("field 'project' has",
      err_of(swrauth.format, "user", { project = "cn-north-4;rm", ak = "A" }))
    assert.matches("field 'image': ",
      err_of(swrauth.format, "ctr-pull", { project = "cn-north-4", ak = "A", key = "k",
                                           image = "a.b/x y" }))
  end)

  it("never quotes the key in its errors", function()
    local e = err_of(swrauth.format, "docker", { project = "cn-north-4", ak = "A", key = "secret value" })
    assert.is_nil(e:find("secret", 1, true))
  end)
end)

-- luacheck: std +busted
-- Specs of swrauth.check, base64, unbase64, sha256, parse("registry") and
-- format("api") through the Lua binding: exact messages, and known
-- answers (sha256 of "", "abc" and 1 MiB against `openssl dgst`).
local swrauth = require "swrauth"

local KEY = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34"
local DIGEST = "sha256:" .. ("0123456789abcdef"):rep(4)

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return e
end

-- check(kind, value) fails with exactly msg (falsy first result).
local function refused(kind, value, msg)
  local ok, err = swrauth.check(kind, value)
  assert.falsy(ok)
  assert.are.equal(msg, err)
end

local function accepted(kind, value)
  local ok, err = swrauth.check(kind, value)
  assert.are.equal(true, ok, err)
  assert.is_nil(err)
end

-- The lowercase hex SHA-256 of a file, by openssl.
local function openssl_sha256(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  local p = assert(io.popen("openssl dgst -sha256 -r " .. path))
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out:match("^(%x+)")
end

describe("check", function()
  it("takes the kinds it knows and raises on misuse", function()
    assert.matches("bad argument #1 to 'check' %(invalid option 'x'%)", err_of(swrauth.check, "x", "y"))
    assert.matches("bad argument #1 to 'check' %(invalid option 'project\\0'%)",
      err_of(swrauth.check, "project\0", "cn-north-4"))
    assert.matches("bad argument #2 to 'check' %(string expected, got no value%)",
      err_of(swrauth.check, "project"))
    assert.matches("bad argument #2 to 'check' %(string expected, got nil%)",
      err_of(swrauth.check, "project", nil))
    assert.matches("bad argument #2 to 'check' %(string expected, got number%)",
      err_of(swrauth.check, "tag", 1))
    assert.matches("bad argument #1 to 'check' %(string expected, got table%)",
      err_of(swrauth.check, {}, "x"))
  end)

  it("project: region[_sub-project], as format takes it", function()
    accepted("project", "cn-north-4")
    accepted("project", "cn-north-4_team.a-B_c")
    accepted("project", "eu-west-101")
    refused("project", "", "is empty")
    refused("project", "CN-north-4", "has 'C' at byte 1: a region is lowercase letters, digits and '-'")
    refused("project", "4cn", "must start with a region such as 'cn-north-4' (a lowercase letter first)")
    refused("project", "_team", "must start with a region such as 'cn-north-4' (a lowercase letter first)")
    refused("project", "cn north", "has a space at byte 3: a region is lowercase letters, digits and '-'")
    refused("project", "cn-north-4\n", "has a newline at byte 11: a region is lowercase letters, digits and '-'")
    refused("project", "cn-north-4-", "has a region ending with '-' at byte 11 (the region names the registry host)")
    refused("project", "cn-north-4_", "has an empty sub-project after '_' at byte 11")
    refused("project", "cn-north-4_a/b", "has '/' at byte 13: a sub-project is letters, digits, '_', '-' and '.'")
    refused("project", ("a"):rep(65), "has a region that is too long (65 bytes, at most 64)")
    refused("project", "a_" .. ("b"):rep(127), "is too long (129 bytes, at most 128)")
  end)

  it("project: the same grammar as format and parse('user'), their own subjects", function()
    assert.matches("field 'project' has 'C' at byte 1: a region is lowercase",
      err_of(swrauth.format, "registry", { project = "CN-north-4" }))
    assert.are.equal("user: the project has 'C' at byte 1: a region is lowercase letters, digits and '-'",
      select(2, swrauth.parse("user", "CN-north-4@AK")))
  end)

  it("registry: HOST[:PORT] with a '.', localhost or an IP address", function()
    for _, r in ipairs { "swr.cn-north-4.myhuaweicloud.com", "r.example.com:5000", "localhost",
                         "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "[fe80::1]", "Registry.Example.COM" } do
      accepted("registry", r)
    end
    refused("registry", "", "is empty")
    local NOT_HOST = "is not a registry host: give a host name with a '.' (or 'localhost'), optionally with :port"
    refused("registry", "registry", NOT_HOST)
    -- A host with a port is one, as docker reads "registry:5000/x".
    accepted("registry", "registry:5000")
    refused("registry", "https://r.example.com",
      "starts with a URL scheme: give a host name with an optional :port, without 'scheme://'")
    refused("registry", "r.example.com/team", "has '/' at byte 14: give a host name with an optional :port")
    refused("registry", "r.example.com ", "has a space at byte 14: give a host name with an optional :port")
    refused("registry", "r.example.com:0", "has a port out of range at byte 15 (a port is 1 to 65535)")
    refused("registry", "r.example.com:65536", "has a port out of range at byte 15 (a port is 1 to 65535)")
    refused("registry", "-r.example.com", NOT_HOST)
    refused("registry", ("r"):rep(252) .. ".com", "is too long (256 bytes, at most 255)")
  end)

  it("repository: NS/NAME as pushed, without the registry", function()
    accepted("repository", "team/app")
    accepted("repository", "app")
    accepted("repository", "team/sub/app-x__y.z")
    accepted("repository", "a--b/c")
    refused("repository", "", "is empty")
    refused("repository", "swr.cn-north-4.myhuaweicloud.com/team/app",
      "starts with a registry host: give NS/NAME without the registry")
    refused("repository", "localhost/app", "starts with a registry host: give NS/NAME without the registry")
    refused("repository", "r:5000/app", "starts with a registry host: give NS/NAME without the registry")
    refused("repository", "team/app:1.0", "has ':' at byte 9: give NS/NAME without a tag or digest")
    refused("repository", "team/app@" .. DIGEST, "has '@' at byte 9: give NS/NAME without a tag or digest")
    refused("repository", "Team/app", "has 'T' at byte 1: a repository is lowercase")
    refused("repository", "team/", "ends with '/' at byte 5")
    refused("repository", "/app", "has an empty path component at byte 1")
    refused("repository", "team//app", "has an empty path component at byte 6")
    refused("repository", "team/-app", "has '-' at byte 6: a path component starts with a-z or 0-9")
    refused("repository", "team/app-", "has a path component ending with '-' at byte 9")
    local SEP = ": a separator ('.', '_', '__' or '-'s) comes between a-z or 0-9"
    refused("repository", "team/a._b", "has '_' at byte 8" .. SEP)
    refused("repository", "team/a___b", "has '_' at byte 9" .. SEP)
    refused("repository", "team/a b",
      "has a space at byte 7: a repository is a-z, 0-9, separators ('.', '_', '__', '-') and '/'")
    refused("repository", ("a"):rep(256), "is too long (256 bytes, at most 255)")
    accepted("repository", ("a"):rep(255))
  end)

  it("tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", function()
    accepted("tag", "1.4.2")
    accepted("tag", "_v1.4.2-RC.1")
    accepted("tag", ("t"):rep(128))
    refused("tag", "", "is empty")
    refused("tag", ".hidden", "has '.' at byte 1: a tag starts with a letter, a digit or '_'")
    refused("tag", "-x", "has '-' at byte 1: a tag starts with a letter, a digit or '_'")
    refused("tag", "1.4.2\n", "has a newline at byte 6: a tag is letters, digits, '_', '.' and '-'")
    refused("tag", "v1+build", "has '+' at byte 3: a tag is letters, digits, '_', '.' and '-'")
    refused("tag", ("t"):rep(129), "is too long (129 bytes, at most 128)")
  end)

  it("ak: printable ASCII without '@' or ':', naming the character", function()
    accepted("ak", "RVHVMXEXAMPLE0000001")
    accepted("ak", "!#$%&'()*+,-./;<=>?[]^_`{|}~")
    refused("ak", "", "is empty")
    refused("ak", "RVHVMXEXAMPLE0000001\n", "has a newline at byte 21 (a pasted newline?)")
    refused("ak", "RVHVMXEXAMPLE0000001\r\n", "has a carriage return at byte 21 (a pasted newline?)")
    refused("ak", "RVHVMX\nEXAMPLE", "has a newline at byte 7 (whitespace and control characters are not allowed)")
    refused("ak", " RVHVMX", "has a space at byte 1 (leading or trailing whitespace?)")
    refused("ak", "RV\0HV", "has a NUL byte at byte 3 (whitespace and control characters are not allowed)")
    refused("ak", "RV\xc2\xa0HV", "has byte 0xc2 at byte 3 (a non-breaking space?)")
    refused("ak", "RV\xe2\x80\x8bHV", "has byte 0xe2 at byte 3 (only printable ASCII is allowed)")
    refused("ak", "cn-north-4@AK", "has '@' at byte 11 (an AK cannot hold '@' or ':', which separate PROJECT@AK:KEY)")
    refused("ak", "AK:KEY", "has ':' at byte 3 (an AK cannot hold '@' or ':', which separate PROJECT@AK:KEY)")
    refused("ak", ("A"):rep(1025), "is too long (1025 bytes, at most 1024)")
  end)

  it("key: 64 lowercase hex digits, never quoted", function()
    accepted("key", KEY)
    refused("key", "", "is empty")
    refused("key", KEY .. "\n", "must be 64 lowercase hex digits, got 65 characters: a pasted newline at the end?")
    refused("key", KEY .. "\r\n", "must be 64 lowercase hex digits, got 66 characters: a pasted newline at the end?")
    refused("key", KEY:sub(1, 63), "must be 64 lowercase hex digits, got 63 characters")
    refused("key", KEY .. "0", "must be 64 lowercase hex digits, got 65 characters")
    refused("key", KEY:upper(), "has an uppercase hex digit at byte 3 (a login key is lowercase)")
    refused("key", "g" .. KEY:sub(2),
      "has a letter other than a-f at byte 1 (a login key is 64 lowercase hex digits)")
    refused("key", KEY:sub(1, 10) .. " " .. KEY:sub(12),
      "has a space at byte 11 (a login key is 64 lowercase hex digits)")
    -- a secret pasted in the wrong place is never quoted, not even a letter of it
    local _, err = swrauth.check("key", ("S"):rep(64))
    assert.is_nil(err:find("'S'", 1, true))
  end)

  it("image: a reference, as parse('image') takes it", function()
    accepted("image", "nginx")
    accepted("image", "swr.cn-north-4.myhuaweicloud.com/team/app:1.4.2@" .. DIGEST)
    refused("image", "", "is empty")
    refused("image", "team/App",
      "is not an image reference (repository name must be lowercase ('A' at byte 6))")
    refused("image", "r.io/app:", "is not an image reference (invalid reference format: empty tag after ':' at byte 9)")
    refused("image", ("a"):rep(1025), "is too long (1025 bytes, at most 1024)")
    for _, s in ipairs { "a", "A", "a/b:c", "r.io//x", "x@sha256:00", "localhost:5000/a" } do
      assert.are.equal(swrauth.parse("image", s) ~= nil, swrauth.check("image", s) == true, s)
    end
  end)

  it("sk: as derive takes it, naming only whitespace, control and non-ASCII bytes", function()
    accepted("sk", "SKEXAMPLE0123456789012345678901234567890")
    accepted("sk", "a@b:c")
    refused("sk", "", "is empty")
    refused("sk", "abc\n", "has a newline at byte 4 (a pasted newline?)")
    refused("sk", "abc\r\n", "has a carriage return at byte 4 (a pasted newline?)")
    refused("sk", "a c", "has a space at byte 2 (whitespace and control characters are not allowed)")
    refused("sk", ("s"):rep(1025), "is too long (1025 bytes, at most 1024)")
    -- Exactly when derive takes it.
    for _, sk in ipairs {"x", "a b", "\0", "é", ("s"):rep(1024)} do
      assert.equal(swrauth.check("sk", sk) == true, (pcall(swrauth.derive, "AK", sk)))
    end
  end)

  it("digest: sha256: and 64 lowercase hex digits", function()
    accepted("digest", DIGEST)
    refused("digest", "", "is empty")
    local NOT_SHA256 = "must start with 'sha256:' (a digest is 'sha256:' and 64 lowercase hex digits)"
    refused("digest", ("0"):rep(64), NOT_SHA256)
    refused("digest", "sha512:" .. ("0"):rep(128), NOT_SHA256)
    refused("digest", DIGEST:upper(), NOT_SHA256)
    refused("digest", "sha256:" .. ("A"):rep(64), "has an uppercase hex digit at byte 8 (a digest is lowercase)")
    refused("digest", DIGEST .. "\n", "has a newline at byte 72: a digest is 'sha256:' and 64 lowercase hex digits")
    refused("digest", DIGEST:sub(1, -2), "has 63 hex digits after 'sha256:' (a digest has 64)")
  end)
end)

describe("base64", function()
  it("encodes with the standard alphabet and padding (RFC 4648 vectors)", function()
    local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
                      fooba = "Zm9vYmE=", foobar = "Zm9vYmFy", ["\251\255"] = "+/8=" }
    for plain, enc in pairs(vectors) do
      assert.are.equal(enc, swrauth.base64(plain))
      assert.are.equal(plain, swrauth.unbase64(enc))
    end
  end)

  it("round-trips every byte and large inputs (5 MiB)", function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    local all = table.concat(t)
    assert.are.equal(all, swrauth.unbase64(swrauth.base64(all)))
    local big = all:rep(5 * 4096 + 1)
    local enc = swrauth.base64(big)
    assert.are.equal(4 * math.ceil(#big / 3), #enc)
    assert.are.equal(big, swrauth.unbase64(enc))
  end)

  it("raises on misuse", function()
    assert.matches("bad argument #1 to 'base64' %(string expected, got no value%)", err_of(swrauth.base64))
    assert.matches("bad argument #1 to 'base64' %(string expected, got nil%)", err_of(swrauth.base64, nil))
    assert.matches("bad argument #1 to 'unbase64' %(string expected, got table%)", err_of(swrauth.unbase64, {}))
  end)
end)

describe("unbase64", function()
  it("refuses what Go's StdEncoding refuses, saying at which byte", function()
    local function bad(s, msg)
      local v, err = swrauth.unbase64(s)
      assert.falsy(v)
      assert.are.equal(msg, err)
    end
    bad("Zm9", "bad base64: missing '=' padding at byte 4")
    bad("Zg", "bad base64: missing '=' padding at byte 3")
    bad("Z", "bad base64: a length of 1 characters is not possible (one is missing or extra)")
    bad("Zg=", "bad base64: wrong padding at byte 3")
    bad("Zm9v\n", "bad base64: a newline at byte 5 (a pasted trailing newline?)")
    bad("Zm 9v", "bad base64: a space at byte 3")
    bad("Zm-v", "bad base64: '-' at byte 3")
    bad("Zg==Zg==", "bad base64: '=' at byte 3 is not at the end")
    bad(("QUFB"):rep(1000) .. "Q", "bad base64: a length of 4001 characters is not possible (one is missing or extra)")
  end)

  it("ignores the unused low bits of the last character, as StdEncoding does", function()
    assert.are.equal("f", swrauth.unbase64("Zh=="))
  end)
end)

describe("sha256", function()
  it("gives the known answers", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", swrauth.sha256(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", swrauth.sha256("abc"))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      swrauth.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
  end)

  it("equals openssl dgst on 1 MiB and on every length around a block", function()
    local t = {}
    for i = 1, 1024 * 1024 do t[i] = string.char((i * 131 + 7) % 256) end
    local mib = table.concat(t)
    assert.are.equal(openssl_sha256(mib), swrauth.sha256(mib))
    local parts = {}
    for n = 54, 130 do parts[#parts + 1] = mib:sub(1, n) end
    local all = table.concat(parts, "\n")
    assert.are.equal(openssl_sha256(all), swrauth.sha256(all))
  end)

  it("checks a manifest against its digest", function()
    local manifest = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
    local digest = "sha256:" .. swrauth.sha256(manifest)
    assert.is_true(swrauth.check("digest", digest))
    assert.are.equal(digest, "sha256:" .. openssl_sha256(manifest))
  end)

  it("accepts numbers as strings and raises on other types", function()
    assert.are.equal(swrauth.sha256("1"), swrauth.sha256(1))
    assert.matches("bad argument #1 to 'sha256' %(string expected, got boolean%)", err_of(swrauth.sha256, true))
  end)
end)

describe("parse registry", function()
  it("gives the region of an SWR registry host", function()
    assert.are.same({ region = "cn-north-4", host = "swr.cn-north-4.myhuaweicloud.com" },
      swrauth.parse("registry", "swr.cn-north-4.myhuaweicloud.com"))
    assert.are.same({ region = "eu-west-101", host = "swr.eu-west-101.myhuaweicloud.eu" },
      swrauth.parse("registry", "swr.eu-west-101.myhuaweicloud.eu"))
    assert.are.same({ region = "xx-new-9", host = "swr.xx-new-9.myhuaweicloud.com" },
      swrauth.parse("registry", "swr.xx-new-9.myhuaweicloud.com"))
  end)

  it("refuses any other host", function()
    local function bad(s, msg)
      local t, err = swrauth.parse("registry", s)
      assert.falsy(t)
      assert.are.equal(msg, err)
    end
    local NOT = "registry host is not an SWR registry host (swr.REGION.myhuaweicloud.com)"
    bad("", "registry host is empty")
    bad("r.example.com", NOT)
    bad("swr.cn-north-4.myhuaweicloud.com:443", NOT)
    bad("swr.cn-north-4.myhuaweicloud.com/", NOT)
    bad("SWR.cn-north-4.myhuaweicloud.com", NOT)
    bad("swr.cn-north-4.MyHuaweiCloud.com", NOT)
    bad("swr.cn-north-4.example.com", NOT)
    bad("swr.myhuaweicloud.com", NOT)
    bad("swr.cn-north-4.myhuaweicloud.eu",
      "registry host is not the SWR registry host of region cn-north-4 (swr.cn-north-4.myhuaweicloud.com)")
    bad("swr.eu-west-101.myhuaweicloud.com",
      "registry host is not the SWR registry host of region eu-west-101 (swr.eu-west-101.myhuaweicloud.eu)")
    bad("swr.CN-north-4.myhuaweicloud.com",
      "registry host has 'C' at byte 5: a region is lowercase letters, digits and '-'")
    bad("swr.cn_north.myhuaweicloud.com",
      "registry host has '_' at byte 7: a region is lowercase letters, digits and '-'")
    bad("swr.cn-north-.myhuaweicloud.com",
      "registry host has a region ending with '-' at byte 13 (the region names the registry host)")
    bad("swr..myhuaweicloud.com",
      "registry host has no region after 'swr.' (a region starts with a lowercase letter)")
  end)

  it("reads back what format('registry') gives", function()
    for _, p in ipairs { "cn-north-4", "ap-southeast-1_team", "eu-west-101", "eu-west-101_x.y" } do
      local t = assert(swrauth.parse("registry", swrauth.format("registry", { project = p })))
      assert.are.equal(p:match("^[^_]+"), t.region)
    end
  end)
end)

describe("format registry and api", function()
  it("gives the region's hosts from one table (eu-west-101 is on myhuaweicloud.eu)", function()
    assert.are.equal("swr.cn-north-4.myhuaweicloud.com", swrauth.format("registry", { project = "cn-north-4" }))
    assert.are.equal("swr-api.cn-north-4.myhuaweicloud.com", swrauth.format("api", { project = "cn-north-4_sub" }))
    assert.are.equal("swr.eu-west-101.myhuaweicloud.eu", swrauth.format("registry", { project = "eu-west-101" }))
    assert.are.equal("swr-api.eu-west-101.myhuaweicloud.eu", swrauth.format("api", { project = "eu-west-101_x" }))
    assert.are.equal("swr-api.xx-new-9.myhuaweicloud.com", swrauth.format("api", { project = "xx-new-9" }))
    assert.are.equal("docker login -u eu-west-101@AK --password-stdin swr.eu-west-101.myhuaweicloud.eu",
      (swrauth.format("docker-stdin", { project = "eu-west-101", ak = "AK" })))
    assert.are.equal(1, select("#", swrauth.format("api", { project = "cn-north-4" })))
  end)

  it("checks the project and takes only it", function()
    assert.matches("bad argument #2 to 'format' %(missing field 'project' for kind 'api'%)",
      err_of(swrauth.format, "api", {}))
    assert.matches("bad argument #2 to 'format' %(field 'project' must start with a region",
      err_of(swrauth.format, "api", { project = "4x" }))
    assert.matches("bad argument #2 to 'format' %(unknown field 'region'%)",
      err_of(swrauth.format, "api", { project = "cn-north-4", region = "x" }))
  end)
end)

describe("parse image", function()
  it("gives repository, namespace, name and reference as before (derived in the core)", function()
    assert.are.same({ registry = "docker.io", repository = "library/nginx", namespace = "library",
                      name = "nginx", tag = "latest", reference = "docker.io/library/nginx:latest",
                      registry_given = false },
      swrauth.parse("image", "nginx"))
    assert.are.same({ registry = "r.io", repository = "app", name = "app", digest = DIGEST,
                      reference = "r.io/app@" .. DIGEST, registry_given = true },
      swrauth.parse("image", "r.io/app@" .. DIGEST))
    assert.are.same({ registry = "docker.io", repository = "library/nginx", namespace = "library",
                      name = "nginx", tag = "1", digest = DIGEST,
                      reference = "docker.io/library/nginx:1@" .. DIGEST, registry_given = true },
      swrauth.parse("image", "index.docker.io/nginx:1@" .. DIGEST))
    local t = swrauth.parse("image", "swr.cn-north-4.myhuaweicloud.com/a/b/c:1.0")
    assert.are.equal("a/b", t.namespace)
    assert.are.equal("c", t.name)
    assert.are.equal("a/b/c", t.repository)
  end)
end)

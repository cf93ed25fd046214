-- luacheck: std +busted
-- Specs of parse("image"): Docker Distribution references, normalised as
-- docker does (docker.io, library/, latest). The exhaustive table is the C
-- one (tests/c/test_image.c); these check what the binding hands to Lua.
-- Cases marked [ref] come from github.com/distribution/reference's
-- reference_test.go and normalize_test.go.
local swrauth = require "swrauth"

local H64 = string.rep("0123456789abcdef", 4)
local D256 = "sha256:" .. H64
local D512 = "sha512:" .. string.rep("f", 128)

local function parse(s)
  return swrauth.parse("image", s)
end

-- Asserts that s parses to exactly the fields in want (absent ones nil).
local function same(s, want)
  local t, err = parse(s)
  assert.is_table(t, err)
  for _, k in ipairs({ "registry", "repository", "namespace", "name", "tag",
                       "digest", "reference" }) do
    assert.are.equal(want[k], t[k], ("field %s of %q"):format(k, s))
  end
end

-- Asserts that s is refused with a message matching the Lua pattern pat.
local function refused(s, pat)
  local t, err = parse(s)
  assert.falsy(t)
  assert.is_string(err)
  assert.matches(pat, err)
end

describe("parse image", function()
  it("says whether the reference names its registry", function()
    assert.is_false(parse("team/app:1").registry_given)
    assert.is_false(parse("ubuntu").registry_given)
    assert.is_true(parse("docker.io/team/app").registry_given)
    assert.is_true(parse("localhost/app").registry_given)
    assert.is_true(parse("r.example:5000/team/app:1").registry_given)
  end)
  it("defaults the registry, library/ and the tag", function()
    same("ubuntu", { registry = "docker.io", repository = "library/ubuntu",
                     namespace = "library", name = "ubuntu", tag = "latest",
                     reference = "docker.io/library/ubuntu:latest" })
  end)

  it("keeps a two-part Docker Hub name as is [ref]", function()
    same("dmcgowan/myapp:1.0", {
      registry = "docker.io", repository = "dmcgowan/myapp",
      namespace = "dmcgowan", name = "myapp", tag = "1.0",
      reference = "docker.io/dmcgowan/myapp:1.0" })
  end)

  it("reads an SWR image", function()
    same("swr.cn-north-4.myhuaweicloud.com/team/app:1.0", {
      registry = "swr.cn-north-4.myhuaweicloud.com", repository = "team/app",
      namespace = "team", name = "app", tag = "1.0",
      reference = "swr.cn-north-4.myhuaweicloud.com/team/app:1.0" })
  end)

  it("keeps nested namespaces", function()
    same("r.example/a/b/c", {
      registry = "r.example", repository = "a/b/c", namespace = "a/b",
      name = "c", tag = "latest", reference = "r.example/a/b/c:latest" })
  end)

  it("has no namespace for a one-part path off Docker Hub", function()
    same("localhost:5000/app", {
      registry = "localhost:5000", repository = "app", name = "app",
      tag = "latest", reference = "localhost:5000/app:latest" })
  end)

  it("normalises docker.io and index.docker.io [ref]", function()
    for _, s in ipairs({ "docker.io/debian", "index.docker.io/debian" }) do
      same(s, { registry = "docker.io", repository = "library/debian",
                namespace = "library", name = "debian", tag = "latest",
                reference = "docker.io/library/debian:latest" })
    end
    same("index.docker.io/docker/docker", {
      registry = "docker.io", repository = "docker/docker",
      namespace = "docker", name = "docker", tag = "latest",
      reference = "docker.io/docker/docker:latest" })
  end)

  it("takes a digest without a tag, and adds no tag", function()
    same("redis@" .. D256, {
      registry = "docker.io", repository = "library/redis",
      namespace = "library", name = "redis", digest = D256,
      reference = "docker.io/library/redis@" .. D256 })
  end)

  it("keeps both a tag and a digest [ref]", function()
    same("busybox:latest@" .. D256, {
      registry = "docker.io", repository = "library/busybox",
      namespace = "library", name = "busybox", tag = "latest", digest = D256,
      reference = "docker.io/library/busybox:latest@" .. D256 })
  end)

  it("takes sha512 digests [ref]", function()
    local t = assert(parse("xn--7o8h.com/myimage:xn--7o8h.com@" .. D512))
    assert.are.equal("xn--7o8h.com", t.registry)
    assert.are.equal("xn--7o8h.com", t.tag)
    assert.are.equal(D512, t.digest)
  end)

  it("reads a number after ':' with no '/' as a tag [ref]", function()
    local t = assert(parse("192.168.0.1:80"))
    assert.are.equal("docker.io", t.registry)
    assert.are.equal("library/192.168.0.1", t.repository)
    assert.are.equal("80", t.tag)
  end)

  it("takes IPv4 and bracketed IPv6 registries with ports [ref]", function()
    assert.are.equal("192.168.1.1:5000", assert(parse("192.168.1.1:5000/repo")).registry)
    assert.are.equal("[2001:db8::1]:5000", assert(parse("[2001:db8::1]:5000/repo:tag")).registry)
    assert.are.equal("[::1]", assert(parse("[::1]/repo")).registry)
  end)

  it("treats localhost and uppercase first parts as registries [ref]", function()
    assert.are.equal("localhost", assert(parse("localhost/foo")).registry)
    assert.are.equal("Foo", assert(parse("Foo/bar")).registry)
    local t = assert(parse("localhost"))
    assert.are.equal("library/localhost", t.repository)
  end)

  it("takes every separator form [ref]", function()
    for _, s in ipairs({ "a.b", "a_b", "a__b", "a-b", "docker---rules/docker",
                         "dock__er/docker", "ubuntu-12.04-base" }) do
      assert.is_table(parse(s), s)
    end
  end)

  it("keeps an uppercase tag", function()
    assert.are.equal("Uppercase", assert(parse("lowercase:Uppercase")).tag)
  end)

  it("takes a tag of 128 characters and a path of 255 (library/ counted, the domain not)", function()
    assert.is_table(parse("foo:" .. ("a"):rep(128)))
    assert.is_table(parse(("a"):rep(247)))                       -- library/ + 247
    assert.is_table(parse(("a/"):rep(127) .. "a"))
    assert.is_table(parse("registry.example.com:5000/" .. ("a/"):rep(127) .. "a"))
  end)

  it("refuses empty input", function()
    refused("", "empty")
  end)

  it("refuses uppercase repository names [ref]", function()
    refused("Uppercase:tag", "must be lowercase")
    refused("docker/Docker", "must be lowercase %('D' at byte 8%)")
    refused("test:5000/Uppercase/lowercase:tag", "must be lowercase")
  end)

  it("refuses bad separators and empty components [ref]", function()
    refused("-docker", "'%-' at byte 1")
    refused("docker-/docker", "ends with '%-' at byte 7")
    refused("____/____", "'_' at byte 1")
    refused("a___b", "'_' at byte 4")
    refused("docker///docker", "empty path component")
    refused("docker/", "ends with '/' at byte 7")
    refused("foo/../bar", "'%.' at byte 5")
  end)

  it("refuses bad domains [ref]", function()
    refused("https://github.com/docker/docker", "invalid domain \"https:\": empty port")
    refused("-docker.io/docker/docker", "cannot start with '%-'")
    refused("[fe80::1%eth0]:5000/debian", "'%%' at byte 9")
    refused("[2001:db8::1]:5000", "'%[' at byte 1")
    refused("foo.com:5x/bar", "not allowed in a port")
  end)

  it("refuses a trailing ':' or '@'", function()
    refused("foo:", "empty tag after ':' at byte 4")
    refused("foo@", "empty digest after '@' at byte 4")
  end)

  it("refuses bad tags", function()
    refused("busybox:-foo", "invalid tag \"%-foo\" at byte 9")
    refused("foo:a:b", "':' is not allowed")
    refused("foo:" .. ("a"):rep(129), "tag is longer than 128 characters")
  end)

  it("refuses names over 255 characters [ref]", function()
    refused(("a/"):rep(128) .. "a:tag", "must not be more than 255 characters")
    refused(("a"):rep(256), "must not be more than 255 characters %(got 264, counting docker.io's 'library/'%)")
    -- as docker 26+ (distribution/reference v0.6) counts it: found by fuzz_parse_image
    refused(("a"):rep(248), "must not be more than 255 characters %(got 256, counting")
    refused("registry.example.com/" .. ("a/"):rep(127) .. "ab", "must not be more than 255 characters %(got 256%)")
  end)

  it("refuses a bare 64-hex image ID [ref]", function()
    refused("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "cannot specify 64%-byte hexadecimal strings")
  end)

  it("refuses unsupported or malformed digests [ref]", function()
    refused("validname@invaliddigest:" .. H64, "digest: unsupported algorithm \"invaliddigest\"")
    refused("foo@md5:" .. H64:sub(1, 32), "unsupported algorithm \"md5\"")
    refused("repo@sha256:" .. ("f"):rep(34), "digest: sha256 needs 64 hex digits, got 34")
    refused("foo@sha256:" .. H64:upper(), "must be lowercase")
    refused("foo@sha256:" .. H64:sub(1, 63) .. "g", "'g' at byte 75 is not a hex digit")
  end)

  it("refuses whitespace, NUL and non-ASCII bytes without echoing them", function()
    refused("foo bar", "a space at byte 4")
    refused("foo\n", "a newline at byte 4")
    refused("foo\0bar", "a NUL byte at byte 4")
    refused("caf\195\169", "byte 0xc3 at byte 4")
    local _, err = parse("foo:t\1x")
    assert.matches("\\x01", err, 1, true)
    assert.falsy(err:find("[%z\1-\31\127-\255]"))
  end)

  it("refuses input over 1024 bytes", function()
    refused(("a"):rep(1025), "too long")
  end)
end)

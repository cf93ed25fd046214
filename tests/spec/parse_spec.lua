-- luacheck: std +busted
-- Specs of parse("credentials"), parse("login"), parse("user") and
-- parse("auth") through the Lua binding, and round trips through format.
-- The exhaustive tables are the C ones (tests/c/test_csv.c,
-- test_login.c, test_parse.c); these check what reaches Lua.
local swrauth = require "swrauth"

local AK = "QTWAOYTTINDUT2QVKYUC"
local SK = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
local KEY = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34"
local REG = "swr.cn-north-4.myhuaweicloud.com"
local HDR = "User Name,Access Key Id,Secret Access Key"

-- Asserts that parse(kind, text) fails with exactly msg, and that the
-- message holds no secret marker.
local function refused(kind, text, msg)
  local t, err = swrauth.parse(kind, text)
  assert.falsy(t)
  assert.are.equal(msg, err)
  assert.falsy(err:find("SECRET", 1, true))
end

describe("parse credentials", function()
  it("reads the console's file", function()
    local rows = assert(swrauth.parse("credentials", HDR .. "\n" .. "alice," .. AK .. "," .. SK .. "\n"))
    assert.are.same({ { user = "alice", ak = AK, sk = SK, line = 2 } }, rows)
  end)

  it("gives keys that derive takes", function()
    local rows = assert(swrauth.parse("credentials", "\239\187\191" .. HDR .. "\r\nalice," .. AK .. "," .. SK))
    assert.are.equal(KEY, swrauth.derive(rows[1].ak, rows[1].sk))
  end)

  it("finds columns by name in any order, any case; no user column means no user", function()
    local rows = assert(swrauth.parse("credentials",
      " secret access key ,Note,ACCESS KEY ID\r\n" .. SK .. ",\"a, \"\"b\"\"\n c\"," .. AK .. "\r\n"))
    assert.are.same({ { ak = AK, sk = SK, line = 2 } }, rows)
    assert.is_nil(rows[1].user)
  end)

  it("reads several rows, skipping blank lines, with their line numbers", function()
    local rows = assert(swrauth.parse("credentials",
      "\n" .. HDR .. "\n\na,A1,S1\r\n,,\n\"b\nc\",A2,S2\rd,A3,S3\n\n"))
    assert.are.equal(3, #rows)
    assert.are.same({ user = "a", ak = "A1", sk = "S1", line = 4 }, rows[1])
    assert.are.same({ user = "b\nc", ak = "A2", sk = "S2", line = 6 }, rows[2])
    assert.are.same({ user = "d", ak = "A3", sk = "S3", line = 8 }, rows[3])
  end)

  it("returns user names byte for byte (formulas, shell text, NUL, bad UTF-8)", function()
    local users = { "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "$(rm -rf /);`id`", "a\0b", "\255\254", "" }
    local lines = { HDR }
    for i, u in ipairs(users) do
      lines[#lines + 1] = '"' .. u:gsub('"', '""') .. '",A' .. i .. ",S" .. i
    end
    local rows = assert(swrauth.parse("credentials", table.concat(lines, "\n")))
    assert.are.equal(#users, #rows)
    for i, u in ipairs(users) do assert.are.equal(u, rows[i].user) end
  end)

  it("refuses a file with no rows", function()
    refused("credentials", HDR .. "\r\n\r\n", "no credentials rows")
  end)

  it("names the line and the column of what is wrong", function()
    refused("credentials", "", "empty input")
    refused("credentials", "User Name,Access Key Id\nu,A1\n", "line 1: missing column 'Secret Access Key'")
    refused("credentials", HDR .. "\na,A1,S1\nb,A2\n", "line 3: row has 2 fields, the header has 3")
    refused("credentials", HDR .. "\nu,\"A1,SECRET\n", "line 2: unterminated quoted field")
    refused("credentials", HDR .. "\na,A1,S1\nb,A2,S2\nc,,SECRET\n", "line 4: empty 'Access Key Id'")
    refused("credentials", HDR .. "\nu,A1,SECRET KEY\n",
      "line 2: 'Secret Access Key' has a space at byte 7 (whitespace and control characters are not allowed)")
    refused("credentials", HDR .. "\nu,A1," .. ("S"):rep(1025) .. "\n",
      "line 2: 'Secret Access Key' is too long (more than 1024 bytes)")
  end)

  it("takes a 1 MiB file", function()
    local lines = { HDR }
    local size = #HDR
    while size < 1024 * 1024 do
      local l = ("user%d,AK%016d,SK%d"):format(#lines, #lines, #lines)
      lines[#lines + 1] = l
      size = size + #l + 1
    end
    local rows = assert(swrauth.parse("credentials", table.concat(lines, "\n")))
    assert.are.equal(#lines - 1, #rows)
    assert.are.equal(#lines, rows[#rows].line)
  end)
end)

describe("parse login", function()
  it("reads the vendor's docker command", function()
    local t = assert(swrauth.parse("login",
      "docker login -u cn-north-4@" .. AK .. " -p " .. KEY .. " " .. REG .. "\n"))
    assert.are.same({ engine = "docker", action = "login", user = "cn-north-4@" .. AK,
                      project = "cn-north-4", ak = AK, key = KEY, registry = REG,
                      password_stdin = false }, t)
  end)

  it("reads the vendor's ctr commands; the registry comes from the image", function()
    local t = assert(swrauth.parse("login",
      "ctr image pull --user cn-north-4@" .. AK .. ":" .. KEY .. " " .. REG .. "/ns/app:1.0"))
    assert.are.same({ engine = "ctr", action = "pull", user = "cn-north-4@" .. AK,
                      project = "cn-north-4", ak = AK, key = KEY, registry = REG,
                      image = REG .. "/ns/app:1.0", password_stdin = false }, t)
    t = assert(swrauth.parse("login", "sudo ctr -n k8s.io i push --user u:k:2 busybox"))
    assert.are.equal("push", t.action)
    assert.are.equal("docker.io", t.registry)
    assert.are.equal("k:2", t.key)
    assert.is_nil(t.project)
  end)

  it("reads --password-stdin forms of every engine", function()
    for _, cmd in ipairs({ "docker login", "podman login --tls-verify=false", "buildah login",
                           "skopeo login", "nerdctl --namespace k8s.io login",
                           "helm registry login --insecure" }) do
      local t = assert(swrauth.parse("login", cmd .. " -u cn-north-4_sub@AK --password-stdin " .. REG))
      assert.are.equal(cmd:match("^%S+"), t.engine)
      assert.are.equal("login", t.action)
      assert.is_true(t.password_stdin)
      assert.is_nil(t.key)
      assert.are.equal("cn-north-4_sub", t.project)
      assert.are.equal("AK", t.ak)
    end
  end)

  it("unquotes like a shell and expands nothing", function()
    local t = assert(swrauth.parse("login",
      [[/usr/bin/docker login -u 'alice' --password='a b'\''c"$HOME' "r.example.com"]]))
    assert.are.equal("alice", t.user)
    assert.is_nil(t.project)
    assert.are.equal([[a b'c"$HOME]], t.key)
    assert.are.equal("r.example.com", t.registry)
  end)

  it("refuses pipes, lists, substitutions and variables", function()
    refused("login", "echo SECRET | docker login -u u --password-stdin r.io",
      "'|' at byte 13: shell syntax is not accepted (paste one simple command)")
    refused("login", "docker login -u u -p $(cat key) r.io",
      "'$(' at byte 22: shell syntax is not accepted (command substitution)")
    refused("login", "docker login -u u -p \"$KEY\" r.io",
      "'$' at byte 23: shell syntax is not accepted (variables are not expanded: paste the value)")
    refused("login", "docker login -u u -p SECRET r.io; rm -rf /",
      "';' at byte 33: shell syntax is not accepted (paste one simple command)")
    refused("login", "docker login -u u -p SECRET r.io\ndocker push r.io/x",
      "more than one command: a line break at byte 33 (paste one command)")
  end)

  it("says what is missing or wrong, never the password", function()
    refused("login", "kubectl login", "not a login command: 'kubectl'")
    refused("login", "docker login -u u -p SECRET --foo r.io", "login: unknown option '--foo' at word 7")
    refused("login", "docker login --pasword=SECRET r.io", "login: unknown option '--pasword' at word 3")
    refused("login", "docker login -p SECRET r.io", "missing user (-u)")
    refused("login", "docker login -u u r.io", "missing password: give -p or --password-stdin")
    refused("login", "docker login -u u -p SECRET --password-stdin r.io", "both -p and --password-stdin given")
    refused("login", "docker login -u u -p SECRET", "missing registry")
    refused("login", "docker login -u u -p 'SECRET r.io", "unterminated single quote starting at byte 22")
    refused("login", "ctr i pull --user u img", "missing password: --user takes USER:KEY")
    refused("login", "ctr i pull --user u:SECRET 'Bad Image'", "image: " ..
      select(2, swrauth.parse("image", "Bad Image")))
    refused("login", "docker login -u u -p SE\0CRET r.io",
      "a NUL byte at byte 24: control characters are not accepted")
    refused("login", ("x"):rep(8193), "login command is too long (8193 bytes, at most 8192)")
  end)
end)

-- Fields that every format kind takes, with values a shell must quote.
local QUOTED = { project = "ap-southeast-1_my.sub", ak = "AK'$(x)`y`;|&<>",
                 key = "k'ey\"$(rm${IFS}-rf${IFS}/);|&<>\\#!*~", registry = "localhost:5000",
                 image = "localhost:5000/ns/app@sha256:" .. ("0123456789abcdef"):rep(4) }
local PLAIN = { project = "cn-north-4", ak = AK, key = KEY, image = REG .. "/ns/app:1.0" }

describe("parse login of format's commands", function()
  local kinds = {
    docker = { "docker", "login", false }, ["docker-stdin"] = { "docker", "login", true },
    ["ctr-pull"] = { "ctr", "pull", false }, ["ctr-push"] = { "ctr", "push", false },
    podman = { "podman", "login", true }, buildah = { "buildah", "login", true },
    skopeo = { "skopeo", "login", true }, nerdctl = { "nerdctl", "login", true },
    helm = { "helm", "login", true },
  }
  for kind, want in pairs(kinds) do
    for name, f in pairs({ plain = PLAIN, quoted = QUOTED }) do
      it(("gives back the fields of %s (%s values)"):format(kind, name), function()
        local cmd, argv = swrauth.format(kind, f)
        assert.is_string(cmd)
        assert.is_table(argv)
        local t, err = swrauth.parse("login", cmd)
        assert.is_table(t, err)
        assert.are.equal(want[1], t.engine)
        assert.are.equal(want[2], t.action)
        assert.are.equal(want[3], t.password_stdin)
        assert.are.equal(f.project .. "@" .. f.ak, t.user)
        assert.are.equal(f.project, t.project)
        assert.are.equal(f.ak, t.ak)
        if want[3] then assert.is_nil(t.key) else assert.are.equal(f.key, t.key) end
        if want[1] == "ctr" then
          assert.are.equal(f.image, t.image)
          assert.are.equal(f.image:match("^[^/]+"), t.registry)
        else
          assert.is_nil(t.image)
          assert.are.equal(f.registry or REG, t.registry)
        end
      end)
    end
  end
end)

describe("parse user", function()
  it("splits PROJECT@AK", function()
    assert.are.same({ project = "cn-north-4", region = "cn-north-4", ak = AK },
      swrauth.parse("user", "cn-north-4@" .. AK))
    assert.are.same({ project = "cn-north-4_sub-1.x", region = "cn-north-4", ak = "A" },
      swrauth.parse("user", "cn-north-4_sub-1.x@A"))
  end)

  it("names the byte and the part that is wrong", function()
    refused("user", "", "empty user: expected PROJECT@AK")
    refused("user", "cn-north-4", "user has no '@': expected PROJECT@AK")
    refused("user", "cn-north-4@A@B", "user has a second '@' at byte 13: expected PROJECT@AK")
    refused("user", "@AK", "user has an empty project before '@'")
    refused("user", "cn-north-4@", "user has an empty AK after '@'")
    refused("user", "cn-north-4@AK\n", "user has a newline at byte 14 (in the AK) (a pasted trailing newline?)")
    refused("user", "CN-north-4@AK",
      "user: the project has 'C' at byte 1: a region is lowercase letters, digits and '-'")
    refused("user", "4cn@AK",
      "user: the project must start with a region such as 'cn-north-4' (a lowercase letter first)")
    refused("user", "cn-north/4@AK",
      "user: the project has '/' at byte 9: a region is lowercase letters, digits and '-'")
    refused("user", "cn-north-4_a b@AK", "user has a space at byte 13 (in the project)")
    refused("user", "cn-north-4_@AK", "user: the project has an empty sub-project after '_' at byte 11")
    refused("user", "cn-north-4@AK:SECRET",
      "user: the AK has ':' at byte 14 (an AK cannot hold '@' or ':', which separate PROJECT@AK:KEY)")
    refused("user", ("a"):rep(65) .. "@AK",
      "user: the project has a region that is too long (65 bytes, at most 64)")
  end)

  it("reads what format('user') writes", function()
    for _, f in ipairs({ PLAIN, QUOTED }) do
      local t = assert(swrauth.parse("user", (swrauth.format("user", f))))
      assert.are.equal(f.project, t.project)
      assert.are.equal(f.project:match("^[^_]+"), t.region)
      assert.are.equal(f.ak, t.ak)
    end
  end)
end)

describe("parse auth", function()
  it("decodes USER:PASSWORD, split at the first ':'", function()
    assert.are.same({ user = "user", password = "pass" }, swrauth.parse("auth", "dXNlcjpwYXNz"))
    assert.are.same({ user = "u", password = "p:w:d" }, swrauth.parse("auth", "dTpwOnc6ZA=="))
    assert.are.same({ user = "u", password = "p:w:d" }, swrauth.parse("auth", "dTpwOnc6ZA"))
    assert.are.same({ user = "", password = "" }, swrauth.parse("auth", "Og=="))
  end)

  it("names what is wrong", function()
    refused("auth", "", "empty auth value")
    refused("auth", "dXNlcjpwYXNz\n", "bad base64: a newline at byte 13 (a pasted trailing newline?)")
    refused("auth", "dXNl cjpw", "bad base64: a space at byte 5")
    refused("auth", "dXNlcg==", "auth value has no ':' between user and password once decoded")
    refused("auth", "dXNlc", "bad base64: a length of 5 characters is not possible (one is missing or extra)")
    refused("auth", ("QUFB"):rep(342), "decoded value is too long (1026 bytes, at most 1024)")
  end)

  it("reads what format('auth') writes", function()
    for _, f in ipairs({ PLAIN, QUOTED }) do
      local t = assert(swrauth.parse("auth", (swrauth.format("auth", f))))
      assert.are.equal(f.project .. "@" .. f.ak, t.user)
      assert.are.equal(f.key, t.password)
    end
  end)
end)

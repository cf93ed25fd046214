-- Specs of docker-credential-swr (bin/docker-credential-swr and
-- swrauth.credhelper): docker's credential-helper protocol, run as a real
-- process, with exact outputs and exit statuses.
local proc = require "swrauth.proc"
local fs = require "swrauth.fs"
local uv = require "luv"
local credhelper = require "swrauth.credhelper"

local ROOT = uv.cwd()
local HELPER = ROOT .. "/bin/docker-credential-swr"

-- Obviously fake test credentials; the key is the vendor's openssl
-- pipeline's answer for them.
local AK = "TESTAK0000000000HLP0"
local SK = "testSecretKeyForSwrauthHelperSpec000000b"
local KEY = "2d4dcb82208933ec3c36d44e67558d736f5288914f2e15e9cc62f4c2f8d9103a"
local NOT_FOUND = "credentials not found in native keychain\n"
local SWR = "swr.cn-north-4.myhuaweicloud.com"

local tmp

local support = require "tests.spec.support"
local write, read = support.write, support.read

-- Runs the helper with a clean environment plus `env`.
local function helper(args, stdin, env)
  local e = {
    HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false, SWRAUTH_AK = false,
    SWRAUTH_LOGIN_KEY = false, SWRAUTH_CREDENTIALS_FILE = false, SWRAUTH_PROJECT = false,
    SWRAUTH_REGISTRY = false, SWRAUTH_HELPER_CONFIG = false, SWRAUTH_HELPER_LOG = false,
    XDG_CONFIG_HOME = tmp .. "/xdg", HOME = tmp .. "/home",
  }
  for k, v in pairs(env or {}) do e[k] = v end
  local argv = {HELPER}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return assert(proc.run {argv = argv, stdin = stdin, env = e})
end

local SDK = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}

local function get_json(url, user)
  return '{"ServerURL":"' .. url .. '","Username":"' .. user .. '","Secret":"' .. KEY .. '"}\n'
end

local function no_secret(r)
  for _, s in ipairs{r.stdout, r.stderr} do
    assert.is_nil(s:find(SK, 1, true), "the SK leaked")
    assert.is_nil(s:find(KEY, 1, true), "the key leaked")
  end
end

before_each(function()
  tmp = support.tempdir()
  assert(support.mkdir(tmp .. "/xdg"))
  assert(support.mkdir(tmp .. "/home"))
end)

after_each(function()
  support.rm(tmp)
end)

describe("the vendor's key for the test credentials", function()
  it("is what openssl computes", function()
    local p = io.popen("printf '%s' '" .. AK .. "' | openssl dgst -binary -sha256 -hmac '"
      .. SK .. "' | od -An -vtx1 | tr -d ' \\n'")
    local out = p:read("a")
    p:close()
    assert.equal(KEY, out)
  end)
end)

describe("docker-credential-swr get", function()
  it("answers an SWR registry with PROJECT@AK and the key", function()
    local r = helper({"get"}, SWR .. "\n", SDK)
    assert.equal(get_json(SWR, "cn-north-4@" .. AK), r.stdout)
    assert.equal("", r.stderr)
    assert.equal(0, r.status)
  end)
  it("echoes the server URL as given, and reads the host from it", function()
    local r = helper({"get"}, "  https://SWR.AP-Southeast-1.myhuaweicloud.com/v2/  \r\n", SDK)
    assert.equal(get_json("https://SWR.AP-Southeast-1.myhuaweicloud.com/v2/",
                          "ap-southeast-1@" .. AK), r.stdout)
    assert.equal(0, r.status)
    r = helper({"get"}, SWR .. ":443", SDK)
    assert.equal(get_json(SWR .. ":443", "cn-north-4@" .. AK), r.stdout)
  end)
  it("serves eu-west-101 on its own domain, myhuaweicloud.eu, and not on .com", function()
    local eu = "swr.eu-west-101.myhuaweicloud.eu"
    local r = helper({"get"}, eu, SDK)
    assert.equal(get_json(eu, "eu-west-101@" .. AK), r.stdout)
    assert.equal(0, r.status)
    r = helper({"get"}, "swr.eu-west-101.myhuaweicloud.com", SDK)
    assert.equal("credentials not found in native keychain\n", r.stdout)
    assert.equal(1, r.status)
  end)
  it("joins input lines as the reference helpers do", function()
    local r = helper({"get"}, "swr.cn-north-4.\nmyhuaweicloud.com\n", SDK)
    assert.equal(get_json(SWR, "cn-north-4@" .. AK), r.stdout)
  end)
  it("takes SWRAUTH_AK + SWRAUTH_LOGIN_KEY", function()
    local r = helper({"get"}, SWR, {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY:upper()})
    assert.equal(get_json(SWR, "cn-north-4@" .. AK), r.stdout)
    assert.equal(0, r.status)
  end)
  it("takes the credentials CSV from SWRAUTH_CREDENTIALS_FILE", function()
    write(tmp .. "/c.csv", "User Name,Access Key Id,Secret Access Key\nme," .. AK .. "," .. SK .. "\n",
          "600")
    local r = helper({"get"}, SWR, {SWRAUTH_CREDENTIALS_FILE = tmp .. "/c.csv"})
    assert.equal(get_json(SWR, "cn-north-4@" .. AK), r.stdout)
    assert.equal(0, r.status)
  end)
  it("uses SWRAUTH_PROJECT when it is a project of the host's region", function()
    local r = helper({"get"}, SWR, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                    SWRAUTH_PROJECT = "cn-north-4_team"})
    assert.equal(get_json(SWR, "cn-north-4_team@" .. AK), r.stdout)
    r = helper({"get"}, SWR, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                              SWRAUTH_PROJECT = "ap-southeast-1"})
    assert.equal(get_json(SWR, "cn-north-4@" .. AK), r.stdout)
  end)
  it("serves SWRAUTH_REGISTRY with SWRAUTH_PROJECT", function()
    local r = helper({"get"}, "127.0.0.1:5000", {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
      SWRAUTH_REGISTRY = "127.0.0.1:5000", SWRAUTH_PROJECT = "cn-north-4"})
    assert.equal(get_json("127.0.0.1:5000", "cn-north-4@" .. AK), r.stdout)
    assert.equal(0, r.status)
  end)
  it("fails clearly for SWRAUTH_REGISTRY without a project", function()
    local r = helper({"get"}, "127.0.0.1:5000", {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
      SWRAUTH_REGISTRY = "127.0.0.1:5000"})
    assert.equal("docker-credential-swr: SWRAUTH_REGISTRY is 127.0.0.1:5000 but SWRAUTH_PROJECT "
      .. "is not set\n", r.stdout)
    assert.equal(1, r.status)
  end)
  it("says not found for hosts it does not serve", function()
    for _, url in ipairs{"https://index.docker.io/v1/", "ghcr.io", "127.0.0.1:5000",
                         "swr.cn-north-4.example.com", "myhuaweicloud.com", "\0\1\2garbage"} do
      local r = helper({"get"}, url .. "\n", SDK)
      assert.equal(NOT_FOUND, r.stdout, url)
      assert.equal("", r.stderr, url)
      assert.equal(1, r.status, url)
    end
  end)
  it("gives the same answer with and without its fast path", function()
    -- SWRAUTH_HELPER_LOG sends every request through the module.
    for _, url in ipairs{"https://index.docker.io/v1/", "quay.io\r\n", "127.0.0.1:5000",
                         "LOCALHOST", "a b"} do
      local fast = helper({"get"}, url, SDK)
      local slow = helper({"get"}, url, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                         SWRAUTH_HELPER_LOG = tmp .. "/log"})
      assert.equal(slow.stdout, fast.stdout, url)
      assert.equal(slow.status, fast.status, url)
    end
  end)
  it("says not found for a served host without credentials, with a hint on stderr", function()
    local r = helper({"get"}, SWR)
    assert.equal(NOT_FOUND, r.stdout)
    assert.equal("docker-credential-swr: " .. SWR .. ": no credentials: set HUAWEICLOUD_SDK_AK and "
      .. "HUAWEICLOUD_SDK_SK, or SWRAUTH_AK and SWRAUTH_LOGIN_KEY, or a credentials file\n", r.stderr)
    assert.equal(1, r.status)
  end)
  it("reports half a credential pair", function()
    local r = helper({"get"}, SWR, {HUAWEICLOUD_SDK_AK = AK})
    assert.equal("docker-credential-swr: HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is empty "
      .. "or unset\n", r.stdout)
    assert.equal(1, r.status)
  end)
  it("reports a malformed SK without quoting it", function()
    local r = helper({"get"}, SWR, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK .. " "})
    assert.equal(1, r.status)
    assert.matches("^docker%-credential%-swr: HUAWEICLOUD_SDK_SK has a space at byte 41 "
                   .. "%(leading or trailing whitespace%?%)", r.stdout)
    no_secret(r)
  end)
  it("needs a server URL", function()
    for _, input in ipairs{"", "\n", "  \t\r\n  "} do
      local r = helper({"get"}, input, SDK)
      assert.equal("no credentials server URL\n", r.stdout)
      assert.equal(1, r.status)
    end
  end)
  it("refuses a line longer than 64 KiB, as the reference helpers do", function()
    local r = helper({"get"}, ("a"):rep(70000) .. "\n", SDK)
    assert.equal("bufio.Scanner: token too long\n", r.stdout)
    assert.equal(1, r.status)
  end)
end)

describe("docker-credential-swr store", function()
  it("accepts credentials and stores nothing", function()
    local r = helper({"store"}, '{"ServerURL":"127.0.0.1:5000","Username":"u","Secret":"s"}\n')
    assert.equal("", r.stdout)
    assert.equal("", r.stderr)
    assert.equal(0, r.status)
    assert.same({}, fs.list(tmp .. "/xdg"))
    assert.same({}, fs.list(tmp .. "/home"))
  end)
  it("matches field names as Go does (case-insensitively) and ignores text after the value", function()
    local r = helper({"store"}, '{"serverurl":"h","USERNAME":"u"} trailing')
    assert.equal("", r.stdout)
    assert.equal(0, r.status)
  end)
  local cases = {
    {"", "EOF"},
    {" \n ", "EOF"},
    {"garbage", "invalid character 'g' looking for beginning of value"},
    {'{"ServerURL":"h"', "unexpected EOF"},
    {'{"ServerURL" "h"}', "invalid character '\"' after object key"},
    {'"text"', "json: cannot unmarshal string into Go value of type credentials.Credentials"},
    {"[1]", "json: cannot unmarshal array into Go value of type credentials.Credentials"},
    {"42", "json: cannot unmarshal number into Go value of type credentials.Credentials"},
    {'{"ServerURL":1}', "json: cannot unmarshal number into Go struct field Credentials.ServerURL "
      .. "of type string"},
    {"null", "no credentials server URL"},
    {"{}", "no credentials server URL"},
    {'{"ServerURL":"h"}', "no credentials username"},
    {'{"ServerURL":"h","Username":""}', "no credentials username"},
  }
  for _, c in ipairs(cases) do
    it("answers " .. ("%q"):format(c[1]) .. " with '" .. c[2] .. "'", function()
      local r = helper({"store"}, c[1])
      assert.equal(c[2] .. "\n", r.stdout)
      assert.equal(1, r.status)
    end)
  end
end)

describe("docker-credential-swr erase", function()
  it("succeeds without doing anything", function()
    local r = helper({"erase"}, SWR .. "\n")
    assert.equal("", r.stdout)
    assert.equal(0, r.status)
  end)
  it("needs a server URL", function()
    local r = helper({"erase"}, "")
    assert.equal("no credentials server URL\n", r.stdout)
    assert.equal(1, r.status)
  end)
end)

describe("docker-credential-swr list", function()
  it("lists nothing without configuration", function()
    local r = helper({"list"}, "", SDK)
    assert.equal("{}\n", r.stdout)
    assert.equal(0, r.status)
  end)
  it("lists the configured hosts with their users", function()
    local r = helper({"list"}, "", {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
      SWRAUTH_PROJECT = "cn-north-4_team", SWRAUTH_REGISTRY = "127.0.0.1:5000"})
    assert.equal('{"127.0.0.1:5000":"cn-north-4_team@' .. AK .. '","' .. SWR
      .. '":"cn-north-4_team@' .. AK .. '"}\n', r.stdout)
    assert.equal(0, r.status)
    no_secret(r)
  end)
  it("lists nothing when no credentials are configured", function()
    local r = helper({"list"}, "", {SWRAUTH_PROJECT = "cn-north-4"})
    assert.equal("{}\n", r.stdout)
  end)
end)

describe("docker-credential-swr version and usage", function()
  it("prints the version", function()
    local r = helper({"version"}, "")
    assert.matches("^docker%-credential%-swr %(swrauth%) [%w.%-]+\n$", r.stdout)
    assert.equal(0, r.status)
  end)
  it("prints the usage for a wrong number of arguments", function()
    for _, args in ipairs{{}, {"get", "extra"}} do
      local r = helper(args, "")
      assert.equal("Usage: docker-credential-swr <store|get|erase|list|version>\n", r.stdout)
      assert.equal(1, r.status)
    end
  end)
  it("rejects an unknown action", function()
    local r = helper({"bogus"}, "")
    assert.equal("Unknown credential action `bogus`\n", r.stdout)
    assert.equal(1, r.status)
  end)
  it("has --help", function()
    local r = helper({"--help"}, "")
    assert.matches("^Usage: docker%-credential%-swr <store|get|erase|list|version>\n", r.stdout)
    assert.equal(0, r.status)
  end)
end)

describe("the helper's config file", function()
  local function config(text, mode)
    support.mkdir(tmp .. "/xdg/swrauth")
    write(tmp .. "/xdg/swrauth/config.json", text, mode or "600")
    return tmp .. "/xdg/swrauth/config.json"
  end

  it("maps hosts to projects", function()
    config('{"registries":{"LocalHost:5000":"cn-north-4_x","' .. SWR .. '":"cn-north-4_y",'
      .. '"reg.example":""}}')
    local r = helper({"get"}, "localhost:5000", SDK)
    assert.equal(get_json("localhost:5000", "cn-north-4_x@" .. AK), r.stdout)
    r = helper({"get"}, SWR, SDK)
    assert.equal(get_json(SWR, "cn-north-4_y@" .. AK), r.stdout)
    r = helper({"get"}, "reg.example", {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                        SWRAUTH_PROJECT = "la-south-2"})
    assert.equal(get_json("reg.example", "la-south-2@" .. AK), r.stdout)
    r = helper({"get"}, "other.example", SDK)
    assert.equal(NOT_FOUND, r.stdout)
  end)
  it("holds credentials, used when the environment has none", function()
    config('{"registries":{"localhost:5000":"cn-north-4"},"ak":"' .. AK .. '","login_key":"'
      .. KEY .. '"}')
    local r = helper({"get"}, "localhost:5000")
    assert.equal(get_json("localhost:5000", "cn-north-4@" .. AK), r.stdout)
    r = helper({"get"}, "localhost:5000", {SWRAUTH_AK = "OTHERAK0000000000000", SWRAUTH_LOGIN_KEY = KEY})
    assert.equal(get_json("localhost:5000", "cn-north-4@OTHERAK0000000000000"), r.stdout)
    r = helper({"list"}, "")
    assert.equal('{"localhost:5000":"cn-north-4@' .. AK .. '"}\n', r.stdout)
  end)
  it("names a credentials CSV", function()
    write(tmp .. "/c.csv", "User Name,Access Key Id,Secret Access Key\nme," .. AK .. "," .. SK .. "\n",
          "600")
    config('{"credentials_file":"' .. tmp .. '/c.csv"}')
    local r = helper({"get"}, SWR)
    assert.equal(get_json(SWR, "cn-north-4@" .. AK), r.stdout)
  end)
  it("is found through SWRAUTH_HELPER_CONFIG and HOME", function()
    write(tmp .. "/h.json", '{"registries":{"a.example":"cn-north-4"}}', "600")
    local r = helper({"get"}, "a.example", {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                            SWRAUTH_HELPER_CONFIG = tmp .. "/h.json"})
    assert.equal(get_json("a.example", "cn-north-4@" .. AK), r.stdout)
    assert(support.mkdir(tmp .. "/home/.config"))
    assert(support.mkdir(tmp .. "/home/.config/swrauth"))
    write(tmp .. "/home/.config/swrauth/config.json", '{"registries":{"b.example":"cn-north-4"}}', "600")
    r = helper({"get"}, "b.example", {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                      XDG_CONFIG_HOME = false})
    assert.equal(get_json("b.example", "cn-north-4@" .. AK), r.stdout)
  end)
  it("is refused when other users may read it", function()
    local path = config('{"registries":{"localhost:5000":"cn-north-4"}}', "644")
    for _, url in ipairs{"localhost:5000", "ghcr.io"} do
      local r = helper({"get"}, url, SDK)
      assert.equal("docker-credential-swr: config file " .. path .. " has mode 0644: other users may "
        .. "read or change it; it is not used until it is private (chmod 600 " .. path .. ")\n",
        r.stdout)
      assert.equal(1, r.status)
    end
    assert(uv.fs_chmod(path, tonumber("620", 8)))
    assert.equal(1, helper({"get"}, "localhost:5000", SDK).status)
    assert(uv.fs_chmod(path, tonumber("700", 8)))
    assert.equal(0, helper({"get"}, "localhost:5000", SDK).status)
  end)
  it("reports JSON errors with the line and column", function()
    local path = config('{\n  "registries": {"a": "b",}\n}')
    local r = helper({"get"}, SWR, SDK)
    assert.equal("docker-credential-swr: config file " .. path .. ": line 2, column 27: invalid "
      .. "character '}' looking for beginning of object key string\n", r.stdout)
    assert.equal(1, r.status)
  end)
  it("rejects unknown fields and wrong types", function()
    local path = config('{"registry":{}}')
    local r = helper({"get"}, SWR, SDK)
    assert.equal("docker-credential-swr: config file " .. path .. ": unknown field 'registry'\n", r.stdout)
    config('{"registries":{"a":1}}')
    r = helper({"get"}, SWR, SDK)
    assert.equal("docker-credential-swr: config file " .. path .. ": registries['a'] must be a string "
      .. '(a project, or "" for the default)\n', r.stdout)
    config('{"ak":"' .. AK .. '"}')
    r = helper({"get"}, SWR)
    assert.equal("docker-credential-swr: config file " .. path .. ": give 'ak' with exactly one of "
      .. "'login_key' and 'sk'\n", r.stdout)
  end)
  it("must exist when named by SWRAUTH_HELPER_CONFIG", function()
    local r = helper({"get"}, SWR, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                    SWRAUTH_HELPER_CONFIG = tmp .. "/none.json"})
    assert.equal("docker-credential-swr: cannot read config file " .. tmp .. "/none.json: "
      .. "No such file or directory\n", r.stdout)
    assert.equal(1, r.status)
  end)
end)

describe("the helper's log", function()
  it("is off by default", function()
    helper({"get"}, SWR, SDK)
    assert.same({}, fs.list(tmp .. "/xdg"))
  end)
  it("records each request, privately and without secrets", function()
    local log = tmp .. "/helper.log"
    local env = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK, SWRAUTH_HELPER_LOG = log}
    assert.equal(0, helper({"get"}, SWR, env).status)
    assert.equal(1, helper({"get"}, "ghcr.io", env).status)
    assert.equal(0, helper({"store"}, '{"ServerURL":"h","Username":"u","Secret":"' .. KEY .. '"}',
                           env).status)
    assert.equal(0, helper({"erase"}, "h", env).status)
    assert.equal(1, helper({"get"}, SWR, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK .. " ",
                                          SWRAUTH_HELPER_LOG = log}).status)
    local text = read(log)
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l:gsub("^%S+ ", "") end
    assert.equal(5, #lines)
    assert.equal("get " .. SWR .. ": cn-north-4@TEST… from HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK",
                 lines[1])
    assert.equal("get ghcr.io: not served", lines[2])
    assert.equal("store h: nothing stored (this helper derives credentials)", lines[3])
    assert.equal("erase h: nothing to erase", lines[4])
    assert.matches("^get " .. SWR:gsub("%p", "%%%0") .. ": error: HUAWEICLOUD_SDK_SK has a space ", lines[5])
    assert.is_nil(text:find(KEY, 1, true))
    assert.is_nil(text:find(SK, 1, true))
    assert.is_nil(text:find(AK, 1, true))
    assert.equal(tonumber("600", 8), (fs.mode(log)))
  end)
end)

describe("the helper's log, given control bytes", function()
  it("keeps one request on one line", function()
    local log = tmp .. "/helper-ctl.log"
    local env = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK, SWRAUTH_HELPER_LOG = log}
    helper({"get"}, "evil.example\r2026-01-01T00:00:00Z get forged: served", env)
    helper({"erase"}, "a.example\nforged line", env)
    local text = read(log)
    local n = 0
    for _ in text:gmatch("\n") do n = n + 1 end
    assert.equal(2, n)
    assert.is_nil(text:find("\r", 1, true))
    assert.is_nil(text:find("\nforged", 1, true))
  end)
end)

describe("credhelper.host and swr_region", function()
  it("normalise server URLs", function()
    assert.equal("swr.cn-north-4.myhuaweicloud.com",
                 credhelper.host("https://SWR.cn-north-4.myhuaweicloud.com:443/v2/"))
    assert.equal("127.0.0.1:5000", credhelper.host("http://127.0.0.1:5000"))
    assert.equal("index.docker.io", credhelper.host("https://index.docker.io/v1/"))
  end)
  it("find the region of SWR hosts only", function()
    assert.equal("cn-north-4", credhelper.swr_region("swr.cn-north-4.myhuaweicloud.com"))
    assert.equal("ap-southeast-1", credhelper.swr_region("swr.ap-southeast-1.myhuaweicloud.com"))
    assert.is_nil(credhelper.swr_region("swr.cn-north-4.myhuaweicloud.com.evil.example"))
    assert.is_nil(credhelper.swr_region("evil.swr.cn-north-4.myhuaweicloud.com"))
    assert.is_nil(credhelper.swr_region("swr..myhuaweicloud.com"))
  end)
end)

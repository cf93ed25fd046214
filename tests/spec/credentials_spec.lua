-- Specs of swrauth.credentials: the order of the sources and the errors.
local credentials = require "swrauth.credentials"
local support = require "tests.spec.support"

local AK = "AKEXAMPLE1234567890A"
local SK = "SKEXAMPLE0123456789012345678901234567890"
local KEY = "6365fecaca3f027f6b9ddacf820f82fadf623b76b04e82ef5b59b33088c98bd8"
local AK2 = "AKSECONDROW123456789"
local SK2 = "SKSECONDROW01234567890123456789012345678"
local KEY2 = require("swrauth").derive(AK2, SK2)
local OTHER_KEY = ("ab"):rep(32)

local dir

-- The test's environment: no instance metadata, its directory as HOME.
local function env(t) return support.chain_env(t, dir) end

-- The fields of credentials that say what they are (not `sign`).
local function view(c)
  return {ak = c.ak, key = c.key, source = c.source, where = c.where, temporary = c.temporary,
          project = c.project, project_id = c.project_id, expires_at = c.expires_at,
          signs = type(c.sign) == "function"}
end

describe("credentials.resolve", function()
  local function csv(name, text, mode)
    local path = dir .. "/" .. name
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    os.execute("chmod " .. (mode or "600") .. " '" .. path .. "'")
    return path
  end
  local HEADER = "User Name,Access Key Id,Secret Access Key\n"

  before_each(function() dir = support.tempdir() end)
  -- env() reads `dir`, the directory of the test running.
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  describe("order", function()
    it("takes an explicit table first", function()
      local c = assert(credentials.resolve {
        explicit = {ak = AK, sk = SK}, project = "cn-north-4",
        getenv = env {HUAWEICLOUD_SDK_AK = AK2, HUAWEICLOUD_SDK_SK = SK2},
      })
      assert.same({ak = AK, key = KEY, source = "explicit", where = "explicit", temporary = false,
                   project = "cn-north-4", signs = true}, view(c))
    end)
    it("takes a pre-derived key in an explicit table", function()
      local c = assert(credentials.resolve {explicit = {ak = AK, key = KEY:upper()}, getenv = env {}})
      assert.equal(KEY, c.key)
    end)
    it("then HUAWEICLOUD_SDK_AK/SK", function()
      local c = assert(credentials.resolve {getenv = env {
        HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
        SWRAUTH_AK = AK2, SWRAUTH_LOGIN_KEY = KEY2,
      }})
      assert.same({ak = AK, key = KEY, source = "env", where = "HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK",
                   temporary = false, signs = true}, view(c))
    end)
    it("then SWRAUTH_AK/SWRAUTH_LOGIN_KEY", function()
      local path = csv("c.csv", HEADER .. "u," .. AK .. "," .. SK .. "\n")
      local c = assert(credentials.resolve {getenv = env {
        SWRAUTH_AK = AK2, SWRAUTH_LOGIN_KEY = KEY2, SWRAUTH_CREDENTIALS_FILE = path,
      }})
      assert.same({ak = AK2, key = KEY2, source = "login-key", where = "SWRAUTH_AK/SWRAUTH_LOGIN_KEY",
                   signs = false}, view(c))
    end)
    it("then the credentials file from the option", function()
      local path = csv("c.csv", HEADER .. "u," .. AK .. "," .. SK .. "\n")
      local other = csv("d.csv", HEADER .. "u," .. AK2 .. "," .. SK2 .. "\n")
      local c = assert(credentials.resolve {file = path,
                                            getenv = env {SWRAUTH_CREDENTIALS_FILE = other}})
      assert.same({ak = AK, key = KEY, source = "csv", where = "file " .. path .. " line 2",
                   temporary = false, signs = true}, view(c))
    end)
    it("or from SWRAUTH_CREDENTIALS_FILE", function()
      local path = csv("c.csv", HEADER .. "u," .. AK2 .. "," .. SK2 .. "\n")
      local c = assert(credentials.resolve {getenv = env {SWRAUTH_CREDENTIALS_FILE = path}})
      assert.equal(KEY2, c.key)
    end)
    it("takes the first row of several without SWRAUTH_AK", function()
      local path = csv("c.csv", HEADER .. "a," .. AK .. "," .. SK .. "\nb," .. AK2 .. "," .. SK2
        .. "\nc," .. AK2 .. "," .. SK .. "\n")
      local c = assert(credentials.resolve {file = path, getenv = env {}})
      assert.same({ak = AK, key = KEY, source = "csv", where = "file " .. path .. " line 2",
                   temporary = false, signs = true}, view(c))
    end)
    it("takes the row whose AK is SWRAUTH_AK", function()
      local path = csv("c.csv", HEADER .. "a," .. AK .. "," .. SK .. "\nb," .. AK2 .. "," .. SK2 .. "\n")
      local c = assert(credentials.resolve {file = path, getenv = env {SWRAUTH_AK = AK2}})
      assert.same({ak = AK2, key = KEY2, source = "csv", where = "file " .. path .. " line 3",
                   temporary = false, signs = true}, view(c))
    end)
    it("treats empty variables as unset", function()
      local c = assert(credentials.resolve {getenv = env {
        HUAWEICLOUD_SDK_AK = "", HUAWEICLOUD_SDK_SK = "", SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY,
      }})
      assert.equal("login-key", c.source)
      assert.equal("SWRAUTH_AK/SWRAUTH_LOGIN_KEY", c.where)
    end)
    it("warns when a given file is not read", function()
      local warned = {}
      local path = csv("c.csv", HEADER .. "u," .. AK2 .. "," .. SK2 .. "\n")
      assert(credentials.resolve {file = path, warn = function(m) warned[#warned + 1] = m end,
                                  getenv = env {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}})
      assert.same({"warning: using credentials from HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK; the "
                   .. "credentials file " .. path .. " is not read"}, warned)
    end)
  end)

  describe("errors", function()
    local function fails(opts)
      local c, err = credentials.resolve(opts)
      assert.is_falsy(c)
      assert.is_string(err)
      assert.falsy(err:find(SK, 1, true), "the SK is never quoted")
      assert.falsy(err:find(KEY, 1, true), "the key is never quoted")
      return err
    end

    it("says where to put credentials when there are none", function()
      assert.equal("no credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or SWRAUTH_AK "
                   .. "and SWRAUTH_LOGIN_KEY, or give a credentials file (--credentials-file or "
                   .. "SWRAUTH_CREDENTIALS_FILE), or keep them in the SDKs' profile "
                   .. "(~/.huaweicloud/credentials); on a cloud server, give it an agency",
                   fails {getenv = env {}})
      local _, _, none = credentials.resolve {getenv = env {}}
      assert.is_true(none)
      local _, _, bad = credentials.resolve {getenv = env {HUAWEICLOUD_SDK_AK = AK}}
      assert.is_nil(bad)
    end)
    it("names the missing half of a pair", function()
      assert.equal("HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is empty or unset",
                   fails {getenv = env {HUAWEICLOUD_SDK_AK = AK}})
      assert.equal("HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is empty or unset",
                   fails {getenv = env {HUAWEICLOUD_SDK_SK = SK}})
      assert.equal("SWRAUTH_LOGIN_KEY is set but SWRAUTH_AK is empty or unset",
                   fails {getenv = env {SWRAUTH_LOGIN_KEY = KEY}})
      assert.equal("SWRAUTH_AK is set but neither SWRAUTH_LOGIN_KEY nor a credentials file "
                   .. "(--credentials-file, SWRAUTH_CREDENTIALS_FILE) is",
                   fails {getenv = env {SWRAUTH_AK = AK}})
    end)
    it("names the variable holding a malformed SK or AK", function()
      assert.equal("HUAWEICLOUD_SDK_SK has a space at byte 3 (whitespace and control characters "
                   .. "are not allowed)",
                   fails {getenv = env {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = "SK " .. SK}})
      assert.equal("HUAWEICLOUD_SDK_AK has '@' at byte 3 (an AK cannot hold '@' or ':', which "
                   .. "separate PROJECT@AK:KEY)",
                   fails {getenv = env {HUAWEICLOUD_SDK_AK = "AK@X", HUAWEICLOUD_SDK_SK = SK}})
    end)
    it("names a pasted newline or carriage return", function()
      assert.equal("HUAWEICLOUD_SDK_AK has a newline at byte 21 (a pasted newline?)",
                   fails {getenv = env {HUAWEICLOUD_SDK_AK = AK .. "\n", HUAWEICLOUD_SDK_SK = SK}})
      assert.equal("HUAWEICLOUD_SDK_SK has a carriage return at byte 41 (a pasted newline?)",
                   fails {getenv = env {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK .. "\r\n"}})
      assert.equal("SWRAUTH_LOGIN_KEY must be 64 lowercase hex digits, got 65 characters: a pasted "
                   .. "newline at the end?",
                   fails {getenv = env {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY .. "\n"}})
    end)
    it("checks a pre-derived key", function()
      assert.equal("SWRAUTH_LOGIN_KEY must be 64 lowercase hex digits, got 63 characters",
                   fails {getenv = env {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY:sub(2)}})
      local _, why = require("swrauth").check("key", ("g"):rep(64))
      assert.equal("SWRAUTH_LOGIN_KEY " .. why,
                   fails {getenv = env {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = ("g"):rep(64)}})
      assert.equal("credentials table: field 'key' must be 64 lowercase hex digits, got 3 "
                   .. "characters", fails {explicit = {ak = AK, key = "abc"}, getenv = env {}})
    end)
    it("checks an explicit table", function()
      assert.equal("credentials table: unknown field 'secret'",
                   fails {explicit = {ak = AK, secret = SK}})
      assert.equal("credentials table: field 'ak' is required", fails {explicit = {sk = SK}})
      assert.equal("credentials table: field 'sk' must be a string, got number",
                   fails {explicit = {ak = AK, sk = 1}})
      assert.equal("credentials table: the SK is empty", fails {explicit = {ak = AK, sk = ""}})
    end)
    it("names a missing file", function()
      local err = fails {file = dir .. "/nope.csv", getenv = env {}}
      assert.matches("^credentials file " .. dir:gsub("%p", "%%%0") .. "/nope%.csv: ENOENT", err)
    end)
    it("names the file and line of a malformed row", function()
      local path = csv("c.csv", HEADER .. "u," .. AK .. "," .. SK .. "\nv," .. AK2 .. ",bad sk\n")
      assert.equal("credentials file " .. path .. ": line 3: 'Secret Access Key' has a space at "
                   .. "byte 4 (whitespace and control characters are not allowed)",
                   fails {file = path, getenv = env {SWRAUTH_AK = AK2}})
    end)
    it("passes on the parser's message for a malformed file", function()
      local path = csv("c.csv", "User Name,Access Key Id\nu," .. AK .. "\n")
      local err = fails {file = path, getenv = env {}}
      assert.matches("^credentials file " .. path:gsub("%p", "%%%0") .. ": .*Secret Access Key", err)
    end)
    it("says when no row has SWRAUTH_AK", function()
      local path = csv("c.csv", HEADER .. "u," .. AK .. "," .. SK .. "\n")
      assert.equal("credentials file " .. path .. ": no row whose 'Access Key Id' is the AK in "
                   .. "SWRAUTH_AK", fails {file = path, getenv = env {SWRAUTH_AK = AK2}})
    end)
  end)

  describe("file mode", function()
    it("warns when others may read the file", function()
      local warned = {}
      local path = csv("c.csv", HEADER .. "u," .. AK .. "," .. SK .. "\n", "644")
      assert(credentials.resolve {file = path, getenv = env {},
                                  warn = function(m) warned[#warned + 1] = m end})
      assert.same({"warning: credentials file " .. path .. " has mode 0644: it holds the SK and "
                   .. "should be readable by its owner only (chmod 600 " .. path .. ")"}, warned)
    end)
    it("is quiet for mode 0600", function()
      local warned = {}
      local path = csv("c.csv", HEADER .. "u," .. AK .. "," .. SK .. "\n", "600")
      assert(credentials.resolve {file = path, getenv = env {},
                                  warn = function(m) warned[#warned + 1] = m end})
      assert.same({}, warned)
    end)
  end)

  it("never keeps the SK in the result", function()
    local c = assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_AK = AK,
                                                        HUAWEICLOUD_SDK_SK = SK}})
    for _, v in pairs(c) do assert.not_equal(SK, v) end
    assert.not_equal(OTHER_KEY, c.key)
  end)
end)

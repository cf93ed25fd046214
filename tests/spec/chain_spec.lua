-- Specs of the credential chain's other sources: the SDKs' profile file,
-- KooCLI's config, CCE pod identity, instance metadata and OIDC
-- federation (swrauth.credentials, swrauth.profiles, swrauth.sts), with a
-- fake curl; and the signing function the credentials carry, checked
-- against the independent signer of the tests.
local credentials = require "swrauth.credentials"
local profiles = require "swrauth.profiles"
local sts = require "swrauth.sts"
local support = require "tests.spec.support"
local fake_curl = require "tests.spec.fake_curl"
local apig = require "tests.apig_signer"

local AK = "AKEXAMPLE1234567890A"
local SK = "SKEXAMPLE0123456789012345678901234567890"
local KEY = "6365fecaca3f027f6b9ddacf820f82fadf623b76b04e82ef5b59b33088c98bd8"
local TAK = "TEMPAKEXAMPLE1234567"
local TSK = "TEMPSKEXAMPLE012345678901234567890123456"
local TOKEN = "gQpjbi1ub3J0aC00FAKE-SECURITY-TOKEN"
local EXPIRES = "2030-01-02T03:04:05.123456Z"
local EXPIRES_AT = "2030-01-02T03:04:05Z"

local dir

-- The test's environment: no instance metadata, its directory as HOME.
local function env(t) return support.chain_env(t, dir) end

local function write(path, text, mode)
  support.write(path, text, mode or "600")
  return path
end

local CRED_JSON = '{"credential": {"access": "' .. TAK .. '", "secret": "' .. TSK
  .. '", "securitytoken": "' .. TOKEN .. '", "expires_at": "' .. EXPIRES .. '"}}'

before_each(function() dir = support.tempdir() end)
after_each(function() support.rm(dir) end)

describe("the SDKs' profile file", function()
  it("is read after the CSV, from ~/.huaweicloud/credentials", function()
    support.mkdir(dir .. "/.huaweicloud")
    local path = write(dir .. "/.huaweicloud/credentials", "[basic]\nak = " .. AK .. "\nsk = " .. SK
      .. "\nproject_id = 0123456789abcdef\n; a comment\n")
    local c = assert(credentials.resolve {getenv = env {}})
    assert.equal("profile", c.source)
    assert.equal("credentials profile " .. path, c.where)
    assert.equal(KEY, c.key)
    assert.equal("0123456789abcdef", c.project_id)
    assert.is_false(c.temporary)
  end)
  it("comes after the environment", function()
    write(dir .. "/p.ini", "[basic]\nak = " .. TAK .. "\nsk = " .. TSK .. "\n")
    local c = assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/p.ini",
      HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}})
    assert.equal("env", c.source)
  end)
  it("with a security token gives temporary credentials", function()
    write(dir .. "/p.ini", "[basic]\r\nak=" .. TAK .. "\r\nsk=" .. TSK .. "\r\nsecurity_token=" .. TOKEN .. "\r\n")
    local c = assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/p.ini"}})
    assert.equal("profile", c.source)
    assert.is_true(c.temporary)
    assert.is_nil(c.key)
  end)
  it("names a given file that is missing, and one without credentials", function()
    local c, err = credentials.resolve {getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/no.ini"}}
    assert.is_nil(c)
    assert.matches("^credentials profile " .. dir:gsub("%p", "%%%0") .. "/no%.ini: ", err)
    write(dir .. "/p.ini", "[basic]\nak = " .. AK .. "\n")
    c, err = credentials.resolve {getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/p.ini"}}
    assert.is_nil(c)
    assert.equal("credentials profile " .. dir .. "/p.ini: [basic] has neither ak and sk nor "
      .. "idp_id and id_token_file", err)
  end)
  it("names a malformed SK by its key and file", function()
    write(dir .. "/p.ini", "[basic]\nak = " .. AK .. "\nsk = a b\n")
    local _, err = credentials.resolve {getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/p.ini"}}
    assert.matches("^credentials profile .*/p%.ini: sk has a space at byte 2", err)
  end)
  it("warns when others may read it", function()
    write(dir .. "/p.ini", "[basic]\nak = " .. AK .. "\nsk = " .. SK .. "\n", "644")
    local warned = {}
    assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/p.ini"},
                                warn = function(m) warned[#warned + 1] = m end})
    assert.equal(1, #warned)
    assert.matches("has mode 0644: it holds secrets", warned[1])
  end)
  it("reads INI sections, comments and keys in any case", function()
    local t = profiles.ini("# top\n[basic]\nAK = x\n sk: y \n[other]\nak=z\n")
    assert.same({basic = {ak = "x", sk = "y"}, other = {ak = "z"}}, t)
  end)
end)

describe("KooCLI's config", function()
  local function koocli(doc, mode)
    support.mkdir(dir .. "/.hcloud")
    return write(dir .. "/.hcloud/config.json", doc, mode)
  end
  it("gives the current profile's plaintext AK/SK", function()
    local path = koocli('{"current": "ci", "profiles": [{"name": "default", "mode": "AKSK", '
      .. '"accessKeyId": "' .. TAK .. '", "secretAccessKey": "' .. TSK .. '"}, {"name": "ci", '
      .. '"mode": "AKSK", "accessKeyId": "' .. AK .. '", "secretAccessKey": "' .. SK
      .. '", "projectId": "p1"}]}')
    local c = assert(credentials.resolve {getenv = env {}})
    assert.equal("koocli", c.source)
    assert.equal("KooCLI profile 'ci' of " .. path, c.where)
    assert.equal(AK, c.ak)
    assert.equal(KEY, c.key)
    assert.equal("p1", c.project_id)
  end)
  it("gives the default profile without a current one, with its security token", function()
    koocli('{"profiles": [{"name": "other", "accessKeyId": "' .. AK .. '", "secretAccessKey": "'
      .. SK .. '"}, {"name": "default", "accessKeyId": "' .. TAK .. '", "secretAccessKey": "'
      .. TSK .. '", "securityToken": "' .. TOKEN .. '"}]}')
    local c = assert(credentials.resolve {getenv = env {}})
    assert.equal(TAK, c.ak)
    assert.is_true(c.temporary)
  end)
  it("refuses an encrypted profile, naming the command that keeps it plain", function()
    koocli('{"current": "default", "profiles": [{"name": "default", "mode": "AKSK", '
      .. '"accessKeyId": "AES256:0f9e8d7c6b5a==", "secretAccessKey": "AES256:a1b2c3d4=="}]}')
    local c, err = credentials.resolve {getenv = env {}}
    assert.is_nil(c)
    assert.matches("profile 'default' holds its access key encrypted", err)
    assert.matches("hcloud configure set %-%-cli%-profile=default %-%-cli%-auth%-encrypt=false", err)
  end)
  it("skips profiles of other modes, and names the line of malformed JSON", function()
    koocli('{"profiles": [{"name": "default", "mode": "SSO"}]}')
    local _, _, none = credentials.resolve {getenv = env {}}
    assert.is_true(none)
    koocli('{"profiles": [\n{"name": }]}')
    local _, err = credentials.resolve {getenv = env {}}
    assert.matches("^KooCLI config .*config%.json: line 2, column %d+: ", err)
  end)
end)

describe("CCE pod identity", function()
  it("posts the token file's token and gives temporary credentials", function()
    local token_file = write(dir .. "/token", "  pod-token-abc\n")
    local fc = fake_curl.new(function() return {status = 200, body = CRED_JSON} end)
    local c = assert(credentials.resolve {run = fc.run, curl = "/fake/curl", getenv = env {
      HC_CONTAINER_CREDENTIALS_FULL_URI = "http://169.254.170.2/v1/credentials",
      HC_CONTAINER_AUTHORIZATION_TOKEN_FILE = token_file}})
    assert.equal("pod-identity", c.source)
    assert.equal(TAK, c.ak)
    assert.is_true(c.temporary)
    assert.equal(EXPIRES_AT, c.expires_at)
    assert.is_nil(c.key)
    local r = fc.requests[1]
    assert.equal("POST", r.method)
    assert.equal("http://169.254.170.2/v1/credentials", r.url)
    assert.equal("pod-token-abc", r.headers.authorization)
  end)
  it("needs both variables, refuses plain http to another host, and names an HTTP error", function()
    local _, err = credentials.resolve {getenv = env {HC_CONTAINER_CREDENTIALS_FULL_URI = "http://x"}}
    assert.matches("must both be set", err)
    local token_file = write(dir .. "/token", "t")
    _, err = credentials.resolve {curl = "/fake/curl", getenv = env {
      HC_CONTAINER_CREDENTIALS_FULL_URI = "http://pods.example.com/creds",
      HC_CONTAINER_AUTHORIZATION_TOKEN_FILE = token_file}}
    assert.matches("is plain HTTP to pods%.example%.com: credentials would go unencrypted", err)
    local fc = fake_curl.new(function() return {status = 403, body = "forbidden\r\n\27[31m"} end)
    _, err = credentials.resolve {run = fc.run, curl = "/fake/curl", getenv = env {
      HC_CONTAINER_CREDENTIALS_FULL_URI = "https://pods.example.com/creds",
      HC_CONTAINER_AUTHORIZATION_TOKEN_FILE = token_file}}
    assert.matches("^pod identity https://pods%.example%.com/creds: HTTP 403 %(forbidden", err)
    assert.falsy(err:find("\27", 1, true), "the answer's control bytes are not printed")
  end)
end)

describe("instance metadata", function()
  local function answers(token_status)
    return fake_curl.new(function(r)
      if r.url:find("/api/token$") then return {status = token_status or 200, body = "md-token\n"} end
      if r.url:find("/securitykey$") then
        if token_status == 200 and r.headers["x-metadata-token"] ~= "md-token" then
          return {status = 401, body = "no token"}
        end
        return {status = 200, body = CRED_JSON}
      end
    end)
  end
  it("takes a session token, then the security key", function()
    local fc = answers(200)
    local c = assert(credentials.resolve {run = fc.run, curl = "/fake/curl",
      getenv = env {SWRAUTH_METADATA_ENDPOINT = "http://127.0.0.1:9"}})
    assert.equal("metadata", c.source)
    assert.equal("instance metadata", c.where)
    assert.is_true(c.temporary)
    assert.equal("PUT", fc.requests[1].method)
    assert.equal("21600", fc.requests[1].headers["x-metadata-token-ttl-seconds"])
    assert.equal("md-token", fc.requests[2].headers["x-metadata-token"])
  end)
  it("goes on without a token when the service has none", function()
    local fc = answers(404)
    local c = assert(credentials.resolve {run = fc.run, curl = "/fake/curl",
      getenv = env {SWRAUTH_METADATA_ENDPOINT = "http://127.0.0.1:9"}})
    assert.equal(TAK, c.ak)
    assert.is_nil(fc.requests[2].headers["x-metadata-token"])
  end)
  it("is an error at a given address, a note at the default one", function()
    local fc = fake_curl.new(function() return {status = 500, body = "boom"} end)
    local c, err = credentials.resolve {run = fc.run, curl = "/fake/curl",
      getenv = env {SWRAUTH_METADATA_ENDPOINT = "http://127.0.0.1:9"}}
    assert.is_nil(c)
    assert.equal("instance metadata http://127.0.0.1:9 (token): HTTP 500 (boom)", err)
    local default = env {}
    local none
    c, err, none = credentials.resolve {run = fc.run, curl = "/fake/curl", getenv = function(n)
      if n == "SWRAUTH_METADATA_ENDPOINT" then return nil end
      return default(n)
    end}
    assert.is_nil(c)
    assert.is_true(none)
    assert.matches("give it an agency %(instance metadata http://169%.254%.169%.254 %(token%): "
      .. "HTTP 500 %(boom%)%)$", err)
  end)
  it("says the server has no agency", function()
    local fc = fake_curl.new(function(r)
      if r.url:find("/api/token$") then return {status = 404, body = ""} end
      return {status = 404, body = '{"error": "Cloud Service Agency not found"}'}
    end)
    local _, err = credentials.resolve {run = fc.run, curl = "/fake/curl",
      getenv = env {SWRAUTH_METADATA_ENDPOINT = "http://127.0.0.1:9"}}
    assert.matches("the server has no agency; give it one with SWR permissions", err)
  end)
  it("refuses an answer without a security token or with a bad expiry", function()
    assert.is_nil((sts.parse_credential('{"credential": {"access": "a", "secret": "b"}}')))
    local _, err = sts.parse_credential('{"credential": {"access": "a", "secret": "b", '
      .. '"securitytoken": "c", "expires_at": "tomorrow"}}')
    assert.equal("the answer's expiry 'tomorrow' is not an ISO-8601 time", err)
    assert.same({ak = "a", sk = "b", token = "c", expires_at = "2030-01-01T00:00:00Z"},
      sts.parse_credential('{"credentials": {"accessKeyId": "a", "secretAccessKey": "b", '
        .. '"securityToken": "c", "expiration": "2030-01-01T00:00:00Z"}}'))
  end)
end)

describe("OIDC federation", function()
  local function iam()
    return fake_curl.new(function(r)
      if r.url:find("/v3%.0/OS%-AUTH/id%-token/tokens$") then
        return {status = 201, body = "{}", headers = {["x-subject-token"] = "unscoped-token"}}
      end
      if r.url:find("/v3%.0/OS%-CREDENTIAL/securitytokens$") then
        return {status = 201, body = CRED_JSON}
      end
    end)
  end
  it("trades the id token for temporary credentials, before an AK/SK in the environment", function()
    local id_token = write(dir .. "/id-token", "eyJ.fake.jwt\n")
    local fc = iam()
    local c = assert(credentials.resolve {run = fc.run, curl = "/fake/curl", getenv = env {
      HUAWEICLOUD_SDK_IDP_ID = "github-idp", HUAWEICLOUD_SDK_ID_TOKEN_FILE = id_token,
      HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
      HUAWEICLOUD_SDK_IAM_ENDPOINT = "127.0.0.1:8443"}})
    assert.equal("federation", c.source)
    assert.is_true(c.temporary)
    assert.equal(TAK, c.ak)
    local a, b = fc.requests[1], fc.requests[2]
    assert.equal("https://127.0.0.1:8443/v3.0/OS-AUTH/id-token/tokens", a.url)
    assert.equal("github-idp", a.headers["x-idp-id"])
    assert.same({auth = {id_token = {id = "eyJ.fake.jwt"}}}, support.decode(a.body))
    assert.equal("unscoped-token", b.headers["x-auth-token"])
    assert.same({"token"}, support.decode(b.body).auth.identity.methods)
  end)
  it("comes from the profile's idp_id and id_token_file", function()
    local id_token = write(dir .. "/id-token", "jwt")
    write(dir .. "/p.ini", "[basic]\nidp_id = idp2\nid_token_file = " .. id_token
      .. "\niam_endpoint = https://iam.example.com\n")
    local fc = iam()
    local c = assert(credentials.resolve {run = fc.run, curl = "/fake/curl",
      getenv = env {HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir .. "/p.ini"}})
    assert.equal("federation", c.source)
    assert.equal("https://iam.example.com/v3.0/OS-AUTH/id-token/tokens", fc.requests[1].url)
    assert.equal("idp2", fc.requests[1].headers["x-idp-id"])
  end)
  it("names the step that failed", function()
    local id_token = write(dir .. "/id-token", "jwt")
    local fc = fake_curl.new(function() return {status = 400, body = '{"error": "bad id token"}'} end)
    local _, err = credentials.resolve {run = fc.run, curl = "/fake/curl", getenv = env {
      HUAWEICLOUD_SDK_IDP_ID = "idp", HUAWEICLOUD_SDK_ID_TOKEN_FILE = id_token}}
    assert.matches("^federation through IAM https://iam%.myhuaweicloud%.com %(id token%): HTTP 400", err)
    _, err = credentials.resolve {getenv = env {HUAWEICLOUD_SDK_IDP_ID = "idp"}}
    assert.equal("HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE must both be set", err)
  end)
end)

describe("the credentials' signing function", function()
  local URL = "https://swr-api.cn-north-4.myhuaweicloud.com/v2/manage/utils/secret?projectname=cn-north-4"
  local HEADERS = {["Content-Type"] = "application/json", Host = "swr-api.cn-north-4.myhuaweicloud.com",
                   ["X-Sdk-Date"] = "20261204T120000Z"}
  local function headers_of(list)
    local t = {}
    for _, h in ipairs(list) do t[h[1]] = h[2] end
    return t
  end
  it("signs as the independent signer does, Authorization last", function()
    local c = assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}})
    local list = c.sign {method = "POST", url = URL, headers = HEADERS}
    assert.equal("Authorization", list[#list][1])
    local want = apig.sign {ak = AK, sk = SK, method = "POST", url = URL, headers = HEADERS}
    assert.equal(want, list[#list][2])
  end)
  it("signs the security token of temporary credentials and sends it", function()
    local c = assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_AK = TAK,
      HUAWEICLOUD_SDK_SK = TSK, HUAWEICLOUD_SDK_SECURITY_TOKEN = TOKEN}})
    assert.is_true(c.temporary)
    local h = headers_of(c.sign {method = "POST", url = URL, headers = HEADERS})
    assert.equal(TOKEN, h["X-Security-Token"])
    local with_token = {["X-Security-Token"] = TOKEN}
    for k, v in pairs(HEADERS) do with_token[k] = v end
    assert.equal(apig.sign {ak = TAK, sk = TSK, method = "POST", url = URL, headers = with_token},
                 h.Authorization)
    assert.matches("SignedHeaders=content%-type;host;x%-sdk%-date;x%-security%-token,", h.Authorization)
  end)
  it("keeps the SK and token out of the credentials table", function()
    local c = assert(credentials.resolve {getenv = env {HUAWEICLOUD_SDK_AK = TAK,
      HUAWEICLOUD_SDK_SK = TSK, HUAWEICLOUD_SDK_SECURITY_TOKEN = TOKEN}})
    for k, v in pairs(c) do
      assert.not_equal(TSK, v, k)
      assert.not_equal(TOKEN, v, k)
    end
  end)
  it("login-key credentials cannot sign", function()
    local c = assert(credentials.resolve {getenv = env {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY}})
    assert.is_nil(c.sign)
  end)
end)

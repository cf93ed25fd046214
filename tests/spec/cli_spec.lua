-- Specs of the swrauth command (bin/swrauth, docs/CLI.md): run as a
-- separate process, with fake engines that record their argv and stdin.
local proc = require "swrauth.proc"
local swrauth = require "swrauth"

local AK = "AKEXAMPLE1234567890A"
local SK = "SKEXAMPLE0123456789012345678901234567890"
local KEY = "6365fecaca3f027f6b9ddacf820f82fadf623b76b04e82ef5b59b33088c98bd8"
local USER = "cn-north-4@" .. AK
local REG = "127.0.0.1:5000"
local DIGEST = "sha256:" .. ("b"):rep(64)

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)tests/spec/[^/]+$") or "./")
if ROOT == "" then ROOT = "./" end
local BIN = ROOT .. "bin/swrauth"
local LUA = assert(proc.which("lua5.4"), "lua5.4 on PATH")

-- The fake engine: records N.argv / N.stdin in $FAKE_DIR, answers with
-- line N of $FAKE_DIR/plan ("CODE|STDERR"), prints a digest on push.
local FAKE = [[#!/bin/sh
d="$FAKE_DIR"
# One number per call, also when two run at once (release with skopeo
# runs the login and the first copy together).
while ! mkdir "$d/lock" 2>/dev/null; do sleep 0.01; done
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$d/count"
rmdir "$d/lock"
{ basename "$0"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$d/$n.argv"
cat > "$d/$n.stdin"
env > "$d/$n.env"
case " $* " in *" push "*) printf 'latest: digest: sha256:%s size: 528\n' "$(printf '%064d' 0 | tr 0 b)" ;; esac
line=$(sed -n "${n}p" "$d/plan" 2>/dev/null)
[ -z "$line" ] && exit 0
code=${line%%|*}
msg=${line#*|}
[ -n "$msg" ] && printf '%s\n' "$msg" >&2
exit "$code"
]]

local support = require "tests.spec.support"
local write, read = support.write, support.read

local CLEAR = {"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "SWRAUTH_AK", "SWRAUTH_LOGIN_KEY",
               "SWRAUTH_CREDENTIALS_FILE", "SWRAUTH_PROJECT", "SWRAUTH_REGISTRY", "SWRAUTH_ENGINE",
               "SWRAUTH_INSECURE", "SWRAUTH_CERT_DIR", "SWRAUTH_RETRIES", "SWRAUTH_BACKOFF",
               "SWRAUTH_TIMEOUT", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_IDP_ID",
               "HUAWEICLOUD_SDK_ID_TOKEN_FILE", "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
               "HC_CONTAINER_CREDENTIALS_FULL_URI", "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
               "SWRAUTH_API_ENDPOINT", "SWRAUTH_TEMPORARY", "SWRAUTH_DURATION", "XDG_CACHE_HOME"}

local dir

-- Runs bin/swrauth with args; env adds to a cleaned environment.
local function swr(args, env, stdin)
  local e = {PATH = dir .. "/bin:/usr/bin:/bin", FAKE_DIR = dir .. "/calls",
             DOCKER_CONFIG = dir .. "/docker", REGISTRY_AUTH_FILE = dir .. "/auth.json",
             HOME = dir, SWRAUTH_METADATA_ENDPOINT = "none"}
  for _, n in ipairs(CLEAR) do e[n] = false end
  for k, v in pairs(env or {}) do e[k] = v end
  local argv = {LUA, BIN}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return assert(proc.run {argv = argv, env = e, stdin = stdin})
end

local CREDS = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}
local LOCAL = {"--project", "cn-north-4", "--registry", REG, "--engine", "docker"}

local function with(a, b)
  local t = {}
  for _, v in ipairs(a) do t[#t + 1] = v end
  for _, v in ipairs(b) do t[#t + 1] = v end
  return t
end

local function calls()
  return tonumber(read(dir .. "/calls/count") or "0")
end

local function argv_of(n)
  local t = {}
  for line in (read(dir .. "/calls/" .. n .. ".argv") or ""):gmatch("([^\n]*)\n") do
    t[#t + 1] = line
  end
  return t
end

local function no_key(r)
  assert.falsy(r.stdout:find(KEY, 1, true), "key on stdout")
  assert.falsy(r.stderr:find(KEY, 1, true), "key on stderr")
  assert.falsy((r.stdout .. r.stderr):find(SK, 1, true), "SK in output")
end

describe("swrauth command", function()
  before_each(function()
    dir = support.tempdir()
    os.execute("mkdir -p '" .. dir .. "/bin' '" .. dir .. "/calls'")
    for _, n in ipairs {"docker", "podman", "skopeo", "ctr"} do
      write(dir .. "/bin/" .. n, FAKE, "755")
    end
  end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  describe("help and usage", function()
    it("prints help on stdout and exits 0", function()
      local r = swr {"--help"}
      assert.equal(0, r.status)
      assert.matches("^Usage: swrauth ", r.stdout)
      assert.matches("Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 credentials",
                     r.stdout)
      assert.equal("", r.stderr)
    end)
    it("has --help for every command", function()
      for _, c in ipairs {"key", "login-command", "login", "logout", "tag", "push", "release",
                          "parse", "version"} do
        local r = swr {c, "--help"}
        assert.equal(0, r.status, c)
        assert.matches("^Usage: swrauth " .. c:gsub("%-", "%%-") .. " ", r.stdout)
        r = swr {c, "-h"}
        assert.equal(0, r.status, c)
      end
    end)
    it("exits 2 on usage errors", function()
      local r = swr {}
      assert.equal(2, r.status)
      assert.matches("a command is required", r.stderr)
      r = swr {"bogus"}
      assert.equal(2, r.status)
      assert.equal("swrauth: unknown command 'bogus'\nTry 'swrauth --help'.\n", r.stderr)
      r = swr {"login", "--bogus"}
      assert.equal(2, r.status)
      assert.matches("unknown option '%-%-bogus'", r.stderr)
      r = swr {"--engine", "rkt", "login"}
      assert.equal(2, r.status)
      assert.equal("", r.stdout)
    end)
    it("prints the version, the Lua and OpenSSL it runs on and where it was loaded from", function()
      local r = swr {"version"}
      assert.equal(0, r.status)
      local lines = {}
      for l in r.stdout:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal("swrauth " .. swrauth._VERSION, lines[1])
      assert.matches("^lua      Lua 5%.4 %(.*lua5%.4; built with Lua 5%.4%.%d+ headers%)$", lines[2])
      assert.matches("^openssl  OpenSSL 3%.", lines[3])
      local root = ROOT == "./" and assert(require("luv").cwd()) .. "/" or ROOT
      assert.equal("swrauth  " .. root .. "swrauth.so", lines[5])
      assert.equal("modules  " .. root .. "lua/swrauth/cli.lua", lines[6])
      assert.matches("^argparse /.*argparse%.lua %(%d", lines[7])
      r = swr {"version", "--json"}
      local doc = support.decode(r.stdout)
      assert.equal(swrauth._VERSION, doc.version)
      assert.equal(swrauth._OPENSSL, doc.openssl)
      assert.equal(root .. "swrauth.so", doc.paths.swrauth)
    end)
  end)

  describe("key", function()
    it("prints the login key from HUAWEICLOUD_SDK_AK/SK", function()
      local r = swr({"key"}, CREDS)
      assert.equal(0, r.status)
      assert.equal(KEY .. "\n", r.stdout)
      assert.equal("", r.stderr)
    end)
    it("reads a credentials file", function()
      local path = dir .. "/credentials.csv"
      write(path, "User Name,Access Key Id,Secret Access Key\nu," .. AK .. "," .. SK .. "\n", "600")
      assert.equal(KEY .. "\n", swr({"key", "--credentials-file", path}).stdout)
      assert.equal(KEY .. "\n", swr({"--credentials-file=" .. path, "key"}).stdout)
      assert.equal(KEY .. "\n", swr({"--project", "cn-north-4", "key", "--credentials-file", path}).stdout)
      assert.equal(KEY .. "\n", swr({"key"}, {SWRAUTH_CREDENTIALS_FILE = path}).stdout)
    end)
    it("prints a pre-derived key", function()
      local r = swr({"key"}, {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY})
      assert.equal(KEY .. "\n", r.stdout)
    end)
    it("exits 3 without credentials", function()
      local r = swr {"key"}
      assert.equal(3, r.status)
      assert.equal("", r.stdout)
      assert.matches("^swrauth: key: no credentials: set HUAWEICLOUD_SDK_AK", r.stderr)
    end)
    it("exits 3 on a malformed SK, naming the variable", function()
      local r = swr({"key"}, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = "a\tb"})
      assert.equal(3, r.status)
      assert.equal("swrauth: key: HUAWEICLOUD_SDK_SK has a tab at byte 2 (whitespace and control "
                   .. "characters are not allowed)\n", r.stderr)
    end)
    it("exits 3 on a missing credentials file", function()
      local r = swr {"key", "--credentials-file", dir .. "/none.csv"}
      assert.equal(3, r.status)
      assert.matches("credentials file " .. dir:gsub("%p", "%%%0") .. "/none%.csv", r.stderr)
    end)
    it("--json gives the long-term login with its user and registry", function()
      local r = swr({"--project", "cn-north-4", "key", "--json"}, CREDS)
      assert.equal(0, r.status)
      assert.same({user = USER, password = KEY, registry = "swr.cn-north-4.myhuaweicloud.com",
                   expires_at = support.null}, support.decode(r.stdout))
      r = swr({"key", "--json"}, CREDS)
      assert.equal(2, r.status)
      assert.matches("key: %-%-project %(or SWRAUTH_PROJECT%) is required", r.stderr)
    end)
    it("refuses a temporary login without a project, an SK, or with a bad duration", function()
      local r = swr({"key", "--temporary"}, CREDS)
      assert.equal(2, r.status)
      assert.matches("a temporary login %(%-%-temporary%) needs %-%-project", r.stderr)
      r = swr({"--project", "cn-north-4", "key", "--temporary"}, {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY})
      assert.equal(2, r.status)
      assert.matches("a temporary login needs an SK: credentials from SWRAUTH_AK/SWRAUTH_LOGIN_KEY "
        .. "hold a login key only", r.stderr)
      r = swr({"--project", "cn-north-4", "key", "--duration", "10"}, CREDS)
      assert.equal(2, r.status)
      assert.matches("%-%-duration '10' must be from 900 to 86400 seconds", r.stderr)
      r = swr({"--project", "cn-north-4", "key"}, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                                   SWRAUTH_DURATION = "x"})
      assert.equal(2, r.status)
      assert.matches("SWRAUTH_DURATION 'x' must be a whole number of seconds", r.stderr)
      assert.equal("", r.stdout)
    end)
    it("refuses to send credentials over plain http off this machine", function()
      local r = swr({"--project", "cn-north-4", "key", "--temporary"},
                    {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                     SWRAUTH_API_ENDPOINT = "http://swr-api.example.com"})
      assert.equal(2, r.status)
      assert.matches("SWRAUTH_API_ENDPOINT 'http://swr%-api%.example%.com' is plain HTTP", r.stderr)
      assert.falsy(r.stderr:find(SK, 1, true))
    end)
  end)

  describe("credentials", function()
    it("names the source and what it holds, never a secret", function()
      local r = swr({"credentials"}, CREDS)
      assert.equal(0, r.status)
      assert.equal("source      env (HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK)\nak          " .. AK
        .. "\ntemporary   no\nexpires_at  -\nproject_id  -\n", r.stdout)
      r = swr({"credentials", "--json"}, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                         HUAWEICLOUD_SDK_SECURITY_TOKEN = "TOKEN-123",
                                         HUAWEICLOUD_SDK_PROJECT_ID = "p1"})
      assert.equal(0, r.status)
      assert.same({source = "env", where = "HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK", ak = AK,
                   temporary = true, expires_at = support.null, project_id = "p1"},
                  support.decode(r.stdout))
      assert.falsy(r.stdout:find(SK, 1, true))
      assert.falsy(r.stdout:find("TOKEN-123", 1, true))
    end)
    it("exits 3 when there are none", function()
      local r = swr {"credentials"}
      assert.equal(3, r.status)
      assert.matches("^swrauth: credentials: no credentials", r.stderr)
      r = swr {"credentials", "--json"}
      assert.equal(3, r.status)
      assert.equal(3, support.decode(r.stdout).exit)
    end)
  end)

  describe("login and logout", function()
    it("logs in with the key on stdin only", function()
      local r = swr(with(LOCAL, {"login"}), CREDS)
      assert.equal(0, r.status)
      assert.same({"docker", "login", "-u", USER, "--password-stdin", REG}, argv_of(1))
      assert.equal(KEY .. "\n", read(dir .. "/calls/1.stdin"))
      assert.matches("^login   cn%-north%-4@AKEX… to 127%.0%.0%.1:5000   %d+%.%d%d s\n$", r.stderr)
      no_key(r)
    end)
    it("keeps the SK and the key out of the engine's environment", function()
      local r = swr(with(LOCAL, {"login"}), CREDS)
      assert.equal(0, r.status)
      local env = read(dir .. "/calls/1.env")
      assert.matches("\nHUAWEICLOUD_SDK_AK=" .. AK .. "\n", "\n" .. env)
      assert.falsy(env:find(SK, 1, true))
      assert.falsy(env:find("HUAWEICLOUD_SDK_SK", 1, true))
      r = swr(with(LOCAL, {"login"}), {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY})
      assert.equal(0, r.status)
      assert.falsy(read(dir .. "/calls/2.env"):find(KEY, 1, true))
    end)
    it("takes global options after the command", function()
      local r = swr(with({"login"}, LOCAL), CREDS)
      assert.equal(0, r.status)
      assert.equal(1, calls())
    end)
    it("takes options from the environment", function()
      local r = swr({"login", "-q"}, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                                      SWRAUTH_PROJECT = "cn-north-4", SWRAUTH_REGISTRY = REG,
                                      SWRAUTH_ENGINE = "podman", SWRAUTH_INSECURE = "1"})
      assert.equal(0, r.status)
      assert.equal("", r.stderr)
      assert.same({"podman", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG},
                  argv_of(1))
    end)
    it("lets flags win over the environment", function()
      local r = swr({"--engine", "docker", "login"}, {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK,
                    SWRAUTH_PROJECT = "cn-north-4", SWRAUTH_ENGINE = "podman"})
      assert.equal(0, r.status)
      assert.same({"docker", "login", "-u", USER, "--password-stdin",
                   "swr.cn-north-4.myhuaweicloud.com"}, argv_of(1))
    end)
    it("exits 1 when the engine fails, with the key redacted", function()
      write(dir .. "/calls/plan", "1|unauthorized: wrong password " .. KEY .. "\n")
      local r = swr(with(LOCAL, {"login"}), CREDS)
      assert.equal(1, r.status)
      assert.equal("swrauth: login: 'docker login -u " .. USER .. " --password-stdin " .. REG
                   .. " < <redacted>' failed (exit 1): unauthorized: wrong password <redacted>\n",
                   r.stderr)
      no_key(r)
    end)
    it("exits 2 without a project", function()
      local r = swr({"login"}, CREDS)
      assert.equal(2, r.status)
      assert.equal("swrauth: --project (or SWRAUTH_PROJECT) is required, e.g. --project "
                   .. "cn-north-4\nTry 'swrauth --help'.\n", r.stderr)
    end)
    it("exits 2 on a bad project or registry", function()
      assert.equal(2, swr({"--project", "CN", "login"}, CREDS).status)
      assert.equal(2, swr({"--project", "cn-north-4", "--registry", "a b", "login"}, CREDS).status)
    end)
    it("exits 3 without credentials", function()
      local r = swr(with(LOCAL, {"login"}))
      assert.equal(3, r.status)
      assert.matches("^swrauth: login: no credentials", r.stderr)
      assert.equal(0, calls())
    end)
    it("exits 4 when the engine is not installed", function()
      local r = swr({"--project", "cn-north-4", "--engine", "buildah", "login"},
                    {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK, PATH = dir .. "/bin"})
      assert.equal(4, r.status)
      assert.equal("swrauth: login: engine 'buildah' not found: no 'buildah' on PATH (install the "
                   .. "Debian package 'buildah')\n", r.stderr)
    end)
    it("exits 2 on a bad engine or retries from the environment", function()
      local r = swr({"--project", "cn-north-4", "login"}, {SWRAUTH_ENGINE = "rkt"})
      assert.equal(2, r.status)
      assert.equal("swrauth: SWRAUTH_ENGINE 'rkt' must be one of docker, podman, buildah, skopeo, "
                   .. "nerdctl, ctr, auto\nTry 'swrauth --help'.\n", r.stderr)
      r = swr(with(LOCAL, {"--retries", "0", "login"}), CREDS)
      assert.equal(2, r.status)
      assert.matches("^swrauth: %-%-retries '0' must be an integer >= 1\n", r.stderr)
      r = swr(with(LOCAL, {"login"}), {SWRAUTH_RETRIES = "many"})
      assert.equal(2, r.status)
      assert.matches("^swrauth: SWRAUTH_RETRIES 'many' must be an integer >= 1\n", r.stderr)
      r = swr(with(LOCAL, {"--backoff=-1", "login"}), CREDS)
      assert.equal(2, r.status)
      assert.matches("^swrauth: %-%-backoff '%-1' must be a number of seconds >= 0\n", r.stderr)
      r = swr(with(LOCAL, {"login"}), {SWRAUTH_TIMEOUT = "soon"})
      assert.equal(2, r.status)
      assert.matches("^swrauth: SWRAUTH_TIMEOUT 'soon' must be a number of seconds > 0", r.stderr)
      r = swr({"--project", "CN_North", "login"}, CREDS)
      assert.equal(2, r.status)
      assert.equal("swrauth: --project 'CN_North' has 'C' at byte 1: a region is lowercase letters, "
                   .. "digits and '-'\nTry 'swrauth --help'.\n", r.stderr)
    end)
    it("logs out of this registry only", function()
      local r = swr(with(LOCAL, {"logout"}))
      assert.equal(0, r.status)
      assert.same({"docker", "logout", REG}, argv_of(1))
    end)
    it("prints a dry run with the key redacted and runs nothing", function()
      local r = swr(with(LOCAL, {"--dry-run", "login"}), CREDS)
      assert.equal(0, r.status)
      assert.equal("docker login -u " .. USER .. " --password-stdin " .. REG .. " < <redacted>\n",
                   r.stdout)
      assert.equal(0, calls())
      no_key(r)
    end)
  end)

  describe("tag and push", function()
    it("tags each target", function()
      local r = swr(with(LOCAL, {"tag", "app:1", REG .. "/t/app:1", REG .. "/t/app:2"}))
      assert.equal(0, r.status)
      assert.same({"docker", "tag", "app:1", REG .. "/t/app:2"}, argv_of(2))
    end)
    it("pushes and prints each reference with its digest", function()
      local r = swr(with(LOCAL, {"push", REG .. "/t/app:1"}), CREDS)
      assert.equal(0, r.status)
      assert.equal(REG .. "/t/app:1 " .. DIGEST .. "\n", r.stdout)
      assert.same({"docker", "push", REG .. "/t/app:1"}, argv_of(1))
    end)
    it("retries a transient failure", function()
      write(dir .. "/calls/plan", "1|503 Service Unavailable\n")
      local r = swr(with(LOCAL, {"push", REG .. "/t/app:1"}), CREDS)
      assert.equal(0, r.status)
      assert.equal(2, calls())
      assert.matches("attempt 1 of 3 failed", r.stderr)
    end)
    it("reports a failure as JSON with --json", function()
      write(dir .. "/calls/plan", "1|denied\n")
      local r = swr(with(LOCAL, {"--json", "push", REG .. "/t/app:1"}), CREDS)
      assert.equal(1, r.status)
      local rep = support.decode(r.stdout)
      assert.is_false(rep.ok)
      assert.equal(1, rep.exit)
      assert.equal("push: 'docker push " .. REG .. "/t/app:1' failed (exit 1): denied", rep.error)
    end)
    it("takes the backoff from SWRAUTH_BACKOFF and --backoff", function()
      write(dir .. "/calls/plan", "1|503 Service Unavailable\n")
      local env = with({}, {})
      for k, v in pairs(CREDS) do env[k] = v end
      env.SWRAUTH_BACKOFF = "0.05"
      local r = swr(with(LOCAL, {"push", REG .. "/t/app:1"}), env)
      assert.equal(0, r.status)
      assert.matches("attempt 1 of 3 failed %(503 Service Unavailable%); again in 0%.05 s", r.stderr)
      os.remove(dir .. "/calls/count")
      r = swr(with(LOCAL, {"--backoff", "0", "push", REG .. "/t/app:1"}), env)
      assert.matches("again in 0%.00 s", r.stderr)
    end)
    it("lists the references pushed and not pushed when a push fails", function()
      write(dir .. "/calls/plan", "0|\n1|denied\n")
      local args = with(LOCAL, {"push", REG .. "/t/app:1", REG .. "/t/app:2", REG .. "/t/app:3"})
      local r = swr(args, CREDS)
      assert.equal(1, r.status)
      assert.equal(REG .. "/t/app:1 " .. DIGEST .. "\n", r.stdout)
      assert.equal("swrauth: push: 'docker push " .. REG .. "/t/app:2' failed (exit 1): denied\n"
        .. "1 of 3 references pushed (listed on standard output)\n"
        .. "not pushed  " .. REG .. "/t/app:2  (push failed)\n"
        .. "not pushed  " .. REG .. "/t/app:3  (skipped)\n", r.stderr:gsub("push%s+%S+   [%d.]+ s\n", ""))
      os.remove(dir .. "/calls/count")
      r = swr(with({"--json"}, args), CREDS)
      local rep = support.decode(r.stdout)
      assert.equal(1, rep.exit)
      assert.same({{reference = REG .. "/t/app:1", digest = DIGEST}}, rep.pushed)
      assert.same({{reference = REG .. "/t/app:2", status = "failed", step = "push"},
                   {reference = REG .. "/t/app:3", status = "skipped"}}, rep.not_pushed)
    end)
    it("summarises a release where exactly one reference was not pushed", function()
      -- login, tag 1, push 1, tag 2, push 2 (denied).
      write(dir .. "/calls/plan", "0|\n0|\n0|\n0|\n1|denied\n")
      local r = swr(with(LOCAL, {"-q", "release", "app", "--repository", "t/app", "--tag", "1",
                                 "--tag", "2"}), CREDS)
      assert.equal(1, r.status)
      assert.equal(REG .. "/t/app:1 " .. DIGEST .. "\n", r.stdout)
      assert.equal("swrauth: push: 'docker push " .. REG .. "/t/app:2' failed (exit 1): denied\n"
        .. "1 of 2 references pushed (listed on standard output)\n"
        .. "not pushed  " .. REG .. "/t/app:2  (push failed)\n", r.stderr)
    end)
    it("reports a failed login in --json with its step, and a dry run's plan apart from what was pushed", function()
      write(dir .. "/calls/plan", "1|unauthorized: incorrect username or password\n")
      local r = swr(with(LOCAL, {"--json", "login"}), CREDS)
      assert.equal(1, r.status)
      local rep = support.decode(r.stdout)
      assert.is_false(rep.ok)
      assert.equal(1, #rep.steps)
      assert.equal("login", rep.steps[1].step)
      assert.matches("unauthorized", rep.steps[1].error)
      r = swr(with(LOCAL, {"--json", "--dry-run", "release", "app", "--repository", "t/app", "--tag", "1"}),
              CREDS)
      assert.equal(0, r.status)
      rep = support.decode(r.stdout)
      assert.same({}, rep.pushed)
      assert.same({}, rep.not_pushed)
      assert.same({REG .. "/t/app:1"}, rep.planned)
      assert.equal(3, #rep.commands)
    end)
    it("exits 2 for a push with skopeo", function()
      local r = swr({"--project", "cn-north-4", "--engine", "skopeo", "push", "x/y:1"}, CREDS)
      assert.equal(2, r.status)
      assert.matches("skopeo has no local images to push", r.stderr)
    end)
  end)

  describe("release", function()
    it("pushes every semver tag and prints the digests", function()
      local r = swr(with(LOCAL, {"release", "app:build", "--repository", "team/app",
                                 "--semver", "1.4.2", "--latest"}), CREDS)
      assert.equal(0, r.status)
      local R = REG .. "/team/app:"
      assert.equal(R .. "1.4.2 " .. DIGEST .. "\n" .. R .. "1.4 " .. DIGEST .. "\n"
                   .. R .. "1 " .. DIGEST .. "\n" .. R .. "latest " .. DIGEST .. "\n", r.stdout)
      assert.equal(9, calls())
      no_key(r)
    end)
    it("prints JSON with --json", function()
      local r = swr(with(LOCAL, {"--json", "-q", "release", "app", "--repository", "team/app",
                                 "--tag", "a", "--tag", "b"}), CREDS)
      assert.equal(0, r.status)
      local rep = support.decode(r.stdout)
      assert.is_true(rep.ok)
      assert.equal(2, #rep.pushed)
      assert.equal(REG .. "/team/app:b", rep.pushed[2].reference)
      assert.equal(DIGEST, rep.pushed[2].digest)
      assert.equal("", r.stderr)
    end)
    it("copies then tags remotely with skopeo", function()
      local r = swr({"--project", "cn-north-4", "--registry", REG, "--engine", "skopeo",
                     "--insecure", "release", "oci:/b/oci:1", "--repository", "team/app",
                     "--tag", "1", "--tag", "latest", "--remote-tag", "engine"}, CREDS)
      assert.equal(0, r.status)
      assert.equal(3, calls())
      -- The login and the first copy run at the same time: either order.
      local copy = argv_of(1)[2] == "copy" and argv_of(1) or argv_of(2)
      assert.equal("oci:/b/oci:1", copy[#copy - 1])
      assert.equal("docker://" .. REG .. "/team/app:1", argv_of(3)[7])
      assert.equal("docker://" .. REG .. "/team/app:latest", argv_of(3)[8])
    end)
    it("reads a release file run without globals", function()
      local path = dir .. "/release.lua"
      write(path, 'return {source = "app:build", repository = "team/app", semver = "2.0.0", '
            .. 'registry = "' .. REG .. '", engine = "docker", project = "cn-north-4"}\n')
      local r = swr({"release", path}, CREDS)
      assert.equal(0, r.status)
      assert.matches("team/app:2%.0%.0 ", r.stdout)
      assert.matches("team/app:2%.0 ", r.stdout)
      write(path, 'return {source = os.getenv("HOME"), repository = "t/a", tags = {"1"}}\n')
      r = swr({"release", path}, CREDS)
      assert.equal(2, r.status)
      assert.matches("global 'os'", r.stderr)
      write(path, 'return {source = "a", repository = "t/a", tags = {"1"}, tagz = 1}\n')
      r = swr({"release", path}, CREDS)
      assert.equal(2, r.status)
      assert.matches("release file .*: unknown field 'tagz'", r.stderr)
    end)
    it("exits 2 on missing or bad release arguments", function()
      local r = swr(with(LOCAL, {"release", "app", "--tag", "1"}), CREDS)
      assert.equal(2, r.status)
      assert.matches("release: %-%-repository NS/NAME is required", r.stderr)
      r = swr(with(LOCAL, {"release", "app", "--repository", "t/a"}), CREDS)
      assert.equal(2, r.status)
      r = swr(with(LOCAL, {"release", "app", "--repository", "t/a", "--semver", "1.2"}), CREDS)
      assert.equal(2, r.status)
      assert.matches("'1%.2' is not a semantic version", r.stderr)
      r = swr(with(LOCAL, {"release", "app", "--repository", "t/a", "--tag", "a b"}), CREDS)
      assert.equal(2, r.status)
      assert.equal(0, calls())
    end)
  end)

  describe("parse", function()
    it("explains an image reference", function()
      local r = swr {"parse", "image", "nginx"}
      assert.equal(0, r.status)
      assert.equal("registry: docker.io\nrepository: library/nginx\nnamespace: library\n"
                   .. "name: nginx\ntag: latest\nreference: docker.io/library/nginx:latest\n", r.stdout)
    end)
    it("explains a login command with the key redacted, from stdin too", function()
      local cmd = "docker login -u " .. USER .. " -p " .. KEY .. " swr.cn-north-4.myhuaweicloud.com"
      for _, args in ipairs {{"parse", "login", cmd}, {"parse", "login", "-"}} do
        local r = swr(args, nil, cmd .. "\n")
        assert.equal(0, r.status)
        assert.matches("\nkey: <redacted>\n", r.stdout)
        assert.matches("^engine: docker\n", r.stdout)
        assert.matches("\nak: " .. AK .. "\n", r.stdout)
        no_key(r)
      end
    end)
    it("exits 2 on text it cannot parse", function()
      local r = swr {"parse", "image", "UPPER:x:y"}
      assert.equal(2, r.status)
      assert.matches("^swrauth: parse image: ", r.stderr)
    end)
  end)

  describe("login-command", function()
    it("prints the vendor's command and warns about -p", function()
      local r = swr({"--project", "cn-north-4", "login-command"}, CREDS)
      assert.equal(0, r.status)
      assert.equal("docker login -u " .. USER .. " -p " .. KEY .. " swr.cn-north-4.myhuaweicloud.com\n",
                   r.stdout)
      assert.matches("swrauth key | docker login %-u " .. USER:gsub("%p", "%%%0") .. " %-%-password%-stdin "
                     .. "swr%.cn%-north%-4%.myhuaweicloud%.com", r.stderr)
    end)
    it("prints only the stdin form with --stdin", function()
      local r = swr({"--project", "cn-north-4", "--registry", REG, "login-command", "--stdin"}, CREDS)
      assert.equal(0, r.status)
      assert.equal("docker login -u " .. USER .. " --password-stdin " .. REG .. "\n", r.stdout)
      r = swr({"--project", "cn-north-4", "--engine", "podman", "login-command", "--stdin"}, CREDS)
      assert.equal("podman login -u " .. USER .. " --password-stdin swr.cn-north-4.myhuaweicloud.com\n",
                   r.stdout)
      no_key(r)
    end)
    it("prints ctr's command", function()
      local r = swr({"--project", "cn-north-4", "login-command", "--ctr", "push", REG .. "/t/a:1"}, CREDS)
      assert.equal(0, r.status)
      assert.equal("ctr image push --user " .. USER .. ":" .. KEY .. " " .. REG .. "/t/a:1\n", r.stdout)
      r = swr({"--project", "cn-north-4", "login-command", "--ctr", "run", "x"}, CREDS)
      assert.equal(2, r.status)
      r = swr({"--project", "cn-north-4", "login-command", "--stdin", "--ctr", "pull", "x"}, CREDS)
      assert.equal(2, r.status)
    end)
    it("exits 3 without credentials", function()
      assert.equal(3, swr({"--project", "cn-north-4", "login-command"}).status)
    end)
  end)
end)

describe("swrauth.cli.main in-process", function()
  local cli = require "swrauth.cli"
  it("returns the exit code and writes through sys", function()
    local out, err = {}, {}
    local code = cli.main({"key"}, {
      out = function(s) out[#out + 1] = s end,
      err = function(s) err[#err + 1] = s end,
      getenv = function(n) return CREDS[n] end,
    })
    assert.equal(0, code)
    assert.equal(KEY .. "\n", table.concat(out))
    code = cli.main({"--help"}, {out = function(s) out[#out + 1] = s end})
    assert.equal(0, code)
  end)
end)

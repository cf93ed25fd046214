-- Specs of swrauth.pipeline, driving a fake engine: a shell script that
-- records each call's argv, stdin and environment and answers from a plan.
local pipeline = require "swrauth.pipeline"
local proc = require "swrauth.proc"

local AK = "AKEXAMPLE1234567890A"
local SK = "SKEXAMPLE0123456789012345678901234567890"
-- The vendor's pipeline over AK/SK gives this key.
local KEY = "6365fecaca3f027f6b9ddacf820f82fadf623b76b04e82ef5b59b33088c98bd8"
local USER = "cn-north-4@" .. AK
local REG = "127.0.0.1:5000"
local DIGEST_A = "sha256:" .. ("a"):rep(64)
local DIGEST_B = "sha256:" .. ("b"):rep(64)

-- The fake engine. Each call N writes N.argv (program name, then one
-- argument a line), N.stdin and N.env into $FAKE_DIR, then answers with
-- line N of $FAKE_DIR/plan ("CODE|STDERR"; none: exit 0). A push prints a
-- docker-style digest line; --digestfile F gets DIGEST_A; a --hosts-dir
-- is copied to N.hosts.
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
prev=
for a in "$@"; do
  if [ "$prev" = "--digestfile" ]; then printf 'sha256:%s\n' "$(printf '%064d' 0 | tr 0 a)" > "$a"; fi
  if [ "$prev" = "--hosts-dir" ]; then cp -r "$a" "$d/$n.hosts"; fi
  if [ "$prev" = "--dest-authfile" ]; then
    cp "$a" "$d/$n.authfile"; echo "$(stat -c %a "$a") $(stat -c %a "$(dirname "$a")")" > "$d/$n.authmode"
  fi
  prev=$a
done
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

local fake = {}

-- A fresh fake: bin/ with the given engine names, all the same script.
function fake.new(names)
  local dir = assert(proc.tempdir())
  os.execute("mkdir -p '" .. dir .. "/bin' '" .. dir .. "/calls'")
  for _, n in ipairs(names or {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr"}) do
    write(dir .. "/bin/" .. n, FAKE, "755")
  end
  return setmetatable({dir = dir, calls_dir = dir .. "/calls"}, {__index = fake})
end

function fake:plan(lines)
  write(self.calls_dir .. "/plan", table.concat(lines, "\n") .. "\n")
end

function fake:count()
  return tonumber(read(self.calls_dir .. "/count") or "0")
end

function fake:argv(n)
  local t = {}
  for line in (read(self.calls_dir .. "/" .. n .. ".argv") or ""):gmatch("([^\n]*)\n") do
    t[#t + 1] = line
  end
  return t
end

function fake:stdin(n) return read(self.calls_dir .. "/" .. n .. ".stdin") end
function fake:env(n) return read(self.calls_dir .. "/" .. n .. ".env") end

function fake:path()
  return self.dir .. "/bin:/usr/bin:/bin"
end

function fake:cleanup()
  os.execute("rm -rf '" .. self.dir .. "'")
end

-- A pipeline on the fake, with captured output and recorded sleeps.
local function make(f, opts, envvars)
  envvars = envvars or {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}
  local cap = {out = {}, err = {}, sleeps = {}}
  local o = {
    project = "cn-north-4", registry = REG, engine = "docker",
    -- The auth files a login locks and checks: the fake's, not $HOME's.
    env = {PATH = f:path(), FAKE_DIR = f.calls_dir, DOCKER_CONFIG = f.dir .. "/docker",
           REGISTRY_AUTH_FILE = f.dir .. "/auth.json"},
    getenv = function(n) return envvars[n] end,
    out = function(s) cap.out[#cap.out + 1] = s end,
    err = function(s) cap.err[#cap.err + 1] = s end,
    sleep = function(s) cap.sleeps[#cap.sleeps + 1] = s end,
    backoff = 0.01,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  local p = pipeline.new(o)
  cap.text = function(which) return table.concat(cap[which]) end
  return p, cap
end

-- The message of a raised error without "file:line: ".
local function raised(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(e):gsub("^[^:]+:%d+: ", ""))
end

describe("pipeline.new", function()
  local base = {project = "cn-north-4"}
  local function with(extra)
    local t = {}
    for k, v in pairs(base) do t[k] = v end
    for k, v in pairs(extra) do t[k] = v end
    return t
  end

  it("rejects unknown options by name", function()
    assert.equal("pipeline.new: unknown option 'retry'",
                 raised(pipeline.new, with {retry = 3}))
  end)
  it("checks option types", function()
    assert.equal("pipeline.new: option 'retries' must be a number, got string",
                 raised(pipeline.new, with {retries = "3"}))
    assert.equal("pipeline.new: option 'insecure' must be a boolean, got number",
                 raised(pipeline.new, with {insecure = 1}))
    assert.equal("pipeline.new: option 'out' must be a function or have a write method, got number",
                 raised(pipeline.new, with {out = 1}))
  end)
  it("accepts file handles and functions as writers", function()
    assert.is_table(pipeline.new(with {out = io.stdout, err = function() end}))
  end)
  it("checks retries, backoff and engine values", function()
    assert.equal("pipeline.new: option 'retries' must be an integer >= 1",
                 raised(pipeline.new, with {retries = 0}))
    assert.equal("pipeline.new: option 'retries' must be an integer >= 1",
                 raised(pipeline.new, with {retries = 1.5}))
    assert.equal("pipeline.new: option 'backoff' must be >= 0",
                 raised(pipeline.new, with {backoff = -1}))
    assert.equal("pipeline.new: option 'engine' must be one of docker, podman, buildah, "
                 .. "skopeo, nerdctl, ctr, auto (got 'rkt')",
                 raised(pipeline.new, with {engine = "rkt"}))
    assert.equal("pipeline.new: option 'remote_tag' must be one of auto, api, engine (got 'curl')",
                 raised(pipeline.new, with {remote_tag = "curl"}))
    assert.equal("pipeline.new: option 'remote_tag' must be a string, got boolean",
                 raised(pipeline.new, with {remote_tag = true}))
  end)
  it("requires a project and checks it", function()
    assert.equal("pipeline.new: option 'project' is required (e.g. 'cn-north-4')",
                 raised(pipeline.new, {}))
    assert.matches("^pipeline%.new: option 'project': field 'project' must start with a region",
                   raised(pipeline.new, {project = "CN"}))
  end)
  it("checks the region against the project", function()
    assert.equal("pipeline.new: option 'region' ('cn-east-3') does not match the project's "
                 .. "region ('cn-north-4')",
                 raised(pipeline.new, {project = "cn-north-4_team", region = "cn-east-3"}))
    assert.equal("cn-north-4", pipeline.new({region = "cn-north-4"}).project)
  end)
  it("checks the registry", function()
    assert.matches("^pipeline%.new: option 'registry': ",
                   raised(pipeline.new, with {registry = "a/b"}))
  end)
  it("checks an explicit credentials table", function()
    assert.equal("pipeline.new: option 'credentials': unknown field 'secret'",
                 raised(pipeline.new, with {credentials = {ak = AK, secret = SK}}))
    assert.equal("pipeline.new: option 'credentials': give exactly one of the fields 'sk' and 'key'",
                 raised(pipeline.new, with {credentials = {ak = AK, sk = SK, key = KEY}}))
  end)
  it("defaults the registry from the project's region", function()
    local p = pipeline.new {project = "cn-north-4_team"}
    assert.equal("swr.cn-north-4.myhuaweicloud.com", p.registry)
    assert.equal("cn-north-4", p.region)
  end)
  it("keeps the key, not the SK, of explicit credentials", function()
    local p = pipeline.new(with {credentials = {ak = AK, sk = SK}})
    assert.equal(KEY, p:credentials().key)
    for _, v in pairs(p.o) do assert.not_equal(SK, v) end
    assert.is_nil(p.o.credentials)
  end)
end)

describe("pipeline.semver_tags", function()
  it("expands a release version", function()
    assert.same({"1.4.2", "1.4", "1"}, pipeline.semver_tags("1.4.2"))
    assert.same({"1.4.2", "1.4", "1", "latest"}, pipeline.semver_tags("1.4.2", {latest = true}))
    assert.same({"0.10.0", "0.10", "0"}, pipeline.semver_tags("0.10.0", {latest = false}))
  end)
  it("drops a leading v", function()
    assert.same({"2.0.1", "2.0", "2"}, pipeline.semver_tags("v2.0.1"))
  end)
  it("gives a pre-release only itself", function()
    assert.same({"1.4.2-rc.1"}, pipeline.semver_tags("1.4.2-rc.1", {latest = true}))
    assert.same({"1.0.0-alpha-2.x"}, pipeline.semver_tags("1.0.0-alpha-2.x"))
  end)
  it("rejects what is not a semantic version", function()
    local msg = " is not a semantic version (MAJOR.MINOR.PATCH, optionally -PRERELEASE, "
      .. "e.g. 1.4.2 or 1.4.2-rc.1)"
    for _, v in ipairs {"1.4", "1.4.2.1", "01.4.2", "1.4.x", "", "1.4.2-", "1.4.2-rc..1",
                        "1.4.2-01", "latest", " 1.4.2"} do
      local tags, err = pipeline.semver_tags(v)
      assert.is_falsy(tags)
      assert.equal("'" .. v .. "'" .. msg, err)
    end
  end)
  it("rejects build metadata", function()
    local tags, err = pipeline.semver_tags("1.4.2+build.5")
    assert.is_falsy(tags)
    assert.equal("'1.4.2+build.5' has build metadata ('+...'), which an image tag cannot hold", err)
  end)
  it("raises on misuse", function()
    assert.equal("bad argument #1 to 'semver_tags' (string expected, got number)",
                 raised(pipeline.semver_tags, 1))
    assert.equal("bad argument #2 to 'semver_tags' (unknown option 'latests')",
                 raised(pipeline.semver_tags, "1.0.0", {latests = true}))
  end)
end)

describe("pipeline.is_transient", function()
  it("recognises 5xx, timeouts and refused or reset connections", function()
    for _, s in ipairs {
      "received unexpected HTTP status: 503 Service Unavailable",
      "error: status code 502", "Bad Gateway", "dial tcp 127.0.0.1:5000: connect: connection refused",
      "read: connection reset by peer", "net/http: TLS handshake timeout", "i/o timeout",
      "context deadline exceeded (Client.Timeout exceeded)", "HTTP/1.1 500 Internal Server Error",
    } do
      assert.is_true(pipeline.is_transient(s), s)
    end
  end)
  it("does not retry authentication or name errors", function()
    for _, s in ipairs {"unauthorized: authentication required", "401 Unauthorized",
                        "name unknown: repository name not known to registry",
                        "denied: requested access to the resource is denied"} do
      assert.is_false(pipeline.is_transient(s), s)
    end
  end)
  it("retries a connection closed without an answer and 429's error code", function()
    assert.is_true(pipeline.is_transient('Get "http://127.0.0.1:5000/v2/": EOF'))
    assert.is_true(pipeline.is_transient("toomanyrequests: You have reached your pull rate limit"))
    assert.is_false(pipeline.is_transient("EOF"))
  end)
  it("does not retry when the output also says the credentials were refused", function()
    assert.is_false(pipeline.is_transient("503 Service Unavailable\nunauthorized: authentication required"))
    assert.is_false(pipeline.is_transient("received unexpected HTTP status: 403 Forbidden; timeout"))
  end)
end)

describe("pipeline with a fake engine", function()
  local f
  before_each(function() f = fake.new() end)
  after_each(function() f:cleanup() end)

  describe(":login", function()
    local expect = {
      docker = {"docker", "login", "-u", USER, "--password-stdin", REG},
      podman = {"podman", "login", "-u", USER, "--password-stdin", REG},
      buildah = {"buildah", "login", "-u", USER, "--password-stdin", REG},
      skopeo = {"skopeo", "login", "-u", USER, "--password-stdin", REG},
      nerdctl = {"nerdctl", "login", "-u", USER, "--password-stdin", REG},
    }
    for engine, argv in pairs(expect) do
      it("gives " .. engine .. " the key on stdin, not in argv", function()
        local p, cap = make(f, {engine = engine})
        assert.is_true(p:login())
        assert.equal(1, f:count())
        assert.same(argv, f:argv(1))
        assert.equal(KEY .. "\n", f:stdin(1))
        for _, a in ipairs(f:argv(1)) do assert.falsy(a:find(KEY, 1, true)) end
        assert.falsy(cap.text("err"):find(KEY, 1, true))
      end)
    end
    it("maps --insecure and --cert-dir to each engine's flag", function()
      local p = make(f, {engine = "podman", insecure = true})
      assert.is_true(p:login())
      assert.same({"podman", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG},
                  f:argv(1))
      p = make(f, {engine = "skopeo", cert_dir = "/etc/ca"})
      assert.is_true(p:login())
      assert.same({"skopeo", "login", "--cert-dir", "/etc/ca", "-u", USER, "--password-stdin", REG},
                  f:argv(2))
      p = make(f, {engine = "nerdctl", insecure = true})
      assert.is_true(p:login())
      assert.same({"nerdctl", "login", "--insecure-registry", "-u", USER, "--password-stdin", REG},
                  f:argv(3))
      p = make(f, {engine = "docker", insecure = true})
      assert.is_true(p:login())
      assert.same({"docker", "login", "-u", USER, "--password-stdin", REG}, f:argv(4))
    end)
    it("prints one step line with the duration", function()
      local p, cap = make(f)
      assert.is_true(p:login())
      assert.matches("^login   cn%-north%-4@AKEX… to 127%.0%.0%.1:5000   %d+%.%d%d s\n$",
                     cap.text("err"))
    end)
    it("prints nothing with quiet", function()
      local p, cap = make(f, {quiet = true})
      assert.is_true(p:login())
      assert.equal("", cap.text("err"))
    end)
    it("passes the environment through to the engine", function()
      local p = make(f, {env = {PATH = f:path(), FAKE_DIR = f.calls_dir,
                                DOCKER_CONFIG = f.dir .. "/dc", CONTAINERD_ADDRESS = "/run/c.sock"}})
      assert.is_true(p:login())
      assert.truthy(("\n" .. f:env(1)):find("\nDOCKER_CONFIG=" .. f.dir .. "/dc\n", 1, true))
      assert.matches("\nCONTAINERD_ADDRESS=/run/c.sock\n", "\n" .. f:env(1))
      assert.matches("\nHOME=", "\n" .. f:env(1))
    end)
    it("runs nothing for ctr, which has no login", function()
      local p, cap = make(f, {engine = "ctr"})
      assert.is_true(p:login())
      assert.equal(0, f:count())
      assert.matches("ctr: the key goes with each push", cap.text("err"))
    end)
    it("reports a failed login without the key", function()
      f:plan {"1|Error: unauthorized: bad password " .. KEY}
      local p, cap = make(f)
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("runtime", kind)
      assert.equal("login: 'docker login -u " .. USER .. " --password-stdin " .. REG
                   .. " < <redacted>' failed (exit 1): Error: unauthorized: bad password <redacted>",
                   err)
      assert.equal(1, f:count())
      assert.falsy(cap.text("err"):find(KEY, 1, true))
    end)
    it("reports missing credentials with kind 'credentials'", function()
      local p = make(f, {}, {})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("credentials", kind)
      assert.matches("^login: no credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK", err)
      assert.equal(0, f:count())
    end)
    it("reports a missing engine naming the binary and the package", function()
      local g = fake.new {"docker"}
      local p = make(g, {engine = "podman", env = {PATH = g.dir .. "/bin", FAKE_DIR = g.calls_dir}})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("engine", kind)
      assert.equal("login: engine 'podman' not found: no 'podman' on PATH (install the Debian "
                   .. "package 'podman')", err)
      g:cleanup()
    end)
  end)

  describe(":push", function()
    it("pushes and reads the digest from docker's output", function()
      local p = make(f)
      local r = assert(p:push(REG .. "/team/app:1.0"))
      assert.same({"docker", "push", REG .. "/team/app:1.0"}, f:argv(1))
      assert.equal("", f:stdin(1))
      assert.same({reference = REG .. "/team/app:1.0", digest = DIGEST_B}, r)
    end)
    it("gives podman a private digest file and reads it", function()
      local p = make(f, {engine = "podman", insecure = true})
      local r = assert(p:push(REG .. "/team/app:1.0"))
      local argv = f:argv(1)
      assert.equal("--digestfile", argv[4])
      assert.matches("/swrauth%-%w+/digest$", argv[5])
      assert.same({"podman", "push", "--tls-verify=false", "--digestfile", argv[5],
                   REG .. "/team/app:1.0"}, argv)
      assert.equal(DIGEST_A, r.digest)
      assert.is_nil(io.open(argv[5]), "the digest file is removed")
    end)
    it("gives ctr the key in --user and warns once", function()
      local p, cap = make(f, {engine = "ctr", insecure = true})
      assert(p:push(REG .. "/team/app:1.0"))
      assert(p:push(REG .. "/team/app:1.1"))
      assert.same({"ctr", "image", "push", "--plain-http", "--user", USER .. ":" .. KEY,
                   REG .. "/team/app:1.0"}, f:argv(1))
      local _, warnings = cap.text("err"):gsub("warning: ctr takes the login key only", "")
      assert.equal(1, warnings)
      assert.falsy(cap.text("err"):find(KEY, 1, true))
    end)
    it("makes ctr a hosts dir trusting the CA files of cert_dir", function()
      local ca = f.dir .. "/ca"
      os.execute("mkdir -p '" .. ca .. "'")
      write(ca .. "/ca.crt", "CA")
      write(ca .. "/README", "not a CA")
      local p = make(f, {engine = "ctr", cert_dir = ca})
      assert(p:push(REG .. "/team/app:1.0"))
      local argv = f:argv(1)
      assert.matches("/swrauth%-%w+/hosts$", argv[5])
      assert.same({"ctr", "image", "push", "--hosts-dir", argv[5], "--user", USER .. ":" .. KEY,
                   REG .. "/team/app:1.0"}, argv)
      assert.equal('server = "https://' .. REG .. '"\n\n[host."https://' .. REG .. '"]\n'
                   .. '  capabilities = ["pull", "resolve", "push"]\n'
                   .. '  ca = ["' .. ca .. '/ca.crt"]\n',
                   read(f.calls_dir .. "/1.hosts/" .. REG .. "/hosts.toml"))
      assert.is_nil(proc.file_mode(argv[5]), "the hosts dir is removed")
    end)
    it("takes a cert_dir that is a hosts dir as it is", function()
      local hosts = f.dir .. "/hosts"
      os.execute("mkdir -p '" .. hosts .. "/" .. REG .. "'")
      write(hosts .. "/" .. REG .. "/hosts.toml", "server = 'x'\n")
      local p = make(f, {engine = "nerdctl", cert_dir = hosts})
      assert(p:push(REG .. "/team/app:1.0"))
      assert.same({"nerdctl", "push", "--hosts-dir", hosts, REG .. "/team/app:1.0"}, f:argv(1))
    end)
    it("says when cert_dir has no CA for ctr", function()
      local p = make(f, {engine = "ctr", cert_dir = f.calls_dir})
      local r, err, kind = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("usage", kind)
      assert.equal("push: cert dir " .. f.calls_dir .. " holds no .crt file (nor a hosts "
                   .. "directory for " .. REG .. ")", err)
      assert.equal(0, f:count())
    end)
    it("retries transient failures with exponential backoff", function()
      f:plan {"1|received unexpected HTTP status: 503 Service Unavailable",
              "1|dial tcp: connection refused"}
      local p, cap = make(f, {retries = 3, backoff = 0.01})
      local r = assert(p:push(REG .. "/team/app:1.0"))
      assert.equal(3, f:count())
      assert.same({0.01, 0.02}, cap.sleeps)
      assert.equal(DIGEST_B, r.digest)
      assert.matches("attempt 1 of 3 failed %(received unexpected HTTP status: 503 Service "
                     .. "Unavailable%); again in 0%.01 s", cap.text("err"))
      assert.equal(3, p.steps[1].attempts)
    end)
    it("caps the backoff", function()
      f:plan {"1|timeout", "1|timeout", "1|timeout", "1|timeout"}
      local p, cap = make(f, {retries = 5, backoff = 1, backoff_max = 3})
      assert(p:push(REG .. "/team/app:1.0"))
      assert.same({1, 2, 3, 3}, cap.sleeps)
    end)
    it("gives up after the configured attempts", function()
      f:plan {"1|503 Service Unavailable", "1|503 Service Unavailable", "0|"}
      local p, cap = make(f, {retries = 2})
      local r, err, kind = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("runtime", kind)
      assert.equal("push: 'docker push " .. REG .. "/team/app:1.0' failed (exit 1) after 2 "
                   .. "attempts: 503 Service Unavailable", err)
      assert.equal(2, f:count())
      assert.same({0.01}, cap.sleeps)
    end)
    it("stops an attempt at the timeout and retries it", function()
      write(f.dir .. "/bin/docker", "#!/bin/sh\nn=$(cat \"$FAKE_DIR/count\" 2>/dev/null || echo 0)\n"
        .. "echo $((n + 1)) > \"$FAKE_DIR/count\"\n[ \"$n\" -lt 2 ] && exec sleep 10\nexit 0\n", "755")
      local p, cap = make(f, {timeout = 0.3})
      local t0 = proc.clock()
      assert(p:push(REG .. "/team/app:1.0"))
      assert.is_true(proc.clock() - t0 < 5)
      assert.equal(4, f:count()) -- three pushes, then the digest query
      assert.same({0.01, 0.02}, cap.sleeps)
      assert.matches("attempt 1 of 3 failed %(timed out after 0%.3 s%); again in 0%.01 s", cap.text("err"))
      f:plan {}
      os.remove(f.calls_dir .. "/count")
      p = make(f, {timeout = 0.3, retries = 2})
      local r, err = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("push: 'docker push " .. REG .. "/team/app:1.0' failed (timed out after 0.3 s) "
                   .. "after 2 attempts", err)
    end)
    it("does not retry a permanent failure", function()
      f:plan {"1|denied: requested access to the resource is denied"}
      local p, cap = make(f)
      local r, err = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal(1, f:count())
      assert.same({}, cap.sleeps)
      assert.matches("failed %(exit 1%): denied: requested access", err)
    end)
    it("refuses skopeo, which has no local images", function()
      local p = make(f, {engine = "skopeo"})
      local r, err, kind = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("usage", kind)
      assert.matches("^push: skopeo has no local images to push", err)
    end)
    it("raises on misuse", function()
      local p = make(f)
      assert.equal("bad argument #1 to 'push' (non-empty string expected, got nil)",
                   raised(p.push, p))
    end)
  end)

  describe(":tag and :logout", function()
    it("tags locally", function()
      local p = make(f)
      assert.is_true(p:tag("app:1.0", REG .. "/team/app:1.0"))
      assert.same({"docker", "tag", "app:1.0", REG .. "/team/app:1.0"}, f:argv(1))
      p = make(f, {engine = "ctr"})
      assert.is_true(p:tag("docker.io/library/app:1.0", REG .. "/team/app:1.0"))
      assert.same({"ctr", "image", "tag", "--force", "docker.io/library/app:1.0",
                   REG .. "/team/app:1.0"}, f:argv(2))
    end)
    it("tags by a registry copy with skopeo", function()
      local p = make(f, {engine = "skopeo", insecure = true})
      assert.is_true(p:tag(REG .. "/team/app:1.0", REG .. "/team/app:stable"))
      local argv = f:argv(1)
      assert.same({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                   "--digestfile", argv[6], "docker://" .. REG .. "/team/app:1.0",
                   "docker://" .. REG .. "/team/app:stable"}, argv)
    end)
    it("logs out of this registry only", function()
      for i, engine in ipairs {"docker", "podman", "buildah", "skopeo", "nerdctl"} do
        local p = make(f, {engine = engine})
        assert.is_true(p:logout())
        assert.same({engine, "logout", REG}, f:argv(i))
      end
    end)
    it("needs no credentials to log out", function()
      local p = make(f, {}, {})
      assert.is_true(p:logout())
    end)
    it("runs nothing to log ctr out", function()
      local p = make(f, {engine = "ctr"})
      assert.is_true(p:logout())
      assert.equal(0, f:count())
    end)
  end)

  describe(":release", function()
    it("pushes the first tag, then tags and pushes the others (docker)", function()
      local p, cap = make(f)
      local res = assert(p:release {source = "app:build", repository = "team/app",
                                    tags = {"1.4.2", "1.4", "latest"}})
      local seq = {}
      for i = 1, f:count() do seq[i] = table.concat(f:argv(i), " ") end
      local R = REG .. "/team/app:"
      assert.same({
        "docker login -u " .. USER .. " --password-stdin " .. REG,
        "docker tag app:build " .. R .. "1.4.2",
        "docker push " .. R .. "1.4.2",
        "docker tag app:build " .. R .. "1.4",
        "docker push " .. R .. "1.4",
        "docker tag app:build " .. R .. "latest",
        "docker push " .. R .. "latest",
      }, seq)
      assert.same({{reference = R .. "1.4.2", digest = DIGEST_B},
                   {reference = R .. "1.4", digest = DIGEST_B},
                   {reference = R .. "latest", digest = DIGEST_B}}, res)
      assert.equal(R .. "1.4.2 " .. DIGEST_B .. "\n" .. R .. "1.4 " .. DIGEST_B .. "\n"
                   .. R .. "latest " .. DIGEST_B .. "\n", cap.text("out"))
    end)
    it("logs in and copies at the same time with skopeo, the copy on a private auth file", function()
      local p = make(f, {engine = "skopeo", insecure = true, quiet = true})
      local res = assert(p:release {source = "oci:/build/oci:1.4.2", repository = "team/app",
                                    tags = {"1.4.2"}})
      assert.equal(2, f:count())
      local login, copy = 1, 2
      if f:argv(1)[2] == "copy" then login, copy = 2, 1 end
      assert.same({"skopeo", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG},
                  f:argv(login))
      assert.equal(KEY .. "\n", f:stdin(login))
      local a = f:argv(copy)
      assert.same({"skopeo", "copy", "--dest-tls-verify=false", "--dest-authfile", a[5],
                   "--digestfile", a[7], "oci:/build/oci:1.4.2", "docker://" .. REG .. "/team/app:1.4.2"}, a)
      assert.equal("", f:stdin(copy))
      -- The private auth file: this registry only, 0600 in a 0700 directory, gone after.
      local auth = require("swrauth.json").decode(read(f.calls_dir .. "/" .. copy .. ".authfile"))
      assert.same({auths = {[REG] = {auth = require("swrauth").format("auth",
        {project = "cn-north-4", ak = AK, key = KEY})}}}, auth)
      assert.equal("600 700\n", read(f.calls_dir .. "/" .. copy .. ".authmode"))
      assert.is_nil(proc.file_mode(a[5]))
      assert.equal(DIGEST_A, res[1].digest)
      local steps = p:report().steps
      assert.same({"login", "push"}, {steps[1].step, steps[2].step})
    end)
    it("stops at a refused login even when the parallel copy went through (listed as pushed)", function()
      -- Whichever runs first: the login fails, the copy succeeds.
      local p, cap = make(f, {engine = "skopeo", quiet = true})
      write(f.dir .. "/bin/skopeo", (read(f.dir .. "/bin/skopeo"):gsub('line=%$%(sed[^\n]*',
        'line=; case " $* " in *" login "*) line="1|unauthorized: incorrect username or password" ;; esac')), "755")
      local ok, err = p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1", "2"}}
      assert.is_nil(ok)
      assert.matches("^login: 'skopeo login .*' failed %(exit 1%): unauthorized", err)
      assert.equal(2, f:count())
      local rep = p:report()
      assert.same({{reference = REG .. "/team/app:1", digest = DIGEST_A}}, rep.pushed)
      assert.same({{reference = REG .. "/team/app:2", status = "skipped"}}, rep.not_pushed)
      assert.equal("", cap.text("out"))
    end)
    it("logs in, then copies, with parallel_login = false", function()
      local p = make(f, {engine = "skopeo", quiet = true, parallel_login = false})
      assert(p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1"}})
      assert.same({"login", "copy"}, {f:argv(1)[2], f:argv(2)[2]})
      for _, w in ipairs(f:argv(2)) do assert.not_equal("--dest-authfile", w) end
    end)
    it("copies once, then tags in the registry without uploading (skopeo)", function()
      local p = make(f, {engine = "skopeo", insecure = true, remote_tag = "engine",
                         parallel_login = false})
      local res = assert(p:release {source = "oci:/build/oci:1.4.2", repository = "team/app",
                                    tags = {"1.4.2", "latest"}})
      assert.equal(3, f:count())
      local a2, a3 = f:argv(2), f:argv(3)
      assert.same({"skopeo", "copy", "--dest-tls-verify=false", "--digestfile", a2[5],
                   "oci:/build/oci:1.4.2", "docker://" .. REG .. "/team/app:1.4.2"}, a2)
      assert.same({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                   "--digestfile", a3[6], "docker://" .. REG .. "/team/app:1.4.2",
                   "docker://" .. REG .. "/team/app:latest"}, a3)
      assert.equal(DIGEST_A, res[1].digest)
      assert.equal(DIGEST_A, res[2].digest)
    end)
    it("pushes with ctr using --user on each push", function()
      local p = make(f, {engine = "ctr", insecure = true})
      assert(p:release {source = "docker.io/library/app:1", repository = "team/app",
                        tags = {"1", "2"}})
      assert.equal(4, f:count())
      assert.same({"ctr", "image", "tag", "--force", "docker.io/library/app:1",
                   REG .. "/team/app:1"}, f:argv(1))
      assert.same({"ctr", "image", "push", "--plain-http", "--user", USER .. ":" .. KEY,
                   REG .. "/team/app:1"}, f:argv(2))
    end)
    it("prints a JSON summary with --json", function()
      local p, cap = make(f, {json = true, quiet = true})
      assert(p:release {source = "app", repository = "team/app", tags = {"1.0"}})
      local json = require "swrauth.json"
      local rep = json.decode(cap.text("out"))
      assert.is_true(rep.ok)
      assert.equal("docker", rep.engine)
      assert.equal(REG, rep.registry)
      assert.same({{reference = REG .. "/team/app:1.0", digest = DIGEST_B}}, rep.pushed)
      assert.equal(3, #rep.steps)
      assert.equal("", cap.text("err"))
    end)
    it("lists what was not pushed after a failure, in the report and the summary", function()
      -- login, tag 1.0, push 1.0, tag 2.0, push 2.0 (denied); 3.0 never tried.
      f:plan {"0|", "0|", "0|", "0|", "1|denied: requested access to the resource is denied"}
      local p, cap = make(f, {quiet = true})
      local res, err = p:release {source = "app", repository = "team/app",
                                  tags = {"1.0", "2.0", "3.0"}}
      assert.is_falsy(res)
      assert.matches("^push: 'docker push " .. REG:gsub("%.", "%%.") .. "/team/app:2%.0' failed", err)
      local rep = p:report()
      assert.is_false(rep.ok)
      assert.equal(err, rep.error)
      assert.same({{reference = REG .. "/team/app:1.0", digest = DIGEST_B}}, rep.pushed)
      assert.same({{reference = REG .. "/team/app:2.0", status = "failed", step = "push"},
                   {reference = REG .. "/team/app:3.0", status = "skipped"}}, rep.not_pushed)
      p:summary()
      assert.equal(REG .. "/team/app:1.0 " .. DIGEST_B .. "\n", cap.text("out"))
      assert.equal("1 of 3 references pushed (listed on standard output)\n"
        .. "not pushed  " .. REG .. "/team/app:2.0  (push failed)\n"
        .. "not pushed  " .. REG .. "/team/app:3.0  (skipped)\n", cap.text("err"))
    end)
    it("refuses to let an engine's login replace an auth file it cannot parse", function()
      os.execute("mkdir -p '" .. f.dir .. "/docker'")
      local bad = '{"auths": {"keep.example": {"auth": "eDp5"}},\n  oops}'
      write(f.dir .. "/docker/config.json", bad)
      local p = make(f)
      local ok, err = p:login()
      assert.is_falsy(ok)
      assert.equal("login: " .. f.dir .. "/docker/config.json: line 2, column 3: invalid character "
        .. "'o' looking for beginning of object key string (the file is left as it is); not "
        .. "running 'docker login', which would replace it and lose its other entries: fix or "
        .. "remove it", err)
      assert.equal(0, f:count())
      assert.equal(bad, read(f.dir .. "/docker/config.json"))
    end)
    it("runs an engine's login under the auth file's lock", function()
      local p = make(f)
      assert.is_true(p:login())
      assert.equal("", read(f.dir .. "/docker/config.json.lock"))
      p = make(f, {engine = "skopeo"})
      assert.is_true(p:login())
      assert.equal("", read(f.dir .. "/auth.json.lock"))
    end)
    it("stops at the first failing step", function()
      f:plan {"0|", "0|", "1|name invalid"}
      local p = make(f)
      local res, err = p:release {source = "app", repository = "team/app", tags = {"1.0", "2.0"}}
      assert.is_falsy(res)
      assert.matches("^push: 'docker push 127%.0%.0%.1:5000/team/app:1%.0' failed", err)
      assert.equal(3, f:count())
    end)
    it("rejects bad tags and repositories before running anything", function()
      local p = make(f)
      local res, err, kind = p:release {source = "app", repository = "team/app", tags = {"1.0", "a b"}}
      assert.is_falsy(res)
      assert.equal("usage", kind)
      assert.equal("release: 'a b' is not a valid image tag (letters, digits, '_', '.' and '-', "
                   .. "not starting with '.' or '-', at most 128)", err)
      res, err = p:release {source = "app", repository = REG .. "/team/app", tags = {"1"}}
      assert.is_falsy(res)
      assert.equal("release: repository '" .. REG .. "/team/app' must be NS/NAME without the "
                   .. "registry (the registry is " .. REG .. ")", err)
      assert.equal(0, f:count())
    end)
    it("raises on a malformed spec", function()
      local p = make(f)
      assert.equal("bad argument #1 to 'release' (unknown field 'tag')",
                   raised(p.release, p, {source = "a", repository = "t/a", tag = "1"}))
      assert.equal("bad argument #1 to 'release' (field 'tags' is empty)",
                   raised(p.release, p, {source = "a", repository = "t/a", tags = {}}))
      assert.equal("bad argument #1 to 'release' (field 'source' is required)",
                   raised(p.release, p, {repository = "t/a", tags = {"1"}}))
    end)
  end)

  describe("dry run", function()
    it("prints each command with secrets redacted and runs nothing", function()
      local p, cap = make(f, {dry_run = true, engine = "ctr", insecure = true})
      assert(p:release {source = "docker.io/library/app:1", repository = "team/app",
                        tags = {"1.0"}})
      assert.equal(0, f:count())
      assert.equal("ctr image tag --force docker.io/library/app:1 " .. REG .. "/team/app:1.0\n"
                   .. "ctr image push --plain-http --user " .. USER .. ":<redacted> "
                   .. REG .. "/team/app:1.0\n", cap.text("out"))
      assert.falsy((cap.text("out") .. cap.text("err")):find(KEY, 1, true))
    end)
    it("shows the key on stdin as <redacted>", function()
      local p, cap = make(f, {dry_run = true})
      assert.is_true(p:login())
      assert.equal("docker login -u " .. USER .. " --password-stdin " .. REG .. " < <redacted>\n",
                   cap.text("out"))
      assert.equal(0, f:count())
    end)
    it("shows the registry API requests of release with skopeo (no secret)", function()
      local p, cap = make(f, {dry_run = true, engine = "skopeo", insecure = true, json = true})
      local res = assert(p:release {source = "oci:/b/oci:1", repository = "team/app",
                                    tags = {"1", "1.0", "latest"}})
      assert.equal(0, f:count())
      assert.equal(3, #res)
      local cmds = p:report().commands
      -- The copy as it runs, at the same time as the login: on a private auth file.
      assert.equal("skopeo copy --dest-tls-verify=false --dest-authfile '$TMPDIR/auth.json' "
        .. "--digestfile '$TMPDIR/digest' oci:/b/oci:1 docker://" .. REG .. "/team/app:1", cmds[2])
      local base = REG .. "/v2/team/app/manifests/"
      assert.same({"# registry API: GET " .. base .. "1",
                   "# registry API: PUT " .. base .. "1.0",
                   "# registry API: PUT " .. base .. "latest"},
                  {cmds[3], cmds[4], cmds[5]})
      assert.falsy((cap.text("out") .. cap.text("err")):find(KEY, 1, true))
    end)
    it("does not need the engine installed", function()
      local p, cap = make(f, {dry_run = true, engine = "nerdctl",
                              env = {PATH = "/nonexistent", FAKE_DIR = f.calls_dir}})
      assert.is_true(p:logout())
      assert.equal("nerdctl logout " .. REG .. "\n", cap.text("out"))
    end)
  end)

  describe("engine auto", function()
    it("takes docker only when its daemon answers", function()
      f:plan {"1|Cannot connect to the Docker daemon"}
      local p = make(f, {engine = "auto"})
      assert.is_true(p:login())
      assert.same({"docker", "version", "--format", "{{.Server.Version}}"}, f:argv(1))
      assert.equal("podman", f:argv(2)[1])
    end)
    it("takes docker when its daemon answers", function()
      local p = make(f, {engine = "auto"})
      assert.is_true(p:login())
      assert.equal("docker", f:argv(2)[1])
    end)
    it("takes skopeo for an image outside any engine's storage", function()
      local p = make(f, {engine = "auto", quiet = true})
      p:release {source = "oci:/srv/build/oci:1.0", repository = "team/app", tags = {"1.0"}}
      -- The login and the copy, at the same time: in either order.
      local words = {f:argv(1)[1] .. " " .. f:argv(1)[2], f:argv(2)[1] .. " " .. f:argv(2)[2]}
      table.sort(words)
      assert.same({"skopeo copy", "skopeo login"}, words)
    end)
    it("keeps the usual order for a local image name", function()
      local p = make(f, {engine = "auto", quiet = true})
      p:release {source = "localhost:5000/app:1.0", repository = "team/app", tags = {"1.0"}}
      assert.same({"docker", "version"}, {f:argv(1)[1], f:argv(1)[2]})
    end)
    it("says so when no engine is found", function()
      local p = make(f, {engine = "auto", env = {PATH = "/nonexistent"}})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("engine", kind)
      assert.matches("^login: no container engine found on PATH", err)
    end)
  end)
end)

-- Specs of swrauth.pipeline with a fake runner in place of proc.run_all
-- (tests/spec/fake_runner.lua): the commands each step runs, the key only
-- on stdin, retries and their waits, reports, dry runs. The same
-- pipelines against real engines and a real registry: tests/e2e/.
local pipeline = require "swrauth.pipeline"
local fs = require "swrauth.fs"
local json = require "swrauth.json"
local swrauth = require "swrauth"
local fake_runner = require "tests.spec.fake_runner"
local support = require "tests.spec.support"
local write, read = support.write, support.read

local AK = "AKEXAMPLE1234567890A"
local SK = "SKEXAMPLE0123456789012345678901234567890"
-- The vendor's pipeline over AK/SK gives this key.
local KEY = "6365fecaca3f027f6b9ddacf820f82fadf623b76b04e82ef5b59b33088c98bd8"
local USER = "cn-north-4@" .. AK
local REG = "127.0.0.1:5000"
local DIGEST_A, DIGEST_B = fake_runner.DIGEST_A, fake_runner.DIGEST_B

local dir -- a temporary directory per test: the auth files engines would rewrite

-- A pipeline on a fake runner; returns the pipeline, the fake and what
-- was reported (events, sleeps).
local function make(opts, envvars, plan)
  envvars = envvars or {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}
  local f = fake_runner.new(plan)
  local cap = {events = {}, sleeps = {}}
  local o = {
    project = "cn-north-4", registry = REG, engine = "docker",
    env = {DOCKER_CONFIG = dir .. "/docker", REGISTRY_AUTH_FILE = dir .. "/auth.json"},
    getenv = function(n) return envvars[n] end,
    on_event = function(ev) cap.events[#cap.events + 1] = ev end,
    sleep = function(s) cap.sleeps[#cap.sleeps + 1] = s end,
    runner = f.run, which = f.which, backoff = 0.01,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  local p = pipeline.new(o)
  function cap.kinds(kind)
    local list = {}
    for _, e in ipairs(cap.events) do
      if e.kind == kind then list[#list + 1] = e end
    end
    return list
  end
  function cap.text()
    local parts = {}
    for _, e in ipairs(cap.events) do
      parts[#parts + 1] = table.concat({e.kind, e.step or "", e.detail or "", e.why or "",
                                        e.message or ""}, " ")
    end
    return table.concat(parts, "\n")
  end
  return p, f, cap
end

-- The message of a raised error without "file:line: ".
local function raised(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(e):gsub("^[^:]+:%d+: ", ""))
end

before_each(function() dir = assert(fs.tempdir()).path end)
after_each(function() fs.remove_tree(dir) end)

describe("pipeline.new", function()
  local function with(extra)
    local t = {project = "cn-north-4"}
    for k, v in pairs(extra) do t[k] = v end
    return t
  end

  it("rejects unknown options by name", function()
    assert.equal("pipeline.new: unknown option 'retry'", raised(pipeline.new, with {retry = 3}))
    assert.equal("pipeline.new: unknown option 'out'", raised(pipeline.new, with {out = print}))
  end)
  it("checks option types", function()
    assert.equal("pipeline.new: option 'retries' must be a number, got string",
                 raised(pipeline.new, with {retries = "3"}))
    assert.equal("pipeline.new: option 'insecure' must be a boolean, got number",
                 raised(pipeline.new, with {insecure = 1}))
    assert.equal("pipeline.new: option 'on_event' must be a function, got table",
                 raised(pipeline.new, with {on_event = {}}))
  end)
  it("checks retries, backoff, timeout and engine values", function()
    assert.equal("pipeline.new: option 'retries' must be an integer >= 1",
                 raised(pipeline.new, with {retries = 0}))
    assert.equal("pipeline.new: option 'retries' must be an integer >= 1",
                 raised(pipeline.new, with {retries = 1.5}))
    assert.equal("pipeline.new: option 'retries' must be an integer >= 1",
                 raised(pipeline.new, with {retries = math.huge}))
    assert.equal("pipeline.new: option 'backoff' must be a number of seconds >= 0",
                 raised(pipeline.new, with {backoff = -1}))
    assert.equal("pipeline.new: option 'timeout' must be a number of seconds > 0 (leave it out "
                 .. "for none)", raised(pipeline.new, with {timeout = 0 / 0}))
    assert.equal("pipeline.new: option 'engine' must be one of docker, podman, buildah, skopeo, "
                 .. "nerdctl, ctr, auto", raised(pipeline.new, with {engine = "rkt"}))
    assert.equal("pipeline.new: option 'remote_tag' must be one of auto, api, engine",
                 raised(pipeline.new, with {remote_tag = "curl"}))
  end)
  it("requires a project and checks it", function()
    assert.equal("pipeline.new: option 'project' is required (e.g. 'cn-north-4')",
                 raised(pipeline.new, {}))
    local _, why = swrauth.check("project", "CN")
    assert.equal("pipeline.new: option 'project' " .. why, raised(pipeline.new, {project = "CN"}))
  end)
  it("checks the region against the project", function()
    assert.equal("pipeline.new: option 'region' ('cn-east-3') does not match the project's "
                 .. "region ('cn-north-4')",
                 raised(pipeline.new, {project = "cn-north-4_team", region = "cn-east-3"}))
    assert.equal("cn-north-4", pipeline.new({region = "cn-north-4"}).project)
  end)
  it("checks the registry", function()
    local _, why = swrauth.check("registry", "a/b")
    assert.equal("pipeline.new: option 'registry' " .. why, raised(pipeline.new, with {registry = "a/b"}))
  end)
  it("checks an explicit credentials table", function()
    assert.equal("pipeline.new: option 'credentials' unknown field 'secret'",
                 raised(pipeline.new, with {credentials = {ak = AK, secret = SK}}))
    assert.equal("pipeline.new: option 'credentials' give exactly one of the fields 'sk' and 'key'",
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
  it("answers check_option for each option", function()
    assert.is_true(pipeline.check_option("retries", 2))
    local ok, why = pipeline.check_option("retries", 0)
    assert.is_falsy(ok)
    assert.equal("must be an integer >= 1", why)
    ok, why = pipeline.check_option("nope", 1)
    assert.is_falsy(ok)
    assert.equal("unknown option 'nope'", why)
  end)
end)

describe("pipeline with a fake runner", function()
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
        local p, f, cap = make {engine = engine}
        assert.is_true(p:login())
        assert.equal(1, f.count())
        assert.same(argv, f.argv(1))
        assert.equal(KEY .. "\n", f.calls[1].stdin)
        for _, a in ipairs(f.argv(1)) do assert.falsy(a:find(KEY, 1, true)) end
        assert.falsy(cap.text():find(KEY, 1, true))
      end)
    end
    it("maps insecure and cert_dir to each engine's flag", function()
      local p, f = make {engine = "podman", insecure = true}
      assert.is_true(p:login())
      assert.same({"podman", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG}, f.argv(1))
      fs.mkdir_p(dir .. "/ca")
      write(dir .. "/ca/ca.crt", "CA")
      p, f = make {engine = "skopeo", cert_dir = dir .. "/ca"}
      assert.is_true(p:login())
      assert.same({"skopeo", "login", "--cert-dir", dir .. "/ca", "-u", USER, "--password-stdin", REG},
                  f.argv(1))
      p, f = make {engine = "nerdctl", insecure = true}
      assert.is_true(p:login())
      assert.same({"nerdctl", "login", "--insecure-registry", "-u", USER, "--password-stdin", REG},
                  f.argv(1))
      p, f = make {engine = "docker", insecure = true}
      assert.is_true(p:login())
      assert.same({"docker", "login", "-u", USER, "--password-stdin", REG}, f.argv(1))
    end)
    it("reports one step with its duration", function()
      local p, _, cap = make()
      assert.is_true(p:login())
      local steps = cap.kinds("step")
      assert.equal(1, #steps)
      assert.equal("login", steps[1].step)
      assert.equal("cn-north-4@AKEX… to " .. REG, steps[1].detail)
      assert.equal(0.01, steps[1].seconds)
      assert.equal(1, steps[1].attempts)
    end)
    it("gives engines the environment overrides without the secret variables", function()
      local p, f = make {env = {DOCKER_CONFIG = dir .. "/dc", CONTAINERD_ADDRESS = "/run/c.sock",
                                HUAWEICLOUD_SDK_SK = SK}}
      assert.is_true(p:login())
      local env = f.calls[1].env
      assert.equal(dir .. "/dc", env.DOCKER_CONFIG)
      assert.equal("/run/c.sock", env.CONTAINERD_ADDRESS)
      assert.is_false(env.HUAWEICLOUD_SDK_SK)
      assert.is_false(env.SWRAUTH_LOGIN_KEY)
    end)
    it("asks the registry for ctr, which has no login (no ctr runs, no warning)", function()
      local p, f, cap = make {engine = "ctr"}
      assert.is_true(p:login())
      assert.equal(1, f.count())
      assert.same({"/fake/bin/curl", "-q", "--config", "-"}, f.argv(1))
      assert.matches('url = "https://' .. REG .. '/v2/"', f.calls[1].stdin, 1, true)
      assert.matches('user = "' .. USER .. ":" .. KEY .. '"', f.calls[1].stdin, 1, true)
      assert.matches("login cn%-north%-4@AKEX… to " .. REG:gsub("%p", "%%%0") .. " %(asked the registry%)",
                     cap.text())
      assert.equal(0, #cap.kinds("warning"))
    end)
    it("fails a ctr login the registry refuses, naming why", function()
      local p, f = make({engine = "ctr"}, nil, {function()
        return {stderr = "\n@@swrauth@@ 401 0 0\ne:\nc:\nh:www-authenticate:Basic realm=\"r\"\n"}
      end})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("runtime", kind)
      assert.equal("login: GET " .. REG .. "/v2/: HTTP 401: the registry refused the credentials (wrong key, "
                   .. "AK or project?)", err)
      assert.equal(1, f.count())
    end)
    it("reports a failed login without the key, as a failed step in the report", function()
      local p, f, cap = make({}, nil, {"1|Error: unauthorized: bad password " .. KEY})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("runtime", kind)
      assert.equal("login: 'docker login -u " .. USER .. " --password-stdin " .. REG
                   .. " < <redacted>' failed (exit 1): Error: unauthorized: bad password <redacted>",
                   err)
      assert.equal(1, f.count())
      assert.falsy(cap.text():find(KEY, 1, true))
      local rep = p:report()
      assert.is_false(rep.ok)
      assert.equal(err, rep.error)
      assert.equal(1, #rep.steps)
      assert.equal("login", rep.steps[1].step)
      assert.matches("failed %(exit 1%)", rep.steps[1].error)
    end)
    it("reports missing credentials with kind 'credentials'", function()
      local p, f = make({}, {SWRAUTH_METADATA_ENDPOINT = "none"})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("credentials", kind)
      assert.matches("^login: no credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK", err)
      assert.equal(0, f.count())
    end)
    it("asks the instance metadata through its runner before saying there are none", function()
      local p, f = make({}, {})
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("credentials", kind)
      assert.matches("^login: no credentials: ", err)
      -- The fake curl answers 200 with no body: a token, then no credentials.
      assert.equal(2, f.count())
      assert.equal("curl", f.calls[1].argv[1]:match("[^/]+$"))
      assert.matches('url = "http://169%.254%.169%.254/meta%-data/latest/api/token"', f.calls[1].stdin)
      assert.matches('url = "http://169%.254%.169%.254/openstack/latest/securitykey"', f.calls[2].stdin)
      assert.matches("instance metadata http://169%.254%.169%.254: the answer is not JSON", err)
    end)
    it("reports a missing engine naming the binary and the package", function()
      local p, f = make {engine = "podman"}
      f.missing.podman = true
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("engine", kind)
      assert.equal("login: engine 'podman' not found: no 'podman' on PATH (install the Debian "
                   .. "package 'podman')", err)
    end)
    it("refuses to let an engine's login replace an auth file it cannot parse", function()
      fs.mkdir_p(dir .. "/docker")
      local bad = '{"auths": {"keep.example": {"auth": "eDp5"}},\n  oops}'
      write(dir .. "/docker/config.json", bad)
      local p, f = make()
      local ok, err = p:login()
      assert.is_falsy(ok)
      assert.equal("login: " .. dir .. "/docker/config.json: line 2, column 3: invalid character "
        .. "'o' looking for beginning of object key string (the file is left as it is); not "
        .. "running 'docker login', which would replace it and lose its other entries: fix or "
        .. "remove it", err)
      assert.equal(0, f.count())
      assert.equal(bad, read(dir .. "/docker/config.json"))
    end)
    it("runs an engine's login under the auth file's lock", function()
      local held
      local p = make({}, nil, {function()
        -- While the engine runs, another writer (another process: fcntl
        -- locks are per process) cannot take the lock.
        local h = io.popen("lua5.4 -e 'package.path=\"lua/?.lua;\"..package.path; "
          .. "package.cpath=\"./?.so;\"..package.cpath; io.write(tostring(require("
          .. "\"swrauth.fs\").lock(\"" .. dir .. "/docker/config.json\", 0.05)))'")
        held = h:read("a") == "nil"
        h:close()
        return {}
      end})
      assert.is_true(p:login())
      assert.is_true(held)
      assert.equal("", read(dir .. "/docker/config.json.lock"))
    end)
  end)

  describe(":push", function()
    it("pushes and reads the digest from docker's output", function()
      local p, f = make()
      local r = assert(p:push(REG .. "/team/app:1.0"))
      assert.same({"docker", "push", REG .. "/team/app:1.0"}, f.argv(1))
      assert.equal("", f.calls[1].stdin)
      assert.same({reference = REG .. "/team/app:1.0", digest = DIGEST_B}, r)
    end)
    it("gives podman a private digest file and reads it", function()
      local p, f = make {engine = "podman", insecure = true}
      local r = assert(p:push(REG .. "/team/app:1.0"))
      local argv = f.argv(1)
      assert.matches("/swrauth%-%w+/digest$", argv[5])
      assert.same({"podman", "push", "--tls-verify=false", "--digestfile", argv[5],
                   REG .. "/team/app:1.0"}, argv)
      assert.equal(DIGEST_A, r.digest)
      assert.is_nil(io.open(argv[5]), "the digest file is removed")
    end)
    it("gives ctr the key in --user and warns once", function()
      local p, f, cap = make {engine = "ctr", insecure = true}
      assert(p:push(REG .. "/team/app:1.0"))
      assert(p:push(REG .. "/team/app:1.1"))
      assert.same({"ctr", "image", "push", "--plain-http", "--user", USER .. ":" .. KEY,
                   REG .. "/team/app:1.0"}, f.argv(1))
      local warnings = cap.kinds("warning")
      assert.equal(1, #warnings)
      assert.matches("^warning: ctr takes the login key only", warnings[1].message)
      assert.falsy(cap.text():find(KEY, 1, true))
    end)
    it("makes ctr a hosts dir trusting the CA files of cert_dir", function()
      local ca = dir .. "/ca"
      fs.mkdir_p(ca)
      write(ca .. "/ca.crt", "CA")
      write(ca .. "/README", "not a CA")
      local p, f = make {engine = "ctr", cert_dir = ca}
      assert(p:push(REG .. "/team/app:1.0"))
      local argv = f.argv(1)
      assert.matches("/swrauth%-%w+/hosts$", argv[5])
      assert.same({"ctr", "image", "push", "--hosts-dir", argv[5], "--user", USER .. ":" .. KEY,
                   REG .. "/team/app:1.0"}, argv)
      assert.equal('server = "https://' .. REG .. '"\n\n[host."https://' .. REG .. '"]\n'
                   .. '  capabilities = ["pull", "resolve", "push"]\n'
                   .. '  ca = ["' .. ca .. '/ca.crt"]\n', f.calls[1].hosts_toml)
      assert.is_nil(fs.mode(argv[5]), "the hosts dir is removed")
    end)
    it("takes a cert_dir that is a hosts dir as it is", function()
      local hosts = dir .. "/hosts"
      fs.mkdir_p(hosts .. "/" .. REG)
      write(hosts .. "/" .. REG .. "/hosts.toml", "server = 'x'\n")
      local p, f = make {engine = "nerdctl", cert_dir = hosts}
      assert(p:push(REG .. "/team/app:1.0"))
      assert.same({"nerdctl", "push", "--hosts-dir", hosts, REG .. "/team/app:1.0"}, f.argv(1))
    end)
    it("refuses a cert_dir without a CA, or missing, for every engine but docker", function()
      for _, engine in ipairs {"podman", "buildah", "skopeo", "nerdctl", "ctr"} do
        local p, f = make {engine = engine, cert_dir = dir}
        local ok, err, kind = p:login()
        assert.is_falsy(ok)
        assert.equal("usage", kind)
        assert.equal("login: cert dir " .. dir .. " holds no .crt file (nor a hosts directory for "
                     .. REG .. ")", err)
        p = make {engine = engine, cert_dir = dir .. "/none"}
        ok, err, kind = p:login()
        assert.is_falsy(ok)
        assert.equal("usage", kind)
        assert.matches("^login: cert dir " .. dir:gsub("%p", "%%%0") .. "/none: no such file or directory", err)
        assert.equal(0, f.count())
      end
      local p = make {engine = "docker", cert_dir = dir}
      assert.is_true(p:login())
    end)
    it("says when cert_dir has no CA for ctr", function()
      local p, f = make {engine = "ctr", cert_dir = dir}
      local r, err, kind = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("usage", kind)
      assert.equal("push: cert dir " .. dir .. " holds no .crt file (nor a hosts directory for "
                   .. REG .. ")", err)
      assert.equal(0, f.count())
    end)
    it("retries transient failures with exponential backoff", function()
      local p, f, cap = make({retries = 3, backoff = 0.01}, nil,
        {"1|received unexpected HTTP status: 503 Service Unavailable", "1|dial tcp: connection refused"})
      local r = assert(p:push(REG .. "/team/app:1.0"))
      assert.equal(3, f.count())
      assert.same({0.01, 0.02}, cap.sleeps)
      assert.equal(DIGEST_B, r.digest)
      local retries = cap.kinds("retry")
      assert.equal(2, #retries)
      assert.same({1, 3, "received unexpected HTTP status: 503 Service Unavailable", 0.01},
                  {retries[1].attempt, retries[1].attempts, retries[1].why, retries[1].wait})
      assert.equal(3, p:report().steps[1].attempts)
    end)
    it("caps the backoff", function()
      local p, _, cap = make({retries = 5, backoff = 1, backoff_max = 3}, nil,
                             {"1|timeout", "1|timeout", "1|timeout", "1|timeout"})
      assert(p:push(REG .. "/team/app:1.0"))
      assert.same({1, 2, 3, 3}, cap.sleeps)
    end)
    it("gives up after the configured attempts", function()
      local p, f, cap = make({retries = 2}, nil,
                             {"1|503 Service Unavailable", "1|503 Service Unavailable", "0|"})
      local r, err, kind = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("runtime", kind)
      assert.equal("push: 'docker push " .. REG .. "/team/app:1.0' failed (exit 1) after 2 "
                   .. "attempts: 503 Service Unavailable", err)
      assert.equal(2, f.count())
      assert.same({0.01}, cap.sleeps)
    end)
    it("retries an attempt stopped at the time limit, and says so", function()
      local stopped = function() return {status = 143, timed_out = true} end
      local p, f, cap = make({timeout = 0.3}, nil, {stopped, stopped})
      assert(p:push(REG .. "/team/app:1.0"))
      assert.equal(3, f.count())
      assert.equal(0.3, f.calls[1].timeout)
      assert.same({0.01, 0.02}, cap.sleeps)
      assert.equal("timed out after 0.3 s", cap.kinds("retry")[1].why)
      p = make({timeout = 0.3, retries = 2}, nil, {stopped, stopped})
      local r, err = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("push: 'docker push " .. REG .. "/team/app:1.0' failed (timed out after 0.3 s) "
                   .. "after 2 attempts", err)
    end)
    it("does not retry a permanent failure", function()
      local p, f, cap = make({}, nil, {"1|denied: requested access to the resource is denied"})
      local r, err = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal(1, f.count())
      assert.same({}, cap.sleeps)
      assert.matches("failed %(exit 1%): denied: requested access", err)
    end)
    it("refuses skopeo, which has no local images", function()
      local p = make {engine = "skopeo"}
      local r, err, kind = p:push(REG .. "/team/app:1.0")
      assert.is_falsy(r)
      assert.equal("usage", kind)
      assert.matches("^push: skopeo has no local images to push", err)
    end)
    it("refuses an image name an engine would read as an option", function()
      local p, f = make()
      local r, err, kind = p:push("--all-tags")
      assert.is_falsy(r)
      assert.equal("usage", kind)
      assert.equal("push: image name '--all-tags' starts with '-' (an engine would read it as an "
                   .. "option)", err)
      assert.equal(0, f.count())
    end)
    it("raises on misuse", function()
      local p = make()
      assert.equal("bad argument #1 to 'push' (non-empty string expected, got nil)", raised(p.push, p))
    end)
  end)

  describe(":tag and :logout", function()
    it("tags locally", function()
      local p, f = make()
      assert.is_true(p:tag("app:1.0", REG .. "/team/app:1.0"))
      assert.same({"docker", "tag", "app:1.0", REG .. "/team/app:1.0"}, f.argv(1))
      p, f = make {engine = "ctr"}
      assert.is_true(p:tag("docker.io/library/app:1.0", REG .. "/team/app:1.0"))
      assert.same({"ctr", "image", "tag", "--force", "docker.io/library/app:1.0",
                   REG .. "/team/app:1.0"}, f.argv(1))
    end)
    it("takes a name without a registry in the registry given; refuses another registry", function()
      local p, f = make()
      assert.is_true(p:tag("app:1.0", "team/app:x"))
      assert.same({"docker", "tag", "app:1.0", REG .. "/team/app:x"}, f.argv(1))
      assert(p:push("team/app:x"))
      assert.same({"docker", "push", REG .. "/team/app:x"}, f.argv(2))
      local ok, err, kind = p:push("docker.io/team/app:x")
      assert.is_falsy(ok)
      assert.equal("usage", kind)
      assert.equal("push: image 'docker.io/team/app:x' is in registry docker.io, not " .. REG
                   .. " (the registry given): name the image without a registry, or in " .. REG, err)
      ok, err = p:tag("app:1.0", "r.example/team/app:x")
      assert.is_falsy(ok)
      assert.matches("^tag: image 'r%.example/team/app:x' is in registry r%.example, not ", err)
      assert.equal(2, f.count())
      -- skopeo copies in the registry: both names; a source elsewhere is a copy from there.
      p, f = make {engine = "skopeo", insecure = true}
      assert.is_true(p:tag("team/app:1", "team/app:x"))
      local argv = f.argv(1)
      assert.same({"docker://" .. REG .. "/team/app:1", "docker://" .. REG .. "/team/app:x"},
                  {argv[#argv - 1], argv[#argv]})
      assert.is_true(p:tag("docker.io/library/alpine:3", "team/alpine:3"))
      argv = f.argv(2)
      assert.same({"docker://docker.io/library/alpine:3", "docker://" .. REG .. "/team/alpine:3"},
                  {argv[#argv - 1], argv[#argv]})
    end)
    it("tags by a registry copy with skopeo", function()
      local p, f = make {engine = "skopeo", insecure = true}
      assert.is_true(p:tag(REG .. "/team/app:1.0", REG .. "/team/app:stable"))
      local argv = f.argv(1)
      assert.same({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                   "--digestfile", argv[6], "docker://" .. REG .. "/team/app:1.0",
                   "docker://" .. REG .. "/team/app:stable"}, argv)
    end)
    it("logs out of this registry only", function()
      for _, engine in ipairs {"docker", "podman", "buildah", "skopeo", "nerdctl"} do
        local p, f = make {engine = engine}
        assert.is_true(p:logout())
        assert.same({engine, "logout", REG}, f.argv(1))
      end
    end)
    it("succeeds, saying so, when a logout finds nothing to remove", function()
      for _, engine in ipairs {"podman", "buildah", "skopeo"} do
        local p, f, cap = make({engine = engine}, nil, {"1|Error: not logged into " .. REG})
        assert.is_true(p:logout())
        assert.equal(1, f.count())
        assert.equal(REG .. " (nothing to remove: not logged in)", cap.kinds("step")[1].detail)
      end
      -- Another failure is one.
      local p = make({engine = "podman"}, nil, {"1|Error: open /run/auth.json: permission denied"})
      local ok, err = p:logout()
      assert.is_falsy(ok)
      assert.matches("permission denied", err)
    end)
    it("needs no credentials to log out", function()
      local p = make({}, {})
      assert.is_true(p:logout())
    end)
    it("runs nothing to log ctr out", function()
      local p, f = make {engine = "ctr"}
      assert.is_true(p:logout())
      assert.equal(0, f.count())
    end)
  end)

  describe(":release", function()
    it("pushes the first tag, then tags and pushes the others (docker)", function()
      local p, f = make()
      local res = assert(p:release {source = "app:build", repository = "team/app",
                                    tags = {"1.4.2", "1.4", "latest"}})
      local seq = {}
      for i = 1, f.count() do seq[i] = f.line(i) end
      local R = REG .. "/team/app:"
      assert.same({
        "docker login -u " .. USER .. " --password-stdin " .. REG,
        "docker tag app:build " .. R .. "1.4.2", "docker push " .. R .. "1.4.2",
        "docker tag app:build " .. R .. "1.4", "docker push " .. R .. "1.4",
        "docker tag app:build " .. R .. "latest", "docker push " .. R .. "latest",
      }, seq)
      assert.same({{reference = R .. "1.4.2", digest = DIGEST_B},
                   {reference = R .. "1.4", digest = DIGEST_B},
                   {reference = R .. "latest", digest = DIGEST_B}}, res)
      assert.same(res, p:report().pushed)
    end)
    it("logs in and copies at the same time with skopeo, the copy on a private auth file", function()
      local p, f = make {engine = "skopeo", insecure = true}
      local res = assert(p:release {source = "oci:/build/oci:1.4.2", repository = "team/app",
                                    tags = {"1.4.2"}})
      assert.equal(2, f.count())
      assert.same({"skopeo", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG}, f.argv(1))
      assert.equal(KEY .. "\n", f.calls[1].stdin)
      local a = f.argv(2)
      assert.same({"skopeo", "copy", "--dest-tls-verify=false", "--dest-authfile", a[5],
                   "--digestfile", a[7], "oci:/build/oci:1.4.2", "docker://" .. REG .. "/team/app:1.4.2"}, a)
      assert.equal("", f.calls[2].stdin)
      -- The private auth file: this registry only, 0600 in a 0700 directory, gone after.
      local auth = json.parse(f.calls[2].authfile)
      assert.same({auths = {[REG] = {auth = swrauth.base64(USER .. ":" .. KEY)}}}, auth)
      assert.equal(tonumber("600", 8), f.calls[2].authfile_mode)
      assert.equal(tonumber("700", 8), f.calls[2].authdir_mode)
      assert.is_nil(fs.mode(a[5]))
      assert.equal(DIGEST_A, res[1].digest)
      local steps = p:report().steps
      assert.same({"login", "push"}, {steps[1].step, steps[2].step})
    end)
    it("stops at a refused login even when the parallel copy went through (listed as pushed)", function()
      local p, f = make({engine = "skopeo"}, nil, {"1|unauthorized: incorrect username or password"})
      local ok, err = p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1", "2"}}
      assert.is_nil(ok)
      assert.matches("^login: 'skopeo login .*' failed %(exit 1%): unauthorized", err)
      assert.equal(2, f.count())
      local rep = p:report()
      assert.same({{reference = REG .. "/team/app:1", digest = DIGEST_A}}, rep.pushed)
      assert.same({{reference = REG .. "/team/app:2", status = "skipped"}}, rep.not_pushed)
    end)
    it("retries the login, then the copy, after both failed at once", function()
      local p, f, cap = make({engine = "skopeo"}, nil, {"1|503 Service Unavailable",
                                                        "1|connection refused"})
      assert(p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1"}})
      assert.same({"login", "copy", "login", "copy"},
                  {f.argv(1)[2], f.argv(2)[2], f.argv(3)[2], f.argv(4)[2]})
      assert.equal(2, #cap.kinds("retry"))
    end)
    it("logs in, then copies, with parallel_login = false", function()
      local p, f = make {engine = "skopeo", parallel_login = false}
      assert(p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1"}})
      assert.same({"login", "copy"}, {f.argv(1)[2], f.argv(2)[2]})
      for _, w in ipairs(f.argv(2)) do assert.not_equal("--dest-authfile", w) end
    end)
    it("copies once, then tags in the registry without uploading (skopeo, engine)", function()
      local p, f = make {engine = "skopeo", insecure = true, remote_tag = "engine",
                         parallel_login = false}
      local res = assert(p:release {source = "oci:/build/oci:1.4.2", repository = "team/app",
                                    tags = {"1.4.2", "latest"}})
      assert.equal(3, f.count())
      local a2, a3 = f.argv(2), f.argv(3)
      assert.same({"skopeo", "copy", "--dest-tls-verify=false", "--digestfile", a2[5],
                   "oci:/build/oci:1.4.2", "docker://" .. REG .. "/team/app:1.4.2"}, a2)
      assert.same({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                   "--digestfile", a3[6], "docker://" .. REG .. "/team/app:1.4.2",
                   "docker://" .. REG .. "/team/app:latest"}, a3)
      assert.equal(DIGEST_A, res[1].digest)
      assert.equal(DIGEST_A, res[2].digest)
    end)
    it("tags with skopeo copies when curl is missing (auto), exits 'engine' with api", function()
      local p, f = make {engine = "skopeo", parallel_login = false}
      f.missing.curl = true
      assert(p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1", "2"}})
      assert.same({"login", "copy", "copy"}, {f.argv(1)[2], f.argv(2)[2], f.argv(3)[2]})
      p, f = make {engine = "skopeo", parallel_login = false, remote_tag = "api"}
      f.missing.curl = true
      local ok, err, kind = p:release {source = "oci:/b/oci:1", repository = "team/app", tags = {"1", "2"}}
      assert.is_falsy(ok)
      assert.equal("engine", kind)
      assert.matches("^tag: 'curl' not found on PATH %(package curl%)", err)
      assert.same({{reference = REG .. "/team/app:2", status = "failed", step = "tag"}},
                  p:report().not_pushed)
    end)
    it("pushes with ctr using --user on each push", function()
      local p, f = make {engine = "ctr", insecure = true}
      assert(p:release {source = "docker.io/library/app:1", repository = "team/app", tags = {"1", "2"}})
      -- The login asks the registry (the probe, then GET /v2/), then ctr.
      assert.equal(6, f.count())
      assert.same({"ctr", "image", "tag", "--force", "docker.io/library/app:1", REG .. "/team/app:1"},
                  f.argv(3))
      assert.same({"ctr", "image", "push", "--plain-http", "--user", USER .. ":" .. KEY,
                   REG .. "/team/app:1"}, f.argv(4))
    end)
    it("lists what was not pushed after a failure, exactly one reference", function()
      -- login, tag 1.0, push 1.0, tag 2.0, push 2.0 (denied).
      local p = make({}, nil, {"0|", "0|", "0|", "0|", "1|denied: requested access to the resource is denied"})
      local res, err = p:release {source = "app", repository = "team/app", tags = {"1.0", "2.0"}}
      assert.is_falsy(res)
      assert.matches("^push: 'docker push " .. REG:gsub("%.", "%%.") .. "/team/app:2%.0' failed", err)
      local rep = p:report()
      assert.is_false(rep.ok)
      assert.equal(err, rep.error)
      assert.same({{reference = REG .. "/team/app:1.0", digest = DIGEST_B}}, rep.pushed)
      assert.same({{reference = REG .. "/team/app:2.0", status = "failed", step = "push"}}, rep.not_pushed)
    end)
    it("lists the failed reference and the skipped ones", function()
      local p = make({}, nil, {"0|", "0|", "0|", "0|", "1|denied: requested access to the resource is denied"})
      assert.is_falsy(p:release {source = "app", repository = "team/app", tags = {"1.0", "2.0", "3.0"}})
      assert.same({{reference = REG .. "/team/app:2.0", status = "failed", step = "push"},
                   {reference = REG .. "/team/app:3.0", status = "skipped"}}, p:report().not_pushed)
    end)
    it("stops at the first failing step", function()
      local p, f = make({}, nil, {"0|", "0|", "1|name invalid"})
      local res, err = p:release {source = "app", repository = "team/app", tags = {"1.0", "2.0"}}
      assert.is_falsy(res)
      assert.matches("^push: 'docker push 127%.0%.0%.1:5000/team/app:1%.0' failed", err)
      assert.equal(3, f.count())
    end)
    it("rejects bad tags and repositories before running anything", function()
      local p, f = make()
      local res, err, kind = p:release {source = "app", repository = "team/app", tags = {"1.0", "a b"}}
      assert.is_falsy(res)
      assert.equal("usage", kind)
      local _, why = swrauth.check("tag", "a b")
      assert.equal("release: tag 'a b' " .. why, err)
      res, err = p:release {source = "app", repository = REG .. "/team/app", tags = {"1"}}
      assert.is_falsy(res)
      _, why = swrauth.check("repository", REG .. "/team/app")
      assert.equal("release: repository '" .. REG .. "/team/app' " .. why, err)
      assert.equal(0, f.count())
    end)
    it("raises on a malformed spec", function()
      local p = make()
      assert.equal("bad argument #1 to 'release' (unknown field 'tag')",
                   raised(p.release, p, {source = "a", repository = "t/a", tag = "1"}))
      assert.equal("bad argument #1 to 'release' (field 'tags' is empty)",
                   raised(p.release, p, {source = "a", repository = "t/a", tags = {}}))
      assert.equal("bad argument #1 to 'release' (field 'source' is required)",
                   raised(p.release, p, {repository = "t/a", tags = {"1"}}))
    end)
  end)

  describe("dry run", function()
    it("records each command with secrets redacted and runs nothing", function()
      local p, f, cap = make {dry_run = true, engine = "ctr", insecure = true}
      local res = assert(p:release {source = "docker.io/library/app:1", repository = "team/app",
                                    tags = {"1.0"}})
      assert.same({{reference = REG .. "/team/app:1.0"}}, res)
      assert.equal(0, f.count())
      local rep = p:report()
      assert.same({"# registry API: GET " .. REG .. "/v2/",
                   "ctr image tag --force docker.io/library/app:1 " .. REG .. "/team/app:1.0",
                   "ctr image push --plain-http --user " .. USER .. ":<redacted> " .. REG .. "/team/app:1.0"},
                  {table.unpack(rep.commands)})
      assert.same({}, {table.unpack(rep.pushed)})
      assert.same({REG .. "/team/app:1.0"}, {table.unpack(rep.planned)})
      assert.same({}, {table.unpack(rep.not_pushed)})
      assert.falsy(cap.text():find(KEY, 1, true))
      assert.equal(0, #cap.kinds("step"))
    end)
    it("shows the key on stdin as <redacted>", function()
      local p, f = make {dry_run = true}
      assert.is_true(p:login())
      assert.same({"docker login -u " .. USER .. " --password-stdin " .. REG .. " < <redacted>"},
                  {table.unpack(p:report().commands)})
      assert.equal(0, f.count())
    end)
    it("shows the registry API requests of release with skopeo (no secret)", function()
      local p, f = make {dry_run = true, engine = "skopeo", insecure = true}
      local res = assert(p:release {source = "oci:/b/oci:1", repository = "team/app",
                                    tags = {"1", "1.0", "latest"}})
      assert.equal(0, f.count())
      assert.equal(3, #res)
      local cmds = p:report().commands
      -- The copy as it runs, at the same time as the login: on a private
      -- auth file, the temporary paths left for the shell to expand.
      assert.equal('skopeo copy --dest-tls-verify=false --dest-authfile "$TMPDIR"/auth.json '
        .. '--digestfile "$TMPDIR"/digest oci:/b/oci:1 docker://' .. REG .. "/team/app:1", cmds[2])
      local base = REG .. "/v2/team/app/manifests/"
      assert.same({"# registry API: GET " .. base .. "1", "# registry API: PUT " .. base .. "1.0",
                   "# registry API: PUT " .. base .. "latest"}, {cmds[3], cmds[4], cmds[5]})
    end)
    it("does not need the engine installed", function()
      local p, f = make {dry_run = true, engine = "nerdctl"}
      f.missing.nerdctl = true
      assert.is_true(p:logout())
      assert.same({"nerdctl logout " .. REG}, {table.unpack(p:report().commands)})
    end)
  end)

  describe("engine auto", function()
    it("takes docker only when its daemon answers", function()
      local p, f = make({engine = "auto"}, nil, {"1|Cannot connect to the Docker daemon"})
      assert.is_true(p:login())
      assert.same({"docker", "version", "--format", "{{.Server.Version}}"}, f.argv(1))
      assert.equal("podman", f.argv(2)[1])
    end)
    it("takes docker when its daemon answers", function()
      local p, f = make {engine = "auto"}
      assert.is_true(p:login())
      assert.equal("docker", f.argv(2)[1])
    end)
    it("takes skopeo for an image outside any engine's storage", function()
      local p, f = make {engine = "auto"}
      assert(p:release {source = "oci:/srv/build/oci:1.0", repository = "team/app", tags = {"1.0"}})
      assert.same({"skopeo login", "skopeo copy"}, {f.argv(1)[1] .. " " .. f.argv(1)[2],
                                                    f.argv(2)[1] .. " " .. f.argv(2)[2]})
    end)
    it("keeps the usual order for a local image name", function()
      local p, f = make {engine = "auto"}
      assert(p:release {source = "localhost:5000/app:1.0", repository = "team/app", tags = {"1.0"}})
      assert.same({"docker", "version"}, {f.argv(1)[1], f.argv(1)[2]})
    end)
    it("says so when no engine is found", function()
      local p, f = make {engine = "auto"}
      for _, n in ipairs {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr"} do f.missing[n] = true end
      local ok, err, kind = p:login()
      assert.is_falsy(ok)
      assert.equal("engine", kind)
      assert.matches("^login: no container engine found on PATH", err)
    end)
  end)
end)

-- Specs of swrauth.engines: the exact argv of every engine's command, the
-- install hints, auto-detection and digest extraction.
local engines = require "swrauth.engines"

local REG = "127.0.0.1:5000"
local USER = "cn-north-4@AKEXAMPLE1234567890A"
local KEY = ("k"):rep(64)
local REF = REG .. "/team/app:1.0"
local D = "sha256:" .. ("c"):rep(64)

local function ctx(extra)
  local c = {registry = REG, user = USER, key = KEY}
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

describe("engines", function()
  it("lists the engines in auto order", function()
    assert.same({"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr"}, engines.ORDER)
    for _, n in ipairs(engines.ORDER) do
      assert.equal(n, engines.get(n).name)
      assert.equal(n, engines.get(n).binary)
    end
    assert.is_nil(engines.get("rkt"))
  end)

  describe("login", function()
    it("puts the key on stdin for every engine that has a login", function()
      for _, n in ipairs {"docker", "podman", "buildah", "skopeo", "nerdctl"} do
        local c = engines[n].login(ctx())
        assert.equal(KEY .. "\n", c.stdin)
        for _, a in ipairs(c.argv) do assert.falsy(a:find(KEY, 1, true), n) end
        assert.same({n, "login", "-u", USER, "--password-stdin", REG}, c.argv)
      end
    end)
    it("has none for ctr", function()
      assert.is_nil(engines.ctr.login)
      assert.is_nil(engines.ctr.logout)
      assert.is_true(engines.ctr.key_in_argv)
    end)
    it("maps insecure and cert_dir per engine", function()
      assert.same({"docker", "login", "-u", USER, "--password-stdin", REG},
                  engines.docker.login(ctx {insecure = true, cert_dir = "/ca"}).argv)
      assert.same({"podman", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG},
                  engines.podman.login(ctx {insecure = true}).argv)
      assert.same({"buildah", "login", "--cert-dir", "/ca", "-u", USER, "--password-stdin", REG},
                  engines.buildah.login(ctx {cert_dir = "/ca"}).argv)
      assert.same({"skopeo", "login", "--tls-verify=false", "-u", USER, "--password-stdin", REG},
                  engines.skopeo.login(ctx {insecure = true, cert_dir = "/ca"}).argv)
      assert.same({"nerdctl", "login", "--hosts-dir", "/ca", "-u", USER, "--password-stdin", REG},
                  engines.nerdctl.login(ctx {cert_dir = "/ca"}).argv)
    end)
  end)

  describe("logout", function()
    it("names only this registry", function()
      for _, n in ipairs {"docker", "podman", "buildah", "skopeo", "nerdctl"} do
        local c = engines[n].logout(ctx())
        assert.same({n, "logout", REG}, c.argv)
        assert.is_nil(c.stdin)
      end
    end)
  end)

  describe("tag", function()
    it("tags locally", function()
      assert.same({"docker", "tag", "app", REF}, engines.docker.tag(ctx(), "app", REF).argv)
      assert.same({"podman", "tag", "app", REF}, engines.podman.tag(ctx(), "app", REF).argv)
      assert.same({"buildah", "tag", "app", REF}, engines.buildah.tag(ctx(), "app", REF).argv)
      assert.same({"nerdctl", "tag", "app", REF}, engines.nerdctl.tag(ctx(), "app", REF).argv)
      assert.same({"ctr", "image", "tag", "--force", "app", REF},
                  engines.ctr.tag(ctx(), "app", REF).argv)
    end)
    it("copies in the registry with skopeo", function()
      assert.same({"skopeo", "copy", "docker://" .. REF, "docker://" .. REG .. "/team/app:2"},
                  engines.skopeo.tag(ctx(), REF, REG .. "/team/app:2").argv)
      assert.same({"skopeo", "copy", "--src-cert-dir", "/ca", "--dest-cert-dir", "/ca",
                   "docker://" .. REF, "docker://" .. REG .. "/team/app:2"},
                  engines.skopeo.remote_tag(ctx {cert_dir = "/ca"}, REF, REG .. "/team/app:2").argv)
    end)
    it("can tag remotely only with skopeo", function()
      for _, n in ipairs {"docker", "podman", "buildah", "nerdctl", "ctr"} do
        assert.is_nil(engines[n].remote_tag, n)
      end
      assert.is_function(engines.skopeo.remote_tag)
    end)
  end)

  describe("push", function()
    it("builds each engine's push", function()
      assert.same({"docker", "push", REF}, engines.docker.push(ctx {insecure = true}, REF).argv)
      assert.same({"podman", "push", "--tls-verify=false", "--digestfile", "/t/d", REF},
                  engines.podman.push(ctx {insecure = true, digestfile = "/t/d"}, REF).argv)
      assert.same({"buildah", "push", "--cert-dir", "/ca", REF},
                  engines.buildah.push(ctx {cert_dir = "/ca"}, REF).argv)
      assert.same({"nerdctl", "push", "--insecure-registry", REF},
                  engines.nerdctl.push(ctx {insecure = true}, REF).argv)
      assert.is_nil(engines.skopeo.push)
    end)
    it("gives ctr the key as --user USER:KEY", function()
      local c = engines.ctr.push(ctx {insecure = true}, REF)
      assert.same({"ctr", "image", "push", "--plain-http", "--user", USER .. ":" .. KEY, REF}, c.argv)
      assert.is_nil(c.stdin)
      assert.same({"ctr", "image", "pull", "--hosts-dir", "/hosts", "--user", USER .. ":" .. KEY, REF},
                  engines.ctr.pull(ctx {cert_dir = "/hosts"}, REF).argv)
    end)
    it("copies any skopeo source to the registry", function()
      assert.same({"skopeo", "copy", "--dest-tls-verify=false", "--digestfile", "/t/d",
                   "oci:/b/oci:1", "docker://" .. REF},
                  engines.skopeo.copy(ctx {insecure = true, digestfile = "/t/d"}, "oci:/b/oci:1", REF).argv)
      assert.same({"skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                   "docker://" .. REG .. "/x/y:1", "docker://" .. REF},
                  engines.skopeo.copy(ctx {insecure = true}, REG .. "/x/y:1", REF).argv)
    end)
  end)

  describe("hosts_toml", function()
    it("makes containerd trust the CA files for the registry", function()
      assert.equal('server = "https://' .. REG .. '"\n\n[host."https://' .. REG .. '"]\n'
                   .. '  capabilities = ["pull", "resolve", "push"]\n'
                   .. '  ca = ["/a/ca.crt", "/b/q\\"x.crt"]\n',
                   engines.hosts_toml(REG, {"/a/ca.crt", '/b/q"x.crt'}))
    end)
    it("is used by ctr and nerdctl", function()
      assert.is_true(engines.ctr.wants_hosts_dir)
      assert.is_true(engines.nerdctl.wants_hosts_dir)
      assert.same({"ctr", "image", "push", "--hosts-dir", "/h", "--user", USER .. ":" .. KEY, REF},
                  engines.ctr.push(ctx {cert_dir = "/ca", hosts_dir = "/h"}, REF).argv)
    end)
  end)

  describe("skopeo_name", function()
    it("keeps transports and makes anything else a docker:// name", function()
      for _, s in ipairs {"oci:/b/oci:1", "oci-archive:/b/a.tar", "docker-archive:/b/a.tar",
                          "dir:/b/d", "containers-storage:app:1", "docker-daemon:app:1",
                          "docker://r.io/a:1"} do
        assert.equal(s, engines.skopeo_name(s))
      end
      assert.equal("docker://localhost:5000/a:1", engines.skopeo_name("localhost:5000/a:1"))
      assert.equal("docker://app:1", engines.skopeo_name("app:1"))
      assert.equal("docker://" .. REF, engines.skopeo_name(REF))
    end)
  end)

  describe("not_found", function()
    it("names the binary and the Debian package", function()
      assert.equal("engine 'docker' not found: no 'docker' on PATH (install the Debian package "
                   .. "'docker.io')", engines.not_found(engines.docker))
      assert.equal("engine 'ctr' not found: no 'ctr' on PATH (install the Debian package "
                   .. "'containerd')", engines.not_found(engines.ctr))
      assert.equal("engine 'skopeo' not found: no 'skopeo' on PATH (install the Debian package "
                   .. "'skopeo')", engines.not_found(engines.skopeo))
      assert.equal("engine 'nerdctl' not found: no 'nerdctl' on PATH (nerdctl is not packaged "
                   .. "in Debian 12: install it from its release archive)",
                   engines.not_found(engines.nerdctl))
    end)
  end)

  describe("detect", function()
    local function on_path(set)
      return function(bin) return set[bin] and "/usr/bin/" .. bin or nil end
    end
    it("prefers docker when its daemon answers", function()
      local e = engines.detect(on_path {docker = true, podman = true}, function() return true end)
      assert.equal("docker", e.name)
    end)
    it("skips docker without a daemon", function()
      local probed
      local e = engines.detect(on_path {docker = true, skopeo = true, ctr = true},
                               function(c) probed = c.argv; return false end)
      assert.equal("skopeo", e.name)
      assert.same({"docker", "version", "--format", "{{.Server.Version}}"}, probed)
    end)
    it("follows the documented order", function()
      assert.equal("podman", engines.detect(on_path {podman = true, buildah = true}).name)
      assert.equal("buildah", engines.detect(on_path {buildah = true, ctr = true}).name)
      assert.equal("nerdctl", engines.detect(on_path {nerdctl = true, ctr = true}).name)
      assert.equal("ctr", engines.detect(on_path {ctr = true}).name)
    end)
    it("knows the transports only skopeo pushes as they are", function()
      for _, yes in ipairs {"oci:/srv/oci:1.0", "oci:dir", "oci-archive:/a.tar", "dir:/srv/img",
                            "docker-archive:/a.tar:app:1", "docker://127.0.0.1:5000/a:1"} do
        assert.is_true(engines.transport(yes), yes)
      end
      for _, no in ipairs {"app:1.0", "localhost:5000/app:1", "oci:5000/app", "docker:5000/a",
                           "docker:latest", "oci:", "team/app", "quay.io/x/y:z"} do
        assert.is_false(engines.transport(no), no)
      end
    end)
    it("explains when none is found", function()
      local e, err = engines.detect(on_path {docker = true}, function() return false end)
      assert.is_nil(e)
      assert.equal("no container engine found on PATH (looked for docker, podman, buildah, "
                   .. "skopeo, nerdctl, ctr; e.g. apt-get install skopeo); docker is installed "
                   .. "but its daemon does not answer (use --engine docker to log in without one)",
                   err)
    end)
  end)

  describe("digests", function()
    it("reads docker's push output", function()
      local res = {stdout = "abc: Pushed\n1.0: digest: " .. D .. " size: 528\n", stderr = ""}
      assert.equal(D, engines.docker.digest(res))
      assert.is_nil(engines.docker.digest({stdout = "", stderr = ""}))
    end)
    it("reads ctr and nerdctl progress lines", function()
      local res = {stdout = "manifest-sha256:" .. ("c"):rep(64) .. ": done |++++|\n"
                   .. "layer-sha256:" .. ("d"):rep(64) .. ": done\n", stderr = ""}
      assert.equal(D, engines.ctr.digest(res))
      assert.equal(D, engines.nerdctl.digest(res))
    end)
    it("reads a digest file", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write(D .. "\n")
      f:close()
      assert.equal(D, engines.podman.digest({}, {digestfile = path}))
      os.remove(path)
      assert.is_nil(engines.skopeo.digest({}, {digestfile = path}))
    end)
    it("reads docker inspect and ctr image ls output", function()
      assert.equal(D, engines.digest_in_query({stdout = "other/x@sha256:" .. ("e"):rep(64) .. "\n"
        .. REG .. "/team/app@" .. D .. "\n"}, REF))
      assert.equal(D, engines.digest_in_query({stdout = "REF TYPE DIGEST SIZE\n" .. REF
        .. " application/vnd.oci.image.manifest.v1+json " .. D .. " 1.2 KiB linux/amd64 -\n"}, REF))
      assert.same({"ctr", "image", "ls", "name==" .. REF}, engines.ctr.digest_query(ctx(), REF).argv)
    end)
  end)
end)

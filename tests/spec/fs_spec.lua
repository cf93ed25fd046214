-- Specs of swrauth.fs: private and atomic writes, temporary directories,
-- locks.
local fs = require "swrauth.fs"
local support = require "tests.spec.support"

local dir
before_each(function() dir = assert(fs.tempdir()) end)
after_each(function() dir:remove() end)

describe("fs.tempdir", function()
  it("makes a private directory, writes private files in it, removes it all", function()
    assert.equal(tonumber("700", 8), (fs.mode(dir.path)))
    local path = assert(dir:file("f", "data"))
    assert.equal(tonumber("600", 8), (fs.mode(path)))
    assert.equal("data", fs.read(path))
    local p = dir.path
    dir:remove()
    assert.is_nil(fs.mode(p))
    dir = assert(fs.tempdir())
  end)
end)

describe("fs.write_private", function()
  it("makes an existing file private", function()
    local path = dir.path .. "/f"
    support.write(path, "old", "644")
    assert.is_true(fs.write_private(path, "x"))
    assert.equal(tonumber("600", 8), (fs.mode(path)))
    assert.equal("x", fs.read(path))
  end)
end)

describe("fs.write_atomic", function()
  it("replaces a file, mode 0600, leaving no temporary file", function()
    local path = dir.path .. "/config.json"
    support.write(path, "old", "644")
    assert.is_true(fs.write_atomic(path, "new"))
    assert.equal("new", fs.read(path))
    assert.equal(tonumber("600", 8), (fs.mode(path)))
    assert.same({"config.json"}, {fs.list(dir.path)[1].name, fs.list(dir.path)[2]})
  end)
  it("writes a temporary file exclusively: a planted link is not followed", function()
    -- A link at every name a writer could pick is impossible to plant; a
    -- link at the one it picks is: make the random part predictable.
    local uv = require "luv"
    local real = uv.random
    uv.random = function(n) return ("\0"):rep(n) end
    local path = dir.path .. "/auth.json"
    local victim = dir.path .. "/victim"
    support.write(victim, "untouched")
    local tmp = dir.path .. "/.auth.json." .. uv.os_getpid() .. "." .. ("00"):rep(8)
    assert(uv.fs_symlink(victim, tmp))
    local ok, err = fs.write_atomic(path, "secret")
    uv.random = real
    assert.is_nil(ok)
    assert.matches("^cannot write " .. path:gsub("%p", "%%%0") .. ": file already exists", err)
    assert.equal("untouched", fs.read(victim))
    assert.is_nil(fs.mode(path))
  end)
  describe("as root over a file of another user", function()
    local uv = require "luv"
    local function write_as_root(path, sudo_uid)
      local h = io.popen((sudo_uid and "SUDO_UID=" .. sudo_uid .. " " or "env -u SUDO_UID ")
        .. "lua5.4 -e 'package.path=\"lua/?.lua;\"..package.path; package.cpath=\"./?.so;\"..package.cpath; "
        .. "io.write(tostring(require(\"swrauth.fs\").write_atomic(\"" .. path .. "\", \"login\")))'")
      local out = h:read("a")
      h:close()
      return out
    end
    it("keeps the new file root's: the user who planted the old one cannot read it", function()
      assert.equal(0, uv.getuid(), "these specs run as root (make check)")
      local path = dir.path .. "/auth.json"
      support.write(path, "{}")
      assert(uv.fs_chown(path, 4242, 4242))
      assert.equal("true", write_as_root(path, nil))
      local st = uv.fs_stat(path)
      assert.same({0, 0, tonumber("600", 8)}, {st.uid, st.gid, st.mode % 4096})
      -- SUDO_UID names another user: still root's.
      assert(uv.fs_chown(path, 4242, 4242))
      assert.equal("true", write_as_root(path, "4343"))
      assert.equal(0, uv.fs_stat(path).uid)
    end)
    it("gives it back to the user who ran sudo, in a directory of their own", function()
      assert.equal(0, uv.getuid(), "these specs run as root (make check)")
      local home = dir.path .. "/home"
      assert(uv.fs_mkdir(home, tonumber("700", 8)))
      assert(uv.fs_chown(home, 4242, 4242))
      local path = home .. "/auth.json"
      support.write(path, "{}")
      assert(uv.fs_chown(path, 4242, 4242))
      assert.equal("true", write_as_root(path, "4242"))
      assert.equal(4242, uv.fs_stat(path).uid)
    end)
  end)
end)

describe("fs.lock", function()
  it("is exclusive, and waits at most its timeout", function()
    local path = dir.path .. "/f"
    local release = assert(fs.lock(path))
    -- Another process cannot take it meanwhile.
    local h = io.popen("lua5.4 -e 'package.path=\"lua/?.lua;\"..package.path; "
      .. "package.cpath=\"./?.so;\"..package.cpath; "
      .. "local r, e = require(\"swrauth.fs\").lock(\"" .. path .. "\", 0.1); io.write(r and \"taken\" or e)'")
    local other = h:read("a")
    h:close()
    assert.matches("^timed out waiting for the lock on " .. path:gsub("%p", "%%%0") .. "%.lock", other)
    release()
    assert.is_function(fs.lock(path, 0.1))
  end)
end)

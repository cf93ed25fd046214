-- Specs of swrauth.proc: running programs without a shell, redaction.
local proc = require "swrauth.proc"

local function raised(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return (tostring(e):gsub("^[^:]+:%d+: ", ""))
end

describe("proc.run", function()
  it("captures stdout, stderr and the exit status", function()
    local r = assert(proc.run {argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}})
    assert.equal("out\n", r.stdout)
    assert.equal("err\n", r.stderr)
    assert.equal(3, r.status)
    assert.is_nil(r.signal)
    assert.is_number(r.seconds)
    assert.matches("/sh$", r.path)
  end)
  it("passes arguments without a shell", function()
    local r = assert(proc.run {argv = {"printf", "%s|", "a b", "$HOME", "`id`", "'q'", ""}})
    assert.equal("a b|$HOME|`id`|'q'||", r.stdout)
  end)
  it("writes stdin and closes it", function()
    local r = assert(proc.run {argv = {"cat"}, stdin = "secret\n"})
    assert.equal("secret\n", r.stdout)
    r = assert(proc.run {argv = {"cat"}})
    assert.equal("", r.stdout)
  end)
  it("survives a child that does not read its stdin", function()
    local r = assert(proc.run {argv = {"true"}, stdin = ("x"):rep(1 << 20)})
    assert.equal(0, r.status)
  end)
  it("drains both streams without deadlock", function()
    local r = assert(proc.run {argv = {"sh", "-c",
      "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2; cat"}, stdin = ("y"):rep(200000)})
    assert.equal(500000, #r.stdout)
    assert.equal(300000, #r.stderr)
  end)
  it("applies environment overrides and removals", function()
    local r = assert(proc.run {argv = {"sh", "-c", 'echo "$SWR_A|${HOME-unset}|${PATH:+p}"'},
                               env = {SWR_A = "1", HOME = false}})
    assert.equal("1|unset|p\n", r.stdout)
  end)
  it("inherits the environment without overrides", function()
    local r = assert(proc.run {argv = {"sh", "-c", 'echo "${PATH:+p}"'}})
    assert.equal("p\n", r.stdout)
  end)
  it("looks the program up on the PATH given in env", function()
    local r, err = proc.run {argv = {"sh", "-c", "true"}, env = {PATH = "/nonexistent"}}
    assert.is_nil(r)
    assert.equal("'sh' not found on PATH", err)
  end)
  it("reports a missing program clearly", function()
    local r, err = proc.run {argv = {"swrauth-no-such-program"}}
    assert.is_nil(r)
    assert.equal("'swrauth-no-such-program' not found on PATH", err)
    r, err = proc.run {argv = {"/nonexistent/x"}}
    assert.is_nil(r)
    assert.equal("'/nonexistent/x' not found on PATH", err)
  end)
  it("reports a signal as 128 + signal", function()
    local r = assert(proc.run {argv = {"sh", "-c", "kill -TERM $$"}})
    assert.equal(15, r.signal)
    assert.equal(143, r.status)
  end)
  it("stops a program at its timeout", function()
    local r = assert(proc.run {argv = {"sleep", "10"}, timeout = 0.1})
    assert.is_true(r.timed_out)
    assert.equal(143, r.status)
    assert.is_true(r.seconds < 5)
  end)
  it("stops a program that writes more than max_output", function()
    local r = assert(proc.run {argv = {"sh", "-c", "yes swrauth"}, max_output = 100000})
    assert.is_true(r.overflow)
    assert.equal(143, r.status)
    assert.is_true(#r.stdout <= 100000)
    r = assert(proc.run {argv = {"sh", "-c", "head -c 1000 /dev/zero"}, max_output = 1000})
    assert.is_nil(r.overflow)
    assert.equal(1000, #r.stdout)
  end)
  it("kills with SIGKILL a program that ignores SIGTERM at its timeout", function()
    local r = assert(proc.run {argv = {"sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30"},
                               timeout = 0.1})
    assert.is_true(r.timed_out)
    assert.equal(137, r.status)
  end)
  it("runs in cwd", function()
    local r = assert(proc.run {argv = {"pwd"}, cwd = "/"})
    assert.equal("/\n", r.stdout)
  end)
  it("raises on a malformed spec", function()
    assert.equal("bad argument #1 to 'run' (table expected, got string)", raised(proc.run, "ls"))
    assert.equal("bad argument #1 to 'run' (unknown field 'args')", raised(proc.run, {args = {}}))
    assert.equal("bad argument #1 to 'run' (field 'stdin' must be a string, got number)",
                 raised(proc.run, {argv = {"true"}, stdin = 1}))
    assert.equal("bad argument #1 to 'run' (field 'argv' must be a non-empty table)",
                 raised(proc.run, {argv = {}}))
    assert.equal("bad argument #1 to 'run' (argv[2] must be a string, got number)",
                 raised(proc.run, {argv = {"echo", 1}}))
  end)
end)

describe("proc.which", function()
  it("finds programs on the PATH", function()
    assert.matches("/sh$", proc.which("sh"))
    assert.equal("/bin/sh", proc.which("sh", "/nonexistent:/bin"))
    assert.is_nil(proc.which("sh", "/nonexistent"))
    assert.is_nil(proc.which(""))
  end)
  it("does not take a directory or a non-executable file", function()
    assert.is_nil(proc.which("tmp", "/"))
    assert.is_nil(proc.which("/etc/passwd"))
  end)
end)

describe("proc.run_all", function()
  it("runs its programs at the same time and returns each one's result", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. dir))
    -- The first waits for a file only the second makes: run one after the
    -- other, the first would be stopped by its timeout.
    local res = proc.run_all {
      {argv = {"sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.01; done; echo seen', "sh", dir .. "/f"},
       timeout = 20},
      {argv = {"sh", "-c", 'sleep 0.05; : > "$1"; echo made >&2; exit 3', "sh", dir .. "/f"}},
      {argv = {"no-such-program-swrauth"}},
    }
    os.execute("rm -rf " .. dir)
    assert.equal(3, #res)
    assert.is_nil(res[1][1].timed_out)
    assert.equal(0, res[1][1].status)
    assert.equal("seen\n", res[1][1].stdout)
    assert.equal(3, res[2][1].status)
    assert.equal("made\n", res[2][1].stderr)
    assert.is_nil(res[3][1])
    assert.matches("'no-such-program-swrauth' not found on PATH", res[3][2], 1, true)
  end)
  it("checks its specs as run does, naming itself", function()
    local ok, err = pcall(proc.run_all, {{argv = {}}})
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'run_all' (field 'argv' must be a non-empty table)", err, 1, true)
  end)
end)


describe("proc signals", function()
  -- A Lua process running a child through proc, stopped by a signal:
  -- the child is stopped too, the cleanups run, the exit status is 128 + n.
  local script = [[
    package.path = "lua/?.lua;" .. package.path
    package.cpath = "./?.so;" .. package.cpath
    local proc = require "swrauth.proc"
    local fs = require "swrauth.fs"
    local tmp = assert(fs.tempdir())
    io.stdout:write(tmp.path, "\n")
    io.stdout:flush()
    proc.run {argv = {"sh", "-c", "echo $$ > " .. tmp.path .. "/child; exec sleep 30"}}
    io.stdout:write("not stopped\n")
  ]]
  for _, sig in ipairs {{"TERM", 143}, {"INT", 130}} do
    it("SIG" .. sig[1] .. " stops the children and removes temporary files", function()
      local out = os.tmpname()
      local h = io.popen("lua5.4 -e '" .. script:gsub("'", "'\\''") .. "' > " .. out
        .. " 2>&1 & echo $!")
      local pid = h:read("l")
      h:close()
      local tmp, child
      for _ = 1, 200 do
        local f = io.open(out)
        tmp = f and f:read("l")
        if f then f:close() end
        if tmp then
          local c = io.open(tmp .. "/child")
          child = c and c:read("l")
          if c then c:close() end
        end
        if child then break end
        proc.sleep(0.02)
      end
      assert.truthy(child, "the child started")
      os.execute("kill -" .. sig[1] .. " " .. pid)
      for _ = 1, 200 do
        if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
        proc.sleep(0.02)
      end
      -- The child is gone (or a zombie of init's), and so is the temp dir.
      proc.sleep(0.1)
      local alive = io.open("/proc/" .. child .. "/stat")
      local state = alive and alive:read("a"):match("^%d+ %b() (%a)")
      if alive then alive:close() end
      assert.is_true(state == nil or state == "Z", "child " .. child .. " still runs")
      assert.is_nil(io.open(tmp .. "/child"), "temp dir removed")
      local text = io.open(out):read("a")
      os.remove(out)
      assert.matches("swrauth: stopped by SIG" .. sig[1], text)
      assert.falsy(text:find("not stopped", 1, true))
    end)
  end
end)

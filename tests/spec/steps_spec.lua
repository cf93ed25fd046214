-- Specs of swrauth.steps: the one retry loop, with a fake runner.
local steps = require "swrauth.steps"
local fake_runner = require "tests.spec.fake_runner"

local function make(plan, o)
  local f = fake_runner.new(plan)
  local cap = {events = {}, sleeps = {}}
  local opts = {run = f.run, sleep = function(s) cap.sleeps[#cap.sleeps + 1] = s end,
                on_event = function(e) cap.events[#cap.events + 1] = e end, backoff = 1}
  for k, v in pairs(o or {}) do opts[k] = v end
  return steps.new(opts), f, cap
end

local function cmd(name, retry, argv)
  return {name = name, detail = "d", command = {argv = argv or {"engine", name}}, retry = retry}
end

describe("steps.is_transient", function()
  it("recognises 5xx, timeouts and refused or reset connections", function()
    for _, s in ipairs {
      "received unexpected HTTP status: 503 Service Unavailable",
      "error: status code 502", "Bad Gateway", "dial tcp 127.0.0.1:5000: connect: connection refused",
      "read: connection reset by peer", "net/http: TLS handshake timeout", "i/o timeout",
      "context deadline exceeded (Client.Timeout exceeded)", "HTTP/1.1 500 Internal Server Error",
    } do
      assert.is_true(steps.is_transient(s), s)
    end
  end)
  it("does not retry authentication or name errors", function()
    for _, s in ipairs {"unauthorized: authentication required", "401 Unauthorized",
                        "name unknown: repository name not known to registry",
                        "denied: requested access to the resource is denied"} do
      assert.is_false(steps.is_transient(s), s)
    end
  end)
  it("retries a connection closed without an answer and 429's error code", function()
    assert.is_true(steps.is_transient('Get "http://127.0.0.1:5000/v2/": EOF'))
    assert.is_true(steps.is_transient("toomanyrequests: You have reached your pull rate limit"))
    assert.is_false(steps.is_transient("EOF"))
  end)
  it("does not retry when the output also says the credentials were refused", function()
    assert.is_false(steps.is_transient("503 Service Unavailable\nunauthorized: authentication required"))
    assert.is_false(steps.is_transient("received unexpected HTTP status: 403 Forbidden; timeout"))
  end)
end)

describe("steps:run", function()
  it("leaves out the docker CLI's info lines when it says why a command failed", function()
    local s = make {{1, 'time="x" level=info msg="Error logging in to endpoint, trying next"\n'
      .. "Error response from daemon: login failed\n"}}
    local res, err, kind = s:run(cmd("login", true))
    assert.is_nil(res)
    assert.equal("runtime", kind)
    assert.equal("'engine login' failed (exit 1): Error response from daemon: login failed", err)
  end)
  it("redacts what it reports", function()
    local s, _, cap = make({"1|bad key SECRET"}, {redact = function(t) return (t:gsub("SECRET", "<r>")) end})
    local _, err = s:run {name = "login", detail = "as SECRET", command = {argv = {"engine", "SECRET"}}}
    assert.equal("'engine <r>' failed (exit 1): bad key <r>", err)
    assert.equal("as <r>", s.done[1].detail)
    assert.equal("bad key <r>", s.done[1].error:match(": (bad key.*)$"))
    assert.equal(0, #cap.events)
  end)
  it("does not run a command whose guard refuses, and says why", function()
    local s, f = make()
    local st = cmd("login", true)
    st.guard = function() return nil, nil, "config.json: line 1: bad" end
    local res, err = s:run(st)
    assert.is_nil(res)
    assert.equal("config.json: line 1: bad; not running 'engine login', which would replace it "
                 .. "and lose its other entries: fix or remove it", err)
    assert.equal(0, f.count())
  end)
  it("warns when the command ran without its lock", function()
    local s, _, cap = make()
    local st = cmd("login", true)
    st.lock_path = "/x/config.json"
    local released = 0
    st.guard = function() return function() released = released + 1 end, "read-only" end
    assert(s:run(st))
    assert.equal(1, released)
    assert.equal("warning: login: engine wrote /x/config.json without the lock (read-only): "
                 .. "concurrent logins may have lost entries", cap.events[1].message)
  end)
  it("records a program that cannot start as kind 'engine'", function()
    local s = steps.new {run = function() return {{nil, "'engine' not found on PATH"}} end}
    local res, err, kind = s:run(cmd("push", true))
    assert.is_nil(res)
    assert.equal("engine", kind)
    assert.equal("'engine' not found on PATH", err)
  end)
end)

describe("steps:run_together", function()
  it("runs attempt 1 of all at once, then retries each in turn", function()
    local batches = {}
    local f = fake_runner.new {"1|503 Service Unavailable", "1|connection refused"}
    local s = steps.new {run = function(specs) batches[#batches + 1] = #specs; return f.run(specs) end,
                         sleep = function() end}
    local out = s:run_together {cmd("login", true), cmd("copy", true)}
    assert.same({2, 1, 1}, batches)
    assert.equal(0, out[1][1].status)
    assert.equal(0, out[2][1].status)
    assert.same({"login", "copy", "login", "copy"},
                {f.argv(1)[2], f.argv(2)[2], f.argv(3)[2], f.argv(4)[2]})
  end)
  it("does not retry later steps once one has failed, but keeps a first attempt that worked", function()
    local s, f = make {"1|denied", "0|"}
    local out = s:run_together {cmd("login", true), cmd("copy", true)}
    assert.is_nil(out[1][1])
    assert.equal(0, out[2][1].status)
    assert.equal(2, f.count())
    s, f = make {"1|denied", "1|503 Service Unavailable"}
    out = s:run_together {cmd("login", true), cmd("copy", true)}
    assert.is_nil(out[2][1])
    assert.equal("not tried again after the failure above", out[2][2])
    assert.equal(2, f.count())
  end)
end)

describe("steps:call", function()
  it("retries a transient failure and gives up on a permanent one", function()
    local s, _, cap = make(nil, {retries = 3})
    local n = 0
    assert.equal("ok", s:call("tag", "GET x", function()
      n = n + 1
      if n < 3 then return nil, "HTTP 503", true end
      return "ok"
    end))
    assert.same({1, 2}, cap.sleeps)
    assert.equal(2, #cap.events)
    local res, err = s:call("tag", "GET x", function() return nil, "HTTP 401", false end)
    assert.is_nil(res)
    assert.equal("HTTP 401", err)
    res, err = s:call("tag", "GET x", function() return nil, "HTTP 503", true end)
    assert.is_nil(res)
    assert.equal("HTTP 503 (after 3 attempts)", err)
  end)
end)

describe("steps in a dry run", function()
  it("records the lines and runs nothing", function()
    local s, f, cap = make(nil, {dry_run = true})
    local st = cmd("login", true)
    st.command.stdin = "KEY\n"
    assert.equal(0, s:run(st).status)
    assert.same({"engine login < <redacted>"}, s.commands)
    assert.equal(0, f.count())
    assert.equal(0, #cap.events)
    assert.equal(1, #s.done)
  end)
end)

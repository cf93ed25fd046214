--- Running programs without a shell.
--
-- `run` starts a program from an argv table (no shell is ever involved,
-- so no quoting or expansion happens), writes an optional string to its
-- standard input and closes it, captures standard output and standard
-- error (both drained by one event loop, so a chatty child cannot
-- deadlock), and returns its exit status. Limits: `timeout` stops a child
-- that runs too long, `max_output` one that writes too much.
--
-- While children run, SIGINT and SIGTERM stop them: each live child gets
-- SIGTERM, the cleanups registered with `at_exit` run (temporary files
-- are removed), and this process exits with 128 + the signal's number.
--
-- Built on libuv (Debian package `lua-luv`).
--
-- @module swrauth.proc
local M = {}

local uv = require "luv"
local fields = require "swrauth.fields"

local concat, sort = table.concat, table.sort
local type, pairs, ipairs, tostring, error = type, pairs, ipairs, tostring, error
local os_getenv, floor = os.getenv, math.floor

--- The process's I/O for a command's main function: `out`, `err`
-- (functions taking a string), `getenv`, `stdin` (a function returning
-- all of standard input); fields missing in `sys` default to the
-- process's streams and environment (tests pass their own).
function M.system(sys)
  sys = sys or {}
  return {
    out = sys.out or function(s) io.stdout:write(s) end,
    err = sys.err or function(s) io.stderr:write(s) end,
    getenv = sys.getenv or os.getenv,
    stdin = sys.stdin or function() return io.read("a") or "" end,
  }
end

----------------------------------------------------------------- signals

local children = {}   -- live process handles -> pid
local cleanups = {}   -- token -> function
local signals         -- the installed handlers, once

--- Registers `fn` to run when a signal stops this process (see above).
-- @treturn table a token for `cancel`
function M.at_exit(fn)
  local token = {}
  cleanups[token] = fn
  return token
end

--- Forgets a cleanup registered with `at_exit`.
function M.cancel(token)
  if token then cleanups[token] = nil end
end

local SIGNO = {sigint = 2, sigterm = 15}

-- Signals a child's whole process group (each child leads its own), so
-- that what it started goes too.
local function kill(pid, sig)
  if not uv.kill(-pid, sig) then uv.kill(pid, sig) end
end

local function on_signal(name)
  for _, pid in pairs(children) do kill(pid, "sigterm") end
  for _, fn in pairs(cleanups) do pcall(fn) end
  io.stderr:write("swrauth: stopped by ", name:upper(), "\n")
  os.exit(128 + SIGNO[name], false)
end

-- A child that exits before reading its stdin makes our write fail with
-- EPIPE; without a handler SIGPIPE would end this process instead.
local function install_signals()
  if signals then return end
  signals = {}
  for _, name in ipairs {"sigpipe", "sigint", "sigterm"} do
    local h = uv.new_signal()
    h:start(name, name == "sigpipe" and function() end or function() on_signal(name) end)
    h:unref()
    signals[name] = h
  end
end

----------------------------------------------------------------- lookup

local function is_executable_file(path)
  local st = uv.fs_stat(path)
  return st ~= nil and st.type == "file" and uv.fs_access(path, "X") == true
end

--- Finds a program the way `execvp` would.
-- @tparam string name a program name, or a path when it holds a `/`
-- @tparam[opt] string path the search path (default: `PATH`, or
--   `/usr/local/bin:/usr/bin:/bin` when unset)
-- @treturn string|nil the full path, or nil when there is none
function M.which(name, path)
  if type(name) ~= "string" then
    error("bad argument #1 to 'which' (string expected, got " .. type(name) .. ")", 2)
  end
  if name == "" then return nil end
  if name:find("/", 1, true) then
    return is_executable_file(name) and name or nil
  end
  path = path or os_getenv("PATH") or "/usr/local/bin:/usr/bin:/bin"
  for dir in (path .. ":"):gmatch("([^:]*):") do
    local full = (dir == "" and "." or dir) .. "/" .. name
    if is_executable_file(full) then return full end
  end
  return nil
end

--- The environment a child gets: this process's, with overrides.
-- @tparam[opt] table overrides `NAME = value` sets, `NAME = false` removes
-- @treturn table a map NAME -> value
function M.environ(overrides)
  local env = uv.os_environ()
  for k, v in pairs(overrides or {}) do
    if v == false then env[k] = nil else env[k] = v end
  end
  return env
end

local function env_list(env)
  local list = {}
  for k, v in pairs(env) do list[#list + 1] = k .. "=" .. v end
  sort(list)
  return list
end

----------------------------------------------------------------- running

local SPEC = {argv = "table", stdin = "string", env = "table", cwd = "string",
              timeout = "number", max_output = "number"}

local function check_spec(spec, fname, level)
  local function bad(msg) error("bad argument #1 to '" .. fname .. "' (" .. msg .. ")", level + 1) end
  if type(spec) ~= "table" then bad("table expected, got " .. type(spec)) end
  local ok, err = fields.check(spec, SPEC)
  if not ok then bad(err) end
  local argv = spec.argv
  if not argv or #argv == 0 then bad("field 'argv' must be a non-empty table") end
  for i, a in ipairs(argv) do
    if type(a) ~= "string" then bad("argv[" .. i .. "] must be a string, got " .. type(a)) end
  end
end

-- Starts a checked spec on the default loop. Returns a function giving
-- the result once the loop has run, or nil and a message.
local function start(spec)
  local argv = spec.argv
  local env = spec.env and M.environ(spec.env)
  local path = M.which(argv[1], env and env.PATH or nil)
  if not path then return nil, "'" .. argv[1] .. "' not found on PATH" end
  install_signals()

  local pin, pout, perr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local out, err, size = {}, {}, 0
  local res = {path = path}
  local handle, timer
  local t0 = uv.hrtime()

  local pid
  local function stop(why)
    if res[why] then return end
    res[why] = true
    if pid and children[handle] then kill(pid, "sigterm") end
    -- SIGKILL two seconds later for a child that ignores SIGTERM.
    if not timer then timer = uv.new_timer() end
    timer:start(2000, 0, function()
      if pid and children[handle] then kill(pid, "sigkill") end
    end)
  end

  local args = {}
  for i = 2, #argv do args[i - 1] = argv[i] end
  -- Each child leads a process group of its own (detached), so that a
  -- time limit or a signal stops what it started as well.
  local spawned, why = uv.spawn(path, {
    args = args, stdio = {pin, pout, perr},
    env = env and env_list(env) or nil, cwd = spec.cwd, detached = true,
  }, function(code, sig)
    res.ended = uv.hrtime()
    res.status = sig ~= 0 and 128 + sig or code
    res.signal = sig ~= 0 and sig or nil
    if timer then timer:stop(); timer:close(); timer = nil end
    children[handle] = nil
    handle:close()
  end)
  if not spawned then
    pin:close(); pout:close(); perr:close()
    return nil, "cannot run '" .. argv[1] .. "': " .. tostring(why)
  end
  handle, pid = spawned, why
  children[handle] = pid

  local max = spec.max_output
  local function reader(pipe, buf)
    pipe:read_start(function(_, data)
      if data then
        size = size + #data
        if max and size > max then return stop("overflow") end
        buf[#buf + 1] = data
      else
        pipe:read_stop()
        pipe:close()
      end
    end)
  end
  reader(pout, out)
  reader(perr, err)

  local function close_stdin()
    if not pin:is_closing() then pin:close() end
  end
  if spec.stdin and #spec.stdin > 0 then
    -- An EPIPE here only means the child did not read its input.
    pin:write(spec.stdin, function() pin:shutdown(close_stdin) end)
  else
    pin:shutdown(close_stdin)
  end

  if spec.timeout then
    timer = uv.new_timer()
    timer:start(floor(spec.timeout * 1000), 0, function() stop("timed_out") end)
  end

  return function()
    res.stdout, res.stderr = concat(out), concat(err)
    res.seconds = ((res.ended or uv.hrtime()) - t0) / 1e9
    res.ended = nil
    return res
  end
end

--- Runs a program and waits for it.
-- @tparam table spec
--   `argv` (table of strings; `argv[1]` is looked up on `PATH`),
--   `stdin` (string, optional: written to the child, then closed; without
--   it the child reads end of file at once),
--   `env` (table, optional: overrides as in `environ`; without it the
--   child inherits this process's environment),
--   `cwd` (string, optional),
--   `timeout` (seconds, optional: then SIGTERM, and SIGKILL two seconds
--   later; the result has `timed_out`),
--   `max_output` (bytes, optional: a child writing more on stdout and
--   stderr together is stopped the same way; the result has `overflow`
--   and the output read so far, cut)
-- @treturn table `{status=, signal=, stdout=, stderr=, seconds=, path=,
--   timed_out=, overflow=}`; `status` is the exit code (128 + signal
--   when killed)
-- @treturn[2] nil when the program cannot be started
-- @treturn[2] string the reason, naming the program
-- @raise on a malformed spec
function M.run(spec)
  check_spec(spec, "run", 2)
  local finish, err = start(spec)
  uv.run("default")
  if not finish then return nil, err end
  return finish()
end

--- Runs several programs at the same time and waits for all of them.
-- @tparam table specs a list of specs, as `run` takes them
-- @treturn table one entry per spec: `{res}` (as `run` returns it), or
--   `{nil, message}` for a program that could not be started
-- @raise on a malformed spec
function M.run_all(specs)
  for _, spec in ipairs(specs) do check_spec(spec, "run_all", 2) end
  local jobs, out = {}, {}
  for i, spec in ipairs(specs) do
    local finish, err = start(spec)
    jobs[i] = finish
    if not finish then out[i] = {nil, err} end
  end
  uv.run("default")
  for i, finish in pairs(jobs) do out[i] = {finish()} end
  return out
end

--- Seconds since an arbitrary point, for durations.
function M.clock()
  return uv.hrtime() / 1e9
end

--- Sleeps; SIGINT and SIGTERM are still handled meanwhile (see above).
-- @tparam number seconds
function M.sleep(seconds)
  if seconds <= 0 then return end
  install_signals()
  local t = uv.new_timer()
  t:start(floor(seconds * 1000 + 0.5), 0, function() t:close() end)
  uv.run("default")
end

return M

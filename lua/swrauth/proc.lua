--- Running programs without a shell, and keeping secrets out of text.
--
-- `run` starts a program from an argv table (no shell is ever involved, so
-- no quoting or expansion happens), writes an optional string to its
-- standard input through a pipe and closes it, captures standard output
-- and standard error together (both pipes are drained by one event loop,
-- so a chatty child cannot deadlock), and returns its exit status.
-- It is built on libuv (Debian package `lua-luv`).
--
-- `redactor` replaces given secrets in any text; every line swrauth prints
-- or logs goes through one.
--
-- @module swrauth.proc
local M = {}

local uv = require "luv"

local concat, sort = table.concat, table.sort
local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local error, os_getenv = error, os.getenv

M.REDACTED = "<redacted>"

-- A child that exits before reading its stdin makes the write fail with
-- EPIPE; without a handler, SIGPIPE would end this process instead.
local sigpipe
local function ignore_sigpipe()
  if sigpipe then return end
  sigpipe = uv.new_signal()
  sigpipe:start("sigpipe", function() end)
  sigpipe:unref()
end

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
  if overrides then
    for k, v in pairs(overrides) do
      if v == false then env[k] = nil else env[k] = v end
    end
  end
  return env
end

local function env_list(env)
  local list = {}
  for k, v in pairs(env) do list[#list + 1] = k .. "=" .. v end
  sort(list)
  return list
end

local RUN_KEYS = {argv = "table", stdin = "string", env = "table", cwd = "string",
                  timeout = "number"}

--- Runs a program and waits for it.
-- @tparam table spec
--   `argv` (table of strings; `argv[1]` is looked up on `PATH`),
--   `stdin` (string, optional: written to the child, then closed; without
--   it the child reads end of file at once),
--   `env` (table, optional: overrides as in `environ`; without it the
--   child inherits this process's environment),
--   `cwd` (string, optional), `timeout` (seconds, optional: the child gets
--   SIGTERM, then SIGKILL two seconds later).
-- @treturn table `{status=, signal=, stdout=, stderr=, seconds=, path=,
--   timed_out=}`; `status` is the exit code (128 + signal when killed).
-- @treturn[2] nil when the program cannot be started
-- @treturn[2] string the reason, naming the program
-- @raise on a malformed spec
function M.run(spec)
  local job, err = M._start(spec, "run", 3)
  if not job then
    uv.run("default")
    return nil, err
  end
  uv.run("default")
  return job.finish()
end

--- Runs several programs at the same time and waits for all of them.
-- @tparam table specs a list of specs, as `run` takes them
-- @treturn table one entry per spec: `{res}` (as `run` returns it), or
--   `{nil, message}` for a program that could not be started
-- @raise on a malformed spec
function M.run_all(specs)
  local jobs, out = {}, {}
  for i, spec in ipairs(specs) do
    local job, err = M._start(spec, "run_all", 3)
    jobs[i] = job
    if not job then out[i] = {nil, err} end
  end
  uv.run("default")
  for i, job in pairs(jobs) do out[i] = {job.finish()} end
  return out
end

-- Checks a spec and starts its program on the default loop. Returns a job
-- whose `finish()`, once the loop has run, gives what `run` returns; or
-- nil and a message.
function M._start(spec, fname, level)
  if type(spec) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (table expected, got " .. type(spec) .. ")",
          level)
  end
  for k, v in pairs(spec) do
    local want = RUN_KEYS[k]
    if not want then
      error("bad argument #1 to '" .. fname .. "' (unknown field '" .. tostring(k) .. "')",
            level)
    elseif type(v) ~= want then
      error("bad argument #1 to '" .. fname .. "' (field '" .. k .. "' must be a " .. want
            .. ", got " .. type(v) .. ")", level)
    end
  end
  local argv = spec.argv
  if not argv or #argv == 0 then
    error("bad argument #1 to '" .. fname .. "' (field 'argv' must be a non-empty table)", level)
  end
  for i, a in ipairs(argv) do
    if type(a) ~= "string" then
      error("bad argument #1 to '" .. fname .. "' (argv[" .. i .. "] must be a string, got "
            .. type(a) .. ")", level)
    end
  end

  local env = spec.env and M.environ(spec.env)
  local path = M.which(argv[1], env and env.PATH or nil)
  if not path then
    return nil, "'" .. argv[1] .. "' not found on PATH"
  end
  ignore_sigpipe()

  local args = {}
  for i = 2, #argv do args[i - 1] = argv[i] end
  local pin, pout, perr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local out, err = {}, {}
  local res = {path = path}
  local handle, timer
  local t0 = uv.hrtime()

  local function on_exit(code, sig)
    res.ended = uv.hrtime()
    res.status = sig ~= 0 and 128 + sig or code
    res.signal = sig ~= 0 and sig or nil
    if timer then timer:stop(); timer:close(); timer = nil end
    handle:close()
  end
  local spawned, why = uv.spawn(path, {
    args = args,
    stdio = {pin, pout, perr},
    env = env and env_list(env) or nil,
    cwd = spec.cwd,
  }, on_exit)
  if not spawned then
    pin:close(); pout:close(); perr:close()
    return nil, "cannot run '" .. argv[1] .. "': " .. tostring(why)
  end
  handle = spawned

  local function reader(pipe, buf)
    pipe:read_start(function(rerr, data)
      if data then
        buf[#buf + 1] = data
      else
        if rerr then buf[#buf + 1] = "" end
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
    timer:start(math.floor(spec.timeout * 1000), 2000, function()
      res.timed_out = true
      if handle:is_active() then
        handle:kill(res.killed and "sigkill" or "sigterm")
        res.killed = true
      end
    end)
  end

  local function finish()
    res.stdout, res.stderr = concat(out), concat(err)
    res.seconds = (res.ended or uv.hrtime()) - t0
    res.seconds = res.seconds / 1e9
    res.ended = nil
    return res
  end
  return {finish = finish}
end

--- Seconds since an arbitrary point, for durations.
function M.clock()
  return uv.hrtime() / 1e9
end

--- Sleeps.
-- @tparam number seconds
function M.sleep(seconds)
  if seconds > 0 then uv.sleep(math.floor(seconds * 1000 + 0.5)) end
end

--- Writes a file readable and writable by its owner only (0600).
-- The mode applies when the file is created; an existing file is
-- truncated and set to 0600 too.
-- @treturn true|nil
-- @treturn[2] string the reason
function M.write_private(path, data)
  local fd, why = uv.fs_open(path, "w", tonumber("600", 8))
  if not fd then return nil, why end
  uv.fs_fchmod(fd, tonumber("600", 8))
  local ok, werr = uv.fs_write(fd, data, 0)
  uv.fs_close(fd)
  if not ok then return nil, werr end
  return true
end

--- Creates a private (0700) temporary directory.
-- @treturn string|nil its path
-- @treturn[2] string the reason
function M.tempdir()
  local base = os_getenv("TMPDIR")
  if not base or base == "" then base = "/tmp" end
  return uv.fs_mkdtemp(base .. "/swrauth-XXXXXX")
end

--- Lists a directory's entries, sorted.
-- @treturn table|nil `{ {name=, type=}, ... }`
-- @treturn[2] string the reason
function M.list_dir(dir)
  local h, why = uv.fs_scandir(dir)
  if not h then return nil, why end
  local list = {}
  while true do
    local name, t = uv.fs_scandir_next(h)
    if not name then break end
    list[#list + 1] = {name = name, type = t}
  end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

--- Makes a directory (mode 0700).
function M.mkdir(path)
  return uv.fs_mkdir(path, tonumber("700", 8))
end

--- An absolute path for `path` (relative to the current directory).
function M.abspath(path)
  if path:sub(1, 1) == "/" then return path end
  return uv.cwd() .. "/" .. path
end

--- Removes a directory made by `tempdir` and everything in it.
function M.remove_tree(dir)
  for _, e in ipairs(M.list_dir(dir) or {}) do
    local path = dir .. "/" .. e.name
    if e.type == "directory" then M.remove_tree(path) else uv.fs_unlink(path) end
  end
  uv.fs_rmdir(dir)
end

--- Mode bits of a file (as a number), or nil and a reason.
function M.file_mode(path)
  local st, why = uv.fs_stat(path)
  if not st then return nil, why end
  return st.mode % 4096, st.type
end

--- Reads a whole file (or standard input for `-`).
-- @treturn string|nil the contents
-- @treturn[2] string the reason
function M.read_file(path)
  if path == "-" then return io.read("a") or "" end
  local f, why = io.open(path, "rb")
  if not f then return nil, why end
  local data = f:read("a")
  f:close()
  return data or ""
end

local redactor_mt = {}
redactor_mt.__index = redactor_mt

--- Adds a secret. Empty strings and non-strings are ignored.
-- @treturn the redactor
function redactor_mt:add(secret)
  if type(secret) == "string" and secret ~= "" and not self.set[secret] then
    self.set[secret] = true
    local list = self.list
    list[#list + 1] = secret
    -- Longest first, so a secret that contains another is replaced whole.
    sort(list, function(a, b) return #a > #b end)
  end
  return self
end

--- Replaces every occurrence of every secret with `<redacted>`.
-- @tparam string text
-- @treturn string
function redactor_mt:redact(text)
  text = tostring(text)
  for _, s in ipairs(self.list) do
    local i = 1
    local parts = {}
    while true do
      local a, b = text:find(s, i, true)
      if not a then break end
      parts[#parts + 1] = text:sub(i, a - 1)
      parts[#parts + 1] = M.REDACTED
      i = b + 1
    end
    if #parts > 0 then
      parts[#parts + 1] = text:sub(i)
      text = concat(parts)
    end
  end
  return text
end

redactor_mt.__call = redactor_mt.redact

--- A redactor: an object with `:add(secret)` and `:redact(text)` (also
-- callable as `r(text)`).
-- @tparam[opt] table secrets initial secrets
function M.redactor(secrets)
  local r = setmetatable({list = {}, set = {}}, redactor_mt)
  for _, s in ipairs(secrets or {}) do r:add(s) end
  return r
end

--- Replaces every occurrence of each secret in text with `<redacted>`.
-- @tparam string text
-- @tparam table secrets list of strings
-- @treturn string
function M.redact(text, secrets)
  return M.redactor(secrets):redact(text)
end

-- Characters a POSIX shell takes literally in an unquoted word.
local SAFE = "^[%w@%%+=:,./_-]+$"

--- Quotes a word for a POSIX shell (only when it needs it).
function M.quote(word)
  if word:find(SAFE) then return word end
  return "'" .. word:gsub("'", "'\\''") .. "'"
end

--- An argv table as one shell-quoted line (for display only).
function M.command_line(argv)
  local words = {}
  for i, a in ipairs(argv) do words[i] = M.quote(a) end
  return concat(words, " ")
end

return M

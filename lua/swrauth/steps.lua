--- Steps: running a command or a request, again after a transient
-- failure, with a backoff, a time limit and a record of what ran.
--
-- This is the one retry loop of swrauth. A step is an engine command
-- (`run`), or a function making requests (`call`); a failure worth
-- another attempt is tried again up to `retries` attempts in all, waiting
-- `backoff` seconds before the second attempt and twice as long before
-- each next one (at most `backoff_max`). What ran is recorded (`done`),
-- and reported as events: `{kind = "step", step=, detail=, seconds=,
-- attempts=}` after a step succeeds, `{kind = "retry", step=, detail=,
-- attempt=, attempts=, why=, wait=}` before another attempt,
-- `{kind = "warning", message=}`. Every text is redacted.
--
-- The runner is injectable: a function taking a list of `proc.run` specs
-- and returning their results as `proc.run_all` does (tests pass a fake).
-- In a dry run nothing runs: each command's line is recorded instead
-- (`commands`) and the step succeeds.
--
-- @module swrauth.steps
local M = {}

local proc = require "swrauth.proc"
local text = require "swrauth.text"

local ipairs, tostring, concat, min, huge = ipairs, tostring, table.concat, math.min, math.huge

--- Patterns (on lowercased output) of failures worth another attempt.
M.TRANSIENT = {
  "internal server error", "bad gateway", "service unavailable",
  "gateway time%-?out", "too many requests", "toomanyrequests", "timeout", "timed out",
  "connection refused", "connection reset", "broken pipe", "unexpected eof",
  "no route to host", "temporary failure", "network is unreachable",
  "status%W*5%d%d", "status code 5%d%d", "http/%d[%.%d]* 5%d%d",
  -- A connection closed without an answer: Go says `Get "URL": EOF`.
  ": eof%f[%W]",
}

--- Patterns (on lowercased output) of failures never worth another
-- attempt, even when the output also matches `TRANSIENT`.
M.PERMANENT = {
  "unauthori[sz]ed", "authentication required", "invalid username/password",
  "incorrect username or password", "denied", "manifest unknown", "name unknown",
  "blob unknown", "status%W*40[13]%f[%D]", "http/%d[%.%d]* 40[13]%f[%D]",
}

--- True when a failed command's output suggests a transient failure:
-- it matches `TRANSIENT` and not `PERMANENT`.
function M.is_transient(s)
  s = tostring(s or ""):lower()
  for _, pat in ipairs(M.PERMANENT) do
    if s:find(pat) then return false end
  end
  for _, pat in ipairs(M.TRANSIENT) do
    if s:find(pat) then return true end
  end
  return false
end

-- The last n meaningful lines of an engine's output, joined with " | ":
-- the docker CLI's informational log lines are left out (they report each
-- endpoint tried, not why the command failed).
local function tail(s, n)
  local lines = {}
  for line in tostring(s):gmatch("[^\r\n]+") do
    local level, msg = line:match('^time="[^"]*" level=(%a+) msg="(.*)"')
    if level then
      if level ~= "info" and level ~= "debug" then lines[#lines + 1] = msg:gsub('\\"', '"') end
    elseif line:find("%S") then
      lines[#lines + 1] = line
    end
  end
  return concat(lines, " | ", math.max(1, #lines - n + 1), #lines)
end

local S = {}
S.__index = S

--- A step runner.
-- @tparam table o `retries` (default 3), `backoff` (1), `backoff_max`
--   (30), `timeout` (seconds per command; none by default), `run` (the
--   runner, default `proc.run_all`), `env` (environment overrides for
--   commands), `sleep` (default `proc.sleep`), `redact` (a function,
--   default none), `dry_run`, `on_event` (a function taking an event)
-- @treturn table
function M.new(o)
  return setmetatable({
    retries = o.retries or 3, backoff = o.backoff or 1, backoff_max = o.backoff_max or 30,
    timeout = o.timeout, run_specs = o.run or proc.run_all, env = o.env,
    sleep = o.sleep or proc.sleep, redact = o.redact or function(s) return s end,
    dry_run = o.dry_run, on_event = o.on_event or function() end,
    done = {}, commands = {},
  }, S)
end

--- Seconds to wait before attempt `n + 1` (n >= 1).
function S:wait(n)
  return min(self.backoff * 2 ^ (n - 1), self.backoff_max)
end

function S:_event(ev)
  for _, k in ipairs {"detail", "why", "message"} do
    if ev[k] then ev[k] = self.redact(ev[k]) end
  end
  self.on_event(ev)
end

--- Reports a warning (redacted).
function S:warn(message)
  self:_event {kind = "warning", message = message}
end

--- Records a step done (and reports it, outside a dry run).
function S:record(name, detail, seconds, attempts)
  local rec = {step = name, detail = self.redact(detail), attempts = attempts,
               seconds = math.floor(seconds * 1000 + 0.5) / 1000}
  self.done[#self.done + 1] = rec
  if not self.dry_run then
    self:_event {kind = "step", step = name, detail = detail, seconds = seconds, attempts = attempts}
  end
end

--- Records a step that failed, with its message.
function S:record_failure(name, detail, message, attempts)
  self.done[#self.done + 1] = {step = name, detail = self.redact(detail), seconds = 0,
                               attempts = attempts or 1, error = self.redact(message)}
end

--- Records a line a dry run shows instead of running it, as step `name`
-- (none: the line only).
function S:dry(name, detail, line)
  self.commands[#self.commands + 1] = self.redact(line)
  if name then self:record(name, detail, 0, 0) end
end

-- Waits before attempt n + 1, saying why.
function S:_again(name, detail, n, why)
  local wait = self:wait(n)
  self:_event {kind = "retry", step = name, detail = detail, attempt = n,
               attempts = self.retries, why = why, wait = wait}
  self.sleep(wait)
end

--- Runs `fn(attempt)` until it succeeds, fails for good, or has been
-- tried `retries` times. `fn` returns a result, or nil, a message and
-- whether the failure is transient. Nothing is recorded: `fn` records
-- what it did (`record`).
-- @treturn any|nil the result
-- @treturn[2] string the message (" (after N attempts)" added after more than one)
function S:call(name, detail, fn)
  for n = 1, self.retries do
    local res, err, transient = fn(n)
    if res then return res end
    if n == self.retries or not transient then
      if n > 1 then err = err .. " (after " .. n .. " attempts)" end
      return nil, self.redact(err)
    end
    self:_again(name, detail, n, err)
  end
end

-- One attempt of each command step in `list`, all at once: the auth-file
-- guard taken first for those that have one. Returns one outcome per
-- step: {res=, err=, kind=, lock_warning=}.
function S:_attempt(list)
  local specs, outcomes, index = {}, {}, {}
  local releases = {}
  for i, st in ipairs(list) do
    local o = {}
    outcomes[i] = o
    if st.guard then
      local release, warning, fatal = st.guard()
      if fatal then
        o.err = fatal .. "; not running '" .. st.command.argv[1] .. " " .. st.name
          .. "', which would replace it and lose its other entries: fix or remove it"
        o.kind = "runtime"
      else
        releases[#releases + 1] = release
        o.lock_warning = warning
      end
    end
    if not o.err then
      specs[#specs + 1] = {argv = st.command.argv, stdin = st.command.stdin, env = self.env,
                           timeout = self.timeout}
      index[#specs] = i
    end
  end
  local results = #specs > 0 and self.run_specs(specs) or {}
  for _, release in ipairs(releases) do release() end
  for k, r in ipairs(results) do
    local o = outcomes[index[k]]
    o.res, o.err = r[1], r[2]
    if not o.res then o.kind = "engine" end
  end
  return outcomes
end

-- Judges attempt n of a command step. Returns "done", res; "fail",
-- message, kind; or "again", why.
function S:_judge(st, n, o, line)
  if o.kind then return "fail", o.err, o.kind end
  local res = o.res
  local note = res.status ~= 0 and st.accept and st.accept(res)
  if note then res.note = note end
  if res.status == 0 or note then
    if o.lock_warning then
      self:warn("warning: " .. st.name .. ": " .. st.command.argv[1] .. " wrote " .. st.lock_path
        .. " without the lock (" .. tostring(o.lock_warning) .. "): concurrent logins may have "
        .. "lost entries")
    end
    return "done", res
  end
  local output = tail(res.stderr, huge) .. "\n" .. tail(res.stdout, huge)
  local said = tail(res.stderr, 3)
  if said == "" then said = tail(res.stdout, 3) end
  local attempts = st.retry and self.retries or 1
  local timed_out = res.timed_out and ("timed out after %g s"):format(self.timeout)
  -- A command stopped by the time limit is retried like a transient failure.
  if n < attempts and (timed_out or M.is_transient(output)) then
    return "again", timed_out or said:match("[^|]*$"):gsub("^ ", "")
  end
  local what = ("'%s' failed (%s)"):format(line, timed_out or "exit " .. res.status)
  if n > 1 then what = what .. " after " .. n .. " attempts" end
  return "fail", said ~= "" and what .. ": " .. said or what, "runtime"
end

-- Runs attempts 2.. of a command step whose attempt 1 gave `first`.
function S:_finish(st, first, t0)
  local line = text.command_line(st.command.argv)
  if st.command.stdin then line = line .. " < " .. text.REDACTED end
  line = self.redact(line)
  local o = first
  local attempts = st.retry and self.retries or 1
  for n = 1, attempts do
    if n > 1 then o = self:_attempt({st})[1] end
    local verdict, a, b = self:_judge(st, n, o, line)
    if verdict == "done" then
      -- Attempt 1 took the time its process ran; later ones count from the first.
      self:record(st.name, o.res.note and st.detail .. " (" .. o.res.note .. ")" or st.detail,
                  n == 1 and o.res.seconds or proc.clock() - t0, n)
      return a
    elseif verdict == "fail" then
      self:record_failure(st.name, st.detail, a, n)
      return nil, self.redact(a), b
    end
    self:_again(st.name, st.detail, n, a)
  end
end

--- Runs command steps, attempt 1 of all at the same time, then the
-- further attempts of each in turn (in list order). Once one has failed
-- for good, the later ones are not tried again (a first attempt that
-- succeeded still counts).
-- @tparam table list steps `{name=, detail=, command={argv=, stdin=},
--   retry=boolean, guard=function, lock_path=, accept=function}`;
--   `guard()` returns a function releasing the lock and an optional
--   warning (the lock could not be taken), or nil, nil, message when the
--   command must not run; `accept(res)` returns a note when a failed
--   command's result is a success all the same (a logout with nothing to
--   remove), else nil
-- @treturn table one entry per step: `{res}`, or `{nil, message, kind}`
--   (kind "engine" when the program could not be started; nil for a
--   step not tried again after an earlier one failed)
function S:run_together(list)
  if self.dry_run then
    local out = {}
    for i, st in ipairs(list) do
      local line = text.command_line(st.command.argv)
      if st.command.stdin then line = line .. " < " .. text.REDACTED end
      self:dry(st.name, st.detail, line)
      out[i] = {{status = 0, stdout = "", stderr = "", seconds = 0}}
    end
    return out
  end
  local t0 = proc.clock()
  local firsts = self:_attempt(list)
  local out, failed = {}, false
  for i, st in ipairs(list) do
    local o = firsts[i]
    if not failed then
      out[i] = {self:_finish(st, o, t0)}
      failed = out[i][1] == nil
    elseif o.res and o.res.status == 0 then
      self:record(st.name, st.detail, o.res.seconds, 1)
      out[i] = {o.res}
    else
      out[i] = {nil, "not tried again after the failure above"}
    end
  end
  return out
end

--- Runs one command step (see `run_together`).
-- @treturn table|nil the result of `proc.run`
-- @treturn[2] string message
-- @treturn[2] string kind
function S:run(st)
  return table.unpack(self:run_together({st})[1])
end

return M

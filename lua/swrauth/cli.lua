--- The `swrauth` command line (docs/CLI.md).
--
-- `main(args, sys)` runs one command and returns the exit code: 0 success,
-- 1 runtime failure, 2 usage error, 3 credentials missing or malformed,
-- 4 engine not found. `swrauth key` is answered here, loading only the
-- credentials module; every other command is parsed with argparse in
-- `swrauth.commands`, which loads further modules per command.
--
-- @module swrauth.cli
local M = {}

--- Exit codes by failure kind.
M.EXIT = {ok = 0, runtime = 1, usage = 2, credentials = 3, engine = 4}

--- The sys table: `out`, `err` (functions taking a string), `getenv`,
-- `stdin` (a function returning all of standard input); missing fields
-- default to the process's streams and environment.
function M.system(sys)
  sys = sys or {}
  return {
    out = sys.out or function(s) io.stdout:write(s) end,
    err = sys.err or function(s) io.stderr:write(s) end,
    getenv = sys.getenv or os.getenv,
    stdin = sys.stdin or function() return io.read("a") or "" end,
  }
end

local ESCAPES = {["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

--- A message's text on one line: CR, LF and the other control characters
-- shown as `\n`, `\r`, `\t`, `\xNN`, so that input echoed in an error
-- (a repository, a tag, an option) cannot start a line of its own.
function M.one_line(s)
  return (tostring(s):gsub("%c", function(c)
    return ESCAPES[c] or ("\\x%02X"):format(c:byte())
  end))
end

------------------------------------------------------------------- key

--- `swrauth key`: prints the login key.
function M.key(sys, file)
  local credentials = require "swrauth.credentials"
  local cred, err = credentials.resolve{
    file = file, getenv = sys.getenv,
    warn = function(msg) sys.err(msg .. "\n") end,
  }
  if not cred then
    sys.err("swrauth: key: " .. M.one_line(err) .. "\n")
    return M.EXIT.credentials
  end
  sys.out(cred.key .. "\n")
  return M.EXIT.ok
end

-- `swrauth key` with at most --credentials-file: answered without
-- argparse. Returns the file (or false) when args have that shape.
local function fast_key(args)
  local n, keys, file = #args, 0, false
  local i = 1
  while i <= n do
    local a = args[i]
    if a == "key" then
      keys = keys + 1
      i = i + 1
    elseif a == "--credentials-file" and args[i + 1] and args[i + 1]:sub(1, 1) ~= "-" then
      file = args[i + 1]
      i = i + 2
    elseif a:find("^%-%-credentials%-file=") then
      file = a:sub(#"--credentials-file=" + 1)
      i = i + 1
    else
      return nil
    end
  end
  if keys ~= 1 then return nil end
  return file
end

--- Runs the command line.
-- @tparam table args the arguments (as `arg`, without `arg[0]`)
-- @tparam[opt] table sys see `system`
-- @treturn integer the exit code
function M.main(args, sys)
  sys = M.system(sys)
  local list = {}
  for i = 1, #(args or {}) do list[i] = args[i] end
  local file = fast_key(list)
  if file ~= nil then return M.key(sys, file or nil) end
  local ok, code = xpcall(function() return require("swrauth.commands").run(list, sys) end,
                          debug.traceback)
  if not ok then
    sys.err("swrauth: internal error: " .. tostring(code):gsub("[\r\n]+$", "") .. "\n")
    return M.EXIT.runtime
  end
  return code
end

return M

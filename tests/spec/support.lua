--- Small file helpers the specs share (required as "tests.spec.support",
-- from the checkout's top directory, where tests/run.sh runs busted).
local M = {}

--- Writes `text` to `path` (binary), then sets its mode when given
-- (an octal string such as "600").
function M.write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then assert(require("luv").fs_chmod(path, tonumber(mode, 8))) end
end

--- The whole file, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return M

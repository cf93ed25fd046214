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

--- A new private temporary directory's path (remove it with `rm`).
function M.tempdir()
  return assert(require("swrauth.fs").tempdir()).path
end

--- Removes a directory tree.
function M.rm(path)
  require("swrauth.fs").remove_tree(path)
end

--- Makes a directory (and its parents), mode 0700.
function M.mkdir(path)
  return assert(require("swrauth.fs").mkdir_p(path))
end

--- Decodes JSON for a test's assertions (lua-cjson: a reader other than
-- the one under test).
function M.decode(text)
  return require("cjson").decode(text)
end

--- A getenv for the credential chain's specs: the variables of `t`, no
-- instance metadata, and `home` as HOME (the profiles of the machine's
-- user are never read).
function M.chain_env(t, home)
  return function(name)
    if t[name] ~= nil then return t[name] end
    if name == "SWRAUTH_METADATA_ENDPOINT" then return "none" end
    if name == "HOME" then return home end
  end
end

--- JSON null as `decode` gives it.
M.null = require("cjson").null

return M

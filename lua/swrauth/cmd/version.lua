--- `swrauth version`: the version, what it runs on and where it was
-- loaded from (what a bug report needs).
--
-- @module swrauth.cmd.version
local M = {}

local swrauth = require "swrauth"
local fs = require "swrauth.fs"

function M.add_to_parser(parser)
  return {parser:command("version", "Print the version, the Lua and OpenSSL it runs on, and "
    .. "where its modules were loaded from (for bug reports).")}
end

-- Where `name` is found on `path` (package.path or package.cpath), as an
-- absolute path without "./" steps, or nil.
local function found(name, path)
  local p = package.searchpath(name, path)
  return p and fs.abspath(p):gsub("/%./", "/") or nil
end

-- A module's version, when it says.
local function version_of(name, field)
  local ok, m = pcall(require, name)
  if not ok or type(m) ~= "table" then return nil end
  local v = m[field]
  if type(v) == "function" then v = v() end
  return type(v) == "string" and v or nil
end

--- What `swrauth version` reports.
-- @treturn table `{version=, lua=, lua_headers=, openssl=, openssl_headers=,
--   interpreter=, script=, paths={[module]=file}, versions={[module]=v}}`
function M.info()
  local paths, versions = {}, {}
  paths.swrauth = found("swrauth", package.cpath)
  paths["swrauth.cli"] = found("swrauth.cli", package.path)
  paths.argparse = found("argparse", package.path)
  paths.luv = found("luv", package.cpath)
  paths.lfs = found("lfs", package.cpath)
  versions.argparse = version_of("argparse", "version")
  versions.luv = version_of("luv", "version_string")
  versions.lfs = version_of("lfs", "_VERSION")
  return {
    version = swrauth._VERSION, lua = _VERSION, lua_headers = swrauth._LUA_HEADERS,
    openssl = swrauth._OPENSSL, openssl_headers = swrauth._OPENSSL_HEADERS,
    interpreter = arg and arg[-1] or nil,
    script = arg and arg[0] and fs.abspath(arg[0]):gsub("/%./", "/") or nil,
    paths = paths, versions = versions,
  }
end

local ORDER = {"swrauth", "swrauth.cli", "argparse", "luv", "lfs"}

function M.run(a, ui)
  local i = M.info()
  if a.json then
    ui:json(i)
    return ui.EXIT.ok
  end
  local lines = {
    "swrauth " .. i.version,
    ("lua      %s (%s; built with %s headers)"):format(i.lua, i.interpreter or "?", i.lua_headers),
    ("openssl  %s%s"):format(i.openssl, i.openssl_headers ~= i.openssl
      and " (built with " .. i.openssl_headers .. ")" or ""),
    "script   " .. (i.script or "?"),
  }
  for _, name in ipairs(ORDER) do
    local v = i.versions[name]
    lines[#lines + 1] = ("%-8s %s%s"):format(name == "swrauth.cli" and "modules" or name,
      i.paths[name] or "(not found)", v and " (" .. v .. ")" or "")
  end
  ui.out(table.concat(lines, "\n") .. "\n")
  return ui.EXIT.ok
end

return M

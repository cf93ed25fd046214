--- `swrauth key`: prints the login key.
--
-- @module swrauth.cmd.key
local M = {}

local credentials = require "swrauth.credentials"

function M.add_to_parser(parser)
  return {parser:command("key", "Print the login key (stdout, one line).")}
end

function M.run(a, ui)
  local cred, err = credentials.resolve {
    file = a.credentials_file, getenv = ui.getenv, warn = function(msg) ui:warn(msg) end,
  }
  if not cred then return ui:fail("key: " .. err, "credentials") end
  ui.out(cred.key .. "\n")
  return ui.EXIT.ok
end

return M

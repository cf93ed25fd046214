--- `swrauth key`: prints the login key, or a temporary login's password.
--
-- @module swrauth.cmd.key
local M = {}

local json = require "swrauth.json"
local options = require "swrauth.options"

function M.add_to_parser(parser)
  return {parser:command("key", "Print the login key (stdout, one line); for temporary "
    .. "credentials or with --temporary, a temporary login's password (needs --project). With "
    .. "--json: {user, password, registry, expires_at}.")}
end

function M.run(a, ui)
  local t, terr = options.target(a, ui, a.json)
  if not t then return ui:usage("key: " .. terr) end
  local login, code = ui:login("key", t.project, t.registry)
  if not login then return code end
  if a.json then
    ui:json {user = login.user, password = login.password, registry = login.registry,
             expires_at = login.expires_at or json.null}
  else
    ui.out(login.password .. "\n")
  end
  if login.cache_error then ui:warn("warning: " .. login.cache_error) end
  return ui.EXIT.ok
end

return M

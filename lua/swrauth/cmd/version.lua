--- `swrauth version`: the version.
--
-- @module swrauth.cmd.version
local M = {}

local swrauth = require "swrauth"

function M.add_to_parser(parser)
  return {parser:command("version", "Print the version.")}
end

function M.run(a, ui)
  if a.json then
    ui:json {version = swrauth._VERSION}
  else
    ui.out("swrauth " .. swrauth._VERSION .. "\n")
  end
  return ui.EXIT.ok
end

return M

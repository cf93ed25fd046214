--- `swrauth logout`: logs the engine out of this registry only.
--
-- @module swrauth.cmd.logout
local M = {}

local options = require "swrauth.options"
local pipeline = require "swrauth.pipeline"

function M.add_to_parser(parser)
  return {parser:command("logout", "Log the engine out of this registry only.")}
end

function M.run(a, ui)
  local o, err = options.pipeline(a, ui)
  if not o then return ui:usage(err) end
  local p = pipeline.new(ui:hooks(o))
  return ui:finish(p, p:logout())
end

return M

--- `swrauth login`: logs the engine in (the key on its standard input).
--
-- @module swrauth.cmd.login
local M = {}

local options = require "swrauth.options"
local pipeline = require "swrauth.pipeline"

function M.add_to_parser(parser)
  return {parser:command("login", "Log the engine in (key on its standard input).")}
end

function M.run(a, ui)
  local o, err = options.pipeline(a, ui)
  if not o then return ui:usage(err) end
  local p = pipeline.new(ui:hooks(o))
  return ui:finish(p, p:login())
end

return M

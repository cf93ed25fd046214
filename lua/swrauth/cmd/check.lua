--- `swrauth check`: asks the registry whether the credentials log in
-- (`GET /v2/` with Basic authentication, following a Bearer challenge to
-- its token service), without any engine.
--
-- @module swrauth.cmd.check
local M = {}

local options = require "swrauth.options"
local pipeline = require "swrauth.pipeline"

function M.add_to_parser(parser)
  return {parser:command("check", "Ask the registry whether the credentials log in (GET /v2/, "
    .. "following a token challenge), without any engine.")}
end

function M.run(a, ui)
  local o, err = options.pipeline(a, ui)
  if not o then return ui:usage(err) end
  local p = pipeline.new(ui:hooks(o))
  return ui:finish(p, p:check())
end

return M

--- `swrauth push IMAGE...`: pushes images, retrying transient failures.
--
-- @module swrauth.cmd.push
local M = {}

local options = require "swrauth.options"
local pipeline = require "swrauth.pipeline"

function M.add_to_parser(parser)
  local c = parser:command("push", "Push images, retrying transient failures.")
  c:argument("image", "References to push."):args("+")
  return {c}
end

function M.run(a, ui)
  for _, v in ipairs(a.image) do
    if v == "" then return ui:usage("push: an image name is empty") end
  end
  local o, err = options.pipeline(a, ui)
  if not o then return ui:usage(err) end
  local p = pipeline.new(ui:hooks(o))
  p:plan(a.image)
  for _, ref in ipairs(a.image) do
    local r, perr, kind = p:push(ref)
    if not r then return ui:finish(p, nil, perr, kind) end
  end
  return ui:finish(p, true)
end

return M

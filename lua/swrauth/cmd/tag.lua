--- `swrauth tag SOURCE TARGET...`: tags a local image (skopeo: copies it
-- in the registry).
--
-- @module swrauth.cmd.tag
local M = {}

local options = require "swrauth.options"
local pipeline = require "swrauth.pipeline"

function M.add_to_parser(parser)
  local c = parser:command("tag", "Tag a local image (skopeo: copy in the registry).")
  c:argument("source", "Image to tag.")
  c:argument("target", "New references."):args("+")
  return {c}
end

function M.run(a, ui)
  for _, v in ipairs {a.source, table.unpack(a.target)} do
    if v == "" then return ui:usage("tag: an image name is empty") end
  end
  local o, err = options.pipeline(a, ui)
  if not o then return ui:usage(err) end
  local p = pipeline.new(ui:hooks(o))
  for _, t in ipairs(a.target) do
    local ok, terr, kind = p:tag(a.source, t)
    if not ok then return ui:finish(p, nil, terr, kind) end
  end
  return ui:finish(p, true)
end

return M

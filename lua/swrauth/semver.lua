--- Image tags for a semantic version.
--
-- @module swrauth.semver
local M = {}

local fields = require "swrauth.fields"

local type, error = type, error

local function numeric(s)
  return s:find("^%d+$") and (s == "0" or not s:find("^0"))
end

--- Tags for a semantic version: "1.4.2" gives {"1.4.2", "1.4", "1"} (and
-- "latest" with `{latest = true}`). A pre-release ("1.4.2-rc.1") gives only
-- itself. A leading "v" is dropped. Build metadata ("+...") is refused:
-- '+' cannot appear in an image tag.
-- @tparam string version
-- @tparam[opt] table opts `{latest = boolean}`
-- @treturn table|nil the tags
-- @treturn[2] string why the version is not accepted
function M.tags(version, opts)
  if type(version) ~= "string" then
    error("bad argument #1 to 'tags' (string expected, got " .. type(version) .. ")", 2)
  end
  if opts ~= nil then
    if type(opts) ~= "table" then
      error("bad argument #2 to 'tags' (table expected, got " .. type(opts) .. ")", 2)
    end
    local ok, err = fields.check(opts, {latest = "boolean"}, "option")
    if not ok then error("bad argument #2 to 'tags' (" .. err .. ")", 2) end
  end
  local v = version:gsub("^v", "")
  local bad = "'" .. version .. "' is not a semantic version (MAJOR.MINOR.PATCH, "
    .. "optionally -PRERELEASE, e.g. 1.4.2 or 1.4.2-rc.1)"
  if v:find("+", 1, true) then
    return nil, "'" .. version .. "' has build metadata ('+...'), which an image tag cannot hold"
  end
  local core, pre = v:match("^([^-]+)%-(.+)$")
  core = core or v
  local major, minor, patch = core:match("^(%d+)%.(%d+)%.(%d+)$")
  if not (major and numeric(major) and numeric(minor) and numeric(patch)) then
    return nil, bad
  end
  if pre then
    for id in (pre .. "."):gmatch("([^.]*)%.") do
      if id == "" or id:find("[^%w-]") or (id:find("^%d+$") and not numeric(id)) then
        return nil, bad
      end
    end
    if #v > 128 then return nil, bad end
    return {v}
  end
  local tags = {v, major .. "." .. minor, major}
  if opts and opts.latest then tags[#tags + 1] = "latest" end
  return tags
end

return M

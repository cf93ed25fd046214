--- `swrauth release SOURCE --repository NS/NAME --tag T... | --semver X.Y.Z`:
-- logs in, pushes SOURCE under each tag, prints each reference with its
-- digest. SOURCE may be a release file (FILE.lua).
--
-- @module swrauth.cmd.release
local M = {}

local options = require "swrauth.options"
local pipeline = require "swrauth.pipeline"
local semver = require "swrauth.semver"

function M.add_to_parser(parser)
  local c = parser:command("release", "Log in, push SOURCE under each tag, print each pushed "
    .. "reference with its digest. SOURCE may also be a Lua file (FILE.lua) returning a table "
    .. "{source=, repository=, tags=, semver=, latest=, ...}.")
  c:argument("source", "Local image (skopeo: any skopeo image name, e.g. oci:DIR:TAG), or FILE.lua.")
  c:option("--repository", "Target repository NS/NAME in the registry.")
  c:option("--tag", "A tag to push (repeatable)."):count("*")
  c:option("--semver", "Add the tags of version X.Y.Z: X.Y.Z, X.Y and X (a pre-release only itself).")
  c:flag("--latest", "With --semver: add 'latest' too.")
  c:option("--remote-tag", "With skopeo, how tags after the first are added: api (the registry's "
    .. "HTTP API through curl: one manifest GET, one PUT per tag), engine (one skopeo copy per "
    .. "tag) or auto (api when curl is installed; env SWRAUTH_REMOTE_TAG; default auto).")
    :choices {"auto", "api", "engine"}
  return {c}
end

-- The release file named by SOURCE, when SOURCE is an existing FILE.lua.
local function release_file(src)
  if not src:find("%.lua$") then return nil end
  local f = io.open(src, "rb")
  if not f then return nil end
  f:close()
  return options.load_release_file(src)
end

-- The tags: --semver's, then --tag's (or the file's), without repeats.
local function tags_of(a, file)
  local tags, seen = {}, {}
  local function add(t)
    if not seen[t] then seen[t] = true; tags[#tags + 1] = t end
  end
  local version, latest = a.semver or file.semver, a.latest or file.latest
  if version then
    local st, serr = semver.tags(version, {latest = latest and true or false})
    if not st then return nil, "release: --semver: " .. serr end
    for _, t in ipairs(st) do add(t) end
  elseif latest then
    return nil, "release: --latest needs --semver"
  end
  local given = (a.tag and #a.tag > 0) and a.tag or file.tags or {}
  for i, t in ipairs(given) do
    if type(t) ~= "string" then return nil, "release: tags[" .. i .. "] must be a string" end
    add(t)
  end
  if #tags == 0 then return nil, "release: give at least one --tag, or --semver X.Y.Z" end
  return tags
end

function M.run(a, ui)
  local file, ferr = release_file(a.source)
  if ferr then return ui:usage(ferr) end
  local source = a.source
  if file then
    source = file.source
    if not source then
      return ui:usage("release file " .. a.source .. ": field 'source' is required")
    end
  end
  file = file or {}
  if source == "" then return ui:usage("release: the source image name is empty") end
  local repository = a.repository or file.repository
  if not repository then return ui:usage("release: --repository NS/NAME is required") end
  local tags, terr = tags_of(a, file)
  if not tags then return ui:usage(terr) end
  local o, oerr = options.pipeline(a, ui, file.path and file)
  if not o then return ui:usage(oerr) end
  local p = pipeline.new(ui:hooks(o))
  local pushed, err, kind = p:release {source = source, repository = repository, tags = tags}
  return ui:finish(p, pushed ~= nil, err, kind)
end

return M

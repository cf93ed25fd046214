--- `swrauth configure-docker [REGISTRY...]`: adds `credHelpers` entries
-- naming docker-credential-swr to docker's config.json and containers'
-- auth.json (like `gcloud auth configure-docker`); `--remove` takes them
-- out again. See docs/CREDENTIAL-HELPER.md.
--
-- @module swrauth.cmd.configure_docker
local M = {}

local swrauth = require "swrauth"
local json = require "swrauth.json"
local proc = require "swrauth.proc"
local authfile = require "swrauth.authfile"
local helperconfig = require "swrauth.helperconfig"
local options = require "swrauth.options"

--- The helper named in `credHelpers` by default (docker runs
-- `docker-credential-` followed by it).
M.HELPER = "swr"

function M.add_to_parser(parser)
  local c = parser:command("configure-docker", "Add credHelpers entries naming "
    .. "docker-credential-swr to docker's config.json and containers' auth.json, so that "
    .. "docker, podman, buildah and skopeo get the login from the helper (no docker login, "
    .. "no key in any file). The project of a registry that is not swr.REGION... (or of a "
    .. "sub-project) is recorded in the helper's config file (mode 0600).")
  c:argument("registry", "Registries (HOST[:PORT]); default: --registry, or the project's "
    .. "swr.REGION.myhuaweicloud.com."):args("*"):target("registries")
  c:option("--helper", "Helper name: docker runs docker-credential-NAME", M.HELPER)
  c:option("--docker-config", "docker's config.json (default $DOCKER_CONFIG/config.json, "
    .. "else ~/.docker/config.json).")
  c:option("--authfile", "containers' auth.json (default $REGISTRY_AUTH_FILE, else "
    .. "$XDG_RUNTIME_DIR/containers/auth.json).")
  c:option("--only", "Write only one of the two files."):choices {"docker", "containers"}
  c:flag("--remove", "Remove the entries instead.")
  return {c}
end

-- One entry of one file set or removed (in a dry run, only said),
-- reported on stderr and in `report`. `fn()` makes the change and returns
-- true and whether the file changed, or nil and a message.
local function apply(a, ui, report, file, r, entry, value, fn)
  local verb = a.remove and "remove" or "set"
  if a.dry_run then
    ui:info("configure-docker: would " .. verb .. " " .. entry .. " in " .. file)
    report[#report + 1] = {file = file, registry = r, entry = entry, changed = false}
    return true
  end
  local ok, changed = fn()
  if not ok then return nil, changed end
  local what
  if a.remove then what = changed and "removed" or "not there"
  else what = changed and "added" or "already there" end
  ui:info("configure-docker: " .. file .. ": " .. entry .. " = " .. (a.remove and "-" or value)
    .. " (" .. what .. ")")
  report[#report + 1] = {file = file, registry = r, entry = entry, changed = changed}
  return true
end

-- The project the helper must answer registry `r` with, when it could not
-- tell it from the host (not an SWR host, or a project other than the
-- region's); false when the host tells it; nil and a message when there
-- is no project to record.
local function project_to_record(r, project)
  local swr = swrauth.parse("registry", helperconfig.host(r))
  if not project then
    if swr then return false end
    return nil, "configure-docker: " .. r .. " is not an SWR registry host "
      .. "(swr.REGION.myhuaweicloud.com): give --project (or SWRAUTH_PROJECT), which the "
      .. "helper records for it"
  end
  if swr and project:match("^[^_]+") ~= swr.region then
    return nil, "configure-docker: project '" .. project .. "' is not in region " .. swr.region
      .. " of " .. r
  end
  if swr and project == swr.region then return false end
  return project
end

function M.run(a, ui)
  local t, terr = options.target(a, ui, false)
  if not t then return ui:usage(terr) end
  local regs = {table.unpack(a.registries or {})}
  if #regs == 0 then
    if not t.registry then
      return ui:usage("configure-docker: give REGISTRY..., or --registry or --project (or "
        .. "SWRAUTH_REGISTRY or SWRAUTH_PROJECT)")
    end
    regs[1] = t.registry
  end
  local records = {}
  for i, r in ipairs(regs) do
    local ok, why = swrauth.check("registry", r)
    if not ok then return ui:usage("configure-docker: registry '" .. r .. "' " .. why) end
    if not a.remove then
      records[i], why = project_to_record(r, t.project)
      if records[i] == nil then return ui:usage(why) end
    end
  end
  local helper = a.helper or M.HELPER
  if helper == "" or helper:find("[^%w._-]") then
    return ui:usage("configure-docker: --helper may hold only letters, digits, '.', '_' and '-'")
  end
  local files = {}
  if a.only ~= "containers" then files[#files + 1] = a.docker_config or authfile.docker_path(ui.getenv) end
  if a.only ~= "docker" then files[#files + 1] = a.authfile or authfile.containers_path(ui.getenv) end
  local report = json.array()
  local function fail(msg)
    if a.json then ui:json {ok = false, error = "configure-docker: " .. msg, exit = 1} end
    return ui:fail("configure-docker: " .. msg)
  end
  for _, file in ipairs(files) do
    for _, r in ipairs(regs) do
      local ok, err = apply(a, ui, report, file, r, "credHelpers[" .. r .. "]", helper, function()
        if a.remove then return authfile.remove_helper(file, r) end
        return authfile.set_helper(file, r, helper)
      end)
      if not ok then return fail(err) end
    end
  end
  -- The helper's own config: the project of each registry it cannot tell
  -- the project of by itself (removed with --remove, when recorded).
  local config = helperconfig.path(ui.getenv) or "the helper's config file"
  local recorded = a.remove and (helperconfig.load(ui.getenv) or {registries = {}}).registries
  for i, r in ipairs(regs) do
    if records[i] or recorded and recorded[helperconfig.host(r)] then
      local entry = "registries[" .. helperconfig.host(r) .. "]"
      local ok, err = apply(a, ui, report, config, r, entry, records[i], function()
        local path, changed = helperconfig.set_registry(ui.getenv, r, records[i] or nil)
        if not path then return nil, changed end
        return true, changed
      end)
      if not ok then return fail(err) end
    end
  end
  if not a.remove and not a.dry_run and not proc.which("docker-credential-" .. helper, ui.getenv("PATH")) then
    ui:warn("warning: docker-credential-" .. helper .. " is not on PATH: docker, podman and "
      .. "skopeo will fail to run it")
  end
  if a.json then ui:json {ok = true, helper = helper, remove = a.remove or false, entries = report} end
  return ui.EXIT.ok
end

return M

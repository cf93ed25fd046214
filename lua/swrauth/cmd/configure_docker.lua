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
local options = require "swrauth.options"

--- The helper named in `credHelpers` by default (docker runs
-- `docker-credential-` followed by it).
M.HELPER = "swr"

function M.add_to_parser(parser)
  local c = parser:command("configure-docker", "Add credHelpers entries naming "
    .. "docker-credential-swr to docker's config.json and containers' auth.json, so that "
    .. "docker, podman, buildah and skopeo get the login from the helper (no docker login, "
    .. "no key in any file).")
  c:argument("registry", "Registries (HOST[:PORT]); default: --registry, or the project's "
    .. "swr.REGION.myhuaweicloud.com."):args("*"):target("registries")
  c:option("--helper", "Helper name (docker runs docker-credential-NAME).", M.HELPER)
  c:option("--docker-config", "docker's config.json (default $DOCKER_CONFIG/config.json, "
    .. "else ~/.docker/config.json).")
  c:option("--authfile", "containers' auth.json (default $REGISTRY_AUTH_FILE, else "
    .. "$XDG_RUNTIME_DIR/containers/auth.json).")
  c:option("--only", "Write only one of the two files."):choices {"docker", "containers"}
  c:flag("--remove", "Remove the entries instead.")
  return {c}
end

function M.run(a, ui)
  local regs = {table.unpack(a.registries or {})}
  if #regs == 0 then
    local t, err = options.target(a, ui, false)
    if not t then return ui:usage(err) end
    if not t.registry then
      return ui:usage("configure-docker: give REGISTRY..., or --registry or --project (or "
        .. "SWRAUTH_REGISTRY or SWRAUTH_PROJECT)")
    end
    regs[1] = t.registry
  end
  for _, r in ipairs(regs) do
    local ok, why = swrauth.check("registry", r)
    if not ok then return ui:usage("configure-docker: registry '" .. r .. "' " .. why) end
  end
  local helper = a.helper or M.HELPER
  if helper == "" or helper:find("[^%w._-]") then
    return ui:usage("configure-docker: --helper may hold only letters, digits, '.', '_' and '-'")
  end
  local files = {}
  if a.only ~= "containers" then files[#files + 1] = a.docker_config or authfile.docker_path(ui.getenv) end
  if a.only ~= "docker" then files[#files + 1] = a.authfile or authfile.containers_path(ui.getenv) end
  local report = json.array()
  for _, file in ipairs(files) do
    for _, r in ipairs(regs) do
      local ok, changed
      if a.dry_run then
        ok, changed = true, false
        ui:info("configure-docker: would " .. (a.remove and "remove" or "set") .. " credHelpers["
          .. r .. "] in " .. file)
      elseif a.remove then
        ok, changed = authfile.remove_helper(file, r)
      else
        ok, changed = authfile.set_helper(file, r, helper)
      end
      if not ok then
        if a.json then ui:json {ok = false, error = "configure-docker: " .. changed, exit = 1} end
        return ui:fail("configure-docker: " .. changed)
      end
      if not a.dry_run then
        local what
        if a.remove then what = changed and "removed" or "not there"
        else what = changed and "added" or "already there" end
        ui:info("configure-docker: " .. file .. ": credHelpers[" .. r .. "] = "
          .. (a.remove and "-" or helper) .. " (" .. what .. ")")
      end
      report[#report + 1] = {file = file, registry = r, changed = changed}
    end
  end
  if not a.remove and not a.dry_run then
    local path = ui.getenv("PATH")
    if not proc.which("docker-credential-" .. helper, path) then
      ui:warn("warning: docker-credential-" .. helper .. " is not on PATH: docker, podman and "
        .. "skopeo will fail to run it")
    end
  end
  if a.json then ui:json {ok = true, helper = helper, remove = a.remove or false, entries = report} end
  return ui.EXIT.ok
end

return M

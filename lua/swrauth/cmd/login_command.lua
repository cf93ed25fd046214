--- `swrauth login-command`: the vendor's docker login command (or ctr's
-- pull/push command) with the key, and the --password-stdin form.
--
-- @module swrauth.cmd.login_command
local M = {}

local swrauth = require "swrauth"
local credentials = require "swrauth.credentials"
local options = require "swrauth.options"

function M.add_to_parser(parser)
  local c = parser:command("login-command", "Print the vendor's docker login command (or ctr "
    .. "pull/push command) with the key; warns that -p leaks into shell history and shows the "
    .. "--password-stdin form.")
  c:option("--ctr", "Print 'ctr image ACTION --user ... IMAGE' instead (ACTION: pull or push).")
    :args(2):argname {"<action>", "<image>"}
  c:flag("--stdin", "Print only the --password-stdin form (no key).")
  return {c}
end

local STDIN_KINDS = {auto = "docker-stdin", docker = "docker-stdin", podman = "podman",
                     buildah = "buildah", skopeo = "skopeo", nerdctl = "nerdctl"}

function M.run(a, ui)
  local o, oerr = options.pipeline(a, ui)
  if not o then return ui:usage(oerr) end
  local project, engine = o.project or o.region, o.engine or "auto"
  local fields = {project = project, registry = o.registry}
  local kind
  if a.ctr then
    local action, image = a.ctr[1], a.ctr[2]
    if action ~= "pull" and action ~= "push" then
      return ui:usage("--ctr takes pull or push, got '" .. action .. "'")
    end
    if a.stdin then return ui:usage("--stdin: ctr has no --password-stdin form") end
    local ok, why = swrauth.check("image", image)
    if not ok then return ui:usage("--ctr: image '" .. image .. "' " .. why) end
    kind, fields.image, fields.registry = "ctr-" .. action, image, nil
  elseif a.stdin then
    kind = STDIN_KINDS[engine]
    if not kind then return ui:usage("--stdin: ctr has no --password-stdin form") end
  else
    kind = "docker"
  end
  local cred, cerr = credentials.resolve {
    file = a.credentials_file, getenv = ui.getenv, warn = function(msg) ui:warn(msg) end,
  }
  if not cred then return ui:fail("login-command: " .. cerr, "credentials") end
  fields.ak = cred.ak
  if not a.stdin then fields.key = cred.key end
  ui.out(swrauth.format(kind, fields) .. "\n")
  if kind == "docker" then
    ui:warn("warning: -p puts the login key in your shell history and in the process list; "
      .. "give it on standard input instead:\n  swrauth key | "
      .. swrauth.format("docker-stdin", {project = project, ak = cred.ak, registry = o.registry}))
  elseif a.ctr then
    ui:warn("warning: ctr takes the login key only on its command line: it stays in your shell "
      .. "history and shows in the process list while ctr runs")
  end
  return ui.EXIT.ok
end

return M

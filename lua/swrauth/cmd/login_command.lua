--- `swrauth login-command`: the vendor's docker login command (or ctr's
-- pull/push command) with the key, and the --password-stdin form.
--
-- @module swrauth.cmd.login_command
local M = {}

local swrauth = require "swrauth"
local options = require "swrauth.options"
local text = require "swrauth.text"

-- The AK of a long-term login's PROJECT@AK user.
local function cred_ak(login)
  return login.user:match("@(.*)$")
end

function M.add_to_parser(parser)
  local c = parser:command("login-command", "Print the vendor's docker login command (or ctr "
    .. "pull/push command) with the key; warns that -p leaks into shell history and shows the "
    .. "--password-stdin form.")
  c:option("--ctr", "Print the command 'ctr image ACTION --user PROJECT@AK:KEY IMAGE' instead "
    .. "(ACTION: pull or push).")
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
  local registry = o.registry or swrauth.format("registry", {project = project})
  if fields.image then registry = swrauth.parse("image", fields.image).registry end
  local login, code = ui:login("login-command", project, registry)
  if not login then return code end
  if login.temporary then
    -- The API's user, written out (it is not PROJECT@AK).
    local argv
    if a.ctr then
      argv = {"ctr", "image", a.ctr[1], "--user", login.user .. ":" .. login.password, fields.image}
    else
      argv = {kind == "docker" and "docker" or kind:match("^[^-]+"), "login", "-u", login.user,
              kind == "docker" and "-p" or "--password-stdin"}
      if kind == "docker" then argv[#argv + 1] = login.password end
      argv[#argv + 1] = registry
    end
    ui.out(text.command_line(argv) .. "\n")
    ui:info("login-command: a temporary login, expires " .. (login.expires_at or "?"))
  else
    fields.ak = cred_ak(login)
    if not a.stdin then fields.key = login.password end
    ui.out(swrauth.format(kind, fields) .. "\n")
  end
  if kind == "docker" then
    ui:warn("warning: -p puts the login key in your shell history and in the process list; "
      .. "give it on standard input instead:\n  " .. (login.temporary
      and "swrauth login --engine docker --project " .. project .. " (a temporary login's user "
      .. "and password come together)" or "swrauth key | "
      .. swrauth.format("docker-stdin", {project = project, ak = cred_ak(login), registry = o.registry})))
  elseif a.ctr then
    ui:warn("warning: ctr takes the login key only on its command line: it stays in your shell "
      .. "history and shows in the process list while ctr runs")
  end
  return ui.EXIT.ok
end

return M

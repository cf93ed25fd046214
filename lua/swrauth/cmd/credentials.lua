--- `swrauth credentials`: which source of the chain (`swrauth.credentials`)
-- gives the credentials, and what they are, never a secret.
--
-- @module swrauth.cmd.credentials
local M = {}

local json = require "swrauth.json"
local credentials = require "swrauth.credentials"
local options = require "swrauth.options"
local proc = require "swrauth.proc"

function M.add_to_parser(parser)
  return {parser:command("credentials", "Say which source gives the credentials (the chain in "
    .. "'swrauth --help'), their AK, whether they are temporary and until when; no secret. "
    .. "With --json: {source, where, ak, temporary, expires_at, project_id}. Exit 3 when "
    .. "there are none.")}
end

function M.run(a, ui)
  local lo, lerr = options.login(a, ui)
  if not lo then return ui:usage("credentials: " .. lerr) end
  local cred, err = credentials.resolve {
    file = a.credentials_file, getenv = ui.getenv, insecure = lo.insecure,
    curl = proc.which("curl", ui.getenv("PATH")) or false, warn = function(msg) ui:warn(msg) end,
  }
  if not cred then
    if a.json then ui:json {ok = false, error = err, exit = ui.EXIT.credentials} end
    return ui:fail("credentials: " .. err, "credentials")
  end
  local null = json.null
  local doc = {source = cred.source, where = cred.where, ak = cred.ak or null,
               temporary = cred.temporary, expires_at = cred.expires_at or null,
               project_id = cred.project_id or null}
  if a.json then
    ui:json(doc)
    return ui.EXIT.ok
  end
  local function show(v) return v == null and "-" or tostring(v) end
  ui.out(("source      %s (%s)\nak          %s\ntemporary   %s\nexpires_at  %s\nproject_id  %s\n")
    :format(doc.source, doc.where, show(doc.ak), cred.temporary and "yes" or "no",
            show(doc.expires_at), show(doc.project_id)))
  return ui.EXIT.ok
end

return M

--- `swrauth parse image|login TEXT`: explains an image reference or a
-- pasted login command (the key redacted).
--
-- @module swrauth.cmd.parse
local M = {}

local swrauth = require "swrauth"
local text = require "swrauth.text"

function M.add_to_parser(parser)
  local c = parser:command("parse", "Explain an image reference or a pasted login command "
    .. "(the key redacted).")
  c:argument("kind", "What the text is."):choices {"image", "login"}
  c:argument("text", "The text, or - to read standard input.")
  return {c}
end

local FIELDS = {
  image = {"registry", "repository", "namespace", "name", "tag", "digest", "reference"},
  login = {"engine", "action", "user", "project", "ak", "key", "registry", "image",
           "password_stdin"},
}

function M.run(a, ui)
  local input = a.text
  if input == "-" then input = ui.stdin() end
  input = input:gsub("[\r\n]+$", "")
  local t, err = swrauth.parse(a.kind, input)
  if not t then return ui:fail("parse " .. a.kind .. ": " .. err, "usage") end
  if a.kind == "login" and t.key then
    local red = text.redactor {t.key}
    for k, v in pairs(t) do
      if type(v) == "string" then t[k] = red:redact(v) end
    end
    ui:warn("warning: this command carries the login key on its command line; give it on "
      .. "standard input (--password-stdin) instead")
  end
  if a.json then
    ui:json(t)
  else
    for _, k in ipairs(FIELDS[a.kind]) do
      if t[k] ~= nil then ui.out(k .. ": " .. text.one_line(tostring(t[k])) .. "\n") end
    end
  end
  return ui.EXIT.ok
end

return M

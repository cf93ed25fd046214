--- Text that leaves swrauth: secrets redacted, input quoted on one line,
-- argv shown as a shell line.
--
-- Every line swrauth prints or logs goes through a redactor; every piece
-- of user or registry input quoted in a message goes through `one_line`,
-- so that neither a secret nor a forged line (a newline or an escape
-- sequence in a repository, a tag or a registry's answer) reaches a
-- terminal or a log.
--
-- @module swrauth.text
local M = {}

local concat, sort = table.concat, table.sort
local type, ipairs, tostring, setmetatable = type, ipairs, tostring, setmetatable

--- What a secret is replaced with.
M.REDACTED = "<redacted>"

local R = {}
R.__index = R

--- Adds a secret; empty strings and non-strings are ignored.
-- @treturn table the redactor
function R:add(secret)
  if type(secret) == "string" and secret ~= "" and not self.set[secret] then
    self.set[secret] = true
    local list = self.list
    list[#list + 1] = secret
    -- Longest first, so a secret that contains another is replaced whole.
    sort(list, function(a, b) return #a > #b end)
  end
  return self
end

--- Replaces every occurrence of every secret with `<redacted>`.
-- @tparam string text
-- @treturn string
function R:redact(text)
  text = tostring(text)
  for _, s in ipairs(self.list) do
    local i, parts = 1, nil
    while true do
      local a, b = text:find(s, i, true)
      if not a then break end
      parts = parts or {}
      parts[#parts + 1] = text:sub(i, a - 1)
      parts[#parts + 1] = M.REDACTED
      i = b + 1
    end
    if parts then
      parts[#parts + 1] = text:sub(i)
      text = concat(parts)
    end
  end
  return text
end

R.__call = R.redact

--- A redactor: `:add(secret)`, `:redact(text)` (also callable as `r(text)`).
-- @tparam[opt] table secrets initial secrets
-- @treturn table
function M.redactor(secrets)
  local r = setmetatable({list = {}, set = {}}, R)
  for _, s in ipairs(secrets or {}) do r:add(s) end
  return r
end

--- `text` with each of `secrets` replaced by `<redacted>`.
function M.redact(text, secrets)
  return M.redactor(secrets):redact(text)
end

local ESCAPES = {["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

--- A text on one line: CR, LF, ESC and the other control characters shown
-- as `\n`, `\r`, `\t`, `\xNN`, so that input echoed in a message (a
-- repository, a tag, a registry's answer) can neither start a line of
-- its own nor drive the terminal.
-- @tparam string s
-- @tparam[opt] integer max cut to this many bytes (then "...")
-- @treturn string
function M.one_line(s, max)
  s = tostring(s)
  if max and #s > max then s = s:sub(1, max) .. "..." end
  return (s:gsub("[%c\127]", function(c)
    return ESCAPES[c] or ("\\x%02X"):format(c:byte())
  end))
end

--- `'VALUE'`, on one line (see `one_line`), for a message.
function M.quote(s, max)
  return "'" .. M.one_line(s, max or 200) .. "'"
end

-- Characters a POSIX shell takes literally in an unquoted word.
local SAFE = "^[%w@%%+=:,./_-]+$"

--- A word quoted for a POSIX shell (only when it needs it). A word of the
-- form `$NAME/...` is left for the shell to expand (dry runs show
-- temporary paths that way).
function M.shell_word(word)
  if word:find(SAFE) then return word end
  local var, rest = word:match("^%$(%u[%u%d_]*)(/[%w@%%+=:,./_-]*)$")
  if var then return "\"$" .. var .. "\"" .. rest end
  return "'" .. word:gsub("'", "'\\''") .. "'"
end

--- An argv table as one shell-quoted line, for display.
function M.command_line(argv)
  local words = {}
  for i, a in ipairs(argv) do words[i] = M.shell_word(a) end
  return concat(words, " ")
end

return M

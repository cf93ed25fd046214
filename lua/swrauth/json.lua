--- JSON for swrauth: one reader and one writer.
--
-- `parse` reads strictly (RFC 8259, as Go's `encoding/json` does) and
-- keeps what a round trip must not lose: arrays are marked (so an empty
-- array stays `[]`), and with `raw_numbers` each number keeps its text.
-- Its messages are Go's (`invalid character '}' looking for beginning of
-- object key string`), with the line and column returned beside them.
--
-- `encode` writes as Go's `encoding/json` does, byte for byte, for the
-- files docker, podman and kubectl write and the credential-helper
-- protocol: object keys sorted (or a given order first, as Go does for
-- struct fields), `json.MarshalIndent`'s layout with `indent`, and Go's
-- escapes (`\u003c`, `\u003e`, `\u0026` for `<`, `>`, `&` with
-- `escape_html`, the default; U+2028 and U+2029; invalid UTF-8 as `\ufffd`; control
-- characters as `\n`, `\t`, ... or `\u00XX`).
--
-- @module swrauth.json
local M = {}

local ARRAY = {}
local NUMBER = {}
local concat, sort, type, pairs, ipairs, tostring = table.concat, table.sort, type, pairs, ipairs, tostring
local byte, char, sub, find, format = string.byte, string.char, string.sub, string.find, string.format
local error, pcall, setmetatable, getmetatable, tonumber = error, pcall, setmetatable, getmetatable, tonumber
local math_type, huge = math.type, math.huge

--- Marks a table as a JSON array.
function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

--- Whether a table is marked as a JSON array.
function M.is_array(t)
  return getmetatable(t) == ARRAY
end

--- A number kept as its JSON text (what `parse` gives with `raw_numbers`).
-- @tparam string text the number as written
function M.number(text)
  return setmetatable({text}, NUMBER)
end

--- The JSON text of a number made by `number`, or nil for anything else.
function M.number_text(v)
  if type(v) == "table" and getmetatable(v) == NUMBER then return v[1] end
  return nil
end

------------------------------------------------------------------ parse

--- A value standing for JSON `null` where a table cannot hold `nil`.
M.null = setmetatable({}, {__name = "swrauth.json.null", __tostring = function() return "null" end})


-- Go's quoteChar: how its messages show the offending byte.
local function quote_char(c)
  if c == "'" then return [['\'']] end
  if c == '"' then return [['"']] end
  local b = byte(c)
  local named = {[7] = "\\a", [8] = "\\b", [9] = "\\t", [10] = "\\n", [11] = "\\v",
                 [12] = "\\f", [13] = "\\r", [92] = "\\\\"}
  if named[b] then return "'" .. named[b] .. "'" end
  if b < 0x20 or b == 0x7f then return format("'\\x%02x'", b) end
  if b < 0x7f then return "'" .. c .. "'" end
  -- Go turns the byte into the rune U+00XX before quoting it.
  if b < 0xA1 or b == 0xAD then return format("'\\u%04x'", b) end
  return "'" .. utf8.char(b) .. "'"
end

local function utf8_char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 | (cp >> 6), 0x80 | (cp & 0x3F)) end
  if cp < 0x10000 then
    return char(0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F))
  end
  return char(0xF0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3F), 0x80 | ((cp >> 6) & 0x3F),
              0x80 | (cp & 0x3F))
end

local ESCAPES = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n",
                 r = "\r", t = "\t"}
local MAX_DEPTH = 512

--- Parses JSON text strictly (RFC 8259, as Go's `encoding/json` reads it).
-- Objects are plain tables (a repeated key: the last wins), arrays are
-- marked with `array`, `null` is the `null` sentinel, strings are kept
-- byte for byte.
-- @tparam string text
-- @tparam[opt] table opts `raw_numbers` (keep numbers as `number` boxes),
--   `trailing` (allow text after the value, as Go's `json.Decoder` does)
-- @return the value
-- @treturn[2] nil on a syntax error
-- @treturn[2] string Go's message (`unexpected end of JSON input`,
--   `invalid character 'x' looking for beginning of value`, ...)
-- @treturn[2] integer the line (from 1)
-- @treturn[2] integer the column (from 1, in bytes)
function M.parse(text, opts)
  if type(text) ~= "string" then
    error("bad argument #1 to 'parse' (string expected, got " .. type(text) .. ")", 2)
  end
  local raw_numbers = opts and opts.raw_numbers
  local n = #text
  local pos = 1

  local function fail(msg, at)
    error({msg = msg, pos = at or pos}, 0)
  end
  local function bad(ctx, at)
    at = at or pos
    if at > n then fail("unexpected end of JSON input", at) end
    fail("invalid character " .. quote_char(sub(text, at, at)) .. " " .. ctx, at)
  end
  local function skip()
    pos = find(text, "[^ \t\n\r]", pos) or n + 1
  end

  local value

  local function parse_string()
    -- pos is at the opening quote
    local parts, i = {}, pos + 1
    while true do
      local j = find(text, '["\\\0-\31]', i)
      if not j then fail("unexpected end of JSON input", n + 1) end
      if j > i then parts[#parts + 1] = sub(text, i, j - 1) end
      local c = sub(text, j, j)
      if c == '"' then
        pos = j + 1
        return concat(parts)
      elseif c == "\\" then
        local e = sub(text, j + 1, j + 1)
        if e == "" then fail("unexpected end of JSON input", n + 1) end
        if ESCAPES[e] then
          parts[#parts + 1] = ESCAPES[e]
          i = j + 2
        elseif e == "u" then
          local function hex4(at)
            for k = at, at + 3 do
              local h = sub(text, k, k)
              if h == "" then fail("unexpected end of JSON input", n + 1) end
              if not find(h, "^%x$") then
                fail("invalid character " .. quote_char(h)
                     .. " in \\u hexadecimal character escape", k)
              end
            end
            return tonumber(sub(text, at, at + 3), 16)
          end
          local cp = hex4(j + 2)
          i = j + 6
          if cp >= 0xD800 and cp < 0xDC00 then
            -- A high surrogate takes the low one that follows, if any.
            if sub(text, i, i + 1) == "\\u" and find(sub(text, i + 2, i + 5), "^%x%x%x%x$") then
              local lo = tonumber(sub(text, i + 2, i + 5), 16)
              if lo >= 0xDC00 and lo < 0xE000 then
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                i = i + 6
              else
                cp = 0xFFFD
              end
            else
              cp = 0xFFFD
            end
          elseif cp >= 0xDC00 and cp < 0xE000 then
            cp = 0xFFFD
          end
          parts[#parts + 1] = utf8_char(cp)
        else
          fail("invalid character " .. quote_char(e) .. " in string escape code", j + 1)
        end
      else
        fail("invalid character " .. quote_char(c) .. " in string literal", j)
      end
    end
  end

  local function parse_number()
    local start = pos
    local i = pos
    if sub(text, i, i) == "-" then
      i = i + 1
      local c = sub(text, i, i)
      if c == "" then fail("unexpected end of JSON input", i) end
      if not find(c, "^%d$") then bad("in numeric literal", i) end
    end
    if sub(text, i, i) == "0" then
      i = i + 1
    else
      i = (find(text, "[^%d]", i) or n + 1)
    end
    if sub(text, i, i) == "." then
      i = i + 1
      local c = sub(text, i, i)
      if c == "" then fail("unexpected end of JSON input", i) end
      if not find(c, "^%d$") then bad("after decimal point in numeric literal", i) end
      i = (find(text, "[^%d]", i) or n + 1)
    end
    local e = sub(text, i, i)
    if e == "e" or e == "E" then
      i = i + 1
      local s = sub(text, i, i)
      if s == "+" or s == "-" then i = i + 1 end
      local c = sub(text, i, i)
      if c == "" then fail("unexpected end of JSON input", i) end
      if not find(c, "^%d$") then bad("in exponent of numeric literal", i) end
      i = (find(text, "[^%d]", i) or n + 1)
    end
    pos = i
    local s = sub(text, start, i - 1)
    if raw_numbers then return M.number(s) end
    return math.tointeger(tonumber(s)) or tonumber(s)
  end

  local LITERALS = {t = {"true", true}, f = {"false", false}, n = {"null", M.null}}

  local function parse_literal(c)
    local lit = LITERALS[c]
    local word = lit[1]
    for k = 2, #word do
      local got = sub(text, pos + k - 1, pos + k - 1)
      if got == "" then fail("unexpected end of JSON input", n + 1) end
      if got ~= sub(word, k, k) then
        bad("in literal " .. word .. " (expecting " .. quote_char(sub(word, k, k)) .. ")",
            pos + k - 1)
      end
    end
    pos = pos + #word
    return lit[2]
  end

  local function parse_object(depth)
    pos = pos + 1
    local obj = {}
    skip()
    if sub(text, pos, pos) == "}" then pos = pos + 1; return obj end
    while true do
      if sub(text, pos, pos) ~= '"' then bad("looking for beginning of object key string") end
      local k = parse_string()
      skip()
      if sub(text, pos, pos) ~= ":" then bad("after object key") end
      pos = pos + 1
      skip()
      obj[k] = value(depth)
      skip()
      local c = sub(text, pos, pos)
      if c == "," then
        pos = pos + 1
        skip()
      elseif c == "}" then
        pos = pos + 1
        return obj
      else
        bad("after object key:value pair")
      end
    end
  end

  local function parse_array(depth)
    pos = pos + 1
    local arr, len = M.array(), 0
    skip()
    if sub(text, pos, pos) == "]" then pos = pos + 1; return arr end
    while true do
      len = len + 1
      arr[len] = value(depth)
      skip()
      local c = sub(text, pos, pos)
      if c == "," then
        pos = pos + 1
        skip()
      elseif c == "]" then
        pos = pos + 1
        return arr
      else
        bad("after array element")
      end
    end
  end

  function value(depth)
    depth = depth + 1
    if depth > MAX_DEPTH then fail("exceeded max depth") end
    local c = sub(text, pos, pos)
    if c == "{" then return parse_object(depth)
    elseif c == "[" then return parse_array(depth)
    elseif c == '"' then return parse_string()
    elseif c == "-" or find(c, "^%d$") then return parse_number()
    elseif LITERALS[c] then return parse_literal(c)
    end
    bad("looking for beginning of value")
  end

  local ok, res = pcall(function()
    skip()
    local v = value(0)
    skip()
    if pos <= n and not (opts and opts.trailing) then bad("after top-level value") end
    return v
  end)
  if ok then return res end
  if type(res) ~= "table" then error(res, 0) end
  local at = res.pos
  local line, col = 1, at
  local from = 1
  while true do
    local nl = find(text, "\n", from, true)
    if not nl or nl >= at then break end
    line = line + 1
    col = at - nl
    from = nl + 1
  end
  return nil, res.msg, line, col
end

----------------------------------------------------------------- encode

-- Length of the valid UTF-8 sequence at i (Go's utf8.DecodeRune rules:
-- no overlong forms, no surrogates, nothing above U+10FFFF), or nil.
local function utf8_len(s, i)
  local b1, b2, b3, b4 = byte(s, i, i + 3)
  if not b2 then return nil end
  local function cont(b) return b and b >= 0x80 and b <= 0xBF end
  if b1 >= 0xC2 and b1 <= 0xDF then
    return cont(b2) and 2 or nil
  elseif b1 >= 0xE0 and b1 <= 0xEF then
    local lo, hi = 0x80, 0xBF
    if b1 == 0xE0 then lo = 0xA0 elseif b1 == 0xED then hi = 0x9F end
    return (b2 >= lo and b2 <= hi and cont(b3)) and 3 or nil
  elseif b1 >= 0xF0 and b1 <= 0xF4 then
    local lo, hi = 0x80, 0xBF
    if b1 == 0xF0 then lo = 0x90 elseif b1 == 0xF4 then hi = 0x8F end
    return (b2 >= lo and b2 <= hi and cont(b3) and cont(b4)) and 4 or nil
  end
  return nil
end

local SHORT = {[8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r",
               [34] = '\\"', [92] = "\\\\"}
local HTML = {[60] = "\\u003c", [62] = "\\u003e", [38] = "\\u0026"}

--- A string as Go's encoding/json writes it (quotes included).
-- @tparam string s
-- @tparam[opt=true] boolean escape_html escape `<`, `>` and `&`, as Go does by default
-- @treturn string
function M.quote(s, escape_html)
  if escape_html == nil then escape_html = true end
  local special = escape_html and '[\0-\31"\\<>&\128-\255]' or '[\0-\31"\\\128-\255]'
  if not find(s, special) then return '"' .. s .. '"' end
  local out, i, n = {'"'}, 1, #s
  while i <= n do
    local j = find(s, special, i)
    if not j then
      out[#out + 1] = sub(s, i)
      break
    end
    if j > i then out[#out + 1] = sub(s, i, j - 1) end
    local b = byte(s, j)
    if b < 0x80 then
      out[#out + 1] = SHORT[b] or HTML[b] or format("\\u%04x", b)
      i = j + 1
    else
      local len = utf8_len(s, j)
      if not len then
        out[#out + 1] = "\\ufffd"
        i = j + 1
      else
        local seq = sub(s, j, j + len - 1)
        if seq == "\226\128\168" then
          out[#out + 1] = "\\u2028"
        elseif seq == "\226\128\169" then
          out[#out + 1] = "\\u2029"
        else
          out[#out + 1] = seq
        end
        i = j + len
      end
    end
  end
  out[#out + 1] = '"'
  return concat(out)
end

-- A float as Go's encoding/json writes it: the shortest text that reads
-- back the same, in %e form below 1e-6 and from 1e21 on.
local function go_float(x)
  if x ~= x or x == huge or x == -huge then
    error("json: unsupported value: " .. tostring(x), 0)
  end
  if x == 0 then return (1 / x < 0) and "-0" or "0" end
  local ax = x < 0 and -x or x
  local fmt = (ax < 1e-6 or ax >= 1e21) and "e" or "f"
  local s
  for prec = 1, 17 do
    s = format("%." .. prec .. "g", x)
    if tonumber(s) == x then break end
  end
  local mant, exp = s:match("^(-?[%d.]+)e([-+]%d+)$")
  if fmt == "e" then
    if not mant then
      -- %g chose fixed notation; redo in exponent form with as many digits.
      local digits = s:gsub("^-", ""):gsub("%.", ""):gsub("^0+", "")
      local prec = math.max(#digits - 1, 0)
      s = format("%." .. prec .. "e", x)
      mant, exp = s:match("^(-?[%d.]+)e([-+]%d+)$")
    end
    local e = tonumber(exp)
    return mant .. "e" .. (e < 0 and "-" or "+") .. tostring(e < 0 and -e or e)
  end
  if mant then
    -- %g chose exponent form but Go writes fixed notation here.
    local digits = mant:gsub("^-", ""):gsub("%.", "")
    local e = tonumber(exp)
    local dec = math.max(#digits - 1 - e, 0)
    return format("%." .. dec .. "f", x)
  end
  return s
end

local function go_number(v)
  if math_type(v) == "integer" then return format("%d", v) end
  if v == math.floor(v) and v > -1e21 and v < 1e21 then
    return format("%.0f", v)
  end
  return go_float(v)
end

local function encode_go(v, opts, path, level)
  local t = type(v)
  if t == "string" then return M.quote(v, opts.escape_html) end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then return go_number(v) end
  if v == nil or v == M.null then return "null" end
  if t ~= "table" then error("json: unsupported type: " .. t, 0) end
  local mt = getmetatable(v)
  if mt == NUMBER then return v[1] end
  local indent = opts.indent
  local nl, sep, pad, inner = "", ":", "", ""
  if indent then
    nl = "\n"
    sep = ": "
    pad = opts.prefix .. indent:rep(level)
    inner = pad .. indent
  end
  if mt == ARRAY then
    if #v == 0 then return "[]" end
    local parts = {}
    for i = 1, #v do
      path[level + 1] = i
      parts[i] = inner .. encode_go(v[i], opts, path, level + 1)
      path[level + 1] = nil
    end
    return "[" .. nl .. concat(parts, "," .. nl) .. nl .. pad .. "]"
  end
  local keys, seen = {}, {}
  local first = opts.order and opts.order(path, level)
  if first then
    for _, k in ipairs(first) do
      if v[k] ~= nil then keys[#keys + 1] = k; seen[k] = true end
    end
  end
  local rest = {}
  for k in pairs(v) do
    if type(k) ~= "string" then error("json: object key is not a string: " .. tostring(k), 0) end
    if not seen[k] then rest[#rest + 1] = k end
  end
  sort(rest)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  if #keys == 0 then return "{}" end
  local parts = {}
  for i, k in ipairs(keys) do
    path[level + 1] = k
    parts[i] = inner .. M.quote(k, opts.escape_html) .. sep
      .. encode_go(v[k], opts, path, level + 1)
    path[level + 1] = nil
  end
  return "{" .. nl .. concat(parts, "," .. nl) .. nl .. pad .. "}"
end

--- Encodes a value as Go's `json.Marshal` (no `indent`) or
-- `json.MarshalIndent` would (with `escape_html` for Go's default).
-- @param v the value: tables marked with `array` are arrays, other tables
--   objects with string keys; `number` boxes are written as they are
-- @tparam[opt] table opts `indent` (string, e.g. `"\t"`), `prefix` (string),
--   `escape_html` (default true, as Go; false writes `<`, `>`, `&` as they
--   are), `order` (function(path, depth) returning a
--   list of keys to write first, in that order, for the object at `path`, a
--   list of the keys leading to it; the other keys follow, sorted)
-- @treturn string (no trailing newline; Go's `json.Encoder` adds one)
function M.encode(v, opts)
  opts = opts or {}
  local o = {
    indent = opts.indent, prefix = opts.prefix or "", order = opts.order,
    escape_html = opts.escape_html ~= false,
  }
  return encode_go(v, o, {}, 0)
end

return M

--- Checking a table of named fields against a schema: the one place that
-- says "unknown field" and "must be a T".
--
-- @module swrauth.fields
local M = {}

local type, pairs, tostring = type, pairs, tostring

--- Checks the fields of `t`.
-- @tparam table t
-- @tparam table schema field name -> type name ("string", "number",
--   "boolean", "table", "function"), or a list of type names any of which
--   is accepted
-- @tparam[opt] string noun what a field is called in messages (default
--   "field")
-- @treturn true|nil
-- @treturn[2] string "unknown field 'x'" or "field 'x' must be a string,
--   got number"
-- @treturn[2] string the name of the field at fault
function M.check(t, schema, noun)
  noun = noun or "field"
  for k, v in pairs(t) do
    local want = type(k) == "string" and schema[k] or nil
    if not want then
      return nil, "unknown " .. noun .. " '" .. tostring(k) .. "'", k
    end
    local ok = type(v) == want
    if type(want) == "table" then
      for _, w in pairs(want) do ok = ok or type(v) == w end
      want = want[1]
    end
    if not ok then
      return nil, noun .. " '" .. k .. "' must be a " .. want .. ", got " .. type(v), k
    end
  end
  return true
end

return M

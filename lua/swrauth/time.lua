--- Times as the cloud APIs write them: ISO-8601 UTC, `2026-12-04T21:00:00Z`
-- or with a fraction of any length (`...:00.123456Z`), to and from Unix
-- seconds.
--
-- @module swrauth.time
local M = {}

local tonumber, floor = tonumber, math.floor

-- Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
local function days(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Unix seconds of an ISO-8601 UTC time (`Z`, or `+00:00`), fraction
-- dropped; nil for anything else.
-- @tparam string s
-- @treturn integer|nil
function M.parse(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  if not (rest == "Z" or rest == "+00:00" or rest:find("^%.%d+Z$") or rest:find("^%.%d+%+00:00$")) then
    return nil
  end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  return days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
end

local MONTHS = {Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
                Oct = 10, Nov = 11, Dec = 12}

--- Unix seconds of an HTTP date (`Fri, 04 Dec 2026 21:00:00 GMT`); nil
-- for anything else.
function M.parse_http(s)
  if type(s) ~= "string" then return nil end
  local d, mon, y, h, mi, se = s:match("^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  local mo = MONTHS[mon]
  if not mo then return nil end
  return M.parse(("%s-%02d-%sT%s:%s:%sZ"):format(y, mo, d, h, mi, se))
end

--- An ISO-8601 UTC time, `YYYY-MM-DDTHH:MM:SSZ`.
function M.format(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

--- The current time in Unix seconds.
function M.now()
  return os.time()
end

return M

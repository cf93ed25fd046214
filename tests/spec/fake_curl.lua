--- A fake curl for the specs (required as "tests.spec.fake_curl"): a
-- runner in place of `proc.run_all` that reads the config swrauth.transport
-- writes on curl's standard input, hands each request to a handler, and
-- answers as curl would (bodies on stdout, the reports on stderr).
--
--     local fc = fake_curl.new(function(req) return {status = 200, body = "{}"} end)
--     ... {run = fc.run, curl = "/fake/curl"} ...
--     fc.requests[1].headers["x-sdk-date"]
--
-- A request is `{method=, url=, headers={lowercase name = value},
-- header_list={{name, value}}, body=}`; the handler returns `{status=,
-- body=, headers={lowercase name = value}, exit=}` (exit 7: no answer).
local M = {}

local function unquote(v)
  return (v:match('^"(.*)"$') or v):gsub("\\(.)", "%1")
end

--- The requests of a curl config.
function M.parse(config)
  local list = {}
  for group in (config .. "\nnext\n"):gmatch("(.-)\nnext\n") do
    local r = {method = "GET", headers = {}, header_list = {}, want = {}}
    for line in group:gmatch("[^\n]+") do
      local k, v = line:match("^([%w-]+) = (.*)$")
      if k == "url" then
        r.url = unquote(v)
      elseif k == "request" then
        r.method = unquote(v)
      elseif line == "head" then
        r.method = "HEAD"
      elseif k == "header" then
        local name, value = unquote(v):match("^([^:]+):%s*(.*)$")
        if name and value ~= "" then
          r.headers[name:lower()] = value
          r.header_list[#r.header_list + 1] = {name, value}
        end
      elseif k == "data-binary" then
        local f = io.open(unquote(v):sub(2), "rb")
        r.body = f and f:read("a")
        if f then f:close() end
        if r.method == "GET" then r.method = "POST" end
      elseif k == "write-out" then
        for name in v:gmatch("%%header{([^}]+)}") do r.want[#r.want + 1] = name end
      end
    end
    if r.url then list[#list + 1] = r end
  end
  return list
end

--- A fake curl answering with `handler(request)`.
function M.new(handler)
  local fc = {requests = {}, processes = 0}
  function fc.run(specs)
    local out = {}
    for i, spec in ipairs(specs) do
      fc.processes = fc.processes + 1
      fc.argv = spec.argv
      local stdout, stderr = {}, {}
      for _, r in ipairs(M.parse(spec.stdin or "")) do
        fc.requests[#fc.requests + 1] = r
        local a = handler(r) or {status = 404, body = ""}
        local body = a.body or ""
        local exit = a.exit or 0
        if exit ~= 0 then body = "" end
        stdout[#stdout + 1] = body
        local rep = {("\n@@swrauth@@ %d %d %d"):format(exit ~= 0 and 0 or a.status, exit, #body),
                     "e:" .. (exit ~= 0 and "Failed to connect" or ""), "c:" .. (a.content_type or "")}
        for _, name in ipairs(r.want) do
          rep[#rep + 1] = "h:" .. name .. ":" .. ((a.headers or {})[name] or "")
        end
        stderr[#stderr + 1] = table.concat(rep, "\n") .. "\n"
      end
      out[i] = {{status = 0, stdout = table.concat(stdout), stderr = table.concat(stderr),
                 seconds = 0.01}}
    end
    return out
  end
  return fc
end

return M

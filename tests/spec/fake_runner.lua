--- A fake runner for the pipeline and steps specs (required as
-- "tests.spec.fake_runner"): it takes the place of `proc.run_all`, records
-- each program's argv, stdin and environment overrides, and answers from
-- a plan. Engines' files are played too: a `--digestfile` gets DIGEST_A,
-- a `--hosts-dir` and a `--dest-authfile` are read (with their modes) at
-- the time of the call, a push prints a docker-style digest line
-- (DIGEST_B).
local M = {}

M.DIGEST_A = "sha256:" .. ("a"):rep(64)
M.DIGEST_B = "sha256:" .. ("b"):rep(64)

local fs = require "swrauth.fs"
local read = require("tests.spec.support").read

--- A new fake. `plan` is a list: entry N answers call N, as
-- `{status, stderr}` or "CODE|STDERR" or a function(call) returning
-- `{status=, stdout=, stderr=, timed_out=}`; calls beyond the plan exit 0.
function M.new(plan)
  local f = {calls = {}, plan = plan or {}, installed = {}}
  function f.run(specs)
    local out = {}
    for i, spec in ipairs(specs) do
      local call = {argv = spec.argv, stdin = spec.stdin or "", env = spec.env,
                    timeout = spec.timeout, max_output = spec.max_output}
      f.calls[#f.calls + 1] = call
      local prev
      for _, a in ipairs(spec.argv) do
        if prev == "--digestfile" then
          local h = io.open(a, "wb")
          if h then h:write(M.DIGEST_A .. "\n"); h:close() end
        elseif prev == "--hosts-dir" then
          call.hosts_dir = a
          local reg = spec.argv[#spec.argv]:match("^([^/]+)/")
          call.hosts_toml = reg and read(a .. "/" .. reg .. "/hosts.toml")
        elseif prev == "--dest-authfile" then
          call.authfile = read(a)
          call.authfile_mode = fs.mode(a)
          call.authdir_mode = fs.mode(fs.dirname(a))
        end
        prev = a
      end
      local p = f.plan[#f.calls]
      local res = {status = 0, stdout = "", stderr = "", seconds = 0.01, path = spec.argv[1]}
      if p == nil and spec.argv[1]:find("curl$") then
        -- curl as swrauth.transport runs it: each request of its config
        -- (on stdin) answered 200, with an empty body.
        local _, n = call.stdin:gsub("\nnext\n", "")
        res.stderr = ("\n@@swrauth@@ 200 0 0\ne:\nc:\n"):rep(n + 1)
      elseif type(p) == "function" then
        for k, v in pairs(p(call)) do res[k] = v end
      elseif type(p) == "string" then
        local code, msg = p:match("^(%d+)|(.*)$")
        res.status, res.stderr = tonumber(code), msg ~= "" and msg .. "\n" or ""
      elseif type(p) == "table" then
        res.status, res.stderr = p[1], p[2] or ""
      end
      if (" " .. table.concat(spec.argv, " ") .. " "):find(" push ") and res.status == 0 then
        res.stdout = "latest: digest: " .. M.DIGEST_B .. " size: 528\n"
      end
      out[i] = {res}
    end
    return out
  end
  --- Finds programs: every name but those in `f.missing`.
  f.missing = {}
  function f.which(name)
    if f.missing[name] then return nil end
    return "/fake/bin/" .. name
  end
  function f.count() return #f.calls end
  function f.argv(n) return f.calls[n].argv end
  function f.line(n) return table.concat(f.calls[n].argv, " ") end
  return f
end

return M

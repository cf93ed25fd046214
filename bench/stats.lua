--- stats.lua: a Markdown table from bench/pairtime's lines.
--
--   lua5.4 bench/stats.lua RAW [NAME=LABEL]... [A/B] [A/B<=TARGET]...
--
-- RAW holds "ROUND NAME WALL_NS MAXRSS_KB STATUS" lines. One row per
-- command (in the order first seen): runs, median, min–max (ms), median
-- ru_maxrss (MB) and the exit statuses seen. Then one row per ratio A/B:
-- the median, min and max over rounds of A's time divided by B's time in
-- the same round (paired), and, with a target, whether the median meets it.
local raw, labels, ratios = arg[1], {}, {}
for i = 2, #arg do
  local a = arg[i]
  local name, label = a:match("^([%w_.-]+)=(.+)$")
  if name then
    labels[name] = label
  else
    local x, y, op, target = a:match("^([%w_.-]+)/([%w_.-]+)([<>]=)([%d.]+)$")
    if not x then x, y = a:match("^([%w_.-]+)/([%w_.-]+)$") end
    if not x then error("stats.lua: bad argument '" .. a .. "'") end
    ratios[#ratios + 1] = {x, y, op, tonumber(target)}
  end
end

local order, runs, by_round = {}, {}, {}
for line in io.lines(raw) do
  local round, name, ns, rss, status = line:match("^(%d+) (%S+) (%d+) (%d+) (%d+)$")
  if round then
    if not runs[name] then
      runs[name] = {t = {}, rss = {}, status = {}}
      order[#order + 1] = name
    end
    local r = runs[name]
    r.t[#r.t + 1] = tonumber(ns) / 1e6
    r.rss[#r.rss + 1] = tonumber(rss) / 1024
    r.status[status] = true
    by_round[round] = by_round[round] or {}
    by_round[round][name] = tonumber(ns)
  end
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return 0 / 0, 0 / 0, 0 / 0 end
  local m = n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
  return m, s[1], s[n]
end

local function keys(set)
  local k = {}
  for v in pairs(set) do k[#k + 1] = v end
  table.sort(k)
  return table.concat(k, ",")
end

print("| command | runs | median | min–max | peak RSS (median) | exit |")
print("|---|--:|--:|--:|--:|--:|")
for _, name in ipairs(order) do
  local r = runs[name]
  local m, lo, hi = median(r.t)
  print(("| %s | %d | %.1f ms | %.1f–%.1f ms | %.1f MB | %s |"):format(
    labels[name] or name, #r.t, m, lo, hi, (median(r.rss)), keys(r.status)))
end

if #ratios > 0 then
  print("")
  print("| ratio (paired, per round) | median | min–max | target | met |")
  print("|---|--:|--:|--:|:-:|")
  for _, q in ipairs(ratios) do
    local x, y, op, target = q[1], q[2], q[3], q[4]
    local rs = {}
    for _, row in pairs(by_round) do
      if row[x] and row[y] then rs[#rs + 1] = row[x] / row[y] end
    end
    local m, lo, hi = median(rs)
    local met = "–"
    if target then
      local ok = (op == "<=" and m <= target) or (op == ">=" and m >= target)
      met = ok and "yes" or "**no**"
    end
    print(("| %s / %s | %.3f | %.2f–%.2f | %s | %s |"):format(
      labels[x] or x, labels[y] or y, m, lo, hi, target and (op .. " " .. target) or "–", met))
  end
end

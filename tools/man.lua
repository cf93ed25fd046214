#!/usr/bin/env lua5.4
--- tools/man.lua (`make man`): writes the man pages and the shell
-- completions, from the two sources that already say it all:
--
--   man/swrauth.1               the argparse parser (`swrauth.cli.parser()`:
--                               usage, global options, every command with its
--                               arguments and options, their help strings as
--                               the parser holds them) and sections of
--                               docs/CLI.md and docs/TEMPORARY-LOGINS.md
--   man/docker-credential-swr.1 sections of docs/CREDENTIAL-HELPER.md and the
--                               helper's usage (`swrauth.credhelper.USAGE`)
--   completion/swrauth.bash     argparse's get_bash_complete()
--   completion/_swrauth         argparse's get_zsh_complete()
--   completion/swrauth.fish     argparse's get_fish_complete()
--
-- The sections are taken from the Markdown by heading (the PAGES tables
-- below) and converted to man(7): paragraphs, lists, tables (as tagged
-- paragraphs), code blocks, inline code, emphasis, links. Nothing is typed
-- here: a sentence a page needs goes into the docs.
--
-- The date in .TH is the committer date of the commit that set the
-- current SWRAUTH_VERSION in include/swrauth.h (git), or SOURCE_DATE_EPOCH
-- when that is set (a build without the history). No clock: the same
-- sources give the same bytes, and tests/manpages.sh checks that the
-- committed files are what this writes.
--
-- Usage: lua5.4 tools/man.lua [OUTDIR]   (default: the checkout; writes
-- OUTDIR/man/ and OUTDIR/completion/). Needs swrauth.so built (make).
local ROOT = arg[0]:match("^(.*)/tools/[^/]+$") or "."
package.path = ROOT .. "/lua/?.lua;" .. package.path
package.cpath = ROOT .. "/?.so;" .. package.cpath

local concat, insert = table.concat, table.insert

local function die(msg)
  io.stderr:write("man.lua: ", msg, "\n")
  os.exit(1)
end

local function read(path)
  local f, err = io.open(ROOT .. "/" .. path, "rb")
  if not f then die(err) end
  local s = f:read("a")
  f:close()
  return s
end

local function shq(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

---------------------------------------------------------------- roff

-- Literal text as roff: backslashes, hyphens (every '-' is \-, so
-- options, names and commands copy as ASCII), quotes in code, non-ASCII.
local function roff_chars(s, code)
  s = s:gsub("\\", "\\e"):gsub("%-", "\\-")
  if code then s = s:gsub("'", "\\(aq"):gsub("`", "\\(ga") end
  return (s:gsub("[\xC2-\xF4][\x80-\xBF]+", function(ch)
    return ("\\[u%04X]"):format(utf8.codepoint(ch))
  end))
end

-- A paragraph's roff text as input lines of at most 78 characters, broken
-- at spaces; a line may not start with a control character.
local function fill(s)
  local out, line = {}, ""
  -- A space a code span starts or ends with stays inside its font change.
  s = s:gsub("%s+(\\f[RP])%f[%s\0]", "%1"):gsub("(\\f[BI])%s+", " %1")
  for word in s:gmatch("%S+") do
    if line ~= "" and #line + 1 + #word > 78 then
      out[#out + 1], line = line, word
    else
      line = line == "" and word or line .. " " .. word
    end
  end
  if line ~= "" then out[#out + 1] = line end
  for i, l in ipairs(out) do
    if l:find("^[.']") then l = "\\&" .. l end
    -- A line ending in '.', '?' or '!' ends a sentence for roff, which
    -- then puts two spaces after it: "e.g." and "...)" are not ends.
    if l:gsub("\\f[BIRP]", ""):find("[.?!][)\"'%]]*$") then l = l .. "\\&" end
    out[i] = l
  end
  return out
end

-- A macro argument in double quotes.
local function arg_quote(s)
  return '"' .. s:gsub('"', '\\(dq') .. '"'
end

---------------------------------------------------------------- Markdown

local DOCDIR

-- Inline Markdown (one paragraph, lines joined) as roff: `code` in bold,
-- **bold**, *italic*, [text](link), backslash escapes.
local function inline(s)
  local out, i = {}, 1
  local function prose(t)
    -- Backslash escapes become placeholders, so they neither emphasise
    -- nor are escaped twice.
    t = t:gsub("\\(%p)", function(c) return ("\1%03d\2"):format(c:byte()) end)
    t = t:gsub("%[([^%]]+)%]%(([^)%s]+)%)", function(text, url)
      -- A link to another doc reads as its path in the source.
      if text == url and url:find("^[%w._-]+%.md$") then return DOCDIR .. "/" .. url end
      return text
    end)
    t = roff_chars(t)
    t = t:gsub("%*%*(.-)%*%*", "\\fB%1\\fR")
    t = t:gsub("%*([^%s*][^*]-)%*", "\\fI%1\\fR")
    t = t:gsub("\1(%d%d%d)\2", function(n) return roff_chars(string.char(tonumber(n))) end)
    out[#out + 1] = t
  end
  while i <= #s do
    local a, b = s:find("`+", i)
    if not a then break end
    local ticks = s:sub(a, b)
    local c, d = s:find(ticks, b + 1, true)
    -- The closing run must be exactly as long.
    while c and s:sub(d + 1, d + 1) == "`" do
      local e = s:find("[^`]", d + 1) or #s + 1
      c, d = s:find(ticks, e, true)
    end
    if not c then break end
    prose(s:sub(i, a - 1))
    local code = s:sub(b + 1, c - 1)
    if code:find("^ .* $") then code = code:sub(2, -2) end
    out[#out + 1] = "\\fB" .. roff_chars(code, true) .. "\\fR"
    i = d + 1
  end
  prose(s:sub(i))
  return concat(out)
end

local function indent_of(line)
  return #line:match("^ *")
end

local function is_blank(line)
  return line:find("^%s*$") ~= nil
end

local function list_marker(line)
  local m, rest = line:match("^([-*]) (.*)$")
  if m then return "bullet", 2, rest end
  m, rest = line:match("^(%d+)%. (.*)$")
  if m then return "ordered", #m + 2, rest, tonumber(m) end
end

local function starts_block(line)
  return line:find("^```") or line:find("^#+ ") or line:find("^|") or list_marker(line)
end

-- Lines (dedented to the container) to blocks: para, code, heading, list,
-- table.
local function blocks(lines)
  local out, i, n = {}, 1, #lines
  while i <= n do
    local line = lines[i]
    if is_blank(line) then
      i = i + 1
    elseif line:find("^```") then
      local code = {}
      i = i + 1
      while i <= n and not lines[i]:find("^```") do
        code[#code + 1] = lines[i]
        i = i + 1
      end
      if i > n then die("unclosed code fence") end
      out[#out + 1] = {kind = "code", lines = code}
      i = i + 1
    elseif line:find("^#+ ") then
      local hashes, text = line:match("^(#+) (.*)$")
      out[#out + 1] = {kind = "heading", level = #hashes, text = text}
      i = i + 1
    elseif line:find("^    ") then
      local code = {}
      while i <= n and (lines[i]:find("^    ") or is_blank(lines[i])) do
        code[#code + 1] = lines[i]:sub(5)
        i = i + 1
      end
      while #code > 0 and is_blank(code[#code]) do code[#code] = nil end
      out[#out + 1] = {kind = "code", lines = code}
    elseif line:find("^|") then
      local rows = {}
      while i <= n and lines[i]:find("^|") do
        local cells, row = {}, lines[i]:gsub("^|", ""):gsub("|%s*$", "")
        -- Cells split at unescaped pipes; "\|" is a pipe in a cell (GFM).
        row = row:gsub("\\|", "\1")
        for cell in (row .. "|"):gmatch("(.-)|") do
          cells[#cells + 1] = cell:gsub("\1", "|"):match("^%s*(.-)%s*$")
        end
        rows[#rows + 1] = cells
        i = i + 1
      end
      if not (rows[2] and rows[2][1]:find("^:?%-+:?$")) then die("a table without a header row") end
      table.remove(rows, 2)
      out[#out + 1] = {kind = "table", header = table.remove(rows, 1), rows = rows}
    elseif list_marker(line) then
      local kind = list_marker(line)
      local list = {kind = "list", ordered = kind == "ordered", items = {}}
      while i <= n do
        local k, width, rest, number = list_marker(lines[i])
        if k ~= kind then break end
        local item, lazy = {rest}, true
        i = i + 1
        while i <= n do
          local l = lines[i]
          if is_blank(l) then
            -- Blank lines stay in the item when indented lines follow.
            local j = i
            while j <= n and is_blank(lines[j]) do j = j + 1 end
            if j > n or indent_of(lines[j]) < width then break end
            for _ = i, j - 1 do item[#item + 1] = "" end
            i, lazy = j, false
          elseif indent_of(l) >= width then
            item[#item + 1], lazy = l:sub(width + 1), true
            i = i + 1
          elseif lazy and not starts_block(l) then
            item[#item + 1] = l  -- a paragraph's lazy continuation
            i = i + 1
          else
            break
          end
        end
        list.items[#list.items + 1] = {number = number, blocks = blocks(item)}
        -- Blank lines between items.
        local j = i
        while j <= n and is_blank(lines[j]) do j = j + 1 end
        if j <= n and list_marker(lines[j]) == kind then i = j end
      end
      out[#out + 1] = list
    else
      local para = {}
      while i <= n and not is_blank(lines[i]) and not (#para > 0 and starts_block(lines[i]))
          and not lines[i]:find("^    ") do
        para[#para + 1] = lines[i]:match("^%s*(.-)%s*$")
        i = i + 1
      end
      out[#out + 1] = {kind = "para", text = concat(para, " ")}
    end
  end
  return out
end

-- A document: its lines, with the headings outside code fences indexed.
local function document(path)
  local doc = {path = path, lines = {}, headings = {}}
  local fenced = false
  for line in (read(path):gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do
    doc.lines[#doc.lines + 1] = line
    if line:find("^```") then fenced = not fenced end
    local hashes, text = line:match("^(#+) (.*)$")
    if hashes and not fenced then
      doc.headings[#doc.headings + 1] = {at = #doc.lines, level = #hashes, text = text}
    end
  end
  return doc
end

-- The blocks of the section headed `heading` (subsections included, or not
-- with `own`), or of the text between the title and the first section.
local function section(doc, heading, own)
  local from, to = nil, #doc.lines
  for k, h in ipairs(doc.headings) do
    if heading == nil and h.level == 1 then
      from = h.at + 1
      to = doc.headings[k + 1] and doc.headings[k + 1].at - 1 or #doc.lines
      break
    elseif h.text == heading then
      from = h.at + 1
      for m = k + 1, #doc.headings do
        if doc.headings[m].level <= h.level or own then
          to = doc.headings[m].at - 1
          break
        end
      end
      break
    end
  end
  if not from then die(doc.path .. ": no section '" .. tostring(heading) .. "'") end
  local lines = {}
  for k = from, to do lines[#lines + 1] = doc.lines[k] end
  return blocks(lines), doc.path
end

---------------------------------------------------------------- page

local Page = {}
Page.__index = Page

local function page()
  return setmetatable({lines = {}, fresh = true}, Page)
end

function Page:line(l)
  self.lines[#self.lines + 1] = l
end

function Page:text(roff)
  for _, l in ipairs(fill(roff)) do self:line(l) end
  self.fresh = false
end

function Page:sh(name)
  self:line(".SH " .. arg_quote(name))
  self.fresh = true
end

function Page:ss(roff)
  self:line(".SS " .. arg_quote(roff))
  self.fresh = true
end

function Page:pp()
  if not self.fresh then self:line(".PP") end
  self.fresh = true
end

-- A tagged paragraph; the tag is one input line, whatever its length.
function Page:tp(tag)
  self:line(".TP")
  self:line((tag:find("^[.']") and "\\&" or "") .. tag)
  self.fresh = false
end

function Page:code(lines)
  self:pp()
  self:line(".RS 4")
  self:line(".nf")
  for _, l in ipairs(lines) do
    l = roff_chars(l, true)
    if l == "" or l:find("^[.']") then l = "\\&" .. l end
    self:line(l)
  end
  self:line(".fi")
  self:line(".RE")
  self.fresh = false
end

-- Markdown blocks of `path` (links resolve next to it).
function Page:markdown(list, path)
  DOCDIR = path:match("^(.*)/[^/]+$") or "."
  for _, b in ipairs(list) do
    if b.kind == "para" then
      self:pp()
      self:text(inline(b.text))
    elseif b.kind == "code" then
      self:code(b.lines)
    elseif b.kind == "heading" then
      self:ss(inline(b.text:gsub("`", "")))
    elseif b.kind == "table" then
      -- A tagged paragraph a row: the first cell the tag; the others the
      -- body, each after its column's name when there are more than one.
      for _, row in ipairs(b.rows) do
        self:tp(inline(row[1]))
        for j = 2, #b.header do
          local cell = row[j] or ""
          if cell ~= "" then
            if #b.header > 2 then self:line(".br") end
            if #b.header > 2 then
              self:text("\\fI" .. inline(b.header[j]) .. "\\fR: " .. inline(cell))
            else
              self:text(inline(cell))
            end
          end
        end
      end
      self.fresh = false
    elseif b.kind == "list" then
      for k, item in ipairs(b.items) do
        local width = b.ordered and 4 or 2
        self:line(".IP " .. (b.ordered and (item.number or k) .. "." or "\\(bu") .. " " .. width)
        local first, rest = item.blocks[1], {table.unpack(item.blocks, 2)}
        if not first or first.kind ~= "para" then die(path .. ": a list item that does not start with text") end
        self:text(inline(first.text))
        if #rest > 0 then
          self:line(".RS " .. width)
          self.fresh = true
          self:markdown(rest, path)
          self:line(".RE")
        end
      end
      self.fresh = false
    end
  end
end

function Page:render()
  return concat(self.lines, "\n") .. "\n"
end

---------------------------------------------------------------- argparse

-- The parser's plain text (help strings are not Markdown) as roff.
local function plain(s)
  return roff_chars(s)
end

-- A usage line: names and options in bold, <placeholders> and {choices}
-- in italic.
local function usage(text, names)
  text = text:gsub("^Usage: ", ""):gsub("%s+", " ")
  local words = {}
  for w in text:gmatch("%S+") do
    local out, i = {}, 1
    if #words < names then
      out[1] = "\\fB" .. plain(w) .. "\\fR"
      i = #w + 1
    end
    while i <= #w do
      local a, b = w:find("^<[^>]+>", i)
      if not a then a, b = w:find("^{[^}]+}", i) end
      if a then
        out[#out + 1] = "\\fI" .. plain(w:sub(a, b)) .. "\\fR"
      else
        a, b = w:find("^%-%-?%w[%w_-]*", i)
        if a then
          out[#out + 1] = "\\fB" .. plain(w:sub(a, b)) .. "\\fR"
        else
          b = select(2, w:find("^[%w_.]+", i)) or i
          out[#out + 1] = plain(w:sub(i, b))
        end
      end
      i = b + 1
    end
    words[#words + 1] = concat(out)
  end
  return concat(words, " ")
end

local function public(element)
  return element._public_aliases or {element._name}
end

local function option_tag(o)
  local names = {}
  for _, a in ipairs(public(o)) do names[#names + 1] = "\\fB" .. plain(a) .. "\\fR" end
  local tag = concat(names, ", ")
  local argnames = o:_get_argument_list()
  if #argnames > 0 then
    for k, a in ipairs(argnames) do argnames[k] = "\\fI" .. plain(a) .. "\\fR" end
    tag = tag .. " " .. concat(argnames, " ")
  end
  return tag
end

local function is_help(o)
  return o._name == "-h"
end

-- Arguments and options of a command (not -h, in every usage line).
function Page:elements(p, with_help)
  for _, a in ipairs(p._arguments) do
    if not a._hidden then
      self:tp("\\fI" .. plain(a:_get_label_lines()[1]) .. "\\fR")
      self:text(plain(a:_get_description()))
    end
  end
  for _, o in ipairs(p._options) do
    if not o._hidden and (with_help or not is_help(o)) then
      self:tp(option_tag(o))
      self:text(plain(o:_get_description()))
    end
  end
end

function Page:commands(p)
  for _, c in ipairs(p._commands) do
    if not c._hidden then
      local name = c:_get_fullname(true)
      self:ss(plain(name))
      self:text(usage(c:get_usage(), select(2, name:gsub("%S+", "")) + 1))
      self:pp()
      self:text(plain(c._description or c._summary or ""))
      self:elements(c, false)
      self:commands(c)
    end
  end
end

---------------------------------------------------------------- the pages

local function version()
  local v = read("include/swrauth.h"):match('\n#define SWRAUTH_VERSION "([^"]+)"')
  return v or die("no SWRAUTH_VERSION in include/swrauth.h")
end

local function date(v)
  local sde = os.getenv("SOURCE_DATE_EPOCH")
  if sde and sde ~= "" then
    if not sde:find("^%d+$") then die("SOURCE_DATE_EPOCH is not a number of seconds") end
    return os.date("!%Y-%m-%d", tonumber(sde))
  end
  local git = io.popen(("git -C %s log -1 --format=%%cs -S%s -- include/swrauth.h 2>/dev/null"):format(
    shq(ROOT), shq('SWRAUTH_VERSION "' .. v .. '"')))
  local d = git:read("a"):match("^(%d%d%d%d%-%d%d%-%d%d)\n$")
  git:close()
  return d or die("the date of version " .. v .. ": no commit of include/swrauth.h sets it (commit the "
    .. "version first, or set SOURCE_DATE_EPOCH)")
end

local function header(p, title, v, d, sources)
  p:line(".\\\" Generated by tools/man.lua (make man) from " .. sources .. "; do not edit.")
  p:line(".TH " .. title .. " 1 " .. d .. " " .. arg_quote("swrauth " .. v) .. " " .. arg_quote("User Commands"))
  -- Names, paths and commands are not hyphenated nor stretched.
  p:line(".nh")
  p:line(".ad l")
end

local CLI, TMP, HELPER = "docs/CLI.md", "docs/TEMPORARY-LOGINS.md", "docs/CREDENTIAL-HELPER.md"

local function swrauth_page(parser, v, d)
  local cli = document(CLI)
  local tmp = document(TMP)
  local p = page()
  header(p, "SWRAUTH", v, d, "swrauth.cli's parser, " .. CLI .. " and " .. TMP)
  p:sh("NAME")
  local name = parser._description:match("^(.-)%.%s") or die("the parser's description has no first sentence")
  p:line("swrauth \\- " .. plain(name:sub(1, 1):lower() .. name:sub(2)))
  p:sh("SYNOPSIS")
  p:text(usage(parser:get_usage(), 1))
  p:sh("DESCRIPTION")
  p:markdown(section(cli, nil))

  p:sh("OPTIONS")
  p:elements(parser, true)
  -- The section's prose (its table is the parser's options, above).
  local global = section(cli, "Global options (every command)")
  local env_table
  for k = #global, 1, -1 do
    if global[k].kind == "table" then env_table = table.remove(global, k) end
  end
  p:pp()
  p:markdown(global, CLI)

  p:sh("COMMANDS")
  p:commands(parser)

  for _, s in ipairs {
    {"CREDENTIALS", "Credentials (first found wins)"}, {"EXIT STATUS", "Exit codes"},
    {"OUTPUT", "Output"}, {"ENGINES", "Engines"}, {"FAILURES", "Failures"},
  } do
    p:sh(s[1])
    p:markdown(section(cli, s[2]))
  end

  -- Each global option's variable, from the table's environment column.
  p:sh("ENVIRONMENT")
  if not (env_table and env_table.header[2] == "environment") then
    die(CLI .. ": Global options has no table with an 'environment' column")
  end
  for _, row in ipairs(env_table.rows) do
    if row[2] ~= "" then
      p:tp(inline(row[2]))
      p:text(inline(row[1]) .. ": " .. inline(row[3]))
    end
  end
  p.fresh = false
  p:markdown(section(cli, "Environment"))

  p:sh("FILES")
  p:markdown(section(cli, "Files"))
  p:sh("EXAMPLES")
  p:markdown(section(cli, "Examples"))
  p:markdown(section(tmp, "Examples"))
  p:sh("SEE ALSO")
  p:markdown(section(cli, "See also"))
  return p:render()
end

local function helper_page(credhelper, v, d)
  local doc = document(HELPER)
  local p = page()
  header(p, "DOCKER\\-CREDENTIAL\\-SWR", v, d, HELPER)
  p:sh("NAME")
  local intro = section(doc, nil)
  local what = intro[1] and intro[1].kind == "para"
    and intro[1].text:match("^`docker%-credential%-swr` is (.-):")
  if not what then die(HELPER .. ": the first sentence does not say what `docker-credential-swr` is") end
  p:line("docker\\-credential\\-swr \\- " .. inline(what))
  p:sh("SYNOPSIS")
  p:text(usage(credhelper.USAGE, 1))
  p:sh("DESCRIPTION")
  p:markdown(intro, HELPER)
  for _, s in ipairs {
    {"PROTOCOL", "`docker-credential-swr`", true}, {"SERVED REGISTRIES", "Which registries it serves"},
    {"CREDENTIALS", "Credentials (first found wins)"}, {"CONFIGURATION FILE", "The config file"},
    {"TEMPORARY LOGINS", "Temporary logins"}, {"LOG", "Log"}, {"EXAMPLES", "Quick start"},
    {"SEE ALSO", "See also"},
  } do
    p:sh(s[1])
    p:markdown(section(doc, s[2], s[3]))
  end
  return p:render()
end

---------------------------------------------------------------- completions

local GENERATED = "Generated by tools/man.lua (make man) from swrauth's argparse parser "
  .. "(swrauth.cli); do not edit."

local function replace_once(s, old, new)
  local a, b = s:find(old, 1, true)
  if not a or s:find(old, b + 1, true) then die("argparse's completion changed: no single '" .. old .. "'") end
  return s:sub(1, a - 1) .. new .. s:sub(b + 1)
end

local function completions(parser)
  if parser._name ~= "swrauth" then die("the parser's program name is not 'swrauth'") end
  local bash = parser:get_bash_complete()
  -- argparse looks for the command among all the words, the one being
  -- completed too: "swrauth login<TAB>" would take "login" as given and
  -- not offer login-command. Only the words before the cursor count.
  bash = replace_once(bash, 'args=("${COMP_WORDS[@]}")', 'args=("${COMP_WORDS[@]:0:COMP_CWORD}")')
  local zsh = parser:get_zsh_complete()
  zsh = replace_once(zsh, "#compdef swrauth\n", "#compdef swrauth\n# zsh completion for swrauth. "
    .. GENERATED .. "\n")
  return {
    ["completion/swrauth.bash"] = "# bash completion for swrauth. " .. GENERATED .. "\n" .. bash,
    ["completion/_swrauth"] = zsh,
    ["completion/swrauth.fish"] = "# fish completion for swrauth. " .. GENERATED .. "\n"
      .. parser:get_fish_complete(),
  }
end

---------------------------------------------------------------- main

local outdir = arg[1] or ROOT
local v = version()
local d = date(v)
local files = completions(require("swrauth.cli").parser())
files["man/swrauth.1"] = swrauth_page(require("swrauth.cli").parser(), v, d)
files["man/docker-credential-swr.1"] = helper_page(require("swrauth.credhelper"), v, d)

local names = {}
for name in pairs(files) do insert(names, name) end
table.sort(names)
for _, name in ipairs(names) do
  local dir = outdir .. "/" .. name:match("^(.*)/")
  if not os.execute("mkdir -p " .. shq(dir)) then die("cannot create " .. dir) end
  local path = outdir .. "/" .. name
  local f, err = io.open(path, "wb")
  if not f then die(err) end
  f:write(files[name])
  f:close()
  print(path)
end

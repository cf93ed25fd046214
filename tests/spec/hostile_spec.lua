-- Hostile input catalogue (issue 6). Several hundred inputs, data-driven,
-- through every parser and formatter of the C module, the Lua modules'
-- public functions, and the `swrauth` / `docker-credential-swr` command
-- lines run as processes. Each input gets either a specific error (a
-- message naming the field, line, word or byte, never quoting a secret) or
-- a specific correct result; nothing raises that is not documented to, no
-- process crashes, exit codes follow docs/CLI.md.
--
-- Classes: empty; NUL bytes; 1 MiB strings (argv: 100 KiB, the kernel's
-- per-argument limit is 128 KiB); invalid UTF-8 (overlong, lone
-- continuation, surrogates, truncated) and BOMs, zero-width characters;
-- shell metacharacters and `$(...)`, backticks, `;`, `|`, `&&`, `||`, `&`,
-- `>`, `${IFS}`, quotes, escapes; CR/LF injection into every format field
-- and command line; CSV formula injection; `../` and `..` in references;
-- uppercase repositories; tags over 128 and names over 255 characters;
-- digests of the wrong length, case or algorithm; ports out of range;
-- IPv6 hosts; option injection (a leading '-'); non-finite numbers.
--
-- Every shell payload would create the canary file if any shell ever ran
-- it; each group checks the canary does not exist, and so does the last
-- test. Formatted commands (and dry-run lines) are fed to a real `sh`,
-- with stub functions for the engines, and must give back exactly the
-- argv: pasting them can never run anything else.
--
-- Decisions recorded here:
--  * parse("credentials") reads CSV faithfully: a field starting with
--    '=', '+', '-' or '@' is data (swrauth never writes CSV, nor evaluates
--    or shell-interprets a field). An AK holding '@' or ':' is refused
--    where it is used (credentials.resolve, format), naming the line.
--  * parse("image") follows docker's grammar: ports are any digits, as
--    docker accepts them; an uppercase first component is a registry.
--    A registry *address* (format's `registry`, --registry, the auth-file
--    commands) must be one to connect to: port 1..65535.
--  * parse("login") keeps the registry word as docker would take it
--    (docker login takes any server address); it refuses all shell syntax.
local proc = require "swrauth.proc"
local fs = require "swrauth.fs"
local stext = require "swrauth.text"
local support = require "tests.spec.support"
local exports = require "swrauth.exports"
local semver = require "swrauth.semver"
local swrauth = require "swrauth"
local authfile = require "swrauth.authfile"
local credentials = require "swrauth.credentials"
local pipeline = require "swrauth.pipeline"
local engines = require "swrauth.engines"
local credhelper = require "swrauth.credhelper"
local cjson = require "cjson"

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)tests/spec/[^/]+$") or "./")
if ROOT == "" then ROOT = "./" end
local LUA = assert(proc.which("lua5.4"), "lua5.4 on PATH")
local SWRAUTH = fs.abspath(ROOT .. "bin/swrauth")
local HELPER = fs.abspath(ROOT .. "bin/docker-credential-swr")

local AK = "HOSTILEAK00000000000"
local SK = "SKhostileSKhostileSKhostileSKhostile0000"
local KEY = swrauth.derive(AK, SK)
local MIB = ("a"):rep(1024 * 1024)

local D = support.tempdir()
local CANARY = D .. "/CANARY"

-- Shell payloads: each creates CANARY if a shell ever interprets it.
local PAYLOADS = {}
for _, p in ipairs {
  "$(touch C)", "`touch C`", ";touch C", "|touch C", "&&touch C", "||touch C", "&touch C",
  "\ntouch C", "\rtouch C", "\r\ntouch C", "$(touch${IFS}C)", "x${IFS}&&${IFS}touch${IFS}C",
  ">C", "'$(touch C)'", "\"$(touch C)\"", "\\$(touch C)", "$((1))`touch C`",
} do
  PAYLOADS[#PAYLOADS + 1] = (p:gsub("C", CANARY))
end

local function no_canary()
  local f = io.open(CANARY, "rb")
  if f then f:close() end
  assert(f == nil, "a payload ran: " .. CANARY .. " exists")
end

-- A string as Go's encoding/json writes it: invalid UTF-8 becomes U+FFFD
-- (kubectl and docker do the same; the base64 auth value keeps the bytes).
local function go_utf8(s)
  local out, i = {}, 1
  while i <= #s do
    local n = utf8.len(s, i, i) and #utf8.char(utf8.codepoint(s, i)) or nil
    local ok = pcall(utf8.codepoint, s, i)
    if ok and n then
      out[#out + 1] = s:sub(i, i + n - 1)
      i = i + n
    else
      out[#out + 1] = "\239\191\189"
      i = i + 1
    end
  end
  return table.concat(out)
end

local function show(s)
  s = tostring(s)
  if #s > 80 then s = s:sub(1, 60) .. "...(" .. #s .. " bytes)" end
  return (("%q"):format(s):gsub("\\\n", "\\n"))
end

local write, read = support.write, support.read

-- Stubs for every program a formatted command may start with: they print
-- their arguments NUL-separated, then \1 ends the command.
local STUBS = "w() { for a in \"$@\"; do printf '%s\\0' \"$a\"; done; printf '\\1'; }\n"
for _, n in ipairs {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr", "helm"} do
  STUBS = STUBS .. n .. "() { printf '%s\\0' " .. n .. "; w \"$@\"; }\n"
end

-- Runs command lines in sh (with the stubs) and returns each one's words.
local function shell_words(lines)
  local r = assert(proc.run {argv = {"sh", "-c", STUBS .. table.concat(lines, "\n") .. "\n"},
                             cwd = D})
  assert(r.status == 0, "sh failed: " .. r.stderr)
  local out = {}
  for cmd in r.stdout:gmatch("([^\1]*)\1") do
    local words = {}
    for w in cmd:gmatch("([^%z]*)%z") do words[#words + 1] = w end
    out[#out + 1] = words
  end
  return out
end

-- A successful call's values, or nil and the raised message.
local function try(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then return nil, tostring(r[2]) end
  return table.unpack(r, 2, r.n)
end

local function has_fields(want, got, label)
  assert.is_table(got, label)
  for k, v in pairs(want) do
    assert.equal(v, got[k], label .. ": field " .. k)
  end
end

-- The shape every data-driven case takes: `ok` (a table of fields, or a
-- function checking the result) or `err` (a Lua pattern the message must
-- match).
local function expect_parse(kind, c)
  local label = kind .. " " .. show(c[1])
  local t, msg = swrauth.parse(kind, c[1])
  if c.err then
    assert(t == nil, label .. ": expected an error, got a result")
    assert.is_string(msg, label)
    assert(msg:find(c.err), label .. ": message " .. show(msg) .. " does not match " .. show(c.err))
    assert(not msg:find(SK, 1, true) and not msg:find(KEY, 1, true), label .. ": message quotes a secret")
  elseif type(c.ok) == "function" then
    assert(t ~= nil, label .. ": " .. tostring(msg))
    c.ok(t, label)
  else
    assert(t ~= nil, label .. ": " .. tostring(msg))
    has_fields(c.ok, t, label)
  end
end

local count = 0 -- inputs exercised, reported at the end
local function case(name, fn)
  it(name, function()
    fn()
    no_canary()
  end)
end

describe("hostile input", function()
  lazy_teardown(function() os.execute("rm -rf " .. stext.shell_word(D)) end)

  --------------------------------------------------------------- image
  describe("parse image", function()
    local H64 = ("a"):rep(64)
    local cases = {
      {"", err = "image reference is empty"},
      {"a\0b", err = "NUL byte at byte 2"},
      {MIB, err = "too long %(1048576 bytes"},
      {"\192\175x", err = "byte 0xc0 at byte 1"},            -- overlong '/'
      {"a\128", err = "byte 0x80 at byte 2"},                -- lone continuation
      {"a\237\160\128", err = "byte 0xed at byte 2"},        -- UTF-16 surrogate
      {"a\226\130", err = "byte 0xe2 at byte 2"},            -- truncated
      {"\239\187\191nginx", err = "byte 0xef at byte 1"},     -- BOM
      {"\226\128\139nginx", err = "byte 0xe2 at byte 1"},     -- zero-width space
      {"x\r\ny", err = "carriage return at byte 2"},
      {"x\ny", err = "newline at byte 2"},
      {"x\ty", err = "tab at byte 2"},
      {"x y", err = "space at byte 2"},
      {"../x", err = 'invalid domain "%.%.": empty label at byte 1'},
      {"..", err = "'%.' at byte 1"},
      {"./x", err = "byte 1"},
      {"a/../b", err = "'%.' at byte 3"},
      {"a/./b", err = "'%.' at byte 3"},
      {"team/app/../../etc/passwd", err = "'%.' at byte 10"},
      {"..:1", err = "'%.' at byte 1"},
      {"%2e%2e/x", err = "'%%' at byte 1"},
      {"/etc/passwd", err = "empty path component at byte 1"},
      {"x/", err = "ends with '/' at byte 2"},
      {"x//y", err = "'//'%) at byte 2"},
      {"team/App", err = "must be lowercase %('A' at byte 6%)"},
      {"Team", err = "must be lowercase %('T' at byte 1%)"},
      {"UPPER/x", ok = {registry = "UPPER", repository = "x", tag = "latest"}},
      {"R.EXAMPLE/team/app", ok = {registry = "R.EXAMPLE", repository = "team/app"}},
      {"-x", err = "'%-' at byte 1"},
      {"a-", err = "ends with '%-' at byte 2"},
      {"a___b", err = "'_' at byte 4"},
      {"x:" .. ("t"):rep(128), ok = {tag = ("t"):rep(128)}},
      {"x:" .. ("t"):rep(129), err = "tag is longer than 128 characters %(got 129%)"},
      {"x:" .. ("t"):rep(100000), err = "image reference is too long %(100002 bytes, at most 1024%)"},
      {"x:-a", err = "'%-' cannot start a tag"},
      {"x:.a", err = "'%.' cannot start a tag"},
      {"x:_a", ok = {tag = "_a"}},
      {"x::a", err = "':' cannot start a tag"},
      {"x:a b", err = "a space is not allowed"},
      {"x:", err = "empty tag after ':' at byte 2"},
      {"x@", err = "empty digest after '@' at byte 2"},
      {("a"):rep(247), ok = {repository = "library/" .. ("a"):rep(247)}},
      {("a"):rep(248), err = "not be more than 255 characters %(got 256"},
      {"r.example/" .. ("a"):rep(255), ok = {registry = "r.example"}},
      {"r.example/" .. ("a"):rep(256), err = "not be more than 255 characters %(got 256%)"},
      {("a/"):rep(128) .. "a", err = "not be more than 255"},
      {H64, err = "cannot specify 64%-byte hexadecimal strings"},
      {"x@sha256:" .. H64, ok = {digest = "sha256:" .. H64, tag = nil}},
      {"x:1@sha256:" .. H64, ok = {tag = "1", digest = "sha256:" .. H64}},
      {"x@sha256:" .. ("a"):rep(63), err = "sha256 needs 64 hex digits, got 63"},
      {"x@sha256:" .. ("a"):rep(65), err = "sha256 needs 64 hex digits, got 65"},
      {"x@sha256:", err = "needs 64 hex digits, got 0"},
      {"x@sha256:" .. ("A"):rep(64), err = "must be lowercase %('A' at byte 10%)"},
      {"x@sha256:" .. ("z"):rep(64), err = "'z' at byte 10 is not a hex digit"},
      {"x@md5:" .. ("a"):rep(32), err = 'unsupported algorithm "md5"'},
      {"x@sha512:" .. ("a"):rep(128), ok = {digest = "sha512:" .. ("a"):rep(128)}},
      {"x@sha512:" .. H64, err = "sha512 needs 128 hex digits, got 64"},
      {"localhost:99999/x", ok = {registry = "localhost:99999"}},  -- docker's grammar
      {"localhost:0/x", ok = {registry = "localhost:0"}},
      {"h:abc/x", err = "'a' at byte 3 is not allowed in a port"},
      {"host:/x", err = "empty port after ':' at byte 5"},
      {"[::1]:5000/team/app:1", ok = {registry = "[::1]:5000", repository = "team/app", tag = "1"}},
      {"[::1]/x", ok = {registry = "[::1]"}},
      {"[fe80::1%eth0]/x", err = "'%%' at byte 9 is not allowed in an IPv6 address"},
      {"[::1/x", err = "missing '%]' after the IPv6 address"},
      {"[]/x", err = "byte 1"},
      {"[::g]/x", err = "'g' at byte 4"},
      {"nginx", ok = {registry = "docker.io", repository = "library/nginx", tag = "latest",
                      reference = "docker.io/library/nginx:latest"}},
      {"index.docker.io/x", ok = {registry = "docker.io", repository = "library/x"}},
      {"swr.cn-north-4.myhuaweicloud.com/team/app:1.4.2",
       ok = {registry = "swr.cn-north-4.myhuaweicloud.com", namespace = "team", name = "app"}},
    }
    for _, p in ipairs(PAYLOADS) do cases[#cases + 1] = {p, err = "byte %d+"} end
    for _, p in ipairs(PAYLOADS) do cases[#cases + 1] = {"team/app:" .. p, err = "byte %d+"} end
    for _, c in ipairs(cases) do
      count = count + 1
      case(show(c[1]), function() expect_parse("image", c) end)
    end
  end)

  --------------------------------------------------------- credentials
  describe("parse credentials", function()
    local H = "User Name,Access Key Id,Secret Access Key\n"
    local function row(user, ak, sk) return H .. user .. "," .. ak .. "," .. sk .. "\n" end
    local cases = {
      {"", err = "empty input"},
      {H, err = "no credentials rows"},
      {H .. "\n\n", err = "no credentials rows"},
      {"x", err = "line 1: missing column 'Access Key Id'"},
      {"\0", err = "line 1"},
      {"User Name,Access Key Id\nu,AK\n", err = "line 1: missing column 'Secret Access Key'"},
      {"User Name,Access Key Id,Secret Access Key,Access Key Id\nu,A,S,B\n",
       err = "line 1: column 'Access Key Id' appears twice"},
      {H .. "u," .. AK .. "\n", err = "line 2: row has 2 fields, the header has 3"},
      {row("u", AK, SK .. ",x"), err = "line 2: row has 4 fields, the header has 3"},
      {H .. '"u,' .. AK .. "," .. SK .. "\n", err = "line 2: unterminated quoted field"},
      {H .. 'u,"' .. AK .. '"x,' .. SK .. "\n", err = "line 2: text after the closing quote"},
      {row("u", "A\0K", SK),
       err = "line 2: 'Access Key Id' has a NUL byte at byte 2 %(whitespace and control characters are not allowed%)"},
      {row("u", AK, SK .. "\0"),
       err = "line 2: 'Secret Access Key' has a NUL byte at byte 41"},
      {row("u", AK, MIB), err = "line 2: 'Secret Access Key' is too long"},
      {row("u", MIB, SK), err = "line 2: 'Access Key Id' is too long"},
      {row("u", AK, "S\192\175K"),
       err = "line 2: 'Secret Access Key' has byte 0xc0 at byte 2 %(only printable ASCII is allowed%)"},
      {row("u", AK, "S\128K"), err = "has byte 0x80 at byte 2"},
      {row("u", AK, "S\237\160\128K"), err = "has byte 0xed at byte 2"},
      {row("u", AK, "\239\187\191" .. SK), err = "has byte 0xef at byte 1"},
      {row("u", "A\226\128\139K", SK), err = "'Access Key Id' has byte 0xe2 at byte 2"},
      {row("u", AK, SK .. " "), err = "at byte 41 %(leading or trailing whitespace%?%)"},
      {row("u", AK, SK .. "\t"), err = "has a tab at byte 41 %(leading or trailing whitespace%?%)"},
      {row("u", AK, "=cmd|' /C calc'!A0"),
       err = "line 2: 'Secret Access Key' has a space at byte 7 %(whitespace and control characters are not allowed%)"},
      {row("u", AK, "$(touch " .. CANARY .. ")"), err = "has a space at byte 8"},
      -- Faithful: data, never evaluated.
      {row("u\192\175", AK, SK), ok = {user = "u\192\175", ak = AK, sk = SK}},
      {row("=1+1", AK, SK), ok = {user = "=1+1", ak = AK, sk = SK, line = 2}},
      {row("@SUM(A1)", AK, SK), ok = {user = "@SUM(A1)"}},
      {row('"=HYPERLINK(""http://e"")"', AK, SK), ok = {user = '=HYPERLINK("http://e")'}},
      {row('=HYPERLINK("http://e")', AK, SK), err = "line 2: a quote inside the unquoted field 'User Name'"},
      {row("u", "=1+1", SK), ok = {ak = "=1+1"}},
      {row("u", "+AK", SK), ok = {ak = "+AK"}},
      {row("u", "-AK", SK), ok = {ak = "-AK"}},
      {row("u", "@AK", SK), ok = {ak = "@AK"}},
      {row("u", AK, "=" .. SK), ok = {sk = "=" .. SK}},
      {row("u", "`id`", SK), ok = {ak = "`id`"}},
      {H .. '"u\nx",' .. AK .. "," .. SK .. "\n", ok = {user = "u\nx", line = 2}},
      {H .. '"u""x",' .. AK .. "," .. SK .. "\n", ok = {user = 'u"x'}},
      {"\239\187\191" .. H:gsub("\n", "\r\n") .. "u," .. AK .. "," .. SK .. "\r\n", ok = {ak = AK, sk = SK}},
      {"\239\187\191\239\187\191" .. H .. "u," .. AK .. "," .. SK .. "\n", ok = {ak = AK, user = nil}},
      {"User Name\rAccess Key Id\rSecret Access Key\ru,A,S\r", err = "line 1: missing column"},
      {H:gsub(",", ";") .. "u;A;S\n", err = "line 1: missing column 'Access Key Id'"},
      {"Access Key Id,Secret Access Key\n" .. AK .. "," .. SK .. "\n", ok = {ak = AK, sk = SK}},
      {H .. ("u," .. AK .. "," .. SK .. "\n"):rep(20000), ok = function(t, label)
        assert.equal(20000, #t, label)
        assert.equal(20001, t[20000].line, label)
      end},
    }
    for _, c in ipairs(cases) do
      count = count + 1
      case(show(c[1]), function()
        if c.ok and type(c.ok) == "table" then
          local ok = c.ok
          c = {c[1], ok = function(t, label) has_fields(ok, t[1], label) end}
        end
        expect_parse("credentials", c)
      end)
    end
    it("credentials.resolve takes formula-like AKs as data and refuses '@' naming the line", function()
      local function from_csv(ak)
        local path = D .. "/c.csv"
        write(path, row("u", ak, SK), "600")
        return credentials.resolve {file = path, getenv = function() return nil end}
      end
      local c = assert(from_csv("=1+1"))
      assert.equal(swrauth.derive("=1+1", SK), c.key)
      local r, msg = from_csv("@AK")
      assert.is_nil(r)
      assert.matches("line 2: the AK has '@' at byte 1", msg)
      r, msg = from_csv("A:K")
      assert.is_nil(r)
      assert.matches("line 2: .* at byte 2", msg)
      assert.falsy(msg:find(SK, 1, true))
      count = count + 3
    end)
  end)

  --------------------------------------------------------------- login
  describe("parse login", function()
    local V = "docker login -u cn-north-4@" .. AK .. " -p " .. KEY .. " r.example"
    local cases = {
      {"", err = "empty login command"},
      {MIB, err = "too long %(1048576 bytes, at most 8192%)"},
      {V .. "\0", err = "NUL byte at byte %d+"},
      {V:gsub("r%.example", "r.ex\0ample"), err = "NUL byte at byte %d+"},
      {V .. "; touch " .. CANARY, err = "';' at byte %d+: shell syntax"},
      {V .. " && touch " .. CANARY, err = "'&' at byte %d+"},
      {V .. " || touch " .. CANARY, err = "'|' at byte %d+"},
      {V .. " | tee " .. CANARY, err = "'|' at byte %d+"},
      {V .. " > " .. CANARY, err = "'>' at byte %d+"},
      {V .. " < " .. CANARY, err = "'<' at byte %d+"},
      {V .. " &", err = "'&' at byte %d+"},
      {"(" .. V .. ")", err = "'%(' at byte 1"},
      {V .. "\ntouch " .. CANARY, err = "more than one command: a line break at byte %d+"},
      {V .. "\rtouch " .. CANARY, err = "line break at byte %d+"},
      {V .. "\r\n", ok = {engine = "docker", key = KEY, registry = "r.example"}},
      {"\n# pasted\n" .. V .. "\n\n", ok = {key = KEY}},
      {V .. " #comment", ok = {registry = "r.example"}},
      {V:gsub("r%.example", "r.example\\\ntouch"), ok = {registry = "r.exampletouch"}}, -- sh's continuation
      {"docker login -u cn-north-4@AK -p $KEY r.example", err = "'%$' at byte 34: .*variables are not expanded"},
      {"docker login -u cn-north-4@AK -p ${KEY} r.example", err = "'%$' at byte 34"},
      {"docker${IFS}login -u a@b -p k r.example", err = "'%$' at byte 7"},
      {"docker login -u a@b -p $(cat /etc/passwd) r.example", err = "'%$%(' at byte 24: .*command substitution"},
      {"docker login -u a@b -p `id` r.example", err = "'`' at byte 24: .*command substitution"},
      {"docker login -u a@b -p '$(touch " .. CANARY .. ")' r.example",
       ok = {key = "$(touch " .. CANARY .. ")"}},       -- single-quoted: a literal
      {"docker login -u cn-north-4@AK -p 'unterminated r.example",
       err = "unterminated single quote starting at byte 34"},
      {'docker login -u "cn-north-4@AK -p k r.example', err = "unterminated double quote starting at byte 17"},
      {"docker login -u 'cn-north-4@AK' --password-stdin \"r.example\"",
       ok = {user = "cn-north-4@AK", password_stdin = true, key = nil}},
      {"docker login --username=cn-north-4@AK --password=" .. KEY .. " r.example", ok = {key = KEY}},
      {"docker login\t-u\tcn-north-4@AK\t-p\tk\tr.example", ok = {key = "k"}},
      {"sudo /usr/bin/docker login -u cn-north-4@AK -p k r.example", ok = {engine = "docker"}},
      {"$ docker login -u cn-north-4@AK -p k r.example", err = "not a login command: '%$'"},
      {"rm -rf / --no-preserve-root", err = "not a login command: 'rm'"},
      {"DOCKER_HOST=x docker login -u a@b -p k r.example", err = "not a login command"},
      {"docker logout r.example", err = "not a login command: 'docker logout'"},
      {"docker login -u cn-north-4@AK -p k", err = "missing registry"},
      {"docker login r.example", err = "missing user %(%-u%)"},
      {"docker login -u a@b -p k r.example extra", err = "unexpected argument at word 8"},
      {"docker login -u a@b -p k -p k2 r.example", err = "password is given twice %(again at word 7%)"},
      {"docker login -u a@b -p k --bogus r.example", err = "%-%-bogus"},
      {"docker login -u a@b -p k --password-stdin r.example", err = "both %-p and %-%-password%-stdin"},
      {"docker login -u a@b -p '' r.example", err = "empty password"},
      {"docker login -u cn-north-4@AK -p k ../../etc", ok = {registry = "../../etc"}},  -- as docker takes it
      {"docker login -u cn-north-4@AK -p k r.example:99999", ok = {registry = "r.example:99999"}},
      {"docker login -u cn-north-4@AK -p k '[::1]:5000'", ok = {registry = "[::1]:5000"}},
      {"\239\187\191docker login -u a@b -p k r.example", err = "not a login command"},
      {"docker login -u cn-north-4@A\192\175K -p k r.example",
       ok = {user = "cn-north-4@A\192\175K", ak = nil, project = nil}},
      {"docker login -u =cmd@AK -p k r.example", ok = {user = "=cmd@AK", project = nil}},
      {"ctr image pull --user cn-north-4@AK:" .. KEY .. " r.example/team/app:1",
       ok = {engine = "ctr", action = "pull", key = KEY, registry = "r.example", image = "r.example/team/app:1"}},
      {"ctr image push --user cn-north-4@AK:" .. KEY .. " ../x", err = 'image: invalid domain "%.%."'},
      {"ctr image push --user cn-north-4@AK:" .. KEY .. " r.example/Team/app", err = "image: .*lowercase"},
      {"ctr image pull --user cn-north-4@AK r.example/a/b", err = "missing password: %-%-user takes USER:KEY"},
      {"ctr image rm r.example/a/b", err = "not a login command"},
      {"helm registry login -u a@b --password-stdin r.example", ok = {engine = "helm", password_stdin = true}},
      {"podman login --tls-verify=false -u a@b -p k r.example", ok = {engine = "podman"}},
    }
    for _, p in ipairs(PAYLOADS) do
      cases[#cases + 1] = {V .. " " .. p, err = "byte %d+"}
      cases[#cases + 1] = {V .. p, err = "byte %d+"}
    end
    -- Two payloads are data once quoted; as an extra word they are refused.
    for _, c in ipairs(cases) do
      if c.err == "byte %d+" and (c[1]:find("'%$%(touch") ) then c.err = "word %d+" end
    end
    for _, c in ipairs(cases) do
      count = count + 1
      case(show(c[1]), function() expect_parse("login", c) end)
    end
  end)

  ---------------------------------------------------------- user, auth
  describe("parse user and auth", function()
    local users = {
      {"", err = "empty user"},
      {"@", err = "empty project before '@'"},
      {"cn-north-4@", err = "empty AK after '@'"},
      {"a@b@c", err = "second '@' at byte 4"},
      {"cn-north-4@AK:key", err = "':' at byte 14"},
      {"cn-north-4@A K", err = "space at byte 13"},
      {"cn-north-4@A\nK", err = "newline at byte 13"},
      {"cn-north-4@AK\r", err = "carriage return at byte 14"},
      {"cn-north-4@A\0K", err = "NUL byte at byte 13"},
      {"cn-north-4@\255", err = "0xff at byte 12"},
      {"cn-north-4@A\192\175", err = "0xc0 at byte 13"},
      {"CN-north-4@AK", err = "has 'C' at byte 1: a region is lowercase"},
      {"../x@AK", err = "must start with a region"},
      {"cn-north-4/../x@AK", err = "'/' at byte 11"},
      {MIB .. "@AK", err = "too long"},
      {"cn-north-4@" .. MIB, err = "too long"},
      {"cn-north-4@AK", ok = {project = "cn-north-4", region = "cn-north-4", ak = "AK"}},
      {"cn-north-4_team@AK", ok = {project = "cn-north-4_team", region = "cn-north-4"}},
      {"cn-north-4@../AK", ok = {ak = "../AK"}},
      {"cn-north-4@=cmd", ok = {ak = "=cmd"}},
    }
    for _, p in ipairs(PAYLOADS) do users[#users + 1] = {"cn-north-4@" .. p, err = "byte %d+"} end
    for _, c in ipairs(users) do
      count = count + 1
      case("user " .. show(c[1]), function()
        -- a payload without whitespace is a faithful AK (it is only data)
        if c.err == "byte %d+" and not c[1]:find("[%s%c@:]", 12) then
          c = {c[1], ok = {ak = c[1]:sub(12)}}
        end
        expect_parse("user", c)
      end)
    end
    local auths = {
      {"", err = "empty auth value"},
      {"!!!", err = "bad base64: '!' at byte 1"},
      {"YTpi\n", err = "newline at byte 5"},
      {" YTpi", err = "space at byte 1"},
      {"YTpi\0", err = "NUL byte at byte 5"},
      {"YTpi=", err = "wrong padding at byte 5"},
      {"YQ==YQ==", err = "'=' at byte 3 is not at the end"},
      {"-_-_", err = "'%-' at byte 1"},
      {"YQ==", err = "no ':' between user and password"},
      {("YWFh"):rep(300000), err = "too long"},
      {"YTpi", ok = {user = "a", password = "b"}},
      {"OmI=", ok = {user = "", password = "b"}},
      {"YTo=", ok = {user = "a", password = ""}},
      {"AGE6Yg==", ok = {user = "\0a", password = "b"}},      -- bytes, faithfully
      {"YTqA", ok = {user = "a", password = "\128"}},
      {swrauth.base64("cn-north-4@AK:" .. KEY), ok = {user = "cn-north-4@AK", password = KEY}},
      {swrauth.base64("u:p\nq\r\0"), ok = {user = "u", password = "p\nq\r\0"}},
    }
    for _, c in ipairs(auths) do
      count = count + 1
      case("auth " .. show(c[1]), function() expect_parse("auth", c) end)
    end
    it("refuses kinds with a NUL or a bad name (the length counts)", function()
      for _, k in ipairs {"image\0", "image\0x", "", "IMAGE", "image ", "credentials\0"} do
        local t, msg = try(swrauth.parse, k, "x")
        assert.is_nil(t, show(k))
        assert.matches("bad argument #1 to 'parse' %(invalid option '", msg)
        t, msg = try(swrauth.format, k, {})
        assert.is_nil(t)
        assert.matches("bad argument #1 to 'format' %(invalid option", msg)
        count = count + 2
      end
      assert.matches("invalid option 'image\\0x'", select(2, try(swrauth.parse, "image\0x", "x")), 1, true)
    end)
  end)

  -------------------------------------------------------------- format
  describe("format", function()
    local base = {project = "cn-north-4", ak = AK, key = KEY, registry = "r.example",
                  image = "r.example/team/app:1"}
    local KINDS = {
      docker = {"project", "ak", "key", "registry"},
      ["docker-stdin"] = {"project", "ak", "registry"},
      podman = {"project", "ak", "registry"}, buildah = {"project", "ak", "registry"},
      skopeo = {"project", "ak", "registry"}, nerdctl = {"project", "ak", "registry"},
      helm = {"project", "ak", "registry"},
      ["ctr-pull"] = {"project", "ak", "key", "image"},
      ["ctr-push"] = {"project", "ak", "key", "image"},
      user = {"project", "ak"}, auth = {"project", "ak", "key"}, registry = {"project"},
    }
    local VALUES = {"", "a\nb", "a\rb", "a\r\nb", "a\0b", "a b", "a\tb", "\192\175", "\237\160\128",
                    "\239\187\191x", ("a"):rep(100000), "'", "\\", "-x", "../x", "x:99999", "[::1]:5000"}
    for _, p in ipairs(PAYLOADS) do VALUES[#VALUES + 1] = p end
    local names = {}
    for k in pairs(KINDS) do names[#names + 1] = k end
    table.sort(names)
    for _, kind in ipairs(names) do
      for _, field in ipairs(KINDS[kind]) do
        case(kind .. " with a hostile '" .. field .. "' (" .. #VALUES .. " values)", function()
          local lines, wants = {}, {}
          for _, v in ipairs(VALUES) do
            count = count + 1
            local f = {}
            for k, x in pairs(base) do f[k] = x end
            f[field] = v
            local label = kind .. " " .. field .. "=" .. show(v)
            local ok, a, b = pcall(swrauth.format, kind, f)
            if not ok then
              -- A clear error naming the field; never the key.
              assert(a:find("^bad argument #2 to 'format' %(field '" .. field .. "'"),
                     label .. ": " .. show(a))
              assert(not a:find(KEY, 1, true), label .. ": message quotes the key")
              assert(not (v:find("%c") and a:find(v, 1, true)), label .. ": message echoes a control character")
            elseif b then
              -- A command: the argv holds the value verbatim; its text,
              -- pasted into sh, gives back exactly the argv.
              assert(not v:find("[%c%s]"), label .. ": accepted whitespace or a control character")
              lines[#lines + 1] = a
              wants[#wants + 1] = {b, label}
            elseif kind == "auth" then
              assert.equal(f.project .. "@" .. f.ak .. ":" .. f.key, swrauth.unbase64(a), label)
            elseif kind == "user" then
              assert.equal(f.project .. "@" .. f.ak, a, label)
            else
              assert.matches("^swr%.[a-z0-9-]+%.myhuaweicloud%.com$", a, label)
            end
          end
          if #lines > 0 then
            local got = shell_words(lines)
            assert.equal(#lines, #got)
            for i, w in ipairs(wants) do assert.same(w[1], got[i], w[2]) end
          end
        end)
      end
    end
    it("ignores a known field the kind does not use", function()
      local cmd = swrauth.format("docker-stdin", {project = "cn-north-4", ak = AK, registry = "r.example",
                                                  image = "a\nb", key = "$(x)"})
      assert.equal("docker login -u cn-north-4@" .. AK .. " --password-stdin r.example", cmd)
      count = count + 1
    end)
    it("raises on unknown and mistyped fields, naming them printably", function()
      for _, f in ipairs {{bogus = "x"}, {["project\0"] = "x"}, {[1] = "x"}, {project = 1},
                          {project = {}}, {["\n"] = "x"}} do
        local t, msg = try(swrauth.format, "user", f)
        assert.is_nil(t)
        assert.matches("^bad argument #2 to 'format' %(", msg)
        assert.falsy(msg:find("\n", 1, true))
        count = count + 1
      end
      assert.matches("unknown field 'project\\0'", select(2, try(swrauth.format, "user", {["project\0"] = "x"})),
                     1, true)
    end)
  end)

  ------------------------------------------------------ derive, verify
  describe("derive and verify", function()
    local bad = {
      {"", SK, 1, "AK is empty"}, {AK, "", 2, "SK is empty"},
      {("A"):rep(1025), SK, 1, "AK is too long %(1025 bytes, at most 1024%)"},
      {AK, MIB, 2, "SK is too long %(1048576 bytes"},
      {AK, SK .. "\n", 2, "SK has a newline at byte 41 %(a pasted newline%?%)"},
      {AK, SK .. "\r\n", 2, "SK has a carriage return at byte 41 %(a pasted newline%?%)"},
      {"A\0K", SK, 1, "AK has a NUL byte at byte 2"},
      {AK, "\239\187\191" .. SK, 2, "SK has byte 0xef at byte 1"},
      {AK, SK:sub(1, 10) .. "\194\160" .. SK:sub(11), 2, "SK has byte 0xc2 at byte 11 %(a non%-breaking space%?%)"},
      {AK, "\192\175", 2, "0xc0"}, {AK, "S\237\160\128", 2, "SK has byte 0xed at byte 2"},
      {" " .. AK, SK, 1, "AK has a space at byte 1 %(leading or trailing whitespace%?%)"},
    }
    for _, c in ipairs(bad) do
      count = count + 1
      case("derive(" .. show(c[1]) .. ", " .. show(c[2]) .. ")", function()
        local k, msg = try(swrauth.derive, c[1], c[2])
        assert.is_nil(k)
        assert.matches("^bad argument #" .. c[3] .. " to 'derive' %(", msg)
        assert.matches(c[4], msg)
        assert.falsy(msg:find(SK, 1, true))
        k, msg = try(swrauth.verify, c[1], c[2], KEY)
        assert.is_nil(k)
        assert.matches("bad argument #" .. c[3] .. " to 'verify'", msg)
      end)
    end
    it("derives from payload-looking but valid AK/SK, and verify refuses wrong keys", function()
      for _, p in ipairs(PAYLOADS) do
        if not p:find("[%s%c]") then
          assert.equal(64, #swrauth.derive(p, p))
          count = count + 1
        end
      end
      assert.is_true(swrauth.verify(AK, SK, KEY))
      for _, k in ipairs {"", KEY:upper(), KEY:sub(1, 63), KEY .. "0", KEY .. "\0", MIB, KEY:sub(1, 63) .. "\0"} do
        assert.is_false(swrauth.verify(AK, SK, k), show(k))
        count = count + 1
      end
    end)
  end)

  ----------------------------------------------------------- pipeline
  describe("swrauth.pipeline", function()
    local function new(o)
      o.project = o.project or "cn-north-4"
      return pipeline.new(o)
    end
    it("pipeline.new raises naming the option for hostile values", function()
      local bad = {
        {{registry = "r.example:99999"}, "option 'registry' has a port out of range"},
        {{registry = "r.example:0"}, "port out of range"},
        {{registry = "[::1]:65536"}, "port out of range"},
        {{registry = ""}, "option 'registry' is empty"},
        {{registry = ("r"):rep(300) .. ".com"}, "too long"},
        {{project = ""}, "option 'project'"},
        {{project = "cn-north-4\n"}, "option 'project' has a newline at byte 11"},
        {{project = MIB}, "too long"},
        {{project = "cn-"}, "option 'project'"},
        {{project = "cn-north-4_t\195\169am"}, "0xc3 at byte 13"},
        {{region = "cn-north-1", project = "cn-north-4"}, "does not match"},
        {{engine = "docker;touch " .. CANARY}, "option 'engine' must be one of"},
        {{engine = ""}, "option 'engine' must be one of"},
        {{retries = 0}, "option 'retries' must be an integer >= 1"},
        {{retries = 1.5}, "option 'retries'"},
        {{retries = -1}, "option 'retries'"},
        {{retries = 0 / 0}, "option 'retries'"},
        {{retries = math.huge}, "option 'retries'"},
        {{retries = 2 ^ 64}, "option 'retries'"},
        {{timeout = -1}, "option 'timeout' must be a number of seconds > 0"},
        {{timeout = 0 / 0}, "option 'timeout'"},
        {{timeout = math.huge}, "option 'timeout' must be a number of seconds > 0"},
        {{backoff = 0 / 0}, "option 'backoff'"},
        {{backoff_max = -0.5}, "option 'backoff_max'"},
        {{retries = "3"}, "option 'retries' must be a number, got string"},
        {{env = {PATH = 1}}, "option 'env' must map names to strings"},
        {{env = {[1] = "x"}}, "option 'env' must map names to strings"},
        {{credentials = {ak = AK, sk = SK, key = KEY}}, "exactly one of"},
        {{credentials = {ak = AK, secret = SK}}, "unknown field 'secret'"},
        {{["unknown\0"] = true}, "unknown option 'unknown"},
      }
      for _, p in ipairs(PAYLOADS) do
        bad[#bad + 1] = {{registry = p}, "option 'registry' "}
        bad[#bad + 1] = {{project = p}, "option 'project'"}
      end
      for _, c in ipairs(bad) do
        count = count + 1
        local ok, msg = pcall(new, c[1])
        assert.is_false(ok, show(c[2]))
        assert(tostring(msg):find(c[2], 1, true) or tostring(msg):find(c[2]),
               show(msg) .. " does not have " .. show(c[2]))
        assert.falsy(tostring(msg):find(SK, 1, true))
      end
    end)
    it("a hostile AK in explicit credentials is a credentials failure, not a raise", function()
      for _, ak in ipairs {"A K", "A\nK", "A@K", "A:K", "", "\255"} do
        local p = new {credentials = {ak = ak, sk = SK}, dry_run = true, engine = "docker"}
        local ok, msg, kind = p:login()
        assert.is_nil(ok, show(ak))
        assert.equal("credentials", kind)
        assert.matches("^login: credentials table: ", msg)
        count = count + 1
      end
    end)
    it("release refuses hostile repositories and tags before running anything", function()
      local cases = {
        {"../etc", "1", "give NS/NAME without the registry"},
        {"team/../app", "1", "'%.' at byte 6"},
        {"team/./app", "1", "'%.' at byte 6"},
        {"Team/App", "1", "a repository is lowercase"},
        {"team/app\n", "1", "newline"},
        {"r.example/team/app", "1", "without the registry"},
        {"localhost/app", "1", "without the registry"},
        {"team//app", "1", "empty path component at byte 6"},
        {"team/app", ("t"):rep(129), "at most 128"},
        {"team/app", "-t", "a tag starts with a letter, a digit or '_'"},
        {"team/app", ".t", "^release: tag '%.t' "},
        {"team/app", "a\0b", "^release: tag 'a\\x00b' has a NUL byte"},
        {"team/app", "1\n2", "^release: tag '1\\n2' has a newline"},
        {"team/app", "", "^release: tag '' is empty"},
        {("a"):rep(300), "1", "is too long %(300 bytes, at most 255%)"},
      }
      for _, p in ipairs(PAYLOADS) do
        cases[#cases + 1] = {"team/app", p, "^release: tag '"}
        cases[#cases + 1] = {p, "1", "^release: repository '"}
      end
      local ran = 0
      for _, c in ipairs(cases) do
        count = count + 1
        local p = new {credentials = {ak = AK, key = KEY}, engine = "docker", dry_run = true,
                       runner = function() ran = ran + 1 end}
        local ok, msg, kind = p:release {source = "app:build", repository = c[1], tags = {c[2]}}
        ran = ran + #p:report().commands
        assert.is_nil(ok, show(c[1]) .. " " .. show(c[2]))
        assert.equal("usage", kind)
        assert.matches("^release: ", msg)
        assert(msg:find(c[3]), show(msg) .. " does not match " .. show(c[3]))
      end
      assert.equal(0, ran)
    end)
    it("tag, push and release take image names literally, never as options or extra lines", function()
      local lines, wants = {}, {}
      local names = {"x;y", "app:1", "$(touch " .. CANARY .. ")", "`touch " .. CANARY .. "`", "a|b",
                     "a&&b", "'q'", '"q"', "x${IFS}y", "oci:/tmp/dir with space:1", "\255"}
      for _, p in ipairs(PAYLOADS) do names[#names + 1] = p end
      local REG = "swr.cn-north-4.myhuaweicloud.com"
      for _, name in ipairs(names) do
        count = count + 1
        local p = new {credentials = {ak = AK, key = KEY}, engine = "docker", dry_run = true}
        local bad = name:find("%c") or name:sub(1, 1) == "-"
        local ok, msg, kind = p:push(name)
        local img = swrauth.parse("image", name)
        if bad then
          assert.is_nil(ok, show(name))
          assert.equal("usage", kind)
          assert.matches("^push: image name has a control character at byte %d+", msg)
        elseif not img or img.registry_given then
          -- Not a reference, or one of another registry: refused, never run.
          assert.is_nil(ok, show(name))
          assert.equal("usage", kind)
          assert.matches("^push: image '", msg)
          assert.equal(0, #p:report().commands)
        else
          assert.truthy(ok, show(name) .. ": " .. tostring(msg))
          wants[#wants + 1] = {"docker", "push", REG .. "/" .. name}
        end
        if not bad then
          -- A local image's name goes to the engine as it is.
          ok = p:tag(name, "team/app:1")
          assert.truthy(ok)
          wants[#wants + 1] = {"docker", "tag", name, REG .. "/team/app:1"}
          for _, line in ipairs(p:report().commands) do lines[#lines + 1] = line end
        end
        ok, msg, kind = p:release {source = name, repository = "team/app", tags = {"1"}}
        if bad then
          assert.is_nil(ok)
          assert.equal("usage", kind)
          assert.matches("^release: source: image name has a control character", msg)
        else
          assert.truthy(ok, msg)
        end
      end
      for _, opt in ipairs {"-x", "--all-tags", "--help", "-"} do
        count = count + 1
        local p = new {credentials = {ak = AK, key = KEY}, engine = "ctr", dry_run = true}
        local ok, msg, kind = p:push(opt)
        assert.is_nil(ok)
        assert.equal("usage", kind)
        assert.matches("starts with '%-' %(an engine would read it as an option%)", msg)
        ok, msg = p:tag("app", opt)
        assert.is_nil(ok)
        assert.matches("^tag: ", msg)
      end
      local got = shell_words(lines)
      assert.same(wants, got)
    end)
    it("semver_tags refuses hostile versions with a message", function()
      local bad = {"", "1", "1.4", "1.4.2.1", "01.4.2", "1.04.2", "1.4.2+build", "1.4.2-", "1.4.2-rc..1",
                   "1.4.2-01", "1.4.2-" .. ("r"):rep(130), "1.4.2\n", "1.4.2\0", " 1.4.2", "V1.4.2",
                   "1.4.2-r\195\169", "\239\187\1911.4.2", MIB, "1.4.2 ; id", "-1.4.2"}
      for _, p in ipairs(PAYLOADS) do bad[#bad + 1] = "1.4.2" .. p end
      for _, v in ipairs(bad) do
        count = count + 1
        local t, msg = semver.tags(v)
        assert.is_nil(t, show(v))
        assert.matches("semantic version", msg:gsub("has build metadata.*", "semantic version"))
      end
      assert.same({"1.4.2-rc.1"}, semver.tags("v1.4.2-rc.1"))
      local ok = pcall(semver.tags, "1.4.2", {latest = "yes"})
      assert.is_false(ok)
    end)
  end)

  -------------------------------------------------------- credentials
  describe("swrauth.credentials.resolve", function()
    local function resolve(env, file)
      return credentials.resolve {file = file, getenv = function(n) return env[n] end}
    end
    it("names the variable and never quotes a hostile SK or key", function()
      local values = {"", "\0", "a\0b", MIB, "\192\175", "\239\187\191x", SK .. "\n", " " .. SK, "x\r\ny"}
      for _, p in ipairs(PAYLOADS) do values[#values + 1] = p end
      for _, v in ipairs(values) do
        for _, var in ipairs {"HUAWEICLOUD_SDK_SK", "SWRAUTH_LOGIN_KEY", "HUAWEICLOUD_SDK_AK", "SWRAUTH_AK"} do
          count = count + 1
          local env = var:find("^HUAWEI") and {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}
            or {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY}
          env[var] = v
          local c, msg = resolve(env)
          local label = var .. "=" .. show(v)
          if c then
            -- Only well-formed values: an AK/SK without whitespace,
            -- control or non-ASCII bytes (and no '@' or ':' in an AK).
            assert(not v:find("[%s%c\128-\255]"), label .. " was accepted")
            if var == "HUAWEICLOUD_SDK_SK" then assert.equal(swrauth.derive(AK, v), c.key) end
            if var:find("_AK$") then assert.equal(v, c.ak) end
            assert(var ~= "SWRAUTH_LOGIN_KEY", label .. " was accepted as a login key")
          else
            if v == "" then
              -- An empty variable counts as unset: the message names its pair.
              assert.matches("^[%u_]+ is set but ", msg)
            else
              assert(msg:find(var, 1, true), label .. ": " .. show(msg) .. " does not name the variable")
            end
            if #v >= 4 and not var:find("_AK$") then
              assert(not msg:find(v, 1, true), label .. ": the message quotes the value")
            end
            assert.falsy(msg:find("\n", 1, true), label)
          end
        end
      end
    end)
    it("reports hostile credentials-file paths by name", function()
      for _, p in ipairs {D .. "/nope/$(touch " .. CANARY .. ")", D, "/dev/null", D .. "/none\n.csv"} do
        count = count + 1
        local c, msg = resolve({}, p)
        assert.is_nil(c)
        assert.matches("^credentials file ", msg)
      end
    end)
  end)

  ----------------------------------------------------------- authfile
  describe("swrauth.authfile", function()
    it("login stores odd (whitespace-free) registries verbatim as JSON keys, refuses the rest", function()
      local path = D .. "/auth/config.json"
      for _, r in ipairs {"$(touch${IFS}" .. CANARY .. ")", "a|b", "x;y", "'q'", '"q"', "\\", "h/../x",
                          "r.example", "[::1]:5000", "a\nb", "a b", "a\0b", "https://r.example", ""} do
        count = count + 1
        local ok, err = pcall(authfile.login, path, r, "cn-north-4@" .. AK, KEY)
        if r:find("[%s%c]") or r:find("://", 1, true) or r == "" then
          assert.is_false(ok, show(r))
          assert.matches("bad argument #2 to 'login' %(registry", err)
        else
          assert.is_true(ok, show(r) .. ": " .. tostring(err))
          local doc = assert(authfile.read(path))
          assert.equal("cn-north-4@" .. AK, (authfile.entry(doc, r)))
          assert.equal("600", ("%o"):format(fs.mode(path)))
        end
      end
      for _, u in ipairs {"a:b", "", ":"} do
        count = count + 1
        assert.is_false(pcall(authfile.login, path, "r.example", u, KEY))
      end
    end)
    it("reads hostile files as errors naming line and column, leaving them as they were", function()
      local files = {
        {("{\"a\":"):rep(50000), "exceeded max depth"},
        {"\239\187\191{}", "line 1, column 1"},
        {'{"auths":"x\0"}', "line 1, column %d+"},
        {"{}garbage", "line 1, column 3"},
        {"[]", "not"},
        {'{"auths":[]}', "auths"},
        {'{"credHelpers":"x"}', "credHelpers"},
        {MIB, "line 1, column 1"},
        {"{\n\"a\":\n", "line 3"},
        {'{"auths":{},"x":"\255\254"}', "line 1, column 18: invalid UTF%-8"},
      }
      for i, f in ipairs(files) do
        count = count + 1
        local path = D .. "/hostile" .. i .. ".json"
        write(path, f[1])
        local doc, msg = authfile.read(path)
        assert.is_nil(doc, show(f[1]))
        assert(tostring(msg):find(f[2]), show(msg) .. " does not match " .. show(f[2]))
        assert.is_nil((authfile.login(path, "r.example", "u@a", KEY)))
        assert.equal(f[1], read(path))
      end
      write(D .. "/empty.json", "")
      local empty, exists = authfile.read(D .. "/empty.json")
      assert.is_table(empty)
      assert.is_nil(next(empty.auths or {}))
      assert.is_true(exists)
      count = count + 1
    end)
    it("kubernetes_secret: names and namespaces are DNS-1123, the email is data", function()
      local opts = {registry = "r.example", username = "cn-north-4@" .. AK, password = KEY}
      local function with(t)
        local o = {}
        for k, v in pairs(opts) do o[k] = v end
        for k, v in pairs(t) do o[k] = v end
        return o
      end
      local bad_names = {"", "X", "a_b", "-a", "a-", "a..b", "x\nkind: Pod", ("a"):rep(254), "a b", "\255"}
      for _, p in ipairs(PAYLOADS) do bad_names[#bad_names + 1] = p end
      for _, n in ipairs(bad_names) do
        count = count + 2
        local ok, msg = pcall(exports.kubernetes_secret, with {name = n})
        assert.is_false(ok, show(n))
        assert.matches("field 'name'", msg)
        ok, msg = pcall(exports.kubernetes_secret, with {name = "ok", namespace = n})
        assert.is_false(ok, show(n))
        assert.matches("field 'namespace'", msg)
      end
      for _, e in ipairs {'a"b', "a\nb: c", "</script>", "\0", "\255", "$(touch " .. CANARY .. ")", MIB} do
        for _, fmt in ipairs {"yaml", "json"} do
          count = count + 1
          local text = exports.kubernetes_secret(with {name = "regcred", email = e, format = fmt})
          assert.equal(fmt == "yaml" and 8 or 12, select(2, text:gsub("\n", "")), show(e))
          local data = text:match('%.dockerconfigjson"?: "?([%w+/=]+)')
          local cfg = cjson.decode(swrauth.unbase64(data))
          assert.equal(go_utf8(e), cfg.auths["r.example"].email)
        end
      end
      assert.is_false(pcall(exports.kubernetes_secret, with {name = "x", format = "yaml\n"}))
    end)
    it("containerd_toml escapes quotes and line breaks: no TOML injection", function()
      local function unescape(s)
        return (s:gsub('\\(u?)(%x?%x?%x?%x?)([btnfr"\\]?)', function(u, hex, c)
          if u == "u" then return utf8.char(tonumber(hex, 16)) end
          local m = {b = "\b", t = "\t", n = "\n", f = "\f", r = "\r", ['"'] = '"', ["\\"] = "\\"}
          return hex .. "" == "" and m[c] or m[c] .. hex
        end))
      end
      for _, v in ipairs {'u@"a', "u@a\n[evil]", "u@a\r\n", "u@\\", "u@\0", "u@'''", 'u@"""'} do
        count = count + 1
        local text = exports.containerd_toml {registry = "r.example", username = v, password = v:gsub(":", "")}
        assert.equal(5, select(2, text:gsub("\n", "")), show(v))
        local user = text:match('\n  username = "(.-)"\n  password')
        assert.equal(v, unescape(user), show(v))
      end
      for _, r in ipairs {'r"x', "r\nx", "r x", ""} do
        count = count + 1
        local ok, text = pcall(exports.containerd_toml, {registry = r, username = "u@a", password = "k"})
        if ok then
          assert.equal(5, select(2, text:gsub("\n", "")))
          assert.truthy(text:find('."r\\"x".', 1, true))
        else
          assert.matches("registry", text)
        end
      end
    end)
    it("gitlab, crictl and dockerconfigjson round-trip hostile values or refuse them", function()
      for _, v in ipairs {"k\"", "k\n", "k\0", "</script>", "\255", "$(touch " .. CANARY .. ")"} do
        count = count + 3
        local g = cjson.decode(exports.gitlab_auth_config {registry = "r.example", username = "u@a", password = v})
        assert.equal("u@a:" .. v, swrauth.unbase64(g.auths["r.example"].auth))
        assert.equal("u@a:" .. v, swrauth.unbase64(exports.crictl_auth {username = "u@a", password = v}))
        local d = cjson.decode(exports.dockerconfigjson {registry = "r.example", username = "u@a", password = v})
        assert.equal(go_utf8(v), d.auths["r.example"].password)
        assert.equal("u@a:" .. v, swrauth.unbase64(d.auths["r.example"].auth))
      end
      for _, h in ipairs {"", "a b", "a/b", "$(x)", "a;b", "\n"} do
        count = count + 1
        assert.is_false(pcall(exports.gitlab_auth_config, {registry = "r.example", helper = h}), show(h))
      end
      assert.is_false(pcall(exports.crictl_auth, {username = "a:b", password = "k"}))
    end)
  end)

  ----------------------------------------------------- credhelper (Lua)
  describe("swrauth.credhelper.main", function()
    local function helper(args, stdin, env)
      local out, err = {}, {}
      env = env or {}
      local code = credhelper.main(args, {
        stdin = function() return stdin or "" end,
        out = function(s) out[#out + 1] = s end, err = function(s) err[#err + 1] = s end,
        getenv = function(n) return env[n] end,
      })
      return code, table.concat(out), table.concat(err)
    end
    it("answers hostile get and erase requests per the protocol", function()
      local urls = {"\0", "a\0b", "\255\254", "\239\187\191swr.cn-north-4.myhuaweicloud.com",
                    "swr.$(touch " .. CANARY .. ").myhuaweicloud.com", "swr.cn-north-4.myhuaweicloud.com.evil.com",
                    "evil.com/swr.cn-north-4.myhuaweicloud.com", "swr.cn-north-4.myhuaweicloud.com@evil.com",
                    "https://user:pass@evil.com/", "../../etc/passwd", "file:///etc/passwd"}
      for _, p in ipairs(PAYLOADS) do urls[#urls + 1] = p end
      local env = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK}
      for _, u in ipairs(urls) do
        count = count + 1
        local code, out = helper({"get"}, u, env)
        assert.equal(1, code, show(u))
        assert.equal("credentials not found in native keychain\n", out, show(u))
        code = helper({"erase"}, u, env)
        assert.equal(0, code)
      end
      for _, s in ipairs {"", "\n", "\r\n", " \t "} do
        count = count + 1
        local code, out = helper({"get"}, s, env)
        assert.equal(1, code)
        assert.equal("no credentials server URL\n", out)
      end
      count = count + 1
      local code, out = helper({"get"}, MIB, env)
      assert.equal(1, code)
      assert.equal("bufio.Scanner: token too long\n", out)
    end)
    it("answers hostile store requests with Go's messages, storing nothing", function()
      local cases = {
        {"", "EOF"}, {"{", "unexpected EOF"}, {"[", "unexpected EOF"},
        {("["):rep(5000), "exceeded max depth"}, {"\0", "invalid character"},
        {"\239\187\191{}", "invalid character"}, {'{"ServerURL":1}', "cannot unmarshal number"},
        {'{"ServerURL":"x"}', "no credentials username"}, {"{}", "no credentials server URL"},
        {"null", "no credentials server URL"}, {'"x"', "cannot unmarshal string"},
        {MIB, "token too long"},
        {'{"ServerURL":"$(touch ' .. CANARY .. ')","Username":"`id`","Secret":"x"}', nil},
      }
      for _, c in ipairs(cases) do
        count = count + 1
        local code, out = helper({"store"}, c[1], {})
        if c[2] then
          assert.equal(1, code, show(c[1]))
          assert.matches(c[2], out, 1, true)
        else
          assert.equal(0, code)
          assert.equal("", out)
        end
      end
    end)
    it("answers hostile verbs and argument counts", function()
      for _, args in ipairs {{}, {"get", "x"}, {"$(touch " .. CANARY .. ")"}, {"GET"}, {"get\0"}, {""}} do
        count = count + 1
        local code, out = helper(args, "swr.cn-north-4.myhuaweicloud.com", {})
        assert.equal(1, code)
        assert(out:find("^Usage: docker%-credential%-swr <store|get|erase|list|version>\n$")
               or out:find("^Unknown credential action `"), show(out))
      end
    end)
    it("refuses hostile config files naming the file", function()
      local cfg = D .. "/helper.json"
      for _, body in ipairs {"{", "[]", '{"registries":[]}', '{"x":1}', '{"ak":"A K","sk":"S"}',
                             '{"ak":"AK","login_key":"$(touch ' .. CANARY .. ')"}', ("["):rep(600)} do
        count = count + 1
        write(cfg, body, "600")
        local code, out = helper({"get"}, "swr.cn-north-4.myhuaweicloud.com", {SWRAUTH_HELPER_CONFIG = cfg})
        assert.equal(1, code, show(body))
        assert.matches("^docker%-credential%-swr: config file " .. cfg:gsub("%p", "%%%0"), out)
      end
    end)
  end)

  ---------------------------------------------------------- proc, engines
  describe("swrauth.proc quoting and engine names", function()
    it("shell_word() round-trips every payload through sh", function()
      local words = {"", " ", "'", "''", '"', "\\", "!", "*", "~", "#x", "a\nb", "a\tb", "\255", "%s", "-n", "--"}
      for _, p in ipairs(PAYLOADS) do words[#words + 1] = p end
      local lines = {}
      for i, w in ipairs(words) do
        count = count + 1
        lines[i] = "w " .. stext.shell_word(w)
      end
      local got = shell_words(lines)
      for i, w in ipairs(words) do assert.same({w}, got[i], show(w)) end
      assert.same({"docker", "login", table.unpack(words)},
                  shell_words {stext.command_line {"docker", "login", table.unpack(words)}}[1])
    end)
    it("skopeo_name keeps payloads as one docker:// name", function()
      for _, p in ipairs(PAYLOADS) do
        count = count + 1
        local n = engines.skopeo_name(p)
        assert.equal("docker://" .. p, n)
        assert.is_false(engines.transport(p))
      end
    end)
  end)

  ------------------------------------------------------------ the CLI
  describe("bin/swrauth and bin/docker-credential-swr", function()
    local BIN = D .. "/bin"
    local CLEAR = {"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "SWRAUTH_AK", "SWRAUTH_LOGIN_KEY",
                   "SWRAUTH_CREDENTIALS_FILE", "SWRAUTH_PROJECT", "SWRAUTH_REGISTRY", "SWRAUTH_ENGINE",
                   "SWRAUTH_INSECURE", "SWRAUTH_CERT_DIR", "SWRAUTH_RETRIES", "SWRAUTH_HELPER_CONFIG",
                   "SWRAUTH_HELPER_LOG"}
    lazy_setup(function()
      assert(support.mkdir(BIN))
      -- An engine that records its argv (NUL-separated) and succeeds.
      for _, e in ipairs {"docker", "podman", "skopeo", "ctr"} do
        write(BIN .. "/" .. e, "#!/bin/sh\nprintf '%s\\0' \"${0##*/}\" \"$@\" >> \"$REC\"\nprintf '\\1' >> \"$REC\"\n"
          .. "cat >/dev/null\nexit 0\n", "755")
      end
    end)
    local function cli(args, o)
      o = o or {}
      os.remove(D .. "/rec")
      local env = {PATH = BIN .. ":/usr/bin:/bin", HOME = D .. "/home", TMPDIR = D, REC = D .. "/rec",
                   DOCKER_CONFIG = D .. "/home/.docker", REGISTRY_AUTH_FILE = D .. "/home/auth.json"}
      for _, n in ipairs(CLEAR) do env[n] = false end
      env.HUAWEICLOUD_SDK_AK, env.HUAWEICLOUD_SDK_SK = AK, SK
      for k, v in pairs(o.env or {}) do env[k] = v end
      local argv = {LUA, o.helper and HELPER or SWRAUTH}
      for _, a in ipairs(args) do argv[#argv + 1] = a end
      local r = assert(proc.run {argv = argv, env = env, stdin = o.stdin, cwd = D})
      r.calls = {}
      for c in (read(D .. "/rec") or ""):gmatch("([^\1]*)\1") do
        local words = {}
        for w in c:gmatch("([^%z]*)%z") do words[#words + 1] = w end
        r.calls[#r.calls + 1] = words
      end
      return r
    end
    local function expect(r, code, pattern, label)
      assert(r.status == code, ("%s: exit %d, expected %d; stderr: %s"):format(label, r.status, code,
                                                                          show(r.stderr)))
      if pattern then
        assert(r.stderr:find(pattern), label .. ": stderr " .. show(r.stderr) .. " lacks " .. show(pattern))
      end
      assert(not r.stderr:find("internal error", 1, true), label .. ": internal error")
      assert(not r.stderr:find("stack traceback", 1, true), label .. ": traceback")
      assert(not (r.stdout .. r.stderr):find(SK, 1, true), label .. ": the SK was printed")
    end
    local G = {"--project", "cn-north-4", "--registry", "127.0.0.1:5000", "--engine", "docker"}
    local function with(a, b)
      local t = {}
      for _, v in ipairs(a) do t[#t + 1] = v end
      for _, v in ipairs(b) do t[#t + 1] = v end
      return t
    end

    local usage = {}
    for _, p in ipairs(PAYLOADS) do
      usage[#usage + 1] = {{"--project", p, "login"}, "project"}
      usage[#usage + 1] = {{"--project", "cn-north-4", "--registry", p, "login"}, "registry"}
      usage[#usage + 1] = {with(G, {"release", "app", "--repository", "team/app", "--tag", p}), "tag"}
      usage[#usage + 1] = {{"parse", "image", p}, "parse image: "}
    end
    for _, c in ipairs {
      {{"--project", ("a"):rep(100000), "login"}, "too long"},
      {{"--project", "cn-north-4\255", "login"}, "0xff at byte 11"},
      {{"--project", "", "login"}, "project"},
      {{"--project", "cn-north-4", "--registry", "r.example:99999", "login"}, "port out of range"},
      {{"--project", "cn-north-4", "--registry", "r.example:0", "login"}, "port out of range"},
      {{"--project", "cn-north-4", "--registry", "https://r.example", "login"}, "registry"},
      {{"--project", "cn-north-4", "--registry", "r.example/ns", "login"}, "'/' at byte 10"},
      {{"--engine", "docker;touch " .. CANARY, "--project", "cn-north-4", "login"}, "engine"},
      {{"--retries", "1e400", "--project", "cn-north-4", "login"}, "retries"},
      {{"--retries", "nan", "--project", "cn-north-4", "login"}, "retries"},
      {{"--retries", "inf", "--project", "cn-north-4", "login"}, "retries"},
      {{"--retries", "0", "--project", "cn-north-4", "login"}, "retries"},
      {{"--retries", "1;touch " .. CANARY, "--project", "cn-north-4", "login"}, "retries"},
      {with(G, {"release", "app", "--repository", "../etc", "--tag", "1"}), "without the registry"},
      {with(G, {"release", "app", "--repository", "team/../app", "--tag", "1"}), "repository"},
      {with(G, {"release", "app", "--repository", "Team/App", "--tag", "1"}), "lowercase"},
      {with(G, {"release", "app", "--repository", "team/app", "--tag", ("t"):rep(129)}), "at most 128"},
      {with(G, {"release", "app", "--repository", "team/app", "--semver", "1.2.3;id"}), "semantic version"},
      {with(G, {"release", "app", "--repository", "team/app", "--semver", "1.2.3+b"}), "build metadata"},
      {with(G, {"release", "", "--repository", "team/app", "--tag", "1"}), "source image name is empty"},
      {with(G, {"release", "a\nb", "--repository", "team/app", "--tag", "1"}), "control character at byte 2"},
      {with(G, {"push", ""}), "push: an image name is empty"},
      {with(G, {"push", "--", "-x"}), "starts with '%-'"},
      {with(G, {"push", "--", "--all-tags"}), "starts with '%-'"},
      {with(G, {"push", "a\r\nb"}), "control character at byte 2"},
      {with(G, {"tag", "", "x"}), "tag: an image name is empty"},
      {with(G, {"tag", "a", "--", "--force"}), "starts with '%-'"},
      {with(G, {"tag", "a", "x\ny"}), "control character at byte 2"},
      {with(G, {"--engine", "skopeo", "push", "r.example/a/b:1"}), "skopeo has no local images"},
      {{"--project", "cn-north-4", "config", "kubernetes", "X;touch " .. CANARY}, "DNS%-1123"},
      {{"--project", "cn-north-4", "config", "kubernetes", "ok", "-n", "$(touch " .. CANARY .. ")"}, "DNS%-1123"},
      {{"--project", "cn-north-4", "config", "gitlab", "--helper", "x;touch " .. CANARY}, "helper"},
      {{"configure-docker", "$(touch${IFS}" .. CANARY .. ")"}, "configure%-docker: registry '%$%(touch"},
      {{"configure-docker", "a b"}, "registry 'a b' has a space at byte 2"},
      {{"configure-docker", "r.example:70000"}, "port out of range"},
      {{"configure-docker", "--helper", "../../bin/sh", "r.example"}, "helper"},
      {{"--project", "cn-north-4", "--registry", "a\nb", "config", "docker", "--dry-run"}, "newline at byte 2"},
      {{"bogus\0"}, "unknown command"},
      {{"parse", "image", ""}, "empty"},
      {{"parse", "image", "\239\187\191nginx"}, "0xef at byte 1"},
      {{"parse", "bogus", "x"}, nil},
      {{"login", "--bogus=$(touch " .. CANARY .. ")"}, "unknown option"},
    } do usage[#usage + 1] = c end
    -- Input echoed in an error stays on the error's line: CR/LF shown as \r, \n.
    for _, c in ipairs {
      {with(G, {"release", "app", "--repository", "team/app\nswrauth: forged", "--tag", "1"}),
       "^swrauth: release: repository 'team/app\\nswrauth: forged' has a newline at byte 9[^\n]*\n$"},
      {with(G, {"release", "app", "--repository", "team/app", "--tag", "1\r\nforged"}),
       "^swrauth: release: tag '1\\r\\nforged' has a carriage return at byte 2[^\n]*\n$"},
      {{"--project", "cn-north-4", "--bogus\nswrauth: forged", "login"},
       "^swrauth: unknown option '%-%-bogus\\nswrauth: forged'\nTry"},
      {{"--project", "cn-north-4", "parse", "image", "a\nB"}, "^swrauth: parse image: [^\n]*\n$"},
    } do
      count = count + 1
      case("one line for the error: " .. show(table.concat(c[1], " ")), function()
        local r = cli(c[1])
        assert(r.stderr:find(c[2]), show(r.stderr) .. " does not match " .. show(c[2]))
        assert.equal(0, #r.calls, "an engine ran")
      end)
    end

    for _, c in ipairs(usage) do
      count = count + 1
      case("exit 2: " .. show(table.concat(c[1], " ")), function()
        local r = cli(c[1])
        expect(r, 2, c[2], show(table.concat(c[1], " ")))
        assert.equal(0, #r.calls, "an engine ran")
      end)
    end

    for _, c in ipairs {
      {{"SWRAUTH_ENGINE", "docker;touch " .. CANARY}, "SWRAUTH_ENGINE"},
      {{"SWRAUTH_RETRIES", "$(touch " .. CANARY .. ")"}, "SWRAUTH_RETRIES"},
      {{"SWRAUTH_PROJECT", "`touch " .. CANARY .. "`"}, "SWRAUTH_PROJECT"},
      {{"SWRAUTH_REGISTRY", "r.example\r\nX-Evil: 1"}, "SWRAUTH_REGISTRY"},
    } do
      count = count + 1
      case("exit 2 from the environment: " .. c[1][1] .. "=" .. show(c[1][2]), function()
        local env = {[c[1][1]] = c[1][2]}
        local args = c[1][1] == "SWRAUTH_PROJECT" and {"login"} or {"--project", "cn-north-4", "login"}
        expect(cli(args, {env = env}), 2, c[2], c[1][1])
      end)
    end

    for _, c in ipairs {
      {{HUAWEICLOUD_SDK_SK = SK .. "\n"}, "HUAWEICLOUD_SDK_SK has a newline at byte 41 %(a pasted newline%?%)"},
      {{HUAWEICLOUD_SDK_SK = "$(touch " .. CANARY .. ")"}, "HUAWEICLOUD_SDK_SK has a space"},
      {{HUAWEICLOUD_SDK_AK = "A@K"}, "HUAWEICLOUD_SDK_AK has '@' at byte 2"},
      -- A pre-derived key skips derive(): the AK is still checked (it once
      -- reached format() and raised an internal error).
      {{HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false, SWRAUTH_AK = "A\192\175K", SWRAUTH_LOGIN_KEY = KEY},
       "SWRAUTH_AK has byte 0xc0 at byte 2"},
      {{HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false, SWRAUTH_AK = ("A"):rep(1100), SWRAUTH_LOGIN_KEY = KEY},
       "SWRAUTH_AK is too long %(1100 bytes, at most 1024%)"},
      {{HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false, SWRAUTH_AK = AK,
        SWRAUTH_LOGIN_KEY = ";touch " .. CANARY}, "SWRAUTH_LOGIN_KEY must be 64 lowercase hex digits"},
      {{HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false,
        SWRAUTH_CREDENTIALS_FILE = D .. "/$(touch " .. CANARY .. ").csv"}, "credentials file "},
    } do
      count = count + 1
      case("exit 3: " .. show(next(c[1])), function()
        local r = cli({"--project", "cn-north-4", "key"}, {env = c[1]})
        expect(r, 3, c[2], "key")
        r = cli(with(G, {"login"}), {env = c[1]})
        expect(r, 3, c[2], "login")
        assert.equal(0, #r.calls)
        r = cli({"--project", "cn-north-4", "--dry-run", "config", "docker"}, {env = c[1]})
        expect(r, 3, c[2], "config docker")
      end)
    end

    it("exit 2 for a release file that tries to reach the system", function()
      for _, body in ipairs {
        "os.execute('touch " .. CANARY .. "') return {}",
        "io.open('" .. CANARY .. "', 'w') return {}",
        "require('os').execute('touch " .. CANARY .. "') return {}",
        "return load('return 1')",
        "local f = ('').rep; return {source = f('x', 3), repository = 'team/app', tags = {'1'}, bogus = 1}",
        "return {source = 'app', repository = 'team/app', tags = {'1'}, engine = 'docker;touch " .. CANARY .. "'}",
        "return {source = 'app', repository = 'team/app', tags = {1}}",
        "return {source = 'app', repository = 'team/app', semver = '$(touch " .. CANARY .. ")'}",
        "return 'not a table'", "syntax error here", "\27Lua binary chunk",
        "error(string.rep('x', 10))",
      } do
        count = count + 1
        local path = D .. "/release.lua"
        write(path, body)
        -- No --engine: a flag would win over the file's field.
        local r = cli({"--project", "cn-north-4", "--registry", "127.0.0.1:5000", "release", path})
        expect(r, 2, "^swrauth: ", show(body))
        assert.equal(0, #r.calls)
      end
    end)

    it("passes payload image names to the engine literally, as one word each", function()
      local names = {"$(touch " .. CANARY .. ")", "`touch " .. CANARY .. "`", ";touch " .. CANARY,
                     "a|b", "x${IFS}y", "'q'", "\255\254"}
      for _, n in ipairs(names) do
        count = count + 1
        -- A local image's name, as it is.
        local r = cli(with(G, {"tag", n, "team/app:1"}))
        expect(r, 0, nil, show(n))
        assert.same({"docker", "tag", n, "127.0.0.1:5000/team/app:1"}, r.calls[1])
        -- Not a reference to push: refused before any engine runs.
        r = cli(with(G, {"push", n}))
        expect(r, 2, "^swrauth: push: image '", show(n))
        assert.equal(0, #r.calls)
      end
    end)

    it("parse login from stdin: NUL, 1 MiB, payloads, every one a usage error", function()
      local inputs = {"docker login -u a@b -p k r.example\0", MIB, "\0",
                      "docker login -u a@b -p k r.example\ntouch " .. CANARY}
      for _, p in ipairs(PAYLOADS) do inputs[#inputs + 1] = "docker login -u a@b -p k r.example " .. p end
      for _, s in ipairs(inputs) do
        count = count + 1
        local r = cli({"parse", "login", "-"}, {stdin = s})
        expect(r, 2, "^swrauth: parse login: ", show(s))
      end
      local r = cli({"parse", "image", "-"}, {stdin = MIB})
      expect(r, 2, "too long %(1048576 bytes", "parse image 1 MiB")
    end)

    it("config kubernetes --email keeps a hostile email as data", function()
      for _, e in ipairs {"a\"b", "a\nb", "$(touch " .. CANARY .. ")", "\255"} do
        count = count + 1
        local r = cli({"--project", "cn-north-4", "config", "kubernetes", "regcred", "--email", e})
        expect(r, 0, nil, show(e))
        local data = r.stdout:match("%.dockerconfigjson: ([%w+/=]+)")
        assert.equal(go_utf8(e),
                     cjson.decode(swrauth.unbase64(data)).auths["swr.cn-north-4.myhuaweicloud.com"].email)
      end
    end)

    it("docker-credential-swr answers payloads without running them", function()
      for _, p in ipairs(PAYLOADS) do
        count = count + 1
        local r = cli({"get"}, {helper = true, stdin = p})
        assert.equal(1, r.status)
        assert.matches("^credentials not found in native keychain\n$", r.stdout)
        r = cli({p}, {helper = true, stdin = "x"})
        assert.equal(1, r.status)
        assert.matches("^Unknown credential action `", r.stdout)
      end
    end)
  end)

  it("ran every payload without creating the canary (" .. #PAYLOADS .. " payloads)", function()
    no_canary()
    -- The catalogue's size, for the record (TAP comment via the test name
    -- is not possible here: the count grows while the tests run).
    assert.is_true(count >= 200, "only " .. count .. " inputs")
    io.stderr:write(("# hostile inputs exercised: %d\n"):format(count))
  end)
end)

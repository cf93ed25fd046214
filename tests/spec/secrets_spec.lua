-- Secret hygiene (issue 6): every `swrauth` command and pipeline path,
-- succeeding and failing, with every engine and every credential source,
-- and every verb of `docker-credential-swr`, run as processes with a
-- recognisable SK and login key. Recording shims stand in for docker,
-- podman, buildah, skopeo, nerdctl and ctr: each logs its argv, its whole
-- environment (/proc/PID/environ), its standard input, its cwd and the
-- files in swrauth's TMPDIR (modes and contents) at the moment it runs,
-- then succeeds or fails as told (SHIM_FAIL=WORD fails any run whose argv
-- holds WORD, echoing on stderr everything secret it was given: the key
-- from stdin, base64(USER:KEY), its argv with ctr's --user USER:KEY).
--
-- After every run the spec collects stdout, stderr, the shims' records and
-- every file under HOME, the output dir and the helper's log, and checks:
--  * the SK (whole, its first and last 16 characters, its base64) is
--    nowhere: no output, file, argv, environment or temporary file;
--  * the login key (lowercase, UPPERCASE, first/last 16 characters, base64,
--    base64(USER:KEY), for the real and a wrong key) is only where a
--    command exists to put it: stdout of `key`, `login-command` (docker -p
--    and ctr forms), `config kubernetes|containerd|gitlab|crictl`, the
--    helper's `get`; ctr's argv (the --user value, with a warning); files
--    that are credentials by design (config.json / auth.json `auths`,
--    `--file` files) -- and each such file is mode 0600;
--  * engines read the key on standard input only as "KEY\n";
--  * no engine's environment has HUAWEICLOUD_SDK_SK or SWRAUTH_LOGIN_KEY;
--  * temporary files swrauth makes are 0600 in 0700 directories and are
--    gone when it exits.
local proc = require "swrauth.proc"
local fs = require "swrauth.fs"
local stext = require "swrauth.text"
local swrauth = require "swrauth"
local cjson = require "cjson"

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)tests/spec/[^/]+$") or "./")
if ROOT == "" then ROOT = "./" end
local LUA = assert(proc.which("lua5.4"), "lua5.4 on PATH")
local SWRAUTH = fs.abspath(ROOT .. "bin/swrauth")
local HELPER = fs.abspath(ROOT .. "bin/docker-credential-swr")

local PROJECT = "cn-north-4"
local AK = "HYGIENEAK0000000000A"
local SK = "SKsecretSKsecretSKsecretSKsecret00000000"
local KEY = swrauth.derive(AK, SK)
local BADKEY = ("0badc0de"):rep(8)
local USER = PROJECT .. "@" .. AK
local REG = "127.0.0.1:5000"
local SWR = "swr.cn-north-4.myhuaweicloud.com"
local b64 = swrauth.base64

-- Forms of a secret that must not leak, with a label for messages.
local SK_FORMS = {
  {SK, "<SK>"}, {SK:sub(1, 16), "<SK-prefix>"}, {SK:sub(-16), "<SK-suffix>"},
  {b64(SK), "<SK-base64>"}, {SK:lower(), "<sk-lower>"},
}
local function key_forms(k, name)
  return {
    {b64(USER .. ":" .. k), "<" .. name .. "-auth>"}, {k, "<" .. name .. ">"},
    {k:upper(), "<" .. name .. "-UPPER>"}, {k:sub(1, 16), "<" .. name .. "-prefix>"},
    {k:sub(-16), "<" .. name .. "-suffix>"}, {b64(k), "<" .. name .. "-base64>"},
  }
end
local KEY_FORMS = {}
for _, f in ipairs(key_forms(KEY, "KEY")) do KEY_FORMS[#KEY_FORMS + 1] = f end
for _, f in ipairs(key_forms(BADKEY, "BADKEY")) do KEY_FORMS[#KEY_FORMS + 1] = f end
local ALL_FORMS = {}
for _, f in ipairs(SK_FORMS) do ALL_FORMS[#ALL_FORMS + 1] = f end
for _, f in ipairs(KEY_FORMS) do ALL_FORMS[#ALL_FORMS + 1] = f end
table.sort(ALL_FORMS, function(a, b) return #a[1] > #b[1] end)

-- Which forms occur in a text (labels).
local function found(text, forms)
  text = text or ""
  local hits = {}
  for _, f in ipairs(forms) do
    if text:find(f[1], 1, true) then hits[#hits + 1] = f[2] end
  end
  return hits
end

-- A text with every secret form replaced by its label: failure messages
-- must never be the leak.
local function mask(text)
  text = tostring(text)
  for _, f in ipairs(ALL_FORMS) do
    local out, i = {}, 1
    while true do
      local a, b = text:find(f[1], i, true)
      if not a then break end
      out[#out + 1] = text:sub(i, a - 1) .. f[2]
      i = b + 1
    end
    out[#out + 1] = text:sub(i)
    text = table.concat(out)
  end
  return (text:gsub("%z", "\\0"))
end

-- The recording engine. SHIM_FAIL=WORD: fail (exit SHIM_CODE, default 1)
-- when an argument equals WORD, echoing the secrets it holds on stderr.
local SHIM = [[#!/bin/sh
PATH="$PATH:/usr/bin:/bin"
d="$REC_DIR"
# One number per call, also when two run at once (release with skopeo
# runs the login and the first copy together).
while ! mkdir "$d/lock" 2>/dev/null; do sleep 0.01; done
n=0
[ -f "$d/count" ] && read -r n < "$d/count"
n=$((n + 1))
echo "$n" > "$d/count"
rmdir "$d/lock"
printf '%s\0' "${0##*/}" "$@" > "$d/$n.argv"
cat /proc/$$/environ > "$d/$n.env"
cat > "$d/$n.stdin"
pwd > "$d/$n.cwd"
has_tmp() { for f in "$TMPDIR"/* "$TMPDIR"/.[!.]*; do [ -e "$f" ] && return 0; done; return 1; }
if [ -n "$TMPDIR" ] && [ -d "$TMPDIR" ] && has_tmp; then
  find "$TMPDIR" -mindepth 1 -printf '%m %y %p\n' > "$d/$n.tmp"
  if [ -s "$d/$n.tmp" ]; then
    find "$TMPDIR" -type f ! -name auth.json -exec cat {} + > "$d/$n.tmpdata" 2>/dev/null
    # The private auth file of skopeo's copy (--dest-authfile), apart.
    find "$TMPDIR" -type f -name auth.json -exec cat {} + > "$d/$n.authdata" 2>/dev/null
  fi
fi
user= prev= digestfile= fail=
for a in "$@"; do
  case $prev in -u|--username|--user) user=$a ;; --digestfile) digestfile=$a ;; esac
  [ -n "$SHIM_FAIL" ] && [ "$a" = "$SHIM_FAIL" ] && fail=1
  prev=$a
done
if [ -n "$fail" ]; then
  pw=$(cat "$d/$n.stdin")
  printf 'Error response from daemon: unauthorized: incorrect username or password ' >&2
  printf '(password %s; Authorization: Basic %s; args %s)\n' \
    "$pw" "$(printf '%s:%s' "$user" "$pw" | base64 -w0)" "$*" >&2
  exit "${SHIM_CODE:-1}"
fi
dig=sha256:DIGESTHEX
[ -n "$digestfile" ] && (umask 077 && printf '%s' "$dig" > "$digestfile")
case " $* " in
  *" push "*|*" copy "*) printf 'latest: digest: %s size: 528\n' "$dig" ;;
  *" version "*) echo 20.10.24 ;;
  *" login "*) echo "Login Succeeded" ;;
esac
exit 0
]]

SHIM = SHIM:gsub("DIGESTHEX", swrauth.sha256('{"schemaVersion":2}'))

-- A recording curl (the registry API requests of `release` with skopeo):
-- records as the engines do, then answers each request of its config
-- (stdin) as a registry would: a manifest for a GET (its body on stdout),
-- 201 for a PUT; the status lines on stderr, as swrauth.transport asks.
local CURL_SHIM = SHIM:match("^(.-)user= prev=") .. [[
dig=sha256:DIGESTHEX
put=
answer() {
  if [ -n "$put" ]; then
    printf '\n@@swrauth@@ 201 0 0\ne:\nc:\nh:docker-content-digest:%s\n' "$dig" >&2
  else
    printf '%s' "$body"
    printf '\n@@swrauth@@ 200 0 %s\ne:\nc:application/vnd.oci.image.manifest.v1+json\n' \
      "${#body}" >&2
  fi
  put=
}
body='@BODY@'
while IFS= read -r line; do
  case $line in
    next) answer ;;
    data-binary*) put=1 ;;
  esac
done < "$d/$n.stdin"
answer
exit 0
]]
-- The manifest the registry serves, and its digest: what the engines
-- report pushing.
local MANIFEST = '{"schemaVersion":2}'
local DIGESTHEX = swrauth.sha256(MANIFEST)
CURL_SHIM = CURL_SHIM:gsub("DIGESTHEX", DIGESTHEX):gsub("@BODY@", MANIFEST)

local ENGINES = {"docker", "podman", "buildah", "skopeo", "nerdctl", "ctr"}
local CLEAR = {"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "SWRAUTH_AK", "SWRAUTH_LOGIN_KEY",
               "SWRAUTH_CREDENTIALS_FILE", "SWRAUTH_PROJECT", "SWRAUTH_REGISTRY", "SWRAUTH_ENGINE",
               "SWRAUTH_INSECURE", "SWRAUTH_CERT_DIR", "SWRAUTH_RETRIES", "SWRAUTH_HELPER_CONFIG",
               "SWRAUTH_HELPER_LOG", "DOCKER_HOST", "CONTAINERD_ADDRESS", "SHIM_FAIL", "SHIM_CODE"}

local D -- the test's directory
local function sh(cmd) return os.execute(cmd) end
local function q(s) return stext.shell_word(s) end

local support = require "tests.spec.support"
local write, read = support.write, support.read

-- Files under a directory: list of {path=, mode= ("600"), type= "f"|"d"}
-- (without a process: this machine is slow to start them).
local function tree(dir, out)
  out = out or {}
  for _, e in ipairs(fs.list(dir) or {}) do
    local path = dir .. "/" .. e.name
    local mode = fs.mode(path)
    local ty = e.type == "directory" and "d" or "f"
    out[#out + 1] = {path = path, mode = mode and ("%o"):format(mode) or "?", type = ty}
    if ty == "d" then tree(path, out) end
  end
  return out
end

-- A fresh empty directory (mode 0700 unless `mode`).
local function fresh(dir, mode)
  if fs.mode(dir) then support.rm(dir) end
  assert(support.mkdir(dir))
  if mode then require("luv").fs_chmod(dir, tonumber(mode, 8)) end
end

local CREDS = {
  sdk = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK},
  key = {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY},
  badkey = {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = BADKEY},
  csv = function() return {SWRAUTH_CREDENTIALS_FILE = D .. "/in/credentials.csv"} end,
  none = {},
}

-- Runs bin/swrauth (or the helper with `helper = true`) and collects
-- everything it left behind.
local function run(o)
  fresh(D .. "/rec")
  local env = {
    PATH = o.path or (D .. "/bin:/usr/bin:/bin"), HOME = D .. "/home", TMPDIR = D .. "/tmp",
    XDG_CONFIG_HOME = D .. "/home/.config", XDG_RUNTIME_DIR = D .. "/run",
    DOCKER_CONFIG = D .. "/home/.docker", REGISTRY_AUTH_FILE = D .. "/home/auth.json",
    REC_DIR = D .. "/rec",
  }
  for _, n in ipairs(CLEAR) do env[n] = false end
  local creds = CREDS[o.creds or "sdk"]
  if type(creds) == "function" then creds = creds() end
  for k, v in pairs(creds or o.creds) do env[k] = v end
  for k, v in pairs(o.env or {}) do env[k] = v end
  local argv = {LUA, o.helper and HELPER or SWRAUTH}
  for _, a in ipairs(o.args) do argv[#argv + 1] = a end
  local r = assert(proc.run {argv = argv, env = env, stdin = o.stdin, cwd = D .. "/work"})
  r.calls = {}
  for n = 1, tonumber(read(D .. "/rec/count") or "0") do
    local c = {argv = {}, env = {}, names = {}}
    for w in (read(D .. "/rec/" .. n .. ".argv") or ""):gmatch("([^%z]*)%z") do
      c.argv[#c.argv + 1] = w
    end
    c.name = c.argv[1]
    c.env_text = read(D .. "/rec/" .. n .. ".env") or ""
    for kv in c.env_text:gmatch("([^%z]*)%z") do
      local k = kv:match("^([^=]*)=")
      if k then c.names[k] = true end
    end
    c.stdin = read(D .. "/rec/" .. n .. ".stdin") or ""
    c.cwd = (read(D .. "/rec/" .. n .. ".cwd") or ""):gsub("\n$", "")
    c.tmp = read(D .. "/rec/" .. n .. ".tmp") or ""
    c.tmpdata = read(D .. "/rec/" .. n .. ".tmpdata") or ""
    c.authdata = read(D .. "/rec/" .. n .. ".authdata") or ""
    r.calls[n] = c
  end
  r.files = {}
  for _, dir in ipairs {D .. "/home", D .. "/out", D .. "/run"} do
    for _, f in ipairs(tree(dir)) do
      if f.type == "f" then
        f.content = read(f.path) or ""
        r.files[#r.files + 1] = f
      end
    end
  end
  r.leftover = tree(D .. "/tmp")
  r.label = table.concat(o.args, " ")
  return r
end

-- The hygiene checks on one run. allow: stdout (the key may be on
-- stdout), files (set of paths that may hold it: they must be 0600), ctr
-- (ctr's --user value may hold it).
local function check_hygiene(r, allow)
  allow = allow or {}
  local problems = {}
  local function problem(where, hits)
    if #hits > 0 then problems[#problems + 1] = where .. ": " .. table.concat(hits, ", ") end
  end
  problem("stdout holds the SK", found(r.stdout, SK_FORMS))
  problem("stderr holds the SK", found(r.stderr, SK_FORMS))
  problem("stderr holds a key", found(r.stderr, KEY_FORMS))
  if not allow.stdout then problem("stdout holds a key", found(r.stdout, KEY_FORMS)) end
  for i, c in ipairs(r.calls) do
    local where = ("engine run %d (%s)"):format(i, mask(table.concat(c.argv, " ")))
    local argv = {}
    local prev
    for j, a in ipairs(c.argv) do
      -- ctr takes the key only as --user USER:KEY: that value is allowed.
      if allow.ctr and c.name == "ctr" and prev == "--user" then
        if a ~= USER .. ":" .. KEY and a ~= USER .. ":" .. BADKEY then
          problems[#problems + 1] = where .. ": --user is not USER:KEY"
        end
        a = "USER:KEY"
      end
      argv[j] = a
      prev = c.argv[j]
    end
    local argv_text = table.concat(argv, "\0")
    problem(where .. " argv holds the SK", found(argv_text, SK_FORMS))
    problem(where .. " argv holds a key", found(argv_text, KEY_FORMS))
    problem(where .. " environment holds the SK", found(c.env_text, SK_FORMS))
    problem(where .. " environment holds a key", found(c.env_text, KEY_FORMS))
    for _, n in ipairs {"HUAWEICLOUD_SDK_SK", "SWRAUTH_LOGIN_KEY"} do
      if c.names[n] then problems[#problems + 1] = where .. ": environment has " .. n end
    end
    local stdin = c.stdin
    if c.name == "curl" then
      -- curl's config: the key only as its user value, curl reads no other.
      if table.concat(c.argv, " ") ~= "curl -q --config -" then
        problems[#problems + 1] = where .. ": curl's arguments are not -q --config -"
      end
      stdin = stdin:gsub('\nuser = "' .. USER:gsub("%p", "%%%0") .. ':%x+"\n', "\n")
      problem(where .. " curl config holds a key elsewhere than its user", found(stdin, KEY_FORMS))
      stdin = ""
    end
    if stdin ~= "" and stdin ~= KEY .. "\n" and stdin ~= BADKEY .. "\n" then
      problems[#problems + 1] = where .. ": stdin is not empty nor KEY\\n: " .. mask(c.stdin)
    end
    problem(where .. " stdin holds the SK", found(c.stdin, SK_FORMS))
    problem(where .. " temporary files hold the SK", found(c.tmpdata, SK_FORMS))
    problem(where .. " temporary files hold a key", found(c.tmpdata, KEY_FORMS))
    -- A temporary auth.json (release with skopeo: the copy's private auth
    -- file, 0600 like every temporary file, checked below) may hold the
    -- key only as docker's auth value, and only while skopeo runs.
    problem(where .. " a temporary auth.json holds the SK", found(c.authdata, SK_FORMS))
    local auth_hits = {}
    for _, h in ipairs(found(c.authdata, KEY_FORMS)) do
      if h ~= "<KEY-auth>" and h ~= "<BADKEY-auth>" then auth_hits[#auth_hits + 1] = h end
    end
    problem(where .. " a temporary auth.json holds a key other than as auth", auth_hits)
    if (c.authdata or "") ~= "" and c.name ~= "skopeo" then
      problems[#problems + 1] = where .. ": a temporary auth.json exists while " .. c.name .. " runs"
    end
    for line in c.tmp:gmatch("[^\n]+") do
      local mode, ty, path = line:match("^(%d+) (%a) (.*)$")
      if ty == "f" and mode ~= "600" then
        problems[#problems + 1] = where .. ": temporary file " .. path .. " has mode " .. mode
      elseif ty == "d" and mode ~= "700" then
        problems[#problems + 1] = where .. ": temporary directory " .. path .. " has mode " .. mode
      end
    end
  end
  for _, f in ipairs(r.files) do
    problem("file " .. f.path .. " holds the SK", found(f.content, SK_FORMS))
    local hits = found(f.content, KEY_FORMS)
    if #hits > 0 then
      if not (allow.files and allow.files[f.path]) then
        problem("file " .. f.path .. " holds a key", hits)
      elseif f.mode ~= "600" then
        problems[#problems + 1] = "file " .. f.path .. " holds the key with mode " .. f.mode
      end
    end
  end
  for _, f in ipairs(r.leftover) do
    problems[#problems + 1] = "left in TMPDIR: " .. f.path
  end
  if #problems > 0 then
    error(mask(r.label .. " (exit " .. tostring(r.status) .. "):\n  "
      .. table.concat(problems, "\n  ") .. "\n  stdout: " .. r.stdout:sub(1, 400)
      .. "\n  stderr: " .. r.stderr:sub(1, 600)), 2)
  end
end

local function expect(r, code)
  if r.status ~= code then
    error(mask(("%s: exit %d, expected %d\n  stdout: %s\n  stderr: %s"):format(
      r.label, r.status, code, r.stdout:sub(1, 400), r.stderr:sub(1, 600))), 2)
  end
end

local function with(...)
  local t = {}
  for _, list in ipairs {...} do
    for _, v in ipairs(list) do t[#t + 1] = v end
  end
  return t
end

local function G(engine)
  return {"--project", PROJECT, "--registry", REG, "--engine", engine}
end

local function calls_of(r, name)
  local n = 0
  for _, c in ipairs(r.calls) do if c.name == name then n = n + 1 end end
  return n
end

local function has_arg(c, word)
  for _, a in ipairs(c.argv) do if a == word then return true end end
  return false
end

describe("secret hygiene", function()
  lazy_setup(function()
    D = support.tempdir()
    sh("mkdir -p " .. q(D .. "/bin") .. " " .. q(D .. "/none") .. " " .. q(D .. "/in/certs")
       .. " " .. q(D .. "/in/oci"))
    for _, e in ipairs(ENGINES) do write(D .. "/bin/" .. e, SHIM, "755") end
    write(D .. "/bin/curl", CURL_SHIM, "755")
    write(D .. "/in/credentials.csv", "User Name,Access Key Id,Secret Access Key\r\nhygiene,"
      .. AK .. "," .. SK .. "\r\n", "600")
    write(D .. "/in/certs/ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    write(D .. "/in/release.lua", ("return { source = %q, repository = 'team/app', semver = '2.0.1', "
      .. "latest = true, project = %q, registry = %q }\n"):format("app:build", PROJECT, REG))
  end)
  lazy_teardown(function() sh("rm -rf " .. q(D)) end)
  before_each(function()
    for _, d in ipairs {"home", "out", "tmp", "work"} do fresh(D .. "/" .. d, "755") end
    fresh(D .. "/run")
  end)

  it("uses recognisable secrets", function()
    assert.equal(40, #SK)
    assert.equal(64, #KEY)
    assert.equal(USER .. ":" .. KEY, swrauth.unbase64(b64(USER .. ":" .. KEY)))
  end)

  for _, e in ipairs(ENGINES) do
    local src = e == "skopeo" and "oci:" .. "in/oci:1.0" or "app:build"
    local push_word = e == "skopeo" and "copy" or "push"
    describe(e, function()
      -- Every credential source with docker and ctr; one with the others.
      local sources = (e == "docker" or e == "ctr") and {"sdk", "key", "csv"} or {"sdk"}
      for _, cr in ipairs(sources) do
        it("login with " .. cr .. " credentials", function()
          local r = run {args = with(G(e), {"login"}), creds = cr}
          expect(r, 0)
          check_hygiene(r)
          if e == "ctr" then
            -- No ctr: the registry is asked, by curl, the key in its config's user.
            assert.equal(1, #r.calls)
            assert.equal("curl", r.calls[1].name)
          else
            assert.equal(1, #r.calls)
            assert.equal(KEY .. "\n", r.calls[1].stdin)
            assert.is_true(has_arg(r.calls[1], "--password-stdin"))
          end
        end)
      end
      if e ~= "ctr" then
        it("login that the engine refuses (it echoes the key back)", function()
          local r = run {args = with(G(e), {"login"}), env = {SHIM_FAIL = "login"}}
          expect(r, 1)
          check_hygiene(r)
          assert.matches("<redacted>", r.stderr, 1, true)
        end)
        it("login with a wrong key, --json", function()
          local r = run {args = with(G(e), {"--json", "login"}), creds = "badkey",
                         env = {SHIM_FAIL = "login"}}
          expect(r, 1)
          check_hygiene(r)
          local rep = cjson.decode(r.stdout)
          assert.is_false(rep.ok)
          assert.matches("<redacted>", rep.error, 1, true)
          assert.equal(BADKEY .. "\n", r.calls[1].stdin)
        end)
      end
      it("login --json", function()
        local r = run {args = with(G(e), {"--json", "login"}), creds = "csv"}
        expect(r, 0)
        check_hygiene(r)
        assert.is_true(cjson.decode(r.stdout).ok)
      end)
      it("login --dry-run", function()
        local r = run {args = with(G(e), {"--dry-run", "login"}), creds = "sdk"}
        expect(r, 0)
        check_hygiene(r)
        assert.equal(0, #r.calls)
        if e ~= "ctr" then assert.matches("< <redacted>", r.stdout, 1, true) end
      end)
      it("logout", function()
        local r = run {args = with(G(e), {"logout"}), creds = "sdk"}
        expect(r, 0)
        check_hygiene(r)
      end)
      it("tag", function()
        local r = run {args = with(G(e), {"tag", REG .. "/team/app:1", REG .. "/team/app:2"}),
                       creds = "key"}
        expect(r, 0)
        check_hygiene(r)
      end)
      if e == "skopeo" then
        it("push is a usage error", function()
          local r = run {args = with(G(e), {"push", REG .. "/team/app:1"}), creds = "sdk"}
          expect(r, 2)
          check_hygiene(r)
        end)
      else
        it("push", function()
          local r = run {args = with(G(e), {"push", REG .. "/team/app:1"}), creds = "sdk"}
          expect(r, 0)
          check_hygiene(r, {ctr = true})
          if e == "ctr" then
            assert.matches("ctr takes the login key only on its command line", r.stderr, 1, true)
            local c = r.calls[1]
            assert.is_true(has_arg(c, USER .. ":" .. KEY))
          end
        end)
        it("push that fails (the engine echoes what it got)", function()
          local r = run {args = with(G(e), {"push", REG .. "/team/app:1"}), creds = "csv",
                         env = {SHIM_FAIL = "push"}}
          expect(r, 1)
          check_hygiene(r, {ctr = true})
          assert.matches("push: ", r.stderr, 1, true)
        end)
      end
      it("release --semver", function()
        local r = run {args = with(G(e), {"release", src, "--repository", "team/app",
                                          "--semver", "1.4.2"}), creds = "sdk"}
        expect(r, 0)
        check_hygiene(r, {ctr = true})
        assert.matches(REG .. "/team/app:1.4.2 sha256:", r.stdout, 1, true)
        if e ~= "ctr" then
          -- (skopeo: the login and the first copy run at the same time.)
          local login = r.calls[1].argv[2] == "login" and r.calls[1] or r.calls[2]
          assert.equal("login", login.argv[2])
          assert.equal(KEY .. "\n", login.stdin)
        end
        if e == "skopeo" then
          -- 1.4 and 1 through the registry API: one GET, then both PUTs.
          assert.equal(2, calls_of(r, "curl"))
          local get, put = r.calls[3].stdin, r.calls[4].stdin
          assert.matches('user = "' .. USER .. ':' .. KEY .. '"', get, 1, true)
          assert.equal(2, select(2, put:gsub("\ndata%-binary = ", "")))
          assert.matches("/v2/team/app/manifests/1\"", put, 1, true)
        end
      end)
      it("release --json with the credentials CSV", function()
        local r = run {args = with(G(e), {"--json", "release", src, "--repository", "team/app",
                                          "--tag", "1"}), creds = "csv"}
        expect(r, 0)
        check_hygiene(r, {ctr = true})
        assert.is_true(cjson.decode(r.stdout).ok)
      end)
      it("release that fails at the push, --json", function()
        local r = run {args = with(G(e), {"--json", "--retries", "1", "release", src,
                                          "--repository", "team/app", "--tag", "1"}),
                       creds = "key", env = {SHIM_FAIL = push_word}}
        expect(r, 1)
        check_hygiene(r, {ctr = true})
        local rep = cjson.decode(r.stdout)
        assert.is_false(rep.ok)
        -- ctr's push carries the key, which the shim echoes back.
        if e == "ctr" then assert.matches("<redacted>", rep.error, 1, true) end
      end)
      if e == "docker" or e == "ctr" then it("release FILE.lua", function()
        local r = run {args = {"--engine", e, "release", D .. "/in/release.lua"}, creds = "sdk"}
        expect(r, 0)
        check_hygiene(r, {ctr = true})
        assert.matches(REG .. "/team/app:2.0.1 ", r.stdout, 1, true)
      end) end
      if e == "ctr" or e == "nerdctl" or e == "podman" then
      it("release --cert-dir (private hosts directory for ctr and nerdctl)", function()
        local r = run {args = with(G(e), {"--cert-dir", D .. "/in/certs", "release", src,
                                          "--repository", "team/app", "--tag", "1"}),
                       creds = "sdk"}
        expect(r, 0)
        check_hygiene(r, {ctr = true})
        if e == "ctr" or e == "nerdctl" then
          local seen = false
          for _, c in ipairs(r.calls) do
            if c.tmp:find("hosts.toml", 1, true) then seen = true end
          end
          assert.is_true(seen, "the engine saw the hosts.toml")
        end
      end) end
      it("release --dry-run", function()
        local r = run {args = with(G(e), {"--dry-run", "release", src, "--repository",
                                          "team/app", "--semver", "1.4.2"}), creds = "csv"}
        expect(r, 0)
        check_hygiene(r)
        assert.equal(0, #r.calls)
        if e == "ctr" then assert.matches(USER .. ":<redacted>", r.stdout, 1, true) end
      end)
      it("missing engine", function()
        local r = run {args = with(G(e), {"release", src, "--repository", "team/app", "--tag", "1"}),
                       creds = "sdk", path = D .. "/none"}
        expect(r, 4)
        check_hygiene(r)
      end)
      it("bad flag", function()
        local r = run {args = with(G(e), {"login", "--bogus"}), creds = "sdk"}
        expect(r, 2)
        check_hygiene(r)
      end)
    end)
  end

  describe("engine auto", function()
    it("release picks an engine and keeps the secrets", function()
      local r = run {args = {"--project", PROJECT, "--registry", REG, "release", "app:build",
                             "--repository", "team/app", "--tag", "1"}, creds = "sdk"}
      expect(r, 0)
      check_hygiene(r)
      assert.is_true(calls_of(r, "docker") > 0)
    end)
    it("no engine at all exits 4", function()
      local r = run {args = {"--project", PROJECT, "login"}, creds = "sdk", path = D .. "/none"}
      expect(r, 4)
      check_hygiene(r)
    end)
  end)

  describe("commands without an engine", function()
    for _, cr in ipairs {"sdk", "key", "csv"} do
      it("key with " .. cr .. " credentials prints the key (its purpose) and nothing else", function()
        local r = run {args = {"key"}, creds = cr}
        expect(r, 0)
        assert.equal(KEY .. "\n", r.stdout)
        assert.equal("", r.stderr)
        check_hygiene(r, {stdout = true})
      end)
    end
    it("key --credentials-file", function()
      local r = run {args = {"key", "--credentials-file", D .. "/in/credentials.csv"}, creds = "none"}
      expect(r, 0)
      assert.equal(KEY .. "\n", r.stdout)
      check_hygiene(r, {stdout = true})
    end)
    local bad_sks = {
      {"a trailing space", SK .. " "}, {"a trailing newline", SK .. "\n"},
      {"a non-ASCII byte", SK:sub(1, 20) .. "\195\169" .. SK:sub(21)},
      {"a control character", SK:sub(1, 30) .. "\1" .. SK:sub(31)},
      {"2000 bytes", SK:rep(50)},
    }
    for _, b in ipairs(bad_sks) do
      it("an SK with " .. b[1] .. " exits 3 without quoting it", function()
        local r = run {args = {"key"}, creds = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = b[2]}}
        expect(r, 3)
        assert.matches("HUAWEICLOUD_SDK_SK", r.stderr, 1, true)
        check_hygiene(r)
        r = run {args = with(G("docker"), {"login"}),
                 creds = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = b[2]}}
        expect(r, 3)
        check_hygiene(r)
      end)
    end
    it("a malformed SK in the credentials CSV exits 3 naming the line, not the SK", function()
      write(D .. "/in/bad.csv", "User Name,Access Key Id,Secret Access Key\nu," .. AK .. ","
        .. SK:sub(1, 20) .. " " .. SK:sub(21) .. "\n", "600")
      local r = run {args = {"key", "--credentials-file", D .. "/in/bad.csv"}, creds = "none"}
      expect(r, 3)
      assert.matches("line 2", r.stderr, 1, true)
      check_hygiene(r)
    end)
    it("a malformed SWRAUTH_LOGIN_KEY exits 3 without quoting it", function()
      local r = run {args = {"key"}, creds = {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY:sub(1, 63)}}
      expect(r, 3)
      check_hygiene(r)
      r = run {args = {"key"}, creds = {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY .. "\n"}}
      expect(r, 3)
      check_hygiene(r)
    end)
    it("login-command prints the vendor's -p form (its purpose) and warns", function()
      local r = run {args = {"--project", PROJECT, "login-command"}, creds = "sdk"}
      expect(r, 0)
      assert.equal("docker login -u " .. USER .. " -p " .. KEY .. " " .. SWR .. "\n", r.stdout)
      assert.matches("warning: -p puts the login key in your shell history", r.stderr, 1, true)
      check_hygiene(r, {stdout = true})
    end)
    it("login-command --stdin has no key at all", function()
      for _, engine in ipairs {"auto", "docker", "podman", "buildah", "skopeo", "nerdctl"} do
        local r = run {args = {"--project", PROJECT, "--engine", engine, "login-command", "--stdin"},
                       creds = "csv"}
        expect(r, 0)
        check_hygiene(r)
      end
    end)
    it("login-command --ctr pull|push prints ctr's form (its purpose) and warns", function()
      for _, action in ipairs {"pull", "push"} do
        local r = run {args = {"--project", PROJECT, "login-command", "--ctr", action,
                               SWR .. "/team/app:1"}, creds = "key"}
        expect(r, 0)
        assert.matches("--user " .. USER .. ":" .. KEY, r.stdout, 1, true)
        assert.matches("warning: ctr takes the login key only on its command line", r.stderr, 1, true)
        check_hygiene(r, {stdout = true})
      end
    end)
    it("login-command --ctr --stdin is a usage error", function()
      local r = run {args = {"--project", PROJECT, "login-command", "--ctr", "pull", "x", "--stdin"}}
      expect(r, 2)
      check_hygiene(r)
    end)
    it("parse login redacts a pasted key, from an argument and from stdin", function()
      local line = "docker login -u " .. USER .. " -p " .. KEY .. " " .. SWR
      local r = run {args = {"parse", "login", line}, creds = "none"}
      expect(r, 0)
      assert.matches("key: <redacted>", r.stdout, 1, true)
      check_hygiene(r)
      r = run {args = {"--json", "parse", "login", "-"}, creds = "none", stdin = line .. "\n"}
      expect(r, 0)
      assert.equal("<redacted>", cjson.decode(r.stdout).key)
      check_hygiene(r)
      r = run {args = {"parse", "login", "-"}, creds = "none",
               stdin = "ctr image push --user " .. USER .. ":" .. KEY .. " " .. SWR .. "/a/b:1\n"}
      expect(r, 0)
      check_hygiene(r)
    end)
    it("parse login with the key in a malformed command exits 2 without quoting it", function()
      for _, line in ipairs {
        "docker login -u " .. USER .. " -p " .. KEY .. " " .. SWR .. "; id",
        "docker login -u " .. USER .. " -p '" .. KEY .. " " .. SWR,
        "docker login -u " .. USER .. " -p " .. KEY .. " --bogus " .. SWR,
        "docker login -u " .. USER .. " -p " .. KEY .. " -p " .. KEY .. " " .. SWR,
        "docker login -u " .. USER .. " -p " .. KEY .. " " .. SWR .. " extra",
        "ctr image push --user " .. USER .. ":" .. KEY .. " ../x",
      } do
        local r = run {args = {"parse", "login", "-"}, creds = "none", stdin = line}
        expect(r, 2)
        check_hygiene(r)
      end
    end)
    it("parse image and version", function()
      local r = run {args = {"parse", "image", SWR .. "/team/app:1"}}
      expect(r, 0)
      check_hygiene(r)
      r = run {args = {"version"}}
      expect(r, 0)
      check_hygiene(r)
    end)
  end)

  describe("auth files and printed logins", function()
    local docker_json, auth_json
    before_each(function()
      docker_json, auth_json = D .. "/home/.docker/config.json", D .. "/home/auth.json"
    end)
    it("configure-docker writes no secret (also --remove, --dry-run, --json)", function()
      for _, extra in ipairs {{}, {"--json"}, {"--dry-run"}, {"--remove"}} do
        local r = run {args = with({"--project", PROJECT, "configure-docker"}, extra)}
        expect(r, 0)
        check_hygiene(r)
      end
    end)
    for _, kind in ipairs {"docker", "containers"} do
      it("config " .. kind .. " writes the auth value 0600, and --logout removes it", function()
        local file = kind == "docker" and docker_json or auth_json
        local r = run {args = {"--project", PROJECT, "--registry", REG, "config", kind}, creds = "sdk"}
        expect(r, 0)
        check_hygiene(r, {files = {[file] = true}})
        assert.matches(b64(USER .. ":" .. KEY), read(file), 1, true)
        r = run {args = {"--project", PROJECT, "--registry", REG, "--json", "config", kind},
                 creds = "csv"}
        expect(r, 0)
        check_hygiene(r, {files = {[file] = true}})
        r = run {args = {"--project", PROJECT, "--registry", REG, "config", kind, "--logout"},
                 creds = "none"}
        expect(r, 0)
        check_hygiene(r)
        assert.falsy(read(file):find(b64(USER .. ":" .. KEY), 1, true))
      end)
      it("config " .. kind .. " --dry-run writes nothing", function()
        local r = run {args = {"--project", PROJECT, "--dry-run", "config", kind}, creds = "key"}
        expect(r, 0)
        check_hygiene(r)
        assert.equal(0, #r.files)
      end)
    end
    it("config docker --file NEWDIR/config.json: 0600 in a 0700 directory", function()
      local file = D .. "/out/new/dir/config.json"
      local r = run {args = {"--project", PROJECT, "config", "docker", "--file", file}, creds = "sdk"}
      expect(r, 0)
      check_hygiene(r, {files = {[file] = true}})
      for _, f in ipairs(tree(D .. "/out/new")) do
        if f.type == "d" then assert.equal("700", f.mode, f.path) end
      end
    end)
    local printers = {
      {"kubernetes", {"regcred"}, {"regcred", "-o", "json"}, {"regcred", "-n", "ci"}},
      {"containerd", {}, {"--config-version", "3"}},
      {"gitlab", {}},
      {"crictl", {}},
    }
    for _, p in ipairs(printers) do
      local name = p[1]
      for i = 2, #p do
        local extra = p[i]
        local label = name .. (#extra > 0 and " " .. table.concat(extra, " ") or "")
        it("config " .. label .. " on stdout (its purpose) and with --file (0600)", function()
          local base = {"--project", PROJECT, "--registry", REG, "config", name}
          local r = run {args = with(base, extra), creds = "sdk"}
          expect(r, 0)
          check_hygiene(r, {stdout = true})
          local out = D .. "/out/" .. name .. i .. ".txt"
          r = run {args = with(base, extra, {"--file", out}), creds = "csv"}
          expect(r, 0)
          check_hygiene(r, {files = {[out] = true}})
          assert.equal("600", tree(D .. "/out")[1].mode)
          assert.truthy(read(out))
          r = run {args = with({"--json"}, base, extra, {"--file", out}), creds = "key"}
          expect(r, 0)
          check_hygiene(r, {files = {[out] = true}})
          r = run {args = with({"--dry-run"}, base, extra), creds = "key"}
          expect(r, 0)
          check_hygiene(r, {files = {[out] = true}})
        end)
      end
    end
    it("config gitlab --helper has no secret", function()
      local r = run {args = {"--project", PROJECT, "config", "gitlab", "--helper", "swr"}, creds = "sdk"}
      expect(r, 0)
      check_hygiene(r)
    end)
    it("--file over an existing world-readable file leaves it 0600", function()
      local out = D .. "/out/crictl.txt"
      write(out, "old\n", "644")
      local r = run {args = {"--project", PROJECT, "config", "crictl", "--file", out}, creds = "sdk"}
      expect(r, 0)
      check_hygiene(r, {files = {[out] = true}})
    end)
    it("config commands without credentials exit 3 and print nothing secret", function()
      for _, name in ipairs {"docker", "containers", "kubernetes", "containerd", "gitlab", "crictl"} do
        local args = {"--project", PROJECT, "config", name}
        if name == "kubernetes" then args[#args + 1] = "regcred" end
        local r = run {args = args, creds = {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK .. " "}}
        expect(r, 3)
        check_hygiene(r)
      end
    end)
  end)

  describe("docker-credential-swr", function()
    local LOG
    before_each(function() LOG = D .. "/out/helper.log" end)
    local function helper(verb, stdin, creds, env)
      env = env or {}
      env.SWRAUTH_HELPER_LOG = LOG
      return run {helper = true, args = {verb}, stdin = stdin, creds = creds, env = env}
    end
    local function check_log()
      local mode = tree(D .. "/out")[1]
      assert.equal("600", mode and mode.mode, "the log is 0600")
      local text = read(LOG) or ""
      assert.are.same({}, found(text, ALL_FORMS), mask(text))
      assert.falsy(text:find(AK, 1, true), "the log holds the whole AK")
    end
    for _, cr in ipairs {"sdk", "key", "csv"} do
      it("get with " .. cr .. " credentials answers the key (its purpose); the log holds none", function()
        local r = helper("get", "https://" .. SWR .. "/v2/\n", cr)
        expect(r, 0)
        local ans = cjson.decode(r.stdout)
        assert.equal(KEY, ans.Secret)
        assert.equal(USER, ans.Username)
        check_hygiene(r, {stdout = true})
        check_log()
      end)
    end
    it("get with the config file (ak + sk, ak + login_key)", function()
      local cfg = D .. "/out/helper.json"
      for _, body in ipairs {
        cjson.encode {ak = AK, sk = SK, registries = {[REG] = PROJECT}},
        cjson.encode {ak = AK, login_key = KEY, registries = {[REG] = PROJECT}},
      } do
        write(cfg, body, "600")
        local r = helper("get", REG, "none", {SWRAUTH_HELPER_CONFIG = cfg})
        expect(r, 0)
        assert.equal(KEY, cjson.decode(r.stdout).Secret)
        -- The config file is the input: it is the one file allowed to hold them.
        r.files = {}
        check_hygiene(r, {stdout = true})
        check_log()
        os.remove(cfg)
        os.remove(LOG)
      end
    end)
    it("get for a host it does not serve, and without credentials", function()
      local r = helper("get", "https://index.docker.io/v1/", "sdk")
      expect(r, 1)
      assert.equal("credentials not found in native keychain\n", r.stdout)
      check_hygiene(r)
      check_log()
      r = helper("get", SWR, "none")
      expect(r, 1)
      check_hygiene(r)
    end)
    it("get with malformed credentials fails without quoting them", function()
      for _, creds in ipairs {
        {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK .. "\n"},
        {HUAWEICLOUD_SDK_AK = AK, HUAWEICLOUD_SDK_SK = SK:sub(1, 20) .. "\255" .. SK:sub(21)},
        {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY .. "0"},
        {SWRAUTH_AK = AK, SWRAUTH_LOGIN_KEY = KEY:sub(1, 40) .. "xyz" .. KEY:sub(44)},
      } do
        local r = helper("get", SWR, creds)
        expect(r, 1)
        assert.matches("^docker%-credential%-swr: ", r.stdout)
        check_hygiene(r)
        check_log()
      end
    end)
    it("store takes the secret on stdin, stores and logs nothing of it", function()
      local body = cjson.encode {ServerURL = SWR, Username = USER, Secret = KEY}
      local r = helper("store", body, "sdk")
      expect(r, 0)
      assert.equal("", r.stdout)
      check_hygiene(r)
      check_log()
    end)
    it("store with malformed JSON holding the key answers without quoting it", function()
      for _, body in ipairs {
        '{"ServerURL":"' .. SWR .. '","Username":"' .. USER .. '","Secret":"' .. KEY,
        '{"ServerURL":"' .. SWR .. '","Secret":' .. KEY .. '}',
        '{"Username":"' .. USER .. '","Secret":"' .. KEY .. '"}',
        '{"ServerURL":"' .. SWR .. '","Secret":"' .. KEY .. '"}',
        '{"ServerURL":"' .. SWR .. '","Username":"' .. USER .. '","Secret":["' .. KEY .. '"]}',
        '["' .. KEY .. '"]',
      } do
        local r = helper("store", body, "sdk")
        expect(r, 1)
        check_hygiene(r)
      end
    end)
    it("erase, list and version", function()
      local r = helper("erase", SWR, "sdk")
      expect(r, 0)
      check_hygiene(r)
      r = helper("list", "", "sdk", {SWRAUTH_PROJECT = PROJECT, SWRAUTH_REGISTRY = REG})
      expect(r, 0)
      assert.equal(USER, cjson.decode(r.stdout)[REG])
      check_hygiene(r)
      r = helper("version", "", "sdk")
      expect(r, 0)
      check_hygiene(r)
      check_log()
    end)
    it("usage errors", function()
      for _, verb in ipairs {"bogus", "--bogus"} do
        local r = helper(verb, KEY, "sdk")
        expect(r, 1)
        check_hygiene(r)
      end
    end)
  end)

  describe("the Lua pipeline", function()
    -- In this process: an SK in pipeline.new's credentials, and `env`
    -- overrides that try to hand the secret variables to the engines.
    local pipeline = require "swrauth.pipeline"
    local function new(extra)
      local out, err = {}, {}
      local o = {
        project = PROJECT, registry = REG, engine = "podman", backoff = 0,
        credentials = {ak = AK, sk = SK},
        env = {PATH = D .. "/bin:/usr/bin:/bin", REC_DIR = D .. "/rec", TMPDIR = D .. "/tmp",
               DOCKER_CONFIG = D .. "/home/.docker", REGISTRY_AUTH_FILE = D .. "/home/auth.json",
               HUAWEICLOUD_SDK_SK = SK, SWRAUTH_LOGIN_KEY = KEY},
        on_event = function(ev) err[#err + 1] = (ev.message or ev.detail or "") .. "\n" end,
      }
      for k, v in pairs(extra or {}) do
        if k == "env" then for ek, ev in pairs(v) do o.env[ek] = ev end else o[k] = v end
      end
      return pipeline.new(o), out, err
    end
    local function collect(out, err)
      local r = {status = 0, stdout = table.concat(out), stderr = table.concat(err),
                 label = "pipeline", files = {}, leftover = {}}
      r.calls = {}
      for n = 1, tonumber(read(D .. "/rec/count") or "0") do
        local c = {argv = {}, names = {}}
        for w in (read(D .. "/rec/" .. n .. ".argv") or ""):gmatch("([^%z]*)%z") do
          c.argv[#c.argv + 1] = w
        end
        c.name = c.argv[1]
        c.env_text = read(D .. "/rec/" .. n .. ".env") or ""
        for kv in c.env_text:gmatch("([^%z]*)%z") do
          local k = kv:match("^([^=]*)=")
          if k then c.names[k] = true end
        end
        c.stdin = read(D .. "/rec/" .. n .. ".stdin") or ""
        c.tmp, c.tmpdata = "", ""
        r.calls[n] = c
      end
      return r
    end
    before_each(function() fresh(D .. "/rec") end)
    it("never hands HUAWEICLOUD_SDK_SK or SWRAUTH_LOGIN_KEY to an engine, even through env", function()
      local p, out, err = new()
      local pushed = p:release {source = "app:build", repository = "team/app", tags = {"1", "2"}}
      assert.truthy(pushed)
      local r = collect(out, err)
      assert.is_true(#r.calls >= 3)
      check_hygiene(r)
      -- Explicit credentials give the engine its user (they once gave none).
      assert.same({"podman", "login", "-u", USER, "--password-stdin", REG}, r.calls[1].argv)
      assert.equal(KEY .. "\n", r.calls[1].stdin)
    end)
    it("redacts the key a failing engine echoes, in the message and the JSON report", function()
      -- The key derived from explicit credentials is known to the redactor.
      local p, out, err = new {retries = 1, env = {SHIM_FAIL = "login"}}
      local ok, msg, kind = p:release {source = "app:build", repository = "team/app", tags = {"1"}}
      assert.is_nil(ok)
      assert.equal("runtime", kind)
      assert.matches("<redacted>", msg, 1, true)
      assert.are.same({}, found(msg, ALL_FORMS))
      out[#out + 1] = require("swrauth.json").encode(p:report())
      local r = collect(out, err)
      check_hygiene(r)
    end)
    it("redacts with ctr, whose argv holds the key", function()
      local p, out, err = new {engine = "ctr", retries = 1, env = {SHIM_FAIL = "push"}}
      local ok, msg = p:push(REG .. "/team/app:1")
      assert.is_nil(ok)
      assert.are.same({}, found(msg, ALL_FORMS))
      local r = collect(out, err)
      check_hygiene(r, {ctr = true})
    end)
  end)
end)

--- Files: private and atomic writes, temporary directories, locks.
--
-- Every file swrauth writes that may hold a secret is created with mode
-- 0600 (directories 0700). `write_atomic` replaces a file so that a reader
-- sees the old file or the new one, never half of one; `lock` takes the
-- `fcntl` lock on `FILE.lock` that swrauth's writers of a file share.
-- Temporary directories are removed when a signal stops swrauth.
--
-- Uses `lua-luv` (files) and `lua-filesystem` (the `fcntl` lock).
--
-- @module swrauth.fs
local M = {}

local uv = require "luv"
local lfs = require "lfs"
local proc = require "swrauth.proc"

local ipairs, tostring, format, byte, setmetatable = ipairs, tostring, string.format, string.byte,
  setmetatable
local sort = table.sort

local PRIVATE, PRIVATE_DIR = tonumber("600", 8), tonumber("700", 8)

-- luv's messages start with the errno name ("EACCES: permission denied:
-- /path"); keep the readable part.
local function uvmsg(err)
  return (tostring(err):gsub("^E%u+: ", ""):gsub(": /.*$", ""))
end
M.message = uvmsg

--- The directory part of a path ("." for a bare name).
function M.dirname(path)
  local d = path:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

--- The last part of a path.
function M.basename(path)
  return path:match("([^/]*)$")
end

--- An absolute path for `path` (relative to the current directory).
function M.abspath(path)
  if path:sub(1, 1) == "/" then return path end
  return uv.cwd() .. "/" .. path
end

--- Mode bits (a number) and type ("file", "directory", ...) of a path.
-- @treturn integer|nil
-- @treturn string type, or the reason it cannot be read
function M.mode(path)
  local st, why = uv.fs_stat(path)
  if not st then return nil, why end
  return st.mode % 4096, st.type
end

--- The user id of this process.
function M.getuid()
  return uv.getuid()
end

--- The home directory: `HOME`, else the password database's.
-- @tparam function getenv
function M.home(getenv)
  local h = getenv("HOME")
  if h and h ~= "" then return h end
  local pw = uv.os_get_passwd()
  return pw and pw.homedir or "/"
end

--- Reads a whole file.
-- @treturn string|nil the contents
-- @treturn[2] string the reason
function M.read(path)
  local f, why = io.open(path, "rb")
  if not f then return nil, why end
  local data, rerr = f:read("a")
  f:close()
  if not data then return nil, path .. ": " .. tostring(rerr) end
  return data
end

--- Lists a directory's entries, sorted by name.
-- @treturn table|nil `{ {name=, type=}, ... }`
-- @treturn[2] string the reason
function M.list(dir)
  local h, why = uv.fs_scandir(dir)
  if not h then return nil, why end
  local list = {}
  while true do
    local name, t = uv.fs_scandir_next(h)
    if not name then break end
    list[#list + 1] = {name = name, type = t}
  end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

--- Writes a file readable and writable by its owner only (0600); an
-- existing file is truncated and made 0600 too.
-- @treturn true|nil
-- @treturn[2] string the reason
function M.write_private(path, data)
  local fd, why = uv.fs_open(path, "w", PRIVATE)
  if not fd then return nil, why end
  uv.fs_fchmod(fd, PRIVATE)
  local ok, werr = uv.fs_write(fd, data, 0)
  uv.fs_close(fd)
  if not ok then return nil, werr end
  return true
end

--- Creates the missing directories of `dir` with mode 0700.
-- @treturn true|nil
-- @treturn[2] string the reason
function M.mkdir_p(dir)
  local st = uv.fs_stat(dir)
  if st then
    if st.type ~= "directory" then return nil, dir .. ": not a directory" end
    return true
  end
  local parent = M.dirname(dir)
  if parent ~= dir then
    local ok, err = M.mkdir_p(parent)
    if not ok then return nil, err end
  end
  local ok, err, code = uv.fs_mkdir(dir, PRIVATE_DIR)
  if not ok and code ~= "EEXIST" then
    return nil, "cannot create directory " .. dir .. ": " .. uvmsg(err)
  end
  return true
end

--- Removes a directory and everything in it (symbolic links are removed,
-- never followed).
function M.remove_tree(dir)
  for _, e in ipairs(M.list(dir) or {}) do
    local path = dir .. "/" .. e.name
    if e.type == "directory" then M.remove_tree(path) else uv.fs_unlink(path) end
  end
  uv.fs_rmdir(dir)
end

local T = {}
T.__index = T

--- Creates a private (0700) temporary directory under `TMPDIR` (or /tmp),
-- removed by `:remove()`, or when a signal stops swrauth.
-- @treturn table|nil `{path=}` with `:file(name, data)` (writes a 0600
--   file in it, returns its path) and `:remove()`
-- @treturn[2] string the reason
function M.tempdir()
  local base = os.getenv("TMPDIR")
  if not base or base == "" then base = "/tmp" end
  local path, err = uv.fs_mkdtemp(base .. "/swrauth-XXXXXX")
  if not path then return nil, "cannot make a temporary directory: " .. uvmsg(err) end
  local t = setmetatable({path = path}, T)
  t.token = proc.at_exit(function() M.remove_tree(path) end)
  return t
end

--- Writes `data` to a private file in the directory.
-- @treturn string|nil its path
-- @treturn[2] string the reason
function T:file(name, data)
  local path = self.path .. "/" .. name
  local ok, err = M.write_private(path, data or "")
  if not ok then return nil, "cannot write " .. path .. ": " .. uvmsg(err) end
  return path
end

--- Removes the directory and what it holds.
function T:remove()
  if self.path then M.remove_tree(self.path) end
  proc.cancel(self.token)
  self.path = nil
end

----------------------------------------------------------------- writes

--- The file a write must replace: a symlink's target (dangling or not),
-- as docker does, so that a file linked from elsewhere stays a link.
-- @treturn string|nil
-- @treturn[2] string the reason
function M.resolve_link(path)
  for _ = 1, 40 do
    local st = uv.fs_lstat(path)
    if not st or st.type ~= "link" then return path end
    local target = uv.fs_readlink(path)
    if not target then return path end
    if target:sub(1, 1) ~= "/" then target = M.dirname(path) .. "/" .. target end
    path = target
  end
  return nil, path .. ": too many levels of symbolic links"
end

-- A random name for a temporary file beside `path`.
local function temp_name(path)
  local rnd = uv.random(8)
  local suffix = rnd:gsub(".", function(c) return format("%02x", byte(c)) end)
  return M.dirname(path) .. "/." .. M.basename(path) .. "." .. tostring(uv.os_getpid()) .. "."
    .. suffix
end

-- Whether a file written by root for `uid` may be given to that user: only
-- the user who ran sudo (`SUDO_UID`), only in a directory of their own.
local function give_to(uid, path)
  local sudo = tonumber(os.getenv("SUDO_UID") or "")
  if not sudo or sudo ~= uid or uid == 0 then return false end
  local dir = uv.fs_stat(M.dirname(path))
  return dir ~= nil and dir.uid == uid
end

--- Writes a file atomically: a new file beside `path`, created exclusively
-- (`O_EXCL`, never through a planted link) with mode `mode` (default
-- 0600), synced, then renamed over `path` and the directory synced.
-- Run as root over a file of another user, the new file stays root's,
-- except for the user who ran sudo in a directory of their own.
-- @tparam string path
-- @tparam string data
-- @tparam[opt] integer mode
-- @treturn true|nil
-- @treturn[2] string the reason (the file is left as it was)
function M.write_atomic(path, data, mode)
  mode = mode or PRIVATE
  local old = uv.fs_stat(path)
  local tmp = temp_name(path)
  local fd, oerr = uv.fs_open(tmp, "wx", mode)
  if not fd then return nil, "cannot write " .. path .. ": " .. uvmsg(oerr) end
  local function fail(msg)
    uv.fs_close(fd)
    uv.fs_unlink(tmp)
    return nil, "cannot write " .. path .. ": " .. msg
  end
  local off = 0
  while off < #data do
    local n, werr = uv.fs_write(fd, data:sub(off + 1), off)
    if not n then return fail(uvmsg(werr)) end
    off = off + n
  end
  uv.fs_fchmod(fd, mode)
  if old and uv.getuid() == 0 and old.uid ~= 0 and give_to(old.uid, path) then
    uv.fs_fchown(fd, old.uid, old.gid)
  end
  local synced, serr = uv.fs_fsync(fd)
  if not synced then return fail(uvmsg(serr)) end
  uv.fs_close(fd)
  local ok, rerr = uv.fs_rename(tmp, path)
  if not ok then
    uv.fs_unlink(tmp)
    return nil, "cannot write " .. path .. ": " .. uvmsg(rerr)
  end
  local dfd = uv.fs_open(M.dirname(path), "r", 0)
  if dfd then
    uv.fs_fsync(dfd)
    uv.fs_close(dfd)
  end
  return true
end

----------------------------------------------------------------- locks

--- How long `lock` waits, in seconds, by default.
M.LOCK_TIMEOUT = 30

--- Takes the `fcntl` write lock on `PATH.lock` (created 0600 when
-- missing), waiting at most `timeout` seconds.
-- @tparam string path the file the lock guards
-- @tparam[opt] number timeout
-- @treturn function|nil releases the lock
-- @treturn[2] string why it could not be taken
function M.lock(path, timeout)
  local lockpath = path .. ".lock"
  local fd, oerr = uv.fs_open(lockpath, "a", PRIVATE)
  if not fd then return nil, "cannot create the lock file " .. lockpath .. ": " .. uvmsg(oerr) end
  uv.fs_close(fd)
  local fh, ferr = io.open(lockpath, "r+")
  if not fh then return nil, "cannot open the lock file " .. lockpath .. ": " .. tostring(ferr) end
  local deadline = proc.clock() + (timeout or M.LOCK_TIMEOUT)
  local wait = 0.002
  while true do
    local ok, lerr = lfs.lock(fh, "w")
    if ok then
      return function()
        lfs.unlock(fh)
        fh:close()
      end
    end
    if proc.clock() > deadline then
      fh:close()
      return nil, "timed out waiting for the lock on " .. lockpath .. " (" .. tostring(lerr) .. ")"
    end
    proc.sleep(wait)
    if wait < 0.05 then wait = wait * 2 end
  end
end

return M

--- Where swrauth's own files live (the XDG base directories).
--
-- Pure functions of the environment: no other module is loaded, so the
-- credential helper's fast path (bin/docker-credential-swr) can use them
-- before anything else.
--
-- @module swrauth.paths
local M = {}

local function nonempty(v)
  if v == "" then return nil end
  return v
end

-- $VAR, else $HOME/DEFAULT; nil without either.
local function base(getenv, var, default)
  local b = nonempty(getenv(var))
  if b then return b end
  local home = nonempty(getenv("HOME"))
  return home and home .. "/" .. default or nil
end

--- The credential helper's config file: `$SWRAUTH_HELPER_CONFIG`, else
-- `$XDG_CONFIG_HOME/swrauth/config.json`, else
-- `~/.config/swrauth/config.json`.
-- @tparam function getenv
-- @treturn string|nil nil without HOME or XDG_CONFIG_HOME
-- @treturn boolean whether the path was given by `SWRAUTH_HELPER_CONFIG`
function M.helper_config(getenv)
  local p = nonempty(getenv("SWRAUTH_HELPER_CONFIG"))
  if p then return p, true end
  local b = base(getenv, "XDG_CONFIG_HOME", ".config")
  return b and b .. "/swrauth/config.json" or nil, false
end

--- The cache directory: `$XDG_CACHE_HOME/swrauth`, else `~/.cache/swrauth`.
-- @tparam function getenv
-- @treturn string|nil
function M.cache_dir(getenv)
  local b = base(getenv, "XDG_CACHE_HOME", ".cache")
  return b and b .. "/swrauth" or nil
end

return M

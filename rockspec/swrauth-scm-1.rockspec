rockspec_format = "3.0"
package = "swrauth"
version = "scm-1"
source = {
  url = "git+file:///srv/git/swrauth.git",
}
description = {
  summary = "Huawei Cloud SWR login keys, commands and release pipelines for Lua",
  detailed = [[
swrauth.so is a C module on OpenSSL 3 that derives Huawei Cloud SWR's
long-term login key (HMAC-SHA256, key = SK, message = AK) and formats and
parses login commands, config.json auth values, the console's credentials
CSV and image references. Lua modules build release pipelines on it (log
in, tag, push with docker, podman, buildah, skopeo, nerdctl or ctr),
a swrauth command and a docker credential helper.
]],
  license = "MIT",
  labels = { "docker", "registry", "huawei", "swr", "hmac", "openssl" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
  "lua-cjson",
  "argparse",
  "luv",
  "luafilesystem",
}
external_dependencies = {
  OPENSSL = {
    header = "openssl/evp.h",
    library = "crypto",
  },
}
build = {
  type = "builtin",
  modules = {
    swrauth = {
      sources = {
        "src/lswrauth.c", "src/core.c", "src/util.c", "src/format.c",
        "src/image.c", "src/parse.c", "src/base64.c", "src/login.c", "src/csv.c",
      },
      defines = { "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED" },
      incdirs = { "include", "src", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(OPENSSL_LIBDIR)" },
      libraries = { "crypto" },
    },
    ["swrauth.authfile"] = "lua/swrauth/authfile.lua",
    ["swrauth.cli"] = "lua/swrauth/cli.lua",
    ["swrauth.cli_config"] = "lua/swrauth/cli_config.lua",
    ["swrauth.commands"] = "lua/swrauth/commands.lua",
    ["swrauth.credentials"] = "lua/swrauth/credentials.lua",
    ["swrauth.credhelper"] = "lua/swrauth/credhelper.lua",
    ["swrauth.engines"] = "lua/swrauth/engines.lua",
    ["swrauth.json"] = "lua/swrauth/json.lua",
    ["swrauth.pipeline"] = "lua/swrauth/pipeline.lua",
    ["swrauth.proc"] = "lua/swrauth/proc.lua",
    ["swrauth.registry"] = "lua/swrauth/registry.lua",
  },
  install = {
    bin = {
      swrauth = "bin/swrauth",
      ["docker-credential-swr"] = "bin/docker-credential-swr",
    },
  },
}
test = {
  type = "command",
  command = "make check",
}

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
        "src/lswrauth.c", "src/base64.c", "src/core.c", "src/csv.c", "src/format.c",
        "src/image.c", "src/login.c", "src/names.c", "src/parse.c", "src/region.c",
        "src/sign.c", "src/util.c",
      },
      defines = { "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED" },
      incdirs = { "include", "src", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(OPENSSL_LIBDIR)" },
      libraries = { "crypto" },
    },
    ["swrauth.authfile"] = "lua/swrauth/authfile.lua",
    ["swrauth.cli"] = "lua/swrauth/cli.lua",
    ["swrauth.context"] = "lua/swrauth/context.lua",
    ["swrauth.credentials"] = "lua/swrauth/credentials.lua",
    ["swrauth.credhelper"] = "lua/swrauth/credhelper.lua",
    ["swrauth.engines"] = "lua/swrauth/engines.lua",
    ["swrauth.exports"] = "lua/swrauth/exports.lua",
    ["swrauth.fields"] = "lua/swrauth/fields.lua",
    ["swrauth.fs"] = "lua/swrauth/fs.lua",
    ["swrauth.helperconfig"] = "lua/swrauth/helperconfig.lua",
    ["swrauth.json"] = "lua/swrauth/json.lua",
    ["swrauth.logins"] = "lua/swrauth/logins.lua",
    ["swrauth.options"] = "lua/swrauth/options.lua",
    ["swrauth.paths"] = "lua/swrauth/paths.lua",
    ["swrauth.pipeline"] = "lua/swrauth/pipeline.lua",
    ["swrauth.proc"] = "lua/swrauth/proc.lua",
    ["swrauth.profiles"] = "lua/swrauth/profiles.lua",
    ["swrauth.registry"] = "lua/swrauth/registry.lua",
    ["swrauth.release"] = "lua/swrauth/release.lua",
    ["swrauth.semver"] = "lua/swrauth/semver.lua",
    ["swrauth.steps"] = "lua/swrauth/steps.lua",
    ["swrauth.sts"] = "lua/swrauth/sts.lua",
    ["swrauth.swrapi"] = "lua/swrauth/swrapi.lua",
    ["swrauth.text"] = "lua/swrauth/text.lua",
    ["swrauth.time"] = "lua/swrauth/time.lua",
    ["swrauth.transport"] = "lua/swrauth/transport.lua",
    ["swrauth.cmd.check"] = "lua/swrauth/cmd/check.lua",
    ["swrauth.cmd.config"] = "lua/swrauth/cmd/config.lua",
    ["swrauth.cmd.configure_docker"] = "lua/swrauth/cmd/configure_docker.lua",
    ["swrauth.cmd.credentials"] = "lua/swrauth/cmd/credentials.lua",
    ["swrauth.cmd.key"] = "lua/swrauth/cmd/key.lua",
    ["swrauth.cmd.login"] = "lua/swrauth/cmd/login.lua",
    ["swrauth.cmd.login_command"] = "lua/swrauth/cmd/login_command.lua",
    ["swrauth.cmd.logout"] = "lua/swrauth/cmd/logout.lua",
    ["swrauth.cmd.parse"] = "lua/swrauth/cmd/parse.lua",
    ["swrauth.cmd.push"] = "lua/swrauth/cmd/push.lua",
    ["swrauth.cmd.release"] = "lua/swrauth/cmd/release.lua",
    ["swrauth.cmd.tag"] = "lua/swrauth/cmd/tag.lua",
    ["swrauth.cmd.version"] = "lua/swrauth/cmd/version.lua",
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

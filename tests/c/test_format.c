/*
** test_format.c: every format kind, shell quoting, and field errors.
*/
#include <string.h>

#include "swrauth.h"
#include "tap.h"

#define S(x) ((swrauth_slice){(x), sizeof(x) - 1})
static const swrauth_slice none = {NULL, 0};

static swrauth_fields base(void) {
  swrauth_fields f;
  f.project = S("cn-north-4");
  f.ak = S("RVHVMXEXAMPLE0000001");
  f.key = S("cab4ceab4a1545aa");
  f.registry = S("swr.cn-north-4.myhuaweicloud.com");
  f.image = S("swr.cn-north-4.myhuaweicloud.com/team/app:1.0");
  return f;
}

static void expect(swrauth_kind kind, swrauth_fields f, const char *text,
                   size_t argc) {
  static swrauth_formatted out;
  swrauth_err err;
  int rc = swrauth_format(kind, &f, &out, &err);
  int good = rc == 0 && tap_eq(out.text.ptr, out.text.len, text) && out.argc == argc;
  ok(good, "format %s: %s", swrauth_kind_name(kind), text);
  if (!good)
    printf("# got rc=%d argc=%zu: %.*s %s\n", rc, out.argc, (int)out.text.len,
           out.text.ptr ? out.text.ptr : "", rc ? err.msg : "");
}

static void expect_err(swrauth_kind kind, swrauth_fields f, const char *msg) {
  static swrauth_formatted out;
  swrauth_err err;
  int rc = swrauth_format(kind, &f, &out, &err);
  ok(rc == -1 && strcmp(err.msg, msg) == 0, "format %s rejects: %s",
     swrauth_kind_name(kind), msg);
  if (rc != -1 || strcmp(err.msg, msg) != 0) printf("# got rc=%d: %s\n", rc, err.msg);
}

static void test_kinds(void) {
  swrauth_fields f = base();
  expect(SWRAUTH_FMT_DOCKER, f,
         "docker login -u cn-north-4@RVHVMXEXAMPLE0000001 -p cab4ceab4a1545aa "
         "swr.cn-north-4.myhuaweicloud.com", 7);
  expect(SWRAUTH_FMT_DOCKER_STDIN, f,
         "docker login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 6);
  expect(SWRAUTH_FMT_CTR_PULL, f,
         "ctr image pull --user cn-north-4@RVHVMXEXAMPLE0000001:cab4ceab4a1545aa "
         "swr.cn-north-4.myhuaweicloud.com/team/app:1.0", 6);
  expect(SWRAUTH_FMT_CTR_PUSH, f,
         "ctr image push --user cn-north-4@RVHVMXEXAMPLE0000001:cab4ceab4a1545aa "
         "swr.cn-north-4.myhuaweicloud.com/team/app:1.0", 6);
  expect(SWRAUTH_FMT_PODMAN, f,
         "podman login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 6);
  expect(SWRAUTH_FMT_BUILDAH, f,
         "buildah login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 6);
  expect(SWRAUTH_FMT_SKOPEO, f,
         "skopeo login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 6);
  expect(SWRAUTH_FMT_NERDCTL, f,
         "nerdctl login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 6);
  expect(SWRAUTH_FMT_HELM, f,
         "helm registry login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 7);
  expect(SWRAUTH_FMT_USER, f, "cn-north-4@RVHVMXEXAMPLE0000001", 0);
  /* base64("cn-north-4@RVHVMXEXAMPLE0000001:cab4ceab4a1545aa") */
  expect(SWRAUTH_FMT_AUTH, f,
         "Y24tbm9ydGgtNEBSVkhWTVhFWEFNUExFMDAwMDAwMTpjYWI0Y2VhYjRhMTU0NWFh", 0);
  expect(SWRAUTH_FMT_REGISTRY, f, "swr.cn-north-4.myhuaweicloud.com", 0);
  expect(SWRAUTH_FMT_API, f, "swr-api.cn-north-4.myhuaweicloud.com", 0);
  f.project = S("eu-west-101");
  expect(SWRAUTH_FMT_REGISTRY, f, "swr.eu-west-101.myhuaweicloud.eu", 0);
  expect(SWRAUTH_FMT_API, f, "swr-api.eu-west-101.myhuaweicloud.eu", 0);
  f.project = S("eu-west-101_team");
  f.registry = none;
  expect(SWRAUTH_FMT_DOCKER_STDIN, f,
         "docker login -u eu-west-101_team@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.eu-west-101.myhuaweicloud.eu", 6);
  f.registry = S("swr.cn-north-4.myhuaweicloud.com");
  f.project = S("eu-west-0");
  expect(SWRAUTH_FMT_REGISTRY, f, "swr.eu-west-0.myhuaweicloud.com", 0);
  f.project = S("xx-new-9");
  expect(SWRAUTH_FMT_API, f, "swr-api.xx-new-9.myhuaweicloud.com", 0);
  f.project = S("cn-north-4_team.a");
  expect(SWRAUTH_FMT_REGISTRY, f, "swr.cn-north-4.myhuaweicloud.com", 0);
  f.project = S("ap-southeast-1");
  f.registry = none;
  expect(SWRAUTH_FMT_DOCKER_STDIN, f,
         "docker login -u ap-southeast-1@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.ap-southeast-1.myhuaweicloud.com", 6);
  f.registry = S("127.0.0.1:5000");
  expect(SWRAUTH_FMT_PODMAN, f,
         "podman login -u ap-southeast-1@RVHVMXEXAMPLE0000001 --password-stdin "
         "127.0.0.1:5000", 6);
  f.registry = S("localhost:5000");
  expect(SWRAUTH_FMT_SKOPEO, f,
         "skopeo login -u ap-southeast-1@RVHVMXEXAMPLE0000001 --password-stdin "
         "localhost:5000", 6);
}

static void test_quoting(void) {
  swrauth_fields f = base();
  static swrauth_formatted out;
  swrauth_err err;
  char buf[64];
  size_t pos;
  f.key = S("it's$(touch${IFS}/tmp/x)`id`;|&");
  expect(SWRAUTH_FMT_DOCKER, f,
         "docker login -u cn-north-4@RVHVMXEXAMPLE0000001 -p "
         "'it'\\''s$(touch${IFS}/tmp/x)`id`;|&' swr.cn-north-4.myhuaweicloud.com", 7);
  swrauth_format(SWRAUTH_FMT_DOCKER, &f, &out, &err);
  ok(tap_eq(out.argv[5].ptr, out.argv[5].len, "it's$(touch${IFS}/tmp/x)`id`;|&"),
     "argv holds the key unquoted");
  ok(tap_eq(out.argv[0].ptr, out.argv[0].len, "docker") &&
         tap_eq(out.argv[1].ptr, out.argv[1].len, "login") &&
         tap_eq(out.argv[2].ptr, out.argv[2].len, "-u") &&
         tap_eq(out.argv[3].ptr, out.argv[3].len, "cn-north-4@RVHVMXEXAMPLE0000001") &&
         tap_eq(out.argv[6].ptr, out.argv[6].len, "swr.cn-north-4.myhuaweicloud.com"),
     "argv words in order");
  pos = 0;
  ok(swrauth_shell_quote("", 0, buf, sizeof buf, &pos) == 0 && tap_eq(buf, pos, "''"),
     "empty word is ''");
  pos = 0;
  ok(swrauth_shell_quote("a b", 3, buf, sizeof buf, &pos) == 0 &&
         tap_eq(buf, pos, "'a b'"),
     "space is quoted");
  pos = 0;
  ok(swrauth_shell_quote("~x", 2, buf, sizeof buf, &pos) == 0 && tap_eq(buf, pos, "'~x'"),
     "tilde is quoted");
  pos = 0;
  ok(swrauth_shell_quote("a*?[]{}!#\"\\", 11, buf, sizeof buf, &pos) == 0 &&
         tap_eq(buf, pos, "'a*?[]{}!#\"\\'"),
     "globs, braces, history, comment, quotes and backslash are quoted");
  pos = 0;
  ok(swrauth_shell_quote("A-z0_9@%+=:,./", 14, buf, sizeof buf, &pos) == 0 &&
         tap_eq(buf, pos, "A-z0_9@%+=:,./"),
     "safe characters stay bare");
  pos = 60;
  ok(swrauth_shell_quote("abcdef", 6, buf, sizeof buf, &pos) == -1 && pos == 60,
     "quote reports a full buffer");
}

static void test_errors(void) {
  swrauth_fields f = base();
  char big[SWRAUTH_FORMAT_MAX];
  f.key = none;
  expect_err(SWRAUTH_FMT_DOCKER, f, "missing field 'key' for kind 'docker'");
  expect(SWRAUTH_FMT_DOCKER_STDIN, f,
         "docker login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin "
         "swr.cn-north-4.myhuaweicloud.com", 6);
  f = base();
  f.image = none;
  expect_err(SWRAUTH_FMT_CTR_PUSH, f, "missing field 'image' for kind 'ctr-push'");
  f = base();
  f.project = none;
  expect_err(SWRAUTH_FMT_REGISTRY, f, "missing field 'project' for kind 'registry'");
  f = base();
  f.project = S("CN-north-4");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' has 'C' at byte 1: a region is lowercase letters, digits "
             "and '-'");
  f.project = S("4cn");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' must start with a region such as 'cn-north-4' "
             "(a lowercase letter first)");
  f.project = S("_sub");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' must start with a region such as 'cn-north-4' "
             "(a lowercase letter first)");
  f.project = S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_x");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' has a region that is too long (65 bytes, at most 64)");
  f.project = S("cn-north-4-_x");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' has a region ending with '-' at byte 11 (the region "
             "names the registry host)");
  f.project = S("cn north");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' has a space at byte 3: a region is lowercase "
             "letters, digits and '-'");
  f.project = S("cn-north-4_");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' has an empty sub-project after '_' at byte 11");
  f.project = S("cn-north-4_a/b");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'project' has '/' at byte 13: a sub-project is letters, "
             "digits, '_', '-' and '.'");
  f.project = S("");
  expect_err(SWRAUTH_FMT_USER, f, "field 'project' is empty");
  f = base();
  f.ak = S("AK\n");
  expect_err(SWRAUTH_FMT_USER, f, "field 'ak' has a newline at byte 3 (a pasted newline?)");
  f.ak = S("A@K");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'ak' has '@' at byte 2 (an AK cannot hold '@' or ':', which "
             "separate PROJECT@AK:KEY)");
  f.ak = S("A:K");
  expect_err(SWRAUTH_FMT_AUTH, f,
             "field 'ak' has ':' at byte 2 (an AK cannot hold '@' or ':', which "
             "separate PROJECT@AK:KEY)");
  f.ak = S("A K@");
  expect_err(SWRAUTH_FMT_USER, f,
             "field 'ak' has a space at byte 2 (whitespace and control characters are "
             "not allowed)");
  f = base();
  f.key = S("key\r\nX-Injected: 1");
  expect_err(SWRAUTH_FMT_DOCKER, f,
             "field 'key' has a carriage return at byte 4 (whitespace and control "
             "characters are not allowed)");
  f = base();
  f.registry = S("swr.example.com\nrm -rf /");
  expect_err(SWRAUTH_FMT_DOCKER, f,
             "field 'registry' has a newline at byte 16: give a host name with an "
             "optional :port");
  f.registry = S("registry");
  expect_err(SWRAUTH_FMT_DOCKER, f,
             "field 'registry' is not a registry host: give a host name with a "
             "'.' (or 'localhost'), optionally with :port");
  f.registry = S("swr.example.com/ns");
  expect_err(SWRAUTH_FMT_PODMAN, f,
             "field 'registry' has '/' at byte 16: give a host name with an "
             "optional :port");
  f.registry = S("https://swr.example.com");
  expect_err(SWRAUTH_FMT_PODMAN, f,
             "field 'registry' starts with a URL scheme: give a host name with an "
             "optional :port, without 'scheme://'");
  f.registry = S("registry");
  expect_err(SWRAUTH_FMT_PODMAN, f,
             "field 'registry' is not a registry host: give a host name with a "
             "'.' (or 'localhost'), optionally with :port");
  f.registry = S("Registry");
  expect_err(SWRAUTH_FMT_PODMAN, f,
             "field 'registry' is not a registry host: give a host name with a "
             "'.' (or 'localhost'), optionally with :port");
  f.registry = S("r.example.com:65536");
  expect_err(SWRAUTH_FMT_PODMAN, f,
             "field 'registry' has a port out of range at byte 15 (a port is 1 to "
             "65535)");
  f.registry = S("[::1]:5000");
  expect(SWRAUTH_FMT_PODMAN, f,
         "podman login -u cn-north-4@RVHVMXEXAMPLE0000001 --password-stdin '[::1]:5000'",
         6);
  f = base();
  f.image = S("swr.example.com/Team/app");
  {
    static swrauth_formatted out;
    swrauth_err err;
    ok(swrauth_format(SWRAUTH_FMT_CTR_PULL, &f, &out, &err) == -1 &&
           strncmp(err.msg, "field 'image': ", 15) == 0,
       "ctr-pull rejects a bad image, naming the field");
  }
  f = base();
  memset(big, 'k', sizeof big);
  f.key = (swrauth_slice){big, SWRAUTH_CRED_MAX + 1};
  expect_err(SWRAUTH_FMT_DOCKER, f, "field 'key' is too long (1025 bytes, at most 1024)");
  ok(swrauth_kind_from_name("docker-stdin", 12) == SWRAUTH_FMT_DOCKER_STDIN &&
         swrauth_kind_from_name("docker-stdi", 11) == -1 &&
         swrauth_kind_name(SWRAUTH_FMT_COUNT) == NULL,
     "kind names");
  ok((swrauth_kind_required(SWRAUTH_FMT_CTR_PUSH) & SWRAUTH_F_IMAGE) &&
         !(swrauth_kind_required(SWRAUTH_FMT_DOCKER) & SWRAUTH_F_REGISTRY) &&
         (swrauth_kind_used(SWRAUTH_FMT_DOCKER) & SWRAUTH_F_REGISTRY),
     "kind field masks");
}

int main(void) {
  test_kinds();
  test_quoting();
  test_errors();
  return tap_done();
}

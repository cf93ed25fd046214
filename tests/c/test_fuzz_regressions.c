/*
** test_fuzz_regressions.c: what the libFuzzer targets (fuzz/) found, as
** unit tests. The inputs that found them are also in fuzz/regressions/,
** replayed by tests/fuzz.sh under the harnesses' properties.
**
**  1. fuzz_parse_image (differential against a model of docker's
**     ParseNormalizedNamed): the 255-character limit was applied to the
**     text up to the tag, domain included and docker.io's "library/" not.
**     distribution/reference v0.6 (docker 26+; docker 28's CLI checked)
**     limits the normalised path: "library/" counted, the domain not. So
**     "a"x248 was accepted (docker refuses it) and "r.example/" + 255
**     characters was refused (docker takes it).
**  2. fuzz_format (format "registry" must give a registry format takes):
**     a region ending with '-' ("key8-") was accepted, giving the host
**     "swr.key8-.myhuaweicloud.com", which is not a host name (a label
**     cannot end with '-') and which format's own registry check and
**     parse("image") refuse. Projects (format, parse("user"),
**     registry_for) now refuse a region ending with '-'.
**
** Every input is copied into a buffer of exactly its length.
*/
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"
#include "tap.h"

static char *dup_exact(const char *s, size_t n) {
  char *p = malloc(n ? n : 1);
  if (p == NULL) abort();
  memcpy(p, s, n);
  return p;
}

/* A reference of `pre` then `fill` repeated `count` times. */
static size_t build(char *buf, const char *pre, const char *fill, size_t count) {
  size_t n = strlen(pre), f = strlen(fill), i;
  memcpy(buf, pre, n);
  for (i = 0; i < count; i++, n += f) memcpy(buf + n, fill, f);
  return n;
}

static void image_case(const char *pre, const char *fill, size_t count,
                       const char *want_err, size_t want_path) {
  static char buf[2048];
  size_t n = build(buf, pre, fill, count);
  char *copy = dup_exact(buf, n);
  swrauth_image im;
  swrauth_err err;
  int rc = swrauth_parse_image(copy, n, &im, &err);
  if (want_err == NULL) {
    ok(rc == 0 && im.path.len == want_path, "image \"%s\" + \"%s\" x %zu: path of %zu",
       pre, fill, count, want_path);
    if (rc != 0) printf("# %s\n", err.msg);
  } else {
    ok(rc == -1 && strstr(err.msg, want_err) != NULL,
       "image \"%s\" + \"%s\" x %zu refused: %s", pre, fill, count, want_err);
    if (rc != -1 || strstr(err.msg, want_err) == NULL)
      printf("# got rc=%d: %s\n", rc, rc ? err.msg : "");
  }
  free(copy);
}

static void test_image_path_limit(void) {
  /* familiar names: "library/" counts */
  image_case("", "a", 247, NULL, 247);
  image_case("", "a", 248, "must not be more than 255 characters (got 256, counting "
             "docker.io's 'library/')", 0);
  image_case("docker.io/", "a", 247, NULL, 247);
  image_case("docker.io/", "a", 248, "(got 256, counting docker.io's 'library/')", 0);
  image_case("index.docker.io/", "a", 248, "(got 256, counting docker.io's 'library/')",
             0);
  /* the domain does not count */
  image_case("r.example/", "b", 255, NULL, 255);
  image_case("r.example/", "b", 256, "must not be more than 255 characters (got 256)", 0);
  image_case("registry.example.com:5000/", "ab", 127, NULL, 254);
  image_case("swr.cn-north-4.myhuaweicloud.com/", "ab", 127, NULL, 254);
  /* on docker.io with a namespace, no "library/" */
  image_case("docker.io/ns/", "a", 252, NULL, 255);
  image_case("docker.io/ns/", "a", 253, "(got 256)", 0);
}

static void test_region_trailing_dash(void) {
  static swrauth_formatted out;
  swrauth_fields f;
  swrauth_user u;
  swrauth_err err;
  char reg[128];
  int k, rc;
  static const char *const projects[] = {"key8-", "cn-north-", "a-_sub", "cn-north-4-"};
  size_t i;
  for (i = 0; i < sizeof projects / sizeof projects[0]; i++) {
    const char *p = projects[i];
    size_t plen = strlen(p);
    char *copy = dup_exact(p, plen);
    memset(&f, 0, sizeof f);
    f.project.ptr = copy;
    f.project.len = plen;
    f.ak.ptr = "AK";
    f.ak.len = 2;
    f.key.ptr = "KEY";
    f.key.len = 3;
    f.image.ptr = "r.io/a";
    f.image.len = 6;
    for (k = 0; k < SWRAUTH_FMT_COUNT; k++) {
      rc = swrauth_format((swrauth_kind)k, &f, &out, &err);
      ok(rc == -1 && strstr(err.msg, "region ending with '-'") != NULL,
         "format %s refuses project '%s'", swrauth_kind_name((swrauth_kind)k), p);
      if (rc != -1) printf("# formatted: %.*s\n", (int)out.text.len, out.text.ptr);
    }
    rc = swrauth_registry_for(copy, plen, reg, sizeof reg, &err);
    ok(rc == -1, "registry_for refuses project '%s'", p);
    free(copy);
    {
      char user[64];
      memcpy(user, p, plen);
      memcpy(user + plen, "@AK", 3);
      copy = dup_exact(user, plen + 3);
      rc = swrauth_parse_user(copy, plen + 3, &u, &err);
      ok(rc == -1 && strstr(err.msg, "region ending with '-'") != NULL,
         "parse user refuses '%s@AK'", p);
      if (rc != -1 || strstr(err.msg, "region ending") == NULL)
        printf("# got rc=%d: %s\n", rc, rc ? err.msg : "");
      free(copy);
    }
  }
  /* '-' inside a region, or in the sub-project, is still fine */
  memset(&f, 0, sizeof f);
  f.project.ptr = "cn-north-4_my-sub-";
  f.project.len = strlen(f.project.ptr);
  rc = swrauth_format(SWRAUTH_FMT_REGISTRY, &f, &out, &err);
  ok(rc == 0 && tap_eq(out.text.ptr, out.text.len, "swr.cn-north-4.myhuaweicloud.com"),
     "a sub-project may end with '-'");
  ok(swrauth_parse_user("a-b@AK", 6, &u, &err) == 0, "a region may hold '-'");
}

int main(void) {
  test_image_path_limit();
  test_region_trailing_dash();
  return tap_done();
}

/*
** fuzz_parse_user: swrauth_parse_user (PROJECT@AK) on arbitrary bytes.
**
** Properties beyond "no crash":
**  - on success, project "@" ak is the input, region is project up to its
**    first '_', the AK passes swrauth_check_cred and holds no ':' or '@';
**  - parse("user") and format("user") agree: the input split at its first
**    '@' formats (kind "user") exactly when it parses, and the formatted
**    text is the input (both use names.c's project and AK grammars);
**  - swrauth_registry_for accepts the project exactly when it parses and
**    gives "swr." REGION "." the region's domain (swrauth_region_domain),
**    a registry host that format takes;
**  - messages are printable ASCII and NUL-terminated.
*/
#include "fuzz_common.h"

static swrauth_formatted fo;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  swrauth_user u;
  swrauth_err err, ferr;
  swrauth_fields f;
  const char *at;
  int rc, frc;

  if (size > 4096) return -1;
  fuzz_err_reset(&err);
  rc = swrauth_parse_user(s, size, &u, &err);
  if (rc != 0) {
    FUZZ_CHECK(rc == -1, "parse_user returned %d", rc);
    fuzz_check_msg(&err);
    FUZZ_CHECK(u.project.ptr == NULL && u.ak.ptr == NULL, "result set on failure");
  } else {
    swrauth_err e;
    FUZZ_CHECK(u.project.ptr == s && u.project.len > 0, "project is not the start");
    FUZZ_CHECK(u.project.len + 1 + u.ak.len == size && s[u.project.len] == '@' &&
                   u.ak.ptr == s + u.project.len + 1,
               "project@ak is not the input");
    FUZZ_CHECK(u.region.ptr == s && u.region.len > 0 && u.region.len <= u.project.len,
               "region is not a prefix of the project");
    FUZZ_CHECK(u.region.len == u.project.len || s[u.region.len] == '_',
               "region does not end at '_'");
    FUZZ_CHECK(memchr(s, '_', u.region.len) == NULL, "region holds '_'");
    FUZZ_CHECK(swrauth_check_cred("AK", u.ak.ptr, u.ak.len, &e) == 0,
               "AK fails check_cred: %s", e.msg);
    FUZZ_CHECK(memchr(u.ak.ptr, ':', u.ak.len) == NULL &&
                   memchr(u.ak.ptr, '@', u.ak.len) == NULL,
               "AK holds ':' or '@'");
  }

  /* format("user") on the same project and AK. */
  at = memchr(s, '@', size);
  if (at == NULL) {
    FUZZ_CHECK(rc != 0, "parse_user accepted a user without '@'");
    return 0;
  }
  memset(&f, 0, sizeof f);
  f.project.ptr = s;
  f.project.len = (size_t)(at - s);
  f.ak.ptr = at + 1;
  f.ak.len = size - f.project.len - 1;
  fuzz_err_reset(&ferr);
  frc = swrauth_format(SWRAUTH_FMT_USER, &f, &fo, &ferr);
  if (frc != 0) fuzz_check_msg(&ferr);
  FUZZ_CHECK((rc == 0) == (frc == 0), "parse_user %s but format(user) %s: %s",
             rc == 0 ? "accepts" : "refuses", frc == 0 ? "accepts" : "refuses",
             rc == 0 ? ferr.msg : err.msg);
  if (frc == 0)
    FUZZ_CHECK(fo.argc == 0 && fuzz_eq(fo.text, s, size), "format(user) is not the input");

  /* registry_for on the project. */
  {
    char reg[256];
    fuzz_err_reset(&ferr);
    frc = swrauth_registry_for(f.project.ptr, f.project.len, reg, sizeof reg, &ferr);
    if (frc != 0) fuzz_check_msg(&ferr);
    if (rc == 0) {
      FUZZ_CHECK(frc == 0, "registry_for refuses a parsed project: %s", ferr.msg);
      const char *dom = swrauth_region_domain(u.region.ptr, u.region.len);
      FUZZ_CHECK(strlen(reg) == 4 + u.region.len + 1 + strlen(dom) &&
                     memcmp(reg, "swr.", 4) == 0 &&
                     memcmp(reg + 4, u.region.ptr, u.region.len) == 0 &&
                     reg[4 + u.region.len] == '.' && strcmp(reg + 5 + u.region.len, dom) == 0,
                 "registry_for gives %s", reg);
      {
        /* ... and that is a registry host format takes. */
        swrauth_fields g;
        memset(&g, 0, sizeof g);
        g.project = f.project;
        g.ak.ptr = "AK";
        g.ak.len = 2;
        g.registry.ptr = reg;
        g.registry.len = strlen(reg);
        FUZZ_CHECK(swrauth_format(SWRAUTH_FMT_DOCKER_STDIN, &g, &fo, &ferr) == 0,
                   "the project's registry %s is not a registry host: %s", reg, ferr.msg);
      }
    }
    /* registry_for judges the project alone: when it accepts, so does a
    ** user made of this project and a plain AK. */
    if (frc == 0) {
      char *user = malloc(f.project.len + 3);
      swrauth_user u2;
      if (user == NULL) abort();
      memcpy(user, f.project.ptr, f.project.len);
      memcpy(user + f.project.len, "@A", 2);
      FUZZ_CHECK(swrauth_parse_user(user, f.project.len + 2, &u2, &err) == 0,
                 "registry_for accepts a project parse_user refuses: %s", err.msg);
      free(user);
    }
  }
  return 0;
}

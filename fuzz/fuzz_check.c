/*
** fuzz_check: swrauth_check for every kind on every input, against the
** functions that use the same grammars, and swrauth_sha256 against
** OpenSSL.
**
** Properties beyond "no crash" (each kind is run on the whole input):
**  - project: accepted exactly when format("registry") takes it as the
**    project, when registry_for and api_for do, and when parse_user takes
**    it followed by "@A"; the registry made from it parses back
**    (swrauth_parse_registry) to its region;
**  - registry: accepted exactly when format("docker-stdin") takes it as
**    the registry;
**  - ak: accepted exactly when format("user") takes it with project
**    "cn-north-4", and when parse_user takes "cn-north-4@" AK;
**  - image: accepted exactly when swrauth_parse_image accepts it;
**  - tag: accepted exactly when "r.io/x:" TAG parses as an image with
**    that tag (inputs without '@');
**  - digest: accepted exactly when "r.io/x@" DIGEST parses as an image
**    and starts with "sha256:";
**  - repository: accepted exactly when "r.io/" REPO parses as an image
**    whose path is REPO with no tag or digest, and REPO's first component
**    is not a host (has '.' or ':', or is "localhost") when a '/' follows;
**  - key: accepted exactly when it is 64 lowercase hex digits (a model
**    here); whether it fails and the message do not depend on the
**    value's letters and digits (the key-independence of fuzz_format);
**  - every message is a non-empty printable predicate (it starts with a
**    lowercase verb: "is", "has", "must", "starts", "ends");
**  - parse_registry: on success, registry_for(region) is the input;
**  - sha256 equals EVP_Digest(SHA-256) of the input, and sha256_hex is
**    its lowercase hex.
*/
#include <openssl/evp.h>

#include "fuzz_common.h"

static swrauth_formatted fo;
static swrauth_hmac *engine;

/* A check's result, with its message checked. */
static int check(swrauth_check_kind kind, const char *s, size_t n, swrauth_err *e) {
  int rc;
  fuzz_err_reset(e);
  rc = swrauth_check(kind, s, n, e);
  FUZZ_CHECK(rc == 0 || rc == -1, "check %s returned %d", swrauth_check_name(kind), rc);
  if (rc != 0) {
    fuzz_check_msg(e);
    FUZZ_CHECK(strncmp(e->msg, "is ", 3) == 0 || strncmp(e->msg, "has ", 4) == 0 ||
                   strncmp(e->msg, "must ", 5) == 0 || strncmp(e->msg, "starts ", 7) == 0 ||
                   strncmp(e->msg, "ends ", 5) == 0,
               "check %s: the message is not a predicate: %s", swrauth_check_name(kind),
               e->msg);
  }
  return rc;
}

/* Runs format kind with the given fields; 0 on success. */
static int fmt(swrauth_kind kind, const char *project, size_t plen, const char *ak,
               size_t aklen, const char *reg, size_t rlen) {
  swrauth_fields f;
  swrauth_err e;
  memset(&f, 0, sizeof f);
  f.project.ptr = project;
  f.project.len = plen;
  if (ak != NULL) {
    f.ak.ptr = ak;
    f.ak.len = aklen;
  }
  if (reg != NULL) {
    f.registry.ptr = reg;
    f.registry.len = rlen;
  }
  return swrauth_format(kind, &f, &fo, &e);
}

/* What parsing pre + s as an image gave, as facts about s. */
typedef struct parsed {
  int ok;         /* it parsed */
  int path_is_s;  /* the path is exactly s */
  int tag_is_s;   /* a tag was written and is exactly s */
  int no_tag_digest; /* neither a tag nor a digest was written */
} parsed;

/* Parses pre + s (an exact heap copy) as an image. */
static parsed parse_with(const char *pre, const char *s, size_t n) {
  size_t p = strlen(pre);
  char *t = malloc(p + n + 1);
  swrauth_image im;
  swrauth_err e;
  parsed r;
  if (t == NULL) abort();
  memcpy(t, pre, p);
  if (n) memcpy(t + p, s, n);
  memset(&r, 0, sizeof r);
  r.ok = swrauth_parse_image(t, p + n, &im, &e) == 0;
  if (r.ok) {
    r.path_is_s = im.path.ptr == t + p && im.path.len == n;
    r.tag_is_s = !im.tag_defaulted && im.tag.ptr == t + p && im.tag.len == n;
    r.no_tag_digest = im.tag_defaulted && im.digest.ptr == NULL;
  }
  free(t);
  return r;
}

static int is_lower_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void check_project(const char *s, size_t n) {
  swrauth_err e, e2;
  char reg[300], api[300];
  int rc = check(SWRAUTH_CHECK_PROJECT, s, n, &e);
  int frc = fmt(SWRAUTH_FMT_REGISTRY, s, n, NULL, 0, NULL, 0);
  int rrc = swrauth_registry_for(s, n, reg, sizeof reg, &e2);
  int arc = swrauth_api_for(s, n, api, sizeof api, &e2);
  FUZZ_CHECK((rc == 0) == (frc == 0), "check project %s, format registry %s",
             rc ? "refuses" : "accepts", frc ? "refuses" : "accepts");
  FUZZ_CHECK((rc == 0) == (rrc == 0) && (rc == 0) == (arc == 0),
             "check project and registry_for/api_for disagree");
  if (memchr(s, '@', n) == NULL) {
    char *u = malloc(n + 2);
    swrauth_user usr;
    if (u == NULL) abort();
    memcpy(u, s, n);
    memcpy(u + n, "@A", 2);
    FUZZ_CHECK((swrauth_parse_user(u, n + 2, &usr, &e2) == 0) == (rc == 0),
               "check project and parse_user disagree: %s / %s", e.msg, e2.msg);
    free(u);
  }
  if (rc == 0) {
    swrauth_registry r;
    const char *us = memchr(s, '_', n);
    size_t rlen = us ? (size_t)(us - s) : n;
    const char *dom = swrauth_region_domain(s, rlen);
    FUZZ_CHECK(swrauth_parse_registry(reg, strlen(reg), &r, &e2) == 0,
               "the registry of a checked project does not parse: %s: %s", reg, e2.msg);
    FUZZ_CHECK(r.region.len == rlen && memcmp(r.region.ptr, s, rlen) == 0,
               "parse_registry gives another region");
    FUZZ_CHECK(strlen(api) == 8 + rlen + 1 + strlen(dom) &&
                   memcmp(api, "swr-api.", 8) == 0 && memcmp(api + 8, s, rlen) == 0 &&
                   api[8 + rlen] == '.' && strcmp(api + 9 + rlen, dom) == 0,
               "api_for gives %s", api);
  }
}

static void check_ak(const char *s, size_t n) {
  swrauth_err e, e2;
  int rc = check(SWRAUTH_CHECK_AK, s, n, &e);
  int frc = fmt(SWRAUTH_FMT_USER, "cn-north-4", 10, s, n, NULL, 0);
  char *u = malloc(n + 11);
  swrauth_user usr;
  FUZZ_CHECK((rc == 0) == (frc == 0), "check ak and format user disagree: %s", e.msg);
  if (u == NULL) abort();
  memcpy(u, "cn-north-4@", 11);
  if (n) memcpy(u + 11, s, n);
  FUZZ_CHECK((swrauth_parse_user(u, n + 11, &usr, &e2) == 0) == (rc == 0),
             "check ak and parse_user disagree: %s / %s", e.msg, e2.msg);
  free(u);
}

static void check_registry(const char *s, size_t n) {
  swrauth_err e;
  int rc = check(SWRAUTH_CHECK_REGISTRY, s, n, &e);
  int frc = fmt(SWRAUTH_FMT_DOCKER_STDIN, "cn-north-4", 10, "A", 1, s, n);
  FUZZ_CHECK((rc == 0) == (frc == 0), "check registry %s, format %s: %s",
             rc ? "refuses" : "accepts", frc ? "refuses" : "accepts", e.msg);
}

static void check_image(const char *s, size_t n) {
  swrauth_err e, e2;
  int rc = check(SWRAUTH_CHECK_IMAGE, s, n, &e);
  FUZZ_CHECK((swrauth_parse_image(s, n, NULL, &e2) == 0) == (rc == 0),
             "check image and parse_image disagree");
}

static void check_tag(const char *s, size_t n) {
  swrauth_err e;
  parsed pr;
  int rc = check(SWRAUTH_CHECK_TAG, s, n, &e);
  if (memchr(s, '@', n) != NULL || n > 1000) return;
  pr = parse_with("r.io/x:", s, n);
  FUZZ_CHECK((rc == 0) == (pr.ok && pr.tag_is_s), "check tag %s, as an image's tag %s",
             rc ? "refuses" : "accepts", pr.ok ? "accepted" : "refused");
}

static void check_digest(const char *s, size_t n) {
  swrauth_err e;
  parsed pr;
  int rc = check(SWRAUTH_CHECK_DIGEST, s, n, &e);
  if (n > 1000) return;
  pr = parse_with("r.io/x@", s, n);
  FUZZ_CHECK((rc == 0) == (pr.ok && n >= 7 && memcmp(s, "sha256:", 7) == 0),
             "check digest %s, as an image's digest %s", rc ? "refuses" : "accepts",
             pr.ok ? "accepted" : "refused");
}

static void check_repository(const char *s, size_t n) {
  swrauth_err e;
  parsed pr;
  int rc = check(SWRAUTH_CHECK_REPOSITORY, s, n, &e), hostlike = 0;
  const char *slash = memchr(s, '/', n);
  if (n > 1000) return;
  if (slash != NULL) {
    size_t f = (size_t)(slash - s);
    hostlike = (f == 9 && memcmp(s, "localhost", 9) == 0) || memchr(s, '.', f) != NULL ||
               memchr(s, ':', f) != NULL;
  }
  pr = parse_with("r.io/", s, n);
  FUZZ_CHECK((rc == 0) == (pr.ok && pr.path_is_s && pr.no_tag_digest && !hostlike),
             "check repository %s, as an image's path %s: %s", rc ? "refuses" : "accepts",
             pr.ok ? "accepted" : "refused", e.msg);
}

static void check_key(const char *s, size_t n) {
  swrauth_err e, e2;
  int rc = check(SWRAUTH_CHECK_KEY, s, n, &e), model = n == 64, rc2;
  size_t i;
  char *k2 = fuzz_dup(s, n);
  for (i = 0; i < n; i++) model = model && is_lower_hex((unsigned char)s[i]);
  FUZZ_CHECK((rc == 0) == model, "check key %s a %s", rc ? "refuses" : "accepts",
             model ? "key" : "non-key");
  /* Change the letters and digits, keeping their class (hex or not,
  ** case): the result and the message must stay the same. */
  for (i = 0; i < n; i++) {
    char c = k2[i];
    if (c >= 'a' && c <= 'f') k2[i] = (char)('a' + (c - 'a' + 1) % 6);
    else if (c >= 'A' && c <= 'F') k2[i] = (char)('A' + (c - 'A' + 1) % 6);
    else if (c >= 'g' && c <= 'z') k2[i] = (char)('g' + (c - 'g' + 5) % 20);
    else if (c >= 'G' && c <= 'Z') k2[i] = (char)('G' + (c - 'G' + 5) % 20);
    else if (c >= '0' && c <= '9') k2[i] = (char)('0' + (c - '0' + 3) % 10);
  }
  rc2 = check(SWRAUTH_CHECK_KEY, k2, n, &e2);
  FUZZ_CHECK(rc2 == rc && (rc == 0 || strcmp(e.msg, e2.msg) == 0),
             "the key's letters and digits change the check's result or message: "
             "\"%s\" vs \"%s\"", e.msg, e2.msg);
  free(k2);
}

static void check_parse_registry(const char *s, size_t n) {
  swrauth_registry r;
  swrauth_err e;
  char reg[300];
  fuzz_err_reset(&e);
  if (swrauth_parse_registry(s, n, &r, &e) != 0) {
    fuzz_check_msg(&e);
    FUZZ_CHECK(r.region.ptr == NULL && r.host.ptr == NULL, "result set on failure");
    return;
  }
  FUZZ_CHECK(fuzz_eq(r.host, s, n), "host is not the input");
  FUZZ_CHECK(fuzz_inside(r.region, s, n), "region not in the input");
  FUZZ_CHECK(swrauth_registry_for(r.region.ptr, r.region.len, reg, sizeof reg, &e) == 0 &&
                 strlen(reg) == n && memcmp(reg, s, n) == 0,
             "registry_for(region) is not the host");
}

static void check_sha256(const char *s, size_t n) {
  unsigned char md[32], ref[32];
  char hex[65];
  unsigned int len = 0;
  swrauth_err e;
  size_t i;
  static const char d[] = "0123456789abcdef";
  FUZZ_CHECK(swrauth_sha256(engine, s, n, md, &e) == 0, "sha256 failed: %s", e.msg);
  FUZZ_CHECK(EVP_Digest(s, n, ref, &len, EVP_sha256(), NULL) == 1 && len == 32,
             "EVP_Digest failed");
  FUZZ_CHECK(memcmp(md, ref, 32) == 0, "sha256 differs from EVP_Digest");
  FUZZ_CHECK(swrauth_sha256_hex(engine, s, n, hex, &e) == 0 && hex[64] == '\0',
             "sha256_hex failed");
  for (i = 0; i < 32; i++)
    FUZZ_CHECK(hex[2 * i] == d[ref[i] >> 4] && hex[2 * i + 1] == d[ref[i] & 15],
               "sha256_hex is not the lowercase hex of the digest");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s;
  if (size > 4096) return -1;
  if (engine == NULL) {
    swrauth_err e;
    engine = swrauth_hmac_new(&e);
    if (engine == NULL) abort();
  }
  s = fuzz_dup(data, size); /* exact size: reads past it are seen */
  check_project(s, size);
  check_ak(s, size);
  check_registry(s, size);
  check_image(s, size);
  check_tag(s, size);
  check_digest(s, size);
  check_repository(s, size);
  check_key(s, size);
  check_parse_registry(s, size);
  check_sha256(s, size);
  free(s);
  return 0;
}

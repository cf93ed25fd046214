/*
** fuzz_parse_image: swrauth_parse_image on arbitrary bytes.
**
** Properties beyond "no crash":
**  - differential: parse_image accepts exactly what an independent model
**    of docker's ParseNormalizedNamed accepts. The model is written from
**    github.com/distribution/reference v0.6 (what docker 26+ uses, checked
**    against docker 28's CLI): normalize.go's splitDockerDomain, the
**    64-hex identifier and lowercase checks; reference.go's Parse with the
**    anchored ReferenceRegexp of regexp.go and the 255-character limit on
**    the normalised path (domain not counted, docker.io's "library/"
**    counted); go-digest's Validate for sha256/384/512. It uses POSIX
**    regexes (for an anchored whole-string match, leftmost-longest and
**    RE2's leftmost-first accept the same strings). One deliberate
**    difference: when splitDockerDomain takes the first component as the
**    domain, swrauth requires it to be a valid domain; docker's Parse
**    would then read the whole name as a path on no registry ("z_a.io/x"
**    -> domain ""), which docker itself cannot pull ("https:/v2/").
**    A second: swrauth refuses a reference over SWRAUTH_IMAGE_MAX (1024)
**    bytes as a whole; docker has no such limit, but the longest
**    reference docker can pull (a host name of at most 253 characters,
**    a port, a path of 255, a tag of 128, a sha512 digest) is under 800;
**  - every slice of the result lies in the input (or is a default);
**  - round trip: the fully normalised reference (domain/[library/]path
**    [:tag][@digest]) parses back to the same domain, repository, tag and
**    digest, with nothing defaulted but what was;
**  - error messages are printable ASCII and NUL-terminated.
*/
#include <regex.h>

#include "fuzz_common.h"

static regex_t ref_re, ident_re, domain_re;

/* regexp.go, as POSIX ERE. */
#define ALNUM "[a-z0-9]+"
#define SEP "([._]|__|-+)"
#define PATHCOMP ALNUM "(" SEP ALNUM ")*"
#define DOMCOMP "([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
#define DOMNAME DOMCOMP "(\\." DOMCOMP ")*"
#define IPV6 "\\[[a-fA-F0-9:]+\\]"
#define HOST "(" DOMNAME "|" IPV6 ")"
#define DOMAIN HOST "(:[0-9]+)?"
#define NAME "((" DOMAIN "/)?" PATHCOMP "(/" PATHCOMP ")*)"
#define TAG "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
#define DIGEST "[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
#define REFERENCE "^" NAME "(:(" TAG "))?(@(" DIGEST "))?$"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (regcomp(&ref_re, REFERENCE, REG_EXTENDED | REG_NOSUB) != 0 ||
      regcomp(&ident_re, "^[a-f0-9]{64}$", REG_EXTENDED | REG_NOSUB) != 0 ||
      regcomp(&domain_re, "^" DOMAIN "$", REG_EXTENDED | REG_NOSUB) != 0)
    fuzz_fail("regcomp failed");
  return 0;
}

static int has_any(const char *s, size_t n, const char *set) {
  size_t i;
  for (i = 0; i < n; i++)
    if (strchr(set, s[i]) != NULL) return 1;
  return 0;
}

static int has_upper(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] >= 'A' && s[i] <= 'Z') return 1;
  return 0;
}

/* go-digest's Validate for the algorithms docker links. */
static int digest_ok(const char *d, size_t n) {
  const char *colon = memchr(d, ':', n);
  size_t alen, hlen, i, want;
  if (colon == NULL) return 0;
  alen = (size_t)(colon - d);
  hlen = n - alen - 1;
  if (alen == 6 && memcmp(d, "sha256", 6) == 0) want = 64;
  else if (alen == 6 && memcmp(d, "sha384", 6) == 0) want = 96;
  else if (alen == 6 && memcmp(d, "sha512", 6) == 0) want = 128;
  else return 0;
  if (hlen != want) return 0;
  for (i = 0; i < hlen; i++) {
    char c = colon[1 + i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return 1;
}

/* The model: 1 when docker would accept s. */
static int model_accepts(const char *s, size_t n) {
  fuzz_buf norm = {0}, rem = {0};
  const char *slash, *dom;
  size_t dlen, i;
  int ok = 0;
  /* regexec needs a C string: an embedded NUL is refused by the grammar. */
  if (n == 0 || memchr(s, '\0', n) != NULL) return 0;
  if (n > SWRAUTH_IMAGE_MAX) return 0; /* swrauth's own limit, see above */
  fuzz_put(&norm, s, n);
  if (regexec(&ident_re, norm.p, 0, NULL, 0) == 0) goto out;
  norm.n = 0;
  /* splitDockerDomain */
  slash = memchr(s, '/', n);
  if (slash == NULL || (!has_any(s, (size_t)(slash - s), ".:") &&
                        !((size_t)(slash - s) == 9 && memcmp(s, "localhost", 9) == 0) &&
                        !has_upper(s, (size_t)(slash - s)))) {
    dom = "docker.io";
    dlen = 9;
    fuzz_put(&rem, s, n);
  } else {
    dom = s;
    dlen = (size_t)(slash - s);
    fuzz_put(&rem, slash + 1, n - dlen - 1);
  }
  if (dlen == 15 && memcmp(dom, "index.docker.io", 15) == 0) {
    dom = "docker.io";
    dlen = 9;
  }
  if (dlen == 9 && memcmp(dom, "docker.io", 9) == 0 && memchr(rem.p, '/', rem.n) == NULL) {
    fuzz_buf t = {0};
    fuzz_puts(&t, "library/");
    fuzz_put(&t, rem.p, rem.n);
    fuzz_free(&rem);
    rem = t;
  }
  /* the remote name up to the first ':' must be lowercase */
  for (i = 0; i < rem.n && rem.p[i] != ':'; i++)
    if (rem.p[i] >= 'A' && rem.p[i] <= 'Z') goto out;
  /* swrauth: a domain taken from the input must be one. */
  fuzz_put(&norm, dom, dlen);
  if (regexec(&domain_re, norm.p, 0, NULL, 0) != 0) goto out;
  fuzz_puts(&norm, "/");
  fuzz_put(&norm, rem.p, rem.n);
  if (regexec(&ref_re, norm.p, 0, NULL, 0) != 0) goto out;
  /* The path (remainder up to the tag or digest) is at most 255. */
  for (i = 0; i < rem.n && rem.p[i] != ':' && rem.p[i] != '@'; i++) {
  }
  if (i > 255) goto out;
  {
    /* The digest, if any, starts after the last '@' (none can occur
    ** elsewhere in a matched reference). */
    const char *at = strrchr(norm.p, '@');
    if (at != NULL && !digest_ok(at + 1, strlen(at + 1))) goto out;
  }
  ok = 1;
out:
  fuzz_free(&norm);
  fuzz_free(&rem);
  return ok;
}

/* Normalised repository: [library/]path. */
static void put_repo(fuzz_buf *b, const swrauth_image *im) {
  if (im->library) fuzz_puts(b, "library/");
  fuzz_put_slice(b, im->path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  swrauth_image im, im2;
  swrauth_err err, err2;
  fuzz_buf full = {0}, r1 = {0}, r2 = {0};
  int rc, want;

  if (size > 2 * SWRAUTH_IMAGE_MAX) return -1; /* not worth keeping */
  fuzz_err_reset(&err);
  rc = swrauth_parse_image(s, size, &im, &err);
  want = model_accepts(s, size);
  if (rc != 0) {
    fuzz_check_msg(&err);
    FUZZ_CHECK(!want, "parse_image refused a reference docker accepts: %s", err.msg);
    return 0;
  }
  FUZZ_CHECK(rc == 0, "parse_image returned %d", rc);
  FUZZ_CHECK(want, "parse_image accepted a reference docker refuses");

  /* Slices: into the input, or the defaults. */
  FUZZ_CHECK(im.domain.ptr != NULL && im.domain.len > 0, "no domain");
  FUZZ_CHECK(fuzz_inside(im.domain, s, size) ||
                 fuzz_eq(im.domain, "docker.io", 9),
             "domain is neither in the input nor docker.io");
  FUZZ_CHECK(!im.domain_defaulted || fuzz_eq(im.domain, "docker.io", 9),
             "defaulted domain is not docker.io");
  FUZZ_CHECK(fuzz_inside(im.path, s, size) && im.path.len > 0, "path not in input");
  FUZZ_CHECK(im.tag_defaulted ? fuzz_eq(im.tag, "latest", 6)
                              : fuzz_inside(im.tag, s, size),
             "tag not in input");
  FUZZ_CHECK(fuzz_inside(im.digest, s, size), "digest not in input");
  FUZZ_CHECK(im.tag.ptr != NULL || im.digest.ptr != NULL, "neither tag nor digest");
  FUZZ_CHECK(!im.tag_defaulted || im.digest.ptr == NULL,
             "tag defaulted although a digest was given");
  FUZZ_CHECK(im.library == (fuzz_eq(im.domain, "docker.io", 9) &&
                            memchr(im.path.ptr, '/', im.path.len) == NULL),
             "library flag wrong");

  /* Round trip through the fully normalised form. */
  fuzz_put_slice(&full, im.domain);
  fuzz_puts(&full, "/");
  put_repo(&full, &im);
  if (!im.tag_defaulted && im.tag.ptr != NULL) {
    fuzz_puts(&full, ":");
    fuzz_put_slice(&full, im.tag);
  }
  if (im.digest.ptr != NULL) {
    fuzz_puts(&full, "@");
    fuzz_put_slice(&full, im.digest);
  }
  {
    char *copy = fuzz_dup(full.p, full.n);
    fuzz_err_reset(&err2);
    rc = swrauth_parse_image(copy, full.n, &im2, &err2);
    FUZZ_CHECK(rc == 0, "normalised form \"%s\" does not parse: %s", full.p, err2.msg);
    FUZZ_CHECK(fuzz_slice_eq(im.domain, im2.domain), "round trip: domain differs");
    put_repo(&r1, &im);
    put_repo(&r2, &im2);
    FUZZ_CHECK(r1.n == r2.n && memcmp(r1.p, r2.p, r1.n) == 0,
               "round trip: repository differs");
    FUZZ_CHECK(fuzz_slice_eq(im.tag, im2.tag) && im.tag_defaulted == im2.tag_defaulted,
               "round trip: tag differs");
    FUZZ_CHECK(fuzz_slice_eq(im.digest, im2.digest), "round trip: digest differs");
    FUZZ_CHECK(!im2.domain_defaulted, "round trip: domain defaulted");
    free(copy);
  }
  fuzz_free(&full);
  fuzz_free(&r1);
  fuzz_free(&r2);
  return 0;
}

/*
** names.c: the grammar of every name swrauth takes, each in one place,
** and swrauth_check, which exposes them.
**
**   project     region ["_" sub-project]; region [a-z][a-z0-9-]* not ending
**               with '-', at most 64 bytes; sub-project [A-Za-z0-9_.-]+;
**               at most 128 bytes (as the console names projects)
**   registry    HOST[:PORT], HOST a domain of the image reference grammar
**               with a '.', or "localhost", or a bracketed IPv6 address;
**               PORT 1..65535
**   ak          printable ASCII without '@' or ':' (they separate
**               PROJECT@AK:KEY), at most SWRAUTH_CRED_MAX bytes
**   repository  path components of the distribution reference grammar
**               ([a-z0-9]+ joined by '.', '_', '__' or '-'s), '/'
**               between them, at most 255 bytes, the first not a host
**   tag         [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
**   key         64 lowercase hex digits (a login key)
**   digest      "sha256:" and 64 lowercase hex digits
**   image       a reference as swrauth_parse_image takes it
**
** Messages of the checks are predicates: they read after "<name> '<value>' "
** ("has a space at byte 3: a region is lowercase letters, digits and
** '-'"), start with a verb and never quote the value, so each caller puts
** its own subject before them (swrauth__prefix). Byte positions count
** from 1 in the value the caller was given (base is the offset of s in it).
*/
#include <string.h>

#include "internal.h"

static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c) { return is_lower(c) || is_upper(c) || is_digit(c); }
static int is_lower_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
/* [a-z0-9]: the characters of a path component between separators. */
static int is_path_alnum(unsigned char c) { return is_lower(c) || is_digit(c); }
static int is_path_sep(unsigned char c) { return c == '.' || c == '_' || c == '-'; }
/* \w in Go's RE2: [0-9A-Za-z_]. */
static int is_word(unsigned char c) { return is_alnum(c) || c == '_'; }
static int is_ws(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* ---------------------------------------------------------- AK, SK, key */

int swrauth__bad_cred_byte(const char *s, size_t n, size_t i, size_t base,
                           swrauth_err *err) {
  unsigned char c = (unsigned char)s[i];
  const char *hint = "";
  char b[16];
  size_t j = i;
  while (j < n && (s[j] == '\n' || s[j] == '\r')) j++;
  if (j == n && j > i)
    hint = " (a pasted newline?)";
  else if (is_ws(c) && (i == 0 || i == n - 1))
    hint = " (leading or trailing whitespace?)";
  else if (is_ws(c) || c < 0x20 || c == 0x7f)
    hint = " (whitespace and control characters are not allowed)";
  else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0)
    hint = " (a non-breaking space?)";
  else if (c >= 0x80)
    hint = " (only printable ASCII is allowed)";
  return swrauth__fail(err, "has %s at byte %zu%s", swrauth__describe_byte(c, b),
                       base + i + 1, hint);
}

int swrauth__check_ak(const char *s, size_t n, size_t base, swrauth_err *err) {
  size_t i;
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n > SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n, SWRAUTH_CRED_MAX);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((unsigned char)(c - 0x21) > 0x7e - 0x21)
      return swrauth__bad_cred_byte(s, n, i, base, err);
    if (c == '@' || c == ':')
      return swrauth__fail(err, "has '%c' at byte %zu (an AK cannot hold '@' or ':', "
                           "which separate PROJECT@AK:KEY)", c, base + i + 1);
  }
  return 0;
}

/* A login key is derive's output; letters and digits of it are never
** named (they may be a secret pasted in the wrong place). */
static int check_key(const char *s, size_t n, swrauth_err *err) {
  size_t i;
  char b[16];
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n != SWRAUTH_KEY_LEN) {
    int nl = (n == SWRAUTH_KEY_LEN + 1 && s[n - 1] == '\n') ||
             (n == SWRAUTH_KEY_LEN + 2 && s[n - 2] == '\r' && s[n - 1] == '\n');
    return swrauth__fail(err, "must be %d lowercase hex digits, got %zu characters%s",
                         SWRAUTH_KEY_LEN, n, nl ? ": a pasted newline at the end?" : "");
  }
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_lower_hex(c)) continue;
    if (c >= 'A' && c <= 'F')
      return swrauth__fail(err, "has an uppercase hex digit at byte %zu (a login key "
                           "is lowercase)", i + 1);
    if (is_alnum(c))
      return swrauth__fail(err, "has a letter other than a-f at byte %zu (a login key "
                           "is %d lowercase hex digits)", i + 1, SWRAUTH_KEY_LEN);
    return swrauth__fail(err, "has %s at byte %zu (a login key is %d lowercase hex "
                         "digits)", swrauth__describe_byte(c, b), i + 1, SWRAUTH_KEY_LEN);
  }
  return 0;
}

/* ---------------------------------------------------- region and project */

int swrauth__check_region(const char *s, size_t n, size_t base, swrauth_err *err) {
  size_t i;
  char b[16];
  if (n == 0 || !is_lower((unsigned char)s[0])) {
    if (n > 0 && is_upper((unsigned char)s[0]))
      return swrauth__fail(err, "has '%c' at byte %zu: a region is lowercase letters, "
                           "digits and '-'", s[0], base + 1);
    return swrauth__fail(err, "must start with a region such as 'cn-north-4' (a "
                         "lowercase letter first)");
  }
  if (n > SWRAUTH_REGION_MAX)
    return swrauth__fail(err, "has a region that is too long (%zu bytes, at most %d)", n,
                         SWRAUTH_REGION_MAX);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_lower(c) && !is_digit(c) && c != '-')
      return swrauth__fail(err, "has %s at byte %zu: a region is lowercase letters, "
                           "digits and '-'", swrauth__describe_byte(c, b), base + i + 1);
  }
  if (s[n - 1] == '-') /* it becomes a label of the registry host */
    return swrauth__fail(err, "has a region ending with '-' at byte %zu (the region "
                         "names the registry host)", base + n);
  return 0;
}

int swrauth__check_project(const char *s, size_t n, size_t base, swrauth_err *err) {
  const char *us = n > 0 ? (const char *)memchr(s, '_', n) : NULL;
  size_t rlen = us != NULL ? (size_t)(us - s) : n, i;
  char b[16];
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n > SWRAUTH_PROJECT_MAX)
    return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n,
                         SWRAUTH_PROJECT_MAX);
  if (swrauth__check_region(s, rlen, base, err) != 0) return -1;
  if (us == NULL) return 0;
  if (rlen + 1 == n)
    return swrauth__fail(err, "has an empty sub-project after '_' at byte %zu",
                         base + rlen + 1);
  for (i = rlen + 1; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
      return swrauth__fail(err, "has %s at byte %zu: a sub-project is letters, digits, "
                           "'_', '-' and '.'", swrauth__describe_byte(c, b), base + i + 1);
  }
  return 0;
}

/* -------------------------------------------------------------- registry */

/* Length of a URL scheme ("https://") at the start of s, or 0. */
static size_t scheme_len(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
                   s[i] == '.'))
    i++;
  return i > 0 && n - i >= 3 && memcmp(s + i, "://", 3) == 0 ? i + 3 : 0;
}

int swrauth__check_registry(const char *s, size_t n, swrauth_err *err) {
  char tmp[SWRAUTH_NAME_MAX + 8];
  swrauth_image img;
  size_t i, hostlen;
  char b[16];
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n > SWRAUTH_NAME_MAX)
    return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n, SWRAUTH_NAME_MAX);
  if (scheme_len(s, n) > 0)
    return swrauth__fail(err, "starts with a URL scheme: give a host name with an "
                         "optional :port, without 'scheme://'");
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '/' || c == '@' || c <= 0x20 || c >= 0x7f)
      return swrauth__fail(err, "has %s at byte %zu: give a host name with an optional "
                           ":port", swrauth__describe_byte(c, b), i + 1);
  }
  /* The host grammar is the image reference's: REGISTRY/x must parse with
  ** REGISTRY as its domain. A host without a '.' is taken only when it is
  ** localhost, an IPv6 address or has a port (as docker reads
  ** "registry:5000/x"), so that a path component ("team") is not mistaken
  ** for a registry. */
  memcpy(tmp, s, n);
  memcpy(tmp + n, "/x", 2);
  hostlen = n;
  if (s[0] == '[') {
    const char *rb = (const char *)memchr(s, ']', n);
    hostlen = rb != NULL ? (size_t)(rb - s) + 1 : n;
  } else {
    const char *colon = (const char *)memchr(s, ':', n);
    if (colon != NULL) hostlen = (size_t)(colon - s);
  }
  if (swrauth_parse_image(tmp, n + 2, &img, NULL) != 0 || img.domain_defaulted ||
      img.domain.len != n ||
      (s[0] != '[' && memchr(s, '.', hostlen) == NULL && hostlen == n &&
       !(hostlen == 9 && memcmp(s, "localhost", 9) == 0)))
    return swrauth__fail(err, "is not a registry host: give a host name with a '.' "
                         "(or 'localhost'), optionally with :port");
  /* The grammar takes any digits as a port; one to connect to is 1..65535. */
  i = n;
  while (i > 0 && is_digit((unsigned char)s[i - 1])) i--;
  if (i > 0 && i < n && s[i - 1] == ':') {
    size_t j;
    unsigned long port = 0;
    for (j = i; j < n && port <= 65535; j++) port = port * 10 + (unsigned long)(s[j] - '0');
    if (port == 0 || port > 65535)
      return swrauth__fail(err, "has a port out of range at byte %zu (a port is 1 to "
                           "65535)", i + 1);
  }
  return 0;
}

/* ---------------------------------------------------- paths and tags */

int swrauth__scan_path(const char *s, size_t start, size_t end, swrauth__fault *f) {
  size_t i;
  f->at = f->sep = start;
  if (start == end) return f->code = SWRAUTH__PATH_EMPTY;
  /* Uppercase first, as ParseNormalizedNamed checks it before the grammar. */
  for (i = start; i < end; i++)
    if (is_upper((unsigned char)s[i])) {
      f->at = i;
      return f->code = SWRAUTH__PATH_UPPER;
    }
  i = start;
  for (;;) {
    unsigned char c = i < end ? (unsigned char)s[i] : 0;
    f->at = i;
    if (i == end) return f->code = SWRAUTH__PATH_TRAILING_SLASH;
    if (c == '/')
      return f->code = i == start ? SWRAUTH__PATH_EMPTY_FIRST : SWRAUTH__PATH_DOUBLE_SLASH;
    if (!is_path_alnum(c)) return f->code = SWRAUTH__PATH_BAD_START;
    while (i < end && is_path_alnum((unsigned char)s[i])) i++;
    while (i < end && is_path_sep((unsigned char)s[i])) {
      f->sep = i;
      if (s[i] == '.') {
        i++;
      } else if (s[i] == '_') {
        i++;
        if (i < end && s[i] == '_') i++;
      } else {
        while (i < end && s[i] == '-') i++;
      }
      f->at = i;
      if (i == end || s[i] == '/') return f->code = SWRAUTH__PATH_SEP_AT_END;
      if (!is_path_alnum((unsigned char)s[i])) return f->code = SWRAUTH__PATH_BAD_AFTER_SEP;
      while (i < end && is_path_alnum((unsigned char)s[i])) i++;
    }
    f->at = i;
    if (i == end) return f->code = SWRAUTH__OK;
    if (s[i] != '/') return f->code = SWRAUTH__PATH_BAD_BYTE;
    i++;
  }
}

int swrauth__scan_tag(const char *s, size_t start, size_t end, swrauth__fault *f) {
  size_t i;
  f->at = f->sep = start;
  if (start == end) return f->code = SWRAUTH__TAG_EMPTY;
  if (!is_word((unsigned char)s[start])) return f->code = SWRAUTH__TAG_BAD_FIRST;
  for (i = start + 1; i < end; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_word(c) && c != '.' && c != '-') {
      f->at = i;
      return f->code = SWRAUTH__TAG_BAD_BYTE;
    }
  }
  if (end - start > SWRAUTH_TAG_MAX) return f->code = SWRAUTH__TAG_TOO_LONG;
  return f->code = SWRAUTH__OK;
}

/* A repository as pushed to a registry: the path only. */
static int check_repository(const char *s, size_t n, swrauth_err *err) {
  swrauth__fault f;
  const char *slash = n > 0 ? (const char *)memchr(s, '/', n) : NULL;
  size_t first = slash != NULL ? (size_t)(slash - s) : n, i;
  char b[16];
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n > SWRAUTH_NAME_MAX)
    return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n, SWRAUTH_NAME_MAX);
  /* What splitDockerDomain would take for a registry, when there is more
  ** after it (uppercase is reported by the grammar below). */
  if (slash != NULL && ((first == 9 && memcmp(s, "localhost", 9) == 0) ||
                        memchr(s, '.', first) != NULL || memchr(s, ':', first) != NULL))
    return swrauth__fail(err, "starts with a registry host: give NS/NAME without the "
                         "registry");
  /* A control character is named first, wherever it is. */
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return swrauth__fail(err, "has %s at byte %zu: a repository is a-z, 0-9, separators "
                           "('.', '_', '__', '-') and '/'",
                           swrauth__describe_byte((unsigned char)s[i], b), i + 1);
  for (i = 0; i < n; i++)
    if (s[i] == ':' || s[i] == '@')
      return swrauth__fail(err, "has '%c' at byte %zu: give NS/NAME without a tag or "
                           "digest", s[i], i + 1);
  switch (swrauth__scan_path(s, 0, n, &f)) {
    case SWRAUTH__OK: return 0;
    case SWRAUTH__PATH_UPPER:
      return swrauth__fail(err, "has '%c' at byte %zu: a repository is lowercase",
                           s[f.at], f.at + 1);
    case SWRAUTH__PATH_TRAILING_SLASH:
      return swrauth__fail(err, "ends with '/' at byte %zu", f.at);
    case SWRAUTH__PATH_EMPTY_FIRST:
    case SWRAUTH__PATH_DOUBLE_SLASH:
      return swrauth__fail(err, "has an empty path component at byte %zu", f.at + 1);
    case SWRAUTH__PATH_BAD_START:
      return swrauth__fail(err, "has %s at byte %zu: a path component starts with a-z "
                           "or 0-9", swrauth__describe_byte((unsigned char)s[f.at], b),
                           f.at + 1);
    case SWRAUTH__PATH_SEP_AT_END:
      return swrauth__fail(err, "has a path component ending with '%c' at byte %zu",
                           s[f.sep], f.at);
    case SWRAUTH__PATH_BAD_AFTER_SEP:
      return swrauth__fail(err, "has %s at byte %zu: a separator ('.', '_', '__' or "
                           "'-'s) comes between a-z or 0-9",
                           swrauth__describe_byte((unsigned char)s[f.at], b), f.at + 1);
    default:
      return swrauth__fail(err, "has %s at byte %zu: a repository is a-z, 0-9, "
                           "separators ('.', '_', '__', '-') and '/'",
                           swrauth__describe_byte((unsigned char)s[f.at], b), f.at + 1);
  }
}

/* A tag alone, by swrauth__scan_tag (the grammar parse_image uses). */
static int check_tag(const char *s, size_t n, swrauth_err *err) {
  swrauth__fault f;
  char b[16];
  switch (swrauth__scan_tag(s, 0, n, &f)) {
    case SWRAUTH__OK: return 0;
    case SWRAUTH__TAG_EMPTY: return swrauth__fail(err, "is empty");
    case SWRAUTH__TAG_BAD_FIRST:
      return swrauth__fail(err, "has %s at byte 1: a tag starts with a letter, a digit "
                           "or '_'", swrauth__describe_byte((unsigned char)s[0], b));
    case SWRAUTH__TAG_BAD_BYTE:
      return swrauth__fail(err, "has %s at byte %zu: a tag is letters, digits, '_', '.' "
                           "and '-'", swrauth__describe_byte((unsigned char)s[f.at], b),
                           f.at + 1);
    default:
      return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n, SWRAUTH_TAG_MAX);
  }
}

/* ------------------------------------------------------- digest, image */

/* What a registry answers in Docker-Content-Digest for the manifests
** swrauth pushes: sha256 only (parse_image takes sha384/512 too). */
static int check_digest(const char *s, size_t n, swrauth_err *err) {
  size_t i;
  char b[16];
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n < 7 || memcmp(s, "sha256:", 7) != 0)
    return swrauth__fail(err, "must start with 'sha256:' (a digest is 'sha256:' and %d "
                         "lowercase hex digits)", SWRAUTH_KEY_LEN);
  for (i = 7; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_lower_hex(c)) continue;
    if (c >= 'A' && c <= 'F')
      return swrauth__fail(err, "has an uppercase hex digit at byte %zu (a digest is "
                           "lowercase)", i + 1);
    return swrauth__fail(err, "has %s at byte %zu: a digest is 'sha256:' and %d "
                         "lowercase hex digits", swrauth__describe_byte(c, b), i + 1,
                         SWRAUTH_KEY_LEN);
  }
  if (n - 7 != SWRAUTH_KEY_LEN)
    return swrauth__fail(err, "has %zu hex digits after 'sha256:' (a digest has %d)",
                         n - 7, SWRAUTH_KEY_LEN);
  return 0;
}

/* parse_image's verdict; its message, which may quote a part of the
** reference but never all of it, goes in parentheses. */
static int check_image(const char *s, size_t n, swrauth_err *err) {
  swrauth_err e;
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n > SWRAUTH_IMAGE_MAX)
    return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n, SWRAUTH_IMAGE_MAX);
  if (swrauth_parse_image(s, n, NULL, &e) != 0)
    return swrauth__fail(err, "is not an image reference (%s)", e.msg);
  return 0;
}

/* ------------------------------------------------------------------ check */

/* An SK as derive takes it: the bytes swrauth_check_cred accepts, as a
** predicate. Never names a byte of the SK but whitespace, control
** characters and non-ASCII ones. */
static int check_sk(const char *s, size_t n, swrauth_err *err) {
  size_t i;
  if (n == 0) return swrauth__fail(err, "is empty");
  if (n > SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "is too long (%zu bytes, at most %d)", n, SWRAUTH_CRED_MAX);
  for (i = 0; i < n; i++)
    if ((unsigned char)((unsigned char)s[i] - 0x21) > 0x7e - 0x21)
      return swrauth__bad_cred_byte(s, n, i, 0, err);
  return 0;
}

static const char *const check_names[SWRAUTH_CHECK_COUNT] = {
  "project", "registry", "repository", "tag", "ak", "key", "image", "digest", "sk"};

const char *swrauth_check_name(swrauth_check_kind kind) {
  return (unsigned)kind < SWRAUTH_CHECK_COUNT ? check_names[kind] : NULL;
}

int swrauth_check_from_name(const char *name, size_t len) {
  int i;
  for (i = 0; i < SWRAUTH_CHECK_COUNT; i++)
    if (strlen(check_names[i]) == len && memcmp(check_names[i], name, len) == 0) return i;
  return -1;
}

int swrauth_check(swrauth_check_kind kind, const char *s, size_t n, swrauth_err *err) {
  switch (kind) {
    case SWRAUTH_CHECK_PROJECT: return swrauth__check_project(s, n, 0, err);
    case SWRAUTH_CHECK_REGISTRY: return swrauth__check_registry(s, n, err);
    case SWRAUTH_CHECK_REPOSITORY: return check_repository(s, n, err);
    case SWRAUTH_CHECK_TAG: return check_tag(s, n, err);
    case SWRAUTH_CHECK_AK: return swrauth__check_ak(s, n, 0, err);
    case SWRAUTH_CHECK_SK: return check_sk(s, n, err);
    case SWRAUTH_CHECK_KEY: return check_key(s, n, err);
    case SWRAUTH_CHECK_IMAGE: return check_image(s, n, err);
    case SWRAUTH_CHECK_DIGEST: return check_digest(s, n, err);
    default: return swrauth__fail(err, "is of an unknown kind");
  }
}

/*
** image.c: image references, by the grammar of Docker Distribution's
** reference package (github.com/distribution/reference, regexp.go), with
** the normalisation of its ParseNormalizedNamed + TagNameOnly and the
** digest checks of github.com/opencontainers/go-digest:
**
**   reference  := name [":" tag] ["@" digest]
**   name       := [domain "/"] remote-name
**   domain     := host [":" port]            port := [0-9]+
**   host       := domain-name | "[" [a-fA-F0-9:]+ "]"
**   domain-name := label ("." label)*
**   label      := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
**   remote-name := path-component ("/" path-component)*
**   path-component := [a-z0-9]+ (separator [a-z0-9]+)*
**   separator  := [._] | "__" | "-"+         (regexp.go: `(?:[._]|__|[-]+)`)
**   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
**   digest     := algorithm ":" hex
**   algorithm  := [A-Za-z][A-Za-z0-9]* ([-_+.] [A-Za-z][A-Za-z0-9]*)*
**   hex        := [0-9a-fA-F]{32,}
**
** Only sha256, sha384 and sha512 digests are accepted, with exactly 64, 96
** or 128 lowercase hex digits, as go-digest validates them.
**
** Which part is the domain follows splitDockerDomain: the text before the
** first "/" is a domain when it contains "." or ":", is "localhost", or
** has an uppercase letter; otherwise the domain is "docker.io". Byte
** positions in messages count from 1.
*/
#include <string.h>

#include "internal.h"

/* Longest piece of input quoted in a message (it is cut with "..."). */
#define QUOTE_MAX 40

static const char default_domain[] = "docker.io";
static const char legacy_domain[] = "index.docker.io";
static const char default_tag[] = "latest";

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha(unsigned char c) { return is_lower(c) || is_upper(c); }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static int is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_lower_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

static int span_eq(const char *s, size_t n, const char *lit) {
  return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static size_t find_byte(const char *s, size_t from, size_t n, char c) {
  const char *p = from < n ? memchr(s + from, c, n - from) : NULL;
  return p != NULL ? (size_t)(p - s) : n;
}

/* Renders s[0..n) for quoting in a message: printable ASCII is copied,
** anything else (and '"', '\\') becomes \xNN, so no raw control byte or
** broken UTF-8 ever reaches a message; long text is cut with "...". */
static const char *quote(const char *s, size_t n, char buf[QUOTE_MAX + 8]) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    if (o + (plain ? 1 : 4) > QUOTE_MAX) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (plain) {
      buf[o++] = (char)c;
    } else {
      static const char hexdig[] = "0123456789abcdef";
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hexdig[c >> 4];
      buf[o++] = hexdig[c & 15];
    }
  }
  buf[o] = '\0';
  return buf;
}

/* splitDockerDomain's test: is the first "/"-separated part a domain? */
static int looks_like_domain(const char *s, size_t n) {
  size_t i;
  if (span_eq(s, n, "localhost")) return 1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.' || c == ':' || is_upper(c)) return 1;
  }
  return 0;
}

/* A domain s[0..n): host [":" port], host a DNS-style name (which covers
** IPv4) or a bracketed IPv6 address. The message names the bad byte. */
static int check_domain(const char *s, size_t n, swrauth_err *err) {
  char b[16], q[QUOTE_MAX + 8];
  size_t i = 0;
  const char *what = "is not allowed";
  if (n == 0) return swrauth__fail(err, "invalid domain: empty");
  if (s[0] == '[') {
    for (i = 1; i < n && (is_hex((unsigned char)s[i]) || s[i] == ':'); i++) {
    }
    if (i == n)
      return swrauth__fail(err, "invalid domain \"%s\": missing ']' after the "
                           "IPv6 address", quote(s, n, q));
    if (s[i] == ']' && i == 1)
      return swrauth__fail(err, "invalid domain \"%s\": empty IPv6 address",
                           quote(s, n, q));
    if (s[i] != ']')
      return swrauth__fail(err, "invalid domain \"%s\": %s at byte %zu is not "
                           "allowed in an IPv6 address (hex digits and ':')",
                           quote(s, n, q),
                           swrauth__describe_byte((unsigned char)s[i], b), i + 1);
    i++;
  } else {
    for (;;) {
      size_t start = i;
      if (i == n || s[i] == '.' || s[i] == ':')
        return swrauth__fail(err, "invalid domain \"%s\": empty label at byte %zu",
                             quote(s, n, q), i + 1);
      if (s[i] == '-')
        return swrauth__fail(err, "invalid domain \"%s\": a label cannot start "
                             "with '-' (byte %zu)", quote(s, n, q), i + 1);
      while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '-')) i++;
      if (i == start) break; /* a byte no label may hold: reported below */
      if (s[i - 1] == '-')
        return swrauth__fail(err, "invalid domain \"%s\": a label cannot end "
                             "with '-' (byte %zu)", quote(s, n, q), i);
      if (i < n && s[i] == '.') {
        i++;
        continue;
      }
      break;
    }
  }
  if (i < n && s[i] == ':') {
    size_t port = ++i;
    while (i < n && is_digit((unsigned char)s[i])) i++;
    if (i == port && i == n)
      return swrauth__fail(err, "invalid domain \"%s\": empty port after ':' "
                           "at byte %zu", quote(s, n, q), port);
    if (i == n) return 0;
    what = "is not allowed in a port (digits only)";
  }
  if (i == n) return 0;
  return swrauth__fail(err, "invalid domain \"%s\": %s at byte %zu %s",
                       quote(s, n, q),
                       swrauth__describe_byte((unsigned char)s[i], b), i + 1, what);
}

/* The remote name s[start..end): path components [a-z0-9]+ joined by
** one '.', one or two '_', or any run of '-', separated by '/' (the
** grammar is swrauth__scan_path's; the messages are docker's words). */
static int check_path(const char *s, size_t start, size_t end,
                      swrauth_err *err) {
  swrauth__fault f;
  char b[16];
  switch (swrauth__scan_path(s, start, end, &f)) {
    case SWRAUTH__OK: return 0;
    case SWRAUTH__PATH_EMPTY:
      return swrauth__fail(err, "invalid reference format: missing repository "
                           "name at byte %zu", start + 1);
    case SWRAUTH__PATH_UPPER:
      return swrauth__fail(err, "repository name must be lowercase ('%c' at "
                           "byte %zu)", s[f.at], f.at + 1);
    case SWRAUTH__PATH_TRAILING_SLASH:
      return swrauth__fail(err, "invalid reference format: repository name "
                           "ends with '/' at byte %zu", f.at);
    case SWRAUTH__PATH_EMPTY_FIRST:
      return swrauth__fail(err, "invalid reference format: empty path "
                           "component at byte %zu", f.at + 1);
    case SWRAUTH__PATH_DOUBLE_SLASH:
      return swrauth__fail(err, "invalid reference format: empty path "
                           "component ('//') at byte %zu", f.at);
    case SWRAUTH__PATH_BAD_START:
      return swrauth__fail(err, "invalid reference format: repository name has "
                           "%s at byte %zu (a path component starts with "
                           "a-z or 0-9)",
                           swrauth__describe_byte((unsigned char)s[f.at], b), f.at + 1);
    case SWRAUTH__PATH_SEP_AT_END:
      return swrauth__fail(err, "invalid reference format: path component "
                           "ends with '%c' at byte %zu", s[f.sep], f.at);
    case SWRAUTH__PATH_BAD_AFTER_SEP:
      return swrauth__fail(err, "invalid reference format: repository name "
                           "has %s at byte %zu (a separator is '.', '_', "
                           "'__' or '-'s, then a-z or 0-9)",
                           swrauth__describe_byte((unsigned char)s[f.at], b),
                           f.at + 1);
    default:
      return swrauth__fail(err, "invalid reference format: repository name has "
                           "%s at byte %zu",
                           swrauth__describe_byte((unsigned char)s[f.at], b), f.at + 1);
  }
}

/* The tag s[start..end), after a ':' (swrauth__scan_tag's grammar). */
static int check_tag(const char *s, size_t start, size_t end,
                     swrauth_err *err) {
  char b[16], q[QUOTE_MAX + 8];
  swrauth__fault f;
  switch (swrauth__scan_tag(s, start, end, &f)) {
    case SWRAUTH__OK: return 0;
    case SWRAUTH__TAG_EMPTY:
      return swrauth__fail(err, "invalid reference format: empty tag after ':' "
                           "at byte %zu", start);
    case SWRAUTH__TAG_BAD_FIRST:
      return swrauth__fail(err, "invalid tag \"%s\" at byte %zu: %s cannot start "
                           "a tag (A-Z, a-z, 0-9 or '_')",
                           quote(s + start, end - start, q), start + 1,
                           swrauth__describe_byte((unsigned char)s[start], b));
    case SWRAUTH__TAG_BAD_BYTE:
      return swrauth__fail(err, "invalid tag \"%s\" at byte %zu: %s is not "
                           "allowed (A-Z, a-z, 0-9, '_', '.' or '-')",
                           quote(s + start, end - start, q), f.at + 1,
                           swrauth__describe_byte((unsigned char)s[f.at], b));
    default:
      return swrauth__fail(err, "tag is longer than %d characters (got %zu)",
                           SWRAUTH_TAG_MAX, end - start);
  }
}

/* The digest s[start..n), after an '@': the reference grammar, then
** go-digest's rule for the algorithms it knows. */
static int check_digest(const char *s, size_t start, size_t n,
                        swrauth_err *err) {
  static const struct {
    const char *name;
    size_t hexlen;
  } algs[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
  char b[16], q[QUOTE_MAX + 8];
  size_t i = start, hex, k, want = 0;
  const char *alg = NULL;
  if (start == n)
    return swrauth__fail(err, "invalid reference format: empty digest after "
                         "'@' at byte %zu", start);
  for (;;) {
    unsigned char c = i < n ? (unsigned char)s[i] : 0;
    if (i == n) break; /* after a separator: reported below */
    if (!is_alpha(c))
      return swrauth__fail(err, "digest: %s at byte %zu is not allowed (each "
                           "algorithm component starts with a letter)",
                           swrauth__describe_byte(c, b), i + 1);
    for (i++; i < n && is_alnum((unsigned char)s[i]); i++) {
    }
    if (i < n && (s[i] == '-' || s[i] == '_' || s[i] == '+' || s[i] == '.')) {
      i++;
      continue;
    }
    break;
  }
  if (i == n)
    return swrauth__fail(err, "digest: missing ':' and hex digits after "
                         "\"%s\"", quote(s + start, n - start, q));
  if (s[i] != ':')
    return swrauth__fail(err, "digest: %s at byte %zu is not allowed in the "
                         "algorithm", swrauth__describe_byte((unsigned char)s[i], b),
                         i + 1);
  hex = i + 1;
  for (i = hex; i < n; i++)
    if (!is_hex((unsigned char)s[i]))
      return swrauth__fail(err, "digest: %s at byte %zu is not a hex digit",
                           swrauth__describe_byte((unsigned char)s[i], b), i + 1);
  for (k = 0; k < sizeof algs / sizeof algs[0]; k++)
    if (span_eq(s + start, hex - 1 - start, algs[k].name)) {
      alg = algs[k].name;
      want = algs[k].hexlen;
    }
  if (alg == NULL)
    return swrauth__fail(err, "digest: unsupported algorithm \"%s\" (sha256, "
                         "sha384 or sha512)", quote(s + start, hex - 1 - start, q));
  if (n - hex != want)
    return swrauth__fail(err, "digest: %s needs %zu hex digits, got %zu", alg,
                         want, n - hex);
  for (i = hex; i < n; i++)
    if (!is_lower_hex((unsigned char)s[i]))
      return swrauth__fail(err, "digest: %s hex digits must be lowercase ('%c' "
                           "at byte %zu)", alg, s[i], i + 1);
  return 0;
}

/* A whole reference that is 64 lowercase hex digits: an image ID, which
** ParseNormalizedNamed refuses to read as a name. */
static int is_identifier(const char *s, size_t n) {
  size_t i;
  if (n != 64) return 0;
  for (i = 0; i < n; i++)
    if (!is_lower_hex((unsigned char)s[i])) return 0;
  return 1;
}

/* Splits and checks a reference, left to right, so the first fault found
** is the one reported; fills out only when all of it is valid. */
int swrauth_parse_image(const char *s, size_t n, swrauth_image *out,
                        swrauth_err *err) {
  char q[QUOTE_MAX + 8];
  swrauth_image im;
  size_t slash, rest, pend, tend;
  memset(&im, 0, sizeof im);
  if (out != NULL) *out = im;
  if (s == NULL || n == 0)
    return swrauth__fail(err, "image reference is empty");
  if (n > SWRAUTH_IMAGE_MAX)
    return swrauth__fail(err, "image reference is too long (%zu bytes, at most "
                         "%d)", n, SWRAUTH_IMAGE_MAX);
  if (is_identifier(s, n))
    return swrauth__fail(err, "invalid repository name \"%s\": cannot specify "
                         "64-byte hexadecimal strings", quote(s, n, q));

  slash = find_byte(s, 0, n, '/');
  if (slash < n && looks_like_domain(s, slash)) {
    if (span_eq(s, slash, legacy_domain)) {
      im.domain = SWRAUTH_SLICE(default_domain);
    } else {
      if (check_domain(s, slash, err) != 0) return -1;
      im.domain.ptr = s;
      im.domain.len = slash;
    }
    rest = slash + 1;
  } else {
    im.domain = SWRAUTH_SLICE(default_domain);
    im.domain_defaulted = 1;
    rest = 0;
  }

  /* The remote name ends at the first ':' or '@': neither may occur in it,
  ** nor '/' in a tag or digest. */
  pend = rest;
  while (pend < n && s[pend] != ':' && s[pend] != '@') pend++;
  if (check_path(s, rest, pend, err) != 0) return -1;
  im.path.ptr = s + rest;
  im.path.len = pend - rest;
  im.library = span_eq(im.domain.ptr, im.domain.len, default_domain) &&
               memchr(im.path.ptr, '/', im.path.len) == NULL;
  /* The limit is on the normalised path, as distribution/reference v0.6
  ** (docker 26 and later) checks it: the domain is not counted, and
  ** docker.io's "library/" is. */
  if (im.path.len + (im.library ? 8 : 0) > SWRAUTH_NAME_MAX)
    return swrauth__fail(err, "repository name must not be more than %d "
                         "characters (got %zu%s)", SWRAUTH_NAME_MAX,
                         im.path.len + (im.library ? 8 : 0),
                         im.library ? ", counting docker.io's 'library/'" : "");

  tend = pend;
  if (pend < n && s[pend] == ':') {
    tend = find_byte(s, pend + 1, n, '@');
    if (check_tag(s, pend + 1, tend, err) != 0) return -1;
    im.tag.ptr = s + pend + 1;
    im.tag.len = tend - pend - 1;
  }
  if (tend < n) { /* s[tend] == '@' */
    if (check_digest(s, tend + 1, n, err) != 0) return -1;
    im.digest.ptr = s + tend + 1;
    im.digest.len = n - tend - 1;
  }
  if (im.tag.ptr == NULL && im.digest.ptr == NULL) {
    im.tag = SWRAUTH_SLICE(default_tag);
    im.tag_defaulted = 1;
  }
  if (out != NULL) *out = im;
  return 0;
}

/* The repository as a registry names it, NUL-terminated into out:
** "library/" + path for docker.io's one-component names, else the path. */
int swrauth_image_repository(const swrauth_image *im, char *out, size_t outsize,
                             size_t *len, swrauth_err *err) {
  size_t lib = im->library ? 8 : 0, n = lib + im->path.len;
  if (im->path.ptr == NULL || n >= outsize)
    return swrauth__fail(err, "repository does not fit (%zu bytes, room for %zu)", n,
                         outsize > 0 ? outsize - 1 : 0);
  memcpy(out, "library/", lib);
  memcpy(out + lib, im->path.ptr, im->path.len);
  out[n] = '\0';
  if (len != NULL) *len = n;
  return 0;
}

/* NS/NAME at the last '/': ns is absent when there is none. */
void swrauth_repository_split(const char *repo, size_t len, swrauth_slice *ns,
                              swrauth_slice *name) {
  size_t i = len;
  while (i > 0 && repo[i - 1] != '/') i--;
  ns->ptr = i > 0 ? repo : NULL;
  ns->len = i > 0 ? i - 1 : 0;
  name->ptr = repo + i;
  name->len = len - i;
}

/* domain/repository[:tag][@digest], NUL-terminated into out. */
int swrauth_image_reference(const swrauth_image *im, char *out, size_t outsize,
                            size_t *len, swrauth_err *err) {
  size_t lib = im->library ? 8 : 0, o = 0;
  size_t n = im->domain.len + 1 + lib + im->path.len +
             (im->tag.ptr != NULL ? 1 + im->tag.len : 0) +
             (im->digest.ptr != NULL ? 1 + im->digest.len : 0);
  if (im->domain.ptr == NULL || im->path.ptr == NULL || n >= outsize)
    return swrauth__fail(err, "reference does not fit (%zu bytes, room for %zu)", n,
                         outsize > 0 ? outsize - 1 : 0);
  memcpy(out, im->domain.ptr, im->domain.len);
  o = im->domain.len;
  out[o++] = '/';
  memcpy(out + o, "library/", lib);
  o += lib;
  memcpy(out + o, im->path.ptr, im->path.len);
  o += im->path.len;
  if (im->tag.ptr != NULL) {
    out[o++] = ':';
    memcpy(out + o, im->tag.ptr, im->tag.len);
    o += im->tag.len;
  }
  if (im->digest.ptr != NULL) {
    out[o++] = '@';
    memcpy(out + o, im->digest.ptr, im->digest.len);
    o += im->digest.len;
  }
  out[o] = '\0';
  if (len != NULL) *len = o;
  return 0;
}

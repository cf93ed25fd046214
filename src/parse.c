/*
** parse.c: the PROJECT@AK user name of an SWR login, and config.json
** "auth" values (base64 of USER:PASSWORD).
**
** A project is what swrauth_format accepts: a region (a lowercase letter,
** then lowercase letters, digits and '-', not ending with '-', as in
** "cn-north-4"), optionally
** followed by '_' and a sub-project of letters, digits, '_', '-' and '.'.
** Byte positions in messages count from 1.
*/
#include <string.h>

#include "internal.h"

/* Longest project and region, as swrauth_format checks them. */
#define PROJECT_MAX 128
#define REGION_MAX 64

/* ASCII classes, whatever the locale. */
static int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c) {
  return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z');
}

/* Checks the project s[0..n) of a user; offsets in messages are those of
** the whole user, which starts with the project. */
static int check_project(const char *s, size_t n, swrauth_err *err) {
  const char *us = (const char *)memchr(s, '_', n);
  size_t rlen = us != NULL ? (size_t)(us - s) : n, i;
  char b[16];
  if (n > PROJECT_MAX)
    return swrauth__fail(err, "user: the project is too long (%zu bytes, at most %d)",
                         n, PROJECT_MAX);
  if (rlen == 0 || !is_lower((unsigned char)s[0]))
    return swrauth__fail(err, "user: the project must start with a region such as "
                         "'cn-north-4' (a lowercase letter first)");
  if (rlen > REGION_MAX)
    return swrauth__fail(err, "user: the region is too long (%zu bytes, at most %d)",
                         rlen, REGION_MAX);
  for (i = 0; i < rlen; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_lower(c) && !is_digit(c) && c != '-')
      return swrauth__fail(err, "user: the project has %s at byte %zu: a region is "
                           "lowercase letters, digits and '-'",
                           swrauth__describe_byte(c, b), i + 1);
  }
  if (s[rlen - 1] == '-')
    return swrauth__fail(err, "user: the project has a region ending with '-' at byte "
                         "%zu (the region names the registry host)", rlen);
  if (us == NULL) return 0;
  if (rlen + 1 == n)
    return swrauth__fail(err, "user: the project has an empty sub-project after "
                         "'_' at byte %zu", rlen + 1);
  for (i = rlen + 1; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.')
      return swrauth__fail(err, "user: the project has %s at byte %zu: a sub-project "
                           "is letters, digits, '_', '-' and '.'",
                           swrauth__describe_byte(c, b), i + 1);
  }
  return 0;
}

/* PROJECT@AK: exactly one '@' with a project before it and an AK after it.
** The AK is held to what derive takes (printable ASCII, no space) and may
** not hold ':', which would end it in USER:KEY forms. */
int swrauth_parse_user(const char *s, size_t n, swrauth_user *out,
                       swrauth_err *err) {
  const char *at;
  size_t i, pos;
  char b[16];
  memset(out, 0, sizeof *out);
  if (n == 0) return swrauth__fail(err, "empty user: expected PROJECT@AK");
  if (n > PROJECT_MAX + 1 + SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "user is too long (%zu bytes, at most %d)", n,
                         PROJECT_MAX + 1 + SWRAUTH_CRED_MAX);
  at = (const char *)memchr(s, '@', n);
  pos = at != NULL ? (size_t)(at - s) : n;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f) {
      size_t j = i;
      while (j < n && (s[j] == '\n' || s[j] == '\r')) j++;
      return swrauth__fail(err, "user has %s at byte %zu%s%s",
                           swrauth__describe_byte(c, b), i + 1,
                           at == NULL ? "" : i < pos ? " (in the project)"
                                                     : " (in the AK)",
                           j == n ? " (a pasted trailing newline?)" : "");
    }
  }
  if (at == NULL) return swrauth__fail(err, "user has no '@': expected PROJECT@AK");
  for (i = pos + 1; i < n; i++)
    if (s[i] == '@')
      return swrauth__fail(err, "user has a second '@' at byte %zu: expected "
                           "PROJECT@AK", i + 1);
  if (pos == 0)
    return swrauth__fail(err, "user has an empty project before '@'");
  if (pos + 1 == n) return swrauth__fail(err, "user has an empty AK after '@'");
  if (check_project(s, pos, err) != 0) return -1;
  if (n - pos - 1 > SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "user: the AK is too long (%zu bytes, at most %d)",
                         n - pos - 1, SWRAUTH_CRED_MAX);
  for (i = pos + 1; i < n; i++)
    if (s[i] == ':')
      return swrauth__fail(err, "user has ':' at byte %zu (in the AK)", i + 1);
  out->project.ptr = s;
  out->project.len = pos;
  out->region.ptr = s;
  out->region.len = pos;
  at = (const char *)memchr(s, '_', pos);
  if (at != NULL) out->region.len = (size_t)(at - s);
  out->ak.ptr = s + pos + 1;
  out->ak.len = n - pos - 1;
  return 0;
}

/* base64(USER:PASSWORD), split at the first ':' (a user cannot hold one;
** a password can). Either side may be empty, as docker allows. The
** decoded bytes stay in out->buf for the caller to wipe; on failure they
** are wiped here. */
int swrauth_parse_auth(const char *s, size_t n, swrauth_auth *out,
                       swrauth_err *err) {
  size_t len = 0;
  const unsigned char *colon;
  out->user.ptr = out->password.ptr = NULL;
  out->user.len = out->password.len = 0;
  if (n == 0) return swrauth__fail(err, "empty auth value");
  if (swrauth_base64_decode(s, n, out->buf, sizeof out->buf, &len, err) != 0)
    return -1;
  colon = (const unsigned char *)memchr(out->buf, ':', len);
  if (colon == NULL) {
    swrauth_wipe(out->buf, len);
    return swrauth__fail(err, "auth value has no ':' between user and password "
                         "once decoded");
  }
  out->user.ptr = (const char *)out->buf;
  out->user.len = (size_t)(colon - out->buf);
  out->password.ptr = (const char *)colon + 1;
  out->password.len = len - out->user.len - 1;
  return 0;
}

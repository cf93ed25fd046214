/*
** parse.c: the PROJECT@AK user name of an SWR login, and config.json
** "auth" values (base64 of USER:PASSWORD).
**
** The project and the AK are checked by the grammars format uses
** (src/names.c), so parse("user") and format("user") take the same
** users; their messages read "user: the project <predicate>". Byte
** positions in messages count from 1 in the user.
*/
#include <string.h>

#include "internal.h"

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
  if (n > SWRAUTH_PROJECT_MAX + 1 + SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "user is too long (%zu bytes, at most %d)", n,
                         SWRAUTH_PROJECT_MAX + 1 + SWRAUTH_CRED_MAX);
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
  if (swrauth__check_project(s, pos, 0, err) != 0)
    return swrauth__prefix(err, "user: the project ");
  if (swrauth__check_ak(s + pos + 1, n - pos - 1, pos + 1, err) != 0)
    return swrauth__prefix(err, "user: the AK ");
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

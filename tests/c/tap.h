/*
** tap.h: a minimal TAP producer for the C unit tests.
** ok(cond, name...) prints "ok N - name" or "not ok N - name";
** tap_done() prints the plan and returns the exit status.
*/
#ifndef SWRAUTH_TAP_H
#define SWRAUTH_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static int tap_ok(int cond, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static int tap_ok(int cond, const char *fmt, ...) {
  va_list ap;
  tap_n++;
  if (!cond) tap_failed++;
  printf("%sok %d - ", cond ? "" : "not ", tap_n);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
  return cond;
}

/* Compare a (ptr,len) with a C string. */
__attribute__((unused)) static int tap_eq(const char *p, size_t n, const char *want) {
  if (p == NULL) return want == NULL;
  if (want == NULL) return 0;
  return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* Lowercase hex of p[0..n) into out (2n + 1 bytes). */
__attribute__((unused)) static void hex(const unsigned char *p, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
  out[2 * n] = '\0';
}

static int tap_done(void) {
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#define ok tap_ok

#endif

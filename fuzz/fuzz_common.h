/*
** fuzz_common.h: helpers shared by the libFuzzer targets in fuzz/.
**
** A target checks properties beyond "no crash"; a violated property calls
** fuzz_fail(), which prints what was violated and aborts, so libFuzzer
** saves the input as a crash. Every target is built with ASan and UBSan
** (-fno-sanitize-recover=undefined), so memory errors and undefined
** behaviour abort too.
*/
#ifndef SWRAUTH_FUZZ_COMMON_H
#define SWRAUTH_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
static void fuzz_fail(const char *fmt, ...);

#include <stdarg.h>
static void fuzz_fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "PROPERTY VIOLATED: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  fflush(stderr);
  abort();
}

#define FUZZ_CHECK(cond, ...)                                                \
  do {                                                                       \
    if (!(cond)) fuzz_fail(__FILE__ ":" FUZZ_STR(__LINE__) ": " __VA_ARGS__); \
  } while (0)
#define FUZZ_STR2(x) #x
#define FUZZ_STR(x) FUZZ_STR2(x)

/* A slice equals (p, n). */
static inline int fuzz_eq(swrauth_slice s, const char *p, size_t n) {
  if (s.ptr == NULL) return p == NULL;
  if (p == NULL) return 0;
  return s.len == n && (n == 0 || memcmp(s.ptr, p, n) == 0);
}

static inline int fuzz_slice_eq(swrauth_slice a, swrauth_slice b) {
  return fuzz_eq(a, b.ptr, b.len);
}

/* A slice is absent (NULL, 0) or lies inside [base, base + n). */
static inline int fuzz_inside(swrauth_slice s, const void *base, size_t n) {
  const char *b = (const char *)base;
  if (s.ptr == NULL) return s.len == 0;
  return s.ptr >= b && s.len <= n && (size_t)(s.ptr - b) <= n - s.len;
}

/* An error message: NUL-terminated within its buffer, non-empty, and only
** printable ASCII (messages never carry raw input bytes). */
static inline void fuzz_check_msg(const swrauth_err *e) {
  size_t i, n = strnlen(e->msg, sizeof e->msg);
  FUZZ_CHECK(n < sizeof e->msg, "error message is not NUL-terminated");
  FUZZ_CHECK(n > 0, "failure without a message");
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)e->msg[i];
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "error message has byte 0x%02x at %zu: %s",
               c, i, e->msg);
  }
}

/* Resets an error so that a failure that forgets its message is seen. */
static inline void fuzz_err_reset(swrauth_err *e) { memset(e, 0, sizeof *e); }

/* 1 when needle (n bytes, n > 0) occurs in the NUL-terminated hay. */
static inline int fuzz_contains(const char *hay, const char *needle, size_t n) {
  size_t h = strlen(hay), i;
  if (n == 0 || n > h) return 0;
  for (i = 0; i + n <= h; i++)
    if (memcmp(hay + i, needle, n) == 0) return 1;
  return 0;
}

/* A growable byte string for building inputs in a harness. */
typedef struct fuzz_buf {
  char *p;
  size_t n, cap;
} fuzz_buf;

static inline void fuzz_put(fuzz_buf *b, const void *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1) cap *= 2;
    b->p = (char *)realloc(b->p, cap);
    if (b->p == NULL) abort();
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static inline void fuzz_puts(fuzz_buf *b, const char *s) { fuzz_put(b, s, strlen(s)); }

static inline void fuzz_put_slice(fuzz_buf *b, swrauth_slice s) {
  fuzz_put(b, s.ptr, s.len);
}

/* Appends s shell-quoted by swrauth_shell_quote. */
static inline void fuzz_put_quoted(fuzz_buf *b, const char *s, size_t n) {
  size_t need = 4 * n + 2, pos = 0;
  char *tmp = (char *)malloc(need);
  if (tmp == NULL) abort();
  FUZZ_CHECK(swrauth_shell_quote(s, n, tmp, need, &pos) == 0,
             "shell_quote failed with room for 4n+2 bytes");
  fuzz_put(b, tmp, pos);
  free(tmp);
}

/* A heap copy of exactly n bytes (ASan sees any read past it). */
static inline char *fuzz_dup(const void *s, size_t n) {
  char *p = (char *)malloc(n ? n : 1);
  if (p == NULL) abort();
  if (n) memcpy(p, s, n);
  return p;
}

static inline void fuzz_free(fuzz_buf *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}

#endif

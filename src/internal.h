/*
** internal.h: helpers shared by the core's files; not installed.
*/
#ifndef SWRAUTH_INTERNAL_H
#define SWRAUTH_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include "swrauth.h"

#if defined(__GNUC__)
#define SWRAUTH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SWRAUTH_NOINLINE __attribute__((noinline))
#else
#define SWRAUTH_PRINTF(a, b)
#define SWRAUTH_NOINLINE
#endif

/* Set err's message (printf-style) and return -1, so callers can write
** `return swrauth__fail(err, "...")`. err may be NULL. */
int swrauth__fail(swrauth_err *err, const char *fmt, ...) SWRAUTH_PRINTF(2, 3);

/* Put a printf-style prefix before err's message and return -1: the
** shared checks write predicates ("is empty"), callers name the value
** ("field 'project' "). err may be NULL. */
int swrauth__prefix(swrauth_err *err, const char *fmt, ...) SWRAUTH_PRINTF(2, 3);

/* Describe byte c for a message: "'a'", "space", "newline", "byte 0x00". */
const char *swrauth__describe_byte(unsigned char c, char buf[16]);

/* derive for an AK and SK that already passed swrauth_check_cred (the Lua
** binding checks them itself to name the argument). */
int swrauth__derive_checked(swrauth_hmac *h, const char *ak, size_t aklen,
                            const char *sk, size_t sklen,
                            char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err);

/* Digests for swrauth_sign, on the engine (src/core.c): SHA-256 on its
** reused contexts, SM3 fetched on first use and kept in it. */
typedef enum swrauth__md { SWRAUTH__SHA256, SWRAUTH__SM3 } swrauth__md;
/* 0 when md can be used (fetching SM3 the first time), else -1. */
int swrauth__md_ready(swrauth_hmac *h, swrauth__md md, swrauth_err *err);
int swrauth__digest(swrauth_hmac *h, swrauth__md md, const void *data, size_t n,
                    unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err);
/* HMAC over md; the key blocks are wiped, the contexts left clean. */
int swrauth__hmac(swrauth_hmac *h, swrauth__md md, const void *key,
                  size_t keylen, const void *msg, size_t msglen,
                  unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err);
/* Lowercase hex of 32 bytes, NUL-terminated. */
void swrauth__hex32(const unsigned char in[SWRAUTH_MAC_LEN],
                    char out[SWRAUTH_KEY_LEN + 1]);

/* swrauth_sign for a request that passed swrauth_sign_check (the Lua
** binding checks it first, to raise on misuse and return fail only when
** the digest is not available). */
int swrauth__sign_checked(swrauth_hmac *h, const swrauth_sign_req *req,
                          void *buf, size_t bufsize, swrauth_signed *out,
                          swrauth_err *err);

/* Longest project (as the console names them), region and tag. */
#define SWRAUTH_PROJECT_MAX 128
#define SWRAUTH_REGION_MAX 64
#define SWRAUTH_TAG_MAX 128

/* The shared checks of names.c. Each writes a predicate ("is empty", "has
** a space at byte 3: ...") for the caller to prefix with the value's name;
** byte positions in it are base + the offset in s, counted from 1. */
int swrauth__check_region(const char *s, size_t n, size_t base, swrauth_err *err);
int swrauth__check_project(const char *s, size_t n, size_t base, swrauth_err *err);
int swrauth__check_ak(const char *s, size_t n, size_t base, swrauth_err *err);
int swrauth__check_registry(const char *s, size_t n, swrauth_err *err);
/* The predicate for s[i], a byte an AK or SK may not hold: names it and
** hints at the usual cause (a pasted newline, surrounding whitespace). */
int swrauth__bad_cred_byte(const char *s, size_t n, size_t i, size_t base,
                           swrauth_err *err);

/* The grammars of a repository path and of a tag (distribution's
** reference), shared by swrauth_parse_image and swrauth_check, which word
** their messages differently: a scan returns what is wrong (code) and
** where (at: the offending byte's index in s; sep: where the separator
** of SWRAUTH__PATH_SEP_AT_END starts). */
enum {
  SWRAUTH__OK,
  SWRAUTH__PATH_EMPTY,           /* nothing between start and end */
  SWRAUTH__PATH_UPPER,           /* an uppercase letter at `at` */
  SWRAUTH__PATH_TRAILING_SLASH,  /* ends with '/' (at == end) */
  SWRAUTH__PATH_EMPTY_FIRST,     /* starts with '/' */
  SWRAUTH__PATH_DOUBLE_SLASH,    /* "//" with the second at `at` */
  SWRAUTH__PATH_BAD_START,       /* a component starts with s[at] */
  SWRAUTH__PATH_SEP_AT_END,      /* a separator at sep ends a component */
  SWRAUTH__PATH_BAD_AFTER_SEP,   /* s[at] follows a separator */
  SWRAUTH__PATH_BAD_BYTE,        /* s[at] ends a component, not '/' */
  SWRAUTH__TAG_EMPTY,
  SWRAUTH__TAG_BAD_FIRST,        /* s[start] cannot start a tag */
  SWRAUTH__TAG_BAD_BYTE,         /* s[at] */
  SWRAUTH__TAG_TOO_LONG
};
typedef struct swrauth__fault {
  int code;
  size_t at, sep;
} swrauth__fault;
int swrauth__scan_path(const char *s, size_t start, size_t end, swrauth__fault *f);
int swrauth__scan_tag(const char *s, size_t start, size_t end, swrauth__fault *f);

#define SWRAUTH_SLICE(s) ((swrauth_slice){ (s), sizeof(s) - 1 })

#endif

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
#else
#define SWRAUTH_PRINTF(a, b)
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

#define SWRAUTH_SLICE(s) ((swrauth_slice){ (s), sizeof(s) - 1 })

#endif

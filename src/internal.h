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

/* Describe byte c for a message: "'a'", "space", "newline", "byte 0x00". */
const char *swrauth__describe_byte(unsigned char c, char buf[16]);

/* derive for an AK and SK that already passed swrauth_check_cred (the Lua
** binding checks them itself to name the argument). */
int swrauth__derive_checked(swrauth_hmac *h, const char *ak, size_t aklen,
                            const char *sk, size_t sklen,
                            char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err);

#define SWRAUTH_SLICE(s) ((swrauth_slice){ (s), sizeof(s) - 1 })

#endif

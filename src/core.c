/*
** core.c: HMAC-SHA256 and the SWR login key (derive, verify).
**
** The login key is lowercase hex of HMAC-SHA256 with key = SK and
** message = AK. HMAC is built here on a reusable EVP_MD_CTX and an EVP_MD
** fetched once: re-keying OpenSSL's EVP_MAC costs several extra digest
** contexts per call, and an implicit fetch per call costs 3-4x.
*/
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "internal.h"

#define BLOCK 64 /* SHA-256 block size */

struct swrauth_hmac {
  EVP_MD *md;
  EVP_MD_CTX *ctx;
};

/* Turns OpenSSL's error queue into one message and empties the queue. */
static int crypto_fail(swrauth_err *err, const char *what) {
  char buf[160];
  unsigned long e = ERR_get_error_all(NULL, NULL, NULL, NULL, NULL);
  if (e != 0)
    ERR_error_string_n(e, buf, sizeof buf);
  else
    snprintf(buf, sizeof buf, "unknown error");
  ERR_clear_error();
  return swrauth__fail(err, "%s failed: %s", what, buf);
}

swrauth_hmac *swrauth_hmac_new(swrauth_err *err) {
  swrauth_hmac *h = OPENSSL_zalloc(sizeof *h);
  if (h == NULL) {
    swrauth__fail(err, "out of memory");
    return NULL;
  }
  h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  h->ctx = EVP_MD_CTX_new();
  if (h->md == NULL || h->ctx == NULL) {
    crypto_fail(err, "fetching SHA256");
    swrauth_hmac_free(h);
    return NULL;
  }
  return h;
}

void swrauth_hmac_free(swrauth_hmac *h) {
  if (h == NULL) return;
  EVP_MD_CTX_free(h->ctx); /* cleanses the digest state */
  EVP_MD_free(h->md);
  OPENSSL_free(h);
}

/* One SHA-256 over a 64-byte pad followed by data, on the reused context. */
static int digest2(swrauth_hmac *h, const unsigned char pad[BLOCK],
                   const void *data, size_t n, unsigned char out[32]) {
  return EVP_DigestInit_ex2(h->ctx, h->md, NULL) &&
         EVP_DigestUpdate(h->ctx, pad, BLOCK) &&
         EVP_DigestUpdate(h->ctx, data, n) &&
         EVP_DigestFinal_ex(h->ctx, out, NULL);
}

/* HMAC per RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)). For keys up to
** one block and short messages this is exactly four block compressions. */
int swrauth_hmac_sha256(swrauth_hmac *h, const void *key, size_t keylen,
                        const void *msg, size_t msglen,
                        unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err) {
  unsigned char k[BLOCK], pad[BLOCK], inner[SWRAUTH_MAC_LEN];
  int ok = 1;
  size_t i;
  memset(k, 0, sizeof k);
  if (keylen > BLOCK) {
    ok = EVP_DigestInit_ex2(h->ctx, h->md, NULL) &&
         EVP_DigestUpdate(h->ctx, key, keylen) &&
         EVP_DigestFinal_ex(h->ctx, k, NULL);
  } else if (keylen > 0) {
    memcpy(k, key, keylen);
  }
  if (ok) {
    for (i = 0; i < BLOCK; i++) pad[i] = k[i] ^ 0x36;
    ok = digest2(h, pad, msg, msglen, inner);
  }
  if (ok) {
    for (i = 0; i < BLOCK; i++) pad[i] = k[i] ^ 0x5c;
    ok = digest2(h, pad, inner, sizeof inner, out);
  }
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  if (!ok) {
    OPENSSL_cleanse(out, SWRAUTH_MAC_LEN);
    return crypto_fail(err, "HMAC-SHA256");
  }
  return 0;
}

/* Whitespace, control characters and non-ASCII bytes are rejected: real
** AKs and SKs are ASCII letters and digits, and a pasted trailing newline
** or a copied non-breaking space yields a key that silently fails. */
int swrauth_check_cred(const char *what, const char *s, size_t n,
                       swrauth_err *err) {
  size_t i;
  if (n == 0) return swrauth__fail(err, "%s is empty", what);
  if (n > SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "%s is too long (%zu bytes, at most %d)", what,
                         n, SWRAUTH_CRED_MAX);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char b[16];
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      const char *hint = (i == n - 1 && (c == '\n' || c == '\r'))
                             ? " (a pasted trailing newline?)"
                         : (i == 0 || i == n - 1) ? " (leading or trailing whitespace?)"
                                                  : "";
      return swrauth__fail(err, "%s contains whitespace (%s) at byte %zu%s",
                           what, swrauth__describe_byte(c, b), i + 1, hint);
    }
    if (c < 0x20 || c == 0x7f)
      return swrauth__fail(err, "%s contains a control character (%s) at byte %zu",
                           what, swrauth__describe_byte(c, b), i + 1);
    if (c >= 0x80)
      return swrauth__fail(err, "%s contains a non-ASCII byte (0x%02x) at byte %zu",
                           what, c, i + 1);
  }
  return 0;
}

static const char hexdigits[] = "0123456789abcdef";

int swrauth_derive(swrauth_hmac *h, const char *ak, size_t aklen,
                   const char *sk, size_t sklen,
                   char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err) {
  unsigned char mac[SWRAUTH_MAC_LEN];
  size_t i;
  if (swrauth_check_cred("AK", ak, aklen, err) != 0 ||
      swrauth_check_cred("SK", sk, sklen, err) != 0)
    return -1;
  if (swrauth_hmac_sha256(h, sk, sklen, ak, aklen, mac, err) != 0) return -1;
  for (i = 0; i < SWRAUTH_MAC_LEN; i++) {
    out[2 * i] = hexdigits[mac[i] >> 4];
    out[2 * i + 1] = hexdigits[mac[i] & 15];
  }
  out[SWRAUTH_KEY_LEN] = '\0';
  OPENSSL_cleanse(mac, sizeof mac);
  return 0;
}

/* Constant time in the key's content: every call compares all 64 bytes. */
int swrauth_verify(swrauth_hmac *h, const char *ak, size_t aklen,
                   const char *sk, size_t sklen, const char *key,
                   size_t keylen, swrauth_err *err) {
  char want[SWRAUTH_KEY_LEN + 1];
  int same;
  if (swrauth_derive(h, ak, aklen, sk, sklen, want, err) != 0) return -1;
  same = keylen == SWRAUTH_KEY_LEN &&
         CRYPTO_memcmp(want, key, SWRAUTH_KEY_LEN) == 0;
  OPENSSL_cleanse(want, sizeof want);
  return same;
}

/*
** core.c: HMAC-SHA256 and the SWR login key (derive, verify).
**
** The login key is lowercase hex of HMAC-SHA256 with key = SK and
** message = AK. HMAC is built here on a reusable EVP_MD_CTX and an EVP_MD
** fetched once: re-keying OpenSSL's EVP_MAC costs several extra digest
** contexts per call, and an implicit fetch per call costs 3-4x.
*/
#include <stdint.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "internal.h"

#define BLOCK 64 /* SHA-256 block size */
#define LO UINT64_C(0x0101010101010101)
#define HI UINT64_C(0x8080808080808080)

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

/* XORs every byte of a block with the byte repeated in m, a word at a time. */
static void xor_block(unsigned char b[BLOCK], uint64_t m) {
  size_t i;
  for (i = 0; i < BLOCK; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    w ^= m;
    memcpy(b + i, &w, 8);
  }
}

/* HMAC per RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)). For keys up to
** one block and short messages this is exactly four block compressions. */
int swrauth_hmac_sha256(swrauth_hmac *h, const void *key, size_t keylen,
                        const void *msg, size_t msglen,
                        unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err) {
  unsigned char pad[BLOCK], inner[SWRAUTH_MAC_LEN];
  const unsigned char *k = (const unsigned char *)key;
  int ok = 1;
  if (keylen > BLOCK) { /* long keys are hashed first (RFC 2104) */
    ok = EVP_DigestInit_ex2(h->ctx, h->md, NULL) &&
         EVP_DigestUpdate(h->ctx, key, keylen) &&
         EVP_DigestFinal_ex(h->ctx, inner, NULL);
    k = inner;
    keylen = SWRAUTH_MAC_LEN;
  }
  if (ok) {
    memset(pad, 0, BLOCK);
    memcpy(pad, k, keylen);
    xor_block(pad, 0x36 * LO);
    ok = digest2(h, pad, msg, msglen, inner);
  }
  if (ok) {
    xor_block(pad, (0x36 ^ 0x5c) * LO); /* ipad -> opad */
    ok = digest2(h, pad, inner, sizeof inner, out);
  }
  swrauth_wipe(pad, sizeof pad);
  swrauth_wipe(inner, sizeof inner);
  if (!ok) {
    swrauth_wipe(out, SWRAUTH_MAC_LEN);
    return crypto_fail(err, "HMAC-SHA256");
  }
  return 0;
}

/* Describes the first byte of s that derive does not take. */
static int cred_fail(const char *what, const char *s, size_t n, size_t i,
                     swrauth_err *err) {
  unsigned char c = (unsigned char)s[i];
  char b[16];
  if (c == ' ' || (c >= '\t' && c <= '\r')) {
    const char *hint = (i == n - 1 && (c == '\n' || c == '\r'))
                           ? " (a pasted trailing newline?)"
                       : (i == 0 || i == n - 1) ? " (leading or trailing whitespace?)"
                                                : "";
    return swrauth__fail(err, "%s contains whitespace (%s) at byte %zu%s", what,
                         swrauth__describe_byte(c, b), i + 1, hint);
  }
  if (c < 0x20 || c == 0x7f)
    return swrauth__fail(err, "%s contains a control character (%s) at byte %zu",
                         what, swrauth__describe_byte(c, b), i + 1);
  return swrauth__fail(err, "%s contains a non-ASCII byte (0x%02x) at byte %zu",
                       what, c, i + 1);
}

/* Whitespace, control characters and non-ASCII bytes are rejected: real
** AKs and SKs are ASCII letters and digits, and a pasted trailing newline
** or a copied non-breaking space yields a key that silently fails. The
** loop is one unsigned comparison a byte: derive is called hot. */
int swrauth_check_cred(const char *what, const char *s, size_t n,
                       swrauth_err *err) {
  size_t i;
  if (n == 0) return swrauth__fail(err, "%s is empty", what);
  if (n > SWRAUTH_CRED_MAX)
    return swrauth__fail(err, "%s is too long (%zu bytes, at most %d)", what,
                         n, SWRAUTH_CRED_MAX);
  /* Eight bytes at a time: a word passes when no byte has its high bit
  ** set, none is below 0x21 and none is 0x7f (bit tricks valid for bytes
  ** under 0x80, which the first test guarantees). */
  for (i = 0; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, 8);
    if ((w & HI) || ((w - 0x21 * LO) & ~w & HI) || (((w + LO) | w) & HI)) break;
  }
  for (; i < n; i++)
    if ((unsigned char)((unsigned char)s[i] - 0x21) > 0x7e - 0x21)
      return cred_fail(what, s, n, i, err);
  return 0;
}

/* Lowercase hex of 32 bytes, two digits per table lookup. */
#define X(n) #n
#define R16(h) X(h##0) X(h##1) X(h##2) X(h##3) X(h##4) X(h##5) X(h##6) X(h##7) \
               X(h##8) X(h##9) X(h##a) X(h##b) X(h##c) X(h##d) X(h##e) X(h##f)
static const char hexpairs[513] =
    R16(0) R16(1) R16(2) R16(3) R16(4) R16(5) R16(6) R16(7)
    R16(8) R16(9) R16(a) R16(b) R16(c) R16(d) R16(e) R16(f);
#undef R16
#undef X

static void to_hex(const unsigned char mac[SWRAUTH_MAC_LEN],
                   char out[SWRAUTH_KEY_LEN + 1]) {
  size_t i;
  for (i = 0; i < SWRAUTH_MAC_LEN; i++)
    memcpy(out + 2 * i, hexpairs + 2 * mac[i], 2);
  out[SWRAUTH_KEY_LEN] = '\0';
}

/* derive for an AK and SK already checked by swrauth_check_cred. */
int swrauth__derive_checked(swrauth_hmac *h, const char *ak, size_t aklen,
                            const char *sk, size_t sklen,
                            char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err) {
  unsigned char mac[SWRAUTH_MAC_LEN];
  if (swrauth_hmac_sha256(h, sk, sklen, ak, aklen, mac, err) != 0) return -1;
  to_hex(mac, out);
  swrauth_wipe(mac, sizeof mac);
  return 0;
}

int swrauth_derive(swrauth_hmac *h, const char *ak, size_t aklen,
                   const char *sk, size_t sklen,
                   char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err) {
  if (swrauth_check_cred("AK", ak, aklen, err) != 0 ||
      swrauth_check_cred("SK", sk, sklen, err) != 0)
    return -1;
  return swrauth__derive_checked(h, ak, aklen, sk, sklen, out, err);
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
  swrauth_wipe(want, sizeof want);
  return same;
}

/*
** core.c: HMAC-SHA256 and the SWR login key (derive, verify).
**
** The login key is lowercase hex of HMAC-SHA256 with key = SK and
** message = AK. HMAC is built here on SHA-256 fetched once: re-keying
** OpenSSL's EVP_MAC costs several extra digest contexts per call, and an
** implicit fetch per call costs 3-4x.
**
** The digest runs on the fetched implementation's own functions (its
** provider's dispatch table, found once through the public provider API)
** on one reused provider context. EVP_DigestInit_ex2 in OpenSSL 3.0 frees
** and reallocates that context on every call: about 550 instructions, two
** per derive, on top of four SHA-256 block compressions of about 2,040
** each (see BENCHMARKS.md). When the functions cannot be found, the EVP
** calls are used instead.
*/
#include <stdint.h>
#include <string.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "internal.h"

#define BLOCK 64 /* SHA-256 block size */
#define LO UINT64_C(0x0101010101010101)
#define HI UINT64_C(0x8080808080808080)

struct swrauth_hmac {
  EVP_MD *md;
  EVP_MD_CTX *ctx;
  /* The implementation's functions and its context, or dctx NULL. */
  void *dctx;
  OSSL_FUNC_digest_init_fn *dinit;
  OSSL_FUNC_digest_update_fn *dupdate;
  OSSL_FUNC_digest_final_fn *dfinal;
  OSSL_FUNC_digest_freectx_fn *dfreectx;
  /* SM3 for swrauth_sign's SDK-HMAC-SM3, fetched on first use. */
  EVP_MD *sm3;
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

/* Whether the first name in a provider's "NAME:ALIAS:..." list names md. */
static int names_md(const EVP_MD *md, const char *names) {
  char first[64];
  size_t n = strcspn(names, ":");
  if (n == 0 || n >= sizeof first) return 0;
  memcpy(first, names, n);
  first[n] = '\0';
  return EVP_MD_is_a(md, first);
}

/* Looks up the fetched digest's implementation in its provider and makes
** one context of its own; leaves h->dctx NULL (the EVP path) on any doubt.
** The functions stay valid while h->md holds the provider. */
static void find_direct(swrauth_hmac *h) {
  const OSSL_PROVIDER *prov = EVP_MD_get0_provider(h->md);
  const OSSL_ALGORITHM *algs, *a;
  const OSSL_DISPATCH *d;
  int no_cache = 0;
#ifdef SWRAUTH_NO_DIRECT_DIGEST /* the EVP path only (build/test_core_evp) */
  return;
#endif
  if (prov == NULL) return;
  algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_DIGEST, &no_cache);
  for (a = algs; a != NULL && a->algorithm_names != NULL; a++) {
    OSSL_FUNC_digest_newctx_fn *newctx = NULL;
    if (!names_md(h->md, a->algorithm_names)) continue;
    for (d = a->implementation; d != NULL && d->function_id != 0; d++) {
      switch (d->function_id) {
        case OSSL_FUNC_DIGEST_NEWCTX: newctx = OSSL_FUNC_digest_newctx(d); break;
        case OSSL_FUNC_DIGEST_INIT: h->dinit = OSSL_FUNC_digest_init(d); break;
        case OSSL_FUNC_DIGEST_UPDATE: h->dupdate = OSSL_FUNC_digest_update(d); break;
        case OSSL_FUNC_DIGEST_FINAL: h->dfinal = OSSL_FUNC_digest_final(d); break;
        case OSSL_FUNC_DIGEST_FREECTX: h->dfreectx = OSSL_FUNC_digest_freectx(d); break;
        default: break;
      }
    }
    if (newctx != NULL && h->dinit != NULL && h->dupdate != NULL &&
        h->dfinal != NULL && h->dfreectx != NULL)
      h->dctx = newctx(OSSL_PROVIDER_get0_provider_ctx(prov));
    break;
  }
  if (algs != NULL) OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_DIGEST, algs);
  ERR_clear_error();
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
  find_direct(h);
  /* Bind now every function called while digest state or a key is in
  ** registers: the first call of a lazily bound function saves the vector
  ** registers on the stack, where a MAC was found (tests/c/test_memscan.c).
  ** One empty digest on the EVP path, and the wipes. */
  {
    unsigned char a[SWRAUTH_MAC_LEN] = {0};
    if (!(EVP_DigestInit_ex2(h->ctx, h->md, NULL) && EVP_DigestUpdate(h->ctx, a, 0) &&
          EVP_MD_CTX_get_size(h->ctx) == SWRAUTH_MAC_LEN &&
          EVP_DigestFinal_ex(h->ctx, a, NULL)))
      ERR_clear_error();
    if (EVP_MD_CTX_get0_md(h->ctx) != NULL) EVP_MD_CTX_reset(h->ctx);
    (void)CRYPTO_memcmp(a, a, sizeof a);
    swrauth_wipe(a, sizeof a);
  }
  return h;
}

void swrauth_hmac_free(swrauth_hmac *h) {
  if (h == NULL) return;
  if (h->dctx != NULL) h->dfreectx(h->dctx); /* cleanses the digest state */
  EVP_MD_CTX_free(h->ctx); /* cleanses the digest state */
  EVP_MD_free(h->md);
  EVP_MD_free(h->sm3);
  OPENSSL_free(h);
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
** one block and short messages this is exactly four block compressions.
** One implementation with swrauth_sign's SM3 (swrauth__hmac, below). */
int swrauth_hmac_sha256(swrauth_hmac *h, const void *key, size_t keylen,
                        const void *msg, size_t msglen,
                        unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err) {
  return swrauth__hmac(h, SWRAUTH__SHA256, key, keylen, msg, msglen, out, err);
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
    if ((unsigned char)((unsigned char)s[i] - 0x21) > 0x7e - 0x21) {
      /* "SK has a newline at byte 41 (a pasted newline?)" */
      swrauth__bad_cred_byte(s, n, i, 0, err);
      return swrauth__prefix(err, "%s ", what);
    }
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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* Four bytes to eight digits in one word: spread the bytes to every
  ** other byte, split the nibbles (high first), then add '0', and 39 more
  ** where the nibble is 10 or over ('a' - '0' - 10). No lane carries. */
  (void)hexpairs;
  for (i = 0; i < SWRAUTH_MAC_LEN; i += 4) {
    uint32_t v;
    uint64_t w, alpha;
    memcpy(&v, mac + i, 4);
    w = v;
    w = (w | (w << 16)) & UINT64_C(0x0000ffff0000ffff);
    w = (w | (w << 8)) & UINT64_C(0x00ff00ff00ff00ff);
    w = ((w >> 4) & UINT64_C(0x000f000f000f000f)) |
        ((w & UINT64_C(0x000f000f000f000f)) << 8);
    alpha = ((w + 0x06 * LO) >> 4) & LO;
    w += 0x30 * LO + alpha * 0x27;
    memcpy(out + 2 * i, &w, 8);
  }
#else
  for (i = 0; i < SWRAUTH_MAC_LEN; i++)
    memcpy(out + 2 * i, hexpairs + 2 * mac[i], 2);
#endif
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

/* ------------------------------------------------ digests for swrauth_sign */

void swrauth__hex32(const unsigned char in[SWRAUTH_MAC_LEN],
                    char out[SWRAUTH_KEY_LEN + 1]) {
  to_hex(in, out);
}

/* SM3 is fetched once, on first use: most states never sign with it. A
** failed fetch is tried again next time (and costs nothing until then). */
int swrauth__md_ready(swrauth_hmac *h, swrauth__md md, swrauth_err *err) {
  if (md == SWRAUTH__SHA256 || h->sm3 != NULL) return 0;
  h->sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
  if (h->sm3 == NULL) {
    ERR_clear_error();
    return swrauth__fail(err, "SDK-HMAC-SM3 is not available: OpenSSL has no "
                              "SM3 digest in the loaded providers");
  }
  return 0;
}

/* One digest of a then b (either may be empty): SHA-256 on the provider's
** own functions when found, else on the reused EVP context. */
static int md_run(swrauth_hmac *h, swrauth__md md, const void *a, size_t an,
                  const void *b, size_t bn, unsigned char out[SWRAUTH_MAC_LEN]) {
  if (md == SWRAUTH__SHA256 && h->dctx != NULL) {
    size_t outl = 0;
    return h->dinit(h->dctx, NULL) && (an == 0 || h->dupdate(h->dctx, a, an)) &&
           (bn == 0 || h->dupdate(h->dctx, b, bn)) &&
           h->dfinal(h->dctx, out, &outl, SWRAUTH_MAC_LEN) &&
           outl == SWRAUTH_MAC_LEN;
  }
  return EVP_DigestInit_ex2(h->ctx, md == SWRAUTH__SM3 ? h->sm3 : h->md, NULL) &&
         (an == 0 || EVP_DigestUpdate(h->ctx, a, an)) &&
         (bn == 0 || EVP_DigestUpdate(h->ctx, b, bn)) &&
         EVP_MD_CTX_get_size(h->ctx) == SWRAUTH_MAC_LEN &&
         EVP_DigestFinal_ex(h->ctx, out, NULL);
}

/* Overwrites the stack below the caller's frame, where the digest's own
** frames were: a portable SHA-256 keeps the message words of the key
** block there, and a register spill (the dynamic linker saves the vector
** registers when it binds a symbol) can land there too. */
static SWRAUTH_NOINLINE void burn_stack(void) {
  unsigned char b[1024];
  swrauth_wipe(b, sizeof b);
}

/* Leaves no key-derived state in the reused contexts: the direct context
** is initialised again (its init clears the whole state), the EVP one's
** provider context freed (the providers' freectx cleanses it) when it
** was used (a reset of an unused one costs a cleanse of the context for
** nothing on the hot derive path). Then the stack the digest used. */
static void md_scrub(swrauth_hmac *h) {
  if (h->dctx != NULL) h->dinit(h->dctx, NULL);
  if (EVP_MD_CTX_get0_md(h->ctx) != NULL) EVP_MD_CTX_reset(h->ctx);
  burn_stack();
}

int swrauth__digest(swrauth_hmac *h, swrauth__md md, const void *data, size_t n,
                    unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err) {
  if (swrauth__md_ready(h, md, err) != 0) return -1;
  if (!md_run(h, md, data, n, NULL, 0, out))
    return crypto_fail(err, md == SWRAUTH__SM3 ? "SM3" : "SHA-256");
  return 0;
}

/* HMAC (RFC 2104) on SHA-256 or SM3, both with 64-byte blocks and 32-byte
** digests. The key blocks and the inner digest live in pad and inner,
** wiped on every path (tests/c/test_sign.c checks that they are). */
int swrauth__hmac(swrauth_hmac *h, swrauth__md md, const void *key,
                  size_t keylen, const void *msg, size_t msglen,
                  unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err) {
  unsigned char pad[BLOCK], inner[SWRAUTH_MAC_LEN];
  int ok;
  if (swrauth__md_ready(h, md, err) != 0) return -1;
  memset(pad, 0, BLOCK);
  if (keylen > BLOCK) { /* long keys are hashed first */
    ok = md_run(h, md, key, keylen, NULL, 0, inner);
    memcpy(pad, inner, SWRAUTH_MAC_LEN);
  } else {
    ok = 1;
    if (keylen > 0) memcpy(pad, key, keylen);
  }
  if (ok) {
    xor_block(pad, 0x36 * LO);
    ok = md_run(h, md, pad, BLOCK, msg, msglen, inner);
  }
  if (ok) {
    xor_block(pad, (0x36 ^ 0x5c) * LO); /* ipad -> opad */
    ok = md_run(h, md, pad, BLOCK, inner, SWRAUTH_MAC_LEN, out);
  }
  swrauth_wipe(pad, sizeof pad);
  swrauth_wipe(inner, sizeof inner);
  md_scrub(h);
  if (!ok) {
    swrauth_wipe(out, SWRAUTH_MAC_LEN);
    return crypto_fail(err, md == SWRAUTH__SM3 ? "HMAC-SM3" : "HMAC-SHA256");
  }
  return 0;
}

/* ---------------------------------------------------------------- sha256 */

/* SHA-256 of any bytes on the engine's fetched digest and reused
** context, which is left clean (the data may be a secret too). */
int swrauth_sha256(swrauth_hmac *h, const void *data, size_t n,
                   unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err) {
  int ok = md_run(h, SWRAUTH__SHA256, data, n, NULL, 0, out);
  md_scrub(h);
  if (!ok) return crypto_fail(err, "SHA-256");
  return 0;
}

int swrauth_sha256_hex(swrauth_hmac *h, const void *data, size_t n,
                       char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err) {
  unsigned char md[SWRAUTH_MAC_LEN];
  if (swrauth_sha256(h, data, n, md, err) != 0) return -1;
  to_hex(md, out);
  swrauth_wipe(md, sizeof md);
  return 0;
}

const char *swrauth_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

const char *swrauth_openssl_headers(void) { return OPENSSL_VERSION_TEXT; }

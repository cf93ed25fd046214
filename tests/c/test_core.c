/*
** test_core.c: HMAC-SHA256 (RFC 4231), derive, verify and the checks on
** AK/SK, through the C core only.
*/
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"
#include "tap.h"

typedef struct rfc_case {
  int id;
  unsigned char key[131];
  size_t keylen;
  const char *data;
  size_t datalen;
  const char *mac; /* hex; case 5 is truncated to 128 bits */
} rfc_case;

static void test_rfc4231(swrauth_hmac *h) {
  static rfc_case c[7];
  unsigned char dd[50], cd[50], mac[32];
  char got[65];
  swrauth_err err;
  int i;
  const char *long_data =
      "This is a test using a larger than block-size key and a larger than "
      "block-size data. The key needs to be hashed before being used by the "
      "HMAC algorithm.";
  memset(dd, 0xdd, sizeof dd);
  memset(cd, 0xcd, sizeof cd);
  c[0] = (rfc_case){1, {0}, 20, "Hi There", 8,
                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"};
  memset(c[0].key, 0x0b, 20);
  c[1] = (rfc_case){2, "Jefe", 4, "what do ya want for nothing?", 28,
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"};
  c[2] = (rfc_case){3, {0}, 20, (const char *)dd, 50,
                    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"};
  memset(c[2].key, 0xaa, 20);
  c[3] = (rfc_case){4, {0}, 25, (const char *)cd, 50,
                    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"};
  for (i = 0; i < 25; i++) c[3].key[i] = (unsigned char)(i + 1);
  c[4] = (rfc_case){5, {0}, 20, "Test With Truncation", 20,
                    "a3b6167473100ee06e0c796c2955552b"};
  memset(c[4].key, 0x0c, 20);
  c[5] = (rfc_case){6, {0}, 131, "Test Using Larger Than Block-Size Key - Hash Key First",
                    54, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"};
  memset(c[5].key, 0xaa, 131);
  c[6] = (rfc_case){7, {0}, 131, long_data, strlen(long_data),
                    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"};
  memset(c[6].key, 0xaa, 131);
  for (i = 0; i < 7; i++) {
    int rc = swrauth_hmac_sha256(h, c[i].key, c[i].keylen, c[i].data,
                                 c[i].datalen, mac, &err);
    hex(mac, 32, got);
    ok(rc == 0 && strncmp(got, c[i].mac, strlen(c[i].mac)) == 0,
       "RFC 4231 test case %d", c[i].id);
  }
  /* A key of exactly one block, and an empty message. */
  {
    unsigned char k64[64];
    memset(k64, 'k', 64);
    ok(swrauth_hmac_sha256(h, k64, 64, "", 0, mac, &err) == 0,
       "HMAC with a 64-byte key and an empty message works");
  }
}

static void test_derive(swrauth_hmac *h) {
  char key[SWRAUTH_KEY_LEN + 1];
  swrauth_err err;
  const char *ak = "QTWAOYTTINDUT2QVKYUC";
  const char *sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
  const char *want = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34";
  ok(swrauth_derive(h, ak, 20, sk, 40, key, &err) == 0 && strcmp(key, want) == 0,
     "derive: the published example pair");
  ok(key[64] == '\0', "derive: key is NUL-terminated");
  ok(swrauth_verify(h, ak, 20, sk, 40, want, 64, &err) == 1, "verify: right key");
  ok(swrauth_verify(h, ak, 20, sk, 40, want, 63, &err) == 0, "verify: short key");
  {
    char bad[65];
    memcpy(bad, want, 65);
    bad[63] = bad[63] == '4' ? '5' : '4';
    ok(swrauth_verify(h, ak, 20, sk, 40, bad, 64, &err) == 0, "verify: wrong key");
    bad[63] = want[63];
    bad[0] = 'A';
    ok(swrauth_verify(h, ak, 20, sk, 40, bad, 64, &err) == 0,
       "verify: uppercase differs");
  }
  ok(swrauth_verify(h, "", 0, sk, 40, want, 64, &err) == -1 &&
         strcmp(err.msg, "AK is empty") == 0,
     "verify: bad AK is an error, not a mismatch");
}

static void check_msg(const char *s, size_t n, const char *want) {
  swrauth_err err;
  int rc = swrauth_check_cred("SK", s, n, &err);
  ok(rc == -1 && strcmp(err.msg, want) == 0, "check_cred: %s", want);
  if (rc != -1 || strcmp(err.msg, want) != 0) printf("# got: %s\n", err.msg);
}

static void test_check(swrauth_hmac *h) {
  char big[SWRAUTH_CRED_MAX + 1];
  char key[SWRAUTH_KEY_LEN + 1];
  swrauth_err err;
  check_msg("", 0, "SK is empty");
  check_msg("abc\n", 4, "SK has a newline at byte 4 (a pasted newline?)");
  check_msg("abc\r\n", 5, "SK has a carriage return at byte 4 (a pasted newline?)");
  check_msg("ab\rc", 4, "SK has a carriage return at byte 3 (whitespace and control characters are not allowed)");
  check_msg("\nabc", 4, "SK has a newline at byte 1 (leading or trailing whitespace?)");
  check_msg(" abc", 4, "SK has a space at byte 1 (leading or trailing whitespace?)");
  check_msg("abc ", 4, "SK has a space at byte 4 (leading or trailing whitespace?)");
  check_msg("ab c", 4, "SK has a space at byte 3 (whitespace and control characters are not allowed)");
  check_msg("ab\tc", 4, "SK has a tab at byte 3 (whitespace and control characters are not allowed)");
  check_msg("ab\0c", 4, "SK has a NUL byte at byte 3 (whitespace and control characters are not allowed)");
  check_msg("ab\x7f", 3, "SK has byte 0x7f at byte 3 (whitespace and control characters are not allowed)");
  check_msg("ab\x1b[", 4, "SK has byte 0x1b at byte 3 (whitespace and control characters are not allowed)");
  check_msg("ab\xc2\xa0", 4, "SK has byte 0xc2 at byte 3 (a non-breaking space?)");
  check_msg("ab\xc3\xa9", 4, "SK has byte 0xc3 at byte 3 (only printable ASCII is allowed)");
  /* a long SK with a newline at byte 41, the case derive is mostly given */
  check_msg("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc\n", 41,
            "SK has a newline at byte 41 (a pasted newline?)");
  check_msg("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmH\rc", 41,
            "SK has a carriage return at byte 40 (whitespace and control characters are not allowed)");
  memset(big, 'a', sizeof big);
  check_msg(big, sizeof big, "SK is too long (1025 bytes, at most 1024)");
  ok(swrauth_check_cred("SK", big, SWRAUTH_CRED_MAX, &err) == 0,
     "check_cred: %d bytes is fine", SWRAUTH_CRED_MAX);
  ok(swrauth_derive(h, big, SWRAUTH_CRED_MAX, big, SWRAUTH_CRED_MAX, key, &err) == 0,
     "derive: longest AK and SK (SK over one block is hashed first)");
  ok(swrauth_derive(h, "AK", 2, "S K", 3, key, &err) == -1 &&
         strcmp(err.msg, "SK has a space at byte 2 (whitespace and control characters are "
                "not allowed)") == 0,
     "derive checks the SK");
  ok(swrauth_derive(h, "A\nK", 3, "SK", 2, key, &err) == -1 &&
         strncmp(err.msg, "AK ", 3) == 0,
     "derive names the AK in its message");
}

/* The same key as an independent computation: many random pairs through
** derive and through swrauth_hmac_sha256 + hex must agree, and a second
** engine must give the same answers (no state carried between calls). */
static void test_consistency(swrauth_hmac *h) {
  static const char alnum[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  swrauth_err err;
  swrauth_hmac *h2 = swrauth_hmac_new(&err);
  int i, bad = 0;
  srand(4231);
  for (i = 0; i < 2000; i++) {
    char ak[80], sk[200], k1[65], k2[65], k3[65];
    unsigned char mac[32];
    size_t akn = 1 + (size_t)rand() % 79, skn = 1 + (size_t)rand() % 199, j;
    for (j = 0; j < akn; j++) ak[j] = alnum[rand() % 62];
    for (j = 0; j < skn; j++) sk[j] = alnum[rand() % 62];
    if (swrauth_derive(h, ak, akn, sk, skn, k1, &err) != 0) bad++;
    if (swrauth_derive(h2, ak, akn, sk, skn, k2, &err) != 0) bad++;
    if (swrauth_hmac_sha256(h, sk, skn, ak, akn, mac, &err) != 0) bad++;
    hex(mac, 32, k3);
    if (strcmp(k1, k2) != 0 || strcmp(k1, k3) != 0) bad++;
  }
  ok(bad == 0, "derive agrees with HMAC+hex and across engines on 2000 random pairs");
  swrauth_hmac_free(h2);
  swrauth_hmac_free(NULL);
  ok(1, "swrauth_hmac_free(NULL) is a no-op");
}

/* The OpenSSL versions a bug report quotes: OpenSSL 3, as built. */
static void test_versions(void) {
  const char *run = swrauth_openssl_version(), *hdr = swrauth_openssl_headers();
  ok(run != NULL && strncmp(run, "OpenSSL 3.", 10) == 0, "swrauth_openssl_version: %s", run);
  ok(hdr != NULL && strncmp(hdr, "OpenSSL 3.", 10) == 0, "swrauth_openssl_headers: %s", hdr);
}

int main(void) {
  swrauth_err err;
  swrauth_hmac *h = swrauth_hmac_new(&err);
  ok(h != NULL, "swrauth_hmac_new");
  if (h == NULL) return tap_done();
  test_rfc4231(h);
  test_derive(h);
  test_check(h);
  test_consistency(h);
  test_versions();
  swrauth_hmac_free(h);
  return tap_done();
}

/*
** fuzz_derive: swrauth_derive, swrauth_verify, swrauth_check_cred,
** swrauth_hmac_sha256 and swrauth_shell_quote.
**
** Input: bytes 0-1 and 2-3 (little endian) give the AK and SK lengths
** (taken modulo what is left), then the AK, the SK, and the rest is a
** candidate key (and the text for shell_quote).
**
** Properties beyond "no crash":
**  - check_cred accepts exactly 1..SWRAUTH_CRED_MAX bytes of 0x21..0x7e
**    (a byte loop here, against the core's word-at-a-time test), and
**    names a byte position inside the text when it refuses;
**  - derive succeeds exactly when both pass check_cred, and then equals
**    lowercase hex of OpenSSL's one-shot EVP_Q_mac HMAC-SHA256(SK, AK);
**  - swrauth_hmac_sha256 equals EVP_Q_mac for any key and message bytes
**    and lengths (keys over a block are hashed first);
**  - verify is 1 for the derived key, 0 for it with one byte changed or
**    cut, and for the candidate exactly when it equals the derived key;
**  - shell_quote gives one shell word that a POSIX shell reads back as
**    the input (checked by a small single-quote reader here), unquoted
**    only when every byte is in [A-Za-z0-9@%+=:,./_-] and it is not
**    empty; with too little room it fails without writing past it.
*/
#include <openssl/evp.h>

#include "fuzz_common.h"

static swrauth_hmac *H;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  swrauth_err e;
  (void)argc;
  (void)argv;
  H = swrauth_hmac_new(&e);
  if (H == NULL) fuzz_fail("hmac_new: %s", e.msg);
  return 0;
}

static int ref_cred_ok(const char *s, size_t n) {
  size_t i;
  if (n == 0 || n > SWRAUTH_CRED_MAX) return 0;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e) return 0;
  return 1;
}

static void ref_hmac(const void *key, size_t kn, const void *msg, size_t mn,
                     unsigned char out[32]) {
  size_t outlen = 0;
  static const unsigned char nokey[1] = {0};
  if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, kn ? key : nokey, kn, msg, mn, out,
                32, &outlen) == NULL ||
      outlen != 32)
    fuzz_fail("EVP_Q_mac failed");
}

static void check_cred(const char *what, const char *s, size_t n) {
  swrauth_err e;
  char *copy = fuzz_dup(s, n);
  int rc, want = ref_cred_ok(s, n);
  fuzz_err_reset(&e);
  rc = swrauth_check_cred(what, copy, n, &e);
  FUZZ_CHECK((rc == 0) == want, "check_cred %s a %zu-byte %s the byte loop %s: %s",
             rc == 0 ? "accepts" : "refuses", n, what, want ? "accepts" : "refuses",
             e.msg);
  if (rc != 0) {
    const char *at;
    fuzz_check_msg(&e);
    FUZZ_CHECK(strncmp(e.msg, what, strlen(what)) == 0, "message does not name %s", what);
    at = strstr(e.msg, "at byte ");
    if (at != NULL) {
      size_t pos = strtoul(at + 8, NULL, 10);
      FUZZ_CHECK(pos >= 1 && pos <= n, "message names byte %zu of %zu", pos, n);
      FUZZ_CHECK((unsigned char)s[pos - 1] < 0x21 || (unsigned char)s[pos - 1] > 0x7e,
                 "message names an allowed byte");
      {
        size_t i;
        for (i = 0; i + 1 < pos; i++)
          FUZZ_CHECK((unsigned char)s[i] >= 0x21 && (unsigned char)s[i] <= 0x7e,
                     "message does not name the first bad byte");
      }
    }
  }
  free(copy);
}

static int safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("@%+=:,./_-", c) != NULL);
}

/* Reads one shell word made of unquoted safe bytes, '...' and \' ; returns
** its length in out, or -1 when it is not exactly one such word. */
static long shell_read(const char *s, size_t n, char *out) {
  size_t i = 0, o = 0;
  int any = 0;
  while (i < n) {
    if (s[i] == '\'') {
      const char *q = memchr(s + i + 1, '\'', n - i - 1);
      if (q == NULL) return -1;
      memcpy(out + o, s + i + 1, (size_t)(q - s - i - 1));
      o += (size_t)(q - s - i - 1);
      i = (size_t)(q - s) + 1;
      any = 1;
    } else if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\'') {
      out[o++] = '\'';
      i += 2;
      any = 1;
    } else if (safe((unsigned char)s[i])) {
      out[o++] = s[i++];
      any = 1;
    } else {
      return -1;
    }
  }
  return any ? (long)o : -1;
}

static void check_quote(const char *s, size_t n) {
  size_t room = 4 * n + 2, pos = 0, i, pre;
  char *out = malloc(room + 8), *back = malloc(room + 1);
  int all_safe = n > 0;
  long len;
  if (out == NULL || back == NULL) abort();
  for (i = 0; i < n; i++)
    if (!safe((unsigned char)s[i])) all_safe = 0;
  /* Write after a prefix, as format does. */
  memcpy(out, "pre ", 4);
  pos = 4;
  FUZZ_CHECK(swrauth_shell_quote(s, n, out, room + 4, &pos) == 0, "shell_quote failed");
  pre = 4;
  FUZZ_CHECK(pos >= pre && pos <= room + 4, "shell_quote position out of range");
  if (all_safe)
    FUZZ_CHECK(pos - pre == n && memcmp(out + pre, s, n) == 0,
               "a safe word was quoted or changed");
  else
    FUZZ_CHECK(out[pre] == '\'' && out[pos - 1] == '\'', "an unsafe word was not quoted");
  len = shell_read(out + pre, pos - pre, back);
  FUZZ_CHECK(len >= 0 && (size_t)len == n && memcmp(back, s, n) == 0,
             "the shell reads back something else");
  {
    /* Exactly as much room as needed works; one byte less fails and
    ** writes nothing past the buffer (an exact heap buffer). */
    size_t need = pos - pre, p2 = 0;
    char *exact = malloc(need ? need : 1);
    if (exact == NULL) abort();
    FUZZ_CHECK(swrauth_shell_quote(s, n, exact, need, &p2) == 0 && p2 == need,
               "shell_quote failed with exactly enough room");
    if (need > 0) {
      char *small = malloc(need - 1 ? need - 1 : 1);
      if (small == NULL) abort();
      p2 = 0;
      FUZZ_CHECK(swrauth_shell_quote(s, n, small, need - 1, &p2) == -1 && p2 == 0,
                 "shell_quote with too little room did not fail cleanly");
      free(small);
    }
    free(exact);
  }
  free(out);
  free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data + 4, *ak, *sk, *cand;
  size_t left, aklen, sklen, clen;
  char key[SWRAUTH_KEY_LEN + 1], *ak_c, *sk_c, *cand_c;
  unsigned char mac[32], ref[32];
  swrauth_err err;
  int rc, v;

  if (size < 4 || size > 3 * SWRAUTH_CRED_MAX) return -1;
  left = size - 4;
  aklen = (size_t)(data[0] | data[1] << 8) % (left + 1);
  sklen = (size_t)(data[2] | data[3] << 8) % (left - aklen + 1);
  ak = s;
  sk = s + aklen;
  cand = sk + sklen;
  clen = left - aklen - sklen;
  ak_c = fuzz_dup(ak, aklen);
  sk_c = fuzz_dup(sk, sklen);
  cand_c = fuzz_dup(cand, clen);

  check_cred("AK", ak, aklen);
  check_cred("SK", sk, sklen);

  /* HMAC on raw bytes, any lengths. */
  FUZZ_CHECK(swrauth_hmac_sha256(H, sk_c, sklen, ak_c, aklen, mac, &err) == 0,
             "hmac_sha256 failed: %s", err.msg);
  ref_hmac(sk, sklen, ak, aklen, ref);
  FUZZ_CHECK(memcmp(mac, ref, 32) == 0, "hmac_sha256 differs from EVP_Q_mac");

  fuzz_err_reset(&err);
  memset(key, 'x', sizeof key);
  rc = swrauth_derive(H, ak_c, aklen, sk_c, sklen, key, &err);
  if (rc != 0) {
    FUZZ_CHECK(rc == -1, "derive returned %d", rc);
    fuzz_check_msg(&err);
    FUZZ_CHECK(!(ref_cred_ok(ak, aklen) && ref_cred_ok(sk, sklen)),
               "derive refused a good AK/SK: %s", err.msg);
    FUZZ_CHECK(swrauth_verify(H, ak_c, aklen, sk_c, sklen, cand_c, clen, &err) == -1,
               "verify did not refuse a bad AK/SK");
  } else {
    static const char hex[] = "0123456789abcdef";
    size_t i;
    FUZZ_CHECK(ref_cred_ok(ak, aklen) && ref_cred_ok(sk, sklen),
               "derive accepted a bad AK/SK");
    FUZZ_CHECK(key[SWRAUTH_KEY_LEN] == '\0', "key not NUL-terminated");
    for (i = 0; i < 32; i++)
      FUZZ_CHECK(key[2 * i] == hex[ref[i] >> 4] && key[2 * i + 1] == hex[ref[i] & 15],
                 "derive differs from hex(EVP_Q_mac) at byte %zu", i);
    FUZZ_CHECK(swrauth_verify(H, ak_c, aklen, sk_c, sklen, key, SWRAUTH_KEY_LEN, &err) == 1,
               "verify refuses the derived key");
    {
      char other[SWRAUTH_KEY_LEN];
      size_t at = clen ? (size_t)(unsigned char)cand[0] % SWRAUTH_KEY_LEN : 0;
      memcpy(other, key, SWRAUTH_KEY_LEN);
      other[at] ^= 1;
      FUZZ_CHECK(swrauth_verify(H, ak_c, aklen, sk_c, sklen, other, SWRAUTH_KEY_LEN,
                                &err) == 0,
                 "verify accepts a changed key");
      FUZZ_CHECK(swrauth_verify(H, ak_c, aklen, sk_c, sklen, key, SWRAUTH_KEY_LEN - 1,
                                &err) == 0,
                 "verify accepts a cut key");
    }
    v = swrauth_verify(H, ak_c, aklen, sk_c, sklen, cand_c, clen, &err);
    FUZZ_CHECK(v == (clen == SWRAUTH_KEY_LEN && memcmp(cand, key, clen) == 0),
               "verify of the candidate is %d", v);
  }

  check_quote(cand, clen);
  check_quote(ak, aklen);
  free(ak_c);
  free(sk_c);
  free(cand_c);
  return 0;
}

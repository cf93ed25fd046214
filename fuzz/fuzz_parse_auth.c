/*
** fuzz_parse_auth: swrauth_parse_auth (config.json "auth" values, base64
** of USER:PASSWORD) and the base64 codec under it.
**
** Properties beyond "no crash":
**  - differential: swrauth_base64_decode agrees (accept/refuse and bytes)
**    with a plain bit-accumulator decoder written here from RFC 4648
**    (padding optional, length 1 mod 4 refused, unused low bits ignored);
**  - swrauth_base64_decode_padded (swrauth.unbase64) agrees with decode
**    on inputs whose length is a multiple of 4 and refuses all others,
**    within n / 4 * 3 bytes of room;
**  - parse_auth succeeds exactly when the text decodes (into 1024 bytes)
**    to bytes holding a ':', and splits them at the first ':';
**  - decode -> encode -> decode gives the same bytes, and the encoding
**    equals OpenSSL's EVP_EncodeBlock;
**  - encode of the raw input bytes equals EVP_EncodeBlock and decodes
**    back to them, padded or with its padding stripped;
**  - encode and decode never write past the room they are given (exact
**    heap buffers: ASan sees one byte too many); a decode that does not
**    fit fails without writing.
*/
#include <openssl/evp.h>

#include "fuzz_common.h"

static int val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Reference decoder: returns the decoded length, or -1. */
static long ref_decode(const char *s, size_t n, unsigned char *out) {
  size_t data = n, pad = 0, i, o = 0;
  unsigned acc = 0, bits = 0;
  while (data > 0 && pad < 2 && s[data - 1] == '=') {
    data--;
    pad++;
  }
  if (data % 4 == 1) return -1;
  if (pad > 0 && (data + pad) % 4 != 0) return -1;
  for (i = 0; i < data; i++) {
    int v = val((unsigned char)s[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return (long)o;
}

static void check_encode(const unsigned char *in, size_t n) {
  size_t room = 4 * ((n + 2) / 3), len = 0, back = 0, stripped;
  char *enc = malloc(room ? room : 1);
  unsigned char *ossl = malloc(room + 1), *dec = malloc(n ? n : 1);
  swrauth_err e;
  if (enc == NULL || ossl == NULL || dec == NULL) abort();
  FUZZ_CHECK(swrauth_base64_encode(in, n, enc, room, &len) == 0, "encode failed");
  FUZZ_CHECK(len == room, "encode wrote %zu bytes, want %zu", len, room);
  FUZZ_CHECK(EVP_EncodeBlock(ossl, in, (int)n) == (int)room &&
                 memcmp(enc, ossl, room) == 0,
             "encode differs from EVP_EncodeBlock");
  if (room > 0)
    FUZZ_CHECK(swrauth_base64_encode(in, n, enc, room - 1, &len) == -1,
               "encode with one byte too little room did not fail");
  fuzz_err_reset(&e);
  FUZZ_CHECK(swrauth_base64_decode(enc, room, dec, n, &back, &e) == 0 && back == n &&
                 (n == 0 || memcmp(dec, in, n) == 0),
             "decode(encode(x)) != x: %s", e.msg);
  stripped = room;
  while (stripped > 0 && enc[stripped - 1] == '=') stripped--;
  {
    char *bare = fuzz_dup(enc, stripped);
    FUZZ_CHECK(swrauth_base64_decode(bare, stripped, dec, n, &back, &e) == 0 &&
                   back == n && (n == 0 || memcmp(dec, in, n) == 0),
               "decode of unpadded encode(x) != x: %s", e.msg);
    free(bare);
  }
  if (n > 0) {
    /* One byte too little room: must fail and leave dec untouched. */
    memset(dec, 0x5a, n);
    FUZZ_CHECK(swrauth_base64_decode(enc, room, dec, n - 1, &back, &e) == -1,
               "decode into too little room did not fail");
    fuzz_check_msg(&e);
    FUZZ_CHECK(n < 2 || dec[0] == 0x5a, "failed decode wrote to out");
  }
  free(enc);
  free(ossl);
  free(dec);
}

static swrauth_auth au;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  unsigned char *ref, *dec;
  swrauth_err err;
  size_t len = 0;
  long rlen;
  int rc, arc;

  if (size > 4096) return -1;
  ref = malloc(size + 1);
  dec = malloc(size + 1);
  if (ref == NULL || dec == NULL) abort();

  rlen = ref_decode(s, size, ref);
  fuzz_err_reset(&err);
  rc = swrauth_base64_decode(s, size, dec, size, &len, &err);
  if (rc != 0) fuzz_check_msg(&err);
  FUZZ_CHECK((rc == 0) == (rlen >= 0), "decode %s what the reference %s: %s",
             rc == 0 ? "accepts" : "refuses", rlen >= 0 ? "accepts" : "refuses", err.msg);
  if (rc == 0) {
    FUZZ_CHECK((long)len == rlen && (len == 0 || memcmp(dec, ref, len) == 0),
               "decode differs from the reference");
    check_encode(dec, len);
  }

  /* The padded decoder (swrauth.unbase64): the same, and only for lengths
  ** that are a multiple of 4, into room of exactly size / 4 * 3 bytes. */
  {
    size_t room = size / 4 * 3, plen = 0;
    unsigned char *pd = malloc(room ? room : 1);
    int prc;
    if (pd == NULL) abort();
    fuzz_err_reset(&err);
    prc = swrauth_base64_decode_padded(s, size, pd, room, &plen, &err);
    if (prc != 0) fuzz_check_msg(&err);
    FUZZ_CHECK((prc == 0) == (rc == 0 && size % 4 == 0),
               "padded decode %s: %s", prc == 0 ? "accepts" : "refuses", err.msg);
    if (prc == 0)
      FUZZ_CHECK(plen == len && (len == 0 || memcmp(pd, dec, len) == 0),
                 "padded decode differs from decode");
    free(pd);
  }

  fuzz_err_reset(&err);
  memset(&au, 0xa5, sizeof au);
  arc = swrauth_parse_auth(s, size, &au, &err);
  if (arc != 0) {
    FUZZ_CHECK(arc == -1, "parse_auth returned %d", arc);
    fuzz_check_msg(&err);
    FUZZ_CHECK(au.user.ptr == NULL && au.password.ptr == NULL, "result set on failure");
    FUZZ_CHECK(size == 0 || rc != 0 || len > sizeof au.buf ||
                   memchr(dec, ':', len) == NULL,
               "parse_auth refused a value that decodes with a ':': %s", err.msg);
  } else {
    const unsigned char *colon;
    FUZZ_CHECK(rc == 0 && len <= sizeof au.buf, "parse_auth accepted what decode refuses");
    colon = memchr(dec, ':', len);
    FUZZ_CHECK(colon != NULL, "parse_auth accepted a value without ':'");
    FUZZ_CHECK(au.user.ptr == (const char *)au.buf &&
                   au.user.len == (size_t)(colon - dec) &&
                   au.password.ptr == (const char *)au.buf + au.user.len + 1 &&
                   au.user.len + 1 + au.password.len == len &&
                   memcmp(au.buf, dec, len) == 0,
               "parse_auth split differs");
  }

  /* The raw input as bytes to encode. */
  check_encode(data, size > 1024 ? 1024 : size);
  free(ref);
  free(dec);
  return 0;
}

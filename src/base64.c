/*
** base64.c: standard base64 (RFC 4648 section 4, alphabet A-Z a-z 0-9 + /)
** as docker's config.json "auth" values use it.
**
** Encoding always pads with '='. Decoding takes padded input, and also
** input whose padding was stripped (length 2 or 3 modulo 4), as some
** tools write it; a length of 1 modulo 4 cannot be base64. The padded
** decoder (swrauth.unbase64) requires the padding, as Go's StdEncoding. Whitespace,
** line breaks and bytes outside the alphabet are refused, naming the byte
** (positions count from 1), since a pasted value with a trailing newline
** is a common mistake. As in Go's base64.StdEncoding (what docker uses),
** unused low bits of the last character are ignored.
*/
#include <stdint.h>
#include <string.h>

#include "internal.h"

static const char alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of a base64 character, or -1: 64 entries set, the rest -1. */
#define N1 -1
#define N4 N1, N1, N1, N1
#define N16 N4, N4, N4, N4
static const signed char values[256] = {
  N16, N16,
  N4, N4, N1, N1, N1, 62, N1, N1, N1, 63,          /* 0x20-0x2f: + / */
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, N1, N1, N1, N1, N1, N1,
  N1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, N1, N1, N1, N1, N1,
  N1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
  41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, N1, N1, N1, N1, N1,
  N16, N16, N16, N16, N16, N16, N16, N16};
#undef N16
#undef N4
#undef N1

/* Encodes n bytes into 4*ceil(n/3) characters; no NUL is written. */
int swrauth_base64_encode(const void *in, size_t n, char *out, size_t outsize,
                          size_t *outlen) {
  const unsigned char *p = (const unsigned char *)in;
  size_t groups = n / 3 + (n % 3 != 0), i, o = 0;
  if (groups > SIZE_MAX / 4 || groups * 4 > outsize) return -1;
  for (i = 0; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = alphabet[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    out[o++] = alphabet[v >> 18];
    out[o++] = alphabet[(v >> 12) & 63];
    out[o++] = alphabet[(v >> 6) & 63];
    out[o++] = '=';
  }
  if (outlen != NULL) *outlen = o;
  return 0;
}

/* Names the bad byte at index i of a base64 text in err. */
static int bad_byte(const char *in, size_t n, size_t i, swrauth_err *err) {
  char b[16];
  unsigned char c = (unsigned char)in[i];
  const char *hint = "";
  size_t j = i;
  while (j < n && (in[j] == '\n' || in[j] == '\r')) j++;
  if (j == n && j > i) hint = " (a pasted trailing newline?)";
  if (c == '=')
    return swrauth__fail(err, "bad base64: '=' at byte %zu is not at the end",
                         i + 1);
  return swrauth__fail(err, "bad base64: %s at byte %zu%s",
                       swrauth__describe_byte(c, b), i + 1, hint);
}

/* Decodes padded (or, unless padded is set, unpadded) base64 into out.
** All checks are made before the first byte is written, so out is
** untouched on failure. */
static int decode(const char *in, size_t n, int padded, unsigned char *out,
                  size_t outsize, size_t *outlen, swrauth_err *err) {
  size_t data = n, i, o = 0, need, pad = 0;
  uint32_t v = 0;
  /* Up to two '=' end the text; they must complete a group of four. */
  while (data > 0 && pad < 2 && in[data - 1] == '=') {
    data--;
    pad++;
  }
  for (i = 0; i < data; i++)
    if (values[(unsigned char)in[i]] < 0) return bad_byte(in, n, i, err);
  if (data % 4 == 1)
    return swrauth__fail(err, "bad base64: a length of %zu characters is not "
                         "possible (one is missing or extra)", data);
  if (pad > 0 && (data + pad) % 4 != 0)
    return swrauth__fail(err, "bad base64: wrong padding at byte %zu",
                         data + 1);
  if (padded && pad == 0 && data % 4 != 0)
    return swrauth__fail(err, "bad base64: missing '=' padding at byte %zu",
                         data + 1);
  need = data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1);
  if (need > outsize)
    return swrauth__fail(err, "decoded value is too long (%zu bytes, at most %zu)",
                         need, outsize);
  for (i = 0; i + 4 <= data; i += 4) {
    v = (uint32_t)values[(unsigned char)in[i]] << 18 |
        (uint32_t)values[(unsigned char)in[i + 1]] << 12 |
        (uint32_t)values[(unsigned char)in[i + 2]] << 6 |
        (uint32_t)values[(unsigned char)in[i + 3]];
    out[o++] = (unsigned char)(v >> 16);
    out[o++] = (unsigned char)(v >> 8);
    out[o++] = (unsigned char)v;
  }
  if (data - i >= 2) {
    v = (uint32_t)values[(unsigned char)in[i]] << 18 |
        (uint32_t)values[(unsigned char)in[i + 1]] << 12;
    if (data - i == 3) v |= (uint32_t)values[(unsigned char)in[i + 2]] << 6;
    out[o++] = (unsigned char)(v >> 16);
    if (data - i == 3) out[o++] = (unsigned char)(v >> 8);
  }
  v = 0;
  if (outlen != NULL) *outlen = o;
  return 0;
}

int swrauth_base64_decode(const char *in, size_t n, unsigned char *out,
                          size_t outsize, size_t *outlen, swrauth_err *err) {
  return decode(in, n, 0, out, outsize, outlen, err);
}

int swrauth_base64_decode_padded(const char *in, size_t n, unsigned char *out,
                                 size_t outsize, size_t *outlen,
                                 swrauth_err *err) {
  return decode(in, n, 1, out, outsize, outlen, err);
}

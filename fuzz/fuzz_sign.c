/*
** fuzz_sign: swrauth_sign_check, swrauth_sign_bufsize and swrauth_sign
** (Huawei APIG request signing, SDK-HMAC-SHA256 and SDK-HMAC-SM3).
**
** Input: byte 0 is flags (bit 0: SM3; bit 1: no body; bit 2: sign into
** an unaligned buffer), byte 1 the number of headers (mod 17), then
** NUL-separated fields: ak, sk, method, url, then a name and a value per
** header; what follows the last of them is the body (NULs and all).
** Missing fields are empty.
**
** Properties beyond "no crash":
**  - sign succeeds exactly when sign_check does, with the same message
**    when not; messages are printable and do not depend on the SK's
**    letters and digits (the same request with them changed);
**  - deterministic: a second signature gives the same bytes;
**  - signature = OpenSSL's one-shot HMAC (EVP_Q_mac, SHA256 or SM3) over
**    the returned string to sign; the string to sign is ALG \n date \n
**    hex of OpenSSL's one-shot digest (EVP_Q_digest) of the returned
**    canonical request, with the X-Sdk-Date value as given, trimmed;
**  - the canonical request has no control character but its n + 5 line
**    breaks; the path line is '/'-led and '/'-ended, unreserved bytes and
**    %XX only; the query line's pairs are escaped and sorted by decoded
**    key then value; the header lines are lower-case tokens, sorted,
**    distinct, one per header, and the signed-headers line is their names
**    joined by ';' (and equals out.signed_headers);
**  - the Authorization value is ALG Access=AK, SignedHeaders=..,
**    Signature=..; every slice lies in the work buffer;
**  - an accepted request has an absolute http(s) URL without whitespace,
**    control characters, '#' or '@' before the path, and a token method;
**  - the exact planned buffer (a heap block of that size, so ASan sees any
**    write past it) works, also unaligned; half of it fails cleanly.
*/
#include <strings.h>
#include <openssl/evp.h>

#include "fuzz_common.h"

static swrauth_hmac *H;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  swrauth_err err;
  (void)argc;
  (void)argv;
  H = swrauth_hmac_new(&err);
  if (H == NULL) fuzz_fail("hmac_new: %s", err.msg);
  return 0;
}

static int is_unres(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}
static int is_tok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}
static int hexv(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1; /* the canonical form has upper-case escapes only */
}

static void hex(const unsigned char *p, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
}

/* Decodes an escaped canonical component into out (>= n bytes); checks
** it is unreserved bytes and %XX only; returns the decoded length. */
static size_t canon_decode(const char *s, size_t n, char *out, const char *what) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      FUZZ_CHECK(i + 2 < n && hexv((unsigned char)s[i + 1]) >= 0 &&
                     hexv((unsigned char)s[i + 2]) >= 0,
                 "%s: bad escape in the canonical form", what);
      out[o++] = (char)(hexv((unsigned char)s[i + 1]) << 4 | hexv((unsigned char)s[i + 2]));
      i += 2;
    } else {
      FUZZ_CHECK(is_unres(c), "%s: byte 0x%02x not escaped", what, c);
      out[o++] = (char)c;
    }
  }
  return o;
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c != 0 ? c : (an > bn) - (an < bn);
}

static int inside(swrauth_slice s, const char *buf, size_t size) {
  return fuzz_inside(s, buf, size) && s.ptr != NULL;
}

/* Checks the canonical request's shape. */
static void check_canonical(const swrauth_sign_req *r, const swrauth_signed *out) {
  const char *cr = out->canonical_request.ptr, *p, *end, *line[4];
  size_t n = out->canonical_request.len, i, breaks = 0, ln[4];
  char *d1 = malloc(n + 1);
  if (d1 == NULL) abort();
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)cr[i];
    if (c == '\n') breaks++;
    else FUZZ_CHECK(c >= 0x20 && c != 0x7f, "control character 0x%02x in the canonical request", c);
  }
  FUZZ_CHECK(breaks == r->nheaders + 5, "%zu line breaks for %zu headers", breaks, r->nheaders);
  /* Lines 1-3: method, path, query. */
  p = cr;
  for (i = 0; i < 3; i++) {
    end = memchr(p, '\n', (size_t)(cr + n - p));
    line[i] = p;
    ln[i] = (size_t)(end - p);
    p = end + 1;
  }
  FUZZ_CHECK(fuzz_eq((swrauth_slice){line[0], ln[0]}, r->method.ptr, r->method.len),
             "method line is not the method");
  FUZZ_CHECK(ln[1] >= 1 && line[1][0] == '/' && line[1][ln[1] - 1] == '/',
             "path line not '/'-led and '/'-ended");
  {
    size_t s = 0;
    for (i = 0; i <= ln[1]; i++)
      if (i == ln[1] || line[1][i] == '/') {
        canon_decode(line[1] + s, i - s, d1, "path");
        s = i + 1;
      }
  }
  if (ln[2] > 0) { /* k=v&k=v, sorted by decoded key then value */
    const char *pk = NULL;
    size_t pkn = 0, pvn = 0, s = 0;
    char *pv = NULL;
    char *kbuf = malloc(ln[2] + 1), *vbuf = malloc(ln[2] + 1), *pkbuf = malloc(ln[2] + 1),
         *pvbuf = malloc(ln[2] + 1);
    if (!kbuf || !vbuf || !pkbuf || !pvbuf) abort();
    for (i = 0; i <= ln[2]; i++) {
      if (i == ln[2] || line[2][i] == '&') {
        const char *eq = memchr(line[2] + s, '=', i - s);
        size_t kn, vn;
        FUZZ_CHECK(eq != NULL, "query pair without '='");
        kn = canon_decode(line[2] + s, (size_t)(eq - line[2] - s), kbuf, "query key");
        vn = canon_decode(eq + 1, (size_t)(line[2] + i - eq - 1), vbuf, "query value");
        FUZZ_CHECK(kn > 0, "query pair with an empty key");
        if (pk != NULL) {
          int c = cmp_bytes(pkbuf, pkn, kbuf, kn);
          FUZZ_CHECK(c < 0 || (c == 0 && cmp_bytes(pv, pvn, vbuf, vn) <= 0),
                     "query pairs out of order");
        }
        memcpy(pkbuf, kbuf, kn);
        memcpy(pvbuf, vbuf, vn);
        pk = pkbuf, pkn = kn, pv = pvbuf, pvn = vn;
        s = i + 1;
      }
    }
    free(kbuf), free(vbuf), free(pkbuf), free(pvbuf);
  }
  /* Header lines: "name:value", names lower-case tokens, strictly sorted;
  ** then the empty line, the signed headers, the hash. */
  {
    fuzz_buf names = {0};
    const char *prev = NULL;
    size_t prevn = 0, h;
    for (h = 0; h < r->nheaders; h++) {
      const char *colon;
      end = memchr(p, '\n', (size_t)(cr + n - p));
      colon = memchr(p, ':', (size_t)(end - p));
      FUZZ_CHECK(colon != NULL && colon > p, "header line without a name");
      for (i = 0; p + i < colon; i++)
        FUZZ_CHECK(is_tok((unsigned char)p[i]) && !(p[i] >= 'A' && p[i] <= 'Z'),
                   "header name not a lower-case token");
      FUZZ_CHECK(colon + 1 == end || (colon[1] != ' ' && colon[1] != '\t' &&
                                      end[-1] != ' ' && end[-1] != '\t'),
                 "header value not trimmed");
      if (prev != NULL)
        FUZZ_CHECK(cmp_bytes(prev, prevn, p, (size_t)(colon - p)) < 0,
                   "header names not strictly sorted");
      if (h) fuzz_put(&names, ";", 1);
      fuzz_put(&names, p, (size_t)(colon - p));
      prev = p, prevn = (size_t)(colon - p);
      p = end + 1;
    }
    FUZZ_CHECK(*p == '\n', "no empty line after the headers");
    p++;
    end = memchr(p, '\n', (size_t)(cr + n - p));
    FUZZ_CHECK(end != NULL && (size_t)(end - p) == names.n &&
                   (names.n == 0 || memcmp(p, names.p, names.n) == 0),
               "signed headers line is not the header names joined by ';'");
    FUZZ_CHECK(fuzz_eq(out->signed_headers, names.p ? names.p : "", names.n),
               "signed_headers differs from the canonical request's line");
    fuzz_free(&names);
  }
  free(d1);
}

/* Letters and digits of s rotated (a->b, z->a, 9->0), other bytes kept. */
static char *rotate(const char *s, size_t n) {
  char *o = fuzz_dup(s, n);
  size_t i;
  for (i = 0; i < n; i++) {
    char c = o[i];
    if (c >= 'a' && c <= 'z') o[i] = c == 'z' ? 'a' : (char)(c + 1);
    else if (c >= 'A' && c <= 'Z') o[i] = c == 'Z' ? 'A' : (char)(c + 1);
    else if (c >= '0' && c <= '9') o[i] = c == '9' ? '0' : (char)(c + 1);
  }
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  swrauth_header hs[16];
  swrauth_slice f[4 + 32];
  swrauth_sign_req r;
  swrauth_signed out, out2;
  swrauth_err err, err2;
  const char *s = (const char *)data + 2, *end = (const char *)data + size, *p;
  char *copy, *buf, *buf2, *sk2;
  size_t nh, nf, i, bsize;
  int flags, rc, rc2;
  static const char *const mdname[] = {"SHA256", "SM3"};

  if (size < 2 || size > 1 << 16) return -1;
  flags = data[0];
  nh = data[1] % 17;
  copy = fuzz_dup(s, (size_t)(end - s)); /* an exact heap copy */
  end = copy + (end - s);
  p = copy;
  nf = 4 + 2 * nh;
  for (i = 0; i < nf; i++) {
    const char *z = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
    if (z == NULL) z = end;
    f[i] = (swrauth_slice){p < end ? p : end, (size_t)(z - (p < end ? p : end))};
    p = z < end ? z + 1 : end;
  }
  memset(&r, 0, sizeof r);
  r.alg = (flags & 1) ? SWRAUTH_SIGN_HMAC_SM3 : SWRAUTH_SIGN_HMAC_SHA256;
  r.ak = f[0], r.sk = f[1], r.method = f[2], r.url = f[3];
  for (i = 0; i < nh; i++) hs[i].name = f[4 + 2 * i], hs[i].value = f[5 + 2 * i];
  r.headers = hs;
  r.nheaders = nh;
  if (!(flags & 2)) r.body = (swrauth_slice){p, (size_t)(end - p)};

  fuzz_err_reset(&err);
  rc = swrauth_sign_check(&r, &err);
  FUZZ_CHECK(rc == 0 || rc == -1, "sign_check returned %d", rc);
  if (rc != 0) fuzz_check_msg(&err);

  /* The same request with the SK's letters and digits changed: the same
  ** verdict and message, and the same texts but the signature. */
  sk2 = rotate(r.sk.ptr, r.sk.len);
  {
    swrauth_sign_req r2 = r;
    r2.sk = (swrauth_slice){sk2, r.sk.len};
    fuzz_err_reset(&err2);
    rc2 = swrauth_sign_check(&r2, &err2);
    FUZZ_CHECK(rc2 == rc && (rc == 0 || strcmp(err.msg, err2.msg) == 0),
               "the verdict or message depends on the SK's letters: %s / %s", err.msg, err2.msg);
  }

  bsize = swrauth_sign_bufsize(&r);
  if (rc == 0) FUZZ_CHECK(bsize > 0, "bufsize 0 for an accepted request");
  buf = malloc(bsize ? bsize : 1);
  buf2 = malloc(bsize + 1);
  if (buf == NULL || buf2 == NULL) abort();
  fuzz_err_reset(&err2);
  rc2 = swrauth_sign(H, &r, buf, bsize, &out, &err2);
  if (rc != 0) {
    FUZZ_CHECK(rc2 == -1 && strcmp(err.msg, err2.msg) == 0,
               "sign and sign_check disagree: %d %s / %s", rc2, err.msg, err2.msg);
    goto done;
  }
  FUZZ_CHECK(rc2 == 0, "sign refused what sign_check accepted: %s", err2.msg);

  /* Accepted: the URL and method are what the contract says. */
  FUZZ_CHECK((r.url.len >= 7 && strncasecmp(r.url.ptr, "http://", 7) == 0) ||
                 (r.url.len >= 8 && strncasecmp(r.url.ptr, "https://", 8) == 0),
             "accepted a URL that is not http(s)://");
  {
    size_t a = r.url.ptr[4] == ':' ? 7 : 8;
    for (i = 0; i < r.url.len; i++) {
      unsigned char c = (unsigned char)r.url.ptr[i];
      FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '#', "accepted a URL with byte 0x%02x", c);
    }
    for (i = a; i < r.url.len && r.url.ptr[i] != '/' && r.url.ptr[i] != '?'; i++)
      FUZZ_CHECK(r.url.ptr[i] != '@', "accepted a URL with userinfo");
    FUZZ_CHECK(i > a, "accepted a URL without a host");
  }
  for (i = 0; i < r.method.len; i++)
    FUZZ_CHECK(is_tok((unsigned char)r.method.ptr[i]), "accepted a method that is not a token");
  FUZZ_CHECK(r.method.len > 0, "accepted an empty method");

  /* The slices lie in the buffer; the shape of each text. */
  FUZZ_CHECK(inside(out.authorization, buf, bsize) && inside(out.canonical_request, buf, bsize) &&
                 inside(out.string_to_sign, buf, bsize) && inside(out.signature, buf, bsize) &&
                 fuzz_inside(out.signed_headers, buf, bsize),
             "a result slice is outside the work buffer");
  check_canonical(&r, &out);
  {
    const char *alg = (flags & 1) ? "SDK-HMAC-SM3" : "SDK-HMAC-SHA256";
    size_t al = strlen(alg);
    unsigned char md[64];
    size_t mdlen = 0;
    char hx[129];
    fuzz_buf want = {0};
    const char *date = NULL;
    size_t dlen = 0;
    for (i = 0; i < nh; i++)
      if (hs[i].name.len == 10 && strncasecmp(hs[i].name.ptr, "x-sdk-date", 10) == 0) {
        date = hs[i].value.ptr, dlen = hs[i].value.len;
        while (dlen && (*date == ' ' || *date == '\t')) date++, dlen--;
        while (dlen && (date[dlen - 1] == ' ' || date[dlen - 1] == '\t')) dlen--;
      }
    FUZZ_CHECK(date != NULL && dlen == 16, "accepted without a 16-byte X-Sdk-Date");
    FUZZ_CHECK(EVP_Q_digest(NULL, mdname[flags & 1], NULL, out.canonical_request.ptr,
                            out.canonical_request.len, md, &mdlen) && mdlen == 32,
               "EVP_Q_digest failed");
    hex(md, 32, hx);
    fuzz_put(&want, alg, al);
    fuzz_put(&want, "\n", 1);
    fuzz_put(&want, date, dlen);
    fuzz_put(&want, "\n", 1);
    fuzz_put(&want, hx, 64);
    FUZZ_CHECK(fuzz_eq(out.string_to_sign, want.p, want.n),
               "string to sign is not ALG, date and the canonical request's hash");
    want.n = 0;
    FUZZ_CHECK(EVP_Q_mac(NULL, "HMAC", NULL, mdname[flags & 1], NULL, r.sk.ptr, r.sk.len,
                         (const unsigned char *)out.string_to_sign.ptr,
                         out.string_to_sign.len, md, sizeof md, &mdlen) != NULL &&
                   mdlen == 32,
               "EVP_Q_mac failed");
    hex(md, 32, hx);
    FUZZ_CHECK(fuzz_eq(out.signature, hx, 64), "signature is not HMAC(SK, string to sign)");
    fuzz_put(&want, alg, al);
    fuzz_puts(&want, " Access=");
    fuzz_put(&want, r.ak.ptr, r.ak.len);
    fuzz_puts(&want, ", SignedHeaders=");
    fuzz_put_slice(&want, out.signed_headers);
    fuzz_puts(&want, ", Signature=");
    fuzz_put(&want, hx, 64);
    FUZZ_CHECK(fuzz_eq(out.authorization, want.p, want.n), "authorization value is malformed");
    fuzz_free(&want);
  }

  /* Deterministic, also into an unaligned buffer; and independent of the
  ** SK but for the signature. */
  {
    char *b2 = (flags & 4) ? buf2 + 1 : buf2;
    swrauth_sign_req r2 = r;
    FUZZ_CHECK(swrauth_sign(H, &r, b2, bsize, &out2, &err2) == 0, "second sign failed");
    FUZZ_CHECK(fuzz_slice_eq(out.authorization, out2.authorization) &&
                   fuzz_slice_eq(out.canonical_request, out2.canonical_request) &&
                   fuzz_slice_eq(out.string_to_sign, out2.string_to_sign) &&
                   fuzz_slice_eq(out.signed_headers, out2.signed_headers),
               "a second signature differs");
    r2.sk = (swrauth_slice){sk2, r.sk.len};
    FUZZ_CHECK(swrauth_sign(H, &r2, b2, bsize, &out2, &err2) == 0, "sign with the SK changed failed");
    FUZZ_CHECK(fuzz_slice_eq(out.canonical_request, out2.canonical_request) &&
                   fuzz_slice_eq(out.string_to_sign, out2.string_to_sign),
               "the canonical request depends on the SK");
  }
  /* Half the buffer fails cleanly. */
  {
    size_t half = bsize / 2;
    char *small = malloc(half ? half : 1);
    if (small == NULL) abort();
    fuzz_err_reset(&err2);
    FUZZ_CHECK(swrauth_sign(H, &r, small, half, &out2, &err2) == -1, "half the buffer sufficed");
    fuzz_check_msg(&err2);
    free(small);
  }

done:
  free(buf);
  free(buf2);
  free(sk2);
  free(copy);
  return 0;
}

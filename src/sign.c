/*
** sign.c: Huawei Cloud API Gateway request signing (SDK-HMAC-SHA256 and
** SDK-HMAC-SM3), as the Huawei Cloud SDKs compute it (see swrauth.h for
** the canonical request).
**
** Where Huawei's signers disagree with each other, this follows the APIG
** signer demos and the Python SDK, except where the API contract says
** otherwise: the path is split at '/' before each segment is decoded (so
** "%2F" stays inside its segment; the Python signers decode the whole
** path first), '+' in the query is a plus sign (Go's url.Query() would
** make it a space), and the method is signed as given (the Python
** signers upper-case it). A malformed %-escape is refused rather than
** signed one way and sent another.
**
** Nothing here allocates: the caller gives one work buffer, sized by
** swrauth_sign_bufsize, that holds the sort arrays, the decoded query and
** the texts. No secret is ever written to it; the HMAC key blocks live in
** swrauth__hmac's stack buffers and are wiped there.
*/
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
#define HEX_LEN 64

static const char *const alg_names[SWRAUTH_SIGN_ALG_COUNT] = {
  "SDK-HMAC-SHA256", "SDK-HMAC-SM3"};
/* The header that replaces the body's hash, lower case, per algorithm. */
static const char *const content_headers[SWRAUTH_SIGN_ALG_COUNT] = {
  "x-sdk-content-sha256", "x-sdk-content-sm3"};

const char *swrauth_sign_alg_name(swrauth_sign_alg alg) {
  return (unsigned)alg < SWRAUTH_SIGN_ALG_COUNT ? alg_names[alg] : NULL;
}

int swrauth_sign_alg_from_name(const char *name, size_t len) {
  int i;
  for (i = 0; i < SWRAUTH_SIGN_ALG_COUNT; i++)
    if (strlen(alg_names[i]) == len && memcmp(alg_names[i], name, len) == 0)
      return i;
  return -1;
}

/* ----------------------------------------------------------- characters */

static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_hex(unsigned char c) {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static int hex_val(unsigned char c) {
  return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}
static unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* RFC 3986 unreserved: written as is, everything else as %XX. */
static int is_unreserved(unsigned char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 9110 tchar: header names and methods. */
static int is_tchar(unsigned char c) {
  return is_alpha(c) || is_digit(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

/* Equal ignoring ASCII case. */
static int same_name(const char *a, size_t an, const char *b, size_t bn) {
  size_t i;
  if (an != bn) return 0;
  for (i = 0; i < an; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
  return 1;
}

/* Writes s[0..n) into out as a quoted, printable, bounded name for a
** message: bytes outside printable ASCII as \xNN, at most 40 shown. Used
** for header names only; values are never quoted (they may be tokens). */
static const char *quote(const char *s, size_t n, char out[200]) {
  size_t i, o = 0;
  out[o++] = '\'';
  for (i = 0; i < n && i < 40; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out[o++] = (char)c;
    } else {
      static const char hx[] = "0123456789abcdef";
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = hx[c >> 4];
      out[o++] = hx[c & 15];
    }
  }
  if (i < n) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o++] = '\'';
  out[o] = '\0';
  return out;
}

/* ------------------------------------------------------------------ URL */

typedef struct url_parts {
  size_t path, pathlen;   /* the path, "" when none */
  size_t query, querylen; /* after '?', "" when none */
} url_parts;

/* Checks %-escapes in u[from..to): each '%' has two hex digits after it.
** So an escape never spans a '/', '&' or '=' and decoding by parts is
** decoding the whole. */
static int check_escapes(const char *u, size_t from, size_t to, swrauth_err *err) {
  size_t i;
  for (i = from; i < to; i++)
    if (u[i] == '%' && (to - i < 3 || !is_hex((unsigned char)u[i + 1]) ||
                        !is_hex((unsigned char)u[i + 2])))
      return swrauth__fail(err, "url has a bad %%-escape at byte %zu ('%%' must be "
                                "followed by two hex digits)", i + 1);
  return 0;
}

/* Splits a URL that parse_url accepted into path and query. */
static void split_url(const char *u, size_t n, url_parts *p) {
  size_t i = u[4] == ':' ? 7 : 8; /* after http:// or https:// */
  while (i < n && u[i] != '/' && u[i] != '?') i++;
  p->path = i;
  while (i < n && u[i] != '?') i++;
  p->pathlen = i - p->path;
  p->query = i < n ? i + 1 : n;
  p->querylen = n - p->query;
}

/* Checks an absolute http(s) URL and splits it into path and query. */
static int parse_url(const char *u, size_t n, url_parts *p, swrauth_err *err) {
  size_t i, hs, ae, he;
  char b[16];
  if (n == 0) return swrauth__fail(err, "url is empty");
  if (n > SWRAUTH_SIGN_URL_MAX)
    return swrauth__fail(err, "url is too long (%zu bytes, at most %d)", n,
                         SWRAUTH_SIGN_URL_MAX);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)u[i];
    if (c > 0x20 && c != 0x7f && c != '#') continue; /* one test per usual byte */
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      return swrauth__fail(err, "url has whitespace (%s) at byte %zu",
                           swrauth__describe_byte(c, b), i + 1);
    if (is_ctl(c))
      return swrauth__fail(err, "url has a control character (%s) at byte %zu",
                           swrauth__describe_byte(c, b), i + 1);
    return swrauth__fail(err, "url has a fragment ('#' at byte %zu): a fragment "
                              "is never sent, leave it out", i + 1);
  }
  if (n >= 7 && same_name(u, 7, "http://", 7)) hs = 7;
  else if (n >= 8 && same_name(u, 8, "https://", 8)) hs = 8;
  else return swrauth__fail(err, "url is not an absolute http:// or https:// URL");
  for (ae = hs; ae < n && u[ae] != '/' && u[ae] != '?'; ae++)
    if (u[ae] == '@')
      return swrauth__fail(err, "url has user information ('@' at byte %zu); "
                                "credentials do not go in the URL", ae + 1);
  if (ae == hs) return swrauth__fail(err, "url has no host");
  if (u[hs] == '[') { /* IPv6 literal */
    for (he = hs + 1; he < ae && u[he] != ']'; he++)
      if (!is_hex((unsigned char)u[he]) && u[he] != ':' && u[he] != '.')
        return swrauth__fail(err, "url has a bad IPv6 address (%s at byte %zu)",
                             swrauth__describe_byte((unsigned char)u[he], b), he + 1);
    if (he == ae || he == hs + 1)
      return swrauth__fail(err, "url has a bad IPv6 address (no closing ']')");
    he++;
  } else {
    for (he = hs; he < ae && u[he] != ':'; he++)
      if (!is_unreserved((unsigned char)u[he]))
        return swrauth__fail(err, "url has a bad character (%s) in its host at byte %zu",
                             swrauth__describe_byte((unsigned char)u[he], b), he + 1);
    if (he == hs) return swrauth__fail(err, "url has no host");
  }
  if (he < ae) { /* :port */
    size_t d;
    unsigned long port = 0;
    if (u[he] != ':')
      return swrauth__fail(err, "url has a bad character (%s) after its host at byte %zu",
                           swrauth__describe_byte((unsigned char)u[he], b), he + 1);
    for (d = he + 1; d < ae && is_digit((unsigned char)u[d]) && d - he <= 5; d++)
      port = port * 10 + (unsigned long)(u[d] - '0');
    if (d != ae || d == he + 1 || port == 0 || port > 65535)
      return swrauth__fail(err, "url has a bad port (after ':' at byte %zu: a number "
                                "from 1 to 65535)", he + 1);
  }
  split_url(u, n, p);
  return check_escapes(u, ae, n, err);
}

/* ------------------------------------------------------------- headers */

/* The header named name (lower case), or -1. */
static long find_header(const swrauth_sign_req *r, const char *name) {
  size_t i, len = strlen(name);
  for (i = 0; i < r->nheaders; i++)
    if (same_name(r->headers[i].name.ptr, r->headers[i].name.len, name, len))
      return (long)i;
  return -1;
}

/* A value without leading and trailing spaces and tabs (OWS). */
static swrauth_slice trimmed(swrauth_slice v) {
  const char *p = v.ptr;
  size_t n = v.len;
  while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  return (swrauth_slice){p ? p : "", n};
}

static int days_in(unsigned y, unsigned m) {
  static const unsigned char d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return d[m - 1];
}

/* X-Sdk-Date: YYYYMMDDTHHMMSSZ, a real UTC date and time. */
static int check_date(swrauth_slice v, swrauth_err *err) {
  static const char shape[] = "DDDDDDDDTDDDDDDZ";
  unsigned f[6] = {0, 0, 0, 0, 0, 0};
  static const unsigned char at[6] = {0, 4, 6, 9, 11, 13}, w[6] = {4, 2, 2, 2, 2, 2};
  size_t i;
  int k, ok = v.len == DATE_LEN;
  for (i = 0; ok && i < DATE_LEN; i++)
    ok = shape[i] == 'D' ? is_digit((unsigned char)v.ptr[i]) : v.ptr[i] == shape[i];
  for (k = 0; ok && k < 6; k++)
    for (i = 0; i < w[k]; i++) f[k] = f[k] * 10 + (unsigned)(v.ptr[at[k] + i] - '0');
  if (!ok)
    return swrauth__fail(err, "header 'X-Sdk-Date' is not a UTC time written "
                              "YYYYMMDDTHHMMSSZ (as 20191115T033655Z)");
  if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > (unsigned)days_in(f[0], f[1]) ||
      f[3] > 23 || f[4] > 59 || f[5] > 59)
    return swrauth__fail(err, "header 'X-Sdk-Date' is not a real date and time "
                              "(YYYYMMDDTHHMMSSZ, month 01-12, hour 00-23, ...)");
  return 0;
}

static int check_headers(const swrauth_sign_req *r, swrauth_err *err) {
  size_t i, j, total = 0;
  long d;
  char q[200], q2[200], b[16];
  if (r->nheaders > SWRAUTH_SIGN_NHEADERS_MAX)
    return swrauth__fail(err, "headers: too many (%zu, at most %d)", r->nheaders,
                         SWRAUTH_SIGN_NHEADERS_MAX);
  if (r->nheaders > 0 && r->headers == NULL)
    return swrauth__fail(err, "headers: no array");
  for (i = 0; i < r->nheaders; i++) {
    const swrauth_header *h = &r->headers[i];
    swrauth_slice v;
    total += h->name.len + h->value.len;
    if (total > SWRAUTH_SIGN_HEADERS_MAX)
      return swrauth__fail(err, "headers are too long (over %d bytes of names and "
                                "values)", SWRAUTH_SIGN_HEADERS_MAX);
    if (h->name.len == 0) return swrauth__fail(err, "header name is empty");
    for (j = 0; j < h->name.len; j++)
      if (!is_tchar((unsigned char)h->name.ptr[j]))
        return swrauth__fail(err, "header name %s is not a token (%s at byte %zu)",
                             quote(h->name.ptr, h->name.len, q),
                             swrauth__describe_byte((unsigned char)h->name.ptr[j], b),
                             j + 1);
    v = trimmed(h->value);
    for (j = 0; j < v.len; j++)
      if (is_ctl((unsigned char)v.ptr[j]))
        return swrauth__fail(err, "header %s has a control character (%s) in its "
                                  "value at byte %zu",
                             quote(h->name.ptr, h->name.len, q),
                             swrauth__describe_byte((unsigned char)v.ptr[j], b),
                             (size_t)(v.ptr - h->value.ptr) + j + 1);
  }
  /* Names that differ only in case: quadratic, but only names of one
  ** length are compared, and there are at most NHEADERS_MAX. */
  for (i = 0; i < r->nheaders; i++)
    for (j = i + 1; j < r->nheaders; j++)
      if (same_name(r->headers[i].name.ptr, r->headers[i].name.len,
                    r->headers[j].name.ptr, r->headers[j].name.len))
        return swrauth__fail(err, "headers %s and %s are the same header (names "
                                  "differ only in case)",
                             quote(r->headers[i].name.ptr, r->headers[i].name.len, q),
                             quote(r->headers[j].name.ptr, r->headers[j].name.len, q2));
  d = find_header(r, "x-sdk-date");
  if (d < 0)
    return swrauth__fail(err, "headers: X-Sdk-Date is missing (the signing time, "
                              "YYYYMMDDTHHMMSSZ in UTC, is a signed header)");
  return check_date(trimmed(r->headers[d].value), err);
}

int swrauth_sign_check(const swrauth_sign_req *r, swrauth_err *err) {
  size_t i;
  url_parts up;
  char b[16];
  if ((unsigned)r->alg >= SWRAUTH_SIGN_ALG_COUNT)
    return swrauth__fail(err, "algorithm is unknown (%d)", (int)r->alg);
  if (swrauth_check_cred("ak", r->ak.ptr, r->ak.len, err) != 0 ||
      swrauth_check_cred("sk", r->sk.ptr, r->sk.len, err) != 0)
    return -1;
  if (r->method.len == 0) return swrauth__fail(err, "method is empty");
  if (r->method.len > SWRAUTH_SIGN_METHOD_MAX)
    return swrauth__fail(err, "method is too long (%zu bytes, at most %d)",
                         r->method.len, SWRAUTH_SIGN_METHOD_MAX);
  for (i = 0; i < r->method.len; i++)
    if (!is_tchar((unsigned char)r->method.ptr[i]))
      return swrauth__fail(err, "method is not an HTTP token (%s at byte %zu)",
                           swrauth__describe_byte((unsigned char)r->method.ptr[i], b),
                           i + 1);
  if (parse_url(r->url.ptr, r->url.len, &up, err) != 0) return -1;
  return check_headers(r, err);
}

/* ------------------------------------------------------------ the work */

/* A query pair (decoded) or a header (name as given, trimmed value). */
typedef struct pair {
  const char *k, *v;
  size_t kn, vn;
} pair;

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c != 0 ? c : (an > bn) - (an < bn);
}

static int cmp_query(const pair *a, const pair *b) {
  int c = cmp_bytes(a->k, a->kn, b->k, b->kn);
  return c != 0 ? c : cmp_bytes(a->v, a->vn, b->v, b->vn);
}

static int cmp_header(const pair *a, const pair *b) {
  size_t i, n = a->kn < b->kn ? a->kn : b->kn;
  for (i = 0; i < n; i++) {
    unsigned char x = lower((unsigned char)a->k[i]), y = lower((unsigned char)b->k[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return (a->kn > b->kn) - (a->kn < b->kn);
}

/* Heapsort: no allocation, O(n log n) on any input. */
static void sift(pair *a, size_t i, size_t n, int (*cmp)(const pair *, const pair *)) {
  for (;;) {
    size_t c = 2 * i + 1;
    pair t;
    if (c >= n) return;
    if (c + 1 < n && cmp(&a[c + 1], &a[c]) > 0) c++;
    if (cmp(&a[i], &a[c]) >= 0) return;
    t = a[i], a[i] = a[c], a[c] = t;
    i = c;
  }
}

static void sort_pairs(pair *a, size_t n, int (*cmp)(const pair *, const pair *)) {
  size_t i;
  if (n < 2) return;
  for (i = n / 2; i-- > 0;) sift(a, i, n, cmp);
  for (i = n - 1; i > 0; i--) {
    pair t = a[0];
    a[0] = a[i], a[i] = t;
    sift(a, 0, i, cmp);
  }
}

/* The texts, appended with a bounds check (the size is planned, so a
** failed check is a bug, reported rather than written past). */
typedef struct wbuf {
  char *p;
  size_t n, cap;
  int over;
} wbuf;

static void put(wbuf *w, const char *s, size_t n) {
  if (w->over || n > w->cap - w->n) {
    w->over = 1;
    return;
  }
  if (n) memcpy(w->p + w->n, s, n);
  w->n += n;
}

static void putc1(wbuf *w, char c) { put(w, &c, 1); }

/* s (decoded bytes) with everything but unreserved bytes as %XX. */
static void put_escaped(wbuf *w, const char *s, size_t n) {
  static const char hx[] = "0123456789ABCDEF";
  size_t i;
  if (w->over || 3 * n > w->cap - w->n) {
    w->over = 1;
    return;
  }
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c)) {
      w->p[w->n++] = (char)c;
    } else {
      w->p[w->n++] = '%';
      w->p[w->n++] = hx[c >> 4];
      w->p[w->n++] = hx[c & 15];
    }
  }
}

/* Percent-decodes s[0..n) (escapes already checked) into out; returns the
** decoded length. */
static size_t decode(const char *s, size_t n, char *out) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '%' && n - i >= 3 && is_hex((unsigned char)s[i + 1]) &&
        is_hex((unsigned char)s[i + 2])) {
      out[o++] = (char)(hex_val((unsigned char)s[i + 1]) << 4 |
                        hex_val((unsigned char)s[i + 2]));
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  return o;
}

/* Bytes of work memory: the pair array (query pairs, then the headers),
** the decoded query, the texts. */
typedef struct plan {
  size_t npairs, pairs_bytes, text;
} plan;

static int make_plan(const swrauth_sign_req *r, plan *pl) {
  size_t i, amp = 1, hsum = 0;
  if (r->url.len > SWRAUTH_SIGN_URL_MAX || r->nheaders > SWRAUTH_SIGN_NHEADERS_MAX ||
      r->method.len > SWRAUTH_SIGN_METHOD_MAX || r->ak.len > SWRAUTH_CRED_MAX ||
      (r->nheaders > 0 && r->headers == NULL))
    return -1;
  for (i = 0; i < r->url.len; i++) amp += r->url.ptr[i] == '&';
  for (i = 0; i < r->nheaders; i++) {
    hsum += r->headers[i].name.len + r->headers[i].value.len;
    if (hsum > SWRAUTH_SIGN_HEADERS_MAX) return -1;
  }
  pl->npairs = amp > r->nheaders ? amp : r->nheaders;
  pl->pairs_bytes = pl->npairs * sizeof(pair);
  /* canonical request: method, 3 bytes per URL byte (+ '=' per pair,
  ** '/'s), each header twice plus separators, the body hash or the
  ** content header's value; then the string to sign and the
  ** Authorization value (AK, signed headers again, signature). */
  pl->text = r->method.len + 3 * r->url.len + amp + 8 + 3 * hsum + 3 * r->nheaders +
             HEX_LEN + 128 + r->ak.len + hsum + r->nheaders + 128 + 64;
  return 0;
}

size_t swrauth_sign_bufsize(const swrauth_sign_req *r) {
  plan pl;
  if (make_plan(r, &pl) != 0) return 0;
  return sizeof(pair) /* alignment */ + pl.pairs_bytes + r->url.len + pl.text;
}

/* The canonical request's query line. */
static void put_query(wbuf *w, const char *q, size_t qn, pair *pairs, char *dec) {
  size_t i = 0, np = 0, d = 0;
  while (i <= qn) {
    size_t e = i, eq;
    while (e < qn && q[e] != '&') e++;
    for (eq = i; eq < e && q[eq] != '='; eq++) {}
    if (eq > i) { /* pairs with an empty key are dropped, as the APIG demos do */
      pair *p = &pairs[np++];
      p->k = dec + d;
      p->kn = decode(q + i, eq - i, dec + d);
      d += p->kn;
      p->v = dec + d;
      p->vn = eq < e ? decode(q + eq + 1, e - eq - 1, dec + d) : 0;
      d += p->vn;
    }
    i = e + 1;
  }
  sort_pairs(pairs, np, cmp_query);
  for (i = 0; i < np; i++) {
    if (i) putc1(w, '&');
    put_escaped(w, pairs[i].k, pairs[i].kn);
    putc1(w, '=');
    put_escaped(w, pairs[i].v, pairs[i].vn);
  }
}

/* The canonical request's path line. */
static void put_path(wbuf *w, const char *s, size_t n, char *dec) {
  size_t i = 0, start = w->n;
  while (i < n) {
    size_t e = i;
    while (e < n && s[e] != '/') e++;
    put_escaped(w, dec, decode(s + i, e - i, dec));
    if (e < n) putc1(w, '/');
    i = e + 1;
  }
  if (w->n == start || w->over || w->p[w->n - 1] != '/') putc1(w, '/');
}

static void put_lower(wbuf *w, const char *s, size_t n) {
  size_t i;
  if (w->over || n > w->cap - w->n) {
    w->over = 1;
    return;
  }
  for (i = 0; i < n; i++) w->p[w->n++] = (char)lower((unsigned char)s[i]);
}

int swrauth__sign_checked(swrauth_hmac *h, const swrauth_sign_req *r, void *buf,
                          size_t bufsize, swrauth_signed *out, swrauth_err *err) {
  swrauth__md md = r->alg == SWRAUTH_SIGN_HMAC_SM3 ? SWRAUTH__SM3 : SWRAUTH__SHA256;
  const char *alg = alg_names[r->alg];
  size_t alglen = strlen(alg), i, off, cr, sts, sh, shn;
  unsigned char mac[SWRAUTH_MAC_LEN];
  char hex[HEX_LEN + 1];
  url_parts up;
  plan pl;
  pair *pairs;
  char *dec;
  wbuf w;
  long date, content;
  swrauth_slice dv;

  memset(out, 0, sizeof *out);
  if (make_plan(r, &pl) != 0 || r->url.len < 8)
    return swrauth__fail(err, "sign: request not checked");
  split_url(r->url.ptr, r->url.len, &up);
  off = (sizeof(pair) - (uintptr_t)buf % sizeof(pair)) % sizeof(pair);
  if (bufsize < off + pl.pairs_bytes + r->url.len + pl.text)
    return swrauth__fail(err, "sign: work buffer too small (%zu bytes, %zu needed)",
                         bufsize, swrauth_sign_bufsize(r));
  if (swrauth__md_ready(h, md, err) != 0) return -1;
  pairs = (pair *)(void *)((char *)buf + off);
  dec = (char *)buf + off + pl.pairs_bytes;
  w.p = dec + r->url.len;
  w.n = 0;
  w.cap = pl.text;
  w.over = 0;

  /* Canonical request. */
  cr = w.n;
  put(&w, r->method.ptr, r->method.len);
  putc1(&w, '\n');
  put_path(&w, r->url.ptr + up.path, up.pathlen, dec);
  putc1(&w, '\n');
  put_query(&w, r->url.ptr + up.query, up.querylen, pairs, dec);
  putc1(&w, '\n');
  for (i = 0; i < r->nheaders; i++) {
    swrauth_slice v = trimmed(r->headers[i].value);
    pairs[i].k = r->headers[i].name.ptr;
    pairs[i].kn = r->headers[i].name.len;
    pairs[i].v = v.ptr;
    pairs[i].vn = v.len;
  }
  sort_pairs(pairs, r->nheaders, cmp_header);
  for (i = 0; i < r->nheaders; i++) {
    put_lower(&w, pairs[i].k, pairs[i].kn);
    putc1(&w, ':');
    put(&w, pairs[i].v, pairs[i].vn);
    putc1(&w, '\n');
  }
  putc1(&w, '\n');
  sh = w.n;
  for (i = 0; i < r->nheaders; i++) {
    if (i) putc1(&w, ';');
    put_lower(&w, pairs[i].k, pairs[i].kn);
  }
  shn = w.n - sh;
  putc1(&w, '\n');
  content = find_header(r, content_headers[r->alg]);
  if (content >= 0) {
    swrauth_slice v = trimmed(r->headers[content].value);
    put(&w, v.ptr, v.len);
  } else {
    if (swrauth__digest(h, md, r->body.ptr, r->body.ptr ? r->body.len : 0, mac, err) != 0)
      return -1;
    swrauth__hex32(mac, hex);
    put(&w, hex, HEX_LEN);
  }
  if (w.over) return swrauth__fail(err, "sign: work buffer overflow (a bug)");
  out->canonical_request = (swrauth_slice){w.p + cr, w.n - cr};
  out->signed_headers = (swrauth_slice){w.p + sh, shn};

  /* String to sign. */
  if (swrauth__digest(h, md, w.p + cr, w.n - cr, mac, err) != 0) return -1;
  swrauth__hex32(mac, hex);
  date = find_header(r, "x-sdk-date");
  dv = trimmed(r->headers[date].value);
  sts = w.n;
  put(&w, alg, alglen);
  putc1(&w, '\n');
  put(&w, dv.ptr, dv.len);
  putc1(&w, '\n');
  put(&w, hex, HEX_LEN);
  if (w.over) return swrauth__fail(err, "sign: work buffer overflow (a bug)");
  out->string_to_sign = (swrauth_slice){w.p + sts, w.n - sts};

  /* Signature and Authorization. */
  if (swrauth__hmac(h, md, r->sk.ptr, r->sk.len, w.p + sts, w.n - sts, mac, err) != 0)
    return -1;
  swrauth__hex32(mac, hex);
  swrauth_wipe(mac, sizeof mac);
  off = w.n;
  put(&w, alg, alglen);
  put(&w, " Access=", 8);
  put(&w, r->ak.ptr, r->ak.len);
  put(&w, ", SignedHeaders=", 16);
  put(&w, w.p + sh, shn);
  put(&w, ", Signature=", 12);
  put(&w, hex, HEX_LEN);
  if (w.over) return swrauth__fail(err, "sign: work buffer overflow (a bug)");
  out->authorization = (swrauth_slice){w.p + off, w.n - off};
  out->signature = (swrauth_slice){w.p + w.n - HEX_LEN, HEX_LEN};
  return 0;
}

int swrauth_sign(swrauth_hmac *h, const swrauth_sign_req *r, void *buf,
                 size_t bufsize, swrauth_signed *out, swrauth_err *err) {
  memset(out, 0, sizeof *out);
  if (swrauth_sign_check(r, err) != 0) return -1;
  return swrauth__sign_checked(h, r, buf, bufsize, out, err);
}

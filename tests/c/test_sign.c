/*
** test_sign.c: swrauth_sign (Huawei APIG request signing) through the C
** core only: the published example, the Huawei Go SDK's own test vectors
** (SHA-256 and SM3), canonicalisation edge cases, every refusal with its
** exact message, the limits and the work buffer, and that the key blocks
** derived from the SK are wiped.
**
** Linked with -Wl,--wrap=swrauth_wipe (Makefile): __wrap_swrauth_wipe sees
** every buffer the core wipes, and records whether it held the HMAC's
** K^opad block or the inner digest computed here independently.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "swrauth.h"
#include "tap.h"

/* ------------------------------------------------------------ wipe spy */

static unsigned char spy_opad[64], spy_inner[32];
static int spy_armed, spy_saw_opad, spy_saw_inner;

void __real_swrauth_wipe(void *p, size_t n);
void __wrap_swrauth_wipe(void *p, size_t n);
void __wrap_swrauth_wipe(void *p, size_t n) {
  if (spy_armed && p != NULL) {
    if (n == 64 && memcmp(p, spy_opad, 64) == 0) spy_saw_opad++;
    if (n == 32 && memcmp(p, spy_inner, 32) == 0) spy_saw_inner++;
  }
  __real_swrauth_wipe(p, n);
}

/* ------------------------------------------------------------- helpers */

static swrauth_hmac *H;

static swrauth_slice S(const char *s) {
  return (swrauth_slice){s, s ? strlen(s) : 0};
}

/* A request from C strings: headers as "Name", "value" pairs, NULL-ended. */
typedef struct tcase {
  swrauth_sign_req req;
  swrauth_header hs[16];
} tcase;

static swrauth_sign_req *mk(tcase *t, const char *method, const char *url,
                            const char *const *hdrs, const char *body) {
  size_t n = 0;
  memset(t, 0, sizeof *t);
  t->req.alg = SWRAUTH_SIGN_HMAC_SHA256;
  t->req.ak = S("AccessKey");
  t->req.sk = S("SecretKey");
  t->req.method = S(method);
  t->req.url = S(url);
  for (; hdrs && hdrs[2 * n]; n++) {
    t->hs[n].name = S(hdrs[2 * n]);
    t->hs[n].value = S(hdrs[2 * n + 1]);
  }
  t->req.headers = t->hs;
  t->req.nheaders = n;
  t->req.body = S(body);
  return &t->req;
}

/* Signs into a malloc'd buffer of exactly the planned size; 0 or -1. The
** buffer is kept in *bufp for the slices (free it). */
static int sign(const swrauth_sign_req *r, swrauth_signed *out, swrauth_err *err,
                char **bufp) {
  size_t size = swrauth_sign_bufsize(r);
  char *buf = malloc(size ? size : 1);
  int rc;
  if (buf == NULL) abort();
  rc = swrauth_sign(H, r, buf, size, out, err);
  *bufp = buf;
  return rc;
}

/* The canonical request of r, or "ERROR: message"; static storage. */
static const char *canon(const swrauth_sign_req *r) {
  static char text[4096];
  swrauth_signed out;
  swrauth_err err;
  char *buf;
  if (sign(r, &out, &err, &buf) != 0) {
    snprintf(text, sizeof text, "ERROR: %s", err.msg);
  } else {
    size_t n = out.canonical_request.len < sizeof text - 1 ? out.canonical_request.len
                                                           : sizeof text - 1;
    memcpy(text, out.canonical_request.ptr, n);
    text[n] = '\0';
  }
  free(buf);
  return text;
}

/* The path and query lines of the canonical request for a URL. */
static const char *uri_query(const char *url) {
  static const char *const hd[] = {"X-Sdk-Date", "20191115T033655Z", NULL};
  static char lines[4096];
  tcase t;
  const char *c = canon(mk(&t, "GET", url, hd, NULL));
  const char *nl = strchr(c, '\n');
  const char *end;
  if (strncmp(c, "ERROR", 5) == 0 || nl == NULL) return c;
  end = strchr(nl + 1, '\n');
  end = end ? strchr(end + 1, '\n') : NULL;
  if (end == NULL) return "no lines";
  snprintf(lines, sizeof lines, "%.*s", (int)(end - nl - 1), nl + 1);
  return lines;
}

/* -------------------------------------------------------------- vectors */

static const char *const EX_HEADERS[] = {
  "Content-Type", "application/json", "Host", "service.region.example.com",
  "X-Sdk-Date", "20191115T033655Z", NULL};
#define EX_URL "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"

static void test_published(void) {
  tcase t;
  swrauth_sign_req *r = mk(&t, "GET", EX_URL, EX_HEADERS, NULL);
  swrauth_signed out;
  swrauth_err err;
  char *buf;
  r->ak = S("QTWAOYTTINDUT2QVKYUC");
  r->sk = S("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc");
  ok(sign(r, &out, &err, &buf) == 0, "published example signs");
  ok(tap_eq(out.canonical_request.ptr, out.canonical_request.len,
            "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n"
            "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n"
            "content-type:application/json\nhost:service.region.example.com\n"
            "x-sdk-date:20191115T033655Z\n\ncontent-type;host;x-sdk-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
     "published example: canonical request");
  ok(tap_eq(out.string_to_sign.ptr, out.string_to_sign.len,
            "SDK-HMAC-SHA256\n20191115T033655Z\n"
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"),
     "published example: canonical request hash b25362e6...");
  ok(tap_eq(out.signature.ptr, out.signature.len,
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"),
     "published example: signature 7be66680...");
  ok(tap_eq(out.authorization.ptr, out.authorization.len,
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, "
            "SignedHeaders=content-type;host;x-sdk-date, "
            "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"),
     "published example: Authorization");
  ok(tap_eq(out.signed_headers.ptr, out.signed_headers.len, "content-type;host;x-sdk-date"),
     "published example: signed headers");
  free(buf);
}

/* huaweicloud-sdk-go-v3 core/auth/signer/{signer,sm3_signer}_test.go:
** AK "AccessKey", SK "SecretKey", X-Sdk-Date 20060102T150405Z (the SDK
** signs neither Content-Type nor names with '_', so they are left out). */
static void test_go_sdk(void) {
  static const char *const hd[] = {"X-Sdk-Date", "20060102T150405Z", NULL};
  static const struct {
    swrauth_sign_alg alg;
    const char *method, *url, *body, *sig;
  } v[] = {
    {SWRAUTH_SIGN_HMAC_SHA256, "GET", "https://example.huaweicloud.com/path?limit=1", NULL,
     "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"},
    {SWRAUTH_SIGN_HMAC_SHA256, "POST", "https://example.huaweicloud.com/path?key=value",
     "{\"Name\":\"test\",\"Id\":1}\n",
     "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"},
    {SWRAUTH_SIGN_HMAC_SM3, "GET", "https://example.huaweicloud.com/path?limit=1", NULL,
     "acdeecf8061419275127135b54532c2c20b683bf9bbb8a32bee021a8c40befd4"},
    {SWRAUTH_SIGN_HMAC_SM3, "POST", "https://example.huaweicloud.com/path?key=value",
     "{\"Name\":\"test\",\"Id\":1}\n",
     "359e49285fe5a469f82b86fd761b1a4a7ee16e3181de7d643c53a30667cde508"},
  };
  size_t i;
  for (i = 0; i < sizeof v / sizeof v[0]; i++) {
    tcase t;
    swrauth_sign_req *r = mk(&t, v[i].method, v[i].url, hd, v[i].body);
    swrauth_signed out;
    swrauth_err err;
    char *buf, want[300];
    r->alg = v[i].alg;
    snprintf(want, sizeof want, "%s Access=AccessKey, SignedHeaders=x-sdk-date, Signature=%s",
             swrauth_sign_alg_name(v[i].alg), v[i].sig);
    ok(sign(r, &out, &err, &buf) == 0 &&
           tap_eq(out.authorization.ptr, out.authorization.len, want),
       "Go SDK vector %zu (%s %s)", i + 1, swrauth_sign_alg_name(v[i].alg), v[i].method);
    free(buf);
  }
  ok(swrauth_sign_alg_from_name("SDK-HMAC-SM3", 12) == SWRAUTH_SIGN_HMAC_SM3 &&
         swrauth_sign_alg_from_name("SDK-HMAC-SHA256", 15) == SWRAUTH_SIGN_HMAC_SHA256 &&
         swrauth_sign_alg_from_name("SDK-HMAC-SM", 11) == -1 &&
         swrauth_sign_alg_name(SWRAUTH_SIGN_ALG_COUNT) == NULL,
     "algorithm names");
}

/* ------------------------------------------------------ canonicalisation */

static void uq(const char *url, const char *want) {
  const char *got = uri_query(url);
  ok(strcmp(got, want) == 0, "canonical URI and query of %s", url);
  if (strcmp(got, want) != 0) printf("# got:  %s\n# want: %s\n", got, want);
}

static void test_canonical(void) {
  uq("https://h", "/\n");
  uq("https://h/", "/\n");
  uq("https://h?x=1", "/\nx=1");
  uq("https://h/a/b/", "/a/b/\n");
  uq("https://h/a//b", "/a//b/\n");
  uq("https://h/a%2Fb/c", "/a%2Fb/c/\n");
  uq("https://h/a%2fb", "/a%2Fb/\n");
  uq("https://h/%7euser/x%20y", "/~user/x%20y/\n");
  uq("https://h/a+b!$'()*,;=:@", "/a%2Bb%21%24%27%28%29%2A%2C%3B%3D%3A%40/\n");
  uq("https://h/caf\xc3\xa9/%E4%B8%80", "/caf%C3%A9/%E4%B8%80/\n");
  uq("https://h/.-_~", "/.-_~/\n");
  uq("https://h/p?a", "/p/\na=");
  uq("https://h/p?a=", "/p/\na=");
  uq("https://h/p?b=2&a=1&a=0&c", "/p/\na=0&a=1&b=2&c=");
  uq("https://h/p?a=1+2&b=x=y&c=%2B", "/p/\na=1%2B2&b=x%3Dy&c=%2B");
  uq("https://h/p?&&a=1&&=z&", "/p/\na=1");
  uq("https://h/p?%61=1&a=0", "/p/\na=0&a=1");
  uq("https://h/p?k=v?w/x", "/p/\nk=v%3Fw%2Fx");
  uq("https://h/p?B=1&a=1&_=1&~=1&-=1", "/p/\n-=1&B=1&_=1&a=1&~=1");
  uq("https://h/p?a=b&a=", "/p/\na=&a=b");
  uq("https://h/p?ab=1&a=2", "/p/\na=2&ab=1");
  uq("https://h/p?a%00b=%00", "/p/\na%00b=%00");
  uq("HTTP://H:8080/x", "/x/\n");
  uq("https://[::1]:443/x", "/x/\n");

  {
    static const char *const hd[] = {
      "X-Sdk-Date", " 20191115T033655Z\t", "zeta", "  a  b  ", "Host", "h",
      "X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD", "empty", "", "UTF8", "caf\xc3\xa9", NULL};
    tcase t;
    const char *c = canon(mk(&t, "PUT", "https://h/", hd, "ignored body"));
    ok(strcmp(c, "PUT\n/\n\nempty:\nhost:h\nutf8:caf\xc3\xa9\n"
                 "x-sdk-content-sha256:UNSIGNED-PAYLOAD\n"
                 "x-sdk-date:20191115T033655Z\nzeta:a  b\n\n"
                 "empty;host;utf8;x-sdk-content-sha256;x-sdk-date;zeta\n"
                 "UNSIGNED-PAYLOAD") == 0,
       "headers: lower-cased, trimmed, sorted; X-Sdk-Content-Sha256 replaces the body hash");
  }
  {
    static const char *const hd[] = {"x-sdk-date", "20191115T033655Z",
                                     "X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD", NULL};
    tcase t;
    swrauth_sign_req *r = mk(&t, "GET", "https://h/", hd, NULL);
    const char *c;
    r->alg = SWRAUTH_SIGN_HMAC_SM3;
    c = canon(r);
    ok(strstr(c, "\n1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b") != NULL,
       "SM3: X-Sdk-Content-Sha256 is just a header, the body hash is SM3's of \"\"");
  }
  {
    static const char *const hd[] = {"x-sdk-date", "20191115T033655Z",
                                     "X-SDK-CONTENT-SM3", "UNSIGNED-PAYLOAD", NULL};
    tcase t;
    swrauth_sign_req *r = mk(&t, "GET", "https://h/", hd, NULL);
    const char *c;
    r->alg = SWRAUTH_SIGN_HMAC_SM3;
    c = canon(r);
    ok(strlen(c) > 17 && strcmp(c + strlen(c) - 17, "\nUNSIGNED-PAYLOAD") == 0,
       "SM3: X-Sdk-Content-Sm3 (any case) replaces the body hash");
  }
  {
    static const char *const hd[] = {"X-Sdk-Date", "20191115T033655Z", NULL};
    tcase t;
    swrauth_sign_req *r = mk(&t, "POST", "https://h/", hd, NULL);
    const char *c;
    r->body = (swrauth_slice){"a\0b", 3};
    c = canon(r);
    {
      unsigned char md[32];
      char hx[65];
      EVP_Digest("a\0b", 3, md, NULL, EVP_sha256(), NULL);
      hex(md, 32, hx);
      ok(strlen(c) > 64 && strcmp(c + strlen(c) - 64, hx) == 0,
         "body hash equals OpenSSL's SHA-256 of the 3 bytes a NUL b");
    }
  }
}

/* ------------------------------------------------------------- refusals */

static void refused(swrauth_sign_req *r, const char *want) {
  swrauth_signed out;
  swrauth_err err;
  char *buf;
  int rc;
  memset(&err, 0, sizeof err);
  rc = sign(r, &out, &err, &buf);
  ok(rc == -1 && strcmp(err.msg, want) == 0, "refused: %s", want);
  if (rc != -1 || strcmp(err.msg, want) != 0) printf("# got: %d %s\n", rc, err.msg);
  memset(&err, 0, sizeof err);
  ok(swrauth_sign_check(r, &err) == -1 && strcmp(err.msg, want) == 0,
     "sign_check says the same");
  free(buf);
}

static void bad_url(const char *url, const char *want) {
  static const char *const hd[] = {"X-Sdk-Date", "20191115T033655Z", NULL};
  tcase t;
  refused(mk(&t, "GET", url, hd, NULL), want);
}

static void bad_headers(const char *const *hd, const char *want) {
  tcase t;
  refused(mk(&t, "GET", "https://h/", hd, NULL), want);
}

static void test_refused(void) {
  static const char *const date[] = {"X-Sdk-Date", "20191115T033655Z", NULL};
  tcase t;
  swrauth_sign_req *r;

  r = mk(&t, "GET", "https://h/", date, NULL);
  r->ak = S("");
  refused(r, "ak is empty");
  r = mk(&t, "GET", "https://h/", date, NULL);
  r->sk = S("");
  refused(r, "sk is empty");
  r = mk(&t, "GET", "https://h/", date, NULL);
  r->sk = S("SecretKey\n");
  refused(r, "sk has a newline at byte 10 (a pasted newline?)");
  r = mk(&t, "", "https://h/", date, NULL);
  refused(r, "method is empty");
  r = mk(&t, "GE T", "https://h/", date, NULL);
  refused(r, "method is not an HTTP token (a space at byte 3)");
  r = mk(&t, "GET\r\n", "https://h/", date, NULL);
  refused(r, "method is not an HTTP token (a carriage return at byte 4)");
  r = mk(&t, "GET", "https://h/", date, NULL);
  r->alg = SWRAUTH_SIGN_ALG_COUNT;
  refused(r, "algorithm is unknown (2)");

  bad_url("", "url is empty");
  bad_url("/v1/x", "url is not an absolute http:// or https:// URL");
  bad_url("ftp://h/", "url is not an absolute http:// or https:// URL");
  bad_url("https:/h/", "url is not an absolute http:// or https:// URL");
  bad_url("https://", "url has no host");
  bad_url("https:///x", "url has no host");
  bad_url("https://:80/x", "url has no host");
  bad_url("https://u:p@h/", "url has user information ('@' at byte 12); credentials do not go in the URL");
  bad_url("https://h/x#frag", "url has a fragment ('#' at byte 12): a fragment is never sent, leave it out");
  bad_url("https://h/x y", "url has whitespace (a space) at byte 12");
  bad_url("https://h/x\ty", "url has whitespace (a tab) at byte 12");
  bad_url("https://h/x\n", "url has whitespace (a newline) at byte 12");
  bad_url("https://h/x\x7f", "url has a control character (byte 0x7f) at byte 12");
  bad_url("https://h/x%2", "url has a bad %-escape at byte 12 ('%' must be followed by two hex digits)");
  bad_url("https://h/x%zz", "url has a bad %-escape at byte 12 ('%' must be followed by two hex digits)");
  bad_url("https://h/?a=%", "url has a bad %-escape at byte 14 ('%' must be followed by two hex digits)");
  bad_url("https://h:0/", "url has a bad port (after ':' at byte 10: a number from 1 to 65535)");
  bad_url("https://h:65536/", "url has a bad port (after ':' at byte 10: a number from 1 to 65535)");
  bad_url("https://h:/", "url has a bad port (after ':' at byte 10: a number from 1 to 65535)");
  bad_url("https://h:8x/", "url has a bad port (after ':' at byte 10: a number from 1 to 65535)");
  bad_url("https://h\xc3\xa9/", "url has a bad character (byte 0xc3) in its host at byte 10");
  bad_url("https://[::1/", "url has a bad IPv6 address (no closing ']')");
  bad_url("https://[::g]/", "url has a bad IPv6 address ('g' at byte 12)");
  bad_url("https://[::1]x/", "url has a bad character ('x') after its host at byte 14");

  {
    static const char *const h1[] = {"Host", "h", NULL};
    static const char *const h2[] = {"X-Sdk-Date", "2019-11-15T03:36:55Z", NULL};
    static const char *const h3[] = {"X-Sdk-Date", "20191115T033655", NULL};
    static const char *const h4[] = {"X-Sdk-Date", "20190229T033655Z", NULL};
    static const char *const h5[] = {"X-Sdk-Date", "20191115T240000Z", NULL};
    static const char *const h6[] = {"X-Sdk-Date", "20191115T033655Z", "x-sdk-date", "20191115T033655Z", NULL};
    static const char *const h7[] = {"X-Sdk-Date", "20191115T033655Z", "Bad Name", "v", NULL};
    static const char *const h8[] = {"X-Sdk-Date", "20191115T033655Z", "X-Token", "abc\r\nInjected: 1", NULL};
    static const char *const h9[] = {"X-Sdk-Date", "20191115T033655Z", "X-Token", "a\tb", NULL};
    static const char *const h10[] = {"X-Sdk-Date", "20191115T033655Z", "", "v", NULL};
    static const char *const h11[] = {"X-Sdk-Date", "20191115T033655Z", "N\xc3\xa9", "v", NULL};
    static const char *const h12[] = {"X-Sdk-Date", "20191115T033655Z", "X-Token", "secret\x01", NULL};
    static const char *const h13[] = {"X-Sdk-Date", "20200229T235959Z", NULL};
    bad_headers(NULL, "headers: X-Sdk-Date is missing (the signing time, YYYYMMDDTHHMMSSZ in UTC, is a signed header)");
    bad_headers(h1, "headers: X-Sdk-Date is missing (the signing time, YYYYMMDDTHHMMSSZ in UTC, is a signed header)");
    bad_headers(h2, "header 'X-Sdk-Date' is not a UTC time written YYYYMMDDTHHMMSSZ (as 20191115T033655Z)");
    bad_headers(h3, "header 'X-Sdk-Date' is not a UTC time written YYYYMMDDTHHMMSSZ (as 20191115T033655Z)");
    bad_headers(h4, "header 'X-Sdk-Date' is not a real date and time (YYYYMMDDTHHMMSSZ, month 01-12, hour 00-23, ...)");
    bad_headers(h5, "header 'X-Sdk-Date' is not a real date and time (YYYYMMDDTHHMMSSZ, month 01-12, hour 00-23, ...)");
    bad_headers(h6, "headers 'X-Sdk-Date' and 'x-sdk-date' are the same header (names differ only in case)");
    bad_headers(h7, "header name 'Bad Name' is not a token (a space at byte 4)");
    bad_headers(h8, "header 'X-Token' has a control character (a carriage return) in its value at byte 4");
    bad_headers(h9, "header 'X-Token' has a control character (a tab) in its value at byte 2");
    bad_headers(h10, "header name is empty");
    bad_headers(h11, "header name 'N\\xc3\\xa9' is not a token (byte 0xc3 at byte 2)");
    bad_headers(h12, "header 'X-Token' has a control character (byte 0x01) in its value at byte 7");
    {
      tcase t2;
      ok(strncmp(canon(mk(&t2, "GET", "https://h/", h13, NULL)), "GET\n", 4) == 0,
         "X-Sdk-Date on 29 February of a leap year is fine");
    }
  }
}

/* ------------------------------------------------- limits and the buffer */

static void test_limits(void) {
  static const char *const date[] = {"X-Sdk-Date", "20191115T033655Z", NULL};
  size_t n = SWRAUTH_SIGN_URL_MAX, i;
  char *url = malloc(n + 2);
  tcase t;
  swrauth_sign_req *r;
  swrauth_signed out;
  swrauth_err err;
  char *buf;
  if (url == NULL) abort();
  /* The longest URL, all of it escaped three times over: "%FF" decodes
  ** to one byte written "%FF" again; "\xff" raw becomes "%FF". */
  memcpy(url, "https://h/?", 11);
  for (i = 11; i < n; i++) url[i] = (i % 2) ? '\xff' : '&';
  r = mk(&t, "GET", "", date, NULL);
  r->url = (swrauth_slice){url, n};
  ok(sign(r, &out, &err, &buf) == 0, "a %zu-byte URL of 1-byte pairs signs", n);
  free(buf);
  for (i = 11; i < n; i++) url[i] = '\xc3';
  ok(sign(r, &out, &err, &buf) == 0 && out.canonical_request.len > 3 * (n - 11),
     "a %zu-byte URL escaping every byte signs (canonical request %zu bytes)", n,
     out.canonical_request.len);
  free(buf);
  url[n] = 'x';
  r->url.len = n + 1;
  refused(r, "url is too long (65537 bytes, at most 65536)");
  ok(swrauth_sign_bufsize(r) == 0, "bufsize is 0 over the limit");
  free(url);

  {
    /* 64 KiB of header values, and one byte more. */
    static char big[SWRAUTH_SIGN_HEADERS_MAX];
    swrauth_header hs[2];
    memset(big, 'v', sizeof big);
    hs[0].name = S("X-Sdk-Date");
    hs[0].value = S("20191115T033655Z");
    hs[1].name = S("X-Big");
    hs[1].value = (swrauth_slice){big, sizeof big - 26 - 5};
    r = mk(&t, "GET", "https://h/", NULL, NULL);
    r->headers = hs;
    r->nheaders = 2;
    ok(sign(r, &out, &err, &buf) == 0, "64 KiB of header names and values sign");
    free(buf);
    hs[1].value.len++;
    refused(r, "headers are too long (over 65536 bytes of names and values)");
  }
  {
    static swrauth_header hs[SWRAUTH_SIGN_NHEADERS_MAX + 1];
    static char names[SWRAUTH_SIGN_NHEADERS_MAX + 1][8];
    for (i = 0; i <= SWRAUTH_SIGN_NHEADERS_MAX; i++) {
      snprintf(names[i], sizeof names[i], "h%zu", i);
      hs[i].name = S(names[i]);
      hs[i].value = S("v");
    }
    hs[0].name = S("X-Sdk-Date");
    hs[0].value = S("20191115T033655Z");
    r = mk(&t, "GET", "https://h/", NULL, NULL);
    r->headers = hs;
    r->nheaders = SWRAUTH_SIGN_NHEADERS_MAX;
    ok(sign(r, &out, &err, &buf) == 0, "%d headers sign", SWRAUTH_SIGN_NHEADERS_MAX);
    free(buf);
    r->nheaders++;
    refused(r, "headers: too many (1025, at most 1024)");
  }
  {
    /* Too small a buffer fails cleanly; an unaligned one works. */
    size_t size;
    char *raw;
    r = mk(&t, "GET", EX_URL, EX_HEADERS, NULL);
    size = swrauth_sign_bufsize(r);
    raw = malloc(size + 1);
    if (raw == NULL) abort();
    ok(swrauth_sign(H, r, raw, size - 1 - sizeof(void *) * 4, &out, &err) == -1 &&
           strncmp(err.msg, "sign: work buffer too small", 27) == 0,
       "too small a work buffer: %s", err.msg);
    ok(swrauth_sign(H, r, raw + 1, size, &out, &err) == 0 &&
           out.canonical_request.ptr >= raw + 1 &&
           out.authorization.ptr + out.authorization.len <= raw + 1 + size,
       "an unaligned work buffer works, and the results lie in it");
    free(raw);
  }
}

/* ----------------------------------------------------- independent checks */

/* signature = HMAC(SK, string to sign), and the string to sign's last
** line = hex hash of the canonical request, by OpenSSL's one-shot calls. */
static void test_consistency(void) {
  static const char *const algs[] = {"SHA256", "SM3"};
  int a;
  for (a = 0; a < 2; a++) {
    tcase t;
    swrauth_sign_req *r = mk(&t, "POST", EX_URL, EX_HEADERS, "{\"x\":1}");
    swrauth_signed out;
    swrauth_err err;
    unsigned char md[64];
    size_t mdlen = 0;
    char hx[129], *buf;
    r->alg = (swrauth_sign_alg)a;
    ok(sign(r, &out, &err, &buf) == 0, "%s signs", algs[a]);
    EVP_Q_digest(NULL, algs[a], NULL, out.canonical_request.ptr,
                 out.canonical_request.len, md, &mdlen);
    hex(md, mdlen, hx);
    ok(out.string_to_sign.len > 64 &&
           memcmp(out.string_to_sign.ptr + out.string_to_sign.len - 64, hx, 64) == 0,
       "%s: string to sign ends with the canonical request's hash", algs[a]);
    EVP_Q_mac(NULL, "HMAC", NULL, algs[a], NULL, r->sk.ptr, r->sk.len,
              (const unsigned char *)out.string_to_sign.ptr, out.string_to_sign.len,
              md, sizeof md, &mdlen);
    hex(md, mdlen, hx);
    ok(tap_eq(out.signature.ptr, out.signature.len, hx),
       "%s: signature is OpenSSL's HMAC over the string to sign", algs[a]);
    free(buf);
  }
}

/* --------------------------------------------------------------- wiping */

/* memmem for the scans (not in C99). */
static int contains(const void *hay, size_t n, const void *needle, size_t m) {
  const unsigned char *h = (const unsigned char *)hay;
  size_t i;
  if (m == 0 || m > n) return 0;
  for (i = 0; i + m <= n; i++)
    if (memcmp(h + i, needle, m) == 0) return 1;
  return 0;
}

static void check_wipe(const char *label, const char *sk, size_t sklen, int alg) {
  static const char *const mdname[] = {"SHA256", "SM3"};
  tcase t;
  swrauth_sign_req *r = mk(&t, "GET", EX_URL, EX_HEADERS, "body");
  swrauth_signed out;
  swrauth_err err;
  unsigned char key[64], ipad[64], inner[64];
  size_t i, mdlen = 0, size;
  char *buf;
  int rc;
  r->alg = (swrauth_sign_alg)alg;
  r->sk = (swrauth_slice){sk, sklen};
  /* First signature: the string to sign, to compute the blocks here. */
  ok(sign(r, &out, &err, &buf) == 0, "%s: signs", label);
  memset(key, 0, sizeof key);
  if (sklen > 64)
    EVP_Q_digest(NULL, mdname[alg], NULL, sk, sklen, key, &mdlen);
  else
    memcpy(key, sk, sklen);
  for (i = 0; i < 64; i++) {
    ipad[i] = key[i] ^ 0x36;
    spy_opad[i] = key[i] ^ 0x5c;
  }
  {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_MD *m = EVP_MD_fetch(NULL, mdname[alg], NULL);
    unsigned int l = 0;
    EVP_DigestInit_ex2(c, m, NULL);
    EVP_DigestUpdate(c, ipad, 64);
    EVP_DigestUpdate(c, out.string_to_sign.ptr, out.string_to_sign.len);
    EVP_DigestFinal_ex(c, inner, &l);
    EVP_MD_CTX_free(c);
    EVP_MD_free(m);
  }
  memcpy(spy_inner, inner, 32);
  free(buf);
  /* Second signature, watched. */
  spy_armed = 1;
  spy_saw_opad = spy_saw_inner = 0;
  size = swrauth_sign_bufsize(r);
  buf = calloc(1, size); /* zeroed, so the scan reads defined bytes */
  if (buf == NULL) abort();
  memset(&err, 0, sizeof err);
  rc = swrauth_sign(H, r, buf, size, &out, &err);
  spy_armed = 0;
  ok(rc == 0, "%s: signs again", label);
  ok(spy_saw_opad == 1, "%s: the K^opad block was wiped (seen %d times)", label,
     spy_saw_opad);
  ok(spy_saw_inner == 1, "%s: the inner digest was wiped (seen %d times)", label,
     spy_saw_inner);
  ok(!contains(buf, size, ipad, 64) && !contains(buf, size, spy_opad, 64) &&
         !contains(buf, size, inner, 32) && !contains(buf, size, sk, sklen) &&
         !contains(&out, sizeof out, ipad, 16) && !contains(&err, sizeof err, sk, sklen),
     "%s: no key block, inner digest or SK in the work buffer, result or error", label);
  free(buf);
}

static void test_wipe(void) {
  char longsk[100];
  memset(longsk, 'k', sizeof longsk);
  check_wipe("SHA-256, 9-byte SK", "SecretKey", 9, 0);
  check_wipe("SM3, 9-byte SK", "SecretKey", 9, 1);
  check_wipe("SHA-256, 100-byte SK (hashed first)", longsk, sizeof longsk, 0);
  check_wipe("SM3, 100-byte SK (hashed first)", longsk, sizeof longsk, 1);
}

int main(void) {
  swrauth_err err;
  H = swrauth_hmac_new(&err);
  if (H == NULL) {
    printf("Bail out! %s\n", err.msg);
    return 1;
  }
  test_published();
  test_go_sdk();
  test_canonical();
  test_refused();
  test_limits();
  test_consistency();
  test_wipe();
  swrauth_hmac_free(H);
  return tap_done();
}

/*
** test_parse.c: base64 (RFC 4648 vectors), PROJECT@AK user names and
** config.json "auth" values, through the C core only.
**
** Every input is copied into a heap block of exactly its length, so a
** read past the end shows up under valgrind.
*/
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"
#include "tap.h"

/* A heap copy of s[0..n) with nothing after it. */
static char *exact(const char *s, size_t n) {
  char *p = (char *)malloc(n ? n : 1);
  if (p == NULL) abort();
  if (n) memcpy(p, s, n);
  return p;
}

static int contains(const char *msg, const char *part) {
  return strstr(msg, part) != NULL;
}

/* ---------------------------------------------------------------- base64 */

static void test_base64_vectors(void) {
  /* RFC 4648, section 10. */
  static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *const b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                    "Zm9vYmFy"};
  static const char *const bare[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE",
                                     "Zm9vYmFy"};
  char out[16];
  unsigned char dec[16];
  size_t i, len;
  swrauth_err err;
  for (i = 0; i < 7; i++) {
    char *in = exact(plain[i], strlen(plain[i]));
    char *enc = exact(b64[i], strlen(b64[i]));
    char *unp = exact(bare[i], strlen(bare[i]));
    len = 99;
    ok(swrauth_base64_encode(in, strlen(plain[i]), out, sizeof out, &len) == 0 &&
           tap_eq(out, len, b64[i]),
       "encode RFC 4648 '%s' -> '%s'", plain[i], b64[i]);
    len = 99;
    ok(swrauth_base64_decode(enc, strlen(b64[i]), dec, sizeof dec, &len, &err) == 0 &&
           tap_eq((char *)dec, len, plain[i]),
       "decode RFC 4648 '%s' -> '%s'", b64[i], plain[i]);
    len = 99;
    ok(swrauth_base64_decode(unp, strlen(bare[i]), dec, sizeof dec, &len, &err) == 0 &&
           tap_eq((char *)dec, len, plain[i]),
       "decode without padding '%s' -> '%s'", bare[i], plain[i]);
    free(in);
    free(enc);
    free(unp);
  }
}

static void test_base64_room(void) {
  char out[8];
  unsigned char dec[8];
  size_t len = 0;
  swrauth_err err;
  ok(swrauth_base64_encode("foobar", 6, out, 8, &len) == 0 && len == 8,
     "encode: exactly 4*ceil(n/3) bytes of room is enough");
  ok(swrauth_base64_encode("foobar", 6, out, 7, &len) == -1, "encode: one byte less fails");
  ok(swrauth_base64_encode("f", 1, out, 3, &len) == -1, "encode: padding needs room too");
  ok(swrauth_base64_encode("", 0, out, 0, &len) == 0 && len == 0, "encode: empty into no room");
  ok(swrauth_base64_encode("foo", 3, out, 4, NULL) == 0, "encode: outlen may be NULL");
  ok(swrauth_base64_decode("Zm9vYmFy", 8, dec, 6, &len, &err) == 0 && len == 6,
     "decode: exactly the decoded size is enough");
  ok(swrauth_base64_decode("Zm9vYmFy", 8, dec, 5, &len, &err) == -1 &&
         contains(err.msg, "decoded value is too long (6 bytes, at most 5)"),
     "decode: too small a buffer: %s", err.msg);
  ok(swrauth_base64_decode("Zm9vYg", 6, dec, 4, &len, &err) == 0 && len == 4,
     "decode: unpadded, exact room");
}

static void test_base64_all_bytes(void) {
  unsigned char in[300], dec[300];
  char enc[400];
  size_t n, len, dlen, bad = 0;
  swrauth_err err;
  for (n = 0; n < sizeof in; n++) in[n] = (unsigned char)(n * 7 + 3);
  for (n = 0; n <= sizeof in; n++) {
    char *e;
    if (swrauth_base64_encode(in, n, enc, sizeof enc, &len) != 0 ||
        len != 4 * ((n + 2) / 3)) {
      bad++;
      continue;
    }
    e = exact(enc, len);
    if (swrauth_base64_decode(e, len, dec, sizeof dec, &dlen, &err) != 0 || dlen != n ||
        memcmp(dec, in, n) != 0)
      bad++;
    /* and with the padding stripped */
    while (len > 0 && enc[len - 1] == '=') len--;
    if (swrauth_base64_decode(e, len, dec, sizeof dec, &dlen, &err) != 0 || dlen != n ||
        memcmp(dec, in, n) != 0)
      bad++;
    free(e);
  }
  ok(bad == 0, "round trip of every length 0..300 (padded and not): %zu bad", bad);
  for (n = 0; n < 256; n++) in[n] = (unsigned char)n;
  ok(swrauth_base64_encode(in, 256, enc, sizeof enc, &len) == 0 &&
         swrauth_base64_decode(enc, len, dec, sizeof dec, &dlen, &err) == 0 &&
         dlen == 256 && memcmp(in, dec, 256) == 0,
     "round trip of all 256 byte values");
  ok(swrauth_base64_encode("\xfb\xff", 2, enc, sizeof enc, &len) == 0 &&
         tap_eq(enc, len, "+/8="),
     "encode uses the standard alphabet (+ and /)");
}

typedef struct b64_err {
  const char *in;
  size_t len; /* 0: strlen */
  const char *msg;
} b64_err;

static void test_base64_errors(void) {
  static const b64_err cases[] = {
    {"Z", 0, "bad base64: a length of 1 characters is not possible (one is missing or extra)"},
    {"Zm9vY", 0, "bad base64: a length of 5 characters is not possible (one is missing or extra)"},
    {"Zm9vY===", 0, "bad base64: '=' at byte 6 is not at the end"},
    {"Zg=", 0, "bad base64: wrong padding at byte 3"},
    {"Zm9v=", 0, "bad base64: wrong padding at byte 5"},
    {"Zm8==", 0, "bad base64: wrong padding at byte 4"},
    {"Zg===", 0, "bad base64: '=' at byte 3 is not at the end"},
    {"=Zg=", 0, "bad base64: '=' at byte 1 is not at the end"},
    {"Zg==Zg==", 0, "bad base64: '=' at byte 3 is not at the end"},
    {"====", 0, "bad base64: '=' at byte 1 is not at the end"},
    {"Zm9v\n", 0, "bad base64: a newline at byte 5 (a pasted trailing newline?)"},
    {"Zm9v\r\n", 0, "bad base64: a carriage return at byte 5 (a pasted trailing newline?)"},
    {"Zm\n9v", 0, "bad base64: a newline at byte 3"},
    {"Zm 9v", 0, "bad base64: a space at byte 3"},
    {" Zm9v", 0, "bad base64: a space at byte 1"},
    {"Zm9v\t", 0, "bad base64: a tab at byte 5"},
    {"Zm-v", 0, "bad base64: '-' at byte 3"},
    {"Zm_v", 0, "bad base64: '_' at byte 3"},
    {"Zm.v", 0, "bad base64: '.' at byte 3"},
    {"Zm\0v", 4, "bad base64: a NUL byte at byte 3"},
    {"Zm\xc3\xa9", 0, "bad base64: byte 0xc3 at byte 3"},
    {"Zm9v\x7f", 0, "bad base64: byte 0x7f at byte 5"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in), len = 77;
    unsigned char dec[16];
    char *in = exact(cases[i].in, n);
    swrauth_err err;
    int rc;
    memset(dec, 0xaa, sizeof dec);
    strcpy(err.msg, "(none)");
    rc = swrauth_base64_decode(in, n, dec, sizeof dec, &len, &err);
    ok(rc == -1 && strcmp(err.msg, cases[i].msg) == 0 && len == 77 && dec[0] == 0xaa,
       "decode refuses case %zu: %s", i, err.msg);
    free(in);
  }
  {
    unsigned char dec[4];
    size_t len;
    swrauth_err err;
    ok(swrauth_base64_decode("Zh==", 4, dec, sizeof dec, &len, &err) == 0 && len == 1 &&
           dec[0] == 'f',
       "unused low bits of the last character are ignored (as Go's StdEncoding)");
    ok(swrauth_base64_decode("Zm9v", 4, dec, sizeof dec, &len, NULL) == 0,
       "decode: err may be NULL on success");
    ok(swrauth_base64_decode("Z", 1, dec, sizeof dec, &len, NULL) == -1,
       "decode: err may be NULL on failure");
  }
}

/* ------------------------------------------------------------------ user */

typedef struct user_ok {
  const char *in, *project, *region, *ak;
} user_ok;

typedef struct user_bad {
  const char *in;
  size_t len;
  const char *msg;
} user_bad;

static void test_user(void) {
  static const user_ok good[] = {
    {"cn-north-4@RVHVMXABCDEFGHIJKLMN", "cn-north-4", "cn-north-4", "RVHVMXABCDEFGHIJKLMN"},
    {"cn-north-4_myproject@AK", "cn-north-4_myproject", "cn-north-4", "AK"},
    {"ap-southeast-1_a.b-C_d@AK", "ap-southeast-1_a.b-C_d", "ap-southeast-1", "AK"},
    {"cn_north@X", "cn_north", "cn", "X"},
    {"a@b", "a", "a", "b"},
    {"la-south-2@!#$%^&*()=+[]{}|;'\",.<>/?~`", "la-south-2", "la-south-2",
     "!#$%^&*()=+[]{}|;'\",.<>/?~`"},
  };
  static const user_bad bad[] = {
    {"", 0, "empty user: expected PROJECT@AK"},
    {"cn-north-4", 0, "user has no '@': expected PROJECT@AK"},
    {"cn-north-4@AK@x", 0, "user has a second '@' at byte 14: expected PROJECT@AK"},
    {"@AK", 0, "user has an empty project before '@'"},
    {"cn-north-4@", 0, "user has an empty AK after '@'"},
    {"Cn-north-4@AK", 0, "user: the project has 'C' at byte 1: a region is lowercase letters, "
     "digits and '-'"},
    {"4cn@AK", 0, "user: the project must start with a region"},
    {"_sub@AK", 0, "user: the project must start with a region"},
    {"-cn@AK", 0, "user: the project must start with a region"},
    {"cn-North-4@AK", 0, "user: the project has 'N' at byte 4: a region is lowercase letters"},
    {"cn.north@AK", 0, "user: the project has '.' at byte 3: a region is"},
    {"cn-north-4_@AK", 0, "user: the project has an empty sub-project after '_' at byte 11"},
    {"cn-north-4_x/y@AK", 0, "user: the project has '/' at byte 13: a sub-project is"},
    {"cn-north-4_x:y@AK", 0, "user: the project has ':' at byte 13: a sub-project is"},
    {"cn-north-4@AK:KEY", 0, "user: the AK has ':' at byte 14 (an AK cannot hold '@' or ':', "
     "which separate PROJECT@AK:KEY)"},
    {"cn-north-4-@AK", 0, "user: the project has a region ending with '-' at byte 11 (the "
     "region names the registry host)"},
    {"cn-north-4@AK\n", 0, "user has a newline at byte 14 (in the AK) (a pasted trailing newline?)"},
    {"cn-north-4@AK\r\n", 0, "user has a carriage return at byte 14 (in the AK) (a pasted"},
    {" cn-north-4@AK", 0, "user has a space at byte 1 (in the project)"},
    {"cn north@AK", 0, "user has a space at byte 3 (in the project)"},
    {"cn@A K", 0, "user has a space at byte 5 (in the AK)"},
    {"cn@A\tK", 0, "user has a tab at byte 5 (in the AK)"},
    {"cn north", 0, "user has a space at byte 3"},
    {"cn@A\0K", 6, "user has a NUL byte at byte 5 (in the AK)"},
    {"cn@\xe4\xb8\xad", 0, "user has byte 0xe4 at byte 4 (in the AK)"},
    {"cn@\xff", 0, "user has byte 0xff at byte 4 (in the AK)"},
    {"cn@A\x1b[0m", 0, "user has byte 0x1b at byte 5 (in the AK)"},
    {"cn@A\x7f", 0, "user has byte 0x7f at byte 5 (in the AK)"},
  };
  size_t i;
  char big[1300];
  swrauth_user u;
  swrauth_err err;
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    size_t n = strlen(good[i].in);
    char *in = exact(good[i].in, n);
    int rc = swrauth_parse_user(in, n, &u, &err);
    ok(rc == 0 && tap_eq(u.project.ptr, u.project.len, good[i].project) &&
           tap_eq(u.region.ptr, u.region.len, good[i].region) &&
           tap_eq(u.ak.ptr, u.ak.len, good[i].ak) && u.project.ptr == in &&
           u.ak.ptr == in + u.project.len + 1,
       "user '%s' -> project, region, ak slices of the input", good[i].in);
    free(in);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = bad[i].len ? bad[i].len : strlen(bad[i].in);
    char *in = exact(bad[i].in, n);
    int rc;
    strcpy(err.msg, "(none)");
    rc = swrauth_parse_user(in, n, &u, &err);
    ok(rc == -1 && strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) == 0 &&
           u.project.ptr == NULL && u.ak.ptr == NULL,
       "user refused (case %zu): %s", i, err.msg);
    free(in);
  }
  /* Limits: project 128, region 64, AK SWRAUTH_CRED_MAX. */
  memset(big, 'a', sizeof big);
  big[128] = '@';
  ok(swrauth_parse_user(big, 130, &u, &err) == -1 &&
         strcmp(err.msg, "user: the project has a region that is too long (128 bytes, at "
                "most 64)") == 0,
     "a 128-byte region is too long: %s", err.msg);
  big[64] = '_';
  ok(swrauth_parse_user(big, 130, &u, &err) == 0 && u.project.len == 128 &&
         u.region.len == 64,
     "a 128-byte project with a 64-byte region is fine");
  big[128] = 'a';
  big[129] = '@';
  ok(swrauth_parse_user(big, 131, &u, &err) == -1 &&
         strcmp(err.msg, "user: the project is too long (129 bytes, at most 128)") == 0,
     "a 129-byte project is too long: %s", err.msg);
  memcpy(big, "cn@", 3);
  memset(big + 3, 'A', sizeof big - 3);
  ok(swrauth_parse_user(big, 3 + SWRAUTH_CRED_MAX, &u, &err) == 0 &&
         u.ak.len == SWRAUTH_CRED_MAX,
     "an AK of SWRAUTH_CRED_MAX bytes is fine");
  ok(swrauth_parse_user(big, 4 + SWRAUTH_CRED_MAX, &u, &err) == -1 &&
         contains(err.msg, "user: the AK is too long (1025 bytes, at most 1024)"),
     "an AK of one byte more is too long: %s", err.msg);
  ok(swrauth_parse_user(big, sizeof big, &u, &err) == -1 &&
         contains(err.msg, "user is too long (1300 bytes, at most 1153)"),
     "a user longer than any valid one is refused first: %s", err.msg);
  ok(swrauth_parse_user("cn@", 3, &u, NULL) == -1, "err may be NULL");
}

/* ------------------------------------------------------------------ auth */

static int auth_of(const char *plain, size_t n, swrauth_auth *a, swrauth_err *err) {
  char enc[2048];
  size_t len;
  char *in;
  int rc;
  if (swrauth_base64_encode(plain, n, enc, sizeof enc, &len) != 0) return -2;
  in = exact(enc, len);
  rc = swrauth_parse_auth(in, len, a, err);
  free(in);
  return rc;
}

static void test_auth(void) {
  static swrauth_auth a;
  static char big[1100];
  swrauth_err err;
  char *in;
  in = exact("dXNlcjpwYXNz", 12);
  ok(swrauth_parse_auth(in, 12, &a, &err) == 0 && tap_eq(a.user.ptr, a.user.len, "user") &&
         tap_eq(a.password.ptr, a.password.len, "pass") &&
         a.user.ptr == (char *)a.buf,
     "'dXNlcjpwYXNz' -> user, pass (slices of buf)");
  free(in);
  ok(auth_of("cn-north-4@AK:k:e:y", 19, &a, &err) == 0 &&
         tap_eq(a.user.ptr, a.user.len, "cn-north-4@AK") &&
         tap_eq(a.password.ptr, a.password.len, "k:e:y"),
     "split at the first ':' (a password may hold ':')");
  ok(auth_of(":pass", 5, &a, &err) == 0 && a.user.len == 0 && a.user.ptr != NULL &&
         tap_eq(a.password.ptr, a.password.len, "pass"),
     "an empty user is returned as empty");
  ok(auth_of("user:", 5, &a, &err) == 0 && a.password.len == 0 &&
         a.password.ptr != NULL,
     "an empty password is returned as empty");
  ok(auth_of("u:p\0w\n\xff", 7, &a, &err) == 0 && a.password.len == 5 &&
         memcmp(a.password.ptr, "p\0w\n\xff", 5) == 0,
     "the password is returned byte for byte (NUL, newline, 0xff)");
  ok(swrauth_parse_auth("dXNlcjpwYXNz", 9, &a, &err) == -1 &&
         contains(err.msg, "bad base64"),
     "never read past n (a cut value fails): %s", err.msg);
  ok(swrauth_parse_auth("dXNlcg==", 8, &a, &err) == -1 &&
         strcmp(err.msg, "auth value has no ':' between user and password once decoded") == 0,
     "no ':' once decoded: %s", err.msg);
  ok(swrauth_parse_auth("", 0, &a, &err) == -1 && strcmp(err.msg, "empty auth value") == 0 &&
         a.user.ptr == NULL && a.password.ptr == NULL,
     "empty input: %s", err.msg);
  ok(swrauth_parse_auth("dXNlcjpw\nYXNz", 13, &a, &err) == -1 &&
         strcmp(err.msg, "bad base64: a newline at byte 9") == 0,
     "bad base64 names the byte: %s", err.msg);
  ok(swrauth_parse_auth("dXNlcjpwYXNz\n", 13, &a, &err) == -1 &&
         a.user.ptr == NULL && a.password.ptr == NULL,
     "failure leaves both slices absent");
  memset(big, 'x', sizeof big);
  big[0] = ':';
  ok(auth_of(big, sizeof a.buf, &a, &err) == 0 && a.password.len == sizeof a.buf - 1,
     "a value of exactly %zu bytes once decoded fits", sizeof a.buf);
  ok(auth_of(big, sizeof a.buf + 1, &a, &err) == -1 &&
         strcmp(err.msg, "decoded value is too long (1025 bytes, at most 1024)") == 0,
     "one byte more does not: %s", err.msg);
  ok(swrauth_parse_auth("dXNlcg==", 8, &a, NULL) == -1, "err may be NULL");
}

/* Values swrauth_format makes parse back to the same parts. */
static void test_round_trips(void) {
  static swrauth_formatted f;
  static swrauth_auth a;
  static const char *const projects[] = {"cn-north-4", "cn-north-4_sub", "ap-southeast-1_A.b-c_d"};
  swrauth_fields in;
  swrauth_user u;
  swrauth_err err;
  size_t i;
  err.msg[0] = '\0';
  for (i = 0; i < 3; i++) {
    memset(&in, 0, sizeof in);
    in.project.ptr = projects[i];
    in.project.len = strlen(projects[i]);
    in.ak.ptr = "QTWAOYTTINDUT2QVKYUC";
    in.ak.len = 20;
    in.key.ptr = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34";
    in.key.len = 64;
    ok(swrauth_format(SWRAUTH_FMT_USER, &in, &f, &err) == 0 &&
           swrauth_parse_user(f.text.ptr, f.text.len, &u, &err) == 0 &&
           tap_eq(u.project.ptr, u.project.len, projects[i]) &&
           tap_eq(u.ak.ptr, u.ak.len, "QTWAOYTTINDUT2QVKYUC"),
       "parse_user(format(user)) for %s: %s", projects[i], err.msg);
    ok(swrauth_format(SWRAUTH_FMT_AUTH, &in, &f, &err) == 0 &&
           swrauth_parse_auth(f.text.ptr, f.text.len, &a, &err) == 0 &&
           a.user.len == in.project.len + 21 &&
           memcmp(a.user.ptr, projects[i], in.project.len) == 0 &&
           tap_eq(a.password.ptr, a.password.len, in.key.ptr),
       "parse_auth(format(auth)) for %s: %s", projects[i], err.msg);
    swrauth_wipe(&f, sizeof f);
    swrauth_wipe(&a, sizeof a);
  }
}

int main(void) {
  test_base64_vectors();
  test_base64_room();
  test_base64_all_bytes();
  test_base64_errors();
  test_user();
  test_auth();
  test_round_trips();
  return tap_done();
}

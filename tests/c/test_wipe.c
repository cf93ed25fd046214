/*
** test_wipe.c: every buffer that holds a secret is wiped, seen from
** outside.
**
** Linked with -Wl,--wrap=swrauth_wipe against the static archive (core
** and binding): every call of swrauth_wipe made from another object of
** the archive goes through __wrap_swrauth_wipe below, which records the
** size of what is wiped and which of the test's secrets it held at that
** moment, then wipes it. Each test clears the record, makes one call
** (core, or the binding through an embedded Lua state whose collector
** is stopped, so __gc cannot wipe in a function's place) and asserts
** that a wipe held the secret. Deleting any one of the wipes these
** tests name makes at least one of them fail.
*/
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "swrauth.h"
#include "tap.h"

/* The wrapper reads buffers before they are wiped, some never written
** (the stack the core overwrites after a digest): under valgrind, they are
** marked defined first (they are wiped right after anyway). */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

int luaopen_swrauth(lua_State *L);

/* ------------------------------------------------------------ the wrap */

void __real_swrauth_wipe(void *p, size_t n);
void __wrap_swrauth_wipe(void *p, size_t n);

#define NEEDLES 8
#define RECS 8192

typedef struct rec {
  size_t n;
  unsigned held; /* bit k: needle k was in the buffer */
} rec;

static const unsigned char *needle[NEEDLES];
static size_t needle_len[NEEDLES], nneedles;
static rec recs[RECS];
static size_t nrecs;

static int holds(const unsigned char *p, size_t n, const unsigned char *nd, size_t k) {
  size_t i;
  if (p == NULL || k == 0 || k > n) return 0;
  for (i = 0; i + k <= n; i++)
    if (p[i] == nd[0] && memcmp(p + i, nd, k) == 0) return 1;
  return 0;
}

void __wrap_swrauth_wipe(void *p, size_t n) {
  unsigned held = 0;
  size_t k;
  if (p != NULL && n > 0) VALGRIND_MAKE_MEM_DEFINED(p, n);
  for (k = 0; k < nneedles; k++)
    if (holds((const unsigned char *)p, n, needle[k], needle_len[k])) held |= 1u << k;
  if (nrecs < RECS) {
    recs[nrecs].n = n;
    recs[nrecs].held = held;
    nrecs++;
  }
  __real_swrauth_wipe(p, n);
}

/* Starts a test: forgets the wipes seen and sets the secrets to look for. */
static void watch(size_t count, ...) {
  va_list ap;
  size_t k;
  nrecs = 0;
  nneedles = count;
  va_start(ap, count);
  for (k = 0; k < count; k++) {
    needle[k] = va_arg(ap, const unsigned char *);
    needle_len[k] = va_arg(ap, size_t);
  }
  va_end(ap);
}

/* Whether a wipe held needle k (and, when n > 0, was of exactly n bytes). */
static int wiped(size_t k, size_t n) {
  size_t i;
  for (i = 0; i < nrecs; i++)
    if ((recs[i].held & (1u << k)) && (n == 0 || recs[i].n == n)) return 1;
  return 0;
}

/* How many wipes were of exactly n bytes. */
static size_t wipes_of(size_t n) {
  size_t i, c = 0;
  for (i = 0; i < nrecs; i++) c += recs[i].n == n;
  return c;
}

#define S(x) (const unsigned char *)(x), (sizeof(x) - 1)

/* ------------------------------------------------------------- secrets */

static const char AK[] = "QTWAOYTTINDUT2QVKYUC";
static const char SK[] = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
static const char KEY[] = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34";
static const char LONG_SK[] =
    "LongSecretAccessKeyForTheWipeTest-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQ";

/* The HMAC's key blocks and inner digest for (SK, AK), and H(long SK). */
static unsigned char opad_block[64], ipad_block[64], inner[32], mac[32], h_long[32],
    h_long_opad[32];

static void hexbin(const char *hex, unsigned char *out, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (unsigned char)v;
  }
}

static void compute_blocks(void) {
  size_t i;
  unsigned int len = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  for (i = 0; i < 64; i++) {
    unsigned char k = i < sizeof SK - 1 ? (unsigned char)SK[i] : 0;
    ipad_block[i] = k ^ 0x36;
    opad_block[i] = k ^ 0x5c;
  }
  EVP_DigestInit_ex2(c, EVP_sha256(), NULL);
  EVP_DigestUpdate(c, ipad_block, 64);
  EVP_DigestUpdate(c, AK, sizeof AK - 1);
  EVP_DigestFinal_ex(c, inner, &len);
  EVP_DigestInit_ex2(c, EVP_sha256(), NULL);
  EVP_DigestUpdate(c, LONG_SK, sizeof LONG_SK - 1);
  EVP_DigestFinal_ex(c, h_long, &len);
  EVP_MD_CTX_free(c);
  for (i = 0; i < 32; i++) h_long_opad[i] = h_long[i] ^ 0x5c;
  hexbin(KEY, mac, 32);
}

/* ---------------------------------------------------------------- core */

static void test_core(swrauth_hmac *h) {
  char key[SWRAUTH_KEY_LEN + 1];
  swrauth_err err;
  static swrauth_formatted fo;
  static swrauth_auth au;
  static swrauth_login lg;
  static swrauth_cred_row row;
  swrauth_fields f;
  swrauth_csv csv;
  char enc[128];
  size_t elen;

  watch(4, S(KEY), mac, (size_t)32, opad_block, (size_t)64, inner, (size_t)32);
  ok(swrauth_derive(h, AK, sizeof AK - 1, SK, sizeof SK - 1, key, &err) == 0 &&
         strcmp(key, KEY) == 0,
     "derive gives the published key");
  ok(wiped(1, SWRAUTH_MAC_LEN), "derive wipes the binary MAC (derive_checked's mac)");
  ok(wiped(2, 64), "HMAC wipes its key block (K ^ opad, the last one in pad)");
  ok(wiped(3, SWRAUTH_MAC_LEN), "HMAC wipes the inner digest (inner)");
  swrauth_wipe(key, sizeof key);

  watch(1, h_long_opad, (size_t)32);
  ok(swrauth_derive(h, AK, sizeof AK - 1, LONG_SK, sizeof LONG_SK - 1, key, &err) == 0,
     "derive with an SK over one block");
  ok(wiped(0, 64), "HMAC wipes the key block of a hashed key (H(SK) ^ opad)");

  watch(1, S(KEY));
  ok(swrauth_verify(h, AK, sizeof AK - 1, SK, sizeof SK - 1,
                    "0000000000000000000000000000000000000000000000000000000000000000",
                    64, &err) == 0,
     "verify with a wrong key is 0");
  ok(wiped(0, SWRAUTH_KEY_LEN + 1), "verify wipes the expected key (want)");
  watch(1, S(KEY));
  ok(swrauth_verify(h, AK, sizeof AK - 1, SK, sizeof SK - 1, KEY, 64, &err) == 1 &&
         wiped(0, SWRAUTH_KEY_LEN + 1),
     "verify with the right key wipes the expected key too");

  {
    unsigned char d[32];
    char hex[SWRAUTH_KEY_LEN + 1];
    swrauth_sha256(h, SK, sizeof SK - 1, d, &err);
    watch(1, d, (size_t)32);
    ok(swrauth_sha256_hex(h, SK, sizeof SK - 1, hex, &err) == 0 && wiped(0, 32),
       "sha256_hex wipes the binary digest");
  }

  memset(&f, 0, sizeof f);
  f.project.ptr = "cn-north-4";
  f.project.len = 10;
  f.ak.ptr = AK;
  f.ak.len = sizeof AK - 1;
  f.key.ptr = KEY;
  f.key.len = 64;
  watch(1, S("cn-north-4@QTWAOYTTINDUT2QVKYUC:" "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34"));
  ok(swrauth_format(SWRAUTH_FMT_AUTH, &f, &fo, &err) == 0 && wiped(0, 0),
     "format auth wipes PROJECT@AK:KEY after encoding it (tmp)");
  swrauth_wipe(&fo, sizeof fo);

  swrauth_base64_encode("user-SECRETPW", 13, enc, sizeof enc, &elen);
  watch(1, S("user-SECRETPW"));
  ok(swrauth_parse_auth(enc, elen, &au, &err) == -1 && wiped(0, 0),
     "parse auth that fails once decoded wipes the decoded bytes");

  watch(1, S("SECRETPW"));
  ok(swrauth_parse_login("docker login -u u -p SECRETPW --bogus r.io", 41, &lg, &err) == -1 &&
         wiped(0, 0),
     "parse login that fails wipes the words (the password among them)");
  watch(1, S("SECRETPW"));
  ok(swrauth_parse_login("ctr i pull --user u:SECRETPW team/Image", 38, &lg, &err) == -1 &&
         wiped(0, 0),
     "parse login of ctr with a bad image wipes the words");

  {
    static const char text[] = "User Name,Access Key Id,Secret Access Key\n"
                               "u,AK1,SECRETSK1,extra\n";
    watch(1, S("SECRETSK1"));
    ok(swrauth_csv_begin(&csv, text, sizeof text - 1, &err) == 0 &&
           swrauth_csv_next(&csv, &row, &err) == -1 && wiped(0, 0) && row.sk.ptr == NULL,
       "a CSV row that fails is wiped (it held the SK)");
  }
}

/* ------------------------------------------------------------- binding */

/* Runs a chunk; 1 when it ran without error and returned true. */
static int run(lua_State *L, const char *chunk) {
  int good;
  if (luaL_dostring(L, chunk) != 0) {
    printf("# %s\n", lua_tostring(L, -1));
    lua_settop(L, 0);
    return 0;
  }
  good = lua_toboolean(L, -1);
  lua_settop(L, 0);
  return good;
}

static void test_binding(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "swrauth", luaopen_swrauth, 1);
  lua_pop(L, 1);
  lua_gc(L, LUA_GCSTOP);
  run(L, "AK, SK, KEY = 'QTWAOYTTINDUT2QVKYUC', 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc', "
         "'89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34' return true");

  watch(1, S(KEY));
  ok(run(L, "return swrauth.derive(AK, SK) == KEY") && wiped(0, SWRAUTH_KEY_LEN + 1),
     "swrauth.derive wipes its key buffer");

  watch(1, S(KEY));
  ok(run(L, "return swrauth.verify(AK, SK, KEY)") && wiped(0, SWRAUTH_KEY_LEN + 1),
     "swrauth.verify: the core wipes the expected key");

  watch(1, S(KEY));
  ok(run(L, "local c = swrauth.format('docker', {project = 'cn-north-4', ak = AK, key = KEY}) "
            "return c ~= nil") &&
         wiped(0, sizeof(swrauth_formatted)),
     "swrauth.format of a command wipes its buffer (it held the key)");
  watch(1, S("Y24tbm9ydGgtNEBRVFdBT1lUVElORFVUMlFWS1lVQzo4OWFjYTExOThh"));
  ok(run(L, "return #swrauth.format('auth', {project = 'cn-north-4', ak = AK, key = KEY}) > 0") &&
         wiped(0, sizeof(swrauth_formatted)),
     "swrauth.format of a value wipes its buffer (it held the auth value)");
  watch(0);
  ok(run(L, "return not pcall(swrauth.format, 'docker', {project = 'cn-north-4', ak = AK, "
            "key = KEY, registry = 'no host'})") &&
         wipes_of(sizeof(swrauth_formatted)) == 1,
     "swrauth.format that raises wipes its buffer first");

  watch(1, S("SECRETPW"));
  ok(run(L, "return swrauth.parse('auth', swrauth.base64('user:SECRETPW')).password == 'SECRETPW'") &&
         wiped(0, sizeof(swrauth_auth)),
     "swrauth.parse('auth') wipes the decoded value");
  watch(0);
  ok(run(L, "return not swrauth.parse('auth', swrauth.base64('no colon'))") &&
         wipes_of(sizeof(swrauth_auth)) == 1,
     "swrauth.parse('auth') that fails wipes its buffer");

  watch(1, S("SECRETPW"));
  ok(run(L, "return swrauth.parse('login', 'docker login -u u -p SECRETPW r.io').key == 'SECRETPW'") &&
         wiped(0, sizeof(swrauth_login)),
     "swrauth.parse('login') wipes the words");
  watch(0);
  ok(run(L, "return not swrauth.parse('login', 'docker login -u u -p SECRETPW --x r.io')") &&
         wipes_of(sizeof(swrauth_login)) == 1,
     "swrauth.parse('login') that fails wipes its buffer");

  watch(2, S("SECRETSK1"), S("SECRETSK2"));
  ok(run(L, "local t = swrauth.parse('credentials', 'User Name,Access Key Id,Secret Access Key\\n"
            "a,AK1,SECRETSK1\\nb,AK2,SECRETSK2\\n') return #t == 2") &&
         wiped(0, sizeof(swrauth_cred_row)) && wiped(1, sizeof(swrauth_cred_row)) &&
         wipes_of(sizeof(swrauth_cred_row)) == 3,
     "swrauth.parse('credentials') wipes each row, and the buffer at the end");

  watch(1, S("dXNlcjpTRUNSRVRQVw=="));
  ok(run(L, "return swrauth.base64('user:SECRETPW') == 'dXNlcjpTRUNSRVRQVw=='") &&
         wiped(0, 20),
     "swrauth.base64 wipes its output buffer");
  watch(1, S("user:SECRETPW"));
  ok(run(L, "return swrauth.unbase64('dXNlcjpTRUNSRVRQVw==') == 'user:SECRETPW'") &&
         wiped(0, 15),
     "swrauth.unbase64 wipes its output buffer");
  watch(0);
  ok(run(L, "return not swrauth.unbase64('dXNlcjpTRUNSRVRQVw=\\n')") && wipes_of(15) == 1,
     "swrauth.unbase64 that fails wipes its output buffer");

  /* The scratch userdata are wiped again when collected. */
  watch(0);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCCOLLECT);
  ok(wipes_of(sizeof(swrauth_formatted)) >= 3 && wipes_of(sizeof(swrauth_login)) >= 2,
     "collected scratch memory is wiped by __gc");
  lua_close(L);
}

int main(void) {
  swrauth_err err;
  swrauth_hmac *h = swrauth_hmac_new(&err);
  if (!ok(h != NULL, "swrauth_hmac_new")) return tap_done();
  compute_blocks();
  test_core(h);
  swrauth_hmac_free(h);
  test_binding();
  return tap_done();
}

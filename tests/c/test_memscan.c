/*
** test_memscan.c: no key material is left in the process's memory after
** derive, verify, hmac_sha256 and sha256 return.
**
** After each call, every readable and writable mapping of the process
** (/proc/self/maps: the heap, the stack, anonymous mappings and the
** libraries' data) is read directly and searched for what an attacker
** with a memory dump could use: the SK, the HMAC key blocks (K ^ ipad,
** K ^ opad), H(SK) (the effective HMAC key of an SK longer than a block),
** the binary MAC and the hex login key. The needles are precomputed
** constants in read-only data (checked: no scanned mapping holds them),
** and the inputs are string literals there too, so any copy found in
** writable memory was made by swrauth or by OpenSSL on its behalf.
**
** Built twice: build/test_memscan on the provider's SHA-256 functions and
** build/test_memscan_evp with -DSWRAUTH_NO_DIRECT_DIGEST (the EVP path).
** Under ASan or valgrind (which own the heap's layout and flag reads of
** freed blocks) the scans are skipped.
*/
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "swrauth.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#ifdef SWRAUTH_NO_DIRECT_DIGEST
#define BUILD_NAME "EVP digest path"
#else
#define BUILD_NAME "provider digest path"
#endif

static const char AK[] = "QTWAOYTTINDUT2QVKYUC";
/* 100 bytes: over one SHA-256 block, so HMAC hashes it first. */
static const char SK_LONG[] =
    "LongSecretAccessKeyForTheMemoryScanTest-0123456789-abcdefghijklmnopqrstuvwxyz-"
    "ABCDEFGHIJKLMNOPQRSTUV";
/* The published example pair (40 bytes: the key block is the SK). */
static const char SK_SHORT[] = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";

/* SHA-256(SK_LONG) */
static const unsigned char H_SK_LONG[32] = {
    0x59, 0x7f, 0xa9, 0x72, 0xad, 0x9c, 0x42, 0x0a, 0xe4, 0x9e, 0x36, 0x15, 0x08, 0x21, 0x50, 0xcb,
    0x08, 0x9c, 0x13, 0x3a, 0xbb, 0x8e, 0x6f, 0x2c, 0xb1, 0x5a, 0x18, 0x0d, 0x70, 0x00, 0x71, 0xfc};
/* HMAC-SHA256(SK_LONG, AK), binary and hex */
static const unsigned char MAC_LONG[32] = {
    0x88, 0xfb, 0x44, 0x2c, 0xf9, 0x7c, 0x43, 0x3d, 0x7b, 0x04, 0x0b, 0x85, 0x4e, 0x18, 0x34, 0xc6,
    0x96, 0x5a, 0xda, 0xa5, 0x7c, 0xcd, 0x89, 0x57, 0xb1, 0xda, 0xa9, 0x0e, 0x10, 0x0e, 0x65, 0x87};
static const char KEY_LONG[] = "88fb442cf97c433d7b040b854e1834c6965adaa57ccd8957b1daa90e100e6587";
/* HMAC-SHA256(SK_SHORT, AK), binary and hex */
static const unsigned char MAC_SHORT[32] = {
    0x89, 0xac, 0xa1, 0x19, 0x8a, 0x97, 0x0e, 0x43, 0x60, 0x20, 0x3d, 0x71, 0xcd, 0xaa, 0x80, 0xcf,
    0xc1, 0x3e, 0xcd, 0x55, 0xee, 0x84, 0x40, 0x97, 0x19, 0xe8, 0x81, 0x62, 0xd1, 0x39, 0xef, 0x34};
static const char KEY_SHORT[] = "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34";
/* SHA-256 of DATA, the input of the sha256 scan (not a secret, but the
** digest's state must not outlive the call either). */
static const char DATA[] = "a manifest that is longer than one block of sixty-four bytes......";
static const unsigned char H_DATA[32] = {
    0x73, 0x4e, 0xb5, 0x2f, 0x2b, 0x54, 0x58, 0x25, 0x68, 0xfc, 0xd8, 0x14, 0xa2, 0xd1, 0x23, 0xa9,
    0xb2, 0x43, 0xbd, 0xef, 0xa5, 0xbc, 0x03, 0xcf, 0x89, 0xc4, 0xf5, 0x02, 0x80, 0x06, 0x98, 0xae};

/* A byte pattern to look for: p[0..n) each XORed with mask. */
typedef struct needle {
  const char *name;
  const unsigned char *p;
  size_t n;
  unsigned char mask;
  int words; /* 1: as SHA-256 state words in host order (little-endian) */
} needle;

/* Byte j of the needle as it would lie in memory. */
static unsigned char needle_byte(const needle *nd, size_t j) {
  size_t k = nd->words ? (j & ~(size_t)3) + 3 - (j & 3) : j;
  return (unsigned char)(nd->p[k] ^ nd->mask);
}

/* ------------------------------------------------------------ mappings */

typedef struct region {
  uintptr_t start, end;
  char path[64];
} region;

static region regions[4096];
static size_t nregions;
static char maps[1 << 18];
static int under_valgrind;

/* Reads /proc/self/maps with plain read(2) (stdio would allocate) and
** keeps the readable, writable, private mappings. */
static int load_regions(void) {
  int fd = open("/proc/self/maps", O_RDONLY);
  size_t used = 0;
  ssize_t r;
  char *line, *next;
  if (fd < 0) return -1;
  while (used < sizeof maps - 1 && (r = read(fd, maps + used, sizeof maps - 1 - used)) > 0)
    used += (size_t)r;
  close(fd);
  maps[used] = '\0';
  nregions = 0;
  for (line = maps; *line != '\0' && nregions < sizeof regions / sizeof regions[0];
       line = next) {
    char *end = strchr(line, '\n'), *perm, *path;
    unsigned long a, b;
    int field;
    next = end != NULL ? end + 1 : line + strlen(line);
    if (end != NULL) *end = '\0';
    if (strstr(line, "vgpreload") != NULL) under_valgrind = 1;
    a = strtoul(line, &perm, 16);
    if (*perm != '-') continue;
    b = strtoul(perm + 1, &perm, 16);
    while (*perm == ' ') perm++;
    if (perm[0] != 'r' || perm[1] != 'w' || perm[3] != 'p') continue;
    /* skip offset, device and inode to the path */
    path = perm;
    for (field = 0; field < 4 && *path != '\0'; field++) {
      while (*path != '\0' && *path != ' ') path++;
      while (*path == ' ') path++;
    }
    if (strncmp(path, "/dev/", 5) == 0) continue;
    regions[nregions].start = (uintptr_t)a;
    regions[nregions].end = (uintptr_t)b;
    snprintf(regions[nregions].path, sizeof regions[nregions].path, "%s",
             *path != '\0' ? path : "[anon]");
    nregions++;
  }
  return 0;
}

static int in_regions(const void *p) {
  size_t i;
  for (i = 0; i < nregions; i++)
    if ((uintptr_t)p >= regions[i].start && (uintptr_t)p < regions[i].end) return 1;
  return 0;
}

/* Counts the places where a needle occurs in the scanned mappings, and
** names the first in where. The needle's bytes are compared after
** unmasking one at a time, so no unmasked copy is made here. */
static size_t scan(const needle *nd, char *where, size_t wsize) {
  size_t i, hits = 0;
  unsigned char first = needle_byte(nd, 0);
  for (i = 0; i < nregions; i++) {
    const unsigned char *p = (const unsigned char *)regions[i].start;
    const unsigned char *end = (const unsigned char *)regions[i].end;
    while (p + nd->n <= end) {
      size_t j;
      const unsigned char *q = memchr(p, first, (size_t)(end - p) - nd->n + 1);
      if (q == NULL) break;
      for (j = 1; j < nd->n; j++)
        if (q[j] != needle_byte(nd, j)) break;
      if (j == nd->n) {
        if (hits == 0)
          snprintf(where, wsize, "%s at offset 0x%lx", regions[i].path,
                   (unsigned long)((uintptr_t)q - regions[i].start));
        hits++;
      }
      p = q + 1;
    }
  }
  return hits;
}

/* Scans for every needle; one TAP line each. */
static void expect_none(const char *after, const needle *nds, size_t count) {
  size_t k;
  if (load_regions() != 0) {
    ok(0, "%s: read /proc/self/maps", after);
    return;
  }
  for (k = 0; k < count; k++) {
    char where[128] = "";
    size_t hits;
    if (in_regions(nds[k].p)) {
      ok(0, "%s: the needle %s is itself in writable memory (test bug)", after,
         nds[k].name);
      continue;
    }
    hits = scan(&nds[k], where, sizeof where);
    ok(hits == 0, "%s (%s): no %s left in writable memory", after, BUILD_NAME,
       nds[k].name);
    if (hits != 0) printf("# found %zu time(s), first in %s\n", hits, where);
  }
}

/* ----------------------------------------------------------- the calls */

/* Each call runs 64 KiB deeper in the stack than the scan that follows,
** so the scan's own frames cannot overwrite what the call left behind. */
typedef struct call {
  swrauth_hmac *h;
  const char *sk;
  size_t sklen;
  const char *key; /* for verify */
  int rc;
  char out[SWRAUTH_KEY_LEN + 1];
  unsigned char mac[SWRAUTH_MAC_LEN];
} call;

static void do_derive(call *c) {
  swrauth_err err;
  c->rc = swrauth_derive(c->h, AK, sizeof AK - 1, c->sk, c->sklen, c->out, &err);
}

static void do_verify(call *c) {
  swrauth_err err;
  c->rc = swrauth_verify(c->h, AK, sizeof AK - 1, c->sk, c->sklen, c->key,
                         SWRAUTH_KEY_LEN, &err);
}

static void do_hmac(call *c) {
  swrauth_err err;
  c->rc = swrauth_hmac_sha256(c->h, c->sk, c->sklen, AK, sizeof AK - 1, c->mac, &err);
}

static void do_sha256(call *c) {
  swrauth_err err;
  c->rc = swrauth_sha256(c->h, DATA, sizeof DATA - 1, c->mac, &err);
}

static void __attribute__((noinline)) deep(void (*fn)(call *), call *c) {
  volatile unsigned char pad[65536];
  pad[0] = 1;
  fn(c);
  pad[sizeof pad - 1] = pad[0];
}

int main(void) {
  swrauth_err err;
  swrauth_hmac *h;
  call c;
  const needle long_key[] = {
      {"SK (first 32 bytes)", (const unsigned char *)SK_LONG, 32, 0, 0},
      {"SK (last 36 bytes, the partial block)", (const unsigned char *)SK_LONG + 64, 36, 0, 0},
      {"H(SK), the effective HMAC key", H_SK_LONG, 32, 0, 0},
      {"H(SK) as digest state words", H_SK_LONG, 32, 0, 1},
      {"H(SK) ^ ipad", H_SK_LONG, 32, 0x36, 0},
      {"H(SK) ^ opad", H_SK_LONG, 32, 0x5c, 0},
      {"binary MAC", MAC_LONG, 32, 0, 0},
      {"binary MAC as digest state words", MAC_LONG, 32, 0, 1},
      {"hex login key", (const unsigned char *)KEY_LONG, 64, 0, 0},
  };
  const needle short_key[] = {
      {"SK", (const unsigned char *)SK_SHORT, 40, 0, 0},
      {"SK ^ ipad", (const unsigned char *)SK_SHORT, 40, 0x36, 0},
      {"SK ^ opad", (const unsigned char *)SK_SHORT, 40, 0x5c, 0},
      {"binary MAC", MAC_SHORT, 32, 0, 0},
      {"binary MAC as digest state words", MAC_SHORT, 32, 0, 1},
      {"hex login key", (const unsigned char *)KEY_SHORT, 64, 0, 0},
  };
  const needle data_hash[] = {{"SHA-256 of the data", H_DATA, 32, 0, 0},
                              {"SHA-256 of the data as digest state words", H_DATA, 32, 0, 1}};

  if (load_regions() != 0 || UNDER_ASAN || under_valgrind) {
    ok(1, "# SKIP memory scans need the plain build (not ASan, not valgrind)");
    return tap_done();
  }
  h = swrauth_hmac_new(&err);
  if (!ok(h != NULL, "swrauth_hmac_new")) return tap_done();
  memset(&c, 0, sizeof c);
  c.h = h;

  /* derive, SK over one block */
  c.sk = SK_LONG;
  c.sklen = sizeof SK_LONG - 1;
  deep(do_derive, &c);
  ok(c.rc == 0 && strcmp(c.out, KEY_LONG) == 0, "derive with a 100-byte SK");
  swrauth_wipe(c.out, sizeof c.out);
  expect_none("after derive with a long SK", long_key, sizeof long_key / sizeof long_key[0]);

  /* derive, the published pair */
  c.sk = SK_SHORT;
  c.sklen = sizeof SK_SHORT - 1;
  deep(do_derive, &c);
  ok(c.rc == 0 && strcmp(c.out, KEY_SHORT) == 0, "derive with the published pair");
  swrauth_wipe(c.out, sizeof c.out);
  expect_none("after derive with a 40-byte SK", short_key,
              sizeof short_key / sizeof short_key[0]);

  /* verify with a wrong key: the expected key is made and must go */
  c.key = "0000000000000000000000000000000000000000000000000000000000000000";
  c.sk = SK_LONG;
  c.sklen = sizeof SK_LONG - 1;
  deep(do_verify, &c);
  ok(c.rc == 0, "verify with a wrong key and a long SK is 0");
  expect_none("after verify with a long SK", long_key, sizeof long_key / sizeof long_key[0]);
  c.sk = SK_SHORT;
  c.sklen = sizeof SK_SHORT - 1;
  deep(do_verify, &c);
  ok(c.rc == 0, "verify with a wrong key and the published SK is 0");
  expect_none("after verify with a 40-byte SK", short_key,
              sizeof short_key / sizeof short_key[0]);

  /* hmac_sha256 itself (the caller owns and wipes the MAC) */
  c.sk = SK_LONG;
  c.sklen = sizeof SK_LONG - 1;
  deep(do_hmac, &c);
  ok(c.rc == 0 && memcmp(c.mac, MAC_LONG, 32) == 0, "hmac_sha256 with a long key");
  swrauth_wipe(c.mac, sizeof c.mac);
  expect_none("after hmac_sha256 with a long key", long_key,
              sizeof long_key / sizeof long_key[0]);

  /* sha256: the digest's state is reset too */
  deep(do_sha256, &c);
  ok(c.rc == 0 && memcmp(c.mac, H_DATA, 32) == 0, "sha256 of the data");
  swrauth_wipe(c.mac, sizeof c.mac);
  expect_none("after sha256", data_hash, 2);

  swrauth_hmac_free(h);
  return tap_done();
}

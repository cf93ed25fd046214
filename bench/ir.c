/*
** ir.c: instruction counts (callgrind) of HMAC-SHA256 in C, next to the
** floor: four SHA-256 block compressions.
**
** Each candidate is a non-inlined function bench_NAME; run under
**   valgrind --tool=callgrind --toggle-collect=bench_NAME ./ir NAME N
** the collected Ir divided by N is the cost of one call.
**
** `ir time N` instead prints the native wall time per call of each (ns,
** best of 5 runs of N calls): natively OpenSSL uses the SHA extensions
** where the CPU has them, which valgrind does not emulate.
**
** The floor: HMAC-SHA256 with a key of at most 64 bytes and a 20-byte
** message is exactly four block compressions (ipad block, message block
** with its padding, opad block, inner digest block with its padding).
** bench_floor4 runs OpenSSL's block function four times through
** SHA256_Transform (the deprecated low-level API: the same block function
** the EVP digest uses, on the same CPU path) on blocks that are already
** padded, so it counts the compressions and nothing else.
*/
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "swrauth.h"

#define NOINLINE __attribute__((noinline))

static const char AK[] = "RVHVMXEXAMPLEAK00001";                      /* 20 */
static const char SK[] = "exampleSecretAccessKey0123456789abcdefgh";  /* 40 */

static unsigned char blocks[4][64];
static SHA256_CTX sctx;
static swrauth_hmac *eng;
static char key[SWRAUTH_KEY_LEN + 1];
static volatile unsigned sink;

NOINLINE void bench_floor4(void);
NOINLINE void bench_floor4(void) {
  SHA256_Transform(&sctx, blocks[0]);
  SHA256_Transform(&sctx, blocks[1]);
  SHA256_Transform(&sctx, blocks[2]);
  SHA256_Transform(&sctx, blocks[3]);
}

NOINLINE void bench_core(void);
NOINLINE void bench_core(void) {
  swrauth_err err;
  if (swrauth_derive(eng, AK, 20, SK, 40, key, &err) != 0) abort();
}

/* OpenSSL's one-shot HMAC(), plus the same hex conversion. */
NOINLINE void bench_hmac_oneshot(void);
NOINLINE void bench_hmac_oneshot(void) {
  static const char hx[] = "0123456789abcdef";
  unsigned char mac[32];
  unsigned int len = 0, i;
  if (HMAC(EVP_sha256(), SK, 40, (const unsigned char *)AK, 20, mac, &len) == NULL)
    abort();
  for (i = 0; i < 32; i++) {
    key[2 * i] = hx[mac[i] >> 4];
    key[2 * i + 1] = hx[mac[i] & 15];
  }
  key[64] = '\0';
}

static double best_ns(void (*f)(void), long n) {
  double best = 1e300;
  int r;
  long i;
  for (r = 0; r < 5; r++) {
    struct timespec a, b;
    double ns;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < n; i++) f();
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
    if (ns < best) best = ns;
  }
  return best;
}

int main(int argc, char **argv) {
  long i, n = argc > 2 ? atol(argv[2]) : 1000;
  const char *what = argc > 1 ? argv[1] : "floor4";
  swrauth_err err;
  memset(blocks, 0x5a, sizeof blocks);
  SHA256_Init(&sctx);
  eng = swrauth_hmac_new(&err);
  if (eng == NULL) return 1;
  /* Warm up every path once outside the measured function. */
  if (swrauth_derive(eng, AK, 20, SK, 40, key, &err) != 0) return 1;
  if (strcmp(what, "floor4") == 0) {
    for (i = 0; i < n; i++) bench_floor4();
  } else if (strcmp(what, "core") == 0) {
    for (i = 0; i < n; i++) bench_core();
  } else if (strcmp(what, "hmac_oneshot") == 0) {
    for (i = 0; i < n; i++) bench_hmac_oneshot();
  } else if (strcmp(what, "time") == 0) {
    printf("floor4 %.0f\ncore %.0f\nhmac_oneshot %.0f\n", best_ns(bench_floor4, n),
           best_ns(bench_core, n), best_ns(bench_hmac_oneshot, n));
  } else if (strcmp(what, "print") == 0) {
    printf("%s\n", key);
  } else {
    fprintf(stderr, "ir: unknown '%s'\n", what);
    return 2;
  }
  sink = (unsigned)sctx.h[0];
  swrauth_hmac_free(eng);
  return 0;
}

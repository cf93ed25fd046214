/*
** asan_noinherit.c: preloaded after the ASan runtime into each lua5.4 the
** ASan suite starts (tests/asan.sh). Once the loader has read LD_PRELOAD,
** this removes it from the environment, so the processes lua starts (sh,
** openssl, the specs' fake engines) run without the ASan runtime, at their
** usual speed; every lua5.4 gets it again through the wrapper on PATH.
*/
#include <stdlib.h>

__attribute__((constructor)) static void swrauth_asan_noinherit(void) {
  unsetenv("LD_PRELOAD");
}

/*
** floor.c: the floor of any cold start that derives SWR's login key on
** OpenSSL 3 here: a process linked with libcrypto that prints one
** HMAC-SHA256 (key = SK, message = AK) as 64 lowercase hex digits, and
** nothing else. What it costs is the process, the dynamic loader mapping
** and relocating libcrypto, OpenSSL's initialisation (its default
** library context, configuration and provider, fetched on the first use)
** and four SHA-256 block compressions. bench/run.sh times `swrauth key`
** and the credential helper's `get` against it.
**
**   HUAWEICLOUD_SDK_AK=AK HUAWEICLOUD_SDK_SK=SK ./floor
**
** Exit 0 and the key on stdout; 2 when a variable is unset or the MAC
** fails. No checks of the AK or SK beyond that: a floor.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int main(void) {
  static const char hx[] = "0123456789abcdef";
  const char *ak = getenv("HUAWEICLOUD_SDK_AK");
  const char *sk = getenv("HUAWEICLOUD_SDK_SK");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;
  char out[2 * EVP_MAX_MD_SIZE + 2];
  if (ak == NULL || sk == NULL) {
    fputs("floor: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK\n", stderr);
    return 2;
  }
  if (HMAC(EVP_sha256(), sk, (int)strlen(sk), (const unsigned char *)ak, strlen(ak), mac,
           &len) == NULL) {
    fputs("floor: HMAC failed\n", stderr);
    return 2;
  }
  for (i = 0; i < len; i++) {
    out[2 * i] = hx[mac[i] >> 4];
    out[2 * i + 1] = hx[mac[i] & 15];
  }
  out[2 * len] = '\n';
  fwrite(out, 1, 2 * (size_t)len + 1, stdout);
  return 0;
}

/*
** region.c: the one table of SWR regions whose endpoints are not on
** myhuaweicloud.com, and the hosts made from it: the registry
** (swr.REGION.DOMAIN), the SWR API (swr-api.REGION.DOMAIN), and the
** reverse, a registry host back to its region.
**
** The table lists exceptions only: a region not in it is on
** myhuaweicloud.com, so a new region works before anyone edits this file.
*/
#include <string.h>

#include "internal.h"

static const char default_domain[] = "myhuaweicloud.com";

static const struct {
  const char *region, *domain;
} other_domains[] = {
  {"eu-west-101", "myhuaweicloud.eu"}, /* Dublin, Huawei Cloud Europe */
};

#define NOTHER (sizeof other_domains / sizeof other_domains[0])

const char *swrauth_region_domain(const char *region, size_t len) {
  size_t i;
  for (i = 0; i < NOTHER; i++)
    if (strlen(other_domains[i].region) == len &&
        memcmp(other_domains[i].region, region, len) == 0)
      return other_domains[i].domain;
  return default_domain;
}

/* PREFIX.REGION.DOMAIN for a project (checked), NUL-terminated into out. */
static int host_for(const char *prefix, const char *project, size_t len, char *out,
                    size_t outsize, swrauth_err *err) {
  const char *us, *domain;
  size_t rlen, plen = strlen(prefix), dlen;
  if (swrauth__check_project(project, len, 0, err) != 0)
    return swrauth__prefix(err, "project ");
  us = (const char *)memchr(project, '_', len);
  rlen = us != NULL ? (size_t)(us - project) : len;
  domain = swrauth_region_domain(project, rlen);
  dlen = strlen(domain);
  if (plen + 1 + rlen + 1 + dlen >= outsize)
    return swrauth__fail(err, "host name does not fit (%zu bytes, room for %zu)",
                         plen + rlen + dlen + 2, outsize > 0 ? outsize - 1 : 0);
  memcpy(out, prefix, plen);
  out[plen] = '.';
  memcpy(out + plen + 1, project, rlen);
  out[plen + 1 + rlen] = '.';
  memcpy(out + plen + rlen + 2, domain, dlen + 1);
  return 0;
}

int swrauth_registry_for(const char *project, size_t len, char *out, size_t outsize,
                         swrauth_err *err) {
  return host_for("swr", project, len, out, outsize, err);
}

int swrauth_api_for(const char *project, size_t len, char *out, size_t outsize,
                    swrauth_err *err) {
  return host_for("swr-api", project, len, out, outsize, err);
}

/* swr.REGION.DOMAIN with DOMAIN the region's own (the table's, or
** myhuaweicloud.com), all lowercase; nothing else (no port, no path). */
int swrauth_parse_registry(const char *s, size_t n, swrauth_registry *out,
                           swrauth_err *err) {
  const char *dot, *domain;
  size_t rlen, i, dlen;
  int known = 0;
  memset(out, 0, sizeof *out);
  if (n == 0) return swrauth__fail(err, "registry host is empty");
  if (n < 5 || memcmp(s, "swr.", 4) != 0) goto not_swr;
  dot = (const char *)memchr(s + 4, '.', n - 4);
  if (dot == NULL) goto not_swr;
  rlen = (size_t)(dot - (s + 4));
  dlen = n - 4 - rlen - 1;
  if (dlen == sizeof default_domain - 1 && memcmp(dot + 1, default_domain, dlen) == 0)
    known = 1;
  for (i = 0; i < NOTHER && !known; i++)
    if (strlen(other_domains[i].domain) == dlen &&
        memcmp(other_domains[i].domain, dot + 1, dlen) == 0)
      known = 1;
  if (!known) goto not_swr;
  if (rlen == 0 || !((s[4] >= 'a' && s[4] <= 'z') || (s[4] >= 'A' && s[4] <= 'Z')))
    return swrauth__fail(err, "registry host has no region after 'swr.' (a region "
                         "starts with a lowercase letter)");
  if (swrauth__check_region(s + 4, rlen, 4, err) != 0)
    return swrauth__prefix(err, "registry host ");
  domain = swrauth_region_domain(s + 4, rlen);
  if (strlen(domain) != dlen || memcmp(domain, dot + 1, dlen) != 0)
    return swrauth__fail(err, "registry host is not the SWR registry host of region "
                         "%.*s (swr.%.*s.%s)", (int)rlen, s + 4, (int)rlen, s + 4,
                         domain);
  out->region.ptr = s + 4;
  out->region.len = rlen;
  out->host.ptr = s;
  out->host.len = n;
  return 0;
not_swr:
  return swrauth__fail(err, "registry host is not an SWR registry host "
                       "(swr.REGION.%s)", default_domain);
}

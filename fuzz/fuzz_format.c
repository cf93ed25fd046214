/*
** fuzz_format: swrauth_format for every kind.
**
** Input: byte 0 selects the kind (mod SWRAUTH_FMT_COUNT, plus one
** out-of-range value), byte 1 says which of the five fields are present
** (bit i: project, ak, key, registry, image), and the rest is split at
** NUL bytes into the fields in that order.
**
** Properties beyond "no crash":
**  - success exactly when the required fields are present and valid;
**    a missing required field is named in the message;
**  - every slice of the result lies in out->buf; argc <= SWRAUTH_ARGV_MAX;
**  - round trips: a command parses back with swrauth_parse_login to the
**    same engine, action, user (PROJECT@AK), project, ak, key, registry
**    (the given one or the region's), image and password_stdin; "user"
**    parses back with swrauth_parse_user; "auth" with swrauth_parse_auth
**    (user PROJECT@AK, password KEY) and equals OpenSSL's EVP_EncodeBlock;
**    "registry" is swr.REGION.DOMAIN (the region's domain) and a valid
**    registry that parse("registry") reads back to the region, "api"
**    swr-api.REGION.DOMAIN, and the registry of every login command
**    (given or defaulted) is valid; ctr's parsed registry is its image's
**    domain;
**  - the text of a command is the argv words shell-quoted and joined by
**    single spaces;
**  - the key is a secret: success or failure, and the message, do not
**    depend on its content (the same call with the key's letters and
**    digits changed gives the same result and the same message).
*/
#include <openssl/evp.h>

#include "fuzz_common.h"

static swrauth_formatted fo, fo2;
static swrauth_login lo;

static const char *const progs[] = {"docker", "docker", "ctr",     "ctr",
                                    "podman", "buildah", "skopeo", "nerdctl",
                                    "helm"};

static void check_command(swrauth_kind kind, const swrauth_fields *f) {
  swrauth_err err;
  fuzz_buf joined = {0}, user = {0};
  char regbuf[256];
  swrauth_slice reg;
  size_t i;
  int is_ctr = kind == SWRAUTH_FMT_CTR_PULL || kind == SWRAUTH_FMT_CTR_PUSH;

  FUZZ_CHECK(fo.argc >= 6 && fo.argc <= SWRAUTH_ARGV_MAX, "argc %zu", fo.argc);
  FUZZ_CHECK(fuzz_inside(fo.text, fo.buf, sizeof fo.buf), "text not in buf");
  for (i = 0; i < fo.argc; i++) {
    FUZZ_CHECK(fuzz_inside(fo.argv[i], fo.buf, sizeof fo.buf), "argv[%zu] not in buf", i);
    if (i > 0) fuzz_puts(&joined, " ");
    fuzz_put_quoted(&joined, fo.argv[i].ptr, fo.argv[i].len);
  }
  FUZZ_CHECK(fuzz_eq(fo.text, joined.p, joined.n), "text is not the quoted argv");
  FUZZ_CHECK(fuzz_eq(fo.argv[0], progs[kind], strlen(progs[kind])), "argv[0] wrong");

  fuzz_put_slice(&user, f->project);
  fuzz_puts(&user, "@");
  fuzz_put_slice(&user, f->ak);

  if (f->registry.ptr != NULL && !is_ctr) {
    reg = f->registry;
  } else {
    FUZZ_CHECK(swrauth_registry_for(f->project.ptr, f->project.len, regbuf,
                                    sizeof regbuf, &err) == 0,
               "registry_for failed after format succeeded");
    reg.ptr = regbuf;
    reg.len = strlen(regbuf);
  }
  if (!is_ctr) {
    /* The registry in the command (given or the region's) is one format
    ** takes as a registry. */
    swrauth_fields g;
    memset(&g, 0, sizeof g);
    g.project = f->project;
    g.ak = f->ak;
    g.registry = reg;
    FUZZ_CHECK(swrauth_format(SWRAUTH_FMT_DOCKER_STDIN, &g, &fo2, &err) == 0,
               "the command's registry is refused as a registry: %s", err.msg);
  }

  {
    char *copy = fuzz_dup(fo.text.ptr, fo.text.len);
    fuzz_err_reset(&err);
    FUZZ_CHECK(swrauth_parse_login(copy, fo.text.len, &lo, &err) == 0,
               "formatted command does not parse: %s", err.msg);
    FUZZ_CHECK(fuzz_eq(lo.engine, progs[kind], strlen(progs[kind])), "engine differs");
    FUZZ_CHECK(fuzz_eq(lo.user, user.p, user.n), "user differs");
    FUZZ_CHECK(fuzz_slice_eq(lo.project, f->project), "project differs");
    FUZZ_CHECK(fuzz_slice_eq(lo.ak, f->ak), "ak differs");
    if (is_ctr) {
      FUZZ_CHECK(fuzz_eq(lo.action, kind == SWRAUTH_FMT_CTR_PULL ? "pull" : "push", 4),
                 "action differs");
      FUZZ_CHECK(fuzz_slice_eq(lo.key, f->key), "key differs");
      FUZZ_CHECK(fuzz_slice_eq(lo.image, f->image), "image differs");
      FUZZ_CHECK(!lo.password_stdin, "ctr fields");
      {
        swrauth_image im;
        FUZZ_CHECK(swrauth_parse_image(f->image.ptr, f->image.len, &im, &err) == 0 &&
                       fuzz_slice_eq(lo.registry, im.domain),
                   "ctr's registry is not the image's domain");
      }
    } else {
      FUZZ_CHECK(fuzz_eq(lo.action, "login", 5), "action differs");
      FUZZ_CHECK(fuzz_slice_eq(lo.registry, reg), "registry differs");
      if (kind == SWRAUTH_FMT_DOCKER)
        FUZZ_CHECK(fuzz_slice_eq(lo.key, f->key) && !lo.password_stdin, "key differs");
      else
        FUZZ_CHECK(lo.key.ptr == NULL && lo.password_stdin, "not --password-stdin");
      FUZZ_CHECK(lo.image.ptr == NULL, "image set");
    }
    free(copy);
  }
  fuzz_free(&joined);
  fuzz_free(&user);
}

static void check_value(swrauth_kind kind, const swrauth_fields *f) {
  swrauth_err err;
  FUZZ_CHECK(fo.argc == 0, "value kind with argv");
  FUZZ_CHECK(fuzz_inside(fo.text, fo.buf, sizeof fo.buf), "text not in buf");
  if (kind == SWRAUTH_FMT_USER) {
    swrauth_user u;
    char *copy = fuzz_dup(fo.text.ptr, fo.text.len);
    FUZZ_CHECK(swrauth_parse_user(copy, fo.text.len, &u, &err) == 0,
               "formatted user does not parse: %s", err.msg);
    FUZZ_CHECK(fuzz_slice_eq(u.project, f->project) && fuzz_slice_eq(u.ak, f->ak),
               "user round trip differs");
    free(copy);
  } else if (kind == SWRAUTH_FMT_AUTH) {
    swrauth_auth a;
    fuzz_buf plain = {0};
    unsigned char *ossl;
    char *copy = fuzz_dup(fo.text.ptr, fo.text.len);
    fuzz_put_slice(&plain, f->project);
    fuzz_puts(&plain, "@");
    fuzz_put_slice(&plain, f->ak);
    fuzz_puts(&plain, ":");
    fuzz_put_slice(&plain, f->key);
    ossl = malloc(4 * (plain.n / 3 + 1) + 1);
    if (ossl == NULL) abort();
    FUZZ_CHECK(EVP_EncodeBlock(ossl, (const unsigned char *)plain.p, (int)plain.n) ==
                       (int)fo.text.len &&
                   memcmp(ossl, fo.text.ptr, fo.text.len) == 0,
               "auth differs from EVP_EncodeBlock");
    if (plain.n <= sizeof a.buf) {
      FUZZ_CHECK(swrauth_parse_auth(copy, fo.text.len, &a, &err) == 0,
                 "formatted auth does not parse: %s", err.msg);
      FUZZ_CHECK(a.user.len == f->project.len + 1 + f->ak.len &&
                     memcmp(a.user.ptr, plain.p, a.user.len) == 0 &&
                     fuzz_slice_eq(a.password, f->key),
                 "auth round trip differs");
    }
    free(ossl);
    free(copy);
    fuzz_free(&plain);
  } else if (kind == SWRAUTH_FMT_REGISTRY || kind == SWRAUTH_FMT_API) {
    const char *us = memchr(f->project.ptr, '_', f->project.len);
    size_t rlen = us ? (size_t)(us - f->project.ptr) : f->project.len;
    const char *pre = kind == SWRAUTH_FMT_API ? "swr-api." : "swr.";
    const char *dom = swrauth_region_domain(f->project.ptr, rlen);
    size_t plen = strlen(pre), dlen = strlen(dom);
    swrauth_fields g;
    FUZZ_CHECK(fo.text.len == plen + rlen + 1 + dlen && memcmp(fo.text.ptr, pre, plen) == 0 &&
                   memcmp(fo.text.ptr + plen, f->project.ptr, rlen) == 0 &&
                   fo.text.ptr[plen + rlen] == '.' &&
                   memcmp(fo.text.ptr + plen + rlen + 1, dom, dlen) == 0,
               "%s value wrong", swrauth_kind_name(kind));
    if (kind == SWRAUTH_FMT_REGISTRY) {
      swrauth_registry r;
      char *copy = fuzz_dup(fo.text.ptr, fo.text.len);
      FUZZ_CHECK(swrauth_parse_registry(copy, fo.text.len, &r, &err) == 0 &&
                     r.region.len == rlen && memcmp(r.region.ptr, f->project.ptr, rlen) == 0,
                 "the region's registry does not parse back to it: %s", err.msg);
      free(copy);
    }
    /* It is a registry format() takes. */
    memset(&g, 0, sizeof g);
    g.project = f->project;
    g.ak.ptr = "AK";
    g.ak.len = 2;
    g.registry = fo.text;
    FUZZ_CHECK(swrauth_format(SWRAUTH_FMT_DOCKER_STDIN, &g, &fo2, &err) == 0,
               "the region's registry is refused as a registry: %s", err.msg);
  }
}

/* The key is a secret: whether format fails and what the message says
** may not depend on its content. The same call with the key's letters and
** digits changed (which keeps its length, its validity and how it is
** quoted) must give the same result and the same message. */
static void check_key_independent(swrauth_kind kind, const swrauth_fields *f, int rc,
                                  const swrauth_err *err) {
  swrauth_fields g = *f;
  swrauth_err err2;
  char *k2;
  size_t i;
  int rc2;
  if (f->key.ptr == NULL) return;
  k2 = fuzz_dup(f->key.ptr, f->key.len);
  for (i = 0; i < f->key.len; i++) {
    char c = k2[i];
    if (c >= 'a' && c <= 'z') k2[i] = (char)('a' + (c - 'a' + 7) % 26);
    else if (c >= 'A' && c <= 'Z') k2[i] = (char)('A' + (c - 'A' + 7) % 26);
    else if (c >= '0' && c <= '9') k2[i] = (char)('0' + (c - '0' + 3) % 10);
  }
  g.key.ptr = k2;
  fuzz_err_reset(&err2);
  rc2 = swrauth_format(kind, &g, &fo2, &err2);
  FUZZ_CHECK(rc2 == rc, "the key's content decides whether format fails");
  if (rc != 0)
    FUZZ_CHECK(strcmp(err->msg, err2.msg) == 0,
               "an error message depends on the key's content: \"%s\" vs \"%s\"",
               err->msg, err2.msg);
  free(k2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const names[5] = {"project", "ak", "key", "registry", "image"};
  swrauth_fields f;
  swrauth_slice *slots[5];
  swrauth_err err;
  const char *p, *end;
  unsigned mask, req, i;
  int kind, rc;
  char *copies[5] = {0};

  if (size < 2 || size > 4 * SWRAUTH_FORMAT_MAX) return -1;
  kind = data[0] % (SWRAUTH_FMT_COUNT + 1); /* COUNT itself: out of range */
  mask = data[1];
  memset(&f, 0, sizeof f);
  slots[0] = &f.project;
  slots[1] = &f.ak;
  slots[2] = &f.key;
  slots[3] = &f.registry;
  slots[4] = &f.image;
  p = (const char *)data + 2;
  end = (const char *)data + size;
  for (i = 0; i < 5; i++) {
    const char *z = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
    size_t n = z ? (size_t)(z - p) : (size_t)(end - p);
    if (mask & (1u << i)) {
      copies[i] = fuzz_dup(p, n); /* exact size: reads past it are seen */
      slots[i]->ptr = copies[i];
      slots[i]->len = n;
    }
    p = z ? z + 1 : end;
  }

  fuzz_err_reset(&err);
  memset(&fo, 0xa5, sizeof fo.text + sizeof fo.argc + sizeof fo.argv);
  rc = swrauth_format((swrauth_kind)kind, &f, &fo, &err);
  if (kind == SWRAUTH_FMT_COUNT) {
    FUZZ_CHECK(rc == -1, "an unknown kind was formatted");
    fuzz_check_msg(&err);
    goto done;
  }
  check_key_independent((swrauth_kind)kind, &f, rc, &err);
  req = swrauth_kind_required((swrauth_kind)kind);
  FUZZ_CHECK((req & ~swrauth_kind_used((swrauth_kind)kind)) == 0, "required not used");
  if (rc != 0) {
    FUZZ_CHECK(rc == -1, "format returned %d", rc);
    fuzz_check_msg(&err);
    for (i = 0; i < 5; i++)
      if ((req & (1u << i)) && slots[i]->ptr == NULL) {
        FUZZ_CHECK(strstr(err.msg, names[i]) != NULL,
                   "missing field '%s' not named: %s", names[i], err.msg);
        break;
      }
    goto done;
  }
  for (i = 0; i < 5; i++)
    FUZZ_CHECK(!(req & (1u << i)) || slots[i]->ptr != NULL,
               "formatted without required field '%s'", names[i]);
  if (fo.argc > 0)
    check_command((swrauth_kind)kind, &f);
  else
    check_value((swrauth_kind)kind, &f);
done:
  for (i = 0; i < 5; i++) free(copies[i]);
  return 0;
}

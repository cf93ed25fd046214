/*
** format.c: command lines and values built from project, AK, key,
** registry and image: the vendor's docker and ctr commands, each engine's
** --password-stdin login, the PROJECT@AK user, config.json's "auth", and
** the region's registry and API hosts.
*/
#include <string.h>

#include "internal.h"

typedef struct kind_info {
  const char *name;
  unsigned required, used;
} kind_info;

#define P SWRAUTH_F_PROJECT
#define A SWRAUTH_F_AK
#define K SWRAUTH_F_KEY
#define R SWRAUTH_F_REGISTRY
#define I SWRAUTH_F_IMAGE

static const kind_info kinds[SWRAUTH_FMT_COUNT] = {
  {"docker", P | A | K, P | A | K | R},
  {"docker-stdin", P | A, P | A | R},
  {"ctr-pull", P | A | K | I, P | A | K | I},
  {"ctr-push", P | A | K | I, P | A | K | I},
  {"podman", P | A, P | A | R},
  {"buildah", P | A, P | A | R},
  {"skopeo", P | A, P | A | R},
  {"nerdctl", P | A, P | A | R},
  {"helm", P | A, P | A | R},
  {"user", P | A, P | A},
  {"auth", P | A | K, P | A | K},
  {"registry", P, P},
  {"api", P, P},
};

#undef P
#undef A
#undef K
#undef R
#undef I

const char *swrauth_kind_name(swrauth_kind kind) {
  return (unsigned)kind < SWRAUTH_FMT_COUNT ? kinds[kind].name : NULL;
}

int swrauth_kind_from_name(const char *name, size_t len) {
  int i;
  for (i = 0; i < SWRAUTH_FMT_COUNT; i++)
    if (strlen(kinds[i].name) == len && memcmp(kinds[i].name, name, len) == 0)
      return i;
  return -1;
}

unsigned swrauth_kind_required(swrauth_kind kind) {
  return (unsigned)kind < SWRAUTH_FMT_COUNT ? kinds[kind].required : 0;
}

unsigned swrauth_kind_used(swrauth_kind kind) {
  return (unsigned)kind < SWRAUTH_FMT_COUNT ? kinds[kind].used : 0;
}

/* Characters a POSIX shell takes literally in an unquoted word. */
static int shell_safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && strchr("@%+=:,./_-", c) != NULL);
}

int swrauth_shell_quote(const char *s, size_t n, char *out, size_t outsize,
                        size_t *pos) {
  size_t i, need = 0, p = *pos;
  int quote = n == 0;
  for (i = 0; i < n; i++) {
    if (!shell_safe((unsigned char)s[i])) quote = 1;
    need += s[i] == '\'' ? 4 : 1; /* ' becomes '\'' */
  }
  if (quote) need += 2;
  if (need > outsize - p) return -1;
  if (!quote) {
    memcpy(out + p, s, n);
    *pos = p + n;
    return 0;
  }
  out[p++] = '\'';
  for (i = 0; i < n; i++) {
    if (s[i] == '\'') {
      memcpy(out + p, "'\\''", 4);
      p += 4;
    } else {
      out[p++] = s[i];
    }
  }
  out[p++] = '\'';
  *pos = p;
  return 0;
}

/* Each field's grammar is the shared one (names.c); its predicate gets the
** field's name in front: "field 'project' has a space at byte 3: ...". */
static int check_project(swrauth_slice p, swrauth_err *err) {
  if (swrauth__check_project(p.ptr, p.len, 0, err) == 0) return 0;
  return swrauth__prefix(err, "field 'project' ");
}

static int check_ak(swrauth_slice ak, swrauth_err *err) {
  if (swrauth__check_ak(ak.ptr, ak.len, 0, err) == 0) return 0;
  return swrauth__prefix(err, "field 'ak' ");
}

static int check_registry(swrauth_slice r, swrauth_err *err) {
  if (swrauth__check_registry(r.ptr, r.len, err) == 0) return 0;
  return swrauth__prefix(err, "field 'registry' ");
}

static int check_key(swrauth_slice k, swrauth_err *err) {
  return swrauth_check_cred("field 'key'", k.ptr, k.len, err);
}

static int check_image(swrauth_slice im, swrauth_err *err) {
  swrauth_image img;
  swrauth_err e;
  if (swrauth_parse_image(im.ptr, im.len, &img, &e) != 0)
    return swrauth__fail(err, "field 'image': %s", e.msg);
  return 0;
}

/* Builder for the output: text first, then each argv word. */
typedef struct builder {
  swrauth_formatted *out;
  size_t pos;
  const char *words[SWRAUTH_ARGV_MAX];
  size_t lens[SWRAUTH_ARGV_MAX];
  size_t n;
} builder;

static void word(builder *b, const char *s, size_t n) {
  b->words[b->n] = s;
  b->lens[b->n] = n;
  b->n++;
}

static void cword(builder *b, const char *s) { word(b, s, strlen(s)); }

/* Writes PROJECT@AK (and :KEY when with_key) at the builder's position. */
static int put_user(builder *b, const swrauth_fields *f, int with_key,
                    swrauth_slice *res) {
  size_t need = f->project.len + 1 + f->ak.len + (with_key ? 1 + f->key.len : 0);
  char *p = b->out->buf + b->pos;
  if (need > sizeof b->out->buf - b->pos) return -1;
  memcpy(p, f->project.ptr, f->project.len);
  p[f->project.len] = '@';
  memcpy(p + f->project.len + 1, f->ak.ptr, f->ak.len);
  if (with_key) {
    p[f->project.len + 1 + f->ak.len] = ':';
    memcpy(p + f->project.len + 2 + f->ak.len, f->key.ptr, f->key.len);
  }
  res->ptr = p;
  res->len = need;
  b->pos += need;
  return 0;
}

/* Lays out text (quoted words joined by spaces) and argv (the words). */
static int finish(builder *b, swrauth_err *err) {
  swrauth_formatted *o = b->out;
  size_t i, start = b->pos;
  for (i = 0; i < b->n; i++) {
    if (i > 0) {
      if (b->pos >= sizeof o->buf) goto full;
      o->buf[b->pos++] = ' ';
    }
    if (swrauth_shell_quote(b->words[i], b->lens[i], o->buf, sizeof o->buf,
                            &b->pos) != 0)
      goto full;
  }
  o->text.ptr = o->buf + start;
  o->text.len = b->pos - start;
  for (i = 0; i < b->n; i++) {
    if (b->lens[i] > sizeof o->buf - b->pos) goto full;
    memcpy(o->buf + b->pos, b->words[i], b->lens[i]);
    o->argv[i].ptr = o->buf + b->pos;
    o->argv[i].len = b->lens[i];
    b->pos += b->lens[i];
  }
  o->argc = b->n;
  return 0;
full:
  return swrauth__fail(err, "formatted command is too long (at most %d bytes)",
                       SWRAUTH_FORMAT_MAX);
}

int swrauth_format(swrauth_kind kind, const swrauth_fields *f,
                   swrauth_formatted *out, swrauth_err *err) {
  static const char *const field_names[] = {"project", "ak", "key", "registry",
                                            "image"};
  const swrauth_slice *vals[5];
  unsigned req, i;
  builder b;
  swrauth_slice user, reg;
  char regbuf[160];

  if ((unsigned)kind >= SWRAUTH_FMT_COUNT)
    return swrauth__fail(err, "unknown format kind");
  vals[0] = &f->project;
  vals[1] = &f->ak;
  vals[2] = &f->key;
  vals[3] = &f->registry;
  vals[4] = &f->image;
  req = kinds[kind].required;
  for (i = 0; i < 5; i++)
    if ((req & (1u << i)) && vals[i]->ptr == NULL)
      return swrauth__fail(err, "missing field '%s' for kind '%s'", field_names[i],
                           kinds[kind].name);
  if (check_project(f->project, err) != 0) return -1;
  if ((req & SWRAUTH_F_AK) && check_ak(f->ak, err) != 0) return -1;
  if ((req & SWRAUTH_F_KEY) && check_key(f->key, err) != 0) return -1;
  if ((kinds[kind].used & SWRAUTH_F_REGISTRY) && f->registry.ptr != NULL &&
      check_registry(f->registry, err) != 0)
    return -1;
  if ((req & SWRAUTH_F_IMAGE) && check_image(f->image, err) != 0) return -1;

  memset(&b, 0, sizeof b);
  b.out = out;
  out->argc = 0;
  reg = f->registry;
  if ((kinds[kind].used & SWRAUTH_F_REGISTRY) && reg.ptr == NULL) {
    if (swrauth_registry_for(f->project.ptr, f->project.len, regbuf,
                             sizeof regbuf, err) != 0)
      return -1;
    reg.ptr = regbuf;
    reg.len = strlen(regbuf);
  }

  switch (kind) {
    case SWRAUTH_FMT_USER:
    case SWRAUTH_FMT_AUTH: {
      char tmp[3 * SWRAUTH_CRED_MAX + 512];
      builder t = b;
      size_t n;
      int rc;
      if (kind == SWRAUTH_FMT_USER) {
        if (put_user(&b, f, 0, &out->text) != 0) goto toolong;
        return 0;
      }
      /* auth: base64 of PROJECT@AK:KEY, built in tmp first. */
      t.out = out;
      if (put_user(&t, f, 1, &user) != 0) goto toolong;
      if (user.len > sizeof tmp) goto toolong;
      memcpy(tmp, user.ptr, user.len);
      n = user.len;
      rc = swrauth_base64_encode(tmp, n, out->buf, sizeof out->buf, &out->text.len);
      swrauth_wipe(tmp, sizeof tmp);
      if (rc != 0) goto toolong;
      out->text.ptr = out->buf;
      return 0;
    }
    case SWRAUTH_FMT_REGISTRY:
    case SWRAUTH_FMT_API:
      if ((kind == SWRAUTH_FMT_API ? swrauth_api_for : swrauth_registry_for)(
              f->project.ptr, f->project.len, out->buf, sizeof out->buf, err) != 0)
        return -1;
      out->text.ptr = out->buf;
      out->text.len = strlen(out->buf);
      return 0;
    case SWRAUTH_FMT_CTR_PULL:
    case SWRAUTH_FMT_CTR_PUSH:
      if (put_user(&b, f, 1, &user) != 0) goto toolong;
      cword(&b, "ctr");
      cword(&b, "image");
      cword(&b, kind == SWRAUTH_FMT_CTR_PULL ? "pull" : "push");
      cword(&b, "--user");
      word(&b, user.ptr, user.len);
      word(&b, f->image.ptr, f->image.len);
      break;
    default: {
      static const char *const prog[] = {
        "docker", "docker", NULL, NULL, "podman", "buildah", "skopeo", "nerdctl",
        "helm"};
      if (put_user(&b, f, 0, &user) != 0) goto toolong;
      cword(&b, prog[kind]);
      if (kind == SWRAUTH_FMT_HELM) cword(&b, "registry");
      cword(&b, "login");
      cword(&b, "-u");
      word(&b, user.ptr, user.len);
      if (kind == SWRAUTH_FMT_DOCKER) {
        cword(&b, "-p");
        word(&b, f->key.ptr, f->key.len);
      } else {
        cword(&b, "--password-stdin");
      }
      word(&b, reg.ptr, reg.len);
      break;
    }
  }
  return finish(&b, err);
toolong:
  return swrauth__fail(err, "formatted value is too long (at most %d bytes)",
                       SWRAUTH_FORMAT_MAX);
}

/*
** login.c: a pasted login command, such as the vendor's
**
**   docker login -u cn-north-4@AK -p KEY swr.cn-north-4.myhuaweicloud.com
**   ctr image pull --user cn-north-4@AK:KEY swr.cn-north-4.myhuaweicloud.com/ns/app:1
**
** or what swrauth_format prints (values single-quoted when needed).
**
** The text is split into words as a POSIX shell would (single quotes,
** double quotes with \" \\ \$ \` and backslash-newline, backslash outside
** quotes, backslash-newline continuations, '#' comments), but nothing is
** ever expanded or run: a pipe, list, redirection, subshell, command
** substitution or variable outside single quotes is refused, since what
** the shell would have done with it cannot be known here. One command
** only: blank and comment lines may come before it, but after its first
** word a line break outside quotes may only be followed by blank text.
**
** Then the words are read as the engine's own option parser would:
**  - docker, podman, buildah, skopeo, nerdctl, helm (spf13/pflag):
**    "-u X", "-uX", "-u=X", "--username X", "--username=X"; options and
**    the registry may come in any order; "--" ends the options.
**  - ctr (urfave/cli over Go's flag package): "-user X", "--user X",
**    "--user=X", "-u X"; options stop at the first argument, as in ctr.
** Only options listed in the tables below are known; any other is an
** error that names it (never its value). A leading "sudo" and a path on
** the program ("/usr/bin/docker") are accepted.
**
** Word numbers and byte positions in messages count from 1. Passwords
** and keys are never copied into a message.
*/
#include <string.h>

#include "internal.h"

/* Engines, as bits for the option tables. */
enum {
  E_DOCKER = 1,
  E_PODMAN = 2,
  E_BUILDAH = 4,
  E_SKOPEO = 8,
  E_NERDCTL = 16,
  E_HELM = 32,
  E_CTR = 64
};
#define E_CONTAINERS (E_PODMAN | E_BUILDAH | E_SKOPEO)
#define E_LOGIN (E_DOCKER | E_CONTAINERS | E_NERDCTL | E_HELM)

static const struct {
  const char *name;
  unsigned bit;
} engines[] = {
  {"docker", E_DOCKER}, {"podman", E_PODMAN}, {"buildah", E_BUILDAH},
  {"skopeo", E_SKOPEO}, {"nerdctl", E_NERDCTL}, {"helm", E_HELM},
  {"ctr", E_CTR}};

/* What an option does: a flag takes no value (a "=value" is allowed, as
** for pflag and Go booleans); a value option takes the next word or
** "=value"; user, password and password-stdin are recorded. */
enum { O_FLAG, O_VALUE, O_USER, O_PASS, O_STDIN };

typedef struct optdef {
  char sh;          /* one-letter name, or 0 */
  const char *lng;  /* long name; NULL ends a table */
  unsigned char kind;
  unsigned engines; /* engines that know it */
} optdef;

#define F O_FLAG
#define V O_VALUE

/* Options of the program itself, before (and, for pflag engines, after)
** the subcommand. */
static const optdef global_opts[] = {
  {0, "debug", F, E_BUILDAH | E_SKOPEO | E_NERDCTL | E_HELM | E_CTR},
  {'D', "debug", F, E_DOCKER},
  {0, "config", V, E_DOCKER},
  {'c', "context", V, E_DOCKER},
  {'H', "host", V, E_DOCKER | E_NERDCTL},
  {'l', "log-level", V, E_DOCKER},
  {0, "log-level", V, E_PODMAN | E_BUILDAH},
  {0, "tls", F, E_DOCKER},
  {0, "tlsverify", F, E_DOCKER},
  {0, "tlscacert", V, E_DOCKER},
  {0, "tlscert", V, E_DOCKER},
  {0, "tlskey", V, E_DOCKER},
  {0, "root", V, E_PODMAN | E_BUILDAH},
  {0, "runroot", V, E_PODMAN | E_BUILDAH},
  {0, "storage-driver", V, E_PODMAN | E_BUILDAH | E_NERDCTL},
  {0, "storage-opt", V, E_PODMAN | E_BUILDAH},
  {0, "cgroup-manager", V, E_PODMAN | E_BUILDAH | E_NERDCTL},
  {0, "tmpdir", V, E_PODMAN | E_SKOPEO},
  {0, "registries-conf", V, E_BUILDAH | E_SKOPEO},
  {'r', "remote", F, E_PODMAN},
  {0, "url", V, E_PODMAN},
  {'c', "connection", V, E_PODMAN},
  {0, "identity", V, E_PODMAN},
  {0, "syslog", F, E_PODMAN},
  {0, "events-backend", V, E_PODMAN},
  {0, "runtime", V, E_PODMAN},
  {0, "short-name-alias-conf", V, E_BUILDAH},
  {0, "insecure-policy", F, E_SKOPEO},
  {0, "policy", V, E_SKOPEO},
  {0, "registries.d", V, E_SKOPEO},
  {0, "override-arch", V, E_SKOPEO},
  {0, "override-os", V, E_SKOPEO},
  {0, "override-variant", V, E_SKOPEO},
  {0, "command-timeout", V, E_SKOPEO},
  {'a', "address", V, E_NERDCTL | E_CTR},
  {'n', "namespace", V, E_NERDCTL | E_HELM | E_CTR},
  {0, "debug-full", F, E_NERDCTL},
  {0, "snapshotter", V, E_NERDCTL},
  {0, "cni-path", V, E_NERDCTL},
  {0, "cni-netconfpath", V, E_NERDCTL},
  {0, "data-root", V, E_NERDCTL},
  {0, "insecure-registry", F, E_NERDCTL},
  {0, "hosts-dir", V, E_NERDCTL},
  {0, "experimental", F, E_NERDCTL},
  {0, "host-gateway-ip", V, E_NERDCTL},
  {0, "kube-context", V, E_HELM},
  {0, "kubeconfig", V, E_HELM},
  {0, "registry-config", V, E_HELM},
  {0, "repository-cache", V, E_HELM},
  {0, "repository-config", V, E_HELM},
  {0, "content-cache", V, E_HELM},
  {0, "burst-limit", V, E_HELM},
  {0, "qps", V, E_HELM},
  {0, "kube-apiserver", V, E_HELM},
  {0, "kube-as-group", V, E_HELM},
  {0, "kube-as-user", V, E_HELM},
  {0, "kube-ca-file", V, E_HELM},
  {0, "kube-insecure-skip-tls-verify", F, E_HELM},
  {0, "kube-tls-server-name", V, E_HELM},
  {0, "kube-token", V, E_HELM},
  {0, "timeout", V, E_CTR},
  {0, "connect-timeout", V, E_CTR},
  {0, NULL, 0, 0}};

/* Options of "login" ("helm registry login"). */
static const optdef login_opts[] = {
  {'u', "username", O_USER, E_LOGIN},
  {'p', "password", O_PASS, E_LOGIN},
  {0, "password-stdin", O_STDIN, E_LOGIN},
  {0, "authfile", V, E_CONTAINERS},
  {0, "cert-dir", V, E_CONTAINERS},
  {0, "compat-auth-file", V, E_CONTAINERS},
  {0, "get-login", F, E_CONTAINERS},
  {0, "tls-verify", F, E_CONTAINERS},
  {'v', "verbose", F, E_CONTAINERS},
  {0, "insecure", F, E_HELM},
  {0, "plain-http", F, E_HELM},
  {0, "cert-file", V, E_HELM},
  {0, "key-file", V, E_HELM},
  {0, "ca-file", V, E_HELM},
  {0, NULL, 0, 0}};

/* Options of "ctr image pull" and "ctr image push". */
static const optdef ctr_opts[] = {
  {'u', "user", O_USER, E_CTR},
  {'k', "skip-verify", F, E_CTR},
  {0, "plain-http", F, E_CTR},
  {0, "refresh", V, E_CTR},
  {0, "hosts-dir", V, E_CTR},
  {0, "tlscacert", V, E_CTR},
  {0, "tlscert", V, E_CTR},
  {0, "tlskey", V, E_CTR},
  {0, "http-dump", F, E_CTR},
  {0, "http-trace", F, E_CTR},
  {0, "snapshotter", V, E_CTR},
  {0, "label", V, E_CTR},
  {0, "platform", V, E_CTR},
  {0, "all-platforms", F, E_CTR},
  {0, "all-metadata", F, E_CTR},
  {0, "print-chainid", F, E_CTR},
  {0, "skip-metadata", F, E_CTR},
  {0, "local", F, E_CTR},
  {0, "max-concurrent-downloads", V, E_CTR},
  {0, "max-concurrent-uploads", V, E_CTR},
  {0, "manifest", V, E_CTR},
  {0, "manifest-type", V, E_CTR},
  {0, "allow-non-distributable-blobs", F, E_CTR},
  {0, NULL, 0, 0}};

#undef F
#undef V

/* Longest piece of a word shown in a message. */
#define SHOW_MAX 32

/* ------------------------------------------------------------ messages */

/* A word (or part) for a message: printable ASCII kept, anything else
** (and ') shown as '?', cut at SHOW_MAX bytes with "...". */
static const char *show(const char *s, size_t n, char out[SHOW_MAX + 4]) {
  size_t i, o = 0;
  for (i = 0; i < n && i < SHOW_MAX; i++) {
    unsigned char c = (unsigned char)s[i];
    out[o++] = (c > 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
  }
  if (n > SHOW_MAX) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
  return out;
}

/* An unknown option word's name for a message (w[0..n) is the word up to
** any '='). A name that does not look like one (longer than 24 bytes, or
** anything but lowercase letters, digits, '-' and '.') may be a value
** glued to its option ("-pSECRET" where -p is unknown): only its dashes
** and first letter are shown. */
static const char *show_opt(const char *w, size_t n, char out[SHOW_MAX + 4]) {
  size_t d = 0, i;
  while (d < n && d < 2 && w[d] == '-') d++;
  for (i = d; i < n; i++) {
    unsigned char c = (unsigned char)w[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      break;
  }
  if (i == n && n - d <= 24) return show(w, n, out);
  show(w, d + 1 < n ? d + 1 : n, out);
  strcat(out, "...");
  return out;
}

/* ----------------------------------------------------------- tokenising */

/* The blanks and line breaks that split words. */
static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 1 when s[i..n) holds only spaces, tabs and line breaks. */
static int rest_blank(const char *s, size_t i, size_t n) {
  for (; i < n; i++)
    if (!is_space(s[i])) return 0;
  return 1;
}

/* Why a '$' at s[i] is refused, or NULL when the shell leaves it a
** literal '$'. In double quotes, $'...' and $"..." are not special. */
static const char *dollar(const char *s, size_t i, size_t n, int in_dq) {
  unsigned char c;
  if (i + 1 >= n) return NULL;
  c = (unsigned char)s[i + 1];
  if (c == '(') return "command substitution";
  if (c == '{' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9') || (c != '\0' && strchr("@*#?$!-", c) != NULL))
    return "variables are not expanded: paste the value";
  if (!in_dq && (c == '\'' || c == '"')) return "$'...' quoting";
  return NULL;
}

/* "'|' at byte 8: shell syntax is not accepted (...)" */
static int syntax(swrauth_err *err, const char *what, size_t i, const char *why) {
  return swrauth__fail(err, "%s at byte %zu: shell syntax is not accepted (%s)",
                       what, i + 1, why != NULL ? why : "paste one simple command");
}

/* Length of a backslash-newline continuation at s[i], or 0. */
static size_t continuation(const char *s, size_t i, size_t n) {
  if (s[i] != '\\' || i + 1 >= n) return 0;
  if (s[i + 1] == '\n') return 2;
  if (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n') return 3;
  return 0;
}

/* Splits s into words, unquoted into buf one after another with a NUL
** between two words (a word cannot hold NUL: the input has none). Each
** word is no longer than its text and two words are split by at least one
** blank, so buf never needs more than n bytes. */
static int tokenise(const char *s, size_t n, char *buf, size_t *used_out,
                    size_t *nwords, swrauth_err *err) {
  size_t i = 0, used = 0, k = 0, len;
  int in_word = 0;
  char b[16];
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\0' || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
        c == 0x7f)
      return swrauth__fail(err, "%s at byte %zu: control characters are not "
                           "accepted", swrauth__describe_byte(c, b), i + 1);
  }
  i = 0;
  while (i < n) {
    char c = s[i];
    if ((len = continuation(s, i, n)) != 0) {
      i += len;
      continue;
    }
    if (is_space(c)) {
      in_word = 0;
      if ((c == '\n' || c == '\r') && k > 0 && !rest_blank(s, i, n))
        return swrauth__fail(err, "more than one command: a line break at byte %zu "
                             "(paste one command)", i + 1);
      i++;
      continue;
    }
    if (!in_word) {
      if (c == '#') { /* a comment, to the end of the line */
        while (i < n && s[i] != '\n' && s[i] != '\r') i++;
        continue;
      }
      if (k > 0) buf[used++] = '\0';
      k++;
      in_word = 1;
    }
    switch (c) {
      case '\'': {
        const char *q = (const char *)memchr(s + i + 1, '\'', n - i - 1);
        if (q == NULL)
          return swrauth__fail(err, "unterminated single quote starting at byte %zu",
                               i + 1);
        len = (size_t)(q - (s + i + 1));
        memcpy(buf + used, s + i + 1, len);
        used += len;
        i += len + 2;
        break;
      }
      case '"': {
        size_t start = i++;
        for (;;) {
          const char *what;
          char d;
          if (i >= n)
            return swrauth__fail(err, "unterminated double quote starting at byte "
                                 "%zu", start + 1);
          d = s[i];
          if (d == '"') {
            i++;
            break;
          }
          if ((len = continuation(s, i, n)) != 0) {
            i += len;
            continue;
          }
          if (d == '\\' && i + 1 < n && strchr("\"\\$`", s[i + 1]) != NULL) {
            buf[used++] = s[i + 1];
            i += 2;
            continue;
          }
          if (d == '`') return syntax(err, "'`'", i, "command substitution");
          if (d == '$' && (what = dollar(s, i, n, 1)) != NULL)
            return syntax(err, i + 1 < n && s[i + 1] == '(' ? "'$('" : "'$'", i, what);
          buf[used++] = d;
          i++;
        }
        break;
      }
      case '\\':
        if (i + 1 >= n)
          return swrauth__fail(err, "a backslash at the end (byte %zu) escapes "
                               "nothing", i + 1);
        buf[used++] = s[i + 1];
        i += 2;
        break;
      case ';': return syntax(err, "';'", i, NULL);
      case '|': return syntax(err, "'|'", i, NULL);
      case '&': return syntax(err, "'&'", i, NULL);
      case '<': return syntax(err, "'<'", i, NULL);
      case '>': return syntax(err, "'>'", i, NULL);
      case '(': return syntax(err, "'('", i, NULL);
      case ')': return syntax(err, "')'", i, NULL);
      case '`': return syntax(err, "'`'", i, "command substitution");
      case '$': {
        const char *what = dollar(s, i, n, 0);
        if (what != NULL)
          return syntax(err, i + 1 < n && s[i + 1] == '(' ? "'$('" : "'$'", i, what);
        buf[used++] = c; /* a lone '$' is literal */
        i++;
        break;
      }
      default:
        buf[used++] = c;
        i++;
        break;
    }
  }
  *used_out = used;
  *nwords = k;
  return 0;
}

/* ------------------------------------------------------ reading the words */

typedef struct parser {
  const char *buf;
  size_t used, pos;   /* words in buf[0..used), the next at pos */
  size_t nwords, idx; /* word count; number of the last word read */
  unsigned eng;
  const char *ctx;    /* "docker", "login", "pull": names the level */
  swrauth_login *out;
  swrauth_err *err;
} parser;

/* The next word; 0 when there is none. ps->idx becomes its number. */
static int next_word(parser *ps, swrauth_slice *w) {
  const char *z;
  if (ps->idx >= ps->nwords) return 0;
  w->ptr = ps->buf + ps->pos;
  z = (const char *)memchr(w->ptr, '\0', ps->used - ps->pos);
  w->len = z != NULL ? (size_t)(z - w->ptr) : ps->used - ps->pos;
  ps->pos += w->len + (z != NULL);
  ps->idx++;
  return 1;
}

/* 1 when word w is exactly lit. */
static int word_is(swrauth_slice w, const char *lit) {
  return w.len == strlen(lit) && memcmp(w.ptr, lit, w.len) == 0;
}

/* The option of table tab that engine eng knows by this name: a long
** name, or (when nlen is 1 and shorts are allowed) a one-letter one. */
static const optdef *find_opt(const optdef *tab, unsigned eng, const char *name,
                              size_t nlen, int allow_long, int allow_short) {
  for (; tab->lng != NULL; tab++) {
    if (!(tab->engines & eng)) continue;
    if (allow_long && strlen(tab->lng) == nlen && memcmp(tab->lng, name, nlen) == 0)
      return tab;
    if (allow_short && nlen == 1 && tab->sh != 0 && tab->sh == name[0]) return tab;
  }
  return NULL;
}

/* Records the user of -u/--username (login) or --user (ctr: USER:KEY,
** split at the first ':'). */
static int set_user(parser *ps, swrauth_slice v, size_t at) {
  swrauth_login *o = ps->out;
  if (o->user.ptr != NULL)
    return swrauth__fail(ps->err, "%s: the user is given twice (again at word %zu)",
                         ps->ctx, at);
  if (ps->eng == E_CTR) {
    const char *colon = (const char *)memchr(v.ptr, ':', v.len);
    if (colon != NULL) {
      o->key.ptr = colon + 1;
      o->key.len = v.len - (size_t)(colon - v.ptr) - 1;
      v.len = (size_t)(colon - v.ptr);
    }
  }
  o->user = v;
  return 0;
}

/* Reads the option word w (already known to start with '-'), taking its
** value from the next word when it needs one. go: ctr's syntax (one or
** two dashes before any name, no "-uVALUE"); else pflag's. tabs are
** searched in order. */
static int take_option(parser *ps, const optdef *const *tabs, swrauth_slice w,
                       int go) {
  const char *name, *eq;
  size_t nlen, at = ps->idx, shown;
  swrauth_slice val = {NULL, 0};
  int is_long, has_val = 0, glued = 0;
  const optdef *d = NULL;
  char sb[SHOW_MAX + 4];
  if (go) {
    name = w.ptr + 1 + (w.len > 1 && w.ptr[1] == '-');
    is_long = 1;
  } else {
    is_long = w.len > 1 && w.ptr[1] == '-';
    name = w.ptr + 1 + is_long;
  }
  nlen = w.len - (size_t)(name - w.ptr);
  if (is_long) {
    eq = (const char *)memchr(name, '=', nlen);
    if (eq != NULL) {
      has_val = 1;
      val.ptr = eq + 1;
      val.len = nlen - (size_t)(eq - name) - 1;
      nlen = (size_t)(eq - name);
    }
  } else if (nlen > 1) { /* -uVALUE or -u=VALUE */
    has_val = 1;
    glued = name[1] != '=';
    val.ptr = name + 1 + !glued;
    val.len = nlen - 1 - !glued;
    nlen = 1;
  }
  shown = (size_t)(name - w.ptr) + nlen;
  for (; *tabs != NULL && d == NULL; tabs++)
    d = find_opt(*tabs, ps->eng, name, nlen, go || is_long, go || !is_long);
  if (d == NULL || nlen == 0)
    return swrauth__fail(ps->err, "%s: unknown option '%s' at word %zu", ps->ctx,
                         show_opt(w.ptr, shown, sb), at);
  switch (d->kind) {
    case O_FLAG:
      if (glued)
        return swrauth__fail(ps->err, "%s: option '%s' takes no value, and grouped "
                             "short options are not accepted (word %zu)", ps->ctx,
                             show(w.ptr, shown, sb), at);
      return 0;
    case O_STDIN:
      if (has_val)
        return swrauth__fail(ps->err, "%s: option '%s' takes no value (word %zu)",
                             ps->ctx, show(w.ptr, shown, sb), at);
      if (ps->out->password_stdin)
        return swrauth__fail(ps->err, "%s: --password-stdin is given twice (again "
                             "at word %zu)", ps->ctx, at);
      ps->out->password_stdin = 1;
      return 0;
    default:
      break;
  }
  if (!has_val && !next_word(ps, &val))
    return swrauth__fail(ps->err, "%s: option '%s' needs a value (word %zu)", ps->ctx,
                         show(w.ptr, shown, sb), at);
  if (d->kind == O_USER) return set_user(ps, val, at);
  if (d->kind == O_PASS) {
    if (ps->out->key.ptr != NULL)
      return swrauth__fail(ps->err, "%s: the password is given twice (again at word "
                           "%zu)", ps->ctx, at);
    ps->out->key = val;
  }
  return 0;
}

/* Reads the program's own options up to the next word that is not one
** (the subcommand); *found is 0 when the words ran out first. */
static int next_command_word(parser *ps, swrauth_slice *w, int *found) {
  static const optdef *const tabs[] = {global_opts, NULL};
  *found = 0;
  while (next_word(ps, w)) {
    if (w->len > 1 && w->ptr[0] == '-' && !word_is(*w, "--")) {
      if (take_option(ps, tabs, *w, ps->eng == E_CTR) != 0) return -1;
      continue;
    }
    *found = 1;
    return 0;
  }
  return 0;
}

/* "not a login command: 'docker logout'" for the words read so far. */
static int not_login(parser *ps, const char *prog, swrauth_slice w1,
                     swrauth_slice w2) {
  char a[SHOW_MAX + 4], b[SHOW_MAX + 4];
  if (w2.ptr != NULL)
    return swrauth__fail(ps->err, "not a login command: '%s %s %s'", prog,
                         show(w1.ptr, w1.len, a), show(w2.ptr, w2.len, b));
  return swrauth__fail(ps->err, "not a login command: '%s %s'", prog,
                       show(w1.ptr, w1.len, a));
}

/* docker|podman|buildah|skopeo|nerdctl [opts] login ..., helm [opts]
** registry [opts] login ... */
static int parse_pflag_engine(parser *ps) {
  static const optdef *const tabs[] = {login_opts, global_opts, NULL};
  swrauth_login *o = ps->out;
  swrauth_slice w, none = {NULL, 0}, first;
  size_t reg_word = 0, i;
  int found, options = 1;
  char b[16];
  if (next_command_word(ps, &w, &found) != 0) return -1;
  if (!found)
    return swrauth__fail(ps->err, "%s: missing '%s'", ps->ctx,
                         ps->eng == E_HELM ? "registry login" : "login");
  if (ps->eng == E_HELM) {
    if (!word_is(w, "registry")) return not_login(ps, ps->ctx, w, none);
    first = w;
    if (next_command_word(ps, &w, &found) != 0) return -1;
    if (!found) return swrauth__fail(ps->err, "helm: missing 'registry login'");
    if (!word_is(w, "login")) return not_login(ps, ps->ctx, first, w);
  } else if (!word_is(w, "login")) {
    return not_login(ps, ps->ctx, w, none);
  }
  o->action = SWRAUTH_SLICE("login");
  ps->ctx = "login";
  while (next_word(ps, &w)) {
    if (options && word_is(w, "--")) {
      options = 0;
    } else if (options && w.len > 1 && w.ptr[0] == '-') {
      if (take_option(ps, tabs, w, 0) != 0) return -1;
    } else if (o->registry.ptr != NULL) {
      return swrauth__fail(ps->err, "login: unexpected argument at word %zu (only one "
                           "registry is taken)", ps->idx);
    } else {
      o->registry = w;
      reg_word = ps->idx;
    }
  }
  if (o->user.ptr == NULL) return swrauth__fail(ps->err, "missing user (-u)");
  if (o->user.len == 0) return swrauth__fail(ps->err, "empty user (-u)");
  if (o->key.ptr != NULL && o->password_stdin)
    return swrauth__fail(ps->err, "both -p and --password-stdin given");
  if (o->key.ptr == NULL && !o->password_stdin)
    return swrauth__fail(ps->err, "missing password: give -p or --password-stdin");
  if (o->key.ptr != NULL && o->key.len == 0)
    return swrauth__fail(ps->err, "empty password (-p)");
  if (o->registry.ptr == NULL) return swrauth__fail(ps->err, "missing registry");
  if (o->registry.len == 0)
    return swrauth__fail(ps->err, "empty registry (word %zu)", reg_word);
  for (i = 0; i < o->registry.len; i++) {
    unsigned char c = (unsigned char)o->registry.ptr[i];
    if (c <= 0x20 || c == 0x7f)
      return swrauth__fail(ps->err, "the registry (word %zu) has %s at byte %zu",
                           reg_word, swrauth__describe_byte(c, b), i + 1);
  }
  return 0;
}

/* ctr [global opts] image|images|i pull|push [opts] IMAGE [LOCAL] */
static int parse_ctr(parser *ps) {
  static const optdef *const tabs[] = {ctr_opts, NULL};
  swrauth_login *o = ps->out;
  swrauth_slice w, none = {NULL, 0}, first;
  size_t args = 0;
  int found, options = 1, push;
  if (next_command_word(ps, &w, &found) != 0) return -1;
  if (!found) return swrauth__fail(ps->err, "ctr: missing 'image pull' or 'image push'");
  if (!word_is(w, "image") && !word_is(w, "images") && !word_is(w, "i"))
    return not_login(ps, "ctr", w, none);
  first = w;
  if (!next_word(ps, &w))
    return swrauth__fail(ps->err, "ctr: missing 'image pull' or 'image push'");
  if (!word_is(w, "pull") && !word_is(w, "push")) return not_login(ps, "ctr", first, w);
  push = word_is(w, "push");
  o->action = push ? SWRAUTH_SLICE("push") : SWRAUTH_SLICE("pull");
  ps->ctx = push ? "push" : "pull";
  while (next_word(ps, &w)) {
    if (options && word_is(w, "--")) {
      options = 0;
    } else if (options && w.len > 1 && w.ptr[0] == '-') {
      if (take_option(ps, tabs, w, 1) != 0) return -1;
    } else {
      options = 0; /* ctr reads no option after the first argument */
      if (++args > (size_t)(push ? 2 : 1))
        return swrauth__fail(ps->err, "%s: unexpected argument at word %zu", ps->ctx,
                             ps->idx);
      if (args == 1) o->image = w;
    }
  }
  if (o->image.ptr == NULL) return swrauth__fail(ps->err, "missing image");
  if (o->image.len == 0) return swrauth__fail(ps->err, "empty image");
  if (o->user.ptr == NULL) return swrauth__fail(ps->err, "missing user (--user)");
  if (o->key.ptr == NULL)
    return swrauth__fail(ps->err, "missing password: --user takes USER:KEY");
  if (o->user.len == 0) return swrauth__fail(ps->err, "empty user (--user)");
  if (o->key.len == 0)
    return swrauth__fail(ps->err, "empty password (after ':' in --user)");
  return 0;
}

/* Tokenises, then reads the words; out->buf holds the words. */
static int parse(const char *s, size_t n, swrauth_login *out, size_t *used,
                 swrauth_err *err) {
  parser ps;
  swrauth_slice w, base;
  const char *slash;
  char b[SHOW_MAX + 4];
  size_t i;
  if (n > SWRAUTH_LOGIN_MAX)
    return swrauth__fail(err, "login command is too long (%zu bytes, at most %d)", n,
                         SWRAUTH_LOGIN_MAX);
  memset(&ps, 0, sizeof ps);
  if (tokenise(s, n, out->buf, used, &ps.nwords, err) != 0) return -1;
  ps.buf = out->buf;
  ps.used = *used;
  ps.out = out;
  ps.err = err;
  if (!next_word(&ps, &w)) return swrauth__fail(err, "empty login command");
  if (word_is(w, "sudo")) {
    if (!next_word(&ps, &w)) return swrauth__fail(err, "missing command after sudo");
    if (w.len > 0 && w.ptr[0] == '-')
      return swrauth__fail(err, "sudo options are not accepted (word %zu)", ps.idx);
  }
  base = w;
  slash = w.len > 0 ? (const char *)memchr(w.ptr, '/', w.len) : NULL;
  while (slash != NULL) {
    base.ptr = slash + 1;
    base.len = w.len - (size_t)(base.ptr - w.ptr);
    slash = (const char *)memchr(base.ptr, '/', base.len);
  }
  for (i = 0; i < sizeof engines / sizeof engines[0]; i++)
    if (word_is(base, engines[i].name)) break;
  if (i == sizeof engines / sizeof engines[0])
    return swrauth__fail(err, "not a login command: '%s'", show(base.ptr, base.len, b));
  ps.eng = engines[i].bit;
  ps.ctx = engines[i].name;
  out->engine.ptr = engines[i].name;
  out->engine.len = strlen(engines[i].name);
  if (ps.eng == E_CTR) return parse_ctr(&ps);
  return parse_pflag_engine(&ps);
}

/* A pasted login command: the words, then what they say. user PROJECT@AK
** is split into project and ak when swrauth_parse_user accepts it;
** otherwise (any other registry's user name) both stay absent. ctr's
** registry is its image's domain. */
int swrauth_parse_login(const char *s, size_t n, swrauth_login *out,
                        swrauth_err *err) {
  size_t used = 0;
  swrauth_user u;
  memset(out, 0, offsetof(swrauth_login, buf));
  if (parse(s, n, out, &used, err) != 0) {
    /* Words never take more room than the text they came from. */
    swrauth_wipe(out->buf, n < sizeof out->buf ? n : sizeof out->buf);
    memset(out, 0, offsetof(swrauth_login, buf));
    return -1;
  }
  /* ctr names no registry: it is the image's (docker.io when none). */
  if (out->registry.ptr == NULL && out->image.ptr != NULL) {
    swrauth_image im;
    swrauth_err e;
    if (swrauth_parse_image(out->image.ptr, out->image.len, &im, &e) != 0) {
      swrauth_wipe(out->buf, used);
      memset(out, 0, offsetof(swrauth_login, buf));
      return swrauth__fail(err, "image: %s", e.msg);
    }
    out->registry = im.domain;
  }
  if (swrauth_parse_user(out->user.ptr, out->user.len, &u, NULL) == 0) {
    out->project = u.project;
    out->ak = u.ak;
  }
  return 0;
}

/*
** test_login.c: pasted login commands (swrauth_parse_login), through the
** C core only: shell word splitting without expansion, each engine's
** options, ctr's --user USER:KEY, errors, and round trips of every
** command swrauth_format prints.
**
** Each input is copied into a heap block of exactly its length, so a read
** past the end shows up under valgrind. A parsed command is rendered as
** one line, "engine action user=U project=P ak=A key=K registry=R
** image=I stdin=0|1" with "-" for an absent part.
*/
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"
#include "tap.h"

#define REG "swr.cn-north-4.myhuaweicloud.com"
#define U "cn-north-4@RVHVMXABCDEFGHIJKLMN"
#define K "89aca1198a970e4360203d71cdaa80cfc13ecd55ee84409719e88162d139ef34"
#define IMG REG "/ns/app:1.0"

static swrauth_login lg;

static char *exact(const char *s, size_t n) {
  char *p = (char *)malloc(n ? n : 1);
  if (p == NULL) abort();
  if (n) memcpy(p, s, n);
  return p;
}

static void put(char *out, size_t cap, size_t *o, const char *tag, swrauth_slice s) {
  size_t i;
  *o += (size_t)snprintf(out + *o, cap - *o, "%s", tag);
  if (s.ptr == NULL) {
    *o += (size_t)snprintf(out + *o, cap - *o, "-");
    return;
  }
  for (i = 0; i < s.len && *o + 5 < cap; i++) {
    unsigned char c = (unsigned char)s.ptr[i];
    if (c > 0x20 && c < 0x7f && c != '\\')
      out[(*o)++] = (char)c;
    else
      *o += (size_t)snprintf(out + *o, cap - *o, "\\x%02x", c);
  }
  out[*o] = '\0';
}

/* 1 when a slice is absent or lies inside lg.buf. */
static int in_buf(swrauth_slice s) {
  return s.ptr == NULL ||
         (s.ptr >= lg.buf && s.ptr + s.len <= lg.buf + sizeof lg.buf);
}

/* Parses s[0..n) into lg and renders it into out; returns the status. */
static int run(const char *s, size_t n, char *out, size_t cap, swrauth_err *err) {
  char *in = exact(s, n);
  size_t o = 0;
  int r;
  strcpy(err->msg, "(none)");
  out[0] = '\0';
  r = swrauth_parse_login(in, n, &lg, err);
  free(in);
  if (r != 0) return r;
  put(out, cap, &o, "", lg.engine);
  put(out, cap, &o, " ", lg.action);
  put(out, cap, &o, " user=", lg.user);
  put(out, cap, &o, " project=", lg.project);
  put(out, cap, &o, " ak=", lg.ak);
  put(out, cap, &o, " key=", lg.key);
  put(out, cap, &o, " registry=", lg.registry);
  put(out, cap, &o, " image=", lg.image);
  o += (size_t)snprintf(out + o, cap - o, " stdin=%d", lg.password_stdin);
  /* ctr's registry may be the static "docker.io" of an image without one */
  if (!in_buf(lg.user) || !in_buf(lg.project) || !in_buf(lg.ak) || !in_buf(lg.key) ||
      !(in_buf(lg.registry) || tap_eq(lg.registry.ptr, lg.registry.len, "docker.io")) ||
      !in_buf(lg.image))
    snprintf(out + o, cap - o, " OUTSIDE-BUF");
  return 0;
}

#define DOCKER_OK "docker login user=" U " project=cn-north-4 ak=RVHVMXABCDEFGHIJKLMN key=" K \
                  " registry=" REG " image=- stdin=0"
#define STDIN_OK(e) e " login user=" U " project=cn-north-4 ak=RVHVMXABCDEFGHIJKLMN key=-" \
                    " registry=" REG " image=- stdin=1"
#define CTR_OK(a) "ctr " a " user=" U " project=cn-north-4 ak=RVHVMXABCDEFGHIJKLMN key=" K \
                  " registry=" REG " image=" IMG " stdin=0"

/* ctr's registry is its image's domain, a slice of that image in buf
** (or the static "docker.io"). */
static int ctr_registry_ok(const swrauth_login *l) {
  swrauth_image im;
  swrauth_err e;
  return swrauth_parse_image(l->image.ptr, l->image.len, &im, &e) == 0 &&
         l->registry.ptr == im.domain.ptr && l->registry.len == im.domain.len;
}

typedef struct good {
  const char *name, *in;
  size_t len;
  const char *want;
} good;

static void test_good(void) {
  static const good cases[] = {
    {"the vendor's docker command", "docker login -u " U " -p " K " " REG, 0, DOCKER_OK},
    {"a trailing newline", "docker login -u " U " -p " K " " REG "\n", 0, DOCKER_OK},
    {"a trailing CRLF and blanks", "  docker login -u " U " -p " K " " REG " \t\r\n\r\n \n", 0,
     DOCKER_OK},
    {"tabs and runs of spaces", "docker\tlogin   -u\t" U "  -p " K "\t\t" REG, 0, DOCKER_OK},
    {"-uX -pY", "docker login -u" U " -p" K " " REG, 0, DOCKER_OK},
    {"-u=X -p=Y", "docker login -u=" U " -p=" K " " REG, 0, DOCKER_OK},
    {"--username X --password Y", "docker login --username " U " --password " K " " REG, 0,
     DOCKER_OK},
    {"--username=X --password=Y", "docker login --username=" U " --password=" K " " REG, 0,
     DOCKER_OK},
    {"registry first", "docker login " REG " -u " U " -p " K, 0, DOCKER_OK},
    {"-- before the registry", "docker login -u " U " -p " K " -- " REG, 0, DOCKER_OK},
    {"sudo", "sudo docker login -u " U " -p " K " " REG, 0, DOCKER_OK},
    {"a path on the program", "/usr/bin/docker login -u " U " -p " K " " REG, 0, DOCKER_OK},
    {"sudo and a path", "sudo /usr/local/bin/docker login -u " U " -p " K " " REG, 0, DOCKER_OK},
    {"docker global options", "docker --config /tmp/cfg -D --log-level=debug -H unix:///x.sock login -u "
     U " -p " K " " REG, 0, DOCKER_OK},
    {"single quotes", "docker login -u '" U "' -p '" K "' '" REG "'", 0, DOCKER_OK},
    {"double quotes", "docker login -u \"" U "\" -p \"" K "\" \"" REG "\"", 0, DOCKER_OK},
    {"quoted pieces joined", "docker login -u 'cn-north-4'@\"RVHVMX\"ABCDEFGHIJKLMN -p " K " "
     REG, 0, DOCKER_OK},
    {"backslash-newline continuations", "docker login \\\n  -u " U " \\\r\n  -p " K " \\\n  " REG "\n",
     0, DOCKER_OK},
    {"a continuation inside a word", "docker login -u cn-north-4@RVHVMX\\\nABCDEFGHIJKLMN -p " K " "
     REG, 0, DOCKER_OK},
    {"a comment after the command", "docker login -u " U " -p " K " " REG
     "   # from the console; $(x) | y `z` 'unterminated\n", 0, DOCKER_OK},
    {"a comment line before the command", "# log in\ndocker login -u " U " -p " K " " REG, 0, DOCKER_OK},
    {"--password-stdin", "docker login -u " U " --password-stdin " REG, 0, STDIN_OK("docker")},
    {"podman with its options", "podman login --tls-verify=false --authfile /run/auth.json "
     "--cert-dir /etc/certs -v --compat-auth-file=/x -u " U " --password-stdin " REG, 0,
     STDIN_OK("podman")},
    {"podman global options", "podman --log-level debug --root /r --remote login -u " U
     " --password-stdin " REG, 0, STDIN_OK("podman")},
    {"buildah", "buildah --debug login --get-login -u " U " --password-stdin " REG, 0,
     STDIN_OK("buildah")},
    {"skopeo", "skopeo --insecure-policy login --tls-verify -u " U " --password-stdin " REG, 0,
     STDIN_OK("skopeo")},
    {"nerdctl with a namespace", "nerdctl --namespace k8s.io -n k8s.io --address=/run/c.sock "
     "login -u " U " --password-stdin " REG, 0, STDIN_OK("nerdctl")},
    {"helm registry login", "helm registry login --insecure -u " U " --password-stdin " REG, 0,
     STDIN_OK("helm")},
    {"helm global options around registry", "helm --debug registry --registry-config /c.json login "
     "--ca-file /ca -u " U " --password-stdin " REG, 0, STDIN_OK("helm")},
    {"the vendor's ctr pull", "ctr image pull --user " U ":" K " " IMG, 0, CTR_OK("pull")},
    {"the vendor's ctr push", "ctr image push --user " U ":" K " " IMG, 0, CTR_OK("push")},
    {"ctr i pull -u", "ctr i pull -u " U ":" K " " IMG, 0, CTR_OK("pull")},
    {"ctr images push with a local ref", "ctr images push --user " U ":" K " " IMG " local/app:1", 0,
     CTR_OK("push")},
    {"ctr Go-style single-dash options", "ctr -n=k8s.io -address /run/c.sock image pull -user="
     U ":" K " -plain-http -k -platform linux/amd64 " IMG, 0, CTR_OK("pull")},
    {"ctr options", "sudo /usr/bin/ctr --namespace k8s.io --debug i pull --plain-http --skip-verify "
     "--hosts-dir /etc/containerd/certs.d --all-platforms --user " U ":" K " " IMG, 0, CTR_OK("pull")},
    {"ctr -- before the image", "ctr i pull --user " U ":" K " -- " IMG, 0, CTR_OK("pull")},
    {"ctr key split at the first ':'", "ctr i pull --user u:k:e:y img", 0,
     "ctr pull user=u project=- ak=- key=k:e:y registry=docker.io image=img stdin=0"},
    {"a sub-project", "docker login -u cn-north-4_sub.x@AK -p k " REG, 0,
     "docker login user=cn-north-4_sub.x@AK project=cn-north-4_sub.x ak=AK key=k registry=" REG
     " image=- stdin=0"},
    {"a user without '@'", "docker login -u alice -p pw registry.example.com:5000", 0,
     "docker login user=alice project=- ak=- key=pw registry=registry.example.com:5000 image=- stdin=0"},
    {"a user that is not PROJECT@AK", "docker login -u First.Last@corp -p pw r.example.com", 0,
     "docker login user=First.Last@corp project=- ak=- key=pw registry=r.example.com image=- stdin=0"},
    {"a password with spaces and quotes", "docker login -u u -p 'a b'\\''c\"d' r.io", 0,
     "docker login user=u project=- ak=- key=a\\x20b'c\"d registry=r.io image=- stdin=0"},
    {"double-quote escapes", "docker login -u u -p \"\\\"\\\\\\$\\`\\a\\n\" r.io", 0,
     "docker login user=u project=- ak=- key=\"\\x5c$`\\x5ca\\x5cn registry=r.io image=- stdin=0"},
    {"shell syntax inside single quotes is data", "docker login -u u -p '$(rm -rf /);|&<>()`x` $HOME' r.io",
     0, "docker login user=u project=- ak=- key=$(rm\\x20-rf\\x20/);|&<>()`x`\\x20$HOME registry=r.io "
     "image=- stdin=0"},
    {"backslash-escaped syntax is data", "docker login -u u -p \\$\\(x\\)\\;\\|\\&\\<\\>\\`\\'\\\"\\ \\\\ r.io",
     0, "docker login user=u project=- ak=- key=$(x);|&<>`'\"\\x20\\x5c registry=r.io image=- stdin=0"},
    {"a lone '$' is literal", "docker login -u u -p a$ r.io", 0,
     "docker login user=u project=- ak=- key=a$ registry=r.io image=- stdin=0"},
    {"'$' before a blank and in double quotes at the end", "docker login -u u -p \"x$\" r.io", 0,
     "docker login user=u project=- ak=- key=x$ registry=r.io image=- stdin=0"},
    {"a newline inside quotes is data", "docker login -u u -p 'a\nb' r.io", 0,
     "docker login user=u project=- ak=- key=a\\x0ab registry=r.io image=- stdin=0"},
    {"a '#' inside a word is data", "docker login -u u -p a#b r.io", 0,
     "docker login user=u project=- ak=- key=a#b registry=r.io image=- stdin=0"},
    {"a quoted '#' is data", "docker login -u u -p '#x' r.io", 0,
     "docker login user=u project=- ak=- key=#x registry=r.io image=- stdin=0"},
    {"invalid UTF-8 is data", "docker login -u u -p \xff\xfe\xc3 r.io", 0,
     "docker login user=u project=- ak=- key=\\xff\\xfe\\xc3 registry=r.io image=- stdin=0"},
    {"a value that looks like an option", "docker login -u -p -p -u r.io", 0,
     "docker login user=-p project=- ak=- key=-u registry=r.io image=- stdin=0"},
    {"'-' is an argument", "docker login -u u -p p -", 0,
     "docker login user=u project=- ak=- key=p registry=- image=- stdin=0"},
    {"formula text is data", "docker login -u '=cmd|'\\'' /C calc'\\''!A0' -p p r.io", 0,
     "docker login user==cmd|'\\x20/C\\x20calc'!A0 project=- ak=- key=p registry=r.io image=- stdin=0"},
  };
  size_t i;
  char out[4096];
  swrauth_err err;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
    int r = run(cases[i].in, n, out, sizeof out, &err);
    ok(r == 0 && strcmp(out, cases[i].want) == 0, "%s: %s", cases[i].name,
       r == 0 ? out : err.msg);
  }
}

typedef struct bad {
  const char *in;
  size_t len;
  const char *msg; /* the message starts with this */
} bad;

static void test_errors(void) {
  static const bad cases[] = {
    {"", 0, "empty login command"},
    {" \t\r\n\n", 0, "empty login command"},
    {"# docker login -u u -p SECRET r.io", 0, "empty login command"},
    /* bytes */
    {"docker login -u u -p SE\0CRET r.io", 33, "a NUL byte at byte 24: control characters are not accepted"},
    {"docker login -u u -p 'SE\0CRET' r.io", 35, "a NUL byte at byte 25: control characters"},
    {"docker login -u u -p SECRET r.io\0", 33, "a NUL byte at byte 33: control characters"},
    {"docker login -u u -p \x1b[0mSECRET r.io", 0, "byte 0x1b at byte 22: control characters"},
    {"docker login -u u -p SECRET\x7f r.io", 0, "byte 0x7f at byte 28: control characters"},
    {"docker login -u u -p SECRET r.io\ndocker push r.io/x", 0,
     "more than one command: a line break at byte 33 (paste one command)"},
    {"docker login -u u -p SECRET r.io\rdocker push", 0, "more than one command: a line break at byte 33"},
    {"docker login -u u \n-p SECRET r.io", 0, "more than one command: a line break at byte 19"},
    /* shell syntax */
    {"echo SECRET | docker login -u u --password-stdin r.io", 0,
     "'|' at byte 13: shell syntax is not accepted (paste one simple command)"},
    {"cat key|docker login", 0, "'|' at byte 8: shell syntax is not accepted"},
    {"docker login -u u -p SECRET r.io; echo ok", 0, "';' at byte 33: shell syntax is not accepted"},
    {"docker login -u u -p SECRET r.io && docker push", 0, "'&' at byte 34: shell syntax"},
    {"docker login -u u -p SECRET r.io &", 0, "'&' at byte 34: shell syntax"},
    {"docker login -u u -p SECRET r.io >/dev/null", 0, "'>' at byte 34: shell syntax"},
    {"docker login -u u -p SECRET r.io 2>&1", 0, "'>' at byte 35: shell syntax"},
    {"docker login -u u --password-stdin r.io < key.txt", 0, "'<' at byte 41: shell syntax"},
    {"(docker login -u u -p SECRET r.io)", 0, "'(' at byte 1: shell syntax"},
    {"docker login -u u -p SECRET) r.io", 0, "')' at byte 28: shell syntax"},
    {"docker login -u u -p $(cat /tmp/key) r.io", 0,
     "'$(' at byte 22: shell syntax is not accepted (command substitution)"},
    {"docker login -u u -p \"$(cat key)\" r.io", 0,
     "'$(' at byte 23: shell syntax is not accepted (command substitution)"},
    {"docker login -u u -p $((1+1)) r.io", 0, "'$(' at byte 22: shell syntax"},
    {"docker login -u u -p `cat key` r.io", 0,
     "'`' at byte 22: shell syntax is not accepted (command substitution)"},
    {"docker login -u u -p \"`cat key`\" r.io", 0, "'`' at byte 23: shell syntax"},
    {"docker login -u $USER -p SECRET r.io", 0,
     "'$' at byte 17: shell syntax is not accepted (variables are not expanded: paste the value)"},
    {"docker login -u u -p ${KEY} r.io", 0, "'$' at byte 22: shell syntax is not accepted (variables"},
    {"docker login -u u -p \"$KEY\" r.io", 0, "'$' at byte 23: shell syntax is not accepted (variables"},
    {"docker login -u u -p x$1 r.io", 0, "'$' at byte 23: shell syntax"},
    {"docker login -u u -p $? r.io", 0, "'$' at byte 22: shell syntax"},
    {"docker login -u u -p $'\\x41' r.io", 0, "'$' at byte 22: shell syntax is not accepted ($'...' quoting)"},
    {"docker login -u u -p $\"x\" r.io", 0, "'$' at byte 22: shell syntax is not accepted ($'...' quoting)"},
    /* quoting */
    {"docker login -u u -p 'SECRET r.io", 0, "unterminated single quote starting at byte 22"},
    {"docker login -u u -p \"SECRET r.io", 0, "unterminated double quote starting at byte 22"},
    {"docker login -u u -p \"SECRET\\\" r.io", 0, "unterminated double quote starting at byte 22"},
    {"docker login -u u -p 'it's' r.io", 0, "unterminated single quote starting at byte 27"},
    {"docker login -u u -p SECRET r.io \\", 0, "a backslash at the end (byte 34) escapes nothing"},
    /* the program */
    {"sudo", 0, "missing command after sudo"},
    {"sudo -E docker login -u u -p SECRET r.io", 0, "sudo options are not accepted (word 2)"},
    {"kubectl login", 0, "not a login command: 'kubectl'"},
    {"/usr/bin/", 0, "not a login command: ''"},
    {"dockerd login", 0, "not a login command: 'dockerd'"},
    {"FOO=bar docker login -u u -p SECRET r.io", 0, "not a login command: 'FOO=bar'"},
    {"docker logout r.io", 0, "not a login command: 'docker logout'"},
    {"docker push r.io/x", 0, "not a login command: 'docker push'"},
    {"docker", 0, "docker: missing 'login'"},
    {"docker -D", 0, "docker: missing 'login'"},
    {"helm login -u u r.io", 0, "not a login command: 'helm login'"},
    {"helm registry logout r.io", 0, "not a login command: 'helm registry logout'"},
    {"helm registry", 0, "helm: missing 'registry login'"},
    {"helm", 0, "helm: missing 'registry login'"},
    {"ctr", 0, "ctr: missing 'image pull' or 'image push'"},
    {"ctr image", 0, "ctr: missing 'image pull' or 'image push'"},
    {"ctr run x", 0, "not a login command: 'ctr run'"},
    {"ctr image ls", 0, "not a login command: 'ctr image ls'"},
    {"ctr content fetch --user u:SECRET x", 0, "not a login command: 'ctr content'"},
    /* options */
    {"docker login --foo", 0, "login: unknown option '--foo' at word 3"},
    {"docker login -u u -p SECRET --foo r.io", 0, "login: unknown option '--foo' at word 7"},
    {"docker --foo login", 0, "docker: unknown option '--foo' at word 2"},
    {"docker login --pasword=SECRET r.io", 0, "login: unknown option '--pasword' at word 3"},
    {"docker login -xSECRET r.io", 0, "login: unknown option '-x' at word 3"},
    {"docker login --tls-verify=false -u u -p SECRET r.io", 0,
     "login: unknown option '--tls-verify' at word 3"},
    {"nerdctl login --authfile /x -u u -p SECRET r.io", 0, "login: unknown option '--authfile' at word 3"},
    {"ctr i pull -pSECRETKEY img", 0, "pull: unknown option '-p...' at word 4"},
    {"ctr i pull --pass=SECRET img", 0, "pull: unknown option '--pass' at word 4"},
    {"ctr i pull --SECRETKEY0123456789abcdef img", 0, "pull: unknown option '--S...' at word 4"},
    {"ctr i pull --secretkey0123456789abcdefghijkl img", 0, "pull: unknown option '--s...' at word 4"},
    {"ctr --foo i pull", 0, "ctr: unknown option '--foo' at word 2"},
    {"docker login -u", 0, "login: option '-u' needs a value (word 3)"},
    {"docker login -u u --password", 0, "login: option '--password' needs a value (word 5)"},
    {"ctr i pull --user", 0, "pull: option '--user' needs a value (word 4)"},
    {"docker --config", 0, "docker: option '--config' needs a value (word 2)"},
    {"docker login -u u --password-stdin=true r.io", 0,
     "login: option '--password-stdin' takes no value (word 5)"},
    {"podman login -vu u --password-stdin r.io", 0,
     "login: option '-v' takes no value, and grouped short options are not accepted (word 3)"},
    {"docker login -u u -u v -p SECRET r.io", 0, "login: the user is given twice (again at word 5)"},
    {"docker login -u u -p SECRET --password SECRET r.io", 0,
     "login: the password is given twice (again at word 7)"},
    {"docker login -u u --password-stdin --password-stdin r.io", 0,
     "login: --password-stdin is given twice (again at word 6)"},
    {"ctr i pull --user u:SECRET -u v:SECRET img", 0, "pull: the user is given twice (again at word 6)"},
    /* what is missing */
    {"docker login -p SECRET r.io", 0, "missing user (-u)"},
    {"docker login -u '' -p SECRET r.io", 0, "empty user (-u)"},
    {"docker login -u u -p SECRET --password-stdin r.io", 0, "both -p and --password-stdin given"},
    {"docker login -u u r.io", 0, "missing password: give -p or --password-stdin"},
    {"docker login -u u -p '' r.io", 0, "empty password (-p)"},
    {"docker login -u u -p SECRET", 0, "missing registry"},
    {"docker login -u u -p SECRET ''", 0, "empty registry (word 7)"},
    {"docker login -u u -p SECRET 'r .io'", 0, "the registry (word 7) has a space at byte 2"},
    {"docker login -u u -p SECRET \"r.io\n\"", 0, "the registry (word 7) has a newline at byte 5"},
    {"docker login -u u -p SECRET r.io s.io", 0,
     "login: unexpected argument at word 8 (only one registry is taken)"},
    {"docker login r.io -- -u", 0, "login: unexpected argument at word 5 (only one registry is taken)"},
    {"ctr i pull img", 0, "missing user (--user)"},
    {"ctr i pull --user u img", 0, "missing password: --user takes USER:KEY"},
    {"ctr i pull --user :SECRET img", 0, "empty user (--user)"},
    {"ctr i pull --user u: img", 0, "empty password (after ':' in --user)"},
    {"ctr i pull --user u:SECRET", 0, "missing image"},
    {"ctr i pull --user u:SECRET ''", 0, "empty image"},
    {"ctr i pull --user u:SECRET team/Image", 0,
     "image: repository name must be lowercase ('I' at byte 6)"},
    {"ctr i push --user u:SECRET r.io//x", 0,
     "image: invalid reference format: empty path component at byte 6"},
    {"ctr i pull --user u:SECRET img extra", 0, "pull: unexpected argument at word 7"},
    {"ctr i pull img --user u:SECRET", 0, "pull: unexpected argument at word 5"},
    {"ctr i push --user u:SECRET img local extra", 0, "push: unexpected argument at word 8"},
  };
  size_t i;
  char out[4096];
  swrauth_err err;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
    int r = run(cases[i].in, n, out, sizeof out, &err);
    ok(r == -1 && strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) == 0 &&
           strstr(err.msg, "SECRET") == NULL && strstr(err.msg, "ECRET") == NULL &&
           lg.user.ptr == NULL && lg.key.ptr == NULL,
       "refused (case %zu): %s", i, err.msg);
  }
}

static void test_limits(void) {
  static char buf[(1 << 20) + 64];
  char out[SWRAUTH_LOGIN_MAX + 1024];
  swrauth_err err;
  size_t n, i;
  int r;
  /* exactly SWRAUTH_LOGIN_MAX bytes: a long password */
  n = (size_t)sprintf(buf, "docker login -u u r.io -p ");
  memset(buf + n, 'k', SWRAUTH_LOGIN_MAX - n);
  r = run(buf, SWRAUTH_LOGIN_MAX, out, sizeof out, &err);
  ok(r == 0 && lg.key.len == SWRAUTH_LOGIN_MAX - n, "a command of exactly %d bytes",
     SWRAUTH_LOGIN_MAX);
  /* the same of one-letter words: the words fill buf exactly */
  for (i = 0; i < SWRAUTH_LOGIN_MAX; i += 2) memcpy(buf + i, "a ", 2);
  memcpy(buf, "docker login -u u -p p r.io ", 28);
  r = run(buf, SWRAUTH_LOGIN_MAX - 1, out, sizeof out, &err);
  ok(r == -1 && strcmp(err.msg, "login: unexpected argument at word 8 (only one registry is taken)") == 0,
     "%d one-letter words fit in buf: %s", SWRAUTH_LOGIN_MAX / 2, err.msg);
  r = run(buf, SWRAUTH_LOGIN_MAX + 1, out, sizeof out, &err);
  ok(r == -1 && strcmp(err.msg, "login command is too long (8193 bytes, at most 8192)") == 0,
     "one byte more: %s", err.msg);
  memset(buf, 'x', 1 << 20);
  r = run(buf, 1 << 20, out, sizeof out, &err);
  ok(r == -1 && strcmp(err.msg, "login command is too long (1048576 bytes, at most 8192)") == 0,
     "1 MiB: %s", err.msg);
  /* Never read past n: a command cut inside a quote or a word. */
  r = run("docker login -u u -p 'k' r.io", 23, out, sizeof out, &err);
  ok(r == -1 && strcmp(err.msg, "unterminated single quote starting at byte 22") == 0,
     "cut inside a quote: %s", err.msg);
  r = run("docker login -u u -p k r.io", 26, out, sizeof out, &err);
  ok(r == 0 && lg.registry.len == 3, "cut inside the last word: %s", out);
}

/* Random text of shell characters: no crash, no read past the end
** (valgrind), every success has its slices in buf and every failure a
** message. */
static void test_random(void) {
  static const char *const pieces[] = {
    "docker", "login", "ctr", "i", "pull", "push", "-u", "-p", "--user", "--password-stdin",
    "u@x:k", " ", " ", " ", "'", "\"", "\\", "$", "(", "`", "#", "\n", "\r\n", "--", "-",
    "r.io", "=", "sudo", "helm", "registry", "\\\n", "\xff", "-uX", "--username=", "a:b"};
  char buf[512], out[4096];
  swrauth_err err;
  unsigned s = 2024;
  size_t round, nbad = 0, okc = 0;
  for (round = 0; round < 20000; round++) {
    size_t n = 0, k, words = (round % 14) + 1;
    int r;
    if (round % 3 == 0) n = (size_t)sprintf(buf, "%s ", round % 2 ? "ctr i pull" : "docker login");
    for (k = 0; k < words; k++) {
      const char *p;
      s = s * 1103515245u + 12345u;
      p = pieces[(s >> 16) % (sizeof pieces / sizeof pieces[0])];
      if (n + strlen(p) >= sizeof buf) break;
      memcpy(buf + n, p, strlen(p));
      n += strlen(p);
    }
    r = run(buf, n, out, sizeof out, &err);
    if (r == 0) {
      okc++;
      if (strstr(out, "OUTSIDE") != NULL || lg.engine.ptr == NULL || lg.action.ptr == NULL)
        nbad++;
    } else if (r != -1 || err.msg[0] == '\0' || strcmp(err.msg, "(none)") == 0) {
      nbad++;
    }
  }
  ok(nbad == 0, "20000 random commands (%zu parsed): %zu bad results", okc, nbad);
}

/* Every command swrauth_format prints parses back to its fields and its
** argv. */
static void test_round_trips(void) {
  static swrauth_formatted f;
  static const struct {
    swrauth_kind kind;
    const char *engine, *action;
    int stdin_;
  } kinds[] = {
    {SWRAUTH_FMT_DOCKER, "docker", "login", 0},
    {SWRAUTH_FMT_DOCKER_STDIN, "docker", "login", 1},
    {SWRAUTH_FMT_CTR_PULL, "ctr", "pull", 0},
    {SWRAUTH_FMT_CTR_PUSH, "ctr", "push", 0},
    {SWRAUTH_FMT_PODMAN, "podman", "login", 1},
    {SWRAUTH_FMT_BUILDAH, "buildah", "login", 1},
    {SWRAUTH_FMT_SKOPEO, "skopeo", "login", 1},
    {SWRAUTH_FMT_NERDCTL, "nerdctl", "login", 1},
    {SWRAUTH_FMT_HELM, "helm", "login", 1},
  };
  static const struct {
    const char *project, *ak, *key, *registry, *image;
  } vals[] = {
    {"cn-north-4", "RVHVMXABCDEFGHIJKLMN", K, NULL, IMG},
    {"cn-north-4_sub.x", "QTWAOYTTINDUT2QVKYUC", K, "localhost:5000", "localhost:5000/a/b@sha256:" 
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    /* values that need quoting: every printable non-space ASCII byte */
    {"ap-southeast-1", "AK!#$%&()*;<>?[]^`{|}~", "k'ey\"$(x)`y`;|&<>\\#!*?~{}[]^'", "r.example.com", "busybox"},
    {"cn-east-3", "A'B", "''''", "[::1]:5000", "[::1]:5000/x:y"},
  };
  size_t i, j, a;
  swrauth_err err;
  char user[256];
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    for (j = 0; j < sizeof vals / sizeof vals[0]; j++) {
      swrauth_fields in;
      char *text;
      int r, argv_ok = 1;
      memset(&in, 0, sizeof in);
      in.project.ptr = vals[j].project;
      in.project.len = strlen(vals[j].project);
      in.ak.ptr = vals[j].ak;
      in.ak.len = strlen(vals[j].ak);
      in.key.ptr = vals[j].key;
      in.key.len = strlen(vals[j].key);
      if (vals[j].registry != NULL) {
        in.registry.ptr = vals[j].registry;
        in.registry.len = strlen(vals[j].registry);
      }
      in.image.ptr = vals[j].image;
      in.image.len = strlen(vals[j].image);
      snprintf(user, sizeof user, "%s@%s", vals[j].project, vals[j].ak);
      if (swrauth_format(kinds[i].kind, &in, &f, &err) != 0) {
        ok(0, "format %s, values %zu: %s", swrauth_kind_name(kinds[i].kind), j, err.msg);
        continue;
      }
      text = exact(f.text.ptr, f.text.len);
      r = swrauth_parse_login(text, f.text.len, &lg, &err);
      free(text);
      if (r != 0) {
        ok(0, "parse(format(%s)), values %zu: %s", swrauth_kind_name(kinds[i].kind), j, err.msg);
        continue;
      }
      /* the argv words are the words parse found, in order */
      for (a = 0; a < f.argc; a++) {
        size_t off = 0, w;
        const char *p = lg.buf;
        for (w = 0; w < a; w++) off += strlen(p + off) + 1;
        if (f.argv[a].len != strlen(p + off) ||
            memcmp(f.argv[a].ptr, p + off, f.argv[a].len) != 0)
          argv_ok = 0;
      }
      ok(tap_eq(lg.engine.ptr, lg.engine.len, kinds[i].engine) &&
             tap_eq(lg.action.ptr, lg.action.len, kinds[i].action) &&
             lg.password_stdin == kinds[i].stdin_ &&
             tap_eq(lg.user.ptr, lg.user.len, user) &&
             tap_eq(lg.key.ptr, lg.key.len, kinds[i].stdin_ ? NULL : vals[j].key) &&
             (lg.project.ptr == NULL ||
              tap_eq(lg.project.ptr, lg.project.len, vals[j].project)) &&
             (strchr(vals[j].ak, '\'') != NULL || strchr(vals[j].ak, ':') != NULL ||
              tap_eq(lg.ak.ptr, lg.ak.len, vals[j].ak)) &&
             (kinds[i].kind == SWRAUTH_FMT_CTR_PULL || kinds[i].kind == SWRAUTH_FMT_CTR_PUSH
                  ? tap_eq(lg.image.ptr, lg.image.len, vals[j].image) &&
                        ctr_registry_ok(&lg)
                  : lg.image.ptr == NULL &&
                        tap_eq(lg.registry.ptr, lg.registry.len,
                               vals[j].registry ? vals[j].registry : REG)) &&
             argv_ok,
         "parse(format(%s)) gives back its fields and argv, values %zu: %.*s",
         swrauth_kind_name(kinds[i].kind), j, (int)(f.text.len > 90 ? 90 : f.text.len),
         f.text.ptr);
      swrauth_wipe(&f, sizeof f);
      swrauth_wipe(&lg, sizeof lg);
    }
  }
}

static void test_api(void) {
  swrauth_err err;
  const char *s = "docker login -u " U " -p " K " " REG;
  ok(swrauth_parse_login(s, strlen(s), &lg, NULL) == 0, "err may be NULL on success");
  ok(swrauth_parse_login("x", 1, &lg, NULL) == -1, "err may be NULL on failure");
  ok(swrauth_parse_login(s, strlen(s), &lg, &err) == 0 &&
         lg.engine.ptr[lg.engine.len] == '\0' && lg.action.ptr[lg.action.len] == '\0',
     "engine and action are static strings");
  memset(lg.buf, 'Z', sizeof lg.buf);
  s = "docker login -u u -p SECRET r.io s.io";
  ok(swrauth_parse_login(s, strlen(s), &lg, &err) == -1 && memchr(lg.buf, 'S', strlen(s)) == NULL,
     "a failed parse wipes the words it had unquoted");
}

int main(void) {
  test_good();
  test_errors();
  test_limits();
  test_random();
  test_round_trips();
  test_api();
  return tap_done();
}

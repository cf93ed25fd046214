/*
** fuzz_parse_login: swrauth_parse_login on arbitrary bytes.
**
** Properties beyond "no crash":
**  - on success the result is coherent: engine is one of the seven, action
**    is login (pull/push for ctr), user is non-empty, exactly one of key
**    and --password-stdin for login forms, for ctr an image that
**    swrauth_parse_image takes and its domain as the registry;
**    project and ak are set exactly when parse_user accepts the user, and
**    then split it; every slice lies in out->buf;
**  - round trip: a canonical command rebuilt from the fields, each word
**    quoted by swrauth_shell_quote, parses back to the same fields (the
**    tokeniser undoes what shell_quote does, for every word it accepted);
**  - on failure, out is cleared and the message is printable ASCII.
*/
#include "fuzz_common.h"

static const char *const engines[] = {"docker", "podman",  "buildah", "skopeo",
                                      "nerdctl", "helm", "ctr"};

static void check_fields(const swrauth_login *o) {
  size_t i;
  int is_ctr;
  swrauth_user u;
  for (i = 0; i < sizeof engines / sizeof engines[0]; i++)
    if (fuzz_eq(o->engine, engines[i], strlen(engines[i]))) break;
  FUZZ_CHECK(i < sizeof engines / sizeof engines[0], "unknown engine");
  is_ctr = fuzz_eq(o->engine, "ctr", 3);
  if (is_ctr) {
    FUZZ_CHECK(fuzz_eq(o->action, "pull", 4) || fuzz_eq(o->action, "push", 4),
               "ctr action is neither pull nor push");
    FUZZ_CHECK(o->image.ptr != NULL && o->image.len > 0, "ctr without image");
    {
      /* ctr's registry is its image's domain (docker.io when none). */
      swrauth_image im;
      swrauth_err e;
      FUZZ_CHECK(swrauth_parse_image(o->image.ptr, o->image.len, &im, &e) == 0,
                 "ctr with an image parse_image refuses: %s", e.msg);
      FUZZ_CHECK(o->registry.ptr == im.domain.ptr && o->registry.len == im.domain.len,
                 "ctr's registry is not its image's domain");
    }
    FUZZ_CHECK(o->key.ptr != NULL && o->key.len > 0, "ctr without key");
    FUZZ_CHECK(!o->password_stdin, "ctr with --password-stdin");
    FUZZ_CHECK(memchr(o->user.ptr, ':', o->user.len) == NULL, "ctr user holds ':'");
  } else {
    FUZZ_CHECK(fuzz_eq(o->action, "login", 5), "action is not login");
    FUZZ_CHECK(o->image.ptr == NULL, "login with an image");
    FUZZ_CHECK(o->registry.ptr != NULL && o->registry.len > 0, "login without registry");
    for (i = 0; i < o->registry.len; i++)
      FUZZ_CHECK((unsigned char)o->registry.ptr[i] > 0x20 &&
                     (unsigned char)o->registry.ptr[i] != 0x7f,
                 "registry holds a blank or control byte");
    FUZZ_CHECK((o->key.ptr != NULL) != (o->password_stdin != 0),
               "not exactly one of -p and --password-stdin");
    FUZZ_CHECK(o->key.ptr == NULL || o->key.len > 0, "empty key");
  }
  FUZZ_CHECK(o->user.ptr != NULL && o->user.len > 0, "no user");
  FUZZ_CHECK(fuzz_inside(o->user, o->buf, sizeof o->buf), "user not in buf");
  FUZZ_CHECK(fuzz_inside(o->key, o->buf, sizeof o->buf), "key not in buf");
  FUZZ_CHECK(fuzz_inside(o->registry, o->buf, sizeof o->buf) ||
                 (is_ctr && fuzz_eq(o->registry, "docker.io", 9)),
             "registry not in buf");
  FUZZ_CHECK(fuzz_inside(o->image, o->buf, sizeof o->buf), "image not in buf");
  if (swrauth_parse_user(o->user.ptr, o->user.len, &u, NULL) == 0) {
    FUZZ_CHECK(fuzz_slice_eq(o->project, u.project) && fuzz_slice_eq(o->ak, u.ak),
               "project/ak differ from parse_user's");
  } else {
    FUZZ_CHECK(o->project.ptr == NULL && o->ak.ptr == NULL,
               "project/ak set for a user parse_user refuses");
  }
}

/* engine [registry] login -u USER (-p KEY | --password-stdin) -- REGISTRY
** ctr image pull|push --user USER:KEY -- IMAGE */
static void rebuild(const swrauth_login *o, fuzz_buf *b) {
  if (fuzz_eq(o->engine, "ctr", 3)) {
    fuzz_buf uk = {0};
    fuzz_puts(b, "ctr image ");
    fuzz_put_slice(b, o->action);
    fuzz_puts(b, " --user ");
    fuzz_put_slice(&uk, o->user);
    fuzz_puts(&uk, ":");
    fuzz_put_slice(&uk, o->key);
    fuzz_put_quoted(b, uk.p, uk.n);
    fuzz_puts(b, " -- ");
    fuzz_put_quoted(b, o->image.ptr, o->image.len);
    fuzz_free(&uk);
    return;
  }
  fuzz_put_slice(b, o->engine);
  if (fuzz_eq(o->engine, "helm", 4)) fuzz_puts(b, " registry");
  fuzz_puts(b, " login -u ");
  fuzz_put_quoted(b, o->user.ptr, o->user.len);
  if (o->password_stdin) {
    fuzz_puts(b, " --password-stdin");
  } else {
    fuzz_puts(b, " -p ");
    fuzz_put_quoted(b, o->key.ptr, o->key.len);
  }
  fuzz_puts(b, " -- ");
  fuzz_put_quoted(b, o->registry.ptr, o->registry.len);
}

static swrauth_login out, again;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  swrauth_err err;
  fuzz_buf cmd = {0};
  int rc;

  if (size > SWRAUTH_LOGIN_MAX + 16) return -1;
  fuzz_err_reset(&err);
  memset(&out, 0xa5, sizeof out); /* no field may be left uninitialised */
  rc = swrauth_parse_login((const char *)data, size, &out, &err);
  if (rc != 0) {
    FUZZ_CHECK(rc == -1, "parse_login returned %d", rc);
    fuzz_check_msg(&err);
    FUZZ_CHECK(out.engine.ptr == NULL && out.user.ptr == NULL && out.key.ptr == NULL &&
                   out.password_stdin == 0,
               "result not cleared on failure");
    return 0;
  }
  check_fields(&out);

  rebuild(&out, &cmd);
  if (cmd.n <= SWRAUTH_LOGIN_MAX) {
    char *copy = fuzz_dup(cmd.p, cmd.n);
    fuzz_err_reset(&err);
    rc = swrauth_parse_login(copy, cmd.n, &again, &err);
    FUZZ_CHECK(rc == 0, "canonical command does not parse: %s", err.msg);
    check_fields(&again);
    FUZZ_CHECK(fuzz_slice_eq(out.engine, again.engine) &&
                   fuzz_slice_eq(out.action, again.action) &&
                   fuzz_slice_eq(out.user, again.user) &&
                   fuzz_slice_eq(out.key, again.key) &&
                   fuzz_slice_eq(out.registry, again.registry) &&
                   fuzz_slice_eq(out.image, again.image) &&
                   fuzz_slice_eq(out.project, again.project) &&
                   fuzz_slice_eq(out.ak, again.ak) &&
                   out.password_stdin == again.password_stdin,
               "round trip through the canonical command changed a field");
    free(copy);
  }
  fuzz_free(&cmd);
  return 0;
}

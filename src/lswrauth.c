/*
** lswrauth.c: the Lua binding of the swrauth core. It only checks
** arguments and marshals; all logic is in the core (include/swrauth.h).
**
** Misuse (wrong types, unknown kinds or fields) raises; bad data given to
** parse returns fail plus a message. Secrets live in fixed buffers that are
** wiped on every path; buffers that must survive a Lua call that can raise
** are kept in a "scratch" userdata whose __gc wipes it.
*/
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "internal.h"

#define HMAC_MT "swrauth.hmac"
#define SCRATCH_MT "swrauth.scratch"

#if defined(__GNUC__)
#define SWRAUTH_EXPORT __attribute__((visibility("default")))
#else
#define SWRAUTH_EXPORT
#endif

/* ------------------------------------------------------------ resources */

/* __gc of the per-state HMAC engine. */
static int hmac_gc(lua_State *L) {
  swrauth_hmac **h = (swrauth_hmac **)luaL_checkudata(L, 1, HMAC_MT);
  swrauth_hmac_free(*h);
  *h = NULL;
  return 0;
}

/* __gc and __close of scratch memory: wipe it, whatever happened. */
static int scratch_gc(lua_State *L) {
  void *p = luaL_checkudata(L, 1, SCRATCH_MT);
  swrauth_wipe(p, lua_rawlen(L, 1));
  return 0;
}

/* Pushes wipe-on-collect memory of size n, zeroed. */
static void *new_scratch(lua_State *L, size_t n) {
  void *p = lua_newuserdatauv(L, n, 0);
  memset(p, 0, n);
  luaL_setmetatable(L, SCRATCH_MT);
  return p;
}

static swrauth_hmac *get_hmac(lua_State *L) {
  swrauth_hmac *h = *(swrauth_hmac **)lua_touserdata(L, lua_upvalueindex(1));
  if (h == NULL) luaL_error(L, "swrauth: HMAC engine was closed");
  return h;
}

/* ------------------------------------------------------------ arguments */

/* The binding raises argument errors itself so that they name the function
** as the API documents it ('derive'), however it was reached: Lua's own
** luaL_argerror would say 'swrauth.derive', or a local variable's name. */
static int arg_error(lua_State *L, int arg, const char *fname, const char *msg) {
  luaL_where(L, 1);
  lua_pushfstring(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

static int type_error(lua_State *L, int arg, const char *fname, const char *tname) {
  return arg_error(L, arg, fname,
                   lua_pushfstring(L, "%s expected, got %s", tname, luaL_typename(L, arg)));
}

/* A string argument; numbers are converted, as Lua's own functions do. */
static const char *check_string(lua_State *L, int arg, const char *fname, size_t *len) {
  const char *s = lua_tolstring(L, arg, len);
  if (s == NULL) type_error(L, arg, fname, "string");
  return s;
}

/* Pushes s[0..n) for an error message: bytes outside printable ASCII are
** written as \ddd, and long names are cut, so a message is always one
** short readable line. */
static const char *push_printable(lua_State *L, const char *s, size_t n) {
  luaL_Buffer b;
  size_t i, shown = n > 64 ? 64 : n;
  luaL_buffinit(L, &b);
  for (i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      luaL_addchar(&b, (char)c);
    } else {
      char esc[8];
      int k = c == '\\' ? 2 : 0;
      if (k) esc[0] = esc[1] = '\\';
      else k = snprintf(esc, sizeof esc, "\\%u", (unsigned)c);
      luaL_addlstring(&b, esc, (size_t)k);
    }
  }
  if (shown < n) luaL_addstring(&b, "...");
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

static int check_option(lua_State *L, int arg, const char *fname,
                        const char *const names[]) {
  size_t len;
  const char *name = check_string(L, arg, fname, &len);
  int i;
  /* The length too: "image\0..." is not "image". */
  for (i = 0; names[i] != NULL; i++)
    if (strlen(names[i]) == len && strcmp(names[i], name) == 0) return i;
  return arg_error(L, arg, fname,
                   lua_pushfstring(L, "invalid option '%s'",
                                   push_printable(L, name, len)));
}

/* --------------------------------------------------------------- derive */

/* swrauth.derive(ak, sk) -> key
** 64 lowercase hex digits of HMAC-SHA256(key = sk, message = ak). */
static int l_derive(lua_State *L) {
  size_t aklen, sklen;
  const char *ak = check_string(L, 1, "derive", &aklen);
  const char *sk = check_string(L, 2, "derive", &sklen);
  swrauth_hmac *h = get_hmac(L);
  char key[SWRAUTH_KEY_LEN + 1];
  swrauth_err err;
  /* Argument errors first, so the argument number is right. */
  if (swrauth_check_cred("AK", ak, aklen, &err) != 0)
    return arg_error(L, 1, "derive", err.msg);
  if (swrauth_check_cred("SK", sk, sklen, &err) != 0)
    return arg_error(L, 2, "derive", err.msg);
  if (swrauth__derive_checked(h, ak, aklen, sk, sklen, key, &err) != 0)
    return luaL_error(L, "%s", err.msg);
  lua_pushlstring(L, key, SWRAUTH_KEY_LEN);
  swrauth_wipe(key, sizeof key);
  return 1;
}

/* swrauth.verify(ak, sk, key) -> boolean (constant-time comparison). */
static int l_verify(lua_State *L) {
  size_t aklen, sklen, keylen;
  const char *ak = check_string(L, 1, "verify", &aklen);
  const char *sk = check_string(L, 2, "verify", &sklen);
  const char *key = check_string(L, 3, "verify", &keylen);
  swrauth_hmac *h = get_hmac(L);
  swrauth_err err;
  int r;
  if (swrauth_check_cred("AK", ak, aklen, &err) != 0)
    return arg_error(L, 1, "verify", err.msg);
  if (swrauth_check_cred("SK", sk, sklen, &err) != 0)
    return arg_error(L, 2, "verify", err.msg);
  r = swrauth_verify(h, ak, aklen, sk, sklen, key, keylen, &err);
  if (r < 0) return luaL_error(L, "%s", err.msg);
  lua_pushboolean(L, r);
  return 1;
}

/* --------------------------------------------------------------- format */

static const char *const field_names[] = {"project", "ak", "key", "registry",
                                          "image", NULL};

/* Reads the fields table at index idx; raises on unknown names or
** non-string values. The slices point into strings the table keeps alive. */
static void check_fields(lua_State *L, int idx, swrauth_kind kind,
                         swrauth_fields *f) {
  swrauth_slice *slot[5];
  unsigned used = swrauth_kind_used(kind);
  int i;
  slot[0] = &f->project;
  slot[1] = &f->ak;
  slot[2] = &f->key;
  slot[3] = &f->registry;
  slot[4] = &f->image;
  memset(f, 0, sizeof *f);
  if (!lua_istable(L, idx)) type_error(L, idx, "format", "table");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *name;
    if (lua_type(L, -2) != LUA_TSTRING)
      arg_error(L, idx, "format", lua_pushfstring(L, "field names must be strings, got %s",
                                            luaL_typename(L, -2)));
    name = lua_tostring(L, -2);
    for (i = 0; field_names[i] != NULL; i++)
      if (strcmp(name, field_names[i]) == 0) break;
    if (field_names[i] == NULL || strlen(name) != lua_rawlen(L, -2))
      arg_error(L, idx, "format",
                lua_pushfstring(L, "unknown field '%s'",
                                push_printable(L, name, lua_rawlen(L, -2))));
    if (lua_type(L, -1) != LUA_TSTRING)
      arg_error(L, idx, "format", lua_pushfstring(L, "field '%s' must be a string, got %s",
                                            name, luaL_typename(L, -1)));
    if (used & (1u << i)) slot[i]->ptr = lua_tolstring(L, -1, &slot[i]->len);
    lua_pop(L, 1);
  }
}

static const char *const kind_names[] = {
  "docker", "docker-stdin", "ctr-pull", "ctr-push", "podman", "buildah",
  "skopeo", "nerdctl", "helm", "user", "auth", "registry", "api", NULL};

/* swrauth.format(kind, fields) -> command, argv  (command kinds)
** swrauth.format(kind, fields) -> value          (user, auth, registry, api) */
static int l_format(lua_State *L) {
  swrauth_kind kind = (swrauth_kind)check_option(L, 1, "format", kind_names);
  swrauth_fields f;
  swrauth_formatted *out;
  swrauth_err err;
  size_t i;
  check_fields(L, 2, kind, &f);
  out = (swrauth_formatted *)new_scratch(L, sizeof *out);
  if (swrauth_format(kind, &f, out, &err) != 0) {
    swrauth_wipe(out, sizeof *out);
    return arg_error(L, 2, "format", err.msg);
  }
  lua_pushlstring(L, out->text.ptr, out->text.len);
  if (out->argc == 0) {
    swrauth_wipe(out, sizeof *out);
    return 1;
  }
  lua_createtable(L, (int)out->argc, 0);
  for (i = 0; i < out->argc; i++) {
    lua_pushlstring(L, out->argv[i].ptr, out->argv[i].len);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  swrauth_wipe(out, sizeof *out);
  return 2;
}

/* ---------------------------------------------------------------- parse */

static void set_slice(lua_State *L, const char *name, swrauth_slice s) {
  if (s.ptr == NULL) return;
  lua_pushlstring(L, s.ptr, s.len);
  lua_setfield(L, -2, name);
}

static int fail(lua_State *L, const char *msg) {
  luaL_pushfail(L);
  lua_pushstring(L, msg);
  return 2;
}

/* Pushes the fields of a parsed image into the table on top; the core
** derives repository, namespace, name and reference. */
static void push_image_fields(lua_State *L, const swrauth_image *im) {
  char repo[SWRAUTH_NAME_MAX + 1], ref[SWRAUTH_REFERENCE_MAX];
  size_t rlen, reflen;
  swrauth_slice ns, name;
  swrauth_err err;
  if (swrauth_image_repository(im, repo, sizeof repo, &rlen, &err) != 0 ||
      swrauth_image_reference(im, ref, sizeof ref, &reflen, &err) != 0)
    luaL_error(L, "swrauth: %s", err.msg);
  swrauth_repository_split(repo, rlen, &ns, &name);
  set_slice(L, "registry", im->domain);
  /* Whether the reference names its registry ("team/app" does not: docker
  ** takes it on docker.io). */
  lua_pushboolean(L, !im->domain_defaulted);
  lua_setfield(L, -2, "registry_given");
  lua_pushlstring(L, repo, rlen);
  lua_setfield(L, -2, "repository");
  set_slice(L, "namespace", ns);
  set_slice(L, "name", name);
  set_slice(L, "tag", im->tag);
  set_slice(L, "digest", im->digest);
  lua_pushlstring(L, ref, reflen);
  lua_setfield(L, -2, "reference");
}

static int parse_image(lua_State *L, const char *s, size_t n) {
  swrauth_image im;
  swrauth_err err;
  if (swrauth_parse_image(s, n, &im, &err) != 0) return fail(L, err.msg);
  lua_createtable(L, 0, 7);
  push_image_fields(L, &im);
  return 1;
}

static int parse_user(lua_State *L, const char *s, size_t n) {
  swrauth_user u;
  swrauth_err err;
  if (swrauth_parse_user(s, n, &u, &err) != 0) return fail(L, err.msg);
  lua_createtable(L, 0, 3);
  set_slice(L, "project", u.project);
  set_slice(L, "region", u.region);
  set_slice(L, "ak", u.ak);
  return 1;
}

static int parse_auth(lua_State *L, const char *s, size_t n) {
  swrauth_auth *a = (swrauth_auth *)new_scratch(L, sizeof *a);
  swrauth_err err;
  if (swrauth_parse_auth(s, n, a, &err) != 0) {
    swrauth_wipe(a, sizeof *a);
    return fail(L, err.msg);
  }
  lua_createtable(L, 0, 2);
  set_slice(L, "user", a->user);
  set_slice(L, "password", a->password);
  swrauth_wipe(a, sizeof *a);
  return 1;
}

static int parse_login(lua_State *L, const char *s, size_t n) {
  swrauth_login *lg = (swrauth_login *)new_scratch(L, sizeof *lg);
  swrauth_err err;
  if (swrauth_parse_login(s, n, lg, &err) != 0) {
    swrauth_wipe(lg, sizeof *lg);
    return fail(L, err.msg);
  }
  lua_createtable(L, 0, 9);
  set_slice(L, "engine", lg->engine);
  set_slice(L, "action", lg->action);
  set_slice(L, "user", lg->user);
  set_slice(L, "project", lg->project);
  set_slice(L, "ak", lg->ak);
  set_slice(L, "key", lg->key);
  set_slice(L, "registry", lg->registry);
  set_slice(L, "image", lg->image);
  lua_pushboolean(L, lg->password_stdin);
  lua_setfield(L, -2, "password_stdin");
  swrauth_wipe(lg, sizeof *lg);
  return 1;
}

static int parse_credentials(lua_State *L, const char *s, size_t n) {
  swrauth_csv csv;
  swrauth_cred_row *row;
  swrauth_err err;
  lua_Integer i = 0;
  int r;
  if (swrauth_csv_begin(&csv, s, n, &err) != 0) return fail(L, err.msg);
  row = (swrauth_cred_row *)new_scratch(L, sizeof *row);
  lua_newtable(L);
  while ((r = swrauth_csv_next(&csv, row, &err)) == 1) {
    lua_createtable(L, 0, 4);
    set_slice(L, "user", row->user);
    set_slice(L, "ak", row->ak);
    set_slice(L, "sk", row->sk);
    lua_pushinteger(L, (lua_Integer)row->line);
    lua_setfield(L, -2, "line");
    lua_rawseti(L, -2, ++i);
    swrauth_wipe(row, sizeof *row);
  }
  swrauth_wipe(row, sizeof *row);
  if (r < 0) return fail(L, err.msg);
  if (i == 0) return fail(L, "no credentials rows");
  return 1;
}

static int parse_registry(lua_State *L, const char *s, size_t n) {
  swrauth_registry r;
  swrauth_err err;
  if (swrauth_parse_registry(s, n, &r, &err) != 0) return fail(L, err.msg);
  lua_createtable(L, 0, 2);
  set_slice(L, "region", r.region);
  set_slice(L, "host", r.host);
  return 1;
}

static const char *const parse_kinds[] = {"credentials", "login", "image",
                                          "user", "auth", "registry", NULL};

/* swrauth.parse(kind, text) -> table | fail, message */
static int l_parse(lua_State *L) {
  int kind = check_option(L, 1, "parse", parse_kinds);
  size_t n;
  const char *s = check_string(L, 2, "parse", &n);
  switch (kind) {
    case 0: return parse_credentials(L, s, n);
    case 1: return parse_login(L, s, n);
    case 2: return parse_image(L, s, n);
    case 3: return parse_user(L, s, n);
    case 4: return parse_auth(L, s, n);
    default: return parse_registry(L, s, n);
  }
}

/* ---------------------------------------------------------------- check */

/* In the order of swrauth_check_kind. */
static const char *const check_kinds[] = {"project", "registry", "repository", "tag",
                                          "ak", "key", "image", "digest", "sk", NULL};

/* swrauth.check(kind, value) -> true | fail, message
** The message is a predicate about the value that never quotes it ("has
** a space at byte 3: a region is lowercase letters, digits and '-'"), so
** the caller can name the value: "project 'x' " .. message. A value that
** is not a string (numbers included) is misuse and raises. */
static int l_check(lua_State *L) {
  swrauth_check_kind kind = (swrauth_check_kind)check_option(L, 1, "check", check_kinds);
  size_t n;
  const char *s;
  swrauth_err err;
  if (lua_type(L, 2) != LUA_TSTRING) return type_error(L, 2, "check", "string");
  s = lua_tolstring(L, 2, &n);
  if (swrauth_check(kind, s, n, &err) != 0) return fail(L, err.msg);
  lua_pushboolean(L, 1);
  return 1;
}

/* ------------------------------------------------------- base64, sha256 */

/* swrauth.base64(s) -> string
** Standard alphabet, padded. Built in wipe-on-collect scratch memory of
** the output's size (the input may be a secret, as in PROJECT@AK:KEY). */
static int l_base64(lua_State *L) {
  size_t n, len = 0, room, groups;
  const char *s = check_string(L, 1, "base64", &n);
  char *out;
  groups = n / 3 + (n % 3 != 0);
  if (groups > ((size_t)-1) / 4) return luaL_error(L, "base64: input too long");
  room = groups * 4;
  out = (char *)new_scratch(L, room);
  swrauth_base64_encode(s, n, out, room, &len);
  lua_pushlstring(L, out, len);
  swrauth_wipe(out, room);
  return 1;
}

/* swrauth.unbase64(s) -> string | fail, message
** Padding required, as Go's base64.StdEncoding; the message names the
** byte ("bad base64: a newline at byte 13 (a pasted trailing newline?)"). */
static int l_unbase64(lua_State *L) {
  size_t n, len = 0, room;
  const char *s = check_string(L, 1, "unbase64", &n);
  unsigned char *out;
  swrauth_err err;
  room = n / 4 * 3;
  out = (unsigned char *)new_scratch(L, room);
  if (swrauth_base64_decode_padded(s, n, out, room, &len, &err) != 0) {
    swrauth_wipe(out, room);
    return fail(L, err.msg);
  }
  lua_pushlstring(L, (const char *)out, len);
  swrauth_wipe(out, room);
  return 1;
}

/* swrauth.sha256(data) -> 64 lowercase hex digits
** On the state's engine: its fetched SHA-256 and reused context. */
static int l_sha256(lua_State *L) {
  size_t n;
  const char *s = check_string(L, 1, "sha256", &n);
  swrauth_hmac *h = get_hmac(L);
  char hex[SWRAUTH_KEY_LEN + 1];
  swrauth_err err;
  if (swrauth_sha256_hex(h, s, n, hex, &err) != 0) return luaL_error(L, "%s", err.msg);
  lua_pushlstring(L, hex, SWRAUTH_KEY_LEN);
  return 1;
}

/* ----------------------------------------------------------------- sign */

/* swrauth.sign{ak=, sk=, method=, url=, headers={[name]=value}, body=?,
**              algorithm=?} -> authorization, info | fail, message
** Every Lua value is read first (the header array into a userdata), then
** the core signs in one go; misuse raises, and fail is returned only when
** the algorithm's digest is not available. */
static int l_sign(lua_State *L) {
  static const char *const names[] = {"ak", "sk", "method", "url", "headers",
                                      "body", "algorithm", NULL};
  swrauth_hmac *h = get_hmac(L);
  swrauth_sign_req req;
  swrauth_slice *slot[7];
  swrauth_header *hs;
  swrauth_signed out;
  swrauth_err err;
  size_t n = 0, size;
  unsigned seen = 0;
  void *buf;
  int i;
  memset(&req, 0, sizeof req);
  slot[0] = &req.ak, slot[1] = &req.sk, slot[2] = &req.method, slot[3] = &req.url;
  slot[4] = NULL, slot[5] = &req.body, slot[6] = NULL;
  if (!lua_istable(L, 1)) type_error(L, 1, "sign", "table");
  lua_settop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    size_t len;
    const char *name;
    if (lua_type(L, -2) != LUA_TSTRING)
      arg_error(L, 1, "sign", lua_pushfstring(L, "field names must be strings, got %s",
                                              luaL_typename(L, -2)));
    name = lua_tolstring(L, -2, &len);
    for (i = 0; names[i] != NULL; i++)
      if (strlen(names[i]) == len && strcmp(names[i], name) == 0) break;
    if (names[i] == NULL)
      arg_error(L, 1, "sign", lua_pushfstring(L, "unknown field '%s'",
                                              push_printable(L, name, len)));
    if (lua_type(L, -1) != (i == 4 ? LUA_TTABLE : LUA_TSTRING))
      arg_error(L, 1, "sign", lua_pushfstring(L, "field '%s' must be a %s, got %s", name,
                                              i == 4 ? "table" : "string",
                                              luaL_typename(L, -1)));
    if (i == 6) {
      const char *alg = lua_tolstring(L, -1, &len);
      int a = swrauth_sign_alg_from_name(alg, len);
      if (a < 0)
        arg_error(L, 1, "sign", lua_pushfstring(L, "field 'algorithm' must be "
                                                "'SDK-HMAC-SHA256' or 'SDK-HMAC-SM3', got '%s'",
                                                push_printable(L, alg, len)));
      req.alg = (swrauth_sign_alg)a;
    } else if (slot[i] != NULL) {
      slot[i]->ptr = lua_tolstring(L, -1, &slot[i]->len);
    }
    seen |= 1u << i;
    lua_pop(L, 1);
  }
  for (i = 0; i < 5; i++)
    if (!(seen & (1u << i)))
      arg_error(L, 1, "sign", lua_pushfstring(L, "field '%s' is missing", names[i]));
  /* The headers: counted and type-checked, then read into a userdata. */
  lua_pushliteral(L, "headers");
  lua_rawget(L, 1); /* 2 */
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      arg_error(L, 1, "sign", lua_pushfstring(L, "header names must be strings, got %s",
                                              luaL_typename(L, -2)));
    if (lua_type(L, -1) != LUA_TSTRING) {
      size_t len;
      const char *name = lua_tolstring(L, -2, &len);
      arg_error(L, 1, "sign", lua_pushfstring(L, "header '%s' must have a string value, got %s",
                                              push_printable(L, name, len),
                                              luaL_typename(L, -1)));
    }
    n++;
    lua_pop(L, 1);
  }
  if (n > SWRAUTH_SIGN_NHEADERS_MAX)
    arg_error(L, 1, "sign", lua_pushfstring(L, "headers: too many (%d, at most %d)",
                                            (int)n, SWRAUTH_SIGN_NHEADERS_MAX));
  hs = (swrauth_header *)lua_newuserdatauv(L, (n ? n : 1) * sizeof *hs, 0); /* 3 */
  req.headers = hs;
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (req.nheaders < n) {
      hs[req.nheaders].name.ptr = lua_tolstring(L, -2, &hs[req.nheaders].name.len);
      hs[req.nheaders].value.ptr = lua_tolstring(L, -1, &hs[req.nheaders].value.len);
      req.nheaders++;
    }
    lua_pop(L, 1);
  }
  if (swrauth_sign_check(&req, &err) != 0) return arg_error(L, 1, "sign", err.msg);
  size = swrauth_sign_bufsize(&req);
  buf = lua_newuserdatauv(L, size, 0); /* 4: no secret is written to it */
  if (swrauth__sign_checked(h, &req, buf, size, &out, &err) != 0) return fail(L, err.msg);
  lua_pushlstring(L, out.authorization.ptr, out.authorization.len);
  lua_createtable(L, 0, 4);
  set_slice(L, "canonical_request", out.canonical_request);
  set_slice(L, "string_to_sign", out.string_to_sign);
  set_slice(L, "signed_headers", out.signed_headers);
  set_slice(L, "signature", out.signature);
  return 2;
}

/* ----------------------------------------------------------------- open */

static const luaL_Reg funcs[] = {
  {"derive", l_derive},
  {"verify", l_verify},
  {"format", l_format},
  {"parse", l_parse},
  {"check", l_check},
  {"base64", l_base64},
  {"unbase64", l_unbase64},
  {"sha256", l_sha256},
  {"sign", l_sign},
  {NULL, NULL}};

SWRAUTH_EXPORT int luaopen_swrauth(lua_State *L);

int luaopen_swrauth(lua_State *L) {
  swrauth_hmac **h;
  swrauth_err err;
  luaL_newmetatable(L, SCRATCH_MT);
  lua_pushcfunction(L, scratch_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, scratch_gc);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);

  luaL_newlibtable(L, funcs);
  /* The HMAC engine is parked in a __gc userdata before it is created, so
  ** a failure below cannot leak it. */
  h = (swrauth_hmac **)lua_newuserdatauv(L, sizeof *h, 0);
  *h = NULL;
  if (luaL_newmetatable(L, HMAC_MT)) {
    lua_pushcfunction(L, hmac_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  *h = swrauth_hmac_new(&err);
  if (*h == NULL) return luaL_error(L, "swrauth: %s", err.msg);
  luaL_setfuncs(L, funcs, 1);
  lua_pushliteral(L, SWRAUTH_VERSION);
  lua_setfield(L, -2, "_VERSION");
  /* What a bug report needs: the OpenSSL it runs on, and the OpenSSL and
  ** Lua headers it was built with. */
  lua_pushstring(L, swrauth_openssl_version());
  lua_setfield(L, -2, "_OPENSSL");
  lua_pushstring(L, swrauth_openssl_headers());
  lua_setfield(L, -2, "_OPENSSL_HEADERS");
  lua_pushliteral(L, LUA_RELEASE);
  lua_setfield(L, -2, "_LUA_HEADERS");
  return 1;
}

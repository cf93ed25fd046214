/*
** swrauth.h: the C core of swrauth, with no Lua in it.
**
** Log-in keys for Huawei Cloud SWR registries (HMAC-SHA256, key = SK,
** message = AK, as lowercase hex), the command lines and auth values that
** engines take, and parsers for what users paste: the console's
** credentials CSV, login command lines, image references, PROJECT@AK user
** names and config.json "auth" values.
**
** Conventions:
**  - Every string is (pointer, length); input may hold NUL bytes and is
**    never read past its length.
**  - Functions return 0 on success and -1 on failure, with a message in
**    the caller's swrauth_err that says what was wrong and where. Messages
**    never quote a secret (SK, key, password).
**  - Nothing here allocates except swrauth_hmac_new. Results that are not
**    slices of the input live in caller-provided fixed buffers, so a
**    caller can wipe them (swrauth_wipe) when they held a secret.
**
** Lua binding: swrauth.so (luaopen_swrauth), see README.md.
*/
#ifndef SWRAUTH_H
#define SWRAUTH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SWRAUTH_VERSION "0.1.0"

/* Length of a login key: 64 lowercase hex digits (no NUL counted). */
#define SWRAUTH_KEY_LEN 64
/* Length of an HMAC-SHA256 digest in bytes. */
#define SWRAUTH_MAC_LEN 32
/* Longest AK or SK accepted by derive (real ones are 20 and 40). */
#define SWRAUTH_CRED_MAX 1024
/* Longest text parse("login") accepts, and its token buffer size. */
#define SWRAUTH_LOGIN_MAX 8192
/* Longest CSV field, and the row buffer a CSV reader needs. */
#define SWRAUTH_CSV_FIELD_MAX 1024
#define SWRAUTH_CSV_ROWBUF (3 * SWRAUTH_CSV_FIELD_MAX)
/* Longest repository path once normalised (docker.io's "library/" counted,
** the domain not), as distribution/reference v0.6 (docker 26+) checks it;
** also the longest registry host swrauth_format takes. */
#define SWRAUTH_NAME_MAX 255
/* Longest image reference accepted as a whole. */
#define SWRAUTH_IMAGE_MAX 1024
/* Size of a formatted command (text and argv together). */
#define SWRAUTH_FORMAT_MAX 8192
#define SWRAUTH_ARGV_MAX 12

typedef struct swrauth_err {
  char msg[256];
} swrauth_err;

/* A piece of text: into the input, a caller's buffer or a static string.
** ptr is NULL when the part is absent (then len is 0). */
typedef struct swrauth_slice {
  const char *ptr;
  size_t len;
} swrauth_slice;

/* Overwrite memory that held a secret, in a way the compiler keeps. */
void swrauth_wipe(void *p, size_t n);

/* ---------------------------------------------------------------- derive */

/* A reusable HMAC-SHA256 engine: the digest is fetched once here, and the
** contexts are reused by every call. Not thread-safe; one per thread (the
** Lua binding keeps one per Lua state). */
typedef struct swrauth_hmac swrauth_hmac;

swrauth_hmac *swrauth_hmac_new(swrauth_err *err);

void swrauth_hmac_free(swrauth_hmac *h);

/* HMAC-SHA256 of msg under key, any bytes and lengths (keys over 64 bytes
** are hashed first, as RFC 2104 says). */
int swrauth_hmac_sha256(swrauth_hmac *h, const void *key, size_t keylen,
                        const void *msg, size_t msglen,
                        unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err);

/* Check an AK or SK as derive takes it: non-empty, at most
** SWRAUTH_CRED_MAX bytes, printable ASCII without whitespace. `what` names
** it in the message, which names the byte and hints at the cause: "SK has
** a newline at byte 41 (a pasted newline?)". */
int swrauth_check_cred(const char *what, const char *s, size_t n,
                       swrauth_err *err);

/* The login key: lowercase hex HMAC-SHA256(key = SK, message = AK), written
** to out[0..63] and NUL-terminated at out[64]. Checks both as above. */
int swrauth_derive(swrauth_hmac *h, const char *ak, size_t aklen,
                   const char *sk, size_t sklen,
                   char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err);

/* 1 when key is the login key for (ak, sk), compared in constant time;
** 0 when it is not; -1 on bad AK/SK. */
int swrauth_verify(swrauth_hmac *h, const char *ak, size_t aklen,
                   const char *sk, size_t sklen, const char *key,
                   size_t keylen, swrauth_err *err);

/* SHA-256 of n bytes (any length) on the engine's fetched digest, binary
** into out, or as 64 lowercase hex digits NUL-terminated at out[64]. The
** engine's contexts hold nothing of the data afterwards. */
int swrauth_sha256(swrauth_hmac *h, const void *data, size_t n,
                   unsigned char out[SWRAUTH_MAC_LEN], swrauth_err *err);
int swrauth_sha256_hex(swrauth_hmac *h, const void *data, size_t n,
                       char out[SWRAUTH_KEY_LEN + 1], swrauth_err *err);

/* ---------------------------------------------------------------- format */

typedef enum swrauth_kind {
  SWRAUTH_FMT_DOCKER,        /* docker login -u U -p KEY REGISTRY */
  SWRAUTH_FMT_DOCKER_STDIN,  /* docker login -u U --password-stdin REGISTRY */
  SWRAUTH_FMT_CTR_PULL,      /* ctr image pull --user U:KEY IMAGE */
  SWRAUTH_FMT_CTR_PUSH,      /* ctr image push --user U:KEY IMAGE */
  SWRAUTH_FMT_PODMAN,        /* podman login -u U --password-stdin REGISTRY */
  SWRAUTH_FMT_BUILDAH,       /* buildah login -u U --password-stdin REGISTRY */
  SWRAUTH_FMT_SKOPEO,        /* skopeo login -u U --password-stdin REGISTRY */
  SWRAUTH_FMT_NERDCTL,       /* nerdctl login -u U --password-stdin REGISTRY */
  SWRAUTH_FMT_HELM,          /* helm registry login -u U --password-stdin R */
  SWRAUTH_FMT_USER,          /* PROJECT@AK */
  SWRAUTH_FMT_AUTH,          /* base64(PROJECT@AK:KEY) */
  SWRAUTH_FMT_REGISTRY,      /* swr.REGION.myhuaweicloud.com */
  SWRAUTH_FMT_API,           /* swr-api.REGION.myhuaweicloud.com */
  SWRAUTH_FMT_COUNT
} swrauth_kind;

/* Field bits, for swrauth_kind_fields. */
#define SWRAUTH_F_PROJECT  0x01u
#define SWRAUTH_F_AK       0x02u
#define SWRAUTH_F_KEY      0x04u
#define SWRAUTH_F_REGISTRY 0x08u
#define SWRAUTH_F_IMAGE    0x10u

/* Name of a kind ("docker-stdin"), and the kind for a name (-1 if none). */
const char *swrauth_kind_name(swrauth_kind kind);
int swrauth_kind_from_name(const char *name, size_t len);
/* Fields a kind requires, and fields it may use (registry is optional for
** login kinds: it defaults to the project's region registry). */
unsigned swrauth_kind_required(swrauth_kind kind);
unsigned swrauth_kind_used(swrauth_kind kind);

/* Input of swrauth_format: absent fields have ptr == NULL. */
typedef struct swrauth_fields {
  swrauth_slice project, ak, key, registry, image;
} swrauth_fields;

/* Output of swrauth_format. text is the shell command (single-quoting any
** value that needs it), or the value for user/auth/registry (argc == 0);
** argv[i] are the unquoted words. Everything points into buf; wipe the
** whole struct when it held a key. */
typedef struct swrauth_formatted {
  swrauth_slice text;
  size_t argc;
  swrauth_slice argv[SWRAUTH_ARGV_MAX];
  char buf[SWRAUTH_FORMAT_MAX];
} swrauth_formatted;

int swrauth_format(swrauth_kind kind, const swrauth_fields *f,
                   swrauth_formatted *out, swrauth_err *err);

/* The domain of a region's endpoints: "myhuaweicloud.com", or the other
** domain of a region listed in src/region.c ("eu-west-101" ->
** "myhuaweicloud.eu"). Any text is a region here; nothing is checked. */
const char *swrauth_region_domain(const char *region, size_t len);

/* Registry host for a project or region name ("cn-north-4_sub" ->
** "swr.cn-north-4.myhuaweicloud.com", "eu-west-101" ->
** "swr.eu-west-101.myhuaweicloud.eu"), NUL-terminated into out. The
** project is checked (message "project <predicate>"). */
int swrauth_registry_for(const char *project, size_t len, char *out,
                         size_t outsize, swrauth_err *err);
/* The SWR API endpoint host for a project, the same way:
** "swr-api.REGION.DOMAIN". */
int swrauth_api_for(const char *project, size_t len, char *out,
                    size_t outsize, swrauth_err *err);

/* Append s to out (of size outsize, at *pos), single-quoted for a POSIX
** shell when it holds anything outside [A-Za-z0-9@%+=:,./_-] or is empty.
** Returns 0, or -1 when it does not fit. */
int swrauth_shell_quote(const char *s, size_t n, char *out, size_t outsize,
                        size_t *pos);

/* Standard base64 with padding. encode: needs 4*((n+2)/3) bytes of room;
** decode: returns -1 on bad input (message says at which byte). */
int swrauth_base64_encode(const void *in, size_t n, char *out, size_t outsize,
                          size_t *outlen);
int swrauth_base64_decode(const char *in, size_t n, unsigned char *out,
                          size_t outsize, size_t *outlen, swrauth_err *err);
/* decode that also requires the padding (a length that is a multiple of
** 4), as Go's base64.StdEncoding does; line breaks are refused (Go skips
** them). out needs n / 4 * 3 bytes at most. */
int swrauth_base64_decode_padded(const char *in, size_t n, unsigned char *out,
                                 size_t outsize, size_t *outlen,
                                 swrauth_err *err);

/* ----------------------------------------------------------------- check */

/* What swrauth_check checks; names as the Lua binding takes them. */
typedef enum swrauth_check_kind {
  SWRAUTH_CHECK_PROJECT,     /* "project": REGION[_SUBPROJECT] */
  SWRAUTH_CHECK_REGISTRY,    /* "registry": HOST[:PORT] */
  SWRAUTH_CHECK_REPOSITORY,  /* "repository": NS/NAME, without registry */
  SWRAUTH_CHECK_TAG,         /* "tag" */
  SWRAUTH_CHECK_AK,          /* "ak" */
  SWRAUTH_CHECK_KEY,         /* "key": a login key, 64 lowercase hex */
  SWRAUTH_CHECK_IMAGE,       /* "image": as swrauth_parse_image takes it */
  SWRAUTH_CHECK_DIGEST,      /* "digest": sha256:<64 lowercase hex> */
  SWRAUTH_CHECK_SK,          /* "sk": as derive takes it */
  SWRAUTH_CHECK_COUNT
} swrauth_check_kind;

const char *swrauth_check_name(swrauth_check_kind kind);
int swrauth_check_from_name(const char *name, size_t len);

/* 0 when s[0..n) is a valid value of the kind, else -1 with a predicate
** in err that reads after "<name> '<value>' " and never quotes the value:
** "has 'C' at byte 1: a region is lowercase letters, digits and '-'".
** Byte positions count from 1 in s. The grammars are the ones format and
** parse use (src/names.c). */
int swrauth_check(swrauth_check_kind kind, const char *s, size_t n,
                  swrauth_err *err);

/* ----------------------------------------------------------------- parse */

/* "user": PROJECT@AK. region is project up to its first '_'. */
typedef struct swrauth_user {
  swrauth_slice project, region, ak;
} swrauth_user;
int swrauth_parse_user(const char *s, size_t n, swrauth_user *out,
                       swrauth_err *err);

/* "auth": base64 of USER:PASSWORD; both slices point into buf. */
typedef struct swrauth_auth {
  swrauth_slice user, password;
  unsigned char buf[1024];
} swrauth_auth;
int swrauth_parse_auth(const char *s, size_t n, swrauth_auth *out,
                       swrauth_err *err);

/* "image": a reference by the Docker Distribution grammar, normalised as
** docker does: domain defaults to "docker.io" ("index.docker.io" becomes
** it too), a one-component path on docker.io gets "library/", and a
** reference with neither tag nor digest gets tag "latest". */
typedef struct swrauth_image {
  swrauth_slice domain;      /* "docker.io" when defaulted */
  swrauth_slice path;        /* remote name as written, no "library/" */
  int library;               /* 1 when "library/" is to be prefixed */
  swrauth_slice tag;         /* absent when none and a digest is given */
  int tag_defaulted;         /* 1 when tag is the default "latest" */
  swrauth_slice digest;      /* "sha256:<64 hex>", absent when none */
  int domain_defaulted;      /* 1 when no domain was written */
} swrauth_image;
int swrauth_parse_image(const char *s, size_t n, swrauth_image *out,
                        swrauth_err *err);

/* Room for swrauth_image_reference: the longest reference parse_image
** takes, plus what normalising adds ("docker.io/", "library/",
** ":latest"), plus the NUL. */
#define SWRAUTH_REFERENCE_MAX (SWRAUTH_IMAGE_MAX + 32)

/* What a parsed image names, NUL-terminated into out (*len without it):
** the repository as the registry names it ("library/" + path on docker.io
** for one-component paths; SWRAUTH_NAME_MAX + 1 bytes suffice), and the
** whole normalised reference domain/repository[:tag][@digest]
** (SWRAUTH_REFERENCE_MAX bytes suffice). -1 when out is too small. */
int swrauth_image_repository(const swrauth_image *im, char *out, size_t outsize,
                             size_t *len, swrauth_err *err);
int swrauth_image_reference(const swrauth_image *im, char *out, size_t outsize,
                            size_t *len, swrauth_err *err);
/* A repository's namespace (up to its last '/', absent when none) and
** name (after it), as slices of repo. */
void swrauth_repository_split(const char *repo, size_t len, swrauth_slice *ns,
                              swrauth_slice *name);

/* "registry": an SWR registry host, swr.REGION.DOMAIN with the region's
** own domain (swrauth_region_domain), lowercase, no port; both slices
** point into the input (host is all of it). Any other host fails with
** "registry host is not an SWR registry host (...)". */
typedef struct swrauth_registry {
  swrauth_slice region, host;
} swrauth_registry;
int swrauth_parse_registry(const char *s, size_t n, swrauth_registry *out,
                           swrauth_err *err);

/* "login": a docker/podman/buildah/skopeo/nerdctl/helm login command, or
** ctr image pull|push --user ..., as printed by the vendor or by
** swrauth_format. Words are unquoted POSIX-shell style (no expansion is
** ever done) into buf. engine is "docker", "podman", "buildah", "skopeo",
** "nerdctl", "helm" or "ctr"; key is absent for --password-stdin forms;
** for ctr, registry is the image's domain ("docker.io" when it has none,
** a static string) and a bad image fails the parse ("image: ..."); image
** is absent for login forms. action is "login", "pull" or "push". */
typedef struct swrauth_login {
  swrauth_slice engine, action, user, project, ak, key, registry, image;
  int password_stdin;
  char buf[SWRAUTH_LOGIN_MAX];
} swrauth_login;
int swrauth_parse_login(const char *s, size_t n, swrauth_login *out,
                        swrauth_err *err);

/* "credentials": the console's CSV. Columns are found by header name
** ("User Name" optional, "Access Key Id", "Secret Access Key"; matched
** without regard to case or surrounding spaces), in any order; an UTF-8
** BOM, CRLF or LF, quoted fields (RFC 4180) and blank lines are fine.
** Use: swrauth_csv_begin, then swrauth_csv_next until it returns 0. */
typedef struct swrauth_csv {
  const char *p, *end;
  size_t line;               /* line number of the next row (1-based) */
  size_t ncols;              /* columns in the header */
  int col_user, col_ak, col_sk; /* 0-based; col_user -1 when absent */
} swrauth_csv;

typedef struct swrauth_cred_row {
  size_t line;               /* line the row starts on */
  swrauth_slice user, ak, sk; /* into buf; user absent without the column */
  char buf[SWRAUTH_CSV_ROWBUF];
} swrauth_cred_row;

int swrauth_csv_begin(swrauth_csv *csv, const char *s, size_t n,
                      swrauth_err *err);
/* 1: a row was read; 0: end of input; -1: error (message names the line;
** the row's buffer is wiped and its slices cleared). */
int swrauth_csv_next(swrauth_csv *csv, swrauth_cred_row *row,
                     swrauth_err *err);

/* ------------------------------------------------------------------ sign */

/* Huawei Cloud API Gateway request signing (APIG "AK/SK authentication"),
** SDK-HMAC-SHA256 as the Huawei Cloud SDKs compute it, and SDK-HMAC-SM3:
**
**   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n BODYHASH
**   string to sign    = ALGORITHM \n X-Sdk-Date \n hex(HASH(canonical request))
**   signature         = hex(HMAC(key = SK, message = string to sign))
**   Authorization     = ALGORITHM Access=AK, SignedHeaders=SIGNED, Signature=...
**
** URI: the URL's path, each '/'-separated segment percent-decoded, then
** every byte outside [A-Za-z0-9_.~-] written %XX (upper-case), a trailing
** '/' added. QUERY: the pairs (split at '&', then at the first '='; '+'
** is a '+'; pairs with an empty key dropped) decoded, sorted by key bytes
** then value bytes, escaped the same way, "k=v" joined by '&'. HEADERS:
** every header given, name lower-cased, value without leading and
** trailing spaces and tabs, sorted by name, "name:value\n" each; SIGNED:
** the names joined by ';'. BODYHASH: hex HASH(body), or the value of an
** X-Sdk-Content-Sha256 header (X-Sdk-Content-Sm3 for SM3) when one is
** given, e.g. "UNSIGNED-PAYLOAD". HASH is SHA-256 or SM3. */
typedef enum swrauth_sign_alg {
  SWRAUTH_SIGN_HMAC_SHA256, /* "SDK-HMAC-SHA256" */
  SWRAUTH_SIGN_HMAC_SM3,    /* "SDK-HMAC-SM3" (OpenSSL's SM3) */
  SWRAUTH_SIGN_ALG_COUNT
} swrauth_sign_alg;

/* Limits: the URL, the headers' names and values together, the number of
** headers, the method. A request over one is refused with a message. */
#define SWRAUTH_SIGN_URL_MAX 65536
#define SWRAUTH_SIGN_HEADERS_MAX 65536
#define SWRAUTH_SIGN_NHEADERS_MAX 1024
#define SWRAUTH_SIGN_METHOD_MAX 256

/* The name of an algorithm, and the algorithm for a name (-1 if none). */
const char *swrauth_sign_alg_name(swrauth_sign_alg alg);
int swrauth_sign_alg_from_name(const char *name, size_t len);

typedef struct swrauth_header {
  swrauth_slice name, value;
} swrauth_header;

/* A request to sign. Every header given is signed; X-Sdk-Date
** (YYYYMMDDTHHMMSSZ, any case of the name) must be one of them. body
** absent (ptr NULL) is the empty body. */
typedef struct swrauth_sign_req {
  swrauth_sign_alg alg;
  swrauth_slice ak, sk, method, url;
  const swrauth_header *headers;
  size_t nheaders;
  swrauth_slice body;
} swrauth_sign_req;

/* The result: every slice points into the caller's work buffer. None of
** it is secret (the signature is sent with the request); the key blocks
** derived from the SK stay in the core's own buffers and are wiped. */
typedef struct swrauth_signed {
  swrauth_slice authorization;     /* the Authorization header's value */
  swrauth_slice canonical_request;
  swrauth_slice string_to_sign;
  swrauth_slice signed_headers;    /* "content-type;host;x-sdk-date" */
  swrauth_slice signature;         /* 64 lowercase hex digits */
} swrauth_signed;

/* Checks a request as swrauth_sign does, without signing it: AK and SK as
** swrauth_check_cred takes them, the method an HTTP token, the URL
** absolute http(s)://host[:port][/path][?query] (no userinfo, fragment,
** whitespace, control character or bad %-escape), header names tokens,
** no two names that differ only in case, values without control
** characters (CR, LF, NUL, ...; spaces and tabs at either end are
** trimmed), a valid X-Sdk-Date, and the limits above. The message starts
** with the field it is about ("url ...", "header 'X' ...", "sk ..."),
** and never quotes the SK or a header's value. */
int swrauth_sign_check(const swrauth_sign_req *req, swrauth_err *err);

/* Size of the work buffer swrauth_sign needs for req (a few times the
** URL's and the headers' sizes), or 0 when req is over the limits. */
size_t swrauth_sign_bufsize(const swrauth_sign_req *req);

/* Signs req, with work memory buf of bufsize bytes (swrauth_sign_bufsize).
** Returns 0, or -1 when the request is refused (as swrauth_sign_check),
** the buffer is too small, or the digest is not available (SM3 missing
** from OpenSSL's providers) or fails. */
int swrauth_sign(swrauth_hmac *h, const swrauth_sign_req *req, void *buf,
                 size_t bufsize, swrauth_signed *out, swrauth_err *err);

/* The OpenSSL this process runs on (OpenSSL_version(OPENSSL_VERSION),
** "OpenSSL 3.0.15 3 Sep 2024"), and the one whose headers the core was
** built with (OPENSSL_VERSION_TEXT). Static strings. */
const char *swrauth_openssl_version(void);
const char *swrauth_openssl_headers(void);

#ifdef __cplusplus
}
#endif

#endif /* SWRAUTH_H */

/*
** test_image.c: swrauth_parse_image against the Docker Distribution
** reference grammar and ParseNormalizedNamed + TagNameOnly.
**
** Cases marked [ref] come from github.com/distribution/reference's own
** tables: reference_test.go (TestReferenceParse, TestWithNameFailure,
** TestDomainAndPath) and normalize_test.go (TestValidateReferenceName,
** TestValidateRemoteName, TestParseRepositoryInfo,
** TestParseReferenceWithTagAndDigest, TestParseAnyReference,
** TestNormalizedSplitHostname, TestInvalidReferenceComponents). Those from
** TestReferenceParse were written for Parse (no normalisation); the
** expectations here are the normalised ones (docker.io, library/, latest).
**
** Every input is copied into a buffer of exactly its length, so a read
** past the end shows up under valgrind.
*/
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"
#include "tap.h"

#define H16 "0123456789abcdef"
#define H64 H16 H16 H16 H16
#define F64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define F128 F64 F64
#define D256 "sha256:" H64
#define D384 "sha384:" H64 H16 H16
#define D512 "sha512:" F128
#define HEX64ID "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"

/* A valid reference and every field it must yield. tag NULL: absent. */
typedef struct vcase {
  const char *in;
  size_t len; /* 0: strlen(in) */
  const char *domain, *path;
  int library;
  const char *tag;
  int tag_defaulted;
  const char *digest;
  int domain_defaulted;
} vcase;

/* An invalid reference and a part its message must contain. */
typedef struct ecase {
  const char *in;
  size_t len; /* 0: strlen(in), except for in = "" */
  const char *msg;
} ecase;

/* Defaulted domain, tag "latest" defaulted. */
#define DL(in, path, lib) {in, 0, "docker.io", path, lib, "latest", 1, NULL, 1}
/* Written domain, tag "latest" defaulted. */
#define WL(in, dom, path, lib) {in, 0, dom, path, lib, "latest", 1, NULL, 0}

static const vcase valid[] = {
  /* [ref] reference_test.go TestReferenceParse */
  DL("test_com", "test_com", 1),
  {"test.com:tag", 0, "docker.io", "test.com", 1, "tag", 0, NULL, 1},
  {"test.com:5000", 0, "docker.io", "test.com", 1, "5000", 0, NULL, 1},
  {"test.com/repo:tag", 0, "test.com", "repo", 0, "tag", 0, NULL, 0},
  WL("test:5000/repo", "test:5000", "repo", 0),
  {"test:5000/repo:tag", 0, "test:5000", "repo", 0, "tag", 0, NULL, 0},
  {"test:5000/repo@sha256:" F64, 0, "test:5000", "repo", 0, NULL, 0,
   "sha256:" F64, 0},
  {"test:5000/repo:tag@sha256:" F64, 0, "test:5000", "repo", 0, "tag", 0,
   "sha256:" F64, 0},
  {"lowercase:Uppercase", 0, "docker.io", "lowercase", 1, "Uppercase", 0, NULL, 1},
  WL("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", 0),
  {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", 0, "sub-dom1.foo.com",
   "bar/baz/quux", 0, "some-long-tag", 0, NULL, 0},
  {"b.gcr.io/test.example.com/my-app:test.example.com", 0, "b.gcr.io",
   "test.example.com/my-app", 0, "test.example.com", 0, NULL, 0},
  {"xn--n3h.com/myimage:xn--n3h.com", 0, "xn--n3h.com", "myimage", 0,
   "xn--n3h.com", 0, NULL, 0},
  {"xn--7o8h.com/myimage:xn--7o8h.com@" D512, 0, "xn--7o8h.com", "myimage", 0,
   "xn--7o8h.com", 0, D512, 0},
  {"foo_bar.com:8080", 0, "docker.io", "foo_bar.com", 1, "8080", 0, NULL, 1},
  {"foo/foo_bar.com:8080", 0, "docker.io", "foo/foo_bar.com", 0, "8080", 0,
   NULL, 1},
  DL("192.168.1.1", "192.168.1.1", 1),
  {"192.168.1.1:tag", 0, "docker.io", "192.168.1.1", 1, "tag", 0, NULL, 1},
  {"192.168.1.1:5000", 0, "docker.io", "192.168.1.1", 1, "5000", 0, NULL, 1},
  WL("192.168.1.1/repo", "192.168.1.1", "repo", 0),
  WL("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", 0),
  {"192.168.1.1:5000/repo:5050", 0, "192.168.1.1:5000", "repo", 0, "5050", 0,
   NULL, 0},
  WL("[2001:db8::1]/repo", "[2001:db8::1]", "repo", 0),
  {"[2001:db8:1:2:3:4:5:6]/repo:tag", 0, "[2001:db8:1:2:3:4:5:6]", "repo", 0,
   "tag", 0, NULL, 0},
  WL("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", 0),
  {"[2001:db8::1]:5000/repo:tag", 0, "[2001:db8::1]:5000", "repo", 0, "tag", 0,
   NULL, 0},
  {"[2001:db8::1]:5000/repo@sha256:" F64, 0, "[2001:db8::1]:5000", "repo", 0,
   NULL, 0, "sha256:" F64, 0},
  {"[2001:db8::1]:5000/repo:tag@sha256:" F64, 0, "[2001:db8::1]:5000", "repo",
   0, "tag", 0, "sha256:" F64, 0},
  WL("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", 0),
  WL("[::1]:5000/repo", "[::1]:5000", "repo", 0),
  /* [ref] reference_test.go TestDomainAndPath, normalised */
  WL("test.com:8080/foo", "test.com:8080", "foo", 0),
  /* [ref] normalize_test.go TestValidateReferenceName */
  DL("docker/docker", "docker/docker", 0),
  DL("library/debian", "library/debian", 0),
  DL("debian", "debian", 1),
  WL("docker.io/docker/docker", "docker.io", "docker/docker", 0),
  WL("docker.io/library/debian", "docker.io", "library/debian", 0),
  WL("docker.io/debian", "docker.io", "debian", 1),
  WL("index.docker.io/docker/docker", "docker.io", "docker/docker", 0),
  WL("index.docker.io/library/debian", "docker.io", "library/debian", 0),
  WL("index.docker.io/debian", "docker.io", "debian", 1),
  WL("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", 0),
  WL("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", 0),
  DL("192.168.0.1", "192.168.0.1", 1),
  {"192.168.0.1:80", 0, "docker.io", "192.168.0.1", 1, "80", 0, NULL, 1},
  WL("192.168.0.1:8/debian", "192.168.0.1:8", "debian", 0),
  WL("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", 0),
  DL("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
     "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", 1),
  WL("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", 0),
  WL("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", 0),
  WL("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000",
     "library/debian", 0),
  WL("docker.io/" HEX64ID, "docker.io", HEX64ID, 1),
  WL("Docker/docker", "Docker", "docker", 0),
  WL("DOCKER/docker", "DOCKER", "docker", 0),
  /* [ref] normalize_test.go TestValidateRemoteName */
  DL("docker-rules/docker", "docker-rules/docker", 0),
  DL("docker---rules/docker", "docker---rules/docker", 0),
  DL("doc/docker", "doc/docker", 0),
  DL("d/docker", "d/docker", 0),
  DL("jess/t", "jess/t", 0),
  DL("dock__er/docker", "dock__er/docker", 0),
  /* [ref] normalize_test.go TestParseRepositoryInfo */
  DL("fooo/bar", "fooo/bar", 0),
  DL("ubuntu-12.04-base", "ubuntu-12.04-base", 1),
  DL("library/foo/bar", "library/foo/bar", 0),
  DL("store/foo/bar", "store/foo/bar", 0),
  WL("example.com:8000/private/moonbase", "example.com:8000",
     "private/moonbase", 0),
  WL("Foo/bar", "Foo", "bar", 0),
  /* [ref] normalize_test.go TestParseReferenceWithTagAndDigest */
  {"busybox:latest@sha256:"
   "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", 0,
   "docker.io", "busybox", 1, "latest", 0,
   "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", 1},
  /* [ref] normalize_test.go TestParseAnyReference (names, not bare IDs) */
  {"redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c",
   0, "docker.io", "redis", 1, NULL, 0,
   "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c", 1},
  {"dmcgowan/myapp:latest", 0, "docker.io", "dmcgowan/myapp", 0, "latest", 0,
   NULL, 1},
  DL("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
     "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", 1),
  DL("dbcc1", "dbcc1", 1),
  /* [ref] normalize_test.go TestNormalizedSplitHostname */
  WL("test-com:8080/foo", "test-com:8080", "foo", 0),
  WL("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", 0),
  WL("docker.io/library/foo/bar", "docker.io", "library/foo/bar", 0),

  /* localhost, and what else makes the first part a domain */
  WL("localhost/foo", "localhost", "foo", 0),
  {"localhost:5000/foo/bar:1.0", 0, "localhost:5000", "foo/bar", 0, "1.0", 0,
   NULL, 0},
  DL("localhost", "localhost", 1),
  {"localhost:5000", 0, "docker.io", "localhost", 1, "5000", 0, NULL, 1},
  WL("LOCALHOST/foo", "LOCALHOST", "foo", 0),
  WL("Docker.io/foo", "Docker.io", "foo", 0), /* only "docker.io" gets library/ */
  WL("localhost.localdomain/foo", "localhost.localdomain", "foo", 0),
  DL("localhostx/foo", "localhostx/foo", 0),
  /* domains: labels, hyphens, IPv4, ports, IPv6 */
  DL("a/b", "a/b", 0),
  WL("a-b.c-d.example/x", "a-b.c-d.example", "x", 0),
  WL("a--b.c/x", "a--b.c", "x", 0),
  WL("x.y:0/z", "x.y:0", "z", 0),
  WL("reg.example:65536/z", "reg.example:65536", "z", 0),
  WL("0.0.0.0:1/a", "0.0.0.0:1", "a", 0),
  WL("[::1]/x", "[::1]", "x", 0),
  WL("[ABCD::EF]:443/x", "[ABCD::EF]:443", "x", 0),
  WL("[abcd]:5000/x", "[abcd]:5000", "x", 0),
  /* path separators: '.', '_', '__', '-' runs */
  DL("ab_c__d-e---f/g.h", "ab_c__d-e---f/g.h", 0),
  DL("0/1/2/3", "0/1/2/3", 0),
  DL("a_b", "a_b", 1),
  DL("a__b", "a__b", 1),
  DL("a-----b", "a-----b", 1),
  /* tags */
  {"foo:_tag", 0, "docker.io", "foo", 1, "_tag", 0, NULL, 1},
  {"foo:1.0-RC.1_x", 0, "docker.io", "foo", 1, "1.0-RC.1_x", 0, NULL, 1},
  {"foo:V", 0, "docker.io", "foo", 1, "V", 0, NULL, 1},
  {"foo:latest", 0, "docker.io", "foo", 1, "latest", 0, NULL, 1},
  /* digests */
  {"foo/bar@" D256, 0, "docker.io", "foo/bar", 0, NULL, 0, D256, 1},
  {"docker.io/foo@" D384, 0, "docker.io", "foo", 1, NULL, 0, D384, 0},
  {"r.example/a/b:t@" D512, 0, "r.example", "a/b", 0, "t", 0, D512, 0},
  {HEX64ID ":tag", 0, "docker.io", HEX64ID, 1, "tag", 0, NULL, 1},
  {"swr.cn-north-4.myhuaweicloud.com/team/app:1.0", 0,
   "swr.cn-north-4.myhuaweicloud.com", "team/app", 0, "1.0", 0, NULL, 0},
};

static const ecase invalid[] = {
  /* [ref] reference_test.go TestReferenceParse, TestWithNameFailure */
  {"", 0, "image reference is empty"},
  {":justtag", 0, "missing repository name at byte 1"},
  {"@sha256:" F64, 0, "missing repository name at byte 1"},
  {"repo@sha256:ffffffffffffffffffffffffffffffffff", 0,
   "digest: sha256 needs 64 hex digits, got 34"},
  {"validname@invaliddigest:" F64, 0,
   "digest: unsupported algorithm \"invaliddigest\""},
  {"Uppercase:tag", 0, "repository name must be lowercase ('U' at byte 1)"},
  {"test:5000/Uppercase/lowercase:tag", 0,
   "repository name must be lowercase ('U' at byte 11)"},
  {"aa/asdf$$^/aa", 0, "repository name has '$' at byte 8"},
  {"[2001:db8::1]", 0, "repository name has '[' at byte 1"},
  {"[2001:db8::1]:5000", 0, "repository name has '[' at byte 1"},
  {"[2001:db8::1]:tag", 0, "repository name has '[' at byte 1"},
  {"[fe80::1%eth0]:5000/repo", 0, "'%' at byte 9 is not allowed in an IPv6"},
  {"[fe80::1%@invalidzone]:5000/repo", 0, "'%' at byte 9 is not allowed"},
  /* [ref] normalize_test.go TestValidateReferenceName (invalid) */
  {"https://github.com/docker/docker", 0,
   "invalid domain \"https:\": empty port after ':' at byte 6"},
  {"docker/Docker", 0, "must be lowercase ('D' at byte 8)"},
  {"-docker", 0, "repository name has '-' at byte 1"},
  {"-docker/docker", 0, "repository name has '-' at byte 1"},
  {"-docker.io/docker/docker", 0, "a label cannot start with '-' (byte 1)"},
  {"docker///docker", 0, "empty path component ('//') at byte 7"},
  {"docker.io/docker/Docker", 0, "must be lowercase ('D' at byte 18)"},
  {"docker.io/docker///docker", 0, "empty path component ('//') at byte 17"},
  {"[fc00::1]", 0, "repository name has '[' at byte 1"},
  {"[fc00::1]:5000", 0, "repository name has '[' at byte 1"},
  {"fc00::1:5000/debian", 0, "':' at byte 6 is not allowed in a port"},
  {"[fe80::1%eth0]:5000/debian", 0, "'%' at byte 9"},
  {"[2001:db8:3:4::192.0.2.33]:5000/debian", 0,
   "'.' at byte 19 is not allowed in an IPv6 address"},
  {HEX64ID, 0, "cannot specify 64-byte hexadecimal strings"},
  /* [ref] normalize_test.go TestValidateRemoteName (invalid) */
  {"docker-/docker", 0, "path component ends with '-' at byte 7"},
  {"-docker-/docker", 0, "repository name has '-' at byte 1"},
  {"____/____", 0, "repository name has '_' at byte 1"},
  {"_docker/_docker", 0, "repository name has '_' at byte 1"},
  {"dock..er/docker", 0, "invalid domain \"dock..er\": empty label at byte 6"},
  {"dock_.er/docker", 0, "'_' at byte 5 is not allowed"},
  {"dock-.er/docker", 0, "a label cannot end with '-' (byte 5)"},
  {"docker/", 0, "repository name ends with '/' at byte 7"},
  {"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_"
   "is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_"
   "not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_"
   "a_valid_namespace_because_its_lenth_is_greater_than_255/docker", 0,
   "repository name must not be more than 255 characters (got 278)"},
  /* [ref] normalize_test.go TestInvalidReferenceComponents */
  {"-foo", 0, "repository name has '-' at byte 1"},
  {"busybox:-foo", 0, "invalid tag \"-foo\" at byte 9: '-' cannot start a tag"},

  /* separators and components */
  {"a___b", 0, "repository name has '_' at byte 4"},
  {"a_.b", 0, "repository name has '.' at byte 3"},
  {"a.-b", 0, "repository name has '-' at byte 3"},
  {"a..b", 0, "repository name has '.' at byte 3"},
  {"a-_b", 0, "repository name has '_' at byte 3"},
  {"a-", 0, "path component ends with '-' at byte 2"},
  {"a.", 0, "path component ends with '.' at byte 2"},
  {"a__", 0, "path component ends with '_' at byte 3"},
  {"a_/b", 0, "path component ends with '_' at byte 2"},
  {"a.:tag", 0, "path component ends with '.' at byte 2"},
  {"foo/", 0, "repository name ends with '/' at byte 4"},
  {"foo/:tag", 0, "repository name ends with '/' at byte 4"},
  {"/foo", 0, "empty path component at byte 1"},
  {"foo//bar", 0, "empty path component ('//') at byte 4"},
  {"../foo", 0, "invalid domain \"..\": empty label at byte 1"},
  {"..", 0, "repository name has '.' at byte 1"},
  {"foo/../bar", 0, "repository name has '.' at byte 5"},
  {"foo/./bar", 0, "repository name has '.' at byte 5"},
  {"FOO", 0, "repository name must be lowercase ('F' at byte 1)"},
  {"foo/Bar", 0, "repository name must be lowercase ('B' at byte 5)"},
  {"r.example/a/b/C:tag", 0, "must be lowercase ('C' at byte 15)"},
  /* domains */
  {"foo.com/", 0, "missing repository name at byte 9"},
  {"foo.com:/bar", 0, "empty port after ':' at byte 8"},
  {"foo.com:5x/bar", 0, "'x' at byte 10 is not allowed in a port"},
  {"localhost:/x", 0, "empty port after ':' at byte 10"},
  {"foo..com/bar", 0, "empty label at byte 5"},
  {".foo.com/bar", 0, "empty label at byte 1"},
  {"foo.com./bar", 0, "empty label at byte 9"},
  {"foo-.com/bar", 0, "a label cannot end with '-' (byte 4)"},
  {"foo_bar.com/x", 0, "invalid domain \"foo_bar.com\": '_' at byte 4"},
  {"a.b:1:2/x", 0, "':' at byte 6 is not allowed in a port"},
  {"FOO_BAR/x", 0, "invalid domain \"FOO_BAR\": '_' at byte 4"},
  {"[]:5000/x", 0, "invalid domain \"[]:5000\": empty IPv6 address"},
  {"[]/x", 0, "repository name has '[' at byte 1"},
  {"[::1/x", 0, "missing ']' after the IPv6 address"},
  {"[::1]x/y", 0, "'x' at byte 6 is not allowed"},
  {"[g::1]/x", 0, "'g' at byte 2 is not allowed in an IPv6 address"},
  {"[::1]:/x", 0, "empty port after ':' at byte 6"},
  {"foo:tag/bar", 0, "'t' at byte 5 is not allowed in a port"},
  /* tags */
  {"foo:", 0, "empty tag after ':' at byte 4"},
  {"foo:@" D256, 0, "empty tag after ':' at byte 4"},
  {"foo:.tag", 0, "invalid tag \".tag\" at byte 5: '.' cannot start a tag"},
  {"foo:ta g", 0, "invalid tag \"ta g\" at byte 7: a space is not allowed"},
  {"foo:bar:baz", 0, "invalid tag \"bar:baz\" at byte 8: ':' is not allowed"},
  {"foo:t\001", 6, "invalid tag \"t\\x01\" at byte 6: byte 0x01 is not allowed"},
  {"foo:tag\n", 0, "at byte 8: a newline is not allowed"},
  {"foo:t\xc3\xa9", 0, "invalid tag \"t\\xc3\\xa9\" at byte 6: byte 0xc3"},
  /* digests */
  {"foo@", 0, "empty digest after '@' at byte 4"},
  {"foo:tag@", 0, "empty digest after '@' at byte 8"},
  {"foo@md5:" H16 H16, 0, "digest: unsupported algorithm \"md5\""},
  {"foo@SHA256:" H64, 0, "digest: unsupported algorithm \"SHA256\""},
  {"foo@sha256+b64:" H64, 0, "digest: unsupported algorithm \"sha256+b64\""},
  {"foo@sha256:0123456789ab", 0, "digest: sha256 needs 64 hex digits, got 12"},
  {"foo@sha256:", 0, "digest: sha256 needs 64 hex digits, got 0"},
  {"foo@sha384:" H64, 0, "digest: sha384 needs 96 hex digits, got 64"},
  {"foo@sha512:" H64, 0, "digest: sha512 needs 128 hex digits, got 64"},
  {"foo@sha256:" H64 "0", 0, "digest: sha256 needs 64 hex digits, got 65"},
  {"foo@sha256:ABCDEF" H16 H16 H16 "0123456789", 0,
   "digest: sha256 hex digits must be lowercase ('A' at byte 12)"},
  {"foo@sha256:" H16 H16 H16 "0123456789abcdeg", 0,
   "digest: 'g' at byte 75 is not a hex digit"},
  {"foo@sha256:" H64 "@" D256, 0, "digest: '@' at byte 76 is not a hex digit"},
  {"foo@sha256", 0, "digest: missing ':' and hex digits after \"sha256\""},
  {"foo@sha256+", 0, "digest: missing ':' and hex digits after \"sha256+\""},
  {"foo@:" H64, 0, "digest: ':' at byte 5 is not allowed"},
  {"foo@1sha:" H64, 0, "digest: '1' at byte 5 is not allowed"},
  {"foo@sha256+:" H64, 0, "digest: ':' at byte 12 is not allowed"},
  {"foo@sha 256:" H64, 0, "digest: a space at byte 8 is not allowed in the algorithm"},
  /* whitespace, control bytes, NUL, non-ASCII */
  {"foo bar", 0, "repository name has a space at byte 4"},
  {" foo", 0, "repository name has a space at byte 1"},
  {"foo ", 0, "repository name has a space at byte 4"},
  {"foo\n", 0, "repository name has a newline at byte 4"},
  {"foo\r\n", 0, "repository name has a carriage return at byte 4"},
  {"foo\tbar", 0, "repository name has a tab at byte 4"},
  {"foo\0bar", 7, "repository name has a NUL byte at byte 4"},
  {"\0", 1, "repository name has a NUL byte at byte 1"},
  {"foo:tag\0", 8, "a NUL byte is not allowed"},
  {"r.example\0/x", 12, "invalid domain \"r.example\\x00\": a NUL byte at byte 10"},
  {"caf\xc3\xa9", 0, "repository name has byte 0xc3 at byte 4"},
  {"\x7f", 0, "repository name has byte 0x7f at byte 1"},
  {"example.com/foo bar:tag", 0, "repository name has a space at byte 16"},
};

/* Copies (p, n) into a buffer of exactly n bytes (valgrind then sees any
** read past the end), and parses it. */
static int parse_copy(const char *p, size_t n, char **copy, swrauth_image *im,
                      swrauth_err *err) {
  *copy = malloc(n ? n : 1);
  if (*copy == NULL) abort();
  memcpy(*copy, p, n);
  return swrauth_parse_image(*copy, n, im, err);
}

/* A slice must point into the input, or be one of the static defaults. */
static int slice_ok(swrauth_slice s, const char *in, size_t n) {
  if (s.ptr == NULL) return s.len == 0;
  if (s.ptr >= in && s.ptr + s.len <= in + n) return 1;
  return tap_eq(s.ptr, s.len, "docker.io") || tap_eq(s.ptr, s.len, "latest");
}

/* A message must be short and hold only printable ASCII. */
static int msg_ok(const char *m) {
  size_t i, n = strlen(m);
  if (n == 0 || n >= 200) return 0;
  for (i = 0; i < n; i++)
    if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] >= 0x7f) return 0;
  return 1;
}

static void check_valid(const char *in, size_t n, const vcase *c,
                        const char *label) {
  swrauth_image im;
  swrauth_err err;
  char *copy;
  int rc = parse_copy(in, n, &copy, &im, &err);
  int good = rc == 0 && tap_eq(im.domain.ptr, im.domain.len, c->domain) &&
             tap_eq(im.path.ptr, im.path.len, c->path) &&
             im.library == c->library &&
             tap_eq(im.tag.ptr, im.tag.len, c->tag) &&
             im.tag_defaulted == c->tag_defaulted &&
             tap_eq(im.digest.ptr, im.digest.len, c->digest) &&
             im.domain_defaulted == c->domain_defaulted &&
             slice_ok(im.domain, copy, n) && slice_ok(im.path, copy, n) &&
             slice_ok(im.tag, copy, n) && slice_ok(im.digest, copy, n);
  ok(good, "valid: %s", label);
  if (!good) {
    if (rc != 0)
      printf("# error: %s\n", err.msg);
    else
      printf("# got domain=%.*s path=%.*s library=%d tag=%.*s tag_def=%d "
             "digest=%.*s dom_def=%d\n",
             (int)im.domain.len, im.domain.ptr ? im.domain.ptr : "",
             (int)im.path.len, im.path.ptr ? im.path.ptr : "", im.library,
             (int)im.tag.len, im.tag.ptr ? im.tag.ptr : "(none)",
             im.tag_defaulted, (int)im.digest.len,
             im.digest.ptr ? im.digest.ptr : "(none)", im.domain_defaulted);
  }
  free(copy);
}

static void check_invalid(const char *in, size_t n, const char *want,
                          const char *label) {
  swrauth_image im;
  swrauth_err err;
  char *copy;
  int rc;
  memset(&im, 0x5a, sizeof im);
  strcpy(err.msg, "(no message)");
  rc = parse_copy(in, n, &copy, &im, &err);
  ok(rc == -1 && strstr(err.msg, want) != NULL && msg_ok(err.msg) &&
     im.domain.ptr == NULL && im.path.ptr == NULL && im.tag.ptr == NULL &&
     im.digest.ptr == NULL,
     "invalid: %s -> %s", label, want);
  if (rc != -1 || strstr(err.msg, want) == NULL || !msg_ok(err.msg))
    printf("# got rc=%d: %s\n", rc, err.msg);
  free(copy);
}

/* A label for a case that is safe to print in TAP: cut, and with bytes
** outside printable ASCII as \xNN. */
static const char *label_of(const char *in, size_t n, char buf[96]) {
  size_t i, o = 0;
  for (i = 0; i < n && o < 80; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c >= 0x20 && c < 0x7f) {
      buf[o++] = (char)c;
    } else {
      o += (size_t)snprintf(buf + o, 96 - o, "\\x%02x", c);
    }
  }
  if (i < n) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
  return buf;
}

static void test_tables(void) {
  size_t k;
  char lb[96];
  for (k = 0; k < sizeof valid / sizeof valid[0]; k++) {
    const vcase *c = &valid[k];
    size_t n = c->len ? c->len : strlen(c->in);
    check_valid(c->in, n, c, label_of(c->in, n, lb));
  }
  for (k = 0; k < sizeof invalid / sizeof invalid[0]; k++) {
    const ecase *c = &invalid[k];
    size_t n = c->len ? c->len : strlen(c->in);
    check_invalid(c->in, n, c->msg, label_of(c->in, n, lb));
  }
}

/* Tag length 128 vs 129, path length 255 vs 256 (with and without a
** domain), the [ref] "a/"x128 cases, and the whole-input limit. The path
** limit is the one of distribution/reference v0.6 (docker 26+, checked
** with docker 28's CLI): the normalised path, "library/" counted, the
** domain not (found by fuzz/fuzz_parse_image; it counted the text up to
** the tag, domain included and "library/" not). */
static void test_limits(void) {
  static char buf[SWRAUTH_IMAGE_MAX + 64];
  static char want[SWRAUTH_IMAGE_MAX + 64];
  size_t i, n;
  vcase c = {NULL, 0, "docker.io", NULL, 1, NULL, 0, NULL, 1};

  /* tag of 128 characters is fine, 129 is not */
  memcpy(buf, "foo:", 4);
  memset(buf + 4, 'a', 128);
  memcpy(want, buf + 4, 128);
  want[128] = '\0';
  c.path = "foo";
  c.tag = want;
  check_valid(buf, 4 + 128, &c, "tag of 128 characters");
  buf[4 + 128] = 'a';
  check_invalid(buf, 4 + 129, "tag is longer than 128 characters (got 129)",
                "tag of 129 characters");

  /* a familiar name of 247 characters: "library/" + 247 = 255 */
  memset(buf, 'a', 247);
  memcpy(want, buf, 247);
  want[247] = '\0';
  c.path = want;
  c.tag = "latest";
  c.tag_defaulted = 1;
  check_valid(buf, 247, &c, "familiar name of 247 characters (library/ + 247)");
  buf[247] = 'a';
  check_invalid(buf, 248,
                "repository name must not be more than 255 characters (got 256, "
                "counting docker.io's 'library/')",
                "familiar name of 248 characters");
  memcpy(buf + 247, ":t", 2);
  check_valid(buf, 247, &c, "familiar name of 247 characters (prefix of a longer buffer)");

  /* a path of 255 characters after a domain: the domain is not counted */
  memcpy(buf, "r.example/", 10);
  memset(buf + 10, 'b', 255);
  memcpy(want, buf + 10, 255);
  want[255] = '\0';
  {
    vcase d = {NULL, 0, "r.example", want, 0, "latest", 1, NULL, 0};
    check_valid(buf, 265, &d, "domain + path of 255 characters");
  }
  buf[265] = 'b';
  check_invalid(buf, 266, "must not be more than 255 characters (got 256)",
                "domain + path of 256 characters");

  /* [ref] reference_test.go: "a/"x128 + "a:tag" is too long, "a/"x127 +
  ** "a:tag-puts-this-over-max" is not (the tag does not count) */
  for (i = 0, n = 0; i < 128; i++, n += 2) memcpy(buf + n, "a/", 2);
  memcpy(buf + n, "a:tag", 5);
  check_invalid(buf, n + 5, "must not be more than 255 characters (got 257)",
                "\"a/\"x128 + \"a:tag\"");
  for (i = 0, n = 0; i < 127; i++, n += 2) memcpy(buf + n, "a/", 2);
  memcpy(want, buf, n + 1);
  buf[n] = 'a';
  want[n + 1] = '\0';
  memcpy(buf + n + 1, ":tag-puts-this-over-max", 23);
  {
    vcase d = {NULL, 0, "docker.io", want, 0, "tag-puts-this-over-max", 0, NULL, 1};
    check_valid(buf, n + 1 + 23, &d, "\"a/\"x127 + \"a:tag-puts-this-over-max\"");
  }

  /* a long valid reference: path 255 + tag 128 + sha512 digest */
  memset(buf, 'c', 255);
  buf[1] = '/'; /* not a familiar name: no "library/" */
  buf[255] = ':';
  memset(buf + 256, 'T', 128);
  memcpy(buf + 384, "@" D512, 1 + 7 + 128);
  n = 384 + 136;
  check_invalid(buf, 0, "image reference is empty", "length 0 with a buffer");
  {
    swrauth_image im;
    swrauth_err err;
    char *copy;
    int rc = parse_copy(buf, n, &copy, &im, &err);
    ok(rc == 0 && im.path.len == 255 && im.tag.len == 128 &&
       im.digest.len == 135 && !im.tag_defaulted,
       "name 255 + tag 128 + sha512 digest (%zu bytes)", n);
    free(copy);
  }

  /* whole input over SWRAUTH_IMAGE_MAX */
  memset(buf, 'a', SWRAUTH_IMAGE_MAX + 1);
  check_invalid(buf, SWRAUTH_IMAGE_MAX + 1,
                "image reference is too long (1025 bytes, at most 1024)",
                "input of 1025 bytes");
  check_invalid(buf, SWRAUTH_IMAGE_MAX,
                "must not be more than 255 characters (got 1032, counting "
                "docker.io's 'library/')",
                "input of 1024 bytes (the name limit applies)");
}

/* Every single byte value, alone and as a tag: none may crash, read past
** the end, or put a raw byte into the message. */
static void test_every_byte(void) {
  int c, bad = 0, okcount = 0;
  for (c = 0; c < 256; c++) {
    char in[8];
    swrauth_image im;
    swrauth_err err;
    char *copy;
    int rc;
    in[0] = (char)c;
    rc = parse_copy(in, 1, &copy, &im, &err);
    free(copy);
    if (rc == 0) okcount++;
    else if (!msg_ok(err.msg)) bad++;
    memcpy(in, "a:", 2);
    in[2] = (char)c;
    rc = parse_copy(in, 3, &copy, &im, &err);
    free(copy);
    if (rc != 0 && !msg_ok(err.msg)) bad++;
  }
  ok(bad == 0 && okcount == 36, "every byte value: %d alone are valid (a-z, 0-9)",
     okcount);
}

/* The error is optional, and out is left zeroed on failure. */
static void test_api(void) {
  swrauth_image im;
  ok(swrauth_parse_image("a b", 3, &im, NULL) == -1 && im.path.ptr == NULL,
     "a NULL err is fine");
  ok(swrauth_parse_image("ab", 2, &im, NULL) == 0 && tap_eq(im.path.ptr, im.path.len, "ab"),
     "parses with a NULL err");
}

int main(void) {
  test_tables();
  test_limits();
  test_every_byte();
  test_api();
  return tap_done();
}

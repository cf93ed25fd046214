/*
** test_csv.c: the console's credentials CSV (swrauth_csv_begin/next),
** through the C core only.
**
** Each input is copied into a heap block of exactly its length, so a read
** past the end shows up under valgrind. Results are rendered as text,
** one "LINE:u=USER|ak=AK|sk=SK;" per row ("u=-" when the column is
** absent, bytes outside printable ASCII as \xNN), so a case is one line.
*/
#include <stdlib.h>
#include <string.h>

#include "swrauth.h"
#include "tap.h"

#define AK "QTWAOYTTINDUT2QVKYUC"
#define SK "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
#define HDR "User Name,Access Key Id,Secret Access Key"

static char *exact(const char *s, size_t n) {
  char *p = (char *)malloc(n ? n : 1);
  if (p == NULL) abort();
  if (n) memcpy(p, s, n);
  return p;
}

static void put(char *out, size_t cap, size_t *o, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (*o + 5 >= cap) return;
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out[(*o)++] = (char)c;
    } else {
      snprintf(out + *o, 5, "\\x%02x", c);
      *o += 4;
    }
  }
  out[*o] = '\0';
}

static void put_slice(char *out, size_t cap, size_t *o, const char *tag, swrauth_slice s) {
  put(out, cap, o, tag, strlen(tag));
  if (s.ptr == NULL)
    put(out, cap, o, "-", 1);
  else
    put(out, cap, o, s.ptr, s.len);
}

/* Reads all of s; renders the rows into out and returns the last status
** (0: all read, -1: error in err). */
static int run(const char *s, size_t n, char *out, size_t cap, swrauth_err *err,
               size_t *nrows) {
  static swrauth_cred_row row;
  swrauth_csv csv;
  size_t o = 0;
  char *in = exact(s, n);
  int r;
  out[0] = '\0';
  *nrows = 0;
  strcpy(err->msg, "(none)");
  if (swrauth_csv_begin(&csv, in, n, err) != 0) {
    free(in);
    return -2;
  }
  while ((r = swrauth_csv_next(&csv, &row, err)) == 1) {
    char num[32];
    (*nrows)++;
    snprintf(num, sizeof num, "%zu:", row.line);
    put(out, cap, &o, num, strlen(num));
    put_slice(out, cap, &o, "u=", row.user);
    put_slice(out, cap, &o, "|ak=", row.ak);
    put_slice(out, cap, &o, "|sk=", row.sk);
    put(out, cap, &o, ";", 1);
    /* every slice lies in the row's buffer */
    if ((row.ak.ptr < row.buf || row.ak.ptr + row.ak.len > row.buf + sizeof row.buf) ||
        (row.sk.ptr < row.buf || row.sk.ptr + row.sk.len > row.buf + sizeof row.buf) ||
        (row.user.ptr != NULL &&
         (row.user.ptr < row.buf || row.user.ptr + row.user.len > row.buf + sizeof row.buf)))
      put(out, cap, &o, "OUTSIDE", 7);
    swrauth_wipe(&row, sizeof row);
  }
  free(in);
  return r;
}

typedef struct good {
  const char *name, *in;
  size_t len; /* 0: strlen */
  const char *want;
} good;

static void test_good(void) {
  static const good cases[] = {
    {"the console's file (LF)", HDR "\nalice," AK "," SK "\n", 0,
     "2:u=alice|ak=" AK "|sk=" SK ";"},
    {"CRLF", HDR "\r\nalice," AK "," SK "\r\n", 0, "2:u=alice|ak=" AK "|sk=" SK ";"},
    {"no final line break", HDR "\nalice," AK "," SK, 0, "2:u=alice|ak=" AK "|sk=" SK ";"},
    {"UTF-8 BOM", "\xef\xbb\xbf" HDR "\r\nalice," AK "," SK "\r\n", 0,
     "2:u=alice|ak=" AK "|sk=" SK ";"},
    {"lone CR line ends", HDR "\ra,A1,S1\rb,A2,S2\r", 0, "2:u=a|ak=A1|sk=S1;3:u=b|ak=A2|sk=S2;"},
    {"mixed line ends", HDR "\r\na,A1,S1\nb,A2,S2\rc,A3,S3\r\n", 0,
     "2:u=a|ak=A1|sk=S1;3:u=b|ak=A2|sk=S2;4:u=c|ak=A3|sk=S3;"},
    {"blank lines anywhere", "\n  \n\t\r\n" HDR "\n\n,,\n \t \na,A1,S1\n\n\nb,A2,S2\n\n", 0,
     "8:u=a|ak=A1|sk=S1;11:u=b|ak=A2|sk=S2;"},
    {"columns in another order", "Secret Access Key,User Name,Access Key Id\nS1,u,A1\n", 0,
     "2:u=u|ak=A1|sk=S1;"},
    {"no User Name column", "Access Key Id,Secret Access Key\nA1,S1\n", 0,
     "2:u=-|ak=A1|sk=S1;"},
    {"SK first, no user", "Secret Access Key,Access Key Id\nS1,A1\n", 0,
     "2:u=-|ak=A1|sk=S1;"},
    {"header names: any case, spaces around", " user name ,ACCESS KEY ID,\tsecret access KEY\t\nu,A1,S1\n",
     0, "2:u=u|ak=A1|sk=S1;"},
    {"quoted header names", "\"User Name\",\"Access Key Id\", \"Secret Access Key\" \nu,A1,S1\n",
     0, "2:u=u|ak=A1|sk=S1;"},
    {"extra columns ignored", "Id,User Name,Note,Access Key Id,Secret Access Key,Created\n"
     "7,u,\"a, \"\"long\"\"\nnote\",A1,S1,2024-01-01\n", 0, "2:u=u|ak=A1|sk=S1;"},
    {"extra column with a quote in it when quoted", "Access Key Id,X,Secret Access Key\nA1,\"say \"\"hi\"\"\",S1\n",
     0, "2:u=-|ak=A1|sk=S1;"},
    {"quoted fields", HDR "\n\"a,b\",\"" AK "\",\"" SK "\"\n", 0, "2:u=a,b|ak=" AK "|sk=" SK ";"},
    {"doubled quotes", HDR "\n\"say \"\"hi\"\"\",A1,S1\n", 0, "2:u=say \"hi\"|ak=A1|sk=S1;"},
    {"only a quote", HDR "\n\"\"\"\",A1,S1\n", 0, "2:u=\"|ak=A1|sk=S1;"},
    {"empty quoted user", HDR "\n\"\",A1,S1\n", 0, "2:u=|ak=A1|sk=S1;"},
    {"empty unquoted user", HDR "\n,A1,S1\n", 0, "2:u=|ak=A1|sk=S1;"},
    {"line breaks inside quotes; later lines counted", HDR "\n\"a\nb\r\nc\",A1,S1\nd,A2,S2\n", 0,
     "2:u=a\\x0ab\\x0d\\x0ac|ak=A1|sk=S1;5:u=d|ak=A2|sk=S2;"},
    {"spaces around a quoted field", HDR "\n  \"u\"  ,A1,S1\n", 0, "2:u=u|ak=A1|sk=S1;"},
    {"spaces in an unquoted user are kept", HDR "\n  a b  ,A1,S1\n", 0, "2:u=  a b  |ak=A1|sk=S1;"},
    {"quoted last field at the end of input", HDR "\nu,A1,\"S1\"", 0, "2:u=u|ak=A1|sk=S1;"},
    {"formula injection kept verbatim", HDR "\n=cmd|' /C calc'!A0,A1,S1\n+1+1,A2,S2\n-2,A3,S3\n"
     "@SUM(A1),A4,S4\n\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",A5,S5\n", 0,
     "2:u==cmd|' /C calc'!A0|ak=A1|sk=S1;3:u=+1+1|ak=A2|sk=S2;4:u=-2|ak=A3|sk=S3;"
     "5:u=@SUM(A1)|ak=A4|sk=S4;6:u==HYPERLINK(\"http://x\",\"y\")|ak=A5|sk=S5;"},
    {"shell text in a user name is data", HDR "\n$(rm -rf /);`id`,A1,S1\n", 0,
     "2:u=$(rm -rf /);`id`|ak=A1|sk=S1;"},
    {"invalid UTF-8 and NUL in a user name kept", HDR "\n\xff\xfe\x00\xc3(,A1,S1\n",
     sizeof HDR + 13 - 1, "2:u=\\xff\\xfe\\x00\\xc3(|ak=A1|sk=S1;"},
    {"UTF-8 user name", HDR "\n\xe5\xbc\xa0\xe4\xb8\x89,A1,S1\n", 0,
     "2:u=\\xe5\\xbc\\xa0\\xe4\\xb8\\x89|ak=A1|sk=S1;"},
    {"header only", HDR "\n", 0, ""},
    {"header only, no line break", HDR, 0, ""},
    {"header only with BOM and blank lines", "\xef\xbb\xbf\n" HDR "\n\n,,\n", 0, ""},
  };
  size_t i, nrows;
  char out[4096];
  swrauth_err err;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
    int r = run(cases[i].in, n, out, sizeof out, &err, &nrows);
    ok(r == 0 && strcmp(out, cases[i].want) == 0, "%s: %s%s", cases[i].name, out,
       r == 0 ? "" : err.msg);
  }
}

typedef struct bad {
  const char *in;
  size_t len;
  const char *msg;
  int at_begin; /* 1: begin fails */
} bad;

static void test_errors(void) {
  static const bad cases[] = {
    {"", 0, "empty input", 1},
    {"\xef\xbb\xbf", 0, "empty input", 1},
    {"\n\r\n \t\n", 0, "empty input", 1},
    {"\xff\xfeU\0s\0", 6, "input is UTF-16 (it starts with a UTF-16 byte order mark): save the file as UTF-8", 1},
    {"\xfe\xff\0U", 4, "input is UTF-16", 1},
    {"User Name,Secret Access Key\nu,S1\n", 0, "line 1: missing column 'Access Key Id'", 1},
    {"User Name,Access Key Id\nu,A1\n", 0, "line 1: missing column 'Secret Access Key'", 1},
    {"\n\nUser,AK,SK\n", 0, "line 3: missing column 'Access Key Id'", 1},
    {"u," AK "," SK "\n", 0, "line 1: missing column 'Access Key Id'", 1},
    {"Access Key Id,Secret Access Key,access key id\n", 0,
     "line 1: column 'Access Key Id' appears twice", 1},
    {"User Name,user name,Access Key Id,Secret Access Key\n", 0,
     "line 1: column 'User Name' appears twice", 1},
    {"\"User Name,Access Key Id,Secret Access Key\n", 0, "line 1: unterminated quoted field", 1},
    {"\"Access Key Id\"x,Secret Access Key\n", 0,
     "line 1: text after the closing quote of column 1", 1},
    {HDR "\nu,A1,S1\nu,A2,S2\nu,A3\n", 0, "line 4: row has 2 fields, the header has 3", 0},
    {HDR "\nu,A1,S1\nu,A2,S2,x\n", 0, "line 3: row has 4 fields, the header has 3", 0},
    {HDR "\n" AK "\n", 0, "line 2: row has 1 field, the header has 3", 0},
    {HDR "\nu,\"A1,S1\n", 0, "line 2: unterminated quoted field", 0},
    {HDR "\nu,A1,S1\n\nu,\"A2\nmore\n", 0, "line 4: unterminated quoted field", 0},
    {HDR "\nu,\"A1\"x,S1\n", 0, "line 2: text after the closing quote of 'Access Key Id'", 0},
    {HDR "\n\"u\nv\" y,A1,S1\n", 0, "line 3: text after the closing quote of 'User Name'", 0},
    {HDR "\nu,A\"1,S1\n", 0,
     "line 2: a quote inside the unquoted field 'Access Key Id' (quote the whole field and double the quote)", 0},
    {"Access Key Id,X,Secret Access Key\nA1,a\"b,S1\n", 0,
     "line 2: a quote inside the unquoted field column 2", 0},
    {HDR "\nu,A1,S1\nu,A2,S2\nu,,S3\n", 0, "line 4: empty 'Access Key Id'", 0},
    {HDR "\nu,A1,\n", 0, "line 2: empty 'Secret Access Key'", 0},
    {HDR "\nu,\"\",S1\n", 0, "line 2: empty 'Access Key Id'", 0},
    {HDR "\nu,A1,SECRET KEY\n", 0,
     "line 2: 'Secret Access Key' has a space at byte 7 (whitespace and control characters are not allowed)", 0},
    {HDR "\nu, A1,S1\n", 0,
     "line 2: 'Access Key Id' has a space at byte 1 (leading or trailing whitespace?)", 0},
    {HDR "\nu,A1,\"S1\n\"\n", 0,
     "line 2: 'Secret Access Key' has a newline at byte 3 (a pasted newline?)", 0},
    {HDR "\nu,A1,S1\t\n", 0, "line 2: 'Secret Access Key' has a tab at byte 3 (leading or trailing whitespace?)", 0},
    {HDR "\nu,A\0001,S1\n", sizeof HDR + 9 - 1,
     "line 2: 'Access Key Id' has a NUL byte at byte 2 (whitespace and control characters are not allowed)", 0},
    {HDR "\nu,A1,S\xc3\xa9\n", 0, "line 2: 'Secret Access Key' has byte 0xc3 at byte 2 (only printable ASCII is allowed)", 0},
  };
  size_t i, nrows;
  char out[4096];
  swrauth_err err;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
    int r = run(cases[i].in, n, out, sizeof out, &err, &nrows);
    ok(r == (cases[i].at_begin ? -2 : -1) &&
           strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) == 0 &&
           strstr(err.msg, "SECRET") == NULL,
       "refused (case %zu): %s", i, err.msg);
  }
}

static void test_limits(void) {
  static char buf[(1 << 20) + 256];
  size_t n, nrows, i;
  char out[8192];
  swrauth_err err;
  int r;

  /* Fields of exactly SWRAUTH_CSV_FIELD_MAX bytes fit. */
  n = (size_t)sprintf(buf, HDR "\n");
  memset(buf + n, 'u', SWRAUTH_CSV_FIELD_MAX);
  n += SWRAUTH_CSV_FIELD_MAX;
  buf[n++] = ',';
  memset(buf + n, 'A', SWRAUTH_CSV_FIELD_MAX);
  n += SWRAUTH_CSV_FIELD_MAX;
  buf[n++] = ',';
  memset(buf + n, 'S', SWRAUTH_CSV_FIELD_MAX);
  n += SWRAUTH_CSV_FIELD_MAX;
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == 0 && nrows == 1, "user, AK and SK of %d bytes each fit: %s", SWRAUTH_CSV_FIELD_MAX,
     r == 0 ? "" : err.msg);

  /* One byte more in each used column is an error naming it. */
  n = (size_t)sprintf(buf, HDR "\nu,A1,");
  memset(buf + n, 'S', SWRAUTH_CSV_FIELD_MAX + 1);
  n += SWRAUTH_CSV_FIELD_MAX + 1;
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == -1 && strcmp(err.msg, "line 2: 'Secret Access Key' is too long (more than 1024 bytes)") == 0,
     "SK over the limit: %s", err.msg);
  n = (size_t)sprintf(buf, HDR "\n\"");
  memset(buf + n, 'u', SWRAUTH_CSV_FIELD_MAX + 1);
  n += SWRAUTH_CSV_FIELD_MAX + 1;
  n += (size_t)sprintf(buf + n, "\",A1,S1\n");
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == -1 && strcmp(err.msg, "line 2: 'User Name' is too long (more than 1024 bytes)") == 0,
     "quoted user name over the limit: %s", err.msg);
  n = (size_t)sprintf(buf, HDR "\nu,");
  memset(buf + n, 'A', SWRAUTH_CSV_FIELD_MAX + 1);
  n += SWRAUTH_CSV_FIELD_MAX + 1;
  n += (size_t)sprintf(buf + n, ",S1\n");
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == -1 && strcmp(err.msg, "line 2: 'Access Key Id' is too long (more than 1024 bytes)") == 0,
     "AK over the limit: %s", err.msg);

  /* An ignored column may be longer; so may a header name. */
  n = (size_t)sprintf(buf, "Note,Access Key Id,Secret Access Key,");
  memset(buf + n, 'h', 5000);
  n += 5000;
  n += (size_t)sprintf(buf + n, "\n");
  memset(buf + n, 'x', 100000);
  n += 100000;
  n += (size_t)sprintf(buf + n, ",A1,S1,y\n");
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == 0 && strcmp(out, "2:u=-|ak=A1|sk=S1;") == 0,
     "a 100 kB ignored column and a 5000-byte header name: %s", r == 0 ? out : err.msg);

  /* 1 MiB of rows. */
  n = (size_t)sprintf(buf, "\xef\xbb\xbf" HDR "\r\n");
  for (i = 0; n + 80 < (1u << 20); i++)
    n += (size_t)sprintf(buf + n, "user%zu,AK%016zu,\"SK%zu\"\r\n", i, i, i);
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == 0 && nrows == i, "1 MiB of rows: %zu of %zu read", nrows, i);
  {
    static swrauth_cred_row row;
    swrauth_csv csv;
    size_t last = 0, k = 0, bad_lines = 0;
    char *in = exact(buf, n);
    if (swrauth_csv_begin(&csv, in, n, &err) == 0)
      while (swrauth_csv_next(&csv, &row, &err) == 1) {
        if (row.line != k + 2) bad_lines++;
        last = row.line;
        k++;
      }
    ok(bad_lines == 0 && last == i + 1, "row lines count up from 2 to %zu", last);
    free(in);
  }

  /* 1 MiB in one unterminated quoted field; 1 MiB of one unquoted user. */
  n = (size_t)sprintf(buf, HDR "\nu,A1,\"");
  memset(buf + n, 'S', (1u << 20) - n);
  n = 1u << 20;
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == -1 && strcmp(err.msg, "line 2: unterminated quoted field") == 0,
     "1 MiB unterminated quoted field: %s", err.msg);
  n = (size_t)sprintf(buf, HDR "\n");
  memset(buf + n, 'u', (1u << 20) - n);
  n = 1u << 20;
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == -1 && strcmp(err.msg, "line 2: 'User Name' is too long (more than 1024 bytes)") == 0,
     "1 MiB user name: %s", err.msg);
  /* 1 MiB of blank lines then a row: its line is counted. */
  n = (size_t)sprintf(buf, HDR "\n");
  memset(buf + n, '\n', (1u << 20));
  n += 1u << 20;
  n += (size_t)sprintf(buf + n, "u,A1,S1");
  r = run(buf, n, out, sizeof out, &err, &nrows);
  ok(r == 0 && strcmp(out, "1048578:u=u|ak=A1|sk=S1;") == 0, "a row after 1 MiB of blank lines: %s",
     out);
  /* Random bytes never crash or read past the end (valgrind checks). */
  {
    unsigned s = 12345;
    size_t round, fails = 0;
    static const char alphabet[] = "\",\r\n AKS\0\xff";
    for (round = 0; round < 2000; round++) {
      size_t len = round % 200;
      n = (size_t)sprintf(buf, "%s\n", round % 3 ? HDR : "Access Key Id,Secret Access Key");
      for (i = 0; i < len; i++) {
        s = s * 1103515245u + 12345u;
        buf[n++] = alphabet[(s >> 16) % (sizeof alphabet - 1)];
      }
      r = run(buf, n, out, sizeof out, &err, &nrows);
      if (r == -1 && strncmp(err.msg, "line ", 5) != 0) fails++;
    }
    ok(fails == 0, "2000 random inputs: every error names a line (%zu do not)", fails);
  }
}

static void test_api(void) {
  static swrauth_cred_row row;
  swrauth_csv csv;
  swrauth_err err;
  const char *s = HDR "\r\na,A1,S1\r\n";
  ok(swrauth_csv_begin(&csv, s, strlen(s), &err) == 0 && csv.ncols == 3 &&
         csv.col_user == 0 && csv.col_ak == 1 && csv.col_sk == 2 && csv.line == 2,
     "begin: columns found and line of the next row");
  ok(swrauth_csv_next(&csv, &row, &err) == 1 && row.line == 2 &&
         row.user.ptr == row.buf && row.ak.ptr == row.buf + SWRAUTH_CSV_FIELD_MAX &&
         row.sk.ptr == row.buf + 2 * SWRAUTH_CSV_FIELD_MAX,
     "next: user, AK and SK in their parts of buf");
  ok(swrauth_csv_next(&csv, &row, &err) == 0, "next: 0 at the end");
  ok(swrauth_csv_next(&csv, &row, &err) == 0, "next: 0 again after the end");
  ok(swrauth_csv_begin(&csv, "", 0, NULL) == -1, "begin: err may be NULL");
  s = HDR "\nu,A 1,S1\n";
  ok(swrauth_csv_begin(&csv, s, strlen(s), NULL) == 0 &&
         swrauth_csv_next(&csv, &row, NULL) == -1,
     "next: err may be NULL");
  swrauth_wipe(&row, sizeof row);
}

int main(void) {
  test_good();
  test_errors();
  test_limits();
  test_api();
  return tap_done();
}

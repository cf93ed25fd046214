/*
** fuzz_parse_credentials: the credentials CSV reader (swrauth_csv_begin,
** swrauth_csv_next) on arbitrary bytes.
**
** Properties beyond "no crash":
**  - the reader terminates: every call that returns a row consumes input,
**    and line numbers never go backwards;
**  - every row's AK and SK pass swrauth_check_cred, every field is at most
**    SWRAUTH_CSV_FIELD_MAX bytes and lies in the row's buffer;
**  - round trip: the rows written back as an RFC 4180 CSV (every field
**    quoted, '"' doubled, a fixed header) read back to the same rows;
**  - on failure the message is printable ASCII and names a line.
*/
#include "fuzz_common.h"

#define MAX_ROWS 64

typedef struct row {
  fuzz_buf user, ak, sk;
  int has_user;
} row;

static void put_csv_field(fuzz_buf *b, swrauth_slice s) {
  size_t i;
  fuzz_puts(b, "\"");
  for (i = 0; i < s.len; i++) {
    if (s.ptr[i] == '"') fuzz_puts(b, "\"");
    fuzz_put(b, s.ptr + i, 1);
  }
  fuzz_puts(b, "\"");
}

static void check_row(const swrauth_cred_row *r) {
  swrauth_err e;
  FUZZ_CHECK(r->ak.ptr != NULL && r->sk.ptr != NULL, "row without AK or SK");
  FUZZ_CHECK(fuzz_inside(r->user, r->buf, sizeof r->buf) &&
                 fuzz_inside(r->ak, r->buf, sizeof r->buf) &&
                 fuzz_inside(r->sk, r->buf, sizeof r->buf),
             "field outside the row buffer");
  FUZZ_CHECK(r->user.len <= SWRAUTH_CSV_FIELD_MAX && r->ak.len <= SWRAUTH_CSV_FIELD_MAX &&
                 r->sk.len <= SWRAUTH_CSV_FIELD_MAX,
             "field longer than SWRAUTH_CSV_FIELD_MAX");
  FUZZ_CHECK(swrauth_check_cred("AK", r->ak.ptr, r->ak.len, &e) == 0,
             "row AK fails check_cred: %s", e.msg);
  FUZZ_CHECK(swrauth_check_cred("SK", r->sk.ptr, r->sk.len, &e) == 0,
             "row SK fails check_cred: %s", e.msg);
}

static swrauth_cred_row cr;

/* Reads all rows of s into rows (at most MAX_ROWS); returns the count, or
** -1 on a reader error. */
static int read_all(const char *s, size_t n, row *rows, int keep, swrauth_err *err) {
  swrauth_csv csv;
  int count = 0, rc;
  size_t last_line;
  fuzz_err_reset(err);
  if (swrauth_csv_begin(&csv, s, n, err) != 0) {
    fuzz_check_msg(err);
    return -1;
  }
  FUZZ_CHECK(csv.col_ak >= 0 && csv.col_sk >= 0 && (size_t)csv.col_ak < csv.ncols &&
                 (size_t)csv.col_sk < csv.ncols &&
                 (csv.col_user < 0 || (size_t)csv.col_user < csv.ncols),
             "header columns out of range");
  FUZZ_CHECK(csv.p >= s && csv.p <= s + n, "reader position outside the input");
  last_line = csv.line;
  for (;;) {
    const char *before = csv.p;
    fuzz_err_reset(err);
    rc = swrauth_csv_next(&csv, &cr, err);
    FUZZ_CHECK(csv.p >= before && csv.p <= s + n, "reader went backwards or past the end");
    if (rc == 0) {
      FUZZ_CHECK(csv.p == s + n, "end reported before the end of input");
      return count;
    }
    if (rc < 0) {
      FUZZ_CHECK(rc == -1, "csv_next returned %d", rc);
      fuzz_check_msg(err);
      FUZZ_CHECK(strncmp(err->msg, "line ", 5) == 0, "message names no line: %s",
                 err->msg);
      return -1;
    }
    FUZZ_CHECK(rc == 1, "csv_next returned %d", rc);
    FUZZ_CHECK(csv.p > before, "a row was read without consuming input");
    FUZZ_CHECK(cr.line >= last_line, "line numbers went backwards");
    last_line = cr.line;
    check_row(&cr);
    if (keep && count < MAX_ROWS) {
      row *r = &rows[count];
      r->has_user = cr.user.ptr != NULL;
      fuzz_put_slice(&r->user, cr.user);
      fuzz_put_slice(&r->ak, cr.ak);
      fuzz_put_slice(&r->sk, cr.sk);
      /* make sure put happened even for empty slices */
      fuzz_put(&r->user, "", 0);
    }
    count++;
  }
}

static row rows[MAX_ROWS], rows2[MAX_ROWS];

static void free_rows(row *r) {
  int i;
  for (i = 0; i < MAX_ROWS; i++) {
    fuzz_free(&r[i].user);
    fuzz_free(&r[i].ak);
    fuzz_free(&r[i].sk);
    r[i].has_user = 0;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  swrauth_err err;
  fuzz_buf out = {0};
  int n, n2, i;

  if (size > 64 * 1024) return -1;
  n = read_all((const char *)data, size, rows, 1, &err);
  if (n <= 0 || n > MAX_ROWS) {
    free_rows(rows);
    return 0;
  }
  fuzz_puts(&out, "User Name,Access Key Id,Secret Access Key\r\n");
  for (i = 0; i < n; i++) {
    swrauth_slice u = {rows[i].user.p, rows[i].user.n}, a = {rows[i].ak.p, rows[i].ak.n},
                  k = {rows[i].sk.p, rows[i].sk.n};
    put_csv_field(&out, u);
    fuzz_puts(&out, ",");
    put_csv_field(&out, a);
    fuzz_puts(&out, ",");
    put_csv_field(&out, k);
    fuzz_puts(&out, "\r\n");
  }
  {
    char *copy = fuzz_dup(out.p, out.n);
    n2 = read_all(copy, out.n, rows2, 1, &err);
    FUZZ_CHECK(n2 == n, "round trip: %d rows became %d (%s)", n, n2,
               n2 < 0 ? err.msg : "");
    for (i = 0; i < n; i++) {
      FUZZ_CHECK(rows[i].user.n == rows2[i].user.n &&
                     memcmp(rows[i].user.p, rows2[i].user.p, rows[i].user.n) == 0,
                 "round trip: user of row %d differs", i + 1);
      FUZZ_CHECK(rows[i].ak.n == rows2[i].ak.n &&
                     memcmp(rows[i].ak.p, rows2[i].ak.p, rows[i].ak.n) == 0,
                 "round trip: AK of row %d differs", i + 1);
      FUZZ_CHECK(rows[i].sk.n == rows2[i].sk.n &&
                     memcmp(rows[i].sk.p, rows2[i].sk.p, rows[i].sk.n) == 0,
                 "round trip: SK of row %d differs", i + 1);
    }
    free(copy);
  }
  fuzz_free(&out);
  free_rows(rows);
  free_rows(rows2);
  return 0;
}

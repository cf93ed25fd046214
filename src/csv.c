/*
** csv.c: the credentials CSV the Huawei Cloud console downloads when an
** access key is created:
**
**   User Name,Access Key Id,Secret Access Key
**   alice,QTWAOYTTINDUT2QVKYUC,MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc
**
** RFC 4180 fields: a field that starts with '"' (after optional spaces or
** tabs) is quoted, may hold commas, line breaks and "" for a quote, and
** may be followed by spaces or tabs only; a '"' inside an unquoted field
** is refused. Lines end with LF, CRLF or a lone CR. Lines that are empty
** or hold only spaces and tabs are skipped, and so are rows whose fields
** are all empty (",," as spreadsheets write them). The first other line
** is the header.
**
** Values are returned byte for byte (a user name such as "=cmd|..." is
** data, never interpreted); AK and SK are held to swrauth_check_cred.
** User name, AK and SK may be SWRAUTH_CSV_FIELD_MAX bytes long; other
** columns are skipped whatever their length. Messages name the line and
** the column, never a value.
*/
#include <string.h>

#include "internal.h"

static const char *const col_names[3] = {"User Name", "Access Key Id",
                                         "Secret Access Key"};

/* Where a field ended. */
enum { END_COMMA, END_LINE, END_INPUT };

/* Spaces and tabs: ignored around quoted fields and header names. */
static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Consumes a line end at *p (CRLF, LF or CR) if there is one. */
static int eat_newline(const char **p, const char *end) {
  if (*p < end && **p == '\r') {
    (*p)++;
    if (*p < end && **p == '\n') (*p)++;
    return 1;
  }
  if (*p < end && **p == '\n') {
    (*p)++;
    return 1;
  }
  return 0;
}

/* Skips lines that are empty or only spaces and tabs, counting them. */
static void skip_blank_lines(swrauth_csv *csv) {
  for (;;) {
    const char *q = csv->p;
    while (q < csv->end && is_blank(*q)) q++;
    if (q == csv->end) {
      csv->p = q;
      return;
    }
    if (!eat_newline(&q, csv->end)) return;
    csv->p = q;
    csv->line++;
  }
}

/* Names column i for a message: the header's name for the columns read,
** "column N" for the others. */
static const char *col_label(const swrauth_csv *csv, size_t i, char buf[32]) {
  if ((int)i == csv->col_user) return "'User Name'";
  if ((int)i == csv->col_ak) return "'Access Key Id'";
  if ((int)i == csv->col_sk) return "'Secret Access Key'";
  snprintf(buf, 32, "column %zu", i + 1);
  return buf;
}

/* Reads the field at csv->p, unescaped into dst (cap bytes; dst may be
** NULL to drop it). *len is the whole field's length even when it did not
** fit. *ended says what followed it; the line count follows line breaks
** inside quotes. */
static int read_field(swrauth_csv *csv, size_t col, char *dst, size_t cap,
                      size_t *len, int *ended, swrauth_err *err) {
  const char *p = csv->p, *end = csv->end, *q = p;
  size_t n = 0;
  char lb[32];
  while (q < end && is_blank(*q)) q++;
  if (q < end && *q == '"') {
    size_t start_line = csv->line;
    p = q + 1;
    for (;;) {
      char c;
      if (p == end) {
        csv->p = p;
        return swrauth__fail(err, "line %zu: unterminated quoted field", start_line);
      }
      c = *p;
      if (c == '"') {
        if (p + 1 < end && p[1] == '"') {
          p += 2;
        } else {
          p++;
          break;
        }
      } else if (c == '\r' && p + 1 < end && p[1] == '\n') {
        /* CRLF inside quotes: kept as is, one line. */
        if (dst != NULL && n < cap) dst[n] = '\r';
        n++;
        p += 2;
        c = '\n';
        csv->line++;
      } else if (c == '\r' || c == '\n') {
        p++;
        csv->line++;
      } else {
        p++;
      }
      if (dst != NULL && n < cap) dst[n] = c;
      n++;
    }
    while (p < end && is_blank(*p)) p++;
    if (p < end && *p != ',' && *p != '\r' && *p != '\n') {
      csv->p = p;
      return swrauth__fail(err, "line %zu: text after the closing quote of %s",
                           csv->line, col_label(csv, col, lb));
    }
  } else {
    for (; p < end && *p != ',' && *p != '\r' && *p != '\n'; p++) {
      if (*p == '"') {
        csv->p = p;
        return swrauth__fail(err, "line %zu: a quote inside the unquoted field %s "
                             "(quote the whole field and double the quote)",
                             csv->line, col_label(csv, col, lb));
      }
      if (dst != NULL && n < cap) dst[n] = *p;
      n++;
    }
  }
  *len = n;
  if (p == end) {
    *ended = END_INPUT;
  } else if (*p == ',') {
    p++;
    *ended = END_COMMA;
  } else {
    eat_newline(&p, end);
    csv->line++;
    *ended = END_LINE;
  }
  csv->p = p;
  return 0;
}

/* Compares a header name with a wanted one: case-insensitive, surrounding
** spaces and tabs ignored. */
static int header_is(const char *s, size_t n, const char *want) {
  size_t wn = strlen(want), i;
  while (n > 0 && is_blank(*s)) s++, n--;
  while (n > 0 && is_blank(s[n - 1])) n--;
  if (n != wn) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
    if (c != (unsigned char)(want[i] >= 'A' && want[i] <= 'Z'
                                 ? want[i] - 'A' + 'a' : want[i]))
      return 0;
  }
  return 1;
}

/* Reads the header: skips a UTF-8 BOM and blank lines, then finds the
** columns by name. A file with a header and no row is fine here. */
int swrauth_csv_begin(swrauth_csv *csv, const char *s, size_t n,
                      swrauth_err *err) {
  char name[64];
  int *slots[3];
  size_t col = 0, len, line;
  int ended = END_COMMA, k;
  csv->p = s;
  csv->end = s + n;
  csv->line = 1;
  csv->ncols = 0;
  csv->col_user = csv->col_ak = csv->col_sk = -1;
  slots[0] = &csv->col_user;
  slots[1] = &csv->col_ak;
  slots[2] = &csv->col_sk;
  if (n >= 2 && (((unsigned char)s[0] == 0xff && (unsigned char)s[1] == 0xfe) ||
                 ((unsigned char)s[0] == 0xfe && (unsigned char)s[1] == 0xff)))
    return swrauth__fail(err, "input is UTF-16 (it starts with a UTF-16 byte order "
                         "mark): save the file as UTF-8");
  if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) csv->p += 3;
  skip_blank_lines(csv);
  if (csv->p == csv->end) return swrauth__fail(err, "empty input");
  line = csv->line;
  while (ended == END_COMMA) {
    if (read_field(csv, col, name, sizeof name, &len, &ended, err) != 0)
      return -1;
    for (k = 0; k < 3; k++) {
      if (len > sizeof name || !header_is(name, len, col_names[k])) continue;
      if (*slots[k] >= 0)
        return swrauth__fail(err, "line %zu: column '%s' appears twice", line,
                             col_names[k]);
      *slots[k] = (int)col;
    }
    if (col >= 0x7fffffff)
      return swrauth__fail(err, "line %zu: too many columns", line);
    col++;
  }
  csv->ncols = col;
  for (k = 1; k < 3; k++)
    if (*slots[k] < 0)
      return swrauth__fail(err, "line %zu: missing column '%s'", line,
                           col_names[k]);
  return 0;
}

/* Checks an AK or SK value of the row that starts on `line`. */
static int check_value(size_t line, const char *label, swrauth_slice v,
                       swrauth_err *err) {
  if (v.len == 0) return swrauth__fail(err, "line %zu: empty %s", line, label);
  if (swrauth_check_cred(label, v.ptr, v.len, err) != 0) {
    swrauth_err e;
    if (err == NULL) return -1;
    e = *err;
    return swrauth__fail(err, "line %zu: %s", line, e.msg);
  }
  return 0;
}

/* Reads the next row into row->buf: the user name at offset 0, the AK at
** SWRAUTH_CSV_FIELD_MAX and the SK at twice that. */
/* swrauth_csv_next without the wipe on failure. */
static int next_row(swrauth_csv *csv, swrauth_cred_row *row,
                    swrauth_err *err) {
  for (;;) {
    size_t col = 0, len, nonempty = 0;
    int ended = END_COMMA;
    char lb[32];
    skip_blank_lines(csv);
    if (csv->p == csv->end) return 0;
    row->line = csv->line;
    row->user.ptr = row->ak.ptr = row->sk.ptr = NULL;
    row->user.len = row->ak.len = row->sk.len = 0;
    while (ended == END_COMMA) {
      swrauth_slice *slot = NULL;
      char *dst = NULL;
      if ((int)col == csv->col_user) {
        slot = &row->user;
        dst = row->buf;
      } else if ((int)col == csv->col_ak) {
        slot = &row->ak;
        dst = row->buf + SWRAUTH_CSV_FIELD_MAX;
      } else if ((int)col == csv->col_sk) {
        slot = &row->sk;
        dst = row->buf + 2 * SWRAUTH_CSV_FIELD_MAX;
      }
      if (read_field(csv, col, dst, SWRAUTH_CSV_FIELD_MAX, &len, &ended, err) != 0)
        return -1;
      if (slot != NULL) {
        if (len > SWRAUTH_CSV_FIELD_MAX)
          return swrauth__fail(err, "line %zu: %s is too long (more than %d bytes)",
                               row->line, col_label(csv, col, lb),
                               SWRAUTH_CSV_FIELD_MAX);
        slot->ptr = dst;
        slot->len = len;
      }
      if (len > 0) nonempty++;
      col++;
    }
    if (nonempty == 0) continue; /* ",,": an emptied row */
    if (col != csv->ncols)
      return swrauth__fail(err, "line %zu: row has %zu field%s, the header has %zu",
                           row->line, col, col == 1 ? "" : "s", csv->ncols);
    if (check_value(row->line, "'Access Key Id'", row->ak, err) != 0 ||
        check_value(row->line, "'Secret Access Key'", row->sk, err) != 0)
      return -1;
    return 1;
  }
}

/* A row that fails may hold part of an SK: it is wiped here, so the
** caller's buffer holds a secret only after a row was read. */
int swrauth_csv_next(swrauth_csv *csv, swrauth_cred_row *row,
                     swrauth_err *err) {
  int r = next_row(csv, row, err);
  if (r < 0) {
    swrauth_wipe(row->buf, sizeof row->buf);
    row->user.ptr = row->ak.ptr = row->sk.ptr = NULL;
    row->user.len = row->ak.len = row->sk.len = 0;
  }
  return r;
}

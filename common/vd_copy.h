/*  vd_copy - PostgreSQL COPY text fields: written by the normalizer (a
    canonical row travels to the loader as its COPY text), checked and
    written by the loader, the recommender and the warnings' staging.
*/
#ifndef VD_COPY_H_INCLUDED
#define VD_COPY_H_INCLUDED

#include "vendange.h"
#include <libpq-fe.h>

/*  Appends s as one COPY text field: backslash, tab, newline and CR
    escaped, NUL bytes dropped, invalid UTF-8 replaced. NULL s gives \N.
    0, -1 when the buffer refuses. */
int vd_copy_text (vd_buf_t *b, const char *s, size_t len);
/*  Appends n NUL-terminated items, one after the other in items, as one
    COPY field holding a PostgreSQL array literal {"a","b"}. 0, -1. */
int vd_copy_array (vd_buf_t *b, const char *items, size_t n);
/*  True when s[0..len) is n COPY text fields a COPY may take as one row:
    valid UTF-8, n - 1 tabs, no newline, CR or NUL (escaped or not), no
    backslash at the end. */
bool vd_copy_row_valid (const char *s, size_t len, size_t n);

/*  Reads the COPY text field at *p (up to end or the next tab) into out,
    unescaped and NUL-terminated, and moves *p past its tab (to end + 1
    after the last field). 1 for \N (NULL, out empty), 0 for a value, -1
    when the buffer refuses or *p is past the last field. */
int vd_copy_field (const char **p, const char *end, vd_buf_t *out);

/*  The COPY round trip (psql's copy.c rules: check every PQputCopyData,
    abort with PQputCopyEnd(errmsg), drain PQgetResult to NULL).
    vd_copy_run runs `sql` (a COPY ... FROM STDIN) with data: 0, -1 with
    err. The same in steps, for data sent as it comes: begin (0, -1 with
    err), send (0, -1: the connection failed), end (ok false aborts the
    COPY; 0 when it is ok and the server took every row, -1 with err). */
int vd_copy_run (PGconn *conn, const char *sql, const char *data, size_t len, vd_error_t *err);
int vd_copy_begin (PGconn *conn, const char *sql, vd_error_t *err);
int vd_copy_send (PGconn *conn, const char *data, size_t len);
int vd_copy_end (PGconn *conn, bool ok, vd_error_t *err);
/*  Starts `sql` (a COPY ... TO STDOUT): 0, -1 with err; then
    PQgetCopyData until it says the end, and PQgetResult to NULL. */
int vd_copy_out_begin (PGconn *conn, const char *sql, vd_error_t *err);

/*  Binary COPY (FORMAT binary) of fields written as COPY text: the
    server skips the text parse of every value (numeric and date inputs
    are most of a text COPY's cost). A stream is the header, then per row
    vd_copy_bin_row and its fields, then the trailer. vd_copy_bin_field
    takes one COPY text field (f, len: up to its tab; \N is NULL) of the
    given type, in the forms vendange writes: text with the escapes
    vd_copy_text makes, decimal numbers ([-]digits[.digits], at most 1000
    digits), ISO dates (YYYY-MM-DD), bytea as \\x and hex. It gives the
    value the server's text input would (numeric scale included). Returns
    0; 1 when the field is not in those forms (the caller sends the row
    as text instead: nothing was appended); -1 when the buffer refuses
    (it reserves the text's length + 16 bytes a field). */
typedef enum {
    VD_COPY_BIN_TEXT,
    VD_COPY_BIN_NUMERIC,
    VD_COPY_BIN_DATE,
    VD_COPY_BIN_BYTEA
} vd_copy_bin_t;
int vd_copy_bin_header (vd_buf_t *b);
int vd_copy_bin_trailer (vd_buf_t *b);
int vd_copy_bin_field (vd_buf_t *b, vd_copy_bin_t type, const char *f, size_t len);
/*  A tuple of nfields fields: the ntypes COPY text fields of row (len
    bytes, no newline), each of its type; the caller appends the other
    nfields - ntypes with vd_copy_bin_field. 0, 1 (a field not in form, or
    not ntypes fields: nothing appended), -1. */
int vd_copy_bin_row (vd_buf_t *b, size_t nfields, const char *row, size_t len,
                     const vd_copy_bin_t *types, size_t ntypes);

int vd_copy_test (bool verbose);

#endif

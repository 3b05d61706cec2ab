/*  vd_copy - PostgreSQL COPY text fields (see vd_copy.h). */
#include "vd_copy.h"
#include "vd_db.h"

//  Bytes COPY text must escape (backslash, tab, newline, CR) or drop (NUL)
static const bool s_special[256] = {
    ['\\'] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true, ['\0'] = true};

static int
s_escape (vd_buf_t *b, const char *s, size_t len)
{
    int rc = 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!s_special[(unsigned char)c])
            continue;
        rc |= vd_buf_add (b, s + start, i - start);
        start = i + 1;
        rc |= c == '\\'   ? vd_buf_add (b, "\\\\", 2)
              : c == '\t' ? vd_buf_add (b, "\\t", 2)
              : c == '\n' ? vd_buf_add (b, "\\n", 2)
              : c == '\r' ? vd_buf_add (b, "\\r", 2)
                          : 0;
    }
    rc |= vd_buf_add (b, s + start, len - start);
    return rc ? -1 : 0;
}

int
vd_copy_text (vd_buf_t *b, const char *s, size_t len)
{
    if (!s)
        return vd_buf_add (b, "\\N", 2);
    if (vd_utf8_valid (s, len))
        return s_escape (b, s, len);
    vd_buf_t clean;
    vd_buf_init (&clean, len * 3 + 16);
    int rc =
        vd_utf8_convert ("utf-8", s, len, &clean) < 0 ? -1 : s_escape (b, clean.data, clean.len);
    vd_buf_free (&clean);
    return rc;
}

int
vd_copy_array (vd_buf_t *b, const char *items, size_t n)
{
    vd_buf_t lit;
    vd_buf_init (&lit, 1024 * 1024);
    int rc = vd_buf_addc (&lit, '{');
    const char *p = items;
    for (size_t i = 0; i < n; i++) {
        rc |= vd_buf_addstr (&lit, i ? ",\"" : "\"");
        for (; *p; p++)
            rc |= (*p == '"' || *p == '\\' ? vd_buf_addc (&lit, '\\') : 0) | vd_buf_addc (&lit, *p);
        rc |= vd_buf_addc (&lit, '"');
        p++;
    }
    rc |= vd_buf_addc (&lit, '}');
    if (rc == 0)
        rc = vd_copy_text (b, lit.data, lit.len);
    vd_buf_free (&lit);
    return rc ? -1 : 0;
}

bool
vd_copy_row_valid (const char *s, size_t len, size_t n)
{
    static const bool line_end[256] = {['\n'] = true, ['\r'] = true, ['\0'] = true};
    size_t tabs = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (line_end[c])
            return false;
        if (c == '\t')
            tabs++;
        else if (c == '\\' && (++i == len || line_end[(unsigned char)s[i]]))
            return false; /* an escape takes the next byte, never a line's end */
    }
    return n > 0 && tabs == n - 1 && vd_utf8_valid (s, len);
}

int
vd_copy_field (const char **p, const char *end, vd_buf_t *out)
{
    const char *f = *p;
    if (f > end)
        return -1;
    const char *tab = memchr (f, '\t', (size_t)(end - f));
    size_t len = (size_t)((tab ? tab : end) - f);
    *p = f + len + 1;
    vd_buf_reset (out);
    if (len == 2 && f[0] == '\\' && f[1] == 'N')
        return vd_buf_str (out) ? 1 : -1;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        const char *bs = memchr (f + i, '\\', len - i); /* the text up to an escape as it is */
        size_t plain = bs ? (size_t)(bs - f) - i : len - i;
        rc |= vd_buf_add (out, f + i, plain);
        i += plain;
        if (i + 1 < len) { /* an escape: \t \n \r, else the byte itself */
            char e = f[i + 1];
            rc |= vd_buf_addc (out, e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e);
            i += 2;
        } else if (i < len) /* a backslash at the end: kept */
            rc |= vd_buf_addc (out, f[i++]);
    }
    return rc || !vd_buf_str (out) ? -1 : 0;
}

/*  ---- the COPY round trip (psql's copy.c rules) ----------------------- */

/*  Runs sql, a COPY whose start answers want. 0, -1 with err. */
static int
s_start (PGconn *conn, const char *sql, ExecStatusType want, vd_error_t *err)
{
    PGresult *res = PQexec (conn, sql);
    int rc =
        PQresultStatus (res) == want ? 0 : vd_db_error (conn, res, "COPY failed to start", err);
    PQclear (res);
    return rc;
}

int
vd_copy_begin (PGconn *conn, const char *sql, vd_error_t *err)
{
    return s_start (conn, sql, PGRES_COPY_IN, err);
}

int
vd_copy_send (PGconn *conn, const char *data, size_t len)
{
    const size_t chunk = 1024 * 1024;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (PQputCopyData (conn, data + off, (int)n) != 1)
            return -1;
    }
    return 0;
}

int
vd_copy_run (PGconn *conn, const char *sql, const char *data, size_t len, vd_error_t *err)
{
    if (vd_copy_begin (conn, sql, err) < 0)
        return -1;
    return vd_copy_end (conn, vd_copy_send (conn, data, len) == 0, err);
}

int
vd_copy_end (PGconn *conn, bool ok, vd_error_t *err)
{
    int rc = ok ? 0 : -1;
    PGresult *res;
    if (PQputCopyEnd (conn, rc == 0 ? NULL : "could not send data") != 1)
        rc = -1;
    /* drain every result: the COPY's own status comes first */
    if (vd_db_wait (conn) < 0)
        rc = -1;
    while ((res = PQgetResult (conn)) != NULL) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0)
            rc = vd_db_error (conn, res, "COPY failed", err);
        PQclear (res);
    }
    if (rc < 0 && err && !err->msg[0])
        vd_db_error (conn, NULL, "COPY failed", err);
    return rc;
}

int
vd_copy_out_begin (PGconn *conn, const char *sql, vd_error_t *err)
{
    return s_start (conn, sql, PGRES_COPY_OUT, err);
}

int
vd_copy_test (bool verbose)
{
    int failures = 0;
    vd_buf_t b;
    vd_buf_init (&b, 4096);
    vd_copy_text (&b, "a\tb\\c\nd\re", 10);
    failures += strcmp (vd_buf_str (&b), "a\\tb\\\\c\\nd\\re") != 0;
    vd_buf_reset (&b);
    vd_copy_text (&b, NULL, 0);
    vd_copy_text (&b, "x\0y", 3);
    vd_copy_text (&b, "\xC3(", 2);
    failures += strcmp (vd_buf_str (&b), "\\Nxy\xEF\xBF\xBD(") != 0;
    /* {"Pinot \"Noir\"","a\\b"} COPY-escaped: backslashes doubled */
    vd_buf_reset (&b);
    vd_copy_array (&b, "Pinot \"Noir\"\0a\\b", 2);
    failures += strcmp (vd_buf_str (&b), "{\"Pinot \\\\\"Noir\\\\\"\",\"a\\\\\\\\b\"}") != 0;
    if (verbose)
        printf ("  vd_copy: %s\n", vd_buf_str (&b));
    vd_buf_reset (&b);
    vd_copy_array (&b, "", 0);
    failures += strcmp (vd_buf_str (&b), "{}") != 0;
    /* rows: what the writer makes is valid; a raw newline, a NUL, a
       wrong field count, a dangling backslash or bad UTF-8 are not */
    vd_buf_reset (&b);
    vd_copy_text (&b, "k\n1", 3);
    vd_buf_addc (&b, '\t');
    vd_copy_text (&b, NULL, 0);
    vd_buf_addc (&b, '\t');
    vd_copy_text (&b, "\xC3(\\", 3);
    failures += !vd_copy_row_valid (b.data, b.len, 3);
    failures += vd_copy_row_valid (b.data, b.len, 2) || vd_copy_row_valid (b.data, b.len, 4);
    failures += vd_copy_row_valid ("a\nb", 3, 1) || vd_copy_row_valid ("a\0b", 3, 1);
    failures += vd_copy_row_valid ("a\\", 2, 1) || vd_copy_row_valid ("\xC3(", 2, 1);
    failures += vd_copy_row_valid ("a\\\nb", 4, 1);
    failures += vd_copy_row_valid ("a\rb", 3, 1) || !vd_copy_row_valid ("a\\\tb", 4, 1);
    failures += vd_copy_row_valid ("", 0, 0) || !vd_copy_row_valid ("", 0, 1);
    /* read back: what vd_copy_text wrote, field by field */
    const char *p = b.data, *end = b.data + b.len;
    vd_buf_t f;
    vd_buf_init (&f, 4096);
    failures += vd_copy_field (&p, end, &f) != 0 || strcmp (vd_buf_str (&f), "k\n1") != 0;
    failures += vd_copy_field (&p, end, &f) != 1 || f.len != 0;
    failures +=
        vd_copy_field (&p, end, &f) != 0 || strcmp (vd_buf_str (&f), "\xEF\xBF\xBD(\\") != 0;
    failures += vd_copy_field (&p, end, &f) != -1;
    const char *esc = "a\\\\b\\tc\\x\\", *q = esc; /* a\\b\tc\x\ : escapes, one at the end */
    failures += vd_copy_field (&q, esc + strlen (esc), &f) != 0 ||
                strcmp (vd_buf_str (&f), "a\\b\tcx\\") != 0;
    /* integers, as the COPY lines and the line numbers carry them */
    vd_buf_reset (&b);
    vd_buf_add_int (&b, 0);
    vd_buf_add_int (&b, -42);
    vd_buf_add_int (&b, INT64_MIN);
    vd_buf_add_int (&b, INT64_MAX);
    failures += strcmp (vd_buf_str (&b), "0-42-92233720368547758089223372036854775807") != 0;
    vd_buf_free (&f);
    vd_buf_free (&b);
    if (failures)
        fprintf (stderr, "vd_copy: %d failures\n", failures);
    return failures ? -1 : 0;
}

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

/*  ---- binary COPY of fields written as COPY text ---------------------- */

#define NUMERIC_MAX_DIGITS 1000
#define NUMERIC_NEG 0x4000
#define FIELD_EXTRA 16 /* a field's binary form is at most its text + this */

static inline unsigned char *
s_be16 (unsigned char *o, uint16_t v)
{
    o[0] = (unsigned char)(v >> 8), o[1] = (unsigned char)v;
    return o + 2;
}

static inline unsigned char *
s_be32 (unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24), o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8), o[3] = (unsigned char)v;
    return o + 4;
}

int
vd_copy_bin_header (vd_buf_t *b)
{
    /* signature, flags (no OIDs), header extension length */
    return vd_buf_add (b, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
}

int
vd_copy_bin_trailer (vd_buf_t *b)
{
    return vd_buf_add (b, "\377\377", 2);
}

/*  Each writer below reads one field from f up to its tab or end, writes
    its binary form at o (room for its text + FIELD_EXTRA) and returns the
    bytes written, or -1 when the field is not in vendange's form; *next
    is set past the field (at its tab or end). */

/*  Text: the escapes vd_copy_text writes (\\ \t \n \r); any other makes
    the field unfit (the server's reading of it would differ). */
static long
s_bin_text (unsigned char *o, const char *f, const char *end, const char **next)
{
    static const bool stop[256] = {['\t'] = true, ['\\'] = true};
    unsigned char *w = o + 4;
    const char *p = f;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (!stop[c]) {
            *w++ = c, p++;
            continue;
        }
        if (c == '\t')
            break;
        char e = p + 1 < end ? p[1] : 'x';
        c = e == '\\' ? '\\' : e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : 0;
        if (!c)
            return -1;
        *w++ = c, p += 2;
    }
    *next = p;
    s_be32 (o, (uint32_t)(w - o - 4));
    return w - o;
}

/*  numeric's binary form: ndigits, weight (of the first base-10000 digit),
    sign, dscale (the decimals written), then the base-10000 digits. */
static long
s_bin_numeric (unsigned char *o, const char *f, const char *end, const char **next)
{
    const char *p = f;
    bool neg = p < end && *p == '-';
    p += p < end && (*p == '-' || *p == '+');
    const char *int_start = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    const char *int_end = p, *frac_start = p, *frac_end = p;
    if (p < end && *p == '.') {
        frac_start = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        frac_end = p;
    }
    size_t nint = (size_t)(int_end - int_start), nfrac = (size_t)(frac_end - frac_start);
    if ((p < end && *p != '\t') || nint + nfrac == 0 || nint + nfrac > NUMERIC_MAX_DIGITS)
        return -1;
    *next = p;
    while (nint > 0 && *int_start == '0')
        int_start++, nint--;
    /* base-10000 digits: the integer part's groups end at the point, the
       fraction's start there (the last padded with zeros) */
    uint16_t digits[NUMERIC_MAX_DIGITS / 4 + 2];
    size_t n = 0;
    int weight = (int)((nint + 3) / 4) - 1;
    size_t take = nint % 4 ? nint % 4 : 4; /* digits of the first group */
    for (size_t d = 0; d < nint; d += take, take = 4) {
        uint16_t g = 0;
        for (size_t k = 0; k < take; k++)
            g = (uint16_t)(g * 10 + (int_start[d + k] - '0'));
        digits[n++] = g;
    }
    for (size_t d = 0; d < nfrac; d += 4) {
        uint16_t g = 0;
        for (size_t k = 0; k < 4; k++)
            g = (uint16_t)(g * 10 + (d + k < nfrac ? frac_start[d + k] - '0' : 0));
        digits[n++] = g;
    }
    size_t first = 0;
    while (first < n && digits[first] == 0) /* leading zero groups (0.0001) */
        first++, weight--;
    while (n > first && digits[n - 1] == 0)
        n--;
    if (first == n) /* zero: positive, weight 0, as the server makes it */
        weight = 0, neg = false;
    unsigned char *w = s_be32 (o, (uint32_t)(8 + 2 * (n - first)));
    w = s_be16 (w, (uint16_t)(n - first));
    w = s_be16 (w, (uint16_t)(int16_t)weight);
    w = s_be16 (w, neg ? NUMERIC_NEG : 0);
    w = s_be16 (w, (uint16_t)nfrac);
    for (size_t k = first; k < n; k++)
        w = s_be16 (w, digits[k]);
    return w - o;
}

/*  Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    days_from_civil). */
static int64_t
s_days (int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*  date's binary form: days since 2000-01-01. */
static long
s_bin_date (unsigned char *o, const char *f, const char *end, const char **next)
{
    static const char shape[] = "dddd-dd-dd";
    if (end - f < 10 || (end - f > 10 && f[10] != '\t'))
        return -1;
    for (size_t i = 0; i < 10; i++)
        if (shape[i] == 'd' ? f[i] < '0' || f[i] > '9' : f[i] != shape[i])
            return -1;
    int y = (f[0] - '0') * 1000 + (f[1] - '0') * 100 + (f[2] - '0') * 10 + (f[3] - '0');
    int m = (f[5] - '0') * 10 + (f[6] - '0'), d = (f[8] - '0') * 10 + (f[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    *next = f + 10;
    s_be32 (s_be32 (o, 4), (uint32_t)(int32_t)(s_days (y, m, d) - s_days (2000, 1, 1)));
    return 8;
}

/*  bytea written as the COPY text of its hex form: \\x then hex digits. */
static long
s_bin_bytea (unsigned char *o, const char *f, const char *end, const char **next)
{
    const char *tab = memchr (f, '\t', (size_t)(end - f));
    size_t len = (size_t)((tab ? tab : end) - f);
    if (len < 3 || memcmp (f, "\\\\x", 3) != 0 || (len - 3) % 2)
        return -1;
    unsigned char *w = s_be32 (o, (uint32_t)((len - 3) / 2));
    for (size_t i = 3; i < len; i += 2) {
        int hi = vd_hex_digit (f[i]), lo = vd_hex_digit (f[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        *w++ = (unsigned char)(hi << 4 | lo);
    }
    *next = f + len;
    return w - o;
}

/*  One field at o (room checked by the caller). */
static long
s_bin_field (unsigned char *o, vd_copy_bin_t type, const char *f, const char *end,
             const char **next)
{
    if (end - f >= 2 && f[0] == '\\' && f[1] == 'N' && (end - f == 2 || f[2] == '\t')) {
        *next = f + 2;
        s_be32 (o, 0xFFFFFFFF);
        return 4;
    }
    switch (type) {
    case VD_COPY_BIN_TEXT:
        return s_bin_text (o, f, end, next);
    case VD_COPY_BIN_NUMERIC:
        return s_bin_numeric (o, f, end, next);
    case VD_COPY_BIN_DATE:
        return s_bin_date (o, f, end, next);
    case VD_COPY_BIN_BYTEA:
        return s_bin_bytea (o, f, end, next);
    }
    return -1;
}

int
vd_copy_bin_field (vd_buf_t *b, vd_copy_bin_t type, const char *f, size_t len)
{
    if (vd_buf_reserve (b, len + FIELD_EXTRA) < 0)
        return -1;
    const char *next = f;
    long n = s_bin_field ((unsigned char *)b->data + b->len, type, f, f + len, &next);
    if (n < 0 || next != f + len)
        return 1;
    vd_buf_grown (b, (size_t)n);
    return 0;
}

int
vd_copy_bin_row (vd_buf_t *b, size_t nfields, const char *row, size_t len,
                 const vd_copy_bin_t *types, size_t ntypes)
{
    if (vd_buf_reserve (b, 2 + len + ntypes * FIELD_EXTRA) < 0)
        return -1;
    unsigned char *o = (unsigned char *)b->data + b->len, *w = s_be16 (o, (uint16_t)nfields);
    const char *p = row, *end = row + len;
    for (size_t i = 0; i < ntypes; i++) {
        const char *next = p;
        long n = p <= end ? s_bin_field (w, types[i], p, end, &next) : -1;
        if (n < 0 || (next < end && *next != '\t'))
            return 1;
        w += n;
        p = next + 1;
    }
    if (p <= end) /* fields left over */
        return 1;
    vd_buf_grown (b, (size_t)(w - o));
    return 0;
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
    /* binary fields, as PostgreSQL's numeric.c and date.c lay them out
       (numeric: ndigits, weight, sign, dscale, base-10000 digits; date:
       days since 2000-01-01); the integration test test_loadpath
       compares them with the server's own reading of the text */
    static const struct {
        vd_copy_bin_t type;
        const char *text;
        int rc;
        size_t len;
        const char *bytes;
    } bin[] = {
        {VD_COPY_BIN_NUMERIC, "123.45", 0, 16,
         "\0\0\0\14\0\2\0\0\0\0\0\2\0\173\21\224"}, /* 123, 4500 */
        {VD_COPY_BIN_NUMERIC, "-0.0001", 0, 14, "\0\0\0\12\0\1\377\377\100\0\0\4\0\1"},
        {VD_COPY_BIN_NUMERIC, "10000", 0, 14, "\0\0\0\12\0\1\0\1\0\0\0\0\0\1"},
        {VD_COPY_BIN_NUMERIC, "-000.00", 0, 12, "\0\0\0\10\0\0\0\0\0\0\0\2"},
        {VD_COPY_BIN_NUMERIC, "1e5", 1, 0, ""},
        {VD_COPY_BIN_NUMERIC, ".", 1, 0, ""},
        {VD_COPY_BIN_NUMERIC, "1,5", 1, 0, ""},
        {VD_COPY_BIN_DATE, "2000-01-01", 0, 8, "\0\0\0\4\0\0\0\0"},
        {VD_COPY_BIN_DATE, "1999-12-31", 0, 8, "\0\0\0\4\377\377\377\377"},
        {VD_COPY_BIN_DATE, "2024-02-29", 0, 8, "\0\0\0\4\0\0\42\171"}, /* 8825 */
        {VD_COPY_BIN_DATE, "2023-02-29", 1, 0, ""},
        {VD_COPY_BIN_DATE, "2023-2-28", 1, 0, ""},
        {VD_COPY_BIN_TEXT, "a\\tb\\\\", 0, 8, "\0\0\0\4a\tb\\"},
        {VD_COPY_BIN_TEXT, "\\x41", 1, 0, ""}, /* an escape vd_copy_text never writes */
        {VD_COPY_BIN_TEXT, "\\N", 0, 4, "\377\377\377\377"},
        {VD_COPY_BIN_BYTEA, "\\\\x0aFf", 0, 6, "\0\0\0\2\n\377"},
        {VD_COPY_BIN_BYTEA, "\\\\x0g", 1, 0, ""},
    };
    for (size_t i = 0; i < sizeof bin / sizeof bin[0]; i++) {
        vd_buf_reset (&b);
        int rc = vd_copy_bin_field (&b, bin[i].type, bin[i].text, strlen (bin[i].text));
        if (rc != bin[i].rc || b.len != bin[i].len || memcmp (b.data, bin[i].bytes, b.len) != 0) {
            fprintf (stderr, "vd_copy: binary field %zu (%s) wrong\n", i, bin[i].text);
            failures++;
        }
    }
    /* a row: its field count, then each field; a row with a field more
       or less than its types, or one out of form, adds nothing */
    static const vd_copy_bin_t row_types[] = {VD_COPY_BIN_TEXT, VD_COPY_BIN_NUMERIC,
                                              VD_COPY_BIN_DATE};
    vd_buf_reset (&b);
    failures += vd_copy_bin_row (&b, 4, "k\t1.5\t\\N", 8, row_types, 3) != 0 || b.len != 27 ||
                memcmp (b.data, "\0\4\0\0\0\1k\0\0\0\14\0\2\0\0\0\0\0\1\0\1\23\210\377\377\377\377",
                        27) != 0;
    failures += vd_copy_bin_row (&b, 4, "k\t1.5", 5, row_types, 3) != 1 || b.len != 27;
    failures += vd_copy_bin_row (&b, 4, "k\t1.5\t\\N\tx", 10, row_types, 3) != 1 || b.len != 27;
    failures += vd_copy_bin_row (&b, 4, "k\t1.5x\t\\N", 9, row_types, 3) != 1 || b.len != 27;
    vd_buf_free (&f);
    vd_buf_free (&b);
    if (failures)
        fprintf (stderr, "vd_copy: %d failures\n", failures);
    return failures ? -1 : 0;
}

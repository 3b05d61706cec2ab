/*  load_copy - COPY text encoding and the COPY round trip. */
#include "load_copy.h"

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
load_copy_text (vd_buf_t *b, const char *s, size_t len)
{
    if (!s)
        return vd_buf_add (b, "\\N", 2);
    if (vd_utf8_valid (s, len))
        return s_escape (b, s, len);
    vd_buf_t clean;
    vd_buf_init (&clean, len * 3 + 16);
    int rc =
        vd_text_to_utf8 ("utf-8", s, len, &clean) < 0 ? -1 : s_escape (b, clean.data, clean.len);
    vd_buf_free (&clean);
    return rc;
}

/*  One array element for a PostgreSQL array literal: "..." with \ and "
    escaped (the whole literal is COPY-escaped afterwards). */
static int
s_array_literal (vd_buf_t *b, const msgpack_object *v)
{
    vd_buf_t lit;
    vd_buf_init (&lit, 1024 * 1024);
    int rc = vd_buf_addc (&lit, '{');
    for (uint32_t i = 0; i < v->via.array.size && rc == 0; i++) {
        size_t len;
        const char *s = vd_mp_str (&v->via.array.ptr[i], &len);
        if (!s) {
            rc = -1;
            break;
        }
        rc |= vd_buf_addstr (&lit, i ? ",\"" : "\"");
        for (size_t k = 0; k < len; k++) {
            if (s[k] == '"' || s[k] == '\\')
                rc |= vd_buf_addc (&lit, '\\');
            rc |= vd_buf_addc (&lit, s[k]);
        }
        rc |= vd_buf_addc (&lit, '"');
    }
    rc |= vd_buf_addc (&lit, '}');
    if (rc == 0)
        rc = load_copy_text (b, lit.data, lit.len);
    vd_buf_free (&lit);
    return rc;
}

int
load_copy_value (vd_buf_t *b, const msgpack_object *v)
{
    switch (v->type) {
    case MSGPACK_OBJECT_NIL:
        return vd_buf_add (b, "\\N", 2);
    case MSGPACK_OBJECT_STR:
        return load_copy_text (b, v->via.str.ptr, v->via.str.size);
    case MSGPACK_OBJECT_BOOLEAN:
        return vd_buf_addc (b, v->via.boolean ? 't' : 'f');
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return vd_buf_printf (b, "%" PRIu64, v->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return vd_buf_add_int (b, v->via.i64);
    case MSGPACK_OBJECT_ARRAY:
        return s_array_literal (b, v);
    default:
        return -1;
    }
}

int
load_copy_begin (PGconn *conn, const char *sql, vd_error_t *err)
{
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COPY_IN) {
        vd_db_error (conn, res, "COPY failed to start", err);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    return 0;
}

int
load_copy_send (PGconn *conn, const char *data, size_t len)
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
load_copy_run (PGconn *conn, const char *sql, const char *data, size_t len, vd_error_t *err)
{
    if (load_copy_begin (conn, sql, err) < 0)
        return -1;
    return load_copy_end (conn, load_copy_send (conn, data, len) == 0, err);
}

int
load_copy_end (PGconn *conn, bool ok, vd_error_t *err)
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
load_copy_test (bool verbose)
{
    int failures = 0;
    vd_buf_t b;
    vd_buf_init (&b, 4096);
    load_copy_text (&b, "a\tb\\c\nd\re", 10);
    if (strcmp (vd_buf_str (&b), "a\\tb\\\\c\\nd\\re") != 0)
        failures++;
    vd_buf_reset (&b);
    load_copy_text (&b, NULL, 0);
    load_copy_text (&b, "x\0y", 3);
    load_copy_text (&b, "\xC3(", 2);
    if (strcmp (vd_buf_str (&b), "\\Nxy\xEF\xBF\xBD(") != 0)
        failures++;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 2);
    vd_mp_pack_cstr (&pk, "Pinot \"Noir\"");
    vd_mp_pack_cstr (&pk, "a\\b");
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    msgpack_unpack_next (&u, sb.data, sb.size, NULL);
    vd_buf_reset (&b);
    load_copy_value (&b, &u.data);
    /* {"Pinot \"Noir\"","a\\b"} COPY-escaped: backslashes doubled */
    if (strcmp (vd_buf_str (&b), "{\"Pinot \\\\\"Noir\\\\\"\",\"a\\\\\\\\b\"}") != 0) {
        fprintf (stderr, "load_copy: array literal %s\n", vd_buf_str (&b));
        failures++;
    }
    if (verbose)
        printf ("  load_copy: %s\n", vd_buf_str (&b));
    /* integers, as the COPY lines and the line numbers carry them */
    vd_buf_reset (&b);
    vd_buf_add_int (&b, 0);
    vd_buf_add_int (&b, -42);
    vd_buf_add_int (&b, INT64_MIN);
    vd_buf_add_int (&b, INT64_MAX);
    if (strcmp (vd_buf_str (&b), "0-42-92233720368547758089223372036854775807") != 0) {
        fprintf (stderr, "load_copy: integers %s\n", vd_buf_str (&b));
        failures++;
    }
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    vd_buf_free (&b);
    return failures ? -1 : 0;
}

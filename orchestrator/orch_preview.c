/*  orch_preview - RAW preview messages through the normalizer's rules. */
#include "orch_preview.h"
#include "norm_batch.h"
#include "vd_copy.h"
#include "vd_msg.h"
#include <sodium.h>

/*  A msgpack value (nil, bool, string, integer, array of strings) as JSON. */
static json_t *
s_json (const msgpack_object *o)
{
    size_t len;
    const char *s;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null ();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean (o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: {
        int64_t n = 0;
        vd_mp_int (o, &n);
        return json_integer (n);
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *list = json_array ();
        for (uint32_t i = 0; i < o->via.array.size; i++)
            json_array_append_new (list, s_json (&o->via.array.ptr[i]));
        return list;
    }
    default:
        s = vd_mp_str (o, &len);
        return s ? json_stringn_nocheck (s, len) : json_null ();
    }
}

/*  A PostgreSQL array literal of strings ({"a","b\\"c"}) as a JSON list. */
static json_t *
s_array (const char *lit)
{
    json_t *list = json_array ();
    vd_buf_t item;
    vd_buf_init (&item, 1024 * 1024);
    for (const char *p = lit; *p && *p != '}';) {
        if (*p++ != '"')
            continue;
        vd_buf_reset (&item);
        for (; *p && *p != '"'; p++)
            vd_buf_addc (&item, *p == '\\' && p[1] ? *++p : *p);
        json_array_append_new (list, json_stringn_nocheck (item.data ? item.data : "", item.len));
        p += *p == '"';
    }
    vd_buf_free (&item);
    return list;
}

/*  A canonical row's COPY text fields as [[column, value], ...] in schema
    order (NULL null, a boolean true or false, an array a list). */
static json_t *
s_values (const vd_table_t *t, const msgpack_object *fields)
{
    json_t *values = json_array ();
    const char *p = fields->via.str.ptr, *end = p + fields->via.str.size;
    vd_buf_t f;
    vd_buf_init (&f, 64 * 1024 * 1024);
    for (size_t c = 0; c < t->ncolumns; c++) {
        if (!vd_schema_carried (&t->columns[c]))
            continue;
        int kind = vd_copy_field (&p, end, &f);
        if (kind < 0)
            break;
        vd_sql_type_t type = t->columns[c].type;
        json_t *v = kind == 1                   ? json_null ()
                    : type == VD_SQL_BOOL       ? json_boolean (f.data[0] == 't')
                    : type == VD_SQL_TEXT_ARRAY ? s_array (vd_buf_str (&f))
                                                : json_stringn_nocheck (f.data, f.len);
        json_array_append_new (values, json_pack ("[s, o]", t->columns[c].name, v));
    }
    vd_buf_free (&f);
    return values;
}

/*  Row r of the RAW and CANON messages as the page's row. */
static json_t *
s_row (const vd_table_t *t, const msgpack_object *raw, const msgpack_object *canon)
{
    json_t *row = json_object ();
    const msgpack_object *in = raw->type == MSGPACK_OBJECT_ARRAY ? raw->via.array.ptr : NULL;
    const msgpack_object *out = canon->type == MSGPACK_OBJECT_ARRAY ? canon->via.array.ptr : NULL;
    if (in && raw->via.array.size >= 2) {
        json_object_set_new (row, "line", s_json (&in[0]));
        json_object_set_new (row, "fields",
                             in[1].type == MSGPACK_OBJECT_ARRAY ? s_json (&in[1])
                             : raw->via.array.size > 3          ? s_json (&in[3])
                                                                : json_null ());
    }
    if (!out || canon->via.array.size < 5)
        return row;
    if (out[1].type == MSGPACK_OBJECT_STR)
        json_object_set_new (row, "values", s_values (t, &out[1]));
    else
        json_object_set_new (row, "reject", s_json (&out[2]));
    json_t *warnings = json_array ();
    for (uint32_t i = 0; out[4].type == MSGPACK_OBJECT_ARRAY && i < out[4].via.array.size; i++) {
        const msgpack_object *w = &out[4].via.array.ptr[i];
        if (w->type != MSGPACK_OBJECT_ARRAY || w->via.array.size < 3)
            continue;
        json_array_append_new (warnings,
                               json_pack ("{s:o, s:o, s:o}", "field", s_json (&w->via.array.ptr[0]),
                                          "reason", s_json (&w->via.array.ptr[1]), "raw",
                                          s_json (&w->via.array.ptr[2])));
    }
    json_object_set_new (row, "warnings", warnings);
    return row;
}

/*  One file's entry: "raw" -> "inputs" and "rows". Returns 0, -1 when the
    message cannot be read or converted. */
static int
s_entry (norm_batch_t *nb, json_t *entry)
{
    const char *b64 = json_string_value (json_object_get (entry, "raw"));
    if (!b64)
        return 0; /* an empty or failed file: nothing to show */
    size_t len = strlen (b64), n = 0;
    unsigned char *bytes = malloc (len + 1);
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_unpacked u1, u2;
    msgpack_unpacked_init (&u1);
    msgpack_unpacked_init (&u2);
    vd_msg_t raw, canon;
    vd_error_t err;
    int rc = -1;
    if (bytes &&
        sodium_base642bin (bytes, len + 1, b64, len, NULL, &n, NULL,
                           sodium_base64_VARIANT_ORIGINAL) == 0 &&
        norm_batch_convert_bytes (nb, (const char *)bytes, n, &u1, &raw, &out, &u2, &canon, &err) ==
            0) {
        const msgpack_object *in_rows = vd_mp_get (raw.body, "rows");
        const msgpack_object *out_rows = vd_mp_get (canon.body, "rows");
        json_object_set_new (entry, "inputs", s_json (vd_mp_get (raw.body, "cols")));
        json_t *rows = json_array ();
        for (uint32_t i = 0;
             in_rows && out_rows && i < in_rows->via.array.size && i < out_rows->via.array.size;
             i++)
            json_array_append_new (rows,
                                   s_row (vd_schema_table (raw.table), &in_rows->via.array.ptr[i],
                                          &out_rows->via.array.ptr[i]));
        json_object_set_new (entry, "rows", rows);
        rc = 0;
    }
    json_object_del (entry, "raw");
    if (rc < 0)
        json_object_set_new (entry, "error", json_string ("the preview could not be read"));
    msgpack_unpacked_destroy (&u1);
    msgpack_unpacked_destroy (&u2);
    msgpack_sbuffer_destroy (&out);
    free (bytes);
    return rc;
}

int
orch_preview_normalize (norm_batch_t *nb, json_t *result)
{
    size_t i;
    json_t *entry;
    json_array_foreach (json_object_get (result, "preview"), i, entry)
    {
        if (!nb)
            json_object_del (entry, "raw");
        else
            (void)s_entry (nb, entry); /* a bad entry says so itself */
    }
    return 0;
}

/* ---- self test ---------------------------------------------------------- */

int
orch_preview_test (bool verbose)
{
    int failures = 0;
    vd_error_t err;
    norm_batch_t *nb = norm_batch_new ("20", "Europe/Paris", &err);
    /* a RAW message as the iSaVigne extractor packs it: two sales lines */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, vd_mp_write);
    const char *cols[] = {"customer_code",  "date_sale",  "document_no", "line_no",
                          "quantity_units", "price_unit", "margin"};
    vd_msg_pack_raw (&pk, 1, 1, VD_TABLE_SALES, "isavigne", "c", "ventes.csv", cols, 7, NULL, 2);
    const char *rows[2][7] = {{"C1", "02/03/2026", "F1", "1", "3", "15,00", "63,8 %"},
                              {"C1", "31/02/2026", "F1", "2", "1", "15,00", ""}};
    for (int r = 0; r < 2; r++) {
        msgpack_pack_array (&pk, 2);
        msgpack_pack_int (&pk, r + 2);
        msgpack_pack_array (&pk, 7);
        for (int c = 0; c < 7; c++)
            vd_mp_pack_cstr (&pk, rows[r][c]);
    }
    size_t size = sodium_base64_encoded_len (sb.size, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc (size);
    sodium_bin2base64 (b64, size, (const unsigned char *)sb.data, sb.size,
                       sodium_base64_VARIANT_ORIGINAL);
    json_t *result = json_pack ("{s:[{s:s, s:s}, {s:s, s:s}]}", "preview", "file", "ventes.csv",
                                "raw", b64, "file", "bad.csv", "raw", "not base64!");
    orch_preview_normalize (nb, result);
    json_t *good = json_array_get (json_object_get (result, "preview"), 0);
    json_t *row0 = json_array_get (json_object_get (good, "rows"), 0);
    json_t *row1 = json_array_get (json_object_get (good, "rows"), 1);
    const char *total = NULL, *pct = NULL;
    size_t i;
    json_t *pair;
    json_array_foreach (json_object_get (row0, "values"), i, pair)
    {
        const char *column = json_string_value (json_array_get (pair, 0));
        if (column && strcmp (column, "price_total") == 0)
            total = json_string_value (json_array_get (pair, 1));
        if (column && strcmp (column, "margin_percent") == 0)
            pct = json_string_value (json_array_get (pair, 1));
    }
    const char *reject = json_string_value (json_object_get (row1, "reject"));
    if (!total || strcmp (total, "45.00") != 0 || !pct || strcmp (pct, "63.8") != 0 || !reject ||
        !strstr (reject, "invalid date") || json_object_get (good, "raw") ||
        json_integer_value (json_object_get (row0, "line")) != 2)
        failures++;
    json_t *bad = json_array_get (json_object_get (result, "preview"), 1);
    if (!json_object_get (bad, "error") || json_object_get (bad, "raw"))
        failures++;
    if (verbose) {
        char *text = json_dumps (result, JSON_COMPACT);
        printf ("orch_preview: %s\n", text);
        free (text);
    }
    json_decref (result);
    free (b64);
    msgpack_sbuffer_destroy (&sb);
    norm_batch_destroy (&nb);
    return failures ? -1 : 0;
}

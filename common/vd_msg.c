/*  vd_msg - the data envelope (msgpack). */
#include "vendange.h"
#include "vd_msg.h"

void
vd_msg_pack_header (msgpack_packer *pk, int kind, int64_t run_id, uint64_t seq, int table)
{
    msgpack_pack_array (pk, 6);
    msgpack_pack_int (pk, VD_MSG_VERSION);
    msgpack_pack_int (pk, kind);
    msgpack_pack_int64 (pk, run_id);
    msgpack_pack_uint64 (pk, seq);
    msgpack_pack_int (pk, table);
}

int
vd_msg_decode (const char *data, size_t len, msgpack_unpacked *unpacked, vd_msg_t *out,
               vd_error_t *err)
{
    size_t off = 0;
    if (msgpack_unpack_next (unpacked, data, len, &off) != MSGPACK_UNPACK_SUCCESS)
        return vd_error_set (err, VD_ERR_PERMANENT, "message is not valid msgpack");
    if (off != len)
        return vd_error_set (err, VD_ERR_PERMANENT, "trailing bytes after the message");
    const msgpack_object *o = &unpacked->data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 6)
        return vd_error_set (err, VD_ERR_PERMANENT, "message is not a 6-element envelope");
    const msgpack_object *a = o->via.array.ptr;
    int64_t version, kind, run_id, seq, table;
    if (vd_mp_int (&a[0], &version) < 0 || version != VD_MSG_VERSION)
        return vd_error_set (err, VD_ERR_PERMANENT, "unsupported envelope version");
    if (vd_mp_int (&a[1], &kind) < 0 || kind < VD_MSG_RAW || kind > VD_MSG_DELETE)
        return vd_error_set (err, VD_ERR_PERMANENT, "unknown message kind");
    if (vd_mp_int (&a[2], &run_id) < 0 || run_id <= 0 || vd_mp_int (&a[3], &seq) < 0 || seq < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "bad run id or sequence number");
    if (vd_mp_int (&a[4], &table) < 0 || table < -1 || table >= VD_TABLE_COUNT ||
        (kind != VD_MSG_END && table < 0))
        return vd_error_set (err, VD_ERR_PERMANENT, "bad table number");
    if (a[5].type != MSGPACK_OBJECT_MAP)
        return vd_error_set (err, VD_ERR_PERMANENT, "message body is not a map");
    out->kind = (int)kind;
    out->run_id = run_id;
    out->seq = (uint64_t)seq;
    out->table = (int)table;
    out->body = &a[5];
    return 0;
}

void
vd_msg_pack_raw (msgpack_packer *pk, int64_t run_id, uint64_t seq, int table, const char *source,
                 const char *connector, const char *file, const char *const *cols, size_t ncols,
                 const char *units, size_t nrows)
{
    vd_msg_pack_header (pk, VD_MSG_RAW, run_id, seq, table);
    msgpack_pack_map (pk, units ? 6 : 5);
    vd_mp_pack_cstr (pk, "source");
    vd_mp_pack_cstr (pk, source);
    vd_mp_pack_cstr (pk, "connector");
    vd_mp_pack_cstr (pk, connector);
    vd_mp_pack_cstr (pk, "file");
    vd_mp_pack_cstr (pk, file);
    vd_mp_pack_cstr (pk, "cols");
    msgpack_pack_array (pk, (uint32_t)ncols);
    for (size_t i = 0; i < ncols; i++)
        vd_mp_pack_cstr (pk, cols[i]);
    if (units) {
        vd_mp_pack_cstr (pk, "units");
        vd_mp_pack_cstr (pk, units);
    }
    vd_mp_pack_cstr (pk, "rows");
    msgpack_pack_array (pk, (uint32_t)nrows);
}

void
vd_msg_pack_delete (msgpack_packer *pk, int64_t run_id, uint64_t seq, int table, const char *source,
                    const char *connector, const char *file, const char *mode, size_t nids)
{
    vd_msg_pack_header (pk, VD_MSG_DELETE, run_id, seq, table);
    msgpack_pack_map (pk, 5);
    const char *kv[] = {"source", source, "connector", connector, "file", file, "mode", mode};
    for (int i = 0; i < 8; i++)
        vd_mp_pack_cstr (pk, kv[i]);
    vd_mp_pack_cstr (pk, "ids");
    msgpack_pack_array (pk, (uint32_t)nids);
}

void
vd_msg_pack_end (msgpack_packer *pk, int64_t run_id, uint64_t seq, const char *connector,
                 const json_t *extracted, int64_t records, int64_t deletes,
                 const json_t *reconciled)
{
    vd_msg_pack_header (pk, VD_MSG_END, run_id, seq, -1);
    msgpack_pack_map (pk, 3 + (deletes > 0) + (reconciled != NULL));
    vd_mp_pack_cstr (pk, "connector");
    vd_mp_pack_cstr (pk, connector);
    vd_mp_pack_cstr (pk, "extracted");
    msgpack_pack_map (pk, (uint32_t)json_object_size (extracted));
    const char *table;
    json_t *n;
    json_object_foreach ((json_t *)extracted, table, n)
    {
        vd_mp_pack_cstr (pk, table);
        msgpack_pack_int64 (pk, json_integer_value (n));
    }
    vd_mp_pack_cstr (pk, "records");
    msgpack_pack_int64 (pk, records);
    if (deletes > 0) {
        vd_mp_pack_cstr (pk, "deletes");
        msgpack_pack_int64 (pk, deletes);
    }
    if (reconciled) {
        vd_mp_pack_cstr (pk, "reconciled");
        msgpack_pack_array (pk, (uint32_t)json_array_size (reconciled));
        size_t i;
        json_array_foreach (reconciled, i, n) vd_mp_pack_cstr (pk, json_string_value (n));
    }
}

const msgpack_object *
vd_mp_get (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp (k->via.str.ptr, key, klen) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

const char *
vd_mp_str (const msgpack_object *obj, size_t *len)
{
    if (!obj || obj->type != MSGPACK_OBJECT_STR)
        return NULL;
    *len = obj->via.str.size;
    return obj->via.str.ptr;
}

int
vd_mp_copy (const msgpack_object *obj, char *out, size_t size)
{
    size_t len;
    const char *s = vd_mp_str (obj, &len);
    if (!s || size == 0)
        return -1;
    if (len >= size)
        len = size - 1;
    memcpy (out, s, len);
    out[len] = '\0';
    return 0;
}

int
vd_mp_int (const msgpack_object *obj, int64_t *out)
{
    if (!obj)
        return -1;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > INT64_MAX)
            return -1;
        *out = (int64_t)obj->via.u64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = obj->via.i64;
        return 0;
    }
    return -1;
}

bool
vd_mp_is_nil (const msgpack_object *obj)
{
    return !obj || obj->type == MSGPACK_OBJECT_NIL;
}

void
vd_mp_pack_str (msgpack_packer *pk, const char *s, size_t len)
{
    if (!s) {
        msgpack_pack_nil (pk);
        return;
    }
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

void
vd_mp_pack_cstr (msgpack_packer *pk, const char *s)
{
    vd_mp_pack_str (pk, s, s ? strlen (s) : 0);
}

int
vd_msg_test (bool verbose)
{
    int failures = 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    vd_msg_pack_header (&pk, VD_MSG_CANON, 42, 7, VD_TABLE_SALES);
    msgpack_pack_map (&pk, 1);
    vd_mp_pack_cstr (&pk, "file");
    vd_mp_pack_cstr (&pk, "ventes.csv");

    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    vd_msg_t m;
    vd_error_t err;
    if (vd_msg_decode (sb.data, sb.size, &u, &m, &err) != 0 || m.kind != VD_MSG_CANON ||
        m.run_id != 42 || m.seq != 7 || m.table != VD_TABLE_SALES)
        failures++;
    char file[32];
    if (vd_mp_copy (vd_mp_get (m.body, "file"), file, sizeof file) != 0 ||
        strcmp (file, "ventes.csv") != 0 || vd_mp_get (m.body, "nope"))
        failures++;
    msgpack_unpacked_destroy (&u);

    /* bad input: truncated, garbage, wrong shape, trailing bytes */
    const char *bad[] = {"\x96\x01", "garbage", "\x93\x01\x02\x03", "\xc0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msgpack_unpacked_init (&u);
        if (vd_msg_decode (bad[i], strlen (bad[i]), &u, &m, &err) == 0)
            failures++;
        msgpack_unpacked_destroy (&u);
    }
    msgpack_unpacked_init (&u);
    msgpack_sbuffer_write (&sb, "x", 1);
    if (vd_msg_decode (sb.data, sb.size, &u, &m, &err) == 0)
        failures++;
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    if (verbose)
        printf ("  vd_msg: %d failures\n", failures);
    return failures ? -1 : 0;
}

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

/*  Big-endian unsigned integer of n bytes (1, 2, 4 or 8) at p. */
static uint64_t
s_be (const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/*  Header of the msgpack object at p (avail bytes, avail > 0): its size
    before any payload (*head), payload bytes (*payload), objects it
    contains (*children). Returns 0, -1 when the byte is no msgpack type
    or the header is cut. */
static int
s_mp_header (const unsigned char *p, uint64_t avail, uint64_t *head, uint64_t *payload,
             uint64_t *children)
{
    static const signed char fixed[32] = {
        /* 0xc0..0xdf: payload bytes of fixed types, -1: sized, -2: never used */
        0, -2, 0, 0, -1, -1, -1, -1, -1, -1, 4,  8,  1,  2,  4,  8,
        1, 2,  4, 8, 2,  3,  5,  9,  17, -1, -1, -1, -1, -1, -1, -1};
    unsigned char b = p[0];
    *head = 1, *payload = 0, *children = 0;
    if (b <= 0x7f || b >= 0xe0)
        return 0;
    if (b <= 0x8f || (b >= 0x90 && b <= 0x9f)) {
        *children = (uint64_t)(b & 0x0f) * (b <= 0x8f ? 2 : 1);
        return 0;
    }
    if (b <= 0xbf) {
        *payload = b & 0x1f;
        return 0;
    }
    int f = fixed[b - 0xc0];
    if (f == -2)
        return -1;
    if (f >= 0) {
        *payload = (uint64_t)f;
        return 0;
    }
    /* sized: bin c4-c6, ext c7-c9 (+1 type byte), str d9-db, array dc-dd, map de-df */
    static const struct {
        unsigned char first, last;
        int extra;
    } sized[] = {
        {0xc4, 0xc6, 0}, {0xc7, 0xc9, 1}, {0xd9, 0xdb, 0}, {0xdc, 0xdd, 0}, {0xde, 0xdf, 0}};
    for (size_t i = 0; i < sizeof sized / sizeof sized[0]; i++) {
        if (b < sized[i].first || b > sized[i].last)
            continue;
        int n = 1 << (b - sized[i].first + (i >= 3)); /* 1, 2, 4 bytes; 2, 4 for containers */
        if (avail < 1 + (uint64_t)n)
            return -1;
        uint64_t v = s_be (p + 1, n);
        *head = 1 + (uint64_t)n;
        if (i == 3)
            *children = v;
        else if (i == 4)
            *children = 2 * v;
        else
            *payload = v + (uint64_t)sized[i].extra;
        return 0;
    }
    return -1;
}

bool
vd_mp_plausible (const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    uint64_t pos = 0, pending = 1;
    while (pending > 0) {
        uint64_t head, payload, children;
        if (pos >= len || s_mp_header (p + pos, len - pos, &head, &payload, &children) < 0)
            return false;
        pending--;
        if (head > len - pos || payload > len - pos - head)
            return false;
        pos += head + payload;
        /* every object takes at least one byte: a count past what is
           left is a lie that would make msgpack allocate for it */
        if (children > len - pos || pending + children > len - pos)
            return false;
        pending += children;
    }
    return true;
}

int
vd_msg_decode (const char *data, size_t len, msgpack_unpacked *unpacked, vd_msg_t *out,
               vd_error_t *err)
{
    size_t off = 0;
    if (!vd_mp_plausible (data, len))
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "message is not valid msgpack (cut, or counts more items than it "
                             "holds)");
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
    if (vd_mp_int (&a[1], &kind) < 0 || kind < VD_MSG_RAW || kind > VD_MSG_HASHES)
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

/*  A {name: integer} JSON object as a msgpack map. */
static void
s_pack_counts (msgpack_packer *pk, const json_t *counts)
{
    msgpack_pack_map (pk, (uint32_t)json_object_size (counts));
    const char *name;
    json_t *n;
    json_object_foreach ((json_t *)counts, name, n)
    {
        vd_mp_pack_cstr (pk, name);
        msgpack_pack_int64 (pk, json_integer_value (n));
    }
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
                 const vd_msg_end_t *end)
{
    vd_msg_pack_header (pk, VD_MSG_END, run_id, seq, -1);
    msgpack_pack_map (pk, 3 + (end->deletes > 0) + (end->reconciled != NULL) +
                              (end->skipped != NULL) + (end->hashed != NULL) * 2);
    vd_mp_pack_cstr (pk, "connector");
    vd_mp_pack_cstr (pk, connector);
    vd_mp_pack_cstr (pk, "extracted");
    s_pack_counts (pk, end->extracted);
    vd_mp_pack_cstr (pk, "records");
    msgpack_pack_int64 (pk, end->records);
    if (end->deletes > 0) {
        vd_mp_pack_cstr (pk, "deletes");
        msgpack_pack_int64 (pk, end->deletes);
    }
    if (end->reconciled) {
        vd_mp_pack_cstr (pk, "reconciled");
        msgpack_pack_array (pk, (uint32_t)json_array_size (end->reconciled));
        size_t i;
        json_t *n;
        json_array_foreach (end->reconciled, i, n) vd_mp_pack_cstr (pk, json_string_value (n));
    }
    if (end->skipped) {
        vd_mp_pack_cstr (pk, "skipped");
        s_pack_counts (pk, end->skipped);
    }
    if (end->hashed) {
        vd_mp_pack_cstr (pk, "hashes");
        msgpack_pack_int64 (pk, end->hashes);
        vd_mp_pack_cstr (pk, "hashed");
        s_pack_counts (pk, end->hashed);
    }
}

void
vd_msg_pack_hashes (msgpack_packer *pk, int64_t run_id, uint64_t seq, int table,
                    const char *connector, const char *file, const char *rules,
                    const uint8_t *entries, size_t n)
{
    vd_msg_pack_header (pk, VD_MSG_HASHES, run_id, seq, table);
    msgpack_pack_map (pk, 4);
    vd_mp_pack_cstr (pk, "connector");
    vd_mp_pack_cstr (pk, connector);
    vd_mp_pack_cstr (pk, "file");
    vd_mp_pack_cstr (pk, file);
    vd_mp_pack_cstr (pk, "rules");
    vd_mp_pack_cstr (pk, rules);
    vd_mp_pack_cstr (pk, "lines");
    msgpack_pack_bin (pk, n * VD_MSG_LINE_ENTRY);
    msgpack_pack_bin_body (pk, entries, n * VD_MSG_LINE_ENTRY);
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

static _Thread_local bool s_write_failed;

int
vd_mp_write (void *data, const char *buf, size_t len)
{
    int rc = msgpack_sbuffer_write (data, buf, len);
    if (rc != 0)
        s_write_failed = true;
    return rc;
}

bool
vd_mp_write_failed (void)
{
    bool failed = s_write_failed;
    s_write_failed = false;
    return failed;
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
    /* counts past the bytes left are refused before msgpack allocates */
    failures += !vd_mp_plausible ("\x93\x01\xc0\xa1x", 5);
    failures += vd_mp_plausible ("\xdd\x7f\xff\xff\xff", 5);
    failures += vd_mp_plausible ("\xdf\x00\x01\x00\x00\x01", 6);
    failures += vd_mp_plausible ("\x92\x01", 2);             /* cut */
    failures += vd_mp_plausible ("\xc1", 1);                 /* never used */
    failures += vd_mp_plausible ("\xdb\xff\xff\xff\xff", 5); /* str past the end */
    failures += !vd_mp_plausible ("\xc7\x01\x05z", 4);       /* ext8: type and one byte */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, vd_mp_write);
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

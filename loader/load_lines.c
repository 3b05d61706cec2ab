/*  load_lines - per-line hashes of a run's files. */
#include "load_lines.h"

#define RULES_MAX 64

typedef struct {
    char *name;
    char hash_rules[RULES_MAX];  /* rules the extractor left lines out under */
    char canon_rules[RULES_MAX]; /* rules the file's records came with       */
    bool mixed;                  /* records under two fingerprints           */
    vd_buf_t entries;            /* VD_MSG_LINE_ENTRY bytes each             */
} s_file_t;

struct load_lines {
    s_file_t *files;
    size_t nfiles;
};

load_lines_t *
load_lines_new (void)
{
    return calloc (1, sizeof (load_lines_t));
}

void
load_lines_destroy (load_lines_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    load_lines_t *self = *self_p;
    for (size_t i = 0; i < self->nfiles; i++) {
        free (self->files[i].name);
        vd_buf_free (&self->files[i].entries);
    }
    free (self->files);
    free (self);
    *self_p = NULL;
}

static s_file_t *
s_file (load_lines_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->nfiles; i++)
        if (strlen (self->files[i].name) == len && memcmp (self->files[i].name, name, len) == 0)
            return &self->files[i];
    s_file_t *grown = realloc (self->files, (self->nfiles + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    self->files = grown;
    s_file_t *f = &self->files[self->nfiles];
    *f = (s_file_t){.name = strndup (name, len)};
    if (!f->name)
        return NULL;
    vd_buf_init (&f->entries, LOAD_LINES_MAX * VD_MSG_LINE_ENTRY);
    self->nfiles++;
    return f;
}

int
load_lines_add (load_lines_t *self, const vd_msg_t *msg, vd_error_t *err)
{
    size_t file_len = 0, rules_len = 0;
    const char *file = vd_mp_str (vd_mp_get (msg->body, "file"), &file_len);
    const char *rules = vd_mp_str (vd_mp_get (msg->body, "rules"), &rules_len);
    const msgpack_object *lines = vd_mp_get (msg->body, "lines");
    if (!file || !rules || rules_len >= RULES_MAX || !lines || lines->type != MSGPACK_OBJECT_BIN ||
        lines->via.bin.size % VD_MSG_LINE_ENTRY)
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed HASHES message (seq %" PRIu64 ")",
                             msg->seq);
    s_file_t *f = s_file (self, file, file_len);
    if (!f)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    memcpy (f->hash_rules, rules, rules_len);
    f->hash_rules[rules_len] = '\0';
    /* past LOAD_LINES_MAX the buffer refuses: the file keeps no set */
    vd_buf_add (&f->entries, lines->via.bin.ptr, lines->via.bin.size);
    return 0;
}

void
load_lines_canon (load_lines_t *self, const char *file, size_t file_len, const char *rules,
                  size_t rules_len)
{
    s_file_t *f = file ? s_file (self, file, file_len) : NULL;
    if (!f)
        return;
    if (!rules || rules_len >= RULES_MAX)
        f->mixed = true;
    else if (!f->canon_rules[0]) {
        memcpy (f->canon_rules, rules, rules_len);
        f->canon_rules[rules_len] = '\0';
    } else if (strlen (f->canon_rules) != rules_len || memcmp (f->canon_rules, rules, rules_len))
        f->mixed = true;
}

static int
s_line_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t
s_line_of (const uint8_t *entry)
{
    return (uint32_t)entry[0] << 24 | (uint32_t)entry[1] << 16 | (uint32_t)entry[2] << 8 | entry[3];
}

/*  The sorted line numbers of the run's rejects in file; *n of them. */
static int64_t *
s_rejected (PGconn *conn, const char *run_text, const char *file, size_t *n, vd_error_t *err)
{
    const char *params[] = {run_text, file};
    PGresult *res = vd_db_exec (conn,
                                "SELECT line FROM ops.rejects WHERE run_id = $1::bigint"
                                " AND file = $2 AND line IS NOT NULL ORDER BY line",
                                2, params, err);
    if (!res)
        return NULL;
    *n = (size_t)PQntuples (res);
    int64_t *lines = malloc ((*n + 1) * sizeof *lines);
    for (size_t i = 0; lines && i < *n; i++)
        vd_parse_int (PQgetvalue (res, (int)i, 0), 0, INT64_MAX, &lines[i]);
    PQclear (res);
    if (!lines)
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    return lines;
}

/*  The set of file f: its hashes but the rejected lines', in line order
    (the extractor puts them in a hash table: neither order nor a repeated
    hash matters), written over its entries (16 bytes each, no second copy
    of a large file's hashes); *out points into them. Returns the count,
    -1 with err. */
static int64_t
s_set (s_file_t *f, PGconn *conn, const char *run_text, uint8_t **out, vd_error_t *err)
{
    size_t nrejected = 0, n = f->entries.len / VD_MSG_LINE_ENTRY, kept = 0;
    int64_t *rejected = s_rejected (conn, run_text, f->name, &nrejected, err);
    uint8_t *set = (uint8_t *)f->entries.data;
    if (!rejected)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = (const uint8_t *)f->entries.data + i * VD_MSG_LINE_ENTRY;
        int64_t line = s_line_of (e);
        if (bsearch (&line, rejected, nrejected, sizeof *rejected, s_line_cmp))
            continue;
        /* entry i starts at or after hash kept: moving it never overwrites
           an entry not read yet */
        memmove (set + kept++ * VD_MSG_LINE_HASH, e + 4, VD_MSG_LINE_HASH);
    }
    free (rejected);
    *out = set;
    return (int64_t)kept;
}

int
load_lines_store (load_lines_t *self, PGconn *conn, int64_t run_id, const char *connector,
                  const json_t *hashed, vd_error_t *err)
{
    char run_text[24];
    snprintf (run_text, sizeof run_text, "%" PRId64, run_id);
    for (size_t i = 0; i < self->nfiles; i++) {
        s_file_t *f = &self->files[i];
        json_int_t announced = json_integer_value (json_object_get (hashed, f->name));
        if (!json_object_get (hashed, f->name))
            continue; /* records of a file read without hashes */
        /* lines left out as unchanged under rules the records no longer
           get: they may be stale. Fail, so the next run compares all */
        if (f->hash_rules[0] && f->canon_rules[0] && strcmp (f->hash_rules, f->canon_rules))
            return vd_error_set (err, VD_ERR_PERMANENT,
                                 "%s: the normalizer's rules or settings (VAT rate, time zone)"
                                 " changed since its lines were last read: lines left out as"
                                 " unchanged may be stale; the next run compares every line",
                                 f->name);
        const char *rules = f->canon_rules[0] ? f->canon_rules : f->hash_rules;
        if (f->mixed || !rules[0] ||
            (json_int_t)(f->entries.len / VD_MSG_LINE_ENTRY) != announced ||
            f->entries.len % VD_MSG_LINE_ENTRY) {
            vd_warn ("%s: no per-line hashes kept (%s): its next read compares every line", f->name,
                     f->mixed ? "records under two rule sets" : "incomplete");
            continue;
        }
        uint8_t *set = NULL;
        int64_t n = s_set (f, conn, run_text, &set, err);
        if (n < 0)
            return -1;
        char count[24];
        snprintf (count, sizeof count, "%" PRId64, n);
        const char *params[] = {connector, f->name, run_text, rules, count, (const char *)set};
        const int lengths[] = {-1, -1, -1, -1, -1, (int)(n * VD_MSG_LINE_HASH)};
        f->entries.len = 0; /* now the set: the file's entries are spent */
        PGresult *res = vd_db_exec_binary (
            conn,
            "INSERT INTO ops.line_hashes (connector, file, run_id, rules, lines, hashes)"
            " VALUES ($1, $2, $3::bigint, $4, $5::bigint, $6) ON CONFLICT (connector, file)"
            " DO UPDATE SET run_id = excluded.run_id, rules = excluded.rules,"
            " lines = excluded.lines, hashes = excluded.hashes, written_at = now()",
            6, params, lengths, false, err);
        if (!res)
            return -1;
        PQclear (res);
    }
    return 0;
}

int
load_lines_test (bool verbose)
{
    int failures = 0;
    load_lines_t *self = load_lines_new ();
    load_lines_canon (self, "v.csv", 5, "abc", 3);
    load_lines_canon (self, "v.csv", 5, "abc", 3);
    load_lines_canon (self, "w.csv", 5, "abc", 3);
    load_lines_canon (self, "w.csv", 5, "abd", 3);
    if (self->nfiles != 2 || self->files[0].mixed || !self->files[1].mixed ||
        strcmp (self->files[0].canon_rules, "abc") != 0)
        failures++;
    uint8_t e[VD_MSG_LINE_ENTRY] = {0x01, 0x02, 0x03, 0x04};
    if (s_line_of (e) != 0x01020304)
        failures++;
    /* a malformed HASHES body is refused */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, vd_mp_write);
    vd_msg_pack_hashes (&pk, 1, 1, VD_TABLE_SALES, "c", "v.csv", "abc", e, 1);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    vd_msg_t m;
    vd_error_t err;
    if (vd_msg_decode (sb.data, sb.size, &u, &m, &err) < 0 || load_lines_add (self, &m, &err) < 0 ||
        self->files[0].entries.len != VD_MSG_LINE_ENTRY)
        failures++;
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_clear (&sb); /* entries of 19 bytes: refused */
    vd_msg_pack_header (&pk, VD_MSG_HASHES, 1, 2, VD_TABLE_SALES);
    msgpack_pack_map (&pk, 3);
    vd_mp_pack_cstr (&pk, "file");
    vd_mp_pack_cstr (&pk, "v.csv");
    vd_mp_pack_cstr (&pk, "rules");
    vd_mp_pack_cstr (&pk, "abc");
    vd_mp_pack_cstr (&pk, "lines");
    msgpack_pack_bin (&pk, VD_MSG_LINE_ENTRY - 1);
    msgpack_pack_bin_body (&pk, e, VD_MSG_LINE_ENTRY - 1);
    msgpack_unpacked_init (&u);
    if (vd_msg_decode (sb.data, sb.size, &u, &m, &err) < 0 || load_lines_add (self, &m, &err) == 0)
        failures++;
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    if (verbose)
        printf ("  load_lines: %zu files\n", self->nfiles);
    load_lines_destroy (&self);
    return failures ? -1 : 0;
}

/*  load_run - one run in flight in the loader. */
#include "load_run.h"
#include "vd_copy.h"
#include "load_events.h"
#include "load_agg.h"
#include "load_index.h"
#include "vd_fence.h"
#include "load_lines.h"
#include "load_refs.h"
#include "load_warn.h"
#define XXH_INLINE_ALL /* header only: nothing to link */
#include <xxhash.h>

#define BUF_MAX ((size_t)512 * 1024 * 1024)
/*  After this many customers marked dirty by COPY batches, a run marks
    them all (ops.dirty_all): one pass over every customer at the run's end
    costs less than remembering each. */
#define DIRTY_ALL_AFTER 20000
#define DIRECT_WAIT_MAX 64 /* batches merged before COPY is tried again */
#define CONTENT_HASH 16    /* bytes of a row's content_hash            */

struct load_run {
    int64_t run_id;
    char run_text[24];
    int table;          /* table of the buffer, -1 when empty        */
    vd_buf_t rows;      /* COPY text, one line per canonical row      */
    size_t *row_start;  /* offset of each line in rows                */
    size_t *row_direct; /* its length up to its content hash: the line
                           of a COPY straight into the table           */
    size_t nrows, cap_rows;
    int compare_full; /* -1 not known yet; 1: sync --full or a full
                         snapshot, every row's content is compared  */
    vd_buf_t rejects; /* COPY text for ops.rejects                  */
    size_t nrejects;
    load_warn_t *warn; /* the batch's warnings, summarised per kind  */
    int64_t ord;       /* arrival order, for "the later line wins"   */
    int64_t handled;   /* rows received (buffered or committed)      */
    int64_t committed;
    int64_t expected;  /* from END; -1 before                        */
    json_t *extracted; /* END's per-table extracted counts           */
    /* exactly-once batches in the buffer: seq and rows of each; after a
       flush, the seqs it committed */
    uint64_t *batch_seq;
    int64_t *batch_rows;
    size_t nbatches, cap_batches;
    size_t ncommitted_batches;
    bool exactly_once;
    /* DELETE messages: COPY text "l|p<TAB>source_id" per table */
    vd_buf_t gone[VD_TABLE_COUNT];
    char gone_source[VD_TABLE_COUNT][32];
    char gone_connector[VD_TABLE_COUNT][72]; /* deletions stay within it */
    bool reconciled[VD_TABLE_COUNT];
    int64_t deletes_handled, deletes_expected;
    load_refs_t *refs; /* keys known to exist (unknown references)  */
    bool *refused;     /* rows the database refused (isolation)      */
    /* COPY straight into the table, per table: batches to merge before
       trying again after a conflict, and how long the next wait is */
    int direct_wait[VD_TABLE_COUNT], direct_next[VD_TABLE_COUNT];
    PGconn *stream;                     /* a COPY straight into the table open on it,
                                           in the buffer's transaction (NULL: none)   */
    size_t streamed;                    /* rows of the buffer sent to it             */
    bool stream_failed;                 /* a send failed: the flush fails (retried)   */
    bool stream_unfit;                  /* a field without a binary form: merged      */
    bool index_checked[VD_TABLE_COUNT]; /* deferred indexes looked at  */
    int64_t dirty_marked;               /* customers COPY batches marked dirty (committed) */
    bool dirty_all;                     /* ops.dirty_all set by this run (committed)       */
    int64_t tx_marked;                  /* the same, in the transaction being written      */
    bool tx_all;
    bool customers_written;
    int64_t copied, merged; /* committed rows by way (load_run_ways) */
    /* per-line hashes (HASHES messages) and what END says of them */
    load_lines_t *lines;
    int64_t hashes_handled, hashes_expected;
    json_t *hashed; /* {file: entries}, NULL when no file was hashed  */
    json_t *unread; /* {table: lines left out as unchanged, not sent} */
    char connector[72];
    XXH3_state_t *hash_state; /* content hashes (s_add_values)            */
    load_agg_t *agg;          /* aggregates counted as sales are copied   */
};

load_run_t *
load_run_new (int64_t run_id)
{
    load_run_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->run_id = run_id;
    snprintf (self->run_text, sizeof self->run_text, "%" PRId64, run_id);
    self->table = -1;
    self->expected = -1;
    self->compare_full = -1;
    if (!(self->hash_state = XXH3_createState ()) || !(self->refs = load_refs_new ()) ||
        !(self->lines = load_lines_new ()) || !(self->warn = load_warn_new ()) ||
        !(self->agg = load_agg_new ())) {
        load_refs_destroy (&self->refs);
        load_lines_destroy (&self->lines);
        load_warn_destroy (&self->warn);
        XXH3_freeState (self->hash_state);
        free (self);
        return NULL;
    }
    vd_buf_init (&self->rows, BUF_MAX);
    vd_buf_init (&self->rejects, BUF_MAX);
    for (int t = 0; t < VD_TABLE_COUNT; t++)
        vd_buf_init (&self->gone[t], BUF_MAX);
    return self;
}

void
load_run_destroy (load_run_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    load_run_t *self = *self_p;
    load_run_stream_drop (self, true);
    vd_buf_free (&self->rows);
    vd_buf_free (&self->rejects);
    load_warn_destroy (&self->warn);
    for (int t = 0; t < VD_TABLE_COUNT; t++)
        vd_buf_free (&self->gone[t]);
    free (self->row_start);
    free (self->row_direct);
    free (self->batch_seq);
    free (self->batch_rows);
    load_refs_destroy (&self->refs);
    load_lines_destroy (&self->lines);
    load_agg_destroy (&self->agg);
    json_decref (self->hashed);
    json_decref (self->unread);
    free (self->refused);
    json_decref (self->extracted);
    XXH3_freeState (self->hash_state);
    free (self);
    *self_p = NULL;
}

int64_t
load_run_id (const load_run_t *self)
{
    return self->run_id;
}

size_t
load_run_pending (const load_run_t *self)
{
    return self->nrows + self->nrejects;
}

int
load_run_table (const load_run_t *self)
{
    return load_run_pending (self) ? self->table : -1;
}

bool
load_run_complete (const load_run_t *self)
{
    return self->expected >= 0 && self->committed == self->expected &&
           self->deletes_handled == self->deletes_expected &&
           self->hashes_handled == self->hashes_expected;
}

bool
load_run_received (const load_run_t *self)
{
    return self->expected >= 0 &&
           self->committed + (int64_t)load_run_pending (self) >= self->expected;
}

int64_t
load_run_committed (const load_run_t *self)
{
    return self->committed;
}

bool
load_run_customers_written (const load_run_t *self)
{
    return self->customers_written;
}

void
load_run_ways (const load_run_t *self, int64_t *copied, int64_t *merged)
{
    *copied = self->copied;
    *merged = self->merged;
}

bool
load_msg_is_ack (const vd_msg_t *msg)
{
    const msgpack_object *ack = vd_mp_get (msg->body, "ack");
    return ack && ack->type == MSGPACK_OBJECT_BOOLEAN && ack->via.boolean;
}

bool
load_run_exactly_once (const load_run_t *self)
{
    return self->exactly_once;
}

bool
load_run_has_batch (const load_run_t *self, uint64_t seq)
{
    if (self->ncommitted_batches) /* the list is the last flush's */
        return false;
    for (size_t i = 0; i < self->nbatches; i++)
        if (self->batch_seq[i] == seq)
            return true;
    return false;
}

const uint64_t *
load_run_committed_batches (const load_run_t *self, size_t *count)
{
    *count = self->ncommitted_batches;
    return self->batch_seq;
}

static int
s_add_batch (load_run_t *self, uint64_t seq, int64_t rows)
{
    if (self->ncommitted_batches) { /* the last flush's list was reported */
        self->nbatches = 0;
        self->ncommitted_batches = 0;
    }
    if (self->nbatches == self->cap_batches) {
        size_t cap = self->cap_batches ? self->cap_batches * 2 : 16;
        uint64_t *seqs = realloc (self->batch_seq, cap * sizeof *seqs);
        if (seqs)
            self->batch_seq = seqs;
        int64_t *rows_p = seqs ? realloc (self->batch_rows, cap * sizeof *rows_p) : NULL;
        if (!rows_p)
            return -1;
        self->batch_rows = rows_p;
        self->cap_batches = cap;
    }
    self->batch_seq[self->nbatches] = seq;
    self->batch_rows[self->nbatches++] = rows;
    self->exactly_once = true;
    return 0;
}

/*  "<run>\t<table>\t<file>\t<line>\t" prefix of a reject line. 0, -1
    when b would pass its ceiling. */
static int
s_prefix (load_run_t *self, vd_buf_t *b, const char *table, const char *file, size_t file_len,
          int64_t line)
{
    return vd_buf_printf (b, "%s\t%s\t", self->run_text, table) < 0 ||
                   vd_copy_text (b, file, file_len) < 0 ||
                   vd_buf_printf (b, "\t%" PRId64 "\t", line) < 0
               ? -1
               : 0;
}

static int
s_add_row_start (load_run_t *self)
{
    if (self->nrows == self->cap_rows) {
        size_t cap = self->cap_rows ? self->cap_rows * 2 : 1024;
        size_t *p = realloc (self->row_start, cap * sizeof *p);
        if (p)
            self->row_start = p;
        size_t *d = p ? realloc (self->row_direct, cap * sizeof *d) : NULL;
        if (!d)
            return -1;
        self->row_direct = d;
        self->cap_rows = cap;
    }
    self->row_start[self->nrows] = self->rows.len;
    return 0;
}

/*  The row's COPY fields (the normalizer wrote them: checked before any
    row is added), then its content hash: XXH3-128 of the table name and of
    the fields of every compared column, each with the tab after it (the
    key first; NOCOMPARE columns left out, as in the merge). It only tells
    whether a row's content changed since the loader wrote it (see the
    README's Unchanged rows), so a non-cryptographic hash is enough. */
static int
s_add_values (load_run_t *self, const vd_table_t *t, bool compares_all,
              const msgpack_object *values)
{
    const char *row = values->via.str.ptr;
    size_t len = values->via.str.size;
    size_t before = self->rows.len;
    if (vd_buf_add (&self->rows, row, len) < 0 || vd_buf_addc (&self->rows, '\t') < 0)
        return -1;
    XXH3_state_t *st = self->hash_state;
    XXH3_128bits_reset (st);
    XXH3_128bits_update (st, t->name, strlen (t->name) + 1);
    const char *field = self->rows.data + before, *end = self->rows.data + self->rows.len;
    if (compares_all)
        XXH3_128bits_update (st, field, (size_t)(end - field));
    else
        for (size_t c = 0; c < t->ncolumns; c++) {
            if (!vd_schema_carried (&t->columns[c]))
                continue;
            const char *next = (const char *)memchr (field, '\t', (size_t)(end - field)) + 1;
            if (!(t->columns[c].flags & VD_COL_NOCOMPARE))
                XXH3_128bits_update (st, field, (size_t)(next - field));
            field = next;
        }
    XXH128_canonical_t hash;
    XXH128_canonicalFromHash (&hash, XXH3_128bits_digest (st));
    static const char hex[] = "0123456789abcdef";
    char text[3 + 2 * CONTENT_HASH + 1] = "\\\\x"; /* a bytea literal, COPY-escaped */
    for (size_t i = 0; i < CONTENT_HASH; i++) {
        text[3 + 2 * i] = hex[hash.digest[i] >> 4];
        text[4 + 2 * i] = hex[hash.digest[i] & 15];
    }
    text[3 + 2 * CONTENT_HASH] = '\t';
    return vd_buf_add (&self->rows, text, sizeof text);
}

/*  One canonical row: [line, values|nil, reason|nil, raw|nil, warnings|nil],
    values the row's COPY text fields (vd_copy). */
static int
s_add_row (load_run_t *self, const vd_table_t *t, bool compares_all, const msgpack_object *row,
           const char *file, size_t file_len)
{
    const msgpack_object *it = row->via.array.ptr;
    int64_t line = 0;
    vd_mp_int (&it[0], &line);
    const msgpack_object *warnings = &it[4];
    if (warnings->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t w = 0; w < warnings->via.array.size; w++)
            if (load_warn_add_mp (self->warn, t->name, file, file_len, line,
                                  &warnings->via.array.ptr[w]) < 0)
                return -1;
    if (it[1].type != MSGPACK_OBJECT_STR) {
        size_t reason_len = 0, raw_len = 0;
        const char *reason = vd_mp_str (&it[2], &reason_len);
        const char *raw = vd_mp_str (&it[3], &raw_len);
        size_t before = self->rejects.len;
        if (s_prefix (self, &self->rejects, t->name, file, file_len, line) < 0 ||
            (reason ? vd_copy_text (&self->rejects, reason, reason_len)
                    : vd_buf_addstr (&self->rejects, "rejected")) < 0 ||
            vd_buf_addc (&self->rejects, '\t') < 0 ||
            vd_copy_text (&self->rejects, raw, raw_len) < 0 ||
            vd_buf_addc (&self->rejects, '\n') < 0) {
            vd_buf_truncate (&self->rejects, before);
            return -1;
        }
        self->nrejects++;
        return 0;
    }
    if (s_add_row_start (self) < 0 || s_add_values (self, t, compares_all, &it[1]) < 0)
        return -1;
    self->row_direct[self->nrows] = self->rows.len - 1 - self->row_start[self->nrows];
    if (vd_buf_add_int (&self->rows, ++self->ord) < 0 || vd_buf_addc (&self->rows, '\t') < 0 ||
        vd_copy_text (&self->rows, file, file_len) < 0 || vd_buf_addc (&self->rows, '\t') < 0 ||
        vd_buf_add_int (&self->rows, line) < 0 || vd_buf_addc (&self->rows, '\n') < 0)
        return -1;
    self->nrows++;
    return 0;
}

/*  Checks the shape of every row before adding any. */
static int
s_check_rows (const vd_table_t *t, const msgpack_object *rows)
{
    size_t ncarried = vd_schema_ncarried (t);
    for (uint32_t r = 0; r < rows->via.array.size; r++) {
        const msgpack_object *row = &rows->via.array.ptr[r];
        if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != 5)
            return -1;
        const msgpack_object *values = &row->via.array.ptr[1];
        if (values->type == MSGPACK_OBJECT_STR
                ? !vd_copy_row_valid (values->via.str.ptr, values->via.str.size, ncarried)
                : values->type != MSGPACK_OBJECT_NIL)
            return -1;
    }
    return 0;
}

int
load_run_add (load_run_t *self, const vd_msg_t *msg, vd_error_t *err)
{
    const vd_table_t *t = vd_schema_table (msg->table);
    const msgpack_object *rows = vd_mp_get (msg->body, "rows");
    if (msg->kind != VD_MSG_CANON || !rows || rows->type != MSGPACK_OBJECT_ARRAY ||
        s_check_rows (t, rows) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed canonical message (seq %" PRIu64 ")",
                             msg->seq);
    assert (load_run_table (self) < 0 || load_run_table (self) == msg->table);
    if (load_msg_is_ack (msg) && s_add_batch (self, msg->seq, rows->via.array.size) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    self->table = msg->table;
    size_t file_len = 0, rules_len = 0;
    const char *file = vd_mp_str (vd_mp_get (msg->body, "file"), &file_len);
    const char *rules = vd_mp_str (vd_mp_get (msg->body, "rules"), &rules_len);
    load_lines_canon (self->lines, file, file_len, rules, rules_len);
    bool compares_all = vd_schema_compares_all (t);
    for (uint32_t r = 0; r < rows->via.array.size; r++)
        if (s_add_row (self, t, compares_all, &rows->via.array.ptr[r], file, file_len) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "run buffer full or value unusable");
    self->handled += rows->via.array.size;
    return 0;
}

/*  A msgpack {name: count} map as JSON (*out NULL when obj is absent);
    tables: names must be tables. -1 when malformed. */
static int
s_counts (const msgpack_object *obj, bool tables, json_t **out)
{
    *out = NULL;
    if (!obj)
        return 0;
    if (obj->type != MSGPACK_OBJECT_MAP || !(*out = json_object ()))
        return -1;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        char name[4096];
        int64_t n;
        if (vd_mp_copy (&obj->via.map.ptr[i].key, name, sizeof name) < 0 ||
            (tables && vd_schema_table_id (name) < 0) ||
            vd_mp_int (&obj->via.map.ptr[i].val, &n) < 0 || n < 0)
            return -1;
        json_object_set_new (*out, name, json_integer (n));
    }
    return 0;
}

int
load_run_end (load_run_t *self, const vd_msg_t *msg, vd_error_t *err)
{
    int64_t records;
    const msgpack_object *extracted = vd_mp_get (msg->body, "extracted");
    if (vd_mp_int (vd_mp_get (msg->body, "records"), &records) < 0 || records < 0 || !extracted ||
        extracted->type != MSGPACK_OBJECT_MAP)
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed END message");
    json_decref (self->extracted);
    self->extracted = json_object ();
    for (uint32_t i = 0; i < extracted->via.map.size; i++) {
        char table[64];
        int64_t n;
        if (vd_mp_copy (&extracted->via.map.ptr[i].key, table, sizeof table) < 0 ||
            vd_schema_table_id (table) < 0 || vd_mp_int (&extracted->via.map.ptr[i].val, &n) < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "malformed END message");
        json_object_set_new (self->extracted, table, json_integer (n));
    }
    int64_t deletes = 0;
    const msgpack_object *n = vd_mp_get (msg->body, "deletes");
    const msgpack_object *reconciled = vd_mp_get (msg->body, "reconciled");
    if ((n && (vd_mp_int (n, &deletes) < 0 || deletes < 0)) ||
        (reconciled && reconciled->type != MSGPACK_OBJECT_ARRAY))
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed END message");
    for (uint32_t i = 0; reconciled && i < reconciled->via.array.size; i++) {
        char table[64];
        int id = vd_mp_copy (&reconciled->via.array.ptr[i], table, sizeof table) == 0
                     ? vd_schema_table_id (table)
                     : -1;
        if (id < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "malformed END message");
        self->reconciled[id] = true;
    }
    int64_t hashes = 0;
    const msgpack_object *h = vd_mp_get (msg->body, "hashes");
    json_t *hashed = NULL, *skipped = NULL;
    if ((h && (vd_mp_int (h, &hashes) < 0 || hashes < 0)) ||
        s_counts (vd_mp_get (msg->body, "hashed"), false, &hashed) < 0 ||
        s_counts (vd_mp_get (msg->body, "skipped"), true, &skipped) < 0 ||
        vd_mp_copy (vd_mp_get (msg->body, "connector"), self->connector, sizeof self->connector) <
            0) {
        json_decref (hashed);
        json_decref (skipped);
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed END message");
    }
    json_decref (self->hashed);
    json_decref (self->unread);
    self->hashed = hashed;
    self->unread = skipped;
    self->hashes_expected = hashes;
    self->deletes_expected = deletes;
    self->expected = records;
    return 0;
}

int
load_run_hashes (load_run_t *self, const vd_msg_t *msg, vd_error_t *err)
{
    if (load_lines_add (self->lines, msg, err) < 0)
        return -1;
    self->hashes_handled++;
    return 0;
}

int
load_run_agg_given (load_run_t *self, PGconn *conn, vd_error_t *err)
{
    return load_agg_given (self->agg, conn, err);
}

int
load_run_store_lines (load_run_t *self, PGconn *conn, vd_error_t *err)
{
    return self->hashed ? load_lines_store (self->lines, conn, self->run_id, self->connector,
                                            self->hashed, err)
                        : 0;
}

int
load_run_delete (load_run_t *self, const vd_msg_t *msg, vd_error_t *err)
{
    char mode[16], source[32];
    const msgpack_object *ids = vd_mp_get (msg->body, "ids");
    if (msg->kind != VD_MSG_DELETE || msg->table < 0 ||
        vd_mp_copy (vd_mp_get (msg->body, "mode"), mode, sizeof mode) < 0 ||
        (strcmp (mode, "listed") != 0 && strcmp (mode, "present") != 0) ||
        vd_mp_copy (vd_mp_get (msg->body, "source"), source, sizeof source) < 0 ||
        vd_schema_source_id (source) < 0 || !ids || ids->type != MSGPACK_OBJECT_ARRAY)
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed DELETE message (seq %" PRIu64 ")",
                             msg->seq);
    vd_buf_t *b = &self->gone[msg->table];
    snprintf (self->gone_source[msg->table], sizeof self->gone_source[0], "%s", source);
    if (vd_mp_copy (vd_mp_get (msg->body, "connector"), self->gone_connector[msg->table],
                    sizeof self->gone_connector[0]) < 0)
        self->gone_connector[msg->table][0] = '\0';
    for (uint32_t i = 0; i < ids->via.array.size; i++) {
        size_t len;
        const char *id = vd_mp_str (&ids->via.array.ptr[i], &len);
        if (!id || vd_buf_addc (b, mode[0] == 'l' ? 'l' : 'p') < 0 || vd_buf_addc (b, '\t') < 0 ||
            vd_copy_text (b, id, len) < 0 || vd_buf_addc (b, '\n') < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "DELETE ids unusable or too many");
    }
    self->deletes_handled++;
    return 0;
}

int
load_run_apply_deletes (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err)
{
    for (int t = 0; t < VD_TABLE_COUNT; t++) {
        if (!self->reconciled[t] && self->gone[t].len == 0)
            continue;
        const char *params[] = {self->gone_source[t][0] ? self->gone_source[t] : "odoo",
                                self->reconciled[t] ? "true" : "false",
                                self->gone_connector[t][0] ? self->gone_connector[t] : NULL};
        if (vd_db_command (conn, "DELETE FROM stage_ids", 0, NULL, err) < 0 ||
            (self->gone[t].len && vd_copy_run (conn, "COPY stage_ids (mode, source_id) FROM STDIN",
                                               self->gone[t].data, self->gone[t].len, err) < 0) ||
            vd_db_command (conn, "ANALYZE stage_ids", 0, NULL, err) < 0)
            return -1;
        PGresult *res = vd_db_exec (conn, sql[t].deletion, 3, params, err);
        if (!res)
            return -1;
        const char *count[] = {self->run_text, vd_schema_table (t)->name, PQgetvalue (res, 0, 0)};
        int rc = vd_db_command (conn,
                                "INSERT INTO ops.run_tables (run_id, table_name, deleted)"
                                " VALUES ($1, $2, $3) ON CONFLICT (run_id, table_name)"
                                " DO UPDATE SET deleted = run_tables.deleted + excluded.deleted",
                                3, count, err);
        PQclear (res);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*  Stages rows [from, to) and merges them (inside the caller's
    transaction). Adds to *inserted and *updated. */
static int
s_merge_rows (load_run_t *self, PGconn *conn, const load_sql_t *sql, size_t from, size_t to,
              int64_t *inserted, int64_t *updated, vd_error_t *err)
{
    const vd_table_t *t = vd_schema_table (self->table);
    size_t start = self->row_start[from];
    size_t end = to < self->nrows ? self->row_start[to] : self->rows.len;
    const char *params[] = {self->run_text, t->name};
    const char *table_param[] = {t->name};
    if (vd_copy_run (conn, sql->copy, self->rows.data + start, end - start, err) < 0)
        return -1;
    if (sql->key_map && (vd_db_command (conn, sql->key_map, 1, table_param, err) < 0 ||
                         vd_db_command (conn, sql->key_apply, 1, table_param, err) < 0))
        return -1;
    if (vd_db_command (conn, sql->duplicates, 2, params, err) < 0)
        return -1;
    for (const char *const *q = load_events_before (self->table); *q; q++)
        if (vd_db_command (conn, *q, 0, NULL, err) < 0)
            return -1;
    PGresult *res =
        vd_db_exec (conn, self->compare_full == 1 ? sql->merge_full : sql->merge, 0, NULL, err);
    if (!res)
        return -1;
    int64_t ins = 0, upd = 0;
    vd_parse_int (PQgetvalue (res, 0, 0), 0, INT64_MAX, &ins);
    vd_parse_int (PQgetvalue (res, 0, 1), 0, INT64_MAX, &upd);
    PQclear (res);
    *inserted += ins;
    *updated += upd;
    if (sql->orphans && vd_db_command (conn, sql->orphans, 2, params, err) < 0)
        return -1;
    for (const char *const *q = load_events_after (self->table); *q; q++)
        if (vd_db_command (conn, *q, 0, NULL, err) < 0)
            return -1;
    return 0;
}

/*  Row i becomes a reject with the server's reason. 0, -1 when the
    rejects would pass their ceiling (nothing of the line is kept). */
static int
s_reject_row (load_run_t *self, size_t i, const vd_error_t *why)
{
    if (self->refused)
        self->refused[i] = true;
    const vd_table_t *t = vd_schema_table (self->table);
    size_t start = self->row_start[i];
    size_t end = i + 1 < self->nrows ? self->row_start[i + 1] : self->rows.len;
    /* the row's last two fields are its file and line */
    const char *line_text = self->rows.data + start;
    size_t len = end - start - 1;
    const char *tab2 = NULL, *tab1 = NULL;
    for (size_t k = len; k > 0 && !tab2; k--)
        if (line_text[k - 1] == '\t')
            tab1 ? (void)(tab2 = line_text + k - 1) : (void)(tab1 = line_text + k - 1);
    char reason[600];
    snprintf (reason, sizeof reason, "refused by the database: %s", why->msg);
    vd_buf_t *b = &self->rejects;
    size_t before = b->len;
    /* the canonical values as staged (already COPY-escaped) */
    if (vd_buf_printf (b, "%s\t%s\t", self->run_text, t->name) < 0 ||
        vd_buf_add (b, tab2 + 1, (size_t)(tab1 - tab2 - 1)) < 0 || vd_buf_addc (b, '\t') < 0 ||
        vd_buf_add (b, tab1 + 1, (size_t)(line_text + len - tab1 - 1)) < 0 ||
        vd_buf_addc (b, '\t') < 0 || vd_copy_text (b, reason, strlen (reason)) < 0 ||
        vd_buf_addc (b, '\t') < 0 || vd_buf_add (b, line_text, (size_t)(tab2 - line_text)) < 0 ||
        vd_buf_addc (b, '\n') < 0) {
        vd_buf_truncate (b, before);
        return -1;
    }
    self->nrejects++;
    return 0;
}

/*  Merges [from, to) under savepoints, halving around rows the server
    refuses; those become rejects. -1 only on a transient error. */
static int
s_merge_isolating (load_run_t *self, PGconn *conn, const load_sql_t *sql, size_t from, size_t to,
                   int64_t *ins, int64_t *upd, size_t *refused, vd_error_t *err)
{
    char stage_clear[128];
    snprintf (stage_clear, sizeof stage_clear, "DELETE FROM stage_%s",
              vd_schema_table (self->table)->name);
    if (vd_db_command (conn, "SAVEPOINT isolate", 0, NULL, err) < 0 ||
        vd_db_command (conn, stage_clear, 0, NULL, err) < 0)
        return -1;
    int64_t i = 0, u = 0;
    if (s_merge_rows (self, conn, sql, from, to, &i, &u, err) == 0) {
        *ins += i;
        *upd += u;
        return vd_db_command (conn, "RELEASE SAVEPOINT isolate", 0, NULL, err);
    }
    if (err->kind == VD_ERR_TRANSIENT ||
        vd_db_command (conn, "ROLLBACK TO SAVEPOINT isolate", 0, NULL, NULL) < 0)
        return -1;
    if (to - from == 1) {
        (*refused)++;
        return s_reject_row (self, from, err) < 0
                   ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory for the rejects")
                   : 0;
    }
    size_t mid = from + (to - from) / 2;
    if (s_merge_isolating (self, conn, sql, from, mid, ins, upd, refused, err) < 0)
        return -1;
    return s_merge_isolating (self, conn, sql, mid, to, ins, upd, refused, err);
}

/*  Adds the batch's counts to the run's; extracted is counted here only
    for exactly-once batches (other runs get it from END). */
static int
s_write_counts (load_run_t *self, PGconn *conn, int64_t extracted, int64_t ins, int64_t upd,
                int64_t unchanged, vd_error_t *err)
{
    char n[5][24];
    snprintf (n[0], sizeof n[0], "%" PRId64, ins);
    snprintf (n[1], sizeof n[1], "%" PRId64, upd);
    snprintf (n[2], sizeof n[2], "%" PRId64, unchanged);
    snprintf (n[3], sizeof n[3], "%zu", self->nrejects);
    snprintf (n[4], sizeof n[4], "%" PRId64, extracted);
    const char *params[] = {
        self->run_text, vd_schema_table (self->table)->name, n[0], n[1], n[2], n[3], n[4]};
    return vd_db_command (conn,
                          "INSERT INTO ops.run_tables (run_id, table_name, inserted, updated,"
                          " unchanged, rejected, extracted) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                          " ON CONFLICT (run_id, table_name) DO UPDATE SET"
                          " inserted = run_tables.inserted + excluded.inserted,"
                          " updated = run_tables.updated + excluded.updated,"
                          " unchanged = run_tables.unchanged + excluded.unchanged,"
                          " rejected = run_tables.rejected + excluded.rejected,"
                          " extracted = run_tables.extracted + excluded.extracted",
                          7, params, err);
}

/*  Records the buffer's exactly-once batches as committed (this
    transaction). A batch already there means a second copy slipped in:
    the primary key refuses it, and the transaction with it. */
static int
s_write_batches (load_run_t *self, PGconn *conn, vd_error_t *err)
{
    vd_buf_t seqs, rows;
    vd_buf_init (&seqs, 64 * 1024 * 1024);
    vd_buf_init (&rows, 64 * 1024 * 1024);
    int rc = vd_buf_addc (&seqs, '{') | vd_buf_addc (&rows, '{');
    for (size_t i = 0; i < self->nbatches; i++)
        rc |= vd_buf_printf (&seqs, "%s%" PRIu64, i ? "," : "", self->batch_seq[i]) |
              vd_buf_printf (&rows, "%s%" PRId64, i ? "," : "", self->batch_rows[i]);
    rc |= vd_buf_addc (&seqs, '}') | vd_buf_addc (&rows, '}');
    const char *params[] = {self->run_text, vd_buf_str (&seqs), vd_buf_str (&rows)};
    if (rc == 0)
        rc = vd_db_command (conn,
                            "INSERT INTO ops.run_batches (run_id, seq, rows) SELECT $1::bigint,"
                            " unnest($2::bigint[]), unnest($3::bigint[])",
                            3, params, err);
    else
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    vd_buf_free (&seqs);
    vd_buf_free (&rows);
    return rc;
}

/*  Rows [from, nrows) as the direct COPY's data: each staged line up to
    its content hash (without _ord, _file, _line), then the key again for
    each column a new row gets its key in; as text lines, or binary tuples
    (sql->direct_types). 0, 1 when a field has no binary form (nothing
    usable was added), -1 when out of memory. */
static int
s_direct_rows (load_run_t *self, const load_sql_t *sql, size_t from, vd_buf_t *out)
{
    const vd_table_t *t = vd_schema_table (self->table);
    size_t init_key = 0;
    for (size_t c = 0; c < t->ncolumns; c++)
        init_key += (t->columns[c].flags & VD_COL_INIT_KEY) != 0;
    const vd_copy_bin_t *types = sql->direct_types;
    int rc = 0;
    for (size_t i = from; i < self->nrows && rc == 0; i++) {
        const char *line = self->rows.data + self->row_start[i], *end = line + self->row_direct[i];
        size_t key_len;
        const char *key = load_refs_field (line, end, 0, &key_len);
        if (!types)
            rc = vd_buf_add (out, line, self->row_direct[i]);
        else
            rc = vd_copy_bin_row (out, sql->ndirect, line, self->row_direct[i], types,
                                  sql->ndirect_staged);
        for (size_t k = 0; k < init_key && rc == 0; k++) /* the columns a new row gets its key in */
            rc = types ? vd_copy_bin_field (out, VD_COPY_BIN_TEXT, key, key_len)
                       : vd_buf_addc (out, '\t') | vd_buf_add (out, key, key_len);
        if (!types && rc == 0)
            rc = vd_buf_addc (out, '\n');
    }
    return rc;
}

/*  Customers whose aggregates the committed rows change: a sales line
    inserted marks its customer, a customer inserted itself (its sales may
    have come first). Up to DIRTY_ALL_AFTER a run, by key; then the run
    marks every customer once. In the caller's transaction. */
static int
s_mark_dirty (load_run_t *self, PGconn *conn, const vd_table_t *t, vd_error_t *err)
{
    if (!(t->flags & VD_TABLE_CUSTOMER_AGG) || self->dirty_all)
        return 0;
    int column = vd_schema_column (t, "customer_key");
    vd_buf_t keys;
    vd_buf_init (&keys, BUF_MAX);
    int64_t n = column < 0 ? -1
                           : load_refs_keys (self->rows.data, self->row_start, self->nrows,
                                             self->rows.len, (size_t)column, &keys);
    int rc = -1;
    if (n < 0)
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    else if (self->dirty_marked + n > DIRTY_ALL_AFTER) {
        rc = vd_db_command (conn, "INSERT INTO ops.dirty_all DEFAULT VALUES ON CONFLICT DO NOTHING",
                            0, NULL, err);
        self->tx_all = true;
    } else {
        const char *params[] = {vd_buf_str (&keys)};
        rc = vd_db_command (conn,
                            "INSERT INTO ops.dirty_customers (customer_key)"
                            " SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                            1, params, err);
        self->tx_marked = n;
    }
    vd_buf_free (&keys);
    return rc;
}

/*  Whether this run compares every row's content (sync --full, a
    connector with full_snapshot) or only their content hashes. */
static int
s_compare_mode (load_run_t *self, PGconn *conn, vd_error_t *err)
{
    if (self->compare_full >= 0)
        return 0;
    const char *params[] = {self->run_text};
    PGresult *res = vd_db_exec (conn,
                                "SELECT r.full_sync OR " VD_SQL_FULL_SNAPSHOT (
                                    "c") " FROM ops.sync_runs r LEFT JOIN ops.connectors c"
                                         " ON c.name = r.connector WHERE r.id = $1::bigint",
                                1, params, err);
    if (!res)
        return -1;
    self->compare_full = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "t") == 0;
    PQclear (res);
    return 0;
}

/*  Whether the buffer may go straight into its table: the table has a
    direct COPY, the buffer holds no exactly-once batch (their merge
    reports each), and no recent COPY of the table was refused. */
static bool
s_direct_ok (const load_run_t *self, const load_sql_t *sql)
{
    return sql->direct && !self->nbatches && self->direct_wait[self->table] == 0;
}

/*  Starts the COPY straight into the table, in a savepoint of the
    caller's transaction. 0, -1 with err. */
static int
s_direct_begin (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err)
{
    /* the run's first COPY into an empty table: its indexes come after */
    if (!self->index_checked[self->table] &&
        load_index_defer (conn, vd_schema_table (self->table)->name, err) < 0)
        return -1;
    self->index_checked[self->table] = true;
    if (vd_db_command (conn, "SAVEPOINT direct", 0, NULL, err) < 0 ||
        vd_copy_begin (conn, sql->direct, err) < 0)
        return -1;
    self->stream = conn;
    self->streamed = 0;
    self->stream_failed = false;
    self->stream_unfit = false;
    if (sql->direct_types) {
        vd_buf_t head;
        vd_buf_init (&head, 64);
        self->stream_failed =
            vd_copy_bin_header (&head) < 0 || vd_copy_send (conn, head.data, head.len) < 0;
        vd_buf_free (&head);
    }
    return 0;
}

/*  Sends the rows not sent yet (after the last, with end, the binary
    trailer). 0, -1 when out of memory. A field without a binary form
    stops the sending (stream_unfit): the end merges the batch. */
static int
s_direct_send (load_run_t *self, const load_sql_t *sql, bool end)
{
    if (self->stream_failed || self->stream_unfit ||
        (self->streamed == self->nrows && !(end && sql->direct_types)))
        return 0;
    vd_buf_t data;
    vd_buf_init (&data, BUF_MAX);
    int rc = s_direct_rows (self, sql, self->streamed, &data);
    if (rc == 0 && end && sql->direct_types)
        rc = vd_copy_bin_trailer (&data);
    if (rc == 1)
        self->stream_unfit = true;
    else if (rc == 0 && vd_copy_send (self->stream, data.data, data.len) < 0)
        self->stream_failed = true; /* the connection failed: the end says so */
    vd_buf_free (&data);
    self->streamed = self->nrows;
    return rc < 0 ? -1 : 0;
}

/*  Ends the COPY. A key the table holds (a unique violation), a value the
    server refuses, or events waiting for these customers (their effects
    need the merge) roll the savepoint back: the batch goes to the merge,
    and after a refusal the next batches of the table too (1, 2, 4, ...
    64 of them). 1 done, 0 not done, -1 err. */
static int
s_direct_end (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err)
{
    const vd_table_t *t = vd_schema_table (self->table);
    int rc = s_direct_send (self, sql, true) < 0
                 ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory")
                 : 0;
    bool failed = self->stream_failed, unfit = self->stream_unfit;
    self->stream = NULL;
    self->streamed = 0;
    self->stream_failed = false;
    self->stream_unfit = false;
    if (unfit) { /* a value the binary COPY cannot carry: merged as text */
        vd_copy_end (conn, false, err);
        vd_error_clear (err);
        return vd_db_command (conn, "ROLLBACK TO SAVEPOINT direct", 0, NULL, err) < 0 ? -1 : 0;
    }
    if (vd_copy_end (conn, rc == 0 && !failed, err) < 0) {
        if (rc < 0 || failed || err->kind == VD_ERR_TRANSIENT)
            return -1;
        if (vd_db_command (conn, "ROLLBACK TO SAVEPOINT direct", 0, NULL, err) < 0)
            return -1;
        vd_debug ("%s: COPY refused (%s): this batch is merged", t->name, err->msg);
        vd_error_clear (err);
        int wait = self->direct_next[self->table] ? self->direct_next[self->table] : 1;
        self->direct_wait[self->table] = wait;
        self->direct_next[self->table] = wait * 2 < DIRECT_WAIT_MAX ? wait * 2 : DIRECT_WAIT_MAX;
        return 0;
    }
    if (self->table == VD_TABLE_CUSTOMERS) {
        int pending = load_events_pending (conn, t, self->rows.data, self->row_start, self->nrows,
                                           self->rows.len, err);
        if (pending != 0)
            return pending < 0                                                              ? -1
                   : vd_db_command (conn, "ROLLBACK TO SAVEPOINT direct", 0, NULL, err) < 0 ? -1
                                                                                            : 0;
    }
    if (vd_db_command (conn, "RELEASE SAVEPOINT direct", 0, NULL, err) < 0 ||
        s_mark_dirty (self, conn, t, err) < 0)
        return -1;
    self->direct_next[self->table] = 0;
    return 1;
}

/*  COPY of the buffer straight into the canonical table at its flush, when
    it was not streamed. 1 done, 0 not done, -1 err. */
static int
s_direct (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err)
{
    if (!s_direct_ok (self, sql)) {
        if (self->direct_wait[self->table] > 0)
            self->direct_wait[self->table]--;
        return 0;
    }
    return s_direct_begin (self, conn, sql, err) < 0 ? -1 : s_direct_end (self, conn, sql, err);
}

int
load_run_stream (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err)
{
    if (!self->stream) {
        if (self->nrows == 0 || !s_direct_ok (self, sql) || s_compare_mode (self, conn, err) < 0)
            return err->msg[0] ? -1 : 0;
        if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
            return -1;
        if (s_direct_begin (self, conn, sql, err) < 0) {
            PQclear (PQexec (conn, "ROLLBACK"));
            return -1;
        }
    }
    if (s_direct_send (self, sql, false) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    return 0;
}

bool
load_run_streaming (const load_run_t *self)
{
    return self && self->stream;
}

void
load_run_stream_drop (load_run_t *self, bool connected)
{
    if (!self->stream)
        return;
    if (connected) { /* abort the COPY and its transaction */
        vd_error_t err;
        vd_error_clear (&err);
        vd_copy_end (self->stream, false, &err);
        PQclear (PQexec (self->stream, "ROLLBACK"));
    }
    self->stream = NULL;
    self->streamed = 0;
    self->stream_failed = false;
    self->stream_unfit = false;
}

static int
s_flush_tx (load_run_t *self, PGconn *conn, const load_sql_t *sql, size_t *refused_p,
            vd_error_t *err)
{
    const vd_table_t *t = vd_schema_table (self->table);
    int64_t ins = 0, upd = 0;
    int64_t extracted = self->nbatches ? (int64_t)(self->nrows + self->nrejects) : 0;
    size_t refused = 0;
    *refused_p = 0;
    self->tx_marked = 0;
    self->tx_all = false;
    /* a streamed buffer's transaction is open, its COPY sent */
    int direct = 0;
    if (self->stream)
        direct = s_direct_end (self, conn, sql, err);
    else if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0 ||
             (self->nbatches && s_write_batches (self, conn, err) < 0))
        return -1;
    else if (self->nrows)
        direct = s_direct (self, conn, sql, err);
    if (direct < 0)
        return -1;
    if (direct)
        ins = (int64_t)self->nrows;
    else if (self->nrows && s_merge_rows (self, conn, sql, 0, self->nrows, &ins, &upd, err) < 0) {
        if (err->kind == VD_ERR_TRANSIENT)
            return -1;
        vd_log_error (VD_LOG_WARN, err);
        vd_warn ("isolating the rows the database refuses in this batch");
        ins = upd = 0;
        free (self->refused);
        if (!(self->refused = calloc (self->nrows, sizeof *self->refused)))
            return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        if (vd_db_command (conn, "ROLLBACK", 0, NULL, err) < 0 ||
            vd_db_command (conn, "BEGIN", 0, NULL, err) < 0 ||
            (self->nbatches && s_write_batches (self, conn, err) < 0) ||
            s_merge_isolating (self, conn, sql, 0, self->nrows, &ins, &upd, &refused, err) < 0)
            return -1;
    }
    /* unknown customers and products (events: matched in SQL, load_sql) */
    if (self->nrows && !(t->flags & VD_TABLE_EVENTS) &&
        load_refs_check (self->refs, conn, t, self->rows.data, self->row_start, self->nrows,
                         self->rows.len, refused ? self->refused : NULL, self->warn, err) < 0)
        return -1;
    if ((self->rejects.len &&
         vd_copy_run (conn,
                      "COPY ops.rejects (run_id, table_name, file, line, reason, raw)"
                      " FROM STDIN",
                      self->rejects.data, self->rejects.len, err) < 0) ||
        load_warn_write (self->warn, conn, self->run_text, !direct && self->nrows, err) < 0 ||
        s_write_counts (self, conn, extracted, ins, upd,
                        (int64_t)(self->nrows - refused) - ins - upd, err) < 0)
        return -1;
    *refused_p = refused;
    /* sales lines: counted for the aggregates when copied (their id
       first), else the count is unusable */
    bool sales = self->table == VD_TABLE_SALES && self->nrows;
    if (sales && !direct)
        load_agg_drop (self->agg);
    if (sales && direct &&
        load_agg_prepare (self->agg, conn, self->rows.data, self->row_start, self->row_direct,
                          self->nrows, err) < 0)
        return -1;
    /* fencing, in the transaction itself: the run is still the
       orchestrator's running run (a batch late from a replica cut off,
       or of a run failed meanwhile, is rolled back: vd_fence) */
    char status[32];
    int open = vd_fence_open (conn, self->run_id, status, sizeof status, err);
    if (open == 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "the run is %s: its records are refused", status);
        return -2;
    }
    if (open < 0 || vd_db_command (conn, "COMMIT", 0, NULL, err) < 0)
        return -1;
    self->dirty_marked += self->tx_marked;
    self->dirty_all |= self->tx_all;
    self->customers_written |= self->table == VD_TABLE_CUSTOMERS && ins + upd > 0;
    *(direct ? &self->copied : &self->merged) += (int64_t)self->nrows;
    if (sales && direct)
        load_agg_committed (self->agg, self->rows.data, self->row_start, self->row_direct,
                            self->nrows);
    return 0;
}

int
load_run_flush (load_run_t *self, PGconn *conn, const load_sql_t *sql, vd_error_t *err)
{
    if (load_run_pending (self) == 0)
        return 0;
    if (s_compare_mode (self, conn, err) < 0)
        return -1;
    size_t rejects_len = self->rejects.len, nrejects = self->nrejects, refused = 0;
    size_t warnings = load_warn_count (self->warn);
    int rc = s_flush_tx (self, conn, sql, &refused, err);
    free (self->refused);
    self->refused = NULL;
    if (rc < 0) {
        PGresult *res = PQexec (conn, "ROLLBACK");
        PQclear (res); /* best effort: the connection may be gone */
        /* undo rows moved to rejects, warnings added: the whole batch is
           retried */
        self->rejects.len = rejects_len;
        self->nrejects = nrejects;
        load_warn_truncate (self->warn, warnings);
        return rc == -2 ? 1 : -1;
    }
    /* a refused row is both in rows and, now, in rejects */
    self->committed += (int64_t)(self->nrows + self->nrejects - refused);
    self->nrows = self->nrejects = 0;
    self->ncommitted_batches = self->nbatches;
    vd_buf_reset (&self->rows);
    vd_buf_reset (&self->rejects);
    load_warn_reset (self->warn);
    self->table = -1;
    return 0;
}

/*  Writes each {table: count} of counts into the run's column `sql` says. */
static int
s_write_table_counts (load_run_t *self, PGconn *conn, const char *sql, json_t *counts,
                      vd_error_t *err)
{
    const char *table;
    json_t *n;
    json_object_foreach (counts, table, n)
    {
        char count[24];
        snprintf (count, sizeof count, "%" JSON_INTEGER_FORMAT, json_integer_value (n));
        const char *params[] = {self->run_text, table, count};
        if (vd_db_command (conn, sql, 3, params, err) < 0)
            return -1;
    }
    return 0;
}

int
load_run_write_extracted (load_run_t *self, PGconn *conn, vd_error_t *err)
{
    if (s_write_table_counts (self, conn,
                              "INSERT INTO ops.run_tables (run_id, table_name, unchanged)"
                              " VALUES ($1, $2, $3) ON CONFLICT (run_id, table_name) DO UPDATE"
                              " SET unchanged = run_tables.unchanged + excluded.unchanged",
                              self->unread, err) < 0)
        return -1;
    return s_write_table_counts (self, conn,
                                 "INSERT INTO ops.run_tables (run_id, table_name, extracted)"
                                 " VALUES ($1, $2, $3) ON CONFLICT (run_id, table_name)"
                                 " DO UPDATE SET extracted = excluded.extracted",
                                 self->extracted, err);
}

/*  --------------------------------------------------------------------
    Self test: buffering without a database. */

/*  A CANON message of stock rows: n good rows, all with the same fields
    "v.<c>", then one reject. */
static int
s_test_msg (msgpack_sbuffer *sb, msgpack_unpacked *u, vd_msg_t *msg, int n, size_t fields)
{
    msgpack_sbuffer_clear (sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, vd_mp_write);
    vd_msg_pack_header (&pk, VD_MSG_CANON, 7, 1, VD_TABLE_STOCK);
    msgpack_pack_map (&pk, 3);
    vd_mp_pack_cstr (&pk, "file");
    vd_mp_pack_cstr (&pk, "stock.csv");
    vd_mp_pack_cstr (&pk, "rules");
    vd_mp_pack_cstr (&pk, "r1");
    vd_mp_pack_cstr (&pk, "rows");
    msgpack_pack_array (&pk, (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        vd_buf_t v;
        vd_buf_init (&v, 4096);
        for (size_t c = 0; c < fields; c++)
            vd_buf_printf (&v, "%sv.%zu", c ? "\t" : "", c);
        msgpack_pack_array (&pk, 5);
        msgpack_pack_int64 (&pk, i + 2);
        vd_mp_pack_str (&pk, vd_buf_str (&v), v.len);
        msgpack_pack_nil (&pk);
        msgpack_pack_nil (&pk);
        msgpack_pack_nil (&pk);
        vd_buf_free (&v);
    }
    msgpack_pack_array (&pk, 5);
    msgpack_pack_int64 (&pk, n + 2);
    msgpack_pack_nil (&pk);
    vd_mp_pack_cstr (&pk, "bad date");
    vd_mp_pack_cstr (&pk, "x\ty");
    msgpack_pack_nil (&pk);
    msgpack_unpacked_destroy (u);
    msgpack_unpacked_init (u);
    vd_error_t err;
    return vd_msg_decode (sb->data, sb->size, u, msg, &err);
}

int
load_run_test (bool verbose)
{
    int failures = 0;
    const vd_table_t *t = vd_schema_table (VD_TABLE_STOCK);
    size_t n = vd_schema_ncarried (t);
    load_run_t *run = load_run_new (7);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    vd_msg_t msg;
    vd_error_t err;
    vd_error_clear (&err);
    VD_CHECK (&failures, run && s_test_msg (&sb, &u, &msg, 2, n) == 0);
    VD_CHECK (&failures, run && load_run_add (run, &msg, &err) == 0);
    /* two rows buffered, one reject with its file, line, reason and raw
       (all three pending: the flush writes rejects too) */
    VD_CHECK (&failures, run && run->nrows == 2 && run->nrejects == 1 &&
                             load_run_pending (run) == 3 && load_run_table (run) == VD_TABLE_STOCK);
    VD_CHECK (&failures, run && strcmp (vd_buf_str (&run->rejects),
                                        "7\tstock_levels\tstock.csv\t4\tbad date\tx\\ty\n") == 0);
    /* a row goes into its table as its fields, its content hash (a bytea
       literal), then its key again for each column a new row keys */
    vd_buf_t direct;
    vd_buf_init (&direct, BUF_MAX);
    load_sql_t text = {0}, binary = {0};
    VD_CHECK (&failures, load_sql_build (VD_TABLE_STOCK, false, &text) == 0 &&
                             load_sql_build (VD_TABLE_STOCK, true, &binary) == 0 &&
                             !text.direct_types && binary.direct_types);
    /* "v.5" in a numeric column has no binary form: the batch is merged */
    VD_CHECK (&failures,
              run && binary.direct_types && s_direct_rows (run, &binary, 0, &direct) == 1);
    vd_buf_reset (&direct);
    VD_CHECK (&failures, run && s_direct_rows (run, &text, 0, &direct) == 0);
    load_sql_free (&text);
    load_sql_free (&binary);
    const char *hash = strstr (vd_buf_str (&direct), "\t\\\\x");
    VD_CHECK (&failures, hash && strspn (hash + 4, "0123456789abcdef") == 2 * CONTENT_HASH);
    /* the same content, the same hash: both lines are equal */
    const char *nl = strchr (vd_buf_str (&direct), '\n');
    VD_CHECK (&failures, nl && direct.len == 2 * (size_t)(nl + 1 - direct.data) &&
                             strncmp (nl + 1, direct.data, (size_t)(nl + 1 - direct.data)) == 0);
    vd_buf_free (&direct);
    /* a row the server refuses becomes a reject; when the rejects are
       full, nothing of its line is kept */
    VD_CHECK (&failures, run && s_reject_row (run, 0, &(vd_error_t){.msg = "bad"}) == 0 &&
                             run->nrejects == 2 &&
                             strstr (vd_buf_str (&run->rejects), "refused by the database: bad"));
    size_t len = run ? run->rejects.len : 0;
    if (run)
        run->rejects.max = len + 8;
    VD_CHECK (&failures, run && s_reject_row (run, 1, &(vd_error_t){.msg = "bad"}) < 0 &&
                             run->rejects.len == len && run->nrejects == 2);
    load_run_destroy (&run);
    /* a row with a field missing: the message is refused, nothing added */
    run = load_run_new (8);
    VD_CHECK (&failures, run && s_test_msg (&sb, &u, &msg, 1, n - 1) == 0 &&
                             load_run_add (run, &msg, &err) < 0 && run->nrows == 0 &&
                             run->nrejects == 0);
    load_run_destroy (&run);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&sb);
    if (verbose)
        printf ("  load_run: %d failures\n", failures);
    return failures ? -1 : 0;
}

/*  load_skip - rows the loader need not send to PostgreSQL. */
#include "load_skip.h"

#define MAX_LOAD_PERCENT 70

struct load_skip {
    int table;
    bool disabled;                    /* too many rows: skips nothing       */
    uint8_t (*slots)[LOAD_SKIP_HASH]; /* open addressing, all-zero = empty  */
    size_t cap, count;
    uint64_t *staged; /* key fingerprints staged in this run, 0 = empty */
    size_t staged_cap, staged_count;
};

uint64_t
load_skip_key (const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static uint64_t
s_slot_of (const uint8_t *hash)
{
    uint64_t h;
    memcpy (&h, hash, sizeof h); /* a cryptographic hash: already uniform */
    return h;
}

static bool
s_is_empty (const uint8_t *slot)
{
    static const uint8_t zero[LOAD_SKIP_HASH];
    return memcmp (slot, zero, LOAD_SKIP_HASH) == 0;
}

/*  Inserts into slots of capacity cap (a power of two, never full). */
static void
s_put (uint8_t (*slots)[LOAD_SKIP_HASH], size_t cap, const uint8_t *hash, size_t *count)
{
    if (s_is_empty (hash))
        return; /* cannot be stored: that row is simply never skipped */
    for (size_t i = s_slot_of (hash) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (s_is_empty (slots[i])) {
            memcpy (slots[i], hash, LOAD_SKIP_HASH);
            (*count)++;
            return;
        }
        if (memcmp (slots[i], hash, LOAD_SKIP_HASH) == 0)
            return;
    }
}

static bool
s_has (const load_skip_t *self, const uint8_t *hash)
{
    if (!self->cap || s_is_empty (hash))
        return false;
    for (size_t i = s_slot_of (hash) & (self->cap - 1);; i = (i + 1) & (self->cap - 1)) {
        if (s_is_empty (self->slots[i]))
            return false;
        if (memcmp (self->slots[i], hash, LOAD_SKIP_HASH) == 0)
            return true;
    }
}

static void
s_disable (load_skip_t *self)
{
    self->disabled = true;
    free (self->slots);
    self->slots = NULL;
    self->cap = self->count = 0;
}

/*  Adds one hash; grows the table first when needed. */
static void
s_add (load_skip_t *self, const uint8_t *hash)
{
    if (self->disabled)
        return;
    if ((self->count + 1) * 100 > self->cap * MAX_LOAD_PERCENT) {
        size_t cap = self->cap ? self->cap * 2 : 1024, count = 0;
        uint8_t (*slots)[LOAD_SKIP_HASH] =
            self->count >= LOAD_SKIP_MAX_ROWS ? NULL : calloc (cap, LOAD_SKIP_HASH);
        if (!slots) {
            s_disable (self);
            return;
        }
        for (size_t i = 0; i < self->cap; i++)
            if (!s_is_empty (self->slots[i]))
                s_put (slots, cap, self->slots[i], &count);
        free (self->slots);
        self->slots = slots;
        self->cap = cap;
        self->count = count;
    }
    s_put (self->slots, self->cap, hash, &self->count);
}

static int
s_hex (char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*  One COPY line: 32 hex digits. A malformed line is ignored (its row is
    then never skipped). */
static void
s_add_line (load_skip_t *self, const char *line, int len)
{
    uint8_t hash[LOAD_SKIP_HASH];
    if (len < 2 * LOAD_SKIP_HASH)
        return;
    for (int i = 0; i < LOAD_SKIP_HASH; i++) {
        int hi = s_hex (line[2 * i]), lo = s_hex (line[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return;
        hash[i] = (uint8_t)(hi << 4 | lo);
    }
    s_add (self, hash);
}

/*  Reads the table's hashes with COPY (one line each, drained to the end
    even when the set gave up). */
static int
s_read (load_skip_t *self, PGconn *conn, const vd_table_t *t, vd_error_t *err)
{
    char sql[256];
    snprintf (sql, sizeof sql,
              "COPY (SELECT encode(content_hash, 'hex') FROM canonical.%s"
              " WHERE content_hash IS NOT NULL) TO STDOUT",
              t->name);
    PGresult *res = PQexec (conn, sql);
    if (PQresultStatus (res) != PGRES_COPY_OUT) {
        vd_db_error (conn, res, "reading row hashes failed", err);
        PQclear (res);
        return -1;
    }
    PQclear (res);
    char *line;
    int len;
    while ((len = PQgetCopyData (conn, &line, 0)) > 0) {
        s_add_line (self, line, len);
        PQfreemem (line);
    }
    int rc = len == -1 ? 0 : vd_db_error (conn, NULL, "reading row hashes failed", err);
    while ((res = PQgetResult (conn)) != NULL) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0)
            rc = vd_db_error (conn, res, "reading row hashes failed", err);
        PQclear (res);
    }
    return rc;
}

load_skip_t *
load_skip_new (PGconn *conn, const vd_table_t *t, vd_error_t *err)
{
    load_skip_t *self = calloc (1, sizeof *self);
    if (!self) {
        vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
        return NULL;
    }
    self->table = vd_schema_table_id (t->name);
    if (conn && s_read (self, conn, t, err) < 0)
        load_skip_destroy (&self);
    return self;
}

void
load_skip_destroy (load_skip_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    load_skip_t *self = *self_p;
    free (self->slots);
    free (self->staged);
    free (self);
    *self_p = NULL;
}

int
load_skip_table (const load_skip_t *self)
{
    return self->table;
}

size_t
load_skip_size (const load_skip_t *self)
{
    return self->count;
}

/*  Open addressing of fingerprints (0 = empty). Returns true when fp was
    already there; inserts it when insert is set. cap is a power of two
    with room. */
static bool
s_fp_find (uint64_t *slots, size_t cap, uint64_t fp, bool insert)
{
    for (size_t i = (fp * 0x9E3779B97F4A7C15ULL) >> 7 & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (slots[i] == fp)
            return true;
        if (slots[i] == 0) {
            if (insert)
                slots[i] = fp;
            return false;
        }
    }
}

static size_t
s_pow2_above (size_t n)
{
    size_t cap = 64;
    while (cap < n * 2)
        cap *= 2;
    return cap;
}

/*  Marks in twice[i] the rows whose key is in the batch more than once. */
static int
s_twice (const uint64_t *key, size_t n, bool *twice)
{
    size_t cap = s_pow2_above (n);
    uint64_t *seen = calloc (cap, sizeof *seen), *again = calloc (cap, sizeof *again);
    if (!seen || !again) {
        free (seen);
        free (again);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (s_fp_find (seen, cap, key[i], true))
            s_fp_find (again, cap, key[i], true);
    for (size_t i = 0; i < n; i++)
        twice[i] = s_fp_find (again, cap, key[i], false);
    free (seen);
    free (again);
    return 0;
}

static bool
s_was_staged (const load_skip_t *self, uint64_t key)
{
    return self->staged_cap && s_fp_find (self->staged, self->staged_cap, key, false);
}

size_t
load_skip_filter (load_skip_t *self, vd_buf_t *rows, size_t *start, uint8_t (*hash)[LOAD_SKIP_HASH],
                  uint64_t *key, size_t n)
{
    if (self->disabled || self->count == 0 || n == 0)
        return n;
    bool *twice = malloc (n * sizeof *twice);
    if (!twice || s_twice (key, n, twice) < 0) {
        free (twice);
        return n; /* out of memory: stage everything */
    }
    size_t kept = 0, out = start[0];
    for (size_t i = 0; i < n; i++) {
        size_t from = start[i], end = i + 1 < n ? start[i + 1] : rows->len;
        if (!twice[i] && s_has (self, hash[i]) && !s_was_staged (self, key[i]))
            continue; /* the server holds exactly this row */
        memmove (rows->data + out, rows->data + from, end - from);
        start[kept] = out;
        memmove (hash[kept], hash[i], LOAD_SKIP_HASH);
        key[kept] = key[i];
        out += end - from;
        kept++;
    }
    rows->len = out;
    if (rows->data)
        rows->data[out] = '\0';
    free (twice);
    return kept;
}

int
load_skip_staged (load_skip_t *self, const uint64_t *key, size_t n)
{
    if (self->disabled || self->count == 0)
        return 0; /* nothing is skipped anyway */
    if ((self->staged_count + n) * 100 > self->staged_cap * MAX_LOAD_PERCENT) {
        size_t cap = s_pow2_above (self->staged_count + n);
        uint64_t *slots = calloc (cap, sizeof *slots);
        if (!slots) {
            s_disable (self);
            return -1;
        }
        for (size_t i = 0; i < self->staged_cap; i++)
            if (self->staged[i])
                s_fp_find (slots, cap, self->staged[i], true);
        free (self->staged);
        self->staged = slots;
        self->staged_cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        if (!s_fp_find (self->staged, self->staged_cap, key[i], true))
            self->staged_count++;
    return 0;
}

int
load_skip_test (bool verbose)
{
    int failures = 0;
    load_skip_t *self = load_skip_new (NULL, vd_schema_table (VD_TABLE_SALES), NULL);
    if (!self)
        return -1;
    /* rows "a", "b", "c", "b": a and c known, b twice in the batch */
    uint8_t hash[4][LOAD_SKIP_HASH] = {{1}, {2}, {3}, {2}};
    const char *lines[] = {"a\t1\n", "b\t2\n", "c\t3\n", "b\t4\n"};
    vd_buf_t rows;
    vd_buf_init (&rows, 1024);
    size_t start[4];
    uint64_t key[4];
    for (int i = 0; i < 4; i++) {
        start[i] = rows.len;
        vd_buf_addstr (&rows, lines[i]);
        key[i] = load_skip_key (lines[i], 1);
    }
    s_add_line (self, "01000000000000000000000000000000", 32);
    s_add_line (self, "0200000000000000000000000000000", 31); /* malformed */
    s_add_line (self, "03000000000000000000000000000000\n", 33);
    s_add_line (self, "02000000000000000000000000000000", 32);
    size_t kept = load_skip_filter (self, &rows, start, hash, key, 4);
    if (kept != 2 || strcmp (vd_buf_str (&rows), "b\t2\nb\t4\n") != 0 || start[1] != 4 ||
        hash[1][0] != 2)
        failures++;
    if (verbose)
        printf ("  load_skip: kept %zu: %s", kept, vd_buf_str (&rows));
    /* once "a" was staged in the run, it is never skipped again */
    uint64_t a = load_skip_key ("a", 1);
    load_skip_staged (self, &a, 1);
    vd_buf_reset (&rows);
    vd_buf_addstr (&rows, "a\t1\nc\t3\n");
    size_t start2[2] = {0, 4};
    uint8_t hash2[2][LOAD_SKIP_HASH] = {{1}, {3}};
    uint64_t key2[2] = {a, load_skip_key ("c", 1)};
    if (load_skip_filter (self, &rows, start2, hash2, key2, 2) != 1 ||
        strcmp (vd_buf_str (&rows), "a\t1\n") != 0)
        failures++;
    /* growth keeps every hash */
    for (uint32_t i = 1; i <= 5000; i++) {
        uint8_t h[LOAD_SKIP_HASH] = {0};
        memcpy (h + 4, &i, sizeof i);
        s_add (self, h);
    }
    if (load_skip_size (self) != 5003 || !s_has (self, hash2[1]))
        failures++;
    vd_buf_free (&rows);
    load_skip_destroy (&self);
    return failures ? -1 : 0;
}

/*  load_warn - a batch's warnings, summarised per kind. */
#include "load_warn.h"
#include "vd_copy.h"
#include "vd_msg.h"
#include <czmq.h>

#define TEXT_MAX ((size_t)512 * 1024 * 1024)
#define EXAMPLES "5" /* LOAD_WARN_EXAMPLES, in SQL */
_Static_assert(LOAD_WARN_EXAMPLES == 5, "EXAMPLES spells LOAD_WARN_EXAMPLES in SQL");

/*  The temporary tables: SQL's own warnings, one row each, as load_sql
    writes them; and the batch's summaries, one row per kind and block. */
static const char *const s_stage[] = {
    "CREATE TEMP TABLE IF NOT EXISTS stage_warnings (run_id bigint, table_name text,"
    " file text, line bigint, field text, reason text, raw_value text) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_warning_kinds (table_name text, file text,"
    " field text, reason text, block bigint, count bigint, lines int8multirange,"
    " example_lines bigint[], example_values text[]) ON COMMIT DELETE ROWS",
};

/*  Adds the staged kinds (and SQL's rows, summarised the same way) to the
    run's summaries, and their lines to the summaries' blocks; $1 the run.
    A summary keeps its first examples; a block's ranges are a union. */
static const char s_merge[] =
    "WITH staged AS ("
    " SELECT table_name, file, field, reason, block, count, lines, example_lines,"
    " example_values FROM stage_warning_kinds"
    " UNION ALL SELECT table_name, file, field, reason, line >> " VD_WARN_BLOCK_SQL ", count(*),"
    " range_agg(int8range(line, line + 1)) FILTER (WHERE line IS NOT NULL),"
    " (array_agg(line ORDER BY line))[:" EXAMPLES
    "], (array_agg(raw_value ORDER BY line))[:" EXAMPLES "]"
    " FROM stage_warnings GROUP BY 1, 2, 3, 4, 5),"
    " kinds AS (SELECT table_name, file, field, reason, sum(count)::bigint AS count"
    " FROM staged GROUP BY 1, 2, 3, 4),"
    " examples AS (SELECT s.table_name, s.file, s.field, s.reason,"
    " (array_agg(e.line ORDER BY e.line))[:" EXAMPLES "] AS lines,"
    " (array_agg(e.value ORDER BY e.line))[:" EXAMPLES "] AS vals"
    " FROM staged s CROSS JOIN LATERAL unnest(s.example_lines, s.example_values) AS e(line, value)"
    " GROUP BY 1, 2, 3, 4),"
    " up AS (INSERT INTO ops.warning_summaries AS w (run_id, table_name, file, field, reason,"
    " count, example_lines, example_values)"
    " SELECT $1::bigint, k.table_name, k.file, k.field, k.reason, k.count,"
    " coalesce(x.lines, '{}'), coalesce(x.vals, '{}') FROM kinds k LEFT JOIN examples x"
    " ON (x.table_name, x.file, x.field, x.reason)"
    " IS NOT DISTINCT FROM (k.table_name, k.file, k.field, k.reason)"
    " ON CONFLICT (run_id, table_name, file, field, reason) DO UPDATE SET"
    " count = w.count + excluded.count,"
    " example_lines = (w.example_lines || excluded.example_lines)[:" EXAMPLES "],"
    " example_values = (w.example_values || excluded.example_values)[:" EXAMPLES "]"
    " RETURNING w.id, w.table_name, w.file, w.field, w.reason)"
    " INSERT INTO ops.warning_lines AS l (warning_id, block, lines)"
    " SELECT up.id, s.block, range_agg(r) FROM up JOIN staged s"
    " ON (s.table_name, s.file, s.field, s.reason)"
    " IS NOT DISTINCT FROM (up.table_name, up.file, up.field, up.reason)"
    " CROSS JOIN LATERAL unnest(s.lines) AS r WHERE s.block IS NOT NULL GROUP BY 1, 2"
    " ON CONFLICT (warning_id, block) DO UPDATE SET lines = l.lines + excluded.lines";

#define KIND_PARTS 4 /* table, file, field, reason */

typedef struct {
    char *part[KIND_PARTS]; /* NULL: SQL NULL */
} s_kind_t;

typedef struct {
    uint32_t kind;
    bool raw_null;
    int64_t line;
    size_t raw, raw_len; /* the raw value in self->raws */
} s_item_t;

struct load_warn {
    zhashx_t *index; /* kind key -> kind number + 1 */
    vd_buf_t kinds;  /* s_kind_t each                */
    size_t nkinds;
    vd_buf_t items; /* s_item_t each, in arrival order */
    size_t nitems;
    vd_buf_t raws;
    vd_buf_t key; /* scratch: a kind's key */
};

#define KIND(self, k) (((s_kind_t *)(self)->kinds.data)[k])
#define ITEM(self, i) (((s_item_t *)(self)->items.data)[i])

load_warn_t *
load_warn_new (void)
{
    load_warn_t *self = calloc (1, sizeof *self);
    if (!self || !(self->index = zhashx_new ())) {
        free (self);
        return NULL;
    }
    vd_buf_init (&self->kinds, LOAD_WARN_MAX * sizeof (s_kind_t));
    vd_buf_init (&self->items, LOAD_WARN_MAX * sizeof (s_item_t));
    vd_buf_init (&self->raws, TEXT_MAX);
    vd_buf_init (&self->key, 1024 * 1024);
    return self;
}

void
load_warn_reset (load_warn_t *self)
{
    zhashx_purge (self->index);
    for (size_t k = 0; k < self->nkinds; k++)
        for (int p = 0; p < KIND_PARTS; p++)
            free (KIND (self, k).part[p]);
    self->nkinds = 0;
    self->nitems = 0;
    vd_buf_reset (&self->kinds);
    vd_buf_reset (&self->items);
    vd_buf_reset (&self->raws);
}

void
load_warn_destroy (load_warn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    load_warn_t *self = *self_p;
    load_warn_reset (self);
    zhashx_destroy (&self->index);
    vd_buf_free (&self->kinds);
    vd_buf_free (&self->items);
    vd_buf_free (&self->raws);
    vd_buf_free (&self->key);
    free (self);
    *self_p = NULL;
}

size_t
load_warn_count (const load_warn_t *self)
{
    return self->nitems;
}

void
load_warn_truncate (load_warn_t *self, size_t count)
{
    if (count >= self->nitems)
        return;
    self->raws.len = ITEM (self, count).raw;
    self->items.len = count * sizeof (s_item_t);
    self->nitems = count;
}

/*  The kind of (table, file, field, reason): its number, -1 when out of
    memory. The key spells each part with its length ("-" for NULL), so no
    two kinds share one; a part ends at a NUL byte (text holds none). */
static int64_t
s_kind (load_warn_t *self, const char *part[KIND_PARTS], size_t len[KIND_PARTS])
{
    vd_buf_reset (&self->key);
    int rc = 0;
    for (int p = 0; p < KIND_PARTS; p++) {
        len[p] = part[p] ? strnlen (part[p], len[p]) : 0;
        rc |= part[p] ? vd_buf_printf (&self->key, "%zu:", len[p]) |
                            vd_buf_add (&self->key, part[p], len[p])
                      : vd_buf_addc (&self->key, '-');
    }
    if (rc < 0)
        return -1;
    uintptr_t found = (uintptr_t)zhashx_lookup (self->index, vd_buf_str (&self->key));
    if (found)
        return (int64_t)found - 1;
    s_kind_t k = {0};
    for (int p = 0; p < KIND_PARTS && rc == 0; p++)
        if (part[p] && !(k.part[p] = strndup (part[p], len[p])))
            rc = -1;
    if (rc < 0 || vd_buf_add (&self->kinds, &k, sizeof k) < 0 ||
        zhashx_insert (self->index, vd_buf_str (&self->key),
                       (void *)(uintptr_t)(self->nkinds + 1)) < 0) {
        self->kinds.len = self->nkinds * sizeof k;
        for (int p = 0; p < KIND_PARTS; p++)
            free (k.part[p]);
        return -1;
    }
    return (int64_t)self->nkinds++;
}

int
load_warn_add (load_warn_t *self, const char *table, const char *file, size_t file_len,
               int64_t line, const char *field, size_t field_len, const char *reason,
               size_t reason_len, const char *raw, size_t raw_len)
{
    const char *part[KIND_PARTS] = {table, file, field, reason};
    size_t len[KIND_PARTS] = {table ? strlen (table) : 0, file_len, field_len, reason_len};
    int64_t kind = s_kind (self, part, len);
    if (kind < 0)
        return -1;
    s_item_t it = {.kind = (uint32_t)kind,
                   .raw_null = raw == NULL,
                   .line = line,
                   .raw = self->raws.len,
                   .raw_len = raw ? raw_len : 0};
    if ((raw && vd_buf_add (&self->raws, raw, raw_len) < 0) ||
        vd_buf_add (&self->items, &it, sizeof it) < 0) {
        self->raws.len = it.raw;
        return -1;
    }
    self->nitems++;
    return 0;
}

int
load_warn_add_mp (load_warn_t *self, const char *table, const char *file, size_t file_len,
                  int64_t line, const msgpack_object *warning)
{
    if (warning->type != MSGPACK_OBJECT_ARRAY || warning->via.array.size != 3)
        return 1;
    const char *text[3];
    size_t len[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        const msgpack_object *v = &warning->via.array.ptr[k];
        text[k] = vd_mp_str (v, &len[k]);
        if (!text[k] && v->type != MSGPACK_OBJECT_NIL)
            return 1;
    }
    if (!text[1]) /* a warning has a reason */
        return 1;
    return load_warn_add (self, table, file, file_len, line, text[0], len[0], text[1], len[1],
                          text[2], len[2]);
}

/*  The block of a line (rounded down, as SQL's >> on a bigint). */
static int64_t
s_block (int64_t line)
{
    return line >= 0 ? line >> VD_WARN_BLOCK_BITS : -((-(line + 1)) >> VD_WARN_BLOCK_BITS) - 1;
}

static int
s_item_order (const void *a, const void *b)
{
    const s_item_t *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->raw < y->raw ? -1 : x->raw > y->raw; /* arrival order */
}

/*  Appends a PostgreSQL array literal as one COPY field. */

static int
s_copy_array (vd_buf_t *out, vd_buf_t *scratch)
{
    return vd_copy_text (out, scratch->data ? scratch->data : "", scratch->len);
}

/*  One row of stage_warning_kinds: the items [from, to) of one kind and
    block (sorted by line); *examples counts the kind's examples so far. */
static int
s_stage_row (const load_warn_t *self, const s_item_t *items, size_t from, size_t to,
             size_t *examples, vd_buf_t *out, vd_buf_t *scratch)
{
    const s_kind_t *k = &KIND (self, items[from].kind);
    int rc = 0;
    for (int p = 0; p < KIND_PARTS; p++)
        rc |= vd_copy_text (out, k->part[p], k->part[p] ? strlen (k->part[p]) : 0) |
              vd_buf_addc (out, '\t');
    rc |= vd_buf_printf (out, "%" PRId64 "\t%zu\t{", s_block (items[from].line), to - from);
    for (size_t i = from; i < to;) { /* consecutive lines make one range */
        int64_t first = items[i].line, end = first + 1;
        rc |= vd_buf_printf (out, "%s[%" PRId64 ",", i > from ? "," : "", first);
        while (++i < to && items[i].line <= end)
            end = items[i].line + 1;
        rc |= vd_buf_printf (out, "%" PRId64 ")", end);
    }
    rc |= vd_buf_addstr (out, "}\t");
    size_t first_example = *examples;
    vd_buf_reset (scratch);
    rc |= vd_buf_addc (scratch, '{');
    for (size_t i = from; i < to && *examples < LOAD_WARN_EXAMPLES; i++, (*examples)++)
        rc |= vd_buf_printf (scratch, "%s%" PRId64, *examples > first_example ? "," : "",
                             items[i].line);
    rc |= vd_buf_addc (scratch, '}') | s_copy_array (out, scratch) | vd_buf_addc (out, '\t');
    vd_buf_reset (scratch);
    rc |= vd_buf_addc (scratch, '{');
    for (size_t i = from; i < from + (*examples - first_example); i++) {
        rc |= i > from ? vd_buf_addc (scratch, ',') : 0;
        if (items[i].raw_null) {
            rc |= vd_buf_addstr (scratch, "NULL");
            continue;
        }
        rc |= vd_buf_addc (scratch, '"');
        for (size_t c = 0; c < items[i].raw_len; c++) {
            char ch = self->raws.data[items[i].raw + c];
            rc |= (ch == '"' || ch == '\\' ? vd_buf_addc (scratch, '\\') : 0) |
                  vd_buf_addc (scratch, ch);
        }
        rc |= vd_buf_addc (scratch, '"');
    }
    rc |= vd_buf_addc (scratch, '}') | s_copy_array (out, scratch) | vd_buf_addc (out, '\n');
    return rc < 0 ? -1 : 0;
}

/*  The COPY text of stage_warning_kinds for the warnings held: a row per
    kind and block. Returns 0, -1 when out of memory. */
static int
s_stage_text (const load_warn_t *self, vd_buf_t *out)
{
    s_item_t *items = self->nitems ? malloc (self->nitems * sizeof *items) : NULL;
    if (self->nitems && !items)
        return -1;
    if (items) {
        memcpy (items, self->items.data, self->nitems * sizeof *items);
        qsort (items, self->nitems, sizeof *items, s_item_order);
    }
    vd_buf_t scratch;
    vd_buf_init (&scratch, TEXT_MAX);
    int rc = 0;
    size_t examples = 0;
    for (size_t from = 0, to; from < self->nitems && rc == 0; from = to) {
        if (from == 0 || items[from].kind != items[from - 1].kind)
            examples = 0;
        int64_t block = s_block (items[from].line);
        for (to = from + 1; to < self->nitems && items[to].kind == items[from].kind &&
                            s_block (items[to].line) == block;
             to++)
            ;
        rc = s_stage_row (self, items, from, to, &examples, out, &scratch);
    }
    vd_buf_free (&scratch);
    free (items);
    return rc;
}

int
load_warn_prepare (PGconn *conn, vd_error_t *err)
{
    for (size_t i = 0; i < sizeof s_stage / sizeof s_stage[0]; i++)
        if (vd_db_command (conn, s_stage[i], 0, NULL, err) < 0)
            return -1;
    return 0;
}

int
load_warn_write (load_warn_t *self, PGconn *conn, const char *run_text, bool staged,
                 vd_error_t *err)
{
    if (self->nitems == 0 && !staged)
        return 0;
    if (self->nitems) {
        vd_buf_t text;
        vd_buf_init (&text, TEXT_MAX);
        int rc = s_stage_text (self, &text) < 0
                     ? vd_error_set (err, VD_ERR_PERMANENT, "out of memory")
                     : vd_copy_run (conn,
                                    "COPY stage_warning_kinds (table_name, file, field, reason,"
                                    " block, count, lines, example_lines, example_values)"
                                    " FROM STDIN",
                                    text.data, text.len, err);
        vd_buf_free (&text);
        if (rc < 0)
            return -1;
    }
    const char *params[] = {run_text};
    return vd_db_command (conn, s_merge, 1, params, err);
}

int
load_warn_test (bool verbose)
{
    int failures = 0;
    load_warn_t *self = load_warn_new ();
    if (!self)
        return -1;
    vd_buf_t out;
    vd_buf_init (&out, 1024 * 1024);
    /* the empty batch writes nothing */
    if (s_stage_text (self, &out) < 0 || out.len != 0)
        failures++;
    /* a systematic warning: lines 2..70001 but 10, in any order, with a
       block boundary at 65,536; another kind; a raw value to quote */
    for (int64_t line = 70001; line >= 2; line--)
        if (line != 10 && load_warn_add (self, "sales_lines", "v.csv", 5, line, "unit", 4,
                                         "unknown unit", 12, "FUT", 3) < 0)
            failures++;
    if (load_warn_add (self, "customers", NULL, 0, 3, "email", 5, "invalid", 7, "a\"b\\c\td", 8) <
            0 ||
        load_warn_add (self, "customers", NULL, 0, 4, "email", 5, "invalid", 7, NULL, 0) < 0)
        failures++;
    if (load_warn_count (self) != 70001 || self->nkinds != 2)
        failures++;
    /* a mark, then a warning of a new kind taken back */
    size_t mark = load_warn_count (self);
    load_warn_add (self, "customers", "c.csv", 5, 9, NULL, 0, "x", 1, "raw", 3);
    load_warn_truncate (self, mark);
    if (load_warn_count (self) != mark || self->raws.len != 70000 * 3 - 3 + 8)
        failures++;
    if (s_stage_text (self, &out) < 0)
        failures++;
    const char *expected =
        "sales_lines\tv.csv\tunit\tunknown unit\t0\t65533\t{[2,10),[11,65536)}\t{2,3,4,5,6}"
        "\t{\"FUT\",\"FUT\",\"FUT\",\"FUT\",\"FUT\"}\n"
        "sales_lines\tv.csv\tunit\tunknown unit\t1\t4466\t{[65536,70002)}\t{}\t{}\n"
        "customers\t\\N\temail\tinvalid\t0\t2\t{[3,5)}\t{3,4}\t{\"a\\\\\"b\\\\\\\\c\\td\",NULL}\n";
    if (strcmp (vd_buf_str (&out), expected) != 0) {
        failures++;
        fprintf (stderr, "load_warn_test: got\n%s", vd_buf_str (&out));
    }
    /* the normalizer's shape [field, reason, raw] only */
    msgpack_object parts[3] = {{.type = MSGPACK_OBJECT_STR, .via.str = {4, "unit"}},
                               {.type = MSGPACK_OBJECT_STR, .via.str = {3, "why"}},
                               {.type = MSGPACK_OBJECT_NIL}};
    msgpack_object w = {.type = MSGPACK_OBJECT_ARRAY, .via.array = {3, parts}};
    if (load_warn_add_mp (self, "stock_levels", "s.csv", 5, 7, &w) != 0)
        failures++;
    w.via.array.size = 2;
    if (load_warn_add_mp (self, "stock_levels", "s.csv", 5, 8, &w) != 1)
        failures++;
    w.via.array.size = 3;
    parts[1].type = MSGPACK_OBJECT_NIL;
    if (load_warn_add_mp (self, "stock_levels", "s.csv", 5, 8, &w) != 1)
        failures++;
    if (s_block (65535) != 0 || s_block (65536) != 1 || s_block (-1) != -1 ||
        s_block (-65537) != -2)
        failures++;
    if (verbose)
        printf ("  load_warn: %zu kinds, %zu bytes of stage text\n", self->nkinds, out.len);
    load_warn_reset (self);
    if (load_warn_count (self) != 0)
        failures++;
    vd_buf_free (&out);
    load_warn_destroy (&self);
    load_warn_destroy (&self);
    return failures ? -1 : 0;
}

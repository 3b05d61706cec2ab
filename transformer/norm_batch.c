/*  norm_batch - raw records to canonical records, driven by vd_schema. */
#include "norm_batch.h"
#include "vd_hashset.h"
#include "vd_copy.h"
#include "norm_rules.h"
#include <sodium.h>

/*  The version of the normalisation rules: raise it with every change of
    what a record becomes, so lines read under the old rules are compared
    again (the loader checks it against the rules per-line hashes were
    kept under). */
#define NORM_RULES_VERSION "1"

#define MAX_COLUMNS 64
#define MAX_INPUTS 256

struct norm_batch {
    vd_dec_t vat_factor;
    char tz[64];
    char rules[17]; /* fingerprint of the rules and their settings (hex) */
    vd_units_t *default_units;
    vd_units_t *units;                /* a connector's unit table, parsed once   */
    uint8_t units_hash[VD_HASH_SIZE]; /* of its text (the batches carry it)      */
    norm_value_t values[MAX_COLUMNS];
    vd_buf_t scratch;
    vd_buf_t reason;
    vd_buf_t raw;
    vd_buf_t warn; /* an extractor warning's field and reason */
    vd_buf_t row;  /* a canonical row's COPY text fields      */
    norm_decs_t decs;
};

/*  Where each input of each column is in the record: positions[c][i]. */
typedef struct {
    const vd_table_t *table;
    int pos[MAX_COLUMNS][VD_COL_INPUTS];
    int computed[MAX_COLUMNS][VD_COL_INPUTS]; /* "=column": its index, else -1 */
    int id_pos[3];
    int source_id_pos;
    int code_pos;
    int warn_pos[3]; /* extractor's own warning: field, reason, raw */
    const char *source;
    const char *connector;
    const vd_units_t *units;
    /* the current record */
    const msgpack_object *fields;
    uint32_t nfields;
} s_layout_t;

norm_batch_t *
norm_batch_new (const char *vat_percent, const char *tz, vd_error_t *err)
{
    norm_batch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    vd_buf_t num;
    vd_buf_init (&num, 64);
    vd_dec_t rate;
    int rc = vd_number_parse (vat_percent, strlen (vat_percent), &num) == 0
                 ? vd_dec_parse (num.data, num.len, &rate)
                 : -1;
    vd_buf_free (&num);
    if (rc < 0 || rate.v < 0 || vd_dec_div (rate, vd_dec_int (100), 6, &rate) < 0 ||
        vd_dec_add (rate, vd_dec_int (1), &self->vat_factor) < 0) {
        vd_error_set (err, VD_ERR_PERMANENT, "invalid VAT rate \"%s\"", vat_percent);
        free (self);
        return NULL;
    }
    snprintf (self->tz, sizeof self->tz, "%s", tz);
    /* what a record becomes depends on the rules, the VAT rate and the
       time zone: their fingerprint travels with every canonical batch */
    unsigned char fp[8];
    crypto_generichash_state st;
    crypto_generichash_init (&st, NULL, 0, sizeof fp);
    const char *parts[] = {"vendange-rules-" NORM_RULES_VERSION, vat_percent, tz};
    for (size_t i = 0; i < 3; i++)
        crypto_generichash_update (&st, (const unsigned char *)parts[i], strlen (parts[i]) + 1);
    crypto_generichash_final (&st, fp, sizeof fp);
    sodium_bin2hex (self->rules, sizeof self->rules, fp, sizeof fp);
    self->default_units = vd_units_new ();
    for (int i = 0; i < MAX_COLUMNS; i++)
        norm_value_init (&self->values[i]);
    vd_buf_init (&self->scratch, 1024 * 1024);
    vd_buf_init (&self->row, 64 * 1024 * 1024);
    vd_buf_init (&self->reason, 4096);
    vd_buf_init (&self->raw, 4 * 1024 * 1024);
    vd_buf_init (&self->warn, 4096);
    return self;
}

void
norm_batch_destroy (norm_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    norm_batch_t *self = *self_p;
    vd_units_destroy (&self->default_units);
    vd_units_destroy (&self->units);
    for (int i = 0; i < MAX_COLUMNS; i++)
        norm_value_free (&self->values[i]);
    vd_buf_free (&self->scratch);
    vd_buf_free (&self->row);
    vd_buf_free (&self->reason);
    vd_buf_free (&self->raw);
    vd_buf_free (&self->warn);
    free (self);
    *self_p = NULL;
}

static int
s_col_position (const msgpack_object *cols, const char *name)
{
    if (!name)
        return -1;
    size_t len = strlen (name);
    for (uint32_t i = 0; i < cols->via.array.size; i++) {
        const msgpack_object *o = &cols->via.array.ptr[i];
        if (o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
            memcmp (o->via.str.ptr, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static void
s_layout_build (s_layout_t *l, const vd_table_t *t, const msgpack_object *cols)
{
    l->table = t;
    for (size_t c = 0; c < t->ncolumns && c < MAX_COLUMNS; c++) {
        const vd_column_t *col = &t->columns[c];
        for (int i = 0; i < VD_COL_INPUTS; i++) {
            const char *name = col->in[i] ? col->in[i] : i == 0 ? col->name : NULL;
            /* a BOOL's in[1] is its default, not an input; "=column" is a
               value computed before this one */
            l->computed[c][i] = name && name[0] == '=' ? vd_schema_column (t, name + 1) : -1;
            if (l->computed[c][i] >= (int)c)
                l->computed[c][i] = -1;
            l->pos[c][i] = (col->rule == VD_RULE_BOOL && i == 1) || (name && name[0] == '=')
                               ? -1
                               : s_col_position (cols, name);
        }
    }
    for (int i = 0; i < 3; i++)
        l->id_pos[i] = s_col_position (cols, t->id_parts[i].name);
    l->source_id_pos = s_col_position (cols, "source_id");
    l->warn_pos[0] = s_col_position (cols, "warning_field");
    l->warn_pos[1] = s_col_position (cols, "warning");
    l->warn_pos[2] = s_col_position (cols, "warning_raw");
    l->code_pos = s_col_position (cols, t->columns[0].in[0] ? t->columns[0].in[0] : "code");
}

/*  Field at position pos of the current record, NULL when absent. */
static const char *
s_field (const s_layout_t *l, int pos, size_t *len)
{
    if (pos < 0 || (uint32_t)pos >= l->nfields)
        return NULL;
    const char *s = vd_mp_str (&l->fields[pos], len);
    return s;
}

/*  The record as a line of text (fields joined by ';', quoted when
    needed), for the reject's raw content. */
static const char *
s_raw_line (norm_batch_t *self, const s_layout_t *l)
{
    vd_buf_reset (&self->raw);
    for (uint32_t i = 0; i < l->nfields; i++) {
        size_t len = 0;
        const char *s = s_field (l, (int)i, &len);
        if (i)
            vd_buf_addc (&self->raw, ';');
        if (!s)
            continue;
        bool quote = memchr (s, ';', len) || memchr (s, '"', len) || memchr (s, '\n', len);
        if (!quote) {
            vd_buf_add (&self->raw, s, len);
            continue;
        }
        vd_buf_addc (&self->raw, '"');
        for (size_t k = 0; k < len; k++) {
            if (s[k] == '"')
                vd_buf_addc (&self->raw, '"');
            vd_buf_addc (&self->raw, s[k]);
        }
        vd_buf_addc (&self->raw, '"');
    }
    return vd_buf_str (&self->raw);
}

/*  source_id: the "source_id" input, else the id parts joined by '-'
    (vd_schema_source_id_build). Returns NULL on success, else the reject
    reason (in self->reason). */
static const char *
s_source_id (norm_batch_t *self, const s_layout_t *l, norm_value_t *out)
{
    size_t len;
    const char *given = s_field (l, l->source_id_pos, &len);
    vd_buf_reset (&out->str);
    out->kind = NORM_STR;
    if (given && vd_text_clean (given, len, &out->str) == 0 && out->str.len)
        return NULL;
    vd_buf_reset (&out->str);
    const char *parts[3] = {NULL, NULL, NULL};
    size_t lens[3] = {0, 0, 0};
    for (int i = 0; i < 3 && l->table->id_parts[i].name; i++)
        parts[i] = s_field (l, l->id_pos[i], &lens[i]);
    int bad = 0;
    if (vd_schema_source_id_build (l->table, parts, lens, &out->str, &bad) == 0)
        return NULL;
    vd_buf_reset (&self->reason);
    vd_buf_printf (&self->reason, "missing or unusable %s (part of the record's key)",
                   l->table->id_parts[bad].name);
    return vd_buf_str (&self->reason);
}

/*  The key column from source_id. */
static int
s_key (norm_batch_t *self, const s_layout_t *l, const norm_value_t *source_id, norm_value_t *out)
{
    size_t len;
    const char *code = s_field (l, l->code_pos, &len);
    if (l->table->key_kind == VD_KEY_PRODUCT_CODE && code && norm_product_key (code, len, out) == 0)
        return 0;
    vd_buf_reset (&out->str);
    out->kind = NORM_STR;
    vd_buf_reset (&self->scratch);
    return (l->table->key_kind == VD_KEY_PRODUCT_CODE
                ? vd_schema_product_fallback_key
                : vd_schema_key) (&out->str, l->source, source_id->str.data, source_id->str.len);
}

/*  Appends one value as a COPY text field. 0, -1 when the buffer refuses. */
static int
s_copy_value (vd_buf_t *b, const norm_value_t *v)
{
    switch (v->kind) {
    case NORM_NULL:
        return vd_copy_text (b, NULL, 0);
    case NORM_STR:
        return vd_copy_text (b, vd_buf_str (&v->str), v->str.len);
    case NORM_BOOL:
        return vd_buf_addc (b, v->boolean ? 't' : 'f');
    case NORM_LIST:
        return vd_copy_array (b, vd_buf_str (&v->str), v->nitems);
    }
    return -1;
}

typedef struct {
    const char *column;
    const char *reason;
    const char *raw;
    size_t raw_len;
} s_warning_t;

/*  A warning the extractor attached to the record (inputs "warning",
    "warning_field", "warning_raw"), e.g. an unknown webhook event type. */
static void
s_extractor_warning (norm_batch_t *self, const s_layout_t *l, s_warning_t *warnings,
                     size_t *nwarnings)
{
    size_t len[3] = {0, 0, 0};
    const char *w[3];
    for (int i = 0; i < 3; i++)
        w[i] = s_field (l, l->warn_pos[i], &len[i]);
    if (!w[1] || len[1] == 0 || *nwarnings >= MAX_COLUMNS)
        return;
    /* msgpack strings are not NUL-terminated: copy field and reason */
    vd_buf_reset (&self->warn);
    if ((w[0] ? vd_buf_add (&self->warn, w[0], len[0]) : vd_buf_addstr (&self->warn, "record")) <
            0 ||
        vd_buf_addc (&self->warn, '\0') < 0 || vd_buf_add (&self->warn, w[1], len[1]) < 0)
        return;
    const char *field = self->warn.data;
    warnings[(*nwarnings)++] =
        (s_warning_t){field, field + strlen (field) + 1, w[2] ? w[2] : "", w[2] ? len[2] : 0};
}

/*  Applies every column's rule. Returns NULL when the record is usable
    (warnings filled), else the reject reason. */
static const char *
s_convert_record (norm_batch_t *self, const s_layout_t *l, s_warning_t *warnings, size_t *nwarnings)
{
    const vd_table_t *t = l->table;
    norm_value_t *v = self->values;
    *nwarnings = 0;
    const char *why = s_source_id (self, l, &v[vd_schema_column (t, "source_id")]);
    if (why)
        return why;
    const norm_value_t *source_id = &v[vd_schema_column (t, "source_id")];
    norm_input_t ctx = {.source = l->source,
                        .connector = l->connector,
                        .units = l->units,
                        .vat_factor = self->vat_factor,
                        .tz = self->tz,
                        .source_id = source_id,
                        .scratch = &self->scratch,
                        .decs = &self->decs};
    self->decs.n = 0;
    for (size_t c = 0; c < t->ncolumns; c++) {
        const vd_column_t *col = &t->columns[c];
        if (col->rule == VD_RULE_SOURCE_ID || col->rule == VD_RULE_DERIVED)
            continue;
        if (col->rule == VD_RULE_KEY) {
            s_key (self, l, source_id, &v[c]);
            continue;
        }
        const char *in[VD_COL_INPUTS] = {NULL};
        size_t in_len[VD_COL_INPUTS] = {0};
        for (int i = 0; i < VD_COL_INPUTS; i++) {
            int from = l->computed[c][i];
            if (from >= 0 && v[from].kind == NORM_STR) {
                in[i] = vd_buf_str (&v[from].str);
                in_len[i] = v[from].str.len;
            } else
                in[i] = s_field (l, l->pos[c][i], &in_len[i]);
        }
        if (col->rule == VD_RULE_BOOL && col->in[1]) {
            in[1] = col->in[1];
            in_len[1] = strlen (col->in[1]);
        }
        ctx.in = in;
        ctx.in_len = in_len;
        const char *reason = NULL;
        int bad = 0;
        if (norm_rule_apply (col->rule, &ctx, &v[c], &reason, &bad) == NORM_OK)
            continue;
        const char *raw = in[bad] ? in[bad] : "";
        size_t raw_len = in[bad] ? in_len[bad] : 0;
        if (col->flags & VD_COL_REQUIRED) {
            vd_buf_reset (&self->reason);
            vd_buf_printf (&self->reason, "%s in %s: \"%.*s\"", reason, col->name,
                           (int)(raw_len > 200 ? 200 : raw_len), raw);
            return vd_buf_str (&self->reason);
        }
        if (col->rule == VD_RULE_EMAIL) /* kept, flagged by email_invalid */
            ;
        else if (v[c].kind != NORM_NULL)
            norm_value_set_null (&v[c]);
        warnings[(*nwarnings)++] = (s_warning_t){col->name, reason, raw, raw_len};
    }
    if (v[0].kind != NORM_STR || v[0].str.len == 0)
        return "empty key";
    s_extractor_warning (self, l, warnings, nwarnings);
    return NULL;
}

static void
s_pack_warnings (msgpack_packer *pk, const s_warning_t *w, size_t n)
{
    if (n == 0) {
        msgpack_pack_nil (pk);
        return;
    }
    msgpack_pack_array (pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array (pk, 3);
        vd_mp_pack_cstr (pk, w[i].column);
        vd_mp_pack_cstr (pk, w[i].reason);
        vd_mp_pack_str (pk, w[i].raw, w[i].raw_len);
    }
}

/*  One output row: [line, values|nil, reason|nil, raw|nil, warnings|nil],
    values the row's COPY text fields (vd_copy), carried columns in order. */
static void
s_convert_row (norm_batch_t *self, s_layout_t *l, const msgpack_object *row, msgpack_packer *pk)
{
    const msgpack_object *item = row->type == MSGPACK_OBJECT_ARRAY ? row->via.array.ptr : NULL;
    uint32_t n = item ? row->via.array.size : 0;
    int64_t line = 0;
    msgpack_pack_array (pk, 5);
    if (n < 2 || vd_mp_int (&item[0], &line) < 0) {
        msgpack_pack_int64 (pk, line);
        msgpack_pack_nil (pk);
        vd_mp_pack_cstr (pk, "malformed raw record");
        msgpack_pack_nil (pk);
        msgpack_pack_nil (pk);
        return;
    }
    msgpack_pack_int64 (pk, line);
    if (item[1].type != MSGPACK_OBJECT_ARRAY) { /* rejected by the extractor */
        size_t reason_len = 0, raw_len = 0;
        const char *reason = n > 2 ? vd_mp_str (&item[2], &reason_len) : NULL;
        const char *raw = n > 3 ? vd_mp_str (&item[3], &raw_len) : NULL;
        msgpack_pack_nil (pk);
        if (reason)
            vd_mp_pack_str (pk, reason, reason_len);
        else
            vd_mp_pack_cstr (pk, "rejected by the extractor");
        vd_mp_pack_str (pk, raw, raw_len);
        msgpack_pack_nil (pk);
        return;
    }
    l->fields = item[1].via.array.ptr;
    l->nfields = item[1].via.array.size;
    s_warning_t warnings[MAX_COLUMNS];
    size_t nwarnings = 0;
    const char *why = s_convert_record (self, l, warnings, &nwarnings);
    if (why) {
        msgpack_pack_nil (pk);
        vd_mp_pack_cstr (pk, why);
        vd_mp_pack_cstr (pk, s_raw_line (self, l));
        s_pack_warnings (pk, warnings, nwarnings);
        return;
    }
    const vd_table_t *t = l->table;
    vd_buf_t *b = &self->row;
    vd_buf_reset (b);
    int rc = 0;
    for (size_t c = 0; c < t->ncolumns; c++)
        if (vd_schema_carried (&t->columns[c]))
            rc |= (b->len ? vd_buf_addc (b, '\t') : 0) | s_copy_value (b, &self->values[c]);
    if (rc < 0 || !vd_buf_str (b)) {
        msgpack_pack_nil (pk);
        vd_mp_pack_cstr (pk, "record too large");
        vd_mp_pack_cstr (pk, s_raw_line (self, l));
        s_pack_warnings (pk, warnings, nwarnings);
        return;
    }
    vd_mp_pack_str (pk, b->data, b->len);
    msgpack_pack_nil (pk);
    if (nwarnings)
        vd_mp_pack_cstr (pk, s_raw_line (self, l));
    else
        msgpack_pack_nil (pk);
    s_pack_warnings (pk, warnings, nwarnings);
}

/*  The unit table of a batch: the default, or the default plus the
    connector's unit table (its file text, which every batch of the run
    carries: parsed when it differs from the last one). NULL with err
    when that text cannot be parsed or memory lacks. */
static const vd_units_t *
s_batch_units (norm_batch_t *self, const msgpack_object *text, vd_error_t *err)
{
    size_t len;
    const char *s = vd_mp_str (text, &len);
    if (!s)
        return self->default_units;
    uint8_t hash[VD_HASH_SIZE];
    vd_hashset_of (s, len, hash);
    if (self->units && memcmp (hash, self->units_hash, sizeof hash) == 0)
        return self->units;
    vd_units_destroy (&self->units);
    vd_units_t *units = vd_units_new ();
    if (!units) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    if (vd_units_parse (units, s, len, err) < 0) {
        vd_units_destroy (&units);
        return NULL;
    }
    memcpy (self->units_hash, hash, sizeof hash);
    self->units = units;
    return units;
}

const char *
norm_batch_rules (const norm_batch_t *self)
{
    return self->rules;
}

int
norm_batch_convert (norm_batch_t *self, const vd_msg_t *raw, msgpack_packer *pk, vd_error_t *err)
{
    const msgpack_object *cols = vd_mp_get (raw->body, "cols");
    const msgpack_object *rows = vd_mp_get (raw->body, "rows");
    char source[32], connector[72];
    if (raw->kind != VD_MSG_RAW || !cols || cols->type != MSGPACK_OBJECT_ARRAY || !rows ||
        rows->type != MSGPACK_OBJECT_ARRAY ||
        vd_mp_copy (vd_mp_get (raw->body, "source"), source, sizeof source) < 0 ||
        vd_schema_source_id (source) < 0 ||
        vd_mp_copy (vd_mp_get (raw->body, "connector"), connector, sizeof connector) < 0 ||
        !connector[0])
        return vd_error_set (err, VD_ERR_PERMANENT, "malformed RAW message (seq %" PRIu64 ")",
                             raw->seq);
    const vd_units_t *units = s_batch_units (self, vd_mp_get (raw->body, "units"), err);
    if (!units)
        return -1;
    s_layout_t *l = calloc (1, sizeof *l);
    if (!l)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    s_layout_build (l, vd_schema_table (raw->table), cols);
    l->source = source;
    l->connector = connector;
    l->units = units;

    vd_msg_pack_header (pk, VD_MSG_CANON, raw->run_id, raw->seq, raw->table);
    /* "ack": exactly-once batches (webhooks) travel on to the loader */
    bool ack = vd_mp_get (raw->body, "ack") && raw->body->type == MSGPACK_OBJECT_MAP &&
               vd_mp_get (raw->body, "ack")->type == MSGPACK_OBJECT_BOOLEAN &&
               vd_mp_get (raw->body, "ack")->via.boolean;
    msgpack_pack_map (pk, ack ? 6 : 5);
    if (ack) {
        vd_mp_pack_cstr (pk, "ack");
        msgpack_pack_true (pk);
    }
    vd_mp_pack_cstr (pk, "rules");
    vd_mp_pack_cstr (pk, self->rules);
    const char *keys[] = {"source", "connector", "file"};
    for (int i = 0; i < 3; i++) {
        size_t len = 0;
        const char *s = vd_mp_str (vd_mp_get (raw->body, keys[i]), &len);
        vd_mp_pack_cstr (pk, keys[i]);
        vd_mp_pack_str (pk, s, len);
    }
    vd_mp_pack_cstr (pk, "rows");
    msgpack_pack_array (pk, rows->via.array.size);
    for (uint32_t r = 0; r < rows->via.array.size; r++)
        s_convert_row (self, l, &rows->via.array.ptr[r], pk);
    free (l);
    return 0;
}

int
norm_batch_convert_bytes (norm_batch_t *self, const char *data, size_t len,
                          msgpack_unpacked *raw_zone, vd_msg_t *raw, msgpack_sbuffer *out,
                          msgpack_unpacked *canon_zone, vd_msg_t *canon, vd_error_t *err)
{
    msgpack_sbuffer_clear (out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, vd_mp_write);
    if (vd_msg_decode (data, len, raw_zone, raw, err) < 0)
        return -1;
    if (raw->kind != VD_MSG_RAW)
        return vd_error_set (err, VD_ERR_PERMANENT, "not a RAW message");
    if (norm_batch_convert (self, raw, &pk, err) < 0 ||
        vd_msg_decode (out->data, out->size, canon_zone, canon, err) < 0)
        return -1;
    return 0;
}

/* ---- self test ---------------------------------------------------------- */

static void
s_test_pack_raw (msgpack_sbuffer *sb, int table, const char *const *cols, size_t ncols,
                 const char *const *cells, size_t nrows)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, vd_mp_write);
    vd_msg_pack_header (&pk, VD_MSG_RAW, 7, 1, table);
    msgpack_pack_map (&pk, 5);
    vd_mp_pack_cstr (&pk, "source");
    vd_mp_pack_cstr (&pk, "isavigne");
    vd_mp_pack_cstr (&pk, "connector");
    vd_mp_pack_cstr (&pk, "test");
    vd_mp_pack_cstr (&pk, "file");
    vd_mp_pack_cstr (&pk, "ventes.csv");
    vd_mp_pack_cstr (&pk, "cols");
    msgpack_pack_array (&pk, (uint32_t)ncols);
    for (size_t i = 0; i < ncols; i++)
        vd_mp_pack_cstr (&pk, cols[i]);
    vd_mp_pack_cstr (&pk, "rows");
    msgpack_pack_array (&pk, (uint32_t)nrows + 1);
    for (size_t r = 0; r < nrows; r++) {
        msgpack_pack_array (&pk, 2);
        msgpack_pack_int (&pk, (int)r + 2);
        msgpack_pack_array (&pk, (uint32_t)ncols);
        for (size_t i = 0; i < ncols; i++)
            vd_mp_pack_cstr (&pk, cells[r * ncols + i]);
    }
    /* one row already rejected by the extractor */
    msgpack_pack_array (&pk, 4);
    msgpack_pack_int (&pk, 99);
    msgpack_pack_nil (&pk);
    vd_mp_pack_cstr (&pk, "too many fields");
    vd_mp_pack_cstr (&pk, "a;b;c");
}

/*  Value of column `name` in output row r as text ("<nil>", "true",
    "a|b" for lists), or the reject reason prefixed by "REJECT: ". */
static const char *
s_test_value (const vd_msg_t *m, uint32_t r, const char *name, char *out, size_t size)
{
    const msgpack_object *rows = vd_mp_get (m->body, "rows");
    const msgpack_object *row = rows->via.array.ptr[r].via.array.ptr;
    if (row[1].type == MSGPACK_OBJECT_NIL) {
        char reason[200];
        vd_mp_copy (&row[2], reason, sizeof reason);
        snprintf (out, size, "REJECT: %s", reason);
        return out;
    }
    const vd_table_t *t = vd_schema_table (m->table);
    uint32_t k = 0;
    for (size_t c = 0; c < t->ncolumns; c++) {
        if (!vd_schema_carried (&t->columns[c]))
            continue;
        if (strcmp (t->columns[c].name, name) == 0) {
            /* field k of the COPY text, unescaped; a list as a|b */
            const char *f = row[1].via.str.ptr, *end = f + row[1].via.str.size;
            vd_buf_t v;
            vd_buf_init (&v, 4096);
            int kind = 0;
            for (uint32_t i = 0; i <= k && kind >= 0; i++)
                kind = vd_copy_field (&f, end, &v);
            size_t o = 0;
            vd_sql_type_t type = t->columns[c].type;
            for (size_t i = 0; kind == 0 && i < v.len && o + 1 < size; i++)
                if (type != VD_SQL_TEXT_ARRAY || !strchr ("{}\"", v.data[i]))
                    out[o++] = type == VD_SQL_TEXT_ARRAY && v.data[i] == ',' ? '|' : v.data[i];
            out[o] = '\0';
            vd_buf_free (&v);
            if (kind != 0)
                snprintf (out, size, "%s", kind == 1 ? "<nil>" : "<malformed>");
            else if (type == VD_SQL_BOOL)
                snprintf (out, size, "%s", out[0] == 't' ? "true" : "false");
            return out;
        }
        k++;
    }
    snprintf (out, size, "<no column>");
    return out;
}

static int
s_test_convert (norm_batch_t *nb, int table, const char *const *cols, size_t ncols,
                const char *const *cells, size_t nrows, const char *const (*expect)[3],
                size_t nexpect, bool verbose)
{
    int failures = 0;
    msgpack_sbuffer in, out;
    msgpack_sbuffer_init (&in);
    msgpack_sbuffer_init (&out);
    s_test_pack_raw (&in, table, cols, ncols, cells, nrows);
    msgpack_unpacked u1, u2;
    msgpack_unpacked_init (&u1);
    msgpack_unpacked_init (&u2);
    vd_msg_t raw, canon;
    vd_error_t err;
    if (norm_batch_convert_bytes (nb, in.data, in.size, &u1, &raw, &out, &u2, &canon, &err) < 0) {
        fprintf (stderr, "norm_batch: %s\n", err.msg);
        failures++;
    }
    for (size_t e = 0; !failures && e < nexpect; e++) {
        char got[256];
        int64_t r = strtol (expect[e][0], NULL, 10);
        s_test_value (&canon, (uint32_t)r, expect[e][1], got, sizeof got);
        bool ok = strncmp (expect[e][2], "REJECT", 6) == 0 ? strstr (got, expect[e][2] + 8) != NULL
                                                           : strcmp (got, expect[e][2]) == 0;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr, "  row %s %s: want \"%s\" got \"%s\"\n", expect[e][0],
                     expect[e][1], expect[e][2], got);
        failures += !ok;
    }
    msgpack_unpacked_destroy (&u1);
    msgpack_unpacked_destroy (&u2);
    msgpack_sbuffer_destroy (&in);
    msgpack_sbuffer_destroy (&out);
    return failures;
}

int
norm_batch_test (bool verbose)
{
    vd_error_t err;
    int failures = 0;
    if (norm_batch_new ("abc", "Europe/Paris", &err) != NULL)
        failures++;
    norm_batch_t *nb = norm_batch_new ("20", "Europe/Paris", &err);
    const char *sales_cols[] = {"customer_code", "date_sale",    "document_type",  "document_no",
                                "line_no",       "product_code", "quantity_units", "unit",
                                "price_unit",    "price_total",  "margin"};
    const char *sales[] = {
        "C0042",
        "15/03/2024",
        "Facture",
        "F2024-001",
        "1",
        "ries-res-2022",
        "3",
        "MAG150",
        "1 234,50",
        "3 703,50",
        "1 000,00",
        "C0042",
        "31/02/2024",
        "Facture",
        "F2024-001",
        "2",
        "GEW VT 2018",
        "1",
        "BT",
        "10",
        "10",
        "",
        "C0043",
        "16/03/2024",
        "Facture",
        "F2024-002",
        "1",
        "Crémant d'Alsace Brut",
        "-2",
        "BT",
        "10",
        "-20",
        "",
        "C0043",
        "16/03/2024",
        "Avoir",
        "AV2024-001",
        "1",
        "Crémant d'Alsace Brut",
        "-2",
        "BT",
        "10",
        "-20",
        "",
        "C0044",
        "17.03.2024",
        "Facture",
        "F2024-003",
        "1",
        "PN-2021",
        "4",
        "fût",
        "8,5",
        "34",
        "",
        "C0044",
        "17/03/2024",
        "Facture",
        "",
        "2",
        "PN-2021",
        "4",
        "BT",
        "8,5",
        "34",
        "",
    };
    const char *const sales_expect[][3] = {
        {"0", "sale_line_key", "isavigne-F2024-001-1"},
        {"0", "customer_key", "isavigne-C0042"},
        {"0", "product_key", "RIES-RES-2022"},
        {"0", "date_sale", "2024-03-15"},
        {"0", "quantity_bottles_75cl_eq", "6"},
        {"0", "price_unit", "1234.50"},
        {"0", "cost_total", "2703.50"},
        {"0", "margin_percent", "27.00"},
        {"0", "document_type", "facture"},
        {"1", "date_sale", "REJECT: invalid date in date_sale: \"31/02/2024\""},
        {"2", "quantity_units", "REJECT: negative quantity on an invoice"},
        {"3", "product_key", "CREMANT-D-ALSACE-BRUT"},
        {"3", "quantity_units", "-2"},
        {"4", "quantity_units", "4"},
        {"4", "quantity_bottles_75cl_eq", "<nil>"},
        {"5", "sale_line_key", "REJECT: missing or unusable document_no"},
        {"6", "sale_line_key", "REJECT: too many fields"},
    };
    failures += s_test_convert (nb, VD_TABLE_SALES, sales_cols, 11, sales, 6, sales_expect,
                                sizeof sales_expect / sizeof sales_expect[0], verbose);

    const char *cust_cols[] = {"customer_code", "last_name", "first_name", "email", "phone"};
    const char *customers[] = {
        "C0042",
        "  Müller ",
        "Jean\xC2\xA0 Pierre",
        " Jean.Muller@Example.FR ",
        "03.89.12.34.56",
        "C0043",
        "Dupont",
        "Anne",
        "anne@@x.fr",
        "n/a",
        "",
        "Sans",
        "Code",
        "",
        "",
    };
    const char *const cust_expect[][3] = {
        {"0", "customer_key", "isavigne-C0042"},
        {"0", "last_name", "Müller"},
        {"0", "first_name", "Jean Pierre"},
        {"0", "email", "jean.muller@example.fr"},
        {"0", "email_invalid", "false"},
        {"0", "email_opt_out", "false"},
        {"0", "phone", "0389123456"},
        {"1", "email", "anne@@x.fr"},
        {"1", "email_invalid", "true"},
        {"1", "phone", "<nil>"},
        {"2", "customer_key", "REJECT: missing or unusable customer_code"},
    };
    failures += s_test_convert (nb, VD_TABLE_CUSTOMERS, cust_cols, 5, customers, 3, cust_expect,
                                sizeof cust_expect / sizeof cust_expect[0], verbose);

    const char *prod_cols[] = {
        "code", "name", "vintage", "colour", "family", "list_price_incl_vat", "grapes", "volume"};
    const char *products[] = {
        "Crémant d'Alsace Brut",
        "Crémant d'Alsace Brut",
        "NV",
        "Blanc",
        "Crémant",
        "14,90",
        "Pinot Blanc, Auxerrois",
        "75 cl",
        "ries-res-2022",
        "Riesling Réserve",
        "2022",
        "Blanc",
        "",
        "24,00",
        "Riesling",
        "0,75 L",
        "PN-MAG-2020",
        "Pinot Noir Magnum",
        "Millésime 2020",
        "Rouge",
        "",
        "90",
        "",
        "Magnum",
    };
    const char *const prod_expect[][3] = {
        {"0", "product_key", "CREMANT-D-ALSACE-BRUT"},
        {"0", "category", "mousseux"},
        {"0", "price_segment", "entry"},
        {"0", "list_price", "12.42"},
        {"0", "grapes", "Pinot Blanc|Auxerrois"},
        {"0", "vintage", "<nil>"},
        {"0", "volume_cl", "75"},
        {"0", "active", "true"},
        {"1", "list_price", "20.00"},
        {"1", "price_segment", "standard"},
        {"1", "category", "blanc"},
        {"1", "vintage", "2022"},
        {"1", "volume_cl", "75.00"},
        {"2", "vintage", "2020"},
        {"2", "category", "rouge"},
        {"2", "price_segment", "luxury"},
        {"2", "volume_cl", "150"},
    };
    failures += s_test_convert (nb, VD_TABLE_PRODUCTS, prod_cols, 8, products, 3, prod_expect,
                                sizeof prod_expect / sizeof prod_expect[0], verbose);
    /* a connector's unit table: parsed once for the batches that carry
       the same text, again when it changes; one it cannot parse fails
       the batch (not the default table in its place) */
    const char *texts[] = {"magnum = 2,5\n", "magnum = 2,5\n", "bib 5 = 6,6667\n", "bad line\n"};
    const vd_units_t *got[4];
    for (int i = 0; i < 4; i++) {
        msgpack_object text = {.type = MSGPACK_OBJECT_STR,
                               .via.str = {(uint32_t)strlen (texts[i]), texts[i]}};
        vd_error_clear (&err);
        got[i] = s_batch_units (nb, &text, &err);
    }
    VD_CHECK (&failures, got[0] && got[1] == got[0] && got[2] && got[2] != nb->default_units &&
                             !got[3] && err.msg[0]);
    VD_CHECK (&failures, s_batch_units (nb, NULL, &err) == nb->default_units);
    norm_batch_destroy (&nb);
    return failures ? -1 : 0;
}

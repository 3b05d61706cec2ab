/*  odoo_emit - Odoo records into the pipeline. */
#include "odoo_emit.h"
#include "vd_msg.h"

#define BATCH_BYTES (1024 * 1024)
#define VALUE_MAX (16 * 1024 * 1024)

struct odoo_emitter {
    odoo_emit_opts_t opts;
    const odoo_model_map_t *m;
    const char *cols[ODOO_MAX_FIELDS];
    const odoo_field_map_t *col_fields[ODOO_MAX_FIELDS];
    size_t ncols;
    msgpack_sbuffer rows, msg;
    msgpack_packer pk;
    size_t nrows;
    uint64_t seq;
    int64_t total, model_count, deletes;
    json_t *related; /* field -> {id text -> record}, for the current page */
    vd_buf_t text;
};

odoo_emitter_t *
odoo_emitter_new (const odoo_emit_opts_t *opts)
{
    odoo_emitter_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    if (self->opts.batch_rows == 0)
        self->opts.batch_rows = 500;
    msgpack_sbuffer_init (&self->rows);
    msgpack_sbuffer_init (&self->msg);
    msgpack_packer_init (&self->pk, &self->rows, vd_mp_write);
    self->related = json_object ();
    vd_buf_init (&self->text, VALUE_MAX);
    return self;
}

void
odoo_emitter_destroy (odoo_emitter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    odoo_emitter_t *self = *self_p;
    msgpack_sbuffer_destroy (&self->rows);
    msgpack_sbuffer_destroy (&self->msg);
    json_decref (self->related);
    vd_buf_free (&self->text);
    free (self);
    *self_p = NULL;
}

static int
s_send (odoo_emitter_t *self, vd_error_t *err)
{
    const odoo_emit_opts_t *o = &self->opts;
    if (o->output &&
        vd_pipe_send (o->output, self->msg.data, self->msg.size, o->ctl, o->stop, o->stop_arg) < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "extraction stopped before the end");
    return 0;
}

int
odoo_emitter_flush (odoo_emitter_t *self, vd_error_t *err)
{
    if (self->nrows == 0 || !self->m)
        return 0;
    msgpack_sbuffer_clear (&self->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->msg, vd_mp_write);
    vd_msg_pack_raw (&pk, self->opts.run_id, ++self->seq, self->m->table, "odoo",
                     self->opts.connector, self->m->model, self->cols, self->ncols,
                     self->opts.units, self->nrows);
    vd_mp_write (&self->msg, self->rows.data, self->rows.size);
    self->total += (int64_t)self->nrows;
    self->nrows = 0;
    msgpack_sbuffer_clear (&self->rows);
    return s_send (self, err);
}

int
odoo_emitter_model (odoo_emitter_t *self, const odoo_model_map_t *m, vd_error_t *err)
{
    if (odoo_emitter_flush (self, err) < 0)
        return -1;
    self->m = m;
    self->ncols = 0;
    self->model_count = 0;
    for (size_t i = 0; i < m->nfields; i++)
        if (m->fields[i].present) {
            self->col_fields[self->ncols] = &m->fields[i];
            self->cols[self->ncols++] = m->fields[i].input;
        }
    return 0;
}

int
odoo_emit_text (const json_t *v, const char *type, const char *part, vd_buf_t *out)
{
    vd_buf_reset (out);
    bool relational =
        json_is_array (v) && json_array_size (v) == 2 && json_is_integer (json_array_get (v, 0));
    if (relational && strcmp (type, "many2one") == 0)
        v = json_array_get (v, strcmp (part, "id") == 0 ? 0 : 1);
    switch (json_typeof (v)) {
    case JSON_TRUE:
        return vd_buf_addstr (out, "true");
    case JSON_FALSE:
    case JSON_NULL: /* Odoo's empty value of every type */
        return strcmp (type, "boolean") == 0 ? vd_buf_addstr (out, "false") : 0;
    case JSON_INTEGER:
        return vd_buf_printf (out, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
    case JSON_REAL:
        return vd_buf_printf (out, "%.15g", json_real_value (v));
    case JSON_STRING:
        if (vd_buf_add (out, json_string_value (v), json_string_length (v)) < 0)
            return -1;
        /* Odoo datetimes are UTC, written without an offset */
        return strcmp (type, "datetime") == 0 && out->len == 19 ? vd_buf_addc (out, 'Z') : 0;
    case JSON_ARRAY: { /* x2many ids */
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item)
        {
            if (json_is_integer (item))
                vd_buf_printf (out, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                               json_integer_value (item));
        }
        return 0;
    }
    default:
        return 0;
    }
}

/*  The ids a relational value holds ([id, "name"] of a many2one, or the
    ids of an x2many), appended to ids once each. */
static void
s_collect_ids (const json_t *v, json_t *ids)
{
    bool many2one = json_array_size (v) == 2 && json_is_string (json_array_get (v, 1));
    size_t count = many2one ? 1 : json_array_size (v), k;
    json_t *have;
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get (v, i);
        bool seen = !json_is_integer (item);
        json_array_foreach (ids, k, have) seen |=
            json_integer_value (have) == json_integer_value (item);
        if (!seen)
            json_array_append (ids, item);
    }
}

static bool
s_is_related (const odoo_field_map_t *f)
{
    return *f->part && strcmp (f->part, "id") != 0 && strcmp (f->part, "name") != 0;
}

/*  Related records of the page: one search_read per relational field. */
static int
s_read_related (odoo_emitter_t *self, const json_t *page, size_t n, vd_error_t *err)
{
    json_object_clear (self->related);
    for (size_t c = 0; c < self->ncols; c++) {
        const odoo_field_map_t *f = self->col_fields[c];
        if (!s_is_related (f) || json_object_get (self->related, f->field))
            continue;
        json_t *fields = json_array (), *ids = json_array ();
        for (size_t k = 0; k < self->ncols; k++)
            if (strcmp (self->col_fields[k]->field, f->field) == 0)
                json_array_append_new (fields, json_string (self->col_fields[k]->part));
        for (size_t i = 0; i < n; i++)
            s_collect_ids (json_object_get (json_array_get (page, i), f->field), ids);
        json_t *kwargs = json_pack ("{s:[[s, s, O]], s:o, s:{s:b}}", "domain", "id", "in", ids,
                                    "fields", fields, "context", "active_test", 0);
        json_t *records = json_array (), *by_id = json_object ();
        int rc = json_array_size (ids) == 0
                     ? 0
                     : self->opts.read (self->opts.read_arg, f->relation, kwargs, records, err);
        json_decref (ids);
        size_t i;
        json_t *rec;
        json_array_foreach (records, i, rec)
        {
            char key[24];
            snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT,
                      json_integer_value (json_object_get (rec, "id")));
            json_object_set (by_id, key, rec);
        }
        json_object_set_new (self->related, f->field, by_id);
        json_decref (records);
        json_decref (kwargs);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*  The text of column c for record rec into self->text. */
static int
s_column_text (odoo_emitter_t *self, const odoo_field_map_t *f, const json_t *rec)
{
    const json_t *v = json_object_get (rec, f->field);
    if (!s_is_related (f))
        return odoo_emit_text (v, f->type, f->part, &self->text);
    json_t *by_id = json_object_get (self->related, f->field);
    json_t *ids = json_array ();
    s_collect_ids (v, ids);
    vd_buf_t one;
    vd_buf_init (&one, VALUE_MAX);
    vd_buf_reset (&self->text);
    size_t i;
    json_t *id;
    int rc = 0;
    json_array_foreach (ids, i, id)
    {
        char key[24];
        snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT, json_integer_value (id));
        json_t *target = json_object_get (json_object_get (by_id, key), f->part);
        rc |= odoo_emit_text (target, f->type, "", &one);
        if (one.len)
            rc |= vd_buf_printf (&self->text, "%s%s", self->text.len ? ", " : "", one.data);
    }
    /* a product without default_code: its key is ODOO-<id> (SPEC.md) */
    if (self->text.len == 0 && strcmp (f->input, "product_code") == 0 && json_array_size (ids)) {
        char id[24];
        int n = snprintf (id, sizeof id, "%" JSON_INTEGER_FORMAT,
                          json_integer_value (json_array_get (ids, 0)));
        rc |= vd_schema_product_fallback_key (&self->text, "odoo", id, (size_t)n);
    }
    vd_buf_free (&one);
    json_decref (ids);
    return rc ? -1 : 0;
}

int
odoo_emitter_records (void *arg, const json_t *page, size_t n, vd_error_t *err)
{
    odoo_emitter_t *self = arg;
    if (s_read_related (self, page, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *rec = json_array_get (page, i);
        msgpack_pack_array (&self->pk, 2);
        msgpack_pack_int64 (&self->pk, json_integer_value (json_object_get (rec, "id")));
        msgpack_pack_array (&self->pk, (uint32_t)self->ncols);
        for (size_t c = 0; c < self->ncols; c++) {
            if (s_column_text (self, self->col_fields[c], rec) < 0)
                return vd_error_set (err, VD_ERR_PERMANENT, "%s %s: a value is larger than 16 MiB",
                                     self->m->model, self->cols[c]);
            vd_mp_pack_str (&self->pk, vd_buf_str (&self->text), self->text.len);
        }
        self->nrows++;
        self->model_count++;
        if ((self->nrows >= self->opts.batch_rows || self->rows.size >= BATCH_BYTES) &&
            odoo_emitter_flush (self, err) < 0)
            return -1;
    }
    if (self->opts.ctl)
        vd_ctl_tick (self->opts.ctl);
    return 0;
}

int
odoo_emitter_delete (odoo_emitter_t *self, int table, const char *model, const char *mode,
                     const json_t *ids, vd_error_t *err)
{
    if (odoo_emitter_flush (self, err) < 0)
        return -1;
    msgpack_sbuffer_clear (&self->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->msg, vd_mp_write);
    vd_msg_pack_delete (&pk, self->opts.run_id, ++self->seq, table, "odoo", self->opts.connector,
                        model, mode, json_array_size (ids));
    size_t i;
    json_t *id;
    json_array_foreach (ids, i, id)
    {
        char text[24];
        snprintf (text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value (id));
        vd_mp_pack_cstr (&pk, text);
    }
    self->deletes++;
    return s_send (self, err);
}

int
odoo_emitter_end (odoo_emitter_t *self, const json_t *extracted, const json_t *reconciled,
                  vd_error_t *err)
{
    if (odoo_emitter_flush (self, err) < 0)
        return -1;
    msgpack_sbuffer_clear (&self->msg);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->msg, vd_mp_write);
    vd_msg_end_t end = {.extracted = extracted,
                        .records = self->total,
                        .deletes = self->deletes,
                        .reconciled = reconciled};
    vd_msg_pack_end (&pk, self->opts.run_id, ++self->seq, self->opts.connector, &end);
    return s_send (self, err);
}

int64_t
odoo_emitter_model_count (const odoo_emitter_t *self)
{
    return self->model_count;
}

int64_t
odoo_emitter_total (const odoo_emitter_t *self)
{
    return self->total + (int64_t)self->nrows;
}

/* ---- self test ---------------------------------------------------------- */

int
odoo_emit_test (bool verbose)
{
    int failures = 0;
    vd_buf_t b;
    vd_buf_init (&b, 1024);
    struct {
        const char *json, *type, *part, *want;
    } cases[] = {
        {"false", "char", "", ""},
        {"false", "boolean", "", "false"},
        {"true", "boolean", "", "true"},
        {"false", "many2one", "id", ""},
        {"false", "float", "", ""},
        {"0", "integer", "", "0"},
        {"24.5", "float", "", "24.5"},
        {"24.0", "monetary", "", "24"},
        {"0.30000000000000004", "float", "", "0.3"},
        {"[75, \"France\"]", "many2one", "", "France"},
        {"[75, \"France\"]", "many2one", "id", "75"},
        {"[75, \"France\"]", "many2one", "name", "France"},
        {"\"2025-11-25 10:00:00\"", "datetime", "", "2025-11-25 10:00:00Z"},
        {"\"2025-11-25\"", "date", "", "2025-11-25"},
        {"\"iVBORw0KGgo=\"", "binary", "", "iVBORw0KGgo="},
        {"[3, 5, 8]", "many2many", "", "3,5,8"},
        {"null", "char", "", ""},
        {"{\"a\": 1}", "char", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_loads (cases[i].json, JSON_DECODE_ANY, NULL);
        bool ok = odoo_emit_text (v, cases[i].type, cases[i].part, &b) == 0 &&
                  strcmp (vd_buf_str (&b), cases[i].want) == 0;
        if (!ok || verbose)
            fprintf (ok ? stdout : stderr, "  %s (%s.%s): want \"%s\" got \"%s\"\n", cases[i].json,
                     cases[i].type, cases[i].part, cases[i].want, vd_buf_str (&b));
        failures += !ok;
        json_decref (v);
    }
    vd_buf_free (&b);
    return failures ? -1 : 0;
}

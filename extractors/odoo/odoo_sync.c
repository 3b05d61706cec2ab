/*  odoo_sync - one sync run of an Odoo connector. */
#include "odoo_sync.h"
#include "odoo_emit.h"
#include "odoo_pager.h"

#define RECONCILE_CHUNK 10000
#define ORDERS_MODEL "sale.order"

typedef struct {
    const odoo_job_t *job;
    odoo_emitter_t *emit;
    json_t *fields_cache; /* model -> fields_get answer                */
    json_t *old_models;   /* previous cursor's "models" (borrowed)     */
    json_t *new_models;
    json_t *extracted, *files, *errors;
    char upper[ODOO_SECOND_LEN];
    time_t now;
    bool any_ok;
    vd_error_t first;
    char *cursor_after;
} s_run_t;

/*  Collects a call's items into a page (NULL: drop them, a retry). */
static int
s_collect (json_t *item, void *arg)
{
    if (!item)
        json_array_clear (arg);
    else
        json_array_append_new (arg, item);
    return 0;
}

static int
s_call_into (odoo_client_t *client, const char *model, const char *method, const json_t *kwargs,
             json_t *out, vd_error_t *err)
{
    json_array_clear (out);
    json_t *result = NULL;
    int rc = odoo_client_call (client, model, method, kwargs, s_collect, out, &result, err);
    json_decref (result);
    return rc;
}

/*  odoo_read_fn over the client: search_read. */
static int
s_read (void *arg, const char *model, const json_t *kwargs, json_t *page, vd_error_t *err)
{
    return s_call_into (arg, model, "search_read", kwargs, page, err);
}

/*  odoo_fields_fn: fields_get of a model, once per run. */
static json_t *
s_fields_of (void *arg, const char *model, vd_error_t *err)
{
    s_run_t *r = arg;
    json_t *known = json_object_get (r->fields_cache, model);
    if (known)
        return known;
    json_t *kwargs = json_pack ("{s:[s, s]}", "attributes", "type", "relation");
    json_t *fields = NULL;
    int rc =
        odoo_client_call (r->job->client, model, "fields_get", kwargs, NULL, NULL, &fields, err);
    json_decref (kwargs);
    if (rc < 0 || !json_is_object (fields)) {
        if (rc == 0)
            vd_error_set (err, VD_ERR_PERMANENT, "fields_get of %s is not an object", model);
        json_decref (fields);
        return NULL;
    }
    json_object_set_new (r->fields_cache, model, fields);
    return fields;
}

static void
s_mark_of (const s_run_t *r, const char *model, odoo_mark_t *mark)
{
    mark->second[0] = '\0';
    mark->id = 0;
    if (odoo_pager_mark_parse (json_object_get (r->old_models, model), mark) < 0) {
        mark->second[0] = '\0';
        mark->id = 0;
    }
}

/*  Keeps the previous cursor entry of a model that failed. */
static void
s_keep_old (s_run_t *r, const char *model)
{
    json_t *old = json_object_get (r->old_models, model);
    if (old)
        json_object_set (r->new_models, model, old);
}

/* ---- orders: cancellations and confirmations of sales ------------------ */

typedef struct {
    s_run_t *r;
    const odoo_model_map_t *lines;
    const json_t *line_domain, *line_fields;
    odoo_mark_t start; /* the line cursor at the start of the run */
} s_orders_t;

/*  The lines of confirmed orders that the line paging of this run did not
    cover (write_date before its start), paged by id. */
static int
s_order_lines (s_orders_t *o, const json_t *orders, vd_error_t *err)
{
    char next[ODOO_SECOND_LEN];
    odoo_pager_format (odoo_pager_epoch (o->start.second) + 1, next);
    json_t *page = json_array ();
    json_int_t last = 0;
    int rc = 0;
    for (size_t n = (size_t)o->r->job->page_size; rc == 0 && n == (size_t)o->r->job->page_size;) {
        json_t *domain = json_deep_copy (o->line_domain);
        json_t *cond =
            json_pack ("[[s, s, O], [s, s, I], s, [s, s, s], s, [s, s, s], [s, s, I]]", "order_id",
                       "in", orders, "id", ">", last, "|", "write_date", "<", o->start.second, "&",
                       "write_date", "<", next, "id", "<=", (json_int_t)o->start.id);
        json_array_extend (domain, cond);
        json_decref (cond);
        json_t *kwargs = json_pack ("{s:o, s:O, s:s, s:i, s:{s:b}}", "domain", domain, "fields",
                                    o->line_fields, "order", "id asc", "limit",
                                    o->r->job->page_size, "context", "active_test", 0);
        rc = s_read (o->r->job->client, o->lines->model, kwargs, page, err);
        json_decref (kwargs);
        n = json_array_size (page);
        if (rc == 0 && n)
            rc = odoo_emitter_records (o->r->emit, page, n, err);
        if (n)
            last = json_integer_value (json_object_get (json_array_get (page, n - 1), "id"));
    }
    json_decref (page);
    return rc;
}

/*  odoo_emit_fn for pages of changed orders. */
static int
s_order_page (void *arg, const json_t *page, size_t n, vd_error_t *err)
{
    s_orders_t *o = arg;
    json_t *confirmed = json_array (), *gone = json_array ();
    for (size_t i = 0; i < n; i++) {
        const json_t *order = json_array_get (page, i);
        const char *state = json_string_value (json_object_get (order, "state"));
        if (state && (strcmp (state, "sale") == 0 || strcmp (state, "done") == 0))
            json_array_append (confirmed, json_object_get (order, "id"));
        else if (json_is_array (json_object_get (order, "order_line")))
            json_array_extend (gone, json_object_get (order, "order_line"));
    }
    int rc = 0;
    if (json_array_size (gone))
        rc = odoo_emitter_delete (o->r->emit, o->lines->table, ORDERS_MODEL, "listed", gone, err);
    if (rc == 0 && json_array_size (confirmed))
        rc = s_order_lines (o, confirmed, err);
    json_decref (confirmed);
    json_decref (gone);
    return rc;
}

static int
s_orders (s_run_t *r, s_orders_t *o, odoo_mark_t *mark, vd_error_t *err)
{
    json_t *domain = json_array ();
    json_t *fields = json_pack ("[s, s, s, s]", "id", "write_date", "state", "order_line");
    odoo_pager_t p = {s_read, r->job->client,    ORDERS_MODEL, domain,
                      fields, r->job->page_size, s_order_page, o};
    int rc = odoo_pager_run (&p, mark, r->upper, err);
    json_decref (domain);
    json_decref (fields);
    return rc;
}

/* ---- one model ---------------------------------------------------------- */

static int
s_model (s_run_t *r, odoo_model_map_t *m, vd_error_t *err)
{
    odoo_mark_t mark, start;
    s_mark_of (r, m->model, &mark);
    if (r->job->full)
        mark = (odoo_mark_t){"", 0};
    start = mark;
    if (odoo_mapping_resolve (m, s_fields_of, r, odoo_client_version (r->job->client), err) < 0)
        return -1;
    json_t *domain = json_loads (m->domain, 0, NULL);
    json_t *fields = odoo_mapping_read_fields (m);
    odoo_pager_t p = {
        s_read, r->job->client, m->model, domain, fields, r->job->page_size, odoo_emitter_records,
        r->emit};
    int rc = odoo_emitter_model (r->emit, m, err);
    if (rc == 0)
        rc = odoo_pager_run (&p, &mark, r->upper, err);
    if (rc == 0)
        json_object_set_new (r->new_models, m->model, odoo_pager_mark_json (&mark));
    if (rc == 0 && m->table == VD_TABLE_SALES) {
        /* on the first run (or --full) every confirmed line was just read */
        odoo_mark_t orders;
        s_mark_of (r, ORDERS_MODEL, &orders);
        s_orders_t o = {r, m, domain, fields, start};
        if (!*start.second || !*orders.second)
            snprintf (orders.second, sizeof orders.second, "%s", r->upper), orders.id = 0;
        else
            rc = s_orders (r, &o, &orders, err);
        if (rc == 0)
            json_object_set_new (r->new_models, ORDERS_MODEL, odoo_pager_mark_json (&orders));
    }
    if (rc == 0)
        rc = odoo_emitter_flush (r->emit, err);
    json_decref (domain);
    json_decref (fields);
    return rc;
}

/*  The ids of a model, sent as DELETE "present" chunks. */
static int
s_reconcile_model (s_run_t *r, const odoo_model_map_t *m, vd_error_t *err)
{
    json_t *ids = json_array ();
    json_int_t last = 0;
    int rc = 0;
    for (size_t n = RECONCILE_CHUNK; rc == 0 && n == RECONCILE_CHUNK;) {
        json_t *domain = json_loads (m->domain, 0, NULL);
        json_array_append_new (domain, json_pack ("[s, s, I]", "id", ">", last));
        json_t *kwargs = json_pack ("{s:o, s:s, s:i, s:{s:b}}", "domain", domain, "order", "id asc",
                                    "limit", RECONCILE_CHUNK, "context", "active_test", 0);
        rc = s_call_into (r->job->client, m->model, "search", kwargs, ids, err);
        json_decref (kwargs);
        n = json_array_size (ids);
        if (rc == 0 && n)
            rc = odoo_emitter_delete (r->emit, m->table, m->model, "present", ids, err);
        if (n)
            last = json_integer_value (json_array_get (ids, n - 1));
    }
    json_decref (ids);
    return rc;
}

static bool
s_reconcile_due (const s_run_t *r, const json_t *old, bool had_cursor)
{
    const odoo_job_t *job = r->job;
    json_t *at = json_object_get (old, "reconciled_at");
    if (job->full)
        return true;
    if (job->reconcile_s < 0 || !had_cursor)
        return false;
    return job->reconcile_s == 0 || !json_is_integer (at) ||
           (int64_t)r->now - json_integer_value (at) >= job->reconcile_s;
}

/*  A model's outcome into the report. */
static void
s_report_model (s_run_t *r, const odoo_model_map_t *m, int rc, const vd_error_t *err)
{
    const char *table = vd_schema_table (m->table)->name;
    int64_t rows = odoo_emitter_model_count (r->emit);
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:I}", "file", m->model, "table", table, "status",
                               rc == 0 ? "loaded" : "failed", "rows", (json_int_t)rows);
    json_object_set_new (
        r->extracted, table,
        json_integer (json_integer_value (json_object_get (r->extracted, table)) + rows));
    if (rc < 0) {
        json_object_set_new (entry, "error", json_string (err->msg));
        json_array_append_new (r->errors, json_pack ("{s:s, s:I, s:s, s:s, s:s}", "file", m->model,
                                                     "line", (json_int_t)0, "reason", err->msg,
                                                     "detail", err->detail, "hint", err->hint));
        vd_log_error (VD_LOG_WARN, err);
        if (r->first.kind == VD_ERR_NONE)
            r->first = *err;
        s_keep_old (r, m->model);
        if (m->table == VD_TABLE_SALES)
            s_keep_old (r, ORDERS_MODEL);
    } else
        r->any_ok = true;
    json_array_append_new (r->files, entry);
}

static bool
s_stopped (const odoo_job_t *job)
{
    return job->stop && job->stop (job->stop_arg);
}

/*  Every model, then reconciliation when due. -1 when stopped. */
static int
s_models (s_run_t *r, json_t *old, bool had_cursor, json_t *reconciled)
{
    odoo_mapping_t *map = r->job->mapping;
    bool ok[ODOO_MAX_MODELS] = {false};
    for (size_t i = 0; i < odoo_mapping_size (map); i++) {
        vd_error_t err;
        vd_error_clear (&err);
        int rc = s_model (r, odoo_mapping_at (map, i), &err);
        if (s_stopped (r->job))
            return -1;
        s_report_model (r, odoo_mapping_at (map, i), rc, &err);
        ok[i] = rc == 0;
    }
    json_t *at = json_object_get (old, "reconciled_at");
    json_int_t reconciled_at = json_is_integer (at) ? json_integer_value (at) : (json_int_t)r->now;
    if (s_reconcile_due (r, old, had_cursor)) {
        bool all = true;
        for (size_t i = 0; i < odoo_mapping_size (map); i++) {
            const odoo_model_map_t *m = odoo_mapping_at (map, i);
            vd_error_t err;
            vd_error_clear (&err);
            bool done = ok[i] && s_reconcile_model (r, m, &err) == 0;
            if (done)
                json_array_append_new (reconciled, json_string (vd_schema_table (m->table)->name));
            else if (ok[i]) {
                vd_log_error (VD_LOG_WARN, &err);
                json_array_append_new (r->errors,
                                       json_pack ("{s:s, s:I, s:s, s:s}", "file", m->model, "line",
                                                  (json_int_t)0, "reason", err.msg, "detail",
                                                  "deleted records were not checked"));
            }
            all = all && done;
            if (s_stopped (r->job))
                return -1;
        }
        if (all)
            reconciled_at = (json_int_t)r->now;
    }
    json_t *doc = json_pack ("{s:i, s:O, s:I}", "v", 1, "models", r->new_models, "reconciled_at",
                             reconciled_at);
    r->cursor_after = doc ? json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref (doc);
    return 0;
}

int
odoo_sync_run (const odoo_job_t *job, json_t *report, vd_error_t *err)
{
    json_t *old = job->cursor && !job->full ? json_loads (job->cursor, 0, NULL) : NULL;
    s_run_t r = {.job = job,
                 .fields_cache = json_object (),
                 .old_models = json_object_get (old, "models"),
                 .new_models = json_object (),
                 .extracted = json_object (),
                 .files = json_array (),
                 .errors = json_array ()};
    vd_error_clear (&r.first);
    r.now = odoo_client_server_time (job->client);
    if (r.now <= 0)
        r.now = time (NULL); /* no Date header: our own clock */
    odoo_pager_format (r.now - job->safety_lag_s, r.upper);
    odoo_emit_opts_t eo = {job->run_id, job->connector, job->units, job->batch_rows,
                           job->output, job->ctl,       job->stop,  job->stop_arg,
                           s_read,      job->client};
    r.emit = odoo_emitter_new (&eo);
    json_t *reconciled = json_array ();
    int rc = r.emit ? s_models (&r, old, json_is_object (r.old_models), reconciled) : -1;
    if (rc == 0 && !r.any_ok) {
        *err = r.first;
        rc = -1;
    } else if (rc == 0)
        rc = odoo_emitter_end (r.emit, r.extracted, reconciled, err);
    else
        vd_error_set (err, VD_ERR_PERMANENT, "extraction stopped before the end");
    /* a run that failed moves no cursor: the orchestrator ignores it */
    json_object_set_new (report, "cursor_after",
                         json_string (r.cursor_after ? r.cursor_after
                                      : job->cursor  ? job->cursor
                                                     : "{}"));
    free (r.cursor_after);
    json_object_set_new (report, "records",
                         json_integer (r.emit ? odoo_emitter_total (r.emit) : 0));
    json_object_set_new (report, "files", r.files);
    json_object_set_new (report, "errors", r.errors);
    json_object_set_new (report, "extracted", r.extracted);
    json_object_set_new (report, "reconciled", reconciled);
    odoo_emitter_destroy (&r.emit);
    json_decref (r.fields_cache);
    json_decref (r.new_models);
    json_decref (old);
    return rc;
}

int64_t
odoo_sync_reconcile_interval (const char *s)
{
    if (!s || !*s)
        return 86400;
    if (strcmp (s, "off") == 0 || strcmp (s, "never") == 0)
        return -1;
    if (strcmp (s, "always") == 0)
        return 0;
    char digits[32];
    size_t n = strspn (s, "0123456789");
    if (n == 0 || n >= sizeof digits || (s[n] && s[n + 1]))
        return -2;
    memcpy (digits, s, n);
    digits[n] = '\0';
    int64_t v;
    int64_t unit = !s[n] || s[n] == 's' ? 1
                   : s[n] == 'm'        ? 60
                   : s[n] == 'h'        ? 3600
                   : s[n] == 'd'        ? 86400
                                        : 0;
    if (unit == 0 || vd_parse_int (digits, 0, 3650L * 86400, &v) < 0)
        return -2;
    return v * unit;
}

int
odoo_sync_test (bool verbose)
{
    int failures = 0;
    failures += odoo_sync_reconcile_interval ("1d") != 86400;
    failures += odoo_sync_reconcile_interval ("12h") != 43200;
    failures += odoo_sync_reconcile_interval ("30m") != 1800;
    failures += odoo_sync_reconcile_interval ("45") != 45;
    failures += odoo_sync_reconcile_interval ("always") != 0;
    failures += odoo_sync_reconcile_interval ("off") != -1;
    failures += odoo_sync_reconcile_interval (NULL) != 86400;
    const char *bad[] = {"d", "1w", "1dd", "-5", "99999999999999999999", "1 d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        failures += odoo_sync_reconcile_interval (bad[i]) != -2;
    if (verbose)
        printf ("  odoo_sync: %d failures\n", failures);
    return failures ? -1 : 0;
}

/*  orch_runview - a sync run as the API shows it. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_runview.h"
#include <math.h>

/*  Parsed JSON array text, [] when NULL or malformed. */
static json_t *
s_array_from_text (const char *text)
{
    json_t *j = text ? json_loads (text, JSON_DECODE_ANY, NULL) : NULL;
    if (json_is_array (j))
        return j;
    json_decref (j);
    return json_array ();
}

/*  Seconds with millisecond precision, or null. */
static json_t *
s_duration (const char *text)
{
    if (!text || !*text)
        return json_null ();
    char *end;
    errno = 0;
    double d = strtod (text, &end);
    if (errno || *end || !isfinite (d))
        return json_null ();
    return json_real (round (d * 1000.0) / 1000.0);
}

json_t *
orch_runview_build (const orch_run_row_t *row)
{
    json_t *run = json_object ();
    if (!run)
        return NULL;
    int rc = 0;
    rc |= json_object_set_new (run, "id", json_integer (row->id));
    rc |= json_object_set_new (run, "connector", orch_json_text (row->connector));
    rc |= json_object_set_new (run, "connector_type", orch_json_text (row->connector_type));
    rc |= json_object_set_new (run, "status", orch_json_text (row->status));
    rc |= json_object_set_new (run, "full", json_boolean (row->full));
    rc |= json_object_set_new (run, "trigger", orch_json_text (row->trigger));
    rc |= json_object_set_new (run, "queued_at", orch_json_text (row->queued_at));
    rc |= json_object_set_new (run, "started_at", orch_json_text (row->started_at));
    rc |= json_object_set_new (run, "finished_at", orch_json_text (row->finished_at));
    rc |= json_object_set_new (run, "duration_s", s_duration (row->duration_s));
    rc |= json_object_set_new (run, "cursor_before", orch_json_text (row->cursor_before));
    rc |= json_object_set_new (run, "cursor_after", orch_json_text (row->cursor_after));
    rc |= json_object_set_new (run, "extractor", orch_json_text (row->extractor));
    rc |= json_object_set_new (run, "tables", json_object ());
    rc |= json_object_set_new (run, "records_done", json_integer (0));
    rc |= json_object_set_new (run, "warnings", json_array ());
    rc |= json_object_set_new (run, "warnings_total", json_integer (0));
    rc |= json_object_set_new (run, "errors", s_array_from_text (row->errors));
    rc |= json_object_set_new (run, "files", s_array_from_text (row->files));
    if (rc) {
        json_decref (run);
        return NULL;
    }
    return run;
}

int
orch_runview_add_table (json_t *run, const orch_table_count_t *t)
{
    json_t *counts =
        json_pack ("{s:I,s:I,s:I,s:I,s:I}", "extracted", (json_int_t)t->extracted, "inserted",
                   (json_int_t)t->inserted, "updated", (json_int_t)t->updated, "unchanged",
                   (json_int_t)t->unchanged, "rejected", (json_int_t)t->rejected);
    json_t *tables = json_object_get (run, "tables");
    if (counts && t->deleted > 0)
        json_object_set_new (counts, "deleted", json_integer (t->deleted));
    if (!counts || !tables || json_object_set_new (tables, t->name, counts) < 0)
        return -1;
    json_int_t done = json_integer_value (json_object_get (run, "records_done"));
    done += t->inserted + t->updated + t->unchanged + t->rejected;
    return json_object_set_new (run, "records_done", json_integer (done));
}

int
orch_runview_add_warning (json_t *run, json_t *warning)
{
    json_t *list = json_object_get (run, "warnings");
    if (!warning || !list) {
        json_decref (warning);
        return -1;
    }
    return json_array_append_new (list, warning);
}

/*  Text of a cell, NULL for SQL NULL. */
static const char *
s_cell (const PGresult *res, int row, int col)
{
    return PQgetisnull (res, row, col) ? NULL : PQgetvalue (res, row, col);
}

static int64_t
s_cell_int (const PGresult *res, int row, int col)
{
    int64_t n = 0;
    const char *v = s_cell (res, row, col);
    if (v && vd_parse_int (v, INT64_MIN, INT64_MAX, &n) < 0)
        n = 0;
    return n;
}

/* clang-format off */
#define RUN_COLUMNS                                                                         \
    "SELECT id, connector, connector_type, status, full_sync, trigger, extractor, "       \
    ORCH_SQL_ISO ("queued_at") ", " ORCH_SQL_ISO ("started_at") ", "                      \
    ORCH_SQL_ISO ("finished_at") ", extract(epoch FROM finished_at - started_at), "       \
    "cursor_before, cursor_after, files::text, errors::text FROM ops.sync_runs "
/* clang-format on */

static json_t *
s_run_from_result (const PGresult *res, int i)
{
    orch_run_row_t row = {
        .id = s_cell_int (res, i, 0),
        .connector = s_cell (res, i, 1),
        .connector_type = s_cell (res, i, 2),
        .status = s_cell (res, i, 3),
        .full = strcmp (PQgetvalue (res, i, 4), "t") == 0,
        .trigger = s_cell (res, i, 5),
        .extractor = s_cell (res, i, 6),
        .queued_at = s_cell (res, i, 7),
        .started_at = s_cell (res, i, 8),
        .finished_at = s_cell (res, i, 9),
        .duration_s = s_cell (res, i, 10),
        .cursor_before = s_cell (res, i, 11),
        .cursor_after = s_cell (res, i, 12),
        .files = s_cell (res, i, 13),
        .errors = s_cell (res, i, 14),
    };
    return orch_runview_build (&row);
}

/*  The run of runs (ids newest first, as in the array) holding id. */
static json_t *
s_find (json_t *runs, int64_t id)
{
    size_t lo = 0, hi = json_array_size (runs);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        json_t *run = json_array_get (runs, mid);
        int64_t mid_id = json_integer_value (json_object_get (run, "id"));
        if (mid_id == id)
            return run;
        if (mid_id > id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/*  "{3,2,1}": the ids of runs, as a bigint[] literal. */
static char *
s_id_array (json_t *runs)
{
    vd_buf_t b;
    vd_buf_init (&b, 32 * (ORCH_RUNS_MAX_LIMIT + 1));
    vd_buf_addc (&b, '{');
    size_t i;
    json_t *run;
    json_array_foreach (runs, i, run)
        vd_buf_printf (&b, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                       json_integer_value (json_object_get (run, "id")));
    vd_buf_addc (&b, '}');
    return vd_buf_take (&b);
}

static int
s_attach_tables (PGconn *conn, json_t *runs, const char *ids, vd_error_t *err)
{
    const char *params[] = {ids};
    PGresult *res = vd_db_exec (conn,
                                "SELECT run_id, table_name, extracted, inserted, updated, "
                                "unchanged, rejected, deleted FROM ops.run_tables "
                                "WHERE run_id = ANY($1::bigint[]) ORDER BY run_id, table_name",
                                1, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples (res); i++) {
        orch_table_count_t t = {
            .name = PQgetvalue (res, i, 1),
            .extracted = s_cell_int (res, i, 2),
            .inserted = s_cell_int (res, i, 3),
            .updated = s_cell_int (res, i, 4),
            .unchanged = s_cell_int (res, i, 5),
            .rejected = s_cell_int (res, i, 6),
            .deleted = s_cell_int (res, i, 7),
        };
        json_t *run = s_find (runs, s_cell_int (res, i, 0));
        if (run && orch_runview_add_table (run, &t) < 0) {
            PQclear (res);
            return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        }
    }
    PQclear (res);
    return 0;
}

static int
s_attach_warnings (PGconn *conn, json_t *runs, const char *ids, vd_error_t *err)
{
    const char *params[] = {ids};
    char sql[1024];
    snprintf (sql, sizeof sql,
              "SELECT r.id, w.* FROM unnest($1::bigint[]) AS r(id) "
              "CROSS JOIN LATERAL (SELECT " ORCH_WARNING_COLUMNS " FROM ops.warning_summaries x "
              "WHERE x.run_id = r.id ORDER BY x.id LIMIT %d) w ORDER BY r.id, w.id",
              ORCH_RUN_WARNINGS);
    PGresult *res = vd_db_exec (conn, sql, 1, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples (res); i++) {
        json_t *run = s_find (runs, s_cell_int (res, i, 0));
        if (run)
            orch_runview_add_warning (run, orch_runview_warning (res, i, 1));
    }
    PQclear (res);
    res = vd_db_exec (conn,
                      "SELECT run_id, sum(count), count(*) FROM ops.warning_summaries "
                      "WHERE run_id = ANY($1::bigint[]) GROUP BY run_id",
                      1, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples (res); i++) {
        json_t *run = s_find (runs, s_cell_int (res, i, 0));
        if (run) {
            json_object_set_new (run, "warnings_total", json_integer (s_cell_int (res, i, 1)));
            json_object_set_new (run, "warning_summaries", json_integer (s_cell_int (res, i, 2)));
        }
    }
    PQclear (res);
    return 0;
}

json_t *
orch_runview_warning (const PGresult *res, int i, int col)
{
    json_t *w = json_object ();
    const char *examples = s_cell (res, i, col + 7);
    json_t *list = examples ? json_loads (examples, 0, NULL) : NULL;
    if (!w || !json_is_array (list)) {
        json_decref (w);
        json_decref (list);
        return NULL;
    }
    json_t *first = json_array_get (list, 0);
    json_object_set_new (w, "id", json_integer (s_cell_int (res, i, col)));
    json_object_set_new (w, "run_id", json_integer (s_cell_int (res, i, col + 1)));
    json_object_set_new (w, "table", orch_json_text (s_cell (res, i, col + 2)));
    json_object_set_new (w, "file", orch_json_text (s_cell (res, i, col + 3)));
    json_object_set_new (w, "field", orch_json_text (s_cell (res, i, col + 4)));
    json_object_set_new (w, "reason", orch_json_text (s_cell (res, i, col + 5)));
    json_object_set_new (w, "count", json_integer (s_cell_int (res, i, col + 6)));
    json_object_set (w, "line", first ? json_object_get (first, "line") : json_null ());
    json_object_set (w, "raw_value", first ? json_object_get (first, "raw_value") : json_null ());
    json_object_set_new (w, "examples", list);
    return w;
}

/*  Runs from a query on RUN_COLUMNS (ordered by id DESC), completed with
    their tables and warnings. */
static json_t *
s_runs (PGconn *conn, const char *sql, int nparams, const char *const *params, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, sql, nparams, params, err);
    if (!res)
        return NULL;
    json_t *runs = json_array ();
    for (int i = 0; runs && i < PQntuples (res); i++)
        if (json_array_append_new (runs, s_run_from_result (res, i)) < 0) {
            json_decref (runs);
            runs = NULL;
        }
    PQclear (res);
    if (!runs) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    if (json_array_size (runs) == 0)
        return runs;
    char *ids = s_id_array (runs);
    int rc = ids ? 0 : vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    if (rc == 0)
        rc = s_attach_tables (conn, runs, ids, err);
    if (rc == 0)
        rc = s_attach_warnings (conn, runs, ids, err);
    free (ids);
    if (rc < 0) {
        json_decref (runs);
        return NULL;
    }
    return runs;
}

json_t *
orch_runview_list (PGconn *conn, const char *connector, int limit, vd_error_t *err)
{
    char lim[24];
    snprintf (lim, sizeof lim, "%d", limit);
    const char *params[] = {connector, lim};
    return s_runs (conn,
                   RUN_COLUMNS "WHERE ($1::text IS NULL OR connector = $1) "
                               "ORDER BY id DESC LIMIT $2::int",
                   2, params, err);
}

json_t *
orch_runview_get (PGconn *conn, int64_t id, vd_error_t *err)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, id);
    const char *params[] = {text};
    json_t *runs = s_runs (conn, RUN_COLUMNS "WHERE id = $1::bigint", 1, params, err);
    if (!runs) {
        err->http_status = 500;
        return NULL;
    }
    json_t *run = json_incref (json_array_get (runs, 0));
    json_decref (runs);
    if (!run) {
        vd_error_set (err, VD_ERR_PERMANENT, "no run %" PRId64, id);
        err->http_status = 404;
    }
    return run;
}

int
orch_runview_test (bool verbose)
{
    int failed = 0;
    orch_run_row_t row = {
        .id = 42,
        .connector = "isv_main",
        .connector_type = "isavigne",
        .status = "success",
        .trigger = "manual",
        .queued_at = "2026-11-25T09:59:59Z",
        .started_at = "2026-11-25T10:00:00Z",
        .finished_at = "2026-11-25T10:00:03Z",
        .duration_s = "3.2144999",
        .cursor_before = NULL,
        .cursor_after = "{\"a\":1}",
        .files = "[{\"file\":\"ventes.csv\",\"status\":\"loaded\"}]",
        .errors = "not json",
        .full = true,
    };
    json_t *run = orch_runview_build (&row);
    VD_CHECK (&failed, run != NULL);
    VD_CHECK (&failed, json_integer_value (json_object_get (run, "id")) == 42);
    VD_CHECK (&failed, strcmp (orch_json_str (run, "status"), "success") == 0);
    VD_CHECK (&failed, json_is_null (json_object_get (run, "cursor_before")));
    VD_CHECK (&failed, strcmp (orch_json_str (run, "cursor_after"), "{\"a\":1}") == 0);
    VD_CHECK (&failed, fabs (json_real_value (json_object_get (run, "duration_s")) - 3.214) < 1e-9);
    VD_CHECK (&failed, json_is_true (json_object_get (run, "full")));
    VD_CHECK (&failed, json_array_size (json_object_get (run, "files")) == 1);
    VD_CHECK (&failed, json_is_array (json_object_get (run, "errors")) &&
                           json_array_size (json_object_get (run, "errors")) == 0);
    orch_table_count_t sales = {"sales_lines", 20, 18, 1, 1, 0};
    orch_table_count_t customers = {"customers", 5, 0, 0, 3, 2};
    VD_CHECK (&failed, orch_runview_add_table (run, &sales) == 0);
    VD_CHECK (&failed, orch_runview_add_table (run, &customers) == 0);
    VD_CHECK (&failed, json_integer_value (json_object_get (run, "records_done")) == 25);
    json_t *t = json_object_get (json_object_get (run, "tables"), "sales_lines");
    VD_CHECK (&failed, json_integer_value (json_object_get (t, "unchanged")) == 1);
    VD_CHECK (&failed, orch_runview_add_warning (run, json_pack ("{s:s}", "reason", "x")) == 0);
    VD_CHECK (&failed, orch_runview_add_warning (run, NULL) < 0);
    VD_CHECK (&failed, json_array_size (json_object_get (run, "warnings")) == 1);
    json_decref (run);

    orch_run_row_t running = {.id = 7,
                              .connector = "c",
                              .status = "running",
                              .duration_s = NULL,
                              .files = NULL,
                              .errors = "[1]"};
    run = orch_runview_build (&running);
    VD_CHECK (&failed, run && json_is_null (json_object_get (run, "duration_s")));
    VD_CHECK (&failed, run && json_is_null (json_object_get (run, "finished_at")));
    VD_CHECK (&failed, run && json_array_size (json_object_get (run, "errors")) == 1);
    json_decref (run);

    json_t *runs = json_pack ("[{s:i},{s:i},{s:i}]", "id", 9, "id", 5, "id", 2);
    VD_CHECK (&failed, s_find (runs, 5) == json_array_get (runs, 1));
    VD_CHECK (&failed, s_find (runs, 2) == json_array_get (runs, 2));
    VD_CHECK (&failed, s_find (runs, 3) == NULL);
    char *ids = s_id_array (runs);
    VD_CHECK (&failed, ids && strcmp (ids, "{9,5,2}") == 0);
    free (ids);
    json_decref (runs);
#undef CHECK
    if (verbose)
        printf ("orch_runview_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}

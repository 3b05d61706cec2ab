/*  orch_quality - the data-quality report on the canonical tables. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_quality.h"
#include "orch_runview.h"
#include <math.h>

#define SQL_MAX (64 * 1024)
#define CSV_MAX (64 * 1024 * 1024)

typedef struct {
    int table;          /* vd_table_id_t                                  */
    const char *name;   /* "duplicate_email"                              */
    const char *kind;   /* invalid, duplicate, orphan                     */
    const char *label;  /* what the page shows                            */
    const char *detail; /* SQL expression over row c: what is wrong       */
    const char *where;  /* SQL condition over row c: the row fails        */
} s_check_t;

/* clang-format off */
static const s_check_t s_checks[] = {
    {VD_TABLE_CUSTOMERS, "invalid_email", "invalid", "email flagged invalid",
     "c.email", "c.email_invalid"},
    {VD_TABLE_CUSTOMERS, "duplicate_email", "duplicate", "email shared with another customer",
     "c.email || ' (also ' || (SELECT string_agg(d.customer_key, ', ' ORDER BY d.customer_key) "
     "FROM canonical.customers d WHERE d.email = c.email AND d.customer_key <> c.customer_key) "
     "|| ')'",
     "c.email IS NOT NULL AND c.email <> '' AND EXISTS (SELECT 1 FROM canonical.customers d "
     "WHERE d.email = c.email AND d.customer_key <> c.customer_key)"},
    {VD_TABLE_CUSTOMERS, "duplicate_phone", "duplicate", "phone shared with another customer",
     "c.phone || ' (also ' || (SELECT string_agg(d.customer_key, ', ' ORDER BY d.customer_key) "
     "FROM canonical.customers d WHERE d.phone = c.phone AND d.customer_key <> c.customer_key) "
     "|| ')'",
     "c.phone IS NOT NULL AND c.phone <> '' AND EXISTS (SELECT 1 FROM canonical.customers d "
     "WHERE d.phone = c.phone AND d.customer_key <> c.customer_key)"},
    {VD_TABLE_PRODUCTS, "duplicate_product", "duplicate", "same name and vintage under another key",
     "c.name || ' ' || coalesce(c.vintage::text, '') || ' (also ' || (SELECT string_agg("
     "d.product_key, ', ' ORDER BY d.product_key) FROM canonical.product_catalog d "
     "WHERE lower(d.name) = lower(c.name) AND d.vintage IS NOT DISTINCT FROM c.vintage "
     "AND d.product_key <> c.product_key) || ')'",
     "c.name IS NOT NULL AND EXISTS (SELECT 1 FROM canonical.product_catalog d "
     "WHERE lower(d.name) = lower(c.name) AND d.vintage IS NOT DISTINCT FROM c.vintage "
     "AND d.product_key <> c.product_key)"},
    {VD_TABLE_PRODUCTS, "negative_price", "invalid", "negative list or cost price",
     "coalesce(c.list_price::text, '') || ' / ' || coalesce(c.cost_price::text, '')",
     "c.list_price < 0 OR c.cost_price < 0"},
    {VD_TABLE_SALES, "impossible_date", "invalid", "sale date in the future or before 1900",
     "c.date_sale::text", "c.date_sale > current_date OR c.date_sale < DATE '1900-01-01'"},
    {VD_TABLE_SALES, "negative_quantity_invoice", "invalid",
     "negative quantity on an invoice (not a credit note)",
     "coalesce(c.document_type, '') || ' ' || c.quantity_units::text",
     /* $1: the credit-note words of vd_schema (s_query) */
     "c.quantity_units < 0 AND coalesce(c.document_type, '') !~ $1::text"},
    {VD_TABLE_SALES, "orphan_customer", "orphan", "customer missing",
     "coalesce(c.customer_key, '(none)')",
     "c.customer_key IS NULL OR NOT EXISTS (SELECT 1 FROM canonical.customers d "
     "WHERE d.customer_key = c.customer_key)"},
    {VD_TABLE_SALES, "orphan_product", "orphan", "product missing",
     "coalesce(c.product_key, '(none)')",
     "c.product_key IS NULL OR NOT EXISTS (SELECT 1 FROM canonical.product_catalog d "
     "WHERE d.product_key = c.product_key)"},
    {VD_TABLE_STOCK, "orphan_product", "orphan", "stock of an unknown product",
     "c.product_key",
     "NOT EXISTS (SELECT 1 FROM canonical.product_catalog d WHERE d.product_key = c.product_key)"},
    {VD_TABLE_STOCK, "impossible_date", "invalid", "count date in the future",
     "c.last_count_date::text", "c.last_count_date > current_date"},
    {VD_TABLE_CONTACTS, "impossible_date", "invalid", "contact date in the future",
     "c.date_contact::text", "c.date_contact > now() + interval '1 day'"},
};
/* clang-format on */

#define NCHECKS (sizeof s_checks / sizeof s_checks[0])

/*  True for the bookkeeping columns every row has (not measured). */
static bool
s_bookkeeping (const vd_column_t *c)
{
    return (c->flags & VD_COL_KEY) || c->rule == VD_RULE_SOURCE || c->rule == VD_RULE_SOURCE_ID ||
           c->rule == VD_RULE_CONNECTOR || strcmp (c->name, "synced_at") == 0;
}

/*  SELECT count(*), count(<filled col>)... FROM canonical.<t>: one column
    per measured column, in schema order. */
static int
s_completeness_sql (const vd_table_t *t, vd_buf_t *sql)
{
    int rc = vd_buf_addstr (sql, "SELECT count(*)");
    for (size_t i = 0; i < t->ncolumns && rc == 0; i++) {
        const vd_column_t *c = &t->columns[i];
        if (s_bookkeeping (c))
            continue;
        if (c->type == VD_SQL_TEXT)
            rc = vd_buf_printf (sql, ", count(NULLIF(%s, ''))", c->name);
        else if (c->type == VD_SQL_TEXT_ARRAY)
            rc = vd_buf_printf (sql, ", count(NULLIF(cardinality(%s), 0))", c->name);
        else
            rc = vd_buf_printf (sql, ", count(%s)", c->name);
    }
    return rc < 0 ? -1 : vd_buf_printf (sql, " FROM canonical.%s", t->name);
}

/*  The rows failing one check: SELECT key, detail ... (ORDER BY key). */
static int
s_check_sql (const s_check_t *k, vd_buf_t *sql)
{
    const vd_table_t *t = vd_schema_table (k->table);
    return vd_buf_printf (sql, "SELECT c.%s, %s FROM canonical.%s c WHERE %s", t->key, k->detail,
                          t->name, k->where);
}

static int64_t
s_int (const PGresult *res, int row, int col)
{
    int64_t n = 0;
    if (!PQgetisnull (res, row, col))
        vd_parse_int (PQgetvalue (res, row, col), INT64_MIN, INT64_MAX, &n);
    return n;
}

/*  One SQL statement; its result or NULL with err. */
/*  Runs a report statement; one that names $1 gets the regular expression
    of credit-note document types (vd_schema's one list). */
static PGresult *
s_query (PGconn *conn, vd_buf_t *sql, vd_error_t *err)
{
    if (!strstr (vd_buf_str (sql), "$1"))
        return vd_db_exec (conn, vd_buf_str (sql), 0, NULL, err);
    char *regex = vd_schema_credit_note_regex ();
    if (!regex) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    const char *params[] = {regex};
    PGresult *res = vd_db_exec (conn, vd_buf_str (sql), 1, params, err);
    free (regex);
    return res;
}

/*  "completeness": [{column, filled, percent}], sets *mean (percent). */
static json_t *
s_completeness (PGconn *conn, const vd_table_t *t, int64_t *rows, double *mean, vd_error_t *err)
{
    vd_buf_t sql;
    vd_buf_init (&sql, SQL_MAX);
    PGresult *res = s_completeness_sql (t, &sql) == 0 ? s_query (conn, &sql, err) : NULL;
    vd_buf_free (&sql);
    if (!res)
        return NULL;
    *rows = s_int (res, 0, 0);
    json_t *list = json_array ();
    double sum = 0;
    int n = 0;
    for (size_t i = 0, col = 1; i < t->ncolumns; i++) {
        if (s_bookkeeping (&t->columns[i]))
            continue;
        int64_t filled = s_int (res, 0, (int)col++);
        double pct = *rows ? 100.0 * (double)filled / (double)*rows : 0;
        sum += pct;
        n++;
        json_array_append_new (list,
                               json_pack ("{s:s, s:I, s:f}", "column", t->columns[i].name, "filled",
                                          (json_int_t)filled, "percent", round (pct * 10) / 10));
    }
    PQclear (res);
    *mean = n ? sum / n : 100;
    return list;
}

/*  One check: {check, kind, label, count, sample: [{key, detail}]}. */
static json_t *
s_check (PGconn *conn, const s_check_t *k, vd_error_t *err)
{
    vd_buf_t sql;
    vd_buf_init (&sql, SQL_MAX);
    vd_buf_addstr (&sql, "SELECT count(*) OVER (), s.* FROM (");
    s_check_sql (k, &sql);
    vd_buf_printf (&sql, ") s ORDER BY 2 LIMIT %d", ORCH_QUALITY_SAMPLE);
    PGresult *res = s_query (conn, &sql, err);
    vd_buf_free (&sql);
    if (!res)
        return NULL;
    json_t *sample = json_array ();
    for (int i = 0; i < PQntuples (res); i++)
        json_array_append_new (
            sample,
            json_pack ("{s:s, s:o}", "key", PQgetvalue (res, i, 1), "detail",
                       orch_json_text (PQgetisnull (res, i, 2) ? NULL : PQgetvalue (res, i, 2))));
    int64_t count = PQntuples (res) ? s_int (res, 0, 0) : 0;
    PQclear (res);
    return json_pack ("{s:s, s:s, s:s, s:I, s:o}", "check", k->name, "kind", k->kind, "label",
                      k->label, "count", (json_int_t)count, "sample", sample);
}

/*  Rows of table id that fail at least one check. */
static int
s_anomalous_rows (PGconn *conn, int id, int64_t *out, vd_error_t *err)
{
    vd_buf_t sql;
    vd_buf_init (&sql, SQL_MAX);
    vd_buf_addstr (&sql, "SELECT count(DISTINCT k) FROM (SELECT NULL::text AS k, NULL::text AS d");
    for (size_t i = 0; i < NCHECKS; i++)
        if (s_checks[i].table == id) {
            vd_buf_addstr (&sql, " UNION ALL ");
            s_check_sql (&s_checks[i], &sql);
        }
    vd_buf_addstr (&sql, ") s");
    PGresult *res = s_query (conn, &sql, err);
    vd_buf_free (&sql);
    if (!res)
        return -1;
    *out = s_int (res, 0, 0);
    PQclear (res);
    return 0;
}

/*  The checks of table id: fills *checks and the kind totals of o. */
static int
s_checks_of (PGconn *conn, int id, json_t *o, vd_error_t *err)
{
    json_t *checks = json_array ();
    json_int_t totals[3] = {0, 0, 0};
    static const char *kinds[] = {"invalid", "duplicate", "orphan"};
    json_object_set_new (o, "checks", checks);
    for (size_t i = 0; i < NCHECKS; i++) {
        if (s_checks[i].table != id)
            continue;
        json_t *c = s_check (conn, &s_checks[i], err);
        if (!c)
            return -1;
        for (int j = 0; j < 3; j++)
            if (strcmp (kinds[j], s_checks[i].kind) == 0)
                totals[j] += json_integer_value (json_object_get (c, "count"));
        json_array_append_new (checks, c);
    }
    for (int j = 0; j < 3; j++)
        json_object_set_new (o, kinds[j], json_integer (totals[j]));
    return 0;
}

static json_t *
s_table (PGconn *conn, int id, vd_error_t *err)
{
    const vd_table_t *t = vd_schema_table (id);
    int64_t rows = 0, bad = 0;
    double mean = 0;
    json_t *completeness = s_completeness (conn, t, &rows, &mean, err);
    if (!completeness)
        return NULL;
    json_t *o =
        json_pack ("{s:s, s:I, s:o, s:f}", "table", t->name, "rows", (json_int_t)rows,
                   "completeness", completeness, "completeness_mean", round (mean * 10) / 10);
    if (s_checks_of (conn, id, o, err) < 0 || s_anomalous_rows (conn, id, &bad, err) < 0) {
        json_decref (o);
        return NULL;
    }
    json_object_set_new (o, "anomalous_rows", json_integer (bad));
    double score = 100 * (0.5 * mean / 100 + 0.5 * (1 - (double)bad / (double)(rows ? rows : 1)));
    json_object_set_new (o, "score", rows ? json_real (round (score * 10) / 10) : json_null ());
    return o;
}

/*  A run as the report shows it: its counts summed over the tables. The
    lateral join is over the runs of alias s. */
#define RUN_SUMS                                                                                   \
    "LEFT JOIN LATERAL (SELECT coalesce(sum(t.extracted), 0) AS records, "                         \
    "coalesce(sum(t.rejected), 0) AS rejected FROM ops.run_tables t WHERE t.run_id = s.id) n "     \
    "ON true"
#define RUN_FIELDS                                                                                 \
    "'id', s.id, 'status', s.status, 'started_at', " ORCH_SQL_ISO (                                \
        "s.started_at") ", 'started_local', to_char(s.started_at AT TIME ZONE $1::text, "          \
                        "'YYYY-MM-DD HH24:MI'), "                                                  \
                        "'records', n.records, 'rejected', n.rejected"

/*  The date, the connectors with their last run and the finished runs of
    the last ORCH_QUALITY_DAYS days, as one JSON object; $1 the time zone
    of the local times. */
/* clang-format off */
static const char s_context_sql[] =
    "SELECT json_build_object("
    "'generated_at', " ORCH_SQL_ISO ("now()") ", "
    "'generated_local', to_char(now() AT TIME ZONE $1::text, 'YYYY-MM-DD HH24:MI'), "
    "'timezone', $1::text, 'runs_days', $2::int, "
    "'sources', coalesce((SELECT json_agg(json_build_object('name', c.name, 'type', c.type, "
    "  'schedule', c.schedule, 'last_run', CASE WHEN s.id IS NULL THEN NULL ELSE "
    "  json_build_object(" RUN_FIELDS ", 'finished_at', " ORCH_SQL_ISO ("s.finished_at") ", "
    "  'duration_s', round(extract(epoch FROM s.finished_at - s.started_at)::numeric, 3)) END) "
    "  ORDER BY c.name) FROM ops.connectors c "
    "  LEFT JOIN LATERAL (SELECT id, status, started_at, finished_at FROM ops.sync_runs "
    "  WHERE connector = c.name ORDER BY id DESC LIMIT 1) s ON true " RUN_SUMS "), '[]'), "
    "'runs', coalesce((SELECT json_agg(json_build_object('connector', s.connector, " RUN_FIELDS
    ") ORDER BY s.id) FROM (SELECT id, connector, status, started_at FROM ops.sync_runs "
    "  WHERE started_at > now() - make_interval(days => $2::int) "
    "  AND status IN ('success', 'partial', 'failed') ORDER BY id DESC LIMIT $3::int) s "
    RUN_SUMS "), '[]'))::text";
/* clang-format on */

/*  Adds generated_at, generated_local, timezone, runs_days, sources and
    runs to report. Returns 0, -1 with err. */
static int
s_context (PGconn *conn, const char *timezone, json_t *report, vd_error_t *err)
{
    char days[16], max[16];
    snprintf (days, sizeof days, "%d", ORCH_QUALITY_DAYS);
    snprintf (max, sizeof max, "%d", ORCH_QUALITY_RUNS_MAX);
    const char *params[] = {timezone && *timezone ? timezone : "UTC", days, max};
    PGresult *res = vd_db_exec (conn, s_context_sql, 3, params, err);
    if (!res)
        return -1;
    json_t *j = PQntuples (res) == 1 ? json_loads (PQgetvalue (res, 0, 0), 0, NULL) : NULL;
    PQclear (res);
    if (!j || json_object_update (report, j) < 0) {
        json_decref (j);
        vd_error_set (err, VD_ERR_PERMANENT, "unreadable sources of the quality report");
        return -1;
    }
    json_decref (j);
    return 0;
}

json_t *
orch_quality_json (PGconn *conn, const char *timezone, vd_error_t *err)
{
    json_t *tables = json_array ();
    for (int id = 0; id < VD_TABLE_COUNT; id++) {
        json_t *t = s_table (conn, id, err);
        if (!t) {
            json_decref (tables);
            return NULL;
        }
        json_array_append_new (tables, t);
    }
    json_t *report = json_pack (
        "{s:s, s:o}", "score_formula",
        "100 x (0.5 x mean completeness + 0.5 x (1 - anomalous rows / rows))", "tables", tables);
    if (!report)
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    if (report && s_context (conn, timezone, report, err) < 0) {
        json_decref (report);
        return NULL;
    }
    return report;
}

void
orch_quality_get (PGconn *conn, const char *timezone, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    json_t *j = orch_quality_json (conn, timezone, &err);
    if (j)
        orch_answer_json (a, 200, j);
    else
        orch_answer_fail (a, &err);
}

int
orch_csv_field (vd_buf_t *b, const char *s, bool last)
{
    int rc = 0;
    if (s && strpbrk (s, ",\"\r\n")) {
        rc |= vd_buf_addc (b, '"');
        for (const char *p = s; *p && rc == 0; p++)
            rc |= *p == '"' ? vd_buf_addstr (b, "\"\"") : vd_buf_addc (b, *p);
        rc |= vd_buf_addc (b, '"');
    } else if (s)
        rc |= vd_buf_addstr (b, s);
    return rc | vd_buf_addstr (b, last ? "\r\n" : ",");
}

static int
s_csv_check (PGconn *conn, const s_check_t *k, vd_buf_t *out, vd_error_t *err)
{
    vd_buf_t sql;
    vd_buf_init (&sql, SQL_MAX);
    s_check_sql (k, &sql);
    vd_buf_printf (&sql, " ORDER BY 1 LIMIT %d", ORCH_QUALITY_CSV_MAX);
    PGresult *res = s_query (conn, &sql, err);
    vd_buf_free (&sql);
    if (!res)
        return -1;
    int rc = 0;
    const char *table = vd_schema_table (k->table)->name;
    for (int i = 0; i < PQntuples (res) && rc == 0; i++) {
        rc |= orch_csv_field (out, table, false) | orch_csv_field (out, k->name, false) |
              orch_csv_field (out, k->kind, false) |
              orch_csv_field (out, PQgetvalue (res, i, 0), false) |
              orch_csv_field (out, PQgetisnull (res, i, 1) ? "" : PQgetvalue (res, i, 1), true);
    }
    PQclear (res);
    if (rc)
        vd_error_set (err, VD_ERR_PERMANENT, "anomalies CSV larger than %d MiB",
                      CSV_MAX / (1024 * 1024));
    return rc ? -1 : 0;
}

void
orch_quality_csv (PGconn *conn, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    vd_buf_t out;
    vd_buf_init (&out, CSV_MAX);
    int rc = vd_buf_addstr (&out, "table,check,kind,key,detail\r\n");
    for (size_t i = 0; i < NCHECKS && rc == 0; i++)
        rc = s_csv_check (conn, &s_checks[i], &out, &err);
    if (rc < 0) {
        vd_buf_free (&out);
        orch_answer_fail (a, &err);
        return;
    }
    a->status = 200;
    a->html = vd_buf_take (&out);
    a->content_type = "text/csv; charset=utf-8";
    if (!a->html)
        orch_answer_error (a, 500, "out of memory", NULL, NULL);
}

int
orch_quality_test (bool verbose)
{
    int failed = 0;
    vd_buf_t b;
    vd_buf_init (&b, SQL_MAX);
    failed += s_completeness_sql (vd_schema_table (VD_TABLE_CUSTOMERS), &b) < 0;
    failed += strstr (vd_buf_str (&b), "count(NULLIF(email, ''))") == NULL;
    failed += strstr (vd_buf_str (&b), "count(email_opt_out)") == NULL;
    failed += strstr (vd_buf_str (&b), "source_id") != NULL;
    failed += strstr (vd_buf_str (&b), "FROM canonical.customers") == NULL;
    vd_buf_reset (&b);
    failed += s_completeness_sql (vd_schema_table (VD_TABLE_PRODUCTS), &b) < 0;
    failed += strstr (vd_buf_str (&b), "count(NULLIF(cardinality(grapes), 0))") == NULL;
    vd_buf_reset (&b);
    for (size_t i = 0; i < NCHECKS; i++) {
        failed += vd_schema_table (s_checks[i].table) == NULL;
        failed += s_check_sql (&s_checks[i], &b) < 0;
        vd_buf_reset (&b);
    }
    failed += orch_csv_field (&b, "a,b", false) < 0 ||
              orch_csv_field (&b, "say \"hi\"", false) < 0 ||
              orch_csv_field (&b, "plain", true) < 0;
    failed += strcmp (vd_buf_str (&b), "\"a,b\",\"say \"\"hi\"\"\",plain\r\n") != 0;
    vd_buf_free (&b);
    if (verbose)
        printf ("orch_quality_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}

/*  load_cmd - the commands other services give the loader. */
#include "load_cmd.h"
#include "vd_schema.h"
#include <jansson.h>

/*  ---- forget ----------------------------------------------------------- */

typedef enum { P_NONE, P_SUBJECT, P_ANON } s_param_t;

/*  The steps of a forget, in order, inside one transaction; $1 is the
    subject or the anonymous key as the step says. Those with a name
    count rows for the answer and the log. */
static const struct {
    const char *count; /* answer member, or NULL */
    s_param_t param;
    const char *sql;
} s_forget_steps[] = {
    {NULL, P_NONE, "SELECT pg_advisory_xact_lock(" VD_DB_FORGET_LOCK ")"},
    {NULL, P_SUBJECT,
     "CREATE TEMP TABLE forget_people ON COMMIT DROP AS SELECT c.customer_key, c.email, "
     "c.phone, c.mobile, c.source_id FROM canonical.customers c WHERE c.customer_key = $1 "
     "OR c.email = lower(btrim($1)) OR c.person_key IN (SELECT person_key FROM "
     "canonical.customers WHERE (customer_key = $1 OR email = lower(btrim($1))) AND "
     "person_key IS NOT NULL) OR c.email IN (SELECT email FROM canonical.customers WHERE "
     "customer_key = $1 AND email IS NOT NULL)"},
    {NULL, P_SUBJECT,
     "CREATE TEMP TABLE forget_ids ON COMMIT DROP AS SELECT DISTINCT lower(v) AS v FROM "
     "(SELECT email AS v FROM forget_people UNION ALL SELECT phone FROM forget_people "
     "UNION ALL SELECT mobile FROM forget_people UNION ALL SELECT source_id FROM "
     "forget_people UNION ALL SELECT customer_key FROM forget_people UNION ALL SELECT "
     "btrim($1)) x WHERE length(v) >= 3"},
    {"sales_lines", P_ANON,
     "UPDATE canonical.sales_lines SET customer_key = $1, content_hash = NULL, synced_at = now() "
     "WHERE customer_key IN (SELECT customer_key FROM forget_people)"},
    {"contacts", P_ANON,
     "UPDATE canonical.contact_history SET customer_key = CASE WHEN customer_key "
     "IS NOT NULL THEN $1 END, email = NULL, payload = NULL, response_details = "
     "NULL, content_hash = NULL, synced_at = now() WHERE customer_key IN (SELECT customer_key FROM "
     "forget_people) OR lower(email) IN (SELECT v FROM forget_ids)"},
    {"recommendations", P_NONE,
     "DELETE FROM reco.recommendations WHERE customer_key IN (SELECT customer_key FROM "
     "forget_people)"},
    {NULL, P_NONE,
     "DELETE FROM reco.issued WHERE customer_key IN (SELECT customer_key FROM forget_people)"},
    {NULL, P_NONE,
     "DELETE FROM reco.feedback WHERE customer_key IN (SELECT customer_key FROM forget_people)"},
    {NULL, P_NONE,
     "DELETE FROM reco.exports WHERE customer_key IN (SELECT customer_key FROM forget_people)"},
    {NULL, P_NONE,
     "DELETE FROM reco.runs WHERE scope = 'customer' AND status <> 'running' AND customer_key "
     "IN (SELECT customer_key FROM forget_people)"},
    {"customers", P_NONE,
     "DELETE FROM canonical.customers WHERE customer_key IN (SELECT customer_key "
     "FROM forget_people)"},
    {NULL, P_NONE,
     "DELETE FROM ops.key_map WHERE table_name = 'customers' AND key IN (SELECT "
     "customer_key FROM forget_people)"},
    {NULL, P_NONE,
     "DELETE FROM ops.dirty_customers WHERE customer_key IN (SELECT customer_key FROM "
     "forget_people)"},
    /* raw text holding an identifier, as written or without separators */
    {"rejects", P_NONE,
     "UPDATE ops.rejects r SET raw = NULL WHERE raw IS NOT NULL AND EXISTS (SELECT 1 "
     "FROM forget_ids i WHERE position(i.v IN lower(r.raw)) > 0 OR position(i.v IN "
     "regexp_replace(lower(r.raw), '[ .()-]', '', 'g')) > 0)"},
    {NULL, P_NONE,
     "INSERT INTO ops.forgotten_emails SELECT sha256(convert_to(v, 'UTF8')), now() + interval "
     "'30 days' FROM forget_ids WHERE v LIKE '%_@_%' ON CONFLICT (email_sha256) DO UPDATE SET "
     "expires_at = excluded.expires_at"},
    /* a warning summary keeps raw values for its examples only: each one
       naming the person is erased, the others kept (counted: summaries) */
    {"warnings", P_NONE,
     "WITH e AS (SELECT w.id, x.n, x.v, EXISTS (SELECT 1 FROM forget_ids i WHERE "
     "position(i.v IN lower(x.v)) > 0 OR position(i.v IN regexp_replace(lower(x.v), "
     "'[ .()-]', '', 'g')) > 0) AS named FROM ops.warning_summaries w CROSS JOIN LATERAL "
     "unnest(w.example_values) WITH ORDINALITY AS x(v, n)), "
     "named AS (SELECT id, array_agg(CASE WHEN named THEN NULL ELSE v END ORDER BY n) AS vals "
     "FROM e GROUP BY id HAVING bool_or(named)) "
     "UPDATE ops.warning_summaries w SET example_values = named.vals FROM named "
     "WHERE named.id = w.id"},
};

#define NSTEPS (sizeof s_forget_steps / sizeof s_forget_steps[0])

/*  Runs the steps for subject; fills counts (one per step). Returns the
    log id, -1 with err (the caller rolls back). */
static int64_t
s_forget (PGconn *conn, const char *subject, int64_t *counts, char *anon, size_t size,
          vd_error_t *err)
{
    PGresult *res =
        vd_db_exec (conn, "INSERT INTO ops.forget_log DEFAULT VALUES RETURNING id", 0, NULL, err);
    if (!res)
        return -1;
    int64_t id = 0;
    vd_parse_int (PQgetvalue (res, 0, 0), 1, INT64_MAX, &id);
    PQclear (res);
    snprintf (anon, size, "forgotten-%" PRId64, id);
    for (size_t i = 0; i < NSTEPS; i++) {
        s_param_t p = s_forget_steps[i].param;
        const char *params[] = {p == P_SUBJECT ? subject : anon};
        res = vd_db_exec (conn, s_forget_steps[i].sql, p == P_NONE ? 0 : 1, params, err);
        if (!res)
            return -1;
        counts[i] = 0;
        vd_parse_int (PQcmdTuples (res), 0, INT64_MAX, &counts[i]);
        PQclear (res);
    }
    return id;
}

static int
s_cmd_forget (PGconn *conn, const load_customers_rules_t *agg, json_t *args, json_t *result,
              vd_error_t *err)
{
    (void)agg;
    const char *subject = json_string_value (json_object_get (args, "subject"));
    if (!subject || strlen (subject) < 3 || strlen (subject) > 320)
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "forget: \"subject\" must be an email or a customer key");
    int64_t counts[NSTEPS];
    char anon[48] = "";
    int64_t id = s_forget (conn, subject, counts, anon, sizeof anon, err);
    if (id < 0)
        return -1;
    json_object_set_new (result, "forget_id", json_integer (id));
    json_object_set_new (result, "anonymous_key", json_string (anon));
    for (size_t i = 0; i < NSTEPS; i++)
        if (s_forget_steps[i].count)
            json_object_set_new (result, s_forget_steps[i].count, json_integer (counts[i]));
    static const char *logged[] = {"customers", "sales_lines", "contacts", "rejects", "warnings"};
    char text[6][24];
    const char *params[6];
    snprintf (text[0], sizeof text[0], "%" PRId64, id);
    for (size_t i = 0; i < 5; i++)
        snprintf (text[i + 1], sizeof text[i + 1], "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (result, logged[i])));
    for (size_t i = 0; i < 6; i++)
        params[i] = text[i];
    if (vd_db_command (conn,
                       "UPDATE ops.forget_log SET customers = $2, sales_lines = $3, contacts = "
                       "$4, rejects = $5, warnings = $6 WHERE id = $1::bigint",
                       6, params, err) < 0)
        return -1;
    vd_info ("forget %" PRId64 ": %" JSON_INTEGER_FORMAT " customer row(s) erased, sales "
             "kept under %s",
             id, json_integer_value (json_object_get (result, "customers")), anon);
    return 0;
}

/*  ---- remove_connector ------------------------------------------------- */

/*  Deletes the rows connector name wrote in every canonical table, then
    brings the aggregates of the customers whose sales went up to date.
    Fills purged with the counts. */
static int
s_purge (PGconn *conn, const load_customers_rules_t *agg, const char *name, json_t *purged,
         vd_error_t *err)
{
    const char *params[] = {name};
    if (vd_db_command (conn,
                       "INSERT INTO ops.dirty_customers SELECT DISTINCT customer_key FROM "
                       "canonical.sales_lines WHERE connector = $1 AND customer_key IS NOT NULL "
                       "ON CONFLICT DO NOTHING",
                       1, params, err) < 0)
        return -1;
    for (int t = 0; t < VD_TABLE_COUNT; t++) {
        const vd_table_t *table = vd_schema_table (t);
        char sql[160];
        snprintf (sql, sizeof sql, "DELETE FROM canonical.%s WHERE connector = $1", table->name);
        PGresult *res = vd_db_exec (conn, sql, 1, params, err);
        if (!res)
            return -1;
        int64_t n = 0;
        vd_parse_int (PQcmdTuples (res), 0, INT64_MAX, &n);
        PQclear (res);
        json_object_set_new (purged, table->name, json_integer (n));
    }
    return load_customers_update (conn, agg, true, false, err);
}

static int
s_cmd_remove_connector (PGconn *conn, const load_customers_rules_t *agg, json_t *args,
                        json_t *result, vd_error_t *err)
{
    const char *name = json_string_value (json_object_get (args, "name"));
    if (!name)
        return vd_error_set (err, VD_ERR_PERMANENT, "remove_connector: no \"name\"");
    const char *params[] = {name};
    PGresult *res = vd_db_exec (conn, VD_SQL_REMOVE_CONNECTOR, 1, params, err);
    if (!res)
        return -1;
    bool removed = PQntuples (res) == 1;
    PQclear (res);
    json_object_set_new (result, "removed", json_boolean (removed));
    if (!removed || !json_is_true (json_object_get (args, "purge")))
        return 0;
    json_t *purged = json_object ();
    json_object_set_new (result, "purged", purged);
    if (s_purge (conn, agg, name, purged, err) < 0)
        return -1;
    vd_info ("connector %s removed, the rows it loaded deleted", name);
    return 0;
}

/*  The rows a statement changed, as the result's "rows"; clears res. */
static int
s_rows (PGresult *res, json_t *result)
{
    int64_t n = 0;
    vd_parse_int (PQcmdTuples (res), 0, INT64_MAX, &n);
    PQclear (res);
    json_object_set_new (result, "rows", json_integer (n));
    return 0;
}

/*  ---- reco_verdict ----------------------------------------------------- */

/*  A staff verdict on a recommendation, as a contact event of the
    customer: contact_key 'vendange:CUSTOMER:PRODUCT:VERDICT' (one per
    pair and verdict; a new verdict of the same kind updates it). $1
    customer, $2 product, $3 verdict, $4 reason, $5 when. */
static const char s_verdict_sql[] =
    "INSERT INTO canonical.contact_history (contact_key, source, source_id, customer_key, "
    "email, date_contact, channel, campaign, subject, status, product_key_suggested, "
    "response, response_details, synced_at) SELECT k, 'vendange', k, $1, (SELECT c.email "
    "FROM canonical.customers c WHERE c.customer_key = $1), $5::timestamptz, 'direct', "
    "'vendange-reco', 'recommendation', 'recommended', $2, $3, $4, now() FROM (SELECT "
    "'vendange:' || $1 || ':' || $2 || ':' || $3 AS k) x ON CONFLICT (contact_key) DO UPDATE "
    "SET email = excluded.email, date_contact = excluded.date_contact, response_details = "
    "excluded.response_details, synced_at = now()";

static int
s_cmd_reco_verdict (PGconn *conn, const load_customers_rules_t *agg, json_t *args, json_t *result,
                    vd_error_t *err)
{
    (void)agg;
    static const char *names[] = {"customer", "product", "verdict", "reason", "at"};
    const char *params[5];
    for (size_t i = 0; i < 5; i++)
        params[i] = json_string_value (json_object_get (args, names[i]));
    if (!params[0] || !params[1] || !params[2] || !params[4])
        return vd_error_set (err, VD_ERR_PERMANENT,
                             "reco_verdict: customer, product, verdict and at are required");
    PGresult *res = vd_db_exec (conn, s_verdict_sql, 5, params, err);
    if (!res)
        return -1;
    return s_rows (res, result);
}

/*  ---- reco_followed ---------------------------------------------------- */

/*  What followed recommendations (the recommender's job found them), as
    contact events: one row per pair and response, so a re-run does not
    duplicate it. $1: {"pairs": [{customer, product, followed, at,
    detail}]}. */
static const char s_followed_sql[] =
    "INSERT INTO canonical.contact_history (contact_key, source, source_id, customer_key,"
    " email, date_contact, channel, campaign, subject, status, product_key_suggested,"
    " response, response_details)"
    " SELECT k, 'vendange', k, p.customer, c.email, p.at,"
    "  CASE p.followed WHEN 'click' THEN 'email' ELSE 'direct' END, 'vendange-reco',"
    "  'recommendation', 'recommended', p.product, p.followed, p.detail"
    " FROM jsonb_to_recordset($1::jsonb -> 'pairs') AS p(customer text, product text,"
    "  followed text, at timestamptz, detail text)"
    " LEFT JOIN canonical.customers c ON c.customer_key = p.customer,"
    "  LATERAL (SELECT 'vendange:' || p.customer || ':' || p.product || ':' || p.followed AS k) x"
    " WHERE p.customer IS NOT NULL AND p.product IS NOT NULL AND p.followed IS NOT NULL"
    "  AND p.at IS NOT NULL"
    " ON CONFLICT (contact_key) DO UPDATE SET date_contact = EXCLUDED.date_contact,"
    "  response_details = EXCLUDED.response_details, synced_at = now()";

static int
s_cmd_reco_followed (PGconn *conn, const load_customers_rules_t *agg, json_t *args, json_t *result,
                     vd_error_t *err)
{
    (void)agg;
    if (!json_is_array (json_object_get (args, "pairs")))
        return vd_error_set (err, VD_ERR_PERMANENT, "reco_followed: \"pairs\" must be an array");
    char *text = json_dumps (args, JSON_COMPACT);
    const char *params[] = {text};
    PGresult *res = text ? vd_db_exec (conn, s_followed_sql, 1, params, err) : NULL;
    free (text);
    if (!res)
        return err->msg[0] ? -1 : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    return s_rows (res, result);
}

/*  ---- retain_payloads -------------------------------------------------- */

static int
s_cmd_retain_payloads (PGconn *conn, const load_customers_rules_t *agg, json_t *args,
                       json_t *result, vd_error_t *err)
{
    (void)agg;
    json_int_t days = json_integer_value (json_object_get (args, "days"));
    if (days <= 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "retain_payloads: \"days\" must be > 0");
    char text[24];
    snprintf (text, sizeof text, "%" JSON_INTEGER_FORMAT, days);
    const char *params[] = {text};
    PGresult *res = vd_db_exec (conn,
                                /* the payload is outside the content hash (VD_COL_NOCOMPARE):
                                   the line hashes stay */
                                "UPDATE canonical.contact_history SET payload = NULL"
                                " WHERE payload IS NOT NULL"
                                " AND date_contact < now() - make_interval(days => $1::int)",
                                1, params, err);
    if (!res)
        return -1;
    s_rows (res, result);
    json_int_t n = json_integer_value (json_object_get (result, "rows"));
    if (n > 0)
        vd_info ("retention: %" JSON_INTEGER_FORMAT " contact event payload(s) erased", n);
    return 0;
}

/*  ---- drop_productless_odoo_lines ------------------------------------- */

/*  Odoo section and note lines (no product) are not sales lines: the
    normalizer leaves them out since schema step 13, and this removes
    those an older version loaded (queued by a migration step when the
    table holds any), then brings their customers' aggregates up to date. */
static int
s_cmd_drop_productless_odoo_lines (PGconn *conn, const load_customers_rules_t *agg, json_t *args,
                                   json_t *result, vd_error_t *err)
{
    (void)args;
    PGresult *res =
        vd_db_exec (conn,
                    "WITH d AS (DELETE FROM canonical.sales_lines"
                    " WHERE source = 'odoo' AND product_key IS NULL"
                    " RETURNING customer_key),"
                    " m AS (INSERT INTO ops.dirty_customers (customer_key)"
                    " SELECT DISTINCT customer_key FROM d WHERE customer_key IS NOT NULL"
                    " ON CONFLICT DO NOTHING)"
                    " SELECT count(*) FROM d",
                    0, NULL, err);
    if (!res)
        return -1;
    int64_t n = 0;
    vd_parse_int (PQgetvalue (res, 0, 0), 0, INT64_MAX, &n);
    PQclear (res);
    json_object_set_new (result, "lines", json_integer (n));
    if (n > 0)
        vd_info ("%" PRId64 " Odoo line(s) without a product removed from the sales", n);
    return load_customers_update (conn, agg, true, false, err);
}

/*  ---- the queue -------------------------------------------------------- */

typedef int (s_cmd_fn) (PGconn *conn, const load_customers_rules_t *agg, json_t *args,
                        json_t *result, vd_error_t *err);

static const struct {
    const char *kind;
    s_cmd_fn *fn;
} s_kinds[] = {
    {"forget", s_cmd_forget},
    {"remove_connector", s_cmd_remove_connector},
    {"retain_payloads", s_cmd_retain_payloads},
    {"reco_verdict", s_cmd_reco_verdict},
    {"reco_followed", s_cmd_reco_followed},
    {"drop_productless_odoo_lines", s_cmd_drop_productless_odoo_lines},
};

static s_cmd_fn *
s_kind (const char *kind)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (strcmp (s_kinds[i].kind, kind) == 0)
            return s_kinds[i].fn;
    return NULL;
}

/*  Runs the oldest queued command: 1 ran (done or failed), 0 none
    queued, -1 with err (the database failed: it stays queued). */
static int
s_serve_one (PGconn *conn, const load_customers_rules_t *agg, vd_error_t *err)
{
    if (vd_db_command (conn, "BEGIN", 0, NULL, err) < 0)
        return -1;
    PGresult *res = vd_db_exec (conn,
                                "SELECT id, kind, args::text FROM ops.loader_commands"
                                " WHERE status = 'queued' ORDER BY id LIMIT 1"
                                " FOR UPDATE SKIP LOCKED",
                                0, NULL, err);
    if (!res || PQntuples (res) == 0) {
        int rc = res ? 0 : -1;
        PQclear (res);
        PQclear (PQexec (conn, rc == 0 ? "COMMIT" : "ROLLBACK"));
        return rc;
    }
    char id[24], kind[64];
    snprintf (id, sizeof id, "%s", PQgetvalue (res, 0, 0));
    snprintf (kind, sizeof kind, "%s", PQgetvalue (res, 0, 1));
    json_t *args = json_loads (PQgetvalue (res, 0, 2), 0, NULL);
    PQclear (res);
    json_t *result = json_object ();
    vd_error_t why;
    vd_error_clear (&why);
    s_cmd_fn *fn = s_kind (kind);
    int rc = !fn ? vd_error_set (&why, VD_ERR_PERMANENT, "unknown command \"%s\"", kind)
             : !json_is_object (args) || !result
                 ? vd_error_set (&why, VD_ERR_PERMANENT, "command %s: malformed arguments", id)
                 : fn (conn, agg, args, result, &why);
    char *text = rc == 0 ? json_dumps (result, JSON_COMPACT) : NULL;
    json_decref (args);
    json_decref (result);
    const char *done[] = {id, text};
    if (rc == 0 && (!text || vd_db_command (conn,
                                            "UPDATE ops.loader_commands SET status = 'done',"
                                            " result = $2::jsonb, args = '{}', done_at = now()"
                                            " WHERE id = $1::bigint",
                                            2, done, &why) < 0))
        rc = text ? -1 : vd_error_set (&why, VD_ERR_PERMANENT, "out of memory");
    free (text);
    if (rc == 0 && vd_db_command (conn, "COMMIT", 0, NULL, &why) == 0)
        return 1;
    PQclear (PQexec (conn, "ROLLBACK"));
    if (why.kind == VD_ERR_TRANSIENT || PQstatus (conn) != CONNECTION_OK) {
        *err = why;
        return -1;
    }
    /* refused (bad arguments, a statement the server refuses): failed,
       with the reason, so that the next command runs */
    vd_warn ("command %s (%s) failed: %s", id, kind, why.msg);
    const char *failed[] = {id, why.msg};
    return vd_db_command (conn,
                          "UPDATE ops.loader_commands SET status = 'failed', error = $2,"
                          " args = '{}', done_at = now() WHERE id = $1::bigint",
                          2, failed, err) < 0
               ? -1
               : 1;
}

int
load_cmd_serve (PGconn *conn, const load_customers_rules_t *agg, vd_error_t *err)
{
    int n = 0, rc;
    while ((rc = s_serve_one (conn, agg, err)) == 1)
        n++;
    return rc < 0 ? -1 : n;
}

int
load_cmd_test (bool verbose)
{
    int failures = 0;
    /* every kind has its function; an unknown one has none */
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        VD_CHECK_WHY (&failures, s_kind (s_kinds[i].kind) == s_kinds[i].fn, s_kinds[i].kind);
    VD_CHECK (&failures, s_kind ("drop_everything") == NULL);
    /* the forget steps: the sales kept under the anonymous key, their
       content hash cleared (the next read compares them again) */
    bool anon = false;
    for (size_t i = 0; i < NSTEPS; i++)
        anon |= s_forget_steps[i].param == P_ANON &&
                strstr (s_forget_steps[i].sql, "canonical.sales_lines SET customer_key = $1,"
                                               " content_hash = NULL") != NULL;
    VD_CHECK (&failures, anon);
    if (verbose)
        printf ("  load_cmd: %zu kinds, %zu forget steps\n", sizeof s_kinds / sizeof s_kinds[0],
                (size_t)NSTEPS);
    return failures ? -1 : 0;
}

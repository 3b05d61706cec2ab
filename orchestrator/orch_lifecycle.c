/*  orch_lifecycle - forget a person; retention of raw content and history. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_lifecycle.h"

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

void
orch_lifecycle_forget (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    if (!body)
        return;
    const char *subject = orch_json_str (body, "subject");
    if (!subject || strlen (subject) < 3 || strlen (subject) > 320) {
        orch_answer_error (a, 400, "\"subject\" must be an email or a customer key", NULL,
                           "vendange forget jean.muller@example.fr, or isavigne-C0001");
        json_decref (body);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    int64_t counts[NSTEPS];
    char anon[48] = "";
    int64_t id = vd_db_command (conn, "BEGIN", 0, NULL, &err) == 0
                     ? s_forget (conn, subject, counts, anon, sizeof anon, &err)
                     : -1;
    json_t *answer = json_pack ("{s:I, s:s}", "forget_id", (json_int_t)id, "anonymous_key", anon);
    for (size_t i = 0; id > 0 && answer && i < NSTEPS; i++)
        if (s_forget_steps[i].count)
            json_object_set_new (answer, s_forget_steps[i].count, json_integer (counts[i]));
    static const char *logged[] = {"customers", "sales_lines", "contacts", "rejects", "warnings"};
    char text[6][24];
    const char *params[6];
    snprintf (text[0], sizeof text[0], "%" PRId64, id);
    for (size_t i = 0; i < 5; i++)
        snprintf (text[i + 1], sizeof text[i + 1], "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (answer, logged[i])));
    for (size_t i = 0; i < 6; i++)
        params[i] = text[i];
    if (id > 0 &&
        vd_db_command (conn,
                       "UPDATE ops.forget_log SET customers = $2, sales_lines = $3, contacts = "
                       "$4, rejects = $5, warnings = $6 WHERE id = $1::bigint",
                       6, params, &err) == 0 &&
        vd_db_command (conn, "COMMIT", 0, NULL, &err) == 0) {
        vd_info ("forget %" PRId64 ": %" JSON_INTEGER_FORMAT " customer row(s) erased, sales "
                 "kept under %s",
                 id, json_integer_value (json_object_get (answer, "customers")), anon);
        orch_answer_json (a, 200, answer);
    } else {
        vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
        json_decref (answer);
        orch_answer_fail (a, &err);
    }
    json_decref (body);
}

int64_t
orch_lifecycle_retain (PGconn *conn, int64_t raw_days, int64_t runs_days, vd_error_t *err)
{
    static const struct {
        bool runs; /* governed by runs_days, else raw_days */
        const char *sql;
    } steps[] = {
        {false, "UPDATE ops.rejects SET raw = NULL WHERE raw IS NOT NULL AND created_at < now() - "
                "make_interval(days => $1::int)"},
        {false, "UPDATE ops.warning_summaries SET example_values = array_fill(NULL::text, "
                "ARRAY[cardinality(example_values)]) WHERE created_at < now() - "
                "make_interval(days => $1::int) AND EXISTS (SELECT 1 FROM "
                "unnest(example_values) v WHERE v IS NOT NULL)"},
        {false, "UPDATE canonical.contact_history SET payload = NULL WHERE payload IS NOT NULL "
                "AND date_contact < now() - make_interval(days => $1::int)"},
        {true, "DELETE FROM ops.sync_runs r WHERE finished_at < now() - make_interval(days => "
               "$1::int) AND id <> (SELECT max(id) FROM ops.sync_runs x WHERE x.connector = "
               "r.connector)"},
        {true, "DELETE FROM ops.connector_tests WHERE requested_at < now() - make_interval(days "
               "=> $1::int)"},
        {true, "DELETE FROM ops.forgotten_emails WHERE expires_at < now() AND $1::int > 0"},
    };
    int64_t total = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int64_t days = steps[i].runs ? runs_days : raw_days;
        if (days <= 0)
            continue;
        char text[24];
        snprintf (text, sizeof text, "%" PRId64, days);
        const char *params[] = {text};
        PGresult *res = vd_db_exec (conn, steps[i].sql, 1, params, err);
        if (!res)
            return -1;
        int64_t n = 0;
        vd_parse_int (PQcmdTuples (res), 0, INT64_MAX, &n);
        PQclear (res);
        total += n;
    }
    return total;
}

/*  orch_lifecycle - forget a person; retention of raw content and history. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_lifecycle.h"
#include "orch_loader.h"

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
    /* the loader erases: the only writer of canonical.* */
    json_t *args = json_pack ("{s:s}", "subject", subject);
    json_t *result = args ? orch_loader_call (conn, "forget", args, a) : NULL;
    json_decref (args);
    if (result) {
        vd_info ("forget %" JSON_INTEGER_FORMAT " done by the loader",
                 json_integer_value (json_object_get (result, "forget_id")));
        orch_answer_json (a, 200, result);
    } else if (!args)
        orch_answer_error (a, 500, "out of memory", NULL, NULL);
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
    /* events' payloads: erased by the loader (canonical.*), not waited for */
    json_t *args = raw_days > 0 ? json_pack ("{s:I}", "days", (json_int_t)raw_days) : NULL;
    int64_t queued = args ? orch_loader_queue (conn, "retain_payloads", args, err) : 0;
    json_decref (args);
    return queued < 0 ? -1 : total;
}

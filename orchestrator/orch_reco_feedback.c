/*  orch_reco_feedback - a staff verdict on a recommendation: POST
    /api/customers/KEY/recommendations/PRODUCT/feedback {"verdict":
    "good"|"bad", "reason": "optional, at most 500 characters"}.

    In one transaction: a reco.feedback row (signals = the distinct signal
    names of the pair's current reasons, else those reco.issued kept), the
    verdict on reco.issued, the command that has the loader write the
    contact_history row of the verdict (contact_key
    'vendange:CUSTOMER:PRODUCT:VERDICT', see the README), and a queued job
    for that customer so the verdict counts at once. 404 when
    the pair is neither recommended nor issued; 201 {"feedback_id",
    "verdict", "signals", "reco_run_id"}.
*/
#include "vendange.h"
#include "vd_db.h"
#include "orch_json.h"
#include "orch_loader.h"
#include "orch_reco.h"

#define REASON_MAX_CHARS 500

/*  The pair's signals as a PostgreSQL array text ("{taste,budget}"), NULL
    when the pair is unknown. $1 customer, $2 product. */
static const char s_signals_sql[] =
    "SELECT coalesce((SELECT array_agg(signal ORDER BY o) FROM (SELECT e->>'signal' AS "
    "signal, min(o) AS o FROM reco.recommendations r, jsonb_array_elements(CASE WHEN "
    "jsonb_typeof(r.reasons) = 'array' THEN r.reasons ELSE '[]' END) WITH ORDINALITY AS t(e, "
    "o) WHERE r.customer_key = $1 AND r.product_key = $2 AND e->>'signal' IS NOT NULL GROUP "
    "BY 1) s), (SELECT i.signals FROM reco.issued i WHERE i.customer_key = $1 AND "
    "i.product_key = $2), CASE WHEN EXISTS (SELECT 1 FROM reco.recommendations r WHERE "
    "r.customer_key = $1 AND r.product_key = $2) THEN '{}'::text[] END)";

/*  $1 customer, $2 product, $3 verdict, $4 reason, $5 signals. */
static const char s_insert_sql[] =
    "INSERT INTO reco.feedback (customer_key, product_key, verdict, reason, signals, source) "
    "VALUES ($1, $2, $3, $4, $5::text[], 'staff') RETURNING id, array_to_json(signals)::text, "
    "created_at::text";
static const char s_issued_sql[] =
    "UPDATE reco.issued SET verdict = $3, verdict_at = now() WHERE customer_key = $1 AND "
    "product_key = $2";
/*  Characters (UTF-8 code points) of s. */
static size_t
s_chars (const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/*  Checks the body; 0 with verdict and reason (NULL when none), -1 with a
    400 answer. */
static int
s_validate (const json_t *body, const char **verdict, const char **reason, orch_answer_t *a)
{
    *verdict = orch_json_str (body, "verdict");
    json_t *r = json_object_get (body, "reason");
    *reason = json_string_value (r);
    if (!*verdict || (strcmp (*verdict, "good") != 0 && strcmp (*verdict, "bad") != 0)) {
        orch_answer_error (a, 400, "\"verdict\" must be \"good\" or \"bad\"", NULL,
                           "{\"verdict\": \"bad\", \"reason\": \"never drinks red\"}");
        return -1;
    }
    if (r && !json_is_null (r) && !json_is_string (r)) {
        orch_answer_error (a, 400, "\"reason\" must be a string", NULL, NULL);
        return -1;
    }
    if (*reason && s_chars (*reason) > REASON_MAX_CHARS) {
        orch_answer_error (a, 400, "\"reason\" is longer than 500 characters", NULL, NULL);
        return -1;
    }
    if (*reason && !**reason)
        *reason = NULL;
    return 0;
}

/*  The transaction's body (BEGIN done). Returns 1 done, 0 unknown pair,
    -1 with err. */
static int
s_record (PGconn *conn, const char *const *params, json_t *answer, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, s_signals_sql, 2, params, err);
    if (!res)
        return -1;
    if (PQgetisnull (res, 0, 0)) {
        PQclear (res);
        return 0;
    }
    const char *p[] = {params[0], params[1], params[2], params[3], PQgetvalue (res, 0, 0)};
    PGresult *ins = vd_db_exec (conn, s_insert_sql, 5, p, err);
    PQclear (res);
    if (!ins)
        return -1;
    int64_t id = 0;
    vd_parse_int (PQgetvalue (ins, 0, 0), 1, INT64_MAX, &id);
    json_object_set_new (answer, "feedback_id", json_integer (id));
    json_object_set_new (answer, "signals", json_loads (PQgetvalue (ins, 0, 1), 0, NULL));
    /* its contact_history row: written by the loader (the only writer of
       canonical.*), queued in this transaction, dated by the verdict */
    json_t *args =
        json_pack ("{s:s, s:s, s:s, s:s?, s:s}", "customer", params[0], "product", params[1],
                   "verdict", params[2], "reason", params[3], "at", PQgetvalue (ins, 0, 2));
    PQclear (ins);
    int64_t run = 0;
    int rc = args && vd_db_command (conn, s_issued_sql, 3, params, err) == 0 &&
                     orch_loader_queue (conn, "reco_verdict", args, err) > 0 &&
                     orch_reco_queue (conn, params[0], "feedback", &run, err) >= 0
                 ? 0
             : args ? -1
                    : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    json_decref (args);
    if (rc < 0)
        return -1;
    json_object_set_new (answer, "reco_run_id", json_integer (run));
    return 1;
}

void
orch_reco_feedback (PGconn *conn, const char *key, const char *product, const orch_request_t *req,
                    orch_answer_t *a)
{
    json_t *body = orch_request_json (req, a);
    const char *verdict, *reason;
    if (!body || s_validate (body, &verdict, &reason, a) < 0) {
        json_decref (body);
        return;
    }
    const char *params[] = {key, product, verdict, reason};
    json_t *answer = json_pack ("{s:s}", "verdict", verdict);
    vd_error_t err;
    vd_error_clear (&err);
    int rc = answer && vd_db_command (conn, "BEGIN", 0, NULL, &err) == 0
                 ? s_record (conn, params, answer, &err)
                 : -1;
    if (rc == 1 && vd_db_command (conn, "COMMIT", 0, NULL, &err) < 0)
        rc = -1;
    if (rc != 1) /* nothing to keep; a failed ROLLBACK changes nothing */
        (void)vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
    if (rc == 1) {
        orch_answer_json (a, 201, answer);
        answer = NULL;
    } else if (rc == 0) {
        char msg[480];
        snprintf (msg, sizeof msg, "product \"%.200s\" was never recommended to \"%.200s\"",
                  product, key);
        orch_answer_error (a, 404, msg, NULL,
                           "GET /api/customers/KEY/recommendations lists the current ones");
    } else
        orch_answer_fail (a, &err);
    json_decref (answer);
    json_decref (body);
}

int
orch_reco_feedback_test (bool verbose)
{
    int failed = 0;
    orch_answer_t a;
    memset (&a, 0, sizeof a);
    const char *verdict, *reason;
    json_t *b = json_pack ("{s:s}", "verdict", "meh");
    failed += s_validate (b, &verdict, &reason, &a) == 0 || a.status != 400;
    orch_answer_clear (&a);
    json_decref (b);
    b = json_pack ("{s:s, s:i}", "verdict", "bad", "reason", 3);
    failed += s_validate (b, &verdict, &reason, &a) == 0 || a.status != 400;
    orch_answer_clear (&a);
    json_decref (b);
    char long_reason[REASON_MAX_CHARS + 2];
    memset (long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    b = json_pack ("{s:s, s:s}", "verdict", "bad", "reason", long_reason);
    failed += s_validate (b, &verdict, &reason, &a) == 0 || a.status != 400;
    orch_answer_clear (&a);
    json_decref (b);
    /* 500 characters of two bytes each are allowed */
    vd_buf_t e;
    vd_buf_init (&e, 4096);
    for (int i = 0; i < REASON_MAX_CHARS; i++)
        vd_buf_addstr (&e, "\xc3\xa9");
    b = json_pack ("{s:s, s:s}", "verdict", "good", "reason", vd_buf_str (&e));
    failed += s_validate (b, &verdict, &reason, &a) < 0 || strcmp (verdict, "good") != 0 ||
              s_chars (reason) != REASON_MAX_CHARS;
    orch_answer_clear (&a);
    json_decref (b);
    vd_buf_free (&e);
    b = json_pack ("{s:s, s:s}", "verdict", "bad", "reason", "");
    failed += s_validate (b, &verdict, &reason, &a) < 0 || reason != NULL;
    json_decref (b);
    if (verbose)
        printf ("orch_reco_feedback_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}

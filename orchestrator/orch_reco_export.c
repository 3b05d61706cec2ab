/*  orch_reco_export - GET /api/reco/campaign.csv[?campaign=NAME]: the
    current recommendations for an email campaign (Brevo import), one row
    per customer and product:

      customer_key,email,first_name,last_name,rank,product_key,
      product_name,score,reasons

    reasons = the reasons' texts joined with "; ". Only rows the
    recommender marked campaign_ok whose customer still has a valid email
    and no opt-out (opted-out, invalid and missing emails are left out).
    With campaign=NAME the rows exported are also recorded in
    reco.exports (a later click in that campaign follows them), in the
    transaction that reads them. Rows are read through a cursor, a chunk
    at a time, into one buffer with a ceiling.
*/
#include "vendange.h"
#include "vd_db.h"
#include "orch_quality.h"
#include "orch_reco.h"

#define CSV_MAX ((size_t)1024 * 1024 * 1024)
#define FETCH_ROWS "5000"
#define CAMPAIGN_MAX 100

#define EXPORT_FROM                                                                                \
    " FROM reco.recommendations r JOIN canonical.customers c ON c.customer_key = r.customer_key"
#define EXPORT_WHERE                                                                               \
    " WHERE r.campaign_ok AND NOT coalesce(c.email_opt_out, false) AND NOT "                       \
    "coalesce(c.email_invalid, false) AND coalesce(btrim(c.email), '') <> ''"

static const char s_cursor_sql[] =
    "DECLARE reco_export NO SCROLL CURSOR FOR SELECT r.customer_key, c.email, c.first_name, "
    "c.last_name, r.rank, r.product_key, p.name, round(r.score::numeric, 4), (SELECT "
    "string_agg(e->>'text', '; ' ORDER BY o) FROM jsonb_array_elements(CASE WHEN "
    "jsonb_typeof(r.reasons) = 'array' THEN r.reasons ELSE '[]' END) WITH ORDINALITY AS t(e, "
    "o) WHERE e->>'text' IS NOT NULL)" EXPORT_FROM " LEFT JOIN canonical.product_catalog p ON "
    "p.product_key = r.product_key" EXPORT_WHERE " ORDER BY r.customer_key, r.rank";

static const char s_record_sql[] =
    "INSERT INTO reco.exports (campaign, customer_key, product_key) SELECT $1, r.customer_key, "
    "r.product_key" EXPORT_FROM EXPORT_WHERE
    " ON CONFLICT (campaign, customer_key, product_key) DO UPDATE "
    "SET exported_at = now()";

static const char s_header[] =
    "customer_key,email,first_name,last_name,rank,product_key,product_name,score,reasons\r\n";

/*  A campaign name: 1 to 100 bytes of UTF-8, no control character. */
static bool
s_campaign_valid (const char *s)
{
    size_t n = strlen (s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return n > 0 && n <= CAMPAIGN_MAX && vd_utf8_valid (s, n);
}

/*  Appends the rows of one FETCH. Returns the row count, -1 at the
    ceiling. */
static int
s_rows (const PGresult *res, vd_buf_t *out)
{
    int rc = 0, n = PQntuples (res), cols = PQnfields (res);
    for (int i = 0; i < n && rc == 0; i++)
        for (int c = 0; c < cols && rc == 0; c++)
            rc = orch_csv_field (out, PQgetisnull (res, i, c) ? NULL : PQgetvalue (res, i, c),
                                 c == cols - 1);
    return rc < 0 ? -1 : n;
}

/*  The body of the transaction (BEGIN done). Returns 0, -1 with err. */
static int
s_export (PGconn *conn, const char *campaign, vd_buf_t *out, vd_error_t *err)
{
    if ((campaign && vd_db_command (conn, s_record_sql, 1, (const char *[]){campaign}, err) < 0) ||
        vd_db_command (conn, s_cursor_sql, 0, NULL, err) < 0 || vd_buf_addstr (out, s_header) < 0)
        return -1;
    for (;;) {
        PGresult *res =
            vd_db_exec (conn, "FETCH FORWARD " FETCH_ROWS " FROM reco_export", 0, NULL, err);
        if (!res)
            return -1;
        int n = s_rows (res, out);
        PQclear (res);
        if (n < 0)
            return vd_error_set (err, VD_ERR_PERMANENT, "campaign export larger than %zu MiB",
                                 CSV_MAX / (1024 * 1024));
        if (n == 0)
            break;
    }
    return vd_db_command (conn, "CLOSE reco_export", 0, NULL, err);
}

void
orch_reco_export (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    const char *campaign = req->q_campaign;
    if (campaign && !s_campaign_valid (campaign)) {
        orch_answer_error (a, 400, "invalid campaign name",
                           "1 to 100 characters, no control characters", NULL);
        return;
    }
    vd_error_t err;
    vd_error_clear (&err);
    vd_buf_t out;
    vd_buf_init (&out, CSV_MAX);
    int rc = vd_db_command (conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, &err);
    if (rc == 0)
        rc = s_export (conn, campaign, &out, &err) < 0 ||
                     vd_db_command (conn, "COMMIT", 0, NULL, &err) < 0
                 ? -1
                 : 0;
    if (rc < 0) {
        (void)vd_db_command (conn, "ROLLBACK", 0, NULL, NULL); /* nothing to keep */
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
orch_reco_export_test (bool verbose)
{
    int failed = 0;
    failed += !s_campaign_valid ("noel-2026") || s_campaign_valid ("") ||
              s_campaign_valid ("a\nb") || s_campaign_valid ("a\xff");
    char long_name[CAMPAIGN_MAX + 2];
    memset (long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    failed += s_campaign_valid (long_name);
    failed += strstr (s_cursor_sql, "r.campaign_ok AND NOT coalesce(c.email_opt_out") == NULL;
    if (verbose)
        printf ("orch_reco_export_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}

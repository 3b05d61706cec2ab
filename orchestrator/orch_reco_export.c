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
    transaction that reads them. The answer is streamed: rows are read
    through a cursor on a connection of the export's own, 5,000 at a time
    as the client takes them, so neither memory nor the API's other
    requests wait for the whole file.
*/
#include "vendange.h"
#include "vd_db.h"
#include "orch_quality.h"
#include "orch_reco.h"

#define FETCH_MAX ((size_t)256 * 1024 * 1024) /* bytes of one FETCH's rows */
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

/*  An export in progress: its own connection (the API's is shared by
    the requests served between two reads), holding the transaction and
    the cursor; rows are fetched as the client reads them. */
typedef struct {
    PGconn *conn;
    vd_buf_t out;
    size_t sent; /* bytes of out already handed to the client */
    bool done;   /* committed: nothing more to fetch */
} s_export_t;

static void
s_export_free (void *cls)
{
    s_export_t *self = cls;
    if (self->conn && !self->done)
        (void)vd_db_command (self->conn, "ROLLBACK", 0, NULL, NULL); /* client gone */
    PQfinish (self->conn);
    vd_buf_free (&self->out);
    free (self);
}

/*  Appends the next FETCH to out; at the end closes the cursor and
    commits. Returns 0, -1 with err. */
static int
s_fetch (s_export_t *self, vd_error_t *err)
{
    PGresult *res =
        vd_db_exec (self->conn, "FETCH FORWARD " FETCH_ROWS " FROM reco_export", 0, NULL, err);
    if (!res)
        return -1;
    int n = s_rows (res, &self->out);
    PQclear (res);
    if (n < 0)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    if (n == 0) {
        if (vd_db_command (self->conn, "CLOSE reco_export", 0, NULL, err) < 0 ||
            vd_db_command (self->conn, "COMMIT", 0, NULL, err) < 0)
            return -1;
        self->done = true;
    }
    return 0;
}

static ssize_t
s_export_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    s_export_t *self = cls;
    while (self->sent == self->out.len) {
        if (self->done)
            return -1; /* MHD_CONTENT_READER_END_OF_STREAM */
        vd_buf_reset (&self->out);
        self->sent = 0;
        vd_error_t err;
        vd_error_clear (&err);
        if (s_fetch (self, &err) < 0) {
            vd_log_error (VD_LOG_ERROR, &err);
            return -2; /* MHD_CONTENT_READER_END_WITH_ERROR: the client sees a cut body */
        }
    }
    size_t n = self->out.len - self->sent < max ? self->out.len - self->sent : max;
    memcpy (buf, self->out.data + self->sent, n);
    self->sent += n;
    return (ssize_t)n;
}

/*  Opens the export: transaction, exports recorded, cursor, header and
    first rows (so that an error is still an error answer). */
static int
s_export_open (s_export_t *self, const char *dsn, const char *campaign, vd_error_t *err)
{
    self->conn = vd_db_connect (dsn, "vendange-orchestrator-export", err);
    if (!self->conn ||
        vd_db_command (self->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, err) < 0 ||
        (campaign &&
         vd_db_command (self->conn, s_record_sql, 1, (const char *[]){campaign}, err) < 0) ||
        vd_db_command (self->conn, s_cursor_sql, 0, NULL, err) < 0 ||
        vd_buf_addstr (&self->out, s_header) < 0)
        return -1;
    return s_fetch (self, err);
}

void
orch_reco_export (const char *dsn, const orch_request_t *req, orch_answer_t *a)
{
    const char *campaign = req->q_campaign;
    if (campaign && !s_campaign_valid (campaign)) {
        orch_answer_error (a, 400, "invalid campaign name",
                           "1 to 100 characters, no control characters", NULL);
        return;
    }
    s_export_t *self = calloc (1, sizeof *self);
    if (!self) {
        orch_answer_error (a, 500, "out of memory", NULL, NULL);
        return;
    }
    vd_buf_init (&self->out, FETCH_MAX);
    vd_error_t err;
    vd_error_clear (&err);
    if (s_export_open (self, dsn, campaign, &err) < 0) {
        s_export_free (self);
        orch_answer_fail (a, &err);
        return;
    }
    a->status = 200;
    a->content_type = "text/csv; charset=utf-8";
    a->stream = s_export_read;
    a->stream_free = s_export_free;
    a->stream_cls = self;
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

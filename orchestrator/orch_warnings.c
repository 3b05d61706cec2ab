/*  orch_warnings - the lines of one warning summary. */
#include "vendange.h"
#include "vd_db.h"
#include "orch_runview.h"
#include "orch_warnings.h"

/*  Lines of summary $1 after $2, at most $3: each range of a block gives
    at most $3 of its lines, so a page reads no more than it needs of a
    long range. */
static const char s_lines[] =
    "SELECT g FROM ops.warning_lines l CROSS JOIN LATERAL unnest(l.lines) AS r"
    " CROSS JOIN LATERAL generate_series(greatest(lower(r), $2::bigint + 1),"
    " least(upper(r) - 1, greatest(lower(r), $2::bigint + 1) + $3::bigint - 1)) AS g"
    " WHERE l.warning_id = $1::bigint AND l.block >= ($2::bigint + 1) >> " VD_WARN_BLOCK_SQL
    " AND upper(r) > $2::bigint + 1 ORDER BY g LIMIT $3::bigint";

/*  Adds "lines" and "next_after" to w. Returns 0, -1 with err. */
static int
s_add_lines (PGconn *conn, json_t *w, const char *params[3], int64_t limit, vd_error_t *err)
{
    char more[24];
    snprintf (more, sizeof more, "%" PRId64, limit + 1);
    const char *p[] = {params[0], params[1], more};
    PGresult *res = vd_db_exec (conn, s_lines, 3, p, err);
    if (!res)
        return -1;
    json_t *lines = json_array ();
    int n = PQntuples (res);
    int64_t line = 0;
    for (int i = 0; lines && i < n && i < limit; i++)
        if (vd_parse_int (PQgetvalue (res, i, 0), INT64_MIN, INT64_MAX, &line) == 0)
            json_array_append_new (lines, json_integer (line));
    PQclear (res);
    if (!lines)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    json_object_set_new (w, "lines", lines);
    json_object_set_new (w, "next_after", n > limit ? json_integer (line) : json_null ());
    return 0;
}

void
orch_warnings_lines (PGconn *conn, int64_t id, const orch_request_t *req, orch_answer_t *a)
{
    int64_t limit, after;
    if (orch_request_int (req->q_limit, "limit", ORCH_WARNING_LINES_DEFAULT, 1,
                          ORCH_WARNING_LINES_MAX, &limit, a) < 0 ||
        orch_request_int (req->q_after, "after", -1, 0, INT64_MAX - 1, &after, a) < 0)
        return;
    char text[2][24];
    const int64_t values[] = {id, after};
    for (int k = 0; k < 2; k++)
        snprintf (text[k], sizeof text[k], "%" PRId64, values[k]);
    const char *params[] = {text[0], text[1], NULL};
    vd_error_t err;
    vd_error_clear (&err);
    PGresult *res = vd_db_exec (conn,
                                "SELECT " ORCH_WARNING_COLUMNS
                                " FROM ops.warning_summaries x WHERE x.id = $1::bigint",
                                1, params, &err);
    if (!res) {
        orch_answer_fail (a, &err);
        return;
    }
    json_t *w = PQntuples (res) == 1 ? orch_runview_warning (res, 0, 0) : NULL;
    bool found = PQntuples (res) == 1;
    PQclear (res);
    if (!found) {
        char msg[64];
        snprintf (msg, sizeof msg, "no warning %" PRId64, id);
        orch_answer_error (a, 404, msg, NULL,
                           "a run's warnings list their ids (vendange warnings RUN)");
        return;
    }
    if (!w)
        vd_error_set (&err, VD_ERR_TRANSIENT, "out of memory");
    if (!w || s_add_lines (conn, w, params, limit, &err) < 0) {
        json_decref (w);
        orch_answer_fail (a, &err);
        return;
    }
    orch_answer_json (a, 200, w);
}

int
orch_warnings_test (bool verbose)
{
    int failures = 0;
    /* bad paging arguments are refused before the database is asked */
    static const char *const bad[][2] = {{"0", NULL}, {"10001", NULL}, {NULL, "-2"}, {NULL, "x"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        orch_request_t req = {.method = "GET", .q_limit = bad[i][0], .q_after = bad[i][1]};
        orch_answer_t a = {0};
        orch_warnings_lines (NULL, 1, &req, &a);
        if (a.status != 400)
            failures++;
        orch_answer_clear (&a);
    }
    if (strstr (s_lines, ">> " VD_WARN_BLOCK_SQL) == NULL || VD_WARN_BLOCK_BITS != 16)
        failures++;
    if (verbose)
        printf ("  orch_warnings: %d failure(s)\n", failures);
    return failures ? -1 : 0;
}

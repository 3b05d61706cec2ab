/*  vd_outbox - the durable outbox of outgoing notifications. */
#include "vendange.h"
#include "vd_db.h"
#include "vd_outbox.h"

#define DEFAULT_BATCH 20
#define NUM_LEN 24

int
vd_outbox_enqueue (PGconn *conn, const char *origin, int64_t origin_id, const char *target,
                   const char *key, const json_t *payload, vd_error_t *err)
{
    char *text = json_dumps (payload, JSON_COMPACT);
    if (!text)
        return vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
    char id[NUM_LEN];
    snprintf (id, sizeof id, "%" PRId64, origin_id);
    const char *params[] = {origin, origin_id > 0 ? id : NULL, target, key, text};
    PGresult *res =
        vd_db_exec (conn,
                    "INSERT INTO ops.outbox (origin, origin_id, target, idempotency_key,"
                    " payload) VALUES ($1, $2, $3, $4, $5::jsonb)"
                    " ON CONFLICT (idempotency_key) DO NOTHING",
                    5, params, err);
    free (text);
    if (!res)
        return -1;
    int64_t added = 0;
    (void)vd_parse_int (PQcmdTuples (res), 0, 1, &added); /* "" never happens for an INSERT */
    PQclear (res);
    return (int)added;
}

/*  The rows a DELETE of sql with the one parameter days removed; 0 when
    days is 0 (keep everything). */
static int64_t
s_delete_older (PGconn *conn, const char *sql, int64_t days, vd_error_t *err)
{
    if (days <= 0)
        return 0;
    char text[NUM_LEN];
    snprintf (text, sizeof text, "%" PRId64, days);
    PGresult *res = vd_db_exec (conn, sql, 1, (const char *[]){text}, err);
    if (!res)
        return -1;
    int64_t n = 0;
    (void)vd_parse_int (PQcmdTuples (res), 0, INT64_MAX, &n); /* a DELETE always has a count */
    PQclear (res);
    return n;
}

int64_t
vd_outbox_purge (PGconn *conn, int64_t days, vd_error_t *err)
{
    return s_delete_older (conn,
                           "DELETE FROM ops.outbox WHERE status <> 'pending'"
                           " AND created_at < now() - make_interval(days => $1::int)",
                           days, err);
}

int64_t
vd_outbox_backoff_s (int64_t retry_s, int64_t attempts)
{
    int64_t wait = retry_s > 0 ? retry_s : 1;
    for (int64_t i = 1; i < attempts && wait < VD_OUTBOX_BACKOFF_CAP_S; i++)
        wait *= 2;
    return wait < VD_OUTBOX_BACKOFF_CAP_S ? wait : VD_OUTBOX_BACKOFF_CAP_S;
}

/*  Leases up to batch due rows: attempts counted now, so a worker killed
    while sending still uses up an attempt. */
static PGresult *
s_lease (PGconn *conn, const char *const *origins, int norigins, int batch, vd_error_t *err)
{
    json_t *list = json_array ();
    for (int i = 0; list && i < norigins; i++)
        json_array_append_new (list, json_string (origins[i]));
    char *text = list ? json_dumps (list, JSON_COMPACT) : NULL;
    json_decref (list);
    if (!text) {
        vd_error_set (err, VD_ERR_TRANSIENT, "out of memory");
        return NULL;
    }
    char limit[NUM_LEN], lease[NUM_LEN];
    snprintf (limit, sizeof limit, "%d", batch);
    snprintf (lease, sizeof lease, "%d", VD_OUTBOX_LEASE_S);
    const char *params[] = {norigins > 0 ? text : NULL, limit, lease};
    PGresult *res = vd_db_exec (
        conn,
        "UPDATE ops.outbox o SET attempts = attempts + 1,"
        " locked_until = now() + make_interval(secs => $3::int)"
        " WHERE id IN (SELECT id FROM ops.outbox WHERE status = 'pending'"
        "   AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())"
        "   AND ($1::jsonb IS NULL OR $1::jsonb ? origin)"
        "   ORDER BY next_attempt_at, id LIMIT $2::int FOR UPDATE SKIP LOCKED)"
        " RETURNING id, target, payload::text, attempts",
        3, params, err);
    free (text);
    return res;
}

/*  Records the outcome of row id (attempts made so far). */
static int
s_settle (PGconn *conn, const char *id, int64_t attempts, const vd_error_t *failure,
          const vd_outbox_policy_t *policy, vd_error_t *err)
{
    if (!failure)
        return vd_db_command (conn,
                              "UPDATE ops.outbox SET status = 'sent', sent_at = now(),"
                              " locked_until = NULL, last_error = NULL WHERE id = $1",
                              1, (const char *[]){id}, err);
    bool dead = failure->kind == VD_ERR_PERMANENT || attempts >= policy->max_attempts;
    char wait[NUM_LEN];
    snprintf (wait, sizeof wait, "%" PRId64, vd_outbox_backoff_s (policy->retry_s, attempts));
    vd_buf_t why;
    vd_buf_init (&why, 2048);
    vd_buf_printf (&why, "%s%s%s", failure->msg, failure->detail[0] ? ": " : "", failure->detail);
    const char *params[] = {id, dead ? "dead" : "pending", wait, vd_buf_str (&why)};
    int rc = vd_db_command (conn,
                            "UPDATE ops.outbox SET status = $2, locked_until = NULL,"
                            " last_error = $4, next_attempt_at = now()"
                            " + make_interval(secs => $3::int) WHERE id = $1",
                            4, params, err);
    vd_buf_free (&why);
    return rc;
}

int
vd_outbox_deliver_due (PGconn *conn, const char *const *origins, int norigins,
                       const vd_outbox_policy_t *policy, vd_outbox_deliver_fn *deliver, void *arg,
                       vd_error_t *err)
{
    PGresult *res =
        s_lease (conn, origins, norigins, policy->batch > 0 ? policy->batch : DEFAULT_BATCH, err);
    if (!res)
        return -1;
    int n = PQntuples (res), rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int64_t id = 0, attempts = 0;
        (void)vd_parse_int (PQgetvalue (res, i, 0), 1, INT64_MAX, &id); /* bigserial */
        (void)vd_parse_int (PQgetvalue (res, i, 3), 0, INT_MAX, &attempts);
        json_t *payload = json_loads (PQgetvalue (res, i, 2), 0, NULL);
        vd_error_t failure;
        vd_error_clear (&failure);
        int sent = payload ? deliver (arg, id, PQgetvalue (res, i, 1), payload, &failure)
                           : vd_error_set (&failure, VD_ERR_PERMANENT, "payload is not JSON");
        json_decref (payload);
        rc = s_settle (conn, PQgetvalue (res, i, 0), attempts, sent == 0 ? NULL : &failure, policy,
                       err);
    }
    PQclear (res);
    return rc < 0 ? -1 : n;
}

int
vd_outbox_test (bool verbose)
{
    int failed = 0;
    failed += vd_outbox_backoff_s (30, 1) != 30;
    failed += vd_outbox_backoff_s (30, 2) != 60;
    failed += vd_outbox_backoff_s (30, 4) != 240;
    failed += vd_outbox_backoff_s (30, 40) != VD_OUTBOX_BACKOFF_CAP_S;
    failed += vd_outbox_backoff_s (0, 1) != 1;
    failed += vd_outbox_backoff_s (INT64_MAX / 2, 3) != VD_OUTBOX_BACKOFF_CAP_S;
    if (verbose)
        printf ("vd_outbox_test: %d failure(s)\n", failed);
    return failed ? -1 : 0;
}

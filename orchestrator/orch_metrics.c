/*  orch_metrics - GET /metrics, Prometheus text exposition format 0.0.4.

    Every figure is read from ops.* when scraped, so it is what
    ops.sync_runs says (the tests compare the two):
      vendange_runs{connector,status}                 runs recorded, by status
      vendange_records_total{table,outcome}           per-table counts summed over runs
      vendange_run_duration_seconds{connector}        histogram of finished runs
      vendange_queue_depth{queue}                     runs queued / running, tests pending
      vendange_services_alive{role}                   live services by role
      vendange_connector_last_success_timestamp_seconds{connector}
      vendange_alerts_open{rule}                      alerts open now
      vendange_alerts_opened_total{rule}              alerts ever opened
      vendange_notifications{status}                  outbox rows: pending, sent, dead
*/
#include "vendange.h"
#include "vd_db.h"
#include "orch_metrics.h"

#define METRICS_MAX (4 * 1024 * 1024)

static const char *s_buckets[] = {"1", "5", "15", "60", "300", "900", "3600"};
#define NBUCKETS (sizeof s_buckets / sizeof s_buckets[0])

/*  A label value escaped as the format wants (\\, \", \n). */
static void
s_label (vd_buf_t *b, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            vd_buf_printf (b, "\\%c", *p);
        else if (*p == '\n')
            vd_buf_printf (b, "\\n");
        else
            vd_buf_add (b, p, 1);
    }
}

static void
s_family (vd_buf_t *b, const char *name, const char *type, const char *help)
{
    vd_buf_printf (b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*  One sample per row: name{l0="col 0",l1="col 1"} col n. */
static void
s_samples (vd_buf_t *b, const char *name, const PGresult *res, const char *const *labels,
           int nlabels)
{
    for (int i = 0; i < PQntuples (res); i++) {
        vd_buf_printf (b, "%s{", name);
        for (int l = 0; l < nlabels; l++) {
            vd_buf_printf (b, "%s%s=\"", l ? "," : "", labels[l]);
            s_label (b, PQgetvalue (res, i, l));
            vd_buf_printf (b, "\"");
        }
        vd_buf_printf (b, "} %s\n", PQgetvalue (res, i, nlabels));
    }
}

/*  A query whose rows are (labels..., value), as one metric family. */
static int
s_query (PGconn *conn, vd_buf_t *b, const char *name, const char *type, const char *help,
         const char *const *labels, int nlabels, const char *sql, vd_error_t *err)
{
    PGresult *res = vd_db_exec (conn, sql, 0, NULL, err);
    if (!res)
        return -1;
    s_family (b, name, type, help);
    s_samples (b, name, res, labels, nlabels);
    PQclear (res);
    return 0;
}

/*  The duration histogram: cumulative buckets, _sum and _count per
    connector over finished runs. */
static int
s_durations (PGconn *conn, vd_buf_t *b, vd_error_t *err)
{
    PGresult *res = vd_db_exec (
        conn,
        "SELECT connector, count(*) FILTER (WHERE d <= 1), count(*) FILTER (WHERE d <= 5), "
        "count(*) FILTER (WHERE d <= 15), count(*) FILTER (WHERE d <= 60), "
        "count(*) FILTER (WHERE d <= 300), count(*) FILTER (WHERE d <= 900), "
        "count(*) FILTER (WHERE d <= 3600), count(*), round(sum(d)::numeric, 3) FROM "
        "(SELECT connector, extract(epoch FROM finished_at - started_at) AS d FROM "
        "ops.sync_runs WHERE finished_at IS NOT NULL AND started_at IS NOT NULL) r "
        "GROUP BY connector ORDER BY connector",
        0, NULL, err);
    if (!res)
        return -1;
    const char *name = "vendange_run_duration_seconds";
    s_family (b, name, "histogram", "duration of finished sync runs, from start to end");
    for (int i = 0; i < PQntuples (res); i++) {
        vd_buf_t conn_label;
        vd_buf_init (&conn_label, 1024);
        s_label (&conn_label, PQgetvalue (res, i, 0));
        const char *c = vd_buf_str (&conn_label);
        for (size_t k = 0; k < NBUCKETS; k++)
            vd_buf_printf (b, "%s_bucket{connector=\"%s\",le=\"%s\"} %s\n", name, c, s_buckets[k],
                           PQgetvalue (res, i, 1 + (int)k));
        vd_buf_printf (b, "%s_bucket{connector=\"%s\",le=\"+Inf\"} %s\n", name, c,
                       PQgetvalue (res, i, 8));
        vd_buf_printf (b, "%s_sum{connector=\"%s\"} %s\n", name, c, PQgetvalue (res, i, 9));
        vd_buf_printf (b, "%s_count{connector=\"%s\"} %s\n", name, c, PQgetvalue (res, i, 8));
        vd_buf_free (&conn_label);
    }
    PQclear (res);
    return 0;
}

static const char *s_run_labels[] = {"connector", "status"};
static const char *s_record_labels[] = {"table", "outcome"};
static const char *s_queue_labels[] = {"queue"};
static const char *s_role_labels[] = {"role"};
static const char *s_connector_labels[] = {"connector"};
static const char *s_rule_labels[] = {"rule"};
static const char *s_status_labels[] = {"status"};

/*  The alert families (orch_alerts, vd_outbox): one label each. */
static const struct {
    const char *name, *type, *help;
    const char *const *labels;
    const char *sql;
} s_alert_families[] = {
    {"vendange_alerts_open", "gauge",
     "alerts open now, by rule (rules that never fired have no sample)", s_rule_labels,
     "SELECT rule, count(*) FILTER (WHERE resolved_at IS NULL) FROM ops.alerts GROUP BY 1 "
     "ORDER BY 1"},
    {"vendange_alerts_opened_total", "counter", "alerts ever opened, by rule", s_rule_labels,
     "SELECT rule, count(*) FROM ops.alerts GROUP BY 1 ORDER BY 1"},
    {"vendange_notifications", "gauge",
     "notifications of the outbox, by status (pending, sent, dead)", s_status_labels,
     "SELECT s, count(o.id) FROM (VALUES ('pending'), ('sent'), ('dead')) v (s) LEFT JOIN "
     "ops.outbox o ON o.status = v.s GROUP BY 1 ORDER BY 1"},
};

char *
orch_metrics_text (PGconn *conn, vd_error_t *err)
{
    vd_buf_t b;
    vd_buf_init (&b, METRICS_MAX);
    int rc = s_query (conn, &b, "vendange_runs", "gauge",
                      "sync runs recorded, by connector and status", s_run_labels, 2,
                      "SELECT connector, status, count(*) FROM ops.sync_runs GROUP BY 1, 2 "
                      "ORDER BY 1, 2",
                      err);
    if (rc == 0)
        rc = s_query (conn, &b, "vendange_records_total", "counter",
                      "records of every run by canonical table and outcome", s_record_labels, 2,
                      "SELECT t.table_name, o.outcome, sum(CASE o.outcome WHEN 'extracted' THEN "
                      "t.extracted WHEN 'inserted' THEN t.inserted WHEN 'updated' THEN t.updated "
                      "WHEN 'unchanged' THEN t.unchanged ELSE t.rejected END) FROM ops.run_tables "
                      "t CROSS JOIN (VALUES ('extracted'), ('inserted'), ('updated'), "
                      "('unchanged'), ('rejected')) o (outcome) GROUP BY 1, 2 ORDER BY 1, 2",
                      err);
    if (rc == 0)
        rc = s_durations (conn, &b, err);
    if (rc == 0)
        rc = s_query (conn, &b, "vendange_queue_depth", "gauge",
                      "runs queued and running, connector tests pending", s_queue_labels, 1,
                      "SELECT q, n FROM (SELECT 'runs_queued' q, count(*) FILTER (WHERE status = "
                      "'queued') n FROM ops.sync_runs UNION ALL SELECT 'runs_running', count(*) "
                      "FILTER (WHERE status = 'running') FROM ops.sync_runs UNION ALL SELECT "
                      "'tests_pending', count(*) FROM ops.connector_tests WHERE status IN "
                      "('pending', 'running')) x ORDER BY q",
                      err);
    if (rc == 0)
        rc = s_query (conn, &b, "vendange_services_alive", "gauge",
                      "services sending heartbeats, by role", s_role_labels, 1,
                      "SELECT role, count(*) FILTER (WHERE alive) FROM ops.services GROUP BY 1 "
                      "ORDER BY 1",
                      err);
    if (rc == 0)
        rc = s_query (conn, &b, "vendange_connector_last_success_timestamp_seconds", "gauge",
                      "end of the connector's last successful run (Unix time)", s_connector_labels,
                      1,
                      "SELECT connector, round(extract(epoch FROM max(finished_at))::numeric, 3) "
                      "FROM ops.sync_runs WHERE status = 'success' GROUP BY 1 ORDER BY 1",
                      err);
    for (size_t i = 0; rc == 0 && i < sizeof s_alert_families / sizeof s_alert_families[0]; i++)
        rc = s_query (conn, &b, s_alert_families[i].name, s_alert_families[i].type,
                      s_alert_families[i].help, s_alert_families[i].labels, 1,
                      s_alert_families[i].sql, err);
    if (rc == 0 && b.truncated) {
        vd_error_set (err, VD_ERR_PERMANENT, "metrics larger than 4 MiB");
        rc = -1;
    }
    if (rc < 0) {
        vd_buf_free (&b);
        return NULL;
    }
    return vd_buf_take (&b);
}

void
orch_metrics_get (PGconn *conn, orch_answer_t *a)
{
    vd_error_t err;
    vd_error_clear (&err);
    char *text = orch_metrics_text (conn, &err);
    if (!text) {
        orch_answer_fail (a, &err);
        return;
    }
    a->status = 200;
    a->html = text;
    a->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

int
orch_metrics_test (bool verbose)
{
    (void)verbose;
    int failures = 0;
    vd_buf_t b;
    vd_buf_init (&b, 1024);
    s_label (&b, "a\"b\\c\nd");
    failures += strcmp (vd_buf_str (&b), "a\\\"b\\\\c\\nd") != 0;
    vd_buf_free (&b);
    return failures;
}

/*  orch_status - GET /health and GET /api/status.

    /api/status[?all=true]: {"services": [{"instance", "role", "kind",
    "host", "pid", "state", "run_id", "last_heartbeat", "alive",
    "failed_runs": [sync run ids], "failed_reco_runs": [job ids]}],
    "services_hidden": N, "connectors": [{"name", "type", "health":
    "healthy"|"syncing"|"error"|"idle", "last_run": {id, status,
    finished_at} or null, "last_error"}]}. Services: the live ones, and a
    dead one while it matters: a sync run failed in the last 24 hours
    because it stopped sending heartbeats, or a recommendation job of it
    failed then (failed_runs, failed_reco_runs). The others, dead services
    of earlier starts, are counted in services_hidden, listed with all.
*/
#ifndef ORCH_STATUS_H_INCLUDED
#define ORCH_STATUS_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

/*  /health: 200 {"status": "ok"} when the database answers, else 503
    {"status": "not ok"} (the error goes to the log, never to the
    caller); full adds the schema and program versions (an authenticated
    caller). conn NULL: the database is unreachable. */
void orch_status_health (PGconn *conn, bool full, orch_answer_t *a);
void orch_status_get (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
/*  The /api/status object (every service when all), or NULL with err
    (for the web page too). */
json_t *orch_status_json (PGconn *conn, bool all, vd_error_t *err);
/*  Whether a service of the /api/status list is shown by default. */
bool orch_status_shown (const json_t *service);

/*  A connector's health from its latest run's status (NULL: never ran). */
const char *orch_status_health_of (const char *last_status);

int orch_status_test (bool verbose);

#endif

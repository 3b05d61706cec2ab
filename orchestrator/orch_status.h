/*  orch_status - GET /health and GET /api/status.

    /api/status: {"services": [{"instance", "role", "kind", "host", "pid",
    "state", "run_id", "last_heartbeat", "alive"}], "connectors": [{"name",
    "type", "health": "healthy"|"syncing"|"error"|"idle", "last_run": {id,
    status, finished_at} or null, "last_error"}]}. Services: those alive
    and those seen in the last hour.
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
void orch_status_get (PGconn *conn, orch_answer_t *a);
/*  The /api/status object, or NULL with err (for the web page too). */
json_t *orch_status_json (PGconn *conn, vd_error_t *err);

/*  A connector's health from its latest run's status (NULL: never ran). */
const char *orch_status_health_of (const char *last_status);

int orch_status_test (bool verbose);

#endif

/*  orch_connectors - the connector registry endpoints of the HTTP API:
    GET/POST /api/connectors, GET/DELETE /api/connectors/NAME,
    POST /api/connectors/NAME/sync.

    A connector as answered: {"name", "type", "settings" (no secrets),
    "secrets": [names of the secret settings], "schedule", "created_at",
    "updated_at", "last_run"}; the list gives last_run as {id, status,
    started_at, finished_at}, GET NAME the whole run and the "cursor".
*/
#ifndef ORCH_CONNECTORS_H_INCLUDED
#define ORCH_CONNECTORS_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

void orch_connectors_list (PGconn *conn, orch_answer_t *a);
void orch_connectors_create (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_connectors_get (PGconn *conn, const char *name, orch_answer_t *a);
void orch_connectors_delete (PGconn *conn, const char *name, orch_answer_t *a);
/*  Queues a run: 202 {"run_id", "status": "queued"}; 404 unknown
    connector; 409 {"error", "run_id"} when one is queued or running. */
void orch_connectors_sync (PGconn *conn, const char *name, const orch_request_t *req,
                           orch_answer_t *a);

#endif

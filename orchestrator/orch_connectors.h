/*  orch_connectors - the connector registry endpoints of the HTTP API:
    GET/POST /api/connectors, GET/PATCH/DELETE /api/connectors/NAME,
    POST /api/connectors/NAME/sync, POST /api/connectors/NAME/test and
    GET /api/tests/ID.

    A connector as answered: {"name", "type", "settings" (no secrets),
    "secrets": [names of the secret settings], "schedule", "created_at",
    "updated_at", "last_run"}; the list gives last_run as {id, status,
    started_at, finished_at}, GET NAME the whole run and the "cursor".
*/
#ifndef ORCH_CONNECTORS_H_INCLUDED
#define ORCH_CONNECTORS_H_INCLUDED

#include "orch_api.h"
#include "vd_secret.h"
#include <libpq-fe.h>

void orch_connectors_list (PGconn *conn, orch_answer_t *a);
/*  Registers a connector; its secret settings are sealed with key (a 500
    naming VENDANGE_SECRET_KEY when it has secrets and there is no key). */
void orch_connectors_create (PGconn *conn, const vd_secret_key_t *key, const char *files_root,
                             const orch_request_t *req, orch_answer_t *a);
void orch_connectors_get (PGconn *conn, const char *name, orch_answer_t *a);
/*  DELETE: 200 {"deleted", "rows_kept"}; with ?purge=true the rows the
    connector wrote are deleted too ("purged": {table: count}) and the
    customer aggregates brought up to date, in the same transaction. 409
    while it has a run queued or running. */
void orch_connectors_delete (PGconn *conn, const char *name, const orch_request_t *req,
                             orch_answer_t *a);
/*  PATCH {"settings": {...}, "unset": [...]}: the merged settings are
    validated as a whole, secrets sealed again. 200 with the connector.
    A change of where secrets go (url, database, user) drops the stored
    secrets not given again: 400 saying so when they are required, else
    the answer lists them in "secrets_dropped". files_root:
    VENDANGE_FILES_ROOT (file settings). */
void orch_connectors_update (PGconn *conn, const vd_secret_key_t *key, const char *files_root,
                             const char *name, const orch_request_t *req, orch_answer_t *a);
/*  POST .../NAME/test: 202 {"test_id", "status": "pending"} (orch_tests
    runs it); GET /api/tests/ID: {"id", "connector", "status" (pending,
    running, ok, failed), "extractor", "requested_at", "finished_at",
    "result" (the extractor's answer: ok, summary, checks, warnings,
    details, error)}. */
void orch_connectors_test (PGconn *conn, const char *name, const orch_request_t *req,
                           orch_answer_t *a);
void orch_connectors_test_get (PGconn *conn, int64_t id, orch_answer_t *a);
/*  Queues a run: 202 {"run_id", "status": "queued"}; 404 unknown
    connector; 409 {"error", "run_id"} when one is queued or running. */
void orch_connectors_sync (PGconn *conn, const char *name, const orch_request_t *req,
                           orch_answer_t *a);

#endif

/*  orch_history - the run history endpoints of the HTTP API:
    GET /api/runs?connector=NAME&limit=N (newest first, default 20, at
    most 500), GET /api/runs/ID, GET /api/runs/ID/rejects?limit=&offset=
    ([{"table", "file", "line", "reason", "raw"}], default 100, at most
    1000 per page).
*/
#ifndef ORCH_HISTORY_H_INCLUDED
#define ORCH_HISTORY_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>
#include <stdint.h>

void orch_history_list (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_history_get (PGconn *conn, int64_t id, orch_answer_t *a);
void orch_history_rejects (PGconn *conn, int64_t id, const orch_request_t *req, orch_answer_t *a);

#endif

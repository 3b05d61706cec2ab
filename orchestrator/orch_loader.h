/*  orch_loader - commands for the loader, the only writer of canonical.*
    (load_cmd.h): queued in ops.loader_commands, run by the loader in one
    transaction each, their outcome read back.
*/
#ifndef ORCH_LOADER_H_INCLUDED
#define ORCH_LOADER_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

/*  How long orch_loader_call waits for its command before it answers
    202 (VENDANGE_COMMAND_WAIT_S; 15 s until set). */
void orch_loader_set_wait (int64_t wait_ms);

/*  Queues command kind with args (borrowed). Returns its id, -1 with
    err. */
int64_t orch_loader_queue (PGconn *conn, const char *kind, json_t *args, vd_error_t *err);

/*  Waits up to wait_ms for command id: 1 done (*result, the caller's), 0
    still queued (the loader is busy or down), -1 with err (failed: the
    loader's reason, VD_ERR_PERMANENT; or the database failed). */
int orch_loader_wait (PGconn *conn, int64_t id, int wait_ms, json_t **result, vd_error_t *err);

/*  Queues, waits and answers: 200 with the command's result, 202
    {"command_id", "status": "queued"} when the loader has not run it yet,
    an error when it failed. Returns the result (the caller's) when done,
    NULL otherwise (the answer is set). */
json_t *orch_loader_call (PGconn *conn, const char *kind, json_t *args, orch_answer_t *a);

#endif

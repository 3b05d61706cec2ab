/*  orch_runs - what the orchestrator's loop writes in ops.sync_runs and
    ops.services. Every function takes the loop's own connection.

    Run life: queued (HTTP API) -> running (orch_runs_start) -> success /
    partial (orch_runs_finalize) or failed (orch_runs_fail, or finalize
    when counts do not balance). The connector's cursor moves only in the
    finalize transaction of a success or partial run.
*/
#ifndef ORCH_RUNS_H_INCLUDED
#define ORCH_RUNS_H_INCLUDED

#include "vd_error.h"
#include "vd_secret.h"
#include "orch_registry.h"
#include "orch_runview.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/*  The result of finalizing a run. */
typedef struct {
    char status[16];  /* "success", "partial", "failed", or "gone" when
                         the run was no longer running                 */
    char reason[512]; /* why it failed                                 */
    int64_t records;  /* records the extractor sent                    */
} orch_outcome_t;

/*  Runs left 'running' by a previous life become 'failed' (ids kept).
    Returns how many, or -1 with err. */
int orch_runs_recover (PGconn *conn, vd_error_t *err);

/*  Queued runs, oldest first. Columns: 0 id, 1 connector, 2 type,
    3 full_sync ("t"/"f"), 4 settings (JSON text, NULL when the connector
    is gone), 5 sealed secrets (hex, or NULL), 6 cursor (or NULL). The caller
    PQclear()s the result; NULL with err. */
PGresult *orch_runs_queued (PGconn *conn, vd_error_t *err);

/*  The start message for queued run id (row i of orch_runs_queued): its
    settings with the secrets (opened with key) merged in, cursor, full
    flag. NULL with err when the settings are not a JSON object or the
    secrets cannot be opened. */
json_t *orch_runs_start_message (const PGresult *res, int i, int64_t id, const vd_secret_key_t *key,
                                 vd_error_t *err);

/*  queued -> running on extractor, with cursor_before. Returns 1, 0 when
    the run was no longer queued, -1 with err. */
int orch_runs_start (PGconn *conn, int64_t id, const char *extractor, const char *cursor,
                     vd_error_t *err);

/*  -> failed, appending error (an object with at least "reason") to the
    run's errors; the cursor does not move. Returns 1, 0 when the run was
    not queued or running, -1 with err. */
int orch_runs_fail (PGconn *conn, int64_t id, const json_t *error, vd_error_t *err);

/*  Records progress (last_progress_at). Returns 0, -1. */
int orch_runs_touch (PGconn *conn, int64_t id, vd_error_t *err);

/*  In one transaction: locks the run (still running), checks the counts
    of every ops.run_tables row and the record totals, then marks it
    success / partial (moving the connector's cursor to cursor_after) or
    failed. extracted is the extractor's "extracted" message. With
    reco_after_sync, a success or partial run that inserted, updated or
    deleted rows of sales_lines, product_catalog, stock_levels or
    customers also queues a recommendation run (reco.runs, scope 'all',
    trigger 'sync'; none when one is queued already) in that transaction.
    Returns 0 with out filled, -1 with err (nothing written). */
int orch_runs_finalize (PGconn *conn, int64_t id, const json_t *extracted, int64_t loaded_records,
                        bool reco_after_sync, orch_outcome_t *out, vd_error_t *err);

/*  Checks that every table balances (extracted = inserted + updated +
    unchanged + rejected) and that the loader handled as many records as
    the extractor sent. Returns 0, or -1 with reason. */
int orch_runs_check_counts (const orch_table_count_t *tables, size_t ntables,
                            int64_t extracted_records, int64_t loaded_records, char *reason,
                            size_t size);

/*  "partial" when a file failed or the extractor reported errors, else
    "success". */
const char *orch_runs_outcome_status (const json_t *extracted);

/*  At start: every service is presumed dead until it sends a heartbeat;
    dead rows older than a week are deleted. Returns 0, -1. */
int orch_services_reset (PGconn *conn, vd_error_t *err);
/*  Upserts a service from its last heartbeat (alive, last_heartbeat = now). */
int orch_services_upsert (PGconn *conn, const orch_service_t *service, vd_error_t *err);
/*  alive = false. */
int orch_services_mark_dead (PGconn *conn, const char *instance, vd_error_t *err);

/*  Self test. Returns 0 when every check passes. */
int orch_runs_test (bool verbose);

#endif

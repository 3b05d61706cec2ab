/*  vd_fence - the loader writes a run's records only while the
    orchestrator holds that run.

    The orchestrator announces a run by recording it running in
    ops.sync_runs (with the extractor it hands it to) before it sends the
    start, and fails it there. The loader asks on the first message of a
    run it does not know, and again before each transaction of the run:
    a batch of a run never announced, failed or already finished is
    refused, and nothing of it is written (a replica cut off from the
    network whose batches arrive after its run failed is fenced out).
    The normalizer asks the orchestrator, which answers from the same
    row (orch_trust), and drops the records of runs that are not open.
*/
#ifndef VD_FENCE_H_INCLUDED
#define VD_FENCE_H_INCLUDED

#include "vd_error.h"
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/*  1 when run_id is running; 0 when it is not, with its status (or "not
    announced") in status; -1 with err when the database cannot tell. */
int vd_fence_open (PGconn *conn, int64_t run_id, char *status, size_t size, vd_error_t *err);

#endif

/*  vd_fence - the loader writes a run's records only while the
    orchestrator holds that run. */
#include "vendange.h"
#include "vd_db.h"
#include "vd_fence.h"

int
vd_fence_open (PGconn *conn, int64_t run_id, char *status, size_t size, vd_error_t *err)
{
    char id[24];
    snprintf (id, sizeof id, "%" PRId64, run_id);
    const char *params[] = {id};
    PGresult *res =
        vd_db_exec (conn, "SELECT status FROM ops.sync_runs WHERE id = $1::bigint", 1, params, err);
    if (!res)
        return -1;
    snprintf (status, size, "%s", PQntuples (res) == 1 ? PQgetvalue (res, 0, 0) : "not announced");
    PQclear (res);
    return strcmp (status, "running") == 0 ? 1 : 0;
}

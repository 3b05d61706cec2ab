/*  orch_engine - the orchestrator's control loop (zguide shape).

    A ROUTER bound at the orchestrator endpoint receives [identity][JSON]
    frames from every service (heartbeat, progress, extracted, loaded,
    failed) and sends start / abort. Each turn: poll ~200 ms, handle the
    messages, then the timers: liveness (heartbeats), stalls, recording
    finished or failed runs, and dispatching queued runs to idle
    extractors. The database is the state shared with the HTTP thread;
    this loop owns its own connection.
*/
#ifndef ORCH_ENGINE_H_INCLUDED
#define ORCH_ENGINE_H_INCLUDED

#include "vd_curve.h"
#include "vd_error.h"
#include "vd_secret.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *endpoint;        /* ZeroMQ endpoint services connect to  */
    const char *bind;            /* where to bind it ("": the endpoint)  */
    vd_curve_t *curve;           /* the orchestrator's keys (borrowed)   */
    int64_t dead_after_ms;       /* silent service -> dead               */
    int64_t dispatch_timeout_ms; /* queued run nobody can take -> failed */
    int64_t stall_timeout_ms;    /* running run without news -> failed   */
    int64_t dispatch_poll_ms;    /* periodic look at queued runs (0: 500) */
    vd_secret_key_t secret_key;  /* opens connector secrets (may be unset) */
    const char *timezone;        /* of schedules (VENDANGE_TIMEZONE)     */
    const char *vat_rate;        /* VENDANGE_VAT_RATE, for previews      */
    int64_t retention_raw_days;  /* orch_lifecycle_retain, hourly        */
    int64_t retention_runs_days;
    bool reco_after_sync; /* queue a recommendation run after a sync that
                             changed sales, products, stock or customers */
} orch_engine_config_t;

typedef struct orch_engine orch_engine_t;

/*  Binds the ROUTER, marks runs left running by a previous life failed
    and every service not alive until it sends a heartbeat. Takes the
    connection (*conn_p is set to NULL). NULL with err on failure. */
orch_engine_t *orch_engine_new (PGconn **conn_p, const orch_engine_config_t *config,
                                vd_error_t *err);
void orch_engine_destroy (orch_engine_t **self_p);

/*  Runs the loop until SIGINT / SIGTERM. Returns 0. */
int orch_engine_run (orch_engine_t *self);

/*  Self test. */
int orch_engine_test (bool verbose);

#endif

/*  orch_watch - the orchestrator's watch actor: evaluates the alert rules
    every interval and delivers the outbox (orch_alerts, vd_outbox), on a
    thread and a PostgreSQL connection of its own, so a slow mail server
    never holds up the control loop or the API.

    The first evaluation comes one interval after start: services that
    were alive before an orchestrator restart have sent a heartbeat by
    then.
*/
#ifndef ORCH_WATCH_H_INCLUDED
#define ORCH_WATCH_H_INCLUDED

#include "vd_error.h"
#include "vd_secret.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *dsn;
    const char *home;           /* VENDANGE_HOME (disk rule)            */
    const char *timezone;       /* VENDANGE_TIMEZONE (daily digests) */
    const char *webhook_addr;   /* VENDANGE_WEBHOOK_ADDR (spool rule) */
    int64_t spool_max_mb;       /* VENDANGE_WEBHOOK_SPOOL_MAX_MB     */
    int64_t retention_days;     /* VENDANGE_RETENTION_RUNS_DAYS      */
    vd_secret_key_t secret_key; /* opens channel secrets                */
    int64_t interval_s;         /* VENDANGE_ALERT_INTERVAL_S            */
    int64_t retry_s;            /* VENDANGE_OUTBOX_RETRY_S              */
    int64_t max_attempts;       /* VENDANGE_OUTBOX_MAX_ATTEMPTS         */
} orch_watch_config_t;

typedef struct orch_watch orch_watch_t;

/*  Starts the actor (config is copied). NULL with err. */
orch_watch_t *orch_watch_new (const orch_watch_config_t *config, vd_error_t *err);
/*  Stops it (within one delivery's timeout). Accepts NULL. */
void orch_watch_destroy (orch_watch_t **self_p);

int orch_watch_test (bool verbose);

#endif

/*  orchestrator - the control plane: connector registry, sync runs, the
    HTTP API and web page, the control channel every service talks to.

    orchestrator [--help]
*/
#include "vendange.h"
#include "vd_db.h"
#include "vd_migrate.h"
#include "orch_engine.h"
#include "orch_http.h"
#include "orch_loader.h"
#include "orch_watch.h"
#include <czmq.h>
#include <curl/curl.h>

#define CONNECT_GIVE_UP_MS 30000
#define CONNECT_MAX_DELAY_MS 5000

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: orchestrator [--help]\n\n"
                  "The vendange control plane: owns the connector registry and the sync\n"
                  "runs, serves the HTTP API and web page, and hands runs to extractors.\n\n");
    vd_config_usage (VD_SVC_ORCHESTRATOR, out);
}

/*  Sleeps ms in short steps, returning early on SIGINT / SIGTERM. */
static void
s_pause (int64_t ms)
{
    for (int64_t end = zclock_mono () + ms; !zsys_interrupted && zclock_mono () < end;)
        zclock_sleep (50);
}

/*  Connects, retrying with capped backoff for up to ~30 s; each distinct
    failure is logged once (the DSN redacted). NULL when it gives up or
    is interrupted. */
static PGconn *
s_connect (const char *dsn)
{
    int64_t give_up = zclock_mono () + CONNECT_GIVE_UP_MS;
    int64_t delay = 250;
    char last[sizeof ((vd_error_t *)0)->detail] = "";
    while (!zsys_interrupted) {
        vd_error_t err;
        vd_error_clear (&err);
        PGconn *conn = vd_db_connect (dsn, "vendange-orchestrator", &err);
        if (conn)
            return conn;
        if (strcmp (last, err.detail) != 0) {
            vd_log_error (VD_LOG_WARN, &err);
            snprintf (last, sizeof last, "%s", err.detail);
        }
        if (zclock_mono () + delay > give_up) {
            vd_log_detail (VD_LOG_ERROR, err.detail, err.hint, "giving up: %s", err.msg);
            return NULL;
        }
        s_pause (delay);
        delay = delay * 2 > CONNECT_MAX_DELAY_MS ? CONNECT_MAX_DELAY_MS : delay * 2;
    }
    return NULL;
}

/*  Runs the engine and the HTTP server until SIGINT / SIGTERM. */
static int
s_serve (const vd_config_t *cfg, PGconn **conn_p)
{
    vd_error_t err;
    vd_error_clear (&err);
    orch_engine_config_t ec = {
        .endpoint = vd_config_str (cfg, VD_CFG_ORCHESTRATOR_ENDPOINT),
        .bind = vd_config_str (cfg, VD_CFG_ORCHESTRATOR_BIND),
        .dead_after_ms = vd_config_int (cfg, VD_CFG_DEAD_AFTER_S) * 1000,
        .dispatch_timeout_ms = vd_config_int (cfg, VD_CFG_DISPATCH_TIMEOUT_S) * 1000,
        .stall_timeout_ms = vd_config_int (cfg, VD_CFG_STALL_TIMEOUT_S) * 1000,
        .timezone = vd_config_str (cfg, VD_CFG_TIMEZONE),
        .vat_rate = vd_config_str (cfg, VD_CFG_VAT_RATE),
        .retention_raw_days = vd_config_int (cfg, VD_CFG_RETENTION_RAW_DAYS),
        .retention_runs_days = vd_config_int (cfg, VD_CFG_RETENTION_RUNS_DAYS),
        .dispatch_poll_ms = vd_config_int (cfg, VD_CFG_DISPATCH_POLL_MS),
        .reco_after_sync = vd_config_int (cfg, VD_CFG_RECO_AFTER_SYNC) == 1,
    };
    ec.curve = vd_curve_new (cfg, "orchestrator", &err);
    if (!ec.curve || vd_secret_key_load (cfg, &ec.secret_key, &err) < 0) {
        vd_log_error (VD_LOG_ERROR, &err);
        vd_curve_destroy (&ec.curve);
        return 1;
    }
    if (!ec.secret_key.set)
        vd_warn ("no VENDANGE_SECRET_KEY: connectors with secrets (Odoo, webhooks) cannot be "
                 "registered");
    /* HTTP first: a taken port stops us before we touch any run */
    const char *addr = vd_config_str (cfg, VD_CFG_HTTP_ADDR);
    orch_api_config_t ac = {.dsn = vd_config_str (cfg, VD_CFG_DATABASE_URL),
                            .secret_key = &ec.secret_key,
                            .api_token = vd_config_str (cfg, VD_CFG_API_TOKEN),
                            .api_user = vd_config_str (cfg, VD_CFG_API_USER),
                            .api_password = vd_config_str (cfg, VD_CFG_API_PASSWORD),
                            .reco_follow_days = vd_config_int (cfg, VD_CFG_RECO_FOLLOW_DAYS),
                            .allowed_hosts = vd_config_str (cfg, VD_CFG_ALLOWED_HOSTS),
                            .files_root = vd_config_str (cfg, VD_CFG_FILES_ROOT),
                            .request_timeout_s = vd_config_int (cfg, VD_CFG_HTTP_REQUEST_TIMEOUT_S),
                            .client_connections =
                                vd_config_int (cfg, VD_CFG_HTTP_CLIENT_CONNECTIONS),
                            .timezone = ec.timezone};
    orch_loader_set_wait (vd_config_int (cfg, VD_CFG_COMMAND_WAIT_S) * 1000);
    orch_http_t *http = orch_http_new (addr, &ac, &err);
    orch_watch_config_t wc = {.dsn = ac.dsn,
                              .home = vd_config_str (cfg, VD_CFG_HOME),
                              .timezone = ec.timezone,
                              .webhook_addr = vd_config_str (cfg, VD_CFG_WEBHOOK_ADDR),
                              .spool_max_mb = vd_config_int (cfg, VD_CFG_WEBHOOK_SPOOL_MAX_MB),
                              .retention_days = ec.retention_runs_days,
                              .secret_key = ec.secret_key,
                              .interval_s = vd_config_int (cfg, VD_CFG_ALERT_INTERVAL_S),
                              .retry_s = vd_config_int (cfg, VD_CFG_OUTBOX_RETRY_S),
                              .max_attempts = vd_config_int (cfg, VD_CFG_OUTBOX_MAX_ATTEMPTS)};
    orch_engine_t *engine = http ? orch_engine_new (conn_p, &ec, &err) : NULL;
    orch_watch_t *watch = engine ? orch_watch_new (&wc, &err) : NULL;
    vd_secret_key_clear (&ec.secret_key); /* the engine, the API and the watch hold copies */
    vd_secret_key_clear (&wc.secret_key);
    if (!watch) {
        vd_log_error (VD_LOG_ERROR, &err);
        orch_engine_destroy (&engine);
        orch_http_destroy (&http);
        vd_curve_destroy (&ec.curve);
        return 1;
    }
    vd_info ("orchestrator %s started: API and web page on http://%s, control on %s", VD_VERSION,
             addr, ec.endpoint);
    orch_engine_run (engine);
    vd_info ("stopping");
    orch_watch_destroy (&watch);
    orch_http_destroy (&http);
    orch_engine_destroy (&engine);
    vd_curve_destroy (&ec.curve);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)) {
        s_usage (stdout);
        return 0;
    }
    vd_log_init ("orchestrator", VD_LOG_INFO);
    vd_db_set_role (VD_DB_SERVICE_ROLE); /* reads canonical.*: only the loader writes it */
    if (argc > 1) {
        fprintf (stderr, "orchestrator: unknown argument \"%s\"\n", argv[1]);
        s_usage (stderr);
        return 64;
    }
    vd_error_t err;
    vd_error_clear (&err);
    vd_config_t *cfg = vd_config_load (VD_SVC_ORCHESTRATOR, &err);
    vd_log_level_t level = VD_LOG_INFO;
    if (!cfg || vd_log_level_parse (vd_config_str (cfg, VD_CFG_LOG_LEVEL), &level) < 0) {
        if (cfg)
            vd_error_set (&err, VD_ERR_PERMANENT, "invalid VENDANGE_LOG_LEVEL");
        vd_log_error (VD_LOG_ERROR, &err);
        vd_config_destroy (&cfg);
        return 1;
    }
    vd_log_init ("orchestrator", level);
    zsys_init (); /* SIGINT / SIGTERM set zsys_interrupted from now on */
    /* before any thread: the watch thread sends notifications with libcurl */
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        vd_err ("cannot initialise libcurl");
        vd_config_destroy (&cfg);
        return 1;
    }
    int rc = 1;
    PGconn *conn = s_connect (vd_config_str (cfg, VD_CFG_DATABASE_URL));
    if (!conn)
        rc = zsys_interrupted ? 0 : 1;
    else if (vd_migrate (conn, &err) < 0)
        vd_log_error (VD_LOG_ERROR, &err);
    else
        rc = s_serve (cfg, &conn);
    if (conn)
        PQfinish (conn);
    vd_config_destroy (&cfg);
    curl_global_cleanup ();
    return rc;
}

/*  vd_config - configuration from the environment and an optional .env.

    One table (vd_config.c) lists every key: name, default, help text, the
    services that read it, and whether it is a secret. The same table drives
    --help, validation and redaction. Values are read once at start.
    Precedence: environment, then the .env file (VENDANGE_ENV_FILE, default
    ./.env), then the default.
*/
#ifndef VD_CONFIG_H_INCLUDED
#define VD_CONFIG_H_INCLUDED

#include "vd_error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    VD_CFG_DATABASE_URL,
    VD_CFG_HOME,
    VD_CFG_LOG_LEVEL,
    VD_CFG_ORCHESTRATOR_ENDPOINT,
    VD_CFG_NORMALIZER_ENDPOINT,
    VD_CFG_LOADER_ENDPOINT,
    VD_CFG_HTTP_ADDR,
    VD_CFG_API_URL,
    VD_CFG_HEARTBEAT_MS,
    VD_CFG_DEAD_AFTER_S,
    VD_CFG_DISPATCH_TIMEOUT_S,
    VD_CFG_STALL_TIMEOUT_S,
    VD_CFG_COMMAND_WAIT_S,
    VD_CFG_BATCH_ROWS,
    VD_CFG_COPY_BINARY,
    VD_CFG_VAT_RATE,
    VD_CFG_TIMEZONE,
    VD_CFG_SEGMENT_VIP_SPENT,
    VD_CFG_SEGMENT_VIP_ORDERS,
    VD_CFG_SEGMENT_AT_RISK_DAYS,
    VD_CFG_SEGMENT_INACTIVE_DAYS,
    VD_CFG_EXTRACTORS_ISAVIGNE,
    VD_CFG_PG_PORT,
    VD_CFG_SECRET_KEY,
    VD_CFG_SECRET_KEY_FILE,
    VD_CFG_RETENTION_RAW_DAYS,
    VD_CFG_RETENTION_RUNS_DAYS,
    VD_CFG_WEBHOOK_ADDR,
    VD_CFG_WEBHOOK_SPOOL,
    VD_CFG_WEBHOOK_MAX_BODY_KB,
    VD_CFG_WEBHOOK_SPOOL_MAX_MB,
    VD_CFG_WEBHOOK_IDLE_TIMEOUT_S,
    VD_CFG_WEBHOOK_REQUEST_TIMEOUT_S,
    VD_CFG_WEBHOOK_ACK_TIMEOUT_S,
    VD_CFG_WEBHOOK_RETRY_AFTER_S,
    VD_CFG_WEBHOOK_BATCH_EVENTS,
    VD_CFG_WEBHOOK_RUN_S,
    VD_CFG_EXTRACTORS_ODOO,
    VD_CFG_PERSON_MATCH,
    VD_CFG_DISPATCH_POLL_MS,
    VD_CFG_API_TOKEN,
    VD_CFG_API_USER,
    VD_CFG_API_PASSWORD,
    VD_CFG_RECO_TOP,
    VD_CFG_RECO_RECENT_DAYS,
    VD_CFG_RECO_FOLLOW_DAYS,
    VD_CFG_RECO_BAD_DAYS,
    VD_CFG_RECO_POLL_S,
    VD_CFG_RECO_AFTER_SYNC,
    VD_CFG_ALLOWED_HOSTS,
    VD_CFG_HTTP_REQUEST_TIMEOUT_S,
    VD_CFG_HTTP_CLIENT_CONNECTIONS,
    VD_CFG_FILES_ROOT,
    VD_CFG_ALERT_INTERVAL_S,
    VD_CFG_OUTBOX_RETRY_S,
    VD_CFG_OUTBOX_MAX_ATTEMPTS,
    VD_CFG_KEYS_DIR,
    VD_CFG_KEY_FILE,
    VD_CFG_ORCHESTRATOR_BIND,
    VD_CFG_NORMALIZER_BIND,
    VD_CFG_LOADER_BIND,
    VD_CFG_COUNT
} vd_cfg_key_t;

/*  Which services read a key (bit mask in the table). */
#define VD_SVC_CLI 0x01
#define VD_SVC_ORCHESTRATOR 0x02
#define VD_SVC_NORMALIZER 0x04
#define VD_SVC_LOADER 0x08
#define VD_SVC_EXTRACTOR 0x10
#define VD_SVC_WEBHOOK 0x20 /* the webhook gateway (also an extractor) */
#define VD_SVC_RECO 0x40    /* the recommender */
#define VD_SVC_ALL 0xff

typedef struct vd_config vd_config_t;

/*  Reads the environment and .env for a service (mask VD_SVC_*). Checks
    every numeric key (range included) and returns NULL with err naming
    the key on a bad value. */
vd_config_t *vd_config_load (unsigned service, vd_error_t *err);
void vd_config_destroy (vd_config_t **self_p);

/*  The value (never NULL: "" when unset and no default). Borrowed. */
const char *vd_config_str (const vd_config_t *self, vd_cfg_key_t key);
/*  A numeric key, already validated by vd_config_load. */
int64_t vd_config_int (const vd_config_t *self, vd_cfg_key_t key);
/*  The environment variable name of a key ("DATABASE_URL"). */
const char *vd_config_name (vd_cfg_key_t key);
/*  True when the key was set (environment or .env), not defaulted. */
bool vd_config_is_set (const vd_config_t *self, vd_cfg_key_t key);

/*  Prints the keys a service reads, with defaults and help (for --help). */
void vd_config_usage (unsigned service, FILE *out);

/*  Checked integer parsing: whole string, base 10, within [min, max].
    Returns 0, -1. Never use atoi. */
int vd_parse_int (const char *s, int64_t min, int64_t max, int64_t *out);

/*  Copies a connection string or URL into out with any password replaced
    by "***" (postgresql://u:pw@h/db, password=pw, and ?password=). */
void vd_redact_dsn (const char *dsn, char *out, size_t size);

int vd_config_test (bool verbose);

#endif

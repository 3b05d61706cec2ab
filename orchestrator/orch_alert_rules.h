/*  orch_alert_rules - the alert rules: one const table (name, what makes
    it fire, its settings with their defaults) and, per rule, what is
    firing now.

    A rule's settings are looked up per connector, then for every
    connector, then the default of the table (ops.alert_setting and
    ops.alert_enabled, migration 16; `vendange alerts set`). Evaluating a
    rule gives the subjects firing now as a JSON array of
    {"subject", "connector" (or null), "detail"}; orch_alerts opens and
    resolves the rows from it.
*/
#ifndef ORCH_ALERT_RULES_H_INCLUDED
#define ORCH_ALERT_RULES_H_INCLUDED

#include "vd_error.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define ORCH_ALERT_MAX_PARAMS 3

typedef struct {
    const char *key;
    const char *def; /* the documented default                 */
    const char *help;
} orch_alert_param_t;

typedef struct {
    const char *home;         /* VENDANGE_HOME: the disk rule's folder ("" none) */
    const char *webhook_addr; /* VENDANGE_WEBHOOK_ADDR: the gateway's /health    */
    int64_t spool_max_mb;     /* VENDANGE_WEBHOOK_SPOOL_MAX_MB                   */
} orch_alert_env_t;

typedef struct orch_alert_rule orch_alert_rule_t;

/*  The rules, in order; NULL past the last. */
const orch_alert_rule_t *orch_alert_rule_at (int i);
/*  The rule called name, NULL when none. */
const orch_alert_rule_t *orch_alert_rule_find (const char *name);

const char *orch_alert_rule_name (const orch_alert_rule_t *rule);
const char *orch_alert_rule_summary (const orch_alert_rule_t *rule);
/*  Its i-th setting, NULL past the last. */
const orch_alert_param_t *orch_alert_rule_param (const orch_alert_rule_t *rule, int i);

/*  The subjects of rule firing now (a new JSON array, the caller
    json_decref()s it). NULL with err on a database error: nothing may be
    resolved from a failed evaluation. */
json_t *orch_alert_rule_eval (const orch_alert_rule_t *rule, PGconn *conn,
                              const orch_alert_env_t *env, vd_error_t *err);

/*  The rules with their settings as JSON (for the API and --help). */
json_t *orch_alert_rules_json (void);

/*  Checks a setting value for rule: a known key, a number (or on/off
    for run_failed's partial). 0, -1 with err naming the key. */
int orch_alert_rule_check (const orch_alert_rule_t *rule, const char *key, const char *value,
                           vd_error_t *err);

/*  The gap in seconds between two occurrences of a schedule text after
    now (0 when unscheduled or invalid). */
int64_t orch_alert_schedule_gap_s (const char *schedule, time_t now);

int orch_alert_rules_test (bool verbose);

#endif

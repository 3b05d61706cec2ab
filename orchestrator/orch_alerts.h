/*  orch_alerts - alerts opened and resolved once, and their notifications.

    Each evaluation compares what a rule finds firing with the open rows
    of ops.alerts (one open row per rule and subject, a unique index):
    a new subject opens a row, an open row whose subject no longer fires
    is resolved; either change writes one notification per channel into
    the outbox (vd_outbox) in the same transaction, except to a channel
    set `digest=HH:MM`, which gets one digest a day instead. Nothing else sends:
    an orchestrator restarted with an alert still open finds the row and
    notifies nobody again.

    The outbox rows of origin "alert" and "alert-test" are delivered by
    orch_alerts_deliver: the target is a channel of ops.alert_channels
    (smtp or http), whose secrets are opened only to send.
*/
#ifndef ORCH_ALERTS_H_INCLUDED
#define ORCH_ALERTS_H_INCLUDED

#include "orch_alert_rules.h"
#include "vd_error.h"
#include "vd_secret.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define ORCH_ALERTS_SEND_TIMEOUT_MS 8000L /* one delivery, within a clean stop */

/*  Evaluates every rule and applies what changed. A rule that cannot be
    evaluated is skipped (logged) and keeps its rows as they are. Returns
    the number of alerts opened or resolved, -1 with err when the database
    failed while applying. */
int orch_alerts_evaluate (PGconn *conn, const orch_alert_env_t *env, vd_error_t *err);

/*  Applies the firing set of one rule (a JSON array, see
    orch_alert_rules.h) in one transaction. Returns the changes, -1. */
int orch_alerts_apply (PGconn *conn, const char *rule, const json_t *firing, vd_error_t *err);

/*  Queues the daily digest of every channel set digest=HH:MM whose time
    (local, in tz) has come today and that has not had today's. Returns
    how many were queued, -1 with err. */
int orch_alerts_digests (PGconn *conn, const char *tz, vd_error_t *err);

/*  Deletes the alerts resolved more than days days ago, and the
    notifications sent or given up as long ago (days 0: none). Returns
    how many rows, -1 with err. */
int64_t orch_alerts_purge (PGconn *conn, int64_t days, vd_error_t *err);

/*  The context a channel's secrets are sealed for ("alert-channel:NAME"). */
void orch_alerts_channel_context (const char *name, char *out, size_t size);

/*  What orch_alerts_deliver needs: a connection to read channels, the key
    that opens their secrets. */
typedef struct {
    PGconn *conn;
    const vd_secret_key_t *key;
} orch_alerts_sender_t;

/*  vd_outbox_deliver_fn for alert notifications (arg: the sender). */
int orch_alerts_deliver (void *arg, int64_t id, const char *target, const json_t *payload,
                         vd_error_t *err);

/*  The text of a notification: its subject line and body (malloc'ed). */
char *orch_alerts_text (const json_t *payload, char *subject, size_t size);

int orch_alerts_test (bool verbose);

#endif

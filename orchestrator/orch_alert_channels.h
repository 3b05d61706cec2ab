/*  orch_alert_channels - where alert notifications go: the endpoints of
    /api/alerts/channels over ops.alert_channels.

    A channel is "smtp" (url smtp://host:port with STARTTLS, or
    smtps://host:port; user, password, from, to, starttls on|off, ca_file)
    or "http" (url, the whole URL a secret since Teams, Slack and Power
    Automate put their token in it; format json|slack|teams; ca_file).
    Secrets are sealed with the orchestrator's key, bound to the
    channel's name (orch_alerts_channel_context), and never answered.
*/
#ifndef ORCH_ALERT_CHANNELS_H_INCLUDED
#define ORCH_ALERT_CHANNELS_H_INCLUDED

#include "orch_api.h"

/*  Validates the settings of a channel of type. Returns 0 with *pub and
 *sec (new references), -1 with err naming the setting. */
int orch_alert_channels_validate (const char *type, const json_t *settings, json_t **pub,
                                  json_t **sec, vd_error_t *err);

/*  True when key is a secret setting of a channel of type. */
bool orch_alert_channels_is_secret (const char *type, const char *key);

void orch_alert_channels_list (PGconn *conn, orch_answer_t *a);
/*  POST {"name", "type", "settings": {...}}: adds or replaces a channel. */
void orch_alert_channels_create (PGconn *conn, const vd_secret_key_t *key,
                                 const orch_request_t *req, orch_answer_t *a);
void orch_alert_channels_delete (PGconn *conn, const char *name, orch_answer_t *a);

int orch_alert_channels_test (bool verbose);

#endif

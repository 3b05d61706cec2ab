/*  orch_alerts_api - the alert endpoints of the HTTP API:
      GET  /api/alerts[?all=true]     open alerts (all: with the last 200
                                      resolved ones), each with its
                                      deliveries; the counts per rule
      GET  /api/alerts/rules          the rules, their defaults and the
                                      settings stored per connector
      POST /api/alerts/rules          {"rule", "connector"?, "enabled"?,
                                      "settings"?: {key: value|null}}
      POST /api/alerts/test           {"channel"?}: a test notification
                                      through one channel or all
      GET  /api/alerts/deliveries/ID  one outbox row (the CLI's wait)
    The channels are orch_alert_channels.
*/
#ifndef ORCH_ALERTS_API_H_INCLUDED
#define ORCH_ALERTS_API_H_INCLUDED

#include "orch_api.h"

void orch_alerts_api_list (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_alerts_api_rules (PGconn *conn, orch_answer_t *a);
void orch_alerts_api_set_rule (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_alerts_api_test (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_alerts_api_delivery (PGconn *conn, int64_t id, orch_answer_t *a);

#endif

/*  orch_hooks - the orchestrator's side of the webhook gateways
    (extractor-webhook, see extractors/webhook/hook_forward.h):

    - configuration: the connectors of type brevo and powerautomate, with
      their secrets, sent to a gateway when it connects (or comes back)
      and to every live gateway when the registry changes (checked every
      second) or every 30 s:
        {"type":"hook_config","version":V,"connectors":[{"name","type","settings"}]}
      V is the configuration's fingerprint; a gateway answers
      {"type":"hook_config_ack","version":V} once it applies it, kept in
      ops.services.hook_config (NOTIFY vendange_hook_ack), so that
      `connector add` returns only when every gateway knows the connector;
    - runs: "hook_run" requests. A webhook run (trigger 'webhook') belongs
      to one gateway spool (ops.sync_runs.extractor); it is closed when
      the gateway says its period is over and its batches are confirmed:
      the run succeeds when ops.run_batches holds exactly batches 1..B and
      the counts balance, else it fails with the reason;
    - confirmations: "batch_committed" from the loader, relayed to every
      live gateway (each keeps only its own).
*/
#ifndef ORCH_HOOKS_H_INCLUDED
#define ORCH_HOOKS_H_INCLUDED

#include "orch_engine.h"
#include "orch_registry.h"
#include <czmq.h>
#include <jansson.h>
#include <libpq-fe.h>

typedef struct orch_hooks orch_hooks_t;

/*  How the engine sends a message to a service (0, -1). */
typedef int (orch_hooks_send_fn) (orch_engine_t *engine, zframe_t *identity, json_t *msg);

orch_hooks_t *orch_hooks_new (orch_engine_t *engine, orch_hooks_send_fn *send,
                              orch_registry_t *registry, const vd_secret_key_t *key,
                              bool reco_after_sync);
void orch_hooks_destroy (orch_hooks_t **self_p);

/*  The fingerprint of the webhook connectors' configuration (33 bytes of
    hex in out). Returns 0, -1 with err. */
int orch_hooks_fingerprint (PGconn *conn, char *out, size_t size, vd_error_t *err);
/*  Waits, up to timeout_ms, until every live gateway has acknowledged
    the current configuration (on conn, the caller's own connection).
    *lagging: the gateways (instances) that have not, an array (caller's).
    Returns 0, -1 with err on a database error. */
int orch_hooks_await_config (PGconn *conn, int timeout_ms, json_t **lagging, vd_error_t *err);
/*  The configuration may have changed (a notification): check it now. */
void orch_hooks_wake (orch_hooks_t *self);

/*  Handles "hook_run", "hook_config_ack" and "batch_committed"; false for
    other types. */
bool orch_hooks_handle (orch_hooks_t *self, PGconn *conn, json_t *msg, zframe_t *identity);
/*  A service connected or came back: a gateway gets its configuration. */
void orch_hooks_service_seen (orch_hooks_t *self, PGconn *conn, orch_service_t *service);
/*  Timers: registry changes. Call with a live connection. */
void orch_hooks_tick (orch_hooks_t *self, PGconn *conn, int64_t now_ms);

int orch_hooks_test (bool verbose);

#endif

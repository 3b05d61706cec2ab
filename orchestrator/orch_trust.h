/*  orch_trust - who may say what on the control channel.

    Every control message arrives over CURVE with the role the ZAP handler
    authenticated for its peer (the "User-Id" of its frames, vd_curve).
    A message is handled only when the role it claims ("role", and for a
    heartbeat the connector "kind" an extractor serves) is that role, and
    its type is one that role sends:

      heartbeat                        every role
      loaded, batch_committed          the loader
      extracted, line_hashes, tested   an extractor
      hook_run, hook_config_ack        the webhook gateway
      progress, failed                 the loader, a normalizer, an extractor
      run_status                       a normalizer

    so a peer holding the key of one role can neither pass for another
    (and be handed its secrets) nor report what only another role knows.
    The orchestrator also checks that a run's extractor messages come
    from the very process it handed the run to (orch_engine).
*/
#ifndef ORCH_TRUST_H_INCLUDED
#define ORCH_TRUST_H_INCLUDED

#include "orch_active.h"
#include "vd_error.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/*  True when msg may be handled coming from a peer authenticated as
    peer_role (NULL: none). Else false with the reason in why. */
bool orch_trust_check (const json_t *msg, const char *peer_role, char *why, size_t size);

/*  The answer to a normalizer's {"type":"run_status","run_id":N}:
    {"type":"run_status","run_id":N,"open":true} when the run is running
    (in active and not failed there, or, for a webhook run, in the
    database: vd_fence); NULL with err when the database cannot tell. */
json_t *orch_trust_run_status (orch_active_t *active, PGconn *conn, const json_t *msg,
                               vd_error_t *err);

/*  Self test. */
int orch_trust_test (bool verbose);

#endif

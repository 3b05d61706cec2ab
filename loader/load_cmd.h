/*  load_cmd - what other services change in canonical.*, run by the
    loader: the only writer of the canonical tables.

    The orchestrator (and any service) queues a command in
    ops.loader_commands (kind, args); the insert's notification wakes the
    loader, which runs each queued command in one transaction of its own,
    between its runs' batches, with the same rules as its loads (content
    hashes cleared on rows it changes, aggregates of the customers it
    touches brought up to date), and stores the outcome in the same
    transaction: status done with a result, or failed with the reason.
    A command queued while the loader is down runs when it starts.

    Kinds:
    forget {"subject"}: a person erased (see orch_lifecycle.h); result
        {"forget_id", "anonymous_key", "customers", "sales_lines",
        "contacts", "recommendations", "rejects", "warnings"}.
    remove_connector {"name", "purge"}: the connector removed unless a
        run of it is queued or running, with purge the rows it wrote
        deleted and the aggregates brought up to date; result {"removed",
        "purged": {table: rows}}.
    retain_payloads {"days"}: contact events' payloads older than that
        erased; result {"rows"}.
    reco_verdict {"customer", "product", "verdict", "reason", "at"}: a
        staff verdict on a recommendation as the customer's contact event
        (queued with the verdict itself, orch_reco_feedback); result
        {"rows"}.
    reco_followed {"pairs": [{"customer", "product", "followed", "at",
        "detail"}]}: what followed recommendations (a click, a purchase),
        found by the recommender's job, as contact events; result
        {"rows"}.
*/
#ifndef LOAD_CMD_H_INCLUDED
#define LOAD_CMD_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"
#include "load_customers.h"

#define LOAD_CMD_CHANNEL "vendange_loader_commands"

/*  Runs every queued command, oldest first. Returns how many ran, -1 with
    err when the database failed (the command stays queued). */
int load_cmd_serve (PGconn *conn, const load_customers_rules_t *agg, vd_error_t *err);

int load_cmd_test (bool verbose);

#endif

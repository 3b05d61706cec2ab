/*  orch_lifecycle - what vendange keeps, and for how long.

    forget: `vendange forget EMAIL|CUSTOMER_KEY` (POST /api/forget
    {"subject": ...}) erases a person in one transaction, run by the
    loader (a "forget" command, load_cmd.h; 202 when it has not run it
    within VENDANGE_COMMAND_WAIT_S): every customer
    row of the person (the key given, the same email, the same person_key)
    is deleted; their sales lines stay, under one anonymous customer key
    ("forgotten-N") so product-level figures do not change; their contact
    events lose email, payload and details and move to that key; rejects'
    raw content and warnings' raw values holding one of their identifiers
    (email, phones, client code) are erased; ops.forget_log records the
    counts, never the values. The person's emails are kept 30 days as
    SHA-256 hashes (ops.forgotten_emails): events still in a gateway's
    spool are erased when they reach the loader.

    retention: raw content (rejects' raw lines, warnings' raw values,
    events' payloads) older than VENDANGE_RETENTION_RAW_DAYS is erased, run
    history older than VENDANGE_RETENTION_RUNS_DAYS deleted (each
    connector keeps its latest run); 0 keeps them forever. The events'
    payloads are the loader's to erase: the pass queues a
    "retain_payloads" command.
*/
#ifndef ORCH_LIFECYCLE_H_INCLUDED
#define ORCH_LIFECYCLE_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

/*  POST /api/forget: 200 {"forget_id", "anonymous_key", "customers",
    "sales_lines", "contacts", "recommendations", "rejects", "warnings"};
    202 {"command_id", "status": "queued"}; 400 without a subject. */
void orch_lifecycle_forget (PGconn *conn, const orch_request_t *req, orch_answer_t *a);

/*  One retention pass. Returns the number of rows changed or deleted, -1
    with err. */
int64_t orch_lifecycle_retain (PGconn *conn, int64_t raw_days, int64_t runs_days, vd_error_t *err);

#endif

/*  orch_lines - which per-line hashes an extractor may trust.

    The set of a file (ops.line_hashes, written by the loader in a run's
    last transaction) is given for a run of the connector only when:
    the connector's cursor (moved by a successful run) names the run that
    wrote it ("lines": {file: run}), every later run of the connector
    succeeded (a failed or partial run may have loaded some lines of
    another version), and the connector is not a full snapshot (its
    deletions need every line read). Anything that clears a canonical
    row's content_hash, or deletes rows (forget, purge, a hand edit),
    has already dropped the connector's sets (triggers, vd_migrate).
*/
#ifndef ORCH_LINES_H_INCLUDED
#define ORCH_LINES_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

/*  The trusted set of file for run run_id of connector: *hashes (the
    sorted 16-byte hashes, the caller frees it) and *n, and the rules
    fingerprint they were kept under; *n = 0 and *hashes NULL when none
    can be trusted. Returns 0, -1 with err. */
int orch_lines_trusted (PGconn *conn, const char *connector, const char *file, int64_t run_id,
                        uint8_t **hashes, size_t *n, char *rules, size_t rules_size,
                        vd_error_t *err);

#endif

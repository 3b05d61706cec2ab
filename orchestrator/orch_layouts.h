/*  orch_layouts - accepting the new column layout of an iSaVigne export
    file (isv_layout):

      POST /api/connectors/NAME/accept-layout  {"file": "ventes.csv"}
      {"connector", "file", "columns": [...], "added": [...], "missing": [...]}

    The extractor leaves a file whose columns changed unread and puts its
    new layout in the connector's cursor, under "pending_layouts"; this
    moves it to "layouts" (the accepted ones), so the next sync reads the
    file. Refused (409) while the connector has a run queued or running:
    that run would write back the cursor it started with.
*/
#ifndef ORCH_LAYOUTS_H_INCLUDED
#define ORCH_LAYOUTS_H_INCLUDED

#include "orch_api.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

void orch_layouts_accept (PGconn *conn, const char *name, const orch_request_t *req,
                          orch_answer_t *a);

/*  Accepts file's pending layout in cursor (a connector cursor as JSON,
    changed in place). Returns the accepted change ({"columns", "added",
    "missing"}, a new reference), NULL when file has no pending layout. */
json_t *orch_layouts_accept_cursor (json_t *cursor, const char *file);

int orch_layouts_test (bool verbose);

#endif

/*  orch_mapping - GET /api/mapping[?connector=NAME]: the iSaVigne column
    mapping in use, as canonical table -> input field -> source columns,
    each input with the canonical columns it feeds (vd_schema). The
    connector's `mapping` file when it has one (read on the orchestrator's
    host), else the built-in mapping (`extractor-isavigne --print-mapping`,
    the binary next to the orchestrator's).
*/
#ifndef ORCH_MAPPING_H_INCLUDED
#define ORCH_MAPPING_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>
#include <stdbool.h>

#define ORCH_MAPPING_MAX (256 * 1024) /* mapping text ceiling */

/*  files_root: VENDANGE_FILES_ROOT; a mapping setting outside the roots
    (stored before they were checked) is refused, 403, the file unread. */
void orch_mapping_get (PGconn *conn, const char *files_root, const orch_request_t *req,
                       orch_answer_t *a);

/*  Parses mapping text ("[table]", "files = ...", "input = a | b") into
    the answer's "tables". NULL when out of memory. */
json_t *orch_mapping_parse (const char *text);

int orch_mapping_test (bool verbose);

#endif

/*  orch_warnings - the lines of one warning summary, page by page:

      GET /api/warnings/ID/lines?after=LINE&limit=N
      {"id", "run_id", "table", "file", "field", "reason", "count",
       "examples", "line", "raw_value", "lines": [2, 3, ...], "next_after"}

    A run's warnings are summaries, one per table, file, field and reason
    (load_warn, orch_runview); this lists every line of one, in order,
    those after LINE (all when absent), at most N (default 1000, at most
    10000). next_after is the last line given when more follow (the next
    page's after), else null.
*/
#ifndef ORCH_WARNINGS_H_INCLUDED
#define ORCH_WARNINGS_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define ORCH_WARNING_LINES_DEFAULT 1000
#define ORCH_WARNING_LINES_MAX 10000

void orch_warnings_lines (PGconn *conn, int64_t id, const orch_request_t *req, orch_answer_t *a);

/*  Self test. Returns 0 when every check passes. */
int orch_warnings_test (bool verbose);

#endif

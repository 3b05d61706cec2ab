/*  orch_runview - a sync run as the API and `vendange runs --json` show it
    (SPEC "vendange runs --json"):

      {"id", "connector", "connector_type", "status", "full", "trigger",
       "queued_at", "started_at", "finished_at", "duration_s",
       "cursor_before", "cursor_after", "extractor",
       "tables": {"sales_lines": {"extracted", "inserted", "updated",
                                  "unchanged", "rejected"}, ...},
       "records_done", "warnings": [{"id", "run_id", "table", "file",
       "field", "reason", "count", "line", "raw_value", "examples":
       [{"line", "raw_value"}]}], "warnings_total", "warning_summaries",
       "errors", "files"}

    Timestamps are ISO 8601 UTC ("2026-11-25T10:00:00Z"); duration_s is
    null until the run finished; records_done sums inserted + updated +
    unchanged + rejected over the tables. A warning is the summary of
    one kind (table, file, field, reason) in the run (ops.warning_summaries):
    its count and first examples ("line" and "raw_value" are the first's);
    at most ORCH_RUN_WARNINGS summaries are listed, warning_summaries
    counts them, warnings_total counts the warnings (their lines:
    orch_warnings).
*/
#ifndef ORCH_RUNVIEW_H_INCLUDED
#define ORCH_RUNVIEW_H_INCLUDED

#include "vd_error.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define ORCH_RUN_WARNINGS 100
#define ORCH_RUNS_DEFAULT_LIMIT 20
#define ORCH_RUNS_MAX_LIMIT 500

/*  The SQL expression that formats a timestamptz column as ISO 8601 UTC. */
#define ORCH_SQL_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

typedef struct {
    const char *name;
    int64_t extracted, inserted, updated, unchanged, rejected;
    int64_t deleted; /* rows a source deleted (Odoo); shown when > 0 */
} orch_table_count_t;

/*  One ops.sync_runs row as text (NULL: SQL NULL). */
typedef struct {
    int64_t id;
    const char *connector, *connector_type, *status, *trigger, *extractor;
    const char *queued_at, *started_at, *finished_at; /* ISO 8601 UTC    */
    const char *duration_s;                           /* seconds, text   */
    const char *cursor_before, *cursor_after;
    const char *files, *errors; /* JSON array text */
    bool full;
} orch_run_row_t;

/*  The run object with empty tables and warnings (new reference, NULL
    when out of memory). Malformed files / errors text gives []. */
json_t *orch_runview_build (const orch_run_row_t *row);
/*  Adds a table's counts and updates records_done. Returns 0, -1. */
int orch_runview_add_table (json_t *run, const orch_table_count_t *t);
/*  Appends a warning object (reference stolen). Returns 0, -1. */
int orch_runview_add_warning (json_t *run, json_t *warning);

/*  The columns of a warning summary that orch_runview_warning reads. */
#define ORCH_WARNING_COLUMNS                                                                       \
    "x.id, x.run_id, x.table_name, x.file, x.field, x.reason, x.count, (SELECT "                   \
    "coalesce(json_agg(json_build_object('line', e.line, 'raw_value', e.value) ORDER BY e.n), "    \
    "'[]') FROM unnest(x.example_lines, x.example_values) WITH ORDINALITY "                        \
    "AS e(line, value, n))::text"
/*  A warning summary from ORCH_WARNING_COLUMNS read from column col of
    row i (new reference, NULL when out of memory). */
json_t *orch_runview_warning (const PGresult *res, int i, int col);

/*  Runs newest first, of one connector (NULL: all), at most limit.
    Returns a JSON array, or NULL with err. */
json_t *orch_runview_list (PGconn *conn, const char *connector, int limit, vd_error_t *err);
/*  One run, or NULL with err (err->http_status 404 when there is no such
    run, 500 otherwise). */
json_t *orch_runview_get (PGconn *conn, int64_t id, vd_error_t *err);

/*  Self test. Returns 0 when every check passes. */
int orch_runview_test (bool verbose);

#endif

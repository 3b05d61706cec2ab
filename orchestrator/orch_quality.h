/*  orch_quality - the data-quality report on the canonical tables
    (GET /api/quality, GET /api/quality/anomalies.csv, `vendange quality`).

    Per table: completeness of every column (% of rows where it is filled;
    the SQL is generated from the table-driven schema, vd_schema.c), then
    the checks of one const table (invalid values, duplicates, orphans),
    each a WHERE clause over one canonical table that names the offending
    rows. The score of a table is
        100 x (0.5 x mean completeness + 0.5 x (1 - anomalous rows / rows))
    where an anomalous row is a row that fails at least one check (an
    empty table scores null).

    With the tables, the report gives its date (generated_at, UTC, and
    generated_local, in the time zone of VENDANGE_TIMEZONE), the
    connectors with their last run (sources) and the finished runs of
    the last ORCH_QUALITY_DAYS days with their records and rejects
    (runs, oldest first, at most ORCH_QUALITY_RUNS_MAX: the newest).
    orch_quality_pdf draws the same report on an A4 page.
*/
#ifndef ORCH_QUALITY_H_INCLUDED
#define ORCH_QUALITY_H_INCLUDED

#include "orch_api.h"
#include "vd_buf.h"
#include <libpq-fe.h>
#include <stdbool.h>

#define ORCH_QUALITY_SAMPLE 20      /* anomalies listed per check in the JSON */
#define ORCH_QUALITY_CSV_MAX 100000 /* anomalies per check in the CSV          */
#define ORCH_QUALITY_DAYS 30        /* runs of the last days in the report      */
#define ORCH_QUALITY_RUNS_MAX 1000  /* of which at most these, the newest       */

/*  The report as JSON, NULL with err; local times in timezone (an IANA
    name, "Europe/Paris"; NULL or "": UTC). */
json_t *orch_quality_json (PGconn *conn, const char *timezone, vd_error_t *err);
/*  GET /api/quality. */
void orch_quality_get (PGconn *conn, const char *timezone, orch_answer_t *a);
/*  GET /api/quality/anomalies.csv: table,check,kind,key,detail. */
void orch_quality_csv (PGconn *conn, orch_answer_t *a);

/*  Appends one CSV field (RFC 4180: quoted when it holds a comma, quote,
    CR or LF; quotes doubled; NULL is empty), then ',' or CRLF when last.
    Returns 0, -1 when the buffer's ceiling is reached. */
int orch_csv_field (vd_buf_t *b, const char *s, bool last);

/*  Self test (SQL generation, CSV quoting). */
int orch_quality_test (bool verbose);

#endif

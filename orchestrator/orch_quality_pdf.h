/*  orch_quality_pdf - the data-quality report (orch_quality_json) as a
    one-page A4 PDF, drawn with cairo and pango (GET /api/quality.pdf,
    `vendange quality --pdf FILE`).

    From top to bottom: the date (local time of the report's time zone),
    the sources with their last run, each table's score and the
    completeness of its columns as bars, the anomaly counts of every check
    with their first examples, and a chart of the rejects of each run of
    the last ORCH_QUALITY_DAYS days. Lists longer than the page holds are
    cut with "... and N more"; the page count is always one. Text is in
    DejaVu Sans (Debian's fonts-dejavu-core), so the page looks the same
    on every Debian host.
*/
#ifndef ORCH_QUALITY_PDF_H_INCLUDED
#define ORCH_QUALITY_PDF_H_INCLUDED

#include "orch_api.h"
#include "vd_buf.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define ORCH_QUALITY_PDF_MAX (16 * 1024 * 1024) /* bytes of the document */

/*  Appends the PDF of report (borrowed; members missing or of the wrong
    type are drawn as empty) to out. Returns 0, -1 with err (out of
    memory, past out's ceiling, a cairo error). */
int orch_quality_pdf (const json_t *report, vd_buf_t *out, vd_error_t *err);

/*  GET /api/quality.pdf: the report of orch_quality_json as a PDF. */
void orch_quality_pdf_get (PGconn *conn, const char *timezone, orch_answer_t *a);

/*  Self test (a report drawn to a PDF of one page, an empty one, a
    ceiling too small, number formats). */
int orch_quality_pdf_test (bool verbose);

#endif

/*  orch_metrics - GET /metrics in the Prometheus text format (0.0.4),
    every figure read from ops.* when scraped (see orch_metrics.c for the
    families).
*/
#ifndef ORCH_METRICS_H_INCLUDED
#define ORCH_METRICS_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

/*  The exposition text (malloc'ed), NULL with err. */
char *orch_metrics_text (PGconn *conn, vd_error_t *err);
void orch_metrics_get (PGconn *conn, orch_answer_t *a);

int orch_metrics_test (bool verbose);

#endif

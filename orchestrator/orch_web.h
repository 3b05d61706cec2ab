/*  orch_web - GET /: one self-contained HTML page (no external resource)
    listing connectors, their last runs with counts, and services. Every
    value is HTML-escaped.
*/
#ifndef ORCH_WEB_H_INCLUDED
#define ORCH_WEB_H_INCLUDED

#include "orch_api.h"
#include "vd_buf.h"
#include <libpq-fe.h>

void orch_web_page (PGconn *conn, orch_answer_t *a);

/*  Appends s HTML-escaped (& < > " ') to out. Returns 0, -1 on ceiling. */
int orch_web_escape (vd_buf_t *out, const char *s);

int orch_web_test (bool verbose);

#endif

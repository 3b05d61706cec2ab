/*  orch_tests - `connector test`: checks of a connector's settings run by
    an idle extractor of its type, on the control loop's side.

    The API inserts a row in ops.connector_tests (status pending); each
    dispatch turn the loop hands pending tests to idle extractors
    ({"type":"test","request_id":"test-ID",...} with the settings and the
    opened secrets), and records their {"type":"tested"} answer (minus
    routing fields) as the row's result: status ok or failed. A test no
    extractor can take within the dispatch timeout, or left unanswered for
    ORCH_TEST_ANSWER_MS, fails with the reason.
*/
#ifndef ORCH_TESTS_H_INCLUDED
#define ORCH_TESTS_H_INCLUDED

#include "vd_error.h"
#include "vd_secret.h"
#include "orch_registry.h"
#include <czmq.h>
#include <jansson.h>
#include <libpq-fe.h>

#define ORCH_TEST_ANSWER_MS 45000

typedef struct orch_tests orch_tests_t;

/*  Sends msg (borrowed) to identity; 0 or -1. */
typedef int (orch_send_fn) (void *arg, zframe_t *identity, json_t *msg);

/*  vat_percent and tz: the normalizer's settings, for previews (NULL:
    previews are left without canonical values). */
orch_tests_t *orch_tests_new (const vd_secret_key_t *key, orch_send_fn *send, void *send_arg,
                              const char *vat_percent, const char *tz);
void orch_tests_destroy (orch_tests_t **self_p);

/*  One dispatch turn: hands pending tests to idle extractors, fails those
    waiting too long. Database errors go into err (-1); the turn is retried
    at the next call. */
int orch_tests_dispatch (orch_tests_t *self, PGconn *conn, orch_registry_t *registry, int64_t now,
                         int64_t dispatch_timeout_ms, vd_error_t *err);

/*  Records a "tested" answer. Returns 0 (also for an unknown request,
    which is ignored), -1 with err on a database error. */
int orch_tests_answer (orch_tests_t *self, PGconn *conn, json_t *msg, vd_error_t *err);

int orch_tests_test (bool verbose);

#endif

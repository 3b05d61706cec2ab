/*  vd_outbox - the durable outbox of outgoing notifications (ops.outbox).

    A notification is written with vd_outbox_enqueue in the transaction
    of the change it tells about (an alert opening, a rule firing), so it
    exists exactly when the change does; an idempotency key makes a second
    enqueue of the same notification a no-op. A worker then calls
    vd_outbox_deliver_due: it leases due rows (several workers never take
    the same row), hands each to the caller's deliver function, and marks
    it sent, or due again after a capped exponential backoff, or dead
    after the last attempt or a permanent failure. A worker killed during
    a delivery leaves the row leased: it is taken again when the lease
    ends (delivery is at least once; the receiver sees the idempotency
    key in the payload).
*/
#ifndef VD_OUTBOX_H_INCLUDED
#define VD_OUTBOX_H_INCLUDED

#include "vd_error.h"
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#define VD_OUTBOX_LEASE_S 300 /* a delivery taking longer may be repeated */
#define VD_OUTBOX_BACKOFF_CAP_S 3600

typedef struct {
    int64_t retry_s;      /* wait after the first failure (doubles)  */
    int64_t max_attempts; /* then dead                               */
    int batch;            /* rows leased per call (0: 20)            */
} vd_outbox_policy_t;

/*  Adds a notification for target (who delivers it, e.g. a channel
    name) about origin / origin_id (origin_id <= 0: none). payload is
    borrowed. Returns 1 when added, 0 when key was already there, -1 with
    err. Call it inside the caller's transaction. */
int vd_outbox_enqueue (PGconn *conn, const char *origin, int64_t origin_id, const char *target,
                       const char *key, const json_t *payload, vd_error_t *err);

/*  Delivers one notification: returns 0 when it was accepted, -1 with err
    (err->kind TRANSIENT: retried later; PERMANENT: dead now). */
typedef int (vd_outbox_deliver_fn) (void *arg, int64_t id, const char *target,
                                    const json_t *payload, vd_error_t *err);

/*  Leases the due rows of origins (NULL: every origin) and delivers them.
    Returns the number of rows handled, -1 with err on a database error
    (rows already handled stay handled). */
int vd_outbox_deliver_due (PGconn *conn, const char *const *origins, int norigins,
                           const vd_outbox_policy_t *policy, vd_outbox_deliver_fn *deliver,
                           void *arg, vd_error_t *err);

/*  Deletes the rows sent or dead more than days days ago (days 0: none).
    Returns how many, -1 with err. */
int64_t vd_outbox_purge (PGconn *conn, int64_t days, vd_error_t *err);

/*  Seconds to wait before attempt attempts + 1 (attempts >= 1 failed so
    far): retry_s * 2^(attempts - 1), at most VD_OUTBOX_BACKOFF_CAP_S. */
int64_t vd_outbox_backoff_s (int64_t retry_s, int64_t attempts);

int vd_outbox_test (bool verbose);

#endif

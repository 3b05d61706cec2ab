/*  load_events - what contact events do, inside the loader's batch
    transaction (tables flagged VD_TABLE_EVENTS, and customers):

    - before the merge of contact events, each unmatched event gets its
      customer: the iSaVigne customer of its client code (payload
      "client_code"), else a customer with its email;
    - after it, the customers the events touch get their flags, computed
      from every stored event, so the result follows event time and not
      arrival order: email_invalid = true when an event with their email
      is a hard bounce or an invalid email; email_opt_out = the latest
      consent event (unsubscribe, complaint/spam -> true, a Power Automate
      resubscribe -> false);
    - after the merge of customers, events still unmatched that belong to
      them are matched, and their effects applied (opt-outs only: a sync
      never clears a consent flag).

    The statements are fixed text (no value from outside is pasted).
*/
#ifndef LOAD_EVENTS_H_INCLUDED
#define LOAD_EVENTS_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

#define LOAD_EVENTS_MAX_SQL 4

/*  The statements run before the merge of a batch of table_id, then
    those run after it (each a NULL-terminated list, never NULL). */
const char *const *load_events_before (int table_id);
const char *const *load_events_after (int table_id);

/*  Whether a batch of customers (load_refs' COPY lines, rows [0, n) of
    t) may have events to apply after their merge: any event not matched
    yet, or a consent or bounce event with one of their emails or keys.
    When there is none, the batch needs none of the statements above (and
    may be copied straight into the table). 1, 0, or -1 with err. */
int load_events_pending (PGconn *conn, const vd_table_t *t, const char *rows, const size_t *start,
                         size_t n, size_t end, vd_error_t *err);

int load_events_test (bool verbose);

#endif

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

#define LOAD_EVENTS_MAX_SQL 4

/*  The statements run before the merge of a batch of table_id, then
    those run after it (each a NULL-terminated list, never NULL). */
const char *const *load_events_before (int table_id);
const char *const *load_events_after (int table_id);

int load_events_test (bool verbose);

#endif

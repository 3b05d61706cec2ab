/*  hook_event - webhook payloads to raw contact_history records.

    A request body is one event (a JSON object) or a batch (an array of
    them). Each event becomes one raw record whose input fields are
    hook_event_cols: the normalizer applies the schema's rules to them
    like to any extractor's record.

    Brevo (transactional and marketing events share names; a marketing
    event carries camp_id). Event identity, so that a redelivery maps to
    the same contact_key ("brevo-<source_id>"):
      transactional  <event>:<message-id>:<ts_epoch>
      marketing      <event>:<camp_id>:e-<email hash>:<ts_event>
      list_addition, contact_updated, contact_deleted
                     <event>:e-<email hash>:<list ids>:<ts_event, else ts, else date>
    where <event> is the canonical status below and <email hash> the hex
    of the BLAKE2b-64 of the lower-cased email (a key never holds an
    address: vendange forget must be able to erase it). An event missing a part
    of its identity gets "sha:<BLAKE2b-128 of the event, keys sorted>", so
    the same payload is still the same key. date_contact: ts_epoch (ms,
    UTC), else ts_event (s, UTC), else date_event / date (local time of
    the account, read in VENDANGE_TIMEZONE by the normalizer), else ts.

    Power Automate: event_id (required), action (required), email or
    client_code (one at least), timestamp (ISO 8601 with an offset or Z,
    up to 7 fractional digits), metadata (optional object); any other
    field is kept in the payload. contact_key "powerautomate-<event_id>".
    A bad event makes the whole request a 400 naming the field.
*/
#ifndef HOOK_EVENT_H_INCLUDED
#define HOOK_EVENT_H_INCLUDED

#include "vendange.h"
#include <jansson.h>
#include <msgpack.h>

typedef enum { HOOK_BREVO, HOOK_POWERAUTOMATE } hook_source_t;

/*  Input fields of a record, in order. */
typedef enum {
    HOOK_F_SOURCE_ID,
    HOOK_F_EMAIL,
    HOOK_F_DATE,
    HOOK_F_CHANNEL,
    HOOK_F_CAMPAIGN,
    HOOK_F_SUBJECT,
    HOOK_F_STATUS,
    HOOK_F_RESPONSE_DETAILS,
    HOOK_F_PRODUCT,
    HOOK_F_PAYLOAD,
    HOOK_F_WARNING_FIELD,
    HOOK_F_WARNING,
    HOOK_F_WARNING_RAW,
    HOOK_NFIELDS
} hook_field_t;

extern const char *const hook_event_cols[HOOK_NFIELDS];

#define HOOK_MAX_EVENTS 1000 /* events in one request                   */
#define HOOK_MAX_DEPTH 32    /* nesting of arrays and objects in a body */

/*  Why a request is refused: HTTP status, message, the field at fault
    ("" when the body as a whole), the event's index in a batch (-1 for
    the body). */
typedef struct {
    int status;
    char msg[256];
    char field[64];
    long index;
} hook_fault_t;

/*  True when no array or object in s nests deeper than max (strings
    skipped, escapes honoured). */
bool hook_json_depth_ok (const char *s, size_t len, int max);

/*  Parses a body of source src and packs one raw row per event into pk
    ([line, [field, ...]], line = 1-based index in the request), *count
    of them. Returns 0, or -1 with fault (nothing packed is valid then;
    the caller discards the buffer). */
int hook_event_parse (hook_source_t src, const char *body, size_t len, msgpack_packer *pk,
                      size_t *count, hook_fault_t *fault);

/*  Source name ("brevo", "powerautomate"). */
const char *hook_source_name (hook_source_t src);

int hook_event_test (bool verbose);

#endif

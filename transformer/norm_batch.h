/*  norm_batch - a RAW message of raw records in, a CANON message of
    canonical records (or rejects) out. Table-driven: the columns, their
    rules and inputs come from vd_schema; nothing here knows a table.
*/
#ifndef NORM_BATCH_H_INCLUDED
#define NORM_BATCH_H_INCLUDED

#include "vendange.h"
#include "vd_msg.h"

typedef struct norm_batch norm_batch_t;

/*  vat_percent: "20"; tz: "Europe/Paris". NULL with err on bad settings. */
norm_batch_t *norm_batch_new (const char *vat_percent, const char *tz, vd_error_t *err);
void norm_batch_destroy (norm_batch_t **self_p);

/*  Converts raw (kind RAW) into a CANON message packed with pk (header
    included). Every input row gives exactly one output row. Returns 0, or
    -1 with err when the message itself is unusable (then nothing usable
    was packed: the caller drops the message and logs err). */
/*  Fingerprint (hex) of the rules and the settings they depend on (VAT
    rate, time zone); CANON bodies carry it as "rules". */
const char *norm_batch_rules (const norm_batch_t *self);
int norm_batch_convert (norm_batch_t *self, const vd_msg_t *raw, msgpack_packer *pk,
                        vd_error_t *err);

/*  The whole round trip on bytes: decodes the RAW message data[0..len),
    converts it into out (cleared first) and decodes the CANON message
    into *canon (its objects live in canon_zone, which the caller
    initialised and destroys; *raw likewise in raw_zone). Returns 0, -1
    with err. */
int norm_batch_convert_bytes (norm_batch_t *self, const char *data, size_t len,
                              msgpack_unpacked *raw_zone, vd_msg_t *raw, msgpack_sbuffer *out,
                              msgpack_unpacked *canon_zone, vd_msg_t *canon, vd_error_t *err);

int norm_batch_test (bool verbose);

#endif

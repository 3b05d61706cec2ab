/*  odoo_emit - Odoo records into the pipeline: each record becomes a raw
    record of normalizer inputs (the model's mapping gives the columns),
    sent in RAW messages; deletions go as DELETE messages, the run's end
    as END (common/vd_msg.h).

    Odoo's wire conventions are handled here: False is the empty value of
    every type but boolean, many2one is [id, "name"], datetimes are UTC
    strings without microseconds (sent with "Z" so the normalizer reads
    them as UTC), binary is base64 text. Fields of related records
    ("order_id.date_order") are read with one search_read per relation
    and page. A product reference without default_code becomes
    "ODOO-<id>", as the product's own key does (SPEC.md).
*/
#ifndef ODOO_EMIT_H_INCLUDED
#define ODOO_EMIT_H_INCLUDED

#include "vendange.h"
#include "vd_pipe.h"
#include "odoo_mapping.h"
#include "odoo_pager.h"

typedef struct {
    int64_t run_id;
    const char *connector;
    const char *units; /* unit table text, or NULL                   */
    size_t batch_rows; /* rows per RAW message                       */
    zsock_t *output;   /* PUSH to the normalizer; NULL: count only   */
    vd_ctl_t *ctl;
    vd_pipe_stop_fn *stop;
    void *stop_arg;
    odoo_read_fn *read; /* for related records                     */
    void *read_arg;
} odoo_emit_opts_t;

typedef struct odoo_emitter odoo_emitter_t;

odoo_emitter_t *odoo_emitter_new (const odoo_emit_opts_t *opts);
void odoo_emitter_destroy (odoo_emitter_t **self_p);

/*  The model whose records come next (flushes the previous one's). */
int odoo_emitter_model (odoo_emitter_t *self, const odoo_model_map_t *m, vd_error_t *err);
/*  An odoo_emit_fn: converts the first n records of page and sends them
    (arg is the emitter). */
int odoo_emitter_records (void *arg, const json_t *page, size_t n, vd_error_t *err);
/*  Sends the buffered rows. */
int odoo_emitter_flush (odoo_emitter_t *self, vd_error_t *err);
/*  A DELETE message for table: mode "listed" or "present", ids an array
    of integers (borrowed). */
int odoo_emitter_delete (odoo_emitter_t *self, int table, const char *model, const char *mode,
                         const json_t *ids, vd_error_t *err);
/*  END: extracted {table: n}, reconciled table names (borrowed). */
int odoo_emitter_end (odoo_emitter_t *self, const json_t *extracted, const json_t *reconciled,
                      vd_error_t *err);
/*  Records sent since the last odoo_emitter_model. */
int64_t odoo_emitter_model_count (const odoo_emitter_t *self);
/*  Records (RAW rows) sent in the run. */
int64_t odoo_emitter_total (const odoo_emitter_t *self);

/*  One value as text for the normalizer (type: the fields_get type).
    Returns 0, -1 when out's ceiling is hit. */
int odoo_emit_text (const json_t *v, const char *type, const char *part, vd_buf_t *out);

int odoo_emit_test (bool verbose);

#endif

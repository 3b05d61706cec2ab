/*  odoo_sync - one sync run of an Odoo connector.

    For each mapped model, in load order (products, customers, stock,
    sales): fields_get (the mapping is resolved against this server),
    then the records changed since the cursor (odoo_pager), archived ones
    included (active_test false), read up to the server's time minus the
    safety lag. Sales also follow their orders: an order changed since
    the cursor that is no longer confirmed (cancelled, back to quotation)
    has its lines deleted (DELETE "listed"); a confirmed one has its lines
    read again (its state or date may be what changed). Every
    `reconcile` seconds (and on --full) the ids of every model are listed
    (DELETE "present") so records deleted in Odoo leave the canonical
    tables.

    Cursor (JSON text, returned as cursor_after):
      {"v": 1, "models": {"res.partner": {"after": "2025-11-25 10:00:00",
       "id": 0}, ..., "sale.order": {...}}, "reconciled_at": 1764064800}
    A model that failed keeps its previous entry (the run is partial).
*/
#ifndef ODOO_SYNC_H_INCLUDED
#define ODOO_SYNC_H_INCLUDED

#include "vendange.h"
#include "vd_pipe.h"
#include "odoo_client.h"
#include "odoo_mapping.h"

typedef struct {
    int64_t run_id;
    const char *connector;
    odoo_client_t *client; /* connected                               */
    odoo_mapping_t *mapping;
    const char *units;  /* unit table text or NULL                 */
    const char *cursor; /* previous cursor text or NULL            */
    bool full;          /* ignore the cursor; reconcile             */
    int page_size;
    int safety_lag_s;
    int64_t reconcile_s; /* -1 never (but --full), 0 every run      */
    size_t batch_rows;
    zsock_t *output;
    vd_ctl_t *ctl;
    vd_pipe_stop_fn *stop;
    void *stop_arg;
} odoo_job_t;

/*  Runs the job. Fills report with "files" (one per model), "errors",
    "extracted", "cursor_after" and "records". Returns 0 when the run went
    through (a model may have failed: partial), -1 with err when nothing
    of it may be trusted. */
int odoo_sync_run (const odoo_job_t *job, json_t *report, vd_error_t *err);

/*  The reconcile setting: "off"/"never", "always", N with an optional
    unit s, m, h or d. Returns seconds (-1 never), or -2 when invalid. */
int64_t odoo_sync_reconcile_interval (const char *setting);

int odoo_sync_test (bool verbose);

#endif

/*  orch_reco - the recommendation endpoints of the HTTP API (issue 10;
    the recommender itself is reco/, this reads and queues):

      GET  /api/customers/KEY/recommendations   the customer's current top N:
           {customer_key, run_id, model_version, computed_at, campaign_ok,
            campaign_block, win_back, queued_run_id, recommendations: [{rank,
            product_key, product_name, score, reasons (as stored), verdict,
            verdict_at}]}; campaign_ok / campaign_block from the customer as
           it is now (an opt-out since the run counts), else as the run
           saw it; 404 when neither the customer nor recommendations for
           it exist
      POST /api/customers/KEY/recommendations   queues a job for that
           customer: 202 {"reco_run_id", "already_queued"}
      POST /api/customers/KEY/recommendations/PRODUCT/feedback
           {"verdict": "good"|"bad", "reason"}: a staff verdict
           (orch_reco_feedback.c)
      GET  /api/reco/runs?limit=N, GET /api/reco/runs/ID   reco.runs rows
      POST /api/reco/run   queues a run over every customer: 202
           {"reco_run_id"}; 409 when one is queued already
      GET  /api/reco/precision   {follow_days, evaluated, followed,
           precision, pending, by_signal: {signal: {evaluated, followed,
           precision}}, feedback: {good, bad}}: among issued pairs whose
           first_at is at least follow_days old or that were followed, the
           share followed (by a click or a purchase); a pair counts for
           each of its signals; pending = pairs not evaluated yet
      GET  /api/reco/campaign.csv[?campaign=NAME]   the campaign export
           (orch_reco_export.c)
*/
#ifndef ORCH_RECO_H_INCLUDED
#define ORCH_RECO_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

void orch_reco_get (PGconn *conn, const char *key, orch_answer_t *a);
void orch_reco_queue_customer (PGconn *conn, const char *key, orch_answer_t *a);
void orch_reco_runs (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_reco_run (PGconn *conn, int64_t id, orch_answer_t *a);
void orch_reco_queue_all (PGconn *conn, orch_answer_t *a);
void orch_reco_precision (PGconn *conn, int64_t follow_days, orch_answer_t *a);

/*  Queues a job for customer key (NULL: every customer; trigger names
    why); the id of the job
    queued, or of the one already queued, into *id. Returns 1 when queued
    now, 0 when one was queued already, -1 with err. */
int orch_reco_queue (PGconn *conn, const char *key, const char *trigger, int64_t *id,
                     vd_error_t *err);

/*  POST .../recommendations/PRODUCT/feedback (orch_reco_feedback.c). */
void orch_reco_feedback (PGconn *conn, const char *key, const char *product,
                         const orch_request_t *req, orch_answer_t *a);

/*  GET /api/reco/campaign.csv (orch_reco_export.c). */
void orch_reco_export (const char *dsn, const orch_request_t *req, orch_answer_t *a);

/*  Self tests of what needs no database (validation). */
int orch_reco_feedback_test (bool verbose);
int orch_reco_export_test (bool verbose);

#endif

/*  reco_job - one recommendation run (a row of reco.runs): load the
    model, score every customer (or one), and in one transaction replace
    their rows of reco.recommendations, record the pairs proposed
    (reco.issued), what followed them (purchases, clicks; also written to
    canonical.contact_history) and the run's outcome.
*/
#ifndef RECO_JOB_H_INCLUDED
#define RECO_JOB_H_INCLUDED

#include "reco_load.h"

typedef struct {
    int64_t run_id;
    const char *customer; /* scope 'customer', or NULL for all */
    reco_params_t params;
    reco_load_opts_t load;
    bool issue; /* record reco.issued and outcomes (not for offline evaluation) */
    /* called about every 200 ms of work; returns true to stop (the run is
       then rolled back and err says so) */
    bool (*tick) (void *arg);
    void *arg;
} reco_job_t;

typedef struct {
    int64_t customers, recommendations;
    double seconds;
} reco_job_result_t;

/*  Runs the job on conn (no transaction open). On success the run's row
    says success, in the same transaction as its recommendations. Returns
    0, -1 with err (nothing written; the caller records the failure). */
int reco_job_run (PGconn *conn, const reco_job_t *job, reco_job_result_t *result, vd_error_t *err);

/*  Marks the run failed with err's message. Returns 0, -1. */
int reco_job_fail (PGconn *conn, int64_t run_id, const vd_error_t *failure, vd_error_t *err);

/*  Parses YYYY-MM-DD into days since 1970-01-01. Returns 0, -1. */
int reco_job_day (const char *text, int *day);

#endif

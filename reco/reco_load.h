/*  reco_load - fills a reco_model from the canonical tables (COPY out:
    products with their stock, customers, purchases grouped by customer
    and product) and from the feedback in schema reco (bad verdicts, the
    signals' global factors).
*/
#ifndef RECO_LOAD_H_INCLUDED
#define RECO_LOAD_H_INCLUDED

#include "reco_model.h"
#include "vd_db.h"

typedef struct {
    int as_of;                /* sales after this day are ignored (days since 1970) */
    int bad_days;             /* bad verdicts younger than this exclude a product   */
    int follow_days;          /* the precision window, for the global factors       */
    bool reweight;            /* apply the global factors from reco.issued          */
    bool (*tick) (void *arg); /* called every 64k rows read; true: stop */
    void *arg;
} reco_load_opts_t;

/*  Reads everything in one READ ONLY REPEATABLE READ transaction (one
    snapshot). Returns 0, -1 with err. */
int reco_load (PGconn *conn, reco_model_t *model, const reco_load_opts_t *opts, vd_error_t *err);

/*  The global factor of a signal from its positive and negative outcomes
    and the totals (README, "Recommendations"). */
double reco_load_factor (double pos, double neg, double all_pos, double all_neg);

/*  Splits one COPY text line in place into at most max fields (\N gives
    NULL, escapes undone). Returns the number of fields. */
int reco_load_split (char *line, char **fields, int max);

int reco_load_test (bool verbose);

#endif

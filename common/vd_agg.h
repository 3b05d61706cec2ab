/*  vd_agg - customer aggregates and segments, kept true at the end of
    every run: purchase dates, totals, counts, average order and segment
    of every customer whose sales changed (ops.dirty_customers, filled in
    the same transactions as the sales). A segment also depends on
    today's date (a last purchase grows old): once a day (the first
    update of the day, ops.segment_pass) the segments of the customers
    whose last purchase crossed an age limit since the previous pass are
    brought up to date too; every customer's when the rules changed. Then
    the person_key that links the rows of one person across sources (see
    s_persons).
*/
#ifndef VD_AGG_H_INCLUDED
#define VD_AGG_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

typedef struct {
    int64_t vip_spent; /* EUR excl. VAT */
    int64_t vip_orders;
    int64_t at_risk_days;
    int64_t inactive_days;
    bool match_ref;   /* person_key: Odoo ref = iSaVigne client code  */
    bool match_email; /* person_key: same normalised email            */
} vd_agg_rules_t;

/*  The rules from the configuration: VENDANGE_SEGMENT_* and
    VENDANGE_PERSON_MATCH ("ref,email", "ref", "email" or "none").
    Returns 0, -1 with err when the latter is none of those. */
int vd_agg_rules (const vd_config_t *cfg, vd_agg_rules_t *rules, vd_error_t *err);

/*  Runs inside the caller's transaction: the aggregates of the customers
    in ops.dirty_customers, or of every customer when ops.dirty_all holds
    a row (a run that inserted many); then the daily pass; then, when
    persons is true (customers were written), the person keys. Returns 0,
    -1 with err. */
int vd_agg_update (PGconn *conn, const vd_agg_rules_t *rules, bool persons, vd_error_t *err);

int vd_agg_test (bool verbose);

#endif

/*  load_customers - customer aggregates and segments, kept true at the end of
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
#ifndef LOAD_CUSTOMERS_H_INCLUDED
#define LOAD_CUSTOMERS_H_INCLUDED

#include "vendange.h"
#include "vd_db.h"

typedef struct {
    int64_t vip_spent; /* EUR excl. VAT */
    int64_t vip_orders;
    int64_t at_risk_days;
    int64_t inactive_days;
    bool match_ref;   /* person_key: Odoo ref = iSaVigne client code  */
    bool match_email; /* person_key: same normalised email            */
} load_customers_rules_t;

/*  The rules from the configuration: VENDANGE_SEGMENT_* and
    VENDANGE_PERSON_MATCH ("ref,email", "ref", "email" or "none").
    Returns 0, -1 with err when the latter is none of those. */
int load_customers_rules (const vd_config_t *cfg, load_customers_rules_t *rules, vd_error_t *err);

/*  Runs inside the caller's transaction: the aggregates of the customers
    in ops.dirty_customers, or of every customer when ops.dirty_all holds
    a row (a run that inserted many); then the daily pass; then, when
    persons is true (customers were written), the person keys. Returns 0,
    -1 with err. */
int load_customers_update (PGconn *conn, const load_customers_rules_t *rules, bool persons,
                           bool given, vd_error_t *err);

/*  The aggregates of sales lines counted as they are loaded (load_customers_acc),
    for a run whose lines are the whole of canonical.sales_lines (a first
    load): the same definitions as the SQL of load_customers_update, so that the
    end of the run need not read every line again. given true above takes
    the customers' purchase figures from the temporary table
    LOAD_CUSTOMERS_GIVEN (made by load_customers_given_ddl, filled by a COPY of
    load_customers_acc_text) instead of the sales. */
#define LOAD_CUSTOMERS_GIVEN "vd_given_agg"
extern const char load_customers_given_ddl[];

typedef struct load_customers_acc load_customers_acc_t;

/*  One sales line, as the fields of its COPY text line (escaped as COPY
    writes them, "\N" for NULL). */
typedef struct {
    const char *customer, *order, *key, *date, *quantity, *price;
    size_t customer_len, order_len, key_len, date_len, quantity_len, price_len;
} load_customers_line_t;

load_customers_acc_t *load_customers_acc_new (void);
void load_customers_acc_destroy (load_customers_acc_t **self_p);
/*  Counts one line. A value it cannot sum exactly (a number with more
    than LOAD_CUSTOMERS_DECIMALS decimals or 14 digits before them, or in another
    form than [-]digits[.digits], a date not YYYY-MM-DD) or no memory makes it unusable: -1, and
   every later call is a no-op. 0 counted. */
#define LOAD_CUSTOMERS_DECIMALS 4
int load_customers_acc_add (load_customers_acc_t *self, const load_customers_line_t *line);
/*  Makes it unusable (the lines loaded are no longer the ones counted). */
void load_customers_acc_drop (load_customers_acc_t *self);
bool load_customers_acc_usable (const load_customers_acc_t *self);
/*  Lines counted. */
int64_t load_customers_acc_lines (const load_customers_acc_t *self);
/*  One COPY text line per customer with purchases or a total, in
    LOAD_CUSTOMERS_GIVEN's column order. 0, -1 out of memory. */
int load_customers_acc_text (const load_customers_acc_t *self, vd_buf_t *out);

int load_customers_test (bool verbose);

#endif

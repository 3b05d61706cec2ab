/*  orch_customers - the customer endpoints of the HTTP API:

      GET /api/customers?q=TEXT&limit=N   search by key, email or name
          (case-insensitive substring; exact key or email first); an array
          of {customer_key, first_name, last_name, email, city, segment,
          total_spent, purchase_count, last_purchase_date, campaign_ok,
          active}; limit 20 by default, at most 200
      GET /api/customers/KEY[?limit=N]    the customer row (aggregates,
          segment, flags), campaign_ok / campaign_block, "totals" over all
          its sales lines (lines, orders, bottles_75cl_eq, money, first and
          last date) and "history": its newest N sales lines (100 by
          default, at most 1000): date, order_id, product_key,
          product_name, quantity_bottles_75cl_eq, price_total

    campaign_block is email_opt_out, email_invalid or no_email (the
    recommender's rule), campaign_ok when it is null.
*/
#ifndef ORCH_CUSTOMERS_H_INCLUDED
#define ORCH_CUSTOMERS_H_INCLUDED

#include "orch_api.h"
#include <libpq-fe.h>

/*  The SQL expression of campaign_block for a customer row c. */
#define ORCH_SQL_CAMPAIGN_BLOCK                                                                    \
    "CASE WHEN coalesce(c.email_opt_out, false) THEN 'email_opt_out' "                             \
    "WHEN coalesce(c.email_invalid, false) THEN 'email_invalid' "                                  \
    "WHEN coalesce(btrim(c.email), '') = '' THEN 'no_email' END"

void orch_customers_search (PGconn *conn, const orch_request_t *req, orch_answer_t *a);
void orch_customers_get (PGconn *conn, const char *key, const orch_request_t *req,
                         orch_answer_t *a);

#endif

/*  orch_customers - the customer endpoints of the HTTP API. */
#include "vendange.h"
#include "orch_customers.h"
#include "orch_runview.h"

#define SEARCH_DEFAULT 20
#define SEARCH_MAX 200
#define SEARCH_TEXT_MAX 200
#define HISTORY_DEFAULT 100
#define HISTORY_MAX 1000

/*  $1 the text, $2 the limit. A pattern is the text with LIKE's
    metacharacters escaped. */
static const char s_search_sql[] =
    "WITH p AS (SELECT '%' || replace(replace(replace(btrim($1), '\\', '\\\\'), '%', '\\%'), "
    "'_', '\\_') || '%' AS pat, lower(btrim($1)) AS exact), "
    "m AS (SELECT c.*, row_number() OVER (ORDER BY (lower(c.customer_key) = p.exact OR "
    "lower(c.email) = p.exact) DESC, c.last_name NULLS LAST, c.first_name NULLS LAST, "
    "c.customer_key) AS n FROM canonical.customers c, p WHERE p.exact = '' OR "
    "c.customer_key ILIKE p.pat OR c.email ILIKE p.pat OR concat_ws(' ', c.first_name, "
    "c.last_name) ILIKE p.pat OR concat_ws(' ', c.last_name, c.first_name) ILIKE p.pat "
    "ORDER BY n LIMIT $2::int) "
    "SELECT coalesce(json_agg(json_build_object('customer_key', c.customer_key, "
    "'first_name', c.first_name, 'last_name', c.last_name, 'email', c.email, 'city', c.city, "
    "'segment', c.segment, 'total_spent', c.total_spent, 'purchase_count', c.purchase_count, "
    "'last_purchase_date', c.last_purchase_date, 'campaign_ok', (" ORCH_SQL_CAMPAIGN_BLOCK
    ") IS NULL, 'active', c.active) ORDER BY c.n), '[]')::text FROM m c";

void
orch_customers_search (PGconn *conn, const orch_request_t *req, orch_answer_t *a)
{
    int64_t limit;
    if (orch_request_int (req->q_limit, "limit", SEARCH_DEFAULT, 1, SEARCH_MAX, &limit, a) < 0)
        return;
    const char *q = req->q_q ? req->q_q : "";
    if (strlen (q) > SEARCH_TEXT_MAX || !vd_utf8_valid (q, strlen (q))) {
        orch_answer_error (a, 400, "invalid search text", "at most 200 bytes of UTF-8", NULL);
        return;
    }
    char lim[24];
    snprintf (lim, sizeof lim, "%" PRId64, limit);
    const char *params[] = {q, lim};
    orch_answer_query (conn, s_search_sql, 2, params, 200, "no answer", NULL, a);
}

/*  $1 the key, $2 the history limit. */
static const char s_customer_sql[] =
    "SELECT (to_jsonb(c) - 'content_hash' || jsonb_build_object("
    "'campaign_block', " ORCH_SQL_CAMPAIGN_BLOCK ", 'campaign_ok', (" ORCH_SQL_CAMPAIGN_BLOCK
    ") IS NULL, "
    "'aggregates', jsonb_build_object('first_purchase_date', c.first_purchase_date, "
    "'last_purchase_date', c.last_purchase_date, 'total_spent', c.total_spent, "
    "'purchase_count', c.purchase_count, 'avg_order_value', c.avg_order_value), "
    "'totals', (SELECT jsonb_build_object('lines', count(*), 'orders', count(DISTINCT "
    "s.order_id), 'bottles_75cl_eq', coalesce(sum(s.quantity_bottles_75cl_eq), 0), 'money', "
    "coalesce(sum(s.price_total), 0), 'first_date', min(s.date_sale), 'last_date', "
    "max(s.date_sale)) FROM canonical.sales_lines s WHERE s.customer_key = c.customer_key), "
    "'history', (SELECT coalesce(jsonb_agg(to_jsonb(h) - 'n' ORDER BY h.n), '[]') FROM (SELECT "
    "row_number() OVER (ORDER BY s.date_sale DESC, s.order_id DESC, s.sale_line_key) AS n, "
    "s.date_sale AS date, s.order_id, s.product_key, p.name AS product_name, "
    "s.quantity_bottles_75cl_eq, s.price_total FROM canonical.sales_lines s LEFT JOIN "
    "canonical.product_catalog p ON p.product_key = s.product_key WHERE s.customer_key = "
    "c.customer_key ORDER BY n LIMIT $2::int) h)))::text "
    "FROM canonical.customers c WHERE c.customer_key = $1";

void
orch_customers_get (PGconn *conn, const char *key, const orch_request_t *req, orch_answer_t *a)
{
    int64_t limit;
    if (orch_request_int (req->q_limit, "limit", HISTORY_DEFAULT, 1, HISTORY_MAX, &limit, a) < 0)
        return;
    char lim[24], msg[256];
    snprintf (lim, sizeof lim, "%" PRId64, limit);
    snprintf (msg, sizeof msg, "no customer \"%.200s\"", key);
    const char *params[] = {key, lim};
    orch_answer_query (conn, s_customer_sql, 2, params, 200, msg,
                       "GET /api/customers?q=TEXT searches by key, email or name", a);
}

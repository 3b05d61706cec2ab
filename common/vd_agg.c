/*  vd_agg - customer aggregates and segments. */
#include "vd_agg.h"

#define SQL_MAX (16 * 1024)
#define FEW_DIRTY 20000 /* up to this many dirty customers: index lookups */

/*  Segment rules, first match wins: no purchase -> prospect; last purchase
    older than inactive_days -> inactive; older than at_risk_days ->
    at_risk; total_spent >= vip_spent or purchase_count >= vip_orders ->
    vip; else standard. Parameters $1..$4: vip_spent, vip_orders,
    at_risk_days, inactive_days. One expression for both passes below. */
static void
s_segment_expr (vd_buf_t *b, const char *orders, const char *last, const char *total)
{
    vd_buf_printf (b,
                   "CASE WHEN coalesce(%s, 0) = 0 THEN 'prospect'"
                   " WHEN %s < current_date - $4::int THEN 'inactive'"
                   " WHEN %s < current_date - $3::int THEN 'at_risk'"
                   " WHEN %s >= $1::numeric OR %s >= $2::int THEN 'vip'"
                   " ELSE 'standard' END",
                   orders, last, last, total, orders);
}

/*  How the dirty customers are found and their sales read. */
typedef enum {
    AGG_FEW,  /* a few dirty keys: their sales through the index, one by one */
    AGG_MANY, /* many dirty keys: one pass over the sales                    */
    AGG_ALL   /* every customer (ops.dirty_all): one pass, no key list       */
} agg_mode_t;

/*  Aggregates and segment of the dirty customers, one write per customer
    whose values change. A purchase is an order (order_id) with a positive
    quantity; credit notes lower total_spent but are not purchases. Money
    excludes VAT. */
static char *
s_aggregates_sql (agg_mode_t mode)
{
    vd_buf_t b;
    vd_buf_init (&b, SQL_MAX);
    vd_buf_addstr (&b, mode == AGG_ALL
                           ? "WITH d AS (SELECT customer_key FROM canonical.customers),"
                           : "WITH d AS (DELETE FROM ops.dirty_customers RETURNING customer_key),");
    if (mode == AGG_FEW)
        vd_buf_addstr (&b,
                       " agg AS (SELECT d.customer_key, a.* FROM d CROSS JOIN LATERAL (SELECT"
                       "   min(s.date_sale) FILTER (WHERE s.quantity_units > 0) AS first_date,"
                       "   max(s.date_sale) FILTER (WHERE s.quantity_units > 0) AS last_date,"
                       "   coalesce(sum(s.price_total), 0) AS total,"
                       "   count(DISTINCT coalesce(s.order_id, s.sale_line_key))"
                       "     FILTER (WHERE s.quantity_units > 0) AS orders"
                       " FROM canonical.sales_lines s WHERE s.customer_key = d.customer_key) a),");
    else /* two hash aggregates over one scan: orders, then customers (no
            sort of every line by customer, no lookup of every line) */
        vd_buf_printf (
            &b,
            " o AS (SELECT s.customer_key,"
            "   min(s.date_sale) FILTER (WHERE s.quantity_units > 0) AS first_date,"
            "   max(s.date_sale) FILTER (WHERE s.quantity_units > 0) AS last_date,"
            "   coalesce(sum(s.price_total), 0) AS total,"
            "   bool_or(s.quantity_units > 0) AS purchase"
            " FROM canonical.sales_lines s%s"
            " GROUP BY s.customer_key, coalesce(s.order_id, s.sale_line_key)),"
            " agg AS (SELECT customer_key, min(first_date) AS first_date,"
            "   max(last_date) AS last_date, sum(total) AS total,"
            "   count(*) FILTER (WHERE purchase) AS orders FROM o GROUP BY customer_key),",
            mode == AGG_MANY ? " JOIN d ON d.customer_key = s.customer_key" : "");
    vd_buf_addstr (&b,
                   " v0 AS (SELECT d.customer_key, agg.first_date, agg.last_date,"
                   "   coalesce(agg.total, 0) AS total, coalesce(agg.orders, 0)::int AS orders,"
                   "   CASE WHEN coalesce(agg.orders, 0) > 0 THEN round(agg.total / agg.orders, 2)"
                   "   END AS avg FROM d LEFT JOIN agg ON agg.customer_key = d.customer_key),"
                   " v AS (SELECT v0.*, ");
    s_segment_expr (&b, "v0.orders", "v0.last_date", "v0.total");
    vd_buf_addstr (
        &b, " AS segment FROM v0)"
            " UPDATE canonical.customers c SET first_purchase_date = v.first_date,"
            "   last_purchase_date = v.last_date, total_spent = v.total, purchase_count = v.orders,"
            "   avg_order_value = v.avg, segment = v.segment,"
            "   person_key = coalesce(c.person_key, c.customer_key), synced_at = now()"
            " FROM v WHERE c.customer_key = v.customer_key"
            "   AND ROW(c.first_purchase_date, c.last_purchase_date, c.total_spent,"
            "           c.purchase_count, c.avg_order_value, c.segment, c.person_key)"
            "   IS DISTINCT FROM ROW(v.first_date, v.last_date, v.total, v.orders, v.avg,"
            "           v.segment, coalesce(c.person_key, c.customer_key))");
    return vd_buf_take (&b);
}

/*  The date-driven pass: segments of customers whose last purchase may
    have crossed an age limit. With window, only last purchases in
    [$5 - max(days), today - min(days)) ($5 the day of the previous pass);
    without, every customer (first pass, rules changed). */
static char *
s_pass_sql (bool window)
{
    vd_buf_t b, expr;
    vd_buf_init (&b, SQL_MAX);
    vd_buf_init (&expr, SQL_MAX);
    s_segment_expr (&expr, "purchase_count", "last_purchase_date", "total_spent");
    vd_buf_printf (&b,
                   "UPDATE canonical.customers SET segment = %s, synced_at = now()"
                   " WHERE segment IS DISTINCT FROM %s",
                   vd_buf_str (&expr), vd_buf_str (&expr));
    if (window)
        vd_buf_addstr (&b, " AND last_purchase_date >= $5::date - greatest($3::int, $4::int)"
                           " AND last_purchase_date < current_date - least($3::int, $4::int)");
    vd_buf_free (&expr);
    return vd_buf_take (&b);
}

/*  person_key: an Odoo partner whose ref is an iSaVigne client code
    takes that customer's key ($1), else the smallest key of the
    iSaVigne customers with its (valid) email ($2), else its own key;
    every other customer is its own person. */
static const char *s_persons =
    "WITH m AS (SELECT c.customer_key, CASE WHEN c.source <> 'odoo' THEN c.customer_key"
    "   ELSE coalesce((SELECT i.customer_key FROM canonical.customers i WHERE $1::boolean"
    "       AND c.external_ref IS NOT NULL"
    "       AND i.customer_key = " VD_SCHEMA_KEY_SQL (
        "isavigne",
        "c.external_ref") "),"
                          "     (SELECT min(i.customer_key) FROM canonical.customers i WHERE "
                          "$2::boolean"
                          "       AND i.source = 'isavigne' AND c.email IS NOT NULL"
                          "       AND NOT coalesce(c.email_invalid, false) AND i.email = c.email),"
                          "     c.customer_key) END AS person_key FROM canonical.customers c)"
                          " UPDATE canonical.customers c SET person_key = m.person_key, synced_at "
                          "= now()"
                          " FROM m WHERE c.customer_key = m.customer_key AND c.person_key IS "
                          "DISTINCT FROM m.person_key";

/*  The pass due today: 0 none, 1 window since *day (the previous pass), 2
    every customer. Locks the pass state until the caller's commit. */
static int
s_pass_due (PGconn *conn, const char *rules, char *day, size_t size, vd_error_t *err)
{
    const char *params[] = {rules};
    PGresult *res = vd_db_exec (conn,
                                "SELECT day::text, rules = $1, day = current_date,"
                                " day < current_date FROM ops.segment_pass FOR UPDATE",
                                1, params, err);
    if (!res)
        return -1;
    int due = 2;
    if (PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 1), "t") == 0) {
        if (strcmp (PQgetvalue (res, 0, 2), "t") == 0)
            due = 0;
        else if (strcmp (PQgetvalue (res, 0, 3), "t") == 0)
            due = 1;
        snprintf (day, size, "%s", PQgetvalue (res, 0, 0));
    }
    PQclear (res);
    return due;
}

/*  Segments whose rule depends on today's date, at most once a day. */
static int
s_daily_pass (PGconn *conn, const char *const *params, const char *rules, vd_error_t *err)
{
    char day[32] = "";
    int due = s_pass_due (conn, rules, day, sizeof day, err);
    if (due <= 0)
        return due;
    char *sql = s_pass_sql (due == 1);
    const char *p[] = {params[0], params[1], params[2], params[3], day};
    int rc = sql ? vd_db_command (conn, sql, due == 1 ? 5 : 4, p, err)
                 : vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    free (sql);
    const char *state[] = {rules};
    if (rc == 0)
        rc = vd_db_command (conn,
                            "INSERT INTO ops.segment_pass (id, day, rules)"
                            " VALUES (true, current_date, $1) ON CONFLICT (id)"
                            " DO UPDATE SET day = excluded.day, rules = excluded.rules",
                            1, state, err);
    return rc;
}

int
vd_agg_update (PGconn *conn, const vd_agg_rules_t *rules, bool persons, vd_error_t *err)
{
    char p[4][24], text[160];
    snprintf (p[0], sizeof p[0], "%" PRId64, rules->vip_spent);
    snprintf (p[1], sizeof p[1], "%" PRId64, rules->vip_orders);
    snprintf (p[2], sizeof p[2], "%" PRId64, rules->at_risk_days);
    snprintf (p[3], sizeof p[3], "%" PRId64, rules->inactive_days);
    snprintf (text, sizeof text, "vip_spent=%s vip_orders=%s at_risk_days=%s inactive_days=%s",
              p[0], p[1], p[2], p[3]);
    const char *params[] = {p[0], p[1], p[2], p[3]};
    /* the planner cannot know how many customers are dirty (the table is
       filled and emptied by every run): the plan is chosen here */
    PGresult *res = vd_db_exec (conn,
                                "SELECT count(*), EXISTS (SELECT 1 FROM ops.dirty_all)"
                                " FROM ops.dirty_customers",
                                0, NULL, err);
    if (!res)
        return -1;
    int64_t dirty = 0;
    vd_parse_int (PQgetvalue (res, 0, 0), 0, INT64_MAX, &dirty);
    bool all = strcmp (PQgetvalue (res, 0, 1), "t") == 0;
    PQclear (res);
    agg_mode_t mode = all ? AGG_ALL : dirty <= FEW_DIRTY ? AGG_FEW : AGG_MANY;
    char *sql = s_aggregates_sql (mode);
    if (!sql)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    int rc = 0;
    if (all)
        rc = vd_db_script (conn, "DELETE FROM ops.dirty_customers; DELETE FROM ops.dirty_all", err);
    /* many: the hash aggregates hold an entry per order, in memory */
    if (rc == 0 && mode != AGG_FEW)
        rc = vd_db_command (conn, "SET LOCAL work_mem = '128MB'", 0, NULL, err);
    if (rc == 0 && (dirty || all))
        rc = vd_db_command (conn, sql, 4, params, err);
    if (rc == 0 && mode != AGG_FEW)
        rc = vd_db_command (conn, "RESET work_mem", 0, NULL, err);
    free (sql);
    if (rc == 0)
        rc = s_daily_pass (conn, params, text, err);
    const char *match[] = {rules->match_ref ? "true" : "false",
                           rules->match_email ? "true" : "false"};
    if (rc == 0 && persons)
        rc = vd_db_command (conn, s_persons, 2, match, err);
    return rc;
}

int
vd_agg_test (bool verbose)
{
    int failures = 0;
    char *agg = s_aggregates_sql (AGG_MANY), *few = s_aggregates_sql (AGG_FEW);
    char *every = s_aggregates_sql (AGG_ALL);
    char *window = s_pass_sql (true);
    char *all = s_pass_sql (false);
    if (!agg || !few || !every || !window || !all)
        failures++;
    else {
        /* one segment rule, the same in the run's update and in the pass */
        if (!strstr (agg, "WHEN v0.last_date < current_date - $4::int THEN 'inactive'") ||
            !strstr (all, "WHEN last_purchase_date < current_date - $4::int THEN 'inactive'"))
            failures++;
        if (!strstr (window, "$5::date") || strstr (all, "$5"))
            failures++;
        if (!strstr (agg, "segment = v.segment") || !strstr (few, "CROSS JOIN LATERAL") ||
            !strstr (agg, "GROUP BY s.customer_key, coalesce(s.order_id, s.sale_line_key)") ||
            !strstr (agg, "JOIN d ON"))
            failures++;
        /* every customer: no dirty list read, customers without sales too */
        if (strstr (every, "ops.dirty_customers") || !strstr (every, "FROM d LEFT JOIN agg"))
            failures++;
    }
    if (verbose)
        printf ("  vd_agg:\n%s\n%s\n%s\n", agg ? agg : "", few ? few : "", window ? window : "");
    free (agg);
    free (few);
    free (every);
    free (window);
    free (all);
    return failures ? -1 : 0;
}

static int
s_person_match (const char *setting, vd_agg_rules_t *rules)
{
    rules->match_ref = rules->match_email = false;
    if (strcmp (setting, "none") == 0)
        return 0;
    char copy[64];
    snprintf (copy, sizeof copy, "%s", setting);
    for (char *save = NULL, *word = strtok_r (copy, ", ", &save); word;
         word = strtok_r (NULL, ", ", &save)) {
        if (strcmp (word, "ref") == 0)
            rules->match_ref = true;
        else if (strcmp (word, "email") == 0)
            rules->match_email = true;
        else
            return -1;
    }
    return rules->match_ref || rules->match_email ? 0 : -1;
}

int
vd_agg_rules (const vd_config_t *cfg, vd_agg_rules_t *rules, vd_error_t *err)
{
    *rules = (vd_agg_rules_t){
        .vip_spent = vd_config_int (cfg, VD_CFG_SEGMENT_VIP_SPENT),
        .vip_orders = vd_config_int (cfg, VD_CFG_SEGMENT_VIP_ORDERS),
        .at_risk_days = vd_config_int (cfg, VD_CFG_SEGMENT_AT_RISK_DAYS),
        .inactive_days = vd_config_int (cfg, VD_CFG_SEGMENT_INACTIVE_DAYS),
    };
    if (s_person_match (vd_config_str (cfg, VD_CFG_PERSON_MATCH), rules) == 0)
        return 0;
    return vd_error_set (err, VD_ERR_PERMANENT,
                         "VENDANGE_PERSON_MATCH must be ref,email, ref, email or none");
}

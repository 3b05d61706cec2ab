/*  vd_agg - customer aggregates and segments. */
#include "vd_agg.h"

/*  Aggregates of the dirty customers. A purchase is an order (order_id)
    with a positive quantity; credit notes lower total_spent but are not
    purchases. Money excludes VAT. */
static const char *s_aggregates =
    "WITH d AS (DELETE FROM ops.dirty_customers RETURNING customer_key),"
    " agg AS (SELECT s.customer_key,"
    "   min(s.date_sale) FILTER (WHERE s.quantity_units > 0) AS first_date,"
    "   max(s.date_sale) FILTER (WHERE s.quantity_units > 0) AS last_date,"
    "   coalesce(sum(s.price_total), 0) AS total,"
    "   count(DISTINCT coalesce(s.order_id, s.sale_line_key))"
    "     FILTER (WHERE s.quantity_units > 0) AS orders"
    "   FROM canonical.sales_lines s JOIN d ON d.customer_key = s.customer_key"
    "   GROUP BY s.customer_key),"
    " v AS (SELECT d.customer_key, agg.first_date, agg.last_date,"
    "   coalesce(agg.total, 0) AS total, coalesce(agg.orders, 0)::int AS orders,"
    "   CASE WHEN coalesce(agg.orders, 0) > 0 THEN round(agg.total / agg.orders, 2) END AS avg"
    "   FROM d LEFT JOIN agg ON agg.customer_key = d.customer_key)"
    " UPDATE canonical.customers c SET first_purchase_date = v.first_date,"
    "   last_purchase_date = v.last_date, total_spent = v.total, purchase_count = v.orders,"
    "   avg_order_value = v.avg, person_key = coalesce(c.person_key, c.customer_key),"
    "   synced_at = now()"
    " FROM v WHERE c.customer_key = v.customer_key"
    "   AND ROW(c.first_purchase_date, c.last_purchase_date, c.total_spent, c.purchase_count,"
    "           c.avg_order_value, c.person_key)"
    "   IS DISTINCT FROM ROW(v.first_date, v.last_date, v.total, v.orders, v.avg,"
    "           coalesce(c.person_key, c.customer_key))";

/*  Segment rules, first match wins: no purchase -> prospect; last purchase
    older than inactive_days -> inactive; older than at_risk_days ->
    at_risk; total_spent >= vip_spent or purchase_count >= vip_orders ->
    vip; else standard. */
static const char *s_segments =
    "WITH s AS (SELECT customer_key, CASE"
    "   WHEN coalesce(purchase_count, 0) = 0 THEN 'prospect'"
    "   WHEN last_purchase_date < current_date - $4::int THEN 'inactive'"
    "   WHEN last_purchase_date < current_date - $3::int THEN 'at_risk'"
    "   WHEN total_spent >= $1::numeric OR purchase_count >= $2::int THEN 'vip'"
    "   ELSE 'standard' END AS segment FROM canonical.customers)"
    " UPDATE canonical.customers c SET segment = s.segment, synced_at = now()"
    " FROM s WHERE c.customer_key = s.customer_key AND c.segment IS DISTINCT FROM s.segment";

/*  person_key: an Odoo partner whose ref is an iSaVigne client code
    takes that customer's key ($1), else the smallest key of the
    iSaVigne customers with its (valid) email ($2), else its own key;
    every other customer is its own person. */
static const char *s_persons =
    "WITH m AS (SELECT c.customer_key, CASE WHEN c.source <> 'odoo' THEN c.customer_key"
    "   ELSE coalesce((SELECT i.customer_key FROM canonical.customers i WHERE $1::boolean"
    "       AND c.external_ref IS NOT NULL AND i.customer_key = 'isavigne-' || c.external_ref),"
    "     (SELECT min(i.customer_key) FROM canonical.customers i WHERE $2::boolean"
    "       AND i.source = 'isavigne' AND c.email IS NOT NULL"
    "       AND NOT coalesce(c.email_invalid, false) AND i.email = c.email),"
    "     c.customer_key) END AS person_key FROM canonical.customers c)"
    " UPDATE canonical.customers c SET person_key = m.person_key, synced_at = now()"
    " FROM m WHERE c.customer_key = m.customer_key AND c.person_key IS DISTINCT FROM m.person_key";

int
vd_agg_update (PGconn *conn, const vd_agg_rules_t *rules, vd_error_t *err)
{
    char p[4][24];
    snprintf (p[0], sizeof p[0], "%" PRId64, rules->vip_spent);
    snprintf (p[1], sizeof p[1], "%" PRId64, rules->vip_orders);
    snprintf (p[2], sizeof p[2], "%" PRId64, rules->at_risk_days);
    snprintf (p[3], sizeof p[3], "%" PRId64, rules->inactive_days);
    const char *params[] = {p[0], p[1], p[2], p[3]};
    if (vd_db_command (conn, s_aggregates, 0, NULL, err) < 0)
        return -1;
    const char *match[] = {rules->match_ref ? "true" : "false",
                           rules->match_email ? "true" : "false"};
    if (vd_db_command (conn, s_persons, 2, match, err) < 0)
        return -1;
    return vd_db_command (conn, s_segments, 4, params, err);
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

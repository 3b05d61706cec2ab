/*  load_customers - customer aggregates and segments. */
#include "load_customers.h"
#include "vd_hashset.h"

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

/*  How the customers' sales are read. */
typedef enum {
    AGG_FEW,  /* a few customers: their sales through the index, one by one */
    AGG_SCAN, /* many: one pass over the sales                              */
    AGG_GIVEN /* counted as they were loaded (LOAD_CUSTOMERS_GIVEN): none read      */
} agg_mode_t;

/*  Aggregates and segment of the dirty customers, one write per customer
    whose values change. A purchase is an order (order_id) with a positive
    quantity; credit notes lower total_spent but are not purchases. Money
    excludes VAT. */
static char *
s_aggregates_sql (agg_mode_t mode, bool all)
{
    vd_buf_t b;
    vd_buf_init (&b, SQL_MAX);
    vd_buf_addstr (&b, all ? "WITH d AS (SELECT customer_key FROM canonical.customers),"
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
    else if (mode == AGG_GIVEN)
        vd_buf_addstr (&b, " agg AS (SELECT * FROM " LOAD_CUSTOMERS_GIVEN "),");
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
            all ? "" : " JOIN d ON d.customer_key = s.customer_key");
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
load_customers_update (PGconn *conn, const load_customers_rules_t *rules, bool persons, bool given,
                       vd_error_t *err)
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
    agg_mode_t mode = given ? AGG_GIVEN : !all && dirty <= FEW_DIRTY ? AGG_FEW : AGG_SCAN;
    char *sql = s_aggregates_sql (mode, all);
    if (!sql)
        return vd_error_set (err, VD_ERR_PERMANENT, "out of memory");
    int rc = 0;
    if (all)
        rc = vd_db_script (conn, "DELETE FROM ops.dirty_customers; DELETE FROM ops.dirty_all", err);
    /* many: the hash aggregates hold an entry per order, in memory */
    if (rc == 0 && mode == AGG_SCAN)
        rc = vd_db_command (conn, "SET LOCAL work_mem = '128MB'", 0, NULL, err);
    if (rc == 0 && (dirty || all))
        rc = vd_db_command (conn, sql, 4, params, err);
    if (rc == 0 && mode == AGG_SCAN)
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

/*  ---- load_customers_acc: the same aggregates, counted line by line ---------- */

const char load_customers_given_ddl[] =
    "CREATE TEMPORARY TABLE " LOAD_CUSTOMERS_GIVEN " (customer_key text NOT NULL, first_date date,"
    " last_date date, total numeric NOT NULL, orders int NOT NULL) ON COMMIT DROP";

/*  Customers by open addressing (keys kept in one arena, compared in
    full), each with its chain of purchase orders: the 64-bit hashes of
    their order ids in one array (two orders of one customer share one
    by chance once in 2^64 per pair). About 60 bytes per customer and 16
    per order: a million lines of 100,000 customers take about 12 MB. */
typedef struct {
    uint64_t hash;         /* of the key; 0: empty slot               */
    uint32_t key, key_len; /* in the arena                            */
    int32_t first, last;   /* purchase dates as YYYYMMDD, 0: none     */
    int32_t orders;        /* orders with a line of positive quantity */
    uint32_t chain;        /* its first order node + 1, 0: none       */
    int64_t total;         /* units of 10^-LOAD_CUSTOMERS_DECIMALS            */
    int32_t scale;         /* decimals of the total: the most of its terms */
} s_customer_t;

typedef struct {
    uint64_t hash;
    uint32_t next; /* + 1, 0: the end */
} s_order_t;

struct load_customers_acc {
    s_customer_t *slots;
    size_t mask, ncustomers;
    vd_buf_t keys;
    s_order_t *orders;
    size_t norders, cap_orders;
    int64_t lines;
    bool unusable;
};

load_customers_acc_t *
load_customers_acc_new (void)
{
    load_customers_acc_t *self = calloc (1, sizeof *self);
    if (self)
        vd_buf_init (&self->keys, (size_t)UINT32_MAX);
    return self;
}

static void
s_acc_free (load_customers_acc_t *self)
{
    free (self->slots);
    free (self->orders);
    vd_buf_free (&self->keys);
    self->slots = NULL;
    self->orders = NULL;
    self->mask = self->ncustomers = self->norders = self->cap_orders = 0;
}

void
load_customers_acc_destroy (load_customers_acc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_acc_free (*self_p);
    free (*self_p);
    *self_p = NULL;
}

void
load_customers_acc_drop (load_customers_acc_t *self)
{
    if (!self || self->unusable)
        return;
    self->unusable = true;
    s_acc_free (self);
}

bool
load_customers_acc_usable (const load_customers_acc_t *self)
{
    return self && !self->unusable;
}

int64_t
load_customers_acc_lines (const load_customers_acc_t *self)
{
    return self ? self->lines : 0;
}

static uint64_t
s_hash (const char *data, size_t len)
{
    uint8_t h[VD_HASH_SIZE];
    vd_hashset_of (data, len, h);
    uint64_t v;
    memcpy (&v, h, sizeof v);
    return v ? v : 1; /* 0 marks an empty slot */
}

/*  The slot of key: its own, or the empty one it would take. */
static s_customer_t *
s_slot (s_customer_t *slots, size_t mask, const vd_buf_t *keys, uint64_t hash, const char *key,
        size_t len)
{
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        s_customer_t *c = &slots[i];
        if (!c->hash ||
            (c->hash == hash && c->key_len == len && memcmp (keys->data + c->key, key, len) == 0))
            return c;
    }
}

/*  The customer of key, added when new; NULL out of memory. */
static s_customer_t *
s_customer (load_customers_acc_t *self, const char *key, size_t len)
{
    if ((self->ncustomers + 1) * 4 > (self->mask + 1) * 3) { /* 3/4 full: twice the slots */
        size_t n = self->mask ? (self->mask + 1) * 2 : 4096;
        s_customer_t *slots = calloc (n, sizeof *slots);
        if (!slots)
            return NULL;
        for (size_t i = 0; self->slots && i <= self->mask; i++)
            if (self->slots[i].hash)
                *s_slot (slots, n - 1, &self->keys, self->slots[i].hash,
                         self->keys.data + self->slots[i].key, self->slots[i].key_len) =
                    self->slots[i];
        free (self->slots);
        self->slots = slots;
        self->mask = n - 1;
    }
    uint64_t hash = s_hash (key, len);
    s_customer_t *c = s_slot (self->slots, self->mask, &self->keys, hash, key, len);
    if (!c->hash) {
        size_t at = self->keys.len;
        if (len > UINT32_MAX || vd_buf_add (&self->keys, key, len) < 0)
            return NULL;
        *c = (s_customer_t){.hash = hash, .key = (uint32_t)at, .key_len = (uint32_t)len};
        self->ncustomers++;
    }
    return c;
}

/*  Adds the order to the customer's purchases: 1 new, 0 known, -1. */
static int
s_order (load_customers_acc_t *self, s_customer_t *c, const char *order, size_t len)
{
    uint64_t hash = s_hash (order, len);
    for (uint32_t n = c->chain; n; n = self->orders[n - 1].next)
        if (self->orders[n - 1].hash == hash)
            return 0;
    if (self->norders == self->cap_orders) {
        size_t cap = self->cap_orders ? self->cap_orders * 2 : 4096;
        s_order_t *orders = cap < UINT32_MAX ? realloc (self->orders, cap * sizeof *orders) : NULL;
        if (!orders)
            return -1;
        self->orders = orders;
        self->cap_orders = cap;
    }
    self->orders[self->norders] = (s_order_t){hash, c->chain};
    c->chain = (uint32_t)++self->norders;
    return 1;
}

static bool
s_null (const char *f, size_t len)
{
    return len == 2 && f[0] == '\\' && f[1] == 'N';
}

/*  [-]digits[.digits] as units of 10^-LOAD_CUSTOMERS_DECIMALS, its decimals and
    whether it is above zero. 0, -1 for another form. */
static int
s_number (const char *f, size_t len, int64_t *value, int *scale, bool *positive)
{
    size_t i = len && f[0] == '-';
    bool negative = i == 1, nonzero = false;
    int64_t v = 0;
    size_t digits = 0, decimals = 0;
    bool point = false;
    for (; i < len; i++) {
        if (f[i] == '.' && !point && digits) {
            point = true;
            continue;
        }
        if (f[i] < '0' || f[i] > '9' || (!point && digits >= 14))
            return -1;
        v = v * 10 + (f[i] - '0');
        nonzero |= f[i] != '0';
        digits++;
        decimals += point;
    }
    if (!digits || (point && !decimals) || decimals > LOAD_CUSTOMERS_DECIMALS)
        return -1;
    for (size_t d = decimals; d < LOAD_CUSTOMERS_DECIMALS; d++)
        v *= 10;
    *value = negative ? -v : v;
    *scale = (int)decimals;
    *positive = !negative && nonzero;
    return 0;
}

/*  YYYY-MM-DD as YYYYMMDD, -1 for another form. */
static int32_t
s_date (const char *f, size_t len)
{
    if (len != 10 || f[4] != '-' || f[7] != '-')
        return -1;
    int32_t v = 0;
    for (size_t i = 0; i < len; i++)
        if (i != 4 && i != 7) {
            if (f[i] < '0' || f[i] > '9')
                return -1;
            v = v * 10 + (f[i] - '0');
        }
    return v;
}

static int
s_unusable (load_customers_acc_t *self)
{
    load_customers_acc_drop (self);
    return -1;
}

int
load_customers_acc_add (load_customers_acc_t *self, const load_customers_line_t *l)
{
    if (!self || self->unusable)
        return -1;
    self->lines++;
    if (s_null (l->customer, l->customer_len))
        return 0; /* no customer: no customer's aggregate */
    int64_t price = 0, quantity;
    int scale = 0, ignored;
    bool priced = !s_null (l->price, l->price_len), positive = false, unused;
    if ((priced && s_number (l->price, l->price_len, &price, &scale, &unused) < 0) ||
        (!s_null (l->quantity, l->quantity_len) &&
         s_number (l->quantity, l->quantity_len, &quantity, &ignored, &positive) < 0))
        return s_unusable (self);
    int32_t date = s_null (l->date, l->date_len) ? 0 : s_date (l->date, l->date_len);
    s_customer_t *c = date < 0 ? NULL : s_customer (self, l->customer, l->customer_len);
    if (!c || __builtin_add_overflow (c->total, price, &c->total))
        return s_unusable (self);
    if (priced && scale > c->scale)
        c->scale = scale;
    if (!positive)
        return 0;
    if (date && (!c->first || date < c->first))
        c->first = date;
    if (date > c->last)
        c->last = date;
    /* a purchase: its order, or the line itself when it has none */
    bool own = s_null (l->order, l->order_len);
    int added = s_order (self, c, own ? l->key : l->order, own ? l->key_len : l->order_len);
    if (added < 0)
        return s_unusable (self);
    c->orders += added;
    return 0;
}

static int
s_add_date (vd_buf_t *b, int32_t d)
{
    return d ? vd_buf_printf (b, "\t%04d-%02d-%02d", d / 10000, d / 100 % 100, d % 100)
             : vd_buf_addstr (b, "\t\\N");
}

/*  A total with its scale's decimals (exact: no term had more). */
static int
s_add_money (vd_buf_t *b, int64_t v, int scale)
{
    char digits[64];
    int n = 0;
    bool negative = v < 0;
    if (negative)
        v = -v;
    for (int d = scale; d < LOAD_CUSTOMERS_DECIMALS; d++)
        v /= 10;
    do {
        digits[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v || n <= scale);
    if (vd_buf_addc (b, '\t') < 0 || (negative && vd_buf_addc (b, '-') < 0))
        return -1;
    for (int i = n - 1; i >= 0; i--)
        if ((i == scale - 1 && vd_buf_addc (b, '.') < 0) || vd_buf_addc (b, digits[i]) < 0)
            return -1;
    return 0;
}

int
load_customers_acc_text (const load_customers_acc_t *self, vd_buf_t *out)
{
    for (size_t i = 0; self->slots && i <= self->mask; i++) {
        const s_customer_t *c = &self->slots[i];
        if (c->hash && (vd_buf_add (out, self->keys.data + c->key, c->key_len) < 0 ||
                        s_add_date (out, c->first) < 0 || s_add_date (out, c->last) < 0 ||
                        s_add_money (out, c->total, c->scale) < 0 ||
                        vd_buf_printf (out, "\t%" PRId32 "\n", c->orders) < 0))
            return -1;
    }
    return 0;
}

int
load_customers_test (bool verbose)
{
    int failures = 0;
    char *agg = s_aggregates_sql (AGG_SCAN, false), *few = s_aggregates_sql (AGG_FEW, false);
    char *every = s_aggregates_sql (AGG_SCAN, true), *given = s_aggregates_sql (AGG_GIVEN, true);
    char *window = s_pass_sql (true);
    char *all = s_pass_sql (false);
    if (!agg || !few || !every || !given || !window || !all)
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
        /* counted as loaded: no sales read */
        if (strstr (given, "sales_lines") || !strstr (given, "FROM " LOAD_CUSTOMERS_GIVEN))
            failures++;
    }
    /* the same definitions counted line by line: a credit note lowers
       the total but is no purchase, an order counts once, the total
       keeps the most decimals of its terms; a form it cannot sum exactly
       makes the count unusable */
    load_customers_acc_t *acc = load_customers_acc_new ();
    struct {
        const char *customer, *order, *date, *quantity, *price;
    } lines[] = {
        {"C1", "F1", "2024-06-01", "0", "5.000"},   {"C1", "F1", "2024-05-01", "2", "-1.5"},
        {"C1", "F1", "2024-04-01", "1", "0"},       {"C1", "\\N", "2023-01-02", "1", "\\N"},
        {"C2", "F9", "2024-01-01", "-1", "-12.25"}, {"\\N", "F1", "2020-01-01", "3", "9"}};
    for (size_t i = 0; acc && i < sizeof lines / sizeof lines[0]; i++) {
        load_customers_line_t l = {lines[i].customer, lines[i].order,    "K",
                                   lines[i].date,     lines[i].quantity, lines[i].price};
        l.customer_len = strlen (l.customer);
        l.order_len = strlen (l.order);
        l.key_len = 1;
        l.date_len = strlen (l.date);
        l.quantity_len = strlen (l.quantity);
        l.price_len = strlen (l.price);
        VD_CHECK (&failures, load_customers_acc_add (acc, &l) == 0);
    }
    vd_buf_t text;
    vd_buf_init (&text, 4096);
    VD_CHECK (&failures, acc && load_customers_acc_lines (acc) == 6 &&
                             load_customers_acc_text (acc, &text) == 0);
    VD_CHECK (&failures, strstr (vd_buf_str (&text), "C1\t2023-01-02\t2024-05-01\t3.500\t2\n"));
    VD_CHECK (&failures, strstr (vd_buf_str (&text), "C2\t\\N\t\\N\t-12.25\t0\n"));
    VD_CHECK (&failures, vd_buf_str (&text) && strlen (vd_buf_str (&text)) == 51);
    const char *bad[] = {"1e3", "+1", ".5", "1.", "NaN", "0.12345", "123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        load_customers_acc_t *one = load_customers_acc_new ();
        load_customers_line_t l = {"C1", "F1", "K", "2024-01-01", "1", bad[i],
                                   2,    2,    1,   10,           1,   strlen (bad[i])};
        VD_CHECK_WHY (&failures,
                      load_customers_acc_add (one, &l) < 0 && !load_customers_acc_usable (one),
                      bad[i]);
        load_customers_acc_destroy (&one);
    }
    if (verbose)
        printf ("  load_customers:\n%s\n%s\n%s\n%s", agg ? agg : "", few ? few : "",
                window ? window : "", vd_buf_str (&text) ? vd_buf_str (&text) : "");
    vd_buf_free (&text);
    load_customers_acc_destroy (&acc);
    free (agg);
    free (few);
    free (every);
    free (given);
    free (window);
    free (all);
    return failures ? -1 : 0;
}

static int
s_person_match (const char *setting, load_customers_rules_t *rules)
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
load_customers_rules (const vd_config_t *cfg, load_customers_rules_t *rules, vd_error_t *err)
{
    *rules = (load_customers_rules_t){
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

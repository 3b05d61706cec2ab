/*  reco_load - the model from the canonical tables. */
#include "reco_load.h"
#include "vd_copy.h"
#include <math.h>

#define LIST_SEP "\x1f" /* joins array elements in the COPY output */
#define MAX_LIST 32     /* grapes or flavours read per product       */

/*  The as-of day reaches the COPY queries (which take no parameters)
    through a session setting set with a parameter. */
static const char s_products_sql[] =
    "COPY (SELECT p.product_key, p.name, p.category, p.price_segment,"
    "  array_to_string(p.grapes, E'\\x1f'), array_to_string(p.flavors, E'\\x1f'), p.vintage,"
    "  p.region, p.body, coalesce(p.active, true), s.available"
    "  FROM canonical.product_catalog p LEFT JOIN (SELECT product_key,"
    "    sum(coalesce(available_qty, quantity_units)) AS available"
    "    FROM canonical.stock_levels GROUP BY 1) s USING (product_key)) TO STDOUT";
static const char s_customers_sql[] =
    "COPY (SELECT customer_key, segment, email, coalesce(email_opt_out, false),"
    "  coalesce(email_invalid, false) FROM canonical.customers) TO STDOUT";
static const char s_purchases_sql[] =
    "COPY (SELECT customer_key, product_key, min(date_sale) - date '1970-01-01',"
    "  max(date_sale) - date '1970-01-01',"
    "  sum(coalesce(quantity_bottles_75cl_eq, quantity_units)), count(*),"
    "  bit_or(1 << (extract(month FROM date_sale)::int - 1))"
    "  FROM canonical.sales_lines"
    "  WHERE customer_key IS NOT NULL AND product_key IS NOT NULL AND quantity_units > 0"
    "    AND date_sale <= current_setting('vendange.as_of')::date"
    "  GROUP BY 1, 2) TO STDOUT";

int
reco_load_split (char *line, char **fields, int max)
{
    int n = 0;
    char *in = line;
    while (n < max) {
        char *start = in, *out = in;
        if (in[0] == '\\' && in[1] == 'N' && (in[2] == '\t' || in[2] == '\0')) {
            fields[n++] = NULL;
            in += 2;
            if (*in++ != '\t')
                break;
            continue;
        }
        while (*in && *in != '\t') {
            if (*in == '\\' && in[1]) {
                in++;
                switch (*in) {
                case 'n':
                    *out++ = '\n';
                    break;
                case 'r':
                    *out++ = '\r';
                    break;
                case 't':
                    *out++ = '\t';
                    break;
                case 'b':
                    *out++ = '\b';
                    break;
                case 'f':
                    *out++ = '\f';
                    break;
                case 'v':
                    *out++ = '\v';
                    break;
                default:
                    *out++ = *in;
                    break;
                }
                in++;
            } else
                *out++ = *in++;
        }
        bool last = *in != '\t';
        *out = '\0';
        fields[n++] = start;
        if (last)
            break;
        in++;
    }
    return n;
}

typedef int (s_row_fn) (reco_model_t *model, char **f, vd_error_t *err);

/*  Runs a COPY ... TO STDOUT and hands each row of nfields fields to fn. */
static int
s_copy_out (PGconn *conn, const char *sql, int nfields, s_row_fn *fn, reco_model_t *model,
            const reco_load_opts_t *opts, vd_error_t *err)
{
    int64_t rows = 0;
    if (vd_copy_out_begin (conn, sql, err) < 0)
        return -1;
    PGresult *res;
    int rc = 0;
    char *line = NULL;
    int len;
    while ((len = PQgetCopyData (conn, &line, 0)) > 0) {
        if (rc == 0) {
            if (len > 0 && line[len - 1] == '\n')
                line[len - 1] = '\0';
            char *f[16];
            if (reco_load_split (line, f, nfields) != nfields)
                rc = vd_error_set (err, VD_ERR_PERMANENT, "unexpected COPY row");
            else
                rc = fn (model, f, err);
            if (rc == 0 && (++rows & 0xffff) == 0 && opts->tick && opts->tick (opts->arg))
                rc = vd_error_set (err, VD_ERR_TRANSIENT, "recommendation run stopped");
        }
        PQfreemem (line);
    }
    if (len == -2)
        rc = vd_db_error (conn, NULL, "reading the canonical tables failed", err);
    while ((res = PQgetResult (conn))) {
        if (PQresultStatus (res) != PGRES_COMMAND_OK && rc == 0)
            rc = vd_db_error (conn, res, "reading the canonical tables failed", err);
        PQclear (res);
    }
    return rc;
}

static int
s_list (char *s, const char **out)
{
    int n = 0;
    for (char *tok = s; tok && n < MAX_LIST; n++) {
        out[n] = tok;
        tok = strchr (tok, LIST_SEP[0]);
        if (tok)
            *tok++ = '\0';
    }
    return s && *s ? n : 0;
}

static int
s_int (const char *s, int def)
{
    int64_t v;
    return s && vd_parse_int (s, INT_MIN, INT_MAX, &v) == 0 ? (int)v : def;
}

static double
s_double (const char *s)
{
    if (!s)
        return NAN;
    char *end;
    double v = strtod (s, &end);
    return *end ? NAN : v;
}

static bool
s_true (const char *s)
{
    return s && strcmp (s, "t") == 0;
}

static int
s_product_row (reco_model_t *model, char **f, vd_error_t *err)
{
    const char *grapes[MAX_LIST], *flavors[MAX_LIST];
    int ng = s_list (f[4], grapes), nf = s_list (f[5], flavors);
    return reco_model_add_product (model, f[0], f[1], f[2], f[3], grapes, ng, flavors, nf,
                                   s_int (f[6], 0), f[7], f[8], s_true (f[9]), s_double (f[10]),
                                   err);
}

static int
s_customer_row (reco_model_t *model, char **f, vd_error_t *err)
{
    return reco_model_add_customer (model, f[0], f[1], f[2], s_true (f[3]), s_true (f[4]), err);
}

static int
s_purchase_row (reco_model_t *model, char **f, vd_error_t *err)
{
    return reco_model_add_purchase (model, f[0], f[1], s_int (f[2], 0), s_int (f[3], 0),
                                    s_double (f[4]), s_int (f[5], 1), (unsigned)s_int (f[6], 0),
                                    err);
}

static int
s_bad (PGconn *conn, reco_model_t *model, const reco_load_opts_t *opts, vd_error_t *err)
{
    char days[16];
    snprintf (days, sizeof days, "%d", opts->bad_days);
    const char *params[] = {days};
    PGresult *res = vd_db_exec (conn,
                                "SELECT customer_key, product_key, signals FROM reco.feedback"
                                " WHERE verdict = 'bad'"
                                "   AND created_at > now() - make_interval(days => $1::int)",
                                1, params, err);
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples (res); i++) {
        /* signals as a text[] literal: {taste,budget} */
        unsigned mask = 0;
        char list[512];
        snprintf (list, sizeof list, "%s", PQgetvalue (res, i, 2));
        char *save = NULL;
        for (char *tok = strtok_r (list, "{},\"", &save); tok;
             tok = strtok_r (NULL, "{},\"", &save))
            if (reco_signal_parse (tok) >= 0)
                mask |= 1u << reco_signal_parse (tok);
        reco_model_add_bad (model, PQgetvalue (res, i, 0), PQgetvalue (res, i, 1), mask);
    }
    PQclear (res);
    return 0;
}

double
reco_load_factor (double pos, double neg, double all_pos, double all_neg)
{
    double mine = (pos + 1) / (pos + neg + 2), all = (all_pos + 1) / (all_pos + all_neg + 2);
    return fmin (2.0, fmax (0.5, mine / all));
}

/*  Global factors: each signal's smoothed precision over everyone's. */
static int
s_factors (PGconn *conn, reco_model_t *model, const reco_load_opts_t *opts, vd_error_t *err)
{
    char days[16];
    snprintf (days, sizeof days, "%d", opts->follow_days);
    const char *params[] = {days};
    PGresult *res = vd_db_exec (
        conn,
        "WITH d AS (SELECT signals, (followed IS NOT NULL OR verdict = 'good') AS pos,"
        "  (verdict = 'bad' OR (followed IS NULL AND verdict IS NULL"
        "    AND first_at <= now() - make_interval(days => $1::int))) AS neg FROM reco.issued)"
        " SELECT s, count(*) FILTER (WHERE pos), count(*) FILTER (WHERE neg)"
        "   FROM d, unnest(signals) s GROUP BY s"
        " UNION ALL SELECT '', count(*) FILTER (WHERE pos), count(*) FILTER (WHERE neg) FROM d",
        1, params, err);
    if (!res)
        return -1;
    double all_pos = 0, all_neg = 0;
    for (int i = 0; i < PQntuples (res); i++)
        if (!*PQgetvalue (res, i, 0)) {
            all_pos = s_double (PQgetvalue (res, i, 1));
            all_neg = s_double (PQgetvalue (res, i, 2));
        }
    for (int i = 0; i < PQntuples (res); i++) {
        int s = reco_signal_parse (PQgetvalue (res, i, 0));
        if (s >= 0)
            reco_model_set_factor (model, (reco_signal_t)s,
                                   reco_load_factor (s_double (PQgetvalue (res, i, 1)),
                                                     s_double (PQgetvalue (res, i, 2)), all_pos,
                                                     all_neg));
    }
    PQclear (res);
    return 0;
}

int
reco_load (PGconn *conn, reco_model_t *model, const reco_load_opts_t *opts, vd_error_t *err)
{
    char as_of[16];
    time_t t = (time_t)opts->as_of * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (as_of, sizeof as_of, "%Y-%m-%d", &tm);
    const char *params[] = {as_of};
    int rc = vd_db_command (conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err);
    if (rc < 0)
        return -1;
    if (vd_db_command (conn, "SELECT set_config('vendange.as_of', $1, true)", 1, params, err) < 0 ||
        s_copy_out (conn, s_products_sql, 11, s_product_row, model, opts, err) < 0 ||
        s_copy_out (conn, s_customers_sql, 5, s_customer_row, model, opts, err) < 0 ||
        s_copy_out (conn, s_purchases_sql, 7, s_purchase_row, model, opts, err) < 0 ||
        s_bad (conn, model, opts, err) < 0 ||
        (opts->reweight && s_factors (conn, model, opts, err) < 0))
        rc = -1;
    if (rc == 0)
        rc = vd_db_command (conn, "COMMIT", 0, NULL, err);
    if (rc < 0)
        vd_db_command (conn, "ROLLBACK", 0, NULL, NULL);
    return rc;
}

int
reco_load_test (bool verbose)
{
    char line[] = "a\tb\\tc\t\\N\t\\\\N\tx\\ny";
    char *f[8];
    int n = reco_load_split (line, f, 8);
    assert (n == 5);
    assert (strcmp (f[0], "a") == 0 && strcmp (f[1], "b\tc") == 0 && f[2] == NULL);
    assert (strcmp (f[3], "\\N") == 0 && strcmp (f[4], "x\ny") == 0);
    char empty[] = "";
    assert (reco_load_split (empty, f, 8) == 1 && strcmp (f[0], "") == 0);
    char two[] = "a\tb\tc";
    assert (reco_load_split (two, f, 2) == 2);
    /* no data: factor 1; a signal doing better than the rest is raised, capped */
    assert (fabs (reco_load_factor (0, 0, 0, 0) - 1.0) < 1e-9);
    assert (reco_load_factor (50, 0, 60, 60) > 1.5 && reco_load_factor (50, 0, 60, 60) <= 2.0);
    assert (reco_load_factor (0, 50, 60, 60) >= 0.5 && reco_load_factor (0, 50, 60, 60) < 0.6);
    if (verbose)
        printf (" * reco_load: OK\n");
    return 0;
}
